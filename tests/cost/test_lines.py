"""Each priced line's arithmetic, on small hand-made templates with round prices.

The expected values are computed here by hand from the numbers in the templates and the test
price table, so a wrong quantity (a resource not counted, a condition not applied, a Multi-AZ
not doubled) or a wrong price lookup fails the test.
"""

from __future__ import annotations

import pytest

from playback_infra.cost import lines
from playback_infra.cost.prices import parse
from playback_infra.deployed import as_deployed
from playback_infra.deployed_environment import EDGE_GLOBAL, DeployedEnvironment

HOURS = 730
KIND = "development"
USAGE = {
    "nat_gb": 100, "interface_endpoint_gb": 40, "alb_lcu": 0.5,
    "cloudfront_gb": 1500, "site_million_requests": 8, "api_million_requests": 4,
    "log_gb": {"AppLogGroup": 3, "default": 1},
    "rds_backup_change_gb_per_day": 2, "cache_gb": 0.05, "cache_million_ecpu": 30,
    "s3_gb": 50, "import_task_hours": 10, "step_functions_transitions": 10_000,
    "sqs_million_requests": 3,
}  # fmt: skip
PRICES = {
    "nat_gateway_hour": 0.05, "nat_gateway_gb": 0.04, "public_ipv4_hour": 0.005,
    "alb_hour": 0.02, "alb_lcu_hour": 0.01,
    "fargate_vcpu_hour_arm64": 0.03, "fargate_gb_hour_arm64": 0.003,
    "fargate_vcpu_hour_x86_64": 0.04, "fargate_gb_hour_x86_64": 0.004,
    "fargate_spot_discount": 0.7,
    "rds_gp3_gb_month": 0.1, "rds_backup_gb_month": 0.09, "rds_proxy_vcpu_hour": 0.015,
    "database_insights_standard_vcpu_hour": 0.0, "database_insights_advanced_vcpu_hour": 0.01,
    "valkey_serverless_gb_hour": 0.08, "valkey_serverless_min_gb": 0.1,
    "valkey_serverless_million_ecpu": 0.002,
    "waf_web_acl_month": 5.0, "waf_rule_month": 1.0, "waf_million_requests": 0.6,
    "cloudfront_gb_out": 0.085, "cloudfront_free_gb": 1024,
    "cloudfront_10k_https_requests": 0.01, "cloudfront_free_million_requests": 10,
    "secret_month": 0.4, "kms_key_month": 1.0,
    "alarm_metric_month": 0.1, "alarm_high_resolution_metric_month": 0.3,
    "dashboard_month": 3.0, "synthetics_canary_run": 0.002, "logs_ingest_gb": 0.5, "logs_storage_gb_month": 0.03,
    "interface_endpoint_az_hour": 0.01, "interface_endpoint_gb": 0.01,
    "s3_standard_gb_month": 0.023,
    "step_functions_1k_transitions": 0.025, "step_functions_free_transitions": 4000,
    "sqs_million_requests": 0.4, "sqs_free_million_requests": 1,
}  # fmt: skip
UNSOURCED = {"fargate_spot_discount", "rds_proxy_vcpu_hour"}


@pytest.fixture(scope="module")
def table():
    return parse(
        {
            "region": "us-east-1",
            "retrieved": "2026-11-29",
            "hours_per_month": HOURS,
            "prices": {
                key: {"usd": usd, "unit": "unit", "sourced": key not in UNSOURCED, "source": "test"}
                for key, usd in PRICES.items()
            },
            "rds_mysql_instance_hour": {
                "source": "test",
                "classes": {
                    "db.small": {"usd": 0.05, "vcpus": 1, "sourced": True},
                    "db.large": {"usd": 0.2, "vcpus": 4, "sourced": False},
                },
            },
            "usage": {"note": "test", KIND: USAGE},
        }
    )


def ref(name: str) -> dict:
    return {"Ref": name}


def env_of(stacks: dict[str, dict], parameters: dict[str, str] | None = None, edge=None):
    """A DeployedEnvironment of the given templates, each deployed with `parameters`."""
    parameters = parameters or {}
    edge = edge or {}
    deployed = {
        name: as_deployed(t, edge if name == EDGE_GLOBAL else parameters)
        for name, t in stacks.items()
    }
    return DeployedEnvironment("test", KIND, parameters, deployed, edge)


def resource(type_: str, properties: dict | None = None, condition: str | None = None) -> dict:
    r = {"Type": type_, "Properties": properties or {}}
    if condition:
        r["Condition"] = condition
    return r


