"""The account-baseline stack: the account's own security services, so the assessment keeps
running after launch. Deployed on its own, once per account in each region the environments
(and prod's backup copies) run in: GuardDuty, Security Hub and the registry's scanning setting
are regional.

- **GuardDuty** threat detection (CloudTrail, VPC flow logs and DNS always), with the protection
  plans that see this app's resources: S3 data events (site, game-data and log buckets),
  RDS login events, Lambda network activity (the hosted secret-rotation function). EKS audit logs,
  EBS malware scans and AI Protection are off: there is no EKS, EC2 or AWS AI service here.
  Runtime Monitoring of the Fargate tasks is off until the app's and jobs' execution roles may
  pull GuardDuty's agent image (docs/security.md, *Account baseline*).
- **Security Hub** with the AWS Foundational Security Best Practices standard only (the default
  standards are not switched on with it, so CIS does not arrive unasked), one finding per control.
- **Amazon Inspector for ECR**: the registry's enhanced, continuous scanning of the
  `baseball-playback/*` repositories. CloudFormation's handler for it enables Inspector's ECR
  scanning for the account (inspector2:Enable): no custom resource is needed.
- **AWS Config** recording every supported resource (global ones, IAM, in one region only), its
  history in a bucket of its own: most Security Hub controls evaluate through it. Off with
  `RecordConfiguration=false` where the account already records (one recorder per region).
- **Findings by e-mail**: GuardDuty findings of severity 7 or more and Security Hub CRITICAL
  findings (GuardDuty's own excluded, they come through the first rule) go to an SNS topic
  encrypted with a key of its own (EventBridge cannot use SNS's AWS-managed key).
- **A CloudTrail trail** of every region's management events (reads and writes, global
  services'), with log file validation, encrypted with the baseline key, in a bucket that
  refuses deletes and plain HTTP and keeps the logs a year (object lock and lifecycle); one per
  account (`RecordTrail=false` in the other regions and where an organization trail records).

GuardDuty and Security Hub exist once per account and region: where an organization's delegated
administrator already enabled them, deploy with `EnableGuardDuty=false` and/or
`EnableSecurityHub=false` (the finding rules still forward what they report here).

    aws cloudformation deploy --template-file templates/account-baseline.yaml \\
        --stack-name baseball-playback-account-baseline \\
        --parameter-overrides FindingsEmail=security@example.com \\
        --capabilities CAPABILITY_IAM
"""

from __future__ import annotations

from awacs import kms, s3
from awacs.aws import (
    Allow,
    Condition,
    Deny,
    Policy,
    Principal,
    Statement,
    StringEquals,
    StringLike,
)
from awacs.sts import AssumeRole
from troposphere import Equals, GetAtt, Output, Parameter, Ref, Sub, Template
from troposphere.cloudtrail import Trail
from troposphere.config import (
    ConfigSnapshotDeliveryProperties,
    ConfigurationRecorder,
    DeliveryChannel,
    RecordingGroup,
)
from troposphere.ecr import (
    RegistryScanningConfiguration,
    RepositoryFilter,
    ScanningRule,
)
from troposphere.events import Rule, Target
from troposphere.guardduty import (
    CFNFeatureAdditionalConfiguration,
    CFNFeatureConfiguration,
    Detector,
    TagItem,
)
from troposphere.iam import Policy as InlinePolicy
from troposphere.iam import Role
from troposphere.kms import Alias
from troposphere.s3 import (
    BucketPolicy,
    DefaultRetention,
    LifecycleRule,
    NoncurrentVersionExpiration,
    ObjectLockConfiguration,
    ObjectLockRule,
)
from troposphere.securityhub import Hub, Standard
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from playback_infra.parts import values
from playback_infra.parts.iam import (
    THIS_KEY,
    customer_key,
    for_this_account,
    rules_may_publish,
    use_through_services,
)
from playback_infra.parts.s3 import expiring, kms_encryption, private_bucket, tls_only
from playback_infra.parts.suppress import suppress
from playback_infra.parts.template import new_template, tag_component

