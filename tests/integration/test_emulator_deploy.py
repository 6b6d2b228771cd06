"""Deploy every environment into the AWS emulator on 127.0.0.1, read it back, update, delete.

Deployments go through `playback-infra deploy` (package, change set, execute), as a user runs
it; the assertions read state back through the same boto3 APIs a user would. Every resource
type read back is recorded, and the last test checks that this covers every type
`emulator.coverage.READ_BACK` (and so docs/emulator-coverage.md) claims.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from ipaddress import IPv4Network
from pathlib import Path
from urllib.parse import unquote

import boto3
import pytest
from botocore.exceptions import ClientError
from troposphere import encode_to_dict

from playback_infra.cli import EXIT_OK, main
from playback_infra.emulator.coverage import READ_BACK
from playback_infra.emulator.process import run_emulator
from playback_infra.emulator.zones import ensure_zones
from playback_infra.environments.catalog import delivery, environments
from playback_infra.environments.model import NatMode
from playback_infra.paths import REPO_ROOT
from playback_infra.stacks import pipeline
from playback_infra.stacks.pipeline_target import execution_permissions
from playback_infra.synth import render

pytestmark = pytest.mark.emulator

ENVS = {env.name: env for env in environments()}
EXPECTED_NATS = {"dev": 0, "staging": 1, "prod": 3}  # dev: public-ips, no NAT
# dev: Secrets Manager and RDS (secret rotation); staging, prod: ECR (2), logs, Secrets Manager
EXPECTED_INTERFACE_ENDPOINTS = {"dev": 2, "staging": 4, "prod": 4}
READ: set[str] = set()  # resource types read back by the tests in this module


@pytest.fixture(scope="module")
def endpoint():
    with run_emulator() as url:
        yield url


def _clients(endpoint: str):
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    return lambda service: session.client(service, endpoint_url=endpoint)


@pytest.fixture(scope="module")
def aws(endpoint):
    return _clients(endpoint)


def _outputs(aws, stack_name: str) -> dict[str, str]:
    stack = aws("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _wait(aws, stack_name: str) -> str:
    deadline = time.time() + 120
    while time.time() < deadline:
        stacks = aws("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
        status = stacks[0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"{stack_name} still in progress")


def _deploy(endpoint: str, env: str, capsys) -> str:
    code = main(["deploy", "--env", env, "--endpoint-url", endpoint])
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    return out


def _vpc_filter(vpc_id: str) -> list[dict]:
    return [{"Name": "vpc-id", "Values": [vpc_id]}]


def _assert_network(aws, name: str) -> None:
    env = ENVS[name]
    out = _outputs(aws, env.stack_name)
    ec2 = aws("ec2")
    vpc_id = out["VpcId"]

    vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert vpc["CidrBlock"] == env.vpc_cidr
    READ.update({"AWS::EC2::VPC", "AWS::CloudFormation::Stack"})

    subnets = ec2.describe_subnets(Filters=_vpc_filter(vpc_id))["Subnets"]
    layout = env.subnets
    expected = {
        (str(cidr), env.availability_zones[i])
        for tier in (layout.public, layout.app, layout.data)
        for i, cidr in enumerate(tier.subnets)
    }
    assert {(s["CidrBlock"], s["AvailabilityZone"]) for s in subnets} == expected
    by_id = {s["SubnetId"]: IPv4Network(s["CidrBlock"]) for s in subnets}
    for output, tier in (("PublicSubnetIds", layout.public), ("PrivateAppSubnetIds", layout.app),
                         ("PrivateDataSubnetIds", layout.data)):  # fmt: skip
        assert [by_id[s] for s in out[output].split(",")] == list(tier.subnets)
    READ.add("AWS::EC2::Subnet")

    gateways = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    )["InternetGateways"]
    assert len(gateways) == 1
    igw = gateways[0]["InternetGatewayId"]
    READ.update({"AWS::EC2::InternetGateway", "AWS::EC2::VPCGatewayAttachment"})

    nats = [
        n for n in ec2.describe_nat_gateways(Filters=_vpc_filter(vpc_id))["NatGateways"]
        if n["State"] == "available"
    ]  # fmt: skip
    assert len(nats) == EXPECTED_NATS[name]
    public_ids = out["PublicSubnetIds"].split(",")
    assert sorted(n["SubnetId"] for n in nats) == sorted(public_ids[: len(nats)])
    addresses = ec2.describe_addresses()["Addresses"]
    nat_addresses = [a for a in addresses if a.get("AssociationId")]
    assert len(nat_addresses) >= len(nats)
    READ.update({"AWS::EC2::NatGateway", "AWS::EC2::EIP"})

    tables = [
        t for t in ec2.describe_route_tables(Filters=_vpc_filter(vpc_id))["RouteTables"]
        if not any(a.get("Main") for a in t.get("Associations", []))
    ]  # fmt: skip
    assert len(tables) == 3 * env.az_count
    tier_of = {s: "public" for s in public_ids}
    tier_of |= {s: "app" for s in out["PrivateAppSubnetIds"].split(",")}
    tier_of |= {s: "data" for s in out["PrivateDataSubnetIds"].split(",")}
    nat_ids = {n["NatGatewayId"] for n in nats}
    for table in tables:
        (subnet,) = [a["SubnetId"] for a in table["Associations"]]
        default = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        if tier_of[subnet] == "public":
            assert [r.get("GatewayId") for r in default] == [igw]
        elif tier_of[subnet] == "app" and env.nat_mode is NatMode.PUBLIC_IPS:
            assert [r.get("GatewayId") for r in default] == [igw]  # tasks have public IPs
        elif tier_of[subnet] == "app":
            assert len(default) == 1
            assert default[0].get("NatGatewayId") in nat_ids
        else:
            assert default == [], "the data tier must have no route out of the VPC"
    READ.update(
        {"AWS::EC2::RouteTable", "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::Route"}
    )

    acls = [
        a for a in ec2.describe_network_acls(Filters=_vpc_filter(vpc_id))["NetworkAcls"]
        if not a["IsDefault"]
    ]  # fmt: skip
    assert len(acls) == 3
    data_ids = set(out["PrivateDataSubnetIds"].split(","))
    (data_acl,) = [a for a in acls if {x["SubnetId"] for x in a["Associations"]} == data_ids]
    entries = {
        (e["Egress"], e["RuleNumber"], e["Protocol"], e["CidrBlock"]) for e in data_acl["Entries"]
    }
    assert entries == {
        (False, 100, "6", str(layout.app.block)),
        (True, 100, "6", str(layout.app.block)),
    }
    READ.update(
        {
            "AWS::EC2::NetworkAcl",
            "AWS::EC2::NetworkAclEntry",
            "AWS::EC2::SubnetNetworkAclAssociation",
        }
    )

    endpoints = ec2.describe_vpc_endpoints(Filters=_vpc_filter(vpc_id))["VpcEndpoints"]
    # The emulator ignores the vpc-id filter here, so select by VpcId as well.
    kinds = sorted(e["VpcEndpointType"] for e in endpoints if e["VpcId"] == vpc_id)
    assert kinds == ["Gateway"] + ["Interface"] * EXPECTED_INTERFACE_ENDPOINTS[name]
    endpoint_azs = 1 if env.endpoints_in_one_az else env.az_count
    assert all(
        len(e["SubnetIds"]) == endpoint_azs
        for e in endpoints
        if e["VpcId"] == vpc_id and e["VpcEndpointType"] == "Interface"
    )
    READ.add("AWS::EC2::VPCEndpoint")


def _assert_security(aws, name: str) -> None:
    env = ENVS[name]
    out = _outputs(aws, env.stack_name)
    ec2 = aws("ec2")
    ids = {key.removesuffix("SecurityGroupId"): value for key, value in out.items()
           if key.endswith("SecurityGroupId")}  # fmt: skip
    names = {value: key for key, value in ids.items()}
    groups = {
        g["GroupId"]: g
        for g in ec2.describe_security_groups(GroupIds=list(ids.values()))["SecurityGroups"]
    }

    def peers(group: str, direction: str) -> set[tuple]:
        rules = groups[ids[group]][direction]
        return {
            (r.get("FromPort"), names.get(pair["GroupId"], pair["GroupId"]))
            for r in rules for pair in r["UserIdGroupPairs"]
        } | {(r.get("FromPort"), ip["CidrIp"]) for r in rules for ip in r["IpRanges"]} | {
            (r.get("FromPort"), pl["PrefixListId"]) for r in rules for pl in r["PrefixListIds"]
        }  # fmt: skip

    assert peers("Alb", "IpPermissions") == {(443, env.cloudfront_prefix_list)}
    assert peers("App", "IpPermissions") == {(env.app_port, "Alb")}
    assert peers("Database", "IpPermissions") == {
        (3306, "App"),
        (3306, "DatabaseProxy"),
        (3306, "Jobs"),
        (3306, "SecretsRotation"),
    }
    assert peers("SecretsRotation", "IpPermissionsEgress") == {
        (443, "0.0.0.0/0"),
        (3306, "Database"),
    }
    assert peers("DatabaseProxy", "IpPermissions") == {(3306, "App"), (3306, "Jobs")}
    assert peers("Jobs", "IpPermissions") == set()
    assert peers("Alb", "IpPermissionsEgress") == {
        (252, "255.255.255.255/32"),
        (env.app_port, "App"),
    }
    assert peers("App", "IpPermissionsEgress") == {
        (443, "0.0.0.0/0"),
        (3306, "Database"),
        (3306, "DatabaseProxy"),
        (6379, "Cache"),
    }
    assert peers("Database", "IpPermissionsEgress") == {(252, "255.255.255.255/32")}
    assert peers("Cache", "IpPermissions") == {(6379, "App")}
    assert peers("Cache", "IpPermissionsEgress") == {(252, "255.255.255.255/32")}
    READ.update({"AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupEgress"})

    kms = aws("kms")
    for key in ("DataKeyArn", "LogsKeyArn"):
        key_id = out[key].rsplit("/", 1)[1]
        assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
        assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
        assert (
            "KeyAdministration" in kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
        )
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    assert {
        f"alias/baseball-playback/{name}/data",
        f"alias/baseball-playback/{name}/logs",
    } <= aliases
    READ.update({"AWS::KMS::Key", "AWS::KMS::Alias"})

    group_name = out["FlowLogGroupName"]
    (group,) = aws("logs").describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]
    assert group["retentionInDays"] == env.flow_log_retention_days
    assert group["kmsKeyId"] == out["LogsKeyArn"]
    READ.add("AWS::Logs::LogGroup")

    flow_logs = aws("ec2").describe_flow_logs(
        Filters=[{"Name": "resource-id", "Values": [out["VpcId"]]}]
    )["FlowLogs"]
    assert [(f["TrafficType"], f["LogDestinationType"]) for f in flow_logs] == [
        ("ALL", "cloud-watch-logs")
    ]
    assert group_name in flow_logs[0]["LogDestination"]
    READ.add("AWS::EC2::FlowLog")

    # The VPC's default group: the custom resource's function revoked its rules (ministack's
    # starts with the egress rule only; tests/emulator/test_default_group.py adds AWS's ingress).
    (default,) = ec2.describe_security_groups(
        Filters=[_vpc_filter(out["VpcId"])[0], {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    assert (default["IpPermissions"], default["IpPermissionsEgress"]) == ([], [])
    resources = _stack_resources(aws, env.stack_name)
    assert resources["DefaultSecurityGroupRestriction"] == default["GroupId"]
    function = aws("lambda").get_function_configuration(
        FunctionName=resources["DefaultGroupRestrictionFunction"]
    )
    assert (function["Runtime"], function["Handler"]) == ("python3.12", "index.handler")
    READ.update({"Custom::RestrictDefaultSecurityGroup", "AWS::Lambda::Function"})

    iam = aws("iam")
    role_name = _stack_resources(aws, env.stack_name)["FlowLogRole"]
    role = iam.get_role(RoleName=role_name)["Role"]
    assert role["Arn"] in flow_logs[0].get("DeliverLogsPermissionArn", role["Arn"])
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": ["vpc-flow-logs.amazonaws.com"]}
    policy = iam.get_role_policy(RoleName=role_name, PolicyName="write-flow-logs")
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Resource"] != "*" and "*" not in statement["Action"]
    READ.add("AWS::IAM::Role")


def _assert_data(aws, name: str) -> None:
    env = ENVS[name]
    db = env.database
    out = _outputs(aws, env.stack_name)
    rds = aws("rds")
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=out["DatabaseInstanceId"])[
        "DBInstances"
    ]
    assert instance["DBInstanceIdentifier"] == f"baseball-playback-{name}-{db.generation}"
    assert (instance["Engine"], instance["EngineVersion"]) == ("mysql", db.engine_version)
    assert (instance["DBInstanceClass"], instance["MultiAZ"]) == (db.instance_class, db.multi_az)
    assert (instance["StorageType"], instance["StorageEncrypted"]) == ("gp3", True)
    assert instance["KmsKeyId"] == out["DataKeyArn"]
    assert instance["PubliclyAccessible"] is False
    assert instance["DeletionProtection"] is env.retain_data
    assert instance["BackupRetentionPeriod"] == db.backup_retention_days
    assert instance["PreferredBackupWindow"] == db.backup_window
    assert sorted(instance["EnabledCloudwatchLogsExports"]) == ["error", "slowquery"]
    assert [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]] == [
        out["DatabaseSecurityGroupId"]
    ]
    subnets = {s["SubnetIdentifier"] for s in instance["DBSubnetGroup"]["Subnets"]}
    assert subnets == set(out["PrivateDataSubnetIds"].split(","))
    assert instance["MasterUserSecret"]["KmsKeyId"] == out["DataKeyArn"]
    assert instance["MasterUserSecret"]["SecretArn"] == out["DatabaseMasterSecretArn"]
    assert instance.get("PerformanceInsightsEnabled", False) is (db.insights_mode != "off")
    READ.update({"AWS::RDS::DBInstance", "AWS::RDS::DBSubnetGroup"})

    (group,) = instance["DBParameterGroups"]
    parameters = {
        p["ParameterName"]: p.get("ParameterValue")
        for page in rds.get_paginator("describe_db_parameters").paginate(
            DBParameterGroupName=group["DBParameterGroupName"]
        )
        for p in page["Parameters"]
    }
    assert parameters["require_secure_transport"] == "1"
    assert parameters["local_infile"] == "1"
    assert parameters["character_set_server"] == "utf8mb4"
    assert parameters["long_query_time"] == f"{db.slow_query_seconds:g}"
    READ.add("AWS::RDS::DBParameterGroup")

    secrets = aws("secretsmanager")
    for output, username in (("DatabaseAppSecretArn", "pb_app"),
                             ("DatabaseMigrationSecretArn", "pb_migrate"),
                             ("DatabaseReportingSecretArn", "pb_report")):  # fmt: skip
        assert secrets.describe_secret(SecretId=out[output])["KmsKeyId"] == out["DataKeyArn"]
        value = json.loads(secrets.get_secret_value(SecretId=out[output])["SecretString"])
        assert value["username"] == username and len(value["password"]) == 32
        assert (value["host"], str(value["port"]), value["engine"]) == (
            instance["Endpoint"]["Address"], out["DatabasePort"], "mysql")  # fmt: skip
        # The two the rotation stack rotates name the master secret the rotation signs in with.
        rotated = output != "DatabaseReportingSecretArn"
        assert value.get("masterarn") == (out["DatabaseMasterSecretArn"] if rotated else None)
    READ.update({"AWS::SecretsManager::Secret", "AWS::SecretsManager::SecretTargetAttachment"})

    proxies = [
        p for p in rds.describe_db_proxies()["DBProxies"]
        if p["DBProxyName"] == f"baseball-playback-{name}"
    ]  # fmt: skip
    if db.proxy:
        (proxy,) = proxies
        assert out["DatabaseEndpoint"] == proxy["Endpoint"]
        assert proxy["RequireTLS"] is True
        assert proxy["VpcSubnetIds"] == out["PrivateAppSubnetIds"].split(",")
        assert proxy["Auth"][0]["SecretArn"] == out["DatabaseAppSecretArn"]
        targets = rds.describe_db_proxy_targets(DBProxyName=proxy["DBProxyName"])["Targets"]
        assert [t["RdsResourceId"] for t in targets if t["Type"] == "RDS_INSTANCE"] == [
            instance["DBInstanceIdentifier"]
        ]
        READ.update({"AWS::RDS::DBProxy", "AWS::RDS::DBProxyTargetGroup"})
    else:
        assert proxies == []
        assert out["DatabaseEndpoint"] == instance["Endpoint"]["Address"]

    sns = aws("sns")
    topic = out["AlarmTopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["KmsMasterKeyId"] == out["LogsKeyArn"]
    assert "cloudwatch.amazonaws.com" in attributes["Policy"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", env.alarm_email)]
    READ.update({"AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::SNS::TopicPolicy"})

    every_alarm = aws("cloudwatch").describe_alarms()["MetricAlarms"]
    alarms = [
        a for a in every_alarm
        if {"Name": "DBInstanceIdentifier", "Value": instance["DBInstanceIdentifier"]}
        in a.get("Dimensions", [])  # a metric math alarm has none
    ]  # fmt: skip
    assert sorted(a["MetricName"] for a in alarms) == [
        "CPUUtilization", "DatabaseConnections", "FreeStorageSpace", "FreeableMemory",
        "ReadLatency", "WriteLatency",
    ]  # fmt: skip
    for function in ("rotate-app", "rotate-migration"):
        group_name = f"/aws/lambda/baseball-playback-{name}-{function}"
        (rotation_logs,) = aws("logs").describe_log_groups(logGroupNamePrefix=group_name)[
            "logGroups"
        ]
        assert (rotation_logs["retentionInDays"], rotation_logs["kmsKeyId"]) == (
            90, out["LogsKeyArn"],
        )  # fmt: skip
    signals = {"CPUUtilization", "ReadLatency", "WriteLatency"}  # the composite pages for them
    assert all(a["AlarmActions"] == [topic] == a["OKActions"]
               for a in alarms if a["MetricName"] not in signals)  # fmt: skip
    assert all(a["AlarmActions"] == [] for a in alarms if a["MetricName"] in signals)
    connections = next(a for a in alarms if a["MetricName"] == "DatabaseConnections")
    assert connections["Threshold"] == db.max_connections * db.connections_alarm_percent // 100
    this_environment = {"Name": "Environment", "Value": name}
    openai = {
        a["AlarmName"].split("-")[-2]: a for a in every_alarm
        if this_environment in a.get("Dimensions", []) or any(
            this_environment in q.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
            for q in a.get("Metrics", []))
    }  # fmt: skip
    assert sorted(openai) == [
        "OpenAiCircuitOpenAlarm",
        "OpenAiDailyCostAlarm",
        "OpenAiErrorRateAlarm",
    ]
    assert openai["OpenAiDailyCostAlarm"]["Threshold"] == env.app.openai_daily_cost_alarm_usd
    rate = {q["Id"]: q for q in openai["OpenAiErrorRateAlarm"]["Metrics"]}
    assert rate["rate"]["Expression"] == "IF(requests >= 10, 100 * errors / requests, 0)"
    assert rate["errors"]["MetricStat"]["Metric"]["MetricName"] == "OpenAiErrors"
    assert all(a["AlarmActions"] == [topic] == a["OKActions"] for a in openai.values())
    READ.add("AWS::CloudWatch::Alarm")

    for output in ("DatabaseAppSecretArn", "DatabaseMigrationSecretArn"):
        described = secrets.describe_secret(SecretId=out[output])
        assert described["RotationEnabled"] is True
        assert described["RotationRules"]["AutomaticallyAfterDays"] == db.rotation_days
    READ.add("AWS::SecretsManager::RotationSchedule")
    # A failed rotation of either secret goes to the alarm topic.
    failed = f"baseball-playback-{name}-rotation-failed"
    pattern = json.loads(aws("events").describe_rule(Name=failed)["EventPattern"])
    assert pattern["detail"]["eventName"] == ["RotationFailed"]
    assert pattern["detail"]["additionalEventData"]["SecretId"] == [
        out["DatabaseAppSecretArn"], out["DatabaseMigrationSecretArn"],
    ]  # fmt: skip
    (target,) = aws("events").list_targets_by_rule(Rule=failed)["Targets"]
    assert target["Arn"] == topic

    backup = aws("backup")
    if db.backup_plan:
        vault = backup.describe_backup_vault(BackupVaultName=out["BackupVaultName"])
        assert vault["EncryptionKeyArn"] == out["DataKeyArn"]
        plans = [p for p in backup.list_backup_plans()["BackupPlansList"]
                 if p["BackupPlanName"] == f"baseball-playback-{name}-database"]  # fmt: skip
        (plan,) = plans
        (rule,) = backup.get_backup_plan(BackupPlanId=plan["BackupPlanId"])["BackupPlan"]["Rules"]
        assert rule["TargetBackupVaultName"] == out["BackupVaultName"]
        assert rule["Lifecycle"]["DeleteAfterDays"] == 35
        (copy,) = rule["CopyActions"]
        assert f":{db.backup_copy_region}:" in copy["DestinationBackupVaultArn"]
        (selection,) = backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])[
            "BackupSelectionsList"
        ]
        chosen = backup.get_backup_selection(
            BackupPlanId=plan["BackupPlanId"], SelectionId=selection["SelectionId"]
        )["BackupSelection"]
        assert chosen["Resources"] == [instance["DBInstanceArn"]]
        READ.update(
            {"AWS::Backup::BackupVault", "AWS::Backup::BackupPlan", "AWS::Backup::BackupSelection"}
        )
    else:
        assert out["BackupVaultName"] == ""

    for kind in ("error", "slowquery"):
        name_ = f"/aws/rds/instance/{instance['DBInstanceIdentifier']}/{kind}"
        (log_group,) = aws("logs").describe_log_groups(logGroupNamePrefix=name_)["logGroups"]
        assert log_group["retentionInDays"] == db.log_retention_days
        assert log_group["kmsKeyId"] == out["LogsKeyArn"]


def _assert_ingress(aws, name: str) -> None:
    env = ENVS[name]
    out = _outputs(aws, env.stack_name)
    elbv2 = aws("elbv2")
    (alb,) = elbv2.describe_load_balancers(LoadBalancerArns=[out["ApiLoadBalancerArn"]])[
        "LoadBalancers"
    ]
    assert (alb["Scheme"], alb["Type"]) == ("internet-facing", "application")
    assert alb["SecurityGroups"] == [out["AlbSecurityGroupId"]]
    assert sorted(z["SubnetId"] for z in alb["AvailabilityZones"]) == sorted(
        out["PublicSubnetIds"].split(",")
    )
    attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=alb["LoadBalancerArn"])[
            "Attributes"
        ]
    }
    assert attributes["deletion_protection.enabled"] == str(env.retain_data).lower()
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    READ.add("AWS::ElasticLoadBalancingV2::LoadBalancer")

    listeners = {
        listener["Port"]: listener for listener in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    }  # fmt: skip
    assert set(listeners) == {80, 443}
    assert listeners[80]["DefaultActions"][0]["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert listeners[443]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[443]["Certificates"][0]["CertificateArn"] == out["ApiCertificateArn"]
    assert listeners[443]["DefaultActions"][0]["Type"] == "fixed-response"
    READ.add("AWS::ElasticLoadBalancingV2::Listener")
    rules = {
        r["RuleArn"]: r
        for r in elbv2.describe_rules(ListenerArn=listeners[443]["ListenerArn"])["Rules"]
        if not r["IsDefault"]
    }
    secret = aws("secretsmanager").get_secret_value(SecretId=out["OriginVerifySecretArn"])[
        "SecretString"
    ]
    for arn, priority in (
        (out["ApiTestListenerRuleArn"], "1"),
        (out["ApiProductionListenerRuleArn"], "10"),
    ):
        rule = rules[arn]
        assert rule["Priority"] == priority
        headers = {c["HttpHeaderConfig"]["HttpHeaderName"]: c["HttpHeaderConfig"]["Values"]
                   for c in rule["Conditions"] if c["Field"] == "http-header"}  # fmt: skip
        assert headers["X-Origin-Verify"] == [secret]  # CloudFront fronts every environment
        assert rule["Actions"][0]["TargetGroupArn"] == out["ApiTargetGroupBlueArn"]
    READ.add("AWS::ElasticLoadBalancingV2::ListenerRule")

    ingress = env.ingress
    for output in ("ApiTargetGroupBlueArn", "ApiTargetGroupGreenArn"):
        (group,) = elbv2.describe_target_groups(TargetGroupArns=[out[output]])["TargetGroups"]
        assert (group["TargetType"], group["Port"]) == ("ip", env.app_port)
        assert group["HealthCheckPath"] == ingress.health_check_path
        assert group["HealthCheckIntervalSeconds"] == ingress.health_check_interval_seconds
        assert group["UnhealthyThresholdCount"] == ingress.unhealthy_threshold
        group_attributes = {
            a["Key"]: a["Value"]
            for a in elbv2.describe_target_group_attributes(TargetGroupArn=out[output])[
                "Attributes"
            ]
        }
        assert group_attributes["deregistration_delay.timeout_seconds"] == str(
            ingress.deregistration_delay_seconds
        )
    READ.add("AWS::ElasticLoadBalancingV2::TargetGroup")

    certificate = aws("acm").describe_certificate(CertificateArn=out["ApiCertificateArn"])[
        "Certificate"
    ]
    assert certificate["DomainName"] == env.api_domain
    READ.add("AWS::CertificateManager::Certificate")

    s3 = aws("s3")
    bucket = attributes["access_logs.s3.bucket"]
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Expiration"]["Days"] == ingress.access_log_days
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert "arn:aws:iam::127311923021:root" in json.dumps(policy)  # us-east-1's ELB account
    READ.update({"AWS::S3::Bucket", "AWS::S3::BucketPolicy"})

    wafv2 = aws("wafv2")
    if not ingress.regional_waf:  # dev: CloudFront's WAF alone, the ALB takes only CloudFront
        assert out["ApiWebAclArn"] == "none"
        try:  # AWS answers without a WebACL; the emulator answers WAFNonexistentItemException
            found = wafv2.get_web_acl_for_resource(ResourceArn=alb["LoadBalancerArn"]).get("WebACL")
        except wafv2.exceptions.WAFNonexistentItemException:
            found = None
        assert found is None
        return
    acl = wafv2.get_web_acl_for_resource(ResourceArn=alb["LoadBalancerArn"])["WebACL"]
    assert acl["ARN"] == out["ApiWebAclArn"]
    assert sorted(r["Name"] for r in acl["Rules"]) == [
        "AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet",
    ]  # fmt: skip
    logging = wafv2.get_logging_configuration(ResourceArn=acl["ARN"])["LoggingConfiguration"]
    (destination,) = logging["LogDestinationConfigs"]
    assert ":log-group:aws-waf-logs-" in destination
    READ.update(
        {"AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation", "AWS::WAFv2::LoggingConfiguration"}
    )


def _assert_edge(aws, name: str) -> dict[str, str]:
    """The edge-global stack in us-east-1 (every catalog environment is there too)."""
    env = ENVS[name]
    edge = _outputs(aws, f"{env.stack_name}-edge-global")
    certificate = aws("acm").describe_certificate(CertificateArn=edge["SiteCertificateArn"])
    assert certificate["Certificate"]["DomainName"] == env.site_domain
    wafv2 = aws("wafv2")
    (listed,) = [a for a in wafv2.list_web_acls(Scope="CLOUDFRONT")["WebACLs"]
                 if a["ARN"] == edge["SiteWebAclArn"]]  # fmt: skip
    acl = wafv2.get_web_acl(Name=listed["Name"], Scope="CLOUDFRONT", Id=listed["Id"])["WebACL"]
    rules = {r["Name"]: r for r in acl["Rules"]}
    assert sorted(rules) == [
        "AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet", "RateLimitPerIp",
    ]  # fmt: skip
    assert rules["RateLimitPerIp"]["Statement"]["RateBasedStatement"]["Limit"] == (
        env.web.waf_rate_limit
    )
    logging = wafv2.get_logging_configuration(ResourceArn=acl["ARN"])["LoggingConfiguration"]
    (destination,) = logging["LogDestinationConfigs"]
    group_name = destination.split(":log-group:", 1)[1]
    (group,) = aws("logs").describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]
    assert group["retentionInDays"] == env.web.waf_log_retention_days
    key = aws("kms").describe_key(KeyId=group["kmsKeyId"])["KeyMetadata"]
    assert key["KeyState"] == "Enabled"
    return edge


def _assert_web(aws, name: str) -> None:
    env = ENVS[name]
    out = _outputs(aws, env.stack_name)
    edge = _assert_edge(aws, name)
    cloudfront = aws("cloudfront")
    config = cloudfront.get_distribution_config(Id=out["SiteDistributionId"])["DistributionConfig"]
    assert config["Aliases"]["Items"] == [env.site_domain]
    assert config["ViewerCertificate"]["ACMCertificateArn"] == edge["SiteCertificateArn"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2025"
    assert config["WebACLId"] == edge["SiteWebAclArn"]
    assert (config["HttpVersion"], config["IsIPV6Enabled"]) == ("http2and3", True)
    assert config["PriceClass"] == env.web.price_class
    assert config["Logging"]["Enabled"] and config["Logging"]["Prefix"] == "cloudfront/"
    READ.add("AWS::CloudFront::Distribution")

    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    secret = aws("secretsmanager").get_secret_value(SecretId=out["OriginVerifySecretArn"])[
        "SecretString"
    ]
    api = origins["api-alb"]
    assert api["DomainName"] == env.api_domain
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert api["CustomHeaders"]["Items"] == [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": secret}  # what the ALB's rules require
    ]
    oac_id = origins["site-bucket"]["OriginAccessControlId"]
    oac = cloudfront.get_origin_access_control(Id=oac_id)["OriginAccessControl"]
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    READ.add("AWS::CloudFront::OriginAccessControl")

    default = config["DefaultCacheBehavior"]
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]["Items"]}
    assert list(behaviours) == ["/index.html", "/config.json", f"{env.app.api_base_path}/*"]
    assert default["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert {b["CachePolicyId"] for b in behaviours.values()} == {
        "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    }
    assert [r["ErrorCode"] for r in config["CustomErrorResponses"]["Items"]] == [500, 502, 503, 504]
    functions = {
        "spa-routing": default["FunctionAssociations"]["Items"],
        "api-request": behaviours["/api/*"]["FunctionAssociations"]["Items"],
    }
    for function, (association,) in functions.items():
        assert association["EventType"] == "viewer-request"
        assert association["FunctionARN"].endswith(f"baseball-playback-{name}-{function}")
        described = cloudfront.describe_function(
            Name=f"baseball-playback-{name}-{function}", Stage="LIVE"
        )
        assert described["FunctionSummary"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    READ.add("AWS::CloudFront::Function")
    policy_id = default["ResponseHeadersPolicyId"]
    assert {b["ResponseHeadersPolicyId"] for b in behaviours.values()} == {policy_id}
    headers = cloudfront.get_response_headers_policy(Id=policy_id)["ResponseHeadersPolicy"][
        "ResponseHeadersPolicyConfig"
    ]["SecurityHeadersConfig"]
    assert "connect-src 'self'" in headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 63_072_000
    READ.add("AWS::CloudFront::ResponseHeadersPolicy")

    s3 = aws("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket=out["SiteBucketName"])["Policy"])
    (reader,) = [st for st in policy["Statement"] if st["Effect"] == "Allow"]
    assert reader["Principal"] == {"Service": ["cloudfront.amazonaws.com"]}
    assert reader["Condition"]["StringEquals"]["AWS:SourceArn"].endswith(
        f":distribution/{out['SiteDistributionId']}"
    )
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=out["SiteBucketName"])["Rules"]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == env.web.previous_versions_days
    assert s3.get_bucket_versioning(Bucket=out["SiteBucketName"])["Status"] == "Enabled"

    route53 = aws("route53")
    records = route53.list_resource_record_sets(HostedZoneId=env.web.hosted_zone_id)
    aliases = {
        (r["Name"], r["Type"]): r["AliasTarget"]["DNSName"]
        for r in records["ResourceRecordSets"]
        if "AliasTarget" in r
    }
    site = f"{env.site_domain}."
    assert (
        aliases[(site, "A")] == aliases[(site, "AAAA")] == f"{out['SiteDistributionDomainName']}."
    )
    assert aliases[(f"{env.api_domain}.", "A")].rstrip(".") == out["ApiLoadBalancerDnsName"]
    READ.add("AWS::Route53::RecordSet")


def _assert_app(aws, name: str) -> None:
    env = ENVS[name]
    app = env.app
    out = _outputs(aws, env.stack_name)
    ecs = aws("ecs")
    (cluster,) = ecs.describe_clusters(clusters=[out["ClusterName"]], include=["SETTINGS"])[
        "clusters"
    ]
    assert {"name": "containerInsights", "value": "enhanced"} in cluster["settings"]
    READ.update({"AWS::ECS::Cluster", "AWS::ECS::ClusterCapacityProviderAssociations"})
    assert set(cluster["capacityProviders"]) == {"FARGATE", "FARGATE_SPOT"}

    (service,) = ecs.describe_services(cluster=out["ClusterName"], services=[out["ServiceName"]])[
        "services"
    ]
    assert service["desiredCount"] == app.desired_tasks
    assert [s["capacityProvider"] for s in service["capacityProviderStrategy"]] == [
        "FARGATE_SPOT" if app.spot else "FARGATE"
    ]
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    # dev (public-ips): no NAT, the tasks reach OpenAI and AWS with addresses of their own
    public = env.nat_mode is NatMode.PUBLIC_IPS
    assert network["assignPublicIp"] == ("ENABLED" if public else "DISABLED")
    assert sorted(network["subnets"]) == sorted(out["PrivateAppSubnetIds"].split(","))
    assert network["securityGroups"] == [out["AppSecurityGroupId"]]
    (balancer,) = service["loadBalancers"]
    assert balancer["targetGroupArn"] == out["ApiTargetGroupBlueArn"]
    deployment = service["deploymentConfiguration"]
    assert deployment["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert deployment["alarms"]["rollback"] is True
    assert deployment.get("strategy", "ROLLING") == app.deployment
    if app.deployment == "BLUE_GREEN":
        advanced = balancer["advancedConfiguration"]
        assert advanced["alternateTargetGroupArn"] == out["ApiTargetGroupGreenArn"]
        assert advanced["productionListenerRule"] == out["ApiProductionListenerRuleArn"]
        assert advanced["testListenerRule"] == out["ApiTestListenerRuleArn"]
        READ.add("AWS::IAM::Role")
    READ.add("AWS::ECS::Service")

    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert (task["cpu"], task["memory"]) == (str(app.cpu), str(app.memory))
    assert task["runtimePlatform"]["cpuArchitecture"] == env.architecture.value
    backend = next(c for c in task["containerDefinitions"] if c["name"] == "backend")
    assert backend["image"].endswith(f"/baseball-playback/backend:{app.image_tag}")
    assert backend["readonlyRootFilesystem"] is True and backend["user"] == "1000:1000"
    assert {s["name"] for s in backend["secrets"]} == {"DB_USER", "DB_PASSWORD", "OPENAI_API_KEY"}
    environment = {e["name"]: e["value"] for e in backend["environment"]}
    assert environment["DB_HOST"] == out["DatabaseEndpoint"]
    assert [c["name"] for c in task["containerDefinitions"]] == (
        ["backend", "adot-collector"] if app.xray else ["backend"]
    )
    READ.add("AWS::ECS::TaskDefinition")

    # A new OpenAI key or database secret (AWSCURRENT moved) starts the workflow that redeploys
    # this service.
    rule_name = f"baseball-playback-{name}-openai-key-redeploy"
    rule = aws("events").describe_rule(Name=rule_name)
    pattern = json.loads(rule["EventPattern"])
    assert pattern["detail-type"] == ["Secret Label Updated"]
    assert pattern["resources"][0] == out["OpenAiApiKeySecretArn"]
    assert pattern["resources"][1].split(":secret:")[1].startswith(f"baseball-playback-{name}-Data")
    assert "DatabaseAppSecret" in pattern["resources"][1]
    assert pattern["detail"] == {"labelUpdated": ["AWSCURRENT"]}
    (target,) = aws("events").list_targets_by_rule(Rule=rule_name)["Targets"]
    workflow = aws("stepfunctions").describe_state_machine(stateMachineArn=target["Arn"])
    assert workflow["name"] == rule_name and workflow["type"] == "STANDARD"
    step = json.loads(workflow["definition"])["States"]["ForceNewDeployment"]
    assert step["Resource"] == "arn:aws:states:::aws-sdk:ecs:updateService"
    assert step["Parameters"] == {
        "Cluster": out["ClusterName"], "Service": service["serviceArn"], "ForceNewDeployment": True
    }  # fmt: skip
    READ.update({"AWS::Events::Rule", "AWS::StepFunctions::StateMachine"})

    s3 = aws("s3")
    bucket = out["GameDataBucketName"]
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == out["DataKeyArn"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    task_role = _stack_resources(aws, env.stack_name)["TaskRole"]
    policy = json.dumps(
        aws("iam").get_role_policy(RoleName=task_role, PolicyName="least-privilege")
    )
    assert out["GameDataBucketArn"] in policy

    scaling = aws("application-autoscaling")
    resource_id = f"service/{out['ClusterName']}/{out['ServiceName']}"
    (target,) = scaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource_id]
    )["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (app.min_tasks, env.max_app_tasks)
    policies = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)[
        "ScalingPolicies"
    ]
    assert sorted(p["PolicyName"] for p in policies) == ["alb-requests-per-task", "cpu"]
    scheduled = scaling.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=resource_id)[
        "ScheduledActions"
    ]
    assert len(scheduled) == (2 if app.peak_start else 0)
    READ.update(
        {
            "AWS::ApplicationAutoScaling::ScalableTarget",
            "AWS::ApplicationAutoScaling::ScalingPolicy",
        }
    )


def _import_workflow(aws, name: str) -> dict:
    workflow_name = f"baseball-playback-{name}-retrosheet-import"
    workflows = aws("stepfunctions")
    (listed,) = [m for m in workflows.list_state_machines()["stateMachines"]
                 if m["name"] == workflow_name]  # fmt: skip
    return workflows.describe_state_machine(stateMachineArn=listed["stateMachineArn"])


def _assert_cache(aws, name: str) -> None:
    """The narration cache where the environment has one, and the URL the backend is given."""
    env = ENVS[name]
    out = _outputs(aws, env.stack_name)
    caches = aws("elasticache").describe_serverless_caches()["ServerlessCaches"]
    mine = [c for c in caches if c["ServerlessCacheName"].startswith(f"playback-{name}-")]
    if not env.app.cache:
        assert mine == [] and out["CacheUrl"] == ""
        return
    (cache,) = mine
    assert cache["ServerlessCacheName"] == f"playback-{name}-cache-{env.az_count}az"
    assert (cache["Engine"], cache["MajorEngineVersion"]) == ("valkey", "8")
    assert cache["KmsKeyId"] == out["DataKeyArn"]
    assert cache["SecurityGroupIds"] == [out["CacheSecurityGroupId"]]
    assert sorted(cache["SubnetIds"]) == sorted(out["PrivateAppSubnetIds"].split(","))
    assert cache["CacheUsageLimits"]["DataStorage"] == {"Maximum": 1, "Unit": "GB"}
    endpoint = cache["Endpoint"]
    assert out["CacheUrl"] == f"rediss://{endpoint['Address']}:{endpoint['Port']}"
    READ.add("AWS::ElastiCache::ServerlessCache")


def _assert_observability(aws, name: str) -> None:
    """The dashboard names this environment's resources; the error filter feeds its alarm."""
    env = ENVS[name]
    out = _outputs(aws, env.stack_name)
    dashboard = aws("cloudwatch").get_dashboard(DashboardName=f"baseball-playback-{name}")
    body = json.loads(dashboard["DashboardBody"])
    text = json.dumps(body)
    for output in ("ApiLoadBalancerFullName", "ClusterName", "ServiceName", "DatabaseInstanceId",
                   "SiteDistributionId"):  # fmt: skip
        assert out[output] in text, output
    assert "${" not in text  # every placeholder was substituted
    READ.add("AWS::CloudWatch::Dashboard")
    (log_filter,) = aws("logs").describe_metric_filters(logGroupName=out["AppLogGroupName"])[
        "metricFilters"
    ]
    (transformation,) = log_filter["metricTransformations"]
    assert transformation["metricNamespace"] == f"BaseballPlayback/Logs/{name}"
    alarms = aws("cloudwatch").describe_alarms(AlarmNamePrefix=env.stack_name)["MetricAlarms"]
    (errors,) = [a for a in alarms if "AppErrorsAlarm" in a["AlarmName"]]
    assert (errors["Namespace"], errors["Threshold"]) == (
        f"BaseballPlayback/Logs/{name}", env.app.error_log_alarm_count,
    )  # fmt: skip
    READ.add("AWS::Logs::MetricFilter")
    (latency,) = [a for a in alarms if "ApiLatencyAlarm" in a["AlarmName"]]
    assert latency["ExtendedStatistic"] == "p95"
    assert latency["Threshold"] == env.app.latency_p95_alarm_ms / 1000
    composites = aws("cloudwatch").describe_alarms(
        AlarmNamePrefix=env.stack_name, AlarmTypes=["CompositeAlarm"]
    )["CompositeAlarms"]
    (strained,) = [a for a in composites if "DatabaseStrainedAlarm" in a["AlarmName"]]
    signals = {a["AlarmName"] for a in alarms if "DatabaseCpuAlarm" in a["AlarmName"]
               or ("LatencyAlarm" in a["AlarmName"] and "Database" in a["AlarmName"])}  # fmt: skip
    assert len(signals) == 3 and all(f'ALARM("{s}")' in strained["AlarmRule"] for s in signals)
    assert strained["AlarmActions"] == [out["AlarmTopicArn"]]
    assert all(not a["AlarmActions"] for a in alarms if a["AlarmName"] in signals)
    READ.add("AWS::CloudWatch::CompositeAlarm")
    (rate,) = [a for a in alarms if "ApiErrorRateAlarm" in a["AlarmName"]]
    assert rate["Threshold"] == env.app.error_rate_alarm_percent
    assert {m["Id"] for m in rate["Metrics"]} == {"requests", "backend", "alb", "rate"}
    xray = aws("xray")
    group = xray.get_group(GroupName=f"playback-{name}-api")["Group"]
    assert group["FilterExpression"] == f'service("baseball-playback-{name}")'
    assert group["InsightsConfiguration"]["InsightsEnabled"] is True
    READ.add("AWS::XRay::Group")
    canary = aws("synthetics").get_canary(Name=f"{name}-site")["Canary"]
    minutes = env.canary_interval_minutes
    assert canary["Schedule"]["Expression"] == f"rate({minutes} minutes)"
    assert (canary["RuntimeVersion"], canary["Code"]["Handler"]) == (
        "syn-nodejs-puppeteer-15.0", "index.handler",
    )  # fmt: skip
    assert canary["Status"]["State"] == "RUNNING"
    bucket, prefix = canary["ArtifactS3Location"].split("/", 1)
    assert prefix == "canary"
    rules = aws("s3").get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    role = canary["ExecutionRoleArn"].rsplit("/", 1)[1]
    assert aws("iam").get_role(RoleName=role)["Role"]["Arn"] == canary["ExecutionRoleArn"]
    (site,) = [a for a in alarms if "SiteCanaryAlarm" in a["AlarmName"]]
    assert (site["Namespace"], site["MetricName"], site["Period"]) == (
        "CloudWatchSynthetics", "SuccessPercent", minutes * 60,
    )  # fmt: skip
    assert site["Dimensions"] == [{"Name": "CanaryName", "Value": canary["Name"]}]
    assert site["AlarmActions"] == [out["AlarmTopicArn"]]
    READ.add("AWS::Synthetics::Canary")

    budgets = aws("budgets")
    budget = budgets.describe_budget(
        AccountId="000000000000", BudgetName=f"baseball-playback-{name}"
    )["Budget"]
    assert float(budget["BudgetLimit"]["Amount"]) == env.monthly_budget_usd
    assert budget["CostFilters"] == {"TagKeyValue": [f"user:Environment${name}"]}
    notifications = budgets.describe_notifications_for_budget(
        AccountId="000000000000", BudgetName=budget["BudgetName"]
    )["Notifications"]
    assert {(n["NotificationType"], n["Threshold"]) for n in notifications} == {
        ("ACTUAL", 80.0), ("FORECASTED", 100.0),
    }  # fmt: skip
    ce = aws("ce")
    (monitor,) = [m for m in ce.get_anomaly_monitors()["AnomalyMonitors"]
                  if m["MonitorName"] == f"baseball-playback-{name}"]  # fmt: skip
    assert monitor["MonitorSpecification"]["Tags"]["Values"] == [name]
    (subscription,) = [s for s in ce.get_anomaly_subscriptions()["AnomalySubscriptions"]
                       if s["SubscriptionName"] == f"baseball-playback-{name}"]  # fmt: skip
    assert subscription["MonitorArnList"] == [monitor["MonitorArn"]]
    assert subscription["Subscribers"] == [{"Type": "SNS", "Address": out["AlarmTopicArn"]}]
    READ.update({"AWS::Budgets::Budget", "AWS::CE::AnomalyMonitor", "AWS::CE::AnomalySubscription"})


