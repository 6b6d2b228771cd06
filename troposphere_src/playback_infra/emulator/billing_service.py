"""Budgets and Cost Anomaly Detection for ministack's CloudFormation engine.

ministack serves the Budgets API but has no provisioner for ``AWS::Budgets::Budget``: the
handlers here create, update and delete a budget with its notifications through that API.
It has no Cost Explorer at all: ``serve`` answers the anomaly-detection calls boto3 makes
(create, get, update, delete monitors and subscriptions), and ``AWS::CE::AnomalyMonitor`` and
``AWS::CE::AnomalySubscription`` are recorded through the same store, so what a stack made
reads back as on AWS. Cost Explorer is global: its state is per account.
"""

from __future__ import annotations

import json
import uuid

from ministack.core.responses import (
    AccountScopedDict,
    error_response_json,
    get_account_id,
    json_response,
)
from ministack.services import budgets
from served import json_answer, resetting

_monitors = AccountScopedDict()  # ARN -> monitor
_subscriptions = AccountScopedDict()  # ARN -> subscription
_JSON_1_1 = "application/x-amz-json-1.1"


# --- AWS::Budgets::Budget (Ref: the budget's name) ------------------------------------------


def _budget_request(props: dict) -> dict:
    """The template's properties as CreateBudget takes them (amounts are strings there)."""
    budget = json.loads(json.dumps(props["Budget"]))
    if "BudgetLimit" in budget:
        budget["BudgetLimit"]["Amount"] = str(budget["BudgetLimit"]["Amount"])
    entries = [
        {
            "Notification": {**entry["Notification"],
                             "Threshold": float(entry["Notification"]["Threshold"])},
            "Subscribers": entry["Subscribers"],
        }
        for entry in props.get("NotificationsWithSubscribers", [])
    ]  # fmt: skip
    return {
        "AccountId": get_account_id(),
        "Budget": budget,
        "NotificationsWithSubscribers": entries,
    }


def _budget_create(logical_id, props, stack_name):
    request = _budget_request(props)
    request["Budget"].setdefault("BudgetName", f"{stack_name}-{logical_id}")
    json_answer(budgets._create_budget(request))
    return request["Budget"]["BudgetName"], {}


def _budget_update(physical_id, old_props, new_props, stack_name):
    """Notifications change with the budget: the emulator replaces it under the same name."""
    _budget_delete(physical_id, old_props)
    request = _budget_request(new_props)
    request["Budget"]["BudgetName"] = physical_id
    json_answer(budgets._create_budget(request))
    return physical_id, {}


def _budget_delete(physical_id, props):
    if physical_id in budgets._budgets:
        json_answer(
            budgets._delete_budget({"AccountId": get_account_id(), "BudgetName": physical_id})
        )


# --- Cost Explorer anomaly detection ---------------------------------------------------------


def _arn(kind: str) -> str:
    return f"arn:aws:ce::{get_account_id()}:{kind}/{uuid.uuid4()}"


def _create_monitor(data: dict):
    monitor = {**data["AnomalyMonitor"], "MonitorArn": _arn("anomalymonitor")}
    _monitors[monitor["MonitorArn"]] = monitor
    return json_response({"MonitorArn": monitor["MonitorArn"]}, content_type=_JSON_1_1)


def _get_monitors(data: dict):
    wanted = data.get("MonitorArnList") or list(_monitors.keys())
    return json_response(
        {"AnomalyMonitors": [_monitors[a] for a in wanted if a in _monitors]},
        content_type=_JSON_1_1,
    )


def _update_monitor(data: dict):
    monitor = _monitors.get(data.get("MonitorArn", ""))
    if monitor is None:
        return error_response_json("UnknownMonitorException", "No such monitor", 400)
    if "MonitorName" in data:
        monitor["MonitorName"] = data["MonitorName"]
    return json_response({"MonitorArn": monitor["MonitorArn"]}, content_type=_JSON_1_1)


def _delete_monitor(data: dict):
    if _monitors.pop(data.get("MonitorArn", ""), None) is None:
        return error_response_json("UnknownMonitorException", "No such monitor", 400)
    return json_response({}, content_type=_JSON_1_1)


def _create_subscription(data: dict):
    subscription = {**data["AnomalySubscription"], "SubscriptionArn": _arn("anomalysubscription"),
                    "AccountId": get_account_id()}  # fmt: skip
    unknown = [a for a in subscription.get("MonitorArnList", []) if a not in _monitors]
    if unknown:
        return error_response_json("UnknownMonitorException", f"No such monitor: {unknown[0]}", 400)
    _subscriptions[subscription["SubscriptionArn"]] = subscription
    return json_response(
        {"SubscriptionArn": subscription["SubscriptionArn"]}, content_type=_JSON_1_1
    )


