"""A new OpenAI key redeploys the backend (stacks/app/secret_redeploy.py): the event matched,
the workflow's one call, and each role allowed exactly that. The emulator test
(tests/integration) runs the whole path from put-secret-value to a new ECS deployment."""

from __future__ import annotations

import pytest

from playback_infra.stacks import app
from tests.stacks.helpers import getatt, props, ref

NAME = "baseball-playback-${EnvironmentName}-openai-key-redeploy"


@pytest.fixture(scope="module")
def t() -> dict:
    return app.build().to_dict()


def test_the_rule_matches_only_the_backends_secrets_new_current_versions(t):
    """The OpenAI key, and the database user's secret: a rotation moves AWSCURRENT to the other
    user, and running tasks keep the password they started with until they are replaced."""
    p = props(t, "KeyRedeployRule")
    assert p["EventPattern"] == {
        "source": ["aws.secretsmanager"],
        "detail-type": ["Secret Label Updated"],
        "resources": [ref("OpenAiApiKeySecret"), ref("DatabaseAppSecretArn")],
        "detail": {"labelUpdated": ["AWSCURRENT"]},
    }
    assert p["State"] == "ENABLED"
    assert p["Targets"] == [
        {
            "Id": "redeploy",
            "Arn": ref("KeyRedeployWorkflow"),
            "RoleArn": getatt("KeyRedeployRuleRole", "Arn"),
        }
    ]


def test_the_workflow_forces_a_new_deployment_of_this_service(t):
    p = props(t, "KeyRedeployWorkflow")
    assert p["StateMachineType"] == "STANDARD"  # execution history kept 90 days
    assert p["RoleArn"] == getatt("KeyRedeployWorkflowRole", "Arn")
    (step,) = p["Definition"]["States"].values()
    assert step["Resource"] == "arn:aws:states:::aws-sdk:ecs:updateService"
    assert step["Parameters"] == {
        "Cluster": "${Cluster}",
        "Service": "${Service}",
        "ForceNewDeployment": True,
    }
    assert p["DefinitionSubstitutions"] == {"Cluster": ref("Cluster"), "Service": ref("Service")}
    (retry,) = step["Retry"]
    assert retry["MaxAttempts"] == 3 and retry["JitterStrategy"] == "FULL"


@pytest.mark.parametrize(
    ("role", "service", "source", "action", "resource"),
    [
        ("KeyRedeployWorkflowRole", "states.amazonaws.com", "stateMachine", "ecs:UpdateService",
         ref("Service")),
        ("KeyRedeployRuleRole", "events.amazonaws.com", "rule", "states:StartExecution",
         ref("KeyRedeployWorkflow")),
    ],
)  # fmt: skip
def test_each_role_does_one_thing_for_its_own_caller(t, role, service, source, action, resource):
    p = props(t, role)
    (trust,) = p["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": [service]}
    arn = trust["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
    assert arn.endswith(f":{source}:{NAME}" if source == "stateMachine" else f":{source}/{NAME}")
    (policy,) = p["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == [action]
    assert statement["Resource"] == [resource]


def test_names_are_the_ones_the_trust_policies_name(t):
    assert props(t, "KeyRedeployRule")["Name"] == {"Fn::Sub": NAME}
    assert props(t, "KeyRedeployWorkflow")["StateMachineName"] == {"Fn::Sub": NAME}


def test_a_failed_redeploy_pages(t):
    p = props(t, "KeyRedeployFailedAlarm")
    assert (p["Namespace"], p["MetricName"]) == ("AWS/States", "ExecutionsFailed")
    assert p["Dimensions"] == [{"Name": "StateMachineArn", "Value": ref("KeyRedeployWorkflow")}]
    assert (p["Statistic"], p["Threshold"], p["ComparisonOperator"]) == (
        "Sum", 1, "GreaterThanOrEqualToThreshold")  # fmt: skip
    assert p["AlarmActions"] == [ref("AlarmTopicArn")] == p["OKActions"]
    assert "force-new-deployment" in p["AlarmDescription"]