def _assert_game_data(aws, name: str) -> None:
    """The import job: its cluster, task, workflow, trigger, dead letters and alarms."""
    env = ENVS[name]
    out = _outputs(aws, env.stack_name)
    ecs = aws("ecs")
    (cluster,) = ecs.describe_clusters(
        clusters=[f"baseball-playback-{name}-jobs"], include=["SETTINGS"]
    )["clusters"]
    assert {"name": "containerInsights", "value": "enabled"} in cluster["settings"]
    workflow = _import_workflow(aws, name)
    definition = json.loads(workflow["definition"])
    (branch,) = definition["States"]["Import"]["Branches"]
    run = branch["States"]["RunImporter"]
    assert run["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert run["Parameters"]["Cluster"] == cluster["clusterArn"]
    network = run["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["SecurityGroups"] == [out["JobsSecurityGroupId"]]
    public = ENVS[name].nat_mode is NatMode.PUBLIC_IPS  # dev: no NAT, the task's own address
    assert network["AssignPublicIp"] == ("ENABLED" if public else "DISABLED")
    assert out["PrivateAppSubnetIds"] in network["Subnets.$"]
    (override,) = run["Parameters"]["Overrides"]["ContainerOverrides"]
    assert out["DatabaseMigrationSecretArn"] in override["Command.$"]
    assert branch["States"]["ImporterExitCode"]["Default"] == "ImportRejected"
    assert definition["States"]["Import"]["Retry"][0]["ErrorEquals"] == ["ImporterBusy"]
    READ.add("AWS::StepFunctions::StateMachine")

    task = ecs.describe_task_definition(taskDefinition=run["Parameters"]["TaskDefinition"])[
        "taskDefinition"
    ]
    assert (task["cpu"], task["memory"]) == (str(env.jobs.import_cpu), str(env.jobs.import_memory))
    assert task["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    (importer,) = task["containerDefinitions"]
    assert importer["image"].endswith(f"/baseball-playback/jobs:{env.jobs.image_tag}")
    assert importer["readonlyRootFilesystem"] is True
    assert importer["stopTimeout"] == 60
    group = importer["logConfiguration"]["options"]["awslogs-group"]
    (log_group,) = aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert log_group["retentionInDays"] == env.jobs.log_retention_days
    assert log_group["kmsKeyId"] == out["LogsKeyArn"]
    role_name = task["taskRoleArn"].rsplit("/", 1)[1]
    policy = json.dumps(
        aws("iam").get_role_policy(RoleName=role_name, PolicyName="least-privilege")
    )
    assert out["GameDataBucketArn"] in policy and out["DatabaseMigrationSecretArn"] in policy
    assert out["DatabaseAppSecretArn"] not in policy

    events = aws("events")
    rule_name = f"baseball-playback-{name}-retrosheet-import"
    pattern = json.loads(events.describe_rule(Name=rule_name)["EventPattern"])
    assert pattern["detail"] == {
        "bucket": {"name": [out["GameDataBucketName"]]},
        "object": {"key": [{"wildcard": "releases/*/SHA256SUMS"}]},
    }
    (target,) = events.list_targets_by_rule(Rule=rule_name)["Targets"]
    assert target["Arn"] == workflow["stateMachineArn"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 24, "MaximumEventAgeInSeconds": 3600}
    queue_arn = target["DeadLetterConfig"]["Arn"]
    sqs = aws("sqs")
    queue_url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["SqsManagedSseEnabled"] == "true"
    queue_policy = json.loads(attributes["Policy"])
    assert queue_policy["Statement"][0]["Condition"]["StringEquals"]["aws:SourceArn"].endswith(
        f":rule/{rule_name}"
    )
    READ.update({"AWS::SQS::Queue", "AWS::SQS::QueuePolicy"})

    alarms = {
        a["AlarmName"]: a
        for a in aws("cloudwatch").describe_alarms(AlarmNamePrefix=env.stack_name)["MetricAlarms"]
    }
    failed = next(a for n, a in alarms.items() if "ImportFailedAlarm" in n)
    assert {m["Id"] for m in failed["Metrics"]} == {
        "executionsfailed", "executionstimedout", "executionsaborted", "unfinished",
    }  # fmt: skip
    not_started = next(a for n, a in alarms.items() if "ImportNotStartedAlarm" in n)
    assert not_started["Dimensions"] == [
        {"Name": "QueueName", "Value": queue_arn.rsplit(":", 1)[1]}
    ]
    assert not_started["AlarmActions"] == [out["AlarmTopicArn"]]


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_deploy_reads_back_every_stack(endpoint, aws, capsys, name):
    out = _deploy(endpoint, name, capsys)
    assert f"{ENVS[name].stack_name}: CREATE_COMPLETE" in out
    _assert_network(aws, name)
    _assert_security(aws, name)
    _assert_data(aws, name)
    _assert_ingress(aws, name)
    _assert_web(aws, name)
    _assert_app(aws, name)
    _assert_game_data(aws, name)
    _assert_cache(aws, name)
    _assert_observability(aws, name)


def test_frontend_config_reads_the_deployed_stack(endpoint, capsys):
    argv = ["frontend-config", "--env", "staging", "--build-version", "3f2a1c9", "--endpoint-url"]
    assert main([*argv, endpoint]) == EXIT_OK
    content = json.loads(capsys.readouterr().out)
    assert content["siteUrl"] == "https://staging.playback.example.com"
    assert (content["environment"], content["apiBasePath"]) == ("staging", "/api")
    assert content["buildVersion"] == "3f2a1c9"
    assert content["features"]["debugPanel"] is False


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_second_deploy_without_changes_changes_nothing(endpoint, capsys, name):
    assert f"{ENVS[name].stack_name}: no changes" in _deploy(endpoint, name, capsys)


def test_a_new_openai_key_redeploys_the_backend(aws):
    """put-secret-value, as the runbook says, and nothing else: Secrets Manager's event, the
    rule, the workflow and ECS UpdateService give the service a new deployment."""
    out = _outputs(aws, ENVS["staging"].stack_name)
    ecs, workflows = aws("ecs"), aws("stepfunctions")
    name = f"baseball-playback-{ENVS['staging'].name}-openai-key-redeploy"
    (workflow,) = [m for m in workflows.list_state_machines()["stateMachines"] if m["name"] == name]

    def deployments() -> set[str]:
        (service,) = ecs.describe_services(
            cluster=out["ClusterName"], services=[out["ServiceName"]]
        )["services"]
        return {d["id"] for d in service["deployments"]}

    before = deployments()
    aws("secretsmanager").put_secret_value(
        SecretId=out["OpenAiApiKeySecretArn"], SecretString="sk-test-new-key"
    )
    deadline = time.monotonic() + 20
    executions = []
    while time.monotonic() < deadline and not executions:
        executions = [
            e for e in workflows.list_executions(stateMachineArn=workflow["stateMachineArn"])[
                "executions"] if e["status"] != "RUNNING"
        ]  # fmt: skip
        time.sleep(0.2)
    assert [e["status"] for e in executions] == ["SUCCEEDED"]
    assert deployments() - before  # a new deployment, its tasks read the new key


def test_an_uploaded_manifest_starts_the_import_of_its_release(aws):
    """Uploading a release, as docs/game-data.md says: its files first (they start nothing),
    then SHA256SUMS, whose Object Created event starts the workflow with the bucket and key.
    ministack runs no containers, so the import task itself stays scheduled: what it does is
    proven against MariaDB by the importer's own tests."""
    env = ENVS["staging"]
    out = _outputs(aws, env.stack_name)
    workflow = _import_workflow(aws, env.name)
    workflows, s3 = aws("stepfunctions"), aws("s3")
    bucket = out["GameDataBucketName"]

    def executions() -> list[dict]:
        return workflows.list_executions(stateMachineArn=workflow["stateMachineArn"])["executions"]

    s3.put_object(Bucket=bucket, Key="releases/2023/2023NYA.EVA", Body=b"id,NYA202303300\n")
    s3.put_object(Bucket=bucket, Key="notes/SHA256SUMS", Body=b"not a release\n")
    time.sleep(1)
    assert executions() == []
    s3.put_object(Bucket=bucket, Key="releases/2023/SHA256SUMS", Body=b"0  2023NYA.EVA\n")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not executions():
        time.sleep(0.2)
    (execution,) = executions()
    started = workflows.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(started["input"]) == {"bucket": bucket, "key": "releases/2023/SHA256SUMS"}

    def steps() -> list[str]:
        events = workflows.get_execution_history(executionArn=execution["executionArn"])["events"]
        return [e["type"] for e in events]

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "TaskScheduled" not in steps():
        time.sleep(0.2)
    assert "TaskScheduled" in steps()  # the import task was asked for


def test_parameter_update_reaches_the_resources(aws):
    """dev from public task IPs (no NAT) to a NAT per AZ, and a longer flow-log retention."""
    env = ENVS["dev"]
    cfn = aws("cloudformation")
    stack = cfn.describe_stacks(StackName=env.stack_name)["Stacks"][0]
    changed = {"NatMode": "per-az", "FlowLogRetentionDays": "60"}
    cfn.update_stack(
        StackName=env.stack_name,
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": p["ParameterKey"], "ParameterValue": changed[p["ParameterKey"]]}
            if p["ParameterKey"] in changed
            else {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
            for p in stack["Parameters"]
        ],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    assert _wait(aws, env.stack_name) == "UPDATE_COMPLETE"
    out = _outputs(aws, env.stack_name)
    nats = aws("ec2").describe_nat_gateways(Filters=_vpc_filter(out["VpcId"]))["NatGateways"]
    assert len([n for n in nats if n["State"] == "available"]) == 2
    (group,) = aws("logs").describe_log_groups(logGroupNamePrefix=out["FlowLogGroupName"])[
        "logGroups"
    ]
    assert group["retentionInDays"] == 60


def _stack_resources(aws, stack_name: str) -> dict[str, str]:
    """Physical ID by logical ID, across the root and its nested stacks."""
    cfn = aws("cloudformation")
    found = {}
    for resource in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]:
        if resource["ResourceType"] == "AWS::CloudFormation::Stack":
            found |= _stack_resources(aws, resource["PhysicalResourceId"])
        found[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    return found


def _delete(aws, stack_name: str) -> str | None:
    """Delete a stack; its final status, or None once it is gone."""
    aws("cloudformation").delete_stack(StackName=stack_name)
    try:
        return _wait(aws, stack_name)
    except ClientError as error:
        assert "does not exist" in str(error)
        return None


def test_dev_delete_removes_everything_and_the_environment_is_built_again(endpoint, aws, capsys):
    env = ENVS["dev"]
    out = _outputs(aws, env.stack_name)
    physical = _stack_resources(aws, env.stack_name)
    assert _delete(aws, env.stack_name) is None

    ec2 = aws("ec2")
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [out["VpcId"]]}])["Vpcs"] == []
    nats = ec2.describe_nat_gateways(Filters=_vpc_filter(out["VpcId"]))["NatGateways"]
    assert all(n["State"] == "deleted" for n in nats)
    groups = ec2.describe_security_groups()["SecurityGroups"]
    assert not {g["GroupId"] for g in groups} & {
        v for k, v in out.items() if k.endswith("SecurityGroupId")
    }
    kms = aws("kms")
    for key in ("DataKeyArn", "LogsKeyArn"):
        state = kms.describe_key(KeyId=out[key].rsplit("/", 1)[1])["KeyMetadata"]["KeyState"]
        assert state == "PendingDeletion"
    logs = aws("logs")
    assert logs.describe_log_groups(logGroupNamePrefix=out["FlowLogGroupName"])["logGroups"] == []
    assert physical["FlowLogGroup"] == out["FlowLogGroupName"]
    rds = aws("rds")
    assert out["DatabaseInstanceId"] not in {
        i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]
    }
    assert (
        rds.describe_db_snapshots(DBInstanceIdentifier=out["DatabaseInstanceId"])["DBSnapshots"]
        == []
    )

    # The environment can be built again from the same templates and parameters.
    assert f"{env.stack_name}: CREATE_COMPLETE" in _deploy(endpoint, "dev", capsys)
    _assert_network(aws, "dev")
    _assert_data(aws, "dev")


