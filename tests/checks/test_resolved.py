"""checks/resolved.py: a deployment's stacks resolved for one set of parameter values."""

from __future__ import annotations

import json

from playback_infra.checks import resolved
from tests.checks.helpers import rendered

CHILD = {
    "Parameters": {
        "Days": {"Type": "Number"},
        "Name": {"Type": "String"},
        "Zones": {"Type": "CommaDelimitedList"},
        "KeyArn": {"Type": "String"},
        "Archive": {"Type": "String", "Default": "false"},
    },
    "Conditions": {"Archived": {"Fn::Equals": [{"Ref": "Archive"}, "true"]}},
    "Resources": {
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "RetentionInDays": {"Ref": "Days"},
            "LogGroupName": {"Fn::Sub": "/playback/${Name}/${AWS::Region}"},
            "KmsKeyId": {"Ref": "KeyArn"},
            "DataProtectionPolicy": {"Fn::If": ["Archived", {"Name": "a"}, {"Ref": "AWS::NoValue"}]},
        }},
        "Bucket": {"Type": "AWS::S3::Bucket", "Condition": "Archived", "Properties": {
            "BucketName": {"Fn::Join": ["-", ["archive", {"Ref": "Name"}, {"Fn::Select": [1, {"Ref": "Zones"}]}]]},
        }},
    },
    "Outputs": {"LogsArn": {"Value": {"Fn::GetAtt": ["Logs", "Arn"]}}},
}  # fmt: skip
KEYS = {
    "Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {}}},
    "Outputs": {"KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}},
                "Prefix": {"Value": {"Fn::Sub": "${Env}-keys"}}},
    "Parameters": {"Env": {"Type": "String"}},
}  # fmt: skip
ROOT = {
    "Parameters": {"Days": {"Type": "Number"}, "Env": {"Type": "String"},
                   "Zones": {"Type": "CommaDelimitedList"}, "Archive": {"Type": "String"}},
    "Resources": {
        "KeysStack": {"Type": "AWS::CloudFormation::Stack", "Properties": {
            "TemplateURL": "keys.yaml", "Parameters": {"Env": {"Ref": "Env"}}}},
        "ChildStack": {"Type": "AWS::CloudFormation::Stack", "Properties": {
            "TemplateURL": "child.yaml",
            "Parameters": {"Days": {"Ref": "Days"}, "Name": {"Fn::GetAtt": ["KeysStack", "Outputs.Prefix"]},
                           "Zones": {"Fn::Join": [",", {"Ref": "Zones"}]}, "Archive": {"Ref": "Archive"},
                           "KeyArn": {"Fn::GetAtt": ["KeysStack", "Outputs.KeyArn"]}}}},
    },
}  # fmt: skip
TEMPLATES = {"root": ROOT, "child": CHILD, "keys": KEYS}
VALUES = {"Days": "30", "Env": "dev", "Zones": "us-east-1a,us-east-1b", "Archive": "false"}


def test_parameters_reach_nested_stacks_through_the_root_and_sibling_outputs():
    stacks = resolved.deployment(TEMPLATES, VALUES)
    assert list(stacks) == ["root", "keys", "child"]
    logs = stacks["child"].resources["Logs"]["Properties"]
    assert logs["RetentionInDays"] == "30"
    # A sibling's output resolved in the sibling (its own Fn::Sub), then substituted here;
    # the pseudo parameter is known only at deploy time and stays.
    assert logs["LogGroupName"] == {"Fn::Sub": "/playback/dev-keys/${AWS::Region}"}
    assert logs["KmsKeyId"] == {"Fn::GetAtt": ["Key", "Arn"]}  # the deployed key's ARN
    assert "DataProtectionPolicy" not in logs  # Fn::If chose AWS::NoValue
    assert "Bucket" not in stacks["child"].resources  # its condition is false
    assert stacks["child"].parameters["Zones"] == ["us-east-1a", "us-east-1b"]


def test_a_condition_switches_resources_and_branches_on():
    stacks = resolved.deployment(TEMPLATES, {**VALUES, "Archive": "true"})
    child = stacks["child"].resources
    assert child["Bucket"]["Properties"]["BucketName"] == "archive-dev-keys-us-east-1b"
    assert child["Logs"]["Properties"]["DataProtectionPolicy"] == {"Name": "a"}


def test_known_values_stand_in_for_what_only_the_deployment_knows():
    stacks = resolved.deployment(TEMPLATES, VALUES, known={"child": {"KeyArn": "arn:aws:kms:k"}})
    assert stacks["child"].resources["Logs"]["Properties"]["KmsKeyId"] == "arn:aws:kms:k"


def test_a_parameter_neither_given_nor_defaulted_stays_a_ref():
    stack = resolved.stack(CHILD, {"Days": "7"})
    logs = stack.resources["Logs"]["Properties"]
    assert logs["KmsKeyId"] == {"Ref": "KeyArn"}
    assert logs["LogGroupName"] == {"Fn::Sub": "/playback/${Name}/${AWS::Region}"}


def test_every_environment_of_the_real_templates_resolves():
    now = rendered()
    for env in now.environments:
        values = json.loads(now.files[f"parameters/{env}.json"])["Parameters"]
        stacks = resolved.deployment(now.dicts, values)
        assert {"network", "security", "data", "app"} <= set(stacks)
        database = stacks["data"].resources["DatabaseInstance"]["Properties"]
        assert (
            database["DBInstanceIdentifier"]
            == f"baseball-playback-{env}-{values['DatabaseGeneration']}"
        )
        assert database["EngineVersion"] == values["DatabaseEngineVersion"]
        flow_logs = stacks["security"].resources["FlowLogGroup"]["Properties"]
        assert flow_logs["RetentionInDays"] == values["FlowLogRetentionDays"]
