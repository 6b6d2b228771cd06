"""The pipeline-target stack: the two roles the pipeline uses in an account that holds
environments. Deployed once in each such account (the pipeline's own account too, in the
single-account default), before the pipeline's first run; see docs/delivery.md.

- The deploy role (`baseball-playback-pipeline-deploy`): what the pipeline's actions and
  delivery commands in this account run as. Only the pipeline account's roles named
  `baseball-playback-pipeline-*` may assume it. It creates and executes change sets of the
  `baseball-playback-*` stacks, passing the execution role to CloudFormation; reads and writes
  the pipeline's artifacts; runs the jobs task definitions (migrations), reads their logs;
  publishes the site and invalidates CloudFront; records the commit it deployed (an SSM
  parameter per environment). It changes no other resource itself.
- The execution role (`baseball-playback-pipeline-cfn-exec`): what CloudFormation deploys
  the environments as. Only CloudFormation, for this account, may assume it. Its permissions
  are generated from the resource types the environment templates hold (`execution_permissions.py`
  beside this module) and split into managed policies within IAM's size limit; it may not change
  the pipeline's own roles or its artifact buckets.
- In an account other than the pipeline's, the registry policy that lets the pipeline account
  replicate its images here (ECR replication; registry policies are per region: deploy the
  stack in the environments' region).
"""

from __future__ import annotations

from awacs import cloudformation, cloudfront, ecr, ecs, iam, kms, logs, s3, ssm
from awacs.aws import (
    Action,
    Allow,
    ArnLike,
    ArnNotLike,
    Condition,
    Deny,
    Policy,
    Principal,
    Statement,
    StringEquals,
)
from awacs.sts import AssumeRole
from troposphere import Equals, GetAtt, Join, Not, Output, Parameter, Ref, Split, Sub, Template
from troposphere.ecr import RegistryPolicy
from troposphere.iam import ManagedPolicy, Role
from troposphere.iam import Policy as InlinePolicy

from playback_infra.parts import names, values
from playback_infra.parts.iam import assumable_by
from playback_infra.parts.suppress import ACCOUNT_WIDE, suppress
from playback_infra.parts.template import new_template, tag_component
from playback_infra.stacks.pipeline_target import execution_permissions

COMPONENT = "delivery"
PIPELINE_ACCOUNT_ID = "PipelineAccountId"
REPLICATED_HERE = "ReplicatedHere"  # not the pipeline's account: its images come by replication
ARTIFACT_BUCKET_NAMES = "ArtifactBucketNames"
ARTIFACT_KEY_ARNS = "ArtifactKeyArns"
PARTITION = "${AWS::Partition}"
ACCOUNT = "${AWS::AccountId}"
IN_ACCOUNT = f"*:{ACCOUNT}"  # any region of this account

STACKS = f"arn:{PARTITION}:cloudformation:{IN_ACCOUNT}:stack/baseball-playback-*/*"
ENVIRONMENT_ROLES = f"arn:{PARTITION}:iam::{ACCOUNT}:role/baseball-playback-*"
PIPELINE_ROLES = f"arn:{PARTITION}:iam::{ACCOUNT}:role/{names.PIPELINE_ROLE_PREFIX}*"
# The game-data stack's jobs: the cluster, the task definitions the delivery commands run
# (the import's, and the migrations' `-migrate`), and their log group, which CloudFormation
# names after the stack and the logical ID.
_ANY_ENV = f"${{{values.ENVIRONMENT_NAME}}}"
JOBS_CLUSTER = f"arn:{PARTITION}:ecs:{IN_ACCOUNT}:cluster/baseball-playback-*-jobs"
JOBS_FAMILIES = tuple(
    f"arn:{PARTITION}:ecs:{IN_ACCOUNT}:task-definition/{family.replace(_ANY_ENV, '*')}:*"
    for family in (names.IMPORT_WORKFLOW_NAME, f"baseball-playback-{_ANY_ENV}-migrate")
)
JOBS_TASKS = f"arn:{PARTITION}:ecs:{IN_ACCOUNT}:task/baseball-playback-*-jobs/*"
JOBS_LOG_GROUP = f"arn:{PARTITION}:logs:{IN_ACCOUNT}:log-group:baseball-playback-*-ImportLogGroup-*"
# The web stack's buckets: CloudFormation names them after the nested stack, lower-cased
# (`baseball-playback-<env>-webstack-...`).
SITE_BUCKETS = f"arn:{PARTITION}:s3:::baseball-playback-*-webstack-*"
# Each environment's deployed-commit parameter; a parameter's ARN is the name after
# `parameter` (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html).
DEPLOYED_COMMITS = (
    f"arn:{PARTITION}:ssm:{IN_ACCOUNT}:parameter"
    + names.DEPLOYED_COMMIT_PARAMETER.replace(_ANY_ENV, "*")
)
DISTRIBUTIONS = f"arn:{PARTITION}:cloudfront::{ACCOUNT}:distribution/*"
EDGE_TRANSFORM = f"arn:{PARTITION}:cloudformation:*:aws:transform/LanguageExtensions"
ARTIFACT_READS = [s3.GetObject, s3.GetObjectVersion]
UNSCOPED_WRITES = (
    "Writes on '*' are creations with no resource-level permission (the Service "
    "Authorization Reference lists no resource type; `playback-infra check` verifies it); "
    "every other action is scoped to this account or this project's names"
)


