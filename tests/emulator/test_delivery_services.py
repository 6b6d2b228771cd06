"""The delivery services the plugin adds (emulator/delivery_services.py): the pipeline stack's
five types created, read back through boto3, updated and deleted; the pipelines CodePipeline
refuses refused; ministack's own CodeBuild and ECR calls still answered.

One emulator serves the module; each test deploys its own stack or names its own resources.
"""

from __future__ import annotations

import copy
import json

import pytest
from botocore.exceptions import ClientError

from conftest import REGION, client, deploy, failure_reasons, new_stack_name, update, wait_stack

pytestmark = pytest.mark.emulator

ROLE = "arn:aws:iam::000000000000:role/pipeline"
CONNECTION = "arn:aws:codeconnections:us-east-1:000000000000:connection/0"


def _action(name, category, provider, *, inputs=(), outputs=(), run_order=None, **extra):
    action = {
        "name": name,
        "actionTypeId": {"category": category, "owner": "AWS", "provider": provider,
                         "version": "1"},
        "configuration": {"ProjectName": "build"} if category == "Build" else {},
        "inputArtifacts": [{"name": i} for i in inputs],
        "outputArtifacts": [{"name": o} for o in outputs],
        **extra,
    }  # fmt: skip
    if run_order is not None:
        action["runOrder"] = run_order
    return action


def declaration(name: str) -> dict:
    """A V2 pipeline CodePipeline accepts: a triggered source, a build, an approved deploy."""
    return {
        "name": name,
        "roleArn": ROLE,
        "artifactStore": {"type": "S3", "location": "artifacts"},
        "pipelineType": "V2",
        "executionMode": "SUPERSEDED",
        "stages": [
            {"name": "Source", "actions": [
                _action("App", "Source", "CodeStarSourceConnection", outputs=["App"])]},
            {"name": "Build", "actions": [
                _action("Build", "Build", "CodeBuild", inputs=["App"], outputs=["Built"])]},
            {"name": "Prod", "actions": [
                _action("Approve", "Approval", "Manual", run_order=1),
                _action("Deploy", "Build", "CodeBuild", inputs=["Built"], run_order=2)]},
        ],
        "triggers": [{"providerType": "CodeStarSourceConnection",
                      "gitConfiguration": {"sourceActionName": "App"}}],
    }  # fmt: skip


def _stages(pipeline: dict) -> dict:
    return {s["name"]: s for s in pipeline["stages"]}


def _repeat_a_stage_name(p):
    _stages(p)["Prod"]["name"] = "Build"


def _trigger_a_missing_source(p):
    p["triggers"][0]["gitConfiguration"]["sourceActionName"] = "Missing"


def _approve_in_the_source_stage(p):
    _stages(p)["Source"]["actions"].append(_action("Approve", "Approval", "Manual"))


def _source_in_a_later_stage(p):
    _stages(p)["Build"]["actions"].append(
        _action("Late", "Source", "CodeStarSourceConnection", outputs=["Late"])
    )


def _consume_an_artifact_made_later(p):
    _stages(p)["Build"]["actions"][0]["inputArtifacts"] = [{"name": "Built"}]


def _consume_an_artifact_made_alongside(p):
    _stages(p)["Prod"]["actions"][0] = _action("Test", "Build", "CodeBuild", outputs=["Tested"])
    _stages(p)["Prod"]["actions"][1]["inputArtifacts"] = [{"name": "Tested"}]
    _stages(p)["Prod"]["actions"][1]["runOrder"] = 1


def _repeat_an_output_artifact(p):
    _stages(p)["Build"]["actions"][0]["outputArtifacts"] = [{"name": "App"}]


def _one_stage_only(p):
    p["stages"] = p["stages"][:1]


def _both_artifact_store_forms(p):
    p["artifactStores"] = {REGION: p["artifactStore"]}


def _act_in_a_region_without_a_store(p):
    _stages(p)["Prod"]["actions"][1]["region"] = "us-west-2"


REFUSED = [
    (_repeat_a_stage_name, "stage names in a pipeline must be unique"),
    (_trigger_a_missing_source, "names a source action the pipeline lacks"),
    (_approve_in_the_source_stage, "can contain source actions only"),
    (_source_in_a_later_stage, "Only the first stage of a pipeline can contain source actions"),
    (_consume_an_artifact_made_later, "not an output of a preceding action"),
    (_consume_an_artifact_made_alongside, "not an output of a preceding action"),
    (_repeat_an_output_artifact, "Output artifact names must be unique"),
    (_one_stage_only, "at least two stages"),
    (_both_artifact_store_forms, "either artifactStore or artifactStores"),
    (_act_in_a_region_without_a_store, "cross-region pipeline uses artifactStores"),
]