COMPONENT = "account-baseline"
FINDINGS_EMAIL = "FindingsEmail"
# GuardDuty's scale: 7.0-8.9 high, 9.0-10.0 critical.
GUARDDUTY_MIN_SEVERITY = 7
FOUNDATIONAL_STANDARD = (
    "arn:${AWS::Partition}:securityhub:${AWS::Region}::"
    "standards/aws-foundational-security-best-practices/v/1.0.0"
)
SCANNED_REPOSITORIES = "baseball-playback/*"
RECORDS = "RecordsConfiguration"
GUARDDUTY = "GuardDutyHere"
SECURITY_HUB = "SecurityHubHere"
TRAIL = "TrailHere"
TRAIL_NAME = "baseball-playback-account"
TRAIL_ARN = (
    f"arn:${{AWS::Partition}}:cloudtrail:${{AWS::Region}}:${{AWS::AccountId}}:trail/{TRAIL_NAME}"
)
ANY_TRAIL_OF_THIS_ACCOUNT = "arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"
# Security Hub's default for log retention (CloudWatch.16: at least 365 days), applied to the
# trail's logs: https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html
TRAIL_LOG_DAYS = 365
# Configuration history in S3 (AWS Config itself keeps 7 years of it).
CONFIG_HISTORY_DAYS = 365

# Protection plan -> on or off (see the module docstring for why). GuardDuty switches on every
# plan a detector leaves out (but Runtime Monitoring), so each is named; EKS_RUNTIME_MONITORING
# is not: it is the older part of RUNTIME_MONITORING, and naming both is an error.
GUARDDUTY_FEATURES = {
    "S3_DATA_EVENTS": "ENABLED",
    "RDS_LOGIN_EVENTS": "ENABLED",
    "LAMBDA_NETWORK_LOGS": "ENABLED",
    "EKS_AUDIT_LOGS": "DISABLED",
    "EBS_MALWARE_PROTECTION": "DISABLED",
    "AI_PROTECTION": "DISABLED",
    "RUNTIME_MONITORING": "DISABLED",
}
# With Runtime Monitoring on, GuardDuty would also inject its agent into every Fargate task.
FARGATE_AGENT = "ECS_FARGATE_AGENT_MANAGEMENT"


def _detector() -> Detector:
    return Detector(
        "GuardDutyDetector",
        Condition=GUARDDUTY,
        Enable=True,
        # How often updates of an existing finding are published; new findings go out at once.
        FindingPublishingFrequency="FIFTEEN_MINUTES",
        Features=[
            CFNFeatureConfiguration(
                Name=name,
                Status=status,
                **(
                    {"AdditionalConfiguration": [
                        CFNFeatureAdditionalConfiguration(Name=FARGATE_AGENT, Status=status)
                    ]}
                    if name == "RUNTIME_MONITORING"
                    else {}
                ),
            )
            for name, status in GUARDDUTY_FEATURES.items()
        ],
        Tags=[TagItem(Key="Component", Value=COMPONENT)],
    )  # fmt: skip


def _finding_rules(topic: Topic) -> list[Rule]:
    target = [Target(Id="FindingsTopic", Arn=Ref(topic))]
    guardduty = {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", GUARDDUTY_MIN_SEVERITY]}]},
    }
    security_hub = {
        "source": ["aws.securityhub"],
        "detail-type": ["Security Hub Findings - Imported"],
        "detail": {
            "findings": {
                "Severity": {"Label": ["CRITICAL"]},
                "RecordState": ["ACTIVE"],
                "Workflow": {"Status": ["NEW"]},
                "ProductName": [{"anything-but": "GuardDuty"}],
            }
        },
    }
    return [
        Rule(
            "GuardDutyFindingsRule",
            Description=f"GuardDuty findings of severity {GUARDDUTY_MIN_SEVERITY} or more, by e-mail",
            EventPattern=guardduty,
            State="ENABLED",
            Targets=target,
        ),
        Rule(
            "SecurityHubFindingsRule",
            Description="New, active CRITICAL Security Hub findings (not GuardDuty's), by e-mail",
            EventPattern=security_hub,
            State="ENABLED",
            Targets=target,
        ),
    ]