def build() -> Template:
    t = new_template(
        "pipeline target: the roles the pipeline deploys this account's environments with"
    )
    _add_parameters(t)
    execution = _add_execution_role(t)
    deploy = t.add_resource(
        suppress(
            Role(
                "DeployRole",
                RoleName=names.PIPELINE_DEPLOY_ROLE,
                Description="The pipeline's actions and delivery commands in this account",
                AssumeRolePolicyDocument=_pipeline_trust(),
                Policies=[_inline("deploy", _deploy_statements(execution))],
            ),
            {
                ACCOUNT_WIDE: "The site's CloudFront distribution has a generated ID: invalidations "
                "are granted on this account's distributions"
            },
        )
    )
    t.add_condition(REPLICATED_HERE, Not(Equals(Ref(PIPELINE_ACCOUNT_ID), Ref("AWS::AccountId"))))
    t.add_resource(
        RegistryPolicy(
            "ImageReplicationPolicy",
            Condition=REPLICATED_HERE,
            PolicyText=Policy(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="ReplicationFromThePipelineAccount",
                        Effect=Allow,
                        Principal=Principal(
                            "AWS",
                            [Sub(f"arn:${{AWS::Partition}}:iam::${{{PIPELINE_ACCOUNT_ID}}}:root")],
                        ),
                        Action=[ecr.ReplicateImage, ecr.CreateRepository],
                        Resource=[
                            Sub(
                                "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:"
                                "repository/baseball-playback/*"
                            )
                        ],
                    )
                ],
            ),
        )
    )
    for title, role, purpose in (
        ("DeployRoleArn", deploy, "the pipeline's actions assume in this account"),
        ("ExecutionRoleArn", execution, "the pipeline passes to CloudFormation here"),
    ):
        t.add_output(Output(title, Description=f"Role {purpose}", Value=GetAtt(role, "Arn")))
    tag_component(t, COMPONENT)
    return t


def _add_parameters(t: Template) -> None:
    t.add_parameter(
        Parameter(
            PIPELINE_ACCOUNT_ID,
            Type="String",
            Description="Account that holds the pipeline stack (this account's ID if it does)",
            AllowedPattern=r"^\d{12}$",
            ConstraintDescription="must be the pipeline account's 12-digit ID (`aws sts get-caller-identity` there)",
        )
    )
    t.add_parameter(
        Parameter(
            ARTIFACT_BUCKET_NAMES,
            Type="CommaDelimitedList",
            Description="The pipeline's artifact buckets, one per region it deploys to",
            AllowedPattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            ConstraintDescription="must be S3 bucket names, comma-separated, no spaces (the pipeline stacks' ArtifactBucketName outputs)",
        )
    )
    t.add_parameter(
        Parameter(
            ARTIFACT_KEY_ARNS,
            Type="CommaDelimitedList",
            Description="The KMS keys of those buckets",
            AllowedPattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[a-f0-9-]+$",
            ConstraintDescription="must be KMS key ARNs (arn:aws:kms:REGION:ACCOUNT:key/ID, not aliases), comma-separated, no spaces",
        )
    )


def _artifact_arns(suffixes: tuple[str, ...]) -> Split:
    """Each artifact bucket's ARN followed by each of `suffixes` (`""` the bucket, `/*` its
    objects). A Join's delimiter cannot hold `${AWS::Partition}`, so the partition is `*`: a
    role acts in its own partition only."""
    prefix = "arn:*:s3:::"
    names_ = Ref(ARTIFACT_BUCKET_NAMES)
    parts = [Join("", [prefix, Join(f"{s},{prefix}", names_), s]) for s in suffixes]
    return Split(",", Join(",", parts))


