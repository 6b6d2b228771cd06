"""AWS Backup for the database (stacks/data/) and the copy region's vault (stacks/dr_vault.py)."""

from __future__ import annotations

import pytest

from playback_infra.stacks import data, dr_vault
from tests.stacks.helpers import props, ref


@pytest.fixture(scope="module")
def t() -> dict:
    return data.build().to_dict()


@pytest.fixture(scope="module")
def vault_template() -> dict:
    return dr_vault.build().to_dict()


BACKUP_RESOURCES = ("DatabaseBackupVault", "DatabaseBackupPlan", "DatabaseBackupRole",
                    "DatabaseBackupSelection")  # fmt: skip


def test_backup_resources_exist_only_with_the_plan(t):
    assert t["Conditions"]["UseBackupPlan"] == {"Fn::Equals": [ref("EnableBackupPlan"), "true"]}
    for title in BACKUP_RESOURCES:
        assert t["Resources"][title]["Condition"] == "UseBackupPlan", title


def test_vault_uses_the_data_key_and_is_retained_outside_dev(t):
    vault = t["Resources"]["DatabaseBackupVault"]
    assert vault["Properties"]["EncryptionKeyArn"] == ref("DataKeyArn")
    assert vault["DeletionPolicy"] == {"Fn::If": ["RetainData", "Retain", "Delete"]}
    assert vault["UpdateReplacePolicy"] == vault["DeletionPolicy"]


def test_plan_runs_daily_after_the_rds_windows_keeps_35_days_and_copies_when_asked(t):
    (rule,) = props(t, "DatabaseBackupPlan")["BackupPlan"]["BackupPlanRule"]
    assert rule["ScheduleExpression"] == "cron(0 5 * * ? *)"
    assert rule["Lifecycle"] == {"DeleteAfterDays": 35}
    assert rule["TargetBackupVault"] == ref("DatabaseBackupVault")
    condition, copies, otherwise = rule["CopyActions"]["Fn::If"]
    assert condition == "CopyBackupsToAnotherRegion"
    assert otherwise == ref("AWS::NoValue")
    (copy,) = copies
    assert copy["Lifecycle"] == {"DeleteAfterDays": 35}
    assert copy["DestinationBackupVaultArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:backup:${BackupCopyRegion}:${AWS::AccountId}"
        ":backup-vault:baseball-playback-${EnvironmentName}-dr"
    }


def test_copy_destination_is_the_vault_the_dr_template_creates(t, vault_template):
    (rule,) = props(t, "DatabaseBackupPlan")["BackupPlan"]["BackupPlanRule"]
    destination = rule["CopyActions"]["Fn::If"][1][0]["DestinationBackupVaultArn"]["Fn::Sub"]
    name = props(vault_template, "DrBackupVault")["BackupVaultName"]["Fn::Sub"]
    assert destination.endswith(f":backup-vault:{name}")


def test_selection_backs_up_exactly_the_instance_with_the_backup_role(t):
    selection = props(t, "DatabaseBackupSelection")
    assert selection["BackupPlanId"] == ref("DatabaseBackupPlan")
    assert selection["BackupSelection"]["Resources"] == [
        {"Fn::GetAtt": ["DatabaseInstance", "DBInstanceArn"]}
    ]
    assert selection["BackupSelection"]["IamRoleArn"] == {
        "Fn::GetAtt": ["DatabaseBackupRole", "Arn"]
    }
    role = props(t, "DatabaseBackupRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["backup.amazonaws.com"]}
    assert trust["Action"] == ["sts:AssumeRole"]
    # AWS Backup documents source conditions for key and topic policies, none for the role it
    # assumes (cross-service-confused-deputy-prevention.html): one could fail every job.
    assert "Condition" not in trust
    assert [p["Fn::Sub"].rsplit("/", 1)[1] for p in role["ManagedPolicyArns"]] == [
        "AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores",
    ]  # fmt: skip


@pytest.mark.parametrize(("env", "plan", "copy"), [("dev", "false", ""), ("staging", "false", ""),
                                                   ("prod", "true", "us-west-2")])  # fmt: skip
def test_prod_has_the_plan_and_a_copy_in_another_region(parameter_files, env, plan, copy):
    parameters = parameter_files[env]["Parameters"]
    assert (parameters["EnableBackupPlan"], parameters["BackupCopyRegion"]) == (plan, copy)


def test_dr_vault_key_and_vault_are_always_retained(vault_template):
    for title in ("DrVaultKey", "DrBackupVault"):
        resource = vault_template["Resources"][title]
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    key = props(vault_template, "DrVaultKey")
    assert key["EnableKeyRotation"] is True
    assert props(vault_template, "DrBackupVault")["EncryptionKeyArn"] == {
        "Fn::GetAtt": ["DrVaultKey", "Arn"]
    }


def test_dr_vault_key_is_used_only_through_aws_backup_and_rds_of_the_copy_region(vault_template):
    """AWS Backup copies an RDS snapshot with RDS's CopyDBSnapshot in the copy region, which
    encrypts the copy with this key (the vault's): both services use it."""
    statements = {
        s["Sid"]: s for s in props(vault_template, "DrVaultKey")["KeyPolicy"]["Statement"]
    }
    assert set(statements) == {"KeyAdministration", "UseThroughAwsBackupAndRds"}
    use = statements["UseThroughAwsBackupAndRds"]
    assert use["Condition"]["StringEquals"]["kms:ViaService"] == [
        {"Fn::Sub": "backup.${AWS::Region}.amazonaws.com"},
        {"Fn::Sub": "rds.${AWS::Region}.amazonaws.com"},
    ]
    assert {"kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"} <= set(
        use["Action"]
    )
    admin = statements["KeyAdministration"]["Action"]
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} & set(admin)
