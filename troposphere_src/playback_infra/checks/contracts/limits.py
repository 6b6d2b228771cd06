"""Limits: names that fit for every environment name the model accepts, and templates under
CloudFormation's quotas with a margin.

Names. A physical name that embeds the environment's name (through `EnvironmentName` or the
stack's name) is checked as the model's longest name (`MAX_NAME_LENGTH` characters) deploys
it: each environment of the catalog is read again under such a name, through its parameter
files, and the resolved name must fit the length and pattern of `NAMES`, which says for each
resource type and property where AWS states the limit. Where the service's API model
(botocore's, AWS's own definition of the API) constrains the parameter, the limit is read from
it; where it does not, the table gives the limit and the page that states it.

Templates (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html):
resources, parameters, outputs and the body's size stay under 90% of the quotas cfn-lint
carries (`cfnlint.helpers.LIMITS`: 500, 200, 200 and 1 MB from S3), and a template over 90% of
the 51,200 bytes a request may carry inline is deployed from S3 by every path that deploys it:
the `aws cloudformation deploy` commands of the README and docs (`--s3-bucket`), and `deploy`,
which sends the templates of `deploy.SENT_INLINE` in the request.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import botocore.session
from cfnlint.helpers import LIMITS

from playback_infra import deploy
from playback_infra.checks.contracts.rule import Rule, Subject
from playback_infra.deployed_environment import (
    EDGE_GLOBAL,
    DeployedEnvironment,
    deployed_environment,
    nested_templates,
)
from playback_infra.environments.model import MAX_NAME_LENGTH, Environment, define
from playback_infra.environments.parameters import edge_parameter_file, parameter_file
from playback_infra.environments.regions import SUPPORTED_REGIONS
from playback_infra.parts import values
from playback_infra.paths import REPO_ROOT
from playback_infra.yaml_render import to_yaml

DOC = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html"
INLINE_BODY_BYTES = 51_200  # TemplateBody in a CreateStack or UpdateStack request
MARGIN = LIMITS["threshold"]
DOCS = (REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md")))


@dataclass(frozen=True)
class Name:
    """Where AWS states a name's limit: the service's API model (botocore service, operation,
    member), or the `length` and `pattern` a page gives where the model has none."""

    doc: str
    api: tuple[str, str, str] | None = None
    length: int | None = None
    pattern: str | None = None


_ALPHANUMERIC_HYPHENS = r"^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$"
NAMES: dict[tuple[str, str], Name] = {
    ("AWS::XRay::Group", "GroupName"): Name(
        "https://docs.aws.amazon.com/xray/latest/api/API_CreateGroup.html",
        ("xray", "CreateGroup", "GroupName")),
    # Neither the API model nor its page states a length; 40 is ElastiCache's limit for cache
    # identifiers, kept as the serverless cache's until AWS documents it.
    ("AWS::ElastiCache::ServerlessCache", "ServerlessCacheName"): Name(
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticache-serverlesscache.html",
        length=40, pattern=r"^[a-zA-Z](?:-?[a-zA-Z0-9])*$"),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Name"): Name(
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
        length=32, pattern=_ALPHANUMERIC_HYPHENS),
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "Name"): Name(
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
        length=32, pattern=_ALPHANUMERIC_HYPHENS),
    ("AWS::IAM::Role", "RoleName"): Name(
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
        ("iam", "CreateRole", "RoleName")),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"): Name(
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html",
        ("iam", "CreatePolicy", "PolicyName")),
    ("AWS::IAM::Policy", "PolicyName"): Name(
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html",
        ("iam", "PutRolePolicy", "PolicyName")),
    ("AWS::Logs::LogGroup", "LogGroupName"): Name(
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
        ("logs", "CreateLogGroup", "logGroupName")),
    # The API's 140 counts a full ARN; a bare function name has 64.
    ("AWS::Lambda::Function", "FunctionName"): Name(
        "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html",
        length=64, pattern=r"^[a-zA-Z0-9_-]+$"),
    ("AWS::CloudWatch::Alarm", "AlarmName"): Name(
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
        ("cloudwatch", "PutMetricAlarm", "AlarmName")),
    ("AWS::CloudWatch::CompositeAlarm", "AlarmName"): Name(
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html",
        ("cloudwatch", "PutCompositeAlarm", "AlarmName")),
    ("AWS::CloudWatch::Dashboard", "DashboardName"): Name(
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
        length=255, pattern=r"^[A-Za-z0-9_-]+$"),
    ("AWS::S3::Bucket", "BucketName"): Name(
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
        length=63, pattern=r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"),
    ("AWS::SNS::Topic", "TopicName"): Name(
        "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html",
        length=256, pattern=r"^[A-Za-z0-9_-]+$"),
    ("AWS::StepFunctions::StateMachine", "StateMachineName"): Name(
        "https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html",
        ("stepfunctions", "CreateStateMachine", "name")),
    ("AWS::Synthetics::Canary", "Name"): Name(
        "https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CreateCanary.html",
        ("synthetics", "CreateCanary", "Name")),
    ("AWS::RDS::DBInstance", "DBInstanceIdentifier"): Name(
        "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
        length=63, pattern=r"^[a-zA-Z](?:-?[a-zA-Z0-9])*$"),
    ("AWS::RDS::DBProxy", "DBProxyName"): Name(
        "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBProxy.html",
        ("rds", "CreateDBProxy", "DBProxyName")),
    ("AWS::ECS::Cluster", "ClusterName"): Name(
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html",
        length=255, pattern=r"^[a-zA-Z0-9_-]+$"),
    ("AWS::ECS::Service", "ServiceName"): Name(
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html",
        length=255, pattern=r"^[a-zA-Z0-9_-]+$"),
    ("AWS::ECS::TaskDefinition", "Family"): Name(
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
        length=255, pattern=r"^[a-zA-Z0-9_-]+$"),
    ("AWS::Events::Rule", "Name"): Name(
        "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html",
        ("events", "PutRule", "Name")),
    ("AWS::WAFv2::WebACL", "Name"): Name(
        "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html",
        ("wafv2", "CreateWebACL", "Name")),
    ("AWS::Backup::BackupVault", "BackupVaultName"): Name(
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupVault.html",
        ("backup", "CreateBackupVault", "BackupVaultName")),
    ("AWS::CloudFront::Function", "Name"): Name(
        "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateFunction.html",
        ("cloudfront", "CreateFunction", "Name")),
    ("AWS::CodeBuild::Project", "Name"): Name(
        "https://docs.aws.amazon.com/codebuild/latest/APIReference/API_CreateProject.html",
        ("codebuild", "CreateProject", "name")),
    ("AWS::CodePipeline::Pipeline", "Name"): Name(
        "https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineDeclaration.html",
        ("codepipeline", "GetPipeline", "name")),
    ("AWS::KMS::Alias", "AliasName"): Name(
        "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
        ("kms", "CreateAlias", "AliasName")),
    ("AWS::SecretsManager::Secret", "Name"): Name(
        "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
        ("secretsmanager", "CreateSecret", "Name")),
    ("AWS::ECR::Repository", "RepositoryName"): Name(
        "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html",
        ("ecr", "CreateRepository", "repositoryName")),
}  # fmt: skip


@cache
def constraint(name: Name) -> tuple[int | None, str | None]:
    """(length, pattern) a name must keep, from the API model where it has one (a pattern such
    as Backup's `{2,50}` may carry the length)."""
    if name.api is None:
        return name.length, name.pattern
    service, operation, member = name.api
    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).input_shape.members[member]
    return shape.metadata.get("max"), shape.metadata.get("pattern")


