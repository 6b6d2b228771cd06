"""The security stack (stacks/security/): KMS keys, who may reach what, and the flow logs."""

from __future__ import annotations

import pytest

from playback_infra.stacks import security
from playback_infra.stacks.security import default_group
from tests.stacks.helpers import getatt, props, ref, resources_of_type

GROUPS = ("Alb", "App", "Jobs", "DatabaseProxy", "Database", "SecretsRotation", "Cache")
VALKEY = ("tcp", 6379, 6379)
ANYWHERE = "0.0.0.0/0"
MYSQL = ("tcp", 3306, 3306)
HTTPS_OUT = (ANYWHERE, "tcp", 443, 443)
NO_EGRESS = {
    "IpProtocol": "icmp",
    "FromPort": 252,
    "ToPort": 86,
    "CidrIp": "255.255.255.255/32",
    "Description": "Disallow all traffic",
}
RETAIN_IF = {"Fn::If": ["RetainData", "Retain", "Delete"]}
ACCOUNT_ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
ACCOUNT_ID = {"Fn::Sub": "${AWS::AccountId}"}
KEY_USE = {
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:CreateGrant",
}


@pytest.fixture(scope="module")
def template():
    return security.build()


@pytest.fixture(scope="module")
def t(template) -> dict:
    return template.to_dict()


# --- helpers ---------------------------------------------------------------------------------


def statements(t: dict, key: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in props(t, key)["KeyPolicy"]["Statement"]}


def parameters(cloudfront: bool = True, retain: bool = True) -> dict[str, str]:
    return {
        "CloudFrontPrefixListId": "pl-3b927c52" if cloudfront else "",
        "RetainStatefulResources": "true" if retain else "false",
    }


def group_name(node: dict) -> str:
    """`Ref X` or `GetAtt X.GroupId` of a security group -> its short name (`App`)."""
    title = node["Ref"] if "Ref" in node else node["Fn::GetAtt"][0]
    return title.removesuffix("SecurityGroup")


def edge(rule: dict) -> tuple:
    """A rule as (peer, protocol, from port, to port); a port parameter by its name."""
    peer = None
    for key in ("SourceSecurityGroupId", "DestinationSecurityGroupId"):
        if key in rule:
            peer = group_name(rule[key])
    for key in ("SourcePrefixListId", "DestinationPrefixListId"):
        if key in rule:
            peer = f"prefix-list:{rule[key]['Ref']}"
    for key in ("CidrIp", "CidrIpv6"):
        if key in rule:
            peer = rule[key]
    ports = [p["Ref"] if isinstance(p, dict) else p for p in (rule["FromPort"], rule["ToPort"])]
    return (peer, rule["IpProtocol"], *ports)


def reachability(deployed) -> tuple[dict[str, set], dict[str, set]]:
    """Ingress and egress per group, from inline rules and standalone rule resources."""
    ingress: dict[str, set] = {}
    egress: dict[str, set] = {}
    for name, r in deployed.resources.items():
        p = r["Properties"]
        if r["Type"] == "AWS::EC2::SecurityGroup":
            group = name.removesuffix("SecurityGroup")
            ingress.setdefault(group, set()).update(map(edge, p.get("SecurityGroupIngress", [])))
            inline = p.get("SecurityGroupEgress", [])
            real = [rule for rule in inline if rule != NO_EGRESS]
            egress.setdefault(group, set()).update(map(edge, real))
            if not inline:  # AWS then keeps its default rule
                egress[group].add((ANYWHERE, "-1", "all", "all"))
    for r in deployed.resources.values():
        p = r["Properties"]
        if r["Type"] == "AWS::EC2::SecurityGroupIngress":
            ingress[group_name(p["GroupId"])].add(edge(p))
        elif r["Type"] == "AWS::EC2::SecurityGroupEgress":
            egress[group_name(p["GroupId"])].add(edge(p))
    return ingress, egress


# --- KMS keys --------------------------------------------------------------------------------


def test_template_uses_language_extensions_and_retain_condition(t):
    assert t["Transform"] == "AWS::LanguageExtensions"  # Fn::If in DeletionPolicy needs it
    assert t["Conditions"]["RetainData"] == {"Fn::Equals": [ref("RetainStatefulResources"), "true"]}
    assert t["Conditions"]["AlbFromCloudFront"] == {
        "Fn::Not": [{"Fn::Equals": [ref("CloudFrontPrefixListId"), ""]}]
    }


