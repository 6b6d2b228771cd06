"""EC2 network types for ministack's CloudFormation engine: Elastic IPs, NAT gateways,
network ACLs with their entries and subnet associations, flow logs and security group rules.

ministack's EC2 API implements them, but its CloudFormation engine has no provisioner for them.
The handlers here record each resource through those EC2 functions and stores, so the
Describe* calls show what a stack made.
"""

import functools
import random

from ministack.services import ec2
from ministack.services.cloudformation import provisioners as cfn
from served import xml_answer

_EC2_NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"


def _call(action, params):
    """Run an EC2 query action (``ec2._allocate_address`` ...) on ``params``.

    Returns the parsed XML response; an error response raises ValueError,
    which fails the resource with the EC2 error code and message.
    """
    return xml_answer(action(params))


def _text(response, tag):
    """The first ``tag`` element's text in an EC2 XML response."""
    return response.findtext(f".//{_EC2_NS}{tag}")


# --- AWS::EC2::EIP: Ref is the public IP -------------------------------------


def _eip_allocation_id(public_ip):
    """The allocation id of an address, or None once it is released."""
    return next(
        (a["AllocationId"] for a in ec2._addresses.values() if a["PublicIp"] == public_ip), None
    )


def _eip_create(logical_id, props, stack_name):
    """Allocate the address (AllocateAddress) and tag it."""
    response = _call(ec2._allocate_address, {"Domain": props.get("Domain", "vpc")})
    public_ip, allocation_id = _text(response, "publicIp"), _text(response, "allocationId")
    cfn._ec2_apply_tags(allocation_id, props)
    return public_ip, {"AllocationId": allocation_id, "PublicIp": public_ip}


def _eip_update(physical_id, old_props, new_props, stack_name):
    """Domain and Tags change in place."""
    allocation_id = _eip_allocation_id(physical_id)
    ec2._addresses[allocation_id]["Domain"] = new_props.get("Domain", "vpc")
    cfn._ec2_apply_tags(allocation_id, new_props, old_props)
    return physical_id, {"AllocationId": allocation_id, "PublicIp": physical_id}


def _eip_delete(physical_id, props):
    """Release the address (ReleaseAddress), which also drops its tags."""
    allocation_id = _eip_allocation_id(physical_id)
    if allocation_id:
        _call(ec2._release_address, {"AllocationId": allocation_id})


# --- AWS::EC2::NatGateway -----------------------------------------------------


def _nat_create(logical_id, props, stack_name):
    """Associate the Elastic IP, as the gateway holds it on AWS, then create the gateway.

    AssociateAddress refuses an unknown AllocationId before anything exists.
    """
    allocation_id = props.get("AllocationId", "")
    association_id = None
    if allocation_id:
        response = _call(ec2._associate_address, {"AllocationId": allocation_id})
        association_id = _text(response, "associationId")
    response = _call(
        ec2._create_nat_gateway,
        {
            "SubnetId": props["SubnetId"],
            "AllocationId": allocation_id,
            "ConnectivityType": props.get("ConnectivityType", "public"),
        },
    )
    nat_id = _text(response, "natGatewayId")
    ec2._nat_gateways[nat_id]["AssociationId"] = association_id
    cfn._ec2_apply_tags(nat_id, props)
    return nat_id, {"NatGatewayId": nat_id}


def _nat_update(physical_id, old_props, new_props, stack_name):
    """Tags change in place; the other properties ministack models replace."""
    cfn._ec2_apply_tags(physical_id, new_props, old_props)
    return physical_id, {"NatGatewayId": physical_id}


def _nat_delete(physical_id, props):
    """Mark the gateway deleted (DeleteNatGateway), as AWS keeps listing it a while,
    and free its Elastic IP."""
    nat = ec2._nat_gateways.get(physical_id)
    if nat is None or nat["State"] == "deleted":
        return
    _call(ec2._delete_nat_gateway, {"NatGatewayId": physical_id})
    if nat.get("AssociationId"):
        _call(ec2._disassociate_address, {"AssociationId": nat["AssociationId"]})


