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

An account that already has a detector or Security Hub (enabled by an organization's delegated
administrator) must not deploy this stack: both exist once per account and region.

    aws cloudformation deploy --template-file templates/account-baseline.yaml \\
        --stack-name baseball-playback-account-baseline \\
        --parameter-overrides FindingsEmail=security@example.com \\
        --capabilities CAPABILITY_IAM
"""

from __future__ import annotations

from awacs import kms, s3
from awacs.aws import Allow, Condition, Policy, Principal, Statement, StringEquals
from awacs.sts import AssumeRole
from troposphere import Equals, GetAtt, Output, Parameter, Ref, Sub, Template
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
    LifecycleRule,
    NoncurrentVersionExpiration,
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
from playback_infra.parts.s3 import kms_encryption, private_bucket, tls_only
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


def _switch(title: str, description: str) -> Parameter:
    """A true/false parameter, true unless the deployer says otherwise."""
    return Parameter(
        title,
        Type="String",
        AllowedValues=["true", "false"],
        Default="true",
        Description=description,
    )


def _configuration_recording(t: Template, key) -> None:
    """AWS Config's recorder, its role and the bucket its history goes to, where
    RecordConfiguration is true (one recorder per account and region)."""
    record = t.add_parameter(
        _switch(
            "RecordConfiguration",
            "Record resource configurations with AWS Config, which Security Hub's controls "
            "evaluate through; false where the account already records in this region",
        )
    )
    record_global = t.add_parameter(
        _switch(
            "RecordGlobalResources",
            "Also record global resources (IAM): true in one region of the account only",
        )
    )
    t.add_condition(RECORDS, Equals(Ref(record), "true"))
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
        "Baseball Playback: security findings topic and configuration history",
        [
            for_this_account(
                "EventBridgeToEncryptedTopic",
                ["events.amazonaws.com"],
                [kms.Decrypt, kms.GenerateDataKey],
                THIS_KEY,
            ),
            use_through_services("UseThroughS3", ["s3"]),
        ],
    )
    # The configuration history it encrypts is retained: so is the key.
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
    # Added after tag_component: their Tags are not the usual list (a TagItem list, a map).
    detector = t.add_resource(_detector())
    hub = t.add_resource(
        Hub(
            "SecurityHub",
            EnableDefaultStandards=False,
            AutoEnableControls=True,
            ControlFindingGenerator="SECURITY_CONTROL",
            Tags={"Component": COMPONENT},
        )
    )
    t.add_resource(
        Standard(
            "FoundationalBestPracticesStandard",
            DependsOn=[hub.title],
            StandardsArn=Sub(FOUNDATIONAL_STANDARD),
        )
    )
    for title, description, value in (
        ("GuardDutyDetectorId", "The account's GuardDuty detector in this region", Ref(detector)),
        ("SecurityHubArn", "Security Hub in this account and region", Ref(hub)),
        ("FindingsTopicArn", "Topic the findings e-mail comes from", Ref(topic)),
    ):
        t.add_output(Output(title, Description=description, Value=value))
    return t