def by_item(found: list[lines.Line]) -> dict[str, lines.Line]:
    return {line.item: line for line in found}


def test_nat_gateways_public_addresses_and_interface_endpoints(table):
    network = {
        "Conditions": {"PerAz": {"Fn::Equals": [ref("NatMode"), "per-az"]}},
        "Resources": {
            "Nat1": resource("AWS::EC2::NatGateway"),
            "Nat1Eip": resource("AWS::EC2::EIP"),
            "Nat2": resource("AWS::EC2::NatGateway", condition="PerAz"),
            "Nat2Eip": resource("AWS::EC2::EIP", condition="PerAz"),
            "Ecr": resource(
                "AWS::EC2::VPCEndpoint",
                {"VpcEndpointType": "Interface", "SubnetIds": [ref("A"), ref("B")]},
            ),
            "Logs": resource(
                "AWS::EC2::VPCEndpoint",
                {"VpcEndpointType": "Interface", "SubnetIds": [ref("A"), ref("B"), ref("C")]},
            ),
            "S3": resource("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"}),
        },
        "Outputs": {"PublicSubnetIds": {"Value": {"Fn::Join": [",", [ref("A"), ref("B")]]}}},
    }
    ingress = {
        "Resources": {
            "Alb": resource(
                "AWS::ElasticLoadBalancingV2::LoadBalancer",
                {"Scheme": "internet-facing", "Subnets": ref("PublicSubnetIds")},
            )
        }
    }
    single = lines.network(
        env_of({"network": network, "ingress": ingress}, {"NatMode": "single"}), table
    )
    per_az = lines.network(
        env_of({"network": network, "ingress": ingress}, {"NatMode": "per-az"}), table
    )

    assert [line.monthly_usd for line in single] == pytest.approx(
        [
            1 * HOURS * 0.05,  # one NAT gateway
            100 * 0.04,  # assumed GB through it
            (1 + 2) * HOURS * 0.005,  # its Elastic IP and the ALB's two addresses
            (2 + 3) * HOURS * 0.01,  # endpoint-AZs
            40 * 0.01,  # assumed GB through the endpoints
        ]
    )
    assert [line.assumed for line in single] == [False, True, False, False, True]
    assert not any(line.unsourced for line in single)
    assert per_az[0].quantity == 2 * HOURS
    assert per_az[2].quantity == (2 + 2) * HOURS


def test_tasks_with_public_addresses_hold_one_each(table):
    network_config = {
        "AwsvpcConfiguration": {"AssignPublicIp": {"Fn::If": ["PublicIps", "ENABLED", "DISABLED"]}}
    }
    app = {
        "Conditions": {"PublicIps": {"Fn::Equals": [ref("NatMode"), "public-ips"]}},
        "Resources": {
            "Service": resource(
                "AWS::ECS::Service",
                {"DesiredCount": ref("Desired"), "NetworkConfiguration": network_config},
            ),
            "Quiet": resource(
                "AWS::ECS::Service",
                {"DesiredCount": 5, "NetworkConfiguration": {"AwsvpcConfiguration": {}}},
            ),
        },
    }
    given = {"NatMode": "public-ips", "Desired": "3"}
    (line,) = lines.network(env_of({"app": app}, given), table)
    # three tasks of the one service with public addresses; the other's five have none
    assert (
        line.item
        == "public IPv4 addresses (0 Elastic IPs, 0 ALB: one per AZ, 3 service tasks), hours"
    )
    assert line.monthly_usd == pytest.approx(3 * HOURS * 0.005)
    assert lines.network(env_of({"app": app}, {**given, "NatMode": "single"}), table) == []


def test_a_network_without_nat_or_endpoints_has_no_such_lines(table):
    network = {"Resources": {"Vpc": resource("AWS::EC2::VPC")}}
    assert lines.network(env_of({"network": network}), table) == []


def test_load_balancer_hours_and_capacity_units(table):
    ingress = {"Resources": {"Alb": resource("AWS::ElasticLoadBalancingV2::LoadBalancer")}}
    found = lines.load_balancing(env_of({"ingress": ingress}), table)
    assert [line.monthly_usd for line in found] == pytest.approx([HOURS * 0.02, 0.5 * HOURS * 0.01])


