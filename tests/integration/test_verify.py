"""`playback-infra verify` against dev and prod deployed into the emulator by
`playback-infra deploy`, with the account baseline beside them: each item passes on a
healthy environment, and each failure it reports is made the way it happens on AWS, through
the AWS APIs, then undone.

What the emulator cannot make happen is done as AWS would have it: the images are pushed as
`docker push` pushes them, a canary's run is recorded (no script runs here), a daily backup's
copy job is started by hand (no schedule runs here). The emulator starts a rotation as
Secrets Manager does and runs no function: `_rotation_function` plays the function's API calls
(a value for the pending version, then AWSCURRENT moved onto it), so `--rotate` shows that verify
starts, waits for and reports a rotation, not that the hosted function works
(tests/integration/test_rotation.py runs AWS's own function against a database).
"""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.request

import boto3
import pytest

from playback_infra.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, main
from playback_infra.deploy import stack_outputs
from playback_infra.emulator.process import run_emulator
from playback_infra.environments.catalog import environments
from playback_infra.paths import REPO_ROOT
from playback_infra.verify import stack_resources
from tests.oci_images import push_image

pytestmark = pytest.mark.emulator

ENVS = {env.name: env for env in environments()}
REPOSITORIES = ("baseball-playback/backend", "baseball-playback/jobs")
BASELINE = "baseball-playback-account-baseline"
COPY_REGION = "us-west-2"
ROLE = "arn:aws:iam::000000000000:role/backup"


def _session(region: str = "us-east-1"):
    return boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=region
    )


def _record_run(endpoint: str, canary: str, state: str, reason: str = "") -> None:
    run = {"State": state, **({"StateReason": reason} if reason else {})}
    request = urllib.request.Request(
        f"{endpoint}/_playback/synthetics/canaries/{canary}/runs",
        data=json.dumps(run).encode(),
        method="POST",
    )
    urllib.request.urlopen(request).close()


def _resources(cfn, stack: str) -> dict[str, str]:
    """Logical id -> physical id of the stack's resources and its nested stacks'."""
    return {r.logical_id: r.physical_id for r in stack_resources(cfn, stack)}


def _backup_and_copy(endpoint: str, env: str) -> dict:
    """What the environment's daily plan does: back up the database into its vault and copy
    the recovery point to the copy region's vault; the copy job."""
    aws = _session()
    resources = _resources(
        aws.client("cloudformation", endpoint_url=endpoint), ENVS[env].stack_name
    )
    backup = aws.client("backup", endpoint_url=endpoint)
    (rule,) = backup.get_backup_plan(BackupPlanId=resources["DatabaseBackupPlan"])["BackupPlan"][
        "Rules"
    ]
    instance = aws.client("rds", endpoint_url=endpoint).describe_db_instances(
        DBInstanceIdentifier=resources["DatabaseInstance"]
    )["DBInstances"][0]["DBInstanceArn"]
    job = backup.start_backup_job(
        BackupVaultName=rule["TargetBackupVaultName"], ResourceArn=instance, IamRoleArn=ROLE
    )
    copy_id = backup.start_copy_job(
        RecoveryPointArn=job["RecoveryPointArn"],
        SourceBackupVaultName=rule["TargetBackupVaultName"],
        DestinationBackupVaultArn=rule["CopyActions"][0]["DestinationBackupVaultArn"],
        IamRoleArn=ROLE,
    )["CopyJobId"]
    return backup.describe_copy_job(CopyJobId=copy_id)["CopyJob"]


