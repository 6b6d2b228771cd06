"""The pipeline stack's roles: each reads its inputs, writes its outputs and logs, nothing more.

All are named `baseball-playback-pipeline-<purpose>` (the registry lets only these push, the
artifact key and the environment accounts' deploy roles trust only these). None may change an
environment itself: that is the environment account's deploy role, which the pipeline and the
deploying builds assume, and the execution role it passes to CloudFormation.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import cloudformation as cfn
from awacs import codebuild as cb
from awacs import (
    codeconnections,
    codepipeline,
    codestar_connections,
    codestar_notifications,
    ecr,
    iam,
    logs,
    s3,
    sns,
    sts,
)
from awacs import kms as kms_actions
from awacs.aws import Allow, Condition, Statement, StringEquals
from troposphere import GetAtt, Ref, Sub
from troposphere.iam import Role

from playback_infra.parts import names
from playback_infra.parts.delivery import PARTITION, artifact_keys_elsewhere, role_arn
from playback_infra.parts.iam import KEY_USE_ACTIONS, service_role
from playback_infra.parts.suppress import ACCOUNT_WIDE, suppress

REGISTRY_REPOSITORIES = ("baseball-playback/backend", "baseball-playback/jobs")


def _arn(service: str, rest: str) -> Sub:
    return Sub(f"arn:{PARTITION}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{rest}")


PROJECTS = _arn("codebuild", "project/baseball-playback-*")


def _name(purpose: str) -> str:
    return f"{names.PIPELINE_ROLE_PREFIX}{purpose}"


@dataclass(frozen=True)
class Access:
    """What the roles point at: made by the stack before the roles."""

    bucket_arns: list
    """Every artifact bucket the pipelines use (this region's and the other regions')."""
    key: object
    """This region's artifact key."""
    other_regions: list[str]
    """Regions with an artifact store of the pipeline-artifacts stack."""
    topic: object
    connection: object
    deploy_roles: list
    """The environment accounts' deploy roles."""
    pipeline_names: list[str]


def _artifacts(access: Access, write: bool) -> list[Statement]:
    object_actions = [s3.GetObject, s3.GetObjectVersion] + ([s3.PutObject] if write else [])
    return [
        Statement(
            Sid="Artifacts",
            Effect=Allow,
            Action=object_actions,
            Resource=[Sub(f"{arn}/*") for arn in access.bucket_arns],
        ),
        Statement(
            Sid="ArtifactBuckets",
            Effect=Allow,
            Action=[s3.GetBucketLocation, s3.GetBucketVersioning, s3.ListBucket],
            Resource=[Sub(arn) for arn in access.bucket_arns],
        ),
        Statement(
            Sid="ArtifactKey",
            Effect=Allow,
            Action=KEY_USE_ACTIONS,
            Resource=[GetAtt(access.key, "Arn")],
        ),
        *(
            [
                artifact_keys_elsewhere(
                    "OtherRegionsArtifactKeys", KEY_USE_ACTIONS, access.other_regions
                )
            ]
            if access.other_regions
            else []
        ),
    ]


def _keys_by_alias(role: Role, access: Access) -> Role:
    """Declare the other regions' keys, granted by alias on this account's keys of the region."""
    if access.other_regions:
        suppress(role, {ACCOUNT_WIDE: "The artifact keys of the other regions are known by their "
                        "alias only: granted on this account's keys there that carry it"})  # fmt: skip
    return role


def _build_role(purpose: str, title: str, access: Access, extra: list[Statement]) -> Role:
    """A CodeBuild service role: its own log groups, the artifacts, its report groups."""
    projects = f"baseball-playback-{purpose}"
    role = service_role(
        title,
        f"Baseball Playback pipelines: CodeBuild projects {projects}*",
        service="codebuild.amazonaws.com",
        source_arn=PROJECTS,
        policy_name="build",
        statements=[
            Statement(
                Sid="Logs",
                Effect=Allow,
                Action=[logs.CreateLogStream, logs.PutLogEvents],
                Resource=[_arn("logs", f"log-group:/aws/codebuild/{projects}*:*")],
            ),
            Statement(
                Sid="Reports",
                Effect=Allow,
                Action=[
                    cb.CreateReport,
                    cb.UpdateReport,
                    cb.BatchPutTestCases,
                    cb.BatchPutCodeCoverages,
                ],
                Resource=[_arn("codebuild", f"report-group/{projects}*")],
            ),
            *_artifacts(access, write=True),
            *extra,
        ],
    )
    role.RoleName = _name(purpose)
    return _keys_by_alias(role, access)


def _clone(access: Access) -> Statement:
    """Clone the repository through the connection (a CODEBUILD_CLONE_REF source: `make
    synth`'s replacement guard reads the git history)."""
    return Statement(
        Sid="CloneThroughConnection",
        Effect=Allow,
        Action=[codeconnections.UseConnection, codestar_connections.UseConnection],
        Resource=[access.connection],
    )


def _assume_deploy_roles(access: Access) -> Statement:
    return Statement(
        Sid="EnvironmentDeployRoles",
        Effect=Allow,
        Action=[sts.AssumeRole],
        Resource=access.deploy_roles,
    )


