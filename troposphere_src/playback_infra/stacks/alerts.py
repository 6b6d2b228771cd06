"""The alerts stack: the environment's alarm topic, encrypted, with the alarm e-mail subscribed.

Every alarm of every stack notifies this one topic (`AlarmTopicArn`), and so do the
environment's budget and cost anomaly subscription (observability stack). The e-mail address must
confirm the subscription once (AWS sends the link). A chat webhook can subscribe the same way.
"""

from __future__ import annotations

from awacs import sns as sns_actions
from awacs.aws import (
    Allow,
    Bool,
    Condition,
    Deny,
    Policy,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import Ref, Sub, Template
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from playback_infra.parts import values
from playback_infra.parts.template import new_template, tag_component

COMPONENT = "alerts"
# The billing services that notify the topic: AWS Budgets and Cost Anomaly Detection.
BILLING_SERVICES = ("budgets.amazonaws.com", "costalerts.amazonaws.com")


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
                    Statement(
                        Sid="CloudWatchAlarmsOfThisAccount",
                        Effect=Allow,
                        Principal=Principal("Service", ["cloudwatch.amazonaws.com"]),
                        Action=[sns_actions.Publish],
                        Resource=[Ref(topic)],
                        Condition=Condition(
                            StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))
                        ),
                    ),
                    Statement(
                        Sid="BudgetsAndCostAnomaliesOfThisAccount",
                        Effect=Allow,
                        Principal=Principal("Service", list(BILLING_SERVICES)),
                        Action=[sns_actions.Publish],
                        Resource=[Ref(topic)],
                        Condition=Condition(
                            StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))
                        ),
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
