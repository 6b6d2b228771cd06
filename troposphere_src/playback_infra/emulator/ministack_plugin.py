"""Teach ministack's CloudFormation engine thirty resource types, then serve.

Run with the emulator venv's python: ``python ministack_plugin.py`` (the port
and bind address come from GATEWAY_PORT and BIND_HOST, as for ministack).

What ministack lacks comes from the modules beside this script, one per service, imported as
top-level modules (the script's directory is on ``sys.path``): ``ec2_service``,
``rds_service``, ``elasticache_service``, ``cloudwatch_service``, ``sns_service``,
``secretsmanager_service``, ``backup_service``, ``wafv2_service``, ``elbv2_service``,
``acm_service``, ``route53_service``, ``s3_service``, ``ecs_service``, ``ecr_service``,
``application_autoscaling_service``, ``xray_service``, ``synthetics_service``,
``billing_service`` (budgets, Cost Explorer), ``security_services`` (GuardDuty, Security Hub,
ECR registry scanning), ``cloudtrail_service`` (the trail as a resource) and
``delivery_services`` (CodePipeline, CodeConnections, CodeStar Notifications, CodeBuild report
groups, ECR replication); ``engine_fixes`` fixes the engine's
nested stacks and template URLs, and ``served`` holds what the modules share. A module that
adds resource types declares them in ``HANDLERS`` and their replacing properties in
``REPLACING``; ``register()`` installs everything.

The properties AWS replaces on update (the createOnlyProperties of the
CloudFormation registry schemas) go into ministack's ``_REPLACING_PROPERTIES``
table: the engine then creates the successor and deletes the predecessor
itself, and the update handlers apply only the in-place changes.
"""

import sys

import application_autoscaling_service
import backup_service
import billing_service
import cloudtrail_service
import cloudwatch_service
import delivery_services
import ec2_service
import ecr_service
import ecs_service
import elasticache_service
import ministack.app
import rds_service
import secretsmanager_service
import security_services
import synthetics_service
import wafv2_service
import xray_service
from acm_service import CERTIFICATE, validate_in_hosted_zone
from application_autoscaling_service import (
    APPLICATION_AUTOSCALING,
    SCALABLE_TARGET,
    reset_application_autoscaling,
    serve_application_autoscaling,
)
from backup_service import VAULT, refuse_taken_vault_name, serving_copy_jobs
from cloudwatch_service import record_metric_math_alarms
from ecs_service import (
    CLUSTER,
    SERVICE,
    TASK_DEFINITION,
    complete_service,
    keep_capacity_providers,
    register_task_definitions,
    resolve_image_digests,
)
from elasticache_service import SERVERLESS_CACHE
from elbv2_service import (
    LISTENER,
    LISTENER_RULE,
    LOAD_BALANCER,
    TARGET_GROUP,
    complete_listener_rule,
    complete_load_balancer,
    complete_target_group,
    link_target_groups,
    render_load_balancer_zones,
    render_target_group_extras,
)
from engine_fixes import (
    honour_deletion_policy,
    keep_recorded_attributes,
    read_virtual_hosted_urls,
    record_name_seeds,
    resolve_nested_dynamic_references,
)
from ministack.services import alb, backup, ecr, ecs, rds, route53, secretsmanager, waf
from ministack.services.cloudformation import changesets as cfn_changesets
from ministack.services.cloudformation import engine as cfn_engine
from ministack.services.cloudformation import handlers as cfn_handlers
from ministack.services.cloudformation import helpers as cfn_helpers
from ministack.services.cloudformation import provisioners as cfn
from rds_service import (
    DB_INSTANCE,
    PROXY,
    PROXY_TARGET_GROUP,
    complete_db_instance,
    render_db_instance_extras,
)
from route53_service import zone_with_requested_id
from s3_service import configure_bucket_settings
from secretsmanager_service import (
    accept_secrets_manager_transform,
    generate_with_every_option,
    one_version_per_label,
    only_stored_values,
    record_finished_rotation,
    secret_ref_is_arn,
    show_last_rotation,
    start_rotation,
)
from sns_service import keep_topic_attributes
from wafv2_service import reset_waf_logging, serve_waf_logging, waf_integer_members