def test_prod_delete_is_refused_by_the_database_and_keeps_data_when_forced(aws):
    env = ENVS["prod"]
    out = _outputs(aws, env.stack_name)
    rds = aws("rds")
    assert _delete(aws, env.stack_name) == "DELETE_FAILED"
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=out["DatabaseInstanceId"])[
        "DBInstances"
    ]
    assert instance["DBInstanceStatus"] == "available"

    # An operator who really means it turns deletion protection off first (database and ALB).
    aws("elbv2").modify_load_balancer_attributes(
        LoadBalancerArn=out["ApiLoadBalancerArn"],
        Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}],
    )
    rds.modify_db_instance(DBInstanceIdentifier=out["DatabaseInstanceId"], DeletionProtection=False,
                           ApplyImmediately=True)  # fmt: skip
    assert _delete(aws, env.stack_name) is None
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=out["DatabaseInstanceId"])[
        "DBSnapshots"
    ]
    assert len(snapshots) == 1, "DeletionPolicy Snapshot leaves a final snapshot"
    kms = aws("kms")
    for key in ("DataKeyArn", "LogsKeyArn"):
        state = kms.describe_key(KeyId=out[key].rsplit("/", 1)[1])["KeyMetadata"]["KeyState"]
        assert state == "Enabled"
    secrets = aws("secretsmanager")
    for output in (
        "DatabaseAppSecretArn",
        "DatabaseMigrationSecretArn",
        "DatabaseReportingSecretArn",
    ):
        assert secrets.describe_secret(SecretId=out[output]).get("DeletedDate") is None
    logs = aws("logs")
    assert (
        len(logs.describe_log_groups(logGroupNamePrefix=out["FlowLogGroupName"])["logGroups"]) == 1
    )
    db_logs = logs.describe_log_groups(
        logGroupNamePrefix=f"/aws/rds/instance/{out['DatabaseInstanceId']}/"
    )
    assert len(db_logs["logGroups"]) == 2


