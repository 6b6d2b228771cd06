"""Teach ministack's CloudFormation engine twenty-nine resource types, then serve.

Run with the emulator venv's python: ``python ministack_plugin.py`` (the port
and bind address come from GATEWAY_PORT and BIND_HOST, as for ministack).

ministack's EC2 API implements Elastic IPs, NAT gateways, network ACLs, flow
logs and security group rules, and its RDS API RDS Proxy, but its
CloudFormation engine has no provisioner for them. The handlers below record
each resource through those EC2 and RDS functions and stores, so the
Describe* calls show what a stack made. A Secrets Manager RotationSchedule
turns rotation on in the secret's record (no rotation function runs), and the
AWS::SecretsManager transform that goes with it is accepted and applied as a
no-op (``_accept_secrets_manager_transform``). An AWS Backup selection is added
to its plan through ministack's Backup API, which has the call but no provisioner.
A WAFv2 web ACL association goes through ministack's AssociateWebACL and
DisassociateWebACL; a WAFv2 logging configuration through the
PutLoggingConfiguration family, which the plugin adds to ministack's WAFv2 API
(``_serve_waf_logging``). An ECS cluster's capacity provider associations go through
PutClusterCapacityProviders. ministack has no Application Auto Scaling at all: the plugin
serves its API (``_serve_application_autoscaling``: scalable targets, scaling policies,
scheduled actions, tags), and a ScalableTarget and ScalingPolicy are recorded through it. An
ElastiCache serverless cache is recorded through ministack's ElastiCache API, which has the
calls but no provisioner (without Docker it answers with its plaintext sidecar's endpoint);
so is a CloudWatch composite alarm, through PutCompositeAlarm and DeleteAlarms.
X-Ray groups come from ``xray_service`` beside this file, which serves that API (ministack
has no X-Ray) and records the resource type; budgets (through
ministack's Budgets API) and Cost Explorer's anomaly monitors and subscriptions (served, as
ministack has no Cost Explorer) come from ``billing_service``; the account baseline's GuardDuty
detector, Security Hub and its standard, and the registry's scanning setting (which enables
Inspector's ECR scanning through ministack's Inspector2) from ``security_services``. The pipeline stack's pipelines,
connection, notification rules, report groups and image replication come from
``delivery_services``, which serves CodePipeline, CodeConnections and CodeStar Notifications and
adds report groups to ministack's CodeBuild and replication and the registry policy to its ECR;
Synthetics canaries (served and recorded, never run) come from ``synthetics_service``.

The properties AWS replaces on update (the createOnlyProperties of the
CloudFormation registry schemas) go into ministack's ``_REPLACING_PROPERTIES``
table: the engine then creates the successor and deletes the predecessor
itself, and the update handlers here apply only the in-place changes.

Engine fixes ride along: the update of a nested stack's resources keeps the
attributes of those it leaves unchanged (``_keep_recorded_attributes``), the
delete of a nested stack applies its resources' ``DeletionPolicy``
(``_honour_deletion_policy``), a secret's Ref is its ARN (``_secret_ref_is_arn``),
a topic and a DB instance keep what their template says that ministack's
provisioners drop (``_keep_topic_attributes``, ``_complete_db_instance``,
``_render_db_instance_extras``), a backup vault whose name is taken fails
(``_refuse_taken_vault_name``), and a template URL in S3's virtual-hosted style
(taskcat's) is read from its bucket (``_read_virtual_hosted_urls``). For the ingress stack:
a nested stack resolves dynamic references (``_resolve_nested_dynamic_references``) and keeps its
resources' generated names across updates (``_record_name_seeds``); a web ACL's
rules keep their numbers (``_waf_integer_members``); a load balancer, target
group, listener and listener rule keep what their template says and ELBv2 shows
(``_complete_load_balancer``, ``_render_load_balancer_zones``,
``_complete_target_group``, ``_render_target_group_extras``,
``_link_target_groups``, ``_complete_listener_rule``); a certificate validates in
its hosted zone (``_validate_in_hosted_zone``), and a hosted zone may be created under
the ID an environment names (``_zone_with_requested_id``); a bucket gets its encryption,
lifecycle, ownership and tags (``_configure_bucket_settings``); and a generated
secret takes every GenerateSecretString option (``_generate_with_every_option``).
For the app stack: a target group's TargetGroupFullName is ELB's
(``_complete_target_group``); a task definition is registered with every property
(``_register_task_definitions``); a service keeps what its template says and is refused
what ECS refuses (``_complete_service``); and a cluster update keeps the capacity
providers its associations gave it (``_keep_capacity_providers``); and an alarm on a
metric math expression is recorded with its queries (``_record_metric_math_alarms``).
"""

import asyncio
import copy
import functools
import json
import random
import re
import sys
import time
import urllib.parse
import uuid
from xml.etree import ElementTree

import billing_service  # beside this script: budgets' resources, Cost Explorer
import delivery_services  # beside this script: CodePipeline and the pipeline stack's types
import ministack.app
import ministack.services.cloudformation as cfn_service
import security_services  # beside this script: GuardDuty, Security Hub, ECR registry scanning
import synthetics_service  # beside this script: Synthetics canaries, which ministack lacks
import xray_service  # beside this script: X-Ray, which ministack lacks
from ministack.core.responses import (
    AccountRegionScopedDict,
    error_response_json,
    get_account_id,
    get_region,
    json_response,
)
from ministack.services import (
    acm,
    alb,
    backup,
    cloudwatch,
    ec2,
    ecr,
    ecs,
    elasticache,
    rds,
    route53,
    s3,
    secretsmanager,
    sns,
    waf,
)
from ministack.services.cloudformation import changesets as cfn_changesets
from ministack.services.cloudformation import engine as cfn_engine
from ministack.services.cloudformation import handlers as cfn_handlers
from ministack.services.cloudformation import helpers as cfn_helpers
from ministack.services.cloudformation import provisioners as cfn
from ministack.services.cloudformation import stacks as cfn_stacks
from served import checked

_EC2_NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"


def _call(action, params):
    """Run an EC2 query action (``ec2._allocate_address`` ...) on ``params``.

    Returns the parsed XML response; an error response raises ValueError,
    which fails the resource with the EC2 error code and message.
    """
    status, _headers, body = action(params)
    response = ElementTree.fromstring(body)
    if status >= 400:
        raise ValueError(f"{response.findtext('.//Code')}: {response.findtext('.//Message')}")
    return response


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


# --- AWS::RDS::DBProxy: Ref is the proxy name -------------------------------------

_PROXY = "AWS::RDS::DBProxy"
_PROXY_TARGET_GROUP = "AWS::RDS::DBProxyTargetGroup"
_DB_INSTANCE = "AWS::RDS::DBInstance"


def _bool_param(props, key):
    """A template boolean as the RDS query API takes it ("true" / "false")."""
    return "true" if cfn._cfn_bool(props.get(key, False)) else "false"


def _proxy_attributes(name):
    proxy = rds._db_proxies[name]
    return {key: proxy[key] for key in ("DBProxyArn", "Endpoint", "VpcId")}


# The properties CreateDBProxy takes as they are.
_PROXY_CREATE_PROPERTIES = (
    "EngineFamily",
    "RoleArn",
    "VpcSubnetIds",
    "VpcSecurityGroupIds",
    "IdleClientTimeout",
    "Auth",
    "DefaultAuthScheme",
    "EndpointNetworkType",
    "TargetConnectionNetworkType",
)


def _proxy_create(logical_id, props, stack_name):
    """Create the proxy (CreateDBProxy), which RDS gives its default target group
    and endpoint, and tag it."""
    name = props["DBProxyName"]
    params = cfn._ec_query({key: props[key] for key in _PROXY_CREATE_PROPERTIES if key in props})
    params.update(
        DBProxyName=name,
        RequireTLS=_bool_param(props, "RequireTLS"),
        DebugLogging=_bool_param(props, "DebugLogging"),
    )
    cfn._rds_call(rds._create_db_proxy, params, _PROXY, "create")
    cfn._rds_sync_tags(rds._db_proxies[name]["DBProxyArn"], {}, props, _PROXY)
    return name, _proxy_attributes(name)


def _proxy_update(physical_id, old_props, new_props, stack_name):
    """Auth, RoleArn, security groups, IdleClientTimeout, RequireTLS, DebugLogging,
    DefaultAuthScheme and Tags change in place (ModifyDBProxy).

    A setting the template drops goes back to RDS's default.
    """
    scheme = new_props.get("DefaultAuthScheme") or (
        "NONE" if old_props.get("DefaultAuthScheme") else None
    )
    params = cfn._ec_query(
        {
            "RoleArn": new_props["RoleArn"],
            "Auth": new_props.get("Auth") or [],
            "SecurityGroups": new_props.get("VpcSecurityGroupIds") or [],
            "DefaultAuthScheme": scheme,
            "IdleClientTimeout": new_props.get("IdleClientTimeout", 1800),
        }
    )
    params.update(
        DBProxyName=physical_id,
        RequireTLS=_bool_param(new_props, "RequireTLS"),
        DebugLogging=_bool_param(new_props, "DebugLogging"),
    )
    cfn._rds_call(rds._modify_db_proxy, params, _PROXY, "update")
    cfn._rds_sync_tags(rds._db_proxies[physical_id]["DBProxyArn"], old_props, new_props, _PROXY)
    return physical_id, _proxy_attributes(physical_id)


def _proxy_delete(physical_id, props):
    """Delete the proxy (DeleteDBProxy), its endpoints and target group with it."""
    if rds._db_proxies.get(physical_id):
        cfn._rds_call(rds._delete_db_proxy, {"DBProxyName": physical_id}, _PROXY, "delete")


# --- AWS::ElastiCache::ServerlessCache: Ref is the cache's name --------------------------

_SERVERLESS_CACHE = "AWS::ElastiCache::ServerlessCache"
_SERVERLESS_CACHE_CREATE = (
    "Description", "Engine", "MajorEngineVersion", "CacheUsageLimits", "KmsKeyId",
    "SecurityGroupIds", "SubnetIds", "UserGroupId", "SnapshotRetentionLimit",
    "DailySnapshotTime", "NetworkType",
)  # fmt: skip
_SERVERLESS_CACHE_MODIFY = (
    "Description", "CacheUsageLimits", "SecurityGroupIds", "SnapshotRetentionLimit",
    "DailySnapshotTime", "MajorEngineVersion",
)  # fmt: skip


def _serverless_cache_attributes(name):
    """The GetAtt values AWS gives: ARN, the endpoints, the full engine version."""
    record = elasticache._serverless_caches[name]
    attributes = {
        "ARN": record["ARN"],
        "FullEngineVersion": record["FullEngineVersion"],
        "CreateTime": str(record["CreateTime"]),
        "Status": record["Status"],
    }
    for endpoint in ("Endpoint", "ReaderEndpoint"):
        attributes[f"{endpoint}.Address"] = record[endpoint]["Address"]
        attributes[f"{endpoint}.Port"] = str(record[endpoint]["Port"])
    return attributes


def _serverless_cache_create(logical_id, props, stack_name):
    """CreateServerlessCache with the template's properties, then its tags. Without Docker
    ministack records the cache, available at once, its endpoint its plaintext sidecar."""
    name = (props.get("ServerlessCacheName") or f"{stack_name}-{logical_id}"[:40]).lower()
    params = cfn._ec_query({k: props[k] for k in _SERVERLESS_CACHE_CREATE if k in props})
    params["ServerlessCacheName"] = name
    cfn._ec_call(elasticache._create_serverless_cache, params, _SERVERLESS_CACHE, "create")
    cfn._ec_sync_tags(elasticache._serverless_caches[name]["ARN"], {}, props, _SERVERLESS_CACHE)
    return name, _serverless_cache_attributes(name)


def _serverless_cache_update(physical_id, old_props, new_props, stack_name):
    """ModifyServerlessCache with what may change in place (the rest replaces)."""
    params = cfn._ec_query({k: new_props[k] for k in _SERVERLESS_CACHE_MODIFY if k in new_props})
    params["ServerlessCacheName"] = physical_id
    cfn._ec_call(elasticache._modify_serverless_cache, params, _SERVERLESS_CACHE, "update")
    cfn._ec_sync_tags(
        elasticache._serverless_caches[physical_id]["ARN"], old_props, new_props,
        _SERVERLESS_CACHE,
    )  # fmt: skip
    return physical_id, _serverless_cache_attributes(physical_id)


def _serverless_cache_delete(physical_id, props):
    if physical_id in elasticache._serverless_caches:
        cfn._ec_call(
            elasticache._delete_serverless_cache,
            {"ServerlessCacheName": physical_id},
            _SERVERLESS_CACHE,
            "delete",
        )


# --- AWS::CloudWatch::CompositeAlarm: Ref is the alarm's name ----------------------------

_COMPOSITE_ALARM = "AWS::CloudWatch::CompositeAlarm"
_COMPOSITE_ALARM_PROPERTIES = (
    "AlarmRule", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions",
    "InsufficientDataActions",
)  # fmt: skip


def _composite_alarm_put(name, props):
    """PutCompositeAlarm through ministack's CloudWatch API (it has the call, not the type)."""
    data = {k: props[k] for k in _COMPOSITE_ALARM_PROPERTIES if k in props}
    checked(cloudwatch._put_composite_alarm({}, {"AlarmName": name, **data}, False, is_json=True))
    return name, {"Arn": cloudwatch._composite_alarms[name]["AlarmArn"]}


def _composite_alarm_create(logical_id, props, stack_name):
    return _composite_alarm_put(props.get("AlarmName") or f"{stack_name}-{logical_id}", props)


def _composite_alarm_update(physical_id, old_props, new_props, stack_name):
    return _composite_alarm_put(physical_id, new_props)


def _composite_alarm_delete(physical_id, props):
    if physical_id in cloudwatch._composite_alarms:
        checked(cloudwatch._delete_alarms({}, {"AlarmNames": [physical_id]}, False, is_json=True))


# --- AWS::RDS::DBProxyTargetGroup: Ref is the target group ARN ----------------------

# The target list properties, by the type RDS records a registered target as.
_TARGET_LISTS = {"RDS_INSTANCE": "DBInstanceIdentifiers", "TRACKED_CLUSTER": "DBClusterIdentifiers"}


def _tg_targets(props):
    """The (list property, identifier) pairs the resource registers."""
    return {(key, target) for key in _TARGET_LISTS.values() for target in props.get(key) or []}


def _tg_registered(props):
    """The (list property, identifier) pairs registered on the proxy now (none once it is gone)."""
    proxy = rds._db_proxies.get(props["DBProxyName"]) or {"Targets": []}
    return {(_TARGET_LISTS[t["Type"]], t["RdsResourceId"]) for t in proxy["Targets"]}


def _tg_call(action, props, extra, verb):
    """Run a target group action on the resource's proxy and group with ``extra`` parameters."""
    params = {"DBProxyName": props["DBProxyName"], "TargetGroupName": props["TargetGroupName"]}
    cfn._rds_call(action, {**params, **extra}, _PROXY_TARGET_GROUP, verb)


def _tg_set_targets(action, props, targets, verb):
    """Register or deregister ``targets`` (RegisterDBProxyTargets / DeregisterDBProxyTargets)."""
    for key in _TARGET_LISTS.values():
        identifiers = sorted(target for k, target in targets if k == key)
        if identifiers:
            _tg_call(action, props, cfn._ec_query({key: identifiers}), verb)


def _tg_set_pool(props, verb):
    """Write ConnectionPoolConfigurationInfo (ModifyDBProxyTargetGroup); without it, RDS's
    defaults (an empty setting makes RDS fill in every default)."""
    config = props.get("ConnectionPoolConfigurationInfo") or {}
    params = cfn._ec_query({"ConnectionPoolConfig": config})
    _tg_call(
        rds._modify_db_proxy_target_group,
        props,
        params or {"ConnectionPoolConfig.MaxConnectionsPercent": ""},
        verb,
    )


def _tg_arn(props):
    return rds._db_proxies[props["DBProxyName"]]["TargetGroup"]["TargetGroupArn"]


def _tg_create(logical_id, props, stack_name):
    """Configure the proxy's default target group and register the targets.

    RDS creates the group with the proxy, and "default" is the only TargetGroupName
    it takes: any other fails with DBProxyTargetGroupNotFoundFault, as on AWS.
    """
    _tg_set_pool(props, "create")
    _tg_set_targets(rds._register_db_proxy_targets, props, _tg_targets(props), "create")
    arn = _tg_arn(props)
    cfn._rds_sync_tags(arn, {}, props, _PROXY_TARGET_GROUP)
    return arn, {"TargetGroupArn": arn}


