"""ELBv2 for ministack's CloudFormation engine.

A load balancer, target group, listener and listener rule keep what their template says and
ELBv2 shows (``complete_load_balancer``, ``render_load_balancer_zones``,
``complete_target_group``, ``render_target_group_extras``, ``link_target_groups``,
``complete_listener_rule``); a target group's TargetGroupFullName is ELB's
(``complete_target_group``).
"""

import functools

from ministack.services import alb, ec2, waf
from ministack.services.cloudformation import provisioners as cfn

# --- AWS::ElasticLoadBalancingV2::*: what ministack's provisioners drop ------------------

LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"


def _subnets_vpc(props):
    """The VPC of the load balancer's subnets, as ELB derives it; subnets of two VPCs fail,
    as on AWS. None when the EC2 store knows none of them."""
    subnets = cfn._elbv2_as_list(props.get("Subnets"))
    vpcs = {ec2._subnets[s]["VpcId"] for s in subnets if s in ec2._subnets}
    if len(vpcs) > 1:
        raise ValueError(
            f"{LOAD_BALANCER}: InvalidConfigurationRequest: the subnets of a load balancer"
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
            f"{LOAD_BALANCER} delete failed: OperationNotPermitted: Load balancer '{arn}'"
            " cannot be deleted because deletion protection is enabled"
        )


def complete_load_balancer(handlers):
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

    return {**handlers, "create": created, "update": updated, "delete": deleted}


def render_load_balancer_zones(lb_xml):
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


def complete_target_group(handlers):
    """Wrap ministack's AWS::ElasticLoadBalancingV2::TargetGroup create and update so the group
    keeps its ProtocolVersion and IpAddressType, which ministack 1.5.33 drops
    (``render_target_group_extras`` shows them), and its TargetGroupFullName attribute is
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

    return {**handlers, "create": created, "update": updated}


def render_target_group_extras(tg_xml):
    """Wrap ELBv2's TargetGroup XML so DescribeTargetGroups shows ProtocolVersion and
    IpAddressType, which ministack 1.5.33 never renders. A group without them renders as
    before."""

    @functools.wraps(tg_xml)
    def render(tg):
        extras = "".join(f"<{key}>{tg[key]}</{key}>" for key in _TARGET_GROUP_EXTRAS if tg.get(key))
        return tg_xml(tg).removesuffix("</member>") + extras + "</member>"

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


def link_target_groups(handlers):
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

    return {**handlers, "create": created, "update": updated, "delete": deleted}


def complete_listener_rule(handlers):
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

    return {**handlers, "create": created, "update": updated, "delete": deleted}
