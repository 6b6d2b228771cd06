"""The Retrosheet import job, part of the game-data stack.

A release is uploaded under `releases/<season>/` in the raw-data bucket, its `SHA256SUMS`
manifest last. That upload (S3 `Object Created` on EventBridge) starts a Step Functions
workflow that runs the importer (the jobs image, `python -m retrosheet_importer`) as a Fargate
task on the jobs cluster, in the private-app subnets with the jobs security group, and waits
for it: exit 75 (another import held the database's import lock for all of the importer's own
wait) is retried with backoff, any other non-zero exit fails the execution, and a failed,
timed-out or aborted execution pages. An event the rule could not deliver (after retries for an hour) lands in a dead-letter
queue, which pages too. The importer verifies the manifest, parses, validates and loads the
season in one transaction, as the migration user (its secret, read by the task role).
"""

from __future__ import annotations

from awacs import ecs, events, iam, sqs
from awacs.aws import Allow, Condition, Policy, Principal, Statement, StringEquals
from troposphere import GetAtt, Join, Ref, Sub, Template
from troposphere.cloudwatch import Metric as AlarmMetric
from troposphere.cloudwatch import MetricDataQuery, MetricDimension, MetricStat
from troposphere.ecs import (
    Cluster,
    ClusterSetting,
    ContainerDefinition,
    MountPoint,
    RuntimePlatform,
    TaskDefinition,
    Volume,
)
from troposphere.ecs import Environment as EnvironmentVariable
from troposphere.events import DeadLetterConfig, InputTransformer, RetryPolicy
from troposphere.logs import LogGroup
from troposphere.s3 import Bucket
from troposphere.sqs import Queue, QueuePolicy
from troposphere.stepfunctions import StateMachine

from playback_infra.parts import values
from playback_infra.parts.alarms import paging_alarm
from playback_infra.parts.ec2 import add_public_ip_condition, assign_public_ip
from playback_infra.parts.ecs import (
    awslogs,
    image_uri,
    pull_and_log,
    read_bucket,
    read_secrets,
    task_role,
)
from playback_infra.parts.names import IMPORT_WORKFLOW_NAME
from playback_infra.parts.suppress import suppress
from playback_infra.parts.template import logs_key_log_group
from playback_infra.parts.workflows import add_starting_rule, add_workflow, rule_arn

REPOSITORY = "baseball-playback/jobs"
CONTAINER = "importer"
MIGRATION_CONTAINER = "migrate"
MANIFEST = "SHA256SUMS"
RELEASES_PREFIX = "releases/"
NAME = IMPORT_WORKFLOW_NAME
# The RDS certificate authorities, put into the jobs image at build (jobs/Dockerfile).
RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem"
# A season imports in minutes; an hour means something is stuck.
TIMEOUT_SECONDS = 3600
# How long ECS waits after SIGTERM before SIGKILL (StopTask, the execution timed out or
# aborted). The importer stops its workers, rolls back and records the run within 10 s; this
# leaves room for a slow database. Fargate allows up to 120 s, default 30 s:
# https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/ecs/aws.sdk.kotlin.services.ecs.model/-container-definition/stop-timeout.html
STOP_TIMEOUT_SECONDS = 60
# The importer's "try again later" (retrosheet_importer.cli.EXIT_BUSY), and how the workflow
# tries again: 1, 2, 4 then 8 minutes later, each attempt waiting 10 minutes for the lock itself.
BUSY_EXIT_CODE = 75
BUSY_RETRY = {"IntervalSeconds": 60, "BackoffRate": 2.0, "MaxAttempts": 4}
# The rule retries delivering an upload's event for an hour before the dead-letter queue.
DELIVERY_RETRY = RetryPolicy(MaximumRetryAttempts=24, MaximumEventAgeInSeconds=3600)