# --- names under the longest environment name --------------------------------------------------

ACCOUNT = "123456789012"
REGION = max(SUPPORTED_REGIONS, key=len)
# A nested stack's name: the parent's, its logical ID and a random suffix of up to 13 characters
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-nested-stacks.html).
NESTED_SUFFIX = "X" * 13
_SUB = re.compile(r"\$\{([^}!]+)\}")


def longest(env: Environment) -> Environment:
    """`env` under a name of MAX_NAME_LENGTH characters (validated like any environment)."""
    name = f"{env.name}-{'x' * MAX_NAME_LENGTH}"[:MAX_NAME_LENGTH]
    given = {f.name: getattr(env, f.name) for f in dataclasses.fields(env)}
    return define(name, env.kind, **{k: v for k, v in given.items() if k not in ("name", "kind")})


def _resolve(node, known: dict[str, str]) -> str | None:
    """A string value with the parameters and pseudo parameters `known` gives, or None where it
    names something only a deploy knows (a resource's attribute)."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and list(node) == ["Ref"]:
        return known.get(node["Ref"])
    if isinstance(node, dict) and list(node) == ["Fn::Sub"]:
        text, extra = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
        scope = {**known, **{k: _resolve(v, known) for k, v in extra.items()}}
        names = _SUB.findall(text)
        if any(scope.get(n) is None for n in names):
            return None
        return _SUB.sub(lambda m: scope[m.group(1)], text)
    if isinstance(node, dict) and list(node) == ["Fn::Join"]:
        separator, parts = node["Fn::Join"]
        resolved = [_resolve(p, known) for p in parts] if isinstance(parts, list) else [None]
        return None if None in resolved else separator.join(resolved)
    return None


def _names_in(resources: dict, known: dict[str, str], environment: str):
    """(logical ID, type, property, name) of every NAMES property that resolves, and that
    embeds the environment's name."""
    for logical_id, resource in sorted(resources.items()):
        for key, value in sorted(resource.get("Properties", {}).items()):
            if (resource["Type"], key) not in NAMES:
                continue
            resolved = _resolve(value, known)
            if resolved is not None and environment in resolved:
                yield logical_id, resource["Type"], key, resolved


