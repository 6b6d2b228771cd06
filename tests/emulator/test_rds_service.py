"""Deploy RDS stacks into ministack with the plugin, and read them back through the APIs.

RDS Proxy and its target group (the plugin's provisioners), and the data tier as the data
stack builds it: a MySQL 8.4 instance with an RDS-managed master secret, a generated app
secret attached to it, the proxy, alarms, the alarm topic, log groups and the monitoring
role, in a nested stack under AWS::LanguageExtensions. One emulator serves the module;
each test deploys its own stacks.
"""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import (
    client,
    deploy,
    failure_reasons,
    nested_stack_id,
    new_stack_name,
    outputs_of,
    put_template,
    wait_stack,
)
from tests.stacks.helpers import getatt, ref

pytestmark = pytest.mark.emulator

ENGINE_VERSION = "8.4.7"
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
PARAMETERS = {
    "character_set_server": "utf8mb4",
    "collation_server": "utf8mb4_0900_ai_ci",
    "require_secure_transport": "1",
    "slow_query_log": "1",
    "long_query_time": "1.5",
    "log_output": "FILE",
    "max_connections": "{DBInstanceClassMemory/12582880}",
    "wait_timeout": "600",
    "interactive_timeout": "600",
}
PROTECTED = "Cannot delete protected DB Instance"
EXCLUDED = "\"'@/\\`:;%&?#"
PROXY_SG = {"Fn::GetAtt": ["ProxySg", "GroupId"]}


def template(resources, outputs, **sections) -> str:
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            **sections,
            "Resources": resources,
            "Outputs": {name: {"Value": value} for name, value in outputs.items()},
        }
    )


def network() -> dict:
    """A VPC with two data and two app subnets (in two AZs), the database and proxy security
    groups, and two KMS keys."""
    vpc = ref("Vpc")
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.60.0.0/16"}},
        "DbSg": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "database", "VpcId": vpc},
        },
        "ProxySg": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "proxy", "VpcId": vpc},
        },
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "OtherKey": {"Type": "AWS::KMS::Key", "Properties": {}},
    }
    for number, (tier, az) in enumerate(
        [("Data", "a"), ("Data", "b"), ("App", "a"), ("App", "b")], start=1
    ):
        resources[f"{tier}Subnet{az.upper()}"] = {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": vpc,
                "CidrBlock": f"10.60.{number}.0/24",
                "AvailabilityZone": f"us-east-1{az}",
            },
        }
    return resources


def instance(**properties) -> dict:
    """A MySQL 8.4 instance in the data subnets (the template's SubnetGroup)."""
    return {
        "Type": "AWS::RDS::DBInstance",
        "DeletionPolicy": "Delete",
        "Properties": {
            "Engine": "mysql",
            "EngineVersion": ENGINE_VERSION,
            "DBInstanceClass": "db.t3.small",
            "AllocatedStorage": "20",
            "MasterUsername": "playback_admin",
            "ManageMasterUserPassword": True,
            "DBSubnetGroupName": ref("SubnetGroup"),
            "VPCSecurityGroups": [getatt("DbSg", "GroupId")],
            **properties,
        },
    }


def subnet_group(subnets) -> dict:
    return {
        "Type": "AWS::RDS::DBSubnetGroup",
        "Properties": {"DBSubnetGroupDescription": "data subnets", "SubnetIds": subnets},
    }


def app_secret(username="playback_app", **properties) -> dict:
    return {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            **properties,
            "GenerateSecretString": {
                "SecretStringTemplate": json.dumps({"username": username}),
                "GenerateStringKey": "password",
                "PasswordLength": 32,
                "ExcludeCharacters": EXCLUDED,
            },
        },
    }


def proxy_role(secret) -> dict:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "rds.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "read-app-secret",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "secretsmanager:GetSecretValue",
                                "Resource": ref(secret),
                            }
                        ],
                    },
                }
            ],
        },
    }


def proxy(
    name,
    secret,
    subnets,
    security_group=PROXY_SG,
    *,
    idle_timeout=1800,
    require_tls=True,
    tag="blue",
) -> dict:
    return {
        "Type": "AWS::RDS::DBProxy",
        "Properties": {
            "DBProxyName": name,
            "EngineFamily": "MYSQL",
            "RequireTLS": require_tls,
            "IdleClientTimeout": idle_timeout,
            "DebugLogging": False,
            "RoleArn": getatt("ProxyRole", "Arn"),
            "Auth": [
                {
                    "AuthScheme": "SECRETS",
                    "SecretArn": ref(secret),
                    "IAMAuth": "DISABLED",
                    "ClientPasswordAuthType": "MYSQL_CACHING_SHA2_PASSWORD",
                }
            ],
            "VpcSubnetIds": subnets,
            "VpcSecurityGroupIds": [security_group],
            "Tags": [{"Key": "Color", "Value": tag}],
        },
    }


def target_group(target, *, max_connections=90, max_idle=50, borrow_timeout=120) -> dict:
    return {
        "Type": "AWS::RDS::DBProxyTargetGroup",
        "Properties": {
            "DBProxyName": ref("Proxy"),
            "TargetGroupName": "default",
            "DBInstanceIdentifiers": [ref(target)],
            "ConnectionPoolConfigurationInfo": {
                "MaxConnectionsPercent": max_connections,
                "MaxIdleConnectionsPercent": max_idle,
                "ConnectionBorrowTimeout": borrow_timeout,
            },
        },
    }


# --- RDS Proxy and its target group -----------------------------------------------


