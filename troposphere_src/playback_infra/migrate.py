"""`playback-infra migrate`: the environment's Knex migrations, as a one-off ECS task.

Runs the game-data stack's migration task definition (the jobs image, entry point `sh`, the
database users' secrets, TLS to RDS) on the jobs cluster, in the private-app subnets with the
jobs security group, with the command `scripts/release.sh` (users and grants as the master
user, then `knex migrate:latest` as the migration user); waits for it to stop, prints its
log lines and exits 1 unless the container exited 0. Everything it needs is a root stack
output, so it runs wherever the deployed stack can be read.
"""

from __future__ import annotations

import argparse
import sys
import time

from playback_infra.deploy import (
    EXIT_FAILED,
    EXIT_OK,
    aws_errors,
    deployed_environment,
    environment,
)
from playback_infra.errors import DeployError
from playback_infra.parts import values

COMMAND = ["scripts/release.sh"]  # after the task definition's entry point, sh
POLL_SECONDS = 5.0
NEEDED = (
    values.JOBS_CLUSTER_NAME,
    values.MIGRATION_TASK_DEFINITION_ARN,
    values.MIGRATION_CONTAINER_NAME,
    values.JOBS_LOG_GROUP_NAME,
    values.PRIVATE_APP_SUBNET_IDS,
    values.JOBS_SECURITY_GROUP_ID,
)


def run_task_request(outputs: dict[str, str]) -> dict:
    """ECS RunTask's request for the migration, from the root stack's outputs."""
    return {
        "cluster": outputs[values.JOBS_CLUSTER_NAME],
        "taskDefinition": outputs[values.MIGRATION_TASK_DEFINITION_ARN],
        "launchType": "FARGATE",
        "count": 1,
        "startedBy": "playback-infra-migrate",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": outputs[values.PRIVATE_APP_SUBNET_IDS].split(","),
                "securityGroups": [outputs[values.JOBS_SECURITY_GROUP_ID]],
                "assignPublicIp": "DISABLED",
            }
        },
        "overrides": {
            "containerOverrides": [
                {"name": outputs[values.MIGRATION_CONTAINER_NAME], "command": COMMAND}
            ]
        },
    }


def verdict(task: dict, container_name: str) -> tuple[int, str]:
    """The exit code and a sentence for a described task (DescribeTasks' shape)."""
    if task.get("lastStatus") != "STOPPED":
        return EXIT_FAILED, (
            f"no result in time: the task was {task.get('lastStatus')} when migrate stopped it"
        )
    container = next((c for c in task.get("containers", []) if c["name"] == container_name), {})
    code = container.get("exitCode")
    if code is None:
        reason = (
            " ".join(r for r in (task.get("stoppedReason"), container.get("reason")) if r)
            or "no reason given"
        )
        return EXIT_FAILED, f"the migration container did not run: {reason}"
    if code != 0:
        return EXIT_FAILED, f"the migrations failed: the container exited with {code} (log above)"
    return EXIT_OK, "migrations applied: the container exited with 0"


def _print_log(logs, group: str, stream: str) -> None:
    token = None
    try:
        while True:
            page = logs.get_log_events(
                logGroupName=group,
                logStreamName=stream,
                startFromHead=True,
                **({"nextToken": token} if token else {}),
            )
            for event in page["events"]:
                print(f"  | {event['message']}")
            if page.get("nextForwardToken") in (None, token):
                return
            token = page["nextForwardToken"]
    except logs.exceptions.ResourceNotFoundException:
        print(f"  (no log stream {group}/{stream}: the container wrote nothing)")


def migrate(args: argparse.Namespace) -> int:
    env = environment(args.env)
    with aws_errors(f"migrate in {env.name}: "):
        aws, outputs = deployed_environment(
            args, env, "migrate runs a task in the deployed environment", NEEDED
        )
        ecs = aws.client("ecs", endpoint_url=args.endpoint_url)
        answer = ecs.run_task(**run_task_request(outputs))
        if answer.get("failures") or not answer.get("tasks"):
            reasons = "; ".join(
                f"{f.get('arn', '')} {f.get('reason', '')} {f.get('detail', '')}".strip()
                for f in answer.get("failures", [])
            )
            raise DeployError(f"the migration task could not start: {reasons or 'no task'}")
        task_arn = answer["tasks"][0]["taskArn"]
        print(f"migration task {task_arn}: sh {' '.join(COMMAND)}")
        task = _wait(ecs, outputs[values.JOBS_CLUSTER_NAME], task_arn, args.timeout)
        container = outputs[values.MIGRATION_CONTAINER_NAME]
        _print_log(
            aws.client("logs", endpoint_url=args.endpoint_url),
            outputs[values.JOBS_LOG_GROUP_NAME],
            f"{container}/{container}/{task_arn.rsplit('/', 1)[-1]}",  # prefix/container/task
        )
    code, sentence = verdict(task, container)
    print(sentence, file=sys.stderr if code else sys.stdout)
    return code


def _wait(ecs, cluster: str, task_arn: str, timeout: float) -> dict:
    """The task once stopped; stopped by us after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        task = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"][0]
        if task["lastStatus"] == "STOPPED":
            return task
        if time.monotonic() > deadline:
            ecs.stop_task(
                cluster=cluster, task=task_arn, reason=f"migrate: no result after {timeout:.0f} s"
            )
            return task
        time.sleep(POLL_SECONDS)