def pipeline_role(access: Access) -> Role:
    """CodePipeline's role for the three pipelines: sources, builds, the self-update, the
    edge-global deployments (as each account's deploy role), approvals."""
    pipelines = [_arn("codepipeline", name) for name in access.pipeline_names]
    role = service_role(
        "PipelineRole",
        "Baseball Playback pipelines: CodePipeline",
        service="codepipeline.amazonaws.com",
        source_arn=pipelines[0]
        if len(pipelines) == 1
        else _arn("codepipeline", "baseball-playback-*"),
        policy_name="pipeline",
        statements=[
            Statement(
                Sid="Connection",
                Effect=Allow,
                Action=[codeconnections.UseConnection, codestar_connections.UseConnection],
                Resource=[access.connection],
            ),
            *_artifacts(access, write=True),
            Statement(
                Sid="Builds",
                Effect=Allow,
                Action=[cb.StartBuild, cb.BatchGetBuilds, cb.StopBuild],
                Resource=[PROJECTS],
            ),
            Statement(
                Sid="SelfUpdate",
                Effect=Allow,
                Action=[
                    cfn.CreateStack,
                    cfn.UpdateStack,
                    cfn.DescribeStacks,
                    cfn.DescribeStackEvents,
                    cfn.GetTemplate,
                ],
                Resource=[_arn("cloudformation", "stack/${AWS::StackName}/*")],
            ),
            Statement(
                Sid="PassSelfUpdateRole",
                Effect=Allow,
                Action=[iam.PassRole],
                Resource=[role_arn("${AWS::AccountId}", _name("cfn"))],
                Condition=Condition(
                    StringEquals("iam:PassedToService", "cloudformation.amazonaws.com")
                ),
            ),
            _assume_deploy_roles(access),
            Statement(
                Sid="Approvals",
                Effect=Allow,
                Action=[sns.Publish],
                Resource=[Ref(access.topic)],
            ),
        ],
    )
    role.RoleName = _name("codepipeline")
    return _keys_by_alias(role, access)


def build_roles(access: Access, infra_pipeline: str) -> dict[str, Role]:
    """The CodeBuild roles, by purpose: the infrastructure build, image builds, site builds,
    and the deploying builds (plan, apply, migrate, release, publish, smoke, self-update)."""
    repositories = [_arn("ecr", f"repository/{r}") for r in REGISTRY_REPOSITORIES]
    return {
        "infra-build": _build_role("infra-build", "InfraBuildRole", access, [_clone(access)]),
        "image": _build_role(
            "image",
            "ImageBuildRole",
            access,
            [
                _clone(access),
                Statement(
                    Sid="RegistryLogin",
                    Effect=Allow,
                    Action=[ecr.GetAuthorizationToken],  # registry-wide: no resource-level
                    Resource=["*"],
                ),
                Statement(
                    Sid="PushAndScan",
                    Effect=Allow,
                    Action=[
                        ecr.BatchCheckLayerAvailability,
                        ecr.BatchGetImage,
                        ecr.GetDownloadUrlForLayer,
                        ecr.InitiateLayerUpload,
                        ecr.UploadLayerPart,
                        ecr.CompleteLayerUpload,
                        ecr.PutImage,
                        ecr.DescribeImages,
                        ecr.DescribeImageScanFindings,
                    ],
                    Resource=repositories,
                ),
            ],
        ),
        "site-build": _build_role("site-build", "SiteBuildRole", access, []),
        "deployer": _build_role(
            "deployer",
            "DeployerRole",
            access,
            [
                _assume_deploy_roles(access),
                Statement(
                    Sid="RestartAfterSelfUpdate",
                    Effect=Allow,
                    Action=[
                        codepipeline.GetPipeline,
                        codepipeline.GetPipelineExecution,
                        codepipeline.StopPipelineExecution,
                    ],
                    Resource=[_arn("codepipeline", infra_pipeline)],
                ),
            ],
        ),
    }


