"""Nested stacks in ministack with the plugin's engine fixes (emulator/engine_fixes.py): a
nested stack's delete and update apply its resources' DeletionPolicy and UpdateReplacePolicy.

One emulator serves the module; each test deploys its own stacks.
"""

from __future__ import annotations

import json

import pytest

from conftest import (
    failure_reasons,
    nested_stack_id,
    new_stack_name,
    outputs_of,
    put_template,
    wait_stack,
)

pytestmark = pytest.mark.emulator


# --- Nested stacks keep what their DeletionPolicy / UpdateReplacePolicy retains -----

RETAIN_IF = {"Fn::If": ["RetainData", "Retain", "Delete"]}


def data_template(policy, *, key=True) -> str:
    """A nested stack's template: a KMS key (unless not ``key``) and a log group named by the
    LogGroupName parameter, both with ``policy`` as DeletionPolicy and UpdateReplacePolicy.

    The Retain parameter sets the RetainData condition, which ``RETAIN_IF`` reads; the
    AWS::LanguageExtensions transform is what allows an ``Fn::If`` there on AWS.
    """
    policies = {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}
    resources = {
        "Logs": {
            "Type": "AWS::Logs::LogGroup",
            **policies,
            "Properties": {"LogGroupName": {"Ref": "LogGroupName"}},
        }
    }
    outputs = {"LogGroupName": {"Value": {"Ref": "Logs"}}}
    if key:
        resources["Key"] = {"Type": "AWS::KMS::Key", **policies, "Properties": {}}
        outputs["KeyId"] = {"Value": {"Ref": "Key"}}
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Transform": "AWS::LanguageExtensions",
            "Parameters": {
                "Retain": {"Type": "String", "AllowedValues": ["true", "false"]},
                "LogGroupName": {"Type": "String"},
            },
            "Conditions": {"RetainData": {"Fn::Equals": [{"Ref": "Retain"}, "true"]}},
            "Resources": resources,
            "Outputs": outputs,
        }
    )


def data_root_template(template_url, log_group_name, **extra_resources) -> str:
    """A root stack holding the nested stack at ``template_url`` as Data, passing it its
    Retain parameter and ``log_group_name``; ``extra_resources`` come beside it."""
    data = {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {
            "TemplateURL": template_url,
            "Parameters": {"Retain": {"Ref": "Retain"}, "LogGroupName": log_group_name},
        },
    }
    return json.dumps(
        {
            "Parameters": {"Retain": {"Type": "String"}},
            "Resources": {"Data": data, **extra_resources},
        }
    )


def _create_data_stack(cfn, template_bucket, policy, retain, **extra_resources) -> dict:
    """Start creating a root stack over ``data_template(policy)``; the stack's name, its id
    and the log group name it passes."""
    name = new_stack_name()
    url = put_template(template_bucket, f"{name}.json", data_template(policy))
    stack_id = cfn.create_stack(
        StackName=name,
        TemplateBody=data_root_template(url, f"/{name}/data", **extra_resources),
        Parameters=[{"ParameterKey": "Retain", "ParameterValue": retain}],
    )["StackId"]
    return {"name": name, "stack_id": stack_id, "log_group": f"/{name}/data"}


def _data_stack(cfn, template_bucket, policy, retain) -> dict:
    """A created root stack over ``data_template(policy)``: what ``_create_data_stack``
    returns, the nested stack's id and its outputs."""
    created = _create_data_stack(cfn, template_bucket, policy, retain)
    stack = wait_stack(cfn, created["stack_id"], "CREATE_IN_PROGRESS")
    assert stack["StackStatus"] == "CREATE_COMPLETE", failure_reasons(cfn, created["stack_id"])
    data_id = nested_stack_id(cfn, created["stack_id"], "Data")
    data = outputs_of(cfn.describe_stacks(StackName=data_id)["Stacks"][0])
    return {**created, "data_id": data_id, "outputs": data}


def key_state(kms, key_id) -> str:
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"]


def log_groups(logs, prefix) -> list[str]:
    groups = logs.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    return sorted(g["logGroupName"] for g in groups)


def skipped(cfn, stack_id) -> list[str]:
    """The logical ids of the stack's DELETE_SKIPPED events, sorted."""
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    return sorted(e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "DELETE_SKIPPED")


