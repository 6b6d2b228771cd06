"""The OpenAI usage alarms of the app stack, on the metrics the backend publishes.

The backend writes CloudWatch embedded metric format (EMF) lines to its log group; CloudWatch
Logs extracts them as metrics in METRICS_NAMESPACE with the one dimension `Environment`, so
no metric filter and no PutMetricData call is needed. parts.metrics.METRICS is the contract's list (the
backend's side is docs/openai-integration.md, which a test holds to it); the alarms match
the retry and circuit-breaker behaviour that document asks of the backend.
"""

from __future__ import annotations

from troposphere import Ref, Template
from troposphere.cloudwatch import Metric, MetricDataQuery, MetricDimension, MetricStat

from playback_infra.parts import values
from playback_infra.parts.alarms import paging_alarm
from playback_infra.parts.metrics import DIMENSION, METRICS_NAMESPACE

# The error-rate alarm: a share of failed narrations, once there is enough traffic to judge.
ERROR_RATE_PERCENT = 10
ERROR_RATE_MIN_REQUESTS = 10


def _dimensions() -> list[MetricDimension]:
    return [MetricDimension(Name=DIMENSION, Value=Ref(values.ENVIRONMENT_NAME))]


def _per_minute(name: str) -> MetricStat:
    return MetricStat(
        Metric=Metric(Namespace=METRICS_NAMESPACE, MetricName=name, Dimensions=_dimensions()),
        Period=60,
        Stat="Sum",
    )


def _alarm(t: Template, title: str, description: str, **properties) -> None:
    t.add_resource(
        paging_alarm(
            title,
            description,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",  # no narrations is not an outage
            **properties,
        )
    )


def add_alarms(t: Template) -> None:
    """Error rate, breaker opened and daily cost above the environment's threshold."""
    values.consume(t, values.OPENAI_DAILY_COST_ALARM_USD)
    _alarm(
        t, "OpenAiErrorRateAlarm",
        f"{ERROR_RATE_PERCENT}% or more of narrations failed after retries (fallback text served), "
        "3 of 5 minutes. Check the backend's logs for the status codes, the OpenAI status page "
        "and the API key (an expired key gives 401 on every call).",
        Metrics=[
            MetricDataQuery(Id="requests", MetricStat=_per_minute("OpenAiRequests"), ReturnData=False),
            MetricDataQuery(Id="errors", MetricStat=_per_minute("OpenAiErrors"), ReturnData=False),
            MetricDataQuery(
                Id="rate",
                Label="Failed narrations (%)",
                Expression=f"IF(requests >= {ERROR_RATE_MIN_REQUESTS}, 100 * errors / requests, 0)",
                ReturnData=True,
            ),
        ],
        EvaluationPeriods=5, DatapointsToAlarm=3, Threshold=ERROR_RATE_PERCENT,
    )  # fmt: skip
    _alarm(
        t, "OpenAiCircuitOpenAlarm",
        "The backend's OpenAI circuit breaker opened: narrations are fallback text until a "
        "trial call succeeds. Check the error-rate alarm and the backend's logs.",
        Namespace=METRICS_NAMESPACE, MetricName="OpenAiCircuitOpened",
        Dimensions=_dimensions(), Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
    )  # fmt: skip
    _alarm(
        t, "OpenAiDailyCostAlarm",
        "Estimated OpenAI spend over the last 24 hours reached the environment's threshold "
        "(OpenAiDailyCostAlarmUsd). Check token use per narration (OpenAiTokensIn/Out), the "
        "cache hit rate and a model change; the OpenAI project's own budget is the hard stop.",
        Namespace=METRICS_NAMESPACE, MetricName="OpenAiCostUsd",
        Dimensions=_dimensions(), Statistic="Sum", Period=86400, EvaluationPeriods=1,
        Threshold=Ref(values.OPENAI_DAILY_COST_ALARM_USD),
    )  # fmt: skip
