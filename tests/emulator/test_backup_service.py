"""Deploy AWS Backup stacks into ministack with the plugin, and read them back through Backup.

The backup part of the data stack (a vault on the data key, a daily plan with the optional
copy to the DR region, the role AWS Backup assumes, the selection of the database instance),
nested under AWS::LanguageExtensions, and the standalone dr-vault stack of the repo in the
copy region. One emulator serves the module; each test deploys its own stacks.
"""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import (
    client,
    deploy,
    failure_reasons,
    nested_stack_id,
    new_stack_name,
    outputs_of,
    put_template,
    wait_stack,
)
from tests.stacks.helpers import getatt, ref

pytestmark = pytest.mark.emulator

DR_VAULT_TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "dr-vault.yaml"
COPY_REGION = "us-west-2"
DAILY = "cron(0 5 * * ? *)"
BACKUP_POLICIES = [
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
]
NO_VALUE = {"Ref": "AWS::NoValue"}
IF_RETAIN = {"Fn::If": ["RetainData", "Retain", "Delete"]}


@pytest.fixture(scope="module")
def backup(endpoint):
    return client("backup", endpoint)


def if_backup(value):
    return {"Fn::If": ["UseBackupPlan", value, ""]}


def template(resources, outputs, **sections) -> str:
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            **sections,
            "Resources": resources,
            "Outputs": {name: {"Value": value} for name, value in outputs.items()},
        }
    )


