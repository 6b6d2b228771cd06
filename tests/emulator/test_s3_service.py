"""Deploy a bucket into ministack with the plugin (emulator/s3_service.py), with generated
secrets (emulator/secretsmanager_service.py) beside it, and read them back.

One emulator serves the module.
"""

from __future__ import annotations

import json

import pytest

from conftest import deploy, error_code, update
from tests.stacks.helpers import ref

pytestmark = pytest.mark.emulator


def bucket_template(*, kms=True, lifecycle=True, team="data") -> str:
    """A bucket with the settings ministack's provisioner dropped, and generated secrets."""
    encryption = (
        {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/data"}
        if kms
        else {"SSEAlgorithm": "AES256"}
    )
    bucket = {
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": encryption, "BucketKeyEnabled": kms}
            ]
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]},
        "Tags": [{"Key": "Team", "Value": team}],
    }
    if lifecycle:
        bucket["LifecycleConfiguration"] = {
            "Rules": [
                {
                    "Id": "archive",
                    "Status": "Enabled",
                    "Prefix": "raw/",
                    "TagFilters": [{"Key": "tier", "Value": "cold"}],
                    "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
                    "NoncurrentVersionExpirationInDays": 7,
                }
            ]
        }
    return json.dumps(
        {
            "Resources": {
                "Bucket": {"Type": "AWS::S3::Bucket", "Properties": bucket},
                "Lowercase": {
                    "Type": "AWS::SecretsManager::Secret",
                    "Properties": {
                        "GenerateSecretString": {
                            "PasswordLength": 24,
                            "ExcludePunctuation": True,
                            "ExcludeUppercase": "true",
                            "ExcludeNumbers": True,
                        }
                    },
                },
                "User": {
                    "Type": "AWS::SecretsManager::Secret",
                    "Properties": {
                        "GenerateSecretString": {
                            "SecretStringTemplate": json.dumps({"username": "app"}),
                            "GenerateStringKey": "password",
                            "ExcludeCharacters": "abc",
                            "PasswordLength": 16,
                        }
                    },
                },
            },
            "Outputs": {name: {"Value": ref(name)} for name in ("Bucket", "Lowercase", "User")},
        }
    )


def test_bucket_settings_and_generated_secrets_reach_the_apis(cfn, aws):
    s3, secrets = aws("s3"), aws("secretsmanager")
    stack_id, outputs = deploy(cfn, bucket_template())
    bucket = outputs["Bucket"]
    [encryption] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert encryption == {
        "ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": "alias/data",
        },
        "BucketKeyEnabled": True,
    }
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}
    ]
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule == {
        "ID": "archive",
        "Status": "Enabled",
        # S3 echoes ObjectSizeGreaterThan 0.
        "Filter": {
            "And": {
                "Prefix": "raw/",
                "Tags": [{"Key": "tier", "Value": "cold"}],
                "ObjectSizeGreaterThan": 0,
            }
        },
        "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
    }
    tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert {"Key": "Team", "Value": "data"} in tags
    assert {"Key": "aws:cloudformation:logical-id", "Value": "Bucket"} in tags

    lowercase = secrets.get_secret_value(SecretId=outputs["Lowercase"])["SecretString"]
    assert len(lowercase) == 24 and lowercase.isalpha() and lowercase.islower()
    user = json.loads(secrets.get_secret_value(SecretId=outputs["User"])["SecretString"])
    assert user["username"] == "app"
    assert len(user["password"]) == 16 and not set("abc") & set(user["password"])

    # The lifecycle goes, SSE-S3 replaces KMS, the tag changes.
    update(cfn, stack_id, bucket_template(kms=False, lifecycle=False, team="platform"))
    [encryption] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert encryption["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert error_code(s3.get_bucket_lifecycle_configuration, Bucket=bucket) == (
        "NoSuchLifecycleConfiguration"
    )
    tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert {"Key": "Team", "Value": "platform"} in tags
    assert {"Key": "Team", "Value": "data"} not in tags
