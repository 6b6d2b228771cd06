"""The alerts stack (stacks/alerts.py): the encrypted alarm topic and who may publish to it, and
the part of the security stack's logs key that lets CloudWatch alarms use that topic."""

from __future__ import annotations

import re

import pytest

from playback_infra.stacks import alerts, data, rotation, security
from tests.stacks.helpers import getatt, props, ref, resources_of_type

ACCOUNT_ID = {"Fn::Sub": "${AWS::AccountId}"}
TOPIC = ref("AlarmTopic")


@pytest.fixture(scope="module")
def template():
    return alerts.build()


@pytest.fixture(scope="module")
def t(template) -> dict:
    return template.to_dict()


@pytest.fixture(scope="module")
def security_t() -> dict:
    return security.build().to_dict()


def topic_statements(t: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in props(t, "AlarmTopicPolicy")["PolicyDocument"]["Statement"]}


# --- topic -----------------------------------------------------------------------------------


def test_exactly_the_topic_its_subscription_and_its_policy(t):
    assert {name: r["Type"] for name, r in t["Resources"].items()} == {
        "AlarmTopic": "AWS::SNS::Topic",
        "AlarmEmailSubscription": "AWS::SNS::Subscription",
        "AlarmTopicPolicy": "AWS::SNS::TopicPolicy",
    }
    assert set(t["Parameters"]) == {"EnvironmentName", "LogsKeyArn", "AlarmEmail"}


def test_topic_is_encrypted_with_the_logs_key(t):
    p = props(t, "AlarmTopic")
    assert p["KmsMasterKeyId"] == ref("LogsKeyArn")
    assert p["DisplayName"] == {"Fn::Sub": "Baseball Playback ${EnvironmentName} alarms"}
    assert "TopicName" not in p  # a generated name never collides between environments


def test_alarm_email_is_subscribed(t):
    assert props(t, "AlarmEmailSubscription") == {
        "TopicArn": TOPIC,
        "Protocol": "email",
        "Endpoint": ref("AlarmEmail"),
    }


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_each_environments_alarm_email_is_accepted(t, parameter_files, env):
    pattern = t["Parameters"]["AlarmEmail"]["AllowedPattern"]
    email = parameter_files[env]["Parameters"]["AlarmEmail"]
    assert re.fullmatch(pattern, email), email


@pytest.mark.parametrize("bad", ["", "alerts", "alerts@", "@example.com", "a b@example.com"])
def test_alarm_email_pattern_rejects_what_is_no_address(t, bad):
    assert not re.fullmatch(t["Parameters"]["AlarmEmail"]["AllowedPattern"], bad)


def test_topic_policy_covers_only_the_topic(t):
    p = props(t, "AlarmTopicPolicy")
    assert p["Topics"] == [TOPIC]
    assert p["PolicyDocument"]["Version"] == "2012-10-17"
    assert set(topic_statements(t)) == {
        "CloudWatchAlarmsOfThisAccount", "BudgetsAndCostAnomaliesOfThisAccount",
        "RotationFailedRule", "TlsOnly",
    }  # fmt: skip


