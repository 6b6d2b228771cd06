"""Least privilege, checked on every policy document in the generated templates.

- Allow statements name their actions: no `*` in an action, no NotAction, no NotResource.
- `Resource: "*"` only in KMS key policies (where it means "this key" and nothing else is
  allowed) or for actions AWS offers no resource-level permission for (`UNSCOPED_ACTIONS`).
- No Allow to the principal `*`.
"""

from __future__ import annotations

from collections.abc import Iterator

# Actions without resource-level permissions, each with the reason it may use "*".
UNSCOPED_ACTIONS: dict[str, str] = {
    "ecr:GetAuthorizationToken": "returns a registry-wide login token; no resource-level permission",
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions for writing traces",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions for writing traces",
    "cloudwatch:PutMetricData": "no resource-level permission; scoped by the cloudwatch:namespace condition",
    "ssmmessages:CreateControlChannel": "ECS Exec's Session Manager channels have no resource-level permission",
    "ssmmessages:CreateDataChannel": "ECS Exec's Session Manager channels have no resource-level permission",
    "ssmmessages:OpenControlChannel": "ECS Exec's Session Manager channels have no resource-level permission",
    "ssmmessages:OpenDataChannel": "ECS Exec's Session Manager channels have no resource-level permission",
}

KEY_POLICY_TYPES = {"AWS::KMS::Key", "AWS::KMS::ReplicaKey"}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _policy_documents(node) -> Iterator[dict]:
    """Every IAM policy document anywhere in a resource's properties."""
    if isinstance(node, dict):
        statements = node.get("Statement")
        if isinstance(statements, list) and all(isinstance(s, dict) for s in statements):
            yield node
            return
        for value in node.values():
            yield from _policy_documents(value)
    elif isinstance(node, list):
        for value in node:
            yield from _policy_documents(value)


def _statement_problems(statement: dict, resource_type: str) -> Iterator[str]:
    if statement.get("Effect") != "Allow":
        return
    label = statement.get("Sid", "a statement")
    for key in ("NotAction", "NotResource"):
        if key in statement:
            yield f"{label}: Allow with {key} grants everything not listed; name what is allowed"
    actions = [a for a in _as_list(statement.get("Action", [])) if isinstance(a, str)]
    for action in actions:
        if "*" in action:
            yield f"{label}: wildcard action {action!r}; name each action"
    if "*" in _as_list(statement.get("Resource", [])) and resource_type not in KEY_POLICY_TYPES:
        scoped = [a for a in actions if a not in UNSCOPED_ACTIONS]
        if scoped:
            yield (
                f"{label}: Resource '*' for {', '.join(scoped)}, which support resource-level "
                "permissions; name the resources"
            )
    principal = statement.get("Principal")
    if principal == "*" or (
        isinstance(principal, dict) and "*" in _as_list(principal.get("AWS", []))
    ):
        yield f"{label}: Allow to every principal '*'"


def problems(templates: dict[str, dict]) -> list[str]:
    """`templates` maps a template name to its dict; returns one message per violation."""
    found = []
    for template_name, template in sorted(templates.items()):
        for logical_id, resource in sorted(template.get("Resources", {}).items()):
            for document in _policy_documents(resource.get("Properties", {})):
                for statement in document["Statement"]:
                    found.extend(
                        f"{template_name}: {logical_id}: {message}"
                        for message in _statement_problems(statement, resource["Type"])
                    )
    return found
