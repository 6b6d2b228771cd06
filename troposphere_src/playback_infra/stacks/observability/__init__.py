"""The observability stack: the environment's dashboard and the alarms on the backend's logs.

One CloudWatch dashboard an on-call engineer reads top to bottom in ten seconds: is the site
answering (CloudFront and ALB requests, 5xx, latency percentiles), are there enough healthy
tasks (targets, running against desired, CPU and memory), is the database well (CPU,
connections, free storage, latency, the proxy), is anyone being blocked (both WAFs), is the
OpenAI integration healthy and what it costs (the backend's metrics), and did the last
Retrosheet import finish. CloudFront's and the edge WAF's metrics live in us-east-1, so
those widgets read that region. A metric filter counts the backend's error log lines and
pages on a burst. The site canary (`site_canary`) checks the site and the API from outside,
through CloudFront, and its line leads the dashboard. It builds last: it only watches.
"""

from __future__ import annotations

import json

from troposphere import Ref, Sub, Template
from troposphere.budgets import (
    Budget,
    BudgetData,
    Notification,
    NotificationWithSubscribers,
    Spend,
    Subscriber,
)
from troposphere.ce import AnomalyMonitor, AnomalySubscription
from troposphere.ce import Subscriber as AnomalySubscriber
from troposphere.cloudwatch import Dashboard, MetricDataQuery, MetricDimension, MetricStat
from troposphere.cloudwatch import Metric as AlarmMetric
from troposphere.logs import MetricFilter, MetricTransformation
from troposphere.xray import Group, InsightsConfiguration

from playback_infra.parts import values
from playback_infra.parts.alarms import paging_alarm
from playback_infra.parts.metrics import DIMENSION, METRICS_NAMESPACE
from playback_infra.parts.names import (
    API_WEB_ACL_NAME,
    IMPORT_WORKFLOW_NAME,
    PROXY_NAME,
    SITE_WEB_ACL_NAME,
    TRACED_SERVICE_NAME,
)
from playback_infra.parts.template import add_retain_condition, new_template, tag_component
from playback_infra.stacks.observability.site_canary import CANARY_NAME, add_site_canary

COMPONENT = "observability"
EDGE_REGION = "us-east-1"
PERIOD = 60
# Budget notifications: (type, percent of the monthly budget).
BUDGET_NOTIFICATIONS = (("ACTUAL", 80), ("FORECASTED", 100))
# A cost anomaly notifies once its total impact reaches this many US dollars.
ANOMALY_IMPACT_USD = 10
# The error-rate alarm judges only minutes with this many requests or more.
ERROR_RATE_MIN_REQUESTS = 20
# The backend logs JSON lines; an error is one whose level is error or fatal (pino levels).
ERROR_PATTERN = '{ ($.level = "error") || ($.level = "fatal") || ($.level = 50) || ($.level = 60) }'
APP_ERRORS = "AppErrors"
# A metric filter cannot set a constant dimension: the environment is in the namespace.
LOG_NAMESPACE = f"{METRICS_NAMESPACE}/Logs/${{EnvironmentName}}"
# Placeholders the dashboard's JSON carries until Fn::Sub puts the stack's values in.
ENV = "${EnvironmentName}"
ALB = "${ApiLoadBalancerFullName}"
BLUE = "${ApiTargetGroupBlueFullName}"
GREEN = "${ApiTargetGroupGreenFullName}"
CLUSTER = "${ClusterName}"
SERVICE = "${ServiceName}"
DATABASE = "${DatabaseInstanceId}"
DISTRIBUTION = "${SiteDistributionId}"
REGION = "${AWS::Region}"
ACCOUNT = "${AWS::AccountId}"


def _widget(title: str, metrics: list, *, stat: str = "Sum", region: str = REGION,
            width: int = 8, label_unit: str = "") -> dict:  # fmt: skip
    properties = {
        "title": title,
        "view": "timeSeries",
        "stacked": False,
        "region": region,
        "stat": stat,
        "period": PERIOD,
        "metrics": metrics,
    }
    if label_unit:
        properties["yAxis"] = {"left": {"label": label_unit, "showUnits": False}}
    return {"type": "metric", "width": width, "height": 6, "properties": properties}


def _text(markdown: str) -> dict:
    return {"type": "text", "width": 24, "height": 2, "properties": {"markdown": markdown}}


