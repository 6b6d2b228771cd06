"""SNS topics for ministack's CloudFormation engine: a topic keeps what its template says
that ministack's provisioner drops (``keep_topic_attributes``).
"""

import functools

from ministack.services import sns
from served import xml_answer

# --- AWS::SNS::Topic: what ministack's provisioner drops ----------------------------

# The topic attributes the template sets as properties of the same name.
_TOPIC_ATTRIBUTES = ("KmsMasterKeyId", "SignatureVersion", "TracingConfig")


def _set_topic_attributes(arn, old_props, new_props):
    """Write the attribute properties the template sets (SetTopicAttributes); one it no
    longer sets goes, as the topic then has none."""
    for name in _TOPIC_ATTRIBUTES:
        if name in new_props and new_props[name] != old_props.get(name):
            params = {"TopicArn": arn, "AttributeName": name, "AttributeValue": new_props[name]}
            xml_answer(sns._set_topic_attributes(params), f"AWS::SNS::Topic {name}")
        elif name not in new_props and name in old_props:
            sns._topics[arn]["attributes"].pop(name, None)


def keep_topic_attributes(handlers):
    """Wrap ministack's AWS::SNS::Topic handlers so the topic gets its KmsMasterKeyId,
    SignatureVersion and TracingConfig: ministack 1.5.33's provisioner drops them, and a
    topic the template encrypts with a KMS key was left unencrypted."""
    create, update = handlers["create"], handlers["update"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        arn, attributes = create(logical_id, props, stack_name)
        _set_topic_attributes(arn, {}, props)
        return arn, attributes

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        arn, attributes = update(physical_id, old_props, new_props, stack_name, logical_id)
        _set_topic_attributes(arn, old_props if arn == physical_id else {}, new_props)
        return arn, attributes

    return {**handlers, "create": created, "update": updated}
