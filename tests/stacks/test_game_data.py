"""The game-data stack (stacks/game_data/): the Retrosheet releases bucket."""

from __future__ import annotations

import pytest

from playback_infra.stacks import game_data
from tests.stacks.helpers import getatt, props, ref


@pytest.fixture(scope="module")
def t() -> dict:
    return game_data.build().to_dict()


def test_bucket_is_private_versioned_and_encrypted_with_the_data_key(t):
    p = props(t, "RetrosheetBucket")
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": ref("DataKeyArn"),
    }  # fmt: skip
    assert rule["BucketKeyEnabled"] is True
    assert p["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}


def test_replaced_versions_expire_but_current_releases_stay(t):
    (rule,) = props(t, "RetrosheetBucket")["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert "ExpirationInDays" not in rule
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_uploads_reach_eventbridge_for_the_import(t):
    assert props(t, "RetrosheetBucket")["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }


def test_bucket_is_kept_outside_development_and_refuses_plain_http(t):
    bucket = t["Resources"]["RetrosheetBucket"]
    assert bucket["DeletionPolicy"] == {"Fn::If": ["RetainData", "Retain", "Delete"]}
    assert bucket["UpdateReplacePolicy"] == bucket["DeletionPolicy"]
    (statement,) = props(t, "RetrosheetBucketPolicy")["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_outputs(t):
    assert {name: o["Value"] for name, o in t["Outputs"].items()} == {
        "GameDataBucketName": ref("RetrosheetBucket"),
        "GameDataBucketArn": getatt("RetrosheetBucket", "Arn"),
        # for `playback-infra migrate`
        "JobsClusterName": ref("JobsCluster"),
        "JobsLogGroupName": ref("ImportLogGroup"),
        "MigrationContainerName": "migrate",
        "MigrationTaskDefinitionArn": ref("MigrationTaskDefinition"),
    }
