"""An environment's parameter file, in CodePipeline's template-configuration shape."""

from __future__ import annotations

from playback_infra.environments.database import Database
from playback_infra.environments.model import (
    KNEX_POOL_MAX,
    PROJECT,
    Environment,
    InterfaceEndpoint,
)
from playback_infra.parts import values

# Root parameters set at deploy time from the edge-global stack's outputs (us-east-1).
DEPLOY_TIME = (values.SITE_CERTIFICATE_ARN, values.SITE_WEB_ACL_ARN)


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
        values.ENDPOINTS_IN_ONE_AZ: _flag(env.endpoints_in_one_az),
        values.ENABLE_ECR_ENDPOINTS: _flag(InterfaceEndpoint.ECR in env.interface_endpoints),
        values.ENABLE_LOGS_ENDPOINT: _flag(InterfaceEndpoint.LOGS in env.interface_endpoints),
        values.ENABLE_SECRETS_MANAGER_ENDPOINT: _flag(
            InterfaceEndpoint.SECRETS_MANAGER in env.interface_endpoints
        ),
        values.ENABLE_RDS_ENDPOINT: _flag(InterfaceEndpoint.RDS in env.interface_endpoints),
        values.FLOW_LOG_RETENTION_DAYS: str(env.flow_log_retention_days),
        values.APP_PORT: str(env.app_port),
        values.IMAGE_ARCHITECTURE: env.architecture.value,  # the app's and the jobs' tasks
        values.CLOUDFRONT_PREFIX_LIST_ID: env.cloudfront_prefix_list,
        values.ALARM_EMAIL: env.alarm_email,
        **database_values(env.database),
        **ingress_values(env),
        **app_values(env),
        values.ENABLE_CACHE: _flag(env.app.cache),  # the data stack makes the cache
        values.APP_ERROR_ALARM_COUNT: str(env.app.error_log_alarm_count),  # observability
        values.TRACE_SAMPLING_PERCENT: str(env.app.trace_sampling_percent),  # the sidecar
        values.API_LATENCY_ALARM_SECONDS: f"{env.app.latency_p95_alarm_ms / 1000:g}",
        values.API_ERROR_RATE_ALARM_PERCENT: str(env.app.error_rate_alarm_percent),
        values.MONTHLY_BUDGET_USD: str(env.monthly_budget_usd),
        values.CANARY_SCHEDULE: canary_schedule(env.canary_interval_minutes),
        values.CANARY_PERIOD_SECONDS: str(env.canary_interval_minutes * 60),
        **web_values(env),
        values.JOBS_IMAGE_TAG: env.jobs.image_tag,
        values.IMPORT_CPU: str(env.jobs.import_cpu),
        values.IMPORT_MEMORY: str(env.jobs.import_memory),
        values.JOBS_LOG_RETENTION_DAYS: str(env.jobs.log_retention_days),
        # The app opens at most max_app_tasks x its Knex pool (max 10) connections.
        values.DATABASE_PROXY_CLIENTS_ALARM_COUNT: str(env.max_app_tasks * KNEX_POOL_MAX),
    }


def canary_schedule(minutes: int) -> str:
    """The Synthetics schedule expression for a run every `minutes`."""
    return "rate(1 minute)" if minutes == 1 else f"rate({minutes} minutes)"


def app_values(env: Environment) -> dict[str, str]:
    app = env.app
    return {
        values.APP_CPU: str(app.cpu),
        values.APP_MEMORY: str(app.memory),
        values.APP_DESIRED_TASKS: str(app.desired_tasks),
        values.APP_MIN_TASKS: str(app.min_tasks),
        values.APP_MAX_TASKS: str(env.max_app_tasks),
        values.USE_FARGATE_SPOT: _flag(app.spot),
        values.DEPLOYMENT_STRATEGY: app.deployment,
        values.BAKE_MINUTES: str(app.bake_minutes),
        values.CPU_TARGET_PERCENT: str(app.cpu_target_percent),
        values.REQUESTS_PER_TASK_TARGET: str(app.requests_per_task_target),
        values.PEAK_START: app.peak_start,
        values.PEAK_END: app.peak_end,
        values.PEAK_MIN_TASKS: str(app.peak_min_tasks),
        values.APP_LOG_RETENTION_DAYS: str(app.log_retention_days),
        values.ENABLE_ECS_EXEC: _flag(app.ecs_exec),
        values.ENABLE_XRAY: _flag(app.xray),
        values.IMAGE_TAG: app.image_tag,
        values.API_BASE_PATH: app.api_base_path,
        values.FEATURE_FLAGS: app.feature_flags,
        values.OPENAI_DAILY_COST_ALARM_USD: str(app.openai_daily_cost_alarm_usd),
    }


def web_values(env: Environment) -> dict[str, str]:
    web = env.web
    return {
        values.SITE_DOMAIN: env.site_domain,
        values.SITE_HOSTED_ZONE_ID: web.hosted_zone_id,
        values.SITE_PRICE_CLASS: web.price_class,
        values.SITE_ACCESS_LOG_DAYS: str(web.access_log_days),
        values.SITE_PREVIOUS_VERSIONS_DAYS: str(web.previous_versions_days),
    }


