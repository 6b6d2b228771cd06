"""The data stack (stacks/data/): RDS for MySQL 8.4, its secrets, proxy, logs and alarms, as
rendered, and what CloudFormation makes of it with each environment's parameter file."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

import pytest

from playback_infra.stacks import data
from tests.stacks.helpers import (
    getatt,
    props,
    ref,
    resources_of_type,
    with_parameters,
    without_no_value,
)

ENVIRONMENTS = ("dev", "staging", "prod")
DATA_KEY = ref("DataKeyArn")
TOPIC = [ref("AlarmTopicArn")]
ACCOUNT_ID = {"Fn::Sub": "${AWS::AccountId}"}
INSTANCE_NAME = "baseball-playback-${EnvironmentName}-${DatabaseGeneration}"
LOG_GROUPS = {"error": "DatabaseErrorLogGroup", "slowquery": "DatabaseSlowqueryLogGroup"}
SECRETS = {
    "DatabaseAppSecret": "pb_app",
    "DatabaseMigrationSecret": "pb_migrate",
    "DatabaseReportingSecret": "pb_report",
}
ROTATED = ("DatabaseAppSecret", "DatabaseMigrationSecret")  # by the rotation stack
PROXY_RESOURCES = {
    "DatabaseProxy",
    "DatabaseProxyTargetGroup",
    "DatabaseProxyRole",
    "DatabaseProxyClientConnectionsAlarm",
}
ALARMS = {  # title -> metric, comparison, threshold parameter
    "DatabaseCpuAlarm": ("CPUUtilization", "GreaterThanThreshold", "DatabaseCpuAlarmPercent"),
    "DatabaseFreeableMemoryAlarm": (
        "FreeableMemory",
        "LessThanThreshold",
        "DatabaseFreeableMemoryAlarmBytes",
    ),
    "DatabaseFreeStorageAlarm": (
        "FreeStorageSpace",
        "LessThanThreshold",
        "DatabaseFreeStorageAlarmBytes",
    ),
    "DatabaseConnectionsAlarm": (
        "DatabaseConnections",
        "GreaterThanThreshold",
        "DatabaseConnectionsAlarmCount",
    ),
    "DatabaseReadLatencyAlarm": (
        "ReadLatency",
        "GreaterThanThreshold",
        "DatabaseReadLatencyAlarmSeconds",
    ),
    "DatabaseWriteLatencyAlarm": (
        "WriteLatency",
        "GreaterThanThreshold",
        "DatabaseWriteLatencyAlarmSeconds",
    ),
}
# Memory (GiB) of the classes the environments use, from the AWS instance-class tables.
CLASS_MEMORY_GIB = {"db.t4g.micro": 1, "db.t3.small": 2, "db.m7g.large": 8}
GIB = 2**30
MIB = 2**20

EXPECTED = {  # what each environment's parameter file must give the database
    "dev": {
        "class": "db.t4g.micro",  # half db.t3.small's price (docs/decisions.md)
        "multi_az": False,
        "retain": False,
        "insights": None,
        "proxy": False,
        "backup_days": "1",
        "log_days": "30",
        "max_storage": "50",
        "connections_alarm": "60",
    },
    "staging": {
        "class": "db.t3.small",
        "multi_az": False,
        "retain": True,
        "insights": None,
        "proxy": False,
        "backup_days": "7",
        "log_days": "90",
        "max_storage": "100",
        "connections_alarm": "122",
    },
    "prod": {
        "class": "db.m7g.large",
        "multi_az": True,
        "retain": True,
        "insights": "standard",
        "proxy": True,
        "backup_days": "35",
        "log_days": "365",
        "max_storage": "500",
        "connections_alarm": "491",
    },
}
INSIGHTS_PROPERTIES = (
    "EnablePerformanceInsights",
    "DatabaseInsightsMode",
    "PerformanceInsightsKMSKeyId",
    "PerformanceInsightsRetentionPeriod",
)


@pytest.fixture(scope="module")
def template():
    return data.build()


@pytest.fixture(scope="module")
def t(template) -> dict:
    return template.to_dict()


@pytest.fixture(scope="module")
def live(t, parameter_files, as_deployed):
    """Environment -> its resources and outputs as CloudFormation creates them: conditions
    applied, AWS::NoValue dropped, the parameter file's values in place of their Refs."""

    def deployed(parameters: dict[str, str]) -> dict:
        d = as_deployed(t, parameters)
        return {
            "resources": with_parameters(without_no_value(d.resources), parameters),
            "outputs": with_parameters(without_no_value(d.outputs), parameters),
        }

    return {env: deployed(parameter_files[env]["Parameters"]) for env in ENVIRONMENTS}


# --- helpers ---------------------------------------------------------------------------------


def retained_if(policy: str) -> dict:
    return {"Fn::If": ["RetainData", policy, "Delete"]}


