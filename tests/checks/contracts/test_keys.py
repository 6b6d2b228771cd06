"""The key usage contract (checks/contracts/keys.py): each kind of resource that names a KMS key
fails when its key's policy does not admit the service that uses the key."""

from __future__ import annotations

import pytest

from playback_infra.checks.contracts import keys
from tests.checks.contracts.helpers import committed, violating

REGION = "${AWS::Region}"


def _statements(template: dict, key: str) -> list[dict]:
    return template["Resources"][key]["Properties"]["KeyPolicy"]["Statement"]


def without_via(key: str, service: str):
    """A change dropping `service` from every kms:ViaService list of `key`'s policy."""
    wanted = {"Fn::Sub": f"{service}.{REGION}.amazonaws.com"}

    def change(template: dict) -> None:
        for statement in _statements(template, key):
            for operator in statement.get("Condition", {}).values():
                if "kms:ViaService" in operator:
                    operator["kms:ViaService"] = [
                        v for v in operator["kms:ViaService"] if v != wanted
                    ]

    return change


def without_statement(key: str, sid: str):
    def change(template: dict) -> None:
        statements = _statements(template, key)
        statements[:] = [s for s in statements if s.get("Sid") != sid]

    return change


def problems(template: str, change) -> list[str]:
    return keys.RULE.problems(violating(template, change))


def one_about(found: list[str], *words: str) -> str:
    """The failures naming all of `words`; there must be some."""
    matching = [p for p in found if all(w in p for w in words)]
    assert matching, found
    return matching[0]


def test_the_committed_templates_pass():
    assert keys.RULE.problems(committed()) == []


def test_a_failure_names_the_environment_resource_key_and_page():
    found = problems("security", without_via("DataKey", "rds"))
    failure = one_about(found, "prod: data DatabaseInstance.KmsKeyId")
    assert "uses key security DataKey" in failure
    assert f"kms:CreateGrant to callers through rds.{REGION}.amazonaws.com" in failure
    assert keys.RDS_DOC in failure and keys.KEY_POLICIES in failure


@pytest.mark.parametrize(
    ("template", "change", "words"),
    [
        # RDS storage, Performance Insights (on in prod) and the master secret
        ("security", without_via("DataKey", "rds"), ("dev: data DatabaseInstance.KmsKeyId",)),
        ("security", without_via("DataKey", "rds"),
         ("prod: data DatabaseInstance.PerformanceInsightsKMSKeyId",)),
        ("security", without_via("DataKey", "secretsmanager"),
         ("data DatabaseInstance.MasterUserSecret.KmsKeyId", keys.SECRETS_DOC)),
        # Secrets Manager secrets
        ("security", without_via("DataKey", "secretsmanager"),
         ("ingress OriginVerifySecret.KmsKeyId",)),
        # CloudWatch Logs log groups
        ("security", without_statement("LogsKey", "CloudWatchLogs"),
         ("data DatabaseErrorLogGroup.KmsKeyId", f"logs.{REGION}.amazonaws.com", keys.LOGS_DOC)),
        # SNS: the services the topic policy lets publish
        ("security", without_statement("LogsKey", "CloudWatchAlarmsToEncryptedTopic"),
         ("alerts AlarmTopic.KmsMasterKeyId", "cloudwatch.amazonaws.com", keys.SNS_DOC)),
        ("pipeline", without_statement("ArtifactKey", "CodeStarNotifications"),
         ("pipeline.yaml: pipeline NotificationTopic", "codestar-notifications.amazonaws.com")),
        # S3 default encryption
        ("security", without_via("DataKey", "s3"),
         ("game-data", "KMSMasterKeyID", keys.S3_DOC)),
        # ElastiCache Serverless: both names
        ("security", without_via("DataKey", "dax"),
         ("prod: data NarrationCache.KmsKeyId", f"dax.{REGION}", keys.CACHE_DOC)),
        ("security", without_via("DataKey", "elasticache"),
         ("staging: data NarrationCache.KmsKeyId", f"elasticache.{REGION}")),
        # AWS Backup vaults
        ("security", without_via("DataKey", "backup"),
         ("prod: data DatabaseBackupVault.EncryptionKeyArn", keys.BACKUP_DOC)),
        # The cross-region copy: the copy region's vault key must admit RDS there
        ("dr-vault", without_via("DrVaultKey", "rds"),
         ("prod: data DatabaseBackupPlan copy to", "dr-vault DrVaultKey", keys.COPY_DOC)),
        ("dr-vault", without_via("DrVaultKey", "backup"),
         ("prod: data DatabaseBackupPlan copy to", f"backup.{REGION}")),
        # CodePipeline and CodeBuild artifact keys: the resource's own role
        ("pipeline", without_statement("ArtifactKey", "PipelineRoles"),
         ("pipeline.yaml: pipeline BackendPipeline.ArtifactStore.EncryptionKey.Id",
          keys.PIPELINE_DOC)),
        ("pipeline", without_statement("ArtifactKey", "PipelineRoles"),
         ("pipeline.yaml: pipeline", "Project.EncryptionKey", keys.BUILD_DOC)),
        # The CloudTrail trail
        ("account-baseline", without_statement("BaselineKey", "CloudTrailEncryptsLogs"),
         ("account-baseline.yaml: account-baseline AccountTrail.KMSKeyId",
          "cloudtrail.amazonaws.com", keys.TRAIL_DOC)),
        # ECR repositories
        ("registry", without_via("RegistryKey", "ecr"),
         ("registry.yaml: registry", "EncryptionConfiguration.KmsKey", keys.ECR_DOC)),
    ],
)  # fmt: skip
def test_each_kind_of_key_use_fails_without_its_key_policy_statement(template, change, words):
    one_about(problems(template, change), *words)


def test_an_sqs_queue_needs_its_key_to_admit_sqs():
    def add_queue(template: dict) -> None:
        template["Resources"]["JobQueue"] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {"KmsMasterKeyId": {"Ref": "DataKeyArn"}},
        }

    failure = one_about(problems("data", add_queue), "data JobQueue.KmsMasterKeyId")
    assert f"sqs.{REGION}.amazonaws.com" in failure


def test_a_key_no_template_here_creates_cannot_be_shown_to_admit_its_service():
    def aws_managed(template: dict) -> None:
        template["Resources"]["AlarmTopic"]["Properties"]["KmsMasterKeyId"] = "alias/aws/sns"

    failure = one_about(problems("alerts", aws_managed), "alerts AlarmTopic.KmsMasterKeyId")
    assert "names alias/aws/sns, not a key of these templates" in failure