# The modules whose HANDLERS and REPLACING register() adds to ministack's tables.
_MODULES = (
    ec2_service, rds_service, elasticache_service, cloudwatch_service, secretsmanager_service,
    backup_service, wafv2_service, ecs_service, application_autoscaling_service,
    xray_service, billing_service, security_services, synthetics_service, delivery_services,
    cloudtrail_service,
)  # fmt: skip


# The wrappers of ministack's CloudFormation handlers, by resource type.
_HANDLER_WRAPPERS = (
    ("AWS::WAFv2::WebACL", waf_integer_members),
    (LOAD_BALANCER, complete_load_balancer),
    (TARGET_GROUP, complete_target_group),
    (LISTENER, link_target_groups),
    (LISTENER_RULE, complete_listener_rule),
    (CERTIFICATE, validate_in_hosted_zone),
    ("AWS::S3::Bucket", configure_bucket_settings),
    (TASK_DEFINITION, register_task_definitions),
    (SERVICE, complete_service),
    ("AWS::SecretsManager::Secret", secret_ref_is_arn),
    ("AWS::SNS::Topic", keep_topic_attributes),
    (DB_INSTANCE, complete_db_instance),
    (VAULT, refuse_taken_vault_name),
    (CLUSTER, keep_capacity_providers),
)