def add_import_job(t: Template, bucket: Bucket) -> None:
    values.consume(
        t,
        values.ENVIRONMENT_NAME,
        values.PRIVATE_APP_SUBNET_IDS,
        values.JOBS_SECURITY_GROUP_ID,
        values.DATABASE_MIGRATION_SECRET_ARN,
        values.DATABASE_MASTER_SECRET_ARN,
        values.DATABASE_APP_SECRET_ARN,
        values.DATABASE_REPORTING_SECRET_ARN,
        values.DATABASE_INSTANCE_HOST,
        values.LOGS_KEY_ARN,
        values.ALARM_TOPIC_ARN,
        values.JOBS_IMAGE_TAG,
        values.IMPORT_CPU,
        values.IMPORT_MEMORY,
        values.IMAGE_ARCHITECTURE,
        values.JOBS_LOG_RETENTION_DAYS,
    )
    add_public_ip_condition(t)
    cluster = t.add_resource(
        Cluster(
            "JobsCluster",
            ClusterName=Sub(f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-jobs"),
            ClusterSettings=[ClusterSetting(Name="containerInsights", Value="enabled")],
        )
    )
    log_group = t.add_resource(logs_key_log_group("ImportLogGroup", values.JOBS_LOG_RETENTION_DAYS))
    task_definition = _add_task_definition(t, bucket, log_group)
    migration = _add_migration_task_definition(t, log_group)
    workflow = _add_workflow(t, cluster, task_definition)
    _add_trigger(t, bucket, workflow)
    values.produce(t, values.JOBS_CLUSTER_NAME, Ref(cluster))
    values.produce(t, values.MIGRATION_TASK_DEFINITION_ARN, Ref(migration))
    values.produce(t, values.MIGRATION_CONTAINER_NAME, MIGRATION_CONTAINER)
    values.produce(t, values.JOBS_LOG_GROUP_NAME, Ref(log_group))


def _add_task_definition(t: Template, bucket: Bucket, log_group: LogGroup) -> TaskDefinition:
    execution = t.add_resource(
        task_role(
            "ImportExecutionRole",
            "Starts the import task: pulls the jobs image, writes its logs",
            pull_and_log(REPOSITORY, GetAtt(log_group, "Arn")),
        )
    )
    task = t.add_resource(
        task_role(
            "ImportTaskRole",
            "The importer's AWS access: read the releases, read the migration user's secret",
            [
                *read_bucket(GetAtt(bucket, "Arn"), Ref(values.DATA_KEY_ARN)),
                *read_secrets(
                    [Ref(values.DATABASE_MIGRATION_SECRET_ARN)], Ref(values.DATA_KEY_ARN)
                ),
            ],
        )
    )
    return t.add_resource(
        _jobs_task_definition(
            "ImportTaskDefinition",
            Sub(NAME),
            GetAtt(execution, "Arn"),
            GetAtt(task, "Arn"),
            ContainerDefinition(
                Name=CONTAINER,
                Environment=[EnvironmentVariable(Name="TMPDIR", Value="/tmp")],
                StopTimeout=STOP_TIMEOUT_SECONDS,
                **_jobs_container(log_group, CONTAINER),
            ),
        )
    )


# The database step's secrets: the master user's (grants), the migration user's (migrations),
# and the app and reporting users' (their passwords, which the grants set).
RELEASE_SECRETS = {
    "DB_MASTER_SECRET_ARN": values.DATABASE_MASTER_SECRET_ARN,
    "DB_MIGRATION_SECRET_ARN": values.DATABASE_MIGRATION_SECRET_ARN,
    "DB_APP_SECRET_ARN": values.DATABASE_APP_SECRET_ARN,
    "DB_REPORTING_SECRET_ARN": values.DATABASE_REPORTING_SECRET_ARN,
}


def _add_migration_task_definition(t: Template, log_group: LogGroup) -> TaskDefinition:
    """The database step of a release from the same image: `scripts/release.sh` creates the
    schema, the users and their grants as the master user at the instance, then runs the Knex
    migrations as the migration user (database/scripts/release.sh).

    ECS cannot override a container's entry point at RunTask (ContainerOverride has a command,
    no entryPoint), and the image's entry point is the importer: this definition's is `sh`,
    and `playback-infra migrate` gives the command. Its task role, unlike the importer's, may
    read the master user's secret.
    """
    role = t.add_resource(
        task_role(
            "MigrationTaskRole",
            "The database step's AWS access: read the four database users' secrets",
            read_secrets(
                [Ref(name) for name in RELEASE_SECRETS.values()], Ref(values.DATA_KEY_ARN)
            ),
        )
    )
    return t.add_resource(
        _jobs_task_definition(
            "MigrationTaskDefinition",
            Sub(f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-{MIGRATION_CONTAINER}"),
            GetAtt("ImportExecutionRole", "Arn"),
            GetAtt(role, "Arn"),
            ContainerDefinition(
                Name=MIGRATION_CONTAINER,
                EntryPoint=["sh"],
                Environment=[
                    *(
                        EnvironmentVariable(Name=name, Value=Ref(value))
                        for name, value in RELEASE_SECRETS.items()
                    ),
                    EnvironmentVariable(
                        Name="DB_INSTANCE_HOST", Value=Ref(values.DATABASE_INSTANCE_HOST)
                    ),
                    EnvironmentVariable(Name="DB_SSL", Value="true"),
                ],
                **_jobs_container(log_group, MIGRATION_CONTAINER),
            ),
        )
    )


def _jobs_container(log_group: LogGroup, prefix: str) -> dict:
    """What the importer's and the migration's containers share: the jobs image, a read-only
    root filesystem with a writable /tmp, the region, logs under `prefix`."""
    return {
        "Image": image_uri(REPOSITORY, values.JOBS_IMAGE_TAG),
        "Essential": True,
        "ReadonlyRootFilesystem": True,  # the release and parsed files go to /tmp
        "MountPoints": [MountPoint(SourceVolume="tmp", ContainerPath="/tmp", ReadOnly=False)],
        "LogConfiguration": awslogs(log_group, prefix),
    }


def _jobs_task_definition(
    title: str, family: Sub, execution_arn: GetAtt, task_arn: GetAtt, container: ContainerDefinition
) -> TaskDefinition:
    """A Fargate task definition of the jobs image, on the environment's image architecture,
    with the import's size and roles."""
    container.Environment.insert(
        0, EnvironmentVariable(Name="AWS_REGION", Value=Ref("AWS::Region"))
    )
    return TaskDefinition(
        title,
        Family=family,
        Cpu=Ref(values.IMPORT_CPU),
        Memory=Ref(values.IMPORT_MEMORY),
        NetworkMode="awsvpc",
        RequiresCompatibilities=["FARGATE"],
        RuntimePlatform=RuntimePlatform(
            CpuArchitecture=Ref(values.IMAGE_ARCHITECTURE), OperatingSystemFamily="LINUX"
        ),
        ExecutionRoleArn=execution_arn,
        TaskRoleArn=task_arn,
        Volumes=[Volume(Name="tmp")],
        ContainerDefinitions=[container],
    )


def _definition() -> dict:
    """Run the importer on the uploaded manifest; retry it while the import lock is busy; fail
    unless it exits 0.

    A task that stops with a non-zero exit is taken to fail the .sync state with
    States.TaskFailed, the task's description (JSON) its cause; the ECS integration's page
    (https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html) does not say, so a
    state that succeeds puts the task where the failure path does. Retry matches error names only
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html), so the
    run is a Parallel state's one branch: the branch reads the exit code out of the cause
    (States.StringToJson,
    https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html) and fails as
    ImporterBusy on exit 75, which the Parallel state retries with backoff
    (https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html).
    """
    command = (
        "States.Array(States.Format('s3://{}/{}', $.bucket, $.key), "
        "'--database-secret-arn', '${Secret}', '--tls', '--tls-ca', '" + RDS_CA_BUNDLE + "')"
    )
    exit_code = "$.stopped.Containers[0].ExitCode"
    run = {
        "StartAt": "RunImporter",
        "States": {
            "RunImporter": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Parameters": {
                    "Cluster": "${Cluster}",
                    "TaskDefinition": "${TaskDefinition}",
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {
                        "AwsvpcConfiguration": {
                            "Subnets.$": "States.StringSplit('${Subnets}', ',')",
                            "SecurityGroups": ["${SecurityGroup}"],
                            "AssignPublicIp": "${AssignPublicIp}",
                        }
                    },
                    "Overrides": {
                        "ContainerOverrides": [{"Name": CONTAINER, "Command.$": command}]
                    },
                },
                "TimeoutSeconds": TIMEOUT_SECONDS,
                # Fargate capacity and throttling are worth a retry; the importer's own
                # failures are told by its exit code, below.
                "Retry": [
                    {
                        "ErrorEquals": ["ECS.AmazonECSException", "ECS.ThrottlingException"],
                        "IntervalSeconds": 30,
                        "MaxAttempts": 3,
                        "BackoffRate": 2.0,
                    }
                ],
                "Catch": [
                    {
                        "ErrorEquals": ["States.TaskFailed"],
                        "ResultPath": "$.failure",
                        "Next": "ReadStoppedTask",
                    }
                ],
                # Should a stopped task's exit code not fail the state, the task is its result:
                # read where the failure path puts it.
                "ResultPath": "$.stopped",
                "Next": "StoppedWithAnExitCode",
            },
            "ReadStoppedTask": {
                "Type": "Pass",
                "Parameters": {"stopped.$": "States.StringToJson($.failure.Cause)"},
                "Next": "StoppedWithAnExitCode",
            },
            "StoppedWithAnExitCode": {
                "Type": "Choice",
                "Choices": [{"Variable": exit_code, "IsPresent": True, "Next": "ImporterExitCode"}],
                "Default": "ImportRejected",
            },
            "ImporterExitCode": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": exit_code, "NumericEquals": 0, "Next": "Imported"},
                    {
                        "Variable": exit_code,
                        "NumericEquals": BUSY_EXIT_CODE,
                        "Next": "ImporterBusy",
                    },
                ],
                "Default": "ImportRejected",
            },
            "ImporterBusy": {
                "Type": "Fail",
                "Error": "ImporterBusy",
                "Cause": "Another import held the database's import lock all the while (exit 75)",
            },
            "Imported": {"Type": "Succeed"},
            "ImportRejected": {
                "Type": "Fail",
                "Error": "ImportRejected",
                "Cause": "The importer exited non-zero: its report is in the import log group",
            },
        },
    }
    return {
        "Comment": "Import one Retrosheet release into the database",
        "StartAt": "Import",
        "States": {
            "Import": {
                "Type": "Parallel",
                "Branches": [run],
                "Retry": [{"ErrorEquals": ["ImporterBusy"], **BUSY_RETRY}],
                "End": True,
            },
        },
    }