def strings(node, path: str = ""):
    """Every (path, string) in a rendered template or parameter file, keys included."""
    if isinstance(node, dict):
        for key, item in node.items():
            yield f"{path}/{key}", str(key)
            yield from strings(item, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from strings(item, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def properties_named(node, pattern: re.Pattern, path: str = ""):
    """Every (path, key, value) whose key matches `pattern`."""
    if isinstance(node, dict):
        for key, item in node.items():
            if pattern.search(key):
                yield f"{path}/{key}", key, item
            yield from properties_named(item, pattern, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from properties_named(item, pattern, f"{path}[{i}]")


_CREDENTIAL_WORD = r"(?i)(?<![a-z])(password|passwd|pwd|secret|api[_-]?key|access[_-]?key|token)"
# `password=anything`, or `password: x` where x is no plain word (`secret: GetSecretValue`).
_CREDENTIAL_TEXT = re.compile(
    _CREDENTIAL_WORD + r"(\s*=\s*[\"']?\S|\s*:\s*[\"']?(?=[^\s\"']*[^A-Za-z\s\"'])[^\s\"']{4,})"
)
_URL_CREDENTIALS = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
_AWS_ACCESS_KEY = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_BASE64ISH = re.compile(r"[A-Za-z0-9+/=_-]{20,}")
_HEX = re.compile(r"\b[0-9a-f]{32,}\b")
_SUBSTITUTION = re.compile(r"\$\{[^}]*\}")
# The parts identifiers are made of: word, Word, WORD (as in DBInstance), a number.
_SEGMENT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# Regular-expression syntax (AllowedPattern and its ConstraintDescription).
_REGEX_SYNTAX = re.compile(r"\[[^\]\s]*\]|\{\d+(,\d*)?\}")


def _kind(c: str) -> str:
    if c.isupper():
        return "upper"
    if c.islower():
        return "lower"
    return "digit" if c.isdigit() else "symbol"


def _entropy(token: str) -> float:
    return -sum(n / len(token) * math.log2(n / len(token)) for n in Counter(token).values())


def _random_looking(word: str) -> bool:
    """Upper, lower and digits (symbols optional) mixed the way random text mixes them: mostly
    in runs too short to be words or numbers, or changing kind at every other character, and
    with its characters spread (entropy). Identifiers such as `PrivateAppRouteTable1` or
    `List<AWS::EC2::Subnet::Id>` are made of words, so they pass."""
    kinds = [_kind(c) for c in word]
    if len(word) < 16 or not {"upper", "lower", "digit"} <= set(kinds) or _entropy(word) < 3.5:
        return False
    segments = _SEGMENT.findall(word)
    short = sum(len(segment) for segment in segments if len(segment) < 3)
    alnum = [k for k in kinds if k != "symbol"]
    changes = sum(a != b for a, b in itertools.pairwise(alnum)) / (len(alnum) - 1)
    return short >= 0.35 * sum(map(len, segments)) or (len(alnum) >= 16 and changes >= 0.5)


def looks_like_a_secret(text: str) -> bool:
    if any(p.search(text) for p in (_CREDENTIAL_TEXT, _URL_CREDENTIALS, _AWS_ACCESS_KEY)):
        return True
    if _PRIVATE_KEY.search(text) or _HEX.search(text):
        return True
    # ${AWS::Region} and friends are not secrets, nor is [A-Za-z0-9] in a pattern.
    plain = _REGEX_SYNTAX.sub(" ", _SUBSTITUTION.sub(" ", text))
    return any(map(_random_looking, [*_BASE64ISH.findall(plain), *plain.split()]))


# --- template --------------------------------------------------------------------------------


def test_template_uses_language_extensions_and_its_conditions(t):
    assert t["Transform"] == "AWS::LanguageExtensions"  # Fn::If in DeletionPolicy needs it
    assert t["Conditions"] == {
        "RetainData": {"Fn::Equals": [ref("RetainStatefulResources"), "true"]},
        "InsightsOn": {"Fn::Not": [{"Fn::Equals": [ref("DatabaseInsightsMode"), "off"]}]},
        "InsightsAdvanced": {"Fn::Equals": [ref("DatabaseInsightsMode"), "advanced"]},
        "MultiAz": {"Fn::Equals": [ref("DatabaseMultiAz"), "true"]},
        "UseDatabaseProxy": {"Fn::Equals": [ref("EnableDatabaseProxy"), "true"]},
        "FromSnapshot": {"Fn::Not": [{"Fn::Equals": [ref("DatabaseSnapshotIdentifier"), ""]}]},
        "UseBackupPlan": {"Fn::Equals": [ref("EnableBackupPlan"), "true"]},
        "CopyBackupsToAnotherRegion": {
            "Fn::And": [
                {"Condition": "UseBackupPlan"},
                {"Fn::Not": [{"Fn::Equals": [ref("BackupCopyRegion"), ""]}]},
            ]
        },
        "UseCache": {"Fn::Equals": [ref("EnableCache"), "true"]},
    }


def test_exactly_one_database_instance_and_no_cluster(t):
    assert list(resources_of_type(t, "AWS::RDS::DBInstance")) == ["DatabaseInstance"]
    assert not resources_of_type(t, "AWS::RDS::DBCluster")


# --- the instance ----------------------------------------------------------------------------


def test_instance_engine_is_mysql_pinned_without_silent_upgrades(t):
    p = props(t, "DatabaseInstance")
    assert p["Engine"] == "mysql"
    assert p["EngineVersion"] == ref("DatabaseEngineVersion")
    assert p["EngineLifecycleSupport"] == "open-source-rds-extended-support-disabled"
    assert p["AutoMinorVersionUpgrade"] is False
    assert p["DBInstanceClass"] == ref("DatabaseInstanceClass")
    assert p["DBInstanceIdentifier"] == {"Fn::Sub": INSTANCE_NAME}
    assert p["DBParameterGroupName"] == ref("DatabaseParameterGroup")
    assert p["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"


def test_instance_storage_is_encrypted_gp3_with_the_data_key_and_autoscales(t):
    p = props(t, "DatabaseInstance")
    assert p["StorageType"] == "gp3"
    assert p["StorageEncrypted"] is True
    # The data key for a new instance; a restore keeps the snapshot's key.
    assert p["KmsKeyId"] == {"Fn::If": ["FromSnapshot", ref("AWS::NoValue"), DATA_KEY]}
    assert p["AllocatedStorage"] == ref("DatabaseAllocatedStorage")
    assert p["MaxAllocatedStorage"] == ref("DatabaseMaxAllocatedStorage")


def test_instance_is_reachable_only_in_the_private_data_subnets(t):
    p = props(t, "DatabaseInstance")
    assert p["PubliclyAccessible"] is False
    assert p["VPCSecurityGroups"] == [ref("DatabaseSecurityGroupId")]
    assert "DBSecurityGroups" not in p
    assert p["DBSubnetGroupName"] == ref("DatabaseSubnetGroup")
    assert list(resources_of_type(t, "AWS::RDS::DBSubnetGroup")) == ["DatabaseSubnetGroup"]
    assert props(t, "DatabaseSubnetGroup")["SubnetIds"] == ref("PrivateDataSubnetIds")
    assert "PublicSubnetIds" not in t["Parameters"]


def test_master_password_is_generated_and_kept_by_rds_with_the_data_key(t):
    p = props(t, "DatabaseInstance")
    assert p["ManageMasterUserPassword"] is True
    assert p["MasterUserSecret"] == {"KmsKeyId": DATA_KEY}
    found = [path for path, _, _ in properties_named(t, re.compile("^MasterUserPassword$"))]
    assert found == []


def test_instance_backups_and_windows_come_from_the_parameters(t):
    p = props(t, "DatabaseInstance")
    assert p["BackupRetentionPeriod"] == ref("DatabaseBackupRetentionDays")
    assert p["PreferredBackupWindow"] == ref("DatabaseBackupWindow")
    assert p["PreferredMaintenanceWindow"] == ref("DatabaseMaintenanceWindow")
    assert p["CopyTagsToSnapshot"] is True
    parameters = t["Parameters"]
    assert parameters["DatabaseBackupRetentionDays"]["MinValue"] == 1  # 0 would stop backups
    assert parameters["DatabaseBackupRetentionDays"]["MaxValue"] == 35


def test_instance_exports_its_logs_into_the_stacks_log_groups(t):
    resource = t["Resources"]["DatabaseInstance"]
    assert resource["Properties"]["EnableCloudwatchLogsExports"] == ["error", "slowquery"]
    # Created first, so RDS does not create them without retention or the logs key.
    assert sorted(resource["DependsOn"]) == sorted(LOG_GROUPS.values())


def test_instance_has_enhanced_monitoring_and_iam_authentication(t):
    p = props(t, "DatabaseInstance")
    assert p["MonitoringInterval"] == 60
    assert p["MonitoringRoleArn"] == getatt("DatabaseMonitoringRole", "Arn")
    assert p["EnableIAMDatabaseAuthentication"] is True


def test_monitoring_role_trusts_only_enhanced_monitoring_of_this_account(t):
    role = props(t, "DatabaseMonitoringRole")
    assert role["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["monitoring.rds.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": {
                            "Fn::Sub": "arn:${AWS::Partition}:rds:${AWS::Region}"
                            ":${AWS::AccountId}:db:*"
                        }
                    },
                },
            }
        ],
    }
    assert role["ManagedPolicyArns"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
            "AmazonRDSEnhancedMonitoringRole"
        }
    ]
    assert "Policies" not in role


