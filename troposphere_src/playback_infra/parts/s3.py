"""Buckets the way every bucket here is made: private, owner-enforced, versioned, TLS only."""

from __future__ import annotations

from awacs import s3
from awacs.aws import Bool, Condition, Deny, Principal, Statement
from troposphere import GetAtt, Ref, Sub
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    LifecycleConfiguration,
    LifecycleRule,
    NoncurrentVersionExpiration,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from playback_infra.parts.suppress import suppress


def private_bucket(
    title: str,
    encryption: ServerSideEncryptionRule,
    lifecycle: LifecycleRule | list[LifecycleRule],
    **properties,
) -> Bucket:
    """No public access in any form, objects owned by the bucket owner, versioned, encrypted,
    with its `lifecycle` rule or rules. `properties` add to or replace these (a log bucket
    CloudFront writes to needs ACLs)."""
    defaults = {
        "OwnershipControls": OwnershipControls(
            Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        )
    }
    return Bucket(
        title,
        BucketEncryption=BucketEncryption(ServerSideEncryptionConfiguration=[encryption]),
        PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
        LifecycleConfiguration=LifecycleConfiguration(
            Rules=lifecycle if isinstance(lifecycle, list) else [lifecycle]
        ),
        **{**defaults, **properties},
    )


def kms_encryption(key_arn) -> ServerSideEncryptionRule:
    """SSE-KMS with `key_arn` and an S3 bucket key (one KMS call per object batch, not per
    request)."""
    return ServerSideEncryptionRule(
        BucketKeyEnabled=True,
        ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
            SSEAlgorithm="aws:kms", KMSMasterKeyID=key_arn
        ),
    )


def expiring(rule_id: str, days, prefix: str = "") -> LifecycleRule:
    """Objects (under `prefix`, or all) expire after `days`; replaced versions and unfinished
    uploads after one."""
    rule = kept(rule_id, prefix)
    rule.ExpirationInDays = days
    return rule


def kept(rule_id: str, prefix: str) -> LifecycleRule:
    """Current objects under `prefix` never expire; replaced versions and unfinished uploads do
    after a day."""
    rule = LifecycleRule(
        Id=rule_id,
        Status="Enabled",
        NoncurrentVersionExpiration=NoncurrentVersionExpiration(NoncurrentDays=1),
        AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(DaysAfterInitiation=1),
    )
    if prefix:
        rule.Prefix = prefix
    return rule


def tls_only(bucket: Bucket) -> Statement:
    """Refuse every request to the bucket that does not come over TLS."""
    return Statement(
        Sid="TlsOnly",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[s3.Action("*")],
        Resource=[GetAtt(bucket, "Arn"), Sub(f"${{{bucket.title}.Arn}}/*")],
        Condition=Condition(Bool("aws:SecureTransport", "false")),
    )


def access_log_bucket(title: str, days_parameter: str, writer: str, **properties) -> Bucket:
    """A bucket an AWS service delivers access logs to, kept `days_parameter` days. SSE-S3,
    the only encryption log delivery supports. Always retained (an audit trail, and a
    non-empty bucket would fail the delete anyway); unnamed, so a rebuilt environment gets a
    new one beside it."""
    bucket = private_bucket(
        title,
        ServerSideEncryptionRule(
            ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
        ),
        expiring("expire-access-logs", Ref(days_parameter)),
        **properties,
    )
    bucket.DeletionPolicy = bucket.UpdateReplacePolicy = "Retain"
    suppress(bucket, {
        "CKV_AWS_18": "This is the access-log bucket; logging it to itself would loop",
        "CKV_AWS_145": f"{writer} log delivery supports only SSE-S3, not KMS",
    })  # fmt: skip
    return bucket
