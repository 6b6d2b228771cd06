"""The pipeline-target stack (stacks/pipeline_target/): the deploy and execution roles the
pipeline uses in an account that holds environments."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase

import pytest

from playback_infra import synth
from playback_infra.parts import authorization
from playback_infra.stacks import pipeline_target
from playback_infra.stacks.pipeline_target.execution_permissions import (
    ATTACHABLE_POLICIES,
    MANAGED_POLICIES_PER_ROLE,
    MANAGED_POLICY_CHARS,
    NAMED,
    NOT_IAM_ACTIONS,
    PASSED_TO,
    RESOURCE_TYPES,
    TABLE,
    TRANSFORM_TYPES,
    derived_table,
    handler_actions,
    handler_permissions,
    policy_size,
    table_path,
    table_text,
)
from tests.stacks.helpers import constraint_problems, getatt, props, resources_of_type

ACCOUNT, PIPELINE_ACCOUNT = "111122223333", "444455556666"
PARAMETERS = {
    "PipelineAccountId": PIPELINE_ACCOUNT,
    "ArtifactBucketNames": "baseball-playback-artifacts-444455556666-us-east-2,"
    "baseball-playback-artifacts-444455556666-us-east-1",
    "ArtifactKeyArns": "arn:aws:kms:us-east-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab,"
    "arn:aws:kms:us-east-1:444455556666:key/abcd1234-12ab-34cd-56ef-1234567890ab",
}
PSEUDO = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT}
# IAM's limit for all inline policies of one role, in characters without whitespace.
INLINE_CHARS_PER_ROLE = 10240
# The execution role deploys what the pipeline deploys: each environment's root (with its nested
# stacks) and edge-global. The once-per-account stacks (registry, dr-vault, account-baseline,
# pipeline-target) are deployed by hand, and the pipeline's own update themselves.
PIPELINE_DEPLOYED = {"root", "edge-global", *(name for name, _ in synth.NESTED.values())}


@pytest.fixture(scope="module")
def rendered() -> synth.Rendered:
    return synth.render()


@pytest.fixture(scope="module")
def t(rendered) -> dict:
    return rendered.templates["pipeline-target"].to_dict()


@pytest.fixture(scope="module")
def environment_templates(rendered) -> dict[str, dict]:
    return {
        name: template.to_dict()
        for name, template in rendered.templates.items()
        if name in PIPELINE_DEPLOYED
    }


def resolve(node):
    """A policy value as IAM receives it, for PARAMETERS in ACCOUNT: Ref, Fn::Sub (no variable
    map), Fn::Join and Fn::Split evaluated; other functions are kept, their arguments resolved."""
    if isinstance(node, list):
        return [resolve(item) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) != 1:
        return {key: resolve(value) for key, value in node.items()}
    [(function, argument)] = node.items()
    values = {**PSEUDO, **PARAMETERS}
    match function:
        case "Ref" if argument in values:
            value = values[argument]
            return value.split(",") if argument.startswith("Artifact") else value
        case "Fn::Sub" if isinstance(argument, str):
            return re.sub(r"\$\{([\w:]+)\}", lambda m: values.get(m[1], m[0]), argument)
        case "Fn::Join":
            return argument[0].join(resolve(argument[1]))
        case "Fn::Split":
            return resolve(argument[1]).split(argument[0])
    return {function: resolve(argument)}


def statements(t: dict, title: str) -> list[dict]:
    """Every statement of a role's inline policies, or of a managed policy."""
    p = props(t, title)
    if "PolicyDocument" in p:
        return p["PolicyDocument"]["Statement"]
    return [s for policy in p.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]


def by_sid(t: dict, title: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in statements(t, title)}


def execution_statements(t: dict) -> list[dict]:
    return [
        s for title in resources_of_type(t, "AWS::IAM::ManagedPolicy") for s in statements(t, title)
    ]


def granted(statements_: list[dict]) -> set[str]:
    return {a for s in statements_ if s["Effect"] == "Allow" for a in s["Action"]}


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# --- parameters ------------------------------------------------------------------------------


