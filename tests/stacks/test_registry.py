"""The registry stack (stacks/registry.py): ECR repositories of one account."""

from __future__ import annotations

import json

import pytest

from playback_infra.stacks import registry
from tests.stacks.helpers import getatt, props, resources_of_type


@pytest.fixture(scope="module")
def t() -> dict:
    return registry.build().to_dict()


def test_backend_and_jobs_repositories(t):
    names = {
        props(t, title)["RepositoryName"] for title in resources_of_type(t, "AWS::ECR::Repository")
    }
    assert names == {"baseball-playback/backend", "baseball-playback/jobs"}


@pytest.mark.parametrize("title", ["BackendRepository", "JobsRepository"])
def test_repository_is_immutable_scanned_encrypted_and_retained(t, title):
    resource = t["Resources"][title]
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    p = resource["Properties"]
    assert p["ImageTagMutability"] == "IMMUTABLE"
    assert p["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert p["EncryptionConfiguration"] == {
        "EncryptionType": "KMS",
        "KmsKey": getatt("RegistryKey", "Arn"),
    }


@pytest.mark.parametrize("title", ["BackendRepository", "JobsRepository"])
def test_lifecycle_expires_untagged_after_a_week_and_keeps_100_tagged(t, title):
    rules = json.loads(props(t, title)["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    untagged, tagged = sorted(rules, key=lambda r: r["rulePriority"])
    assert untagged["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                     "countUnit": "days", "countNumber": 7}  # fmt: skip
    assert tagged["selection"]["countType"] == "imageCountMoreThan"
    assert tagged["selection"]["countNumber"] == 100
    assert {r["action"]["type"] for r in rules} == {"expire"}


@pytest.mark.parametrize("title", ["BackendRepository", "JobsRepository"])
def test_only_the_pipeline_may_push(t, title):
    (statement,) = props(t, title)["RepositoryPolicyText"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert {"ecr:PutImage", "ecr:CompleteLayerUpload", "ecr:BatchDeleteImage"} <= set(
        statement["Action"]
    )
    assert statement["Condition"] == {
        "ArnNotLike": {"aws:PrincipalArn": {
            "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/baseball-playback-pipeline-*"
        }}
    }  # fmt: skip


def test_registry_key_is_retained_rotated_and_used_only_through_ecr(t):
    key = t["Resources"]["RegistryKey"]
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    assert set(statements) == {"KeyAdministration", "UseThroughEcr"}
    via = statements["UseThroughEcr"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == [{"Fn::Sub": "ecr.${AWS::Region}.amazonaws.com"}]


def test_outputs_give_the_repository_uris(t):
    assert {name: o["Value"] for name, o in t["Outputs"].items()} == {
        "BackendRepositoryUri": getatt("BackendRepository", "RepositoryUri"),
        "JobsRepositoryUri": getatt("JobsRepository", "RepositoryUri"),
    }
