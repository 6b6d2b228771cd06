"""The site canary: a CloudWatch Synthetics canary that loads the site and calls the API's
health route through CloudFront, as a user would, every `canary_interval_minutes`, and pages
when two runs in a row fail.

Its script is `canaries/site_and_api.js`, given inline. Its artifacts (screenshots, HAR
files, logs of each run) go to a bucket of their own: private, KMS-encrypted with the data
key, TLS only, expiring after `ARTIFACT_DAYS`, kept as the model's stateful rules say. Its
role may write only there, to the canary's own Lambda log group, and metrics only in the
CloudWatchSynthetics namespace.
"""

from __future__ import annotations

from pathlib import Path

from awacs import cloudwatch, kms, s3
from awacs.aws import Allow, Condition, Policy, Statement, StringEquals
from troposphere import GetAtt, Ref, Sub, Template
from troposphere.cloudwatch import MetricDimension
from troposphere.iam import Policy as InlinePolicy
from troposphere.iam import Role
from troposphere.s3 import (
    BucketPolicy,
)
from troposphere.synthetics import ArtifactConfig, Canary, Code, RunConfig, S3Encryption, Schedule

from playback_infra.parts import values
from playback_infra.parts.alarms import paging_alarm
from playback_infra.parts.iam import assumable_by
from playback_infra.parts.s3 import expiring, kms_encryption, private_bucket, tls_only
from playback_infra.parts.suppress import suppress
from playback_infra.parts.template import stateful

SCRIPT = Path(__file__).with_name("canaries") / "site_and_api.js"
# The newest Node.js and Puppeteer runtime in CloudWatch's runtime list (2026):
# https://docs.amazonaws.cn/en_us/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_nodejs_puppeteer.md
RUNTIME_VERSION = "syn-nodejs-puppeteer-15.0"
# An inline script is the module `index`.
HANDLER = "index.handler"
# 21 characters at most (the canary's Lambda function is named cwsyn-<name>-<id>).
CANARY_NAME = f"${{{values.ENVIRONMENT_NAME}}}-site"
ARTIFACT_PREFIX = "canary"
ARTIFACT_DAYS = 30
RUN_TIMEOUT_SECONDS = 60
NAMESPACE = "CloudWatchSynthetics"


def _role(bucket) -> Role:
    """The canary's Lambda role: the Synthetics execution role's permissions, scoped, but
    CloudWatch Logs. Synthetics' Lambda would create its log group itself, outside this
    template, and leave it to never expire; without the permission no group is made, and each
    run's log stays beside its screenshots and HAR in the artifacts bucket, which expires."""
    artifacts = Sub(f"${{{bucket.title}.Arn}}/{ARTIFACT_PREFIX}/*")
    return Role(
        "SiteCanaryRole",
        Description="Runs the site canary: writes its artifacts (its log among them) and its metrics",
        AssumeRolePolicyDocument=assumable_by("lambda.amazonaws.com"),
        Policies=[
            InlinePolicy(
                PolicyName="site-canary",
                PolicyDocument=Policy(
                    Version="2012-10-17",
                    Statement=[
                        Statement(
                            Sid="Artifacts",
                            Effect=Allow,
                            Action=[s3.PutObject, s3.GetObject],
                            Resource=[artifacts],
                        ),
                        Statement(
                            Sid="ArtifactBucket",
                            Effect=Allow,
                            Action=[s3.GetBucketLocation],
                            Resource=[GetAtt(bucket, "Arn")],
                        ),
                        Statement(
                            Sid="ArtifactEncryption",
                            Effect=Allow,
                            Action=[kms.GenerateDataKey, kms.Decrypt],
                            Resource=[Ref(values.DATA_KEY_ARN)],
                            Condition=Condition(
                                StringEquals(
                                    "kms:ViaService", Sub("s3.${AWS::Region}.amazonaws.com")
                                )
                            ),
                        ),
                        Statement(
                            Sid="Metrics",
                            Effect=Allow,
                            Action=[cloudwatch.PutMetricData],
                            Resource=["*"],  # no resource-level permission (checks/iam.py)
                            Condition=Condition(StringEquals("cloudwatch:namespace", NAMESPACE)),
                        ),
                    ],
                ),
            )
        ],
    )


