"""Deploy EC2 network stacks into ministack with the plugin (emulator/ec2_service.py), and
read them back through EC2.

Each test deploys its own stack (its own VPC), so the tests do not depend on each
other's order. One emulator serves the module.
"""

from __future__ import annotations

import json

import pytest

from conftest import (
    REGION,
    deploy,
    failure_reasons,
    nested_stack_id,
    new_stack_name,
    outputs_of,
    put_template,
    update,
    wait_stack,
)

pytestmark = pytest.mark.emulator


def network_template(
    *,
    mysql_cidr="10.20.1.0/24",
    nat_name="nat-a",
    egress_rule_number=100,
    flow_traffic="REJECT",
    db_rule_description="mysql from app",
    associate_acl=True,
    app_to_db_egress=True,
    db_https_ingress=False,
    retain_network=False,
) -> str:
    """A VPC with every type the plugin adds; the keywords are what the tests change.

    ``retain_network`` keeps the VPC, the private subnet and the security groups
    when the stack is deleted, so the test can see what the delete left on them.
    """
    vpc, public, private = {"Ref": "Vpc"}, {"Ref": "PublicSubnet"}, {"Ref": "PrivateSubnet"}
    app_sg, db_sg = {"Fn::GetAtt": ["AppSg", "GroupId"]}, {"Fn::GetAtt": ["DbSg", "GroupId"]}
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.20.0.0/16"}},
        "PublicSubnet": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {"VpcId": vpc, "CidrBlock": "10.20.1.0/24"},
        },
        "PrivateSubnet": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {"VpcId": vpc, "CidrBlock": "10.20.2.0/24"},
        },
        "Igw": {"Type": "AWS::EC2::InternetGateway"},
        "IgwAttachment": {
            "Type": "AWS::EC2::VPCGatewayAttachment",
            "Properties": {"VpcId": vpc, "InternetGatewayId": {"Ref": "Igw"}},
        },
        "NatEip": {
            "Type": "AWS::EC2::EIP",
            "DependsOn": "IgwAttachment",
            "Properties": {"Domain": "vpc", "Tags": [{"Key": "Name", "Value": "nat-eip"}]},
        },
        "Nat": {
            "Type": "AWS::EC2::NatGateway",
            "Properties": {
                "SubnetId": public,
                "AllocationId": {"Fn::GetAtt": ["NatEip", "AllocationId"]},
                "ConnectivityType": "public",
                "Tags": [{"Key": "Name", "Value": nat_name}],
            },
        },
        "PrivateAcl": {
            "Type": "AWS::EC2::NetworkAcl",
            "Properties": {"VpcId": vpc, "Tags": [{"Key": "Name", "Value": "private"}]},
        },
        "AclInMysql": {
            "Type": "AWS::EC2::NetworkAclEntry",
            "Properties": {
                "NetworkAclId": {"Ref": "PrivateAcl"},
                "RuleNumber": 100,
                "Protocol": 6,
                "RuleAction": "allow",
                "Egress": False,
                "CidrBlock": mysql_cidr,
                "PortRange": {"From": 3306, "To": 3306},
            },
        },
        "AclOutAll": {
            "Type": "AWS::EC2::NetworkAclEntry",
            "Properties": {
                "NetworkAclId": {"Ref": "PrivateAcl"},
                "RuleNumber": egress_rule_number,
                "Protocol": -1,
                "RuleAction": "allow",
                "Egress": True,
                "CidrBlock": "0.0.0.0/0",
            },
        },
        "FlowLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": "/${AWS::StackName}/flow"}},
        },
        "FlowLog": {
            "Type": "AWS::EC2::FlowLog",
            "Properties": {
                "ResourceId": vpc,
                "ResourceType": "VPC",
                "TrafficType": flow_traffic,
                "LogDestinationType": "cloud-watch-logs",
                "LogGroupName": {"Ref": "FlowLogGroup"},
                "DeliverLogsPermissionArn": "arn:aws:iam::000000000000:role/flow-logs",
                "MaxAggregationInterval": 60,
                "Tags": [{"Key": "Name", "Value": "vpc-flow"}],
            },
        },
        "AppSg": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "app", "VpcId": vpc},
        },
        "DbSg": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "db", "VpcId": vpc},
        },
        "DbFromApp": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": db_sg,
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "SourceSecurityGroupId": app_sg,
                "Description": db_rule_description,
            },
        },
    }
    outputs = {
        "VpcId": vpc,
        "PublicSubnetId": public,
        "PrivateSubnetId": private,
        "EipIp": {"Ref": "NatEip"},
        "EipAllocationId": {"Fn::GetAtt": ["NatEip", "AllocationId"]},
        "NatId": {"Ref": "Nat"},
        "AclId": {"Ref": "PrivateAcl"},
        "DefaultAclId": {"Fn::GetAtt": ["Vpc", "DefaultNetworkAcl"]},
        "AclOutAllId": {"Ref": "AclOutAll"},
        "FlowLogId": {"Ref": "FlowLog"},
        "AppSgId": app_sg,
        "DbSgId": db_sg,
        "DbFromAppId": {"Ref": "DbFromApp"},
    }
    if associate_acl:
        resources["PrivateAclAssoc"] = {
            "Type": "AWS::EC2::SubnetNetworkAclAssociation",
            "Properties": {"SubnetId": private, "NetworkAclId": {"Ref": "PrivateAcl"}},
        }
        outputs["AclAssocId"] = {"Ref": "PrivateAclAssoc"}
    if app_to_db_egress:
        resources["AppToDb"] = {
            "Type": "AWS::EC2::SecurityGroupEgress",
            "Properties": {
                "GroupId": app_sg,
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "DestinationSecurityGroupId": db_sg,
            },
        }
        outputs["AppToDbId"] = {"Ref": "AppToDb"}
    if db_https_ingress:
        resources["DbHttps"] = {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": db_sg,
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "CidrIp": "10.20.0.0/16",
            },
        }
    if retain_network:
        for logical_id in ("Vpc", "PrivateSubnet", "AppSg", "DbSg"):
            resources[logical_id]["DeletionPolicy"] = "Retain"
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": resources,
            "Outputs": {name: {"Value": value} for name, value in outputs.items()},
        }
    )