def test_instance_is_protected_and_snapshotted_where_data_is_retained(t):
    resource = t["Resources"]["DatabaseInstance"]
    assert resource["Properties"]["DeletionProtection"] == {"Fn::If": ["RetainData", True, False]}
    assert resource["DeletionPolicy"] == retained_if("Snapshot")
    assert resource["UpdateReplacePolicy"] == retained_if("Snapshot")


def test_snapshot_restore_replaces_the_master_username(t):
    p = props(t, "DatabaseInstance")
    assert p["DBSnapshotIdentifier"] == {
        "Fn::If": ["FromSnapshot", ref("DatabaseSnapshotIdentifier"), ref("AWS::NoValue")]
    }
    assert p["MasterUsername"] == {
        "Fn::If": ["FromSnapshot", ref("AWS::NoValue"), "playback_admin"]
    }


def restore_parameters(parameter_files) -> dict[str, str]:
    return {
        **parameter_files["prod"]["Parameters"],
        "DatabaseSnapshotIdentifier": "baseball-playback-prod-1-final",
        "DatabaseGeneration": "2",
    }


def test_restoring_from_a_snapshot_takes_the_username_from_it(t, parameter_files, as_deployed):
    deployed = as_deployed(t, restore_parameters(parameter_files))
    p = without_no_value(deployed.resources["DatabaseInstance"]["Properties"])
    assert p["DBSnapshotIdentifier"] == ref("DatabaseSnapshotIdentifier")
    assert "MasterUsername" not in p  # CloudFormation rejects it on a restore
    assert p["ManageMasterUserPassword"] is True


def test_restoring_from_a_snapshot_does_not_name_a_storage_key(t, parameter_files, as_deployed):
    deployed = as_deployed(t, restore_parameters(parameter_files))
    p = without_no_value(deployed.resources["DatabaseInstance"]["Properties"])
    assert "KmsKeyId" not in p


