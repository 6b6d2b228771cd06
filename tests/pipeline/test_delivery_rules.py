"""The delivery commands' decisions on AWS's own answers, which the emulator does not give:
nested change sets (plan, release-image), a container's exit code (migrate); and
publish-site's naming, typing and invalidation rules."""

from __future__ import annotations

import pytest

from playback_infra.checks import replacement
from playback_infra.deploy import nested_changes, with_static_answers
from playback_infra.migrate import COMMAND, run_task_request, verdict
from playback_infra.publish_site import (
    IMMUTABLE,
    REVALIDATE,
    File,
    content_type,
    hashed,
    invalidation_paths,
)
from playback_infra.release import APP_STACK, consumers_of, refusals
from playback_infra.synth import render


def _change(logical_id, resource_type, action="Modify", replacement="False", **extra) -> dict:
    return {
        "ResourceChange": {
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "Action": action,
            "Replacement": replacement,
            **extra,
        }
    }


class NestedChangeSets:
    """CloudFormation's DescribeChangeSet for nested change sets, by id."""

    def __init__(self, by_id: dict[str, dict]):
        self.by_id = by_id

    def describe_change_set(self, ChangeSetName: str) -> dict:
        return self.by_id[ChangeSetName]


def test_plan_refuses_what_aws_says_replaces_a_stateful_resource():
    root = {"Changes": [_change("DataStack", "AWS::CloudFormation::Stack", ChangeSetId="cs-data"),
                        _change("AppStack", "AWS::CloudFormation::Stack", ChangeSetId="cs-app")]}  # fmt: skip
    nested = NestedChangeSets({
        "cs-data": {"Changes": [
            _change("DatabaseInstance", "AWS::RDS::DBInstance", replacement="True",
                    Details=[{"Target": {"Name": "DBInstanceIdentifier"}}]),
            _change("DatabaseAlarm", "AWS::CloudWatch::Alarm", replacement="True"),
        ]},
        "cs-app": {"Changes": [_change("AppLogGroup", "AWS::Logs::LogGroup", action="Remove")]},
    })  # fmt: skip
    changes = nested_changes(nested, root, "prod")
    assert [(c.stack, c.logical_id, c.action) for c in changes] == [
        ("data", "DatabaseInstance", "replace"),
        ("data", "DatabaseAlarm", "replace"),
        ("app", "AppLogGroup", "delete"),
    ]
    refused = replacement.forbidden(changes, [])
    assert [m.split(".")[0] for m in refused] == [
        "prod data: DatabaseInstance (AWS::RDS::DBInstance): replace, DBInstanceIdentifier",
        "prod app: AppLogGroup (AWS::Logs::LogGroup): delete",
    ]


def test_the_codes_comparison_decides_what_aws_calls_conditional_and_details_a_bare_stack():
    """AWS says only "Conditional" for a DB instance whose backup retention changes: the
    conditional table decides it (an update); the emulator's root change set names a nested
    stack without its change set: the code's comparison gives that stack's resources."""
    root = {"Changes": [_change("DataStack", "AWS::CloudFormation::Stack", ChangeSetId="cs-data"),
                        _change("SecurityStack", "AWS::CloudFormation::Stack", replacement="Conditional")]}  # fmt: skip
    nested = NestedChangeSets({"cs-data": {"Changes": [
        _change("DatabaseInstance", "AWS::RDS::DBInstance", replacement="Conditional",
                Details=[{"Target": {"Name": "BackupRetentionPeriod"}}]),
        _change("DatabaseErrorLogGroup", "AWS::Logs::LogGroup", replacement="Conditional"),
    ]}})  # fmt: skip
    retention = replacement.PropertyChange(
        "BackupRetentionPeriod", "1", "7", "update", "Update requires: Some interruptions"
    )
    static = [
        replacement.Change("data", "DatabaseInstance", "AWS::RDS::DBInstance", "update", (retention,), "prod"),
        replacement.Change("security", "FlowLogGroup", "AWS::Logs::LogGroup", "update", (), "prod"),
    ]  # fmt: skip
    told = with_static_answers(nested_changes(nested, root, "prod"), static)
    assert [(c.stack, c.logical_id, c.action) for c in told] == [
        ("data", "DatabaseInstance", "update"),
        (
            "data",
            "DatabaseErrorLogGroup",
            "may replace",
        ),  # the code saw no change: AWS's answer stays
        ("security", "FlowLogGroup", "update"),
    ]
    assert told[0].properties == (retention,)
    (refused,) = replacement.forbidden(told, [])
    assert refused.startswith("prod data: DatabaseErrorLogGroup (AWS::Logs::LogGroup): may replace")


@pytest.fixture(scope="module")
def consumers() -> set[str]:
    return consumers_of(render().templates["root"].to_dict(), APP_STACK)


def test_the_observability_stack_takes_app_outputs(consumers):
    assert consumers == {"ObservabilityStack"}