def test_parameters_are_validated_with_the_fix_in_their_message(t):
    assert set(t["Parameters"]) == set(PARAMETERS)
    for name, spec in t["Parameters"].items():
        assert spec["AllowedPattern"] and spec["ConstraintDescription"].startswith("must be"), name
    assert constraint_problems(t["Parameters"], PARAMETERS) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PipelineAccountId", "4444-5555-6666"),
        ("PipelineAccountId", "44445555666"),
        ("ArtifactBucketNames", "Artifacts_Bucket"),
        ("ArtifactBucketNames", "s3://baseball-playback-artifacts"),
        ("ArtifactKeyArns", "alias/baseball-playback/pipeline-artifacts"),
        ("ArtifactKeyArns", "1234abcd-12ab-34cd-56ef-1234567890ab"),
    ],
)
def test_parameters_refuse_what_would_not_work(t, name, value):
    assert constraint_problems(t["Parameters"], {name: value}) == [(name, value)]


# --- trust -----------------------------------------------------------------------------------


def test_only_the_pipeline_accounts_prefixed_roles_may_assume_the_deploy_role(t):
    role = props(t, "DeployRole")
    assert role["RoleName"] == "baseball-playback-pipeline-deploy"
    (trust,) = resolve(role["AssumeRolePolicyDocument"]["Statement"])
    assert trust["Effect"] == "Allow" and trust["Action"] == ["sts:AssumeRole"]
    assert resolve(trust["Principal"]) == {"AWS": [f"arn:aws:iam::{PIPELINE_ACCOUNT}:root"]}
    assert resolve(trust["Condition"]) == {
        "ArnLike": {
            "aws:PrincipalArn": f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/baseball-playback-pipeline-*"
        }
    }


def test_only_cloudformation_may_assume_the_execution_role_with_no_source_condition(t):
    """CloudFormation documents no aws:SourceArn/aws:SourceAccount for a service role
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html):
    a condition on them could fail every deploy. Only this account can pass the role."""
    role = props(t, "ExecutionRole")
    assert role["RoleName"] == "baseball-playback-pipeline-cfn-exec"
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["cloudformation.amazonaws.com"]}
    assert trust["Action"] == ["sts:AssumeRole"]
    assert "Condition" not in trust


def test_outputs_give_the_two_role_arns(t):
    assert {name: o["Value"] for name, o in t["Outputs"].items()} == {
        "DeployRoleArn": getatt("DeployRole", "Arn"),
        "ExecutionRoleArn": getatt("ExecutionRole", "Arn"),
    }


# --- least privilege -------------------------------------------------------------------------


def all_statements(t: dict) -> list[dict]:
    titles = [
        *resources_of_type(t, "AWS::IAM::Role"),
        *resources_of_type(t, "AWS::IAM::ManagedPolicy"),
    ]
    return [s for title in titles for s in statements(t, title)]


def test_every_statement_names_its_actions_without_wildcards(t):
    for statement in all_statements(t):
        assert "NotAction" not in statement and "NotResource" not in statement, statement["Sid"]
        assert all("*" not in action for action in statement["Action"]), statement["Sid"]


def test_any_resource_only_for_actions_without_resource_level_permissions(t):
    for statement in all_statements(t):
        if "*" in as_list(statement["Resource"]):
            assert statement["Resource"] == ["*"], statement["Sid"]
            assert all(authorization.only_on_any(a) for a in statement["Action"]), statement["Sid"]


def test_every_pass_role_names_the_service_it_passes_to(t):
    passing = [
        s for s in all_statements(t) if "iam:PassRole" in s["Action"] and s["Effect"] == "Allow"
    ]
    assert {s["Sid"] for s in passing} == {
        "PassExecutionRole",
        "PassJobRoles",
        "PassEnvironmentRoles",
    }
    for statement in passing:
        assert statement["Action"] == ["iam:PassRole"]
        assert set(statement["Condition"]) == {"StringEquals"}
        assert set(statement["Condition"]["StringEquals"]) == {"iam:PassedToService"}
    deploy = by_sid(t, "DeployRole")
    assert deploy["PassExecutionRole"]["Resource"] == [getatt("ExecutionRole", "Arn")]
    assert deploy["PassExecutionRole"]["Condition"]["StringEquals"] == {
        "iam:PassedToService": "cloudformation.amazonaws.com"
    }
    assert deploy["PassJobRoles"]["Condition"]["StringEquals"] == {
        "iam:PassedToService": "ecs-tasks.amazonaws.com"
    }