def _tg_update(physical_id, old_props, new_props, stack_name):
    """The pool settings, targets and tags change in place. Dropped targets are
    deregistered before new ones are registered: a proxy takes one target."""
    _tg_set_pool(new_props, "update")
    wanted = _tg_targets(new_props)
    dropped = (_tg_targets(old_props) - wanted) & _tg_registered(new_props)
    _tg_set_targets(rds._deregister_db_proxy_targets, new_props, dropped, "update")
    added = wanted - _tg_registered(new_props)
    _tg_set_targets(rds._register_db_proxy_targets, new_props, added, "update")
    cfn._rds_sync_tags(physical_id, old_props, new_props, _PROXY_TARGET_GROUP)
    return physical_id, {"TargetGroupArn": physical_id}


def _tg_delete(physical_id, props):
    """Deregister the targets; the group itself lives as long as its proxy."""
    proxy = rds._db_proxies.get(props["DBProxyName"])
    if proxy and proxy["TargetGroup"]["TargetGroupArn"] == physical_id:
        registered = _tg_targets(props) & _tg_registered(props)
        _tg_set_targets(rds._deregister_db_proxy_targets, props, registered, "delete")


# --- AWS::RDS::DBInstance: what ministack's provisioner drops -----------------------

_PROTECTED = (
    f"{_DB_INSTANCE} delete failed: InvalidParameterCombination: Cannot delete protected"
    " DB Instance, please disable deletion protection and try again."
)


def _instance_extras(props, instance):
    """The instance fields of the template that ministack 1.5.33's provisioner leaves out."""
    insights = cfn._cfn_bool(props.get("EnablePerformanceInsights", False))
    region, account = instance["DBInstanceArn"].split(":")[3:5]
    monitoring_arn = (
        f"arn:aws:logs:{region}:{account}:log-group:RDSOSMetrics:log-stream:"
        f"{instance['DbiResourceId']}"
    )
    return {
        "EngineLifecycleSupport": props.get(
            "EngineLifecycleSupport", "open-source-rds-extended-support"
        ),
        "DatabaseInsightsMode": props.get("DatabaseInsightsMode", "standard"),
        "EnabledCloudwatchLogsExports": list(props.get("EnableCloudwatchLogsExports") or []),
        "PerformanceInsightsKMSKeyId": props.get("PerformanceInsightsKMSKeyId", "")
        if insights
        else "",
        "PerformanceInsightsRetentionPeriod": int(
            props.get("PerformanceInsightsRetentionPeriod", 7)
        ),
        "EnhancedMonitoringResourceArn": monitoring_arn
        if int(props.get("MonitoringInterval", 0))
        else "",
    }


def _secret_call(action, data):
    """Run a Secrets Manager action on ``data``; its JSON answer, or ValueError."""
    status, _headers, body = action(data)
    if status >= 400:
        raise ValueError(f"{_DB_INSTANCE} master user secret: {body!r}")
    return json.loads(body)


def _master_secret_key(props, instance):
    """MasterUserSecret.KmsKeyId, or the ARN ministack gives Secrets Manager's default key."""
    region, account = instance["DBInstanceArn"].split(":")[3:5]
    return (props.get("MasterUserSecret") or {}).get("KmsKeyId") or (
        f"arn:aws:kms:{region}:{account}:key/aws-secretsmanager-default"
    )


def _create_master_secret(instance, props):
    """Generate the master password into RDS's own secret (CreateSecret), as
    ManageMasterUserPassword does, with the MasterUserSecret KMS key."""
    password = rds._generate_master_user_password()
    arn = instance["DBInstanceArn"]
    created = _secret_call(
        secretsmanager._create_secret,
        {
            "Name": f"rds!db-{uuid.uuid4()}",
            "Description": f"Secret associated with primary RDS DB instance: {arn}",
            "SecretString": json.dumps(
                {"username": instance["MasterUsername"], "password": password}
            ),
            "KmsKeyId": (props.get("MasterUserSecret") or {}).get("KmsKeyId"),
            "Tags": [
                {"Key": "aws:rds:primaryDBInstanceArn", "Value": arn},
                {"Key": "aws:secretsmanager:owningService", "Value": "rds"},
            ],
        },
    )
    instance["_MasterUserPassword"] = password
    instance["MasterUserSecret"] = {
        "SecretArn": created["ARN"],
        "SecretStatus": "active",
        "KmsKeyId": _master_secret_key(props, instance),
    }


def _drop_master_secret(instance):
    """Delete RDS's secret of the instance at once, as RDS does (DeleteSecret)."""
    secret = instance.pop("MasterUserSecret", None)
    if secret and secretsmanager._resolve(secret["SecretArn"])[1]:
        _secret_call(
            secretsmanager._delete_secret,
            {"SecretId": secret["SecretArn"], "ForceDeleteWithoutRecovery": True},
        )


def _update_master_secret(instance, old_props, new_props):
    """Turn the managed secret on or off, or move it to another KMS key, as
    ModifyDBInstance does."""
    was, now = (
        cfn._cfn_bool(props.get("ManageMasterUserPassword", False))
        for props in (old_props, new_props)
    )
    secret = instance.get("MasterUserSecret")
    if now and not secret:
        _create_master_secret(instance, new_props)
    elif was and not now:
        _drop_master_secret(instance)
        instance["_MasterUserPassword"] = new_props.get("MasterUserPassword", "password")
    elif now and secret["KmsKeyId"] != _master_secret_key(new_props, instance):
        key = (new_props.get("MasterUserSecret") or {}).get("KmsKeyId")
        _secret_call(
            secretsmanager._update_secret, {"SecretId": secret["SecretArn"], "KmsKeyId": key}
        )
        secret["KmsKeyId"] = _master_secret_key(new_props, instance)


def _restored_snapshot(props):
    """The snapshot DBSnapshotIdentifier (an id or an ARN) names, None without one; an unknown
    one fails the create, as RestoreDBInstanceFromDBSnapshot does."""
    wanted = props.get("DBSnapshotIdentifier")
    if not wanted:
        return None
    for snapshot in rds._snapshots.values():
        if wanted in (snapshot["DBSnapshotIdentifier"], snapshot["DBSnapshotArn"]):
            return snapshot
    raise ValueError(
        f"{_DB_INSTANCE} create failed: DBSnapshotNotFound: DBSnapshot {wanted} not found."
    )


def _refuse_protected(physical_id):
    """Fail like RDS when the instance has DeletionProtection on."""
    if (rds._instances.get(physical_id) or {}).get("DeletionProtection"):
        raise ValueError(_PROTECTED)


def _with_secret_arn(instance, attributes):
    """The attributes with ``MasterUserSecret.SecretArn`` while the instance has the secret."""
    secret = instance.get("MasterUserSecret")
    return (
        {**attributes, "MasterUserSecret.SecretArn": secret["SecretArn"]} if secret else attributes
    )


def _complete_db_instance(handlers):
    """Wrap ministack's AWS::RDS::DBInstance handlers so the instance keeps what the template says.

    ministack 1.5.33's provisioner writes the instance record straight into the RDS
    store (no Docker container; ``available`` at once). It drops EngineLifecycleSupport,
    DatabaseInsightsMode, EnableCloudwatchLogsExports and PerformanceInsightsKMSKeyId,
    leaves PerformanceInsightsRetentionPeriod and EnhancedMonitoringResourceArn unset,
    ignores ManageMasterUserPassword and MasterUserSecret (no secret, and no
    ``MasterUserSecret.SecretArn`` attribute, so a ``Fn::GetAtt`` on it fails the stack),
    reports a database "mydb" that RDS for MySQL would not create, ignores
    DBSnapshotIdentifier, and deletes (and snapshots) an instance whose
    DeletionProtection is on.

    The wrappers record those fields on the instance (``_render_db_instance_extras``
    shows them), keep RDS's managed master user secret through Secrets Manager's API
    (created, re-keyed, dropped with the instance), take the master username and
    database name from the restored snapshot and fail on an unknown one, and refuse
    to snapshot or delete a protected instance with RDS's error, so the stack delete
    fails as on AWS.
    """
    create, update, delete, snapshot = (
        handlers[k] for k in ("create", "update", "delete", "snapshot")
    )

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        source = _restored_snapshot(props)
        physical_id, attributes = create(logical_id, props, stack_name)
        instance = rds._instances[physical_id]
        instance.update(_instance_extras(props, instance))
        if source:
            instance["MasterUsername"] = source["MasterUsername"]
        if not instance.get("DBClusterIdentifier"):
            instance["DBName"] = props.get("DBName") or (source or {}).get("DBName", "")
        if cfn._cfn_bool(props.get("ManageMasterUserPassword", False)):
            _create_master_secret(instance, props)
        return physical_id, _with_secret_arn(instance, attributes)

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        new_id, attributes = update(physical_id, old_props, new_props, stack_name, logical_id)
        instance = rds._instances[new_id]
        if new_id == physical_id:
            # As ministack's update: a field changes when its template value did.
            old, new = _instance_extras(old_props, instance), _instance_extras(new_props, instance)
            instance.update({key: value for key, value in new.items() if old[key] != value})
            _update_master_secret(instance, old_props, new_props)
        return new_id, _with_secret_arn(instance, attributes)

    @functools.wraps(delete)
    def deleted(physical_id, props):
        _refuse_protected(physical_id)
        instance = rds._instances.get(physical_id)
        delete(physical_id, props)
        if instance:
            _drop_master_secret(instance)

    @functools.wraps(snapshot)
    def snapshotted(physical_id, props):
        _refuse_protected(physical_id)
        snapshot(physical_id, props)

    created.completes_template = True
    return {
        **handlers,
        "create": created,
        "update": updated,
        "delete": deleted,
        "snapshot": snapshotted,
    }


def _render_db_instance_extras(instance_xml):
    """Wrap RDS's DBInstance XML so DescribeDBInstances shows what ``_complete_db_instance``
    records: ministack 1.5.33 renders EnabledCloudwatchLogsExports always empty and leaves out
    MasterUserSecret, EngineLifecycleSupport, DatabaseInsightsMode and
    PerformanceInsightsKMSKeyId. An instance without them renders as before."""

    @functools.wraps(instance_xml)
    def render(instance):
        exports = "".join(
            f"<member>{rds._esc(e)}</member>"
            for e in instance.get("EnabledCloudwatchLogsExports") or []
        )
        xml = instance_xml(instance).replace(
            "<EnabledCloudwatchLogsExports/>",
            f"<EnabledCloudwatchLogsExports>{exports}</EnabledCloudwatchLogsExports>",
        )
        for key in (
            "EngineLifecycleSupport",
            "DatabaseInsightsMode",
            "PerformanceInsightsKMSKeyId",
        ):
            if instance.get(key):
                xml += f"<{key}>{rds._esc(instance[key])}</{key}>"
        secret = instance.get("MasterUserSecret")
        if secret:
            fields = "".join(
                f"<{key}>{rds._esc(secret[key])}</{key}>"
                for key in ("SecretArn", "SecretStatus", "KmsKeyId")
            )
            xml += f"<MasterUserSecret>{fields}</MasterUserSecret>"
        return xml

    render.renders_extras = True
    return render


# --- AWS::SNS::Topic: what ministack's provisioner drops ----------------------------

# The topic attributes the template sets as properties of the same name.
_TOPIC_ATTRIBUTES = ("KmsMasterKeyId", "SignatureVersion", "TracingConfig")


def _set_topic_attributes(arn, old_props, new_props):
    """Write the attribute properties the template sets (SetTopicAttributes); one it no
    longer sets goes, as the topic then has none."""
    for name in _TOPIC_ATTRIBUTES:
        if name in new_props and new_props[name] != old_props.get(name):
            params = {"TopicArn": arn, "AttributeName": name, "AttributeValue": new_props[name]}
            status, _headers, body = sns._set_topic_attributes(params)
            if status >= 400:
                raise ValueError(f"AWS::SNS::Topic {name}: {body!r}")
        elif name not in new_props and name in old_props:
            sns._topics[arn]["attributes"].pop(name, None)


