"""`playback-infra verify`: each verdict from the AWS answers it reads (the answers' shapes are
those of the API references each module cites), and the command's refusals of bad input. The
command against a deployed environment is tests/integration/test_verify.py."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from playback_infra.cli import EXIT_CONFIG, main
from playback_infra.verify import FAIL, PASS, SKIP, data, images, monitoring, secrets

NOW = datetime.datetime(2026, 4, 2, 12, 0, tzinfo=datetime.UTC)
ARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:app-AbCdEf"
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:baseball-playback-dev-rotate-app"


def _secret(**fields) -> dict:
    return {
        "ARN": ARN,
        "RotationEnabled": True,
        "RotationRules": {"AutomaticallyAfterDays": 30},
        "RotationLambdaARN": FUNCTION,
        "VersionIdsToStages": {"v1": ["AWSCURRENT"]},
        **fields,
    }


def test_a_secret_rotated_by_its_function_passes_once_it_rotated():
    result = secrets.rotation_result("dev", "DatabaseAppSecretArn", _secret(LastRotatedDate=NOW))
    assert (result.status, result.detail) == (
        PASS,
        "last rotated 2026-04-02 12:00 UTC, every 30 days",
    )


def test_a_secret_never_rotated_fails_with_the_command_that_rotates_it():
    result = secrets.rotation_result("dev", "DatabaseAppSecretArn", _secret())
    assert result.status == FAIL and "never rotated" in result.detail
    assert (
        result.fix == "rotate it now: playback-infra verify --env dev --rotate DatabaseAppSecretArn"
    )


def test_a_pending_version_is_a_failed_rotation_with_the_log_and_the_way_back():
    described = _secret(
        LastRotatedDate=NOW, VersionIdsToStages={"v1": ["AWSCURRENT"], "v2": ["AWSPENDING"]}
    )
    result = secrets.rotation_result("dev", "DatabaseAppSecretArn", described)
    assert result.status == FAIL
    assert (
        result.detail
        == "the last rotation did not finish: version v2 is AWSPENDING, not AWSCURRENT"
    )
    assert "/aws/lambda/baseball-playback-dev-rotate-app" in result.fix
    assert f"--secret-id {ARN} --version-stage AWSPENDING --remove-from-version-id v2" in result.fix
    # AWSPENDING on the current version is what a successful rotation may leave.
    done = _secret(LastRotatedDate=NOW, VersionIdsToStages={"v2": ["AWSCURRENT", "AWSPENDING"]})
    assert secrets.rotation_result("dev", "DatabaseAppSecretArn", done).status == PASS


def test_rotation_turned_off_fails():
    result = secrets.rotation_result("dev", "DatabaseAppSecretArn", _secret(RotationEnabled=False))
    assert (result.status, result.detail) == (FAIL, "rotation is off")
    assert "rotation stack" in result.fix


def test_a_secret_rds_rotates_may_not_have_rotated_yet_but_must_not_be_stuck():
    managed = _secret(
        OwningService="rds", RotationLambdaARN=None, RotationRules={"AutomaticallyAfterDays": 7}
    )
    result = secrets.rotation_result("dev", "DatabaseMasterSecretArn", managed)
    assert (result.status, result.detail) == (
        PASS,
        "rotated by rds (every 7 days); not rotated yet",
    )
    stuck = {**managed, "VersionIdsToStages": {"v1": ["AWSCURRENT"], "v2": ["AWSPENDING"]}}
    result = secrets.rotation_result("dev", "DatabaseMasterSecretArn", stuck)
    assert result.status == FAIL and "--rotate-master-user-password" in result.fix


def test_an_image_index_lists_its_platforms_but_its_attestations():
    index = {
        "manifests": [
            {"platform": {"architecture": "arm64", "os": "linux"}},
            {"platform": {"architecture": "amd64", "os": "linux"}},
            {"platform": {"architecture": "unknown", "os": "unknown"}},
        ]
    }
    assert images.platforms(index, images.INDEXES[0], read_config=None) == {"arm64", "amd64"}


def test_a_single_image_is_built_for_its_configs_architecture():
    manifest = {"config": {"digest": "sha256:c0"}}
    read = {"sha256:c0": {"architecture": "amd64", "os": "linux"}}.__getitem__
    media = "application/vnd.docker.distribution.manifest.v2+json"
    assert images.platforms(manifest, media, read) == {"amd64"}


def test_private_images_are_told_from_others():
    image = images.private_image(
        "111111111111.dkr.ecr.us-east-1.amazonaws.com/baseball-playback/backend:abc123"
    )
    assert (image.account, image.repository, image.reference) == (
        "111111111111",
        "baseball-playback/backend",
        "abc123",
    )
    assert image.image_id() == {"imageTag": "abc123"}
    pinned = images.private_image(
        f"111111111111.dkr.ecr.eu-west-1.amazonaws.com/jobs@sha256:{'a' * 64}"
    )
    assert pinned.image_id() == {"imageDigest": f"sha256:{'a' * 64}"}
    assert (
        images.private_image("public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3") is None
    )


def test_an_image_built_for_another_cpu_fails_with_the_build_to_make():
    image = images.Image("111111111111", "baseball-playback/backend", "abc")
    wrong = images.architecture_result("backend/backend", image, "ARM64", frozenset({"amd64"}))
    assert (
        wrong.status == FAIL
        and "built for amd64, but the task definition runs ARM64" in wrong.detail
    )
    assert "docker buildx build --platform linux/arm64" in wrong.fix
    assert (
        images.architecture_result("b/b", image, "ARM64", frozenset({"amd64", "arm64"})).status
        == PASS
    )
    assert images.architecture_result("b/b", image, None, frozenset({"arm64"})).status == FAIL


def test_a_missing_repository_is_a_missing_image():
    """Before the registry stack and its first images, BatchGetImage answers
    RepositoryNotFoundException: the image is missing, not an AWS error."""
    ecr = boto3.client(
        "ecr", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    image = images.Image("111111111111", "baseball-playback/jobs", "bootstrap")
    with Stubber(ecr) as stub:
        stub.add_client_error("batch_get_image", "RepositoryNotFoundException")
        stub.add_client_error("batch_get_image", "AccessDeniedException")
        with pytest.raises(images.ImageMissing, match="repository baseball-playback/jobs does not"):
            images.held_image(ecr, image)
        with pytest.raises(ClientError):  # any other refusal stays AWS's answer
            images.held_image(ecr, image)


SERVICE = {"serviceName": "backend", "desiredCount": 2, "taskDefinition": "arn:td/backend:7"}
DEFINITION = {"taskDefinitionArn": "arn:td/backend:7"}
RELEASED = {"backend": (images.Image("111111111111", "backend", "abc"), "sha256:aaa")}


def _task(number: int, digest: str, definition: str = "arn:td/backend:7") -> dict:
    return {
        "taskArn": f"arn:task/c/{number}",
        "taskDefinitionArn": definition,
        "containers": [{"name": "backend", "imageDigest": digest}, {"name": "adot-collector"}],
    }


def test_running_tasks_pass_when_each_runs_the_released_digest():
    tasks = [_task(1, "sha256:aaa"), _task(2, "sha256:aaa")]
    result = images.tasks_result(SERVICE, DEFINITION, tasks, RELEASED, "")
    assert (result.status, result.detail) == (
        PASS,
        "2 of 2 desired tasks run backend:abc (sha256:aaa...)",
    )


def test_a_task_on_another_digest_or_definition_fails():
    wrong = images.tasks_result(
        SERVICE, DEFINITION, [_task(1, "sha256:aaa"), _task(2, "sha256:bbb")], RELEASED, ""
    )
    assert wrong.status == FAIL
    assert (
        wrong.detail == "task 2 backend runs sha256:bbb, the registry's backend:abc is sha256:aaa"
    )
    stale = images.tasks_result(
        SERVICE, DEFINITION, [_task(1, "sha256:aaa", "arn:td/backend:6")], RELEASED, ""
    )
    assert (
        stale.status == FAIL and "1 of 1 running tasks run another task definition" in stale.detail
    )


def test_no_running_task_fails_with_the_last_stop_reason_unless_none_is_desired():
    result = images.tasks_result(
        SERVICE, DEFINITION, [], RELEASED, "Essential container in task exited"
    )
    assert result.status == FAIL
    assert (
        result.detail
        == "no task running of 2 desired; the last one stopped: Essential container in task exited"
    )
    idle = images.tasks_result({**SERVICE, "desiredCount": 0}, DEFINITION, [], RELEASED, "")
    assert idle.status == SKIP


DR_VAULT = "arn:aws:backup:us-west-2:111111111111:backup-vault:baseball-playback-prod-dr"


def _copy(state: str, hours_ago: int, message: str = "") -> dict:
    return {
        "DestinationBackupVaultArn": DR_VAULT,
        "State": state,
        "StatusMessage": message,
        "CreationDate": NOW - datetime.timedelta(hours=hours_ago),
    }


def test_the_latest_copy_job_decides():
    since = NOW - datetime.timedelta(hours=48)
    recovered = data.copy_result(
        DR_VAULT, [_copy("FAILED", 30, "Access denied"), _copy("COMPLETED", 6)], since
    )
    assert (recovered.status, recovered.subject) == (PASS, "baseball-playback-prod-dr in us-west-2")
    assert (
        recovered.detail
        == "the latest copy job (2026-04-02 06:00 UTC) completed (1 earlier failed)"
    )
    broken = data.copy_result(
        DR_VAULT, [_copy("COMPLETED", 30), _copy("FAILED", 6, "Access denied")], since
    )
    assert broken.status == FAIL and broken.detail.endswith("is FAILED: Access denied")
    assert "templates/dr-vault.yaml deployed in us-west-2" in broken.fix
    running = data.copy_result(DR_VAULT, [_copy("RUNNING", 1)], since)
    assert running.status == FAIL and "still RUNNING" in running.detail
    none = data.copy_result(DR_VAULT, [], since)
    assert none.status == FAIL and none.detail == "no copy job since 2026-03-31 12:00 UTC"


def test_a_cache_must_be_available():
    endpoint = {"Address": "cache.example", "Port": 6379}
    assert data.cache_result("c", {"Status": "available", "Endpoint": endpoint}).status == PASS
    failed = data.cache_result("c", {"Status": "create-failed"})
    assert failed.status == FAIL and "KMS key" in failed.fix
    assert data.cache_result("c", {"Status": "creating"}).detail == "creating, not available"
    assert data.cache_result("c", None).detail == "the serverless cache does not exist"


CANARY = {
    "Name": "dev-site",
    "Status": {"State": "RUNNING"},
    "Schedule": {"Expression": "rate(30 minutes)"},
    "ArtifactS3Location": "artifacts/canary",
}


def _run(state: str, minutes_ago: int, reason: str = "") -> dict:
    status = {"State": state, **({"StateReason": reason} if reason else {})}
    started = NOW - datetime.timedelta(minutes=minutes_ago)
    return {
        "Status": status,
        "Timeline": {"Started": started},
        "ArtifactS3Location": "artifacts/canary/run",
    }


def test_the_canary_passes_on_its_latest_finished_run():
    runs = [_run("RUNNING", 0), _run("PASSED", 30), _run("FAILED", 60, "timeout")]
    result = monitoring.canary_result(CANARY, runs, "dev")
    assert (result.status, result.detail) == (
        PASS,
        "the latest run (2026-04-02 11:30 UTC) passed; 1 of the last 2 failed",
    )
    failing = monitoring.canary_result(CANARY, [_run("FAILED", 5, "404 on /games")], "dev")
    assert failing.status == FAIL and failing.detail.endswith("failed: 404 on /games")
    assert (
        "playback-infra smoke --env dev" in failing.fix
        and "s3://artifacts/canary/run" in failing.fix
    )


def test_a_stopped_canary_or_one_without_a_run_fails():
    stopped = monitoring.canary_result({**CANARY, "Status": {"State": "STOPPED"}}, [], "dev")
    assert (stopped.status, stopped.detail) == (FAIL, "the canary is STOPPED")
    waiting = monitoring.canary_result(CANARY, [], "dev")
    assert waiting.status == FAIL and "rate(30 minutes)" in waiting.fix


def _alarm(name: str, state: str) -> dict:
    return {
        "AlarmName": name,
        "StateValue": state,
        "StateReason": "Threshold Crossed",
        "StateUpdatedTimestamp": NOW,
        "AlarmDescription": "Check the slow-query log first",
    }


def test_an_alarm_in_alarm_or_missing_fails_and_says_what_to_check():
    names = {
        "a-Cpu-1": "DatabaseCpuAlarm",
        "a-Mem-2": "DatabaseFreeableMemoryAlarm",
        "a-Gone-3": "GoneAlarm",
    }
    results = monitoring.alarms_results(
        "dev", names, [_alarm("a-Cpu-1", "ALARM"), _alarm("a-Mem-2", "OK")]
    )
    assert [(r.status, r.subject) for r in results] == [
        (FAIL, "GoneAlarm"),
        (FAIL, "DatabaseCpuAlarm"),
    ]
    assert results[1].fix == "Check the slow-query log first"
    quiet = monitoring.alarms_results(
        "dev", {"a-Mem-2": "M"}, [_alarm("a-Mem-2", "INSUFFICIENT_DATA")]
    )
    assert [(r.status, r.detail) for r in quiet] == [
        (PASS, "none of 1 alarms is in ALARM (1 without data yet)")
    ]


TRAIL = {
    "Name": "trail",
    "IsMultiRegionTrail": True,
    "LogFileValidationEnabled": True,
    "S3BucketName": "logs",
}


def test_the_trail_must_log_every_region_validated_and_deliver():
    assert monitoring.trail_result("trail", TRAIL, {"IsLogging": True}).status == PASS
    broken = monitoring.trail_result(
        "trail",
        {**TRAIL, "IsMultiRegionTrail": False, "LogFileValidationEnabled": False},
        {"IsLogging": False, "LatestDeliveryError": "AccessDenied"},
    )
    assert broken.status == FAIL
    assert broken.detail == (
        "it records its own region only; log file validation is off; it is not logging; "
        "it cannot deliver its logs: AccessDenied"
    )
    assert monitoring.trail_result("trail", None, {}).status == FAIL


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--env", "nope", "--endpoint-url", "http://127.0.0.1:1"], "unknown environment"),
        (["--env", "dev"], "give --profile (a real account) or --endpoint-url"),
        (
            ["--env", "dev", "--endpoint-url", "http://127.0.0.1:1", "--rotate-timeout", "0"],
            "verify: error: --rotate-timeout 0: give seconds above 0",
        ),
    ],
)
def test_bad_input_is_refused_before_any_aws_call(arguments, message, capsys):
    assert main(["verify", *arguments]) == EXIT_CONFIG
    assert message in capsys.readouterr().err