def toggled_nat_template() -> str:
    """A VPC whose NatMode parameter ("single" or "per-az") turns a second NAT gateway on.

    NAT 1 and its EIP are always there. The PerAz condition holds NAT 2 and its
    EIP (``Fn::GetAtt`` AllocationId), and three native types: a route table
    with a default route to NAT 2, and a subnet in the public subnet's zone
    (``Fn::GetAtt`` AvailabilityZone). On an update both turn on beside
    resources the update leaves unchanged, whose attributes they read.
    """
    vpc, public = {"Ref": "Vpc"}, {"Ref": "PublicSubnet"}

    def nat(eip, condition=None):
        resources = {
            f"{eip}Eip": {
                "Type": "AWS::EC2::EIP",
                "DependsOn": "IgwAttachment",
                "Properties": {"Domain": "vpc"},
            },
            eip: {
                "Type": "AWS::EC2::NatGateway",
                "Properties": {
                    "SubnetId": public,
                    "AllocationId": {"Fn::GetAtt": [f"{eip}Eip", "AllocationId"]},
                },
            },
        }
        if condition:
            for resource in resources.values():
                resource["Condition"] = condition
        return resources

    per_az = {
        "PrivateRouteTable2": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": vpc}},
        "PrivateDefaultRoute2": {
            "Type": "AWS::EC2::Route",
            "Properties": {
                "RouteTableId": {"Ref": "PrivateRouteTable2"},
                "DestinationCidrBlock": "0.0.0.0/0",
                "NatGatewayId": {"Ref": "Nat2"},
            },
        },
        "PrivateSubnet2": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": vpc,
                "CidrBlock": "10.40.2.0/24",
                "AvailabilityZone": {"Fn::GetAtt": ["PublicSubnet", "AvailabilityZone"]},
            },
        },
    }
    for resource in per_az.values():
        resource["Condition"] = "PerAz"
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.40.0.0/16"}},
        "PublicSubnet": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": vpc,
                "CidrBlock": "10.40.1.0/24",
                "AvailabilityZone": f"{REGION}a",
            },
        },
        "Igw": {"Type": "AWS::EC2::InternetGateway"},
        "IgwAttachment": {
            "Type": "AWS::EC2::VPCGatewayAttachment",
            "Properties": {"VpcId": vpc, "InternetGatewayId": {"Ref": "Igw"}},
        },
        **nat("Nat1"),
        **nat("Nat2", "PerAz"),
        **per_az,
    }
    outputs = {
        "VpcId": {"Value": vpc},
        "Nat1Id": {"Value": {"Ref": "Nat1"}},
        "Nat1AllocationId": {"Value": {"Fn::GetAtt": ["Nat1Eip", "AllocationId"]}},
    }
    for name, value in (
        ("Nat2Id", {"Ref": "Nat2"}),
        ("Nat2AllocationId", {"Fn::GetAtt": ["Nat2Eip", "AllocationId"]}),
        ("RouteTable2Id", {"Ref": "PrivateRouteTable2"}),
        ("Subnet2Id", {"Ref": "PrivateSubnet2"}),
    ):
        outputs[name] = {"Condition": "PerAz", "Value": value}
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {"NatMode": {"Type": "String", "AllowedValues": ["single", "per-az"]}},
            "Conditions": {"PerAz": {"Fn::Equals": [{"Ref": "NatMode"}, "per-az"]}},
            "Resources": resources,
            "Outputs": outputs,
        }
    )