@pytest.fixture(scope="module")
def endpoint():
    """dev and prod as a user deploys them: the images pushed and the account baseline first,
    the environments through `playback-infra deploy`; each canary has passed a run, and
    prod's vault in the copy region has a copy of a backup."""
    with run_emulator() as url:
        aws = _session()
        ecr = aws.client("ecr", endpoint_url=url)
        for repository in REPOSITORIES:
            ecr.create_repository(repositoryName=repository)
            push_image(url, repository, "bootstrap", "arm64")
        cfn = aws.client("cloudformation", endpoint_url=url)
        cfn.create_stack(
            StackName=BASELINE,
            TemplateBody=(REPO_ROOT / "templates" / "account-baseline.yaml").read_text(),
            Parameters=[
                {"ParameterKey": "FindingsEmail", "ParameterValue": "security@example.com"}
            ],
            Capabilities=["CAPABILITY_IAM"],
        )
        cfn.get_waiter("stack_create_complete").wait(StackName=BASELINE, WaiterConfig={"Delay": 1})
        for env in ("dev", "prod"):
            assert main(["deploy", "--env", env, "--endpoint-url", url, "--yes"]) == EXIT_OK
            _record_run(url, f"{env}-site", "PASSED")
        _session(COPY_REGION).client("backup", endpoint_url=url).create_backup_vault(
            BackupVaultName="baseball-playback-prod-dr"
        )
        assert _backup_and_copy(url, "prod")["State"] == "COMPLETED"
        yield url


@pytest.fixture(scope="module")
def aws(endpoint):
    session = _session()
    return lambda service: session.client(service, endpoint_url=endpoint)


