"""Deploy secret rotation schedules into ministack with the plugin, and read them back through
Secrets Manager.

The rotation stack's shape: a nested stack under ``AWS::SecretsManager-2024-09-16`` (alone or
after ``AWS::LanguageExtensions``) whose RotationSchedules use a HostedRotationLambda. No
rotation function exists in the emulator, so the secrets show the schedule and no
RotationLambdaARN, and nothing rotates. One emulator serves the module; each test deploys
its own stacks.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from conftest import (
    failure_reasons,
    nested_stack_id,
    new_stack_name,
    outputs_of,
    put_template,
    wait_stack,
)
from tests.stacks.helpers import ref

pytestmark = pytest.mark.emulator

SECRETS_MANAGER = "AWS::SecretsManager-2024-09-16"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
EXCLUDED = "\"'@/\\`:;%&?#"
ROTATION_LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:rotate-mysql"


def secret(username) -> dict:
    """A generated database user secret encrypted with the stack's key."""
    return {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "KmsKeyId": ref("DataKey"),
            "GenerateSecretString": {
                "SecretStringTemplate": json.dumps({"username": username}),
                "GenerateStringKey": "password",
                "ExcludeCharacters": EXCLUDED,
            },
        },
    }


def hosted_rotation(secret_name) -> dict:
    """A schedule as the rotation stack declares it: the MySQL multi-user hosted function."""
    data_key = {"Fn::GetAtt": ["DataKey", "Arn"]}
    return {
        "Type": "AWS::SecretsManager::RotationSchedule",
        "Properties": {
            "SecretId": ref(secret_name),
            "HostedRotationLambda": {
                "RotationType": "MySQLMultiUser",
                "MasterSecretArn": ref("DatabaseMasterSecretArn"),
                "MasterSecretKmsKeyArn": data_key,
                "KmsKeyArn": data_key,
                "VpcSubnetIds": {"Fn::Join": [",", ref("PrivateAppSubnetIds")]},
                "VpcSecurityGroupIds": ref("SecretsRotationSecurityGroupId"),
                "ExcludeCharacters": EXCLUDED,
                "Runtime": "python3.12",
            },
            "RotateImmediatelyOnUpdate": False,
            "RotationRules": {"AutomaticallyAfterDays": ref("SecretRotationDays")},
        },
    }


def rotation_template(transform, *, migration_schedule=True) -> str:
    """The nested stack: a KMS key, the app and migration secrets and their schedules."""
    resources = {
        "DataKey": {
            "Type": "AWS::KMS::Key",
            "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": []}},
        },
        "AppSecret": secret("playback_app"),
        "MigrationSecret": secret("playback_migration"),
        "AppSecretRotation": hosted_rotation("AppSecret"),
        "MigrationSecretRotation": hosted_rotation("MigrationSecret"),
    }
    if not migration_schedule:
        del resources["MigrationSecretRotation"]
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Transform": transform,
            "Parameters": {
                "DatabaseMasterSecretArn": {"Type": "String"},
                "PrivateAppSubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>"},
                "SecretsRotationSecurityGroupId": {"Type": "AWS::EC2::SecurityGroup::Id"},
                "SecretRotationDays": {"Type": "Number", "MinValue": 1, "MaxValue": 365},
            },
            "Resources": resources,
            "Outputs": {
                "AppSecretArn": {"Value": ref("AppSecret")},
                "MigrationSecretArn": {"Value": ref("MigrationSecret")},
                "AppRotationRef": {"Value": ref("AppSecretRotation")},
            },
        }
    )


def root_template(url) -> str:
    """The root stack: the master secret, and the rotation stack at ``url``."""
    return json.dumps(
        {
            "Parameters": {"SecretRotationDays": {"Type": "Number"}},
            "Resources": {
                "MasterSecret": {
                    "Type": "AWS::SecretsManager::Secret",
                    "Properties": {"GenerateSecretString": {"PasswordLength": 20}},
                },
                "Rotation": {
                    "Type": "AWS::CloudFormation::Stack",
                    "Properties": {
                        "TemplateURL": url,
                        "Parameters": {
                            "DatabaseMasterSecretArn": ref("MasterSecret"),
                            "PrivateAppSubnetIds": "subnet-0aaa,subnet-0bbb",
                            "SecretsRotationSecurityGroupId": "sg-0rotation",
                            "SecretRotationDays": ref("SecretRotationDays"),
                        },
                    },
                },
            },
        }
    )


def days(value) -> list[dict]:
    return [{"ParameterKey": "SecretRotationDays", "ParameterValue": str(value)}]