def test_a_valid_pipeline_is_created_and_read_back_as_declared(aws):
    pipeline = declaration("valid")
    created = aws("codepipeline").create_pipeline(pipeline=pipeline)["pipeline"]
    answer = aws("codepipeline").get_pipeline(name="valid")
    expected = copy.deepcopy(pipeline)
    for action in (a for s in expected["stages"] for a in s["actions"]):
        action.setdefault("runOrder", 1)  # as the API fills it in
    assert created == answer["pipeline"] == {**expected, "version": 1}
    assert answer["metadata"]["pipelineArn"] == f"arn:aws:codepipeline:{REGION}:000000000000:valid"


@pytest.mark.parametrize(("change", "reason"), REFUSED, ids=[c.__name__ for c, _ in REFUSED])
def test_a_pipeline_codepipeline_refuses_is_refused(aws, change, reason):
    pipeline = declaration(f"refused{change.__name__}")
    change(pipeline)
    with pytest.raises(ClientError, match=reason) as refused:
        aws("codepipeline").create_pipeline(pipeline=pipeline)
    assert refused.value.response["Error"]["Code"] == "InvalidStructureException"
    with pytest.raises(ClientError, match="PipelineNotFoundException"):
        aws("codepipeline").get_pipeline(name=pipeline["name"])


def test_a_cross_region_pipeline_needs_a_store_in_each_region(aws):
    pipeline = declaration("cross-region")
    store = pipeline.pop("artifactStore")
    _act_in_a_region_without_a_store(pipeline)
    pipeline["artifactStores"] = {REGION: store}
    with pytest.raises(ClientError, match=r"No artifact store in \['us-west-2'\]"):
        aws("codepipeline").create_pipeline(pipeline=pipeline)
    pipeline["artifactStores"]["us-west-2"] = {"type": "S3", "location": "artifacts-west"}
    created = aws("codepipeline").create_pipeline(pipeline=pipeline)["pipeline"]
    assert set(created["artifactStores"]) == {REGION, "us-west-2"}


def test_an_update_bumps_the_version_and_a_taken_name_is_refused(aws):
    codepipeline = aws("codepipeline")
    pipeline = declaration("updated")
    codepipeline.create_pipeline(pipeline=pipeline)
    with pytest.raises(ClientError, match="PipelineNameInUseException"):
        codepipeline.create_pipeline(pipeline=pipeline)
    pipeline["executionMode"] = "QUEUED"
    assert codepipeline.update_pipeline(pipeline=pipeline)["pipeline"]["version"] == 2
    assert codepipeline.get_pipeline(name="updated")["pipeline"]["executionMode"] == "QUEUED"
    _repeat_a_stage_name(pipeline)
    with pytest.raises(ClientError, match="InvalidStructureException"):
        codepipeline.update_pipeline(pipeline=pipeline)
    assert codepipeline.get_pipeline(name="updated")["pipeline"]["version"] == 2


def _template_action(name, category, provider, configuration, **properties) -> dict:
    type_id = {"Category": category, "Owner": "AWS", "Provider": provider, "Version": "1"}
    return {"Name": name, "ActionTypeId": type_id, "Configuration": configuration, **properties}