def _findings_by_email(t: Template, key, email: Parameter) -> Topic:
    """The findings topic, its e-mail subscription, the two rules and who may publish."""
    topic = t.add_resource(
        Topic(
            "FindingsTopic",
            DisplayName="Baseball Playback security findings",
            KmsMasterKeyId=Ref(key),
        )
    )
    t.add_resource(
        SubscriptionResource(
            "FindingsEmailSubscription", TopicArn=Ref(topic), Protocol="email", Endpoint=Ref(email)
        )
    )
    rules = [t.add_resource(rule) for rule in _finding_rules(topic)]
    t.add_resource(
        TopicPolicy(
            "FindingsTopicPolicy",
            Topics=[Ref(topic)],
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    rules_may_publish(
                        "TheFindingRulesPublish", Ref(topic), [GetAtt(r, "Arn") for r in rules]
                    )
                ],
            ),
        )
    )
    return topic


def _switch(t: Template, title: str, description: str, condition: str | None = None) -> Parameter:
    """A true/false parameter of `t`, true unless the deployer says otherwise, and the
    `condition` that it is true."""
    switch = t.add_parameter(
        Parameter(
            title,
            Type="String",
            AllowedValues=["true", "false"],
            Default="true",
            Description=description,
        )
    )
    if condition:
        t.add_condition(condition, Equals(Ref(switch), "true"))
    return switch


def _configuration_recording(t: Template, key) -> None:
    """AWS Config's recorder, its role and the bucket its history goes to, where
    RecordConfiguration is true (one recorder per account and region)."""
    _switch(
        t,
        "RecordConfiguration",
        "Record resource configurations with AWS Config, which Security Hub's controls "
        "evaluate through; false where the account already records in this region",
        RECORDS,
    )
    record_global = _switch(
        t,
        "RecordGlobalResources",
        "Also record global resources (IAM): true in one region of the account only",
    )
    bucket = private_bucket(
        "ConfigHistoryBucket",
        kms_encryption(GetAtt(key, "Arn")),
        LifecycleRule(
            Id="expire-history",
            Status="Enabled",
            ExpirationInDays=CONFIG_HISTORY_DAYS,
            NoncurrentVersionExpiration=NoncurrentVersionExpiration(NoncurrentDays=30),
        ),
        Condition=RECORDS,
    )
    # An audit trail: no stack operation takes it away.
    bucket.DeletionPolicy = bucket.UpdateReplacePolicy = "Retain"
    suppress(bucket, {
        "CKV_AWS_18": "Only AWS Config writes here, and CloudTrail records its calls; server access logs would add nothing",
    })  # fmt: skip
    t.add_resource(bucket)
    t.add_resource(
        BucketPolicy(
            "ConfigHistoryBucketPolicy",
            Condition=RECORDS,
            Bucket=Ref(bucket),
            PolicyDocument=Policy(Version="2012-10-17", Statement=[tls_only(bucket)]),
        )
    )
    role = t.add_resource(
        Role(
            "ConfigRecorderRole",
            Condition=RECORDS,
            Description="AWS Config reads resource configurations and writes their history",
            AssumeRolePolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Effect=Allow,
                        Principal=Principal("Service", ["config.amazonaws.com"]),
                        Action=[AssumeRole],
                        Condition=Condition(
                            StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))
                        ),
                    )
                ],
            ),
            # AWS's policy for a recorder: read access to every resource type it records.
            ManagedPolicyArns=[
                Sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWS_ConfigRole")
            ],
            Policies=[
                InlinePolicy(
                    PolicyName="deliver-history",
                    PolicyDocument=Policy(
                        Version="2012-10-17",
                        Statement=[
                            Statement(
                                Effect=Allow,
                                Action=[s3.GetBucketAcl],
                                Resource=[GetAtt(bucket, "Arn")],
                            ),
                            Statement(
                                Effect=Allow,
                                Action=[s3.PutObject],
                                Resource=[
                                    Sub(
                                        f"${{{bucket.title}.Arn}}/AWSLogs/${{AWS::AccountId}}/Config/*"
                                    )
                                ],
                            ),
                            Statement(
                                Effect=Allow,
                                Action=[kms.GenerateDataKey, kms.Decrypt],
                                Resource=[GetAtt(key, "Arn")],
                            ),
                        ],
                    ),
                )
            ],
        )
    )
    recorder = t.add_resource(
        ConfigurationRecorder(
            "ConfigRecorder",
            Condition=RECORDS,
            RoleARN=GetAtt(role, "Arn"),
            RecordingGroup=RecordingGroup(
                AllSupported=True, IncludeGlobalResourceTypes=Ref(record_global)
            ),
        )
    )
    # A delivery channel needs a recorder; CloudFormation starts the recorder once it exists.
    t.add_resource(
        DeliveryChannel(
            "ConfigDeliveryChannel",
            Condition=RECORDS,
            DependsOn=[recorder.title],
            S3BucketName=Ref(bucket),
            S3KmsKeyArn=GetAtt(key, "Arn"),
            ConfigSnapshotDeliveryProperties=ConfigSnapshotDeliveryProperties(
                DeliveryFrequency="TwentyFour_Hours"
            ),
        )
    )


