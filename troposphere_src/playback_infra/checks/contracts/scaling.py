"""Scaling: every target-tracking policy of a service has data whichever target group is live.

Application Auto Scaling scales to the largest capacity any of a target's policies asks for, so
it scales in only when every policy agrees, and a policy whose metric has no data points asks
for nothing: it neither scales out nor in
(https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html).
The ALB publishes a target group's request metrics only while it routes requests to it, and an
ECS blue/green deployment moves production to the other target group. So a policy that reads
a target group must read every target group the service can serve from, and in metric math
each target group's series must be FILLed where it has no data
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html): a sum
with a missing operand has no data point. Each environment is read as its parameter file
deploys it (a rolling service serves from its one target group only).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from playback_infra.checks.contracts.rule import Rule, Subject, source
from playback_infra.deployed_environment import DeployedEnvironment

DOC = (
    "https://docs.aws.amazon.com/autoscaling/application/userguide/"
    "application-auto-scaling-target-tracking.html"
)
Source = tuple[str, str]  # (stack, logical ID) of the resource a value names


def _source(env: DeployedEnvironment, stack: str, node) -> Source | None:
    """The resource a Ref or a GetAtt names (checks/contracts/rule.py's `source`)."""
    found = source(env.stacks, stack, node)
    return found[:2] if found else None


def _target_groups(env: DeployedEnvironment, stack: str, service: dict) -> set[Source]:
    """The target groups a service can serve production from: its own and the alternate one
    a blue/green deployment moves production to."""
    found = set()
    for balancer in service["Properties"].get("LoadBalancers", []):
        advanced = balancer.get("AdvancedConfiguration")
        alternate = advanced.get("AlternateTargetGroupArn") if isinstance(advanced, dict) else None
        for node in (balancer.get("TargetGroupArn"), alternate):
            if (source := _source(env, stack, node)) is not None:
                found.add(source)
    return found


def _read(env: DeployedEnvironment, stack: str, tracking: dict) -> dict[str, Source]:
    """Target group each policy metric reads, by its metric-math ID ("" outside metric math)."""
    read = {}
    predefined = tracking.get("PredefinedMetricSpecification", {})
    if predefined.get("PredefinedMetricType") == "ALBRequestCountPerTarget":
        # "<load balancer full name>/<target group full name>"
        label = predefined["ResourceLabel"]
        parts = label["Fn::Join"][1] if isinstance(label, dict) and "Fn::Join" in label else []
        if parts and (source := _source(env, stack, parts[-1])) is not None:
            read[""] = source
    customized = tracking.get("CustomizedMetricSpecification", {})
    queries = [
        (query["Id"], query["MetricStat"]["Metric"].get("Dimensions", []))
        for query in customized.get("Metrics", [])
        if "MetricStat" in query
    ]
    queries.append(("", customized.get("Dimensions", [])))
    for query_id, dimensions in queries:
        for dimension in dimensions:
            if dimension["Name"] == "TargetGroup":
                read[query_id] = _source(env, stack, dimension["Value"])
    return read


def _unfilled(tracking: dict, query_ids: list[str]) -> list[str]:
    """The metric-math IDs the returned expression uses outside FILL(id, ...)."""
    metrics = tracking.get("CustomizedMetricSpecification", {}).get("Metrics", [])
    expression = " ".join(m.get("Expression", "") for m in metrics if m.get("ReturnData", True))
    outside = re.sub(r"FILL\(\s*\w+\s*,[^)]*\)", "", expression)
    return [i for i in query_ids if i and re.search(rf"\b{re.escape(i)}\b", outside)]


def _policies(env: DeployedEnvironment) -> Iterator[tuple[str, str, dict, dict]]:
    """(stack, logical ID, the scaled service, target tracking configuration) of every
    target-tracking policy of an ECS service's scalable target."""
    for stack, logical_id, policy in env.resources("AWS::ApplicationAutoScaling::ScalingPolicy"):
        properties = policy["Properties"]
        tracking = properties.get("TargetTrackingScalingPolicyConfiguration")
        target = env.stacks[stack].resources.get(properties["ScalingTargetId"].get("Ref", ""))
        if tracking is None or target is None:
            continue
        resource_id = target["Properties"]["ResourceId"]
        parts = resource_id["Fn::Join"][1] if isinstance(resource_id, dict) else []
        services = [
            env.stacks[stack].resources[part["Fn::GetAtt"][0]]
            for part in parts
            if isinstance(part, dict) and "Fn::GetAtt" in part
        ]
        for service in services:
            if service["Type"] == "AWS::ECS::Service":
                yield stack, logical_id, service, tracking


def _names(sources: set[Source]) -> str:
    return ", ".join(f"{stack} {logical_id}" for stack, logical_id in sorted(sources))


def find(subject: Subject) -> Iterator[str]:
    for name, env in sorted(subject.deployed.items()):
        for stack, logical_id, service, tracking in _policies(env):
            live = _target_groups(env, stack, service)
            read = _read(env, stack, tracking)
            if not read:
                continue
            where = f"{name}: {stack} {logical_id}"
            idle = _names(live - set(read.values()))
            if idle:
                yield (
                    f"{where} reads {_names(set(read.values()))} only, so while {idle} serves "
                    "production it has no data and the service never scales in; read every "
                    "target group the service can serve from in one policy (metric math, each "
                    "FILLed)"
                )
            unfilled = _unfilled(tracking, list(read))
            if len(read) > 1 and unfilled:
                yield (
                    f"{where} uses {', '.join(unfilled)} outside FILL(): the expression has no "
                    "data while that target group is idle; write FILL(id, 0)"
                )


RULE = Rule("scaling", DOC, find)