def test_the_execution_role_passes_roles_only_to_the_services_that_trust_them(
    environment_templates,
):
    trusted = {
        service
        for template in environment_templates.values()
        for role in resources_of_type(template, "AWS::IAM::Role").values()
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        for service in as_list(statement["Principal"].get("Service", []))
    }
    # The rotation functions' roles come from the Secrets Manager transform's nested stack.
    assert set(PASSED_TO) == trusted | {"lambda.amazonaws.com"}


# --- the deploy role ---------------------------------------------------------------------------


def test_the_deploy_role_deploys_the_projects_stacks_and_deletes_none(t):
    deploy = by_sid(t, "DeployRole")
    stacks = deploy["DeployStacks"]
    assert resolve(stacks["Resource"]) == [
        f"arn:aws:cloudformation:*:{ACCOUNT}:stack/baseball-playback-*/*"
    ]
    assert {"cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet",
            "cloudformation:CreateStack", "cloudformation:UpdateStack"} <= set(stacks["Action"])  # fmt: skip
    assert "cloudformation:DeleteStack" not in granted(statements(t, "DeployRole"))
    assert deploy["ValidateTemplates"] == {
        "Sid": "ValidateTemplates", "Effect": "Allow",
        "Action": ["cloudformation:ValidateTemplate"], "Resource": ["*"],
    }  # fmt: skip


def test_the_deploy_role_reads_and_writes_only_the_artifact_buckets_and_uses_their_keys(t):
    deploy = by_sid(t, "DeployRole")
    buckets = PARAMETERS["ArtifactBucketNames"].split(",")
    assert sorted(resolve(deploy["Artifacts"]["Resource"])) == sorted(
        [f"arn:*:s3:::{b}" for b in buckets] + [f"arn:*:s3:::{b}/*" for b in buckets]
    )
    assert "s3:PutObject" in deploy["Artifacts"]["Action"]
    assert resolve(deploy["ArtifactKeys"]["Resource"]) == PARAMETERS["ArtifactKeyArns"].split(",")
    assert set(deploy["ArtifactKeys"]["Action"]) == {
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKey",
    }


def test_the_deploy_role_runs_every_jobs_task_definition_on_the_jobs_cluster_only(t, rendered):
    game_data = rendered.templates["game-data"].to_dict()
    run = by_sid(t, "DeployRole")["RunJobs"]
    families = resolve(run["Resource"])
    for definition in resources_of_type(game_data, "AWS::ECS::TaskDefinition").values():
        family = resolve(definition["Properties"]["Family"]).replace("${EnvironmentName}", "dev")
        arn = f"arn:aws:ecs:us-east-2:{ACCOUNT}:task-definition/{family}:3"
        assert any(fnmatchcase(arn, f) for f in families), family
    (cluster,) = resources_of_type(game_data, "AWS::ECS::Cluster").values()
    name = cluster["Properties"]["ClusterName"]["Fn::Sub"].replace("${EnvironmentName}", "dev")
    pattern = resolve(run["Condition"]["ArnLike"]["ecs:cluster"])
    assert fnmatchcase(f"arn:aws:ecs:us-east-2:{ACCOUNT}:cluster/{name}", pattern)
    assert not fnmatchcase(
        f"arn:aws:ecs:us-east-2:{ACCOUNT}:cluster/baseball-playback-dev", pattern
    )


def test_the_deploy_role_reads_the_import_log_group_and_publishes_to_the_web_stack_only(
    t, rendered
):
    deploy = by_sid(t, "DeployRole")
    assert "ImportLogGroup" in resources_of_type(
        rendered.templates["game-data"].to_dict(), "AWS::Logs::LogGroup"
    )
    (group,) = resolve(deploy["ReadJobLogs"]["Resource"])
    generated = f"arn:aws:logs:us-east-2:{ACCOUNT}:log-group:baseball-playback-dev-GameDataStack-1AB2-ImportLogGroup-XY9"
    assert fnmatchcase(f"{generated}:log-stream:importer/importer/abc", group)
    assert not fnmatchcase(
        f"arn:aws:logs:us-east-2:{ACCOUNT}:log-group:baseball-playback-dev-AppStack-1-AppLogGroup-2",
        group,
    )
    assert "SiteBucket" in resources_of_type(rendered.templates["web"].to_dict(), "AWS::S3::Bucket")
    site, objects = resolve(deploy["PublishSite"]["Resource"])
    assert fnmatchcase(
        "arn:aws:s3:::baseball-playback-prod-webstack-1a2b3c-sitebucket-4d5e6f", site
    )
    assert not fnmatchcase(
        "arn:aws:s3:::baseball-playback-prod-gamedatastack-1a2b-gamedatabucket-3c", site
    )
    assert objects == f"{site}/*"