@contextlib.contextmanager
def _rotation_function(endpoint: str, env: str):
    """While open, completes every rotation Secrets Manager starts on the environment's
    rotated secrets, as the rotation function's createSecret and finishSecret steps do."""
    secrets = _session().client("secretsmanager", endpoint_url=endpoint)
    outputs = stack_outputs(
        _session().client("cloudformation", endpoint_url=endpoint), ENVS[env].stack_name
    )
    arns = [outputs["DatabaseAppSecretArn"], outputs["DatabaseMigrationSecretArn"]]
    stop = threading.Event()

    def finish_started_rotations() -> None:
        while not stop.wait(0.2):
            for arn in arns:
                stages = secrets.describe_secret(SecretId=arn)["VersionIdsToStages"]
                current = next(v for v, s in stages.items() if "AWSCURRENT" in s)
                for version, labels in stages.items():
                    if labels == ["AWSPENDING"]:
                        secrets.put_secret_value(
                            SecretId=arn, ClientRequestToken=version,
                            SecretString=f'{{"password": "{version}"}}', VersionStages=["AWSPENDING"],
                        )  # fmt: skip
                        secrets.update_secret_version_stage(
                            SecretId=arn, VersionStage="AWSCURRENT",
                            MoveToVersionId=version, RemoveFromVersionId=current,
                        )  # fmt: skip

    worker = threading.Thread(target=finish_started_rotations, daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join()


def _verify(endpoint: str, env: str, *extra: str) -> int:
    return main(["verify", "--env", env, "--endpoint-url", endpoint, *extra])


def _report(endpoint: str, env: str, capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = _verify(endpoint, env, "--format", "json", *extra)
    return code, json.loads(capsys.readouterr().out)


def _result(report: dict, item: str, subject: str = "") -> dict:
    (found,) = [r for r in report["results"] if r["item"] == item and subject in r["subject"]]
    return found


def test_dev_passes_once_its_secrets_rotated(endpoint, capsys):
    rotate = ["--rotate", "DatabaseAppSecretArn", "--rotate", "DatabaseMigrationSecretArn"]
    with _rotation_function(endpoint, "dev"):
        assert _verify(endpoint, "dev", *rotate) == EXIT_OK
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if not line.startswith("ok ")]
    assert lines == [
        "verify dev: baseball-playback-dev in us-east-1",
        "--   backup copies       dev: the environment copies no backups to another region",
        "--   cache               dev: the environment has no serverless cache",
        "12 passed, 0 failed, 2 not applicable",
    ], out
    for expected in (
        "ok   rotate              DatabaseAppSecretArn: rotated in ",
        "ok   rotation            DatabaseMasterSecretArn: rotated by rds (every 7 days); not rotated yet",
        "ok   rotation            DatabaseMigrationSecretArn: last rotated",
        "ok   image architecture  baseball-playback-dev-backend/backend: baseball-playback/backend:bootstrap "
        "is built for arm64; the task runs ARM64",
        "ok   image architecture  baseball-playback-dev-migrate/migrate: baseball-playback/jobs:bootstrap",
        "ok   running tasks       baseball-playback-dev-backend: 1 of 1 desired tasks run "
        "baseball-playback/backend:bootstrap (sha256:",
        "ok   canary              dev-site: the latest run",
        "ok   alarms              dev: none of 20 alarms is in ALARM",
        "ok   trail               baseball-playback-account: logging every region into s3://",
    ):
        assert expected in out, expected


def test_prod_fails_until_its_secrets_rotated_then_passes(endpoint, capsys):
    code, report = _report(endpoint, "prod", capsys)
    assert code == EXIT_FAILED
    failures = [
        (r["item"], r["subject"], r["detail"]) for r in report["results"] if r["status"] == "fail"
    ]
    assert failures == [
        (
            "rotation",
            "DatabaseAppSecretArn",
            "never rotated (every 30 days): nothing shows yet that the rotation function works",
        ),
        (
            "rotation",
            "DatabaseMigrationSecretArn",
            "never rotated (every 30 days): nothing shows yet that the rotation function works",
        ),
    ]
    rotate = ["--rotate", "DatabaseAppSecretArn", "--rotate", "DatabaseMigrationSecretArn"]
    with _rotation_function(endpoint, "prod"):
        code, report = _report(endpoint, "prod", capsys, *rotate)
    assert code == EXIT_OK, report
    assert (report["passed"], report["failed"], report["not_applicable"]) == (14, 0, 0)
    copies = _result(report, "backup copies")
    assert copies["subject"] == "baseball-playback-prod-dr in us-west-2"
    assert copies["detail"].startswith("the latest copy job (") and copies["detail"].endswith(
        ") completed"
    )
    assert _result(report, "cache")["detail"].startswith("available at ")
    assert _result(report, "running tasks")["detail"].startswith("3 of 3 desired tasks run ")


def test_a_failed_rotation_is_reported_and_blocks_the_next(endpoint, aws, capsys):
    """A rotation whose function failed leaves its new version AWSPENDING: verify fails the
    secret with the way back, and --rotate reports Secrets Manager's refusal."""
    secrets = aws("secretsmanager")
    arn = stack_outputs(aws("cloudformation"), ENVS["dev"].stack_name)["DatabaseAppSecretArn"]
    pending = secrets.put_secret_value(
        SecretId=arn, SecretString='{"password": "half-done"}', VersionStages=["AWSPENDING"]
    )["VersionId"]
    try:
        code, report = _report(endpoint, "dev", capsys, "--rotate", "DatabaseAppSecretArn")
        assert code == EXIT_FAILED
        refused = _result(report, "rotate", "DatabaseAppSecretArn")
        assert refused["status"] == "fail"
        assert refused["detail"].startswith(
            "Secrets Manager refused to start a rotation: InvalidRequestException: A previous rotation isn't complete"
        )
        rotation = _result(report, "rotation", "DatabaseAppSecretArn")
        assert (
            rotation["detail"]
            == f"the last rotation did not finish: version {pending} is AWSPENDING, not AWSCURRENT"
        )
        assert f"--remove-from-version-id {pending}" in rotation["fix"]
        assert "--rotate DatabaseAppSecretArn" in rotation["fix"]
    finally:
        secrets.update_secret_version_stage(
            SecretId=arn, VersionStage="AWSPENDING", RemoveFromVersionId=pending
        )


def test_an_image_for_the_wrong_cpu_under_the_released_tag(endpoint, aws, capsys):
    """The backend image pushed again under the released tag, built for amd64: its task
    definition runs ARM64, and the running tasks still run the digest the tag named before."""
    running = (
        _session()
        .client("ecr", endpoint_url=endpoint)
        .describe_images(repositoryName=REPOSITORIES[0], imageIds=[{"imageTag": "bootstrap"}])[
            "imageDetails"
        ][0]["imageDigest"]
    )
    pushed = push_image(endpoint, REPOSITORIES[0], "bootstrap", "amd64")
    try:
        code, report = _report(endpoint, "dev", capsys)
        assert code == EXIT_FAILED
        cpu = _result(report, "image architecture", "dev-backend/backend")
        assert cpu["status"] == "fail"
        assert cpu["detail"] == (
            "baseball-playback/backend:bootstrap is built for amd64, but the task definition "
            "runs ARM64: its containers cannot start"
        )
        tasks = _result(report, "running tasks")
        assert tasks["status"] == "fail"
        assert (
            f"runs {running}, the registry's baseball-playback/backend:bootstrap is {pushed}"
            in tasks["detail"]
        )
        assert _result(report, "image architecture", "dev-migrate")["status"] == "pass"
    finally:
        assert push_image(endpoint, REPOSITORIES[0], "bootstrap", "arm64") == running
    # An image index with an arm64 image in it serves the task.
    push_image(endpoint, REPOSITORIES[1], "bootstrap", "amd64", "arm64")
    try:
        _code, report = _report(endpoint, "dev", capsys)
        migrate = _result(report, "image architecture", "dev-migrate")
        assert (
            migrate["detail"]
            == "baseball-playback/jobs:bootstrap is built for amd64, arm64; the task runs ARM64"
        )
    finally:
        push_image(endpoint, REPOSITORIES[1], "bootstrap", "arm64")


def test_an_alarm_in_alarm_fails_with_what_to_check_first(endpoint, aws, capsys):
    cloudwatch = aws("cloudwatch")
    name = _resources(aws("cloudformation"), ENVS["dev"].stack_name)["DatabaseCpuAlarm"]
    cloudwatch.set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="Threshold Crossed: 95 > 80"
    )
    try:
        code, report = _report(endpoint, "dev", capsys)
        assert code == EXIT_FAILED
        alarm = _result(report, "alarms", "DatabaseCpuAlarm")
        assert alarm["status"] == "fail" and alarm["detail"].endswith(
            ": Threshold Crossed: 95 > 80"
        )
        description = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0][
            "AlarmDescription"
        ]
        assert alarm["fix"] == description
    finally:
        cloudwatch.set_alarm_state(
            AlarmName=name, StateValue="INSUFFICIENT_DATA", StateReason="undone"
        )