def proxy_template(
    *,
    name_suffix="proxy",
    subnets=("AppSubnetA", "AppSubnetB"),
    idle_timeout=1800,
    require_tls=True,
    tag="blue",
    target="DbA",
    max_connections=90,
    max_idle=50,
) -> str:
    """Two instances, the app secret, and a proxy whose target group points at ``target``."""
    resources = {
        **network(),
        "SubnetGroup": subnet_group([ref("DataSubnetA"), ref("DataSubnetB")]),
        "DbA": instance(),
        "DbB": instance(),
        "AppSecret": app_secret(),
        "ProxyRole": proxy_role("AppSecret"),
        "Proxy": proxy(
            {"Fn::Sub": f"${{AWS::StackName}}-{name_suffix}"},
            "AppSecret",
            [ref(s) for s in subnets],
            idle_timeout=idle_timeout,
            require_tls=require_tls,
            tag=tag,
        ),
        "TargetGroup": target_group(target, max_connections=max_connections, max_idle=max_idle),
    }
    outputs = {
        "ProxyName": ref("Proxy"),
        "ProxyArn": getatt("Proxy", "DBProxyArn"),
        "ProxyEndpoint": getatt("Proxy", "Endpoint"),
        "ProxyVpcId": getatt("Proxy", "VpcId"),
        "TargetGroupRef": ref("TargetGroup"),
        "TargetGroupArn": getatt("TargetGroup", "TargetGroupArn"),
        "VpcId": ref("Vpc"),
        "AppSubnets": {"Fn::Join": [",", [ref("AppSubnetA"), ref("AppSubnetB")]]},
        "ProxySgId": getatt("ProxySg", "GroupId"),
        "RoleArn": getatt("ProxyRole", "Arn"),
        "AppSecretArn": ref("AppSecret"),
        "DbA": ref("DbA"),
        "DbB": ref("DbB"),
        "DbAAddress": getatt("DbA", "Endpoint.Address"),
        "DbBAddress": getatt("DbB", "Endpoint.Address"),
    }
    return template(resources, outputs)