def own_tags(resource) -> dict:
    """The resource's tags without the aws:cloudformation:* ones CloudFormation adds."""
    return {
        t["Key"]: t["Value"] for t in resource.get("Tags", []) if not t["Key"].startswith("aws:")
    }


def where(name, value) -> list[dict]:
    """An EC2 Describe* filter on one value."""
    return [{"Name": name, "Values": [value]}]


def acl(ec2, acl_id) -> dict:
    return ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"][0]


def acl_entries(ec2, acl_id) -> list[tuple]:
    """The ACL's entries as sorted (egress, rule number, protocol, action, CIDR) tuples."""
    return sorted(
        (e["Egress"], e["RuleNumber"], e["Protocol"], e["RuleAction"], e["CidrBlock"])
        for e in acl(ec2, acl_id)["Entries"]
    )


def associated_subnets(ec2, acl_id) -> list[str]:
    return [a["SubnetId"] for a in acl(ec2, acl_id)["Associations"]]


def group(ec2, group_id) -> dict:
    return ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]


def tcp_3306_group_rules(permissions) -> list[list[str]]:
    """The referenced group ids of each tcp 3306 permission."""
    return [
        [pair["GroupId"] for pair in p["UserIdGroupPairs"]]
        for p in permissions
        if (p["IpProtocol"], p.get("FromPort"), p.get("ToPort")) == ("tcp", 3306, 3306)
    ]


@pytest.fixture(scope="module")
def created(cfn):
    """Outputs of one stack of the default template, for the read-only tests."""
    return deploy(cfn, network_template())[1]


def test_eip_is_allocated_with_tags_and_held_by_the_nat(ec2, created):
    address = ec2.describe_addresses(AllocationIds=[created["EipAllocationId"]])["Addresses"]
    assert len(address) == 1
    assert address[0]["PublicIp"] == created["EipIp"]
    assert address[0]["Domain"] == "vpc"
    assert own_tags(address[0]) == {"Name": "nat-eip"}
    assert address[0]["AssociationId"].startswith("eipassoc-")


def test_nat_gateway_is_in_its_subnet(ec2, created):
    nat = ec2.describe_nat_gateways(NatGatewayIds=[created["NatId"]])["NatGateways"]
    assert len(nat) == 1
    assert nat[0]["SubnetId"] == created["PublicSubnetId"]
    assert nat[0]["VpcId"] == created["VpcId"]
    assert nat[0]["State"] == "available"
    assert nat[0]["ConnectivityType"] == "public"
    assert own_tags(nat[0]) == {"Name": "nat-a"}
    assert {t["Key"]: t["Value"] for t in nat[0]["Tags"]}["aws:cloudformation:logical-id"] == "Nat"


