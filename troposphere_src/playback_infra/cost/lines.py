"""The priced lines of an estimate, one function per service group.

Each function reads the deployed templates (`DeployedEnvironment`) for what exists and how big
it is, and the price table for what it costs; usage the templates cannot tell (GB through NAT,
requests, log volume) comes from the table's assumptions for the environment's kind, and its
lines are marked `assumed`; a line whose price the sources searched did not give, `unsourced`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from playback_infra.cost.prices import Price, PriceTable
from playback_infra.deployed_environment import EDGE_GLOBAL, DeployedEnvironment

DAYS_PER_MONTH = 365 / 12


@dataclass(frozen=True)
class Line:
    service: str
    item: str
    quantity: float
    unit: str
    unit_usd: float
    assumed: bool = False
    """The quantity is a usage assumption, not read from the templates."""
    unsourced: bool = False
    """The unit price was not found in the sources searched (AWS's rate as known)."""

    @property
    def monthly_usd(self) -> float:
        return self.quantity * self.unit_usd


def _line(service: str, item: str, quantity: float, price: Price, assumed: bool = False) -> Line:
    return Line(service, item, quantity, price.unit, price.usd, assumed, not price.sourced)


def network(env: DeployedEnvironment, table: PriceTable) -> list[Line]:
    hours, usage = table.hours_per_month, table.usage_for(env.kind)
    lines = []
    nats = env.count("AWS::EC2::NatGateway")
    if nats:
        lines += [
            _line(
                "network", f"NAT gateways ({nats}), hours", nats * hours, table["nat_gateway_hour"]
            ),
            _line("network", "NAT data processed", usage["nat_gb"], table["nat_gateway_gb"], True),
        ]
    eips = env.count("AWS::EC2::EIP")
    alb_addresses = sum(
        env.list_length(resource["Properties"]["Subnets"], stack)
        for stack, _, resource in env.resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
        if resource["Properties"].get("Scheme") == "internet-facing"
    )
    # A service's tasks with public addresses (NatMode public-ips) hold one each; a one-off
    # task's address for its few hours is not counted.
    tasks = sum(
        int(env.value(service["Properties"]["DesiredCount"], stack))
        for stack, _, service in env.resources("AWS::ECS::Service")
        if env.value(
            service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"].get(
                "AssignPublicIp", "DISABLED"
            ),
            stack,
        )
        == "ENABLED"
    )
    if eips + alb_addresses + tasks:
        lines.append(
            _line(
                "network",
                f"public IPv4 addresses ({eips} Elastic IPs, {alb_addresses} ALB: one per AZ, "
                f"{tasks} service tasks), hours",
                (eips + alb_addresses + tasks) * hours,
                table["public_ipv4_hour"],
            )
        )
    endpoints = [
        (logical_id, env.list_length(resource["Properties"]["SubnetIds"], stack))
        for stack, logical_id, resource in env.resources("AWS::EC2::VPCEndpoint")
        if resource["Properties"].get("VpcEndpointType") == "Interface"
    ]
    if endpoints:
        azs = sum(az for _, az in endpoints)
        lines += [
            _line(
                "network",
                f"interface endpoints ({len(endpoints)} in {azs} endpoint-AZs), hours",
                azs * hours,
                table["interface_endpoint_az_hour"],
            ),
            _line(
                "network",
                "interface endpoint data processed",
                usage["interface_endpoint_gb"],
                table["interface_endpoint_gb"],
                True,
            ),
        ]
    return lines


def load_balancing(env: DeployedEnvironment, table: PriceTable) -> list[Line]:
    hours, usage = table.hours_per_month, table.usage_for(env.kind)
    albs = env.count("AWS::ElasticLoadBalancingV2::LoadBalancer")
    if not albs:
        return []
    return [
        _line("ingress", f"load balancers ({albs}), hours", albs * hours, table["alb_hour"]),
        _line(
            "ingress",
            f"load balancer capacity units ({usage['alb_lcu']} LCU on average)",
            albs * usage["alb_lcu"] * hours,
            table["alb_lcu_hour"],
            True,
        ),
    ]