def holder_template(url) -> str:
    """A root stack holding the template at ``url`` as the nested stack Inner."""
    return template(
        {"Inner": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": url}}}, {}
    )


def _create(cfn, template_bucket, nested, body) -> tuple[str, str, dict]:
    """Create ``body`` as a stack, or nested in one: the stack's id, the id of the stack
    holding the resources, and that stack's outputs."""
    name = new_stack_name()
    if nested:
        body = holder_template(put_template(template_bucket, f"{name}.json", body))
    stack_id = cfn.create_stack(StackName=name, TemplateBody=body)["StackId"]
    stack = wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")
    holder_id = nested_stack_id(cfn, stack_id, "Inner") if nested else stack_id
    reasons = failure_reasons(cfn, stack_id) + failure_reasons(cfn, holder_id)
    assert stack["StackStatus"] == "CREATE_COMPLETE", reasons
    return stack_id, holder_id, outputs_of(cfn.describe_stacks(StackName=holder_id)["Stacks"][0])


def _update(cfn, template_bucket, stack_id, holder_id, body, expected="UPDATE_COMPLETE"):
    """Update the stack (a nested one through a new template URL) and check it ends
    ``expected``: the holder's outputs and the failure reasons of both stacks."""
    if holder_id != stack_id:
        key = f"{holder_id.split('/')[1]}-{time.monotonic_ns()}.json"
        body = holder_template(put_template(template_bucket, key, body))
    cfn.update_stack(StackName=stack_id, TemplateBody=body)
    stack = wait_stack(cfn, stack_id, "UPDATE_IN_PROGRESS")
    if stack["StackStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS":
        stack = wait_stack(cfn, stack_id, "UPDATE_ROLLBACK_IN_PROGRESS")
    reasons = failure_reasons(cfn, stack_id) + failure_reasons(cfn, holder_id)
    assert stack["StackStatus"] == expected, reasons
    return outputs_of(cfn.describe_stacks(StackName=holder_id)["Stacks"][0]), reasons


def _delete(cfn, stack_id) -> dict:
    cfn.delete_stack(StackName=stack_id)
    return wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")


def described_proxy(rds, name) -> dict:
    (found,) = rds.describe_db_proxies(DBProxyName=name)["DBProxies"]
    return found


def pool(rds, name) -> dict:
    (group,) = rds.describe_db_proxy_target_groups(DBProxyName=name)["TargetGroups"]
    config = group["ConnectionPoolConfig"]
    return {
        "TargetGroupArn": group["TargetGroupArn"],
        "TargetGroupName": group["TargetGroupName"],
        **{k: config[k] for k in ("MaxConnectionsPercent", "MaxIdleConnectionsPercent")},
        "ConnectionBorrowTimeout": config["ConnectionBorrowTimeout"],
    }


def targets(rds, name) -> list[tuple]:
    found = rds.describe_db_proxy_targets(DBProxyName=name, TargetGroupName="default")["Targets"]
    return [
        (t["RdsResourceId"], t["Type"], t["Endpoint"], t["Port"], t["TargetHealth"]["State"])
        for t in found
    ]


def proxy_tags(rds, arn) -> dict:
    tags = rds.list_tags_for_resource(ResourceName=arn)["TagList"]
    return {t["Key"]: t["Value"] for t in tags if not t["Key"].startswith("aws:")}


def proxy_is_gone(rds, name) -> bool:
    with pytest.raises(ClientError) as error:
        rds.describe_db_proxies(DBProxyName=name)
    return error.value.response["Error"]["Code"] == "DBProxyNotFoundFault"


@pytest.mark.parametrize("nested", [False, True], ids=["stack", "nested-stack"])
def test_proxy_and_target_group_are_created_updated_in_place_and_deleted(
    cfn, rds, template_bucket, nested
):
    stack_id, holder_id, out = _create(cfn, template_bucket, nested, proxy_template())
    name = out["ProxyName"]
    assert name == f"{holder_id.split('/')[1]}-proxy"

    found = described_proxy(rds, name)
    assert (found["DBProxyArn"], found["Endpoint"], found["VpcId"]) == (
        out["ProxyArn"],
        out["ProxyEndpoint"],
        out["VpcId"],
    )
    assert out["ProxyVpcId"] == out["VpcId"]
    assert found["Status"] == "available"
    assert found["EngineFamily"] == "MYSQL"
    assert (found["RequireTLS"], found["IdleClientTimeout"], found["DebugLogging"]) == (
        True,
        1800,
        False,
    )
    assert found["RoleArn"] == out["RoleArn"]
    assert sorted(found["VpcSubnetIds"]) == sorted(out["AppSubnets"].split(","))
    assert found["VpcSecurityGroupIds"] == [out["ProxySgId"]]
    # The secret's Ref is its ARN, as on AWS (ministack alone gives the name).
    assert out["AppSecretArn"].startswith("arn:aws:secretsmanager:")
    assert found["Auth"] == [
        {
            "AuthScheme": "SECRETS",
            "SecretArn": out["AppSecretArn"],
            "IAMAuth": "DISABLED",
            "ClientPasswordAuthType": "MYSQL_CACHING_SHA2_PASSWORD",
        }
    ]
    assert proxy_tags(rds, out["ProxyArn"]) == {"Color": "blue"}
    all_tags = rds.list_tags_for_resource(ResourceName=out["ProxyArn"])["TagList"]
    assert {"Key": "aws:cloudformation:logical-id", "Value": "Proxy"} in all_tags

    assert out["TargetGroupRef"] == out["TargetGroupArn"]
    assert pool(rds, name) == {
        "TargetGroupArn": out["TargetGroupArn"],
        "TargetGroupName": "default",
        "MaxConnectionsPercent": 90,
        "MaxIdleConnectionsPercent": 50,
        "ConnectionBorrowTimeout": 120,
    }
    assert targets(rds, name) == [
        (out["DbA"], "RDS_INSTANCE", out["DbAAddress"], 3306, "AVAILABLE")
    ]

    # In place: the same proxy and target group, with the new settings and target.
    updated, _ = _update(
        cfn,
        template_bucket,
        stack_id,
        holder_id,
        proxy_template(
            idle_timeout=900,
            require_tls=False,
            tag="green",
            target="DbB",
            max_connections=75,
            max_idle=30,
        ),
    )
    assert (updated["ProxyArn"], updated["TargetGroupArn"]) == (
        out["ProxyArn"],
        out["TargetGroupArn"],
    )
    found = described_proxy(rds, name)
    assert (found["RequireTLS"], found["IdleClientTimeout"]) == (False, 900)
    assert proxy_tags(rds, out["ProxyArn"]) == {"Color": "green"}
    assert pool(rds, name)["MaxConnectionsPercent"] == 75
    assert pool(rds, name)["MaxIdleConnectionsPercent"] == 30
    assert targets(rds, name) == [
        (out["DbB"], "RDS_INSTANCE", out["DbBAddress"], 3306, "AVAILABLE")
    ]

    assert _delete(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert proxy_is_gone(rds, name)
    remaining = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]]
    assert out["DbA"] not in remaining
    assert out["DbB"] not in remaining


def test_renamed_proxy_is_replaced_and_the_target_group_moves_to_it(cfn, rds, template_bucket):
    stack_id, _, before = _create(cfn, template_bucket, False, proxy_template())
    after, _ = _update(
        cfn, template_bucket, stack_id, stack_id, proxy_template(name_suffix="proxy-two")
    )

    assert after["ProxyName"] == before["ProxyName"] + "-two"
    assert after["ProxyArn"] != before["ProxyArn"]
    assert proxy_is_gone(rds, before["ProxyName"])
    assert pool(rds, after["ProxyName"])["TargetGroupArn"] == after["TargetGroupArn"]
    assert after["TargetGroupArn"] != before["TargetGroupArn"]
    assert [t[0] for t in targets(rds, after["ProxyName"])] == [before["DbA"]]


def test_replacing_a_proxy_under_its_name_is_refused(cfn, rds, template_bucket):
    # VpcSubnetIds is create-only: CloudFormation would need a second proxy of that name.
    stack_id, _, before = _create(cfn, template_bucket, False, proxy_template())
    moved = proxy_template(subnets=("DataSubnetA", "DataSubnetB"))
    _, reasons = _update(
        cfn, template_bucket, stack_id, stack_id, moved, "UPDATE_ROLLBACK_COMPLETE"
    )

    assert any("custom-named resource requires replacing" in r for r in reasons), reasons
    found = described_proxy(rds, before["ProxyName"])
    assert found["DBProxyArn"] == before["ProxyArn"]
    assert sorted(found["VpcSubnetIds"]) == sorted(before["AppSubnets"].split(","))


# --- The data tier, nested under AWS::LanguageExtensions ------------------------------

IF_RETAIN = {"Fn::If": ["RetainData", "Retain", "Delete"]}
IF_SNAPSHOT = {"Fn::If": ["RetainData", "Snapshot", "Delete"]}
NO_VALUE = ref("AWS::NoValue")
INSTANCE_NAME = "baseball-playback-${EnvironmentName}-${DatabaseGeneration}"


def data_template() -> str:
    """The data stack, trimmed: its parameters, conditions and every resource type, with the
    properties and policies the data stack gives them."""
    string = {"Type": "String"}
    parameters = {
        name: string
        for name in [
            "EnvironmentName",
            "DatabaseGeneration",
            "DatabaseSecurityGroupId",
            "DatabaseProxySecurityGroupId",
            "DataKeyArn",
            "LogsKeyArn",
            "RetainStatefulResources",
            "DatabaseInstanceClass",
            "DatabaseEngineVersion",
            "DatabaseMultiAz",
            "DatabaseInsightsMode",
            "EnableDatabaseProxy",
            "DatabaseSlowQuerySeconds",
            "AlarmEmail",
        ]
    }
    parameters.update(
        PrivateDataSubnetIds={"Type": "List<AWS::EC2::Subnet::Id>"},
        PrivateAppSubnetIds={"Type": "List<AWS::EC2::Subnet::Id>"},
        DatabaseAllocatedStorage={"Type": "Number"},
        DatabaseMaxAllocatedStorage={"Type": "Number"},
        DatabaseBackupRetentionDays={"Type": "Number"},
        DatabaseLogRetentionDays={"Type": "Number"},
        DatabaseSnapshotIdentifier={"Type": "String", "Default": ""},
    )
    equals = lambda name, value: {"Fn::Equals": [ref(name), value]}  # noqa: E731
    conditions = {
        "RetainData": equals("RetainStatefulResources", "true"),
        "InsightsOn": {"Fn::Not": [equals("DatabaseInsightsMode", "off")]},
        "MultiAz": equals("DatabaseMultiAz", "true"),
        "UseDatabaseProxy": equals("EnableDatabaseProxy", "true"),
        "FromSnapshot": {"Fn::Not": [equals("DatabaseSnapshotIdentifier", "")]},
    }
    insights = lambda value: {"Fn::If": ["InsightsOn", value, NO_VALUE]}  # noqa: E731
    resources = {
        f"Database{kind.title()}LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": IF_RETAIN,
            "UpdateReplacePolicy": IF_RETAIN,
            "Properties": {
                "LogGroupName": {"Fn::Sub": f"/aws/rds/instance/{INSTANCE_NAME}/{kind}"},
                "KmsKeyId": ref("LogsKeyArn"),
                "RetentionInDays": ref("DatabaseLogRetentionDays"),
            },
        }
        for kind in ("error", "slowquery")
    }
    resources.update(
        DatabaseSubnetGroup=subnet_group(ref("PrivateDataSubnetIds")),
        DatabaseParameterGroup={
            "Type": "AWS::RDS::DBParameterGroup",
            "Properties": {
                "Description": "MySQL 8.4 for the app",
                "Family": "mysql8.4",
                "Parameters": {**PARAMETERS, "long_query_time": ref("DatabaseSlowQuerySeconds")},
            },
        },
        DatabaseMonitoringRole={
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "ManagedPolicyArns": [
                    {"Fn::Sub": MONITORING_POLICY.replace(":aws:", ":${AWS::Partition}:", 1)}
                ],
            },
        },
        DatabaseInstance={
            "Type": "AWS::RDS::DBInstance",
            "DependsOn": ["DatabaseErrorLogGroup", "DatabaseSlowqueryLogGroup"],
            "DeletionPolicy": IF_SNAPSHOT,
            "UpdateReplacePolicy": IF_SNAPSHOT,
            "Properties": {
                "DBInstanceIdentifier": {"Fn::Sub": INSTANCE_NAME},
                "Engine": "mysql",
                "EngineVersion": ref("DatabaseEngineVersion"),
                "EngineLifecycleSupport": "open-source-rds-extended-support-disabled",
                "AutoMinorVersionUpgrade": False,
                "DBInstanceClass": ref("DatabaseInstanceClass"),
                "MultiAZ": {"Fn::If": ["MultiAz", True, False]},
                "StorageType": "gp3",
                "AllocatedStorage": ref("DatabaseAllocatedStorage"),
                "MaxAllocatedStorage": ref("DatabaseMaxAllocatedStorage"),
                "StorageEncrypted": True,
                "KmsKeyId": ref("DataKeyArn"),
                "DBSnapshotIdentifier": {
                    "Fn::If": ["FromSnapshot", ref("DatabaseSnapshotIdentifier"), NO_VALUE]
                },
                "MasterUsername": {"Fn::If": ["FromSnapshot", NO_VALUE, "playback_admin"]},
                "ManageMasterUserPassword": True,
                "MasterUserSecret": {"KmsKeyId": ref("DataKeyArn")},
                "DBSubnetGroupName": ref("DatabaseSubnetGroup"),
                "DBParameterGroupName": ref("DatabaseParameterGroup"),
                "VPCSecurityGroups": [ref("DatabaseSecurityGroupId")],
                "PubliclyAccessible": False,
                "BackupRetentionPeriod": ref("DatabaseBackupRetentionDays"),
                "PreferredBackupWindow": "03:00-03:30",
                "PreferredMaintenanceWindow": "sun:04:00-sun:04:30",
                "CopyTagsToSnapshot": True,
                "DeletionProtection": {"Fn::If": ["RetainData", True, False]},
                "EnableCloudwatchLogsExports": ["error", "slowquery"],
                "MonitoringInterval": 60,
                "MonitoringRoleArn": getatt("DatabaseMonitoringRole", "Arn"),
                "EnablePerformanceInsights": {"Fn::If": ["InsightsOn", True, False]},
                "DatabaseInsightsMode": insights(ref("DatabaseInsightsMode")),
                "PerformanceInsightsKMSKeyId": insights(ref("DataKeyArn")),
                "PerformanceInsightsRetentionPeriod": insights(7),
                "CACertificateIdentifier": "rds-ca-rsa2048-g1",
                "Tags": [{"Key": "Component", "Value": "data"}],
            },
        },
        DatabaseAppSecret={
            **app_secret(KmsKeyId=ref("DataKeyArn")),
            "DeletionPolicy": IF_RETAIN,
            "UpdateReplacePolicy": IF_RETAIN,
        },
        DatabaseAppSecretAttachment={
            "Type": "AWS::SecretsManager::SecretTargetAttachment",
            "Properties": {
                "SecretId": ref("DatabaseAppSecret"),
                "TargetId": ref("DatabaseInstance"),
                "TargetType": "AWS::RDS::DBInstance",
            },
        },
        ProxyRole={**proxy_role("DatabaseAppSecret"), "Condition": "UseDatabaseProxy"},
        Proxy={
            **proxy(
                {"Fn::Sub": "baseball-playback-${EnvironmentName}"},
                "DatabaseAppSecret",
                ref("PrivateAppSubnetIds"),
                ref("DatabaseProxySecurityGroupId"),
            ),
            "Condition": "UseDatabaseProxy",
        },
        DatabaseProxyTargetGroup={
            **target_group("DatabaseInstance"),
            "Condition": "UseDatabaseProxy",
        },
        AlarmTopic={
            "Type": "AWS::SNS::Topic",
            "Properties": {"DisplayName": "alarms", "KmsMasterKeyId": ref("LogsKeyArn")},
        },
        AlarmEmailSubscription={
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": ref("AlarmTopic"),
                "Protocol": "email",
                "Endpoint": ref("AlarmEmail"),
            },
        },
        AlarmTopicPolicy={
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [ref("AlarmTopic")],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "CloudWatchAlarmsOfThisAccount",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": ref("AlarmTopic"),
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}
                            },
                        }
                    ],
                },
            },
        },
        DatabaseCpuAlarm=alarm("CPUUtilization", "DBInstanceIdentifier", "DatabaseInstance", 80),
        DatabaseFreeStorageAlarm=alarm(
            "FreeStorageSpace", "DBInstanceIdentifier", "DatabaseInstance", 2147483648, "Less"
        ),
        DatabaseProxyClientConnectionsAlarm={
            **alarm("ClientConnections", "ProxyName", "Proxy", 500),
            "Condition": "UseDatabaseProxy",
        },
    )
    outputs = {
        "DatabaseInstanceId": ref("DatabaseInstance"),
        "DatabaseEndpoint": {
            "Fn::If": [
                "UseDatabaseProxy",
                getatt("Proxy", "Endpoint"),
                getatt("DatabaseInstance", "Endpoint.Address"),
            ]
        },
        "DatabaseAddress": getatt("DatabaseInstance", "Endpoint.Address"),
        "DatabasePort": getatt("DatabaseInstance", "Endpoint.Port"),
        "DatabaseMasterSecretArn": getatt("DatabaseInstance", "MasterUserSecret.SecretArn"),
        "DatabaseAppSecretArn": ref("DatabaseAppSecret"),
        "DatabaseParameterGroupName": ref("DatabaseParameterGroup"),
        "DatabaseSubnetGroupName": ref("DatabaseSubnetGroup"),
        "MonitoringRoleArn": getatt("DatabaseMonitoringRole", "Arn"),
        "MonitoringRoleName": ref("DatabaseMonitoringRole"),
        "AlarmTopicArn": ref("AlarmTopic"),
    }
    return template(
        resources,
        outputs,
        Transform="AWS::LanguageExtensions",
        Parameters=parameters,
        Conditions=conditions,
    )