def backup_template(schedule=DAILY) -> str:
    """The data stack's backup part with the instance it backs up, trimmed: its parameters,
    conditions, and the properties and policies the data stack gives the backup resources."""
    string = {"Type": "String"}
    parameters = {
        name: string
        for name in [
            "EnvironmentName",
            "DatabaseGeneration",
            "DatabaseSecurityGroupId",
            "DataKeyArn",
            "RetainStatefulResources",
            "EnableBackupPlan",
        ]
    }
    parameters.update(
        PrivateDataSubnetIds={"Type": "List<AWS::EC2::Subnet::Id>"},
        BackupCopyRegion={"Type": "String", "Default": ""},
    )
    equals = lambda name, value: {"Fn::Equals": [ref(name), value]}  # noqa: E731
    conditions = {
        "RetainData": equals("RetainStatefulResources", "true"),
        "UseBackupPlan": equals("EnableBackupPlan", "true"),
        "CopyBackupsToAnotherRegion": {
            "Fn::And": [
                {"Condition": "UseBackupPlan"},
                {"Fn::Not": [equals("BackupCopyRegion", "")]},
            ]
        },
    }
    dr_vault = (
        "arn:${AWS::Partition}:backup:${BackupCopyRegion}:${AWS::AccountId}:"
        "backup-vault:baseball-playback-${EnvironmentName}-dr"
    )
    policy_arn = "arn:${AWS::Partition}:iam::aws:policy/service-role/"
    resources = {
        "DatabaseSubnetGroup": {
            "Type": "AWS::RDS::DBSubnetGroup",
            "Properties": {
                "DBSubnetGroupDescription": "data subnets",
                "SubnetIds": ref("PrivateDataSubnetIds"),
            },
        },
        "DatabaseInstance": {
            "Type": "AWS::RDS::DBInstance",
            "DeletionPolicy": "Delete",
            "Properties": {
                "DBInstanceIdentifier": {
                    "Fn::Sub": "baseball-playback-${EnvironmentName}-${DatabaseGeneration}"
                },
                "Engine": "mysql",
                "EngineVersion": "8.4.7",
                "DBInstanceClass": "db.t3.small",
                "AllocatedStorage": "20",
                "MasterUsername": "playback_admin",
                "ManageMasterUserPassword": True,
                "MasterUserSecret": {"KmsKeyId": ref("DataKeyArn")},
                "StorageEncrypted": True,
                "KmsKeyId": ref("DataKeyArn"),
                "DBSubnetGroupName": ref("DatabaseSubnetGroup"),
                "VPCSecurityGroups": [ref("DatabaseSecurityGroupId")],
            },
        },
        "DatabaseBackupVault": {
            "Type": "AWS::Backup::BackupVault",
            "Condition": "UseBackupPlan",
            "DeletionPolicy": IF_RETAIN,
            "UpdateReplacePolicy": IF_RETAIN,
            "Properties": {
                "BackupVaultName": {"Fn::Sub": "baseball-playback-${EnvironmentName}"},
                "EncryptionKeyArn": ref("DataKeyArn"),
            },
        },
        "DatabaseBackupPlan": {
            "Type": "AWS::Backup::BackupPlan",
            "Condition": "UseBackupPlan",
            "Properties": {
                "BackupPlan": {
                    "BackupPlanName": {"Fn::Sub": "baseball-playback-${EnvironmentName}-database"},
                    "BackupPlanRule": [
                        {
                            "RuleName": "daily",
                            "TargetBackupVault": ref("DatabaseBackupVault"),
                            "ScheduleExpression": schedule,
                            "StartWindowMinutes": 60,
                            "CompletionWindowMinutes": 240,
                            "Lifecycle": {"DeleteAfterDays": 35},
                            "CopyActions": {
                                "Fn::If": [
                                    "CopyBackupsToAnotherRegion",
                                    [
                                        {
                                            "DestinationBackupVaultArn": {"Fn::Sub": dr_vault},
                                            "Lifecycle": {"DeleteAfterDays": 35},
                                        }
                                    ],
                                    NO_VALUE,
                                ]
                            },
                        }
                    ],
                }
            },
        },
        "DatabaseBackupRole": {
            "Type": "AWS::IAM::Role",
            "Condition": "UseBackupPlan",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": ["backup.amazonaws.com"]},
                            "Action": ["sts:AssumeRole"],
                        }
                    ],
                },
                "Description": "Lets AWS Backup snapshot, copy and restore the database",
                "ManagedPolicyArns": [
                    {"Fn::Sub": f"{policy_arn}AWSBackupServiceRolePolicyFor{kind}"}
                    for kind in ("Backup", "Restores")
                ],
            },
        },
        "DatabaseBackupSelection": {
            "Type": "AWS::Backup::BackupSelection",
            "Condition": "UseBackupPlan",
            "Properties": {
                "BackupPlanId": ref("DatabaseBackupPlan"),
                "BackupSelection": {
                    "SelectionName": "database",
                    "IamRoleArn": getatt("DatabaseBackupRole", "Arn"),
                    "Resources": [getatt("DatabaseInstance", "DBInstanceArn")],
                },
            },
        },
    }
    outputs = {
        "InstanceArn": getatt("DatabaseInstance", "DBInstanceArn"),
        "BackupVaultName": if_backup(ref("DatabaseBackupVault")),
        "BackupVaultArn": if_backup(getatt("DatabaseBackupVault", "BackupVaultArn")),
        "PlanRef": if_backup(ref("DatabaseBackupPlan")),
        "PlanArn": if_backup(getatt("DatabaseBackupPlan", "BackupPlanArn")),
        "RoleName": if_backup(ref("DatabaseBackupRole")),
        "RoleArn": if_backup(getatt("DatabaseBackupRole", "Arn")),
        "SelectionRef": if_backup(ref("DatabaseBackupSelection")),
        "SelectionId": if_backup(getatt("DatabaseBackupSelection", "SelectionId")),
        "SelectionPlanId": if_backup(getatt("DatabaseBackupSelection", "BackupPlanId")),
    }
    return template(
        resources,
        outputs,
        Transform="AWS::LanguageExtensions",
        Parameters=parameters,
        Conditions=conditions,
    )


def root_template(url, **values) -> str:
    """A VPC with two data subnets, the database security group and the data key, and the
    backup template at ``url`` nested as Data, passed their ids and ``values``."""
    vpc = ref("Vpc")
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.70.0.0/16"}},
        "DbSg": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "database", "VpcId": vpc},
        },
        "DataKey": {"Type": "AWS::KMS::Key", "Properties": {}},
        **{
            f"DataSubnet{az.upper()}": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {
                    "VpcId": vpc,
                    "CidrBlock": f"10.70.{number}.0/24",
                    "AvailabilityZone": f"us-east-1{az}",
                },
            }
            for number, az in enumerate("ab", start=1)
        },
        "Data": {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {
                "TemplateURL": url,
                "Parameters": {
                    "PrivateDataSubnetIds": {
                        "Fn::Join": [",", [ref("DataSubnetA"), ref("DataSubnetB")]]
                    },
                    "DatabaseSecurityGroupId": getatt("DbSg", "GroupId"),
                    "DataKeyArn": getatt("DataKey", "Arn"),
                    **values,
                },
            },
        },
    }
    return template(resources, {"DataKeyArn": getatt("DataKey", "Arn")})