def waf(env: DeployedEnvironment, table: PriceTable) -> list[Line]:
    usage = table.usage_for(env.kind)
    lines = []
    for stack, logical_id, acl in env.resources("AWS::WAFv2::WebACL"):
        scope = acl["Properties"]["Scope"]
        where = f"{logical_id} ({scope}{', us-east-1' if stack == EDGE_GLOBAL else ''})"
        # CloudFront's ACL sees every request to the distribution, the ALB's only the API's.
        requests = usage["api_million_requests"] + (
            usage["site_million_requests"] if scope == "CLOUDFRONT" else 0
        )
        rules = len(acl["Properties"].get("Rules", []))
        lines += [
            _line("waf", f"web ACL {where}", 1, table["waf_web_acl_month"]),
            _line("waf", f"rules of {logical_id} ({rules})", rules, table["waf_rule_month"]),
            _line(
                "waf",
                f"requests inspected by {logical_id}",
                requests,
                table["waf_million_requests"],
                True,
            ),
        ]
    return lines


def _fargate(
    table: PriceTable,
    what: str,
    vcpu: float,
    gb: float,
    architecture: str,
    task_hours: float,
    spot_share: float,
    assumed: bool,
) -> list[Line]:
    arch = architecture.lower()
    vcpu_price, gb_price = table[f"fargate_vcpu_hour_{arch}"], table[f"fargate_gb_hour_{arch}"]
    discount = table["fargate_spot_discount"]
    lines = []
    for share, kind in ((1 - spot_share, "on-demand"), (spot_share, "Spot")):
        if share <= 0:
            continue
        factor = 1 - discount.usd if kind == "Spot" else 1
        spot_unsourced = kind == "Spot" and not discount.sourced
        for amount, price, unit in ((vcpu, vcpu_price, "vCPU"), (gb, gb_price, "GB")):
            lines.append(
                Line(
                    "compute",
                    f"{what}: {unit}-hours ({architecture}, {kind})",
                    amount * task_hours * share,
                    price.unit,
                    price.usd * factor,
                    assumed,
                    spot_unsourced or not price.sourced,
                )
            )
    return lines


def _peak_hours_per_day(start: str, end: str) -> float:
    """Hours between two daily `cron(M H * * ? *)` schedules."""

    def minutes(expression: str) -> int:
        match = re.fullmatch(r"cron\((\d+) (\d+) \* \* \? \*\)", expression)
        if not match:
            raise ValueError(f"not a daily schedule: {expression!r}")
        return int(match[2]) * 60 + int(match[1])

    return ((minutes(end) - minutes(start)) % (24 * 60)) / 60