def register():
    """Add the handlers, replacing properties and tag properties to ministack's tables,
    read virtual-hosted template URLs (``read_virtual_hosted_urls``), patch the nested-stack
    update (``keep_recorded_attributes``), delete
    (``honour_deletion_policy``) and deploy (``record_name_seeds``,
    ``resolve_nested_dynamic_references``) and the transforms
    (``accept_secrets_manager_transform``), and complete the secret (``secret_ref_is_arn``,
    ``generate_with_every_option``), rotation (``start_rotation``, ``only_stored_values``,
    ``record_finished_rotation``, ``show_last_rotation``, ``one_version_per_label``), topic (``keep_topic_attributes``), DB instance
    (``complete_db_instance``, ``render_db_instance_extras``) and backup vault
    (``refuse_taken_vault_name``) handlers and those of ``_HANDLER_WRAPPERS``. ELBv2 renders
    its load balancers' zones and target groups' extras (``render_load_balancer_zones``,
    ``render_target_group_extras``), WAFv2 answers the logging configuration actions
    (``serve_waf_logging``, ``reset_waf_logging``), and Application Auto Scaling is served
    (``serve_application_autoscaling``, ``reset_application_autoscaling``). An ECS cluster's
    update keeps its capacity providers (``keep_capacity_providers``), and an alarm on a
    metric math expression is recorded (``record_metric_math_alarms``). ECR answers the
    download URL of a layer (``serving_layer_downloads``), a started ECS task reports its
    images' digests (``resolve_image_digests``), AWS Backup serves copy jobs (``serving_copy_jobs``), and a test may record a canary's run
    (``recording_runs``).

    The tagged types also get the stack tags and the aws:cloudformation:* tags, as
    CloudFormation gives them on AWS. A proxy and an ECS service keep their names across a
    replacement, so CloudFormation refuses one, as for the other custom-named types.

    Run once, in the emulator's process, before ministack serves.
    """
    handlers = cfn._RESOURCE_HANDLERS
    cfn_helpers._resolve_document = read_virtual_hosted_urls(cfn_helpers._resolve_document)
    cfn._update_resource = keep_recorded_attributes(cfn._update_resource)
    nested_stack = handlers["AWS::CloudFormation::Stack"]
    nested_stack["delete"] = honour_deletion_policy(nested_stack["delete"])
    for resource_type, wrap in _HANDLER_WRAPPERS:
        handlers[resource_type] = wrap(handlers[resource_type])
    # ministack's update handler replaces, renames or registers through these names.
    cfn._rds_db_instance_create = handlers[DB_INSTANCE]["create"]
    cfn._rds_db_instance_delete = handlers[DB_INSTANCE]["delete"]
    cfn._backup_vault_create = handlers[VAULT]["create"]
    cfn._ecs_task_def_create = handlers[TASK_DEFINITION]["create"]
    rds._instance_xml = render_db_instance_extras(rds._instance_xml)
    # handlers and changesets imported the function by name and call their own binding.
    for module in (cfn_engine, cfn_handlers, cfn_changesets):
        module._apply_transforms = accept_secrets_manager_transform(module._apply_transforms)
    # A rotation as AWS starts and finishes it (the function's steps are the caller's).
    secretsmanager._rotate_secret = start_rotation
    secretsmanager._get_secret_value = only_stored_values(secretsmanager._get_secret_value)
    secretsmanager._update_secret_version_stage = record_finished_rotation(
        secretsmanager._update_secret_version_stage
    )
    secretsmanager._describe_secret = show_last_rotation(secretsmanager._describe_secret)
    secretsmanager._put_secret_value = one_version_per_label(secretsmanager._put_secret_value)
    waf.handle_request = serve_waf_logging(waf.handle_request)
    waf.reset = reset_waf_logging(waf.reset)
    route53._create_hosted_zone = zone_with_requested_id(route53._create_hosted_zone)
    service_handlers = ministack.app.SERVICE_HANDLERS
    service_handlers["ce"] = billing_service.serve
    service_handlers["xray"] = xray_service.serve
    service_handlers["synthetics"] = synthetics_service.serve
    service_handlers["guardduty"] = security_services.serve_guardduty
    service_handlers["securityhub"] = security_services.serve_securityhub
    for service in delivery_services.SERVED:
        service_handlers[service] = delivery_services.serve
    for service in delivery_services.EXTENDED:
        service_handlers[service] = delivery_services.extend(service_handlers[service])
    service_handlers[APPLICATION_AUTOSCALING] = serve_application_autoscaling
    for reset in (
        billing_service.reset,
        xray_service.reset,
        synthetics_service.reset,
        security_services.reset,
        backup_service.reset,
        delivery_services.reset,
        reset_application_autoscaling,
    ):
        ministack.app._reset_all_state = reset(ministack.app._reset_all_state)
    ecr.handle_request = security_services.serving_ecr(ecr.handle_request)
    ecr.handle_request = ecr_service.serving_layer_downloads(ecr.handle_request)
    # The services' scheduler calls the module's name, the API its action map.
    ecs._run_task = ecs._ACTION_MAP["RunTask"] = resolve_image_digests(ecs._run_task)
    backup.handle_request = serving_copy_jobs(backup.handle_request)
    ministack.app._handle_post_body_shortcuts = synthetics_service.recording_runs(
        ministack.app._handle_post_body_shortcuts
    )
    cfn._cw_metric_alarm_record = record_metric_math_alarms(cfn._cw_metric_alarm_record)
    cfn._sm_secret_string = generate_with_every_option(cfn._sm_secret_string)
    alb._lb_xml = render_load_balancer_zones(alb._lb_xml)
    alb._tg_xml = render_target_group_extras(alb._tg_xml)
    cfn._cfn_nested_stack_deploy = record_name_seeds(cfn._cfn_nested_stack_deploy)
    cfn._provision_resource, cfn._update_resource = resolve_nested_dynamic_references(
        cfn._provision_resource, cfn._update_resource
    )
    for module in _MODULES:
        handlers.update(module.HANDLERS)
    replacing = {}
    for module in _MODULES:
        replacing.update(module.REPLACING)
    cfn._REPLACING_PROPERTIES.update({t: tuple(p.split()) for t, p in replacing.items()})
    cfn._CUSTOM_NAME_REPLACEMENT[PROXY] = {"name": "DBProxyName"}
    cfn._CUSTOM_NAME_REPLACEMENT[SERVERLESS_CACHE] = {"name": "ServerlessCacheName"}
    cfn._CUSTOM_NAME_REPLACEMENT[SERVICE] = {"name": "ServiceName"}
    for resource_type in ("EIP", "NatGateway", "NetworkAcl", "FlowLog"):
        cfn._STACK_TAG_PROPERTY[f"AWS::EC2::{resource_type}"] = ("Tags", "list")
    for resource_type in (
        PROXY,
        PROXY_TARGET_GROUP,
        SERVERLESS_CACHE,
        LISTENER_RULE,
        "AWS::S3::Bucket",
        TASK_DEFINITION,
        SCALABLE_TARGET,
    ):
        cfn._STACK_TAG_PROPERTY[resource_type] = ("Tags", "list")


if __name__ == "__main__":
    register()
    sys.argv = sys.argv[:1]
    ministack.app.main()
