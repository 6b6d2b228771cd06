"""Builders the pipeline stacks share: artifact stores, CodeBuild projects, pipeline actions.

Names are fixed and derived from the project, so that the pipeline stack can point at the
artifact store of another region (the `pipeline-artifacts` stack) and at the roles the
`pipeline-target` stack makes in every environment account without parameters.
"""

from __future__ import annotations

import json

from awacs import kms as kms_actions
from awacs import s3 as s3_actions
from awacs.aws import (
    Allow,
    ArnLike,
    Condition,
    ForAnyValueStringEquals,
    Policy,
    Principal,
    Statement,
)
from troposphere import GetAtt, Ref, Sub
from troposphere.codebuild import (
    Artifacts,
    CloudWatchLogs,
    Environment,
    EnvironmentVariable,
    LogsConfig,
    Project,
    ProjectCache,
    Source,
)
from troposphere.codepipeline import (
    Actions,
    ActionTypeId,
    InputArtifacts,
    OutputArtifacts,
)
from troposphere.kms import Alias, Key
from troposphere.logs import LogGroup
from troposphere.s3 import (
    Bucket,
    BucketPolicy,
)

from playback_infra.parts import names
from playback_infra.parts.iam import KEY_USE_ACTIONS, THIS_KEY, cloudwatch_logs_use, customer_key
from playback_infra.parts.s3 import expiring, kept, kms_encryption, private_bucket, tls_only
from playback_infra.parts.suppress import suppress
from playback_infra.paths import REPO_ROOT

BUILDSPECS = REPO_ROOT / "pipeline"
BUILD_IMAGE = "aws/codebuild/standard:7.0"  # Ubuntu 22.04: Python 3.11/3.12, Node.js 18/20
# An image build runs natively on the CPU its tasks run on: (environment type, CodeBuild image,
# docker platform) by the model's architecture. ARM_CONTAINER comes in SMALL to 2XLARGE
# (https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-compute-types.html);
# the Amazon Linux 2023 aarch64 standard:3.0 image has Docker (privileged mode) and Node.js
# 18/20/22 (https://docs.aws.amazon.com/codebuild/latest/userguide/ec2-compute-images.html,
# aws-codebuild-docker-images al/aarch64/standard/3.0/runtimes.yml).
IMAGE_BUILDERS = {
    "ARM64": ("ARM_CONTAINER", "aws/codebuild/amazonlinux-aarch64-standard:3.0", "linux/arm64"),
    "X86_64": ("LINUX_CONTAINER", BUILD_IMAGE, "linux/amd64"),
}
ARTIFACT_KEY_ALIAS = "alias/baseball-playback/pipeline-artifacts"
ARTIFACT_BUCKET_PREFIX = "baseball-playback-artifacts-"
ARTIFACT_DAYS = 30
# What the artifact store holds, by key prefix. CodePipeline keeps each pipeline's artifacts
# under a folder named for the pipeline (its first 20 characters): every pipeline here is named
# baseball-playback-*. `plan` and `deploy` package the nested templates under templates/, and a
# deployed root names them: CloudFormation reads them again on every update of the root, also
# a `release-image` that reuses the root's template, months after the last infrastructure
# deploy. So pipeline artifacts expire and packaged templates never do (a key is the content's
# hash, so a replaced version is the same template and may go).
PIPELINE_ARTIFACTS_PREFIX = "baseball-playback-"
PACKAGED_TEMPLATES_PREFIX = "templates/"
LOG_DAYS = 90
PARTITION = "${AWS::Partition}"


def artifact_bucket_name(account: str, region: str) -> str:
    return f"{ARTIFACT_BUCKET_PREFIX}{account}-{region}"


def account_root(account: str) -> Sub:
    return Sub(f"arn:{PARTITION}:iam::{account}:root")


def role_arn(account: str, name: str) -> Sub:
    return Sub(f"arn:{PARTITION}:iam::{account}:role/{name}")


def pipeline_roles(account: str) -> Sub:
    """Every role of the pipeline stack in `account` (they share the names' prefix)."""
    return role_arn(account, f"{names.PIPELINE_ROLE_PREFIX}*")


def target_roles(accounts: list[str], *role_names: str) -> list[Sub]:
    """Roles of the pipeline-target stack (deploy, execution) in each account."""
    return [role_arn(account, name) for account in accounts for name in role_names]


def artifact_keys_elsewhere(sid: str, actions: list, regions: list[str]) -> Statement:
    """The artifact keys of `regions` (pipeline-artifacts stacks), known here by their alias
    only: an IAM policy cannot name an alias, but it can require one (kms:ResourceAliases)."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Action=actions,
        Resource=[Sub(f"arn:{PARTITION}:kms:{r}:${{AWS::AccountId}}:key/*") for r in regions],
        Condition=Condition(ForAnyValueStringEquals("kms:ResourceAliases", ARTIFACT_KEY_ALIAS)),
    )


def _roles_may(sid: str, accounts: list[str], roles, actions: list, resource) -> Statement:
    """A resource policy's grant to the roles `roles` (ARN patterns) of `accounts`: each account
    is the principal, narrowed to those roles by aws:PrincipalArn."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("AWS", [account_root(a) for a in accounts]),
        Action=actions,
        Resource=[resource],
        Condition=Condition(ArnLike("aws:PrincipalArn", roles)),
    )