def _pseudo(stack_name: str) -> dict[str, str]:
    return {
        "AWS::AccountId": ACCOUNT,
        "AWS::Region": REGION,
        "AWS::Partition": "aws-us-gov",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_name,
    }


def _deployed_names(subject: Subject) -> Iterator[tuple[str, str, str, str, str, str]]:
    """(environment, stack, logical ID, type, property, name) of every name an environment of
    the catalog deploys under the longest name, the standalone templates' (their
    EnvironmentName the longest name, other parameters their defaults) included."""
    root_parameters = set(subject.templates["root"]["Parameters"])
    children = {name: title for title, name in nested_templates(subject.templates["root"]).items()}
    for original in subject.models.values():
        env = longest(original)
        parameters = parameter_file(env, root_parameters)["Parameters"]
        edge = edge_parameter_file(env)["Parameters"]
        deployed: DeployedEnvironment = deployed_environment(
            env.name, env.kind.value, subject.templates, parameters, edge
        )
        for stack, template in sorted(deployed.stacks.items()):
            given = edge if stack == EDGE_GLOBAL else parameters
            stack_name = (
                deploy.edge_stack_name(env)
                if stack == EDGE_GLOBAL
                else f"{env.stack_name}-{children[stack]}-{NESTED_SUFFIX}"
            )
            known = {**given, **_pseudo(stack_name)}
            for found in _names_in(template.resources, known, env.name):
                yield original.name, stack, *found
        for stack, template in sorted(subject.templates.items()):
            if stack in deployed.stacks or stack == "root":
                continue
            defaults = {
                key: parameter["Default"]
                for key, parameter in template.get("Parameters", {}).items()
                if isinstance(parameter.get("Default"), str)
            }
            known = {
                **defaults,
                values.ENVIRONMENT_NAME: env.name,
                **_pseudo(f"{env.stack_name}-{stack}"),
            }
            for found in _names_in(template["Resources"], known, env.name):
                yield original.name, stack, *found


def _name_problems(subject: Subject) -> Iterator[str]:
    seen = set()
    for environment, stack, logical_id, resource_type, key, resolved in _deployed_names(subject):
        name = NAMES[(resource_type, key)]
        length, pattern = constraint(name)
        wrong = []
        if length is not None and len(resolved) > length:
            wrong.append(f"{len(resolved)} characters, over the {length} allowed")
        if pattern and not re.fullmatch(pattern.removeprefix("^").removesuffix("$"), resolved):
            wrong.append(f"not matching {pattern}")
        problem = (stack, logical_id, key, tuple(wrong))
        if wrong and problem not in seen:
            seen.add(problem)
            yield (
                f"{stack}: {logical_id} {key} {resolved!r} (as {environment} would deploy it "
                f"under a {MAX_NAME_LENGTH}-character name): {', '.join(wrong)} ({name.doc}); "
                "shorten the fixed part of the name"
            )


