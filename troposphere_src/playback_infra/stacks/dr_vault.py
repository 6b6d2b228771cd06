"""The dr-vault stack: where prod's database backups are copied, in another region.

Not nested in the environment root: deploy it once per environment in the copy region
(`database.backup_copy_region`) before the backup plan's first copy job, e.g.

    aws cloudformation deploy --region us-west-2 --stack-name baseball-playback-prod-dr \\
        --template-file templates/dr-vault.yaml --parameter-overrides EnvironmentName=prod

Its key and vault are always retained: they hold the copies that survive the loss of the
primary region, so no stack operation may take them away.
"""

from __future__ import annotations

from troposphere import GetAtt, Output, Ref, Sub, Template
from troposphere.backup import BackupVault
from troposphere.kms import Alias

from playback_infra.parts import values
from playback_infra.parts.iam import customer_key, use_through_services
from playback_infra.parts.names import DR_VAULT_NAME
from playback_infra.parts.template import new_template, tag_component

COMPONENT = "dr-vault"


def build() -> Template:
    t = new_template("disaster-recovery backup vault (deployed in the copy region)")
    values.consume(t, values.ENVIRONMENT_NAME)
    key = customer_key(
        "DrVaultKey",
        Sub(f"Baseball Playback ${{{values.ENVIRONMENT_NAME}}}: copied backups"),
        # AWS Backup copies into the vault; for an RDS snapshot, RDS in this region makes the
        # copy with this key (CopyDBSnapshot's KmsKeyId), so both use it:
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html#copy-encryption
        # https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html
        [use_through_services("UseThroughAwsBackupAndRds", ["backup", "rds"])],
    )
    key.DeletionPolicy = key.UpdateReplacePolicy = "Retain"
    t.add_resource(key)
    t.add_resource(
        Alias(
            "DrVaultKeyAlias",
            AliasName=Sub(f"alias/baseball-playback/${{{values.ENVIRONMENT_NAME}}}/dr-backups"),
            TargetKeyId=Ref(key),
        )
    )
    vault = t.add_resource(
        BackupVault(
            "DrBackupVault",
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            BackupVaultName=Sub(DR_VAULT_NAME),
            EncryptionKeyArn=GetAtt(key, "Arn"),
        )
    )
    t.add_output(
        Output(
            "DrBackupVaultArn",
            Description="Vault the backup plan copies to",
            Value=GetAtt(vault, "BackupVaultArn"),
        )
    )
    tag_component(t, COMPONENT)
    return t
