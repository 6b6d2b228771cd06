"""The VPC's default security group left with no rules (stacks/security/default_group.py): its
handler run against the emulator's EC2, then the whole custom resource as CloudFormation runs it
(ministack runs the inline function and waits for its answer)."""

from __future__ import annotations

import json

import pytest
from botocore.session import get_session
from troposphere import Template

from conftest import ACCOUNT, REGION, client, failure_reasons, new_stack_name, wait_stack
from playback_infra.parts.iam import cloudwatch_logs_use, customer_key
from playback_infra.stacks.security import default_group, default_group_handler

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def with_endpoint(endpoint, monkeypatch_module):
    """The handler's botocore client, pointed at the emulator as Lambda's environment would."""
    for name, value in (("AWS_ENDPOINT_URL", endpoint), ("AWS_DEFAULT_REGION", REGION),
                        ("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")):  # fmt: skip
        monkeypatch_module.setenv(name, value)
    return endpoint


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def as_aws_makes_it(ec2) -> tuple[str, str]:
    """A VPC and its default group with AWS's two rules: all traffic from the group itself in,
    all traffic to anywhere out (ministack's starts with the egress rule only)."""
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    (group,) = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    ingress, _ = default_group_handler.default_rules(group["GroupId"], ACCOUNT)
    ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=ingress)
    return vpc, group["GroupId"]


def rules(ec2, group_id) -> tuple[list, list]:
    (group,) = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    return group["IpPermissions"], group["IpPermissionsEgress"]


def test_the_handler_revokes_both_default_rules_and_tolerates_their_absence(with_endpoint):
    ec2 = client("ec2", with_endpoint)
    _, group_id = as_aws_makes_it(ec2)
    ingress, egress = rules(ec2, group_id)
    assert ingress and egress
    handler_ec2 = get_session().create_client("ec2")
    default_group_handler.restrict(handler_ec2, group_id, ACCOUNT)
    assert rules(ec2, group_id) == ([], [])
    default_group_handler.restrict(handler_ec2, group_id, ACCOUNT)  # again: nothing to revoke
    assert rules(ec2, group_id) == ([], [])


def test_the_handler_answers_failed_with_the_reason(with_endpoint):
    """A group that does not exist: CloudFormation hears FAILED and why, and nothing raises."""
    answers = []

    def respond(event, status, reason, physical_id):
        answers.append((status, reason, physical_id))

    event = {"RequestType": "Create",
             "ResourceProperties": {"DefaultSecurityGroupId": "sg-0000000000000000f",
                                    "AccountId": ACCOUNT}}  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(default_group_handler, "respond", respond)
        default_group_handler.handler(event, None)
        default_group_handler.handler({**event, "RequestType": "Delete"}, None)
    ((status, reason, physical_id), deleted) = answers
    assert status == "FAILED" and "InvalidGroup.NotFound" in reason
    assert physical_id == "sg-0000000000000000f"
    assert deleted == ("SUCCESS", "", "sg-0000000000000000f")  # Delete touches nothing


def test_the_custom_resource_leaves_the_default_group_without_rules(with_endpoint):
    ec2 = client("ec2", with_endpoint)
    _, group_id = as_aws_makes_it(ec2)
    t = Template()
    logs_key = t.add_resource(customer_key("LogsKey", "logs", [cloudwatch_logs_use()]))
    default_group.add_default_group_restriction(t, logs_key)
    cfn = client("cloudformation", with_endpoint)
    stack_id = cfn.create_stack(
        StackName=new_stack_name(),
        TemplateBody=json.dumps(t.to_dict()),
        Parameters=[{"ParameterKey": "DefaultSecurityGroupId", "ParameterValue": group_id}],
        Capabilities=["CAPABILITY_IAM"],
    )["StackId"]
    stack = wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")
    assert stack["StackStatus"] == "CREATE_COMPLETE", failure_reasons(cfn, stack_id)
    assert rules(ec2, group_id) == ([], [])
    function = cfn.describe_stack_resource(
        StackName=stack_id, LogicalResourceId="DefaultGroupRestrictionFunction"
    )["StackResourceDetail"]["PhysicalResourceId"]
    configuration = client("lambda", with_endpoint).get_function_configuration(
        FunctionName=function
    )
    assert (configuration["Runtime"], configuration["Handler"]) == ("python3.12", "index.handler")
