"""CloudWatch alarms for ministack's CloudFormation engine.

A composite alarm is recorded through ministack's PutCompositeAlarm and DeleteAlarms, which
have no provisioner; an alarm on a metric math expression is recorded with its queries
(``record_metric_math_alarms``).
"""

import functools

from ministack.services import cloudwatch
from ministack.services.cloudformation import provisioners as cfn
from served import json_answer

# --- AWS::CloudWatch::CompositeAlarm: Ref is the alarm's name ----------------------------

_COMPOSITE_ALARM = "AWS::CloudWatch::CompositeAlarm"
_COMPOSITE_ALARM_PROPERTIES = (
    "AlarmRule", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions",
    "InsufficientDataActions",
)  # fmt: skip


def _composite_alarm_put(name, props):
    """PutCompositeAlarm through ministack's CloudWatch API (it has the call, not the type)."""
    data = {k: props[k] for k in _COMPOSITE_ALARM_PROPERTIES if k in props}
    json_answer(
        cloudwatch._put_composite_alarm({}, {"AlarmName": name, **data}, False, is_json=True)
    )
    return name, {"Arn": cloudwatch._composite_alarms[name]["AlarmArn"]}


def _composite_alarm_create(logical_id, props, stack_name):
    return _composite_alarm_put(props.get("AlarmName") or f"{stack_name}-{logical_id}", props)


def _composite_alarm_update(physical_id, old_props, new_props, stack_name):
    return _composite_alarm_put(physical_id, new_props)


def _composite_alarm_delete(physical_id, props):
    if physical_id in cloudwatch._composite_alarms:
        json_answer(
            cloudwatch._delete_alarms({}, {"AlarmNames": [physical_id]}, False, is_json=True)
        )


# --- AWS::CloudWatch::Alarm: metric math ------------------------------------------------


def record_metric_math_alarms(record):
    """Wrap ministack's ``_cw_metric_alarm_record`` so an alarm on a metric math expression
    (``Metrics``: MetricDataQuery items) is recorded as DescribeAlarms shows one on AWS: the
    ``Metrics`` list and no MetricName, Namespace, Statistic, Period or Dimensions.

    ministack 1.5.33 refused such an alarm ("metric math is not supported"), so a template
    with one could not be deployed. The expression is stored, not evaluated: the alarm stays
    INSUFFICIENT_DATA, as ministack's evaluation skips an alarm without a MetricName.
    """

    @functools.wraps(record)
    def recorded(name, props):
        queries = props.get("Metrics")
        if not queries:
            return record(name, props)
        alarm = record(name, {**props, "Metrics": None, "MetricName": "-", "Namespace": "-"})
        for single in ("MetricName", "Namespace", "Statistic", "Period", "Dimensions", "Unit"):
            alarm.pop(single, None)
        alarm["Metrics"] = [_metric_data_query(query) for query in queries]
        return alarm

    return recorded


def _metric_data_query(query):
    """A template's MetricDataQuery as the API returns it: numbers and booleans typed."""
    out = dict(query)
    if "ReturnData" in out:
        out["ReturnData"] = cfn._cfn_bool(out["ReturnData"])
    if "Period" in out:
        out["Period"] = int(out["Period"])
    if "MetricStat" in out:
        out["MetricStat"] = {**out["MetricStat"], "Period": int(out["MetricStat"]["Period"])}
    return out


HANDLERS = {
    _COMPOSITE_ALARM: {
        "create": _composite_alarm_create,
        "update": _composite_alarm_update,
        "delete": _composite_alarm_delete,
    },
}
# createOnlyProperties of the registry schema.
REPLACING = {_COMPOSITE_ALARM: "AlarmName"}