# --- AWS::EC2::NetworkAcl -----------------------------------------------------


def _acl_create(logical_id, props, stack_name):
    """Create the ACL (CreateNetworkAcl) with no entries, as AWS does, and tag it."""
    acl_id = _text(_call(ec2._create_network_acl, {"VpcId": props["VpcId"]}), "networkAclId")
    cfn._ec2_apply_tags(acl_id, props)
    return acl_id, {"Id": acl_id}


def _acl_update(physical_id, old_props, new_props, stack_name):
    """Tags change in place; VpcId replaces."""
    cfn._ec2_apply_tags(physical_id, new_props, old_props)
    return physical_id, {"Id": physical_id}


def _acl_delete(physical_id, props):
    """Delete the ACL (DeleteNetworkAcl) and its tags."""
    if physical_id in ec2._network_acls:
        _call(ec2._delete_network_acl, {"NetworkAclId": physical_id})
    ec2._tags.pop(physical_id, None)


# --- AWS::EC2::NetworkAclEntry: Ref is "<acl id>|<egress>|<rule number>" -------


def _acl_entry_params(props):
    """The CreateNetworkAclEntry parameters of the entry's properties.

    CloudFormation gives Protocol as a number (6, -1); EC2 keeps a string.
    """
    params = {
        "NetworkAclId": props["NetworkAclId"],
        "RuleNumber": str(props["RuleNumber"]),
        "Protocol": str(props["Protocol"]),
        "RuleAction": props["RuleAction"],
        "Egress": "true" if cfn._cfn_bool(props.get("Egress", False)) else "false",
    }
    for block in ("CidrBlock", "Ipv6CidrBlock"):
        if props.get(block):
            params[block] = props[block]
    return params


def _acl_entry_find(params):
    """The stored entry with the parameters' rule number and direction, or None."""
    entries = ec2._network_acls.get(params["NetworkAclId"], {}).get("Entries", [])
    key = (int(params["RuleNumber"]), params["Egress"] == "true")
    return next((e for e in entries if (e["RuleNumber"], e["Egress"]) == key), None)


def _acl_entry_put(action, props):
    """Write the entry with ``action`` (create or replace), then its PortRange.

    ministack's entry store has no port range field: it is kept on the entry
    dict, though DescribeNetworkAcls does not render it.
    """
    params = _acl_entry_params(props)
    _call(action, params)
    if props.get("PortRange"):
        port_range = props["PortRange"]
        _acl_entry_find(params)["PortRange"] = {
            "From": int(port_range["From"]),
            "To": int(port_range["To"]),
        }
    physical_id = f"{params['NetworkAclId']}|{params['Egress']}|{params['RuleNumber']}"
    return physical_id, {"Id": physical_id}


def _acl_entry_create(logical_id, props, stack_name):
    """Add the entry (CreateNetworkAclEntry); a taken rule number fails, as on AWS."""
    params = _acl_entry_params(props)
    if _acl_entry_find(params) is not None:
        raise ValueError(
            f"NetworkAclEntryAlreadyExists: rule {params['RuleNumber']} "
            f"(egress {params['Egress']}) already exists in {params['NetworkAclId']}"
        )
    return _acl_entry_put(ec2._create_network_acl_entry, props)


def _acl_entry_update(physical_id, old_props, new_props, stack_name):
    """Rewrite the entry (ReplaceNetworkAclEntry); ACL, rule number and direction replace."""
    return _acl_entry_put(ec2._replace_network_acl_entry, new_props)


def _acl_entry_delete(physical_id, props):
    """Remove the entry (DeleteNetworkAclEntry)."""
    params = _acl_entry_params(props)
    if params["NetworkAclId"] in ec2._network_acls:
        _call(ec2._delete_network_acl_entry, params)


# --- AWS::EC2::SubnetNetworkAclAssociation: Ref is the association id ----------