def _inline(name: str, statements: list[Statement]) -> InlinePolicy:
    return InlinePolicy(
        PolicyName=name, PolicyDocument=Policy(Version="2012-10-17", Statement=statements)
    )


def _trust(principal: Principal, condition: Condition) -> Policy:
    """`principal` may assume the role when `condition` holds, and no one else."""
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(Effect=Allow, Principal=principal, Action=[AssumeRole], Condition=condition)
        ],
    )


def _pipeline_trust() -> Policy:
    """The pipeline account's roles named with the pipeline's prefix."""
    account = f"arn:{PARTITION}:iam::${{{PIPELINE_ACCOUNT_ID}}}"
    return _trust(
        Principal("AWS", [Sub(f"{account}:root")]),
        Condition(
            ArnLike("aws:PrincipalArn", Sub(f"{account}:role/{names.PIPELINE_ROLE_PREFIX}*"))
        ),
    )


def _deploy_statements(execution: Role) -> list[Statement]:
    return [
        Statement(
            Sid="DeployStacks",
            Effect=Allow,
            # Change sets are authorized on their stack. CreateStack/UpdateStack: CodePipeline's
            # CREATE_UPDATE action. No DeleteStack: a stack is deleted by a person.
            Action=[
                cloudformation.CreateChangeSet,
                cloudformation.DescribeChangeSet,
                cloudformation.ExecuteChangeSet,
                cloudformation.DeleteChangeSet,
                cloudformation.CreateStack,
                cloudformation.UpdateStack,
                cloudformation.DescribeStacks,
                cloudformation.DescribeStackEvents,
                cloudformation.DescribeStackResources,
                cloudformation.GetTemplate,
            ],
            Resource=[Sub(STACKS)],
        ),
        Statement(
            Sid="ReplicatedImages",
            Effect=Allow,
            # release-image waits for the backend image ECR replicates into this account.
            Action=[ecr.DescribeImages],
            Resource=[
                Sub(
                    "arn:${AWS::Partition}:ecr:*:${AWS::AccountId}:repository/"
                    "baseball-playback/backend"
                )
            ],
        ),
        Statement(
            Sid="ValidateTemplates",
            Effect=Allow,
            Action=[cloudformation.ValidateTemplate],
            Resource=["*"],  # no resource-level permission
        ),
        Statement(
            Sid="EdgeGlobalTransform",  # edge-global.yaml, deployed on its own, uses it
            Effect=Allow,
            Action=[cloudformation.CreateChangeSet],
            Resource=[Sub(EDGE_TRANSFORM)],
        ),
        Statement(
            Sid="PassExecutionRole",
            Effect=Allow,
            Action=[iam.PassRole],
            Resource=[GetAtt(execution, "Arn")],
            Condition=Condition(
                StringEquals("iam:PassedToService", "cloudformation.amazonaws.com")
            ),
        ),
        Statement(
            Sid="Artifacts",
            Effect=Allow,
            # The CloudFormation action reads its input artifacts and may write its outputs.
            Action=[*ARTIFACT_READS, s3.PutObject, s3.GetBucketVersioning, s3.ListBucket],
            Resource=_artifact_arns(("", "/*")),
        ),
        Statement(
            Sid="ArtifactKeys",
            Effect=Allow,
            Action=[kms.Decrypt, kms.DescribeKey, kms.GenerateDataKey],
            Resource=Ref(ARTIFACT_KEY_ARNS),
        ),
        Statement(
            Sid="RunJobs",
            Effect=Allow,
            Action=[ecs.RunTask],
            Resource=[Sub(f) for f in JOBS_FAMILIES],
            Condition=Condition(ArnLike("ecs:cluster", Sub(JOBS_CLUSTER))),
        ),
        Statement(
            Sid="FollowJobs",
            Effect=Allow,
            Action=[ecs.DescribeTasks, ecs.StopTask],
            Resource=[Sub(JOBS_TASKS)],
            Condition=Condition(ArnLike("ecs:cluster", Sub(JOBS_CLUSTER))),
        ),
        Statement(
            Sid="PassJobRoles",
            Effect=Allow,
            Action=[iam.PassRole],
            Resource=[Sub(ENVIRONMENT_ROLES)],
            Condition=Condition(StringEquals("iam:PassedToService", "ecs-tasks.amazonaws.com")),
        ),
        Statement(
            Sid="ReadJobLogs",
            Effect=Allow,
            Action=[logs.GetLogEvents, logs.FilterLogEvents],
            Resource=[Sub(JOBS_LOG_GROUP)],  # the trailing * covers its log streams
        ),
        Statement(
            Sid="PublishSite",
            Effect=Allow,
            Action=[s3.ListBucket, s3.GetObject, s3.PutObject, s3.DeleteObject],
            Resource=[Sub(SITE_BUCKETS), Sub(f"{SITE_BUCKETS}/*")],
        ),
        Statement(
            Sid="RecordDeployedCommit",
            Effect=Allow,
            # Apply records the commit it deployed (pipeline/apply.yml, deployed_commit.py).
            Action=[ssm.PutParameter],
            Resource=[Sub(DEPLOYED_COMMITS)],
        ),
        Statement(
            Sid="InvalidateSite",
            Effect=Allow,
            Action=[cloudfront.CreateInvalidation, cloudfront.GetInvalidation],
            Resource=[Sub(DISTRIBUTIONS)],
        ),
    ]