def dashboard_body() -> dict:
    """The dashboard, rows in the order an on-call engineer asks the questions."""
    alb = ["AWS/ApplicationELB"]
    target = ["AWS/ApplicationELB"]
    ecs = ["AWS/ECS"]
    rds = ["AWS/RDS"]
    backend = [METRICS_NAMESPACE]
    latency = [
        [*alb, "TargetResponseTime", "LoadBalancer", ALB, {"stat": p, "label": p}]
        for p in ("p50", "p95", "p99")
    ]
    widgets = [
        _text(
            f"# Baseball Playback {ENV}\n"
            "The site canary, site and API first, then tasks, database, edge security, OpenAI "
            "and imports. "
            "Every alarm and what to check first: docs/monitoring.md."
        ),
        _widget("Site canary: runs passed (%) and duration (ms), through CloudFront", [
            ["CloudWatchSynthetics", "SuccessPercent", "CanaryName", CANARY_NAME],
            ["CloudWatchSynthetics", "Duration", "CanaryName", CANARY_NAME, {"yAxis": "right"}],
        ], stat="Average", width=24),
        _widget("CloudFront: requests and error rates (%)", [
            ["AWS/CloudFront", "Requests", "DistributionId", DISTRIBUTION, "Region", "Global"],
            ["AWS/CloudFront", "5xxErrorRate", "DistributionId", DISTRIBUTION, "Region", "Global",
             {"stat": "Average", "yAxis": "right"}],
            ["AWS/CloudFront", "4xxErrorRate", "DistributionId", DISTRIBUTION, "Region", "Global",
             {"stat": "Average", "yAxis": "right"}],
        ], region=EDGE_REGION),
        _widget("ALB: requests, 5xx from targets and from the ALB", [
            [*alb, "RequestCount", "LoadBalancer", ALB],
            [*alb, "HTTPCode_Target_5XX_Count", "LoadBalancer", ALB],
            [*alb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", ALB],
        ]),
        _widget("API latency p50 / p95 / p99 (s)", latency, stat="p95"),
        _widget("Healthy targets (blue, green)", [
            [*target, "HealthyHostCount", "TargetGroup", BLUE, "LoadBalancer", ALB],
            [*target, "HealthyHostCount", "TargetGroup", GREEN, "LoadBalancer", ALB],
            [*target, "UnHealthyHostCount", "TargetGroup", BLUE, "LoadBalancer", ALB],
        ], stat="Minimum"),
        _widget("Backend tasks: running vs desired", [
            ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", CLUSTER, "ServiceName", SERVICE],
            ["ECS/ContainerInsights", "DesiredTaskCount", "ClusterName", CLUSTER, "ServiceName", SERVICE],
        ], stat="Average"),
        _widget("Backend CPU and memory (%)", [
            [*ecs, "CPUUtilization", "ClusterName", CLUSTER, "ServiceName", SERVICE],
            [*ecs, "MemoryUtilization", "ClusterName", CLUSTER, "ServiceName", SERVICE],
        ], stat="Average"),
        _widget("Database: CPU (%) and connections", [
            [*rds, "CPUUtilization", "DBInstanceIdentifier", DATABASE],
            [*rds, "DatabaseConnections", "DBInstanceIdentifier", DATABASE, {"yAxis": "right"}],
        ], stat="Average"),
        _widget("Database: free storage (bytes)", [
            [*rds, "FreeStorageSpace", "DBInstanceIdentifier", DATABASE],
        ], stat="Minimum"),
        _widget("Database: read and write latency (s)", [
            [*rds, "ReadLatency", "DBInstanceIdentifier", DATABASE],
            [*rds, "WriteLatency", "DBInstanceIdentifier", DATABASE],
        ], stat="Average"),
        _widget("RDS Proxy: client connections (where there is one)", [
            [*rds, "ClientConnections", "ProxyName", PROXY_NAME],
            [*rds, "DatabaseConnections", "ProxyName", PROXY_NAME],
        ], stat="Average"),
        _widget("WAF: blocked requests (edge, ALB)", [
            ["AWS/WAFV2", "BlockedRequests", "WebACL", SITE_WEB_ACL_NAME, "Rule", "ALL",
             {"region": EDGE_REGION, "label": "edge (CloudFront)"}],
            ["AWS/WAFV2", "BlockedRequests", "WebACL", API_WEB_ACL_NAME, "Rule", "ALL",
             "Region", REGION, {"label": "ALB"}],
        ]),
        _widget("OpenAI: narrations, errors, retries, breaker", [
            [*backend, name, DIMENSION, ENV]
            for name in ("OpenAiRequests", "OpenAiErrors", "OpenAiRetries", "OpenAiCircuitOpened")
        ]),
        _widget("OpenAI: latency p50 / p95 (ms)", [
            [*backend, "OpenAiLatency", DIMENSION, ENV, {"stat": p, "label": p}] for p in ("p50", "p95")
        ], stat="p95"),
        _widget("OpenAI: tokens in / out and cost (USD)", [
            [*backend, "OpenAiTokensIn", DIMENSION, ENV],
            [*backend, "OpenAiTokensOut", DIMENSION, ENV],
            [*backend, "OpenAiCostUsd", DIMENSION, ENV, {"yAxis": "right"}],
        ]),
        _widget("Narration cache hits and misses", [
            [*backend, "NarrationCacheHits", DIMENSION, ENV],
            [*backend, "NarrationCacheMisses", DIMENSION, ENV],
        ]),
        _widget("Backend error log lines", [[LOG_NAMESPACE, APP_ERRORS]]),
        _widget("Retrosheet imports: started, succeeded, failed", [
            ["AWS/States", metric, "StateMachineArn",
             f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{IMPORT_WORKFLOW_NAME}"]
            for metric in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed")
        ], width=24),
    ]  # fmt: skip
    return {"start": "-PT6H", "periodOverride": "inherit", "widgets": widgets}


def _add_performance_baseline(t: Template) -> None:
    """The environment's baseline from the model: the API's p95 latency and 5xx share."""
    load_balancer = [
        MetricDimension(Name="LoadBalancer", Value=Ref(values.API_LOAD_BALANCER_FULL_NAME))
    ]
    t.add_resource(
        paging_alarm(
            "ApiLatencyAlarm",
            "The API's p95 latency at the ALB stayed above the environment's baseline "
            "(ApiLatencyAlarmSeconds) for 5 minutes. Check the dashboard's database latency "
            "and CPU first, then the backend's CPU and task count (autoscaling at its maximum?), "
            "then OpenAI latency (narrations wait on it).",
            Namespace="AWS/ApplicationELB",
            MetricName="TargetResponseTime",
            Dimensions=load_balancer,
            ExtendedStatistic="p95",
            Period=60,
            EvaluationPeriods=5,
            DatapointsToAlarm=5,
            Threshold=Ref(values.API_LATENCY_ALARM_SECONDS),
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )
    )

    def count(metric_id: str, metric: str) -> MetricDataQuery:
        return MetricDataQuery(
            Id=metric_id,
            ReturnData=False,
            MetricStat=MetricStat(
                Metric=AlarmMetric(
                    Namespace="AWS/ApplicationELB", MetricName=metric, Dimensions=load_balancer
                ),
                Period=60,
                Stat="Sum",
            ),
        )

    t.add_resource(
        paging_alarm(
            "ApiErrorRateAlarm",
            "At least ApiErrorRateAlarmPercent of the API's requests were answered 5xx (by the "
            "backend or the ALB), in 3 of 5 minutes with 20 or more requests. Check the "
            "healthy targets and the backend's error log lines first, then the database alarms.",
            Metrics=[
                count("requests", "RequestCount"),
                count("backend", "HTTPCode_Target_5XX_Count"),
                count("alb", "HTTPCode_ELB_5XX_Count"),
                MetricDataQuery(
                    Id="rate",
                    Expression=(
                        f"IF(FILL(requests, 0) >= {ERROR_RATE_MIN_REQUESTS}, "
                        "100 * (FILL(backend, 0) + FILL(alb, 0)) / requests, 0)"
                    ),
                    Label="5xx share of API requests (%)",
                    ReturnData=True,
                ),
            ],
            EvaluationPeriods=5,
            DatapointsToAlarm=3,
            Threshold=Ref(values.API_ERROR_RATE_ALARM_PERCENT),
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
        )
    )


def _add_cost_watch(t: Template) -> None:
    """The month's spend against the environment's budget (by its Environment tag), and
    Cost Anomaly Detection on the same tag; both notify the alarm topic."""
    topic = [Subscriber(SubscriptionType="SNS", Address=Ref(values.ALARM_TOPIC_ARN))]
    t.add_resource(
        Budget(
            "MonthlyBudget",
            Budget=BudgetData(
                BudgetName=Sub(f"baseball-playback-{ENV}"),
                BudgetType="COST",
                TimeUnit="MONTHLY",
                BudgetLimit=Spend(Amount=Ref(values.MONTHLY_BUDGET_USD), Unit="USD"),
                CostFilters={"TagKeyValue": [Sub(f"user:Environment${ENV}")]},
            ),
            NotificationsWithSubscribers=[
                NotificationWithSubscribers(
                    Notification=Notification(
                        NotificationType=kind,
                        ComparisonOperator="GREATER_THAN",
                        Threshold=threshold,
                        ThresholdType="PERCENTAGE",
                    ),
                    Subscribers=topic,
                )
                for kind, threshold in BUDGET_NOTIFICATIONS
            ],
        )
    )
    monitor = t.add_resource(
        AnomalyMonitor(
            "CostAnomalyMonitor",
            MonitorName=Sub(f"baseball-playback-{ENV}"),
            MonitorType="CUSTOM",
            MonitorSpecification=Sub(
                json.dumps(
                    {"Tags": {"Key": "Environment", "Values": [ENV], "MatchOptions": ["EQUALS"]}}
                )
            ),
        )
    )
    t.add_resource(
        AnomalySubscription(
            "CostAnomalySubscription",
            SubscriptionName=Sub(f"baseball-playback-{ENV}"),
            MonitorArnList=[Ref(monitor)],
            # SNS subscribers take each anomaly as it is found.
            Frequency="IMMEDIATE",
            Subscribers=[AnomalySubscriber(Type="SNS", Address=Ref(values.ALARM_TOPIC_ARN))],
            ThresholdExpression=json.dumps(
                {
                    "Dimensions": {
                        "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                        "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                        "Values": [str(ANOMALY_IMPACT_USD)],
                    }
                }
            ),
        )
    )


def _add_tracing(t: Template) -> None:
    """The API's trace group with Insights, which looks for anomalies in its faults and
    latency. Which traces X-Ray gets is not an X-Ray sampling rule: a rule decides when a
    request starts and so cannot keep every error; the app stack's ADOT sidecar decides once
    a trace is complete (every error or 5xx, and the environment's TraceSamplingPercent)."""
    service = TRACED_SERVICE_NAME
    t.add_resource(
        Group(
            "ApiTraceGroup",
            GroupName=Sub(f"{service}-api"),
            FilterExpression=Sub(f'service("{service}")'),
            InsightsConfiguration=InsightsConfiguration(
                InsightsEnabled=True, NotificationsEnabled=True
            ),
        )
    )


def build() -> Template:
    t = new_template(
        "observability (dashboard, alarms, site canary, tracing, cost watch)",
        language_extensions=True,
    )
    values.consume(
        t,
        values.ENVIRONMENT_NAME,
        values.ALARM_TOPIC_ARN,
        values.API_LOAD_BALANCER_FULL_NAME,
        values.API_TARGET_GROUP_BLUE_FULL_NAME,
        values.API_TARGET_GROUP_GREEN_FULL_NAME,
        values.CLUSTER_NAME,
        values.SERVICE_NAME,
        values.DATABASE_INSTANCE_ID,
        values.SITE_DISTRIBUTION_ID,
        values.APP_LOG_GROUP_NAME,
        values.APP_ERROR_ALARM_COUNT,
        values.API_LATENCY_ALARM_SECONDS,
        values.API_ERROR_RATE_ALARM_PERCENT,
        values.MONTHLY_BUDGET_USD,
    )
    add_retain_condition(t)
    _add_cost_watch(t)
    _add_performance_baseline(t)
    add_site_canary(t)
    _add_tracing(t)
    t.add_resource(
        Dashboard(
            "Dashboard",
            DashboardName=Sub(f"baseball-playback-{ENV}"),
            DashboardBody=Sub(json.dumps(dashboard_body(), separators=(",", ":"))),
        )
    )
    t.add_resource(
        MetricFilter(
            "AppErrorsFilter",
            LogGroupName=Ref(values.APP_LOG_GROUP_NAME),
            FilterPattern=ERROR_PATTERN,
            MetricTransformations=[
                MetricTransformation(
                    MetricNamespace=Sub(LOG_NAMESPACE),
                    MetricName=APP_ERRORS,
                    MetricValue="1",
                    Unit="Count",
                )
            ],
        )
    )
    t.add_resource(
        paging_alarm(
            "AppErrorsAlarm",
            "The backend logged a burst of errors (level error or fatal). Check the app log "
            "group's latest error lines (Logs Insights: filter level = 'error'), then the "
            "deployment history: a new release rolls back on 5xx, not on logged errors.",
            Namespace=Sub(LOG_NAMESPACE),
            MetricName=APP_ERRORS,
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=Ref(values.APP_ERROR_ALARM_COUNT),
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
        )
    )
    tag_component(t, COMPONENT)
    return t