def test_awscli_v1_package_and_deploy_with_key_value_overrides(tmp_path):
    """The runbooks' awscli-only deploy, in a fresh emulator: package, then deploy with
    the overrides `playback-infra parameters` prints, one word per line."""
    aws_cli = str(Path(sys.executable).with_name("aws"))
    cli_env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
               "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip

    def run(*args: str) -> str:
        done = subprocess.run(args, capture_output=True, text=True, env=cli_env, cwd=REPO_ROOT)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    with run_emulator() as endpoint:
        # AWS_ENDPOINT_URL points every client at the emulator, including package's S3 client.
        cli_env["AWS_ENDPOINT_URL"] = endpoint
        run(aws_cli, "s3", "mb", "s3://artifacts")
        packaged = tmp_path / "packaged.yaml"
        run(aws_cli, "cloudformation", "package", "--template-file", "templates/root.yaml",
            "--s3-bucket", "artifacts", "--output-template-file", str(packaged))  # fmt: skip
        assert f"TemplateURL: {endpoint}/artifacts/" in packaged.read_text()
        playback = [sys.executable, "-m", "playback_infra", "parameters", "staging"]
        tags = run(*playback, "--format", "tags").splitlines()
        ensure_zones(_clients(endpoint)("route53"), ENVS["staging"])  # as the account has them
        # First the edge-global stack in us-east-1, then the root with its outputs.
        edge = f"{ENVS['staging'].stack_name}-edge-global"
        edge_overrides = run(*playback, "--stack", "edge-global").splitlines()
        run(aws_cli, "cloudformation", "deploy", "--region", "us-east-1",
            "--template-file", "templates/edge-global.yaml", "--stack-name", edge,
            "--parameter-overrides", *edge_overrides, "--tags", *tags,
            "--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")  # fmt: skip
        edge_outputs = run(aws_cli, "cloudformation", "describe-stacks", "--region", "us-east-1",
            "--stack-name", edge, "--output", "text",
            "--query", "Stacks[0].Outputs[].join('=', [OutputKey, OutputValue])").split()  # fmt: skip
        assert sorted(o.split("=")[0] for o in edge_outputs) == [
            "SiteCertificateArn",
            "SiteWebAclArn",
        ]
        overrides = run(*playback).splitlines() + edge_outputs
        run(aws_cli, "cloudformation", "deploy", "--template-file", str(packaged),
            "--stack-name", ENVS["staging"].stack_name, "--parameter-overrides", *overrides,
            "--tags", *tags, "--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")  # fmt: skip
        _assert_network(_clients(endpoint), "staging")
        stack = _clients(endpoint)("cloudformation").describe_stacks(
            StackName=ENVS["staging"].stack_name
        )["Stacks"][0]
        assert {t["Key"]: t["Value"] for t in stack["Tags"]}["Environment"] == "staging"