def _guard_statements() -> list[Statement]:
    """Reading the artifacts (packaged nested templates), and denies no template can lift:
    the pipeline's own roles and its artifact buckets are not the environments', and no role
    gets an AWS managed policy the environments do not use."""
    granted = execution_permissions.actions()
    role_actions = [
        a
        for a in granted
        if a.startswith("iam:") and "role" in dict(execution_permissions.resource_arns(a))
    ]
    bucket_actions = [
        a
        for a in granted
        if a.startswith("s3:") and a not in {"s3:GetObject", "s3:GetObjectVersion"}
    ]
    return [
        Statement(
            Sid="ReadArtifacts",
            Effect=Allow,
            Action=ARTIFACT_READS,
            Resource=_artifact_arns(("/*",)),
        ),
        Statement(
            Sid="DecryptArtifacts",
            Effect=Allow,
            Action=[kms.Decrypt, kms.DescribeKey],
            Resource=Ref(ARTIFACT_KEY_ARNS),
        ),
        Statement(
            Sid="NotThePipelineRoles",
            Effect=Deny,
            Action=[Action(*a.split(":")) for a in role_actions],
            Resource=[Sub(PIPELINE_ROLES)],
        ),
        Statement(
            Sid="OnlyTheEnvironmentsManagedPolicies",
            Effect=Deny,
            Action=[iam.AttachRolePolicy],
            Resource=[Sub(ENVIRONMENT_ROLES)],
            Condition=Condition(
                ArnNotLike(
                    "iam:PolicyARN",
                    [Sub(p) for p in execution_permissions.ATTACHABLE_POLICIES],
                )
            ),
        ),
        Statement(
            Sid="NotTheArtifactBuckets",
            Effect=Deny,
            Action=[Action(*a.split(":")) for a in bucket_actions],
            Resource=_artifact_arns(("", "/*")),
        ),
    ]


GENERATED_NAMES = (
    "CloudFormation names most of what it creates (stack, logical ID, random suffix): "
    "without a known name pattern, the execution role acts on this account's resources of "
    "each type its templates use, and nothing else"
)


def _add_execution_role(t: Template) -> Role:
    generated = execution_permissions.policies()
    policies = [
        t.add_resource(
            suppress(
                ManagedPolicy(
                    f"ExecutionPolicy{index}",
                    Description=f"CloudFormation deploying the environments ({index} of {len(generated)})",
                    PolicyDocument=Policy(Version="2012-10-17", Statement=statements),
                ),
                {"CKV_AWS_111": UNSCOPED_WRITES, ACCOUNT_WIDE: GENERATED_NAMES},
            )
        )
        for index, statements in enumerate(generated, 1)
    ]
    return t.add_resource(
        Role(
            "ExecutionRole",
            RoleName=names.PIPELINE_EXECUTION_ROLE,
            Description="CloudFormation deploying this account's environments for the pipeline",
            # No source condition: CloudFormation documents none for a service role
            # (parts/iam.assumable_by); only this account can pass the role to it.
            AssumeRolePolicyDocument=assumable_by("cloudformation.amazonaws.com"),
            ManagedPolicyArns=[Ref(p) for p in policies],
            Policies=[_inline("artifacts-and-guards", _guard_statements())],
        )
    )