def compute(env: DeployedEnvironment, table: PriceTable) -> list[Line]:
    hours, usage = table.hours_per_month, table.usage_for(env.kind)
    lines = []
    served = set()
    for stack, logical_id, service in env.resources("AWS::ECS::Service"):
        props = service["Properties"]
        task_id = props["TaskDefinition"]["Ref"]
        served.add((stack, task_id))
        task = env.stacks[stack].resources[task_id]["Properties"]
        vcpu = int(env.value(task["Cpu"], stack)) / 1024
        gb = int(env.value(task["Memory"], stack)) / 1024
        architecture = env.value(
            task.get("RuntimePlatform", {}).get("CpuArchitecture", "X86_64"), stack
        )
        strategy = props.get("CapacityProviderStrategy") or [
            {"CapacityProvider": "FARGATE", "Weight": 1}
        ]
        weights = {s["CapacityProvider"]: s.get("Weight", 0) for s in strategy}
        spot_share = weights.get("FARGATE_SPOT", 0) / (sum(weights.values()) or 1)
        desired = int(env.value(props["DesiredCount"], stack))
        size = f"{desired} x {vcpu:g} vCPU/{gb:g} GB (sidecars share the task size)"
        lines += _fargate(
            table,
            f"{logical_id} {size}",
            vcpu,
            gb,
            architecture,
            desired * hours,
            spot_share,
            False,
        )
        for _, _, target in env.resources("AWS::ApplicationAutoScaling::ScalableTarget", stack):
            actions = target["Properties"].get("ScheduledActions")
            if not isinstance(actions, list) or len(actions) != 2:
                continue
            start, end = actions
            extra = int(env.value(start["ScalableTargetAction"]["MinCapacity"], stack)) - desired
            if extra <= 0:
                continue
            peak = _peak_hours_per_day(
                env.value(start["Schedule"], stack), env.value(end["Schedule"], stack)
            )
            lines += _fargate(
                table,
                f"{logical_id} peak minimum: {extra} more tasks {peak:g} h a day",
                vcpu,
                gb,
                architecture,
                extra * peak * DAYS_PER_MONTH,
                spot_share,
                False,
            )
    for stack, logical_id, task in env.resources("AWS::ECS::TaskDefinition"):
        if (stack, logical_id) in served:
            continue
        props = task["Properties"]
        vcpu = int(env.value(props["Cpu"], stack)) / 1024
        gb = int(env.value(props["Memory"], stack)) / 1024
        architecture = env.value(
            props.get("RuntimePlatform", {}).get("CpuArchitecture", "X86_64"), stack
        )
        lines += _fargate(
            table,
            f"{logical_id} {vcpu:g} vCPU/{gb:g} GB, {usage['import_task_hours']} h a month",
            vcpu,
            gb,
            architecture,
            usage["import_task_hours"],
            0,
            True,
        )
    return lines


def database(env: DeployedEnvironment, table: PriceTable) -> list[Line]:
    hours, usage = table.hours_per_month, table.usage_for(env.kind)
    lines = []
    for stack, logical_id, db in env.resources("AWS::RDS::DBInstance"):
        props = db["Properties"]
        instance = table.instance(env.value(props["DBInstanceClass"], stack))
        copies = 2 if props.get("MultiAZ") is True else 1
        storage = int(env.value(props["AllocatedStorage"], stack))
        retention = int(env.value(props["BackupRetentionPeriod"], stack))
        change = usage["rds_backup_change_gb_per_day"]
        az = "Multi-AZ" if copies == 2 else "Single-AZ"
        lines += [
            Line(
                "database",
                f"{logical_id} {instance.name} MySQL, {az}, hours",
                copies * hours,
                "instance-hour",
                instance.usd_hour,
                unsourced=not instance.sourced,
            ),
            _line(
                "database",
                f"{logical_id} gp3 storage {storage} GB x {copies}",
                storage * copies,
                table["rds_gp3_gb_month"],
            ),
            # A full backup fits the free allocation (100% of the storage); each retained day adds
            # that day's changes beyond it.
            _line(
                "database",
                f"{logical_id} backups beyond the free allocation: {retention} days x {change} GB",
                retention * change,
                table["rds_backup_gb_month"],
                True,
            ),
        ]
        if props.get("EnablePerformanceInsights") is True:
            mode = env.value(props.get("DatabaseInsightsMode", "standard"), stack)
            lines.append(
                _line(
                    "database",
                    f"{logical_id} Database Insights ({mode}), {instance.vcpus} vCPUs",
                    instance.vcpus * hours,
                    table[f"database_insights_{mode}_vcpu_hour"],
                )
            )
        for _, proxy_id, _ in env.resources("AWS::RDS::DBProxy", stack):
            vcpus = max(2, instance.vcpus)
            lines.append(
                _line(
                    "database",
                    f"{proxy_id}: {vcpus} vCPUs of {instance.name}",
                    vcpus * hours,
                    table["rds_proxy_vcpu_hour"],
                )
            )
    for stack, logical_id, plan in env.resources("AWS::Backup::BackupPlan"):
        storage = sum(
            int(env.value(db["Properties"]["AllocatedStorage"], stack))
            for _, _, db in env.resources("AWS::RDS::DBInstance", stack)
        )
        for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]:
            days = rule["Lifecycle"]["DeleteAfterDays"]
            copies = 1 + len(rule.get("CopyActions") or [])
            gb = copies * (storage + days * usage["rds_backup_change_gb_per_day"])
            lines.append(
                _line(
                    "database",
                    f"{logical_id} snapshots: {copies} vault(s) x ({storage} GB + {days} days of changes)",
                    gb,
                    table["rds_backup_gb_month"],
                    True,
                )
            )
    for _, logical_id, cache in env.resources("AWS::ElastiCache::ServerlessCache"):
        engine = cache["Properties"].get("Engine")
        if engine != "valkey":
            raise ValueError(
                f"{logical_id}: the price table has ElastiCache Serverless prices for valkey, not {engine}"
            )
        minimum = table["valkey_serverless_min_gb"].usd
        gb = max(minimum, usage["cache_gb"])
        lines += [
            _line(
                "cache",
                f"{logical_id} data stored ({gb:g} GB, at least {minimum:g}), GB-hours",
                gb * hours,
                table["valkey_serverless_gb_hour"],
                True,
            ),
            _line(
                "cache",
                f"{logical_id} ECPUs",
                usage["cache_million_ecpu"],
                table["valkey_serverless_million_ecpu"],
                True,
            ),
        ]
    return lines