def delivery_template(*, pipeline_name="stack-pipeline", branch="main", topic="first",
                      export="NO_EXPORT", destination="222222222222") -> str:  # fmt: skip
    """The five types as the pipeline stack declares them; the keywords are what tests change.
    The rule's and the report group's names derive from the pipeline's."""
    source = _template_action(
        "App", "Source", "CodeStarSourceConnection",
        {"ConnectionArn": {"Ref": "Connection"}, "BranchName": branch,
         "FullRepositoryId": "octo/app", "DetectChanges": "false"},
        OutputArtifacts=[{"Name": "App"}], Namespace="AppSource",
    )  # fmt: skip
    variables = [{"name": "COMMIT", "value": "#{AppSource.CommitId}", "type": "PLAINTEXT"}]
    build = _template_action(
        "Build", "Build", "CodeBuild",
        {"ProjectName": "build", "EnvironmentVariables": json.dumps(variables)},
        InputArtifacts=[{"Name": "App"}], RunOrder=2, Region="us-west-2",
    )  # fmt: skip
    approve = _template_action("Approve", "Approval", "Manual", {"CustomData": "Release?"})
    store = {"Type": "S3", "Location": "artifacts"}
    resources = {
        "Connection": {
            "Type": "AWS::CodeConnections::Connection",
            "Properties": {"ConnectionName": "repositories", "ProviderType": "GitHub"},
        },
        "Pipeline": {
            "Type": "AWS::CodePipeline::Pipeline",
            "Properties": {
                "Name": pipeline_name,
                "PipelineType": "V2",
                "ExecutionMode": "SUPERSEDED",
                "RestartExecutionOnUpdate": True,
                "RoleArn": ROLE,
                "ArtifactStores": [
                    {"Region": REGION, "ArtifactStore": store},
                    {"Region": "us-west-2", "ArtifactStore": {**store, "Location": "west"}},
                ],
                "Stages": [
                    {"Name": "Source", "Actions": [source]},
                    {
                        "Name": "Prod",
                        "Actions": [approve, build],
                        "OnFailure": {"Result": "ROLLBACK"},
                    },
                ],
                "Triggers": [
                    {
                        "ProviderType": "CodeStarSourceConnection",
                        "GitConfiguration": {
                            "SourceActionName": "App",
                            "Push": [{"Branches": {"Includes": [branch]}}],
                        },
                    }
                ],
            },
        },
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": topic}},
        "Notifications": {
            "Type": "AWS::CodeStarNotifications::NotificationRule",
            "Properties": {
                "Name": f"{pipeline_name}-failures",
                "DetailType": "FULL",
                "EventTypeIds": ["codepipeline-pipeline-pipeline-execution-failed"],
                "Resource": {
                    "Fn::Sub": "arn:${AWS::Partition}:codepipeline:${AWS::Region}:"
                    "${AWS::AccountId}:${Pipeline}"
                },
                "Targets": [{"TargetType": "SNS", "TargetAddress": {"Ref": "Topic"}}],
                "Tags": {"Component": "delivery"},
            },
        },
        "Reports": {
            "Type": "AWS::CodeBuild::ReportGroup",
            "Properties": {
                "Name": f"{pipeline_name}-pytest",
                "Type": "TEST",
                "DeleteReports": True,
                "ExportConfig": {
                    "ExportConfigType": export,
                    **(
                        {"S3Destination": {"Bucket": "reports", "Packaging": "NONE"}}
                        if export == "S3"
                        else {}
                    ),
                },
                "Tags": [{"Key": "Component", "Value": "delivery"}],
            },
        },
        "Replication": {
            "Type": "AWS::ECR::ReplicationConfiguration",
            "Properties": {
                "ReplicationConfiguration": {
                    "Rules": [
                        {
                            "Destinations": [{"Region": REGION, "RegistryId": destination}],
                            "RepositoryFilters": [{"Filter": "app/", "FilterType": "PREFIX_MATCH"}],
                        }
                    ]
                }
            },
        },
    }
    outputs = {
        "PipelineName": {"Value": {"Ref": "Pipeline"}},
        "PipelineVersion": {"Value": {"Fn::GetAtt": ["Pipeline", "Version"]}},
        "ConnectionArn": {"Value": {"Ref": "Connection"}},
        "ConnectionStatus": {"Value": {"Fn::GetAtt": ["Connection", "ConnectionStatus"]}},
        "RuleArn": {"Value": {"Ref": "Notifications"}},
        "ReportsArn": {"Value": {"Ref": "Reports"}},
        "ReportsName": {"Value": {"Fn::GetAtt": ["Reports", "Name"]}},
        "RegistryId": {"Value": {"Ref": "Replication"}},
    }
    return json.dumps({"Resources": resources, "Outputs": outputs})


@pytest.fixture(scope="module")
def created(cfn):
    """The delivery stack, created once; its id and outputs."""
    return deploy(cfn, delivery_template())