def _add_workflow(t: Template, cluster: Cluster, task_definition: TaskDefinition) -> StateMachine:
    task_arns = Sub(
        f"arn:${{AWS::Partition}}:ecs:${{AWS::Region}}:${{AWS::AccountId}}:task/${{{cluster.title}}}/*"
    )
    workflow = add_workflow(
        t,
        "ImportWorkflow",
        NAME,
        "Runs the import task on the jobs cluster and waits for it",
        "run-the-import-task",
        [
            Statement(
                Effect=Allow,
                Action=[ecs.RunTask],
                Resource=[Ref(task_definition)],
                Condition=Condition(StringEquals("ecs:cluster", GetAtt(cluster, "Arn"))),
            ),
            Statement(Effect=Allow, Action=[ecs.StopTask, ecs.DescribeTasks], Resource=[task_arns]),
            Statement(
                Effect=Allow,
                Action=[iam.PassRole],
                Resource=[GetAtt("ImportExecutionRole", "Arn"), GetAtt("ImportTaskRole", "Arn")],
                Condition=Condition(StringEquals("iam:PassedToService", "ecs-tasks.amazonaws.com")),
            ),
            # .sync learns that the task stopped from a rule Step Functions manages.
            Statement(
                Effect=Allow,
                Action=[events.PutTargets, events.PutRule, events.DescribeRule],
                Resource=[
                    Sub(
                        "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForECSTaskRule"
                    )
                ],
            ),
        ],
        Definition=_definition(),
        DefinitionSubstitutions={
            "Cluster": GetAtt(cluster, "Arn"),
            "TaskDefinition": Ref(task_definition),
            "Subnets": Join(",", Ref(values.PRIVATE_APP_SUBNET_IDS)),
            "SecurityGroup": Ref(values.JOBS_SECURITY_GROUP_ID),
            "AssignPublicIp": assign_public_ip(),
            "Secret": Ref(values.DATABASE_MIGRATION_SECRET_ARN),
        },
    )  # fmt: skip
    t.add_resource(
        paging_alarm(
            "ImportFailedAlarm",
            "A Retrosheet import failed, timed out or was aborted; the season in the database "
            "is the one before (the import is one transaction). Check the report in the import "
            "log group, fix the release, upload its SHA256SUMS again (docs/game-data.md).",
            Metrics=[
                MetricDataQuery(
                    Id=metric.lower(),
                    ReturnData=False,
                    MetricStat=MetricStat(
                        Metric=AlarmMetric(
                            Namespace="AWS/States",
                            MetricName=metric,
                            Dimensions=[MetricDimension(Name="StateMachineArn", Value=Ref(workflow))],
                        ),
                        Period=300,
                        Stat="Sum",
                    ),
                )
                for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
            ]
            + [
                MetricDataQuery(
                    Id="unfinished",
                    Expression="executionsfailed + executionstimedout + executionsaborted",
                    Label="Imports that did not finish",
                    ReturnData=True,
                )
            ],
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
        )
    )  # fmt: skip
    return workflow