def edge(env: DeployedEnvironment, table: PriceTable) -> list[Line]:
    usage = table.usage_for(env.kind)
    lines = []
    for stack, logical_id, distribution in env.resources("AWS::CloudFront::Distribution"):
        price_class = env.value(
            distribution["Properties"]["DistributionConfig"].get("PriceClass", "PriceClass_All"),
            stack,
        )
        free_gb = table["cloudfront_free_gb"].usd
        free_requests = table["cloudfront_free_million_requests"].usd
        requests = usage["site_million_requests"] + usage["api_million_requests"]
        lines += [
            _line(
                "edge",
                f"{logical_id} ({price_class}) data out: {usage['cloudfront_gb']} GB, {free_gb:g} GB free",
                max(0, usage["cloudfront_gb"] - free_gb),
                table["cloudfront_gb_out"],
                True,
            ),
            _line(
                "edge",
                f"{logical_id} requests: {requests:g} million, {free_requests:g} million free",
                max(0, requests - free_requests) * 100,
                table["cloudfront_10k_https_requests"],
                True,
            ),
        ]
    return lines


def keys_and_secrets(env: DeployedEnvironment, table: PriceTable) -> list[Line]:
    secrets = env.count("AWS::SecretsManager::Secret")
    managed = sum(
        1
        for _, _, db in env.resources("AWS::RDS::DBInstance")
        if db["Properties"].get("ManageMasterUserPassword") is True
    )
    lines = [
        _line(
            "security",
            f"secrets ({secrets} in the templates, {managed} RDS-managed master)",
            secrets + managed,
            table["secret_month"],
        )
    ]
    regional = sum(env.count("AWS::KMS::Key", s) for s in env.stacks if s != EDGE_GLOBAL)
    edge_keys = env.count("AWS::KMS::Key", EDGE_GLOBAL)
    lines.append(_line("security", "KMS customer managed keys", regional, table["kms_key_month"]))
    if edge_keys:
        lines.append(
            _line(
                "security",
                "KMS keys of edge-global (in us-east-1)",
                edge_keys,
                table["kms_key_month"],
            )
        )
    return lines


