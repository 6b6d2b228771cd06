"""Listener rules an ECS blue/green service manages: no deploy may rewrite them unseen.

At each blue/green deployment ECS moves the production (and test) listener rule's forward
action to the other target group
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html).
CloudFormation updates only what differs from the stack's template, but when an update does
change such a rule it writes the template's forward action back
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html),
which would send production to the target group ECS has emptied. So the replacement guard
refuses any change to such a rule, in an environment that deploys blue/green, until the
allow-list names it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from playback_infra.parts import values

LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
BLUE_GREEN = "BLUE_GREEN"
GUIDANCE = (
    "ECS moves this listener rule between the blue and green target groups at every blue/green "
    "deployment, and the update would write the template's forward action back. Before "
    "deploying it, make sure production is on the template's target group (aws elbv2 "
    "describe-rules --rule-arns RULE: the forward action's weight 100 is on the blue target "
    "group; if green has it, release the backend once more)"
)


def _walk(node) -> Iterator:
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        yield from _walk(child)


def rules(templates: Mapping[str, dict]) -> set[tuple[str, str]]:
    """(stack, logical ID) of every listener rule an ECS service names as its production or test
    listener rule (`AdvancedConfiguration`). The service names it by a parameter, which the
    stack whose output has that name fills."""
    named = {
        inner[key]["Ref"]
        for template in templates.values()
        for resource in template.get("Resources", {}).values()
        if resource["Type"] == "AWS::ECS::Service"
        for inner in _walk(resource.get("Properties", {}))
        if isinstance(inner, dict)
        for key in ("ProductionListenerRule", "TestListenerRule")
        if isinstance(inner.get(key), dict) and "Ref" in inner[key]
    }
    found = set()
    for stack, template in templates.items():
        resources = template.get("Resources", {})
        for name in named:
            value = template.get("Outputs", {}).get(name, {}).get("Value", {})
            for logical_id in (name, value.get("Ref") if isinstance(value, dict) else None):
                if resources.get(logical_id, {}).get("Type") == LISTENER_RULE:
                    found.add((stack, logical_id))
    return found


def managed(
    templates: Mapping[str, dict], strategies: Mapping[str, str]
) -> frozenset[tuple[str, str, str]]:
    """(environment, stack, logical ID) of the managed rules of each environment whose
    deployment strategy (environment -> `DeploymentStrategy`) is blue/green."""
    found = rules(templates)
    return frozenset(
        (env, stack, logical_id)
        for env, strategy in strategies.items()
        if strategy == BLUE_GREEN
        for stack, logical_id in found
    )


def strategies(files: Mapping[str, str]) -> dict[str, str]:
    """Environment -> its `DeploymentStrategy`, from the environments' root parameter files."""
    return {
        path.removeprefix("parameters/").removesuffix(".json"): json.loads(content)[
            "Parameters"
        ].get(values.DEPLOYMENT_STRATEGY, "")
        for path, content in files.items()
        if path.startswith("parameters/") and path.count("/") == 1 and path.endswith(".json")
    }