def alarm(metric, dimension, resource, threshold, comparison="Greater") -> dict:
    topic = [ref("AlarmTopic")]
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": f"{metric} out of bounds",
            "Namespace": "AWS/RDS",
            "MetricName": metric,
            "Dimensions": [{"Name": dimension, "Value": ref(resource)}],
            "Statistic": "Average",
            "Period": 300,
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 3,
            "Threshold": threshold,
            "ComparisonOperator": f"{comparison}ThanThreshold",
            "TreatMissingData": "missing",
            "AlarmActions": topic,
            "OKActions": topic,
        },
    }


def data_root_template(url, **values) -> str:
    """The network, two keys and the data stack at ``url``, passed the network's ids and
    ``values`` as parameters."""
    join = lambda *names: {"Fn::Join": [",", [ref(n) for n in names]]}  # noqa: E731
    parameters = {
        "PrivateDataSubnetIds": join("DataSubnetA", "DataSubnetB"),
        "PrivateAppSubnetIds": join("AppSubnetA", "AppSubnetB"),
        "DatabaseSecurityGroupId": getatt("DbSg", "GroupId"),
        "DatabaseProxySecurityGroupId": getatt("ProxySg", "GroupId"),
        "DataKeyArn": getatt("Key", "Arn"),
        "LogsKeyArn": getatt("OtherKey", "Arn"),
        **values,
    }
    resources = {
        **network(),
        "Data": {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {"TemplateURL": url, "Parameters": parameters},
        },
    }
    outputs = {
        "DataKeyArn": getatt("Key", "Arn"),
        "LogsKeyArn": getatt("OtherKey", "Arn"),
        "DbSgId": getatt("DbSg", "GroupId"),
        "ProxySgId": getatt("ProxySg", "GroupId"),
        "DataSubnets": join("DataSubnetA", "DataSubnetB"),
        "AppSubnets": join("AppSubnetA", "AppSubnetB"),
        "VpcId": ref("Vpc"),
    }
    return template(resources, outputs)