def _rate_minutes(expression: str) -> float:
    """Minutes between runs of a Synthetics `rate(N minutes)` or `rate(N hours)` schedule."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours)\)", expression)
    if not match:
        raise ValueError(f"not a rate() schedule: {expression!r}")
    return int(match[1]) * (60 if match[2].startswith("hour") else 1)


def observability(env: DeployedEnvironment, table: PriceTable) -> list[Line]:
    usage = table.usage_for(env.kind)
    standard = high_resolution = 0
    for stack, _, alarm in env.resources("AWS::CloudWatch::Alarm"):
        props = alarm["Properties"]
        # An alarm on a metric math expression is billed per metric in the expression.
        stats = [m["MetricStat"] for m in props.get("Metrics", []) if "MetricStat" in m]
        periods = [
            int(env.value(p, stack)) for p in [s["Period"] for s in stats] or [props["Period"]]
        ]
        metrics = len(stats) or 1
        if min(periods) < 60:
            high_resolution += metrics
        else:
            standard += metrics
    lines = [
        _line(
            "observability",
            f"alarm metrics, standard resolution ({standard})",
            standard,
            table["alarm_metric_month"],
        )
    ]
    if high_resolution:
        lines.append(
            _line(
                "observability",
                "alarm metrics, high resolution",
                high_resolution,
                table["alarm_high_resolution_metric_month"],
            )
        )
    for stack, logical_id, canary in env.resources("AWS::Synthetics::Canary"):
        schedule = env.value(canary["Properties"]["Schedule"]["Expression"], stack)
        minutes = _rate_minutes(schedule)
        lines.append(
            _line(
                "observability",
                f"{logical_id} runs, one every {minutes:g} minutes ({schedule})",
                table.hours_per_month * 60 / minutes,
                table["synthetics_canary_run"],
            )
        )
    dashboards = env.count("AWS::CloudWatch::Dashboard")
    if dashboards:
        lines.append(_line("observability", "dashboards", dashboards, table["dashboard_month"]))
    ingested = stored = 0.0
    groups = 0
    for stack, logical_id, group in env.resources("AWS::Logs::LogGroup"):
        gb = usage["log_gb"].get(logical_id, usage["log_gb"]["default"])
        retention = int(env.value(group["Properties"].get("RetentionInDays", 3653), stack))
        ingested += gb
        stored += gb * retention / DAYS_PER_MONTH  # steady state: a retention's worth of months
        groups += 1
    lines += [
        _line(
            "observability",
            f"log ingestion ({groups} log groups)",
            ingested,
            table["logs_ingest_gb"],
            True,
        ),
        _line(
            "observability",
            "log storage at each group's retention",
            stored,
            table["logs_storage_gb_month"],
            True,
        ),
    ]
    return lines


def storage_and_workflows(env: DeployedEnvironment, table: PriceTable) -> list[Line]:
    usage = table.usage_for(env.kind)
    lines = []
    buckets = env.count("AWS::S3::Bucket")
    if buckets:
        lines.append(
            _line(
                "storage",
                f"S3 Standard ({buckets} buckets)",
                usage["s3_gb"],
                table["s3_standard_gb_month"],
                True,
            )
        )
    machines = env.count("AWS::StepFunctions::StateMachine")
    if machines:
        free = table["step_functions_free_transitions"].usd
        lines.append(
            _line(
                "workflows",
                f"Step Functions ({machines} state machines): {usage['step_functions_transitions']} transitions, {free:g} free",
                max(0, usage["step_functions_transitions"] - free) / 1000,
                table["step_functions_1k_transitions"],
                True,
            )
        )
    queues = env.count("AWS::SQS::Queue")
    if queues:
        free = table["sqs_free_million_requests"].usd
        lines.append(
            _line(
                "workflows",
                f"SQS queues ({queues}): "
                f"{usage['sqs_million_requests']} million requests, {free:g} million free",
                max(0, usage["sqs_million_requests"] - free),
                table["sqs_million_requests"],
                True,
            )
        )
    return lines


SERVICES: tuple[Callable[[DeployedEnvironment, PriceTable], list[Line]], ...] = (
    network,
    load_balancing,
    waf,
    compute,
    database,
    edge,
    keys_and_secrets,
    observability,
    storage_and_workflows,
)