def test_the_pipeline_reads_back_as_cloudformation_declared_it(aws, created):
    _, outputs = created
    answer = aws("codepipeline").get_pipeline(name=outputs["PipelineName"])
    pipeline = answer["pipeline"]
    assert (pipeline["name"], pipeline["version"], outputs["PipelineVersion"]) == (
        "stack-pipeline", 1, "1"
    )  # fmt: skip
    assert "restartExecutionOnUpdate" not in pipeline  # CloudFormation's, not the pipeline's
    assert pipeline["artifactStores"] == {
        REGION: {"type": "S3", "location": "artifacts"},
        "us-west-2": {"type": "S3", "location": "west"},
    }
    source, prod = pipeline["stages"]
    (app,) = source["actions"]
    assert app["configuration"] == {
        "ConnectionArn": outputs["ConnectionArn"],
        "BranchName": "main",
        "FullRepositoryId": "octo/app",
        "DetectChanges": "false",
    }
    assert (app["runOrder"], app["namespace"], app["outputArtifacts"]) == (
        1, "AppSource", [{"name": "App"}]
    )  # fmt: skip
    approve, build = prod["actions"]
    assert (approve["runOrder"], build["runOrder"], build["region"]) == (1, 2, "us-west-2")
    assert json.loads(build["configuration"]["EnvironmentVariables"])[0]["value"] == (
        "#{AppSource.CommitId}"
    )
    assert prod["onFailure"] == {"result": "ROLLBACK"}
    assert pipeline["triggers"] == [
        {"providerType": "CodeStarSourceConnection",
         "gitConfiguration": {"sourceActionName": "App", "push": [
             {"branches": {"includes": ["main"]}}]}}
    ]  # fmt: skip


def test_the_connection_waits_for_its_handshake(aws, created):
    _, outputs = created
    connection = aws("codeconnections").get_connection(ConnectionArn=outputs["ConnectionArn"])
    assert connection["Connection"] == {
        "ConnectionName": "repositories",
        "ConnectionArn": outputs["ConnectionArn"],
        "ProviderType": "GitHub",
        "OwnerAccountId": "000000000000",
        "ConnectionStatus": "PENDING",
    }
    assert outputs["ConnectionStatus"] == "PENDING"


def test_the_notification_rule_reads_back(aws, created):
    _, outputs = created
    rule = aws("codestar-notifications").describe_notification_rule(Arn=outputs["RuleArn"])
    assert rule["Resource"] == f"arn:aws:codepipeline:{REGION}:000000000000:stack-pipeline"
    assert [e["EventTypeId"] for e in rule["EventTypes"]] == [
        "codepipeline-pipeline-pipeline-execution-failed"
    ]
    (target,) = rule["Targets"]
    assert target["TargetAddress"].endswith(":first")
    assert (rule["Name"], rule["DetailType"], rule["Tags"]) == (
        "stack-pipeline-failures", "FULL", {"Component": "delivery"}
    )  # fmt: skip
    assert rule["CreatedTimestamp"] <= rule["LastModifiedTimestamp"]


def test_the_report_group_and_the_replication_read_back(aws, created):
    _, outputs = created
    groups = aws("codebuild").batch_get_report_groups(reportGroupArns=[outputs["ReportsArn"]])
    (group,) = groups["reportGroups"]
    name = "stack-pipeline-pytest"
    assert outputs["ReportsArn"] == f"arn:aws:codebuild:{REGION}:000000000000:report-group/{name}"
    assert (group["name"], outputs["ReportsName"], group["type"]) == (name, name, "TEST")
    assert group["exportConfig"] == {"exportConfigType": "NO_EXPORT"}
    assert group["tags"] == [{"key": "Component", "value": "delivery"}]
    registry = aws("ecr").describe_registry()
    assert registry["registryId"] == outputs["RegistryId"] == "000000000000"
    assert registry["replicationConfiguration"]["rules"] == [
        {"destinations": [{"region": REGION, "registryId": "222222222222"}],
         "repositoryFilters": [{"filter": "app/", "filterType": "PREFIX_MATCH"}]}
    ]  # fmt: skip