def test_waf_acls_rules_and_requests_by_scope(table):
    ingress = {
        "Resources": {
            "ApiWebAcl": resource(
                "AWS::WAFv2::WebACL", {"Scope": "REGIONAL", "Rules": [{}, {}, {}]}
            )
        }
    }
    edge = {
        "Resources": {
            "SiteWebAcl": resource("AWS::WAFv2::WebACL", {"Scope": "CLOUDFRONT", "Rules": [{}]})
        }
    }
    found = lines.waf(env_of({"ingress": ingress, EDGE_GLOBAL: edge}), table)
    assert [line.monthly_usd for line in found] == pytest.approx(
        [
            5.0, 1 * 1.0, (8 + 4) * 0.6,  # CloudFront's ACL sees site and API requests
            5.0, 3 * 1.0, 4 * 0.6,  # the ALB's only the API's
        ]
    )  # fmt: skip


def _app(strategy, desired="2", peak_start="", arch="ARM64") -> dict:
    return {
        "Conditions": {"HasPeak": {"Fn::Not": [{"Fn::Equals": [ref("PeakStart"), ""]}]}},
        "Resources": {
            "Service": resource(
                "AWS::ECS::Service",
                {
                    "TaskDefinition": ref("TaskDefinition"),
                    "DesiredCount": ref("AppDesiredTasks"),
                    "CapacityProviderStrategy": strategy,
                },
            ),
            "TaskDefinition": resource(
                "AWS::ECS::TaskDefinition",
                {"Cpu": "1024", "Memory": "2048", "RuntimePlatform": {"CpuArchitecture": arch}},
            ),
            "Target": resource(
                "AWS::ApplicationAutoScaling::ScalableTarget",
                {
                    "ScheduledActions": {
                        "Fn::If": [
                            "HasPeak",
                            [
                                {"ScalableTargetAction": {"MinCapacity": "5"}, "Schedule": ref("PeakStart")},
                                {"ScalableTargetAction": {"MinCapacity": "2"}, "Schedule": ref("PeakEnd")},
                            ],
                            {"Ref": "AWS::NoValue"},
                        ]
                    }
                },
            ),
        },
    }  # fmt: skip


def test_fargate_on_demand_spot_share_and_peak_minimum(table):
    half_spot = [
        {"CapacityProvider": "FARGATE", "Weight": 1},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1},
    ]
    parameters = {
        "AppDesiredTasks": "2",
        "PeakStart": "cron(30 21 * * ? *)",
        "PeakEnd": "cron(0 6 * * ? *)",
    }
    found = lines.compute(env_of({"app": _app(half_spot)}, parameters), table)
    task_hours = 2 * HOURS
    peak_task_hours = (5 - 2) * 8.5 * 365 / 12
    assert [line.monthly_usd for line in found] == pytest.approx(
        [
            task_hours / 2 * 1 * 0.03,  # vCPU-hours on demand
            task_hours / 2 * 2 * 0.003,  # GB-hours on demand
            task_hours / 2 * 1 * 0.03 * 0.3,  # Spot: 70% off
            task_hours / 2 * 2 * 0.003 * 0.3,
            peak_task_hours / 2 * 1 * 0.03,
            peak_task_hours / 2 * 2 * 0.003,
            peak_task_hours / 2 * 1 * 0.03 * 0.3,
            peak_task_hours / 2 * 2 * 0.003 * 0.3,
        ]
    )
    assert [line.assumed for line in found[:4]] == [False] * 4
    assert [line.unsourced for line in found[:4]] == [False, False, True, True]  # the discount


def test_fargate_x86_without_peak(table):
    found = lines.compute(
        env_of(
            {"app": _app([{"CapacityProvider": "FARGATE", "Weight": 1}], arch="X86_64")},
            {"AppDesiredTasks": "3", "PeakStart": "", "PeakEnd": ""},
        ),
        table,
    )
    assert [line.monthly_usd for line in found] == pytest.approx(
        [3 * HOURS * 1 * 0.04, 3 * HOURS * 2 * 0.004]
    )


def test_a_task_no_service_runs_is_priced_for_the_assumed_hours(table):
    jobs = {
        "Resources": {
            "ImportTask": resource(
                "AWS::ECS::TaskDefinition",
                {"Cpu": ref("ImportCpu"), "Memory": ref("ImportMemory"), "RuntimePlatform": {"CpuArchitecture": "ARM64"}},
            )
        }
    }  # fmt: skip
    found = lines.compute(
        env_of({"game-data": jobs}, {"ImportCpu": "2048", "ImportMemory": "4096"}), table
    )
    assert [line.monthly_usd for line in found] == pytest.approx([10 * 2 * 0.03, 10 * 4 * 0.003])
    assert all(line.assumed and not line.unsourced for line in found)