def test_only_cloudwatch_alarms_of_this_account_may_publish(t):
    assert topic_statements(t)["CloudWatchAlarmsOfThisAccount"] == {
        "Sid": "CloudWatchAlarmsOfThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": ["cloudwatch.amazonaws.com"]},
        "Action": ["sns:Publish"],
        "Resource": [TOPIC],
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
    }
    allows = [
        s
        for s in topic_statements(t).values()
        if s["Effect"] == "Allow" and s["Sid"] != "RotationFailedRule"
    ]
    assert [s["Sid"] for s in allows] == [
        "CloudWatchAlarmsOfThisAccount", "BudgetsAndCostAnomaliesOfThisAccount",
    ]  # fmt: skip
    assert topic_statements(t)["BudgetsAndCostAnomaliesOfThisAccount"]["Principal"] == {
        "Service": ["budgets.amazonaws.com", "costalerts.amazonaws.com"]
    }
    assert all(
        s["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}} for s in allows
    )
    for statement in allows:
        assert statement["Principal"] not in ("*", {"AWS": "*"}, {"AWS": ["*"]})
        assert all("*" not in action for action in statement["Action"])


def test_only_the_rotation_stacks_failure_rule_of_eventbridge_may_publish(t):
    assert topic_statements(t)["RotationFailedRule"] == {
        "Sid": "RotationFailedRule",
        "Effect": "Allow",
        "Principal": {"Service": ["events.amazonaws.com"]},
        "Action": ["sns:Publish"],
        "Resource": [TOPIC],
        "Condition": {
            "ArnEquals": {
                "aws:SourceArn": [
                    {
                        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:"
                        "rule/baseball-playback-${EnvironmentName}-rotation-failed"
                    }
                ]
            }
        },
    }
    rotation_rule = props(rotation.build().to_dict(), "RotationFailedRule")
    assert rotation_rule["Name"] == {
        "Fn::Sub": "baseball-playback-${EnvironmentName}-rotation-failed"
    }


def test_publishing_without_tls_is_denied(t):
    assert topic_statements(t)["TlsOnly"] == {
        "Sid": "TlsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["sns:Publish"],
        "Resource": [TOPIC],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_output_is_the_topic_arn(t):
    assert {name: o["Value"] for name, o in t["Outputs"].items()} == {"AlarmTopicArn": TOPIC}


def test_topic_has_the_component_tag(template, t):
    taggable = [name for name, r in template.resources.items() if "Tags" in r.props]
    assert taggable == ["AlarmTopic"]
    assert props(t, "AlarmTopic")["Tags"] == [{"Key": "Component", "Value": "alerts"}]


def test_nothing_in_the_alerts_stack_is_retained(t):
    # The topic holds no data; a retained topic would only orphan subscriptions.
    assert [n for n, r in t["Resources"].items() if "DeletionPolicy" in r] == []


# --- the logs key lets alarms publish to the encrypted topic ---------------------------------


def test_logs_key_lets_cloudwatch_alarms_of_this_account_use_it(security_t):
    statements = {s["Sid"]: s for s in props(security_t, "LogsKey")["KeyPolicy"]["Statement"]}
    assert statements["CloudWatchAlarmsToEncryptedTopic"] == {
        "Sid": "CloudWatchAlarmsToEncryptedTopic",
        "Effect": "Allow",
        "Principal": {"Service": ["cloudwatch.amazonaws.com"]},
        # SNS asks for a data key on the publisher's behalf and decrypts it to deliver.
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": ["*"],  # in a key policy: this key
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
    }
    assert statements["BillingAlertsToEncryptedTopic"]["Principal"] == {
        "Service": ["budgets.amazonaws.com", "costalerts.amazonaws.com"]
    }
    assert statements["BillingAlertsToEncryptedTopic"]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID}
    }
    # The rotation stack's failure rule publishes to the topic too.
    assert statements["EventBridgeRulesToEncryptedTopic"] == {
        **statements["CloudWatchAlarmsToEncryptedTopic"],
        "Sid": "EventBridgeRulesToEncryptedTopic",
        "Principal": {"Service": ["events.amazonaws.com"]},
    }
    assert set(statements) == {
        "KeyAdministration",
        "CloudWatchAlarmsToEncryptedTopic",
        "BillingAlertsToEncryptedTopic",
        "EventBridgeRulesToEncryptedTopic",
        "CloudWatchLogs",
    }


def test_the_data_key_does_not_let_cloudwatch_in(security_t):
    """Alarms publish to a topic under the logs key; the data key stays for data."""
    statements = props(security_t, "DataKey")["KeyPolicy"]["Statement"]
    assert all("cloudwatch.amazonaws.com" not in str(s["Principal"]) for s in statements)


def test_topic_key_is_the_logs_key_the_security_stack_exports(t, security_t):
    assert props(t, "AlarmTopic")["KmsMasterKeyId"] == ref("LogsKeyArn")
    assert security_t["Outputs"]["LogsKeyArn"]["Value"] == getatt("LogsKey", "Arn")


def test_every_data_alarm_notifies_the_topic_this_stack_exports(t):
    """The data stack's alarms name AlarmTopicArn, the output of this stack."""
    assert "AlarmTopicArn" in t["Outputs"]
    data_t = data.build().to_dict()
    alarms = {
        name: alarm
        for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
        for name, alarm in resources_of_type(data_t, kind).items()
        if "AlarmActions" in alarm["Properties"]  # a composite's signals page nobody
    }
    assert len(alarms) == 5
    for name, alarm in alarms.items():
        p = alarm["Properties"]
        assert p["AlarmActions"] == [ref("AlarmTopicArn")], name
        assert p["OKActions"] == [ref("AlarmTopicArn")], name
