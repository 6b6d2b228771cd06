"""ECS for ministack's CloudFormation engine.

An ECS cluster's capacity provider associations go through PutClusterCapacityProviders. A task
definition is registered with every property (``register_task_definitions``); a service keeps
what its template says and is refused what ECS refuses (``complete_service``); and a cluster
update keeps the capacity providers its associations gave it (``keep_capacity_providers``).
A started task's containers report the digest of their image's tag in the emulator's ECR
(``resolve_image_digests``).
"""

import copy
import functools
import json
import re

from ministack.services import alb, ecr, ecs
from ministack.services.cloudformation import provisioners as cfn
from served import integer, json_answer, typed

# --- AWS::ECS::*: what ministack's provisioners drop -------------------------------------

CLUSTER = "AWS::ECS::Cluster"
TASK_DEFINITION = "AWS::ECS::TaskDefinition"
SERVICE = "AWS::ECS::Service"
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


_ECS_TYPES = {
    **dict.fromkeys(_ECS_INTEGERS, integer),
    **dict.fromkeys(_ECS_BOOLEANS, cfn._cfn_bool),
}


def _ecs_numbers(value):
    """``value`` with the ECS integer and boolean members that arrive as strings made numbers
    and bools; the names stay CloudFormation's."""
    return typed(value, _ECS_TYPES, _ECS_FREE_FORM)


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


def keep_capacity_providers(handlers):
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
    json_answer(ecs._put_cluster_capacity_providers(request), f"{_ASSOCIATIONS} {verb} failed")
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


def register_task_definitions(handlers):
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
        answer = json_answer(
            ecs._register_task_definition(request), f"{TASK_DEFINITION} create failed"
        )
        arn = answer["taskDefinition"]["taskDefinitionArn"]
        return arn, {"TaskDefinitionArn": arn}

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


def service_key(arn):
    """The ECS store's "<cluster>/<service>" key of a service ARN."""
    return arn.split(":service/", 1)[1]


def _check_service_capacity(props):
    """Refuse what CreateService and UpdateService refuse: an unknown cluster (ministack makes
    one up) and a capacity provider strategy naming a provider not associated with the
    cluster."""
    cluster_name = ecs._resolve_cluster_name(props.get("Cluster") or "default")
    cluster = ecs._clusters.get(cluster_name)
    if cluster is None:
        raise ValueError(f"{SERVICE}: ClusterNotFoundException: Cluster not found: {cluster_name}")
    missing = [
        item["CapacityProvider"]
        for item in props.get("CapacityProviderStrategy") or []
        if item["CapacityProvider"] not in (cluster.get("capacityProviders") or [])
    ]
    if missing:
        raise ValueError(
            f"{SERVICE}: InvalidParameterException: The specified capacity provider strategy"
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
                f"{SERVICE}: InvalidParameterException: The target group with targetGroupArn"
                f" {group} does not have an associated load balancer."
            )
        alternate = advanced.get("AlternateTargetGroupArn")
        if alternate and alternate not in alb._tgs:
            raise ValueError(
                f"{SERVICE}: InvalidParameterException: The alternate target group"
                f" {alternate} does not exist."
            )
        for key in ("ProductionListenerRule", "TestListenerRule"):
            arn = advanced.get(key)
            if arn and arn not in alb._rules and arn not in alb._listeners:
                raise ValueError(
                    f"{SERVICE}: InvalidParameterException: The {key} {arn} does not exist."
                )


def _service_extras(arn, old_props, new_props):
    """Record the ``_SERVICE_EXTRAS`` fields on the service, and reconcile its tags (ministack's
    update leaves them as they were)."""
    service = ecs._services[service_key(arn)]
    for key, default in _SERVICE_EXTRAS.items():
        name = key[:1].lower() + key[1:]
        service[name] = _ecs_shape({key: new_props.get(key, default)})[name]
    cfn._reconcile_tag_list(
        ecs._tags.setdefault(arn, []), old_props, new_props, key="key", value="value"
    )


def complete_service(handlers):
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

    return {**handlers, "create": created, "update": updated}


# --- Tasks: the image digest ECS resolves -------------------------------------------------

# An image by tag in an account's private registry: ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG
_PRIVATE_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<repository>[^:@]+):(?P<tag>[^:@]+)$"
)


def _registry_digest(image):
    """The digest of the image a private registry tag names in the emulator's ECR, or None."""
    named = _PRIVATE_IMAGE.match(image)
    if not named:
        return None
    images = ecr._images.get_scoped(named["account"], named["region"], named["repository"]) or []
    return next((i["imageDigest"] for i in images if named["tag"] in i.get("imageTags", [])), None)


def resolve_image_digests(run_task):
    """Wrap ministack's ``_run_task`` (RunTask, and the tasks a service starts) so each
    container whose image is a tag in the emulator's ECR reports that image's digest
    (``imageDigest``), as on AWS: "Amazon ECS resolves container image names and any image
    tags specified in the task definition to container image digests"
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerImage.html).

    ministack 1.5.33 resolves a digest only when Docker pulls the image: without Docker its
    containers had none. A tag the registry does not hold leaves the container without one
    (ECS would fail to pull it; no container runs here). A task keeps the digest it started
    with when the tag later names another image.
    """

    @functools.wraps(run_task)
    def run(data):
        answer = run_task(data)
        status, _headers, body = answer
        if status >= 400:
            return answer
        for started in json.loads(body).get("tasks", []):
            for container in (ecs._tasks.get(started["taskArn"]) or {}).get("containers", []):
                digest = _registry_digest(container.get("image", ""))
                if digest and not container.get("imageDigest"):
                    container["imageDigest"] = digest
        return answer

    return run


HANDLERS = {
    _ASSOCIATIONS: {
        "create": _associations_create,
        "update": _associations_update,
        "delete": _associations_delete,
    },
}
# createOnlyProperties of each type's CloudFormation registry schema.
REPLACING = {
    _ASSOCIATIONS: "Cluster",
    # ministack has no entries for these two types of its own.
    TASK_DEFINITION: (
        "ContainerDefinitions Cpu EnableFaultInjection EphemeralStorage ExecutionRoleArn Family"
        " InferenceAccelerators IpcMode Memory NetworkMode PidMode PlacementConstraints"
        " ProxyConfiguration RequiresCompatibilities RuntimePlatform TaskRoleArn Volumes"
    ),
    SERVICE: "Cluster Role SchedulingStrategy ServiceName",
}
