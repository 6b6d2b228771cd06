"""AWS X-Ray groups and sampling rules for ministack, which has no X-Ray at all.

The API part (``serve``) answers the REST-JSON calls boto3 makes for groups and sampling rules
(Create, Get, Update, Delete, list); the CloudFormation part (``HANDLERS``) records
``AWS::XRay::Group`` and ``AWS::XRay::SamplingRule`` through the same store, so what a stack
made reads back through boto3 as on AWS. State lives per account and region.
"""

from __future__ import annotations

import json
import time

from ministack.core.responses import (
    AccountRegionScopedDict,
    error_response_json,
    get_account_id,
    get_region,
    json_response,
)
from served import checked, resetting

_groups = AccountRegionScopedDict()  # name -> group
_rules = AccountRegionScopedDict()  # name -> sampling rule
_RULE_DEFAULTS = {"Host": "*", "HTTPMethod": "*", "URLPath": "*", "ServiceType": "*",
                  "ServiceName": "*", "ResourceARN": "*", "Version": 1, "Attributes": {}}  # fmt: skip


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:xray:{get_region()}:{get_account_id()}:{kind}/{name}"


def _not_found(message: str):
    return error_response_json("InvalidRequestException", message, 400)


def _create_group(data: dict):
    name = data.get("GroupName", "")
    if not name or name in _groups:
        return error_response_json(
            "InvalidRequestException", f"Group {name!r} exists or is empty", 400
        )
    _groups[name] = {
        "GroupName": name,
        "GroupARN": _arn("group", f"{name}/{int(time.time() * 1000)}"),
        "FilterExpression": data.get("FilterExpression", ""),
        "InsightsConfiguration": data.get("InsightsConfiguration")
        or {"InsightsEnabled": False, "NotificationsEnabled": False},
    }
    return json_response({"Group": _groups[name]})


def _named_group(data: dict) -> dict | None:
    name = data.get("GroupName") or next(
        (g["GroupName"] for g in _groups.values() if g["GroupARN"] == data.get("GroupARN")), ""
    )
    return _groups.get(name)


def _get_group(data: dict):
    group = _named_group(data)
    return json_response({"Group": group}) if group else _not_found("Group not found")


def _update_group(data: dict):
    group = _named_group(data)
    if group is None:
        return _not_found("Group not found")
    for key in ("FilterExpression", "InsightsConfiguration"):
        if key in data:
            group[key] = data[key]
    return json_response({"Group": group})


def _delete_group(data: dict):
    group = _named_group(data)
    if group is None:
        return _not_found("Group not found")
    del _groups[group["GroupName"]]
    return json_response({})


def _get_groups(data: dict):
    return json_response({"Groups": list(_groups.values())})


def _record(rule: dict) -> dict:
    """A stored rule as the API shows it: the rule without the store's timestamps, and them."""
    public = {k: v for k, v in rule.items() if not k.startswith("_")}
    return {"SamplingRule": public, "CreatedAt": rule["_created"], "ModifiedAt": rule["_modified"]}


def _create_sampling_rule(data: dict):
    rule = {**_RULE_DEFAULTS, **data.get("SamplingRule", {})}
    name = rule.get("RuleName", "")
    if not name or name in _rules:
        return error_response_json(
            "InvalidRequestException", f"Rule {name!r} exists or is empty", 400
        )
    rule["RuleARN"] = _arn("sampling-rule", name)
    rule["_created"] = rule["_modified"] = time.time()
    _rules[name] = rule
    return json_response({"SamplingRuleRecord": _record(rule)})


def _get_sampling_rules(data: dict):
    return json_response({"SamplingRuleRecords": [_record(r) for r in _rules.values()]})


def _update_sampling_rule(data: dict):
    update = data.get("SamplingRuleUpdate", {})
    rule = _rules.get(update.get("RuleName", ""))
    if rule is None:
        return _not_found("Sampling rule not found")
    rule.update({k: v for k, v in update.items() if k != "RuleName"})
    rule["_modified"] = time.time()
    return json_response({"SamplingRuleRecord": _record(rule)})


def _delete_sampling_rule(data: dict):
    rule = _rules.pop(data.get("RuleName", ""), None)
    if rule is None:
        return _not_found("Sampling rule not found")
    return json_response({"SamplingRuleRecord": _record(rule)})


_ACTIONS = {
    "/CreateGroup": _create_group,
    "/GetGroup": _get_group,
    "/UpdateGroup": _update_group,
    "/DeleteGroup": _delete_group,
    "/Groups": _get_groups,
    "/CreateSamplingRule": _create_sampling_rule,
    "/GetSamplingRules": _get_sampling_rules,
    "/UpdateSamplingRule": _update_sampling_rule,
    "/DeleteSamplingRule": _delete_sampling_rule,
}


async def serve(method, path, headers, body, query_params):
    """ministack's service handler for `xray` (register it in SERVICE_HANDLERS)."""
    action = _ACTIONS.get(path.rstrip("/"))
    if action is None:
        return error_response_json("UnknownOperationException", f"Unknown path {path}", 404)
    try:
        data = json.loads(body) if body else {}
    except json.JSONDecodeError:
        return error_response_json("SerializationException", "Invalid JSON", 400)
    return action(data)


def reset(reset_all_state):
    """Wrap ministack's reset so it empties this service's stores too."""
    return resetting(reset_all_state, _groups, _rules)


# --- CloudFormation -------------------------------------------------------------------------


def _group_create(logical_id, props, stack_name):
    created = checked(_create_group(props))["Group"]
    return created["GroupARN"], {"GroupARN": created["GroupARN"]}


def _group_update(physical_id, old_props, new_props, stack_name):
    checked(_update_group({"GroupARN": physical_id, **new_props}))
    return physical_id, {"GroupARN": physical_id}


def _group_delete(physical_id, props):
    if _named_group({"GroupARN": physical_id}):
        checked(_delete_group({"GroupARN": physical_id}))


def _rule_create(logical_id, props, stack_name):
    created = checked(_create_sampling_rule({"SamplingRule": props["SamplingRule"]}))
    arn = created["SamplingRuleRecord"]["SamplingRule"]["RuleARN"]
    return arn, {"RuleARN": arn, "RuleName": props["SamplingRule"]["RuleName"]}


def _rule_update(physical_id, old_props, new_props, stack_name):
    checked(_update_sampling_rule({"SamplingRuleUpdate": new_props["SamplingRule"]}))
    return physical_id, {"RuleARN": physical_id, "RuleName": new_props["SamplingRule"]["RuleName"]}


def _rule_delete(physical_id, props):
    name = props["SamplingRule"]["RuleName"]
    if name in _rules:
        checked(_delete_sampling_rule({"RuleName": name}))


HANDLERS = {
    "AWS::XRay::Group": {"create": _group_create, "update": _group_update, "delete": _group_delete},
    "AWS::XRay::SamplingRule": {
        "create": _rule_create,
        "update": _rule_update,
        "delete": _rule_delete,
    },
}
# createOnlyProperties of the registry schemas (a sampling rule's name is nested: not listed).
REPLACING = {"AWS::XRay::Group": "GroupName"}
