"""The trail as a CloudFormation resource in ministack (emulator/cloudtrail_service.py): created,
updated and deleted through ministack's CloudTrail API, read back through boto3."""

from __future__ import annotations

import json

import pytest

from conftest import REGION, deploy, update, wait_stack

pytestmark = pytest.mark.emulator


def trail_template(*, logging: bool, validation: bool = True) -> str:
    trail = {
        "Type": "AWS::CloudTrail::Trail",
        "Properties": {
            "TrailName": "plugin-test-trail",
            "S3BucketName": "plugin-test-trail-logs",
            "IsLogging": logging,
            "IsMultiRegionTrail": True,
            "IncludeGlobalServiceEvents": True,
            "EnableLogFileValidation": validation,
            "KMSKeyId": f"arn:aws:kms:{REGION}:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        },
    }
    return json.dumps({
        "Resources": {"Trail": trail},
        "Outputs": {
            "Name": {"Value": {"Ref": "Trail"}},
            "Arn": {"Value": {"Fn::GetAtt": ["Trail", "Arn"]}},
        },
    })  # fmt: skip


def test_a_trail_is_created_logging_updated_and_deleted(cfn, aws):
    cloudtrail = aws("cloudtrail")
    stack_id, outputs = deploy(cfn, trail_template(logging=True))
    assert outputs["Name"] == "plugin-test-trail"
    (trail,) = cloudtrail.describe_trails(trailNameList=["plugin-test-trail"])["trailList"]
    assert trail["TrailARN"] == outputs["Arn"]
    assert outputs["Arn"].endswith(":trail/plugin-test-trail")
    assert trail["IsMultiRegionTrail"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["LogFileValidationEnabled"] is True
    assert trail["S3BucketName"] == "plugin-test-trail-logs"
    assert trail["KmsKeyId"].endswith("key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert cloudtrail.get_trail_status(Name="plugin-test-trail")["IsLogging"] is True

    update(cfn, stack_id, trail_template(logging=False, validation=False))
    (trail,) = cloudtrail.describe_trails(trailNameList=["plugin-test-trail"])["trailList"]
    assert trail["LogFileValidationEnabled"] is False
    assert cloudtrail.get_trail_status(Name="plugin-test-trail")["IsLogging"] is False

    cfn.delete_stack(StackName=stack_id)
    assert wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")["StackStatus"] == "DELETE_COMPLETE"
    assert cloudtrail.describe_trails(trailNameList=["plugin-test-trail"])["trailList"] == []
