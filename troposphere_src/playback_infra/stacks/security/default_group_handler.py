"""A CloudFormation custom resource's Lambda handler: removes the two rules a VPC's default
security group is created with, so the group admits and sends nothing (Security Hub EC2.2).

Run by AWS Lambda from the template (Code.ZipFile), with only what the Python runtime ships:
botocore (under its boto3) and the standard library; the response goes back over HTTPS with
urllib, as AWS's cfn-response module does. Create and Update (a replaced VPC) revoke the rules;
Delete leaves the group as it is: the VPC goes with the stack. A rule already gone is not an
error.
"""

import json
import urllib.request

from botocore.exceptions import ClientError
from botocore.session import get_session

NOT_FOUND = "InvalidPermission.NotFound"


def default_rules(group_id, account):
    """The ingress rule (all traffic from the group itself) and egress rule (all traffic to
    anywhere) every default security group starts with."""
    ingress = [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group_id, "UserId": account}]}]
    egress = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    return ingress, egress


def restrict(ec2, group_id, account):
    ingress, egress = default_rules(group_id, account)
    for revoke, permissions in (
        (ec2.revoke_security_group_ingress, ingress),
        (ec2.revoke_security_group_egress, egress),
    ):
        try:
            revoke(GroupId=group_id, IpPermissions=permissions)
        except ClientError as error:
            if error.response["Error"]["Code"] != NOT_FOUND:
                raise


def respond(event, status, reason, physical_id):
    body = json.dumps({
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
    }).encode()  # fmt: skip
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def handler(event, context):
    """Answers CloudFormation in every case, a failure with its reason (which the stack event
    shows), and returns: an error raised here would only make Lambda invoke it again."""
    properties = event["ResourceProperties"]
    group_id = properties["DefaultSecurityGroupId"]
    try:
        if event["RequestType"] in ("Create", "Update"):
            restrict(get_session().create_client("ec2"), group_id, properties["AccountId"])
    except Exception as error:
        print(f"restricting {group_id} failed: {error!r}")
        respond(event, "FAILED", f"{type(error).__name__}: {error}", group_id)
        return
    respond(event, "SUCCESS", "", group_id)
