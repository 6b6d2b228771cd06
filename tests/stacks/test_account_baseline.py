"""The account-baseline stack (stacks/account_baseline.py): GuardDuty, Security Hub, Inspector
for ECR, and the findings e-mail."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatch

import pytest

from playback_infra import synth
from playback_infra.deployed import as_deployed
from playback_infra.stacks import account_baseline, registry
from tests.stacks.helpers import getatt, props, ref, resources_of_type

EVENTS = {"Service": ["events.amazonaws.com"]}


@pytest.fixture(scope="module")
def t() -> dict:
    return account_baseline.build().to_dict()


def test_deployed_on_its_own_as_account_baseline():
    assert synth.STANDALONE["account-baseline"] is account_baseline
    assert "templates/account-baseline.yaml" in synth.render().files


def test_exactly_these_resources(t):
    assert {name: r["Type"] for name, r in t["Resources"].items()} == {
        "GuardDutyDetector": "AWS::GuardDuty::Detector",
        "SecurityHub": "AWS::SecurityHub::Hub",
        "FoundationalBestPracticesStandard": "AWS::SecurityHub::Standard",
        "RegistryScanning": "AWS::ECR::RegistryScanningConfiguration",
        "BaselineKey": "AWS::KMS::Key",
        "BaselineKeyAlias": "AWS::KMS::Alias",
        "ConfigHistoryBucket": "AWS::S3::Bucket",
        "ConfigHistoryBucketPolicy": "AWS::S3::BucketPolicy",
        "ConfigRecorderRole": "AWS::IAM::Role",
        "ConfigRecorder": "AWS::Config::ConfigurationRecorder",
        "ConfigDeliveryChannel": "AWS::Config::DeliveryChannel",
        "FindingsTopic": "AWS::SNS::Topic",
        "FindingsTopicPolicy": "AWS::SNS::TopicPolicy",
        "FindingsEmailSubscription": "AWS::SNS::Subscription",
        "GuardDutyFindingsRule": "AWS::Events::Rule",
        "SecurityHubFindingsRule": "AWS::Events::Rule",
        "TrailBucket": "AWS::S3::Bucket",
        "TrailBucketPolicy": "AWS::S3::BucketPolicy",
        "AccountTrail": "AWS::CloudTrail::Trail",
    }


# --- GuardDuty -------------------------------------------------------------------------------


def test_guardduty_watches_s3_rds_logins_and_lambda_and_names_every_plan(t):
    detector = props(t, "GuardDutyDetector")
    assert detector["Enable"] is True
    features = {f["Name"]: f["Status"] for f in detector["Features"]}
    assert features == {
        "S3_DATA_EVENTS": "ENABLED",
        "RDS_LOGIN_EVENTS": "ENABLED",
        "LAMBDA_NETWORK_LOGS": "ENABLED",
        "EKS_AUDIT_LOGS": "DISABLED",  # no EKS
        "EBS_MALWARE_PROTECTION": "DISABLED",  # no EC2 instances
        "AI_PROTECTION": "DISABLED",  # OpenAI, no AWS AI service
        "RUNTIME_MONITORING": "DISABLED",  # until the execution roles may pull the agent
    }
    # Naming both is an error (Runtime Monitoring includes EKS's).
    assert "EKS_RUNTIME_MONITORING" not in features


def test_runtime_monitoring_does_not_inject_the_fargate_agent_while_off(t):
    (runtime,) = [
        f for f in props(t, "GuardDutyDetector")["Features"] if f["Name"] == "RUNTIME_MONITORING"
    ]
    assert runtime["AdditionalConfiguration"] == [
        {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": runtime["Status"]}
    ]


# --- Security Hub ----------------------------------------------------------------------------


def test_security_hub_enables_only_the_foundational_standard(t):
    hub = props(t, "SecurityHub")
    assert hub["EnableDefaultStandards"] is False  # CIS would arrive with the defaults
    assert hub["AutoEnableControls"] is True
    assert hub["ControlFindingGenerator"] == "SECURITY_CONTROL"
    standards = resources_of_type(t, "AWS::SecurityHub::Standard")
    assert list(standards) == ["FoundationalBestPracticesStandard"]
    standard = standards["FoundationalBestPracticesStandard"]
    assert standard["DependsOn"] == ["SecurityHub"]
    assert standard["Properties"]["StandardsArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:securityhub:${AWS::Region}::"
        "standards/aws-foundational-security-best-practices/v/1.0.0"
    }


# --- Inspector for ECR -----------------------------------------------------------------------


def test_registry_scans_every_repository_continuously_with_inspector(t):
    scanning = props(t, "RegistryScanning")
    assert scanning["ScanType"] == "ENHANCED"
    (rule,) = scanning["Rules"]
    assert rule["ScanFrequency"] == "CONTINUOUS_SCAN"
    (repository_filter,) = rule["RepositoryFilters"]
    assert repository_filter["FilterType"] == "WILDCARD"
    registry_t = registry.build().to_dict()
    names = [props(registry_t, title)["RepositoryName"] for title in registry.REPOSITORIES]
    assert names and all(fnmatch(name, repository_filter["Filter"]) for name in names)


# --- AWS Config ------------------------------------------------------------------------------

CONFIG_RESOURCES = (
    "ConfigHistoryBucket", "ConfigHistoryBucketPolicy", "ConfigRecorderRole", "ConfigRecorder",
    "ConfigDeliveryChannel",
)  # fmt: skip


def test_config_records_every_supported_resource_where_switched_on(t):
    assert t["Parameters"]["RecordConfiguration"]["Default"] == "true"
    assert t["Conditions"]["RecordsConfiguration"] == {
        "Fn::Equals": [ref("RecordConfiguration"), "true"]
    }
    assert all(
        t["Resources"][name]["Condition"] == "RecordsConfiguration" for name in CONFIG_RESOURCES
    )
    recorder = props(t, "ConfigRecorder")
    assert recorder["RoleARN"] == getatt("ConfigRecorderRole", "Arn")
    assert recorder["RecordingGroup"] == {
        "AllSupported": True,
        "IncludeGlobalResourceTypes": ref("RecordGlobalResources"),
    }


def test_history_goes_to_an_encrypted_retained_bucket_after_the_recorder_exists(t):
    channel = t["Resources"]["ConfigDeliveryChannel"]
    assert channel["DependsOn"] == ["ConfigRecorder"]  # PutDeliveryChannel needs a recorder
    assert channel["Properties"]["S3BucketName"] == ref("ConfigHistoryBucket")
    assert channel["Properties"]["S3KmsKeyArn"] == getatt("BaselineKey", "Arn")
    bucket = t["Resources"]["ConfigHistoryBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": getatt("BaselineKey", "Arn"),
    }
    (tls,) = props(t, "ConfigHistoryBucketPolicy")["PolicyDocument"]["Statement"]
    assert (tls["Effect"], tls["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def test_recorder_role_is_config_s_for_this_account_and_writes_only_its_history(t):
    role = props(t, "ConfigRecorderRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["config.amazonaws.com"]}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}
    }
    assert role["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWS_ConfigRole"}
    ]
    (policy,) = role["Policies"]
    assert {(tuple(s["Action"]), json.dumps(s["Resource"])) for s in policy["PolicyDocument"]["Statement"]} == {
        (("s3:GetBucketAcl",), json.dumps([getatt("ConfigHistoryBucket", "Arn")])),
        (("s3:PutObject",), json.dumps(
            [{"Fn::Sub": "${ConfigHistoryBucket.Arn}/AWSLogs/${AWS::AccountId}/Config/*"}])),
        (("kms:GenerateDataKey", "kms:Decrypt"), json.dumps([getatt("BaselineKey", "Arn")])),
    }  # fmt: skip


# --- findings by e-mail ----------------------------------------------------------------------


def test_guardduty_rule_sends_severity_7_and_above(t):
    rule = props(t, "GuardDutyFindingsRule")
    assert rule["EventPattern"] == {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", 7]}]},
    }
    assert rule["State"] == "ENABLED"
    assert rule["Targets"] == [{"Id": "FindingsTopic", "Arn": ref("FindingsTopic")}]


def test_security_hub_rule_sends_new_critical_findings_but_not_guardduty_twice(t):
    rule = props(t, "SecurityHubFindingsRule")
    pattern = rule["EventPattern"]
    assert (pattern["source"], pattern["detail-type"]) == (
        ["aws.securityhub"],
        ["Security Hub Findings - Imported"],
    )
    assert pattern["detail"]["findings"] == {
        "Severity": {"Label": ["CRITICAL"]},
        "RecordState": ["ACTIVE"],
        "Workflow": {"Status": ["NEW"]},
        "ProductName": [{"anything-but": "GuardDuty"}],
    }
    assert rule["Targets"] == [{"Id": "FindingsTopic", "Arn": ref("FindingsTopic")}]


def test_topic_is_encrypted_with_a_key_eventbridge_of_this_account_may_use(t):
    assert props(t, "FindingsTopic")["KmsMasterKeyId"] == ref("BaselineKey")
    key = t["Resources"]["BaselineKey"]
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    assert set(statements) == {
        "KeyAdministration", "EventBridgeToEncryptedTopic", "UseThroughS3",
        "CloudTrailEncryptsLogs", "CloudTrailDescribesKey",
    }  # fmt: skip
    use = statements["EventBridgeToEncryptedTopic"]
    assert use["Principal"] == EVENTS
    assert use["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert use["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}
    }
    via = statements["UseThroughS3"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == [{"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}]


def test_only_the_two_finding_rules_may_publish(t):
    policy = props(t, "FindingsTopicPolicy")
    assert policy["Topics"] == [ref("FindingsTopic")]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == EVENTS
    assert statement["Action"] == ["sns:Publish"]
    assert statement["Condition"] == {
        "ArnEquals": {
            "aws:SourceArn": [
                getatt("GuardDutyFindingsRule", "Arn"),
                getatt("SecurityHubFindingsRule", "Arn"),
            ]
        }
    }


@pytest.mark.parametrize(
    ("email", "valid"),
    [("security@example.com", True), ("ops+sec@mail.example.org", True),
     ("security", False), ("security@example", False), ("a b@example.com", False), ("", False)],
)  # fmt: skip
def test_findings_email_parameter_is_validated(t, email, valid):
    parameter = t["Parameters"]["FindingsEmail"]
    assert bool(re.fullmatch(parameter["AllowedPattern"], email)) is valid
    assert props(t, "FindingsEmailSubscription") == {
        "TopicArn": ref("FindingsTopic"),
        "Protocol": "email",
        "Endpoint": ref("FindingsEmail"),
    }


def test_every_resource_that_takes_tags_carries_the_component(t):
    tagged = [r["Properties"]["Tags"] for r in t["Resources"].values() if "Tags" in r["Properties"]]
    # key, topic, two rules, two buckets, role, trail, detector (a list each), hub (a map)
    assert len(tagged) == 10
    for tags in tagged:
        as_map = tags if isinstance(tags, dict) else {tag["Key"]: tag["Value"] for tag in tags}
        assert as_map["Component"] == "account-baseline"


def test_outputs(t):
    assert t["Outputs"] == {
        "GuardDutyDetectorId": {
            "Condition": "GuardDutyHere",
            "Description": "The account's GuardDuty detector in this region",
            "Value": ref("GuardDutyDetector"),
        },
        "SecurityHubArn": {
            "Condition": "SecurityHubHere",
            "Description": "Security Hub in this account and region",
            "Value": ref("SecurityHub"),
        },
        "FindingsTopicArn": {
            "Description": "Topic the findings e-mail comes from",
            "Value": ref("FindingsTopic"),
        },
        "CloudTrailName": {
            "Condition": "TrailHere",
            "Description": "The account's trail of every region",
            "Value": ref("AccountTrail"),
        },
    }


# --- where an organization already enabled GuardDuty or Security Hub ----------------------------


@pytest.mark.parametrize(
    ("switch", "condition", "resources"),
    [
        ("EnableGuardDuty", "GuardDutyHere", {"GuardDutyDetector"}),
        ("EnableSecurityHub", "SecurityHubHere",
         {"SecurityHub", "FoundationalBestPracticesStandard"}),
        ("RecordTrail", "TrailHere", {"TrailBucket", "TrailBucketPolicy", "AccountTrail"}),
    ],
)  # fmt: skip
def test_each_account_wide_service_is_on_for_a_standalone_account_and_can_be_left_out(
    t, switch, condition, resources
):
    """GuardDuty, Security Hub and a multi-region trail exist once per account (and region):
    an organization that enabled them already deploys with the switch false."""
    assert t["Parameters"][switch]["Default"] == "true"
    assert t["Parameters"][switch]["AllowedValues"] == ["true", "false"]
    assert t["Conditions"][condition] == {"Fn::Equals": [ref(switch), "true"]}
    switched = {n for n, r in t["Resources"].items() if r.get("Condition") == condition}
    assert switched == resources
    others = {n: "true" for n in ("RecordConfiguration", "RecordGlobalResources")}
    for value, present in (("true", resources), ("false", set())):
        deployed = as_deployed(t, {**others, "EnableGuardDuty": "true",
                                   "EnableSecurityHub": "true", "RecordTrail": "true",
                                   switch: value})  # fmt: skip
        assert resources & set(deployed.resources) == present


# --- CloudTrail ------------------------------------------------------------------------------

TRAIL_ARN = "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/baseball-playback-account"


def test_trail_records_every_region_with_validated_encrypted_logs(t):
    """Security Hub CloudTrail.1 (multi-region, management events), .2 (KMS), .4 (validation):
    https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html"""
    trail = t["Resources"]["AccountTrail"]
    assert trail["DependsOn"] == ["TrailBucketPolicy"]
    p = trail["Properties"]
    assert p["TrailName"] == "baseball-playback-account"
    assert p["IsLogging"] is p["IsMultiRegionTrail"] is p["IncludeGlobalServiceEvents"] is True
    assert p["EnableLogFileValidation"] is True
    assert p["KMSKeyId"] == getatt("BaselineKey", "Arn")
    assert p["S3BucketName"] == ref("TrailBucket")
    # No selectors: every management event, reads and writes, is recorded.
    assert "EventSelectors" not in p and "AdvancedEventSelectors" not in p


def test_only_this_trail_may_encrypt_with_the_key(t):
    """As CloudTrail's key policy page gives it: the trail's source ARN and encryption context."""
    statements = {s["Sid"]: s for s in props(t, "BaselineKey")["KeyPolicy"]["Statement"]}
    encrypt = statements["CloudTrailEncryptsLogs"]
    assert encrypt["Principal"] == {"Service": ["cloudtrail.amazonaws.com"]}
    assert encrypt["Action"] == ["kms:GenerateDataKey"]
    assert encrypt["Condition"] == {
        "StringEquals": {"aws:SourceArn": {"Fn::Sub": TRAIL_ARN}},
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": {
            "Fn::Sub": "arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"}},
    }  # fmt: skip
    describe = statements["CloudTrailDescribesKey"]
    assert describe["Action"] == ["kms:DescribeKey"]
    assert describe["Condition"] == {"StringEquals": {"aws:SourceArn": {"Fn::Sub": TRAIL_ARN}}}


def test_trail_logs_stay_a_year_and_nobody_deletes_them_before(t):
    bucket = t["Resources"]["TrailBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    p = bucket["Properties"]
    assert p["ObjectLockEnabled"] is True
    assert p["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}},
    }
    (rule,) = p["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 365  # Security Hub's default log retention
    (encryption,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == getatt(
        "BaselineKey", "Arn"
    )
    statements = {s["Sid"]: s for s in props(t, "TrailBucketPolicy")["PolicyDocument"]["Statement"]}
    assert set(statements) == {
        "CloudTrailChecksTheAcl",
        "CloudTrailWritesLogs",
        "TlsOnly",
        "NoDeletes",
    }
    deletes = statements["NoDeletes"]
    assert (deletes["Effect"], deletes["Principal"]) == ("Deny", "*")
    assert deletes["Action"] == ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    assert "Condition" not in deletes
    assert statements["TlsOnly"]["Effect"] == "Deny"
    write = statements["CloudTrailWritesLogs"]
    assert write["Principal"] == {"Service": ["cloudtrail.amazonaws.com"]}
    assert write["Action"] == ["s3:PutObject"]
    assert write["Resource"] == [{"Fn::Sub": "${TrailBucket.Arn}/AWSLogs/${AWS::AccountId}/*"}]
    assert write["Condition"] == {"StringEquals": {
        "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": {"Fn::Sub": TRAIL_ARN}}}  # fmt: skip
    acl = statements["CloudTrailChecksTheAcl"]
    assert acl["Action"] == ["s3:GetBucketAcl"]
    assert acl["Condition"] == {"StringEquals": {"aws:SourceArn": {"Fn::Sub": TRAIL_ARN}}}
