"""The Retrosheet import job in the game-data stack (stacks/game_data/import_job.py)."""

from __future__ import annotations

import json

import pytest

from playback_infra.paths import REPO_ROOT
from playback_infra.stacks import game_data
from playback_infra.stacks.game_data import import_job
from retrosheet_importer.cli import EXIT_BUSY
from tests.stacks.helpers import getatt, props, ref, root_provided_values_checked


@pytest.fixture(scope="module")
def t() -> dict:
    return game_data.build().to_dict()


def _statements(t: dict, role: str) -> list[dict]:
    (policy,) = props(t, role)["Policies"]
    return policy["PolicyDocument"]["Statement"]


def test_exactly_the_import_resources(t):
    assert {name: r["Type"] for name, r in t["Resources"].items()} == {
        "RetrosheetBucket": "AWS::S3::Bucket",
        "RetrosheetBucketPolicy": "AWS::S3::BucketPolicy",
        "JobsCluster": "AWS::ECS::Cluster",
        "ImportLogGroup": "AWS::Logs::LogGroup",
        "ImportExecutionRole": "AWS::IAM::Role",
        "ImportTaskRole": "AWS::IAM::Role",
        "MigrationTaskRole": "AWS::IAM::Role",
        "ImportTaskDefinition": "AWS::ECS::TaskDefinition",
        "MigrationTaskDefinition": "AWS::ECS::TaskDefinition",
        "ImportWorkflowRole": "AWS::IAM::Role",
        "ImportWorkflow": "AWS::StepFunctions::StateMachine",
        "ImportFailedAlarm": "AWS::CloudWatch::Alarm",
        "ImportDeadLetterQueue": "AWS::SQS::Queue",
        "ImportDeadLetterQueuePolicy": "AWS::SQS::QueuePolicy",
        "ImportRuleRole": "AWS::IAM::Role",
        "ImportRule": "AWS::Events::Rule",
        "ImportNotStartedAlarm": "AWS::CloudWatch::Alarm",
    }


def test_task_runs_the_jobs_image_read_only_with_a_writable_tmp(t):
    p = props(t, "ImportTaskDefinition")
    assert (p["Cpu"], p["Memory"]) == (ref("ImportCpu"), ref("ImportMemory"))
    assert p["RequiresCompatibilities"] == ["FARGATE"] and p["NetworkMode"] == "awsvpc"
    # The environment's architecture, which the pipeline's jobs image build shares.
    assert p["RuntimePlatform"]["CpuArchitecture"] == ref("ImageArchitecture")
    (container,) = p["ContainerDefinitions"]
    assert container["Image"] == {
        "Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/baseball-playback/jobs:${JobsImageTag}"
    }
    assert container["ReadonlyRootFilesystem"] is True
    assert container["MountPoints"] == [
        {"SourceVolume": "tmp", "ContainerPath": "/tmp", "ReadOnly": False}
    ]
    assert "Secrets" not in container  # the importer reads its secret itself, by ARN
    assert container["LogConfiguration"]["Options"]["awslogs-group"] == ref("ImportLogGroup")
    group = props(t, "ImportLogGroup")
    assert (group["KmsKeyId"], group["RetentionInDays"]) == (
        ref("LogsKeyArn"), ref("JobsLogRetentionDays"),
    )  # fmt: skip
    assert t["Resources"]["ImportLogGroup"]["DeletionPolicy"] == {
        "Fn::If": ["RetainData", "Retain", "Delete"]
    }


def test_task_role_reads_the_releases_and_the_migration_secret_and_nothing_else(t):
    statements = _statements(t, "ImportTaskRole")
    actions = {a for s in statements for a in s["Action"]}
    assert actions == {
        "s3:GetObject",
        "s3:ListBucket",
        "kms:Decrypt",
        "secretsmanager:GetSecretValue",
    }
    (secret,) = [s for s in statements if s["Action"] == ["secretsmanager:GetSecretValue"]]
    assert secret["Resource"] == [ref("DatabaseMigrationSecretArn")]
    (read,) = [s for s in statements if s["Action"] == ["s3:GetObject"]]
    assert read["Resource"] == [
        {"Fn::Sub": ["${Bucket}/*", {"Bucket": getatt("RetrosheetBucket", "Arn")}]}
    ]
    assert all("Condition" in s for s in statements if s["Action"] == ["kms:Decrypt"])
    execution = {a for s in _statements(t, "ImportExecutionRole") for a in s["Action"]}
    assert "secretsmanager:GetSecretValue" not in execution and "s3:GetObject" not in execution