def _associate_subnet(subnet_id, acl_id):
    """Move the subnet's association to ``acl_id`` (None: just drop it); returns the new id.

    Written into the store directly: ministack's ReplaceNetworkAclAssociation
    loses the subnet id.
    """
    for acl in ec2._network_acls.values():
        acl["Associations"] = [a for a in acl["Associations"] if a["SubnetId"] != subnet_id]
    if acl_id is None:
        return None
    association_id = "aclassoc-" + "".join(random.choices("0123456789abcdef", k=17))
    ec2._network_acls[acl_id]["Associations"].append(
        {"NetworkAclAssociationId": association_id, "SubnetId": subnet_id}
    )
    return association_id


def _acl_assoc_create(logical_id, props, stack_name):
    """Associate the subnet with the ACL, taking it off the ACL it was on."""
    if props["NetworkAclId"] not in ec2._network_acls:
        raise ValueError(
            f"InvalidNetworkAclID.NotFound: The network ACL "
            f"'{props['NetworkAclId']}' does not exist"
        )
    association_id = _associate_subnet(props["SubnetId"], props["NetworkAclId"])
    return association_id, {"AssociationId": association_id}


def _acl_assoc_delete(physical_id, props):
    """Move the subnet back to its VPC's default ACL, unless a newer association took over."""
    if not any(
        a["NetworkAclAssociationId"] == physical_id
        for acl in ec2._network_acls.values()
        for a in acl["Associations"]
    ):
        return
    subnet = ec2._subnets.get(props["SubnetId"])
    vpc = ec2._vpcs.get(subnet["VpcId"], {}) if subnet else {}
    _associate_subnet(props["SubnetId"], vpc.get("DefaultNetworkAclId"))


# --- AWS::EC2::FlowLog --------------------------------------------------------

# Recorded on the flow log, though DescribeFlowLogs does not render them.
_FLOW_LOG_EXTRAS = (
    "LogGroupName",
    "DeliverLogsPermissionArn",
    "MaxAggregationInterval",
    "LogFormat",
)


def _flow_log_create(logical_id, props, stack_name):
    """Create the flow log (CreateFlowLogs) for its one resource and tag it."""
    response = _call(
        ec2._create_flow_logs,
        {
            "ResourceId.1": props["ResourceId"],
            "ResourceType": props["ResourceType"],
            "TrafficType": props.get("TrafficType", ""),
            "LogDestinationType": props.get("LogDestinationType", ""),
            "LogDestination": props.get("LogDestination") or props.get("LogGroupName", ""),
        },
    )
    flow_log_id = _text(response, "item")
    ec2._flow_logs[flow_log_id].update({k: props[k] for k in _FLOW_LOG_EXTRAS if k in props})
    cfn._ec2_apply_tags(flow_log_id, props)
    return flow_log_id, {"Id": flow_log_id}


def _flow_log_update(physical_id, old_props, new_props, stack_name):
    """Tags change in place; every other property replaces."""
    cfn._ec2_apply_tags(physical_id, new_props, old_props)
    return physical_id, {"Id": physical_id}


def _flow_log_delete(physical_id, props):
    """Delete the flow log and its tags (DeleteFlowLogs)."""
    _call(ec2._delete_flow_logs, {"FlowLogId.1": physical_id})


# --- AWS::EC2::SecurityGroupIngress / SecurityGroupEgress: Ref is the sgr- id ---


def _sg_rules(egress, group_id):
    """The group's ingress or egress rule list, or None when the group is gone."""
    group = ec2._security_groups.get(group_id)
    return group["IpPermissionsEgress" if egress else "IpPermissions"] if group else None


def _sg_rule(egress, props):
    """The resource's rule in the EC2 store's shape, with its SecurityGroupRuleId."""
    rule = cfn._ec2_sg_permissions([props])[0]
    rule["SecurityGroupRuleId"] = ec2._sg_rule_id(props["GroupId"], egress, rule)
    return rule