def edge_parameter_file(env: Environment) -> dict:
    """The parameter file of the environment's edge-global stack (deployed to us-east-1)."""
    web = env.web
    return {
        "Parameters": {
            values.ENVIRONMENT_NAME: env.name,
            values.RETAIN_STATEFUL_RESOURCES: _flag(env.retain_data),
            values.SITE_DOMAIN: env.site_domain,
            values.SITE_HOSTED_ZONE_ID: web.hosted_zone_id,
            values.SITE_EXISTING_CERTIFICATE_ARN: web.certificate_arn,
            values.EDGE_WAF_RATE_LIMIT: str(web.waf_rate_limit),
            values.EDGE_WAF_LOG_RETENTION_DAYS: str(web.waf_log_retention_days),
        },
        "Tags": stack_tags(env),
    }


def ingress_values(env: Environment) -> dict[str, str]:
    ingress = env.ingress
    return {
        values.API_DOMAIN: env.api_domain,
        values.HOSTED_ZONE_ID: ingress.hosted_zone_id,
        values.CERTIFICATE_ARN: ingress.certificate_arn,
        values.HEALTH_CHECK_PATH: ingress.health_check_path,
        values.HEALTH_CHECK_INTERVAL_SECONDS: str(ingress.health_check_interval_seconds),
        values.HEALTH_CHECK_TIMEOUT_SECONDS: str(ingress.health_check_timeout_seconds),
        values.HEALTHY_THRESHOLD: str(ingress.healthy_threshold),
        values.UNHEALTHY_THRESHOLD: str(ingress.unhealthy_threshold),
        values.DEREGISTRATION_DELAY_SECONDS: str(ingress.deregistration_delay_seconds),
        values.ENABLE_REGIONAL_WAF: _flag(ingress.regional_waf),
        values.WAF_RATE_LIMIT: str(ingress.waf_rate_limit),
        values.WAF_LOG_RETENTION_DAYS: str(ingress.waf_log_retention_days),
        values.ACCESS_LOG_DAYS: str(ingress.access_log_days),
    }


def database_values(db: Database) -> dict[str, str]:
    return {
        values.DATABASE_INSTANCE_CLASS: db.instance_class,
        values.DATABASE_ENGINE_VERSION: db.engine_version,
        values.DATABASE_MULTI_AZ: _flag(db.multi_az),
        values.DATABASE_ALLOCATED_STORAGE: str(db.allocated_storage_gib),
        values.DATABASE_MAX_ALLOCATED_STORAGE: str(db.max_allocated_storage_gib),
        values.DATABASE_BACKUP_RETENTION_DAYS: str(db.backup_retention_days),
        values.DATABASE_BACKUP_WINDOW: db.backup_window,
        values.DATABASE_MAINTENANCE_WINDOW: db.maintenance_window,
        values.DATABASE_INSIGHTS_MODE: db.insights_mode.value,
        values.ENABLE_DATABASE_PROXY: _flag(db.proxy),
        values.DATABASE_LOG_RETENTION_DAYS: str(db.log_retention_days),
        values.DATABASE_SLOW_QUERY_SECONDS: f"{db.slow_query_seconds:g}",
        values.DATABASE_SNAPSHOT_IDENTIFIER: db.restore_snapshot,
        values.DATABASE_GENERATION: str(db.generation),
        values.SECRET_ROTATION_DAYS: str(db.rotation_days),
        values.ENABLE_BACKUP_PLAN: _flag(db.backup_plan),
        values.BACKUP_COPY_REGION: db.backup_copy_region,
        values.DATABASE_CPU_ALARM_PERCENT: str(db.cpu_alarm_percent),
        values.DATABASE_CONNECTIONS_ALARM_COUNT: str(
            db.max_connections * db.connections_alarm_percent // 100
        ),
        values.DATABASE_FREE_STORAGE_ALARM_BYTES: str(db.free_storage_alarm_gib * 2**30),
        values.DATABASE_FREEABLE_MEMORY_ALARM_BYTES: str(db.freeable_memory_alarm_bytes),
        values.DATABASE_READ_LATENCY_ALARM_SECONDS: f"{db.read_latency_alarm_ms / 1000:g}",
        values.DATABASE_WRITE_LATENCY_ALARM_SECONDS: f"{db.write_latency_alarm_ms / 1000:g}",
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
    """`{"Parameters": ..., "Tags": ...}` for exactly the root template's parameters, but the
    edge-global stack's outputs (`DEPLOY_TIME`), which exist only once it is deployed."""
    given = parameter_values(env)
    expected = root_parameters - set(DEPLOY_TIME)
    missing, extra = expected - given.keys(), given.keys() - expected
    if missing or extra:
        raise ValueError(
            f"parameter file for {env.name} does not match the root template: "
            f"missing {sorted(missing)}, not in the template {sorted(extra)}"
        )
    return {"Parameters": given, "Tags": stack_tags(env)}