def _branch(t: dict) -> dict:
    """The states of the workflow's one run of the importer (the Parallel state's branch)."""
    (branch,) = props(t, "ImportWorkflow")["Definition"]["States"]["Import"]["Branches"]
    return branch["States"]


def test_workflow_runs_the_task_and_fails_unless_it_exits_0(t):
    p = props(t, "ImportWorkflow")
    states = _branch(t)
    run = states["RunImporter"]
    assert run["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert run["TimeoutSeconds"] == 3600
    assert run["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == (
        "${AssignPublicIp}"
    )
    # NatMode public-ips (dev): the app tier routes to the internet gateway
    assert p["DefinitionSubstitutions"]["AssignPublicIp"] == {
        "Fn::If": ["TasksNeedPublicIp", "ENABLED", "DISABLED"]
    }
    assert t["Conditions"]["TasksNeedPublicIp"] == {"Fn::Equals": [ref("NatMode"), "public-ips"]}
    (override,) = run["Parameters"]["Overrides"]["ContainerOverrides"]
    assert override["Name"] == "importer"
    assert override["Command.$"] == (
        "States.Array(States.Format('s3://{}/{}', $.bucket, $.key), '--database-secret-arn', "
        "'${Secret}', '--tls', '--tls-ca', '/etc/ssl/certs/rds-global-bundle.pem')"
    )
    assert [r["ErrorEquals"] for r in run["Retry"]] == [
        ["ECS.AmazonECSException", "ECS.ThrottlingException"]
    ]
    assert run["ResultPath"] == "$.stopped" and run["Next"] == "StoppedWithAnExitCode"
    assert states["ImportRejected"]["Type"] == "Fail"
    assert p["DefinitionSubstitutions"]["Secret"] == ref("DatabaseMigrationSecretArn")
    assert p["DefinitionSubstitutions"]["Subnets"] == {
        "Fn::Join": [",", ref("PrivateAppSubnetIds")]
    }


def _after_a_stop(states: dict, failure: dict) -> str:
    """Where the branch goes when its task fails with `failure` ({Error, Cause}), the states'
    paths and intrinsics applied by hand: the end state's name."""
    (catch,) = states["RunImporter"]["Catch"]
    assert catch["ErrorEquals"] == ["States.TaskFailed"] and catch["ResultPath"] == "$.failure"
    step = states[catch["Next"]]
    assert step["Parameters"] == {"stopped.$": "States.StringToJson($.failure.Cause)"}
    return _through_choices(states, step["Next"], {"stopped": json.loads(failure["Cause"])})


def _through_choices(states: dict, state: str, document: dict) -> str:
    """The state the Choice states from `state` lead to, given the state input `document`."""
    while states[state]["Type"] == "Choice":
        choice = states[state]
        state = choice["Default"]
        for rule in choice["Choices"]:
            path = rule["Variable"].removeprefix("$.").replace("[0]", ".0").split(".")
            value = document
            for key in path:
                value = value[int(key)] if key.isdigit() else value.get(key) if value else None
            if ("IsPresent" in rule and (value is not None) == rule["IsPresent"]) or (
                "NumericEquals" in rule and value == rule["NumericEquals"]
            ):
                state = rule["Next"]
                break
    return state


def _stopped(exit_code: int | None) -> dict:
    """States.TaskFailed as a .sync run reports a stopped task: its description as the cause."""
    container = {"Name": "importer", "LastStatus": "STOPPED"}
    if exit_code is not None:
        container["ExitCode"] = exit_code
    task = {"Containers": [container], "StopCode": "EssentialContainerExited"}
    return {"Error": "States.TaskFailed", "Cause": json.dumps(task)}


@pytest.mark.parametrize(
    ("exit_code", "end"),
    [
        (75, "ImporterBusy"),
        (1, "ImportRejected"),
        (143, "ImportRejected"),
        (None, "ImportRejected"),
    ],
)
def test_a_busy_importer_is_retried_with_backoff_and_any_other_failure_fails(t, exit_code, end):
    """Exit 75 (another import held the lock all the while) becomes the branch's error
    ImporterBusy, which the Parallel state retries with backoff; a rejection (1), a stop (143)
    or a task that never ran (no exit code) fails the execution."""
    states = _branch(t)
    assert _after_a_stop(states, _stopped(exit_code)) == end
    assert states[end]["Type"] == "Fail"
    workflow = props(t, "ImportWorkflow")["Definition"]["States"]["Import"]
    assert workflow["Type"] == "Parallel" and workflow["End"] is True
    assert workflow["Retry"] == [
        {
            "ErrorEquals": ["ImporterBusy"],
            "IntervalSeconds": 60,
            "BackoffRate": 2.0,
            "MaxAttempts": 4,
        }
    ]
    assert import_job.BUSY_EXIT_CODE == EXIT_BUSY


@pytest.mark.parametrize(
    ("exit_code", "end"),
    [(0, "Imported"), (75, "ImporterBusy"), (1, "ImportRejected"), (None, "ImportRejected")],
)
def test_an_exit_code_that_does_not_fail_the_task_is_read_the_same_way(t, exit_code, end):
    """Should a stopped task's non-zero exit leave the .sync state succeeded, with the task's
    description its output, the same codes lead to the same ends."""
    states = _branch(t)
    run = states["RunImporter"]
    task = json.loads(_stopped(exit_code)["Cause"])
    assert run["ResultPath"] == "$.stopped"
    assert _through_choices(states, run["Next"], {"stopped": task}) == end


def test_ecs_waits_a_minute_for_the_importer_to_stop(t):
    """SIGTERM, then SIGKILL after StopTimeout: the importer ends its run within 10 s."""
    (importer,) = props(t, "ImportTaskDefinition")["ContainerDefinitions"]
    assert importer["StopTimeout"] == 60
    assert 10 < importer["StopTimeout"] <= 120  # Fargate's maximum


def test_workflow_role_runs_only_this_task_on_this_cluster(t):
    statements = {tuple(s["Action"]): s for s in _statements(t, "ImportWorkflowRole")}
    run = statements[("ecs:RunTask",)]
    assert run["Resource"] == [ref("ImportTaskDefinition")]
    assert run["Condition"] == {"StringEquals": {"ecs:cluster": getatt("JobsCluster", "Arn")}}
    passed = statements[("iam:PassRole",)]
    assert passed["Resource"] == [
        getatt("ImportExecutionRole", "Arn"),
        getatt("ImportTaskRole", "Arn"),
    ]
    assert passed["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }


def test_only_a_releases_manifest_starts_the_import(t):
    rule = props(t, "ImportRule")
    assert rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [ref("RetrosheetBucket")]},
            "object": {"key": [{"wildcard": "releases/*/SHA256SUMS"}]},
        },
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == ref("ImportWorkflow")
    assert json.loads(
        target["InputTransformer"]["InputTemplate"].replace("<bucket>", "b").replace("<key>", "k")
    ) == {"bucket": "b", "key": "k"}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 24, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": getatt("ImportDeadLetterQueue", "Arn")}
    assert props(t, "RetrosheetBucket")["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }


def test_dead_letters_are_encrypted_and_only_the_rule_may_send(t):
    queue = props(t, "ImportDeadLetterQueue")
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    (statement,) = props(t, "ImportDeadLetterQueuePolicy")["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": ["events.amazonaws.com"]}
    assert statement["Action"] == ["sqs:SendMessage"]
    assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == {
        "Fn::Sub": f"arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:rule/{import_job.NAME}"
    }


def test_failed_and_unstarted_imports_page(t):
    failed = props(t, "ImportFailedAlarm")
    (expression,) = [m for m in failed["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "executionsfailed + executionstimedout + executionsaborted"
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in failed["Metrics"] if "MetricStat" in m} == {
        "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted",
    }  # fmt: skip
    not_started = props(t, "ImportNotStartedAlarm")
    assert not_started["MetricName"] == "ApproximateNumberOfMessagesVisible"
    for alarm in (failed, not_started):
        assert alarm["AlarmActions"] == alarm["OKActions"] == [ref("AlarmTopicArn")]
        assert alarm["Threshold"] == 1 and alarm["TreatMissingData"] == "notBreaching"
        assert "docs/game-data.md" in failed["AlarmDescription"]


def test_every_root_provided_parameter_value_passes_the_stacks_constraints(t, parameter_files):
    # RetainStatefulResources, EnvironmentName, JobsImageTag, ImportCpu, ImportMemory,
    # ImageArchitecture, JobsLogRetentionDays per environment.
    assert root_provided_values_checked(t, parameter_files) == 3 * 8


def test_the_workflows_command_is_one_the_importer_and_its_image_accept():
    """The contract between the workflow and the jobs image: the command the state machine
    builds (its intrinsic functions applied by hand) parses with the importer's own
    arguments, and the CA bundle is where jobs/Dockerfile puts it."""
    import argparse

    from retrosheet_importer.cli import add_arguments

    command = [
        "s3://bucket/releases/2023/SHA256SUMS",
        "--database-secret-arn",
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:migration-AbCdEf",
        "--tls",
        "--tls-ca",
        import_job.RDS_CA_BUNDLE,
    ]
    (branch,) = import_job._definition()["States"]["Import"]["Branches"]
    expression = branch["States"]["RunImporter"]["Parameters"]["Overrides"]["ContainerOverrides"][
        0
    ]["Command.$"]
    for argument in command[1:]:
        if not argument.startswith("arn:"):
            assert f"'{argument}'" in expression, argument
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(command)
    assert (args.source, args.tls, args.tls_ca) == (command[0], True, import_job.RDS_CA_BUNDLE)
    dockerfile = (REPO_ROOT / "jobs" / "Dockerfile").read_text()
    assert import_job.RDS_CA_BUNDLE in dockerfile
    assert 'ENTRYPOINT ["python", "-m", "retrosheet_importer"]' in dockerfile


def test_migration_task_runs_the_release_script_with_the_four_database_secrets(t):
    """ECS cannot override the entry point at RunTask: the migration's own definition has sh,
    and `playback-infra migrate` gives the command (scripts/release.sh: grants as the master
    user at the instance, then the migrations as the migration user)."""
    p, imported = props(t, "MigrationTaskDefinition"), props(t, "ImportTaskDefinition")
    for key in ("Cpu", "Memory", "RuntimePlatform", "ExecutionRoleArn", "Volumes"):
        assert p[key] == imported[key]
    assert p["TaskRoleArn"] == getatt("MigrationTaskRole", "Arn")
    (container,) = p["ContainerDefinitions"]
    (importer,) = imported["ContainerDefinitions"]
    assert container["EntryPoint"] == ["sh"] and "Command" not in container
    assert container["Image"] == importer["Image"] and container["ReadonlyRootFilesystem"]
    assert {e["Name"]: e["Value"] for e in container["Environment"]} == {
        "AWS_REGION": ref("AWS::Region"),
        "DB_MASTER_SECRET_ARN": ref("DatabaseMasterSecretArn"),
        "DB_MIGRATION_SECRET_ARN": ref("DatabaseMigrationSecretArn"),
        "DB_APP_SECRET_ARN": ref("DatabaseAppSecretArn"),
        "DB_REPORTING_SECRET_ARN": ref("DatabaseReportingSecretArn"),
        "DB_INSTANCE_HOST": ref("DatabaseInstanceHost"),
        "DB_SSL": "true",
    }


def test_only_the_database_step_may_read_the_master_secret(t):
    readable = {
        role: json.dumps(
            [
                s["Resource"]
                for p in props(t, role)["Policies"]
                for s in p["PolicyDocument"]["Statement"]
            ]
        )
        for role in ("ImportTaskRole", "MigrationTaskRole")
    }
    assert "DatabaseMasterSecretArn" in readable["MigrationTaskRole"]
    assert "DatabaseMasterSecretArn" not in readable["ImportTaskRole"]


def test_migration_outputs(t):
    p = props(t, "MigrationTaskDefinition")
    (container,) = p["ContainerDefinitions"]
    assert container["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "migrate"
    outputs = {k: v["Value"] for k, v in t["Outputs"].items()}
    assert outputs["MigrationTaskDefinitionArn"] == ref("MigrationTaskDefinition")
    assert outputs["MigrationContainerName"] == container["Name"] == "migrate"
    assert outputs["JobsClusterName"] == ref("JobsCluster")
    assert outputs["JobsLogGroupName"] == ref("ImportLogGroup")
