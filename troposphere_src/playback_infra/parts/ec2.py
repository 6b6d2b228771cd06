"""Security-group and task-network building blocks shared by the stacks."""

from troposphere import Equals, If, Ref, Template
from troposphere.ec2 import SecurityGroupRule

from playback_infra.parts import values

# NatMode public-ips: no NAT; the app tier routes to the internet gateway, so a task needs a
# public IPv4 address of its own to reach OpenAI and AWS APIs.
TASKS_NEED_PUBLIC_IP = "TasksNeedPublicIp"


def add_public_ip_condition(template: Template) -> None:
    """`TasksNeedPublicIp` (consumes NatMode)."""
    values.consume(template, values.NAT_MODE)
    template.add_condition(TASKS_NEED_PUBLIC_IP, Equals(Ref(values.NAT_MODE), "public-ips"))


def assign_public_ip() -> If:
    """An awsvpc task's AssignPublicIp (needs `TasksNeedPublicIp`)."""
    return If(TASKS_NEED_PUBLIC_IP, "ENABLED", "DISABLED")


# A security group without egress rules gets AWS's allow-all egress rule. This rule matches
# nothing (ICMP type 252, code 86 to the broadcast address), so the group has no egress at
# all until rules of its own are added; AWS CDK uses the same rule for the same reason.
NO_EGRESS = SecurityGroupRule(
    IpProtocol="icmp",
    FromPort=252,
    ToPort=86,
    CidrIp="255.255.255.255/32",
    Description="Disallow all traffic",
)
