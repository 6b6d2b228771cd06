"""The observability stack (stacks/observability/) and docs/monitoring.md."""

from __future__ import annotations

import json
import re

import pytest

from playback_infra import synth
from playback_infra.paths import REPO_ROOT
from playback_infra.stacks import observability
from tests.stacks.helpers import props, ref, resources_of_type, root_provided_values_checked


@pytest.fixture(scope="module")
def t() -> dict:
    return observability.build().to_dict()


@pytest.fixture(scope="module")
def body(t) -> dict:
    return json.loads(props(t, "Dashboard")["DashboardBody"]["Fn::Sub"])


def _metrics(body: dict) -> list[list]:
    return [m for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]


def test_exactly_the_observability_resources(t):
    assert {name: r["Type"] for name, r in t["Resources"].items()} == {
        "Dashboard": "AWS::CloudWatch::Dashboard",
        "AppErrorsFilter": "AWS::Logs::MetricFilter",
        "AppErrorsAlarm": "AWS::CloudWatch::Alarm",
        "ApiLatencyAlarm": "AWS::CloudWatch::Alarm",
        "ApiErrorRateAlarm": "AWS::CloudWatch::Alarm",
        "MonthlyBudget": "AWS::Budgets::Budget",
        "CostAnomalyMonitor": "AWS::CE::AnomalyMonitor",
        "CostAnomalySubscription": "AWS::CE::AnomalySubscription",
        "ApiTraceGroup": "AWS::XRay::Group",
        "CanaryArtifactsBucket": "AWS::S3::Bucket",
        "CanaryArtifactsBucketPolicy": "AWS::S3::BucketPolicy",
        "SiteCanaryRole": "AWS::IAM::Role",
        "SiteCanary": "AWS::Synthetics::Canary",
        "SiteCanaryAlarm": "AWS::CloudWatch::Alarm",
    }


def test_dashboard_substitutes_only_the_stacks_parameters(t):
    text = props(t, "Dashboard")["DashboardBody"]["Fn::Sub"]
    names = set(re.findall(r"\$\{([^}]+)\}", text))
    assert names - {"AWS::Region", "AWS::AccountId"} <= set(t["Parameters"])
    assert props(t, "Dashboard")["DashboardName"] == {
        "Fn::Sub": "baseball-playback-${EnvironmentName}"
    }


@pytest.mark.parametrize(
    ("namespace", "metric"),
    [
        ("AWS/CloudFront", "Requests"),
        ("AWS/CloudFront", "5xxErrorRate"),
        ("AWS/ApplicationELB", "RequestCount"),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("AWS/ApplicationELB", "TargetResponseTime"),
        ("AWS/ApplicationELB", "HealthyHostCount"),
        ("ECS/ContainerInsights", "RunningTaskCount"),
        ("ECS/ContainerInsights", "DesiredTaskCount"),
        ("AWS/ECS", "CPUUtilization"),
        ("AWS/ECS", "MemoryUtilization"),
        ("AWS/RDS", "CPUUtilization"),
        ("AWS/RDS", "DatabaseConnections"),
        ("AWS/RDS", "FreeStorageSpace"),
        ("AWS/RDS", "ReadLatency"),
        ("AWS/RDS", "WriteLatency"),
        ("AWS/RDS", "ClientConnections"),
        ("AWS/WAFV2", "BlockedRequests"),
        ("BaseballPlayback", "OpenAiLatency"),
        ("BaseballPlayback", "OpenAiErrors"),
        ("BaseballPlayback", "OpenAiTokensIn"),
        ("BaseballPlayback", "OpenAiTokensOut"),
        ("BaseballPlayback", "OpenAiCostUsd"),
        ("AWS/States", "ExecutionsFailed"),
    ],
)
def test_dashboard_shows_what_the_on_call_engineer_asks(body, namespace, metric):
    assert any(m[0] == namespace and m[1] == metric for m in _metrics(body)), (namespace, metric)


def test_latency_as_percentiles_and_edge_metrics_from_us_east_1(body):
    latency = [m for m in _metrics(body) if m[1] == "TargetResponseTime"]
    assert [m[-1]["stat"] for m in latency] == ["p50", "p95", "p99"]
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        metrics = widget["properties"]["metrics"]
        if all(m[0] == "AWS/CloudFront" for m in metrics):
            assert widget["properties"]["region"] == "us-east-1"
    (edge_waf,) = [m for m in _metrics(body) if m[1] == "BlockedRequests" and "Region" not in m]
    assert edge_waf[-1]["region"] == "us-east-1"