PRODUCTION = {
    "RetainStatefulResources": "true",
    "EnableBackupPlan": "true",
    "BackupCopyRegion": COPY_REGION,
    "DatabaseGeneration": "1",
}
DEVELOPMENT = {**PRODUCTION, "RetainStatefulResources": "false", "BackupCopyRegion": ""}


def _put(template_bucket, name, **template_args) -> str:
    key = f"{name}-{time.monotonic_ns()}-backup.json"
    return put_template(template_bucket, key, backup_template(**template_args))


def _tier(cfn, template_bucket, **values) -> dict:
    """Create a root stack over the backup template with ``values``: its id and outputs, and
    the data stack's id and outputs."""
    name = new_stack_name()
    body = root_template(_put(template_bucket, name), EnvironmentName=name, **values)
    stack_id = cfn.create_stack(StackName=name, TemplateBody=body)["StackId"]
    stack = wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")
    data_id = nested_stack_id(cfn, stack_id, "Data")
    reasons = failure_reasons(cfn, stack_id) + failure_reasons(cfn, data_id)
    assert stack["StackStatus"] == "CREATE_COMPLETE", reasons
    return {
        "name": name,
        "stack_id": stack_id,
        "root": outputs_of(stack),
        "data_id": data_id,
        "data": outputs_of(cfn.describe_stacks(StackName=data_id)["Stacks"][0]),
    }


def _update_tier(cfn, template_bucket, tier, schedule=DAILY, **values) -> dict:
    """Update the root stack with a new backup template and ``values``; the data outputs."""
    url = _put(template_bucket, tier["name"], schedule=schedule)
    body = root_template(url, EnvironmentName=tier["name"], **values)
    cfn.update_stack(StackName=tier["stack_id"], TemplateBody=body)
    stack = wait_stack(cfn, tier["stack_id"], "UPDATE_IN_PROGRESS")
    reasons = failure_reasons(cfn, tier["stack_id"]) + failure_reasons(cfn, tier["data_id"])
    assert stack["StackStatus"] == "UPDATE_COMPLETE", reasons
    return outputs_of(cfn.describe_stacks(StackName=tier["data_id"])["Stacks"][0])


def _delete(cfn, stack_id) -> str:
    cfn.delete_stack(StackName=stack_id)
    return wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")["StackStatus"]


@pytest.fixture(scope="module")
def production(cfn, template_bucket):
    """A tier as production has it: data retained, backups copied to the DR region."""
    return _tier(cfn, template_bucket, **PRODUCTION)


def rules(backup, plan_id) -> list[dict]:
    return backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"]


def selections(backup, plan_id) -> list[tuple]:
    found = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    return [(s["SelectionId"], s["SelectionName"], s["IamRoleArn"]) for s in found]


def selected(backup, plan_id, selection_id) -> dict:
    answer = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    return answer["BackupSelection"]


def error_code(call, **params) -> str | None:
    """The error code ``call`` answers, None when it succeeds."""
    try:
        call(**params)
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


def daily_rule(name, copy_region=None) -> dict:
    """The rule GetBackupPlan shows for the template's, copying to ``copy_region``'s DR vault."""
    rule = {
        "RuleName": "daily",
        "TargetBackupVaultName": f"baseball-playback-{name}",
        "ScheduleExpression": DAILY,
        "StartWindowMinutes": 60,
        "CompletionWindowMinutes": 240,
        "Lifecycle": {"DeleteAfterDays": 35},
    }
    if copy_region:
        dr_vault = (
            f"arn:aws:backup:{copy_region}:000000000000:backup-vault:baseball-playback-{name}-dr"
        )
        rule["CopyActions"] = [
            {"DestinationBackupVaultArn": dr_vault, "Lifecycle": {"DeleteAfterDays": 35}}
        ]
    return rule


