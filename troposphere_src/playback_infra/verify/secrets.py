"""verify: the rotated secrets' last rotation, and a rotation on demand (`--rotate`).

How a rotation shows in DescribeSecret
(https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html and
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html): a
rotation function's createSecret step puts the new version under AWSPENDING and its finishSecret
step moves AWSCURRENT to it. "When rotation is successful, the AWSPENDING staging label might be
attached to the same version as the AWSCURRENT version, or it might not be attached to any
version. If the AWSPENDING staging label is present but not attached to the same version as
AWSCURRENT, then any later invocation of RotateSecret assumes that a previous rotation request
is still in progress and returns an error": a failed rotation leaves that pending version, and
blocks the next. LastRotatedDate is the last rotation that completed. The function writes why a
step failed to its log group
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot_rotation.html).
"""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from playback_infra.errors import UsageError
from playback_infra.parts import values
from playback_infra.verify import Deployed, Result, failed, passed

ITEM, ROTATE = "rotation", "rotate"
PENDING, CURRENT = "AWSPENDING", "AWSCURRENT"
POLL_SECONDS = 2.0


def function_rotated(deployed: Deployed) -> dict[str, str]:
    """The secrets a rotation function rotates, by name (the root output naming the secret):
    one per AWS::SecretsManager::RotationSchedule, whose physical id is the secret's ARN
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-secretsmanager-rotationschedule.html)."""
    return {
        deployed.output_naming(r.physical_id): r.physical_id
        for r in deployed.of_type("AWS::SecretsManager::RotationSchedule")
    }


def rotated(deployed: Deployed) -> dict[str, str]:
    """`function_rotated`, and the database master user's secret, which RDS rotates."""
    master = deployed.outputs.get(values.DATABASE_MASTER_SECRET_ARN)
    return {
        **function_rotated(deployed),
        **({values.DATABASE_MASTER_SECRET_ARN: master} if master else {}),
    }


def unfinished(described: dict) -> str | None:
    """The version AWSPENDING is on when it is not AWSCURRENT's, else None."""
    return next(
        (
            v
            for v, stages in described.get("VersionIdsToStages", {}).items()
            if PENDING in stages and CURRENT not in stages
        ),
        None,
    )


def _log_group(described: dict) -> str:
    function = described.get("RotationLambdaARN")
    if not function:
        return "the rotation function's log group (/aws/lambda/<RotationLambdaName>)"
    return f"/aws/lambda/{function.split(':')[6]}"


def _retry(env: str, name: str, arn: str, version: str, log: str) -> str:
    return (
        f"read {log} for the step that failed and fix its cause; then drop the unfinished "
        f"version (aws secretsmanager update-secret-version-stage --secret-id {arn} "
        f"--version-stage AWSPENDING --remove-from-version-id {version}) and rotate again: "
        f"playback-infra verify --env {env} --rotate {name}"
    )


def rotation_result(env: str, name: str, described: dict) -> Result:
    """The verdict on one secret from its DescribeSecret answer."""
    arn, owner = described["ARN"], described.get("OwningService")
    if not described.get("RotationEnabled"):
        fix = (
            f"{owner} turns rotation on for the secrets it manages: check the database's "
            "ManageMasterUserPassword and deploy again"
            if owner
            else "deploy the environment again: its rotation stack's RotationSchedule turns rotation on"
        )
        return failed(ITEM, name, "rotation is off", fix)
    pending = unfinished(described)
    if pending:
        fix = (
            f"{owner} manages this rotation: read the database's events (aws rds describe-events "
            "--source-type db-instance) and rotate it with aws rds modify-db-instance "
            "--rotate-master-user-password --apply-immediately"
            if owner
            else _retry(env, name, arn, pending, _log_group(described))
        )
        return failed(
            ITEM,
            name,
            f"the last rotation did not finish: version {pending} is {PENDING}, not {CURRENT}",
            fix,
        )
    rules = described.get("RotationRules", {})
    every = (
        rules.get("ScheduleExpression") or f"every {rules.get('AutomaticallyAfterDays', '?')} days"
    )
    last = described.get("LastRotatedDate")
    if last is None:
        if owner:
            return passed(ITEM, name, f"rotated by {owner} ({every}); not rotated yet")
        return failed(
            ITEM,
            name,
            f"never rotated ({every}): nothing shows yet that the rotation function works",
            f"rotate it now: playback-infra verify --env {env} --rotate {name}",
        )
    return passed(ITEM, name, f"last rotated {last:%Y-%m-%d %H:%M %Z}, {every}")


def rotation(deployed: Deployed) -> list[Result]:
    client = deployed.client("secretsmanager")
    return [
        rotation_result(deployed.env.name, name, client.describe_secret(SecretId=arn))
        for name, arn in sorted(rotated(deployed).items())
    ]


def rotate(deployed: Deployed, names: tuple[str, ...], timeout: float) -> list[Result]:
    """Rotate each secret `names` names (RotateSecret) and wait up to `timeout` seconds for
    its new version to become AWSCURRENT; a UsageError for a name no rotation function
    rotates."""
    rotatable = function_rotated(deployed)
    unknown = [n for n in names if n not in rotatable]
    if unknown:
        raise UsageError(
            f"--rotate {' '.join(unknown)}: not a secret a rotation function rotates in "
            f"{deployed.env.name}; give one of {', '.join(sorted(rotatable)) or '(none)'}"
        )
    client = deployed.client("secretsmanager")
    return [
        _rotate_one(deployed.env.name, client, name, rotatable[name], timeout) for name in names
    ]


def _rotate_one(env: str, client, name: str, arn: str, timeout: float) -> Result:
    started = time.monotonic()
    try:
        version = client.rotate_secret(SecretId=arn)["VersionId"]
    except ClientError as error:
        described = client.describe_secret(SecretId=arn)
        pending = unfinished(described)
        fix = (
            _retry(env, name, arn, pending, _log_group(described))
            if pending
            else "the profile needs secretsmanager:RotateSecret, and lambda:InvokeFunction on the "
            "rotation function"
        )
        answer = error.response["Error"]
        return failed(
            ROTATE,
            name,
            f"Secrets Manager refused to start a rotation: {answer['Code']}: {answer['Message']}",
            fix,
        )
    while True:
        described = client.describe_secret(SecretId=arn)
        stages = described.get("VersionIdsToStages", {}).get(version, [])
        waited = time.monotonic() - started
        if CURRENT in stages:
            return passed(
                ROTATE, name, f"rotated in {waited:.0f} s: version {version} is {CURRENT}"
            )
        if waited >= timeout:
            return failed(
                ROTATE,
                name,
                f"version {version} is not {CURRENT} after {timeout:.0f} s (its stages: {', '.join(stages) or 'none'})",
                f"read {_log_group(described)}: a step that failed says why; a slow one may still "
                f"finish, verify again in a few minutes",
            )
        time.sleep(POLL_SECONDS)
