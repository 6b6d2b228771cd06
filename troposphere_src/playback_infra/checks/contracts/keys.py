"""Key usage: every resource that names a customer managed KMS key is admitted by that key's
policy for the AWS service that will use the key, in every environment as its parameter files
deploy it and in every standalone template (with its parameters' defaults), cross-region backup
copies included.

A key policy is the only thing that can let anyone use a key: an IAM policy or a service's grant
counts only where the key policy allows it, and a service acting for a caller is recognised by
`kms:ViaService`, a service acting as itself by its service principal
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html). The emulator
evaluates no key policy, so a key the service may not use passes every deploy test and fails the
first real one. `USES` says, per resource type, which property names the key, how its service
uses it and the AWS page that documents it; each failure quotes that page.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from playback_infra.checks.contracts.rule import Rule, Subject, source
from playback_infra.deployed import Deployed, as_deployed
from playback_infra.deployed_environment import nested_templates

KEY_POLICIES = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"
REGION = "${AWS::Region}"
ACCOUNT_ROOT = "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
NO_VALUE = {"Ref": "AWS::NoValue"}


@dataclass(frozen=True)
class Use:
    """One way an AWS service uses a key: through `via` for a caller of this account
    (kms:ViaService), as the service principal `principal`, or by the resource's own role
    (`role`); `actions` it needs; the page that says so."""

    actions: frozenset[str]
    doc: str
    via: str | None = None
    principal: str | None = None
    role: str | None = None
    """The property of the resource that names its role (a GetAtt of the role's Arn)."""

    def to(self) -> str:
        """Whom the key policy must allow."""
        if self.via:
            return f"callers through {self.via}.{REGION}.amazonaws.com (kms:ViaService)"
        if self.principal:
            return f"the service principal {self.principal}"
        return f"the role the resource's {self.role} names"


def _via(service: str, actions: set[str], doc: str) -> Use:
    return Use(frozenset(actions), doc, via=service)


GRANTS = {"kms:CreateGrant", "kms:DescribeKey"}
DATA_KEYS = {"kms:Decrypt", "kms:GenerateDataKey"}
RDS_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html"
SECRETS_DOC = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html"
S3_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"
LOGS_DOC = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"
SNS_DOC = (
    "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
    "#compatibility-with-aws-services"
)
BACKUP_DOC = "https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html"
COPY_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html"
CACHE_DOC = (
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html"
    "#using-customer-managed-keys-for-elasticache-security"
)
PIPELINE_DOC = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/S3-artifact-encryption.html"
)
BUILD_DOC = "https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-kms.html"
ECR_DOC = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html"
TRAIL_DOC = (
    "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
    "create-kms-key-policy-for-cloudtrail.html"
)