def add_artifact_store(t, environment_accounts: list[str]) -> tuple[Key, Bucket]:
    """This region's artifact bucket and key. The pipeline roles of this account use both; the
    environment accounts' deploy and execution roles read (CloudFormation fetches packaged
    nested templates and input artifacts with them), and their deploy roles write (`plan`
    packages the nested templates)."""
    readers = target_roles(
        environment_accounts, names.PIPELINE_DEPLOY_ROLE, names.PIPELINE_EXECUTION_ROLE
    )
    # `plan` packages the nested templates into this bucket as the environment's deploy role.
    writers = target_roles(environment_accounts, names.PIPELINE_DEPLOY_ROLE)
    key = customer_key(
        "ArtifactKey",
        "Baseball Playback: pipeline artifacts, build logs, notifications",
        [
            _roles_may(
                "PipelineRoles",
                ["${AWS::AccountId}"],
                pipeline_roles("${AWS::AccountId}"),
                KEY_USE_ACTIONS,
                THIS_KEY,
            ),
            _roles_may(
                "EnvironmentAccountsRead",
                environment_accounts,
                readers,
                [kms_actions.Decrypt, kms_actions.DescribeKey],
                THIS_KEY,
            ),
            _roles_may(
                "EnvironmentDeployRolesWrite",
                environment_accounts,
                writers,
                [kms_actions.GenerateDataKey],
                THIS_KEY,
            ),
            cloudwatch_logs_use(),
        ],
    )
    key.DeletionPolicy = key.UpdateReplacePolicy = "Retain"
    t.add_resource(key)
    t.add_resource(Alias("ArtifactKeyAlias", AliasName=ARTIFACT_KEY_ALIAS, TargetKeyId=Ref(key)))
    bucket = private_bucket(
        "ArtifactBucket",
        kms_encryption(GetAtt(key, "Arn")),
        [
            expiring("expire-pipeline-artifacts", ARTIFACT_DAYS, PIPELINE_ARTIFACTS_PREFIX),
            kept("keep-packaged-templates", PACKAGED_TEMPLATES_PREFIX),
        ],
        BucketName=Sub(artifact_bucket_name("${AWS::AccountId}", "${AWS::Region}")),
    )
    bucket.DeletionPolicy = bucket.UpdateReplacePolicy = "Retain"
    suppress(bucket, {
        "CKV_AWS_18": "Pipeline artifacts and packaged templates, readable and writable only by "
        "the pipeline roles and the environments' deploy and execution roles (bucket and key "
        "policies); their object reads are not logged: no server access log bucket is kept for "
        "a build store, and CloudTrail keeps no S3 data events here",
    })  # fmt: skip
    t.add_resource(bucket)
    objects = Sub(f"${{{bucket.title}.Arn}}/*")
    t.add_resource(
        BucketPolicy(
            "ArtifactBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    tls_only(bucket),
                    _roles_may(
                        "EnvironmentAccountsRead",
                        environment_accounts,
                        readers,
                        [s3_actions.GetObject, s3_actions.GetObjectVersion],
                        objects,
                    ),
                    _roles_may(
                        "EnvironmentDeployRolesWrite",
                        environment_accounts,
                        writers,
                        [s3_actions.PutObject],
                        objects,
                    ),
                ],
            ),
        )
    )
    return key, bucket


def buildspec(name: str) -> str:
    """The text of pipeline/NAME.yml, embedded in its project: a changed buildspec reaches
    CodeBuild through the pipeline's own self-update, like every other change."""
    return (BUILDSPECS / f"{name}.yml").read_text()


