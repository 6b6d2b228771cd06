"""IAM and key-policy building blocks, written with awacs so every action is named."""

from __future__ import annotations

from awacs import kms
from awacs.aws import (
    Allow,
    ArnLike,
    Condition,
    Policy,
    Principal,
    Statement,
    StringEquals,
)
from awacs.sts import AssumeRole
from troposphere import Sub
from troposphere.iam import Policy as InlinePolicy
from troposphere.iam import Role
from troposphere.kms import Key

ACCOUNT_ROOT = Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")

# Managing a key, never using it: the account's IAM policies decide which admins may do this.
KEY_ADMIN_ACTIONS = [
    kms.CancelKeyDeletion, kms.CreateAlias, kms.DeleteAlias, kms.DescribeKey, kms.DisableKey,
    kms.DisableKeyRotation, kms.EnableKey, kms.EnableKeyRotation, kms.GetKeyPolicy,
    kms.GetKeyRotationStatus, kms.ListGrants, kms.ListKeyPolicies, kms.ListKeyRotations,
    kms.ListResourceTags, kms.PutKeyPolicy, kms.RevokeGrant, kms.RotateKeyOnDemand,
    kms.ScheduleKeyDeletion, kms.TagResource, kms.UntagResource, kms.UpdateAlias,
    kms.UpdateKeyDescription,
]  # fmt: skip
KEY_USE_ACTIONS = [
    kms.Decrypt, kms.DescribeKey, kms.Encrypt, kms.GenerateDataKey,
    kms.GenerateDataKeyWithoutPlaintext, kms.ReEncryptFrom, kms.ReEncryptTo,
]  # fmt: skip

# Grants let RDS and Secrets Manager use the key for the resources they manage.
KEY_GRANT_ACTIONS = [kms.CreateGrant, kms.ListGrants, kms.RevokeGrant]

# In a key policy "Resource": "*" means "this key": AWS allows nothing else there.
THIS_KEY = "*"


def key_admin_statement() -> Statement:
    return Statement(
        Sid="KeyAdministration",
        Effect=Allow,
        Principal=Principal("AWS", [ACCOUNT_ROOT]),
        Action=KEY_ADMIN_ACTIONS,
        Resource=[THIS_KEY],
    )


def assumable_by(service: str) -> Policy:
    """A trust policy letting an AWS service assume the role, for a service whose documented
    trust policy has no aws:SourceArn or aws:SourceAccount to match, where a condition on
    either could fail every assumption. Passing the role needs iam:PassRole in this account,
    which no other account can be given. So documented:
    CloudFormation's service role (https://docs.aws.amazon.com/AWSCloudFormation/latest/
    UserGuide/using-iam-servicerole.html; its confused-deputy page covers only extensions'
    resource policies), ECS's infrastructure role (https://docs.aws.amazon.com/AmazonECS/
    latest/developerguide/infrastructure_IAM_role.html), AWS Backup's service role (its
    https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-service-confused-deputy-
    prevention.html covers key and topic policies only) and Lambda's execution role."""
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(Effect=Allow, Principal=Principal("Service", [service]), Action=[AssumeRole])
        ],
    )


def service_trust_policy(service: str, source_arn: Sub) -> Policy:
    """Let an AWS service assume a role, only for this account's `source_arn` (confused deputy)."""
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", [service]),
                Action=[AssumeRole],
                Condition=Condition(
                    [
                        StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
                        ArnLike("aws:SourceArn", source_arn),
                    ]
                ),
            )
        ],
    )


def service_role(
    title: str,
    description: str,
    *,
    service: str,
    source_arn: Sub | None,
    policy_name: str,
    statements: list[Statement],
) -> Role:
    """A role only `service` may assume, for this account's `source_arn`, with one inline policy.

    The pattern every stack follows for its roles: the trust names the service and the source
    (None for a service that sends none, see `assumable_by`), each statement names its actions
    and resources (`playback-infra check` enforces it).
    """
    trust = (
        assumable_by(service) if source_arn is None else service_trust_policy(service, source_arn)
    )
    return Role(
        title,
        Description=description,
        AssumeRolePolicyDocument=trust,
        Policies=[
            InlinePolicy(
                PolicyName=policy_name,
                PolicyDocument=Policy(Version="2012-10-17", Statement=statements),
            )
        ],
    )


def use_through_services(sid: str, services: list[str]) -> Statement:
    """Principals of this account may use the key, but only through these AWS services
    (kms:ViaService), grants for the resources those services manage included."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("AWS", [ACCOUNT_ROOT]),
        Action=KEY_USE_ACTIONS + KEY_GRANT_ACTIONS,
        Resource=[THIS_KEY],
        Condition=Condition(
            StringEquals(
                {
                    "kms:CallerAccount": Sub("${AWS::AccountId}"),
                    "kms:ViaService": [
                        Sub(f"{s}.${{AWS::Region}}.amazonaws.com") for s in services
                    ],
                }
            )
        ),
    )


# AWS Budgets and Cost Anomaly Detection, which notify the alarm topic.
BILLING_ALERT_SERVICES = ["budgets.amazonaws.com", "costalerts.amazonaws.com"]


def for_this_account(sid: str, services: list[str], actions: list, resource) -> Statement:
    """These AWS services may do `actions` on `resource`, when they act for this account."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("Service", services),
        Action=actions,
        Resource=[resource],
        Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
    )


def cloudwatch_logs_use() -> Statement:
    """CloudWatch Logs may use the key for this account's log groups in this region."""
    return Statement(
        Sid="CloudWatchLogs",
        Effect=Allow,
        Principal=Principal("Service", [Sub("logs.${AWS::Region}.amazonaws.com")]),
        Action=KEY_USE_ACTIONS,
        Resource=[THIS_KEY],
        Condition=Condition(
            ArnLike(
                "kms:EncryptionContext:aws:logs:arn",
                Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"),
            )
        ),
    )


def customer_key(title: str, description: Sub | str, statements: list[Statement]) -> Key:
    """A customer-managed key, rotated yearly, administered by the account and used as the
    statements say. The caller decides how it is retained."""
    return Key(
        title,
        Description=description,
        EnableKeyRotation=True,
        RotationPeriodInDays=365,
        PendingWindowInDays=30,
        KeyPolicy=Policy(Version="2012-10-17", Statement=[key_admin_statement(), *statements]),
    )