# --- the execution role ------------------------------------------------------------------------


def resource_types(templates: dict[str, dict]) -> set[str]:
    found = {r["Type"] for t in templates.values() for r in t["Resources"].values()}
    for t in templates.values():
        for transform in as_list(t.get("Transform", [])):
            found.update(TRANSFORM_TYPES.get(transform, ()))
    return found


def test_every_resource_type_of_the_environments_is_in_the_table(environment_templates):
    missing = resource_types(environment_templates) - set(RESOURCE_TYPES)
    assert not missing, (
        f"add {', '.join(sorted(missing))} to RESOURCE_TYPES in stacks/pipeline_target/execution_permissions.py "
        "(with the services its handlers list that our use of it never calls, if any)"
    )


def test_the_table_holds_no_type_the_environments_do_not_use(environment_templates):
    assert set(RESOURCE_TYPES) - resource_types(environment_templates) == set()


def test_the_execution_role_may_do_everything_the_handlers_of_every_type_do(t):
    allowed = granted(execution_statements(t))
    for resource_type in RESOURCE_TYPES:
        missing = handler_actions(resource_type) - NOT_IAM_ACTIONS - allowed
        assert not missing, (resource_type, sorted(missing))


def test_the_action_table_is_what_the_schemas_and_the_reference_give():
    assert TABLE.read_text() == table_text(derived_table()), (
        f"{table_path()} is stale: run `make synth` (playback-infra execution-actions)"
    )


def test_what_is_left_out_has_a_reason_and_is_listed_by_the_handlers():
    listed = {t: handler_permissions(t) for t in RESOURCE_TYPES}
    for resource_type, left_out in RESOURCE_TYPES.items():
        assert bool(left_out.names) == bool(left_out.why), resource_type
        for name in left_out.names:
            assert any(a == name or a.startswith(f"{name}:") for a in listed[resource_type]), (
                f"{resource_type}: its handlers list nothing of {name}; take it out of the table"
            )
    everywhere = set().union(*listed.values())
    for action in NOT_IAM_ACTIONS:
        assert action in everywhere and not authorization.is_known(action), action


def test_the_execution_role_is_scoped_to_this_account_and_named_resources(t):
    for statement in execution_statements(t):
        for resource in resolve(as_list(statement["Resource"])):
            if resource == "*":
                continue
            account = resource.split(":")[4]
            assert account in {ACCOUNT, "", "aws", "297356227824"}, (statement["Sid"], resource)
    iam_roles = {
        r
        for s in execution_statements(t)
        if "iam:CreateRole" in s["Action"]
        for r in resolve(s["Resource"])
    }
    assert iam_roles == {f"arn:aws:iam::{ACCOUNT}:role/baseball-playback-*"}


def named_log_groups(environment_templates) -> list[str]:
    """Every LogGroupName the environment templates set, for the dev environment."""
    stack = "baseball-playback-dev-IngressStack-1AB2CD"
    values = {"EnvironmentName": "dev", "DatabaseGeneration": "1", "AWS::StackName": stack}
    names = []
    for template in environment_templates.values():
        for group in resources_of_type(template, "AWS::Logs::LogGroup").values():
            name = group["Properties"].get("LogGroupName")
            if isinstance(name, dict) and "Fn::Sub" in name:
                names.append(re.sub(r"\$\{([\w:]+)\}", lambda m: values[m[1]], name["Fn::Sub"]))
    return names


def test_every_named_log_group_and_generated_name_matches_the_scoped_patterns(
    environment_templates,
):
    patterns = NAMED[("logs", "log-group")]
    names = named_log_groups(environment_templates)
    assert len(names) >= 4  # database (3 kinds), rotation (2), WAF
    generated = "baseball-playback-dev-AppStack-1AB2CD-AppLogGroup-3EF4"
    for name in [*names, generated]:
        assert any(fnmatchcase(f"log-group:{name}", p) for p in patterns), name


