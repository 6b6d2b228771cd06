"""The alerts stack: the environment's alarm topic, encrypted, with the alarm e-mail subscribed.

Every alarm of every stack notifies this one topic (`AlarmTopicArn`), and so do the
environment's budget and cost anomaly subscription (observability stack) and the rotation
stack's rule for a failed secret rotation. The e-mail address must
confirm the subscription once (AWS sends the link). A chat webhook can subscribe the same way.
"""

from __future__ import annotations

from awacs import sns as sns_actions
from awacs.aws import (
    Bool,
    Condition,
    Deny,
    Policy,
    Principal,
    Statement,
)
from troposphere import Ref, Sub, Template
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from playback_infra.parts import values
from playback_infra.parts.iam import BILLING_ALERT_SERVICES, for_this_account, rules_may_publish
from playback_infra.parts.names import ROTATION_FAILED_RULE_NAME
from playback_infra.parts.template import new_template, tag_component
from playback_infra.parts.workflows import rule_arn

COMPONENT = "alerts"


def build() -> Template:
    t = new_template("alerts (the environment's alarm topic)")
    values.consume(t, values.ENVIRONMENT_NAME, values.LOGS_KEY_ARN, values.ALARM_EMAIL)
    topic = t.add_resource(
        Topic(
            "AlarmTopic",
            DisplayName=Sub(f"Baseball Playback ${{{values.ENVIRONMENT_NAME}}} alarms"),
            KmsMasterKeyId=Ref(values.LOGS_KEY_ARN),
        )
    )
    t.add_resource(
        SubscriptionResource(
            "AlarmEmailSubscription",
            TopicArn=Ref(topic),
            Protocol="email",
            Endpoint=Ref(values.ALARM_EMAIL),
        )
    )
    t.add_resource(
        TopicPolicy(
            "AlarmTopicPolicy",
            Topics=[Ref(topic)],
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    for_this_account(
                        "CloudWatchAlarmsOfThisAccount",
                        ["cloudwatch.amazonaws.com"],
                        [sns_actions.Publish],
                        Ref(topic),
                    ),
                    for_this_account(
                        "BudgetsAndCostAnomaliesOfThisAccount",
                        BILLING_ALERT_SERVICES,
                        [sns_actions.Publish],
                        Ref(topic),
                    ),
                    rules_may_publish(
                        "RotationFailedRule",
                        Ref(topic),
                        [rule_arn(ROTATION_FAILED_RULE_NAME)],
                    ),
                    Statement(
                        Sid="TlsOnly",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[sns_actions.Publish],
                        Resource=[Ref(topic)],
                        Condition=Condition(Bool("aws:SecureTransport", "false")),
                    ),
                ],
            ),
        )
    )
    values.produce(t, values.ALARM_TOPIC_ARN, Ref(topic))
    tag_component(t, COMPONENT)
    return t
