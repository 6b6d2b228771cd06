"""Secret rotation: what AWS's hosted rotation function reads from the secret it rotates and
must reach from its subnets, in every environment as its parameter file deploys it.

A RotationSchedule's HostedRotationLambda deploys one of Secrets Manager's rotation function
templates (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_available-rotation-templates.html).
An alternating-users one (`...MultiUser`):
- signs in as the master user with the secret the rotated secret's `masterarn` names
  (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html);
  without the key, setSecret fails (KeyError);
- for MySQL, clones the user as `<username>_clone` and refuses a clone name over its
  USERNAME_CHARACTER_LIMIT, 16 unless set, which no HostedRotationLambda property sets
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-secretsmanager-rotationschedule-hostedrotationlambda.html);
- calls Secrets Manager and, where the master secret is RDS's own (`MasterUserSecret`, which
  holds no host), the RDS API (DescribeDBInstances). From VPC subnets a Lambda function has no
  public address: it reaches them through a NAT gateway or an interface endpoint with private
  DNS (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-internet.html,
  https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot_rotation.html).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from playback_infra.checks.contracts.rule import Rule, Source, Subject, source
from playback_infra.deployed_environment import DeployedEnvironment

CLONE_SUFFIX = "_clone"
# Rotation type -> USERNAME_CHARACTER_LIMIT of its function (the template's default).
USERNAME_LIMITS = {"MySQLMultiUser": 16}
RDS_MANAGED = {("AWS::RDS::DBInstance", "MasterUserSecret.SecretArn"),
               ("AWS::RDS::DBCluster", "MasterUserSecret.SecretArn")}  # fmt: skip
SUB_VARIABLE = re.compile(r"^\$\{([^}]+)\}$")


def _subnets(env: DeployedEnvironment, stack: str, node) -> list[Source]:
    """The subnet resources a VpcSubnetIds value names (a list, a joined list, a parameter)."""
    if isinstance(node, dict) and list(node) == ["Fn::Join"]:
        return _subnets(env, stack, node["Fn::Join"][1])
    if isinstance(node, list):
        return [s for item in node for s in _subnets(env, stack, item)]
    if (
        isinstance(node, dict)
        and list(node) == ["Ref"]
        and node["Ref"] not in env.stacks[stack].resources
    ):
        for other, deployed in env.stacks.items():
            if node["Ref"] in deployed.outputs:
                return _subnets(env, other, deployed.outputs[node["Ref"]]["Value"])
        return []
    found = source(env.stacks, stack, node)
    return [found] if found else []


def _has_nat_route(env: DeployedEnvironment, subnet: Source) -> bool:
    """Whether the subnet's route table sends 0.0.0.0/0 to a NAT gateway."""
    stack, subnet_id, _ = subnet
    resources = env.stacks[stack].resources
    tables = {
        r["Properties"]["RouteTableId"].get("Ref")
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
        and r["Properties"]["SubnetId"] == {"Ref": subnet_id}
    }
    return any(
        r["Type"] == "AWS::EC2::Route"
        and r["Properties"].get("RouteTableId", {}).get("Ref") in tables
        and r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"
        and "NatGatewayId" in r["Properties"]
        for r in resources.values()
    )


def _has_endpoint(env: DeployedEnvironment, stack: str, service: str) -> bool:
    """Whether the VPC of `stack` has an interface endpoint with private DNS for `service`."""
    for resource in env.stacks[stack].resources.values():
        p = resource["Properties"] if resource["Type"] == "AWS::EC2::VPCEndpoint" else {}
        name = p.get("ServiceName", "")
        name = name.get("Fn::Sub", "") if isinstance(name, dict) else name
        if (
            p.get("VpcEndpointType") == "Interface"
            and p.get("PrivateDnsEnabled") is True
            and name.endswith(f".{service}")
        ):
            return True
    return False


def _secret_json(properties: dict) -> tuple[dict, dict] | None:
    """The secret's JSON (a generated one's template) and its Fn::Sub variables."""
    text = (properties.get("GenerateSecretString") or {}).get(
        "SecretStringTemplate", properties.get("SecretString")
    )
    variables: dict = {}
    if isinstance(text, dict) and list(text) == ["Fn::Sub"]:
        sub = text["Fn::Sub"]
        text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return (value, variables) if isinstance(value, dict) else None