PRODUCTION = {
    "RetainStatefulResources": "false",
    "DatabaseInstanceClass": "db.m7g.large",
    "DatabaseEngineVersion": ENGINE_VERSION,
    "DatabaseMultiAz": "true",
    "DatabaseInsightsMode": "standard",
    "EnableDatabaseProxy": "true",
    "DatabaseAllocatedStorage": "20",
    "DatabaseMaxAllocatedStorage": "500",
    "DatabaseBackupRetentionDays": "35",
    "DatabaseLogRetentionDays": "365",
    "DatabaseSlowQuerySeconds": "1.5",
    "DatabaseGeneration": "1",
    "AlarmEmail": "ops@example.com",
}
DEVELOPMENT = {
    **PRODUCTION,
    "DatabaseInstanceClass": "db.t3.small",
    "DatabaseMultiAz": "false",
    "DatabaseInsightsMode": "off",
    "EnableDatabaseProxy": "false",
    "DatabaseMaxAllocatedStorage": "50",
    "DatabaseBackupRetentionDays": "1",
    "DatabaseLogRetentionDays": "30",
}


def _data_tier(cfn, template_bucket, **values) -> dict:
    """Create a root stack over the data template with ``values``: its id and outputs, the
    data stack's id and outputs, and how long the create took."""
    name = new_stack_name()
    url = put_template(template_bucket, f"{name}-data.json", data_template())
    values = {"EnvironmentName": name, **values}
    started = time.monotonic()
    stack_id = cfn.create_stack(StackName=name, TemplateBody=data_root_template(url, **values))[
        "StackId"
    ]
    stack = wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")
    elapsed = time.monotonic() - started
    data_id = nested_stack_id(cfn, stack_id, "Data")
    reasons = failure_reasons(cfn, stack_id) + failure_reasons(cfn, data_id)
    assert stack["StackStatus"] == "CREATE_COMPLETE", reasons
    data = outputs_of(cfn.describe_stacks(StackName=data_id)["Stacks"][0])
    return {
        "stack_id": stack_id,
        "root": outputs_of(stack),
        "data_id": data_id,
        "data": data,
        "seconds": elapsed,
        "name": name,
    }


@pytest.fixture(scope="module")
def production(cfn, template_bucket):
    """A data tier as production has it: Multi-AZ, Database Insights, the proxy."""
    return _data_tier(cfn, template_bucket, **PRODUCTION)


def db_instance(rds, identifier) -> dict:
    (found,) = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    return found