def add_site_canary(t: Template) -> Canary:
    """The canary, its artifacts bucket, role and alarm (needs the RetainData condition)."""
    values.consume(
        t,
        values.SITE_DOMAIN,
        values.API_BASE_PATH,
        values.DATA_KEY_ARN,
        values.CANARY_SCHEDULE,
        values.CANARY_PERIOD_SECONDS,
    )
    bucket = private_bucket(
        "CanaryArtifactsBucket",
        kms_encryption(Ref(values.DATA_KEY_ARN)),
        expiring("expire-canary-artifacts", ARTIFACT_DAYS),
    )
    suppress(bucket, {
        "CKV_AWS_18": "Only the canary's role writes here; CloudTrail records it, and the objects expire",
    })  # fmt: skip
    t.add_resource(stateful(bucket))
    t.add_resource(
        BucketPolicy(
            "CanaryArtifactsBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=Policy(Version="2012-10-17", Statement=[tls_only(bucket)]),
        )
    )
    role = t.add_resource(_role(bucket))
    site = f"https://${{{values.SITE_DOMAIN}}}"
    canary = Canary(
        "SiteCanary",
        Name=Sub(CANARY_NAME),
        Code=Code(Handler=HANDLER, Script=SCRIPT.read_text()),
        ArtifactS3Location=Sub(f"s3://${{{bucket.title}}}/{ARTIFACT_PREFIX}"),
        ArtifactConfig=ArtifactConfig(
            S3Encryption=S3Encryption(EncryptionMode="SSE_KMS", KmsKeyArn=Ref(values.DATA_KEY_ARN))
        ),
        ExecutionRoleArn=GetAtt(role, "Arn"),
        Schedule=Schedule(Expression=Ref(values.CANARY_SCHEDULE), DurationInSeconds="0"),
        RunConfig=RunConfig(
            TimeoutInSeconds=RUN_TIMEOUT_SECONDS,
            EnvironmentVariables={
                "SITE_URL": Sub(f"{site}/"),
                "API_HEALTH_URL": Sub(f"{site}${{{values.API_BASE_PATH}}}/health"),
            },
        ),
        StartCanaryAfterCreation=True,
        SuccessRetentionPeriod=ARTIFACT_DAYS,
        FailureRetentionPeriod=ARTIFACT_DAYS,
        # Delete the canary's Lambda function and layer with it.
        ProvisionedResourceCleanup="AUTOMATIC",
    )
    # troposphere's runtime list stops at syn-nodejs-puppeteer-9.1; CloudFormation takes any.
    canary.properties["RuntimeVersion"] = RUNTIME_VERSION
    t.add_resource(canary)
    t.add_resource(
        paging_alarm(
            "SiteCanaryAlarm",
            "The site canary failed two runs in a row (or stopped running): the site did not "
            "load as HTML or the API's health route did not answer JSON through CloudFront. "
            "Check the canary's last run in CloudWatch Synthetics first (screenshot, HAR, log: "
            "which step failed), then the API alarms and the healthy targets on the dashboard.",
            Namespace=NAMESPACE,
            MetricName="SuccessPercent",
            Dimensions=[MetricDimension(Name="CanaryName", Value=Sub(CANARY_NAME))],
            Statistic="Average",
            Period=Ref(values.CANARY_PERIOD_SECONDS),
            EvaluationPeriods=2,
            DatapointsToAlarm=2,
            Threshold=100,
            ComparisonOperator="LessThanThreshold",
            # No data means the canary is not running: that is an outage of the watch itself.
            TreatMissingData="breaching",
        )
    )
    return canary