def test_a_failing_canary_run_fails(endpoint, capsys):
    _record_run(endpoint, "dev-site", "FAILED", "Navigation failed: 503 on /")
    try:
        code, report = _report(endpoint, "dev", capsys)
        assert code == EXIT_FAILED
        canary = _result(report, "canary")
        assert canary["status"] == "fail" and canary["detail"].endswith(
            "failed: Navigation failed: 503 on /"
        )
        assert "playback-infra smoke --env dev" in canary["fix"]
    finally:
        _record_run(endpoint, "dev-site", "PASSED")


def test_a_stopped_trail_fails(endpoint, aws, capsys):
    cloudtrail = aws("cloudtrail")
    name = stack_outputs(aws("cloudformation"), BASELINE)["CloudTrailName"]
    cloudtrail.stop_logging(Name=name)
    try:
        code, report = _report(endpoint, "dev", capsys)
        assert code == EXIT_FAILED
        trail = _result(report, "trail")
        assert (trail["status"], trail["detail"]) == ("fail", "it is not logging")
        assert f"aws cloudtrail start-logging --name {name}" in trail["fix"]
    finally:
        cloudtrail.start_logging(Name=name)


def test_without_the_baselines_trail_any_multi_region_trail_counts(endpoint, aws, capsys):
    """Where the baseline makes no trail (RecordTrail=false: an organization's or another
    region's trail records the region), a multi-region trail DescribeTrails shows counts, and
    none is a failure."""
    cloudtrail = aws("cloudtrail")
    name = stack_outputs(aws("cloudformation"), BASELINE)["CloudTrailName"]
    code, report = _report(endpoint, "dev", capsys, "--baseline-stack", "no-such-stack")
    assert (_result(report, "trail")["status"], _result(report, "trail")["subject"]) == (
        "pass",
        name,
    )
    cloudtrail.update_trail(Name=name, IsMultiRegionTrail=False)
    try:
        code, report = _report(endpoint, "dev", capsys, "--baseline-stack", "no-such-stack")
        trail = _result(report, "trail")
        assert trail["status"] == "fail" and code == EXIT_FAILED
        assert (
            trail["detail"]
            == "no multi-region trail records us-east-1, and the stack is not deployed"
        )
    finally:
        cloudtrail.update_trail(Name=name, IsMultiRegionTrail=True)