def test_ministack_codebuild_and_ecr_still_answer_their_own_calls(aws):
    codebuild = aws("codebuild")
    codebuild.create_project(
        name="own-project",
        source={"type": "NO_SOURCE", "buildspec": "version: 0.2"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_SMALL"},
        serviceRole=ROLE,
    )  # fmt: skip
    assert [p["name"] for p in codebuild.batch_get_projects(names=["own-project"])["projects"]] == [
        "own-project"
    ]
    aws("ecr").create_repository(repositoryName="own-repository")
    (repository,) = aws("ecr").describe_repositories(repositoryNames=["own-repository"])[
        "repositories"
    ]
    assert repository["repositoryName"] == "own-repository"


def test_taken_names_are_refused(aws, created):
    _, outputs = created
    with pytest.raises(ClientError, match="ResourceAlreadyExistsException"):
        aws("codebuild").create_report_group(
            name="stack-pipeline-pytest",
            type="TEST",
            exportConfig={"exportConfigType": "NO_EXPORT"},
        )
    rule = aws("codestar-notifications").describe_notification_rule(Arn=outputs["RuleArn"])
    with pytest.raises(ClientError, match="ResourceAlreadyExistsException"):
        aws("codestar-notifications").create_notification_rule(
            Name=rule["Name"],
            EventTypeIds=["codepipeline-pipeline-pipeline-execution-failed"],
            Resource=rule["Resource"],
            Targets=[{"TargetType": "SNS", "TargetAddress": rule["Targets"][0]["TargetAddress"]}],
            DetailType="BASIC",
        )


@pytest.fixture(scope="module")
def west(endpoint):
    """Clients in another region, for the stacks whose image replication (one per registry, so
    per account and region) would overwrite that of the module's stack."""
    return lambda service: client(service, endpoint, "us-west-2")


def test_a_template_with_a_refused_pipeline_fails_its_stack(west):
    cfn = west("cloudformation")
    template = json.loads(delivery_template(pipeline_name="refused-by-cloudformation"))
    stages = template["Resources"]["Pipeline"]["Properties"]["Stages"]
    stages[1]["Name"] = "Source"
    stack_id = cfn.create_stack(StackName=new_stack_name(), TemplateBody=json.dumps(template))[
        "StackId"
    ]
    assert wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")["StackStatus"] != "CREATE_COMPLETE"
    assert any(
        "stage names in a pipeline must be unique" in r for r in failure_reasons(cfn, stack_id)
    )


def test_update_changes_in_place_and_replaces_a_renamed_pipeline(west):
    aws, cfn = west, west("cloudformation")
    stack_id, first = deploy(cfn, delivery_template(pipeline_name="to-rename"))
    outputs = update(
        cfn,
        stack_id,
        delivery_template(pipeline_name="to-rename", branch="release", topic="second",
                          export="S3", destination="333333333333"),
    )  # fmt: skip
    pipeline = aws("codepipeline").get_pipeline(name="to-rename")["pipeline"]
    assert (pipeline["version"], outputs["PipelineVersion"]) == (2, "2")
    assert pipeline["stages"][0]["actions"][0]["configuration"]["BranchName"] == "release"
    rule = aws("codestar-notifications").describe_notification_rule(Arn=outputs["RuleArn"])
    assert outputs["RuleArn"] == first["RuleArn"]
    assert rule["Targets"][0]["TargetAddress"].endswith(":second")
    (group,) = aws("codebuild").batch_get_report_groups(reportGroupArns=[outputs["ReportsArn"]])[
        "reportGroups"
    ]
    assert group["exportConfig"] == {
        "exportConfigType": "S3",
        "s3Destination": {"bucket": "reports", "packaging": "NONE"},
    }
    assert outputs["ConnectionArn"] == first["ConnectionArn"]
    (replication,) = aws("ecr").describe_registry()["replicationConfiguration"]["rules"]
    assert replication["destinations"] == [{"region": REGION, "registryId": "333333333333"}]

    renamed = update(
        cfn, stack_id, delivery_template(pipeline_name="renamed", destination="333333333333")
    )
    assert renamed["PipelineName"] == "renamed"
    assert aws("codepipeline").get_pipeline(name="renamed")["pipeline"]["version"] == 1
    with pytest.raises(ClientError, match="PipelineNotFoundException"):
        aws("codepipeline").get_pipeline(name="to-rename")
    rule = aws("codestar-notifications").describe_notification_rule(Arn=renamed["RuleArn"])
    assert rule["Resource"].endswith(":renamed")  # its create-only Resource changed: replaced

    cfn.delete_stack(StackName=stack_id)
    assert wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="PipelineNotFoundException"):
        aws("codepipeline").get_pipeline(name="renamed")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        aws("codeconnections").get_connection(ConnectionArn=renamed["ConnectionArn"])
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        aws("codestar-notifications").describe_notification_rule(Arn=renamed["RuleArn"])
    gone = aws("codebuild").batch_get_report_groups(reportGroupArns=[renamed["ReportsArn"]])
    assert gone["reportGroupsNotFound"] == [renamed["ReportsArn"]]
    assert aws("ecr").describe_registry()["replicationConfiguration"] == {"rules": []}
