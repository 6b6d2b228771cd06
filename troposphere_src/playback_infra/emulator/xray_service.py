"""AWS X-Ray groups for ministack, which has no X-Ray at all.

The API part (``serve``) answers the REST-JSON calls boto3 makes for groups (Create, Get,
Update, Delete, list); the CloudFormation part (``HANDLERS``) records ``AWS::XRay::Group``
through the same store, so what a stack made reads back through boto3 as on AWS. State lives
per account and region.
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
from served import json_answer, resetting

_groups = AccountRegionScopedDict()  # name -> group


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


_ACTIONS = {
    "/CreateGroup": _create_group,
    "/GetGroup": _get_group,
    "/UpdateGroup": _update_group,
    "/DeleteGroup": _delete_group,
    "/Groups": _get_groups,
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
    return resetting(reset_all_state, _groups)


# --- CloudFormation -------------------------------------------------------------------------


def _group_create(logical_id, props, stack_name):
    created = json_answer(_create_group(props))["Group"]
    return created["GroupARN"], {"GroupARN": created["GroupARN"]}


def _group_update(physical_id, old_props, new_props, stack_name):
    json_answer(_update_group({"GroupARN": physical_id, **new_props}))
    return physical_id, {"GroupARN": physical_id}


def _group_delete(physical_id, props):
    if _named_group({"GroupARN": physical_id}):
        json_answer(_delete_group({"GroupARN": physical_id}))


HANDLERS = {
    "AWS::XRay::Group": {"create": _group_create, "update": _group_update, "delete": _group_delete},
}
# createOnlyProperties of the registry schema.
REPLACING = {"AWS::XRay::Group": "GroupName"}
