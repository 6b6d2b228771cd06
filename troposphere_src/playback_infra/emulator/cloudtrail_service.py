"""CloudTrail's trail as a CloudFormation resource, for ministack (the account baseline).

ministack serves CloudTrail's API (CreateTrail, DescribeTrails, GetTrailStatus, StartLogging,
StopLogging, UpdateTrail, DeleteTrail) but its CloudFormation cannot provision
``AWS::CloudTrail::Trail``: ``HANDLERS`` records the trail through that API, as CloudFormation's
handler does (CreateTrail, then StartLogging or StopLogging as ``IsLogging`` says; UpdateTrail;
DeleteTrail), so what a stack made reads back through boto3 as on AWS. The trail's ``Ref`` is its
name, ``Arn`` its ARN. Nothing is delivered: the emulator checks no bucket or key policy.
"""

from __future__ import annotations

from ministack.services import cloudtrail
from ministack.services.cloudformation import provisioners as cfn
from served import json_answer

TRAIL = "AWS::CloudTrail::Trail"
# Template property -> CreateTrail/UpdateTrail member, where the names differ.
_MEMBERS = {"KMSKeyId": "KmsKeyId"}
_SETTINGS = (
    "S3BucketName", "S3KeyPrefix", "SnsTopicName", "IncludeGlobalServiceEvents",
    "IsMultiRegionTrail", "EnableLogFileValidation", "CloudWatchLogsLogGroupArn",
    "CloudWatchLogsRoleArn", "IsOrganizationTrail", "KMSKeyId",
)  # fmt: skip


def _request(name: str, props: dict) -> dict:
    request = {"Name": name}
    for key in _SETTINGS:
        if key in props:
            value = props[key]
            if key.startswith(("Include", "Is", "Enable")):
                value = cfn._cfn_bool(value)
            request[_MEMBERS.get(key, key)] = value
    return request


def _logging(name: str, props: dict) -> None:
    switch = (
        cloudtrail._start_logging if cfn._cfn_bool(props["IsLogging"]) else cloudtrail._stop_logging
    )
    json_answer(switch({"Name": name}), TRAIL)


def _attributes(answer: dict) -> dict:
    return {"Arn": answer["TrailARN"], "SnsTopicArn": answer.get("SnsTopicARN", "")}


def _create(logical_id, props, stack_name):
    name = props.get("TrailName") or f"{stack_name}-{logical_id}"
    answer = json_answer(cloudtrail._create_trail(_request(name, props)), TRAIL)
    _logging(name, props)
    return name, _attributes(answer)


def _update(physical_id, old_props, new_props, stack_name):
    answer = json_answer(cloudtrail._update_trail(_request(physical_id, new_props)), TRAIL)
    _logging(physical_id, new_props)
    return physical_id, _attributes(answer)


def _delete(physical_id, props):
    cloudtrail._delete_trail({"Name": physical_id})


HANDLERS = {TRAIL: {"create": _create, "update": _update, "delete": _delete}}
# createOnlyProperties of the registry schema.
REPLACING = {TRAIL: "TrailName"}