def test_vault_is_named_by_its_ref_and_encrypted_with_the_data_key(backup, production):
    data, name = production["data"], production["name"]
    vault = backup.describe_backup_vault(BackupVaultName=data["BackupVaultName"])

    assert data["BackupVaultName"] == f"baseball-playback-{name}"
    assert vault["BackupVaultArn"] == data["BackupVaultArn"]
    assert vault["BackupVaultArn"].endswith(f":backup-vault:baseball-playback-{name}")
    assert vault["EncryptionKeyArn"] == production["root"]["DataKeyArn"]


def test_plan_has_the_daily_rule_with_the_copy_to_the_dr_vault(backup, production):
    data, name = production["data"], production["name"]
    plan = backup.get_backup_plan(BackupPlanId=data["PlanRef"])

    assert plan["BackupPlanId"] == data["PlanRef"]
    assert plan["BackupPlanArn"] == data["PlanArn"]
    assert plan["BackupPlan"]["BackupPlanName"] == f"baseball-playback-{name}-database"
    assert plan["BackupPlan"]["Rules"] == [daily_rule(name, COPY_REGION)]


def test_selection_backs_up_the_instance_with_the_backup_role(endpoint, backup, production):
    data = production["data"]
    plan_id, selection_id = data["PlanRef"], data["SelectionRef"]

    assert data["SelectionId"] == selection_id
    assert data["SelectionPlanId"] == plan_id
    assert selections(backup, plan_id) == [(selection_id, "database", data["RoleArn"])]
    selection = selected(backup, plan_id, selection_id)
    assert selection["SelectionName"] == "database"
    assert selection["IamRoleArn"] == data["RoleArn"]
    assert selection["Resources"] == [data["InstanceArn"]]
    assert data["InstanceArn"].endswith(f":db:baseball-playback-{production['name']}-1")
    iam = client("iam", endpoint)
    attached = iam.list_attached_role_policies(RoleName=data["RoleName"])["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == BACKUP_POLICIES


def test_selection_keeps_tags_conditions_and_exclusions_and_needs_its_plan(cfn, backup):
    vault = new_stack_name()
    conditions = {
        "StringEquals": [{"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": "daily"}],
        "StringNotLike": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "dev*"}],
    }
    tags = [{"ConditionType": "STRINGEQUALS", "ConditionKey": "team", "ConditionValue": "data"}]
    selection = {
        "SelectionName": "tagged",
        "IamRoleArn": "arn:aws:iam::000000000000:role/backup",
        "Resources": ["arn:aws:rds:us-east-1:000000000000:db:*"],
        "NotResources": ["arn:aws:rds:us-east-1:000000000000:db:scratch"],
        "ListOfTags": tags,
        "Conditions": conditions,
    }
    resources = {
        "Vault": {"Type": "AWS::Backup::BackupVault", "Properties": {"BackupVaultName": vault}},
        "Plan": {
            "Type": "AWS::Backup::BackupPlan",
            "Properties": {
                "BackupPlan": {
                    "BackupPlanName": vault,
                    "BackupPlanRule": [{"RuleName": "daily", "TargetBackupVault": ref("Vault")}],
                }
            },
        },
        "Selection": {
            "Type": "AWS::Backup::BackupSelection",
            "Properties": {"BackupPlanId": ref("Plan"), "BackupSelection": selection},
        },
    }
    _stack_id, out = deploy(
        cfn, template(resources, {"Plan": ref("Plan"), "Selection": ref("Selection")})
    )

    assert selected(backup, out["Plan"], out["Selection"]) == selection

    orphan = {"BackupPlanId": "no-such-plan", "BackupSelection": selection}
    body = template(
        {"Selection": {"Type": "AWS::Backup::BackupSelection", "Properties": orphan}}, {}
    )
    stack_id = cfn.create_stack(StackName=new_stack_name(), TemplateBody=body)["StackId"]
    assert wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert any("ResourceNotFoundException" in r for r in failure_reasons(cfn, stack_id))


