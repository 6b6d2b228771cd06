"""The pipeline stack (stacks/pipeline/): three CodePipeline V2 pipelines, their roles."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from playback_infra.environments.catalog import delivery, environments
from playback_infra.environments.delivery import define_delivery
from playback_infra.environments.model import ConfigError
from playback_infra.parts.delivery import BUILDSPECS
from playback_infra.stacks import pipeline
from tests.stacks.helpers import props, resources_of_type

ENVS = environments()


@pytest.fixture(scope="module")
def t() -> dict:
    return pipeline.build().to_dict()


def _stages(t: dict, title: str) -> list[dict]:
    return props(t, title)["Stages"]


def _actions(stage: dict) -> dict[str, dict]:
    return {a["Name"]: a for a in stage["Actions"]}


def _variables(action: dict) -> dict[str, str]:
    listed = action["Configuration"]["EnvironmentVariables"]
    listed = listed["Fn::Sub"] if isinstance(listed, dict) else listed
    return {v["name"]: v["value"] for v in json.loads(listed)}


def _statements(t: dict, role: str) -> list[dict]:
    return [s for p in props(t, role)["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_infra_stages_in_order_self_update_before_any_environment(t):
    names = [s["Name"] for s in _stages(t, "InfraPipeline")]
    assert names == ["Source", "Build", "UpdatePipeline", "Dev", "Staging", "Prod"]


def test_pipelines_are_v2_and_never_run_two_executions_in_a_stage(t):
    for title in ("InfraPipeline", "BackendPipeline", "FrontendPipeline"):
        p = props(t, title)
        assert (p["PipelineType"], p["ExecutionMode"]) == ("V2", "SUPERSEDED")


def test_self_update_targets_this_stack_and_restarts_on_a_new_definition(t):
    p = props(t, "InfraPipeline")
    assert p["RestartExecutionOnUpdate"] is True
    stage = _actions(_stages(t, "InfraPipeline")[2])
    update = stage["SelfUpdate"]
    assert update["Configuration"]["StackName"] == {"Ref": "AWS::StackName"}
    assert update["Configuration"]["TemplatePath"] == "Build::templates/pipeline.yaml"
    assert (
        update["Configuration"]["TemplateConfiguration"]
        == "Build::parameters/delivery/pipeline.json"
    )
    assert update["Configuration"]["RoleArn"] == {"Fn::GetAtt": ["SelfUpdateRole", "Arn"]}
    restart = stage["RestartIfChanged"]
    assert restart["RunOrder"] > update.get("RunOrder", 1)
    assert _variables(restart)["PIPELINE_NAME"] == p["Name"]


def test_the_build_runs_the_readme_commands_and_reports_junit(t):
    spec = yaml.safe_load(props(t, "InfraBuildProject")["Source"]["BuildSpec"])
    commands = [c for phase in spec["phases"].values() for c in phase.get("commands", [])]
    assert any("make synth" in c for c in commands)
    assert any("make test" in c for c in commands)
    report = props(t, "InfraBuildReports")
    assert report["Name"] == f"{props(t, 'InfraBuildProject')['Name']}-pytest"
    assert set(spec["reports"]) == {"pytest"}


@pytest.mark.parametrize("env", ENVS, ids=lambda e: e.name)
def test_each_environment_stage_plans_before_it_applies(t, env):
    stage = next(s for s in _stages(t, "InfraPipeline") if s["Name"] == env.name.capitalize())
    actions = _actions(stage)
    order = {name: a.get("RunOrder", 1) for name, a in actions.items()}
    assert order["EdgeGlobal"] < order["Plan"] < order["Apply"] < order["Migrate"] < order["Smoke"]
    edge = actions["EdgeGlobal"]["Configuration"]
    assert edge["StackName"] == f"{env.stack_name}-edge-global"
    assert edge["TemplateConfiguration"] == f"Build::parameters/edge-global/{env.name}.json"
    plan = _variables(actions["Plan"])
    assert plan["ENVIRONMENT"] == env.name
    assert env.account_id in plan["DEPLOY_ROLE_ARN"]
    assert plan["SITE_CERTIFICATE_ARN"] == f"#{{Edge{stage['Name']}.SiteCertificateArn}}"
    apply = _variables(actions["Apply"])
    assert apply["CHANGE_SET_NAME"] == f"#{{Plan{stage['Name']}.CHANGE_SET_NAME}}"
    if env.kind.value == "production":
        assert order["Plan"] < order["Approve"] < order["Apply"]
        link = actions["Approve"]["Configuration"]["ExternalEntityLink"]
        assert link == f"#{{Plan{stage['Name']}.CHANGE_SET_URL}}"
    else:
        assert "Approve" not in actions


@pytest.mark.parametrize("title", ["BackendPipeline", "FrontendPipeline"])
def test_release_pipelines_approve_prod_and_roll_back_a_failed_stage(t, title):
    stages = {s["Name"]: s for s in _stages(t, title)}
    assert list(stages)[:2] == ["Source", "Build"]
    for env in ENVS:
        stage = stages[env.name.capitalize()]
        assert stage["OnFailure"] == {"Result": "ROLLBACK"}
        actions = _actions(stage)
        if env.kind.value == "production":
            first = min(a.get("RunOrder", 1) for n, a in actions.items() if n != "Approve")
            assert actions["Approve"]["RunOrder"] < first
        else:
            assert "Approve" not in actions


def test_backend_migrates_before_it_releases_the_built_image(t):
    for env in ENVS:
        stage = next(s for s in _stages(t, "BackendPipeline") if s["Name"] == env.name.capitalize())
        actions = _actions(stage)
        assert actions["Migrate"]["RunOrder"] < actions["Release"]["RunOrder"]
        assert _variables(actions["Release"])["IMAGE_TAG"] == "#{Image.IMAGE_TAG}"


def test_only_the_released_repository_triggers_its_pipeline(t):
    for title, source in (("BackendPipeline", "Backend"), ("FrontendPipeline", "Frontend")):
        p = props(t, title)
        assert [tr["GitConfiguration"]["SourceActionName"] for tr in p["Triggers"]] == [source]
        infra = _actions(p["Stages"][0])["Infra"]
        assert infra["Configuration"]["DetectChanges"] == "false"
    infra_push = props(t, "InfraPipeline")["Triggers"][0]["GitConfiguration"]["Push"][0]
    assert "docs/**" not in infra_push["FilePaths"]["Includes"]
    assert "troposphere_src/**" in infra_push["FilePaths"]["Includes"]


def test_every_project_runs_its_buildspec_from_pipeline_dir(t):
    for name, project in resources_of_type(t, "AWS::CodeBuild::Project").items():
        spec = project["Properties"]["Source"]["BuildSpec"]
        assert spec in {p.read_text() for p in BUILDSPECS.glob("*.yml")}, name
        assert yaml.safe_load(spec)["version"] == 0.2


def test_only_image_builds_run_privileged(t):
    privileged = {
        name
        for name, p in resources_of_type(t, "AWS::CodeBuild::Project").items()
        if p["Properties"]["Environment"]["PrivilegedMode"]
    }
    assert privileged == {"JobsImageProject", "BackendImageProject"}


def test_roles_are_named_for_the_registry_and_the_target_accounts_trust(t):
    for name, role in resources_of_type(t, "AWS::IAM::Role").items():
        assert role["Properties"]["RoleName"].startswith("baseball-playback-pipeline-"), name


def test_no_pipeline_role_may_change_an_environment_itself(t):
    """Environments change only through their account's deploy role (assumed) and the
    execution role it passes to CloudFormation: no role here names an environment stack."""
    for role in resources_of_type(t, "AWS::IAM::Role"):
        for statement in _statements(t, role):
            text = json.dumps(statement["Resource"])
            for env in ENVS:
                assert f"stack/{env.stack_name}" not in text, (role, statement["Sid"])
            if "sts:AssumeRole" in statement["Action"]:
                assert all(
                    "baseball-playback-pipeline-deploy" in json.dumps(r)
                    for r in statement["Resource"]
                )


def test_service_roles_trust_their_services_with_source_conditions_only_where_sent(t):
    """CloudFormation documents no aws:SourceArn/aws:SourceAccount for a stack's service role
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html):
    the self-update role trusts it without; CodeBuild and CodePipeline keep theirs."""
    trusts = {
        name: role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        for name, role in resources_of_type(t, "AWS::IAM::Role").items()
    }
    (self_update,) = trusts.pop("SelfUpdateRole")
    assert self_update["Principal"] == {"Service": ["cloudformation.amazonaws.com"]}
    assert "Condition" not in self_update
    for name, (trust,) in trusts.items():
        assert trust["Condition"]["StringEquals"]["aws:SourceAccount"], name


def test_self_update_role_passes_only_pipeline_roles_to_codebuild_and_codepipeline(t):
    passing = [s for s in _statements(t, "SelfUpdateRole") if "iam:PassRole" in s["Action"]]
    assert [s["Sid"] for s in passing] == ["PassRoles"]
    assert json.dumps(passing[0]["Resource"]).count("role/baseball-playback-pipeline-*") == 1
    services = passing[0]["Condition"]["StringEquals"]["iam:PassedToService"]
    assert sorted(services) == ["codebuild.amazonaws.com", "codepipeline.amazonaws.com"]


def test_the_infrastructure_build_clones_for_the_git_history_it_checks(t):
    source = _actions(_stages(t, "InfraPipeline")[0])["Source"]
    assert source["Configuration"]["OutputArtifactFormat"] == "CODEBUILD_CLONE_REF"
    clone = next(
        s for s in _statements(t, "InfraBuildRole") if s["Sid"] == "CloneThroughConnection"
    )
    assert "codeconnections:UseConnection" in clone["Action"]


def test_failures_and_approvals_are_mailed(t):
    rules = resources_of_type(t, "AWS::CodeStarNotifications::NotificationRule")
    assert len(rules) == 3
    for rule in rules.values():
        assert set(rule["Properties"]["EventTypeIds"]) == set(pipeline.NOTIFIED_EVENTS)
        assert rule["Properties"]["Targets"] == [
            {"TargetType": "SNS", "TargetAddress": {"Ref": "NotificationTopic"}}
        ]
    assert props(t, "NotificationEmailSubscription")["Endpoint"] == {"Ref": "NotificationEmail"}


def test_artifact_store_is_encrypted_retained_and_readable_by_environment_accounts(t):
    bucket = t["Resources"]["ArtifactBucket"]
    assert bucket["DeletionPolicy"] == "Retain"
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    policy = props(t, "ArtifactBucketPolicy")["PolicyDocument"]["Statement"]
    read = next(s for s in policy if s["Sid"] == "EnvironmentAccountsRead")
    accounts = json.dumps(read["Principal"])
    assert all(env.account_id in accounts for env in ENVS)
    assert read["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]


def test_images_replicate_to_the_other_accounts_only(t):
    rule = props(t, "ImageReplication")["ReplicationConfiguration"]["Rules"][0]
    here = (delivery().account_id, delivery().region)
    wanted = {(e.account_id, e.region) for e in ENVS} - {here}
    assert {(d["RegistryId"], d["Region"]) for d in rule["Destinations"]} == wanted


def test_a_pipeline_outside_us_east_1_gets_an_artifact_store_there():
    away = dataclasses.replace(delivery(), region="eu-west-1")
    t = pipeline.pipeline_template(away, ENVS).to_dict()
    stores = props(t, "InfraPipeline")["ArtifactStores"]
    assert sorted(s["Region"] for s in stores) == ["eu-west-1", "us-east-1"]
    dev = _actions(_stages(t, "InfraPipeline")[3])
    assert dev["EdgeGlobal"]["Region"] == "us-east-1"
    assert "baseball-playback-pipeline-deploy" in json.dumps(dev["EdgeGlobal"]["RoleArn"])


def test_same_region_pipeline_has_one_store_and_no_region_on_actions(t):
    p = props(t, "InfraPipeline")
    assert "ArtifactStores" not in p and "ArtifactStore" in p
    assert all("Region" not in a for s in p["Stages"] for a in s["Actions"])


def test_parameter_file_matches_the_template(t):
    given = pipeline.parameter_file(delivery())["Parameters"]
    assert set(given) == set(t["Parameters"])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("account_id", "12345", "12-digit"),
        ("region", "mars-1", "use one of"),
        ("backend_repository", "no-slash", "owner/name"),
        ("connection_arn", "arn:aws:s3:::x", "connection ARN"),
        ("notification_email", "nobody", "email"),
    ],
)
def test_bad_delivery_fields_are_named_with_the_fix(field, value, message):
    given = {**dataclasses.asdict(delivery()), field: value}
    with pytest.raises(ConfigError) as error:
        define_delivery(ENVS, **given)
    assert f"'{field}'" in str(error.value) and message in str(error.value)


def test_unknown_delivery_field_is_refused():
    with pytest.raises(ConfigError, match="unknown field"):
        define_delivery(ENVS, **dataclasses.asdict(delivery()), colour="blue")


def test_every_environments_alarm_address_hears_of_failures(t):
    endpoints = [
        p["Properties"]["Endpoint"] for p in resources_of_type(t, "AWS::SNS::Subscription").values()
    ]
    assert {env.alarm_email for env in ENVS} <= {e for e in endpoints if isinstance(e, str)}
    assert {"Ref": "NotificationEmail"} in endpoints


def test_only_the_environments_deploy_roles_write_artifacts(t):
    """`plan` packages the nested templates into the artifact bucket as the deploy role."""
    policy = props(t, "ArtifactBucketPolicy")["PolicyDocument"]["Statement"]
    write = next(s for s in policy if s["Sid"] == "EnvironmentDeployRolesWrite")
    assert write["Action"] == ["s3:PutObject"]
    writers = json.dumps(write["Condition"])
    assert "pipeline-deploy" in writers and "cfn-exec" not in writers
    key = props(t, "ArtifactKey")["KeyPolicy"]["Statement"]
    generate = next(s for s in key if s["Sid"] == "EnvironmentDeployRolesWrite")
    assert generate["Action"] == ["kms:GenerateDataKey"]
    assert "cfn-exec" not in json.dumps(generate["Condition"])
