"""CloudWatch alarms: those that page notify the environment's alarm topic when they fire and
when they recover; a signal alarm notifies nobody and is one input of a composite alarm that
pages only when two signals agree."""

from __future__ import annotations

from troposphere import Ref
from troposphere.cloudwatch import Alarm, CompositeAlarm

from playback_infra.parts import values


def paging_alarm(title: str, description: str, **properties) -> Alarm:
    """An alarm with AlarmActions and OKActions on the alarm topic (the stack consumes
    AlarmTopicArn). `description` says what fired and what to check first."""
    topic = [Ref(values.ALARM_TOPIC_ARN)]
    return Alarm(
        title, AlarmDescription=description, AlarmActions=topic, OKActions=topic, **properties
    )


def signal_alarm(title: str, description: str, **properties) -> Alarm:
    """An alarm without actions: a composite alarm's input, and a line on the dashboard."""
    return Alarm(title, AlarmDescription=description, **properties)


def paging_composite_alarm(title: str, description: str, rule) -> CompositeAlarm:
    """A composite alarm (`rule` in CloudWatch's ALARM("name") syntax) that pages."""
    topic = [Ref(values.ALARM_TOPIC_ARN)]
    return CompositeAlarm(
        title, AlarmDescription=description, AlarmRule=rule, AlarmActions=topic, OKActions=topic
    )