CLOUDTRAIL = Principal("Service", ["cloudtrail.amazonaws.com"])


def _from_the_trail() -> StringEquals:
    """CloudTrail acting for this stack's trail only (confused deputy)."""
    return StringEquals("aws:SourceArn", Sub(TRAIL_ARN))


def _trail_key_statements() -> list[Statement]:
    """CloudTrail may encrypt this account's trail logs with the key, for the trail only
    (the source ARN and the encryption context, as CloudTrail's key policy page gives them:
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
    Reading the logs goes through S3, which UseThroughS3 admits."""
    return [
        Statement(
            Sid="CloudTrailEncryptsLogs",
            Effect=Allow,
            Principal=CLOUDTRAIL,
            # The page grants GenerateDataKey*; CloudTrail calls GenerateDataKey, named here.
            Action=[kms.GenerateDataKey],
            Resource=[THIS_KEY],
            Condition=Condition([
                _from_the_trail(),
                StringLike(
                    "kms:EncryptionContext:aws:cloudtrail:arn", Sub(ANY_TRAIL_OF_THIS_ACCOUNT)
                ),
            ]),
        ),
        Statement(
            Sid="CloudTrailDescribesKey",
            Effect=Allow,
            Principal=CLOUDTRAIL,
            Action=[kms.DescribeKey],
            Resource=[THIS_KEY],
            Condition=Condition(_from_the_trail()),
        ),
    ]  # fmt: skip


def _trail(t: Template, key) -> Trail:
    """The account's trail where RecordTrail is true, and the bucket its logs stay in a year:
    object lock (governance) and a policy that refuses every delete keep them that long, the
    lifecycle removes them after. The bucket policy is CloudTrail's own
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html)."""
    _switch(
        t,
        "RecordTrail",
        "Record every region's management events in a CloudTrail trail: true in one "
        "region of the account, false where an organization trail already records them",
        TRAIL,
    )
    bucket = private_bucket(
        "TrailBucket",
        kms_encryption(GetAtt(key, "Arn")),
        expiring("expire-trail-logs", TRAIL_LOG_DAYS),
        Condition=TRAIL,
        ObjectLockEnabled=True,
        ObjectLockConfiguration=ObjectLockConfiguration(
            ObjectLockEnabled="Enabled",
            Rule=ObjectLockRule(
                DefaultRetention=DefaultRetention(Mode="GOVERNANCE", Days=TRAIL_LOG_DAYS)
            ),
        ),
    )
    bucket.DeletionPolicy = bucket.UpdateReplacePolicy = "Retain"
    suppress(bucket, {
        "CKV_AWS_18": "Only CloudTrail writes here and its log file validation proves what it wrote; server access logs would add nothing",
    })  # fmt: skip
    t.add_resource(bucket)
    policy = t.add_resource(
        BucketPolicy(
            "TrailBucketPolicy",
            Condition=TRAIL,
            Bucket=Ref(bucket),
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="CloudTrailChecksTheAcl",
                        Effect=Allow,
                        Principal=CLOUDTRAIL,
                        Action=[s3.GetBucketAcl],
                        Resource=[GetAtt(bucket, "Arn")],
                        Condition=Condition(_from_the_trail()),
                    ),
                    Statement(
                        Sid="CloudTrailWritesLogs",
                        Effect=Allow,
                        Principal=CLOUDTRAIL,
                        Action=[s3.PutObject],
                        Resource=[Sub(f"${{{bucket.title}.Arn}}/AWSLogs/${{AWS::AccountId}}/*")],
                        Condition=Condition(
                            StringEquals(
                                {
                                    "s3:x-amz-acl": "bucket-owner-full-control",
                                    "aws:SourceArn": Sub(TRAIL_ARN),
                                }
                            )
                        ),
                    ),
                    tls_only(bucket),
                    Statement(
                        Sid="NoDeletes",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[s3.DeleteObject, s3.DeleteObjectVersion],
                        Resource=[Sub(f"${{{bucket.title}.Arn}}/*")],
                    ),
                ],
            ),
        )
    )
    return t.add_resource(
        Trail(
            "AccountTrail",
            Condition=TRAIL,
            DependsOn=[policy.title],  # CloudTrail checks it may write before it creates
            TrailName=TRAIL_NAME,
            S3BucketName=Ref(bucket),
            IsLogging=True,
            IsMultiRegionTrail=True,
            IncludeGlobalServiceEvents=True,
            EnableLogFileValidation=True,
            KMSKeyId=GetAtt(key, "Arn"),
        )
    )