def test_network_acl_has_exactly_the_template_entries(ec2, created):
    network_acl = acl(ec2, created["AclId"])
    assert network_acl["VpcId"] == created["VpcId"]
    assert network_acl["IsDefault"] is False
    assert own_tags(network_acl) == {"Name": "private"}
    assert acl_entries(ec2, created["AclId"]) == [
        (False, 100, "6", "allow", "10.20.1.0/24"),
        (True, 100, "-1", "allow", "0.0.0.0/0"),
    ]
    assert created["AclOutAllId"] == f"{created['AclId']}|true|100"


def test_private_subnet_is_associated_with_the_new_acl(ec2, created):
    association = acl(ec2, created["AclId"])["Associations"]
    assert [(a["SubnetId"], a["NetworkAclAssociationId"]) for a in association] == [
        (created["PrivateSubnetId"], created["AclAssocId"])
    ]
    assert created["PrivateSubnetId"] not in associated_subnets(ec2, created["DefaultAclId"])


def test_flow_log_sends_the_vpc_traffic_to_the_log_group(ec2, created):
    flow_logs = ec2.describe_flow_logs(FlowLogIds=[created["FlowLogId"]])["FlowLogs"]
    assert len(flow_logs) == 1
    flow_log = flow_logs[0]
    assert flow_log["ResourceId"] == created["VpcId"]
    assert flow_log["TrafficType"] == "REJECT"
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"
    assert flow_log["LogDestination"].endswith("/flow")
    assert flow_log["FlowLogStatus"] == "ACTIVE"
    assert own_tags(flow_log) == {"Name": "vpc-flow"}


def test_security_group_rules_reference_the_other_group(ec2, created):
    app, db = created["AppSgId"], created["DbSgId"]
    assert tcp_3306_group_rules(group(ec2, db)["IpPermissions"]) == [[app]]
    assert tcp_3306_group_rules(group(ec2, app)["IpPermissionsEgress"]) == [[db]]
    rules = ec2.describe_security_group_rules(SecurityGroupRuleIds=[created["DbFromAppId"]])[
        "SecurityGroupRules"
    ]
    assert [
        (r["GroupId"], r["IsEgress"], r["ReferencedGroupInfo"]["GroupId"], r["Description"])
        for r in rules
    ] == [(db, False, app, "mysql from app")]
    assert created["AppToDbId"].startswith("sgr-")


def test_update_changes_in_place_replaces_and_removes(cfn, ec2):
    stack_id, before = deploy(cfn, network_template())
    after = update(
        cfn,
        stack_id,
        network_template(
            mysql_cidr="10.20.3.0/24",
            nat_name="nat-b",
            egress_rule_number=110,
            flow_traffic="ALL",
            db_rule_description="mysql",
            associate_acl=False,
            app_to_db_egress=False,
            db_https_ingress=True,
        ),
    )

    # In place: the same NAT with the new tag, the same rule with the new description ...
    assert after["NatId"] == before["NatId"]
    nat = ec2.describe_nat_gateways(NatGatewayIds=[after["NatId"]])["NatGateways"][0]
    assert own_tags(nat) == {"Name": "nat-b"}
    assert after["DbFromAppId"] == before["DbFromAppId"]
    rules = ec2.describe_security_group_rules(SecurityGroupRuleIds=[after["DbFromAppId"]])[
        "SecurityGroupRules"
    ]
    assert [r["Description"] for r in rules] == ["mysql"]
    # ... and the same ingress entry with the new CIDR, while a new rule number replaces
    # the egress entry: the old one is gone.
    assert acl_entries(ec2, after["AclId"]) == [
        (False, 100, "6", "allow", "10.20.3.0/24"),
        (True, 110, "-1", "allow", "0.0.0.0/0"),
    ]
    assert after["AclOutAllId"] == f"{after['AclId']}|true|110"
    # A new traffic type replaces the flow log.
    assert after["FlowLogId"] != before["FlowLogId"]
    flow_logs = ec2.describe_flow_logs(Filters=where("resource-id", after["VpcId"]))["FlowLogs"]
    assert [(f["FlowLogId"], f["TrafficType"]) for f in flow_logs] == [(after["FlowLogId"], "ALL")]
    # The removed association puts the subnet back on the default ACL.
    assert associated_subnets(ec2, after["AclId"]) == []
    assert after["PrivateSubnetId"] in associated_subnets(ec2, after["DefaultAclId"])
    # The removed egress rule is gone; the added ingress rule is there beside the kept one.
    app, db = after["AppSgId"], after["DbSgId"]
    assert tcp_3306_group_rules(group(ec2, app)["IpPermissionsEgress"]) == []
    db_ingress = group(ec2, db)["IpPermissions"]
    assert tcp_3306_group_rules(db_ingress) == [[app]]
    assert [
        [r["CidrIp"] for r in p["IpRanges"]] for p in db_ingress if p.get("FromPort") == 443
    ] == [["10.20.0.0/16"]]