@pytest.mark.parametrize("key", ["DataKey", "LogsKey"])
def test_key_rotates_and_is_retained_where_data_is(t, key):
    resource = t["Resources"][key]
    assert resource["Type"] == "AWS::KMS::Key"
    assert resource["Properties"]["EnableKeyRotation"] is True
    assert resource["Properties"]["PendingWindowInDays"] == 30  # the longest undo window
    assert resource["DeletionPolicy"] == RETAIN_IF
    assert resource["UpdateReplacePolicy"] == RETAIN_IF


@pytest.mark.parametrize("key", ["DataKey", "LogsKey"])
def test_key_policy_grants_no_wildcard_action_and_no_anonymous_principal(t, key):
    policy = props(t, key)["KeyPolicy"]
    assert policy["Version"] == "2012-10-17"
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == ["*"]  # in a key policy: this key
        assert all("*" not in action for action in statement["Action"]), statement["Sid"]
        assert statement["Principal"] not in ("*", {"AWS": "*"}, {"AWS": ["*"]})


@pytest.mark.parametrize("key", ["DataKey", "LogsKey"])
def test_key_administration_cannot_use_the_key(t, key):
    admin = statements(t, key)["KeyAdministration"]
    assert admin["Principal"] == {"AWS": [ACCOUNT_ROOT]}
    assert not KEY_USE & set(admin["Action"])
    assert "Condition" not in admin
    # Without these the key could not be managed or deleted again (and KMS refuses the policy).
    assert {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"} <= set(admin["Action"])


def test_data_key_is_used_only_through_the_services_that_keep_the_data(t):
    """ElastiCache Serverless (the narration cache) needs both elasticache and dax:
    https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html"""
    via_services = {
        "kms:CallerAccount": ACCOUNT_ID,
        "kms:ViaService": [
            {"Fn::Sub": f"{service}.${{AWS::Region}}.amazonaws.com"}
            for service in ("rds", "secretsmanager", "s3", "backup", "elasticache", "dax")
        ],
    }
    use = statements(t, "DataKey")
    assert set(use) == {"KeyAdministration", "UseThroughAwsServices", "GrantsForAwsServices"}
    assert use["UseThroughAwsServices"]["Principal"] == {"AWS": [ACCOUNT_ROOT]}
    assert use["UseThroughAwsServices"]["Condition"] == {"StringEquals": via_services}
    assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"} <= set(
        use["UseThroughAwsServices"]["Action"]
    )
    grants = use["GrantsForAwsServices"]
    assert grants["Principal"] == {"AWS": [ACCOUNT_ROOT]}
    assert set(grants["Action"]) == {"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"}
    assert grants["Condition"] == {
        "StringEquals": via_services,
        "Bool": {"kms:GrantIsForAWSResource": "true"},
    }


def test_logs_key_is_used_only_by_cloudwatch_logs_and_alarms_of_this_account(t):
    use = statements(t, "LogsKey")
    # CloudWatchAlarmsToEncryptedTopic is asserted in test_alerts.py.
    assert set(use) == {
        "KeyAdministration", "CloudWatchLogs", "CloudWatchAlarmsToEncryptedTopic",
        "BillingAlertsToEncryptedTopic",
    }  # fmt: skip
    logs = use["CloudWatchLogs"]
    assert logs["Principal"] == {"Service": [{"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}]}
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": {
                "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
            }
        }
    }
    assert "kms:CreateGrant" not in logs["Action"]


@pytest.mark.parametrize(("key", "alias"), [("DataKey", "data"), ("LogsKey", "logs")])
def test_key_alias(t, key, alias):
    assert t["Resources"][f"{key}Alias"]["Type"] == "AWS::KMS::Alias"
    assert props(t, f"{key}Alias") == {
        "AliasName": {"Fn::Sub": f"alias/baseball-playback/${{EnvironmentName}}/{alias}"},
        "TargetKeyId": ref(key),
    }


def test_only_keys_and_log_groups_are_stateful(t):
    stateful = {n for n, r in t["Resources"].items() if "DeletionPolicy" in r}
    assert stateful == {"DataKey", "LogsKey", "FlowLogGroup", "DefaultGroupRestrictionLogGroup"}


@pytest.mark.parametrize(
    ("env", "policy"), [("dev", "Delete"), ("staging", "Retain"), ("prod", "Retain")]
)
def test_stateful_resources_per_environment(t, parameter_files, as_deployed, env, policy):
    deployed = as_deployed(t, parameter_files[env]["Parameters"])
    for name in ("DataKey", "LogsKey", "FlowLogGroup", "DefaultGroupRestrictionLogGroup"):
        resource = deployed.resources[name]
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (policy, policy)


# --- security groups -------------------------------------------------------------------------


