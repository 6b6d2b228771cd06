"""ECS task roles, the statements every task of ours needs, and its log configuration,
written once."""

from __future__ import annotations

from awacs import ecr, kms, logs, s3, secretsmanager
from awacs.aws import Allow, Condition, Policy, Statement, StringEquals
from troposphere import Ref, Sub
from troposphere.ecs import LogConfiguration
from troposphere.iam import Policy as InlinePolicy
from troposphere.iam import Role

from playback_infra.parts.iam import service_trust_policy


def image_uri(repository: str, tag_parameter: str) -> Sub:
    """An image of this account's ECR repository, by the tag a parameter gives."""
    return Sub(
        f"${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/{repository}:${{{tag_parameter}}}"
    )


def awslogs(log_group, prefix: str, **options: str) -> LogConfiguration:
    """A container's output to `log_group` (in this region), in streams under `prefix`."""
    return LogConfiguration(
        LogDriver="awslogs",
        Options={
            "awslogs-group": Ref(log_group),
            "awslogs-region": Ref("AWS::Region"),
            "awslogs-stream-prefix": prefix,
            **options,
        },
    )


def task_role(
    title: str, description: str, statements: list[Statement], managed: list | None = None
) -> Role:
    """A role only ECS tasks of this account may assume, with one least-privilege policy."""
    return Role(
        title,
        Description=description,
        AssumeRolePolicyDocument=service_trust_policy(
            "ecs-tasks.amazonaws.com",
            Sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*"),
        ),
        Policies=[
            InlinePolicy(
                PolicyName="least-privilege",
                PolicyDocument=Policy(Version="2012-10-17", Statement=statements),
            )
        ],
        **({"ManagedPolicyArns": managed} if managed else {}),
    )


def pull_and_log(repository: str, log_group_arn) -> list[Statement]:
    """What an execution role needs to start a task: pull `repository`, write the log group."""
    return [
        # GetAuthorizationToken has no resource-level permission (checks/iam.py).
        Statement(Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=["*"]),
        Statement(
            Effect=Allow,
            Action=[
                ecr.BatchGetImage,
                ecr.GetDownloadUrlForLayer,
                ecr.BatchCheckLayerAvailability,
            ],
            Resource=[
                Sub(
                    f"arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{repository}"
                )
            ],
        ),
        Statement(
            Effect=Allow,
            Action=[logs.CreateLogStream, logs.PutLogEvents],
            Resource=[log_group_arn],
        ),
    ]


def _via(service: str) -> Condition:
    return Condition(
        StringEquals("kms:ViaService", Sub(f"{service}.${{AWS::Region}}.amazonaws.com"))
    )


def read_secrets(secrets: list, key_arn) -> list[Statement]:
    """Read these secrets, decrypting with their key only through Secrets Manager."""
    return [
        Statement(Effect=Allow, Action=[secretsmanager.GetSecretValue], Resource=secrets),
        Statement(
            Effect=Allow, Action=[kms.Decrypt], Resource=[key_arn], Condition=_via("secretsmanager")
        ),
    ]


def read_bucket(bucket_arn, key_arn) -> list[Statement]:
    """List and read a bucket's objects, decrypting with its key only through S3."""
    return [
        Statement(
            Effect=Allow, Action=[s3.GetObject], Resource=[Sub("${Bucket}/*", Bucket=bucket_arn)]
        ),
        Statement(Effect=Allow, Action=[s3.ListBucket], Resource=[bucket_arn]),
        Statement(Effect=Allow, Action=[kms.Decrypt], Resource=[key_arn], Condition=_via("s3")),
    ]