def test_update_changes_the_plan_in_place_and_replaces_the_selection(cfn, backup, template_bucket):
    tier = _tier(cfn, template_bucket, **PRODUCTION)
    before, name = tier["data"], tier["name"]
    version = backup.get_backup_plan(BackupPlanId=before["PlanRef"])["VersionId"]

    # A new schedule and no copy region: the plan keeps its id, its rule loses the copy.
    weekly = "cron(0 5 ? * SUN *)"
    after = _update_tier(cfn, template_bucket, tier, schedule=weekly, **DEVELOPMENT)
    assert after["PlanRef"] == before["PlanRef"]
    plan = backup.get_backup_plan(BackupPlanId=after["PlanRef"])
    assert plan["VersionId"] != version
    assert plan["BackupPlan"]["Rules"] == [{**daily_rule(name), "ScheduleExpression": weekly}]
    assert after["SelectionRef"] == before["SelectionRef"]

    # A new database generation replaces the instance, and so the selection of it.
    again = _update_tier(
        cfn, template_bucket, tier, schedule=weekly, **{**DEVELOPMENT, "DatabaseGeneration": "2"}
    )
    new_id = again["SelectionRef"]
    assert again["InstanceArn"].endswith(f":db:baseball-playback-{name}-2")
    assert new_id != before["SelectionRef"]
    assert selections(backup, again["PlanRef"]) == [(new_id, "database", again["RoleArn"])]
    assert selected(backup, again["PlanRef"], new_id)["Resources"] == [again["InstanceArn"]]
    old = {"BackupPlanId": again["PlanRef"], "SelectionId": before["SelectionRef"]}
    assert error_code(backup.get_backup_selection, **old) == "ResourceNotFoundException"
    assert again["PlanRef"] == before["PlanRef"]


def test_turning_the_plan_off_removes_it_and_keeps_a_retained_vault(cfn, backup, template_bucket):
    tier = _tier(cfn, template_bucket, **PRODUCTION)
    before = tier["data"]

    after = _update_tier(cfn, template_bucket, tier, **{**PRODUCTION, "EnableBackupPlan": "false"})
    assert after["BackupVaultName"] == ""
    plan = {"BackupPlanId": before["PlanRef"]}
    assert error_code(backup.get_backup_plan, **plan) == "ResourceNotFoundException"
    assert error_code(backup.list_backup_selections, **plan) == "ResourceNotFoundException"
    vault = backup.describe_backup_vault(BackupVaultName=before["BackupVaultName"])
    assert vault["EncryptionKeyArn"] == tier["root"]["DataKeyArn"]


@pytest.mark.parametrize(
    ("values", "vault_kept"),
    [(PRODUCTION, True), (DEVELOPMENT, False)],
    ids=["retained", "deleted"],
)
def test_delete_takes_the_plan_and_selection_and_keeps_only_a_retained_vault(
    cfn, backup, rds, template_bucket, values, vault_kept
):
    tier = _tier(cfn, template_bucket, **values)
    data = tier["data"]
    copies = [r.get("CopyActions") for r in rules(backup, data["PlanRef"])]
    assert copies == [daily_rule(tier["name"], values["BackupCopyRegion"]).get("CopyActions")]

    assert _delete(cfn, tier["stack_id"]) == "DELETE_COMPLETE"
    plan = {"BackupPlanId": data["PlanRef"]}
    assert error_code(backup.get_backup_plan, **plan) == "ResourceNotFoundException"
    selection = {**plan, "SelectionId": data["SelectionRef"]}
    assert error_code(backup.get_backup_selection, **selection) == "ResourceNotFoundException"
    vault = {"BackupVaultName": data["BackupVaultName"]}
    kept = error_code(backup.describe_backup_vault, **vault) is None
    assert kept is vault_kept
    instances = rds.describe_db_instances()["DBInstances"]
    assert data["InstanceArn"] not in [i["DBInstanceArn"] for i in instances]


# --- The standalone dr-vault stack, in the copy region ---------------------------------


