"""A new deployment of the backend when a secret it reads changes, part of the app stack:
its OpenAI key, and its database user's secret (rotated every 30 days, alternating users).

ECS reads a task's secrets once, when the task starts: a new key or password reaches the
backend only through new tasks. Secrets Manager publishes `Secret Label Updated` to EventBridge
when AWSCURRENT moves to a new version (put-secret-value, update-secret, a rotation); a rule on
that event for these secrets starts a one-step Step Functions workflow that calls ECS
UpdateService with forceNewDeployment (EventBridge cannot call UpdateService itself). The
deployment then runs like any other: circuit breaker, alarm rollback or blue/green. After a
database rotation the tasks move to the other user within minutes, long before the next
rotation changes the password they started with.
"""

from __future__ import annotations

from awacs import ecs
from awacs.aws import Allow, Statement
from troposphere import Ref, Template
from troposphere.cloudwatch import MetricDimension
from troposphere.ecs import Cluster, Service
from troposphere.secretsmanager import Secret

from playback_infra.parts import values
from playback_infra.parts.alarms import paging_alarm
from playback_infra.parts.workflows import add_starting_rule, add_workflow

NAME = f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-openai-key-redeploy"
# UpdateService's transient failures (throttling, a deployment being set up) are retried.
RETRY = {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 5, "MaxAttempts": 3,
         "BackoffRate": 2.0, "JitterStrategy": "FULL"}  # fmt: skip


def add_redeploy_on_secret_change(
    t: Template, secrets: list[Secret | Ref], cluster: Cluster, service: Service
) -> None:
    workflow = add_workflow(
        t,
        "KeyRedeployWorkflow",
        NAME,
        "Starts a new deployment of the backend service when its OpenAI key or database secret changes",
        "update-the-backend-service",
        [Statement(Effect=Allow, Action=[ecs.UpdateService], Resource=[Ref(service)])],
        Definition={
            "Comment": "Force a new deployment of the backend: new tasks read the new secret",
            "StartAt": "ForceNewDeployment",
            "States": {
                "ForceNewDeployment": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:ecs:updateService",
                    "Parameters": {
                        "Cluster": "${Cluster}",
                        "Service": "${Service}",
                        "ForceNewDeployment": True,
                    },
                    "Retry": [RETRY],
                    "End": True,
                }
            },
        },
        DefinitionSubstitutions={"Cluster": Ref(cluster), "Service": Ref(service)},
    )
    add_starting_rule(
        t,
        "KeyRedeployRule",
        NAME,
        "Lets the key-change rule start the redeploy workflow",
        "start-the-redeploy-workflow",
        workflow,
        "redeploy",
        Description="A backend secret's AWSCURRENT version changed: redeploy the backend",
        EventPattern={
            "source": ["aws.secretsmanager"],
            "detail-type": ["Secret Label Updated"],
            "resources": [s if isinstance(s, Ref) else Ref(s) for s in secrets],
            "detail": {"labelUpdated": ["AWSCURRENT"]},
        },
    )
    t.add_resource(
        paging_alarm(
            "KeyRedeployFailedAlarm",
            "The OpenAI key or the database secret changed but the backend's redeploy failed: "
            "tasks still use the old one. Check the workflow's failed execution, then run "
            "`aws ecs update-service --force-new-deployment` (docs/openai-integration.md).",
            Namespace="AWS/States",
            MetricName="ExecutionsFailed",
            Dimensions=[MetricDimension(Name="StateMachineArn", Value=Ref(workflow))],
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
        )
    )