def test_the_execution_role_may_not_touch_the_pipelines_roles_or_its_artifact_buckets(t):
    guards = by_sid(t, "ExecutionRole")
    roles = guards["NotThePipelineRoles"]
    assert roles["Effect"] == "Deny"
    assert resolve(roles["Resource"]) == [
        f"arn:aws:iam::{ACCOUNT}:role/baseball-playback-pipeline-*"
    ]
    role_writes = {
        a for a in granted(execution_statements(t)) if a.startswith("iam:") and "Role" in a
    }
    assert role_writes - {"iam:ListRoles", "iam:CreateServiceLinkedRole"} <= set(roles["Action"])
    buckets = guards["NotTheArtifactBuckets"]
    assert buckets["Effect"] == "Deny"
    assert {"s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteObject"} <= set(buckets["Action"])
    assert not {"s3:GetObject", "s3:GetObjectVersion"} & set(buckets["Action"])
    assert len(resolve(buckets["Resource"])) == 2 * len(
        PARAMETERS["ArtifactBucketNames"].split(",")
    )


def test_the_execution_role_attaches_only_the_managed_policies_the_environments_use(
    t, environment_templates
):
    attached = {
        arn["Fn::Sub"]
        for template in environment_templates.values()
        for role in resources_of_type(template, "AWS::IAM::Role").values()
        for arn in role["Properties"].get("ManagedPolicyArns", [])
    }
    assert attached and attached <= set(ATTACHABLE_POLICIES)
    guard = by_sid(t, "ExecutionRole")["OnlyTheEnvironmentsManagedPolicies"]
    assert (guard["Effect"], guard["Action"]) == ("Deny", ["iam:AttachRolePolicy"])
    assert [p["Fn::Sub"] for p in guard["Condition"]["ArnNotLike"]["iam:PolicyARN"]] == list(
        ATTACHABLE_POLICIES
    )


# --- limits ------------------------------------------------------------------------------------


def test_every_managed_policy_fits_iams_limits(t):
    managed = resources_of_type(t, "AWS::IAM::ManagedPolicy")
    assert 1 <= len(managed) <= MANAGED_POLICIES_PER_ROLE
    for title in managed:
        size = policy_size(props(t, title)["PolicyDocument"])
        assert size <= MANAGED_POLICY_CHARS, (title, size)
    assert props(t, "ExecutionRole")["ManagedPolicyArns"] == [{"Ref": title} for title in managed]


@pytest.mark.parametrize("title", ["DeployRole", "ExecutionRole"])
def test_each_roles_inline_policies_fit_iams_limit(t, title):
    documents = [resolve(p["PolicyDocument"]) for p in props(t, title)["Policies"]]
    size = sum(len(json.dumps(d, separators=(",", ":"))) for d in documents)
    assert size <= INLINE_CHARS_PER_ROLE, size


def test_the_pipeline_target_is_a_standalone_template():
    assert synth.STANDALONE["pipeline-target"] is pipeline_target


def test_other_accounts_admit_the_pipeline_accounts_image_replication(t):
    policy = t["Resources"]["ImageReplicationPolicy"]
    assert policy["Condition"] == "ReplicatedHere"
    assert t["Conditions"]["ReplicatedHere"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "PipelineAccountId"}, {"Ref": "AWS::AccountId"}]}]
    }
    (statement,) = policy["Properties"]["PolicyText"]["Statement"]
    assert statement["Principal"] == {
        "AWS": [{"Fn::Sub": "arn:${AWS::Partition}:iam::${PipelineAccountId}:root"}]
    }
    assert statement["Action"] == ["ecr:ReplicateImage", "ecr:CreateRepository"]


def test_the_deploy_role_records_each_environments_deployed_commit_and_nothing_else_in_ssm(t):
    from playback_infra import deployed_commit
    from playback_infra.environments.catalog import environments

    record = by_sid(t, "DeployRole")["RecordDeployedCommit"]
    assert record["Action"] == ["ssm:PutParameter"]
    (pattern,) = resolve(record["Resource"])
    for env in environments():
        name = deployed_commit.parameter_name(env)
        assert fnmatchcase(f"arn:aws:ssm:{env.region}:{ACCOUNT}:parameter{name}", pattern)
    assert not fnmatchcase(
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/baseball-playback/dev/other", pattern
    )
    assert not any(
        a.startswith("ssm:") for a in granted(statements(t, "DeployRole")) - set(record["Action"])
    )