def _get_subscriptions(data: dict):
    wanted = data.get("SubscriptionArnList") or list(_subscriptions.keys())
    return json_response(
        {"AnomalySubscriptions": [_subscriptions[a] for a in wanted if a in _subscriptions]},
        content_type=_JSON_1_1,
    )


def _update_subscription(data: dict):
    subscription = _subscriptions.get(data.get("SubscriptionArn", ""))
    if subscription is None:
        return error_response_json("UnknownSubscriptionException", "No such subscription", 400)
    subscription.update({k: v for k, v in data.items() if k != "SubscriptionArn"})
    return json_response(
        {"SubscriptionArn": subscription["SubscriptionArn"]}, content_type=_JSON_1_1
    )


def _delete_subscription(data: dict):
    if _subscriptions.pop(data.get("SubscriptionArn", ""), None) is None:
        return error_response_json("UnknownSubscriptionException", "No such subscription", 400)
    return json_response({}, content_type=_JSON_1_1)


_ACTIONS = {
    "CreateAnomalyMonitor": _create_monitor,
    "GetAnomalyMonitors": _get_monitors,
    "UpdateAnomalyMonitor": _update_monitor,
    "DeleteAnomalyMonitor": _delete_monitor,
    "CreateAnomalySubscription": _create_subscription,
    "GetAnomalySubscriptions": _get_subscriptions,
    "UpdateAnomalySubscription": _update_subscription,
    "DeleteAnomalySubscription": _delete_subscription,
}


async def serve(method, path, headers, body, query_params):
    """ministack's service handler for `ce` (register it in SERVICE_HANDLERS)."""
    name = headers.get("x-amz-target", "").rpartition(".")[2]
    action = _ACTIONS.get(name)
    if action is None:
        return error_response_json("UnknownOperationException", f"Unknown operation {name}", 400)
    try:
        return action(json.loads(body) if body else {})
    except (json.JSONDecodeError, KeyError) as error:
        return error_response_json("ValidationException", f"Invalid request: {error}", 400)


def reset(reset_all_state):
    """Wrap ministack's reset so it empties this service's stores too."""
    return resetting(reset_all_state, _monitors, _subscriptions)


def _monitor_create(logical_id, props, stack_name):
    monitor = {k: v for k, v in props.items() if k != "ResourceTags"}
    if isinstance(monitor.get("MonitorSpecification"), str):
        monitor["MonitorSpecification"] = json.loads(monitor["MonitorSpecification"])
    arn = json_answer(_create_monitor({"AnomalyMonitor": monitor}))["MonitorArn"]
    return arn, {"MonitorArn": arn}


def _monitor_update(physical_id, old_props, new_props, stack_name):
    json_answer(
        _update_monitor({"MonitorArn": physical_id, "MonitorName": new_props["MonitorName"]})
    )
    return physical_id, {"MonitorArn": physical_id}


def _monitor_delete(physical_id, props):
    if physical_id in _monitors:
        json_answer(_delete_monitor({"MonitorArn": physical_id}))


def _subscription_request(props: dict) -> dict:
    subscription = {k: v for k, v in props.items() if k != "ResourceTags"}
    if isinstance(subscription.get("ThresholdExpression"), str):
        subscription["ThresholdExpression"] = json.loads(subscription["ThresholdExpression"])
    return subscription


def _subscription_create(logical_id, props, stack_name):
    request = {"AnomalySubscription": _subscription_request(props)}
    arn = json_answer(_create_subscription(request))["SubscriptionArn"]
    return arn, {"SubscriptionArn": arn}


def _subscription_update(physical_id, old_props, new_props, stack_name):
    json_answer(
        _update_subscription({"SubscriptionArn": physical_id, **_subscription_request(new_props)})
    )
    return physical_id, {"SubscriptionArn": physical_id}


def _subscription_delete(physical_id, props):
    if physical_id in _subscriptions:
        json_answer(_delete_subscription({"SubscriptionArn": physical_id}))


HANDLERS = {
    "AWS::Budgets::Budget": {
        "create": _budget_create,
        "update": _budget_update,
        "delete": _budget_delete,
    },
    "AWS::CE::AnomalyMonitor": {
        "create": _monitor_create,
        "update": _monitor_update,
        "delete": _monitor_delete,
    },
    "AWS::CE::AnomalySubscription": {
        "create": _subscription_create,
        "update": _subscription_update,
        "delete": _subscription_delete,
    },
}
# createOnlyProperties of the registry schemas.
REPLACING = {
    "AWS::Budgets::Budget": "",
    "AWS::CE::AnomalyMonitor": "MonitorType MonitorDimension MonitorSpecification",
    "AWS::CE::AnomalySubscription": "",
}