def test_dr_vault_is_made_in_the_copy_region_and_retained_with_its_key(endpoint):
    cfn, backup, kms = (
        client(service, endpoint, COPY_REGION) for service in ("cloudformation", "backup", "kms")
    )
    parameters = [{"ParameterKey": "EnvironmentName", "ParameterValue": "prod"}]
    body = DR_VAULT_TEMPLATE.read_text()
    name = new_stack_name()
    stack_id = cfn.create_stack(StackName=name, TemplateBody=body, Parameters=parameters)["StackId"]
    stack = wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")
    assert stack["StackStatus"] == "CREATE_COMPLETE", failure_reasons(cfn, stack_id)
    key_id = cfn.describe_stack_resource(StackName=stack_id, LogicalResourceId="DrVaultKey")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    key_arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    vault = backup.describe_backup_vault(BackupVaultName="baseball-playback-prod-dr")

    assert key_arn.startswith(f"arn:aws:kms:{COPY_REGION}:")
    assert vault["EncryptionKeyArn"] == key_arn
    assert vault["BackupVaultArn"] == outputs_of(stack)["DrBackupVaultArn"]
    assert vault["BackupVaultArn"].startswith(f"arn:aws:backup:{COPY_REGION}:")
    home = client("backup", endpoint)
    missing = error_code(home.describe_backup_vault, BackupVaultName="baseball-playback-prod-dr")
    assert missing == "ResourceNotFoundException"

    # DeletionPolicy Retain keeps the vault and its key; the alias goes.
    assert _delete(cfn, stack_id) == "DELETE_COMPLETE"
    vault = backup.describe_backup_vault(BackupVaultName="baseball-playback-prod-dr")
    assert vault["EncryptionKeyArn"] == key_arn
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    aliases = [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    assert "alias/baseball-playback/prod/dr-backups" not in aliases

    # As on AWS, the retained vault's name is taken: deploying the stack again fails.
    stack_id = cfn.create_stack(StackName=name, TemplateBody=body, Parameters=parameters)["StackId"]
    assert wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert any("AlreadyExistsException" in r for r in failure_reasons(cfn, stack_id))
    vault = backup.describe_backup_vault(BackupVaultName="baseball-playback-prod-dr")
    assert vault["EncryptionKeyArn"] == key_arn


def test_copy_jobs_complete_into_an_existing_vault_and_fail_without_one(endpoint, backup):
    """StartCopyJob of a backup job's recovery point: FAILED with the reason while the copy
    region has no such vault, COMPLETED once it has; ListCopyJobs filters and orders them."""
    role = "arn:aws:iam::000000000000:role/backup"
    backup.create_backup_vault(BackupVaultName="copy-source")
    job = backup.start_backup_job(
        BackupVaultName="copy-source",
        ResourceArn="arn:aws:rds:us-east-1:000000000000:db:copied",
        IamRoleArn=role,
    )
    destination = f"arn:aws:backup:{COPY_REGION}:000000000000:backup-vault:copy-destination"

    def start_copy():
        return backup.start_copy_job(
            RecoveryPointArn=job["RecoveryPointArn"],
            SourceBackupVaultName="copy-source",
            DestinationBackupVaultArn=destination,
            IamRoleArn=role,
        )["CopyJobId"]

    failed_id = start_copy()
    client("backup", endpoint, COPY_REGION).create_backup_vault(BackupVaultName="copy-destination")
    completed_id = start_copy()

    failed = backup.describe_copy_job(CopyJobId=failed_id)["CopyJob"]
    assert failed["State"] == "FAILED" and destination in failed["StatusMessage"]
    assert failed["ResourceArn"] == "arn:aws:rds:us-east-1:000000000000:db:copied"
    completed = backup.describe_copy_job(CopyJobId=completed_id)["CopyJob"]
    assert completed["State"] == "COMPLETED"
    assert completed["DestinationRecoveryPointArn"].startswith(
        f"arn:aws:backup:{COPY_REGION}:000000000000:recovery-point:"
    )
    listed = backup.list_copy_jobs(ByDestinationVaultArn=destination)["CopyJobs"]
    assert [j["CopyJobId"] for j in listed] == [completed_id, failed_id]  # newest first
    assert [j["CopyJobId"] for j in backup.list_copy_jobs(ByState="FAILED")["CopyJobs"]] == [
        failed_id
    ]
    later = completed["CreationDate"] + datetime.timedelta(seconds=1)
    assert backup.list_copy_jobs(ByCreatedAfter=later)["CopyJobs"] == []

    with pytest.raises(ClientError) as unknown:
        backup.start_copy_job(
            RecoveryPointArn=job["RecoveryPointArn"] + "-x",
            SourceBackupVaultName="copy-source",
            DestinationBackupVaultArn=destination,
            IamRoleArn=role,
        )
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"
