"""The rotation stack (stacks/rotation.py) and the root rule that keeps rotation reachable."""

from __future__ import annotations

import pytest

from playback_infra.stacks import rotation
from playback_infra.synth import render
from tests.stacks.helpers import props, ref, resources_of_type


@pytest.fixture(scope="module")
def t() -> dict:
    return rotation.build().to_dict()


def test_uses_the_secrets_manager_transform_for_hosted_rotation(t):
    assert t["Transform"] == "AWS::SecretsManager-2024-09-16"


@pytest.mark.parametrize(
    ("title", "secret"),
    [
        ("DatabaseAppSecretRotation", "DatabaseAppSecretArn"),
        ("DatabaseMigrationSecretRotation", "DatabaseMigrationSecretArn"),
    ],
)
def test_each_user_secret_rotates_with_alternating_users(t, title, secret):
    p = props(t, title)
    assert p["SecretId"] == ref(secret)
    assert p["RotationRules"] == {"AutomaticallyAfterDays": ref("SecretRotationDays")}
    # The users come with the migrations, after this stack: no rotation at creation.
    assert p["RotateImmediatelyOnUpdate"] is False
    hosted = p["HostedRotationLambda"]
    assert hosted["RotationType"] == "MySQLMultiUser"
    assert hosted["MasterSecretArn"] == ref("DatabaseMasterSecretArn")
    assert hosted["MasterSecretKmsKeyArn"] == hosted["KmsKeyArn"] == ref("DataKeyArn")
    assert hosted["VpcSubnetIds"] == {"Fn::Join": [",", ref("PrivateAppSubnetIds")]}
    assert hosted["VpcSecurityGroupIds"] == ref("SecretsRotationSecurityGroupId")
    assert '"' in hosted["ExcludeCharacters"] and "@" in hosted["ExcludeCharacters"]


def test_only_the_two_user_secrets_rotate_here(t):
    # The master secret is RDS's own: RDS rotates it.
    assert set(resources_of_type(t, "AWS::SecretsManager::RotationSchedule")) == {
        "DatabaseAppSecretRotation",
        "DatabaseMigrationSecretRotation",
    }
    assert set(t["Resources"]) == {
        *resources_of_type(t, "AWS::SecretsManager::RotationSchedule"),
        *resources_of_type(t, "AWS::Logs::LogGroup"),
        "RotationFailedRule",
    }


def test_a_failed_rotation_of_either_secret_goes_to_the_alarm_topic(t):
    rule = props(t, "RotationFailedRule")
    assert rule["Name"] == {"Fn::Sub": "baseball-playback-${EnvironmentName}-rotation-failed"}
    assert rule["State"] == "ENABLED"
    # The CloudTrail service event Secrets Manager records for a failed rotation, for our two
    # secrets (tests/emulator/test_secretsmanager_service.py matches it against AWS's event).
    assert rule["EventPattern"] == {
        "source": ["aws.secretsmanager"],
        "detail-type": ["AWS Service Event via CloudTrail"],
        "detail": {
            "eventSource": ["secretsmanager.amazonaws.com"],
            "eventName": ["RotationFailed"],
            "additionalEventData": {
                "SecretId": [ref("DatabaseAppSecretArn"), ref("DatabaseMigrationSecretArn")]
            },
        },
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == ref("AlarmTopicArn")
    assert "RoleArn" not in target  # SNS takes the topic policy (alerts stack), not a role
    paths = target["InputTransformer"]["InputPathsMap"]
    assert paths == {
        "secret": "$.detail.additionalEventData.SecretId",
        "error": "$.detail.errorMessage",
    }
    message = target["InputTransformer"]["InputTemplate"]["Fn::Sub"]
    assert "<secret>" in message and "<error>" in message and "Rotate a secret" in message


@pytest.mark.parametrize(
    ("title", "function"),
    [("DatabaseAppSecretRotation", "rotate-app"),
     ("DatabaseMigrationSecretRotation", "rotate-migration")],
)  # fmt: skip
def test_each_rotation_functions_logs_are_kept_90_days_encrypted(t, title, function):
    name = f"baseball-playback-${{EnvironmentName}}-{function}"
    schedule = t["Resources"][title]
    assert schedule["Properties"]["HostedRotationLambda"]["RotationLambdaName"] == {"Fn::Sub": name}
    assert schedule["DependsOn"] == [f"{title}LogGroup"]  # the group exists before Lambda logs
    group = props(t, f"{title}LogGroup")
    assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{name}"}
    assert (group["KmsKeyId"], group["RetentionInDays"]) == (ref("LogsKeyArn"), 90)


@pytest.mark.parametrize(("env", "days"), [("dev", "30"), ("staging", "30"), ("prod", "30")])
def test_rotation_every_30_days(parameter_files, env, days):
    assert parameter_files[env]["Parameters"]["SecretRotationDays"] == days


def _rule_holds(assertion: dict, parameters: dict[str, str]) -> bool:
    def value(node):
        if isinstance(node, dict):
            ((function, argument),) = node.items()
            if function == "Ref":
                return parameters[argument]
            if function == "Fn::Equals":
                return value(argument[0]) == value(argument[1])
            if function == "Fn::Not":
                return not value(argument[0])
            if function == "Fn::Or":
                return any(value(a) for a in argument)
            if function == "Fn::And":
                return all(value(a) for a in argument)
            raise AssertionError(function)
        return node

    return value(assertion)


def test_root_rule_refuses_no_nat_without_the_secrets_manager_and_rds_endpoints(parameter_files):
    root = render().templates["root"].to_dict()
    (assertion,) = root["Rules"]["PrivateSubnetsReachAwsApis"]["Assertions"]
    assert "NatMode none or public-ips" in assertion["AssertDescription"]
    for env, content in parameter_files.items():
        assert _rule_holds(assertion["Assert"], content["Parameters"]), env
    base = parameter_files["staging"]["Parameters"]
    for mode in ("none", "public-ips"):
        for secrets_manager, rds in (("false", "true"), ("true", "false"), ("false", "false")):
            assert not _rule_holds(
                assertion["Assert"],
                {
                    **base,
                    "NatMode": mode,
                    "EnableSecretsManagerEndpoint": secrets_manager,
                    "EnableRdsEndpoint": rds,
                },
            )
        assert _rule_holds(
            assertion["Assert"],
            {
                **base,
                "NatMode": mode,
                "EnableSecretsManagerEndpoint": "true",
                "EnableRdsEndpoint": "true",
            },
        )
    # Behind a NAT (staging's) neither endpoint is needed.
    assert _rule_holds(
        assertion["Assert"],
        {**base, "EnableSecretsManagerEndpoint": "false", "EnableRdsEndpoint": "false"},
    )


def test_root_rule_wants_exactly_one_certificate_source(parameter_files):
    root = render().templates["root"].to_dict()
    (assertion,) = root["Rules"]["OneCertificateSource"]["Assertions"]

    def holds(parameters):
        return _rule_holds(assertion["Assert"], parameters)

    for env, content in parameter_files.items():
        assert holds(content["Parameters"]), env
    base = parameter_files["dev"]["Parameters"]
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    assert not holds({**base, "CertificateArn": arn})  # both
    assert not holds({**base, "HostedZoneId": ""})  # neither
    assert holds({**base, "HostedZoneId": "", "CertificateArn": arn})