def build() -> Template:
    t = new_template(
        "account baseline (GuardDuty, Security Hub, AWS Config, Inspector for ECR, findings)"
    )
    email = t.add_parameter(
        Parameter(
            FINDINGS_EMAIL,
            Type="String",
            Description="E-mail address security findings are sent to",
            AllowedPattern=values.VALUES[values.ALARM_EMAIL].allowed_pattern,
            ConstraintDescription="an e-mail address",
        )
    )
    key = customer_key(
        "BaselineKey",
        "Baseball Playback: security findings topic, configuration history and trail logs",
        [
            for_this_account(
                "EventBridgeToEncryptedTopic",
                ["events.amazonaws.com"],
                [kms.Decrypt, kms.GenerateDataKey],
                THIS_KEY,
            ),
            use_through_services("UseThroughS3", ["s3"]),
            *_trail_key_statements(),
        ],
    )
    # The configuration history and trail logs it encrypts are retained: so is the key.
    key.DeletionPolicy = key.UpdateReplacePolicy = "Retain"
    t.add_resource(key)
    t.add_resource(
        Alias(
            "BaselineKeyAlias",
            AliasName="alias/baseball-playback/account-baseline",
            TargetKeyId=Ref(key),
        )
    )
    topic = _findings_by_email(t, key, email)
    _configuration_recording(t, key)
    trail = _trail(t, key)
    t.add_resource(
        RegistryScanningConfiguration(
            "RegistryScanning",
            ScanType="ENHANCED",
            Rules=[
                ScanningRule(
                    ScanFrequency="CONTINUOUS_SCAN",
                    RepositoryFilters=[
                        RepositoryFilter(Filter=SCANNED_REPOSITORIES, FilterType="WILDCARD")
                    ],
                )
            ],
        )
    )
    tag_component(t, COMPONENT)
    for switch, condition, service in (
        ("EnableGuardDuty", GUARDDUTY, "GuardDuty"),
        ("EnableSecurityHub", SECURITY_HUB, "Security Hub"),
    ):
        _switch(
            t,
            switch,
            f"Enable {service} in this account and region; false where an organization's "
            "delegated administrator already enabled it (one per account and region)",
            condition,
        )
    # Added after tag_component: their Tags are not the usual list (a TagItem list, a map).
    detector = t.add_resource(_detector())
    hub = t.add_resource(
        Hub(
            "SecurityHub",
            Condition=SECURITY_HUB,
            EnableDefaultStandards=False,
            AutoEnableControls=True,
            ControlFindingGenerator="SECURITY_CONTROL",
            Tags={"Component": COMPONENT},
        )
    )
    t.add_resource(
        Standard(
            "FoundationalBestPracticesStandard",
            Condition=SECURITY_HUB,
            DependsOn=[hub.title],
            StandardsArn=Sub(FOUNDATIONAL_STANDARD),
        )
    )
    for title, description, value, condition in (
        (
            "GuardDutyDetectorId",
            "The account's GuardDuty detector in this region",
            Ref(detector),
            GUARDDUTY,
        ),
        ("SecurityHubArn", "Security Hub in this account and region", Ref(hub), SECURITY_HUB),
        ("FindingsTopicArn", "Topic the findings e-mail comes from", Ref(topic), None),
        ("CloudTrailName", "The account's trail of every region", Ref(trail), TRAIL),
    ):
        output = Output(title, Description=description, Value=value)
        if condition:
            output.Condition = condition
        t.add_output(output)
    return t