def test_exactly_these_groups(t):
    groups = resources_of_type(t, "AWS::EC2::SecurityGroup")
    assert set(groups) == {f"{g}SecurityGroup" for g in GROUPS}
    assert all(g["Properties"]["VpcId"] == ref("VpcId") for g in groups.values())


@pytest.mark.parametrize("cloudfront", [True, False], ids=["cloudfront", "internet"])
def test_who_may_reach_what(t, as_deployed, cloudfront):
    ingress, egress = reachability(as_deployed(t, parameters(cloudfront=cloudfront)))
    alb_ingress = (
        {("prefix-list:CloudFrontPrefixListId", "tcp", 443, 443)}
        if cloudfront
        else {(ANYWHERE, "tcp", 443, 443), (ANYWHERE, "tcp", 80, 80)}
    )
    assert ingress == {
        "Alb": alb_ingress,
        "App": {("Alb", "tcp", "AppPort", "AppPort")},
        "Jobs": set(),
        "DatabaseProxy": {("App", *MYSQL), ("Jobs", *MYSQL)},
        "Database": {
            ("App", *MYSQL), ("DatabaseProxy", *MYSQL), ("Jobs", *MYSQL), ("SecretsRotation", *MYSQL),
        },
        "SecretsRotation": set(),
        "Cache": {("App", *VALKEY)},  # the narration cache: the app tasks only
    }  # fmt: skip
    assert egress == {
        "Alb": {("App", "tcp", "AppPort", "AppPort")},
        "App": {HTTPS_OUT, ("DatabaseProxy", *MYSQL), ("Database", *MYSQL), ("Cache", *VALKEY)},
        "Jobs": {HTTPS_OUT, ("DatabaseProxy", *MYSQL), ("Database", *MYSQL)},
        "DatabaseProxy": {HTTPS_OUT, ("Database", *MYSQL)},
        "Database": set(),
        "SecretsRotation": {HTTPS_OUT, ("Database", *MYSQL)},
        "Cache": set(),
    }


@pytest.mark.parametrize("cloudfront", [True, False], ids=["cloudfront", "internet"])
def test_only_the_alb_admits_the_internet(t, as_deployed, cloudfront):
    ingress, _ = reachability(as_deployed(t, parameters(cloudfront=cloudfront)))
    open_to_all = {g for g, rules in ingress.items() for r in rules if r[0] in (ANYWHERE, "::/0")}
    assert open_to_all == (set() if cloudfront else {"Alb"})


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_no_environment_opens_the_alb_to_the_internet(t, parameter_files, as_deployed, env):
    ingress, _ = reachability(as_deployed(t, parameter_files[env]["Parameters"]))
    assert ingress["Alb"] == {("prefix-list:CloudFrontPrefixListId", "tcp", 443, 443)}


@pytest.mark.parametrize("group", GROUPS)
def test_every_group_replaces_the_default_allow_all_egress(t, group):
    """A group without inline egress keeps AWS's allow-all rule, standalone egress or not."""
    egress = props(t, f"{group}SecurityGroup")["SecurityGroupEgress"]
    assert egress
    if group in ("Alb", "Database"):
        assert egress == [NO_EGRESS]


def test_every_rule_has_a_description(t, as_deployed):
    rules = []
    for cloudfront in (True, False):
        deployed = as_deployed(t, parameters(cloudfront=cloudfront))
        for r in deployed.resources.values():
            p = r["Properties"]
            if r["Type"] == "AWS::EC2::SecurityGroup":
                rules += p.get("SecurityGroupIngress", []) + p.get("SecurityGroupEgress", [])
            elif r["Type"] in ("AWS::EC2::SecurityGroupEgress", "AWS::EC2::SecurityGroupIngress"):
                rules.append(p)
    assert len(rules) >= 20
    assert [r for r in rules if not r.get("Description", "").strip()] == []


# --- flow logs -------------------------------------------------------------------------------


def test_flow_log_captures_all_vpc_traffic_into_the_log_group(t):
    assert list(resources_of_type(t, "AWS::EC2::FlowLog")) == ["VpcFlowLog"]
    p = props(t, "VpcFlowLog")
    assert p["ResourceId"] == ref("VpcId")
    assert p["ResourceType"] == "VPC"
    assert p["TrafficType"] == "ALL"
    assert p["LogDestinationType"] == "cloud-watch-logs"
    assert p["LogDestination"] == getatt("FlowLogGroup", "Arn")
    assert p["DeliverLogsPermissionArn"] == getatt("FlowLogRole", "Arn")