def self_update_role(access: Access, key) -> Role:
    """CloudFormation's role for the pipeline stack itself (the self-update action passes it):
    the resources this stack is made of, by their names, and nothing of the environments."""
    account_region = "${AWS::Region}:${AWS::AccountId}"
    statements = [
        Statement(
            Sid="Roles",
            Effect=Allow,
            Action=[
                iam.CreateRole,
                iam.DeleteRole,
                iam.GetRole,
                iam.UpdateRole,
                iam.UpdateRoleDescription,
                iam.UpdateAssumeRolePolicy,
                iam.PutRolePolicy,
                iam.GetRolePolicy,
                iam.DeleteRolePolicy,
                iam.TagRole,
                iam.UntagRole,
            ],
            Resource=[role_arn("${AWS::AccountId}", f"{names.PIPELINE_ROLE_PREFIX}*")],
        ),
        Statement(
            Sid="PassRoles",
            Effect=Allow,
            Action=[iam.PassRole],
            Resource=[role_arn("${AWS::AccountId}", f"{names.PIPELINE_ROLE_PREFIX}*")],
            Condition=Condition(
                StringEquals(
                    "iam:PassedToService",
                    ["codebuild.amazonaws.com", "codepipeline.amazonaws.com"],
                )
            ),
        ),
        Statement(
            Sid="Builds",
            Effect=Allow,
            Action=[
                cb.CreateProject,
                cb.UpdateProject,
                cb.DeleteProject,
                cb.BatchGetProjects,
                cb.CreateReportGroup,
                cb.UpdateReportGroup,
                cb.DeleteReportGroup,
                cb.BatchGetReportGroups,
            ],
            Resource=[PROJECTS, _arn("codebuild", "report-group/baseball-playback-*")],
        ),
        Statement(
            Sid="Pipelines",
            Effect=Allow,
            Action=[
                codepipeline.CreatePipeline,
                codepipeline.UpdatePipeline,
                codepipeline.DeletePipeline,
                codepipeline.GetPipeline,
                codepipeline.TagResource,
                codepipeline.UntagResource,
                codepipeline.ListTagsForResource,
            ],
            Resource=[_arn("codepipeline", "baseball-playback-*")],
        ),
        Statement(
            Sid="LogGroups",
            Effect=Allow,
            Action=[
                logs.CreateLogGroup,
                logs.DeleteLogGroup,
                logs.PutRetentionPolicy,
                logs.AssociateKmsKey,
                logs.DescribeLogGroups,
                logs.TagResource,
                logs.UntagResource,
                logs.ListTagsForResource,
            ],
            Resource=[_arn("logs", "log-group:/aws/codebuild/baseball-playback-*")],
        ),
        Statement(
            Sid="Notifications",
            Effect=Allow,
            Action=[
                sns.GetTopicAttributes,
                sns.SetTopicAttributes,
                sns.Subscribe,
                sns.Unsubscribe,
                sns.TagResource,
                sns.ListSubscriptionsByTopic,
            ],
            Resource=[Ref(access.topic)],
        ),
        Statement(
            Sid="ArtifactStore",
            Effect=Allow,
            Action=[
                s3.PutBucketPolicy,
                s3.GetBucketPolicy,
                s3.PutEncryptionConfiguration,
                s3.PutLifecycleConfiguration,
                s3.PutBucketVersioning,
                s3.PutBucketTagging,
                s3.PutBucketPublicAccessBlock,
                s3.PutBucketOwnershipControls,
            ],
            Resource=[Sub(arn) for arn in access.bucket_arns[:1]],
        ),
        Statement(
            Sid="ArtifactKey",
            Effect=Allow,
            Action=[
                kms_actions.DescribeKey,
                kms_actions.PutKeyPolicy,
                kms_actions.GetKeyPolicy,
                kms_actions.EnableKeyRotation,
                kms_actions.TagResource,
                kms_actions.UntagResource,
                kms_actions.CreateGrant,
                kms_actions.GenerateDataKey,
                kms_actions.Decrypt,
            ],
            Resource=[GetAtt(key, "Arn")],
        ),
        Statement(
            Sid="NotificationRules",
            Effect=Allow,
            Action=[
                codestar_notifications.CreateNotificationRule,
                codestar_notifications.UpdateNotificationRule,
                codestar_notifications.DeleteNotificationRule,
                codestar_notifications.DescribeNotificationRule,
                codestar_notifications.Subscribe,
                codestar_notifications.Unsubscribe,
                codestar_notifications.TagResource,
            ],
            Resource=[
                Sub(f"arn:{PARTITION}:codestar-notifications:{account_region}:notificationrule/*")
            ],
        ),
        Statement(
            Sid="Connection",
            Effect=Allow,
            Action=[
                codeconnections.CreateConnection,
                codeconnections.DeleteConnection,
                codeconnections.GetConnection,
                codeconnections.TagResource,
            ],
            Resource=[_arn("codeconnections", "connection/*")],
        ),
        Statement(
            Sid="ImageReplication",
            Effect=Allow,
            Action=[ecr.PutReplicationConfiguration, ecr.DescribeRegistry],
            Resource=["*"],  # registry-level settings: no resource-level permission
        ),
        Statement(
            Sid="ImageReplicationServiceRole",
            Effect=Allow,
            Action=[iam.CreateServiceLinkedRole],
            Resource=[
                Sub(
                    f"arn:{PARTITION}:iam::${{AWS::AccountId}}:role/aws-service-role/"
                    "replication.ecr.amazonaws.com/AWSServiceRoleForECRReplication"
                )
            ],
            Condition=Condition(
                StringEquals("iam:AWSServiceName", "replication.ecr.amazonaws.com")
            ),
        ),
    ]
    role = service_role(
        "SelfUpdateRole",
        "Baseball Playback pipelines: CloudFormation, updating the pipeline stack itself",
        service="cloudformation.amazonaws.com",
        source_arn=None,  # CloudFormation documents no source keys for a service role
        policy_name="pipeline-stack",
        statements=statements,
    )
    role.RoleName = _name("cfn")
    return suppress(role, {ACCOUNT_WIDE: "Notification rules and connections get generated IDs: "
                           "this account's, in this region"})  # fmt: skip