def test_insights_properties_follow_the_mode(t):
    p = props(t, "DatabaseInstance")
    no_value = ref("AWS::NoValue")
    assert p["EnablePerformanceInsights"] == {"Fn::If": ["InsightsOn", True, False]}
    assert p["DatabaseInsightsMode"] == {
        "Fn::If": ["InsightsOn", ref("DatabaseInsightsMode"), no_value]
    }
    assert p["PerformanceInsightsKMSKeyId"] == {"Fn::If": ["InsightsOn", DATA_KEY, no_value]}
    assert p["PerformanceInsightsRetentionPeriod"] == {
        "Fn::If": ["InsightsOn", {"Fn::If": ["InsightsAdvanced", 465, 7]}, no_value]
    }


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("off", {"EnablePerformanceInsights": False}),
        (
            "standard",
            {
                "EnablePerformanceInsights": True,
                "DatabaseInsightsMode": "standard",
                "PerformanceInsightsKMSKeyId": DATA_KEY,
                "PerformanceInsightsRetentionPeriod": 7,
            },
        ),
        (
            "advanced",  # advanced mode requires 15 months of Performance Insights
            {
                "EnablePerformanceInsights": True,
                "DatabaseInsightsMode": "advanced",
                "PerformanceInsightsKMSKeyId": DATA_KEY,
                "PerformanceInsightsRetentionPeriod": 465,
            },
        ),
    ],
)
def test_insights_properties_by_mode(t, parameter_files, as_deployed, mode, expected):
    parameters = {**parameter_files["prod"]["Parameters"], "DatabaseInsightsMode": mode}
    p = without_no_value(as_deployed(t, parameters).resources["DatabaseInstance"]["Properties"])
    assert {k: with_parameters(p[k], parameters) for k in INSIGHTS_PROPERTIES if k in p} == (
        expected
    )