def _schedules(env: DeployedEnvironment) -> Iterator[tuple[str, str, dict]]:
    for stack, logical_id, schedule in env.resources("AWS::SecretsManager::RotationSchedule"):
        hosted = schedule["Properties"].get("HostedRotationLambda")
        if hosted:
            yield stack, logical_id, hosted


def _secret_findings(env, stack, schedule, hosted) -> Iterator[str]:
    rotation_type = hosted["RotationType"]
    if not rotation_type.endswith("MultiUser"):
        return
    secret = source(
        env.stacks, stack, env.stacks[stack].resources[schedule]["Properties"]["SecretId"]
    )
    if secret is None:
        return
    secret_stack, secret_id, _ = secret
    parsed = _secret_json(env.stacks[secret_stack].resources[secret_id]["Properties"])
    if parsed is None:
        return
    value, variables = parsed
    where = f"{env.name}: {secret_stack} {secret_id}"
    if "masterarn" not in value:
        yield (
            f"{where} is rotated by {stack} {schedule} ({rotation_type}), which signs in with the "
            'secret its "masterarn" names: add "masterarn" (the master secret\'s ARN) to its '
            "SecretStringTemplate; setSecret fails with KeyError 'masterarn' without it "
            "(https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html)"
        )
    else:
        variable = SUB_VARIABLE.match(str(value["masterarn"]))
        named = source(env.stacks, secret_stack, variables.get(variable[1])) if variable else None
        master = source(env.stacks, stack, hosted.get("MasterSecretArn"))
        if named and master and named != master:
            yield (
                f'{where}\'s "masterarn" names {named[0]} {named[1]}, but {stack} {schedule} '
                f"gives its function {master[0]} {master[1]} as MasterSecretArn: name the same "
                "master secret"
            )
    limit, username = USERNAME_LIMITS.get(rotation_type), value.get("username")
    if limit and isinstance(username, str) and len(username + CLONE_SUFFIX) > limit:
        yield (
            f'{where}\'s user "{username}" is cloned as "{username}{CLONE_SUFFIX}", '
            f"{len(username + CLONE_SUFFIX)} characters: {rotation_type} refuses a clone name over "
            f"{limit} (USERNAME_CHARACTER_LIMIT, which no HostedRotationLambda property sets); use a "
            f"name of at most {limit - len(CLONE_SUFFIX)} characters "
            "(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-secretsmanager-rotationschedule-hostedrotationlambda.html)"
        )


def _network_findings(env, stack, schedule, hosted) -> Iterator[str]:
    subnets = _subnets(env, stack, hosted.get("VpcSubnetIds"))
    if not subnets:
        return  # outside a VPC the function reaches AWS's APIs directly
    without_nat = [s for s in subnets if not _has_nat_route(env, s)]
    if not without_nat:
        return
    needed = {"secretsmanager": "Secrets Manager"}
    master = source(env.stacks, stack, hosted.get("MasterSecretArn"))
    if master and (env.stacks[master[0]].resources[master[1]]["Type"], master[2]) in RDS_MANAGED:
        needed["rds"] = "the RDS API (the RDS-managed master secret holds no host)"
    network = without_nat[0][0]
    for service, what in needed.items():
        if not _has_endpoint(env, network, service):
            names = ", ".join(s[1] for s in without_nat)
            yield (
                f"{env.name}: {stack} {schedule}'s function runs in {names}, which route to no NAT "
                f"gateway, and {network} has no {service} interface endpoint with private DNS: "
                f"it cannot reach {what} (a Lambda function in a VPC has no public address); add "
                "the endpoint or a NAT (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-internet.html)"
            )


def find(subject: Subject) -> Iterator[str]:
    for _name, env in sorted(subject.deployed.items()):
        for stack, schedule, hosted in _schedules(env):
            yield from _secret_findings(env, stack, schedule, hosted)
            yield from _network_findings(env, stack, schedule, hosted)


RULE = Rule(
    "rotation",
    "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_available-rotation-templates.html",
    find,
)
