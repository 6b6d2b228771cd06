"""CloudWatch alarms that page: every alarm notifies the environment's alarm topic when it
fires and when it recovers."""

from __future__ import annotations

from troposphere import Ref
from troposphere.cloudwatch import Alarm

from playback_infra.parts import values


def paging_alarm(title: str, description: str, **properties) -> Alarm:
    """An alarm with AlarmActions and OKActions on the alarm topic (the stack consumes
    AlarmTopicArn). `description` says what fired and what to check first."""
    topic = [Ref(values.ALARM_TOPIC_ARN)]
    return Alarm(
        title, AlarmDescription=description, AlarmActions=topic, OKActions=topic, **properties
    )