# --- per environment -------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_database_parameters_per_environment(parameter_files, env):
    given = parameter_files[env]["Parameters"]
    want = EXPECTED[env]
    assert given["DatabaseInstanceClass"] == want["class"]
    assert given["DatabaseMultiAz"] == str(want["multi_az"]).lower()
    assert given["RetainStatefulResources"] == str(want["retain"]).lower()
    assert given["DatabaseInsightsMode"] == (want["insights"] or "off")
    assert given["EnableDatabaseProxy"] == str(want["proxy"]).lower()
    assert given["DatabaseBackupRetentionDays"] == want["backup_days"]
    assert given["DatabaseLogRetentionDays"] == want["log_days"]
    assert given["DatabaseMaxAllocatedStorage"] == want["max_storage"]
    assert given["DatabaseSnapshotIdentifier"] == ""
    assert given["DatabaseEngineVersion"].startswith("8.4.")
    # Storage autoscaling needs a ceiling at least 10% above the allocated storage.
    assert int(given["DatabaseMaxAllocatedStorage"]) >= 1.1 * int(given["DatabaseAllocatedStorage"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_instance_per_environment(live, parameter_files, env):
    want = EXPECTED[env]
    instance = live[env]["resources"]["DatabaseInstance"]
    p = instance["Properties"]
    assert p["DBInstanceClass"] == want["class"]
    assert p["MultiAZ"] is want["multi_az"]
    assert p["DeletionProtection"] is want["retain"]
    policy = "Snapshot" if want["retain"] else "Delete"
    assert (instance["DeletionPolicy"], instance["UpdateReplacePolicy"]) == (policy, policy)
    assert p["BackupRetentionPeriod"] == want["backup_days"]
    assert p["MaxAllocatedStorage"] == want["max_storage"]
    assert p["EngineVersion"] == parameter_files[env]["Parameters"]["DatabaseEngineVersion"]
    assert p["DBInstanceIdentifier"] == {"Fn::Sub": INSTANCE_NAME}
    assert "DBSnapshotIdentifier" not in p
    assert p["MasterUsername"] == "playback_admin"


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_small_environments_have_no_insights_properties(live, env):
    p = live[env]["resources"]["DatabaseInstance"]["Properties"]
    # db.t3.small does not support Performance Insights: any of these would fail the create.
    assert p["EnablePerformanceInsights"] is False
    assert [k for k in INSIGHTS_PROPERTIES[1:] if k in p] == []


def test_prod_has_standard_database_insights_encrypted_with_the_data_key(live):
    p = live["prod"]["resources"]["DatabaseInstance"]["Properties"]
    assert {k: p[k] for k in INSIGHTS_PROPERTIES} == {
        "EnablePerformanceInsights": True,
        "DatabaseInsightsMode": "standard",
        "PerformanceInsightsKMSKeyId": DATA_KEY,
        "PerformanceInsightsRetentionPeriod": 7,
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_proxy_exists_only_where_enabled(t, live, env):
    conditional = {n for n, r in t["Resources"].items() if r.get("Condition") == "UseDatabaseProxy"}
    assert conditional == PROXY_RESOURCES
    assert all(t["Resources"][n]["Condition"] == "UseDatabaseProxy" for n in PROXY_RESOURCES)
    present = PROXY_RESOURCES & set(live[env]["resources"])
    assert present == (PROXY_RESOURCES if EXPECTED[env]["proxy"] else set())


@pytest.mark.parametrize(
    ("env", "endpoint"),
    [
        ("dev", getatt("DatabaseInstance", "Endpoint.Address")),
        ("staging", getatt("DatabaseInstance", "Endpoint.Address")),
        ("prod", getatt("DatabaseProxy", "Endpoint")),
    ],
)
def test_database_endpoint_is_the_proxy_where_there_is_one(live, env, endpoint):
    assert live[env]["outputs"]["DatabaseEndpoint"]["Value"] == endpoint


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stateful_resources_per_environment(t, live, env):
    stateful = {n for n, r in t["Resources"].items() if "DeletionPolicy" in r}
    assert stateful == {"DatabaseInstance", "DatabaseBackupVault", *LOG_GROUPS.values(), *SECRETS}
    for name in stateful:
        r = t["Resources"][name]
        assert r["UpdateReplacePolicy"] == r["DeletionPolicy"], name
    resources = live[env]["resources"]
    kept = "Retain" if EXPECTED[env]["retain"] else "Delete"
    expected = {
        "DatabaseInstance": "Snapshot" if EXPECTED[env]["retain"] else "Delete",
        **dict.fromkeys([*LOG_GROUPS.values(), *SECRETS], kept),
    }
    if env == "prod":  # the only environment with a backup plan
        expected["DatabaseBackupVault"] = "Retain"
    assert {n: resources[n]["DeletionPolicy"] for n in stateful if n in resources} == expected


# --- parameter group -------------------------------------------------------------------------


def test_parameter_group_is_mysql_84_utf8mb4_tls_only_with_slow_query_log(t):
    assert list(resources_of_type(t, "AWS::RDS::DBParameterGroup")) == ["DatabaseParameterGroup"]
    p = props(t, "DatabaseParameterGroup")
    assert p["Family"] == "mysql8.4"
    assert p["Parameters"] == {
        "character_set_server": "utf8mb4",
        "collation_server": "utf8mb4_0900_ai_ci",
        "require_secure_transport": "1",
        "local_infile": "1",  # the importer's LOAD DATA LOCAL INFILE
        "slow_query_log": "1",
        "long_query_time": ref("DatabaseSlowQuerySeconds"),
        "log_output": "FILE",
        "max_connections": "{DBInstanceClassMemory/12582880}",
        "wait_timeout": "600",
        "interactive_timeout": "600",
        "innodb_lock_wait_timeout": "20",
        "max_execution_time": "30000",
    }


# --- log groups ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "title"), LOG_GROUPS.items())
def test_log_group_is_the_one_rds_exports_to_encrypted_and_expiring(t, kind, title):
    resource = t["Resources"][title]
    assert resource["Type"] == "AWS::Logs::LogGroup"
    p = resource["Properties"]
    assert p["LogGroupName"] == {"Fn::Sub": f"/aws/rds/instance/{INSTANCE_NAME}/{kind}"}
    assert p["KmsKeyId"] == ref("LogsKeyArn")
    assert p["RetentionInDays"] == ref("DatabaseLogRetentionDays")
    assert resource["DeletionPolicy"] == retained_if("Retain")
    assert resource["UpdateReplacePolicy"] == retained_if("Retain")


def test_log_group_names_share_the_instance_name(t):
    """RDS writes to /aws/rds/instance/<DBInstanceIdentifier>/<log>: same Sub, same name."""
    instance = props(t, "DatabaseInstance")["DBInstanceIdentifier"]["Fn::Sub"]
    for kind, title in LOG_GROUPS.items():
        name = props(t, title)["LogGroupName"]["Fn::Sub"]
        assert name == f"/aws/rds/instance/{instance}/{kind}"
    assert set(props(t, "DatabaseInstance")["EnableCloudwatchLogsExports"]) == set(LOG_GROUPS)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_log_retention_per_environment(live, env):
    for title in LOG_GROUPS.values():
        p = live[env]["resources"][title]["Properties"]
        assert p["RetentionInDays"] == EXPECTED[env]["log_days"]


# --- secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("title", "username"), SECRETS.items())
def test_user_secret_is_generated_encrypted_and_retained(t, title, username):
    resource = t["Resources"][title]
    assert resource["Type"] == "AWS::SecretsManager::Secret"
    p = resource["Properties"]
    assert p["KmsKeyId"] == DATA_KEY
    assert "SecretString" not in p
    generate = p["GenerateSecretString"]
    if title in ROTATED:
        # The alternating-users rotation function signs in with the secret `masterarn` names.
        assert generate["SecretStringTemplate"] == {
            "Fn::Sub": [
                f'{{"username": "{username}", "masterarn": "${{MasterSecretArn}}"}}',
                {
                    "MasterSecretArn": {
                        "Fn::GetAtt": ["DatabaseInstance", "MasterUserSecret.SecretArn"]
                    }
                },
            ]
        }
    else:
        assert generate["SecretStringTemplate"] == f'{{"username": "{username}"}}'
    assert generate["GenerateStringKey"] == "password"
    assert generate["PasswordLength"] >= 32
    assert set(generate) == {
        "SecretStringTemplate",
        "GenerateStringKey",
        "PasswordLength",
        "ExcludeCharacters",
    }
    assert {'"', "'", "@", "/", "\\", "`"} <= set(generate["ExcludeCharacters"])
    assert resource["DeletionPolicy"] == retained_if("Retain")
    assert resource["UpdateReplacePolicy"] == retained_if("Retain")


@pytest.mark.parametrize("title", SECRETS)
def test_user_secret_is_attached_to_the_instance(t, title):
    attachment = t["Resources"][f"{title}Attachment"]
    assert attachment["Type"] == "AWS::SecretsManager::SecretTargetAttachment"
    assert attachment["Properties"] == {
        "SecretId": ref(title),
        "TargetId": ref("DatabaseInstance"),
        "TargetType": "AWS::RDS::DBInstance",
    }


def test_only_the_three_user_secrets_and_their_attachments(t):
    assert set(resources_of_type(t, "AWS::SecretsManager::Secret")) == set(SECRETS)
    assert set(resources_of_type(t, "AWS::SecretsManager::SecretTargetAttachment")) == {
        f"{s}Attachment" for s in SECRETS
    }


# --- no secret material ----------------------------------------------------------------------

PASSWORD_PROPERTY = re.compile("(?i)passw")
# Properties whose name says "password" but whose value is no secret, and the values allowed.
PASSWORD_SETTINGS = {
    "ManageMasterUserPassword": lambda value: value is True,
    "ClientPasswordAuthType": lambda value: value == "MYSQL_CACHING_SHA2_PASSWORD",
    "PasswordLength": lambda value: isinstance(value, int) and value >= 32,
}


def test_no_password_property_holds_a_literal(t):
    found = list(properties_named(t, PASSWORD_PROPERTY))
    assert {key for _, key, _ in found} == set(PASSWORD_SETTINGS)  # the test sees them
    literal = [
        (path, value)
        for path, key, value in found
        if not PASSWORD_SETTINGS.get(key, lambda _: False)(value)
        and not (isinstance(value, str) and value.startswith("{{resolve:secretsmanager:"))
    ]
    assert literal == []
    assert [n for n in t["Parameters"] if PASSWORD_PROPERTY.search(n)] == []


def test_no_value_in_the_template_looks_like_a_secret(t):
    scanned = list(strings(t))
    assert len(scanned) > 300
    assert [(path, s) for path, s in scanned if looks_like_a_secret(s)] == []


def test_no_value_in_a_parameter_file_looks_like_a_secret(parameter_files):
    scanned = list(strings(parameter_files))
    assert len(scanned) > 3 * 40
    assert [(path, s) for path, s in scanned if looks_like_a_secret(s)] == []
    names = {n for f in parameter_files.values() for n in f["Parameters"]}
    assert [
        n for n in names if re.search("(?i)passw|token|secret(?!smanager|rotation|arn)", n)
    ] == []


@pytest.mark.parametrize(
    "text",
    [
        "password=hunter2",
        "DB_PASSWORD: s3cr3t",
        "mysql://pb_app:hunter2@db.internal:3306/playback",
        "AKIAIOSFODNN7EXAMPLE",
        "Zq3vR8tXw1Lk9Pm2/Hn7Yb4Cd6Fg0Js5+Ua8Ee2Wi",
        "xK9#mQ2$vL8@pR5!wN3&tZ7^",
        "q8Zr1T0vYb5Nc3Xw7Ld2Kp9S",
        "7f3a9c2e1b4d8f6a0e5c3b9d2a7f1e4c",
        "-----BEGIN RSA PRIVATE KEY-----",
    ],
)
def test_the_secret_detector_finds_secrets(text):
    assert looks_like_a_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        "{DBInstanceClassMemory/12582880}",
        "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
        "MYSQL_CACHING_SHA2_PASSWORD",
        "/aws/rds/instance/baseball-playback-${EnvironmentName}-${DatabaseGeneration}/slowquery",
        '{"username": "pb_app"}',
        "10.22.192.0/20,10.22.208.0/20,10.22.224.0/20",
        "us-east-1a,us-east-1b,us-east-1c",
        "List<AWS::EC2::Subnet::Id>",
        "^([A-Za-z][A-Za-z0-9:/._-]{0,254})?$",
        "Let RDS Proxy read the secret: GetSecretValue on DatabaseAppSecret",
    ],
)
def test_the_secret_detector_passes_ordinary_values(text):
    assert not looks_like_a_secret(text)


def test_outputs_expose_secret_arns_never_secret_values(t):
    for name, output in t["Outputs"].items():
        text = str(output["Value"])
        assert "resolve:secretsmanager" not in text, name
        assert "SecretString" not in text, name


# --- proxy -----------------------------------------------------------------------------------


def test_proxy_requires_tls_and_authenticates_with_the_app_secret(t):
    p = props(t, "DatabaseProxy")
    assert p["EngineFamily"] == "MYSQL"
    assert p["RequireTLS"] is True
    assert p["DebugLogging"] is False  # it would log SQL text
    assert p["RoleArn"] == getatt("DatabaseProxyRole", "Arn")
    assert p["Auth"] == [
        {
            "AuthScheme": "SECRETS",
            "SecretArn": ref("DatabaseAppSecret"),
            "IAMAuth": "DISABLED",
            "ClientPasswordAuthType": "MYSQL_CACHING_SHA2_PASSWORD",
        }
    ]
    assert p["VpcSubnetIds"] == ref("PrivateAppSubnetIds")
    assert p["VpcSecurityGroupIds"] == [ref("DatabaseProxySecurityGroupId")]
    assert p["DBProxyName"] == {"Fn::Sub": "baseball-playback-${EnvironmentName}"}


def test_proxy_role_trusts_only_rds_proxies_of_this_account(t):
    trust = props(t, "DatabaseProxyRole")["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["rds.amazonaws.com"]},
            "Action": ["sts:AssumeRole"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                "ArnLike": {
                    "aws:SourceArn": {
                        "Fn::Sub": "arn:${AWS::Partition}:rds:${AWS::Region}"
                        ":${AWS::AccountId}:db-proxy:*"
                    }
                },
            },
        }
    ]


