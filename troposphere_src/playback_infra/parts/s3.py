"""Buckets the way every bucket here is made: private, owner-enforced, versioned, TLS only."""

from __future__ import annotations

from awacs import s3
from awacs.aws import Bool, Condition, Deny, Principal, Statement
from troposphere import GetAtt, Sub
from troposphere.s3 import (
    Bucket,
    BucketEncryption,
    LifecycleConfiguration,
    LifecycleRule,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)


def private_bucket(
    title: str, encryption: ServerSideEncryptionRule, lifecycle: LifecycleRule, **properties
) -> Bucket:
    """No public access in any form, objects owned by the bucket owner, versioned, encrypted.
    `properties` add to or replace these (a log bucket CloudFront writes to needs ACLs)."""
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
        LifecycleConfiguration=LifecycleConfiguration(Rules=[lifecycle]),
        **{**defaults, **properties},
    )


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