def test_a_failed_copy_to_the_copy_region_fails(endpoint, capsys):
    west = _session(COPY_REGION).client("backup", endpoint_url=endpoint)
    west.delete_backup_vault(BackupVaultName="baseball-playback-prod-dr")
    try:
        failed = _backup_and_copy(endpoint, "prod")
        assert failed["State"] == "FAILED"
        code, report = _report(endpoint, "prod", capsys)
        assert code == EXIT_FAILED
        copies = _result(report, "backup copies")
        assert copies["status"] == "fail"
        assert copies["detail"].endswith(f"is FAILED: {failed['StatusMessage']}")
        assert "templates/dr-vault.yaml deployed in us-west-2" in copies["fix"]
    finally:
        west.create_backup_vault(BackupVaultName="baseball-playback-prod-dr")
        assert _backup_and_copy(endpoint, "prod")["State"] == "COMPLETED"


def test_a_cache_that_is_gone_fails(endpoint, aws, capsys):
    elasticache = aws("elasticache")
    name = _resources(aws("cloudformation"), ENVS["prod"].stack_name)["NarrationCache"]
    (cache,) = elasticache.describe_serverless_caches(ServerlessCacheName=name)["ServerlessCaches"]
    elasticache.delete_serverless_cache(ServerlessCacheName=name)
    try:
        code, report = _report(endpoint, "prod", capsys)
        assert code == EXIT_FAILED
        failed = _result(report, "cache")
        assert (failed["status"], failed["detail"]) == (
            "fail",
            "the serverless cache does not exist",
        )
    finally:
        elasticache.create_serverless_cache(
            ServerlessCacheName=name,
            Engine=cache["Engine"],
            MajorEngineVersion=cache["MajorEngineVersion"],
        )


def test_bad_flags_and_an_undeployed_environment(endpoint, capsys):
    assert _verify(endpoint, "dev", "--rotate", "DatabaseMasterSecretArn") == EXIT_CONFIG
    assert capsys.readouterr().err.strip() == (
        "playback-infra verify: error: --rotate DatabaseMasterSecretArn: not a secret a rotation "
        "function rotates in dev; give one of DatabaseAppSecretArn, DatabaseMigrationSecretArn"
    )
    assert _verify(endpoint, "staging") == EXIT_FAILED
    assert "baseball-playback-staging does not exist" in capsys.readouterr().err
    with contextlib.suppress(SystemExit):
        main(["verify", "--env", "dev", "--endpoint-url", endpoint, "--format", "yaml"])
    assert "invalid choice: 'yaml'" in capsys.readouterr().err


def test_a_service_whose_tasks_stopped_fails_with_the_reason(endpoint, aws, capsys):
    ecs = aws("ecs")
    outputs = stack_outputs(aws("cloudformation"), ENVS["dev"].stack_name)
    cluster, service = outputs["ClusterName"], outputs["ServiceName"]
    (task,) = ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"]
    ecs.stop_task(cluster=cluster, task=task, reason="Essential container in task exited")
    try:
        code, report = _report(endpoint, "dev", capsys)
        assert code == EXIT_FAILED
        tasks = _result(report, "running tasks")
        assert (tasks["status"], tasks["detail"]) == (
            "fail",
            "no task running of 1 desired; the last one stopped: Essential container in task exited",
        )
    finally:
        ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)
        assert ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"]
