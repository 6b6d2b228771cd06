"""The OpenAI usage alarms (stacks/app/openai_usage.py) in the app stack: they read the metrics
the backend's EMF lines create, with the dimension the task gives the backend, and the
contract in docs/openai-integration.md names the same metrics, units and thresholds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from playback_infra.parts import metrics
from playback_infra.stacks import app
from playback_infra.stacks.app import openai_usage
from tests.stacks.helpers import props, ref, resources_of_type

CONTRACT = Path(__file__).parents[2] / "docs" / "openai-integration.md"
TOPIC = [ref("AlarmTopicArn")]
OPENAI_ALARMS = ("OpenAiErrorRateAlarm", "OpenAiCircuitOpenAlarm", "OpenAiDailyCostAlarm")
DIMENSIONS = [{"Name": "Environment", "Value": ref("EnvironmentName")}]


@pytest.fixture(scope="module")
def t() -> dict:
    return app.build().to_dict()


def _metric(stat: dict) -> tuple[str, str, list]:
    metric = stat["Metric"]
    return metric["Namespace"], metric["MetricName"], metric["Dimensions"]


def test_the_backend_is_told_its_namespace_and_dimension_value(t):
    container = props(t, "TaskDefinition")["ContainerDefinitions"]["Fn::If"][1][0]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert environment["METRICS_NAMESPACE"] == metrics.METRICS_NAMESPACE
    assert environment["ENVIRONMENT_NAME"] == ref("EnvironmentName")


@pytest.mark.parametrize("title", OPENAI_ALARMS)
def test_every_alarm_pages_and_recovers_and_ignores_quiet_hours(t, title):
    p = props(t, title)
    assert p["AlarmActions"] == TOPIC
    assert p["OKActions"] == TOPIC
    assert p["TreatMissingData"] == "notBreaching"
    assert p["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert "Check" in p["AlarmDescription"]


def test_error_rate_is_failed_narrations_over_requests_once_there_is_traffic(t):
    p = props(t, "OpenAiErrorRateAlarm")
    queries = {q["Id"]: q for q in p["Metrics"]}
    assert set(queries) == {"requests", "errors", "rate"}
    for query_id, name in (("requests", "OpenAiRequests"), ("errors", "OpenAiErrors")):
        stat = queries[query_id]["MetricStat"]
        assert _metric(stat) == ("BaseballPlayback", name, DIMENSIONS)
        assert (stat["Period"], stat["Stat"], queries[query_id]["ReturnData"]) == (60, "Sum", False)
    assert queries["rate"]["ReturnData"] is True
    assert queries["rate"]["Expression"] == "IF(requests >= 10, 100 * errors / requests, 0)"
    assert (p["Threshold"], p["EvaluationPeriods"], p["DatapointsToAlarm"]) == (10, 5, 3)
    assert "MetricName" not in p  # a metric-math alarm has no single metric


def test_a_circuit_opening_alarms_within_the_minute(t):
    p = props(t, "OpenAiCircuitOpenAlarm")
    assert (p["Namespace"], p["MetricName"], p["Dimensions"]) == (
        "BaseballPlayback", "OpenAiCircuitOpened", DIMENSIONS)  # fmt: skip
    assert (p["Statistic"], p["Period"], p["EvaluationPeriods"], p["Threshold"]) == (
        "Sum", 60, 1, 1)  # fmt: skip


def test_daily_cost_is_the_last_24_hours_against_the_environments_threshold(t):
    p = props(t, "OpenAiDailyCostAlarm")
    assert (p["Namespace"], p["MetricName"], p["Dimensions"]) == (
        "BaseballPlayback", "OpenAiCostUsd", DIMENSIONS)  # fmt: skip
    assert (p["Statistic"], p["Period"], p["EvaluationPeriods"]) == ("Sum", 86400, 1)
    assert p["Threshold"] == ref("OpenAiDailyCostAlarmUsd")
    parameter = t["Parameters"]["OpenAiDailyCostAlarmUsd"]
    assert (parameter["Type"], parameter["MinValue"], parameter["MaxValue"]) == (
        "Number",
        1,
        100000,
    )


def test_every_alarm_reads_a_metric_of_the_contract(t):
    read = set()
    for title in OPENAI_ALARMS:
        p = props(t, title)
        read |= (
            {p["MetricName"]}
            if "MetricName" in p
            else {
                q["MetricStat"]["Metric"]["MetricName"] for q in p["Metrics"] if "MetricStat" in q
            }
        )
    assert read <= set(metrics.METRICS)
    assert read == {"OpenAiRequests", "OpenAiErrors", "OpenAiCircuitOpened", "OpenAiCostUsd"}


def test_the_app_stacks_alarms_are_the_deployment_ones_and_these(t):
    alarms = set(resources_of_type(t, "AWS::CloudWatch::Alarm"))
    assert set(OPENAI_ALARMS) <= alarms
    # Narration trouble must not roll a deployment back: the service watches only its own.
    watched = props(t, "Service")["DeploymentConfiguration"]["Alarms"]["AlarmNames"]
    assert not {a["Ref"] for a in watched} & set(OPENAI_ALARMS)


def test_the_parameter_files_give_each_environment_its_threshold(parameter_files):
    thresholds = {
        env: parameter_files[env]["Parameters"]["OpenAiDailyCostAlarmUsd"]
        for env in ("dev", "staging", "prod")
    }
    assert thresholds == {"dev": "5", "staging": "10", "prod": "50"}


def test_the_contract_document_lists_every_metric_with_its_unit():
    """The table rows of docs/openai-integration.md are `| MetricName | Unit | ... |`."""
    rows = dict(re.findall(r"^\| `(\w+)` \| `(\w+)` \|", CONTRACT.read_text(), re.MULTILINE))
    assert rows == {name: unit for name, (unit, _) in metrics.METRICS.items()}


def test_the_contract_states_the_thresholds_the_alarms_use():
    text = CONTRACT.read_text()
    assert f"{openai_usage.ERROR_RATE_PERCENT}%" in text
    assert f"at least {openai_usage.ERROR_RATE_MIN_REQUESTS} narrations" in text
    assert "`Environment`" in text and f"`{metrics.METRICS_NAMESPACE}`" in text