def _add_trigger(t: Template, bucket: Bucket, workflow: StateMachine) -> None:
    dead_letters = Queue(
        "ImportDeadLetterQueue", SqsManagedSseEnabled=True, MessageRetentionPeriod=14 * 24 * 3600
    )
    suppress(dead_letters, {
        "CKV_AWS_27": "Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled), which the check does not know; its messages are S3 event metadata, and a customer key would have to admit EventBridge",
    })  # fmt: skip
    t.add_resource(dead_letters)
    t.add_resource(
        QueuePolicy(
            "ImportDeadLetterQueuePolicy",
            Queues=[Ref(dead_letters)],
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Effect=Allow,
                        Principal=Principal("Service", ["events.amazonaws.com"]),
                        Action=[sqs.SendMessage],
                        Resource=[GetAtt(dead_letters, "Arn")],
                        Condition=Condition(StringEquals("aws:SourceArn", rule_arn(NAME))),
                    )
                ],
            ),
        )
    )
    add_starting_rule(
        t,
        "ImportRule",
        NAME,
        "Lets an uploaded release's manifest start the import workflow",
        "start-the-import-workflow",
        workflow,
        "import",
        Description="A release's SHA256SUMS was uploaded: import the release",
        EventPattern={
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {
                "bucket": {"name": [Ref(bucket)]},
                "object": {"key": [{"wildcard": f"{RELEASES_PREFIX}*/{MANIFEST}"}]},
            },
        },
        target={
            "InputTransformer": InputTransformer(
                InputPathsMap={"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
                InputTemplate='{"bucket": "<bucket>", "key": "<key>"}',
            ),
            "RetryPolicy": DELIVERY_RETRY,
            "DeadLetterConfig": DeadLetterConfig(Arn=GetAtt(dead_letters, "Arn")),
        },
    )
    t.add_resource(
        paging_alarm(
            "ImportNotStartedAlarm",
            "An uploaded release could not start its import for an hour (the event is in the "
            "dead-letter queue). Check the rule's role and the workflow, then upload the "
            "release's SHA256SUMS again.",
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[MetricDimension(Name="QueueName", Value=GetAtt(dead_letters, "QueueName"))],
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
        )
    )  # fmt: skip