def test_a_release_may_replace_the_task_definition_and_update_the_service(consumers):
    root = {"Changes": [
        _change(APP_STACK, "AWS::CloudFormation::Stack", ChangeSetId="app"),
        _change("ObservabilityStack", "AWS::CloudFormation::Stack", ChangeSetId="obs"),
    ]}  # fmt: skip
    nested = {
        APP_STACK: {"Changes": [
            _change("TaskDefinition", "AWS::ECS::TaskDefinition", replacement="True"),
            _change("Service", "AWS::ECS::Service"),
        ]},
        "ObservabilityStack": {"Changes": [
            _change("Dashboard", "AWS::CloudWatch::Dashboard",
                    Details=[{"Evaluation": "Dynamic", "ChangeSource": "ParameterReference"}]),
        ]},
    }  # fmt: skip
    assert refusals(root, nested, consumers) == []
    # The emulator's shape: no nested change sets at all.
    assert refusals(root, {}, consumers) == []


def test_a_release_refuses_anything_else(consumers):
    root = {"Changes": [
        _change(APP_STACK, "AWS::CloudFormation::Stack", ChangeSetId="app"),
        _change("ObservabilityStack", "AWS::CloudFormation::Stack", ChangeSetId="obs"),
        _change("DataStack", "AWS::CloudFormation::Stack"),
    ]}  # fmt: skip
    nested = {
        APP_STACK: {"Changes": [
            _change("TaskDefinition", "AWS::ECS::TaskDefinition", replacement="True"),
            _change("AppLogGroup", "AWS::Logs::LogGroup", replacement="True"),
        ]},
        "ObservabilityStack": {"Changes": [
            _change("Dashboard", "AWS::CloudWatch::Dashboard",
                    Details=[{"Evaluation": "Static", "ChangeSource": "DirectModification"}]),
        ]},
    }  # fmt: skip
    assert refusals(root, nested, consumers) == [
        "AppStack: Modify AppLogGroup (AWS::Logs::LogGroup)",
        "ObservabilityStack: Modify Dashboard (AWS::CloudWatch::Dashboard)",
        "root: Modify DataStack (AWS::CloudFormation::Stack)",
    ]


OUTPUTS = {
    "JobsClusterName": "jobs",
    "MigrationTaskDefinitionArn": "arn:aws:ecs:eu-west-1:1:task-definition/migrate:3",
    "MigrationContainerName": "migrate",
    "JobsLogGroupName": "/jobs",
    "PrivateAppSubnetIds": "subnet-a,subnet-b",
    "JobsSecurityGroupId": "sg-1",
}


def test_migrate_runs_the_release_script_in_the_private_subnets_without_a_public_address():
    request = run_task_request(OUTPUTS)
    assert request["taskDefinition"] == OUTPUTS["MigrationTaskDefinitionArn"]
    assert request["overrides"] == {
        "containerOverrides": [{"name": "migrate", "command": ["scripts/release.sh"]}]
    }
    assert COMMAND == ["scripts/release.sh"]  # after the definition's entry point, sh
    assert request["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": ["subnet-a", "subnet-b"],
        "securityGroups": ["sg-1"],
        "assignPublicIp": "DISABLED",
    }


@pytest.mark.parametrize(
    ("task", "code", "sentence"),
    [
        ({"lastStatus": "STOPPED", "containers": [{"name": "migrate", "exitCode": 0}]},
         0, "migrations applied"),
        ({"lastStatus": "STOPPED", "containers": [{"name": "migrate", "exitCode": 1}]},
         1, "the container exited with 1"),
        ({"lastStatus": "STOPPED", "stoppedReason": "Essential container in task exited",
          "containers": [{"name": "migrate", "reason": "CannotPullContainerError: no such tag"}]},
         1, "did not run: Essential container in task exited CannotPullContainerError"),
        ({"lastStatus": "RUNNING", "containers": [{"name": "migrate"}]},
         1, "no result in time"),
    ],
)  # fmt: skip
def test_migrate_passes_only_on_exit_code_0(task, code, sentence):
    assert verdict(task, "migrate")[0] == code
    assert sentence in verdict(task, "migrate")[1]


@pytest.mark.parametrize(
    ("key", "is_hashed"),
    [
        ("assets/index-BQ3xNm9q.js", True),  # Vite
        ("static/js/main.3f2a9c1e.js", True),  # webpack / CRA
        ("assets/logo.a1b2c3d4e5.svg", True),
        ("index.html", False),
        ("config.json", False),
        ("favicon.ico", False),
        ("assets/react-dom.production.js", False),  # a word, not a hash
        ("robots.txt", False),
    ],
)
def test_hashed_names(key, is_hashed):
    assert hashed(key) is is_hashed
    assert File(key, b"").cache_control == (IMMUTABLE if is_hashed else REVALIDATE)


def test_content_types():
    assert content_type("index.html") == "text/html; charset=utf-8"
    assert content_type("a/app.js") == "text/javascript; charset=utf-8"
    assert content_type("config.json") == "application/json; charset=utf-8"
    assert content_type("logo.svg") == "image/svg+xml; charset=utf-8"
    assert content_type("font.woff2") == "font/woff2"
    assert content_type("photo.png") == "image/png"
    assert content_type("blob.unknownext") == "application/octet-stream"


def test_invalidation_only_for_changed_non_hashed_paths():
    assert invalidation_paths(["assets/index-BQ3xNm9q.js"]) == []
    assert invalidation_paths(["config.json", "assets/index-BQ3xNm9q.js"]) == ["/config.json"]
    assert invalidation_paths(["index.html", "favicon.ico"]) == ["/", "/favicon.ico", "/index.html"]
