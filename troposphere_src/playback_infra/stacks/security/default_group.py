"""The VPC's default security group, left with no rules (Security Hub EC2.2:
https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-2), part of the
security stack.

CloudFormation has no property for a VPC's default group's rules (AWS::EC2::VPC only reads its
id, `DefaultSecurityGroup`), so a custom resource does it, as CDK's `restrictDefaultSecurityGroup`
does: a small Lambda function (`default_group_handler.py`, inline) revokes the two rules AWS
creates the group with. It may revoke rules of that one group and write its own log, nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from awacs import ec2, logs
from awacs.aws import Allow, Statement
from troposphere import GetAtt, Ref, Sub, Template
from troposphere.awslambda import Code, Function, LoggingConfig
from troposphere.cloudformation import AWSCustomObject
from troposphere.logs import LogGroup

from playback_infra.parts import values
from playback_infra.parts.iam import service_role
from playback_infra.parts.suppress import suppress
from playback_infra.parts.template import stateful

HANDLER = Path(__file__).with_name("default_group_handler.py")
# Security Hub's default for log retention (CloudWatch.16: at least a year).
LOG_DAYS = 365
# CloudFormation waits this long for the function's answer (the default is an hour).
ANSWER_SECONDS = 300


class RestrictDefaultSecurityGroup(AWSCustomObject):
    """Custom::RestrictDefaultSecurityGroup: the handler's ResourceProperties."""

    resource_type = "Custom::RestrictDefaultSecurityGroup"
    props: ClassVar[dict] = {
        "ServiceToken": (str, True),
        "ServiceTimeout": (int, False),
        "DefaultSecurityGroupId": (str, True),
        "AccountId": (str, True),
    }


def add_default_group_restriction(t: Template, logs_key) -> RestrictDefaultSecurityGroup:
    values.consume(t, values.DEFAULT_SECURITY_GROUP_ID)
    group = Ref(values.DEFAULT_SECURITY_GROUP_ID)
    log_group = t.add_resource(
        stateful(LogGroup("DefaultGroupRestrictionLogGroup", KmsKeyId=GetAtt(logs_key, "Arn"),
                          RetentionInDays=LOG_DAYS))
    )  # fmt: skip
    role = t.add_resource(
        service_role(
            "DefaultGroupRestrictionRole",
            "Lets the function remove the rules of the VPC's default security group",
            service="lambda.amazonaws.com",
            source_arn=None,  # Lambda's execution role: no source keys (parts/iam.assumable_by)
            policy_name="restrict-default-group",
            statements=[
                Statement(
                    Effect=Allow,
                    Action=[ec2.RevokeSecurityGroupIngress, ec2.RevokeSecurityGroupEgress],
                    Resource=[
                        Sub(
                            "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:"
                            f"security-group/${{{values.DEFAULT_SECURITY_GROUP_ID}}}"
                        )
                    ],
                ),
                Statement(
                    Effect=Allow,
                    Action=[logs.CreateLogStream, logs.PutLogEvents],
                    Resource=[GetAtt(log_group, "Arn")],
                ),
            ],
        )
    )
    function = Function(
        "DefaultGroupRestrictionFunction",
        Description="Removes the rules of the VPC's default security group (Security Hub EC2.2)",
        Runtime="python3.12",
        Handler="index.handler",
        Code=Code(ZipFile=HANDLER.read_text()),
        Role=GetAtt(role, "Arn"),
        Timeout=60,
        MemorySize=128,
        ReservedConcurrentExecutions=1,
        LoggingConfig=LoggingConfig(LogGroup=Ref(log_group)),
    )
    suppress(function, {
        "CKV_AWS_116": "CloudFormation invokes it once per stack operation, and it answers every event, failures included, to CloudFormation, which fails the operation: a dead-letter queue would hold nothing to act on",
        "CKV_AWS_117": "It calls only the EC2 API and reaches nothing in the VPC; outside it, it needs no NAT or endpoint",
        "CKV_AWS_173": "It has no environment variables",
        "CKV_AWS_272": "Its code is inline in this generated template, reviewed and diffed with it; there is no package to sign",
    })  # fmt: skip
    t.add_resource(function)
    return t.add_resource(
        RestrictDefaultSecurityGroup(
            "DefaultSecurityGroupRestriction",
            ServiceToken=GetAtt(function, "Arn"),
            ServiceTimeout=ANSWER_SECONDS,
            DefaultSecurityGroupId=group,
            AccountId=Ref("AWS::AccountId"),
        )
    )