def _data(multi_az: bool) -> dict:
    return {
        "Conditions": {
            "UseProxy": {"Fn::Equals": [ref("EnableDatabaseProxy"), "true"]},
            "InsightsOn": {"Fn::Not": [{"Fn::Equals": [ref("DatabaseInsightsMode"), "off"]}]},
        },
        "Resources": {
            "DatabaseInstance": resource(
                "AWS::RDS::DBInstance",
                {
                    "DBInstanceClass": ref("DatabaseInstanceClass"),
                    "MultiAZ": multi_az,
                    "AllocatedStorage": ref("DatabaseAllocatedStorage"),
                    "BackupRetentionPeriod": ref("DatabaseBackupRetentionDays"),
                    "EnablePerformanceInsights": {"Fn::If": ["InsightsOn", True, False]},
                    "DatabaseInsightsMode": {"Fn::If": ["InsightsOn", ref("DatabaseInsightsMode"), {"Ref": "AWS::NoValue"}]},
                    "ManageMasterUserPassword": True,
                },
            ),
            "DatabaseProxy": resource("AWS::RDS::DBProxy", condition="UseProxy"),
            "Plan": resource(
                "AWS::Backup::BackupPlan",
                {"BackupPlan": {"BackupPlanRule": [{"Lifecycle": {"DeleteAfterDays": 10}, "CopyActions": [{}]}]}},
            ),
            "Cache": resource("AWS::ElastiCache::ServerlessCache", {"Engine": "valkey"}),
        },
    }  # fmt: skip


def _data_parameters(instance_class: str, proxy: str, insights: str) -> dict[str, str]:
    return {
        "DatabaseInstanceClass": instance_class,
        "DatabaseAllocatedStorage": "50",
        "DatabaseBackupRetentionDays": "7",
        "EnableDatabaseProxy": proxy,
        "DatabaseInsightsMode": insights,
    }


def test_database_multi_az_proxy_minimum_insights_backups_and_cache(table):
    found = lines.database(
        env_of({"data": _data(True)}, _data_parameters("db.small", "true", "advanced")), table
    )
    assert [line.monthly_usd for line in found] == pytest.approx(
        [
            2 * HOURS * 0.05,  # Multi-AZ: two instances
            50 * 2 * 0.1,  # and two copies of the storage
            7 * 2 * 0.09,  # 7 retained days of 2 GB changes beyond the free full copy
            1 * HOURS * 0.01,  # advanced Database Insights on the class's 1 vCPU
            2 * HOURS * 0.015,  # the proxy bills at least 2 vCPUs
            2 * (50 + 10 * 2) * 0.09,  # backup plan: the vault and its copy
            0.1 * HOURS * 0.08,  # 0.05 GB cached, billed at the 0.1 GB minimum
            30 * 0.002,
        ]
    )


def test_database_single_az_unsourced_class_no_proxy_no_insights(table):
    found = by_item(
        lines.database(
            env_of({"data": _data(False)}, _data_parameters("db.large", "false", "off")), table
        )
    )
    instance = found["DatabaseInstance db.large MySQL, Single-AZ, hours"]
    assert instance.monthly_usd == pytest.approx(HOURS * 0.2)
    assert instance.unsourced and not instance.assumed  # the class's price is marked unsourced
    assert found["DatabaseInstance gp3 storage 50 GB x 1"].monthly_usd == pytest.approx(5.0)
    assert not any("Proxy" in item or "Insights" in item for item in found)


def test_a_cache_engine_without_prices_is_refused(table):
    data = {
        "Resources": {"Cache": resource("AWS::ElastiCache::ServerlessCache", {"Engine": "redis"})}
    }
    with pytest.raises(ValueError, match="not redis"):
        lines.database(env_of({"data": data}), table)


def test_cloudfront_beyond_the_free_tier(table):
    web = {
        "Resources": {
            "SiteDistribution": resource(
                "AWS::CloudFront::Distribution",
                {"DistributionConfig": {"PriceClass": ref("SitePriceClass")}},
            )
        }
    }
    found = lines.edge(env_of({"web": web}, {"SitePriceClass": "PriceClass_100"}), table)
    assert [line.monthly_usd for line in found] == pytest.approx(
        [(1500 - 1024) * 0.085, (12 - 10) * 100 * 0.01]
    )
    assert "PriceClass_100" in found[0].item