def test_registry_deploys_and_reads_back(aws):
    """templates/registry.yaml, deployed on its own as each account does once."""
    cfn = aws("cloudformation")
    cfn.create_stack(
        StackName="baseball-playback-registry",
        TemplateBody=(REPO_ROOT / "templates" / "registry.yaml").read_text(),
    )
    assert _wait(aws, "baseball-playback-registry") == "CREATE_COMPLETE"
    ecr = aws("ecr")
    repositories = {
        r["repositoryName"]: r
        for r in ecr.describe_repositories(
            repositoryNames=["baseball-playback/backend", "baseball-playback/jobs"]
        )["repositories"]
    }
    key = _outputs(aws, "baseball-playback-registry")
    assert set(key) == {"BackendRepositoryUri", "JobsRepositoryUri"}
    for name, repository in repositories.items():
        assert repository["imageTagMutability"] == "IMMUTABLE"
        assert repository["imageScanningConfiguration"]["scanOnPush"] is True
        assert repository["encryptionConfiguration"]["encryptionType"] == "KMS"
        lifecycle = json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
        assert [r["selection"]["tagStatus"] for r in lifecycle["rules"]] == ["untagged", "tagged"]
        policy = json.loads(ecr.get_repository_policy(repositoryName=name)["policyText"])
        assert policy["Statement"][0]["Effect"] == "Deny"
    READ.add("AWS::ECR::Repository")