def test_error_log_lines_are_counted_and_page(t):
    log_filter = props(t, "AppErrorsFilter")
    assert log_filter["LogGroupName"] == ref("AppLogGroupName")
    assert '$.level = "error"' in log_filter["FilterPattern"]
    (transformation,) = log_filter["MetricTransformations"]
    assert transformation["MetricNamespace"] == {
        "Fn::Sub": "BaseballPlayback/Logs/${EnvironmentName}"
    }
    alarm = props(t, "AppErrorsAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        transformation["MetricNamespace"], transformation["MetricName"],
    )  # fmt: skip
    assert alarm["Threshold"] == ref("AppErrorAlarmCount")
    assert alarm["AlarmActions"] == alarm["OKActions"] == [ref("AlarmTopicArn")]


def test_every_root_provided_parameter_value_passes_the_stacks_constraints(t, parameter_files):
    # name, retention, error lines, latency and error-rate baselines, budget, and the
    # canary's site, API path, schedule and period
    assert root_provided_values_checked(t, parameter_files) == 3 * 10


def test_the_budget_and_anomalies_watch_the_environments_tag_and_notify_the_topic(
    t, parameter_files
):
    budget = props(t, "MonthlyBudget")
    data = budget["Budget"]
    assert (data["BudgetType"], data["TimeUnit"]) == ("COST", "MONTHLY")
    assert data["BudgetLimit"] == {"Amount": ref("MonthlyBudgetUsd"), "Unit": "USD"}
    assert data["CostFilters"] == {
        "TagKeyValue": [{"Fn::Sub": "user:Environment$${EnvironmentName}"}]
    }
    notifications = {
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in budget["NotificationsWithSubscribers"]
    }
    assert notifications == {("ACTUAL", 80), ("FORECASTED", 100)}
    for entry in budget["NotificationsWithSubscribers"]:
        assert entry["Subscribers"] == [
            {"SubscriptionType": "SNS", "Address": ref("AlarmTopicArn")}
        ]
    monitor = props(t, "CostAnomalyMonitor")
    assert monitor["MonitorType"] == "CUSTOM"
    assert json.loads(monitor["MonitorSpecification"]["Fn::Sub"]) == {
        "Tags": {"Key": "Environment", "Values": ["${EnvironmentName}"], "MatchOptions": ["EQUALS"]}
    }
    subscription = props(t, "CostAnomalySubscription")
    assert subscription["Frequency"] == "IMMEDIATE"  # what SNS subscribers take
    assert subscription["Subscribers"] == [{"Type": "SNS", "Address": ref("AlarmTopicArn")}]
    budgets = {env: c["Parameters"]["MonthlyBudgetUsd"] for env, c in parameter_files.items()}
    assert budgets == {"dev": "100", "staging": "300", "prod": "1000"}


def test_the_performance_baseline_comes_from_the_environment(t, parameter_files):
    latency = props(t, "ApiLatencyAlarm")
    assert (latency["ExtendedStatistic"], latency["Threshold"]) == (
        "p95", ref("ApiLatencyAlarmSeconds"),
    )  # fmt: skip
    assert (latency["EvaluationPeriods"], latency["DatapointsToAlarm"]) == (5, 5)
    rate = props(t, "ApiErrorRateAlarm")
    (expression,) = [m["Expression"] for m in rate["Metrics"] if "Expression" in m]
    assert expression.startswith("IF(FILL(requests, 0) >= 20")
    assert rate["Threshold"] == ref("ApiErrorRateAlarmPercent")
    baselines = {
        env: (
            c["Parameters"]["ApiLatencyAlarmSeconds"],
            c["Parameters"]["ApiErrorRateAlarmPercent"],
        )
        for env, c in parameter_files.items()
    }
    assert baselines == {"dev": ("2", "10"), "staging": ("1", "5"), "prod": ("0.8", "2")}


def test_the_api_trace_group_selects_its_own_service_with_insights(t, parameter_files):
    # Sampling is the ADOT sidecar's (tests/stacks/test_app.py), not a head-based X-Ray rule.
    assert not resources_of_type(t, "AWS::XRay::SamplingRule")
    percents = {env: c["Parameters"]["TraceSamplingPercent"] for env, c in parameter_files.items()}
    assert percents == {"dev": "50", "staging": "20", "prod": "5"}
    group = props(t, "ApiTraceGroup")
    assert group["FilterExpression"] == {
        "Fn::Sub": 'service("baseball-playback-${EnvironmentName}")'
    }
    assert group["InsightsConfiguration"] == {"InsightsEnabled": True, "NotificationsEnabled": True}


def test_monitoring_doc_lists_every_alarm_with_what_to_check():
    rendered = synth.render()
    doc = rendered.files[synth.MONITORING_DOC]
    assert (REPO_ROOT / synth.MONITORING_DOC).read_text() == doc
    alarms = {
        title: resource["Properties"]["AlarmDescription"]
        for template in rendered.templates.values()
        for title, resource in resources_of_type(
            template.to_dict(), "AWS::CloudWatch::Alarm"
        ).items()
    }
    assert len(alarms) >= 17
    for title, description in alarms.items():
        assert f"| `{title}` |" in doc, title
        assert re.search(r"(?i)\bcheck\b", description), f"{title} says nothing to check first"