def test_delete_removes_everything_and_leaves_the_nat_deleted(cfn, ec2):
    stack_id, created = deploy(cfn, network_template(retain_network=True))
    cfn.delete_stack(StackName=stack_id)
    assert wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")["StackStatus"] == "DELETE_COMPLETE"

    nat = ec2.describe_nat_gateways(NatGatewayIds=[created["NatId"]])["NatGateways"]
    assert [n["State"] for n in nat] == ["deleted"]
    assert ec2.describe_addresses(AllocationIds=[created["EipAllocationId"]])["Addresses"] == []
    assert ec2.describe_flow_logs(Filters=where("resource-id", created["VpcId"]))["FlowLogs"] == []
    # The retained VPC keeps only its default ACL, which has the retained subnet back.
    acls = ec2.describe_network_acls(Filters=where("vpc-id", created["VpcId"]))["NetworkAcls"]
    assert [a["NetworkAclId"] for a in acls] == [created["DefaultAclId"]]
    assert associated_subnets(ec2, created["DefaultAclId"]) == [created["PrivateSubnetId"]]
    # The retained groups lost the stack's rules.
    app, db = created["AppSgId"], created["DbSgId"]
    assert group(ec2, db)["IpPermissions"] == []
    assert tcp_3306_group_rules(group(ec2, app)["IpPermissionsEgress"]) == []
    rule_ids = [created["DbFromAppId"], created["AppToDbId"]]
    rules = ec2.describe_security_group_rules(SecurityGroupRuleIds=rule_ids)["SecurityGroupRules"]
    assert rules == []


def test_deleting_a_rule_keeps_the_group_and_its_other_rules(cfn, ec2):
    stack_id, _ = deploy(cfn, network_template(db_https_ingress=True))
    after = update(cfn, stack_id, network_template(db_https_ingress=False))
    db_ingress = group(ec2, after["DbSgId"])["IpPermissions"]
    assert [p.get("FromPort") for p in db_ingress] == [3306]


def _nat_mode_stack(cfn, template_bucket, nested, nat_mode) -> tuple[str, str]:
    """Create a stack of ``toggled_nat_template`` -- itself, or a parent holding it as a
    nested stack -- with ``nat_mode``: the stack id and the id of the stack holding the VPC."""
    name = new_stack_name()
    body = toggled_nat_template()
    if nested:
        url = put_template(template_bucket, f"{name}.json", body)
        body = json.dumps(
            {
                "Parameters": {"NatMode": {"Type": "String"}},
                "Resources": {
                    "Network": {
                        "Type": "AWS::CloudFormation::Stack",
                        "Properties": {
                            "TemplateURL": url,
                            "Parameters": {"NatMode": {"Ref": "NatMode"}},
                        },
                    }
                },
            }
        )
    stack_id = cfn.create_stack(
        StackName=name,
        TemplateBody=body,
        Parameters=[{"ParameterKey": "NatMode", "ParameterValue": nat_mode}],
    )["StackId"]
    stack = wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")
    assert stack["StackStatus"] == "CREATE_COMPLETE", failure_reasons(cfn, stack_id)
    network_id = stack_id
    if nested:
        network_id = nested_stack_id(cfn, stack_id, "Network")
    return stack_id, network_id