def test_account_baseline_deploys_and_reads_back(aws):
    """templates/account-baseline.yaml, deployed on its own as each account does once."""
    cfn = aws("cloudformation")
    cfn.create_stack(
        StackName="baseball-playback-account-baseline",
        TemplateBody=(REPO_ROOT / "templates" / "account-baseline.yaml").read_text(),
        Parameters=[{"ParameterKey": "FindingsEmail", "ParameterValue": "security@example.com"}],
        Capabilities=["CAPABILITY_IAM"],
    )
    assert _wait(aws, "baseball-playback-account-baseline") == "CREATE_COMPLETE"
    outputs = _outputs(aws, "baseball-playback-account-baseline")

    detector = aws("guardduty").get_detector(DetectorId=outputs["GuardDutyDetectorId"])
    assert detector["Status"] == "ENABLED"
    features = {f["Name"]: f["Status"] for f in detector["Features"]}
    assert {n for n, s in features.items() if s == "ENABLED"} == {
        "S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "LAMBDA_NETWORK_LOGS",
    }  # fmt: skip
    assert features["RUNTIME_MONITORING"] == "DISABLED"
    READ.add("AWS::GuardDuty::Detector")

    securityhub = aws("securityhub")
    hub = securityhub.describe_hub()
    assert hub["HubArn"] == outputs["SecurityHubArn"]
    assert hub["ControlFindingGenerator"] == "SECURITY_CONTROL"
    assert hub["AutoEnableControls"] is True
    READ.add("AWS::SecurityHub::Hub")
    standards = securityhub.get_enabled_standards()["StandardsSubscriptions"]
    assert [s["StandardsArn"] for s in standards] == [
        "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0"
    ]  # the default standards (CIS among them) stay off
    assert standards[0]["StandardsStatus"] == "READY"
    READ.add("AWS::SecurityHub::Standard")

    scanning = aws("ecr").get_registry_scanning_configuration()["scanningConfiguration"]
    assert scanning["scanType"] == "ENHANCED"
    assert scanning["rules"] == [{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [
        {"filter": "baseball-playback/*", "filterType": "WILDCARD"}]}]  # fmt: skip
    (account,) = aws("inspector2").batch_get_account_status()["accounts"]
    assert account["resourceState"]["ecr"]["status"] == "ENABLED"
    READ.add("AWS::ECR::RegistryScanningConfiguration")

    resources = _stack_resources(aws, "baseball-playback-account-baseline")
    recording = aws("config")
    (recorder,) = recording.describe_configuration_recorders()["ConfigurationRecorders"]
    assert recorder["recordingGroup"]["allSupported"] is True
    assert recorder["recordingGroup"]["includeGlobalResourceTypes"] is True
    assert recorder["roleARN"].endswith("/" + resources["ConfigRecorderRole"])
    (status,) = recording.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert status["recording"] is True  # started once the delivery channel existed
    READ.add("AWS::Config::ConfigurationRecorder")
    (channel,) = recording.describe_delivery_channels()["DeliveryChannels"]
    assert channel["s3BucketName"] == resources["ConfigHistoryBucket"]
    assert channel["s3KmsKeyArn"].endswith(resources["BaselineKey"])
    READ.add("AWS::Config::DeliveryChannel")

    events = aws("events")
    rules = {
        title: events.describe_rule(Name=resources[title])
        for title in ("GuardDutyFindingsRule", "SecurityHubFindingsRule")
    }
    guardduty_pattern = json.loads(rules["GuardDutyFindingsRule"]["EventPattern"])
    assert guardduty_pattern["detail"] == {"severity": [{"numeric": [">=", 7]}]}
    findings = json.loads(rules["SecurityHubFindingsRule"]["EventPattern"])["detail"]["findings"]
    assert findings["Severity"] == {"Label": ["CRITICAL"]}
    topic = outputs["FindingsTopicArn"]
    for rule in rules.values():
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        assert [t["Arn"] for t in targets] == [topic]
    policy = json.loads(aws("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert set(policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]) == {
        r["Arn"] for r in rules.values()
    }

    cloudtrail = aws("cloudtrail")
    (trail,) = cloudtrail.describe_trails(trailNameList=[outputs["CloudTrailName"]])["trailList"]
    assert trail["IsMultiRegionTrail"] is trail["IncludeGlobalServiceEvents"] is True
    assert trail["LogFileValidationEnabled"] is True
    assert trail["S3BucketName"] == resources["TrailBucket"]
    assert trail["KmsKeyId"].endswith(resources["BaselineKey"])
    assert cloudtrail.get_trail_status(Name=outputs["CloudTrailName"])["IsLogging"] is True
    READ.add("AWS::CloudTrail::Trail")
    trail_policy = json.loads(
        aws("s3").get_bucket_policy(Bucket=resources["TrailBucket"])["Policy"]
    )
    assert {s["Sid"] for s in trail_policy["Statement"]} == {
        "CloudTrailChecksTheAcl", "CloudTrailWritesLogs", "TlsOnly", "NoDeletes",
    }  # fmt: skip

    assert _delete(aws, "baseball-playback-account-baseline") is None
    assert cloudtrail.describe_trails(trailNameList=[outputs["CloudTrailName"]])["trailList"] == []
    assert aws("guardduty").list_detectors()["DetectorIds"] == []
    with pytest.raises(ClientError, match="not subscribed"):
        securityhub.describe_hub()
    scanning = aws("ecr").get_registry_scanning_configuration()["scanningConfiguration"]
    assert scanning["scanType"] == "BASIC"
    assert recording.describe_configuration_recorders()["ConfigurationRecorders"] == []


def test_account_baseline_where_an_organization_enabled_guardduty_security_hub_and_a_trail(aws):
    """The switches an AWS Organizations account sets (docs/security.md): the stack then makes
    no detector, hub or trail, which the organization's would collide with."""
    cfn = aws("cloudformation")
    switches = {"EnableGuardDuty": "false", "EnableSecurityHub": "false", "RecordTrail": "false"}
    cfn.create_stack(
        StackName="baseball-playback-account-baseline-org",
        TemplateBody=(REPO_ROOT / "templates" / "account-baseline.yaml").read_text(),
        Parameters=[
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in {"FindingsEmail": "security@example.com", **switches}.items()
        ],
        Capabilities=["CAPABILITY_IAM"],
    )
    assert _wait(aws, "baseball-playback-account-baseline-org") == "CREATE_COMPLETE"
    outputs = _outputs(aws, "baseball-playback-account-baseline-org")
    assert set(outputs) == {"FindingsTopicArn"}
    assert aws("guardduty").list_detectors()["DetectorIds"] == []
    with pytest.raises(ClientError, match="not subscribed"):
        aws("securityhub").describe_hub()
    assert aws("cloudtrail").describe_trails()["trailList"] == []
    assert _delete(aws, "baseball-playback-account-baseline-org") is None


def test_pipeline_target_deploys_and_reads_back(aws):
    """templates/pipeline-target.yaml, deployed on its own as each environment account does once:
    the deploy and execution roles, the execution role's generated managed policies."""
    stack_name, pipeline_account = "baseball-playback-pipeline-target", "444455556666"
    buckets = "baseball-playback-artifacts-444455556666-us-east-1"
    key = "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    aws("cloudformation").create_stack(
        StackName=stack_name,
        TemplateBody=(REPO_ROOT / "templates" / "pipeline-target.yaml").read_text(),
        Parameters=[
            {"ParameterKey": "PipelineAccountId", "ParameterValue": pipeline_account},
            {"ParameterKey": "ArtifactBucketNames", "ParameterValue": buckets},
            {"ParameterKey": "ArtifactKeyArns", "ParameterValue": key},
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    assert _wait(aws, stack_name) == "CREATE_COMPLETE"
    out, iam = _outputs(aws, stack_name), aws("iam")

    deploy = iam.get_role(RoleName="baseball-playback-pipeline-deploy")["Role"]
    assert out["DeployRoleArn"] == deploy["Arn"]
    (trust,) = deploy["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": [f"arn:aws:iam::{pipeline_account}:root"]}
    assert trust["Condition"]["ArnLike"]["aws:PrincipalArn"].endswith(
        f"{pipeline_account}:role/baseball-playback-pipeline-*"
    )
    inline = iam.get_role_policy(RoleName=deploy["RoleName"], PolicyName="deploy")
    statements = {s["Sid"]: s for s in inline["PolicyDocument"]["Statement"]}
    assert statements["PassExecutionRole"]["Resource"] == [out["ExecutionRoleArn"]]
    assert f"arn:*:s3:::{buckets}/*" in statements["Artifacts"]["Resource"]
    assert statements["ArtifactKeys"]["Resource"] == [key]

    execution = iam.get_role(RoleName="baseball-playback-pipeline-cfn-exec")["Role"]
    assert out["ExecutionRoleArn"] == execution["Arn"]
    (trust,) = execution["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["cloudformation.amazonaws.com"]}
    attached = iam.list_attached_role_policies(RoleName=execution["RoleName"])["AttachedPolicies"]
    generated = execution_permissions.policies()
    assert len(attached) == len(generated)
    granted = set()
    for policy in attached:
        version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)[
            "PolicyVersion"
        ]["Document"]
        document = json.loads(unquote(document)) if isinstance(document, str) else document
        granted |= {a for s in document["Statement"] for a in s["Action"]}
    assert granted == {
        a for statements in generated for s in statements for a in encode_to_dict(s)["Action"]
    }
    assert set(execution_permissions.actions()) <= granted
    guards = iam.get_role_policy(RoleName=execution["RoleName"], PolicyName="artifacts-and-guards")
    assert {s["Effect"] for s in guards["PolicyDocument"]["Statement"]} == {"Allow", "Deny"}

    # Not the pipeline's account: the pipeline account may replicate its images here.
    registry = json.loads(aws("ecr").get_registry_policy()["policyText"])
    (replication,) = registry["Statement"]
    assert replication["Principal"] == {"AWS": [f"arn:aws:iam::{pipeline_account}:root"]}
    assert sorted(replication["Action"]) == ["ecr:CreateRepository", "ecr:ReplicateImage"]
    assert replication["Resource"][0].endswith(":repository/baseball-playback/*")
    assert _delete(aws, stack_name) is None
    with pytest.raises(ClientError, match="RegistryPolicyNotFoundException"):
        aws("ecr").get_registry_policy()
    READ.update({"AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::ECR::RegistryPolicy"})


# What runs in prod only once approved (the infrastructure's plan and edge stack run before: the
# approval links the plan's change set).
APPROVED_IN_PROD = {
    pipeline.INFRA: ["Apply", "Migrate", "Smoke"],
    pipeline.BACKEND: ["Migrate", "Release", "Smoke"],
    pipeline.FRONTEND: ["Publish", "Smoke"],
}


def _pipeline_clients(endpoint: str, region: str):
    """Clients as the delivery account: the template's rule admits only its account, and
    ministack takes a 12-digit access key ID as the account."""
    session = boto3.session.Session(
        aws_access_key_id=delivery().account_id, aws_secret_access_key="test", region_name=region
    )
    return lambda service: session.client(service, endpoint_url=endpoint)


def _deploy_pipeline(aws, endpoint: str, **changed: str) -> str:
    """Create templates/pipeline.yaml (over 51,200 bytes: from S3) with parameters/delivery/pipeline.json,
    or update it with `changed` parameters; the final status."""
    given = json.loads((REPO_ROOT / "parameters" / "delivery" / "pipeline.json").read_text())
    aws("s3").put_object(
        Bucket="pipeline-templates",
        Key="pipeline.yaml",
        Body=(REPO_ROOT / "templates" / "pipeline.yaml").read_bytes(),
    )
    request = {
        "StackName": pipeline.STACK_NAME,
        "TemplateURL": f"{endpoint}/pipeline-templates/pipeline.yaml",
        "Parameters": [
            {"ParameterKey": k, "ParameterValue": changed.get(k, v)}
            for k, v in given["Parameters"].items()
        ],
        "Tags": [{"Key": k, "Value": v} for k, v in given["Tags"].items()],
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
    }
    cfn = aws("cloudformation")
    (cfn.update_stack if changed else cfn.create_stack)(**request)
    return _wait(aws, pipeline.STACK_NAME)


def _assert_pipelines(aws, resources: dict[str, str], branch: str) -> None:
    """The three pipelines as GetPipeline shows them: stages in order, the self-update, an
    approval before anything reaches prod, triggers on the branch."""
    iam, d = aws("iam"), delivery()
    role = iam.get_role(RoleName=resources["PipelineRole"])["Role"]
    key_arn = aws("kms").describe_key(KeyId=resources["ArtifactKey"])["KeyMetadata"]["Arn"]
    envs = [env.name.capitalize() for env in environments()]
    declared = {}
    for name, first in ((pipeline.INFRA, ["Source", "Build", "UpdatePipeline"]),
                        (pipeline.BACKEND, ["Source", "Build"]),
                        (pipeline.FRONTEND, ["Source", "Build"])):  # fmt: skip
        answer = aws("codepipeline").get_pipeline(name=name)
        declared[name] = p = answer["pipeline"]
        assert answer["metadata"]["pipelineArn"].endswith(f":{d.account_id}:{name}")
        assert [s["name"] for s in p["stages"]] == first + envs
        assert (p["pipelineType"], p["executionMode"]) == ("V2", "SUPERSEDED")
        assert p["roleArn"] == role["Arn"]
        assert p["artifactStore"] == {
            "type": "S3",
            "location": resources["ArtifactBucket"],
            "encryptionKey": {"type": "KMS", "id": key_arn},
        }
        (trigger,) = p["triggers"]
        source = trigger["gitConfiguration"]["sourceActionName"]
        (source_action,) = [a for a in p["stages"][0]["actions"] if a["name"] == source]
        assert source_action["configuration"]["BranchName"] == branch
        assert source_action["configuration"]["ConnectionArn"] == resources["RepositoryConnection"]
        assert trigger["gitConfiguration"]["push"][0]["branches"]["includes"] == [branch]
        for stage in p["stages"][len(first) :]:
            if name != pipeline.INFRA:
                assert stage["onFailure"] == {"result": "ROLLBACK"}
            actions = sorted(stage["actions"], key=lambda a: a["runOrder"])
            approvals = [a for a in actions if a["actionTypeId"]["category"] == "Approval"]
            if stage["name"] != "Prod":
                assert approvals == []
                continue
            (approve,) = approvals
            assert approve["configuration"]["NotificationArn"] == resources["NotificationTopic"]
            after = [a["name"] for a in actions if a["runOrder"] > approve["runOrder"]]
            assert after == APPROVED_IN_PROD[name]
    (self_update, restart) = declared[pipeline.INFRA]["stages"][2]["actions"]
    assert self_update["actionTypeId"] == {
        "category": "Deploy", "owner": "AWS", "provider": "CloudFormation", "version": "1"
    }  # fmt: skip
    self_update_role = iam.get_role(RoleName=resources["SelfUpdateRole"])["Role"]
    assert self_update["configuration"] == {
        "ActionMode": "CREATE_UPDATE",
        "StackName": pipeline.STACK_NAME,
        "TemplatePath": "Build::templates/pipeline.yaml",
        "TemplateConfiguration": "Build::parameters/delivery/pipeline.json",
        "Capabilities": "CAPABILITY_NAMED_IAM",
        "RoleArn": self_update_role["Arn"],
    }
    assert restart["runOrder"] > self_update["runOrder"]
    READ.add("AWS::CodePipeline::Pipeline")


def _assert_pipeline_stack(aws, resources: dict[str, str], email: str) -> None:
    """Everything else the pipeline stack makes, read back through its own API."""
    d = delivery()
    connection = aws("codeconnections").get_connection(
        ConnectionArn=resources["RepositoryConnection"]
    )["Connection"]
    assert (connection["ConnectionName"], connection["ProviderType"]) == (
        "baseball-playback", "GitHub"
    )  # fmt: skip
    assert connection["ConnectionStatus"] == "PENDING"  # until its console handshake
    READ.add("AWS::CodeConnections::Connection")
    key = aws("kms").describe_key(KeyId=resources["ArtifactKey"])["KeyMetadata"]

    projects = {
        p["name"]: p
        for p in aws("codebuild").batch_get_projects(
            names=[f"baseball-playback-{row[1]}" for row in pipeline.PROJECTS]
        )["projects"]
    }
    assert len(projects) == len(pipeline.PROJECTS)
    for _title, name, role, spec, compute, docker, _cache, timeout in pipeline.PROJECTS:
        project = projects[f"baseball-playback-{name}"]
        assert (
            project["source"]["buildspec"] == (REPO_ROOT / "pipeline" / f"{spec}.yml").read_text()
        )
        assert project["environment"]["computeType"] == compute
        assert project["environment"].get("privilegedMode", False) is docker
        assert project["serviceRole"].endswith(f":role/baseball-playback-pipeline-{role}")
        assert project["timeoutInMinutes"] == timeout
        logs = aws("logs").describe_log_groups(
            logGroupNamePrefix=f"/aws/codebuild/baseball-playback-{name}"
        )
        (group,) = [g for g in logs["logGroups"] if g["logGroupName"].endswith(name)]
        assert (group["retentionInDays"], group["kmsKeyId"]) == (90, key["Arn"])
    READ.add("AWS::CodeBuild::Project")

    groups = aws("codebuild").batch_get_report_groups(
        reportGroupArns=[resources["InfraBuildReports"], resources["SmokeReports"]]
    )
    assert sorted(g["name"] for g in groups["reportGroups"]) == [
        "baseball-playback-deployer-smoke-smoke", "baseball-playback-infra-build-pytest"
    ]  # fmt: skip
    for group in groups["reportGroups"]:
        assert (group["type"], group["exportConfig"]) == ("TEST", {"exportConfigType": "NO_EXPORT"})
    READ.add("AWS::CodeBuild::ReportGroup")

    topic = resources["NotificationTopic"]
    for title, name in (("InfraPipeline", pipeline.INFRA), ("BackendPipeline", pipeline.BACKEND),
                        ("FrontendPipeline", pipeline.FRONTEND)):  # fmt: skip
        rule = aws("codestar-notifications").describe_notification_rule(
            Arn=resources[f"{title}Notifications"]
        )
        assert rule["Resource"] == f"arn:aws:codepipeline:{d.region}:{d.account_id}:{name}"
        assert [e["EventTypeId"] for e in rule["EventTypes"]] == pipeline.NOTIFIED_EVENTS
        assert [(t["TargetType"], t["TargetAddress"]) for t in rule["Targets"]] == [("SNS", topic)]
        assert (rule["DetailType"], rule["Status"]) == ("FULL", "ENABLED")
    READ.add("AWS::CodeStarNotifications::NotificationRule")

    sns = aws("sns")
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["KmsMasterKeyId"] == key["Arn"]
    assert "codestar-notifications.amazonaws.com" in attributes["Policy"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert {(s["Protocol"], s["Endpoint"]) for s in subscriptions} == {
        ("email", address) for address in {email, *(env.alarm_email for env in ENVS.values())}
    }
    READ.update({"AWS::SNS::Topic", "AWS::SNS::TopicPolicy", "AWS::SNS::Subscription"})

    assert aws("kms").get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in aws("kms").list_aliases()["Aliases"]}
    assert aliases["alias/baseball-playback/pipeline-artifacts"] == key["KeyId"]
    READ.update({"AWS::KMS::Key", "AWS::KMS::Alias", "AWS::Logs::LogGroup"})

    s3, bucket = aws("s3"), resources["ArtifactBucket"]
    assert bucket == f"baseball-playback-artifacts-{d.account_id}-{d.region}"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]
    }  # fmt: skip
    # The pipelines' artifacts expire; the packaged templates a deployed root names never do.
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert set(rules) == {"expire-pipeline-artifacts", "keep-packaged-templates"}
    expiring, kept = rules["expire-pipeline-artifacts"], rules["keep-packaged-templates"]
    assert expiring["Expiration"]["Days"] == 30
    assert expiring["Filter"]["Prefix"] == "baseball-playback-"
    assert kept["Filter"]["Prefix"] == "templates/" and "Expiration" not in kept
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Effect"] == "Deny"  # TLS only
    READ.update({"AWS::S3::Bucket", "AWS::S3::BucketPolicy"})

    iam = aws("iam")
    trusted = {
        "PipelineRole": "codepipeline.amazonaws.com",
        "SelfUpdateRole": "cloudformation.amazonaws.com",
        **dict.fromkeys(
            ("InfraBuildRole", "ImageBuildRole", "SiteBuildRole", "DeployerRole"),
            "codebuild.amazonaws.com",
        ),
    }
    for title, service in trusted.items():
        role = iam.get_role(RoleName=resources[title])["Role"]
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"]["Service"] in (service, [service])
        (policy_name,) = iam.list_role_policies(RoleName=resources[title])["PolicyNames"]
        document = iam.get_role_policy(RoleName=resources[title], PolicyName=policy_name)
        assert all(s["Action"] != "*" for s in document["PolicyDocument"]["Statement"])
    READ.add("AWS::IAM::Role")

    registry = aws("ecr").describe_registry()
    assert registry["registryId"] == d.account_id
    (rule,) = registry["replicationConfiguration"]["rules"]
    assert rule["destinations"] == [
        {"region": env.region, "registryId": env.account_id}
        for env in environments()
        if (env.account_id, env.region) != (d.account_id, d.region)
    ]
    assert rule["repositoryFilters"] == [
        {"filter": "baseball-playback/", "filterType": "PREFIX_MATCH"}
    ]
    READ.add("AWS::ECR::ReplicationConfiguration")


