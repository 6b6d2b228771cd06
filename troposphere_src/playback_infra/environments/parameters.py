"""An environment's parameter file, in CodePipeline's template-configuration shape."""

from __future__ import annotations

from playback_infra.environments.model import PROJECT, Environment, InterfaceEndpoint
from playback_infra.parts import values


def _flag(on: bool) -> str:
    return "true" if on else "false"


def parameter_values(env: Environment) -> dict[str, str]:
    """Every root parameter's value for `env`."""
    layout = env.subnets
    return {
        values.ENVIRONMENT_NAME: env.name,
        values.RETAIN_STATEFUL_RESOURCES: _flag(env.retain_data),
        values.AVAILABILITY_ZONES: ",".join(env.availability_zones),
        values.AZ_COUNT: str(env.az_count),
        values.VPC_CIDR: env.vpc_cidr,
        values.PUBLIC_TIER_CIDR: str(layout.public.block),
        values.APP_TIER_CIDR: str(layout.app.block),
        values.DATA_TIER_CIDR: str(layout.data.block),
        values.PUBLIC_SUBNET_CIDRS: ",".join(map(str, layout.public.subnets)),
        values.PRIVATE_APP_SUBNET_CIDRS: ",".join(map(str, layout.app.subnets)),
        values.PRIVATE_DATA_SUBNET_CIDRS: ",".join(map(str, layout.data.subnets)),
        values.NAT_MODE: env.nat_mode.value,
        values.ENABLE_ECR_ENDPOINTS: _flag(InterfaceEndpoint.ECR in env.interface_endpoints),
        values.ENABLE_LOGS_ENDPOINT: _flag(InterfaceEndpoint.LOGS in env.interface_endpoints),
        values.ENABLE_SECRETS_MANAGER_ENDPOINT: _flag(
            InterfaceEndpoint.SECRETS_MANAGER in env.interface_endpoints
        ),
        values.FLOW_LOG_RETENTION_DAYS: str(env.flow_log_retention_days),
        values.APP_PORT: str(env.app_port),
        values.CLOUDFRONT_PREFIX_LIST_ID: env.cloudfront_prefix_list,
    }


def stack_tags(env: Environment) -> dict[str, str]:
    """Tags on the root stack; CloudFormation propagates them to every resource it can tag."""
    return {
        "Project": PROJECT,
        "Environment": env.name,
        "CostCenter": env.tags.cost_center,
        "Owner": env.tags.owner,
    }


def parameter_file(env: Environment, root_parameters: set[str]) -> dict:
    """`{"Parameters": ..., "Tags": ...}` for exactly the root template's parameters."""
    given = parameter_values(env)
    missing, extra = root_parameters - given.keys(), given.keys() - root_parameters
    if missing or extra:
        raise ValueError(
            f"parameter file for {env.name} does not match the root template: "
            f"missing {sorted(missing)}, not in the template {sorted(extra)}"
        )
    return {"Parameters": given, "Tags": stack_tags(env)}