def test_flow_log_group_is_encrypted_retained_and_expires(t):
    group = t["Resources"]["FlowLogGroup"]
    assert group["Properties"]["KmsKeyId"] == getatt("LogsKey", "Arn")
    assert group["Properties"]["RetentionInDays"] == ref("FlowLogRetentionDays")
    assert group["DeletionPolicy"] == RETAIN_IF
    assert group["UpdateReplacePolicy"] == RETAIN_IF


def test_flow_log_role_trusts_only_vpc_flow_logs_of_this_account(t):
    trust = props(t, "FlowLogRole")["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["vpc-flow-logs.amazonaws.com"]},
            "Action": ["sts:AssumeRole"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                "ArnLike": {
                    "aws:SourceArn": {
                        "Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}"
                        ":vpc-flow-log/*"
                    }
                },
            },
        }
    ]


def test_flow_log_role_may_only_write_to_its_log_group(t):
    role = props(t, "FlowLogRole")
    assert "ManagedPolicyArns" not in role
    [policy] = role["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == [
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ]
    assert statement["Resource"] == [getatt("FlowLogGroup", "Arn")]
    assert set(statement) == {"Effect", "Action", "Resource"}
    assert set(resources_of_type(t, "AWS::IAM::Role")) == {
        "FlowLogRole",
        "DefaultGroupRestrictionRole",
    }
    assert not resources_of_type(t, "AWS::IAM::Policy")
    assert not resources_of_type(t, "AWS::IAM::ManagedPolicy")


# --- outputs and tags ------------------------------------------------------------------------


def test_outputs(t):
    outputs = {name: o["Value"] for name, o in t["Outputs"].items()}
    assert outputs == {
        "DataKeyArn": getatt("DataKey", "Arn"),
        "LogsKeyArn": getatt("LogsKey", "Arn"),
        **{f"{g}SecurityGroupId": getatt(f"{g}SecurityGroup", "GroupId") for g in GROUPS},
        "FlowLogGroupName": ref("FlowLogGroup"),
    }


def test_every_taggable_resource_has_the_component_tag(template, t):
    taggable = [name for name, r in template.resources.items() if "Tags" in r.props]
    # 2 keys, 7 groups, 2 log groups, 2 roles, flow log, function
    assert len(taggable) == 15
    for name in taggable:
        tags = t["Resources"][name]["Properties"]["Tags"]
        assert [tag for tag in tags if tag["Key"] == "Component"] == [
            {"Key": "Component", "Value": "security"}
        ], name


# --- the VPC's default security group ----------------------------------------------------------


def test_the_default_security_group_is_left_with_no_rules_by_a_custom_resource(t):
    """Security Hub EC2.2; CloudFormation has no property for it, so a custom resource, as CDK's
    restrictDefaultSecurityGroup does (the handler itself: tests/emulator/test_default_group.py)."""
    restriction = t["Resources"]["DefaultSecurityGroupRestriction"]
    assert restriction["Type"] == "Custom::RestrictDefaultSecurityGroup"
    assert restriction["Properties"] == {
        "ServiceToken": getatt("DefaultGroupRestrictionFunction", "Arn"),
        "ServiceTimeout": 300,
        "DefaultSecurityGroupId": ref("DefaultSecurityGroupId"),
        "AccountId": ref("AWS::AccountId"),
    }
    assert t["Parameters"]["DefaultSecurityGroupId"]["Type"] == "AWS::EC2::SecurityGroup::Id"
    function = props(t, "DefaultGroupRestrictionFunction")
    assert (function["Runtime"], function["Handler"]) == ("python3.12", "index.handler")
    assert function["Code"]["ZipFile"] == default_group.HANDLER.read_text()
    # CloudFormation's limit for inline code.
    assert len(function["Code"]["ZipFile"]) <= 4096
    assert function["LoggingConfig"] == {"LogGroup": ref("DefaultGroupRestrictionLogGroup")}
    log_group = props(t, "DefaultGroupRestrictionLogGroup")
    assert log_group["KmsKeyId"] == getatt("LogsKey", "Arn")
    assert log_group["RetentionInDays"] == 365


def test_the_function_may_only_revoke_the_default_group_s_rules_and_log(t):
    role = props(t, "DefaultGroupRestrictionRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["lambda.amazonaws.com"]}
    assert "ManagedPolicyArns" not in role
    (policy,) = role["Policies"]
    revoke, log = policy["PolicyDocument"]["Statement"]
    assert revoke["Action"] == ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"]
    assert revoke["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:"
            "security-group/${DefaultSecurityGroupId}"
        }
    ]
    assert log["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert log["Resource"] == [getatt("DefaultGroupRestrictionLogGroup", "Arn")]