def build_project(
    title: str,
    name: str,
    role,
    key,
    *,
    spec: str,
    compute: str = "BUILD_GENERAL1_SMALL",
    image_architecture: str | None = None,
    cache_modes: tuple[str, ...] = (),
    timeout_minutes: int = 30,
) -> tuple[Project, LogGroup]:
    """A CodeBuild project run by the pipeline (sources and artifacts come from it), with its
    buildspec from pipeline/, artifacts encrypted with the artifact key, and a log group of its
    own kept LOG_DAYS days. A project that builds container images (`image_architecture`)
    runs docker (privileged) on that CPU and tells the build its platform (IMAGE_PLATFORM)."""
    environment_type, image, platform = IMAGE_BUILDERS[image_architecture or "X86_64"]
    platform_variable = (
        {"EnvironmentVariables": [EnvironmentVariable(Name="IMAGE_PLATFORM", Value=platform)]}
        if image_architecture
        else {}
    )
    log_group = LogGroup(
        f"{title}Logs",
        LogGroupName=f"/aws/codebuild/{name}",
        KmsKeyId=GetAtt(key, "Arn"),
        RetentionInDays=LOG_DAYS,
    )
    project = Project(
        title,
        Name=name,
        ServiceRole=GetAtt(role, "Arn"),
        EncryptionKey=GetAtt(key, "Arn"),
        Source=Source(Type="CODEPIPELINE", BuildSpec=buildspec(spec)),
        Artifacts=Artifacts(Type="CODEPIPELINE"),
        Environment=Environment(
            Type=environment_type,
            ComputeType=compute,
            Image=image,
            ImagePullCredentialsType="CODEBUILD",
            PrivilegedMode=image_architecture is not None,
            **platform_variable,
        ),
        Cache=ProjectCache(Type="LOCAL", Modes=list(cache_modes))
        if cache_modes
        else ProjectCache(Type="NO_CACHE"),
        LogsConfig=LogsConfig(
            CloudWatchLogs=CloudWatchLogs(Status="ENABLED", GroupName=Ref(log_group))
        ),
        TimeoutInMinutes=timeout_minutes,
        QueuedTimeoutInMinutes=60,
    )
    if image_architecture:
        suppress(project, {
            "CKV_AWS_316": "Builds a container image: docker needs privileged mode in CodeBuild",
        })  # fmt: skip
    return project, log_group


def _type(category: str, provider: str, owner: str = "AWS") -> ActionTypeId:
    return ActionTypeId(Category=category, Owner=owner, Provider=provider, Version="1")


def source_action(
    name: str, connection, repository, branch, *, triggered: bool, clone: bool = False
) -> Actions:
    """A repository through the CodeConnections connection; its artifact is named `name`.
    An untriggered source is read at the revision current when the pipeline starts. A `clone`
    is a git clone the consuming CodeBuild project makes itself (it needs the history, and the
    connection's UseConnection); otherwise CodePipeline passes a zip of the files."""
    configuration = {
        "ConnectionArn": connection,
        "FullRepositoryId": repository,
        "BranchName": branch,
        "OutputArtifactFormat": "CODEBUILD_CLONE_REF" if clone else "CODE_ZIP",
    }
    if not triggered:
        configuration["DetectChanges"] = "false"
    return Actions(
        Name=name,
        ActionTypeId=_type("Source", "CodeStarSourceConnection"),
        Configuration=configuration,
        OutputArtifacts=[OutputArtifacts(Name=name)],
        Namespace=f"{name}Source",
    )


def build_action(
    name: str,
    project: Project,
    inputs: list[str],
    *,
    outputs: tuple[str, ...] = (),
    variables: dict[str, str] | None = None,
    namespace: str | None = None,
    run_order: int = 1,
) -> Actions:
    """Run a CodeBuild project on `inputs` (the first is the primary source)."""
    configuration = {"ProjectName": Ref(project)}
    if len(inputs) > 1:
        configuration["PrimarySource"] = inputs[0]
    if variables:
        listed = json.dumps(
            [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in variables.items()],
            separators=(",", ":"),
        )
        configuration["EnvironmentVariables"] = Sub(listed) if "${" in listed else listed
    action = Actions(
        Name=name,
        ActionTypeId=_type("Build", "CodeBuild"),
        Configuration=configuration,
        InputArtifacts=[InputArtifacts(Name=i) for i in inputs],
        OutputArtifacts=[OutputArtifacts(Name=o) for o in outputs],
        RunOrder=run_order,
    )
    if namespace:
        action.Namespace = namespace
    return action


def stack_action(
    name: str,
    *,
    stack_name,
    template: str,
    configuration: str,
    capabilities: str,
    execution_role,
    run_order: int = 1,
    region: str | None = None,
    action_role=None,
    namespace: str | None = None,
) -> Actions:
    """CloudFormation create-or-update of `stack_name` from the Build artifact's files; its
    outputs become the action's variables (`#{namespace.OutputName}`)."""
    action = Actions(
        Name=name,
        ActionTypeId=_type("Deploy", "CloudFormation"),
        Configuration={
            "ActionMode": "CREATE_UPDATE",
            "StackName": stack_name,
            "TemplatePath": f"Build::{template}",
            "TemplateConfiguration": f"Build::{configuration}",
            "Capabilities": capabilities,
            "RoleArn": execution_role,
        },
        InputArtifacts=[InputArtifacts(Name="Build")],
        RunOrder=run_order,
    )
    for prop, value in (("Region", region), ("RoleArn", action_role), ("Namespace", namespace)):
        if value is not None:
            setattr(action, prop, value)
    return action


def approval_action(name: str, topic, summary: str, link: str | None, run_order: int) -> Actions:
    """A manual approval, announced on `topic`, linking to what is to be approved."""
    configuration = {"NotificationArn": Ref(topic), "CustomData": summary}
    if link:
        configuration["ExternalEntityLink"] = link
    return Actions(
        Name=name,
        ActionTypeId=_type("Approval", "Manual"),
        Configuration=configuration,
        RunOrder=run_order,
    )