def _set_nat_mode(cfn, stack_id, network_id, nat_mode) -> dict:
    """Update the stack's NatMode on its template; the network's outputs once UPDATE_COMPLETE."""
    cfn.update_stack(
        StackName=stack_id,
        UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "NatMode", "ParameterValue": nat_mode}],
    )
    stack = wait_stack(cfn, stack_id, "UPDATE_IN_PROGRESS")
    reasons = failure_reasons(cfn, stack_id) + failure_reasons(cfn, network_id)
    assert stack["StackStatus"] == "UPDATE_COMPLETE", reasons
    return outputs_of(cfn.describe_stacks(StackName=network_id)["Stacks"][0])


def _nat_states(ec2, vpc_id) -> dict:
    """The state of each of the VPC's NAT gateways, by id."""
    nats = ec2.describe_nat_gateways(Filters=where("vpc-id", vpc_id))["NatGateways"]
    return {n["NatGatewayId"]: n["State"] for n in nats}


def _is_associated(ec2, allocation_id) -> bool:
    """Whether the Elastic IP is held (by its NAT gateway); it must exist."""
    (address,) = ec2.describe_addresses(AllocationIds=[allocation_id])["Addresses"]
    return address.get("AssociationId", "").startswith("eipassoc-")


@pytest.mark.parametrize("nested", [False, True], ids=["stack", "nested-stack"])
def test_condition_turned_on_by_an_update_creates_and_then_removes(
    cfn, ec2, template_bucket, nested
):
    stack_id, network_id = _nat_mode_stack(cfn, template_bucket, nested, "single")
    single = outputs_of(cfn.describe_stacks(StackName=network_id)["Stacks"][0])
    vpc_id, nat1 = single["VpcId"], single["Nat1Id"]
    assert "Nat2Id" not in single
    assert _nat_states(ec2, vpc_id) == {nat1: "available"}

    # On: NAT 2 holds its new EIP, the new route table routes to it, the new subnet
    # is in the public subnet's zone; NAT 1 is the same gateway, on the same EIP.
    per_az = _set_nat_mode(cfn, stack_id, network_id, "per-az")
    nat2 = per_az["Nat2Id"]
    assert (per_az["Nat1Id"], per_az["Nat1AllocationId"]) == (nat1, single["Nat1AllocationId"])
    assert _nat_states(ec2, vpc_id) == {nat1: "available", nat2: "available"}
    assert _is_associated(ec2, per_az["Nat2AllocationId"])
    tables = ec2.describe_route_tables(RouteTableIds=[per_az["RouteTable2Id"]])["RouteTables"]
    assert [
        (r["DestinationCidrBlock"], r["NatGatewayId"])
        for t in tables
        for r in t["Routes"]
        if r.get("NatGatewayId")
    ] == [("0.0.0.0/0", nat2)]
    subnet = ec2.describe_subnets(SubnetIds=[per_az["Subnet2Id"]])["Subnets"][0]
    assert subnet["AvailabilityZone"] == f"{REGION}a"

    # Off again: NAT 2 is deleted and its EIP released, the route table and subnet are
    # gone; NAT 1 still holds its EIP.
    single_again = _set_nat_mode(cfn, stack_id, network_id, "single")
    assert "Nat2Id" not in single_again
    assert single_again["Nat1Id"] == nat1
    assert _nat_states(ec2, vpc_id) == {nat1: "available", nat2: "deleted"}
    assert _is_associated(ec2, single["Nat1AllocationId"])
    assert ec2.describe_addresses(AllocationIds=[per_az["Nat2AllocationId"]])["Addresses"] == []
    route_tables = ec2.describe_route_tables(Filters=where("vpc-id", vpc_id))["RouteTables"]
    assert per_az["RouteTable2Id"] not in [t["RouteTableId"] for t in route_tables]
    subnets = ec2.describe_subnets(Filters=where("vpc-id", vpc_id))["Subnets"]
    assert per_az["Subnet2Id"] not in [s["SubnetId"] for s in subnets]
