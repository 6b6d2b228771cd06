"""Security-group building blocks shared by the stacks."""

from troposphere.ec2 import SecurityGroupRule

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