def _sg_rule_create(egress, logical_id, props, stack_name):
    """Add the rule to its group; an identical rule already there fails, as on AWS."""
    rules = _sg_rules(egress, props["GroupId"])
    if rules is None:
        raise ValueError(
            f"InvalidGroup.NotFound: The security group '{props['GroupId']}' does not exist"
        )
    rule = _sg_rule(egress, props)
    if any(ec2._rules_match(rule, existing) for existing in rules):
        raise ValueError(
            f"InvalidPermission.Duplicate: the rule already exists in {props['GroupId']}"
        )
    rules.append(rule)
    return rule["SecurityGroupRuleId"], {"Id": rule["SecurityGroupRuleId"]}


def _sg_rule_update(egress, physical_id, old_props, new_props, stack_name):
    """Description, the one in-place property, is rewritten on the stored rule."""
    rules = _sg_rules(egress, new_props["GroupId"])
    rule = _sg_rule(egress, new_props)
    rules[:] = [
        rule if ec2._sg_rule_id(new_props["GroupId"], egress, r) == physical_id else r
        for r in rules
    ]
    return physical_id, {"Id": physical_id}


def _sg_rule_delete(egress, physical_id, props):
    """Remove exactly this rule from its group."""
    rules = _sg_rules(egress, props["GroupId"])
    if rules is not None:
        rules[:] = [r for r in rules if ec2._sg_rule_id(props["GroupId"], egress, r) != physical_id]


HANDLERS = {
    "AWS::EC2::EIP": {"create": _eip_create, "update": _eip_update, "delete": _eip_delete},
    "AWS::EC2::NatGateway": {"create": _nat_create, "update": _nat_update, "delete": _nat_delete},
    "AWS::EC2::NetworkAcl": {"create": _acl_create, "update": _acl_update, "delete": _acl_delete},
    "AWS::EC2::NetworkAclEntry": {
        "create": _acl_entry_create,
        "update": _acl_entry_update,
        "delete": _acl_entry_delete,
    },
    # Both properties replace, so an update never reaches an update handler.
    "AWS::EC2::SubnetNetworkAclAssociation": {
        "create": _acl_assoc_create,
        "delete": _acl_assoc_delete,
    },
    "AWS::EC2::FlowLog": {
        "create": _flow_log_create,
        "update": _flow_log_update,
        "delete": _flow_log_delete,
    },
    **{
        f"AWS::EC2::SecurityGroup{direction}": {
            "create": functools.partial(_sg_rule_create, egress),
            "update": functools.partial(_sg_rule_update, egress),
            "delete": functools.partial(_sg_rule_delete, egress),
        }
        for direction, egress in (("Ingress", False), ("Egress", True))
    },
}
# createOnlyProperties of each type's CloudFormation registry schema.
REPLACING = {
    "AWS::EC2::EIP": "Address IpamPoolId NetworkBorderGroup TransferAddress",
    "AWS::EC2::NatGateway": (
        "AllocationId AvailabilityMode ConnectivityType PrivateIpAddress SubnetId VpcId"
    ),
    "AWS::EC2::NetworkAcl": "VpcId",
    "AWS::EC2::NetworkAclEntry": "Egress NetworkAclId RuleNumber",
    "AWS::EC2::SubnetNetworkAclAssociation": "NetworkAclId SubnetId",
    "AWS::EC2::FlowLog": (
        "DeliverCrossAccountRole DeliverLogsPermissionArn DestinationOptions LogDestination"
        " LogDestinationType LogFormat LogGroupName MaxAggregationInterval ResourceId"
        " ResourceType TrafficType"
    ),
    "AWS::EC2::SecurityGroupIngress": (
        "CidrIp CidrIpv6 FromPort GroupId GroupName IpProtocol SourcePrefixListId"
        " SourceSecurityGroupId SourceSecurityGroupName SourceSecurityGroupOwnerId ToPort"
    ),
    "AWS::EC2::SecurityGroupEgress": (
        "CidrIp CidrIpv6 DestinationPrefixListId DestinationSecurityGroupId FromPort GroupId"
        " IpProtocol ToPort"
    ),
}