def test_proxy_role_may_read_only_the_app_secret(t):
    role = props(t, "DatabaseProxyRole")
    assert "ManagedPolicyArns" not in role
    [policy] = role["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": [ref("DatabaseAppSecret")],
        },
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [DATA_KEY],
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}
                }
            },
        },
    ]
    assert "DatabaseMigrationSecret" not in str(role)


def test_proxy_targets_the_instance_with_a_bounded_pool(t):
    p = props(t, "DatabaseProxyTargetGroup")
    assert p["DBProxyName"] == ref("DatabaseProxy")
    assert p["TargetGroupName"] == "default"
    assert p["DBInstanceIdentifiers"] == [ref("DatabaseInstance")]
    pool = p["ConnectionPoolConfigurationInfo"]
    assert 0 < pool["MaxIdleConnectionsPercent"] <= pool["MaxConnectionsPercent"] < 100
    assert pool["ConnectionBorrowTimeout"] > 0


def test_no_iam_statement_uses_a_wildcard(t):
    for name, role in resources_of_type(t, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow", name
                assert all("*" not in a for a in statement["Action"]), name
                assert "*" not in statement["Resource"], name
    assert set(resources_of_type(t, "AWS::IAM::Role")) == {
        "DatabaseMonitoringRole",
        "DatabaseProxyRole",
        "DatabaseBackupRole",  # AWS managed policies only, asserted in test_backup.py
    }


# --- alarms ----------------------------------------------------------------------------------


SIGNALS = {"DatabaseCpuAlarm", "DatabaseReadLatencyAlarm", "DatabaseWriteLatencyAlarm"}


def test_a_strained_database_pages_when_cpu_and_latency_agree(t):
    composite = props(t, "DatabaseStrainedAlarm")
    assert composite["AlarmRule"] == {
        "Fn::Sub": 'ALARM("${DatabaseCpuAlarm}") AND '
        '(ALARM("${DatabaseReadLatencyAlarm}") OR ALARM("${DatabaseWriteLatencyAlarm}"))'
    }
    assert composite["AlarmActions"] == composite["OKActions"] == TOPIC
    assert "Check" in composite["AlarmDescription"]
    assert list(resources_of_type(t, "AWS::CloudWatch::CompositeAlarm")) == [
        "DatabaseStrainedAlarm"
    ]


def test_exactly_the_database_alarms(t):
    assert set(resources_of_type(t, "AWS::CloudWatch::Alarm")) == {
        *ALARMS,
        "DatabaseProxyClientConnectionsAlarm",
    }


@pytest.mark.parametrize(("title", "spec"), ALARMS.items())
def test_instance_alarm(t, title, spec):
    metric, comparison, threshold = spec
    p = props(t, title)
    assert p["Namespace"] == "AWS/RDS"
    assert p["MetricName"] == metric
    assert p["Dimensions"] == [{"Name": "DBInstanceIdentifier", "Value": ref("DatabaseInstance")}]
    assert p["Threshold"] == ref(threshold)
    assert p["ComparisonOperator"] == comparison
    if title in SIGNALS:  # the composite's inputs page nobody alone
        assert "AlarmActions" not in p and "OKActions" not in p
    else:
        assert p["AlarmActions"] == p["OKActions"] == TOPIC
    assert p["Statistic"] == "Average"
    assert p["Period"] == 300
    assert 1 <= p["DatapointsToAlarm"] <= p["EvaluationPeriods"]
    assert p["AlarmDescription"].strip()
    assert "Check" in p["AlarmDescription"]  # says what to look at first
    assert threshold in t["Parameters"]


def test_proxy_client_connections_alarm(t):
    p = props(t, "DatabaseProxyClientConnectionsAlarm")
    assert p["Namespace"] == "AWS/RDS"
    assert p["MetricName"] == "ClientConnections"
    assert p["Dimensions"] == [{"Name": "ProxyName", "Value": ref("DatabaseProxy")}]
    assert p["ComparisonOperator"] == "GreaterThanThreshold"
    assert p["Threshold"] == ref("DatabaseProxyClientsAlarmCount")
    assert p["AlarmActions"] == TOPIC
    assert p["OKActions"] == TOPIC
    assert "Check" in p["AlarmDescription"]


def test_alarm_descriptions_are_distinct(t):
    alarms = resources_of_type(t, "AWS::CloudWatch::Alarm").values()
    descriptions = [a["Properties"]["AlarmDescription"] for a in alarms]
    assert len(set(descriptions)) == len(descriptions)


def max_connections(t: dict, instance_class: str) -> int:
    """What the parameter group's max_connections formula gives for a class, taking
    DBInstanceClassMemory as 90% of the class's memory (the OS and RDS keep the rest)."""
    formula = props(t, "DatabaseParameterGroup")["Parameters"]["max_connections"]
    divisor = int(re.fullmatch(r"\{DBInstanceClassMemory/(\d+)\}", formula)[1])
    return int(CLASS_MEMORY_GIB[instance_class] * GIB * 0.9) // divisor


def test_max_connections_formula_per_class(t):
    assert max_connections(t, "db.t3.small") == 153
    assert max_connections(t, "db.m7g.large") == 614


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarm_thresholds_per_environment(t, live, env):
    resources = live[env]["resources"]
    thresholds = {title: resources[title]["Properties"]["Threshold"] for title in ALARMS}
    connections = max_connections(t, EXPECTED[env]["class"]) * 80 // 100
    assert str(connections) == EXPECTED[env]["connections_alarm"]
    assert thresholds == {
        "DatabaseCpuAlarm": "80",
        "DatabaseFreeableMemoryAlarm": str(CLASS_MEMORY_GIB[EXPECTED[env]["class"]] * GIB // 10),
        "DatabaseFreeStorageAlarm": str(2 * GIB),
        "DatabaseConnectionsAlarm": str(connections),
        "DatabaseReadLatencyAlarm": "0.02",
        "DatabaseWriteLatencyAlarm": "0.05",
    }
    # Each alarm must be able to fire before the resource is exhausted.
    memory = CLASS_MEMORY_GIB[EXPECTED[env]["class"]] * GIB
    assert 0 < int(thresholds["DatabaseFreeableMemoryAlarm"]) < memory
    storage = int(resources["DatabaseInstance"]["Properties"]["AllocatedStorage"]) * GIB
    assert 0 < int(thresholds["DatabaseFreeStorageAlarm"]) < storage
    if EXPECTED[env]["proxy"]:
        proxy_alarm = resources["DatabaseProxyClientConnectionsAlarm"]["Properties"]
        assert proxy_alarm["Threshold"] == "200"  # prod: 20 tasks x a Knex pool of 10


# --- outputs and tags ------------------------------------------------------------------------


def test_outputs(t):
    assert {name: o["Value"] for name, o in t["Outputs"].items()} == {
        "DatabaseInstanceId": ref("DatabaseInstance"),
        "DatabaseEndpoint": {
            "Fn::If": [
                "UseDatabaseProxy",
                getatt("DatabaseProxy", "Endpoint"),
                getatt("DatabaseInstance", "Endpoint.Address"),
            ]
        },
        "DatabaseInstanceHost": getatt("DatabaseInstance", "Endpoint.Address"),
        "DatabasePort": getatt("DatabaseInstance", "Endpoint.Port"),
        "DatabaseMasterSecretArn": getatt("DatabaseInstance", "MasterUserSecret.SecretArn"),
        "DatabaseAppSecretArn": ref("DatabaseAppSecret"),
        "DatabaseMigrationSecretArn": ref("DatabaseMigrationSecret"),
        "DatabaseReportingSecretArn": ref("DatabaseReportingSecret"),
        "BackupVaultName": {"Fn::If": ["UseBackupPlan", ref("DatabaseBackupVault"), ""]},
        "CacheUrl": {
            "Fn::If": [
                "UseCache",
                {
                    "Fn::Sub": "rediss://${NarrationCache.Endpoint.Address}:${NarrationCache.Endpoint.Port}"
                },
                "",
            ]
        },
    }


def test_every_taggable_resource_has_the_component_tag(template, t):
    taggable = [name for name, r in template.resources.items() if "Tags" in r.props]
    # 2 log groups, subnet and parameter groups, 2 roles, instance, 3 secrets, proxy, target
    # group, 7 alarms, the backup role, the narration cache; the secret attachments take no
    # tags, the backup vault and plan take theirs as a map and get them from the stack; the
    # composite alarm.
    assert len(taggable) == 22
    for name in taggable:
        tags = t["Resources"][name]["Properties"]["Tags"]
        assert [tag for tag in tags if tag["Key"] == "Component"] == [
            {"Key": "Component", "Value": "data"}
        ], name


# --- narration cache -------------------------------------------------------------------------


def test_narration_cache_is_valkey_serverless_encrypted_and_capped(t):
    cache = t["Resources"]["NarrationCache"]
    assert cache["Condition"] == "UseCache"
    assert "DeletionPolicy" not in cache  # a cache: the table and OpenAI give it all again
    p = cache["Properties"]
    assert (p["Engine"], p["MajorEngineVersion"]) == ("valkey", "8")
    assert p["KmsKeyId"] == ref("DataKeyArn")
    assert p["SecurityGroupIds"] == [ref("CacheSecurityGroupId")]
    assert p["SubnetIds"] == ref("PrivateAppSubnetIds")
    assert p["CacheUsageLimits"] == {
        "DataStorage": {"Maximum": 1, "Unit": "GB"},
        "ECPUPerSecond": {"Maximum": 5000},
    }
    assert p["SnapshotRetentionLimit"] == 0
    # A third AZ changes the subnets, which replace the cache: the name changes with them.
    assert p["ServerlessCacheName"] == {"Fn::Sub": "playback-${EnvironmentName}-cache-${AzCount}az"}


@pytest.mark.parametrize(("env", "cached"), [("dev", False), ("staging", True), ("prod", True)])
def test_the_cache_exists_where_the_environment_enables_it(
    t, parameter_files, as_deployed, env, cached
):
    d = as_deployed(t, parameter_files[env]["Parameters"] | {"DatabaseInsightsMode": "off"})
    assert ("NarrationCache" in d.resources) is cached
    assert (d.outputs["CacheUrl"]["Value"] == "") is not cached
