"""Application Auto Scaling for ministack, which has none at all.

``serve_application_autoscaling`` answers its API (scalable targets, scaling policies,
scheduled actions, tags), and ``HANDLERS`` records a ScalableTarget and a ScalingPolicy through
it.
"""

import asyncio
import copy
import json
import re
import time
import uuid

from ecs_service import service_key
from ministack.core.responses import (
    AccountRegionScopedDict,
    error_response_json,
    get_account_id,
    get_region,
    json_response,
)
from ministack.services import ecs
from ministack.services.cloudformation import provisioners as cfn
from served import json_answer, resetting, typed

# --- Application Auto Scaling: the API ministack lacks ------------------------------------

APPLICATION_AUTOSCALING = "application-autoscaling"
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
        cluster, name = service_key(service["serviceArn"]).split("/")
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


async def serve_application_autoscaling(method, path, headers, body, query_params):
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


def reset_application_autoscaling(reset_all_state):
    """Wrap ministack's ``_reset_all_state`` (``/_ministack/reset``) so it drops the scalable
    targets, scaling policies and scheduled actions too."""
    return resetting(
        reset_all_state,
        _scalable_targets,
        _scaling_policies,
        _scheduled_actions,
        _scalable_target_tags,
    )


# --- AWS::ApplicationAutoScaling::ScalableTarget: Ref is "<resource id>|<dimension>|<namespace>"

SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
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


_SCALING_TYPES = {
    **dict.fromkeys(_SCALING_INTEGERS, int),
    **dict.fromkeys(_SCALING_FLOATS, float),
    **dict.fromkeys(_SCALING_BOOLEANS, cfn._cfn_bool),
}


def _scaling_numbers(value):
    """``value`` with its integer, number and boolean members that arrive as strings made so."""
    return typed(value, _SCALING_TYPES)


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
            json_answer(_delete_scheduled_action({**target, "ScheduledActionName": name}), what)
    for action in wanted.values():
        json_answer(_put_scheduled_action({**target, **action}), what)


def _scalable_target_put(props, old_props, verb):
    """Register the target with its capacities, role and suspended state (RegisterScalableTarget),
    then its scheduled actions and tags. A SuspendedState the template dropped goes back to
    none suspended."""
    what = f"{SCALABLE_TARGET} {verb} failed"
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
    arn = json_answer(_register_scalable_target(request), what)["ScalableTargetARN"]
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
        json_answer(
            _deregister_scalable_target(_target_request(props)), f"{SCALABLE_TARGET} delete failed"
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
    arn = json_answer(_put_scaling_policy(request), f"{_SCALING_POLICY} {verb} failed")["PolicyARN"]
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
        json_answer(_delete_scaling_policy(request), f"{_SCALING_POLICY} delete failed")


HANDLERS = {
    SCALABLE_TARGET: {
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
REPLACING = {
    SCALABLE_TARGET: "ResourceId ScalableDimension ServiceNamespace",
    _SCALING_POLICY: "PolicyName ResourceId ScalableDimension ScalingTargetId ServiceNamespace",
}
