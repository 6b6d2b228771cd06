"""The game-data stack: where Retrosheet releases are uploaded, and the job that imports them.

A private, versioned bucket encrypted with the data key, TLS only, with EventBridge
notifications on so an upload can start the import. Old versions of a re-uploaded file expire
after 90 days; current files stay (a season's raw release is the provenance of what was
loaded). Retained in staging and prod. The backend may read it (app stack's task role).
The import job (`import_job.py`) runs when a release's manifest is uploaded.
"""

from __future__ import annotations

from awacs.aws import Policy
from troposphere import GetAtt, Ref, Template
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    BucketPolicy,
    EventBridgeConfiguration,
    LifecycleRule,
    NoncurrentVersionExpiration,
    NotificationConfiguration,
)

from playback_infra.parts import values
from playback_infra.parts.s3 import kms_encryption, private_bucket, tls_only
from playback_infra.parts.suppress import suppress
from playback_infra.parts.template import (
    add_retain_condition,
    new_template,
    stateful,
    tag_component,
)
from playback_infra.stacks.game_data.import_job import add_import_job

COMPONENT = "game-data"
NONCURRENT_DAYS = 90


def build() -> Template:
    t = new_template("game data (Retrosheet releases and their import)", language_extensions=True)
    values.consume(t, values.DATA_KEY_ARN)
    add_retain_condition(t)
    bucket = private_bucket(
        "RetrosheetBucket",
        kms_encryption(Ref(values.DATA_KEY_ARN)),
        LifecycleRule(
            Id="expire-replaced-versions",
            Status="Enabled",
            NoncurrentVersionExpiration=NoncurrentVersionExpiration(NoncurrentDays=NONCURRENT_DAYS),
            AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(DaysAfterInitiation=1),
        ),
        NotificationConfiguration=NotificationConfiguration(
            EventBridgeConfiguration=EventBridgeConfiguration(EventBridgeEnabled=True)
        ),
    )
    suppress(bucket, {
        "CKV_AWS_18": "Uploads are rare and come from the release process; CloudTrail records who wrote them",
    })  # fmt: skip
    t.add_resource(stateful(bucket))
    add_import_job(t, bucket)
    t.add_resource(
        BucketPolicy(
            "RetrosheetBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[tls_only(bucket)],
            ),
        )
    )
    values.produce(t, values.GAME_DATA_BUCKET_NAME, Ref(bucket))
    values.produce(t, values.GAME_DATA_BUCKET_ARN, GetAtt(bucket, "Arn"))
    tag_component(t, COMPONENT)
    return t