@pytest.mark.parametrize(
    ("policy", "retain", "kept"),
    [
        (RETAIN_IF, "true", True),
        (RETAIN_IF, "false", False),
        ("Retain", "false", True),
        ("RetainExceptOnCreate", "false", True),
        ("Delete", "true", False),
        # Neither type takes a snapshot: Snapshot deletes them, as in a top-level delete.
        ("Snapshot", "true", False),
    ],
    ids=["if-retain", "if-delete", "retain", "retain-except-on-create", "delete", "snapshot"],
)
def test_deleting_the_parent_applies_the_nested_deletion_policy(
    cfn, kms, logs, template_bucket, policy, retain, kept
):
    stack = _data_stack(cfn, template_bucket, policy, retain)
    key_id, log_group = stack["outputs"]["KeyId"], stack["outputs"]["LogGroupName"]
    assert (key_state(kms, key_id), log_groups(logs, log_group)) == ("Enabled", [log_group])

    cfn.delete_stack(StackName=stack["stack_id"])
    deleted = wait_stack(cfn, stack["stack_id"], "DELETE_IN_PROGRESS")
    assert deleted["StackStatus"] == "DELETE_COMPLETE", failure_reasons(cfn, stack["stack_id"])
    data = cfn.describe_stacks(StackName=stack["data_id"])["Stacks"][0]
    assert data["StackStatus"] == "DELETE_COMPLETE"

    if kept:
        assert (key_state(kms, key_id), log_groups(logs, log_group)) == ("Enabled", [log_group])
        assert skipped(cfn, stack["data_id"]) == ["Key", "Logs"]
    else:
        assert (key_state(kms, key_id), log_groups(logs, log_group)) == ("PendingDeletion", [])
        assert skipped(cfn, stack["data_id"]) == []


@pytest.mark.parametrize(("retain", "kept"), [("true", True), ("false", False)])
def test_nested_update_applies_the_policies_to_what_it_removes_and_replaces(
    cfn, kms, logs, template_bucket, retain, kept
):
    stack = _data_stack(cfn, template_bucket, RETAIN_IF, retain)
    key_id, old_group = stack["outputs"]["KeyId"], stack["outputs"]["LogGroupName"]

    # The key leaves the template; the log group's new name replaces it.
    new_url = put_template(
        template_bucket, f"{stack['name']}-v2.json", data_template(RETAIN_IF, key=False)
    )
    new_group = f"/{stack['name']}/data-v2"
    cfn.update_stack(
        StackName=stack["stack_id"],
        TemplateBody=data_root_template(new_url, new_group),
        Parameters=[{"ParameterKey": "Retain", "UsePreviousValue": True}],
    )
    updated = wait_stack(cfn, stack["stack_id"], "UPDATE_IN_PROGRESS")
    reasons = failure_reasons(cfn, stack["stack_id"]) + failure_reasons(cfn, stack["data_id"])
    assert updated["StackStatus"] == "UPDATE_COMPLETE", reasons
    data = outputs_of(cfn.describe_stacks(StackName=stack["data_id"])["Stacks"][0])
    assert data == {"LogGroupName": new_group}

    prefix = f"/{stack['name']}/"
    if kept:
        assert key_state(kms, key_id) == "Enabled"
        assert log_groups(logs, prefix) == [old_group, new_group]
    else:
        assert key_state(kms, key_id) == "PendingDeletion"
        assert log_groups(logs, prefix) == [new_group]


@pytest.mark.parametrize(
    ("policy", "kept"),
    [("Retain", True), ("RetainExceptOnCreate", False)],
    ids=["retain", "retain-except-on-create"],
)
def test_rolled_back_parent_create_deletes_all_but_the_nested_retain(
    cfn, logs, template_bucket, policy, kept
):
    # The alias fails after the nested stack is complete, so the parent's rollback deletes it.
    broken = {
        "Type": "AWS::KMS::Alias",
        "DependsOn": "Data",
        "Properties": {"AliasName": "not-an-alias", "TargetKeyId": "unused"},
    }
    created = _create_data_stack(cfn, template_bucket, policy, "false", Broken=broken)
    stack = wait_stack(cfn, created["stack_id"], "CREATE_IN_PROGRESS")
    stack = wait_stack(cfn, created["stack_id"], "ROLLBACK_IN_PROGRESS")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE", failure_reasons(cfn, created["stack_id"])
    assert log_groups(logs, created["log_group"]) == ([created["log_group"]] if kept else [])
