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
- **Findings by e-mail**: GuardDuty findings of severity 7 or more and Security Hub CRITICAL
  findings (GuardDuty's own excluded, they come through the first rule) go to an SNS topic
  encrypted with a key of its own (EventBridge cannot use SNS's AWS-managed key).

An account that already has a detector or Security Hub (enabled by an organization's delegated
administrator) must not deploy this stack: both exist once per account and region.

    aws cloudformation deploy --template-file templates/account-baseline.yaml \\
        --stack-name baseball-playback-account-baseline \\
        --parameter-overrides FindingsEmail=security@example.com
"""

from __future__ import annotations

from awacs import kms
from awacs import sns as sns_actions
from awacs.aws import Allow, ArnEquals, Condition, Policy, Principal, Statement
from troposphere import GetAtt, Output, Parameter, Ref, Sub, Template
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
from troposphere.kms import Alias
from troposphere.securityhub import Hub, Standard
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from playback_infra.parts import values
from playback_infra.parts.iam import THIS_KEY, customer_key, for_this_account
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


def build() -> Template:
    t = new_template("account baseline (GuardDuty, Security Hub, Inspector for ECR, findings)")
    email = t.add_parameter(
        Parameter(
            FINDINGS_EMAIL,
            Type="String",
            Description="E-mail address security findings are sent to",
            AllowedPattern=values.VALUES[values.ALARM_EMAIL].allowed_pattern,
            ConstraintDescription="an e-mail address",
        )
    )
    key = t.add_resource(
        customer_key(
            "FindingsKey",
            "Baseball Playback: security findings topic",
            [
                for_this_account(
                    "EventBridgeToEncryptedTopic",
                    ["events.amazonaws.com"],
                    [kms.Decrypt, kms.GenerateDataKey],
                    THIS_KEY,
                )
            ],
        )
    )
    t.add_resource(
        Alias(
            "FindingsKeyAlias",
            AliasName="alias/baseball-playback/security-findings",
            TargetKeyId=Ref(key),
        )
    )
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
                    Statement(
                        Sid="TheFindingRulesPublish",
                        Effect=Allow,
                        Principal=Principal("Service", ["events.amazonaws.com"]),
                        Action=[sns_actions.Publish],
                        Resource=[Ref(topic)],
                        Condition=Condition(
                            ArnEquals("aws:SourceArn", [GetAtt(r, "Arn") for r in rules])
                        ),
                    )
                ],
            ),
        )
    )
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