def finished(cfn, stack_id, in_progress, expected) -> None:
    """Wait for the stack to leave ``in_progress``; it must end ``expected``."""
    stack = wait_stack(cfn, stack_id, in_progress)
    assert stack["StackStatus"] == expected, failure_reasons(cfn, stack_id)


def rotation_of(secrets, arn) -> dict:
    """DescribeSecret's rotation fields and version stages."""
    described = secrets.describe_secret(SecretId=arn)
    keys = ("RotationEnabled", "RotationRules", "RotationLambdaARN", "VersionIdsToStages")
    return {key: described[key] for key in keys if key in described}


@pytest.mark.parametrize(
    "transform",
    [
        [LANGUAGE_EXTENSIONS, SECRETS_MANAGER],
        SECRETS_MANAGER,
        "AWS::SecretsManager-2020-07-23",
    ],
    ids=["with-language-extensions", "2024-09-16", "2020-07-23"],
)
def test_nested_hosted_rotation_is_scheduled_updated_and_cancelled(
    cfn, secrets, template_bucket, transform
):
    name = new_stack_name()
    url = put_template(template_bucket, f"{name}.json", rotation_template(transform))
    stack_id = cfn.create_stack(
        StackName=name, TemplateBody=root_template(url), Parameters=days(30)
    )["StackId"]
    finished(cfn, stack_id, "CREATE_IN_PROGRESS", "CREATE_COMPLETE")
    rotation_id = nested_stack_id(cfn, stack_id, "Rotation")
    outputs = outputs_of(cfn.describe_stacks(StackName=rotation_id)["Stacks"][0])
    app, migration = outputs["AppSecretArn"], outputs["MigrationSecretArn"]
    assert outputs["AppRotationRef"] == app  # Ref is the secret's ARN
    created = {arn: rotation_of(secrets, arn) for arn in (app, migration)}
    for arn, rotation in created.items():
        # Rotation on with the template's schedule; no function exists, so no ARN is made up.
        assert rotation["RotationEnabled"] is True
        assert rotation["RotationRules"] == {"AutomaticallyAfterDays": 30}
        assert "RotationLambdaARN" not in rotation
        # RotateImmediatelyOnUpdate false: nothing rotated, the generated version is current.
        assert list(rotation["VersionIdsToStages"].values()) == [["AWSCURRENT"]], arn

    # The days change, and the migration schedule goes.
    v2 = put_template(
        template_bucket,
        f"{name}-v2.json",
        rotation_template(transform, migration_schedule=False),
    )
    cfn.update_stack(StackName=stack_id, TemplateBody=root_template(v2), Parameters=days(14))
    finished(cfn, stack_id, "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE")
    assert rotation_of(secrets, app) == {
        **created[app],
        "RotationRules": {"AutomaticallyAfterDays": 14},
    }
    # CancelRotateSecret: rotation off, the previous schedule still shown.
    assert rotation_of(secrets, migration) == {**created[migration], "RotationEnabled": False}

    cfn.delete_stack(StackName=stack_id)
    finished(cfn, stack_id, "DELETE_IN_PROGRESS", "DELETE_COMPLETE")


def rotation_function_template(**rules) -> str:
    """A top-level stack under both transforms: a secret rotated by an existing function."""
    return json.dumps(
        {
            "Transform": [LANGUAGE_EXTENSIONS, SECRETS_MANAGER],
            "Resources": {
                "Secret": {
                    "Type": "AWS::SecretsManager::Secret",
                    "Properties": {"GenerateSecretString": {"PasswordLength": 20}},
                },
                "SecretRotation": {
                    "Type": "AWS::SecretsManager::RotationSchedule",
                    "Properties": {
                        "SecretId": ref("Secret"),
                        "RotationLambdaARN": ROTATION_LAMBDA,
                        "RotateImmediatelyOnUpdate": True,
                        "RotationRules": rules,
                    },
                },
            },
            "Outputs": {"SecretArn": {"Value": ref("Secret")}},
        }
    )


