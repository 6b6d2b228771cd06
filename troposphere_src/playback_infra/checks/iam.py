"""Least privilege, checked on every policy document in the generated templates (identity
policies, trust policies, and resource policies of keys, buckets, topics, queues, repositories).

Allow statements:
- name their actions: no `*` or `?` wildcard in an action, no NotAction, no NotResource,
  no NotPrincipal;
- name their resources: an identity policy's statement has a Resource; `Resource: "*"`, or an ARN
  standing for every resource of its kind (`arn:...:s3:::*`, `...:role/*`), only in KMS key
  policies (where `*` means "this key" and nothing else is allowed) or for actions AWS offers no
  resource-level permission for: those the Service Authorization Reference lists without
  a resource type (parts/authorization.py), and `UNSCOPED_ACTIONS`;
- pass roles only by name and only to a named service: `iam:PassRole` names its roles (a name
  or a name prefix, never a bare `role/*`) and carries an `iam:PassedToService` condition;
- a resource that declares `PLAYBACK_ACCOUNT_WIDE` with its reason (parts/suppress.py) may grant
  on every resource of a kind in this account, as a CloudFormation execution role must for the
  names CloudFormation generates; never `*` alone, never another account;
- never grant, or let assume a role, every principal: `*` under Principal (`"*"`,
  `{"AWS": "*"}`, `{"Federated": "*"}`...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from playback_infra.parts.authorization import only_on_any
from playback_infra.parts.suppress import ACCOUNT_WIDE, REASONS_KEY

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
    "ecr:PutReplicationConfiguration": "the registry's replication is one account-wide setting; no resource-level permission",
    "ecr:DescribeRegistry": "the registry's settings are read account-wide; no resource-level permission",
}

_UNSCOPED = {action.lower() for action in UNSCOPED_ACTIONS}

KEY_POLICY_TYPES = {"AWS::KMS::Key", "AWS::KMS::ReplicaKey"}
# The resource part of an ARN that stands for every resource of its kind: `*`, `role/*`,
# `log-group:*` (S3's resource part has no kind: `b/*` is every object of one bucket).
_EVERY_RESOURCE = re.compile(r"([A-Za-z0-9-]+[/:])?\*")
_EVERY_S3_RESOURCE = re.compile(r"\*(/\*)?")
_SUB_VARIABLE = re.compile(r"\$\{[^}]*\}")
_ACCOUNT_ID = "${AWS::AccountId}"


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


def _text(value) -> str | None:
    """A literal string, or the template of an `Fn::Sub`; None for other intrinsics."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return None


def _every_resource(resource, account_wide: bool = False) -> bool:
    """`*`, or an ARN whose resource part is a bare wildcard; with `account_wide`, such an ARN
    passes when it names this account."""
    text = _text(resource)
    if text is None:
        return False
    if text == "*":
        return True
    parts = _SUB_VARIABLE.sub("x", text.replace(_ACCOUNT_ID, "this-account")).split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return False
    if account_wide and (parts[4] == "this-account" or (not parts[4] and parts[5] != "*")):
        return False  # this account's, or of a type without accounts in its ARNs (a zone)
    every = _EVERY_S3_RESOURCE if parts[2] == "s3" else _EVERY_RESOURCE
    return bool(every.fullmatch(parts[5]))


def _anyone(principal) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, dict) and any("*" in _as_list(v) for v in principal.values())


def _statement_problems(
    statement: dict, resource_type: str, account_wide: bool = False
) -> Iterator[str]:
    if statement.get("Effect") != "Allow":
        return
    label = statement.get("Sid", "a statement")
    for key in ("NotAction", "NotResource", "NotPrincipal"):
        if key in statement:
            yield f"{label}: Allow with {key} grants everything not listed; name what is allowed"
    actions = [a for a in _as_list(statement.get("Action", [])) if isinstance(a, str)]
    for action in actions:
        if "*" in action or "?" in action:
            yield f"{label}: wildcard action {action!r}; name each action"
    resources = _as_list(statement.get("Resource", []))
    if not {"Principal", "NotPrincipal", "Resource", "NotResource"} & statement.keys():
        yield f"{label}: names no Resource; name the resources"
    every = [_text(r) for r in resources if _every_resource(r, account_wide)]
    if every and resource_type not in KEY_POLICY_TYPES:
        # iam:PassRole has a message of its own below.
        scoped = [
            a
            for a in actions
            if a.lower() not in _UNSCOPED | {"iam:passrole"} and not only_on_any(a)
        ]
        if scoped:
            yield (
                f"{label}: Resource {every[0]!r} for {', '.join(scoped)}, which support "
                "resource-level permissions; name the resources"
            )
    if any(a.lower() == "iam:passrole" for a in actions):
        if every or any((_text(r) or "").rpartition("/")[2] == "*" for r in resources):
            yield f"{label}: iam:PassRole on any role; name the roles it passes"
        if "iam:PassedToService" not in str(statement.get("Condition", {})):
            yield f"{label}: iam:PassRole without an iam:PassedToService condition; name the service"
    if _anyone(statement.get("Principal")):
        yield f"{label}: Allow to every principal '*'"


def problems(templates: dict[str, dict]) -> list[str]:
    """`templates` maps a template name to its dict; returns one message per violation."""
    found = []
    for template_name, template in sorted(templates.items()):
        for logical_id, resource in sorted(template.get("Resources", {}).items()):
            reasons = resource.get("Metadata", {}).get(REASONS_KEY, {})
            account_wide = bool(reasons.get(ACCOUNT_WIDE))
            for document in _policy_documents(resource.get("Properties", {})):
                for statement in document["Statement"]:
                    found.extend(
                        f"{template_name}: {logical_id}: {message}"
                        for message in _statement_problems(
                            statement, resource["Type"], account_wide
                        )
                    )
    return found