LOGS = Use(
    frozenset({"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}),
    LOGS_DOC,
    principal=f"logs.{REGION}.amazonaws.com",
)
SECRETS = _via("secretsmanager", DATA_KEYS, SECRETS_DOC)
# Resource type -> (path to the property naming the key ("*" for every list item), its uses).
USES: dict[str, tuple[tuple[tuple[str, ...], tuple[Use, ...]], ...]] = {
    "AWS::RDS::DBInstance": (
        (("KmsKeyId",), (_via("rds", GRANTS, RDS_DOC),)),
        (("PerformanceInsightsKMSKeyId",), (_via("rds", GRANTS, RDS_DOC),)),
        (("MasterUserSecret", "KmsKeyId"), (SECRETS,)),
    ),
    "AWS::SecretsManager::Secret": ((("KmsKeyId",), (SECRETS,)),),
    "AWS::Logs::LogGroup": ((("KmsKeyId",), (LOGS,)),),
    "AWS::SQS::Queue": (
        (("KmsMasterKeyId",), (_via("sqs", DATA_KEYS, "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html"),)),
    ),
    "AWS::S3::Bucket": (
        (
            ("BucketEncryption", "ServerSideEncryptionConfiguration", "*",
             "ServerSideEncryptionByDefault", "KMSMasterKeyID"),
            (_via("s3", DATA_KEYS, S3_DOC),),
        ),
    ),
    # Both names: serverless caches use the key through both (ElastiCache's page says so).
    "AWS::ElastiCache::ServerlessCache": (
        (("KmsKeyId",), (_via("elasticache", GRANTS, CACHE_DOC), _via("dax", GRANTS, CACHE_DOC))),
    ),
    "AWS::Backup::BackupVault": (
        (("EncryptionKeyArn",), (_via("backup", {"kms:CreateGrant", *DATA_KEYS}, BACKUP_DOC),)),
    ),
    "AWS::CodePipeline::Pipeline": (
        (("ArtifactStore", "EncryptionKey", "Id"),
         (Use(frozenset(DATA_KEYS), PIPELINE_DOC, role="RoleArn"),)),
        (("ArtifactStores", "*", "ArtifactStore", "EncryptionKey", "Id"),
         (Use(frozenset(DATA_KEYS), PIPELINE_DOC, role="RoleArn"),)),
    ),
    "AWS::CodeBuild::Project": (
        (("EncryptionKey",), (Use(frozenset(DATA_KEYS), BUILD_DOC, role="ServiceRole"),)),
    ),
    "AWS::ECR::Repository": (
        (("EncryptionConfiguration", "KmsKey"), (_via("ecr", GRANTS, ECR_DOC),)),
    ),
    "AWS::CloudTrail::Trail": (
        (("KMSKeyId",),
         (Use(frozenset({"kms:GenerateDataKey", "kms:DescribeKey"}), TRAIL_DOC,
              principal="cloudtrail.amazonaws.com"),)),
    ),
}  # fmt: skip
# An RDS snapshot copied to another region's vault is copied by RDS there, with that vault's
# key; AWS Backup itself also uses it (grants). Resource type of a selection -> the use.
COPY_USES = {"DBInstanceArn": _via("rds", GRANTS, COPY_DOC)}


def _text(node) -> str:
    """A string or Fn::Sub as its template text; anything else as JSON."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and list(node) == ["Fn::Sub"]:
        sub = node["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return json.dumps(node, sort_keys=True)


def _list(node) -> list:
    return node if isinstance(node, list) else [node]


def _values(node, path: tuple[str, ...]) -> Iterator[object]:
    if not path:
        yield node
    elif path[0] == "*":
        for item in node if isinstance(node, list) else []:
            yield from _values(item, path[1:])
    elif isinstance(node, dict) and path[0] in node:
        yield from _values(node[path[0]], path[1:])


@dataclass(frozen=True)
class Stacks:
    """Templates deployed together, as one place to resolve a key reference across them."""

    where: str
    stacks: Mapping[str, Deployed]

    def key(self, stack: str, node) -> tuple[str, str] | None:
        """(stack, logical ID) of the AWS::KMS::Key that `node` names, following a parameter
        to the output of the same name in a sibling stack."""
        found = source(self.stacks, stack, node)
        if found and self.stacks[found[0]].resources[found[1]]["Type"] == "AWS::KMS::Key":
            return found[:2]
        return None

    def role_arn(self, stack: str, node) -> str | None:
        if isinstance(node, dict) and list(node) == ["Fn::GetAtt"]:
            role = self.stacks[stack].resources.get(node["Fn::GetAtt"][0], {})
            name = role.get("Properties", {}).get("RoleName")
            if isinstance(name, str):
                return f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}"
        return None


def _principals(statement: dict, kind: str) -> list[str]:
    principal = statement.get("Principal", {})
    if principal == "*":
        return ["*"]
    return [_text(p) for p in _list(principal.get(kind, []))]


def _condition(statement: dict, key: str) -> list[str] | None:
    for operator in statement.get("Condition", {}).values():
        if key in operator:
            return [_text(v) for v in _list(operator[key])]
    return None


def _allowed(statement: dict, actions: frozenset[str]) -> set[str]:
    granted = {a for a in _list(statement.get("Action", [])) if isinstance(a, str)}
    return {a for a in actions if any(fnmatch.fnmatchcase(a, g) for g in granted)}


def _admits(statement: dict, use: Use, role: str | None) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if use.principal:
        return use.principal in _principals(statement, "Service")
    callers = _principals(statement, "AWS")
    if not {"*", ACCOUNT_ROOT} & set(callers) and (role is None or role not in callers):
        return False
    via = _condition(statement, "kms:ViaService")
    principal_arns = _condition(statement, "aws:PrincipalArn")
    if use.via:
        wanted = f"{use.via}.{REGION}.amazonaws.com"
        return via is None or any(fnmatch.fnmatchcase(wanted, v) for v in via)
    return via is None and (
        principal_arns is None
        or (role is not None and any(fnmatch.fnmatchcase(role, p) for p in principal_arns))
    )


def _missing(policy: dict, use: Use, role: str | None) -> frozenset[str]:
    granted: set[str] = set()
    for statement in _list(policy.get("Statement", [])):
        if _admits(statement, use, role):
            granted |= _allowed(statement, use.actions)
    return use.actions - granted


def _publishers(deployed: Deployed, topic: str) -> Iterator[str]:
    """The service principals the topic's policy lets publish: each must be able to use the key."""
    for resource in deployed.resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] != "AWS::SNS::TopicPolicy" or {"Ref": topic} not in props["Topics"]:
            continue
        for statement in props["PolicyDocument"]["Statement"]:
            if statement.get("Effect") == "Allow" and "sns:Publish" in _list(statement["Action"]):
                yield from _principals(statement, "Service")


def _uses(stacks: Stacks, stack: str, logical_id: str, resource: dict):
    """(property, key node, use) of each key the resource names."""
    props = resource.get("Properties", {})
    for path, uses in USES.get(resource["Type"], ()):
        for node in _values(props, path):
            for use in uses:
                yield ".".join(path), node, use
    if resource["Type"] == "AWS::SNS::Topic" and "KmsMasterKeyId" in props:
        for principal in _publishers(stacks.stacks[stack], logical_id):
            use = Use(frozenset(DATA_KEYS), SNS_DOC, principal=principal)
            yield "KmsMasterKeyId", props["KmsMasterKeyId"], use


def _problems(stacks: Stacks) -> Iterator[str]:
    for stack, deployed in sorted(stacks.stacks.items()):
        for logical_id, resource in sorted(deployed.resources.items()):
            for prop, node, use in _uses(stacks, stack, logical_id, resource):
                yield from _check(stacks, stack, f"{logical_id}.{prop}", node, use, resource)


def _check(stacks: Stacks, stack: str, what: str, node, use: Use, resource: dict):
    if node == NO_VALUE:
        return
    key = stacks.key(stack, node)
    if key is None:
        yield (
            f"{stacks.where}: {stack} {what} names {_text(node)}, not a key of these templates: "
            f"name a customer managed key whose policy allows {', '.join(sorted(use.actions))} "
            f"to {use.to()} ({use.doc})"
        )
        return
    role = (
        stacks.role_arn(stack, resource.get("Properties", {}).get(use.role)) if use.role else None
    )
    policy = stacks.stacks[key[0]].resources[key[1]]["Properties"]["KeyPolicy"]
    missing = _missing(policy, use, role)
    if missing:
        yield (
            f"{stacks.where}: {stack} {what} uses key {key[0]} {key[1]}, whose policy does not "
            f"allow {', '.join(sorted(missing))} to {use.to()}: add a statement that does "
            f"({use.doc})"
        )


def _copy_problems(source: Stacks, targets: list[Stacks]) -> Iterator[str]:
    """A backup plan's copies land in another template's vault: its key must admit AWS Backup
    and, for each selected RDS instance, RDS in that region."""
    for stack, deployed in sorted(source.stacks.items()):
        selected = {
            attribute
            for r in deployed.resources.values()
            if r["Type"] == "AWS::Backup::BackupSelection"
            for item in r["Properties"]["BackupSelection"].get("Resources", [])
            if isinstance(item, dict) and "Fn::GetAtt" in item
            for attribute in [item["Fn::GetAtt"][1]]
        }
        for logical_id, resource in sorted(deployed.resources.items()):
            if resource["Type"] != "AWS::Backup::BackupPlan":
                continue
            for rule in resource["Properties"]["BackupPlan"]["BackupPlanRule"]:
                for action in rule.get("CopyActions", []):
                    destination = _text(action["DestinationBackupVaultArn"])
                    vault = _destination(destination, targets)
                    what = f"{logical_id} copy to {destination}"
                    if vault is None:
                        yield (
                            f"{source.where}: {stack} {what}: no template here creates that "
                            f"vault, so nothing shows its key admits the copies ({BACKUP_DOC})"
                        )
                        continue
                    target, vault_stack, vault_resource = vault
                    node = vault_resource["Properties"]["EncryptionKeyArn"]
                    uses = [_via("backup", {"kms:CreateGrant", *DATA_KEYS}, BACKUP_DOC)]
                    uses += [COPY_USES[a] for a in sorted(selected) if a in COPY_USES]
                    for use in uses:
                        for found in _check(target, vault_stack, "EncryptionKeyArn", node, use, {}):
                            yield f"{source.where}: {stack} {what} -> {found}"


def _destination(arn: str, targets: list[Stacks]):
    for target in targets:
        for stack, deployed in target.stacks.items():
            for resource in deployed.resources.values():
                if resource["Type"] != "AWS::Backup::BackupVault":
                    continue
                name = _text(resource["Properties"].get("BackupVaultName", ""))
                if name and arn.endswith(f":backup-vault:{name}"):
                    return target, stack, resource
    return None


# What a condition of a standalone template may compare (one account and region stand for all).
PSEUDO = {"AWS::AccountId": "111122223333", "AWS::Region": "us-east-1", "AWS::Partition": "aws"}


def _standalone(subject: Subject) -> list[Stacks]:
    """Each template no environment root nests, deployed on its own with its defaults."""
    nested = set(nested_templates(subject.templates["root"]).values()) | {"root"}
    found = []
    for name, template in sorted(subject.templates.items()):
        if name in nested:
            continue
        defaults = dict(PSEUDO) | {
            p: str(s.get("Default", "")) for p, s in template.get("Parameters", {}).items()
        }
        found.append(Stacks(f"{name}.yaml", {name: as_deployed(template, defaults)}))
    return found


def find(subject: Subject) -> Iterator[str]:
    standalone = _standalone(subject)
    for stacks in standalone:
        yield from _problems(stacks)
    for name, environment in sorted(subject.deployed.items()):
        stacks = Stacks(name, environment.stacks)
        yield from _problems(stacks)
        yield from _copy_problems(stacks, standalone)


RULE = Rule("key usage", KEY_POLICIES, find)