def test_instance_has_every_setting_of_the_template(rds, production):
    root, data = production["root"], production["data"]
    db = db_instance(rds, data["DatabaseInstanceId"])

    assert db["DBInstanceIdentifier"] == f"baseball-playback-{production['name']}-1"
    # Created from CloudFormation without Docker, the instance is available at once.
    assert db["DBInstanceStatus"] == "available"
    assert production["seconds"] < 5
    assert (db["Engine"], db["EngineVersion"], db["DBInstanceClass"]) == (
        "mysql",
        ENGINE_VERSION,
        "db.m7g.large",
    )
    assert db["EngineLifecycleSupport"] == "open-source-rds-extended-support-disabled"
    assert db["AutoMinorVersionUpgrade"] is False
    assert db["MultiAZ"] is True
    assert (db["StorageType"], db["AllocatedStorage"], db["MaxAllocatedStorage"]) == (
        "gp3",
        20,
        500,
    )
    assert (db["StorageEncrypted"], db["KmsKeyId"]) == (True, root["DataKeyArn"])
    assert db["MasterUsername"] == "playback_admin"
    assert db.get("DBName", "") == ""  # RDS for MySQL creates no database unless asked
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == data["DatabaseSubnetGroupName"]
    assert db["DBSubnetGroup"]["VpcId"] == root["VpcId"]
    assert sorted(s["SubnetIdentifier"] for s in db["DBSubnetGroup"]["Subnets"]) == sorted(
        root["DataSubnets"].split(",")
    )
    assert [g["DBParameterGroupName"] for g in db["DBParameterGroups"]] == [
        data["DatabaseParameterGroupName"]
    ]
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == [root["DbSgId"]]
    assert db["PubliclyAccessible"] is False
    assert (db["BackupRetentionPeriod"], db["PreferredBackupWindow"]) == (35, "03:00-03:30")
    assert db["PreferredMaintenanceWindow"] == "sun:04:00-sun:04:30"
    assert db["CopyTagsToSnapshot"] is True
    assert db["DeletionProtection"] is False  # RetainData is off
    assert db["EnabledCloudwatchLogsExports"] == ["error", "slowquery"]
    assert (db["MonitoringInterval"], db["MonitoringRoleArn"]) == (60, data["MonitoringRoleArn"])
    assert db["EnhancedMonitoringResourceArn"].endswith(f":log-stream:{db['DbiResourceId']}")
    assert db["PerformanceInsightsEnabled"] is True
    assert db["PerformanceInsightsKMSKeyId"] == root["DataKeyArn"]
    assert db["PerformanceInsightsRetentionPeriod"] == 7
    assert db["DatabaseInsightsMode"] == "standard"
    assert db["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert {"Key": "Component", "Value": "data"} in db["TagList"]


def test_parameter_group_has_the_template_values(rds, production):
    group = production["data"]["DatabaseParameterGroupName"]
    (found,) = rds.describe_db_parameter_groups(DBParameterGroupName=group)["DBParameterGroups"]
    assert found["DBParameterGroupFamily"] == "mysql8.4"
    parameters = rds.describe_db_parameters(DBParameterGroupName=group, Source="user")
    assert {p["ParameterName"]: p["ParameterValue"] for p in parameters["Parameters"]} == PARAMETERS


def test_master_user_secret_is_kept_by_rds_with_the_data_key(rds, secrets, production):
    root, data = production["root"], production["data"]
    db = db_instance(rds, data["DatabaseInstanceId"])

    assert db["MasterUserSecret"] == {
        "SecretArn": data["DatabaseMasterSecretArn"],
        "SecretStatus": "active",
        "KmsKeyId": root["DataKeyArn"],
    }
    secret = secrets.describe_secret(SecretId=data["DatabaseMasterSecretArn"])
    assert secret["Name"].startswith("rds!db-")
    assert secret["KmsKeyId"] == root["DataKeyArn"]
    tags = {t["Key"]: t["Value"] for t in secret["Tags"]}
    assert tags["aws:rds:primaryDBInstanceArn"] == db["DBInstanceArn"]
    value = json.loads(secrets.get_secret_value(SecretId=secret["ARN"])["SecretString"])
    assert value["username"] == "playback_admin"
    assert len(value["password"]) >= 16


def test_app_secret_is_generated_and_attached_to_the_instance(rds, secrets, production):
    data = production["data"]
    db = db_instance(rds, data["DatabaseInstanceId"])

    assert data["DatabaseAppSecretArn"].startswith("arn:aws:secretsmanager:us-east-1:")
    secret = secrets.describe_secret(SecretId=data["DatabaseAppSecretArn"])
    assert secret["KmsKeyId"] == production["root"]["DataKeyArn"]
    value = json.loads(
        secrets.get_secret_value(SecretId=data["DatabaseAppSecretArn"])["SecretString"]
    )
    password = value.pop("password")
    assert len(password) == 32
    assert not set(password) & set(EXCLUDED)
    assert value == {
        "username": "playback_app",
        "engine": "mysql",
        "host": db["Endpoint"]["Address"],
        "port": 3306,
    }


def test_outputs_resolve_the_instance_and_proxy_attributes(rds, production):
    data = production["data"]
    db = db_instance(rds, data["DatabaseInstanceId"])

    assert data["DatabaseAddress"] == db["Endpoint"]["Address"]
    assert data["DatabasePort"] == "3306"
    proxy_name = f"baseball-playback-{production['name']}"
    assert data["DatabaseEndpoint"] == described_proxy(rds, proxy_name)["Endpoint"]


def test_proxy_fronts_the_instance_with_the_app_secret(rds, production):
    root, data = production["root"], production["data"]
    name = f"baseball-playback-{production['name']}"
    found = described_proxy(rds, name)

    assert [a["SecretArn"] for a in found["Auth"]] == [data["DatabaseAppSecretArn"]]
    assert (found["RequireTLS"], found["EngineFamily"]) == (True, "MYSQL")
    assert sorted(found["VpcSubnetIds"]) == sorted(root["AppSubnets"].split(","))
    assert found["VpcSecurityGroupIds"] == [root["ProxySgId"]]
    assert pool(rds, name)["MaxConnectionsPercent"] == 90
    assert targets(rds, name) == [
        (data["DatabaseInstanceId"], "RDS_INSTANCE", data["DatabaseAddress"], 3306, "AVAILABLE")
    ]


def test_alarms_topic_log_groups_and_monitoring_role(endpoint, production):
    root, data = production["root"], production["data"]
    instance_id = data["DatabaseInstanceId"]
    topic = data["AlarmTopicArn"]

    alarms = client("cloudwatch", endpoint).describe_alarms(AlarmNamePrefix=production["name"])
    found = {
        a["MetricName"]: (a["Namespace"], a["Dimensions"], a["AlarmActions"], a["OKActions"])
        for a in alarms["MetricAlarms"]
    }
    on_instance = [{"Name": "DBInstanceIdentifier", "Value": instance_id}]
    on_proxy = [{"Name": "ProxyName", "Value": f"baseball-playback-{production['name']}"}]
    assert found == {
        "CPUUtilization": ("AWS/RDS", on_instance, [topic], [topic]),
        "FreeStorageSpace": ("AWS/RDS", on_instance, [topic], [topic]),
        "ClientConnections": ("AWS/RDS", on_proxy, [topic], [topic]),
    }

    sns = client("sns", endpoint)
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["KmsMasterKeyId"] == root["LogsKeyArn"]
    statement = json.loads(attributes["Policy"])["Statement"]
    assert [(s["Principal"], s["Action"]) for s in statement] == [
        ({"Service": "cloudwatch.amazonaws.com"}, "sns:Publish")
    ]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "ops@example.com")]

    prefix = f"/aws/rds/instance/{instance_id}/"
    groups = client("logs", endpoint).describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    assert sorted((g["logGroupName"], g["retentionInDays"], g["kmsKeyId"]) for g in groups) == [
        (f"{prefix}error", 365, root["LogsKeyArn"]),
        (f"{prefix}slowquery", 365, root["LogsKeyArn"]),
    ]

    iam = client("iam", endpoint)
    attached = iam.list_attached_role_policies(RoleName=data["MonitoringRoleName"])
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [MONITORING_POLICY]
    trust = iam.get_role(RoleName=data["MonitoringRoleName"])["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}


def snapshots_of(rds, identifier) -> list[str]:
    found = rds.describe_db_snapshots(DBInstanceIdentifier=identifier)["DBSnapshots"]
    return [s["DBSnapshotIdentifier"] for s in found]


def secret_exists(secrets, arn) -> bool:
    try:
        secrets.describe_secret(SecretId=arn)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException"
        return False
    return True


def instance_exists(rds, identifier) -> bool:
    instances = rds.describe_db_instances()["DBInstances"]
    return identifier in [i["DBInstanceIdentifier"] for i in instances]


def test_development_tier_has_no_proxy_or_insights_and_deletes_everything(
    cfn, rds, secrets, endpoint, template_bucket
):
    tier = _data_tier(cfn, template_bucket, **DEVELOPMENT)
    data = tier["data"]
    identifier = data["DatabaseInstanceId"]
    db = db_instance(rds, identifier)

    assert (db["DBInstanceClass"], db["MultiAZ"]) == ("db.t3.small", False)
    assert db["PerformanceInsightsEnabled"] is False
    assert "PerformanceInsightsKMSKeyId" not in db
    # Without the proxy, the endpoint the app gets is the instance's.
    assert data["DatabaseEndpoint"] == db["Endpoint"]["Address"]
    assert proxy_is_gone(rds, f"baseball-playback-{tier['name']}")

    assert _delete(cfn, tier["stack_id"])["StackStatus"] == "DELETE_COMPLETE"
    assert not instance_exists(rds, identifier)
    assert snapshots_of(rds, identifier) == []
    # RDS deletes its master secret with the instance; Delete policies take the rest.
    assert not secret_exists(secrets, data["DatabaseMasterSecretArn"])
    assert not secret_exists(secrets, data["DatabaseAppSecretArn"])
    logs = client("logs", endpoint)
    prefix = f"/aws/rds/instance/{identifier}/"
    assert logs.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"] == []


def _update_data_tier(cfn, template_bucket, tier, **values) -> dict:
    """Update the root stack with the same data template and ``values``; the data outputs."""
    url = put_template(template_bucket, f"{tier['name']}-data.json", data_template())
    body = data_root_template(url, EnvironmentName=tier["name"], **values)
    cfn.update_stack(StackName=tier["stack_id"], TemplateBody=body)
    stack = wait_stack(cfn, tier["stack_id"], "UPDATE_IN_PROGRESS")
    reasons = failure_reasons(cfn, tier["stack_id"]) + failure_reasons(cfn, tier["data_id"])
    assert stack["StackStatus"] == "UPDATE_COMPLETE", reasons
    return outputs_of(cfn.describe_stacks(StackName=tier["data_id"])["Stacks"][0])


def test_data_tier_update_changes_the_instance_in_place_and_turns_the_proxy_on_and_off(
    cfn, rds, endpoint, template_bucket
):
    tier = _data_tier(cfn, template_bucket, **DEVELOPMENT)
    before = tier["data"]
    resource_id = db_instance(rds, before["DatabaseInstanceId"])["DbiResourceId"]
    proxy_name = f"baseball-playback-{tier['name']}"

    staging = {
        **DEVELOPMENT,
        "EnableDatabaseProxy": "true",
        "DatabaseBackupRetentionDays": "7",
        "DatabaseLogRetentionDays": "90",
        "DatabaseSlowQuerySeconds": "2",
    }
    after = _update_data_tier(cfn, template_bucket, tier, **staging)
    db = db_instance(rds, after["DatabaseInstanceId"])
    assert db["DbiResourceId"] == resource_id
    assert db["BackupRetentionPeriod"] == 7
    assert after["DatabaseMasterSecretArn"] == before["DatabaseMasterSecretArn"]
    assert after["DatabaseEndpoint"] == described_proxy(rds, proxy_name)["Endpoint"]
    assert [t[0] for t in targets(rds, proxy_name)] == [after["DatabaseInstanceId"]]
    parameters = rds.describe_db_parameters(
        DBParameterGroupName=after["DatabaseParameterGroupName"], Source="user"
    )["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in parameters}["long_query_time"] == "2"
    prefix = f"/aws/rds/instance/{after['DatabaseInstanceId']}/"
    groups = client("logs", endpoint).describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    assert [g["retentionInDays"] for g in groups] == [90, 90]

    back = _update_data_tier(
        cfn, template_bucket, tier, **{**staging, "EnableDatabaseProxy": "false"}
    )
    assert proxy_is_gone(rds, proxy_name)
    assert back["DatabaseEndpoint"] == db["Endpoint"]["Address"]


def test_protected_instance_fails_the_delete_until_protection_is_off(
    cfn, rds, secrets, endpoint, template_bucket
):
    tier = _data_tier(cfn, template_bucket, **{**DEVELOPMENT, "RetainStatefulResources": "true"})
    data = tier["data"]
    identifier = data["DatabaseInstanceId"]
    assert db_instance(rds, identifier)["DeletionProtection"] is True

    # As on AWS: the delete fails on the protected instance, which keeps running, and
    # there is no snapshot.
    failed = _delete(cfn, tier["stack_id"])
    assert failed["StackStatus"] == "DELETE_FAILED", failure_reasons(cfn, tier["stack_id"])
    data_stack = cfn.describe_stacks(StackName=tier["data_id"])["Stacks"][0]
    assert data_stack["StackStatus"] == "DELETE_FAILED"
    reasons = failure_reasons(cfn, tier["data_id"])
    assert [r.split(":")[0] for r in reasons] == ["DatabaseInstance"]
    assert PROTECTED in reasons[0]
    assert db_instance(rds, identifier)["DBInstanceStatus"] == "available"
    assert snapshots_of(rds, identifier) == []

    # With protection off (ModifyDBInstance), a retried delete snapshots (Snapshot under
    # RetainData) and deletes the instance, and retains the secret and log groups.
    rds.modify_db_instance(
        DBInstanceIdentifier=identifier, DeletionProtection=False, ApplyImmediately=True
    )
    deleted = _delete(cfn, tier["stack_id"])
    assert deleted["StackStatus"] == "DELETE_COMPLETE", failure_reasons(cfn, tier["stack_id"])
    assert not instance_exists(rds, identifier)
    (snapshot,) = rds.describe_db_snapshots(DBInstanceIdentifier=identifier)["DBSnapshots"]
    assert (snapshot["Status"], snapshot["Engine"], snapshot["Encrypted"]) == (
        "available",
        "mysql",
        True,
    )
    assert not secret_exists(secrets, data["DatabaseMasterSecretArn"])
    assert secret_exists(secrets, data["DatabaseAppSecretArn"])
    prefix = f"/aws/rds/instance/{identifier}/"
    groups = client("logs", endpoint).describe_log_groups(logGroupNamePrefix=prefix)
    assert len(groups["logGroups"]) == 2


# --- DB instance updates, restores, and no Docker ----------------------------------


def instance_template(**properties) -> str:
    resources = {
        **network(),
        "SubnetGroup": subnet_group([ref("DataSubnetA"), ref("DataSubnetB")]),
        "Db": instance(**properties),
    }
    outputs = {
        "Db": ref("Db"),
        "Key": getatt("Key", "Arn"),
        "OtherKey": getatt("OtherKey", "Arn"),
    }
    if properties.get("ManageMasterUserPassword", True):
        outputs["SecretArn"] = getatt("Db", "MasterUserSecret.SecretArn")
    return template(resources, outputs)


def test_instance_update_changes_exports_insights_and_the_master_secret_in_place(
    cfn, rds, secrets, template_bucket
):
    insights = {
        "EnablePerformanceInsights": True,
        "PerformanceInsightsKMSKeyId": getatt("Key", "Arn"),
        "DatabaseInsightsMode": "standard",
    }
    stack_id, _, before = _create(
        cfn,
        template_bucket,
        False,
        instance_template(
            EnableCloudwatchLogsExports=["error"],
            MasterUserSecret={"KmsKeyId": getatt("Key", "Arn")},
            **insights,
        ),
    )
    after, _ = _update(
        cfn,
        template_bucket,
        stack_id,
        stack_id,
        instance_template(
            EnableCloudwatchLogsExports=["error", "slowquery"],
            MasterUserSecret={"KmsKeyId": getatt("OtherKey", "Arn")},
        ),
    )
    assert (after["Db"], after["SecretArn"]) == (before["Db"], before["SecretArn"])
    db = db_instance(rds, after["Db"])
    assert db["EnabledCloudwatchLogsExports"] == ["error", "slowquery"]
    assert db["PerformanceInsightsEnabled"] is False
    assert "PerformanceInsightsKMSKeyId" not in db
    # The same secret, moved to the other key.
    assert db["MasterUserSecret"]["KmsKeyId"] == after["OtherKey"]
    assert secrets.describe_secret(SecretId=after["SecretArn"])["KmsKeyId"] == after["OtherKey"]

    # RDS stops managing the password: its secret goes.
    _update(
        cfn,
        template_bucket,
        stack_id,
        stack_id,
        instance_template(ManageMasterUserPassword=False, MasterUserPassword="not-managed-1"),
    )
    assert "MasterUserSecret" not in db_instance(rds, after["Db"])
    assert not secret_exists(secrets, after["SecretArn"])


def test_instance_restores_from_a_snapshot_and_fails_on_a_missing_one(cfn, rds):
    # An instance through the RDS API, and its snapshot: the source of the restore.
    source = f"source-{new_stack_name()}"
    rds.create_db_instance(
        DBInstanceIdentifier=source,
        Engine="mysql",
        EngineVersion=ENGINE_VERSION,
        DBInstanceClass="db.t3.small",
        MasterUsername="original_admin",
        MasterUserPassword="original-password",
        DBName="plays",
        AllocatedStorage=20,
    )
    rds.create_db_snapshot(DBSnapshotIdentifier=f"{source}-snap", DBInstanceIdentifier=source)

    _, out = deploy(
        cfn,
        instance_template(DBSnapshotIdentifier=f"{source}-snap", MasterUsername=NO_VALUE),
    )
    db = db_instance(rds, out["Db"])
    assert (db["MasterUsername"], db["DBName"]) == ("original_admin", "plays")

    stack_id = cfn.create_stack(
        StackName=new_stack_name(),
        TemplateBody=instance_template(DBSnapshotIdentifier="no-such-snapshot"),
    )["StackId"]
    stack = wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")
    stack = wait_stack(cfn, stack_id, "ROLLBACK_IN_PROGRESS")
    reasons = failure_reasons(cfn, stack_id)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE", reasons
    assert any("DBSnapshotNotFound" in reason for reason in reasons), reasons


def test_rds_api_instance_is_available_at_once_without_docker(rds):
    # The emulator's DOCKER_HOST is a socket that does not exist (and its venv has no
    # docker package): RDS keeps the instance as metadata, available at once.
    identifier = f"no-docker-{new_stack_name()}"
    started = time.monotonic()
    created = rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="mysql",
        EngineVersion=ENGINE_VERSION,
        DBInstanceClass="db.t3.small",
        MasterUsername="admin",
        MasterUserPassword="password-1",
        AllocatedStorage=20,
    )["DBInstance"]
    rds.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier=identifier, WaiterConfig={"Delay": 1, "MaxAttempts": 5}
    )
    assert time.monotonic() - started < 2
    assert created["DBInstanceStatus"] == "available"
    assert created["Endpoint"]["Port"] == 3306


def test_nested_stack_delete_fails_on_a_protected_instance_and_is_retried(
    cfn, rds, template_bucket
):
    # DeletionPolicy Delete: no snapshot is asked for, the delete itself is refused.
    stack_id, holder_id, out = _create(
        cfn, template_bucket, True, instance_template(DeletionProtection=True)
    )

    assert _delete(cfn, stack_id)["StackStatus"] == "DELETE_FAILED"
    child = cfn.describe_stacks(StackName=holder_id)["Stacks"][0]
    assert child["StackStatus"] == "DELETE_FAILED"
    reasons = failure_reasons(cfn, holder_id)
    assert [r.split(":")[0] for r in reasons] == ["Db"]
    assert PROTECTED in reasons[0]
    assert instance_exists(rds, out["Db"])

    rds.modify_db_instance(
        DBInstanceIdentifier=out["Db"], DeletionProtection=False, ApplyImmediately=True
    )
    assert _delete(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert cfn.describe_stacks(StackName=holder_id)["Stacks"][0]["StackStatus"] == (
        "DELETE_COMPLETE"
    )
    assert not instance_exists(rds, out["Db"])