def test_secrets_and_keys_by_region(table):
    app = {"Resources": {"Key": resource("AWS::SecretsManager::Secret")}}
    data = {
        "Resources": {
            "UserSecret": resource("AWS::SecretsManager::Secret"),
            "Db": resource("AWS::RDS::DBInstance", {"ManageMasterUserPassword": True}),
        }
    }
    security = {
        "Resources": {"DataKey": resource("AWS::KMS::Key"), "LogsKey": resource("AWS::KMS::Key")}
    }
    edge = {"Resources": {"EdgeKey": resource("AWS::KMS::Key")}}
    found = lines.keys_and_secrets(
        env_of({"app": app, "data": data, "security": security, EDGE_GLOBAL: edge}), table
    )  # fmt: skip
    assert [line.quantity for line in found] == [3, 2, 1]  # 2 secrets + RDS's master secret
    assert [line.monthly_usd for line in found] == pytest.approx([3 * 0.4, 2 * 1.0, 1 * 1.0])
    assert "us-east-1" in found[2].item


def test_alarms_dashboards_and_logs(table):
    app = {
        "Resources": {
            "Plain": resource("AWS::CloudWatch::Alarm", {"Period": 60}),
            "Math": resource(
                "AWS::CloudWatch::Alarm",
                {"Metrics": [{"MetricStat": {"Period": 60}}, {"MetricStat": {"Period": 60}}, {"Expression": "a/b"}]},
            ),
            "Fast": resource("AWS::CloudWatch::Alarm", {"Period": 10}),
            "Board": resource("AWS::CloudWatch::Dashboard"),
            "AppLogGroup": resource("AWS::Logs::LogGroup", {"RetentionInDays": ref("AppLogRetentionDays")}),
            "OtherLogGroup": resource("AWS::Logs::LogGroup", {"RetentionInDays": 365}),
        }
    }  # fmt: skip
    found = lines.observability(env_of({"app": app}, {"AppLogRetentionDays": "30"}), table)
    month = 365 / 12
    assert [line.monthly_usd for line in found] == pytest.approx(
        [
            (1 + 2) * 0.1,  # a math alarm is billed per metric
            1 * 0.3,
            3.0,
            (3 + 1) * 0.5,
            (3 * 30 / month + 1 * 365 / month) * 0.03,
        ]
    )


def test_canary_runs_by_schedule_and_alarm_period_from_a_parameter(table):
    observability = {
        "Resources": {
            "SiteCanary": resource(
                "AWS::Synthetics::Canary", {"Schedule": {"Expression": ref("CanarySchedule")}}
            ),
            "HourlyCanary": resource(
                "AWS::Synthetics::Canary", {"Schedule": {"Expression": "rate(1 hour)"}}
            ),
            "CanaryAlarm": resource("AWS::CloudWatch::Alarm", {"Period": ref("CanaryPeriodSeconds")}),
        }
    }  # fmt: skip
    given = {"CanarySchedule": "rate(15 minutes)", "CanaryPeriodSeconds": "900"}
    found = by_item(lines.observability(env_of({"observability": observability}, given), table))
    # 730 hours x 60 / 15 = 2,920 runs; 730 hourly runs; at 0.002 a run
    hourly = found["HourlyCanary runs, one every 60 minutes (rate(1 hour))"]
    site = found["SiteCanary runs, one every 15 minutes (rate(15 minutes))"]
    assert (site.quantity, site.monthly_usd) == pytest.approx((2920, 5.84))
    assert (hourly.quantity, hourly.monthly_usd) == pytest.approx((730, 1.46))
    assert found["alarm metrics, standard resolution (1)"].monthly_usd == pytest.approx(0.1)


def test_a_schedule_that_is_not_a_rate_is_refused(table):
    cron = {
        "Resources": {
            "C": resource(
                "AWS::Synthetics::Canary", {"Schedule": {"Expression": "cron(0 * * * ? *)"}}
            )
        }
    }
    with pytest.raises(ValueError, match="not a rate"):
        lines.observability(env_of({"observability": cron}), table)


def test_storage_and_workflows_after_free_tiers(table):
    stack = {
        "Resources": {
            "Bucket": resource("AWS::S3::Bucket"),
            "Machine": resource("AWS::StepFunctions::StateMachine"),
            "Queue": resource("AWS::SQS::Queue"),
        }
    }
    found = lines.storage_and_workflows(env_of({"game-data": stack}), table)
    assert [line.monthly_usd for line in found] == pytest.approx(
        [50 * 0.023, (10_000 - 4000) / 1000 * 0.025, (3 - 1) * 0.4]
    )


def test_the_peak_spans_midnight():
    assert lines._peak_hours_per_day("cron(30 21 * * ? *)", "cron(0 6 * * ? *)") == 8.5
    assert lines._peak_hours_per_day("cron(0 8 * * ? *)", "cron(15 9 * * ? *)") == 1.25
    with pytest.raises(ValueError, match="not a daily schedule"):
        lines._peak_hours_per_day("rate(1 day)", "cron(0 6 * * ? *)")