# --- template sizes and counts -------------------------------------------------------------------


def size(subject: Subject, name: str, template: dict) -> int:
    """The bytes of a template's file: its generated header, then the YAML of `template`."""
    header = subject.files[f"templates/{name}.yaml"].split("\n", 2)[:2]
    return len(("\n".join(header) + "\n" + to_yaml(template)).encode())


def _packaged_size(subject: Subject, name: str) -> int:
    """The root after `aws cloudformation package`: each local TemplateURL becomes an S3 URL
    (https://s3.REGION.amazonaws.com/BUCKET/KEY, a 63-character bucket, a 32-hex-digit key)."""
    url = len(f"https://s3.{REGION}.amazonaws.com/{'b' * 63}/{'0' * 32}.template")
    return size(subject, name, subject.templates[name]) + sum(
        url - len(local) for local in _local_children(subject.templates[name])
    )


def _local_children(template: dict) -> list[str]:
    """The local TemplateURLs (file names) of a template's nested stacks."""
    return [
        resource["Properties"]["TemplateURL"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudFormation::Stack"
        and isinstance(resource["Properties"]["TemplateURL"], str)
    ]


def _cloudformation_commands(text: str) -> list[list[str]]:
    """The words of each `aws cloudformation package` or `deploy` a Markdown text shows: in a
    fenced block (backslash continuations joined) or in an inline code span (which may wrap)."""
    fences = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.S | re.M)
    lines = [
        line for block in fences.findall(text) for line in block.replace("\\\n", " ").splitlines()
    ]
    lines += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", fences.sub("", text))]
    return [
        shlex.split(line[line.index("aws cloudformation") :], comments=True)
        for line in lines
        if re.search(r"aws cloudformation (package|deploy) ", line)
    ]


def inline_deploys() -> Iterator[tuple[str, str]]:
    """(where, template) of every documented `aws cloudformation deploy` without --s3-bucket,
    and of each template `deploy` sends inline. A packaged file stands for its template."""
    for path in DOCS:
        commands = _cloudformation_commands(path.read_text())
        packaged = {
            words[words.index("--output-template-file") + 1]: words[words.index("--template-file") + 1]
            for words in commands
            if words[2] == "package" and "--output-template-file" in words
        }  # fmt: skip
        for words in commands:
            if words[2] == "deploy" and "--template-file" in words and "--s3-bucket" not in words:
                given = words[words.index("--template-file") + 1]
                template = packaged.get(given, given)
                where = f"{path.relative_to(REPO_ROOT)} (aws cloudformation deploy {given})"
                yield where, template.removeprefix("templates/").removesuffix(".yaml")
    for template in deploy.SENT_INLINE:
        yield "playback-infra deploy (TemplateBody)", template


def _template_problems(subject: Subject) -> Iterator[str]:
    inline: dict[str, list[str]] = {}
    for where, template in inline_deploys():
        inline.setdefault(template, []).append(where)
    counted = (("Resources", "resources"), ("Parameters", "parameters"), ("Outputs", "outputs"))
    for name, template in sorted(subject.templates.items()):
        for section, what in counted:
            count, quota = len(template.get(section, {})), LIMITS[section]["number"]
            if count > MARGIN * quota:
                yield f"{name}: {count} {what}, over 90% of CloudFormation's {quota}; split the stack"
        body = size(subject, name, template)
        if body > MARGIN * LIMITS["template"]["body"]:
            yield f"{name}: {body} bytes, over 90% of the {LIMITS['template']['body']} a template in S3 may have"
        packaged = _packaged_size(subject, name) if _local_children(template) else body
        for where in inline.get(name, []):
            if packaged > MARGIN * INLINE_BODY_BYTES:
                yield (
                    f"{name}: {packaged} bytes, over 90% of the {INLINE_BODY_BYTES} a request may "
                    f"carry inline, and {where} sends it inline; deploy it from S3 "
                    "(--s3-bucket, or deploy.SENT_INLINE without it)"
                )


def find(subject: Subject) -> Iterator[str]:
    yield from _name_problems(subject)
    yield from _template_problems(subject)


RULE = Rule("limits", DOC, find)