def _keep_topic_attributes(handlers):
    """Wrap ministack's AWS::SNS::Topic handlers so the topic gets its KmsMasterKeyId,
    SignatureVersion and TracingConfig: ministack 1.5.33's provisioner drops them, and a
    topic the template encrypts with a KMS key was left unencrypted."""
    create, update = handlers["create"], handlers["update"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        arn, attributes = create(logical_id, props, stack_name)
        _set_topic_attributes(arn, {}, props)
        return arn, attributes

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        arn, attributes = update(physical_id, old_props, new_props, stack_name, logical_id)
        _set_topic_attributes(arn, old_props if arn == physical_id else {}, new_props)
        return arn, attributes

    created.keeps_attributes = True
    return {**handlers, "create": created, "update": updated}


# --- AWS::SecretsManager::Secret: Ref is the ARN ------------------------------------


def _secret_ref_is_arn(handlers):
    """Wrap ministack's AWS::SecretsManager::Secret handlers so the physical id, which Ref
    returns, is the secret's ARN, as on AWS.

    ministack 1.5.33 records the secret's name: a ``Ref`` in an RDS Proxy's Auth SecretArn,
    an IAM policy's Resource or a task definition's secret got a name where AWS gives the
    ARN. ministack's handlers are still called with the name.
    """
    create, update, delete = (handlers[k] for k in ("create", "update", "delete"))

    def name(physical_id):
        return secretsmanager._resolve(physical_id)[0] or physical_id

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        attributes = create(logical_id, props, stack_name)[1]
        return attributes["Arn"], attributes

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        attributes = update(name(physical_id), old_props, new_props, stack_name, logical_id)[1]
        return attributes["Arn"], attributes

    @functools.wraps(delete)
    def deleted(physical_id, props):
        delete(name(physical_id), props)

    created.ref_is_arn = True
    return {**handlers, "create": created, "update": updated, "delete": deleted}


# --- AWS::SecretsManager::RotationSchedule: Ref is the secret's ARN -------------------

_ROTATION = "AWS::SecretsManager::RotationSchedule"


def _rotation_secret(secret_id):
    """The secret a schedule rotates; a missing one or one marked for deletion fails the
    resource with RotateSecret's error."""
    _key, secret = secretsmanager._resolve(secret_id)
    if secret is None:
        raise ValueError(
            f"{_ROTATION}: ResourceNotFoundException: "
            "Secrets Manager can't find the specified secret."
        )
    if secret.get("DeletedDate"):
        raise ValueError(
            f"{_ROTATION}: InvalidRequestException: You can't perform this operation on the"
            " secret because it was marked for deletion."
        )
    return secret


def _rotation_rules(props):
    """RotationRules as Secrets Manager keeps them: AutomaticallyAfterDays a number (a
    template parameter arrives as a string), ScheduleExpression and Duration as given.

    RotateSecret takes AutomaticallyAfterDays or ScheduleExpression, not both.
    """
    rules = props.get("RotationRules") or {}
    if "AutomaticallyAfterDays" in rules and "ScheduleExpression" in rules:
        raise ValueError(
            f"{_ROTATION}: InvalidParameterException: You cannot specify both rotation"
            " frequency and schedule expression together."
        )
    kept = {key: str(rules[key]) for key in ("ScheduleExpression", "Duration") if key in rules}
    if "AutomaticallyAfterDays" in rules:
        kept["AutomaticallyAfterDays"] = int(rules["AutomaticallyAfterDays"])
    return kept


def _set_rotation(props):
    """Turn rotation on with the schedule's rules, as RotateSecret with RotateImmediately
    false does (less the function's testSecret run); returns the secret's ARN, which Ref gives.

    Written into the store directly: ministack 1.5.33's RotateSecret ignores RotateImmediately
    and always "rotates" by copying AWSCURRENT into a new version, a rotation that changes
    no password. So nothing rotates, whatever RotateImmediatelyOnUpdate says: no rotation
    function runs here. A RotationLambdaARN is recorded. A HostedRotationLambda stands for
    the Serverless Application Repository application the transform creates on AWS, which
    no emulator here can fetch or run: the secret gets no RotationLambdaARN at all rather
    than a made-up one.
    """
    if props.get("HostedRotationLambda") and props.get("RotationLambdaARN"):
        raise ValueError(
            f"{_ROTATION}: Can only specify either HostedRotationLambda or RotationLambdaARN."
        )
    secret = _rotation_secret(props["SecretId"])
    rules = _rotation_rules(props)
    if rules:
        secret["RotationRules"] = rules
    if props.get("RotationLambdaARN"):
        secret["RotationLambdaARN"] = props["RotationLambdaARN"]
    elif props.get("HostedRotationLambda"):
        secret["RotationLambdaARN"] = None
    secret.update(RotationEnabled=True, LastChangedDate=int(time.time()))
    secretsmanager._sync_replicas(secret)
    return secret["ARN"], {}


def _rotation_create(logical_id, props, stack_name):
    """Turn the secret's rotation on (``_set_rotation``)."""
    return _set_rotation(props)


def _rotation_update(physical_id, old_props, new_props, stack_name):
    """The rules and the rotation function change in place; SecretId replaces."""
    return _set_rotation(new_props)


def _rotation_delete(physical_id, props):
    """Turn rotation off, as CancelRotateSecret does (ministack has no such action): the
    rules and function stay recorded, as DescribeSecret shows them after a cancel. A secret
    already gone is left alone."""
    _key, secret = secretsmanager._resolve(physical_id)
    if secret is not None:
        secret.update(RotationEnabled=False, LastChangedDate=int(time.time()))
        secretsmanager._sync_replicas(secret)


# --- AWS::Backup::BackupSelection: Ref is the selection id ------------------------------

_SELECTION = "AWS::Backup::BackupSelection"
_VAULT = "AWS::Backup::BackupVault"


def _backup_answer(response, what):
    """The JSON answer of a Backup API function (``backup._create_selection`` ...); an error
    answer raises ValueError with its error type and message."""
    status, _headers, body = response
    answer = json.loads(body) if body else {}
    if status >= 400:
        raise ValueError(f"{what}: {answer.get('__type')}: {answer.get('Message')}")
    return answer


def _selection_create(logical_id, props, stack_name):
    """Add the selection to its plan (CreateBackupSelection); an unknown plan fails, as on AWS.

    SelectionName and IamRoleArn are required, as by the API: ministack's function takes a
    selection without them.
    """
    selection = copy.deepcopy(props["BackupSelection"])
    missing = [key for key in ("SelectionName", "IamRoleArn") if not selection.get(key)]
    if missing:
        raise ValueError(f"{_SELECTION}: BackupSelection requires {' and '.join(missing)}")
    plan_id = props["BackupPlanId"]
    answer = _backup_answer(
        backup._create_selection(plan_id, {"BackupSelection": selection}),
        f"{_SELECTION} create failed",
    )
    selection_id = answer["SelectionId"]
    return selection_id, {"Id": selection_id, "SelectionId": selection_id, "BackupPlanId": plan_id}


def _selection_delete(physical_id, props):
    """Remove the selection from its plan (DeleteBackupSelection). One whose plan is gone, which
    the call no longer finds, is dropped from the store; one already gone is left alone."""
    selection = backup._selections.get(physical_id)
    if selection is None:
        return
    status, _headers, _body = backup._delete_selection(selection["BackupPlanId"], physical_id)
    if status >= 400:
        backup._selections.pop(physical_id, None)


# --- AWS::Backup::BackupVault: what ministack's provisioner misses ------------------------


def _refuse_taken_vault_name(handlers):
    """Wrap ministack's AWS::Backup::BackupVault create so a vault name already taken in the
    region fails the resource, as CreateBackupVault does (AlreadyExistsException).

    ministack 1.5.33's provisioner drops CreateBackupVault's error answer: the stack then
    took over the existing vault with its encryption key, not the template's. A vault a
    deleted stack retained (DeletionPolicy Retain), which blocks a redeploy on AWS, went
    unnoticed. ministack's update handler creates a renamed vault through the module's
    ``_backup_vault_create``, which ``register()`` points at the wrapper too.
    """
    create = handlers["create"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        name = props.get("BackupVaultName")
        if name and name in backup._vaults:
            raise ValueError(
                f"{_VAULT} create failed: AlreadyExistsException: Backup vault {name} already"
                " exists in this account and region."
            )
        return create(logical_id, props, stack_name)

    created.refuses_taken_name = True
    return {**handlers, "create": created}


# --- WAFv2 logging configurations: the API ministack's WAFv2 service lacks ------------

# Web ACL ARN -> its LoggingConfiguration, as GetLoggingConfiguration answers it.
_waf_logging = AccountRegionScopedDict()
_WAF_LOG_PREFIX = "aws-waf-logs-"


def _waf_logging_scope(arn):
    """REGIONAL or CLOUDFRONT, from the ``regional``/``global`` segment of a web ACL ARN."""
    return "CLOUDFRONT" if ":global/" in arn else "REGIONAL"


def _put_logging_configuration(data):
    """PutLoggingConfiguration: the web ACL must exist, and its one destination (a log group,
    bucket or Firehose stream) must be named ``aws-waf-logs-...``. Replaces the ACL's
    configuration; ManagedByFirewallManager is false, LogType WAF_LOGS, LogScope CUSTOMER."""
    config = copy.deepcopy(data.get("LoggingConfiguration") or {})
    arn = config.get("ResourceArn", "")
    _acl, error = waf._resolve_local_web_acl(arn)
    if error:
        return error
    destinations = config.get("LogDestinationConfigs") or []
    if len(destinations) != 1:
        return waf._waf_err(
            "WAFInvalidParameterException", "A web ACL takes exactly one logging destination."
        )
    name = re.split(r"[:/]", destinations[0].removesuffix(":*"))[-1]
    if not name.startswith(_WAF_LOG_PREFIX):
        return waf._waf_err(
            "WAFInvalidParameterException",
            f"The logging destination name must start with {_WAF_LOG_PREFIX}: {destinations[0]}",
        )
    config.update(ManagedByFirewallManager=False, LogType="WAF_LOGS", LogScope="CUSTOMER")
    _waf_logging[arn] = config
    return json_response({"LoggingConfiguration": config})


def _waf_logging_missing(arn):
    return waf._waf_err(
        "WAFNonexistentItemException", f"No logging configuration for the web ACL {arn}."
    )


def _get_logging_configuration(data):
    """GetLoggingConfiguration of a web ACL; WAFNonexistentItemException without one."""
    arn = data.get("ResourceArn", "")
    if arn not in _waf_logging:
        return _waf_logging_missing(arn)
    return json_response({"LoggingConfiguration": _waf_logging[arn]})


def _delete_logging_configuration(data):
    """DeleteLoggingConfiguration of a web ACL; WAFNonexistentItemException without one."""
    arn = data.get("ResourceArn", "")
    if _waf_logging.pop(arn, None) is None:
        return _waf_logging_missing(arn)
    return json_response({})


def _list_logging_configurations(data):
    """ListLoggingConfigurations of the scope (one page)."""
    scope = (data.get("Scope") or "REGIONAL").upper()
    configs = [c for c in _waf_logging.values() if _waf_logging_scope(c["ResourceArn"]) == scope]
    return json_response({"LoggingConfigurations": configs})


_WAF_LOGGING_ACTIONS = {
    "PutLoggingConfiguration": _put_logging_configuration,
    "GetLoggingConfiguration": _get_logging_configuration,
    "DeleteLoggingConfiguration": _delete_logging_configuration,
    "ListLoggingConfigurations": _list_logging_configurations,
}


def _serve_waf_logging(handle_request):
    """Wrap ministack's WAFv2 request handler so it answers the logging configuration actions
    (``_WAF_LOGGING_ACTIONS``): ministack 1.5.33 has none of them ("Unknown WAF action"), so a
    web ACL's logging could be neither set nor read. The other actions go to ministack."""

    @functools.wraps(handle_request)
    async def handle(method, path, headers, body, query_params):
        action = _WAF_LOGGING_ACTIONS.get(headers.get("x-amz-target", "").rpartition(".")[2])
        if action is None:
            return await handle_request(method, path, headers, body, query_params)
        try:
            return action(json.loads(body) if body else {})
        except json.JSONDecodeError:
            return error_response_json("SerializationException", "Invalid JSON", 400)

    handle.serves_logging = True
    return handle


def _reset_waf_logging(reset):
    """Wrap WAFv2's ``reset`` (``/_ministack/reset``) so it drops the logging configurations too."""

    @functools.wraps(reset)
    def reset_all():
        reset()
        _waf_logging.clear()

    reset_all.resets_logging = True
    return reset_all


def _json_answer(response, what):
    """The JSON answer of a JSON-protocol API function; an error answer raises ValueError
    with its error type and message."""
    status, _headers, body = response
    answer = json.loads(body) if body else {}
    if status >= 400:
        message = answer.get("message") or answer.get("Message")
        raise ValueError(f"{what}: {answer.get('__type')}: {message}")
    return answer


# --- AWS::WAFv2::WebACLAssociation: Ref is "<resource ARN>|<web ACL ARN>" ---------------

_WAF_ASSOCIATION = "AWS::WAFv2::WebACLAssociation"


def _waf_association_create(logical_id, props, stack_name):
    """Associate the web ACL with the resource (AssociateWebACL). An unknown web ACL fails,
    as on AWS, and so does an unknown load balancer: ministack's call takes any resource ARN.

    The Ref is the schema's primaryIdentifier, ResourceArn and WebACLArn joined by "|";
    the type has no Fn::GetAtt attributes.
    """
    resource_arn, acl_arn = props["ResourceArn"], props["WebACLArn"]
    if ":loadbalancer/" in resource_arn and resource_arn not in alb._lbs:
        raise ValueError(
            f"{_WAF_ASSOCIATION} create failed: WAFNonexistentItemException: AWS WAF couldn't"
            f" perform the operation because your resource doesn't exist: {resource_arn}"
        )
    _json_answer(
        waf._associate_web_acl({"ResourceArn": resource_arn, "WebACLArn": acl_arn}),
        f"{_WAF_ASSOCIATION} create failed",
    )
    return f"{resource_arn}|{acl_arn}", {}


def _waf_association_delete(physical_id, props):
    """Disassociate the resource (DisassociateWebACL) while GetWebACLForResource still names
    this web ACL: a replacing association to another ACL took the resource over first."""
    resource_arn = props["ResourceArn"]
    status, _headers, body = waf._get_web_acl_for_resource({"ResourceArn": resource_arn})
    if status < 400 and json.loads(body)["WebACL"]["ARN"] == props["WebACLArn"]:
        _json_answer(
            waf._disassociate_web_acl({"ResourceArn": resource_arn}),
            f"{_WAF_ASSOCIATION} delete failed",
        )


# --- AWS::WAFv2::LoggingConfiguration: Ref is the web ACL's ARN ------------------------

_WAF_LOGGING = "AWS::WAFv2::LoggingConfiguration"


def _waf_logging_put(props, verb):
    """Write the web ACL's configuration (``_put_logging_configuration``)."""
    config = {key: props[key] for key in ("RedactedFields", "LoggingFilter") if props.get(key)}
    config.update(
        ResourceArn=props["ResourceArn"], LogDestinationConfigs=list(props["LogDestinationConfigs"])
    )
    answer = _json_answer(
        _put_logging_configuration({"LoggingConfiguration": config}),
        f"{_WAF_LOGGING} {verb} failed",
    )["LoggingConfiguration"]
    # A string, as a stack output shows the boolean.
    managed = str(answer["ManagedByFirewallManager"]).lower()
    return answer["ResourceArn"], {"ManagedByFirewallManager": managed}


def _waf_logging_create(logical_id, props, stack_name):
    """Turn the web ACL's logging on; an unknown ACL or a destination not named
    ``aws-waf-logs-...`` fails, as on AWS."""
    return _waf_logging_put(props, "create")


def _waf_logging_update(physical_id, old_props, new_props, stack_name):
    """LogDestinationConfigs, RedactedFields and LoggingFilter change in place; ResourceArn
    replaces."""
    return _waf_logging_put(new_props, "update")


def _waf_logging_delete(physical_id, props):
    """Turn the web ACL's logging off (DeleteLoggingConfiguration); one already off is left."""
    if physical_id in _waf_logging:
        _json_answer(
            _delete_logging_configuration({"ResourceArn": physical_id}),
            f"{_WAF_LOGGING} delete failed",
        )


# --- AWS::WAFv2::WebACL: what ministack's provisioner misses ------------------------------

# The WAFv2 API's integer members that a web ACL's rules can carry.
_WAF_INTEGERS = frozenset(
    ("Priority", "Limit", "EvaluationWindowSec", "Size", "ResponseCode", "ImmunityTime")
)


def _waf_numbers(value):
    """``value`` with the WAFv2 integer members that arrive as strings made numbers."""
    if isinstance(value, list):
        return [_waf_numbers(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: int(item)
        if key in _WAF_INTEGERS and isinstance(item, str) and item.lstrip("-").isdigit()
        else _waf_numbers(item)
        for key, item in value.items()
    }


def _waf_integer_members(handlers):
    """Wrap ministack's AWS::WAFv2::WebACL create and update so the rules' integer members
    (Priority, a rate-based statement's Limit ...) are numbers, as GetWebACL answers them.

    ministack 1.5.33 stores the rules as the template resolved them: a ``Ref`` to a Number
    parameter (the rate limit) is a string there, and GetWebACL answered ``"Limit": "2000"``.
    """
    create, update = handlers["create"], handlers["update"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        return create(logical_id, _waf_numbers(props), stack_name)

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        return update(
            physical_id, _waf_numbers(old_props), _waf_numbers(new_props), stack_name, logical_id
        )

    created.integer_members = True
    return {**handlers, "create": created, "update": updated}


# --- AWS::ElasticLoadBalancingV2::*: what ministack's provisioners drop ------------------

_LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
_TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
_LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
_LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"


def _subnets_vpc(props):
    """The VPC of the load balancer's subnets, as ELB derives it; subnets of two VPCs fail,
    as on AWS. None when the EC2 store knows none of them."""
    subnets = cfn._elbv2_as_list(props.get("Subnets"))
    vpcs = {ec2._subnets[s]["VpcId"] for s in subnets if s in ec2._subnets}
    if len(vpcs) > 1:
        raise ValueError(
            f"{_LOAD_BALANCER}: InvalidConfigurationRequest: the subnets of a load balancer"
            f" must belong to one VPC, not {sorted(vpcs)}"
        )
    return vpcs.pop() if vpcs else None


def _place_load_balancer(arn, vpc_id):
    """Record the load balancer's VPC (``_subnets_vpc``), when there is one."""
    if vpc_id:
        alb._lbs[arn]["VpcId"] = vpc_id


def _refuse_protected_load_balancer(arn):
    """Fail like ELB when the load balancer has deletion_protection.enabled on."""
    attributes = {a["Key"]: a["Value"] for a in alb._lb_attrs.get(arn) or []}
    if str(attributes.get("deletion_protection.enabled", "false")).lower() == "true":
        raise ValueError(
            f"{_LOAD_BALANCER} delete failed: OperationNotPermitted: Load balancer '{arn}'"
            " cannot be deleted because deletion protection is enabled"
        )


def _complete_load_balancer(handlers):
    """Wrap ministack's AWS::ElasticLoadBalancingV2::LoadBalancer handlers.

    ministack 1.5.33 reports a load balancer in ``vpc-00000001`` (the type has no VpcId
    property; ELB takes the subnets' VPC), deletes one whose deletion_protection.enabled
    is true (ELB refuses: the stack delete fails on AWS) and leaves a deleted load
    balancer's WAF association behind. The wrappers set the VPC from the EC2 subnets,
    refuse the protected delete with ELB's error, and disassociate the web ACL
    (DisassociateWebACL), as deleting the load balancer does on AWS.
    """
    create, update, delete = (handlers[k] for k in ("create", "update", "delete"))

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        vpc_id = _subnets_vpc(props)
        arn, attributes = create(logical_id, props, stack_name)
        _place_load_balancer(arn, vpc_id)
        return arn, attributes

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        vpc_id = _subnets_vpc(new_props)
        arn, attributes = update(physical_id, old_props, new_props, stack_name, logical_id)
        _place_load_balancer(arn, vpc_id)
        return arn, attributes

    @functools.wraps(delete)
    def deleted(physical_id, props):
        _refuse_protected_load_balancer(physical_id)
        delete(physical_id, props)
        waf._disassociate_web_acl({"ResourceArn": physical_id})

    created.completes_template = True
    return {**handlers, "create": created, "update": updated, "delete": deleted}


def _render_load_balancer_zones(lb_xml):
    """Wrap ELBv2's LoadBalancer XML so each subnet shows its own Availability Zone: ministack
    1.5.33 renders every subnet in the region's "a" zone. Subnets the EC2 store does not
    know keep that."""

    @functools.wraps(lb_xml)
    def render(lb):
        xml = lb_xml(lb)
        for subnet_id in lb.get("Subnets", []):
            zone = (ec2._subnets.get(subnet_id) or {}).get("AvailabilityZone")
            if zone:
                xml = xml.replace(
                    f"<ZoneName>{alb.get_region()}a</ZoneName><SubnetId>{subnet_id}</SubnetId>",
                    f"<ZoneName>{zone}</ZoneName><SubnetId>{subnet_id}</SubnetId>",
                )
        return xml

    render.renders_zones = True
    return render


# The target group fields ministack's provisioner leaves out, with ELB's defaults.
_TARGET_GROUP_EXTRAS = {"IpAddressType": "ipv4", "ProtocolVersion": "HTTP1"}


def _target_group_extras(arn, props):
    """Record IpAddressType and, for an HTTP or HTTPS group, ProtocolVersion."""
    tg = alb._tgs[arn]
    tg["IpAddressType"] = props.get("IpAddressType") or _TARGET_GROUP_EXTRAS["IpAddressType"]
    if tg.get("Protocol") in ("HTTP", "HTTPS"):
        tg["ProtocolVersion"] = (
            props.get("ProtocolVersion") or _TARGET_GROUP_EXTRAS["ProtocolVersion"]
        )


def _with_full_name(arn, attributes):
    """The attributes with TargetGroupFullName as ELB names the group in CloudWatch metrics:
    ``targetgroup/<name>/<id>``, the ARN's resource part."""
    return {**attributes, "TargetGroupFullName": arn.split(":", 5)[5]}


def _complete_target_group(handlers):
    """Wrap ministack's AWS::ElasticLoadBalancingV2::TargetGroup create and update so the group
    keeps its ProtocolVersion and IpAddressType, which ministack 1.5.33 drops
    (``_render_target_group_extras`` shows them), and its TargetGroupFullName attribute is
    ``targetgroup/<name>/<id>``: ministack's left ``targetgroup/`` out, so an alarm's
    TargetGroup dimension and an ALBRequestCountPerTarget ResourceLabel built from it named
    no target group."""
    create, update = handlers["create"], handlers["update"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        arn, attributes = create(logical_id, props, stack_name)
        _target_group_extras(arn, props)
        return arn, _with_full_name(arn, attributes)

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        arn, attributes = update(physical_id, old_props, new_props, stack_name, logical_id)
        _target_group_extras(arn, new_props)
        return arn, _with_full_name(arn, attributes)

    created.completes_template = True
    return {**handlers, "create": created, "update": updated}


def _render_target_group_extras(tg_xml):
    """Wrap ELBv2's TargetGroup XML so DescribeTargetGroups shows ProtocolVersion and
    IpAddressType, which ministack 1.5.33 never renders. A group without them renders as
    before."""

    @functools.wraps(tg_xml)
    def render(tg):
        extras = "".join(f"<{key}>{tg[key]}</{key}>" for key in _TARGET_GROUP_EXTRAS if tg.get(key))
        return tg_xml(tg).removesuffix("</member>") + extras + "</member>"

    render.renders_extras = True
    return render


def _sync_target_group_load_balancers():
    """Set each target group's LoadBalancerArns to the load balancers whose listener rules
    (the default rules included) forward to it, as DescribeTargetGroups shows them on AWS."""
    forwarded = {}
    for rule in alb._rules.values():
        listener = alb._listeners.get(rule.get("ListenerArn")) or {}
        for action in rule.get("Actions") or []:
            if listener and action.get("TargetGroupArn"):
                arns = forwarded.setdefault(action["TargetGroupArn"], [])
                if listener["LoadBalancerArn"] not in arns:
                    arns.append(listener["LoadBalancerArn"])
    for arn, tg in alb._tgs.items():
        tg["LoadBalancerArns"] = forwarded.get(arn, [])


def _link_target_groups(handlers):
    """Wrap ministack's AWS::ElasticLoadBalancingV2::Listener handlers so the target groups'
    LoadBalancerArns follow the listener's forwards (``_sync_target_group_load_balancers``):
    ministack 1.5.33 adds the load balancer for a default forward and never takes it off."""
    create, update, delete = (handlers[k] for k in ("create", "update", "delete"))

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        result = create(logical_id, props, stack_name)
        _sync_target_group_load_balancers()
        return result

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        result = update(physical_id, old_props, new_props, stack_name, logical_id)
        _sync_target_group_load_balancers()
        return result

    @functools.wraps(delete)
    def deleted(physical_id, props):
        delete(physical_id, props)
        _sync_target_group_load_balancers()

    created.links_target_groups = True
    return {**handlers, "create": created, "update": updated, "delete": deleted}


def _complete_listener_rule(handlers):
    """Wrap ministack's AWS::ElasticLoadBalancingV2::ListenerRule handlers.

    ministack 1.5.33 drops a rule's Tags (DescribeTags answered none; with the type added to
    the stack-tag table the rule also gets the aws:cloudformation:* tags) and leaves a
    target group the rule forwards to without the rule's load balancer in LoadBalancerArns.
    The wrappers keep the tags in ELBv2's tag store (dropped with the rule) and resync the
    target groups' load balancers (``_sync_target_group_load_balancers``).
    """
    create, update, delete = (handlers[k] for k in ("create", "update", "delete"))

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        arn, attributes = create(logical_id, props, stack_name)
        alb._tags[arn] = cfn._elbv2_tags(props.get("Tags"))
        _sync_target_group_load_balancers()
        return arn, attributes

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        arn, attributes = update(physical_id, old_props, new_props, stack_name, logical_id)
        if arn == physical_id:
            cfn._reconcile_tag_list(alb._tags.setdefault(arn, []), old_props, new_props)
        else:
            alb._tags[arn] = cfn._elbv2_tags(new_props.get("Tags"))
        _sync_target_group_load_balancers()
        return arn, attributes

    @functools.wraps(delete)
    def deleted(physical_id, props):
        delete(physical_id, props)
        alb._tags.pop(physical_id, None)
        _sync_target_group_load_balancers()

    created.keeps_tags = True
    return {**handlers, "create": created, "update": updated, "delete": deleted}


# --- AWS::CertificateManager::Certificate: DNS validation in the hosted zone ---------------

_CERTIFICATE = "AWS::CertificateManager::Certificate"
_ROUTE53_NS = "https://route53.amazonaws.com/doc/2013-04-01/"


def _upsert_validation_record(zone_id, record):
    """Write a validation CNAME into the zone (ChangeResourceRecordSets, UPSERT)."""
    record_set = {
        "Name": record["Name"],
        "Type": record["Type"],
        "TTL": 300,
        "ResourceRecords": {"ResourceRecord": {"Value": record["Value"]}},
    }
    root = ElementTree.Element("ChangeResourceRecordSetsRequest", xmlns=_ROUTE53_NS)
    _xml_members(
        root,
        {
            "ChangeBatch": {
                "Changes": {"Change": {"Action": "UPSERT", "ResourceRecordSet": record_set}}
            }
        },
    )
    status, _headers, body = route53._change_resource_record_sets(
        zone_id, ElementTree.tostring(root)
    )
    if status >= 400:
        error = ElementTree.fromstring(body)
        raise ValueError(
            f"{_CERTIFICATE}: DNS validation in hosted zone {zone_id} failed:"
            f" {error.findtext('.//{*}Code')}: {error.findtext('.//{*}Message')}"
        )


def _write_validation_records(arn, props):
    """For DNS validation, each domain's validation CNAME goes into the HostedZoneId its
    DomainValidationOptions entry names, when Route 53 here has that zone."""
    if props.get("ValidationMethod", "DNS") != "DNS":
        return
    zones = {
        option["DomainName"]: option["HostedZoneId"]
        for option in props.get("DomainValidationOptions") or []
        if option.get("HostedZoneId") in route53._zones and option.get("DomainName")
    }
    for option in acm._certificates[arn].get("DomainValidationOptions") or []:
        if option["DomainName"] in zones and option.get("ResourceRecord"):
            _upsert_validation_record(zones[option["DomainName"]], option["ResourceRecord"])


_ZONE_ID_REFERENCE = re.compile(r"^zone-id:(Z[A-Z0-9]{1,32})$")


def _zone_with_requested_id(create_hosted_zone):
    """Wrap Route 53's CreateHostedZone so a CallerReference `zone-id:<ID>` makes the zone
    under that ID: an environment's real zone IDs (which Route 53 chooses on AWS) can then
    exist here, and its alias and validation records land in them."""

    @functools.wraps(create_hosted_zone)
    def created(body, query_params):
        root = route53._parse_body(body)
        wanted = _ZONE_ID_REFERENCE.match(route53._text(root, "CallerReference")) if root else None
        if wanted is None:
            return create_hosted_zone(body, query_params)
        generate = route53._zone_id
        route53._zone_id = lambda: wanted.group(1)
        try:
            return create_hosted_zone(body, query_params)
        finally:
            route53._zone_id = generate

    created.takes_requested_id = True
    return created


def _validate_in_hosted_zone(handlers):
    """Wrap ministack's AWS::CertificateManager::Certificate create and update so DNS
    validation writes each domain's validation CNAME into the hosted zone its
    DomainValidationOptions HostedZoneId names, as CloudFormation does.

    ministack 1.5.33 ignores HostedZoneId (DescribeCertificate has no such field, so the zone
    only shows in Route 53). As on AWS, the record stays when the certificate is deleted
    (aws-cloudformation/cloudformation-coverage-roadmap#1603). A zone Route 53 here does not
    have (an environment's real zone id, which fails the validation on AWS) gets no record,
    and the certificate is issued at once, as ministack issues every certificate: an
    environment deploys into the emulator without its zones.
    """
    create, update = handlers["create"], handlers["update"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        arn, attributes = create(logical_id, props, stack_name)
        try:
            _write_validation_records(arn, props)
        except ValueError:
            acm._certificates.pop(arn, None)
            raise
        return arn, attributes

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        arn, attributes = update(physical_id, old_props, new_props, stack_name, logical_id)
        _write_validation_records(arn, new_props)
        return arn, attributes

    created.validates_in_zone = True
    return {**handlers, "create": created, "update": updated}


# --- AWS::S3::Bucket: what ministack's provisioner drops ----------------------------------


def _xml_members(parent, members):
    """Append ``members`` (a dict of tag -> text, dict or list of repeated elements) to an
    XML element; None values are left out."""
    for tag, value in members.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            element = ElementTree.SubElement(parent, tag)
            if isinstance(item, dict):
                _xml_members(element, item)
            else:
                element.text = str(item).lower() if isinstance(item, bool) else str(item)


def _s3_body(root_tag, members):
    """An S3 request body: ``root_tag`` in S3's namespace holding ``members``."""
    root = ElementTree.Element(root_tag, xmlns=s3.S3_NS)
    _xml_members(root, members)
    return ElementTree.tostring(root)


def _encryption_body(config):
    """BucketEncryption as the PutBucketEncryption body."""
    rules = [
        {
            "ApplyServerSideEncryptionByDefault": rule.get("ServerSideEncryptionByDefault"),
            "BucketKeyEnabled": cfn._cfn_bool(rule.get("BucketKeyEnabled", False)),
        }
        for rule in config.get("ServerSideEncryptionConfiguration") or []
    ]
    return _s3_body("ServerSideEncryptionConfiguration", {"Rule": rules})


def _ownership_body(config):
    """OwnershipControls as the PutBucketOwnershipControls body."""
    rules = [{"ObjectOwnership": rule["ObjectOwnership"]} for rule in config.get("Rules") or []]
    return _s3_body("OwnershipControls", {"Rule": rules})


def _tagging_body(tags):
    """Tags as the PutBucketTagging body."""
    tag_set = [{"Key": tag["Key"], "Value": tag.get("Value", "")} for tag in tags or []]
    return _s3_body("Tagging", {"TagSet": {"Tag": tag_set}})


def _lifecycle_filter(rule):
    """A template rule's Prefix, TagFilters and object sizes as the API's Filter."""
    conditions = {
        "Prefix": rule.get("Prefix"),
        "Tag": [{"Key": t["Key"], "Value": t["Value"]} for t in rule.get("TagFilters") or []],
        "ObjectSizeGreaterThan": rule.get("ObjectSizeGreaterThan"),
        "ObjectSizeLessThan": rule.get("ObjectSizeLessThan"),
    }
    count = sum(
        len(value) if isinstance(value, list) else value is not None
        for value in conditions.values()
    )
    if count > 1:
        return {"And": conditions}
    return {key: value for key, value in conditions.items() if value not in (None, [])} or {
        "Prefix": ""
    }


def _lifecycle_rule(rule):
    """One template lifecycle rule in the API's Rule shape."""
    transitions = list(rule.get("Transitions") or []) + (
        [rule["Transition"]] if rule.get("Transition") else []
    )
    noncurrent_transitions = list(rule.get("NoncurrentVersionTransitions") or []) + (
        [rule["NoncurrentVersionTransition"]] if rule.get("NoncurrentVersionTransition") else []
    )
    noncurrent = rule.get("NoncurrentVersionExpiration") or (
        {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
        if "NoncurrentVersionExpirationInDays" in rule
        else None
    )
    expiration = {
        "Days": rule.get("ExpirationInDays"),
        "Date": rule.get("ExpirationDate"),
        "ExpiredObjectDeleteMarker": cfn._cfn_bool(rule["ExpiredObjectDeleteMarker"])
        if "ExpiredObjectDeleteMarker" in rule
        else None,
    }
    return {
        "ID": rule.get("Id"),
        "Filter": _lifecycle_filter(rule),
        "Status": rule["Status"],
        "Expiration": expiration if any(v is not None for v in expiration.values()) else None,
        "Transition": [
            {
                "Days": t.get("TransitionInDays"),
                "Date": t.get("TransitionDate"),
                "StorageClass": t["StorageClass"],
            }
            for t in transitions
        ],
        "NoncurrentVersionTransition": [
            {
                "NoncurrentDays": t.get("TransitionInDays"),
                "NewerNoncurrentVersions": t.get("NewerNoncurrentVersions"),
                "StorageClass": t["StorageClass"],
            }
            for t in noncurrent_transitions
        ],
        "NoncurrentVersionExpiration": noncurrent,
        "AbortIncompleteMultipartUpload": rule.get("AbortIncompleteMultipartUpload"),
    }


def _lifecycle_body(config):
    """LifecycleConfiguration as the PutBucketLifecycleConfiguration body."""
    rules = [_lifecycle_rule(rule) for rule in config.get("Rules") or []]
    return _s3_body("LifecycleConfiguration", {"Rule": rules})


# Each bucket property: its request body, and the S3 calls that set and remove it.
_BUCKET_SETTINGS = (
    ("BucketEncryption", _encryption_body, s3._put_bucket_encryption, s3._delete_bucket_encryption),
    (
        "LifecycleConfiguration",
        _lifecycle_body,
        s3._put_bucket_lifecycle,
        s3._delete_bucket_lifecycle,
    ),
    (
        "OwnershipControls",
        _ownership_body,
        s3._put_bucket_ownership_controls,
        s3._delete_bucket_ownership_controls,
    ),
    ("Tags", _tagging_body, s3._put_bucket_tagging, s3._delete_bucket_tagging),
)


def _configure_bucket(name, props, old_props):
    """Set the bucket properties the template declares through the S3 API; one it dropped
    is removed."""
    for key, body, put, remove in _BUCKET_SETTINGS:
        if props.get(key):
            status, _headers, answer = put(name, body(props[key]))
        elif old_props.get(key):
            status, _headers, answer = remove(name)
        else:
            continue
        if status >= 400:
            error = ElementTree.fromstring(answer)
            raise ValueError(
                f"AWS::S3::Bucket {key}: {error.findtext('Code')}: {error.findtext('Message')}"
            )


def _configure_bucket_settings(handlers):
    """Wrap ministack's AWS::S3::Bucket create and update so BucketEncryption,
    LifecycleConfiguration, OwnershipControls and Tags reach the bucket (PutBucketEncryption,
    PutBucketLifecycleConfiguration, PutBucketOwnershipControls, PutBucketTagging).

    ministack 1.5.33's provisioner drops all four: a bucket read back the S3 defaults
    (SSE-S3, BucketOwnerEnforced) whatever its template said, no lifecycle rules and no
    tags. With the type in the stack-tag table the bucket gets the stack's and the
    aws:cloudformation:* tags too, as on AWS.
    """
    create, update = handlers["create"], handlers["update"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        name, attributes = create(logical_id, props, stack_name)
        _configure_bucket(name, props, {})
        return name, attributes

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name):
        name, attributes = update(physical_id, old_props, new_props, stack_name)
        _configure_bucket(name, new_props, old_props if name == physical_id else {})
        return name, attributes

    created.configures_settings = True
    return {**handlers, "create": created, "update": updated}


# --- AWS::SecretsManager::Secret: GenerateSecretString -----------------------------------

# GenerateSecretString's options that GetRandomPassword takes, with their types.
_PASSWORD_OPTIONS = {
    "PasswordLength": int,
    "ExcludeCharacters": str,
    "ExcludeNumbers": cfn._cfn_bool,
    "ExcludePunctuation": cfn._cfn_bool,
    "ExcludeUppercase": cfn._cfn_bool,
    "ExcludeLowercase": cfn._cfn_bool,
    "IncludeSpace": cfn._cfn_bool,
    "RequireEachIncludedType": cfn._cfn_bool,
}


# --- AWS::CloudWatch::Alarm: metric math ------------------------------------------------


def _record_metric_math_alarms(record):
    """Wrap ministack's ``_cw_metric_alarm_record`` so an alarm on a metric math expression
    (``Metrics``: MetricDataQuery items) is recorded as DescribeAlarms shows one on AWS: the
    ``Metrics`` list and no MetricName, Namespace, Statistic, Period or Dimensions.

    ministack 1.5.33 refused such an alarm ("metric math is not supported"), so a template
    with one could not be deployed. The expression is stored, not evaluated: the alarm stays
    INSUFFICIENT_DATA, as ministack's evaluation skips an alarm without a MetricName.
    """

    @functools.wraps(record)
    def recorded(name, props):
        queries = props.get("Metrics")
        if not queries:
            return record(name, props)
        alarm = record(name, {**props, "Metrics": None, "MetricName": "-", "Namespace": "-"})
        for single in ("MetricName", "Namespace", "Statistic", "Period", "Dimensions", "Unit"):
            alarm.pop(single, None)
        alarm["Metrics"] = [_metric_data_query(query) for query in queries]
        return alarm

    recorded.records_metric_math = True
    return recorded


def _metric_data_query(query):
    """A template's MetricDataQuery as the API returns it: numbers and booleans typed."""
    out = dict(query)
    if "ReturnData" in out:
        out["ReturnData"] = str(out["ReturnData"]).lower() == "true"
    if "Period" in out:
        out["Period"] = int(out["Period"])
    if "MetricStat" in out:
        out["MetricStat"] = {**out["MetricStat"], "Period": int(out["MetricStat"]["Period"])}
    return out


def _generate_with_every_option(secret_string):
    """Wrap ministack's ``_sm_secret_string`` so GenerateSecretString generates through
    GetRandomPassword with all its options.

    ministack 1.5.33 honours PasswordLength and ExcludeCharacters only: ExcludePunctuation,
    ExcludeNumbers, ExcludeUppercase, ExcludeLowercase, IncludeSpace and
    RequireEachIncludedType were ignored, and a secret meant to be letters and digits (an
    HTTP header value) got punctuation. A SecretStringTemplate gets the password under
    GenerateStringKey, as before.
    """

    @functools.wraps(secret_string)
    def generate(props):
        options = props.get("GenerateSecretString")
        if not options or props.get("SecretString"):
            return secret_string(props)
        request = {
            key: kind(options[key]) for key, kind in _PASSWORD_OPTIONS.items() if key in options
        }
        password = _json_answer(
            secretsmanager._get_random_password(request),
            "AWS::SecretsManager::Secret GenerateSecretString",
        )["RandomPassword"]
        template = options.get("SecretStringTemplate")
        if not template:
            return password
        document = json.loads(template)
        document[options.get("GenerateStringKey", "password")] = password
        return json.dumps(document)

    generate.uses_every_option = True
    return generate


# --- AWS::ECS::*: what ministack's provisioners drop -------------------------------------

_CLUSTER = "AWS::ECS::Cluster"
_TASK_DEFINITION = "AWS::ECS::TaskDefinition"
_SERVICE = "AWS::ECS::Service"
_ASSOCIATIONS = "AWS::ECS::ClusterCapacityProviderAssociations"

# The ECS API's integer and boolean members that a Ref to a parameter or an Fn::If makes strings.
_ECS_INTEGERS = frozenset(
    (
        "Base",
        "BakeTimeInMinutes",
        "ContainerPort",
        "Cpu",
        "DesiredCount",
        "HardLimit",
        "HealthCheckGracePeriodSeconds",
        "HostPort",
        "Interval",
        "MaxSwap",
        "MaximumPercent",
        "Memory",
        "MemoryReservation",
        "MinimumHealthyPercent",
        "Retries",
        "SharedMemorySize",
        "Size",
        "SizeInGiB",
        "SoftLimit",
        "StartPeriod",
        "StartTimeout",
        "StopTimeout",
        "Swappiness",
        "Timeout",
        "Weight",
    )
)
_ECS_BOOLEANS = frozenset(
    (
        "Enable",
        "EnableECSManagedTags",
        "EnableExecuteCommand",
        "Essential",
        "InitProcessEnabled",
        "ReadOnly",
        "ReadonlyRootFilesystem",
        "Rollback",
    )
)
# Maps whose keys are the template author's, not the API's: they stay as they are.
_ECS_FREE_FORM = frozenset(("DockerLabels", "DriverOpts", "Labels", "Options"))
# The CloudFormation names the ECS API spells other than with a lower-case first letter.
_ECS_NAMES = {
    "EFSVolumeConfiguration": "efsVolumeConfiguration",
    "FSxWindowsFileServerVolumeConfiguration": "fsxWindowsFileServerVolumeConfiguration",
}


def _ecs_member(key, item):
    """One member with its integer or boolean made a number or a bool."""
    if isinstance(item, str) and key in _ECS_INTEGERS and item.lstrip("-").isdigit():
        return int(item)
    if isinstance(item, str) and key in _ECS_BOOLEANS:
        return cfn._cfn_bool(item)
    return item if key in _ECS_FREE_FORM else _ecs_numbers(item)


def _ecs_numbers(value):
    """``value`` with the ECS integer and boolean members that arrive as strings made numbers
    and bools; the names stay CloudFormation's."""
    if isinstance(value, list):
        return [_ecs_numbers(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: _ecs_member(key, item) for key, item in value.items()}


def _ecs_camel(value):
    """``value`` with CloudFormation's PascalCase names made the ECS API's camelCase ones;
    free-form maps (a log driver's options, Docker labels) stay as they are."""
    if isinstance(value, list):
        return [_ecs_camel(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        _ECS_NAMES.get(key, key[:1].lower() + key[1:]): item
        if key in _ECS_FREE_FORM
        else _ecs_camel(item)
        for key, item in value.items()
    }


def _ecs_shape(value):
    """A CloudFormation ECS property as the ECS API takes and answers it."""
    return _ecs_camel(_ecs_numbers(value))


# --- AWS::ECS::Cluster: what ministack's update handler drops ----------------------------

_CLUSTER_CAPACITY = ("capacityProviders", "defaultCapacityProviderStrategy")


def _keep_capacity_providers(handlers):
    """Wrap ministack's AWS::ECS::Cluster update so a cluster whose template sets neither
    CapacityProviders nor DefaultCapacityProviderStrategy keeps the ones it has.

    ministack 1.5.33's update writes both from the template whatever it says: any change to
    a cluster (its tags, the stack's tags) dropped the FARGATE and FARGATE_SPOT an
    AWS::ECS::ClusterCapacityProviderAssociations gave it, and the services' capacity
    provider strategies then named providers the cluster no longer had.
    """
    update = handlers["update"]

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        cluster = ecs._clusters.get(physical_id) or {}
        kept = {key: copy.deepcopy(cluster.get(key)) for key in _CLUSTER_CAPACITY}
        name, attributes = update(physical_id, old_props, new_props, stack_name, logical_id)
        declared = any(
            props.get(key)
            for props in (old_props, new_props)
            for key in ("CapacityProviders", "DefaultCapacityProviderStrategy")
        )
        if name == physical_id and not declared and name in ecs._clusters:
            ecs._clusters[name].update({k: v for k, v in kept.items() if v is not None})
        return name, attributes

    updated.keeps_capacity_providers = True
    return {**handlers, "update": updated}


# --- AWS::ECS::ClusterCapacityProviderAssociations: Ref is the cluster name ---------------


def _providers_in_use(cluster_name):
    """The capacity providers the strategies of the cluster's active services name."""
    return {
        item["capacityProvider"]
        for key, service in ecs._services.items()
        if key.startswith(f"{cluster_name}/") and service["status"] == "ACTIVE"
        for item in service.get("capacityProviderStrategy") or []
    }


def _check_capacity_providers(cluster_name, providers, strategy, verb):
    """Refuse what PutClusterCapacityProviders refuses: an unknown provider, a default strategy
    naming one the cluster is not given, and taking away one a service's strategy uses."""
    what = f"{_ASSOCIATIONS} {verb} failed"
    unknown = [
        p for p in providers if p not in ecs._FARGATE_PROVIDERS and p not in ecs._capacity_providers
    ]
    if unknown:
        raise ValueError(
            f"{what}: InvalidParameterException: The specified capacity providers do not exist:"
            f" {', '.join(unknown)}"
        )
    if any(item["capacityProvider"] not in providers for item in strategy):
        raise ValueError(
            f"{what}: InvalidParameterException: The specified capacity provider strategy"
            " cannot contain a capacity provider that is not associated with the cluster."
        )
    in_use = sorted(_providers_in_use(cluster_name) - set(providers))
    if in_use:
        raise ValueError(
            f"{what}: ResourceInUseException: The specified capacity providers are in use by"
            f" services of the cluster and cannot be removed: {', '.join(in_use)}"
        )


def _put_capacity_providers(props, verb, providers=None, strategy=None):
    """Set the cluster's capacity providers and default strategy (PutClusterCapacityProviders);
    without ``providers``, the resource's. An unknown cluster fails, as on AWS."""
    cluster_name = ecs._resolve_cluster_name(props["Cluster"])
    if providers is None:
        providers = list(props.get("CapacityProviders") or [])
        strategy = _ecs_shape(props.get("DefaultCapacityProviderStrategy") or [])
    if cluster_name in ecs._clusters:
        _check_capacity_providers(cluster_name, providers, strategy, verb)
    request = {
        "cluster": cluster_name,
        "capacityProviders": providers,
        "defaultCapacityProviderStrategy": strategy,
    }
    _json_answer(ecs._put_cluster_capacity_providers(request), f"{_ASSOCIATIONS} {verb} failed")
    return cluster_name, {}


def _associations_create(logical_id, props, stack_name):
    """Give the cluster its capacity providers and default strategy."""
    return _put_capacity_providers(props, "create")


def _associations_update(physical_id, old_props, new_props, stack_name):
    """The providers and the default strategy change in place; Cluster replaces."""
    return _put_capacity_providers(new_props, "update")


def _associations_delete(physical_id, props):
    """Take the cluster's capacity providers and default strategy away, as CloudFormation does;
    a cluster already gone is left alone."""
    if ecs._resolve_cluster_name(props["Cluster"]) in ecs._clusters:
        _put_capacity_providers(props, "delete", [], [])


# --- AWS::ECS::TaskDefinition: registered through RegisterTaskDefinition ------------------

# The properties RegisterTaskDefinition takes, shaped as ECS takes them.
_TASK_DEFINITION_PROPERTIES = (
    "ContainerDefinitions",
    "EnableFaultInjection",
    "EphemeralStorage",
    "ExecutionRoleArn",
    "InferenceAccelerators",
    "IpcMode",
    "NetworkMode",
    "PidMode",
    "PlacementConstraints",
    "ProxyConfiguration",
    "RequiresCompatibilities",
    "RuntimePlatform",
    "TaskRoleArn",
    "Volumes",
)


def _task_definition_request(logical_id, props, stack_name):
    """The RegisterTaskDefinition request of the resource's properties. Cpu and Memory are
    strings, as ECS keeps them; in awsvpc mode (a Fargate task's default) a container port is
    also its host port, as ECS records it."""
    request = {
        _ECS_NAMES.get(key, key[:1].lower() + key[1:]): _ecs_shape(props[key])
        for key in _TASK_DEFINITION_PROPERTIES
        if key in props
    }
    request.update(
        {key.lower(): str(props[key]) for key in ("Cpu", "Memory") if key in props},
        family=props.get("Family") or f"{stack_name}-{logical_id}",
        tags=_ecs_shape(props.get("Tags") or []),
    )
    fargate = "FARGATE" in request.get("requiresCompatibilities", [])
    if request.get("networkMode", "awsvpc" if fargate else "bridge") == "awsvpc":
        for container in request.get("containerDefinitions") or []:
            for mapping in container.get("portMappings") or []:
                if "containerPort" in mapping:
                    mapping.setdefault("hostPort", mapping["containerPort"])
    return request


def _register_task_definitions(handlers):
    """Wrap ministack's AWS::ECS::TaskDefinition create so the revision is registered through
    RegisterTaskDefinition with every property of the template.

    ministack 1.5.33's provisioner writes the record itself and drops RuntimePlatform,
    EphemeralStorage, ProxyConfiguration and InferenceAccelerators; it leaves the containers'
    nested members (Secrets, HealthCheck, LinuxParameters, Ulimits ...) and the Volumes in
    CloudFormation's PascalCase, so DescribeTaskDefinition answered ``Secrets`` with
    ``ValueFrom`` where ECS answers ``secrets`` with ``valueFrom``, and it keeps a container
    port a Ref gave as a string. Its update registers the next revision for any change but
    Tags and leaves the previous one ACTIVE; with the type's createOnlyProperties in
    ``_REPLACING`` the engine replaces instead, so the new revision is registered here and the
    previous one deregistered (INACTIVE), as on AWS. ministack's update handler, which then
    sees only Tags, creates through the module's ``_ecs_task_def_create``, which
    ``register()`` points at the wrapper too.
    """
    create = handlers["create"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        request = _task_definition_request(logical_id, props, stack_name)
        answer = _json_answer(
            ecs._register_task_definition(request), f"{_TASK_DEFINITION} create failed"
        )
        arn = answer["taskDefinition"]["taskDefinitionArn"]
        return arn, {"TaskDefinitionArn": arn}

    created.registers = True
    return {**handlers, "create": created}


# --- AWS::ECS::Service: what ministack's provisioner drops -------------------------------

# The CreateService fields ministack's provisioner leaves out, with the values ECS gives a
# service whose template does not set them.
_SERVICE_EXTRAS = {
    "HealthCheckGracePeriodSeconds": 0,
    "EnableExecuteCommand": False,
    "EnableECSManagedTags": False,
    "PropagateTags": "NONE",
    "PlatformVersion": "",
    "SchedulingStrategy": "REPLICA",
    "DeploymentController": {"Type": "ECS"},
}


def _service_key(arn):
    """The ECS store's "<cluster>/<service>" key of a service ARN."""
    return arn.split(":service/", 1)[1]


def _check_service_capacity(props):
    """Refuse what CreateService and UpdateService refuse: an unknown cluster (ministack makes
    one up) and a capacity provider strategy naming a provider not associated with the
    cluster."""
    cluster_name = ecs._resolve_cluster_name(props.get("Cluster") or "default")
    cluster = ecs._clusters.get(cluster_name)
    if cluster is None:
        raise ValueError(f"{_SERVICE}: ClusterNotFoundException: Cluster not found: {cluster_name}")
    missing = [
        item["CapacityProvider"]
        for item in props.get("CapacityProviderStrategy") or []
        if item["CapacityProvider"] not in (cluster.get("capacityProviders") or [])
    ]
    if missing:
        raise ValueError(
            f"{_SERVICE}: InvalidParameterException: The specified capacity provider strategy"
            " cannot contain a capacity provider that is not associated with the cluster."
            f" Associate the capacity provider with the cluster: {', '.join(missing)}"
        )


def _check_service_load_balancers(props):
    """Refuse a LoadBalancers entry whose target group ELBv2 does not know or that no load
    balancer forwards to, as ECS does, and blue/green's alternate target group and listener
    rules (or listeners) ELBv2 does not know."""
    for entry in props.get("LoadBalancers") or []:
        advanced = entry.get("AdvancedConfiguration") or {}
        group = entry.get("TargetGroupArn")
        if group and not (alb._tgs.get(group) or {}).get("LoadBalancerArns"):
            raise ValueError(
                f"{_SERVICE}: InvalidParameterException: The target group with targetGroupArn"
                f" {group} does not have an associated load balancer."
            )
        alternate = advanced.get("AlternateTargetGroupArn")
        if alternate and alternate not in alb._tgs:
            raise ValueError(
                f"{_SERVICE}: InvalidParameterException: The alternate target group"
                f" {alternate} does not exist."
            )
        for key in ("ProductionListenerRule", "TestListenerRule"):
            arn = advanced.get(key)
            if arn and arn not in alb._rules and arn not in alb._listeners:
                raise ValueError(
                    f"{_SERVICE}: InvalidParameterException: The {key} {arn} does not exist."
                )


def _service_extras(arn, old_props, new_props):
    """Record the ``_SERVICE_EXTRAS`` fields on the service, and reconcile its tags (ministack's
    update leaves them as they were)."""
    service = ecs._services[_service_key(arn)]
    for key, default in _SERVICE_EXTRAS.items():
        name = key[:1].lower() + key[1:]
        service[name] = _ecs_shape({key: new_props.get(key, default)})[name]
    cfn._reconcile_tag_list(
        ecs._tags.setdefault(arn, []), old_props, new_props, key="key", value="value"
    )


def _complete_service(handlers):
    """Wrap ministack's AWS::ECS::Service handlers so the service keeps what its template says.

    ministack 1.5.33's create drops HealthCheckGracePeriodSeconds, EnableExecuteCommand,
    EnableECSManagedTags, PropagateTags, PlatformVersion, SchedulingStrategy and
    DeploymentController (DescribeServices answered 0, false, NONE, ""), and passes the
    numbers a Ref gives as strings: a DesiredCount parameter failed the create in ECS's task
    accounting (``"2" - 0``), a container port or bake time was a string. Its update also
    ignores those fields and Tags. It takes a cluster that does not exist (and makes it) and
    a capacity provider strategy naming providers the cluster is not associated with.

    The wrappers pass the numbers as numbers, record the fields (``_service_extras``) and
    refuse an unknown cluster, an unassociated capacity provider
    (``_check_service_capacity``) and a target group no load balancer forwards to or
    blue/green resources ELBv2 does not know (``_check_service_load_balancers``), as
    CreateService and UpdateService do.
    """
    create, update = handlers["create"], handlers["update"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        _check_service_capacity(props)
        _check_service_load_balancers(props)
        arn, attributes = create(logical_id, _ecs_numbers(props), stack_name)
        _service_extras(arn, {}, props)
        return arn, attributes

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name):
        _check_service_capacity(new_props)
        _check_service_load_balancers(new_props)
        arn, attributes = update(
            physical_id, _ecs_numbers(old_props), _ecs_numbers(new_props), stack_name
        )
        _service_extras(arn, old_props, new_props)
        return arn, attributes

    created.completes_template = True
    return {**handlers, "create": created, "update": updated}


# --- Application Auto Scaling: the API ministack lacks ------------------------------------

_APPLICATION_AUTOSCALING = "application-autoscaling"
# Scalable targets by (namespace, resource id, dimension); scaling policies and scheduled
# actions by (that key, name); each target's tags by its ARN.
_scalable_targets = AccountRegionScopedDict()
_scaling_policies = AccountRegionScopedDict()
_scheduled_actions = AccountRegionScopedDict()
_scalable_target_tags = AccountRegionScopedDict()

_ECS_DESIRED_COUNT = "ecs:service:DesiredCount"
# The service-linked role Application Auto Scaling takes for a namespace's targets.
_SERVICE_LINKED_ROLES = {
    "ecs": (
        "ecs.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_ECSService"
    ),
}
_POLICY_CONFIGURATIONS = {
    "TargetTrackingScaling": "TargetTrackingScalingPolicyConfiguration",
    "StepScaling": "StepScalingPolicyConfiguration",
    "PredictiveScaling": "PredictiveScalingPolicyConfiguration",
}
# ALBRequestCountPerTarget's ResourceLabel: "<load balancer full name>/<target group full name>".
_RESOURCE_LABEL = re.compile(r"^app/[^/]+/[^/]+/targetgroup/[^/]+/[^/]+$")
_SCHEDULE = re.compile(r"^(at|rate|cron)\(.+\)$")


def _aas_error(code, message):
    return error_response_json(code, message, 400)


def _aas_validation(message):
    return _aas_error("ValidationException", message)


def _target_key(data):
    """The (namespace, resource id, dimension) a request names."""
    return (
        data.get("ServiceNamespace", ""),
        data.get("ResourceId", ""),
        data.get("ScalableDimension", ""),
    )


def _no_target(key):
    namespace, resource_id, dimension = key
    return _aas_error(
        "ObjectNotFoundException",
        f"No scalable target registered for service namespace: {namespace}, resource ID:"
        f" {resource_id}, scalable dimension: {dimension}",
    )


def _ecs_service_of(resource_id):
    """The active ECS service a ``service/<cluster>/<service>`` resource id names, else None."""
    kind, _, rest = resource_id.partition("/")
    service = ecs._services.get(rest) if kind == "service" and rest.count("/") == 1 else None
    return service if service and service["status"] == "ACTIVE" else None


def _resource_arn(key, kind, name_field, name):
    """A scaling policy's or scheduled action's ARN."""
    namespace, resource_id, _dimension = key
    return (
        f"arn:aws:autoscaling:{get_region()}:{get_account_id()}:{kind}:{uuid.uuid4()}:"
        f"resource/{namespace}/{resource_id}:{name_field}/{name}"
    )


def _scale_ecs_service(service, minimum, maximum):
    """Bring the service's desired count into [minimum, maximum] (UpdateService)."""
    desired = service["desiredCount"]
    wanted = min(max(desired, minimum), maximum)
    if wanted != desired:
        cluster, name = _service_key(service["serviceArn"]).split("/")
        ecs._update_service({"cluster": cluster, "service": name, "desiredCount": wanted})


def _register_scalable_target(data):
    """RegisterScalableTarget. A new target needs MinCapacity and MaxCapacity, and an ECS one an
    active service and the DesiredCount dimension; an existing one takes what the request
    gives. As on AWS, an ECS service's desired count is then brought into the new range.
    Other namespaces' resources are not checked, and their targets get the RoleARN the request
    gives (none without)."""
    key = _target_key(data)
    namespace, resource_id, dimension = key
    service = None
    if namespace == "ecs":
        if dimension != _ECS_DESIRED_COUNT:
            return _aas_validation(f"Unsupported scalable dimension for ecs: {dimension}")
        service = _ecs_service_of(resource_id)
        if service is None:
            return _aas_validation(f"ECS service doesn't exist: {resource_id}")
    target = copy.deepcopy(_scalable_targets.get(key))
    if target is None:
        if "MinCapacity" not in data or "MaxCapacity" not in data:
            return _aas_validation(
                "MinCapacity and MaxCapacity are required for registering a new scalable target"
            )
        role = _SERVICE_LINKED_ROLES.get(namespace)
        target = {
            "ServiceNamespace": namespace,
            "ResourceId": resource_id,
            "ScalableDimension": dimension,
            "RoleARN": f"arn:aws:iam::{get_account_id()}:role/aws-service-role/{role}"
            if role
            else "",
            "CreationTime": time.time(),
            "SuspendedState": {
                "DynamicScalingInSuspended": False,
                "DynamicScalingOutSuspended": False,
                "ScheduledScalingSuspended": False,
            },
            "ScalableTargetARN": (
                f"arn:aws:application-autoscaling:{get_region()}:{get_account_id()}:"
                f"scalable-target/{uuid.uuid4().hex[:4]}{uuid.uuid4().hex}"
            ),
        }
    for field in ("MinCapacity", "MaxCapacity", "RoleARN"):
        if data.get(field) is not None:
            target[field] = data[field]
    target["SuspendedState"].update(data.get("SuspendedState") or {})
    if target["MinCapacity"] > target["MaxCapacity"]:
        return _aas_validation("Minimum capacity cannot be greater than maximum capacity")
    _scalable_targets[key] = target
    if data.get("Tags"):
        _scalable_target_tags[target["ScalableTargetARN"]] = dict(data["Tags"])
    if service is not None:
        _scale_ecs_service(service, target["MinCapacity"], target["MaxCapacity"])
    return json_response({"ScalableTargetARN": target["ScalableTargetARN"]})


def _matches(item, data, names_key, name_field):
    """Whether a target, policy or action is among those a Describe request filters for."""
    if item["ServiceNamespace"] != data.get("ServiceNamespace"):
        return False
    if data.get("ResourceId") and item["ResourceId"] != data["ResourceId"]:
        return False
    if data.get("ResourceIds") and item["ResourceId"] not in data["ResourceIds"]:
        return False
    if data.get("ScalableDimension") and item["ScalableDimension"] != data["ScalableDimension"]:
        return False
    return not data.get(names_key) or item[name_field] in data[names_key]


def _describe_scalable_targets(data):
    """DescribeScalableTargets of a namespace, by resource ids and dimension (one page)."""
    targets = [t for t in _scalable_targets.values() if _matches(t, data, None, None)]
    return json_response({"ScalableTargets": targets})


def _deregister_scalable_target(data):
    """DeregisterScalableTarget, which deletes its scaling policies and scheduled actions."""
    key = _target_key(data)
    target = _scalable_targets.pop(key, None)
    if target is None:
        return _no_target(key)
    _scalable_target_tags.pop(target["ScalableTargetARN"], None)
    for store in (_scaling_policies, _scheduled_actions):
        for owned in [k for k in store if k[0] == key]:
            del store[owned]
    return json_response({})


def _put_scaling_policy(data):
    """PutScalingPolicy on a registered target; a policy of the same name is replaced, its ARN
    kept. The type's configuration is required, and an ALBRequestCountPerTarget metric needs
    a ResourceLabel naming a load balancer and target group. No CloudWatch alarm is created:
    the policy's Alarms are empty."""
    key = _target_key(data)
    if key not in _scalable_targets:
        return _no_target(key)
    name, policy_type = data.get("PolicyName", ""), data.get("PolicyType", "StepScaling")
    configuration = _POLICY_CONFIGURATIONS.get(policy_type)
    if configuration is None:
        return _aas_validation(f"Unsupported PolicyType: {policy_type}")
    if not data.get(configuration):
        return _aas_validation(f"A {policy_type} policy requires {configuration}")
    metric = data[configuration].get("PredefinedMetricSpecification") or {}
    label = metric.get("ResourceLabel") or ""
    per_target = metric.get("PredefinedMetricType") == "ALBRequestCountPerTarget"
    if per_target and not _RESOURCE_LABEL.match(label):
        return _aas_validation(f"Invalid ResourceLabel for ALBRequestCountPerTarget: {label}")
    existing = _scaling_policies.get((key, name))
    arn = (
        existing["PolicyARN"]
        if existing
        else _resource_arn(key, "scalingPolicy", "policyName", name)
    )
    policy = {
        "PolicyARN": arn,
        "PolicyName": name,
        "ServiceNamespace": key[0],
        "ResourceId": key[1],
        "ScalableDimension": key[2],
        "PolicyType": policy_type,
        configuration: copy.deepcopy(data[configuration]),
        "Alarms": [],
        "CreationTime": existing["CreationTime"] if existing else time.time(),
    }
    _scaling_policies[(key, name)] = policy
    return json_response({"PolicyARN": policy["PolicyARN"], "Alarms": []})


def _describe_scaling_policies(data):
    """DescribeScalingPolicies of a namespace, by policy names, resource and dimension."""
    policies = [
        p for p in _scaling_policies.values() if _matches(p, data, "PolicyNames", "PolicyName")
    ]
    return json_response({"ScalingPolicies": policies})


def _delete_scaling_policy(data):
    """DeleteScalingPolicy; ObjectNotFoundException for one that does not exist."""
    name = data.get("PolicyName", "")
    if _scaling_policies.pop((_target_key(data), name), None) is None:
        return _aas_error("ObjectNotFoundException", f"No scaling policy found for {name}")
    return json_response({})


def _put_scheduled_action(data):
    """PutScheduledAction on a registered target: an at(), rate() or cron() Schedule (required
    for a new action), Timezone, StartTime, EndTime and the ScalableTargetAction. A same-named
    action is updated with what the request gives. Nothing runs on the schedule."""
    key = _target_key(data)
    if key not in _scalable_targets:
        return _no_target(key)
    name = data.get("ScheduledActionName", "")
    action = copy.deepcopy(_scheduled_actions.get((key, name))) or {
        "ScheduledActionName": name,
        "ScheduledActionARN": _resource_arn(key, "scheduledAction", "scheduledActionName", name),
        "ServiceNamespace": key[0],
        "ResourceId": key[1],
        "ScalableDimension": key[2],
        "CreationTime": time.time(),
    }
    action.update(
        {
            field: copy.deepcopy(data[field])
            for field in ("Schedule", "Timezone", "StartTime", "EndTime", "ScalableTargetAction")
            if data.get(field) is not None
        }
    )
    if not _SCHEDULE.match(action.get("Schedule") or ""):
        return _aas_validation(f"Invalid schedule expression: {action.get('Schedule')}")
    _scheduled_actions[(key, name)] = action
    return json_response({})


def _describe_scheduled_actions(data):
    """DescribeScheduledActions of a namespace, by action names, resource and dimension."""
    actions = [
        a
        for a in _scheduled_actions.values()
        if _matches(a, data, "ScheduledActionNames", "ScheduledActionName")
    ]
    return json_response({"ScheduledActions": actions})


def _delete_scheduled_action(data):
    """DeleteScheduledAction; ObjectNotFoundException for one that does not exist."""
    name = data.get("ScheduledActionName", "")
    if _scheduled_actions.pop((_target_key(data), name), None) is None:
        return _aas_error("ObjectNotFoundException", f"No scheduled action found for {name}")
    return json_response({})


def _tagged_target(arn):
    """Whether a scalable target has the ARN."""
    return any(t["ScalableTargetARN"] == arn for t in _scalable_targets.values())


def _tag_resource(data):
    """TagResource of a scalable target (Tags a map)."""
    arn = data.get("ResourceARN", "")
    if not _tagged_target(arn):
        return _aas_error("ResourceNotFoundException", f"No scalable target found for {arn}")
    _scalable_target_tags[arn] = {**_scalable_target_tags.get(arn, {}), **(data.get("Tags") or {})}
    return json_response({})


def _untag_resource(data):
    """UntagResource of a scalable target."""
    arn = data.get("ResourceARN", "")
    if not _tagged_target(arn):
        return _aas_error("ResourceNotFoundException", f"No scalable target found for {arn}")
    kept = _scalable_target_tags.get(arn, {})
    _scalable_target_tags[arn] = {k: v for k, v in kept.items() if k not in data.get("TagKeys", [])}
    return json_response({})


def _list_tags_for_resource(data):
    """ListTagsForResource of a scalable target."""
    arn = data.get("ResourceARN", "")
    if not _tagged_target(arn):
        return _aas_error("ResourceNotFoundException", f"No scalable target found for {arn}")
    return json_response({"Tags": _scalable_target_tags.get(arn, {})})


_APPLICATION_AUTOSCALING_ACTIONS = {
    "RegisterScalableTarget": _register_scalable_target,
    "DescribeScalableTargets": _describe_scalable_targets,
    "DeregisterScalableTarget": _deregister_scalable_target,
    "PutScalingPolicy": _put_scaling_policy,
    "DescribeScalingPolicies": _describe_scaling_policies,
    "DeleteScalingPolicy": _delete_scaling_policy,
    "PutScheduledAction": _put_scheduled_action,
    "DescribeScheduledActions": _describe_scheduled_actions,
    "DeleteScheduledAction": _delete_scheduled_action,
    "TagResource": _tag_resource,
    "UntagResource": _untag_resource,
    "ListTagsForResource": _list_tags_for_resource,
}


async def _serve_application_autoscaling(method, path, headers, body, query_params):
    """Answer Application Auto Scaling's JSON actions (``_APPLICATION_AUTOSCALING_ACTIONS``):
    ministack 1.5.33 has no such service, and its router answered every call "Unsupported
    service: application-autoscaling". ``register()`` adds this to ministack's service handlers.
    The actions run off the event loop: registering an ECS target can update the service."""
    name = headers.get("x-amz-target", "").rpartition(".")[2]
    action = _APPLICATION_AUTOSCALING_ACTIONS.get(name)
    if action is None:
        return _aas_error("UnknownOperationException", f"Unknown operation {name}")
    try:
        data = json.loads(body) if body else {}
    except json.JSONDecodeError:
        return error_response_json("SerializationException", "Invalid JSON", 400)
    return await asyncio.to_thread(action, data)


def _reset_application_autoscaling(reset_all_state):
    """Wrap ministack's ``_reset_all_state`` (``/_ministack/reset``) so it drops the scalable
    targets, scaling policies and scheduled actions too."""

    @functools.wraps(reset_all_state)
    def reset_all():
        reset_all_state()
        for store in (
            _scalable_targets,
            _scaling_policies,
            _scheduled_actions,
            _scalable_target_tags,
        ):
            store.clear()

    reset_all.resets_application_autoscaling = True
    return reset_all


# --- AWS::ApplicationAutoScaling::ScalableTarget: Ref is "<resource id>|<dimension>|<namespace>"

_SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
_SCALING_POLICY = "AWS::ApplicationAutoScaling::ScalingPolicy"

# The Application Auto Scaling members that a Ref to a parameter makes strings.
_SCALING_INTEGERS = frozenset(
    (
        "MinCapacity",
        "MaxCapacity",
        "ScaleInCooldown",
        "ScaleOutCooldown",
        "Cooldown",
        "MinAdjustmentMagnitude",
        "ScalingAdjustment",
    )
)
_SCALING_FLOATS = frozenset(("TargetValue", "MetricIntervalLowerBound", "MetricIntervalUpperBound"))
_SCALING_BOOLEANS = frozenset(
    (
        "DisableScaleIn",
        "DynamicScalingInSuspended",
        "DynamicScalingOutSuspended",
        "ScheduledScalingSuspended",
    )
)


def _scaling_numbers(value):
    """``value`` with its integer, number and boolean members that arrive as strings made so."""
    if isinstance(value, list):
        return [_scaling_numbers(item) for item in value]
    if not isinstance(value, dict):
        return value
    kinds = [(_SCALING_INTEGERS, int), (_SCALING_FLOATS, float), (_SCALING_BOOLEANS, cfn._cfn_bool)]
    return {
        key: next((kind(item) for names, kind in kinds if key in names), item)
        if isinstance(item, str)
        else _scaling_numbers(item)
        for key, item in value.items()
    }


def _target_request(props):
    """The target's (namespace, resource id, dimension) fields of a request."""
    return {key: props[key] for key in ("ServiceNamespace", "ResourceId", "ScalableDimension")}


def _set_scheduled_actions(props, old_props, what):
    """Put the target's ScheduledActions (PutScheduledAction); delete those the template dropped."""
    target = _target_request(props)
    wanted = {
        a["ScheduledActionName"]: a for a in _scaling_numbers(props.get("ScheduledActions") or [])
    }
    for action in old_props.get("ScheduledActions") or []:
        name = action["ScheduledActionName"]
        if name not in wanted and (_target_key(target), name) in _scheduled_actions:
            _json_answer(_delete_scheduled_action({**target, "ScheduledActionName": name}), what)
    for action in wanted.values():
        _json_answer(_put_scheduled_action({**target, **action}), what)


def _scalable_target_put(props, old_props, verb):
    """Register the target with its capacities, role and suspended state (RegisterScalableTarget),
    then its scheduled actions and tags. A SuspendedState the template dropped goes back to
    none suspended."""
    what = f"{_SCALABLE_TARGET} {verb} failed"
    numbers = _scaling_numbers(props)
    request = {
        **_target_request(props),
        "MinCapacity": numbers["MinCapacity"],
        "MaxCapacity": numbers["MaxCapacity"],
        "SuspendedState": {key: False for key in _SCALING_BOOLEANS if key != "DisableScaleIn"}
        | (numbers.get("SuspendedState") or {}),
    }
    if props.get("RoleARN"):
        request["RoleARN"] = props["RoleARN"]
    arn = _json_answer(_register_scalable_target(request), what)["ScalableTargetARN"]
    _set_scheduled_actions(props, old_props, what)
    _scalable_target_tags[arn] = {t["Key"]: t["Value"] for t in props.get("Tags") or []}
    physical_id = f"{props['ResourceId']}|{props['ScalableDimension']}|{props['ServiceNamespace']}"
    return physical_id, {"Id": physical_id}


def _scalable_target_create(logical_id, props, stack_name):
    """Register the target; an ECS one needs its service, as on AWS."""
    return _scalable_target_put(props, {}, "create")


def _scalable_target_update(physical_id, old_props, new_props, stack_name):
    """The capacities, role, suspended state, scheduled actions and tags change in place;
    ResourceId, ScalableDimension and ServiceNamespace replace."""
    return _scalable_target_put(new_props, old_props, "update")


def _scalable_target_delete(physical_id, props):
    """Deregister the target (DeregisterScalableTarget), its policies and actions with it."""
    if _target_key(props) in _scalable_targets:
        _json_answer(
            _deregister_scalable_target(_target_request(props)), f"{_SCALABLE_TARGET} delete failed"
        )


# --- AWS::ApplicationAutoScaling::ScalingPolicy: Ref is the policy ARN --------------------


def _policy_target(props):
    """The policy's target: ScalingTargetId (a target's Ref) or the three target properties,
    one or the other, as CloudFormation takes them."""
    fields = ("ResourceId", "ScalableDimension", "ServiceNamespace")
    if props.get("ScalingTargetId"):
        if any(props.get(field) for field in fields):
            raise ValueError(
                f"{_SCALING_POLICY}: specify ScalingTargetId or ResourceId, ScalableDimension"
                " and ServiceNamespace, not both"
            )
        return dict(zip(fields, props["ScalingTargetId"].split("|"), strict=True))
    return {field: props.get(field, "") for field in fields}


def _scaling_policy_put(props, verb):
    """Write the policy (PutScalingPolicy); its target must be registered."""
    request = {
        **_policy_target(props),
        "PolicyName": props["PolicyName"],
        "PolicyType": props["PolicyType"],
    }
    for configuration in _POLICY_CONFIGURATIONS.values():
        if props.get(configuration):
            request[configuration] = _scaling_numbers(props[configuration])
    arn = _json_answer(_put_scaling_policy(request), f"{_SCALING_POLICY} {verb} failed")[
        "PolicyARN"
    ]
    return arn, {"Arn": arn}


def _scaling_policy_create(logical_id, props, stack_name):
    """Put the policy on its target; an unregistered target fails, as on AWS."""
    return _scaling_policy_put(props, "create")


def _scaling_policy_update(physical_id, old_props, new_props, stack_name):
    """PolicyType and the configurations change in place (the ARN stays); the name and the
    target replace."""
    return _scaling_policy_put(new_props, "update")


def _scaling_policy_delete(physical_id, props):
    """Delete the policy (DeleteScalingPolicy); one its target's deregistration took is gone."""
    request = {**_policy_target(props), "PolicyName": props["PolicyName"]}
    if (_target_key(request), props["PolicyName"]) in _scaling_policies:
        _json_answer(_delete_scaling_policy(request), f"{_SCALING_POLICY} delete failed")


# --- Engine patch: nested stacks keep their resources' generated names --------------------

# (child stack name, logical id) -> (physical id, name seed) of the resources a nested
# stack's deploy created, until ``_record_name_seeds`` writes the seeds on their records.
_created_seeds = {}


def _note_name_seed(stack_name, logical_id, physical_id):
    """Remember the name seed a nested stack's resource was created under."""
    if (cfn_service._stacks.get(stack_name) or {}).get("_parent_stack_name"):
        _created_seeds[(stack_name, logical_id)] = (physical_id, cfn._NAME_SEED.get())


def _record_name_seeds(nested_stack_deploy):
    """Wrap ministack's ``_cfn_nested_stack_deploy`` so each resource the deploy created
    keeps, on its record, the name seed its generated name was drawn with.

    ministack 1.5.33 records the seed (``_name_seed``) of a nested resource it updates but
    not of one it creates, and the seed a bucket draws is never reset within the deploy, so
    the resources created after it (a load balancer, target groups) got names drawn with it.
    The next update of the nested stack recomputed their names without it and replaced
    every such resource under a new ARN: an ingress stack's update changed its load
    balancer, target groups and listeners, though nothing about them had changed. The
    seeds are noted as the resources are created (``_note_name_seed``) and written once a
    deploy is over, failed or not, on the records written by then; a record that already
    has one keeps it.
    """

    @functools.wraps(nested_stack_deploy)
    def deploy(*args, **kwargs):
        try:
            return nested_stack_deploy(*args, **kwargs)
        finally:
            for key, (physical_id, seed) in list(_created_seeds.items()):
                stack = cfn_service._stacks.get(key[0])
                record = ((stack or {}).get("_resources") or {}).get(key[1])
                if record is None and stack is not None:
                    continue  # not recorded yet: another deploy under way
                if seed and record and record.get("PhysicalResourceId") == physical_id:
                    record.setdefault("_name_seed", seed)
                del _created_seeds[key]

    deploy.records_name_seeds = True
    return deploy


# --- Engine patch: nested stacks resolve dynamic references -------------------------------


def _resolved(props, *, lenient=False):
    """``props`` with its ``{{resolve:...}}`` dynamic references replaced by their values.
    ``lenient`` leaves them as they are when one no longer resolves."""
    try:
        return cfn_engine._resolve_dynamic_references(props)[0]
    except ValueError:
        if lenient:
            return props
        raise


def _resolve_nested_dynamic_references(provision_resource, update_resource):
    """Wrap ministack's ``_provision_resource`` and ``_update_resource`` as the provisioners
    module calls them so resource properties get their ``{{resolve:ssm:...}}``,
    ``{{resolve:ssm-secure:...}}`` and ``{{resolve:secretsmanager:...}}`` values.

    ministack 1.5.33 resolves dynamic references in a top-level stack only
    (``stacks._deploy_stack_async``); a nested stack's deploy (``_cfn_nested_stack_deploy``,
    the one caller that looks the functions up in the provisioners module) passed the
    literal text: a listener rule matching an ``X-Origin-Verify`` header against a secret
    compared it with ``{{resolve:secretsmanager:arn:...}}``. A top-level stack's calls
    arrive resolved, and resolving again changes nothing.

    On update both the old and the new properties are resolved, so a resource whose
    definition did not change is left alone. The old ones are resolved leniently: the
    secret they named may be gone by then (a replaced secret).
    """

    @functools.wraps(provision_resource)
    def provision(resource_type, logical_id, props, stack_name):
        created = provision_resource(resource_type, logical_id, _resolved(props), stack_name)
        _note_name_seed(stack_name, logical_id, created[0])
        return created

    @functools.wraps(update_resource)
    def update(resource_type, physical_id, old_props, new_props, stack_name, *args, **kwargs):
        return update_resource(
            resource_type,
            physical_id,
            _resolved(old_props, lenient=True),
            _resolved(new_props),
            stack_name,
            *args,
            **kwargs,
        )

    provision.resolves_dynamic_references = True
    update.resolves_dynamic_references = True
    return provision, update


# --- Engine patch: the AWS::SecretsManager transform ----------------------------------

_SECRETS_MANAGER_TRANSFORMS = ("AWS::SecretsManager-2020-07-23", "AWS::SecretsManager-2024-09-16")


def _accept_secrets_manager_transform(apply_transforms):
    """Wrap ministack's ``_apply_transforms`` so it applies the AWS::SecretsManager transforms
    (``-2020-07-23``, ``-2024-09-16``) by dropping them from ``Transform``, the resources
    unchanged.

    On AWS the transform turns each RotationSchedule's HostedRotationLambda into an
    AWS::Serverless::Application (the rotation function of the Serverless Application
    Repository) and points the schedule's RotationLambdaARN at it. No emulator here can
    fetch or run that application: the schedule keeps HostedRotationLambda and its
    provisioner records the rotation without a function (``_set_rotation``).

    ministack 1.5.33 knows neither name. A template that declares any transform, known or
    not, skips the up-front resource type check (a macro could rewrite any resource) and is
    then provisioned as it is. Dropped, the SecretsManager transform no longer exempts the
    template, which is then checked as AWS checks the processed one; the other transforms
    (AWS::LanguageExtensions in the same list, an unknown name) go to ministack as before.
    Nested stack templates pass through no transform in ministack (``_cfn_nested_stack_deploy``
    provisions them as parsed), so there the transform stays ignored, as before.
    """

    @functools.wraps(apply_transforms)
    def apply(template, *args, **kwargs):
        declared = cfn_engine.declared_transforms(template)
        for name in _SECRETS_MANAGER_TRANSFORMS:
            if name in declared:
                template = cfn_engine._without_transform(template, name)
        return apply_transforms(template, *args, **kwargs)

    apply.accepts_secrets_manager = True
    return apply


# --- Engine patch: nested-stack updates keep unchanged resources' attributes ------


def _keep_recorded_attributes(update_resource):
    """Wrap ministack's ``_update_resource`` so a missing ``old_attrs`` comes from the stack record.

    ``_update_resource`` answers an unchanged resource (old and new properties
    equal) with ``old_attrs or {}``. A top-level stack update passes the
    recorded attributes, but ministack 1.5.33's nested-stack update
    (``_cfn_nested_stack_deploy``, the only caller that looks the function up
    in the provisioners module) passes none: every resource it leaves alone is
    recorded with no attributes, and a later ``Fn::GetAtt`` on it fails the
    update with "Requested attribute ... does not exist in schema" -- for any
    type (an EIP's AllocationId, a Subnet's AvailabilityZone). A child stack
    update that turns on a conditioned NAT gateway beside an existing one
    failed so, and so did its rollback.

    At the call the child stack's record still holds the resource's previous
    entry (the new one is written after), so its attributes are read there.
    stacks.py imported the original function by name and keeps calling it.
    """

    @functools.wraps(update_resource)
    def update(
        resource_type,
        physical_id,
        old_props,
        new_props,
        stack_name,
        logical_id=None,
        old_attrs=None,
    ):
        if old_attrs is None and logical_id is not None:
            stack = cfn_service._stacks.get(stack_name) or {}
            record = stack.get("_resources", {}).get(logical_id) or {}
            if record.get("PhysicalResourceId") == physical_id:
                old_attrs = record.get("Attributes")
        return update_resource(
            resource_type, physical_id, old_props, new_props, stack_name, logical_id, old_attrs
        )

    update.keeps_recorded_attributes = True
    return update


# --- Engine patch: virtual-hosted S3 URLs of templates -------------------------------

# https://<bucket>.s3.amazonaws.com/<key> and https://<bucket>.s3.<region>.amazonaws.com/<key>
_VIRTUAL_HOSTED = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$"
)


def _read_virtual_hosted_urls(resolve_document):
    """Wrap ministack's ``_resolve_document`` so a TemplateURL (or StackPolicyURL) in S3's
    virtual-hosted style names its bucket by the host, as on AWS.

    ministack 1.5.33 takes the URL path's first segment as the bucket in every style, so
    ``https://bucket.s3.us-east-1.amazonaws.com/project/templates/root.yaml`` is looked up as
    key ``templates/root.yaml`` in bucket ``project``. taskcat passes its project's templates
    in exactly that style; the URL is rewritten to the path style ministack reads.
    """

    @functools.wraps(resolve_document)
    def resolve(params, body_key, url_key, label):
        url = params.get(url_key)
        url = url[0] if isinstance(url, list) and url else url
        parsed = urllib.parse.urlparse(url) if isinstance(url, str) else None
        match = _VIRTUAL_HOSTED.match(parsed.hostname or "") if parsed else None
        if match:
            path_style = f"https://s3.amazonaws.com/{match['bucket']}{parsed.path}"
            params = {**params, url_key: [path_style]}
        return resolve_document(params, body_key, url_key, label)

    resolve.reads_virtual_hosted = True
    return resolve


# --- Engine patch: nested-stack deletes apply the child's DeletionPolicy ----------

# The stack states in which a rollback deletes what the operation created.
_ROLLING_BACK = (
    "ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
)


def _rolling_back(stack):
    """Whether the stack's root stack is rolling an operation back.

    A nested stack deleted then was created by that operation (an existing one
    is updated back, not deleted), and so were its resources.
    """
    while stack.get("_parent_stack_name") in cfn_service._stacks:
        stack = cfn_service._stacks[stack["_parent_stack_name"]]
    return stack.get("StackStatus") in _ROLLING_BACK


def _record_delete_failure(child_name, child, logical_id, exc):
    """A ``DELETE_FAILED`` event for the child stack's resource, with the error."""
    resource = child["_resources"][logical_id]
    cfn_stacks._add_event(
        child.get("StackId", ""),
        child_name,
        logical_id,
        resource.get("ResourceType", ""),
        "DELETE_FAILED",
        str(exc),
        resource.get("PhysicalResourceId", ""),
    )


def _fail_child(child, failed):
    """Mark the child stack ``DELETE_FAILED`` for the ``failed`` resources, and raise: the
    parent records the nested stack ``DELETE_FAILED`` too."""
    reason = f"The following resource(s) failed to delete: [{', '.join(sorted(failed))}]."
    child.update(StackStatus="DELETE_FAILED", StackStatusReason=reason)
    raise ValueError(reason)


def _delete_child_resources(child_name, child):
    """Delete a child stack's resources in reverse dependency order, as ministack's nested
    delete does, but keep each one whose delete fails, with a ``DELETE_FAILED`` event.

    Returns the logical ids of those.
    """
    resources = child.get("_resources") or {}
    try:
        order = cfn_engine._topological_sort(
            (child.get("_template") or {}).get("Resources", {}), child.get("_conditions", {})
        )
    except ValueError:
        order = list(resources)
    # Resources the template no longer declares have no dependents: they go first.
    order += [logical_id for logical_id in resources if logical_id not in order]
    failed = []
    for logical_id in reversed(order):
        resource = resources.get(logical_id)
        if not resource:
            continue
        try:
            cfn._delete_resource(
                resource.get("ResourceType", ""),
                resource.get("PhysicalResourceId", ""),
                resource.get("Properties", {}),
                child_name,
                logical_id,
            )
        except Exception as exc:
            _record_delete_failure(child_name, child, logical_id, exc)
            failed.append(logical_id)
        else:
            del resources[logical_id]
    return failed


def _honour_deletion_policy(delete_nested_stack):
    """Wrap ministack's nested-stack delete so it applies the child resources' DeletionPolicy.

    ministack 1.5.33's ``_cfn_nested_stack_delete`` deletes every resource of the
    child stack without reading its ``DeletionPolicy``: deleting the parent
    scheduled a ``Retain`` KMS key for deletion and dropped a ``Retain`` log
    group with its events -- literal policies as well as an ``Fn::If`` under
    ``AWS::LanguageExtensions`` -- and took no snapshot for ``Snapshot``. The
    top-level delete (``stacks._delete_stack_async``) and the nested-stack
    update's removal of a resource read the policy; only this path did not.

    Before the original runs, each child resource's policy is resolved as the
    top-level delete resolves it (``stacks._resource_policy``, with the child
    stack's template, resolved parameters, conditions and mappings). A
    retaining one (``Retain``, ``RetainExceptOnCreate``) leaves the child's
    record with a ``DELETE_SKIPPED`` event, so the original never sees it; a
    ``Snapshot`` one is snapshotted and then deleted by the original. A failed
    snapshot raises before anything is deleted: the parent records the nested
    stack ``DELETE_FAILED`` and a retried delete starts over, rather than the
    data going without its snapshot. During a rollback of the root stack the
    child was created by the operation, so, as the top-level rollback does,
    only ``Retain`` keeps a resource and nothing is snapshotted.

    ministack's nested delete also logs and forgets a resource whose delete
    fails (an RDS instance with DeletionProtection on) and reports the child
    stack ``DELETE_COMPLETE``. So the wrapper deletes the child's resources
    itself, in the same order (``_delete_child_resources``), and the original
    only finishes a child that has none left. As on AWS, a failed one stays in
    the child with a ``DELETE_FAILED`` event, the child and then the parent end
    ``DELETE_FAILED``, and a retried delete takes it up again.
    """

    @functools.wraps(delete_nested_stack)
    def delete(physical_id, props):
        child_name = cfn._nested_stack_lookup_name(physical_id)
        child = cfn_service._stacks.get(child_name)
        if child:
            resources = child.get("_resources") or {}
            template = child.get("_template") or {}
            rolling_back = _rolling_back(child)
            policies = {
                logical_id: cfn_stacks._resource_policy(
                    template.get("Resources", {}).get(logical_id),
                    "DeletionPolicy",
                    resources,
                    child.get("_resolved_params", {}),
                    child.get("_conditions", {}),
                    template.get("Mappings", {}),
                    child_name,
                    child.get("StackId", ""),
                )
                for logical_id in resources
            }
            for logical_id, policy in policies.items():
                resource = resources[logical_id]
                rtype = resource.get("ResourceType", "")
                pid = resource.get("PhysicalResourceId", "")
                if policy == "Retain" or (policy in cfn._RETAINING_POLICIES and not rolling_back):
                    cfn_stacks._add_event(
                        child.get("StackId", ""),
                        child_name,
                        logical_id,
                        rtype,
                        "DELETE_SKIPPED",
                        physical_id=pid,
                    )
                    del resources[logical_id]
                elif policy == "Snapshot" and not rolling_back:
                    try:
                        cfn._snapshot_resource(rtype, pid, resource.get("Properties", {}))
                    except Exception as exc:
                        _record_delete_failure(child_name, child, logical_id, exc)
                        _fail_child(child, [logical_id])
            failed = _delete_child_resources(child_name, child)
            if failed:
                _fail_child(child, failed)
        return delete_nested_stack(physical_id, props)

    delete.honours_deletion_policy = True
    return delete


# --- Registration ---------------------------------------------------------------

_HANDLERS = {
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
    _PROXY: {"create": _proxy_create, "update": _proxy_update, "delete": _proxy_delete},
    _PROXY_TARGET_GROUP: {"create": _tg_create, "update": _tg_update, "delete": _tg_delete},
    _COMPOSITE_ALARM: {
        "create": _composite_alarm_create,
        "update": _composite_alarm_update,
        "delete": _composite_alarm_delete,
    },
    _SERVERLESS_CACHE: {
        "create": _serverless_cache_create,
        "update": _serverless_cache_update,
        "delete": _serverless_cache_delete,
    },
    _ROTATION: {"create": _rotation_create, "update": _rotation_update, "delete": _rotation_delete},
    # Both properties replace, so an update never reaches an update handler.
    _SELECTION: {"create": _selection_create, "delete": _selection_delete},
    # Both properties replace, so an update never reaches an update handler.
    _WAF_ASSOCIATION: {"create": _waf_association_create, "delete": _waf_association_delete},
    _WAF_LOGGING: {
        "create": _waf_logging_create,
        "update": _waf_logging_update,
        "delete": _waf_logging_delete,
    },
    _ASSOCIATIONS: {
        "create": _associations_create,
        "update": _associations_update,
        "delete": _associations_delete,
    },
    _SCALABLE_TARGET: {
        "create": _scalable_target_create,
        "update": _scalable_target_update,
        "delete": _scalable_target_delete,
    },
    _SCALING_POLICY: {
        "create": _scaling_policy_create,
        "update": _scaling_policy_update,
        "delete": _scaling_policy_delete,
    },
}

# createOnlyProperties of each type's CloudFormation registry schema.
_REPLACING = {
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
    _PROXY: (
        "DBProxyName EndpointNetworkType EngineFamily TargetConnectionNetworkType VpcSubnetIds"
    ),
    _PROXY_TARGET_GROUP: "DBProxyName TargetGroupName",
    _COMPOSITE_ALARM: "AlarmName",
    _SERVERLESS_CACHE: (
        "ConnectionType KmsKeyId NetworkType ServerlessCacheName SnapshotArnsToRestore SubnetIds"
    ),
    _ROTATION: "SecretId",
    _SELECTION: "BackupPlanId BackupSelection",
    _WAF_ASSOCIATION: "ResourceArn WebACLArn",
    _WAF_LOGGING: "ResourceArn",
    _ASSOCIATIONS: "Cluster",
    _SCALABLE_TARGET: "ResourceId ScalableDimension ServiceNamespace",
    _SCALING_POLICY: "PolicyName ResourceId ScalableDimension ScalingTargetId ServiceNamespace",
    # ministack has no entries for these two types of its own.
    _TASK_DEFINITION: (
        "ContainerDefinitions Cpu EnableFaultInjection EphemeralStorage ExecutionRoleArn Family"
        " InferenceAccelerators IpcMode Memory NetworkMode PidMode PlacementConstraints"
        " ProxyConfiguration RequiresCompatibilities RuntimePlatform TaskRoleArn Volumes"
    ),
    _SERVICE: "Cluster Role SchedulingStrategy ServiceName",
}


# The wrappers of ministack's handlers: (type, wrapper, the flag it sets on the create).
_HANDLER_WRAPPERS = (
    ("AWS::WAFv2::WebACL", _waf_integer_members, "integer_members"),
    (_LOAD_BALANCER, _complete_load_balancer, "completes_template"),
    (_TARGET_GROUP, _complete_target_group, "completes_template"),
    (_LISTENER, _link_target_groups, "links_target_groups"),
    (_LISTENER_RULE, _complete_listener_rule, "keeps_tags"),
    (_CERTIFICATE, _validate_in_hosted_zone, "validates_in_zone"),
    ("AWS::S3::Bucket", _configure_bucket_settings, "configures_settings"),
    (_TASK_DEFINITION, _register_task_definitions, "registers"),
    (_SERVICE, _complete_service, "completes_template"),
)


def register():
    """Add the handlers, replacing properties and tag properties to ministack's tables,
    read virtual-hosted template URLs (``_read_virtual_hosted_urls``), patch the nested-stack
    update (``_keep_recorded_attributes``), delete
    (``_honour_deletion_policy``) and deploy (``_record_name_seeds``,
    ``_resolve_nested_dynamic_references``) and the transforms
    (``_accept_secrets_manager_transform``), and complete the secret (``_secret_ref_is_arn``,
    ``_generate_with_every_option``), topic (``_keep_topic_attributes``), DB instance
    (``_complete_db_instance``, ``_render_db_instance_extras``) and backup vault
    (``_refuse_taken_vault_name``) handlers and those of ``_HANDLER_WRAPPERS``. ELBv2 renders
    its load balancers' zones and target groups' extras (``_render_load_balancer_zones``,
    ``_render_target_group_extras``), WAFv2 answers the logging configuration actions
    (``_serve_waf_logging``, ``_reset_waf_logging``), and Application Auto Scaling is served
    (``_serve_application_autoscaling``, ``_reset_application_autoscaling``). An ECS cluster's
    update keeps its capacity providers (``_keep_capacity_providers``), and an alarm on a
    metric math expression is recorded (``_record_metric_math_alarms``).

    The tagged types also get the stack tags and the aws:cloudformation:* tags, as
    CloudFormation gives them on AWS. A proxy and an ECS service keep their names across a
    replacement, so CloudFormation refuses one, as for the other custom-named types.
    """
    handlers = cfn._RESOURCE_HANDLERS
    if not getattr(cfn_helpers._resolve_document, "reads_virtual_hosted", False):
        cfn_helpers._resolve_document = _read_virtual_hosted_urls(cfn_helpers._resolve_document)
    if not getattr(cfn._update_resource, "keeps_recorded_attributes", False):
        cfn._update_resource = _keep_recorded_attributes(cfn._update_resource)
    nested_stack = handlers["AWS::CloudFormation::Stack"]
    if not getattr(nested_stack["delete"], "honours_deletion_policy", False):
        nested_stack["delete"] = _honour_deletion_policy(nested_stack["delete"])
    secret = "AWS::SecretsManager::Secret"
    if not getattr(handlers[secret]["create"], "ref_is_arn", False):
        handlers[secret] = _secret_ref_is_arn(handlers[secret])
    topic = "AWS::SNS::Topic"
    if not getattr(handlers[topic]["create"], "keeps_attributes", False):
        handlers[topic] = _keep_topic_attributes(handlers[topic])
    if not getattr(handlers[_DB_INSTANCE]["create"], "completes_template", False):
        handlers[_DB_INSTANCE] = _complete_db_instance(handlers[_DB_INSTANCE])
        # ministack's update handler replaces through these names in some cases.
        cfn._rds_db_instance_create = handlers[_DB_INSTANCE]["create"]
        cfn._rds_db_instance_delete = handlers[_DB_INSTANCE]["delete"]
    if not getattr(handlers[_VAULT]["create"], "refuses_taken_name", False):
        handlers[_VAULT] = _refuse_taken_vault_name(handlers[_VAULT])
        # ministack's update handler creates a renamed vault through this name.
        cfn._backup_vault_create = handlers[_VAULT]["create"]
    if not getattr(rds._instance_xml, "renders_extras", False):
        rds._instance_xml = _render_db_instance_extras(rds._instance_xml)
    # handlers and changesets imported the function by name and call their own binding.
    for module in (cfn_engine, cfn_handlers, cfn_changesets):
        if not getattr(module._apply_transforms, "accepts_secrets_manager", False):
            module._apply_transforms = _accept_secrets_manager_transform(module._apply_transforms)
    if not getattr(waf.handle_request, "serves_logging", False):
        waf.handle_request = _serve_waf_logging(waf.handle_request)
        waf.reset = _reset_waf_logging(waf.reset)
    if not getattr(route53._create_hosted_zone, "takes_requested_id", False):
        route53._create_hosted_zone = _zone_with_requested_id(route53._create_hosted_zone)
    if "ce" not in ministack.app.SERVICE_HANDLERS:
        ministack.app.SERVICE_HANDLERS["ce"] = billing_service.serve
        ministack.app._reset_all_state = billing_service.reset(ministack.app._reset_all_state)
    for service, module in (("xray", xray_service), ("synthetics", synthetics_service)):
        if service not in ministack.app.SERVICE_HANDLERS:
            ministack.app.SERVICE_HANDLERS[service] = module.serve
            ministack.app._reset_all_state = module.reset(ministack.app._reset_all_state)
    if "guardduty" not in ministack.app.SERVICE_HANDLERS:
        ministack.app.SERVICE_HANDLERS["guardduty"] = security_services.serve_guardduty
        ministack.app.SERVICE_HANDLERS["securityhub"] = security_services.serve_securityhub
        ministack.app._reset_all_state = security_services.reset(ministack.app._reset_all_state)
    if not getattr(ecr.handle_request, "serves_registry_scanning", False):
        ecr.handle_request = security_services.serving_ecr(ecr.handle_request)
    if "codepipeline" not in ministack.app.SERVICE_HANDLERS:
        for service in delivery_services.SERVED:
            ministack.app.SERVICE_HANDLERS[service] = delivery_services.serve
        for service in delivery_services.EXTENDED:
            served = ministack.app.SERVICE_HANDLERS[service]
            ministack.app.SERVICE_HANDLERS[service] = delivery_services.extend(served)
        ministack.app._reset_all_state = delivery_services.reset(ministack.app._reset_all_state)
    if _APPLICATION_AUTOSCALING not in ministack.app.SERVICE_HANDLERS:
        ministack.app.SERVICE_HANDLERS[_APPLICATION_AUTOSCALING] = _serve_application_autoscaling
        ministack.app._reset_all_state = _reset_application_autoscaling(
            ministack.app._reset_all_state
        )
    if not getattr(handlers[_CLUSTER]["update"], "keeps_capacity_providers", False):
        handlers[_CLUSTER] = _keep_capacity_providers(handlers[_CLUSTER])
    for resource_type, wrap, flag in _HANDLER_WRAPPERS:
        if not getattr(handlers[resource_type]["create"], flag, False):
            handlers[resource_type] = wrap(handlers[resource_type])
    # ministack's update handler registers a revision through this name.
    cfn._ecs_task_def_create = handlers[_TASK_DEFINITION]["create"]
    if not getattr(cfn._cw_metric_alarm_record, "records_metric_math", False):
        cfn._cw_metric_alarm_record = _record_metric_math_alarms(cfn._cw_metric_alarm_record)
    if not getattr(cfn._sm_secret_string, "uses_every_option", False):
        cfn._sm_secret_string = _generate_with_every_option(cfn._sm_secret_string)
    if not getattr(alb._lb_xml, "renders_zones", False):
        alb._lb_xml = _render_load_balancer_zones(alb._lb_xml)
    if not getattr(alb._tg_xml, "renders_extras", False):
        alb._tg_xml = _render_target_group_extras(alb._tg_xml)
    if not getattr(cfn._cfn_nested_stack_deploy, "records_name_seeds", False):
        cfn._cfn_nested_stack_deploy = _record_name_seeds(cfn._cfn_nested_stack_deploy)
    if not getattr(cfn._provision_resource, "resolves_dynamic_references", False):
        cfn._provision_resource, cfn._update_resource = _resolve_nested_dynamic_references(
            cfn._provision_resource, cfn._update_resource
        )
    handlers.update(_HANDLERS)
    modules = (
        xray_service, billing_service, security_services, synthetics_service, delivery_services,
    )  # fmt: skip
    for module in modules:
        handlers.update(module.HANDLERS)
    replacing = {**_REPLACING}
    for module in modules:
        replacing.update(module.REPLACING)
    cfn._REPLACING_PROPERTIES.update({t: tuple(p.split()) for t, p in replacing.items()})
    cfn._CUSTOM_NAME_REPLACEMENT[_PROXY] = {"name": "DBProxyName"}
    cfn._CUSTOM_NAME_REPLACEMENT[_SERVERLESS_CACHE] = {"name": "ServerlessCacheName"}
    cfn._CUSTOM_NAME_REPLACEMENT[_SERVICE] = {"name": "ServiceName"}
    for resource_type in ("EIP", "NatGateway", "NetworkAcl", "FlowLog"):
        cfn._STACK_TAG_PROPERTY[f"AWS::EC2::{resource_type}"] = ("Tags", "list")
    for resource_type in (
        _PROXY,
        _PROXY_TARGET_GROUP,
        _SERVERLESS_CACHE,
        _LISTENER_RULE,
        "AWS::S3::Bucket",
        _TASK_DEFINITION,
        _SCALABLE_TARGET,
    ):
        cfn._STACK_TAG_PROPERTY[resource_type] = ("Tags", "list")


if __name__ == "__main__":
    register()
    sys.argv = sys.argv[:1]
    ministack.app.main()