def test_rotation_function_is_recorded_through_a_change_set(cfn, secrets):
    name = new_stack_name()
    cfn.create_change_set(
        StackName=name,
        ChangeSetName="create",
        ChangeSetType="CREATE",
        TemplateBody=rotation_function_template(ScheduleExpression="rate(10 days)", Duration="3h"),
        Capabilities=["CAPABILITY_AUTO_EXPAND"],
    )
    waiter = cfn.get_waiter("change_set_create_complete")
    waiter.config.delay = 0.2
    waiter.wait(StackName=name, ChangeSetName="create")
    cfn.execute_change_set(StackName=name, ChangeSetName="create")
    finished(cfn, name, "CREATE_IN_PROGRESS", "CREATE_COMPLETE")
    arn = outputs_of(cfn.describe_stacks(StackName=name)["Stacks"][0])["SecretArn"]
    rotation = rotation_of(secrets, arn)
    assert rotation["RotationEnabled"] is True
    assert rotation["RotationRules"] == {"ScheduleExpression": "rate(10 days)", "Duration": "3h"}
    assert rotation["RotationLambdaARN"] == ROTATION_LAMBDA
    # RotateImmediatelyOnUpdate true, but no function runs here: nothing rotated.
    assert list(rotation["VersionIdsToStages"].values()) == [["AWSCURRENT"]]

    # RotateSecret takes days or an expression, not both: the update fails and rolls back.
    cfn.update_stack(
        StackName=name,
        TemplateBody=rotation_function_template(
            AutomaticallyAfterDays=7, ScheduleExpression="rate(7 days)"
        ),
        Capabilities=["CAPABILITY_AUTO_EXPAND"],
    )
    finished(cfn, name, "UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE")
    assert any(
        "cannot specify both rotation frequency and schedule expression" in reason
        for reason in failure_reasons(cfn, name)
    )
    assert rotation_of(secrets, arn)["RotationRules"] == rotation["RotationRules"]


def test_hosted_and_existing_function_together_fail_the_schedule(cfn, secrets):
    body = json.loads(rotation_function_template(AutomaticallyAfterDays=30))
    body["Resources"]["SecretRotation"]["Properties"]["HostedRotationLambda"] = {
        "RotationType": "MySQLSingleUser"
    }
    stack_id = cfn.create_stack(StackName=new_stack_name(), TemplateBody=json.dumps(body))[
        "StackId"
    ]
    finished(cfn, stack_id, "CREATE_IN_PROGRESS", "ROLLBACK_COMPLETE")
    assert any(
        "Can only specify either HostedRotationLambda or RotationLambdaARN" in reason
        for reason in failure_reasons(cfn, stack_id)
    )


def unknown_type_template(transform, *, unknown=True) -> str:
    resources = {"Group": {"Type": "AWS::Logs::LogGroup"}}
    if unknown:
        resources["Thing"] = {"Type": "AWS::Nothing::Here"}
    return json.dumps({"Transform": transform, "Resources": resources})


@pytest.mark.parametrize("transform", [SECRETS_MANAGER, [LANGUAGE_EXTENSIONS, SECRETS_MANAGER]])
def test_the_secrets_manager_transform_leaves_the_template_to_the_type_check(cfn, transform):
    """Applied, the transform no longer exempts the template from the up-front type check of
    CreateStack, CreateChangeSet and UpdateStack."""
    unrecognized = r"Unrecognized resource types: \[AWS::Nothing::Here\]"
    body = unknown_type_template(transform)
    with pytest.raises(ClientError, match=unrecognized):
        cfn.create_stack(StackName=new_stack_name(), TemplateBody=body)
    with pytest.raises(ClientError, match=unrecognized):
        cfn.create_change_set(
            StackName=new_stack_name(),
            ChangeSetName="create",
            ChangeSetType="CREATE",
            TemplateBody=body,
        )
    stack_id = cfn.create_stack(
        StackName=new_stack_name(), TemplateBody=unknown_type_template(transform, unknown=False)
    )["StackId"]
    finished(cfn, stack_id, "CREATE_IN_PROGRESS", "CREATE_COMPLETE")
    with pytest.raises(ClientError, match=unrecognized):
        cfn.update_stack(StackName=stack_id, TemplateBody=body)


@pytest.mark.parametrize("transform", ["AWS::Unknown-2099-01-01", [SECRETS_MANAGER, "Unknown"]])
def test_an_unknown_transform_is_left_to_ministack_as_before(cfn, transform):
    """ministack 1.5.33 never refused an unknown transform: declared, it exempts the template
    from the type check, and the unknown type fails the stack when it is reached. The plugin
    accepts the two SecretsManager names only, so that is still what happens."""
    stack_id = cfn.create_stack(
        StackName=new_stack_name(), TemplateBody=unknown_type_template(transform)
    )["StackId"]
    finished(cfn, stack_id, "CREATE_IN_PROGRESS", "ROLLBACK_COMPLETE")
    assert failure_reasons(cfn, stack_id) == [
        "Thing: Unsupported resource type: AWS::Nothing::Here"
    ]