def test_pipeline_deploys_reads_back_updates_and_deletes(endpoint):
    """templates/pipeline.yaml with parameters/delivery/pipeline.json, as the delivery account deploys
    it once (and templates/pipeline-artifacts.yaml in another region, as for one more region's
    artifact store); then a new branch and a new e-mail; then the delete."""
    d = delivery()
    aws = _pipeline_clients(endpoint, d.region)
    aws("s3").create_bucket(Bucket="pipeline-templates")
    given = json.loads((REPO_ROOT / "parameters" / "delivery" / "pipeline.json").read_text())[
        "Parameters"
    ]
    assert _deploy_pipeline(aws, endpoint) == "CREATE_COMPLETE"
    resources = _stack_resources(aws, pipeline.STACK_NAME)
    _assert_pipelines(aws, resources, given["Branch"])
    _assert_pipeline_stack(aws, resources, given["NotificationEmail"])

    elsewhere = _pipeline_clients(endpoint, "us-west-2")
    elsewhere("cloudformation").create_stack(
        StackName="baseball-playback-pipeline-artifacts",
        TemplateBody=(REPO_ROOT / "templates" / "pipeline-artifacts.yaml").read_text(),
    )
    assert _wait(elsewhere, "baseball-playback-pipeline-artifacts") == "CREATE_COMPLETE"
    bucket = f"baseball-playback-artifacts-{d.account_id}-us-west-2"
    assert _outputs(elsewhere, "baseball-playback-pipeline-artifacts") == {
        "ArtifactBucketName": bucket
    }
    key = elsewhere("kms").describe_key(KeyId="alias/baseball-playback/pipeline-artifacts")
    assert key["KeyMetadata"]["Arn"].startswith(f"arn:aws:kms:us-west-2:{d.account_id}:key/")
    encryption = elsewhere("s3").get_bucket_encryption(Bucket=bucket)
    (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == key["KeyMetadata"]["Arn"]

    changed = {"Branch": "release", "NotificationEmail": "delivery-team@example.com"}
    assert _deploy_pipeline(aws, endpoint, **changed) == "UPDATE_COMPLETE"
    after = _stack_resources(aws, pipeline.STACK_NAME)
    assert after["RepositoryConnection"] == resources["RepositoryConnection"]
    _assert_pipelines(aws, after, changed["Branch"])
    _assert_pipeline_stack(aws, after, changed["NotificationEmail"])
    assert aws("codepipeline").get_pipeline(name=pipeline.INFRA)["pipeline"]["version"] == 2

    assert _delete(aws, pipeline.STACK_NAME) is None
    for name in (pipeline.INFRA, pipeline.BACKEND, pipeline.FRONTEND):
        with pytest.raises(ClientError, match="PipelineNotFoundException"):
            aws("codepipeline").get_pipeline(name=name)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        aws("codeconnections").get_connection(ConnectionArn=after["RepositoryConnection"])
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        aws("codestar-notifications").describe_notification_rule(
            Arn=after["InfraPipelineNotifications"]
        )
    reports = [after["InfraBuildReports"], after["SmokeReports"]]
    gone = aws("codebuild").batch_get_report_groups(reportGroupArns=reports)
    assert gone["reportGroupsNotFound"] == reports
    assert aws("ecr").describe_registry()["replicationConfiguration"] == {"rules": []}
    # The artifact key and bucket are retained: old executions' artifacts stay readable.
    assert aws("kms").describe_key(KeyId=after["ArtifactKey"])["KeyMetadata"]["Enabled"]
    aws("s3").head_bucket(Bucket=after["ArtifactBucket"])


def test_load_generators_deploy_and_read_back(aws):
    """templates/load-generators.yaml, deployed for a load test and deleted after it."""
    vpc = aws("ec2").create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    stack_name = "baseball-playback-load"
    aws("cloudformation").create_stack(
        StackName=stack_name,
        TemplateBody=(REPO_ROOT / "templates" / "load-generators.yaml").read_text(),
        Parameters=[
            {
                "ParameterKey": "TargetHost",
                "ParameterValue": "https://staging.playback.example.com",
            },
            {"ParameterKey": "VpcId", "ParameterValue": vpc},
            {"ParameterKey": "TaskCpu", "ParameterValue": "2048"},
        ],
        Capabilities=["CAPABILITY_IAM"],
    )
    assert _wait(aws, stack_name) == "CREATE_COMPLETE"
    out = _outputs(aws, stack_name)
    definition = aws("ecs").describe_task_definition(taskDefinition=out["TaskDefinitionArn"])[
        "taskDefinition"
    ]
    assert (definition["cpu"], definition["memory"]) == ("2048", "4096")
    (container,) = definition["containerDefinitions"]
    assert container["image"].startswith("locustio/locust:")
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["TARGET_HOST"] == "https://staging.playback.example.com"
    assert environment["PEAK_USERS"] == "500"
    (group,) = aws("ec2").describe_security_groups(GroupIds=[out["SecurityGroupId"]])[
        "SecurityGroups"
    ]
    assert group["IpPermissions"] == []
    assert [(r["FromPort"], r["ToPort"]) for r in group["IpPermissionsEgress"]] == [(443, 443)]
    (logs,) = aws("logs").describe_log_groups(logGroupNamePrefix=out["LogGroupName"])["logGroups"]
    assert logs["retentionInDays"] == 30 and logs["kmsKeyId"]
    assert _delete(aws, stack_name) is None


def test_every_claimed_type_was_read_back():
    template_types = {
        r["Type"] for t in render().templates.values() for r in t.to_dict()["Resources"].values()
    }
    assert set(READ_BACK) & template_types == READ
