"""What the emulator deployment proves, resource type by resource type.

`READ_BACK` names, for each type, the API the integration tests
(`tests/integration/test_emulator_deploy.py`) read the deployed resource back with; those
tests fail if they did not really read back every type listed here that the templates use.
A type missing from `READ_BACK` is proven by the unit tests only, and the table says so.
`synth` writes the table to docs/emulator-coverage.md.
"""

from __future__ import annotations

from collections import Counter

from playback_infra.reference import generated_header

READ_BACK: dict[str, str] = {
    "AWS::ECR::RegistryPolicy": "ecr.get_registry_policy: the pipeline account may replicate its images (pipeline-target in another account)",
    "AWS::CloudFormation::Stack": "cloudformation.describe_stacks: nested stacks, parameters, outputs",
    "AWS::EC2::VPC": "ec2.describe_vpcs: CIDR, DNS attributes",
    "AWS::EC2::InternetGateway": "ec2.describe_internet_gateways",
    "AWS::EC2::VPCGatewayAttachment": "ec2.describe_internet_gateways: attachment to the VPC",
    "AWS::EC2::Subnet": "ec2.describe_subnets: CIDR and AZ of every subnet",
    "AWS::EC2::RouteTable": "ec2.describe_route_tables: one per tier and AZ",
    "AWS::EC2::SubnetRouteTableAssociation": "ec2.describe_route_tables: associations",
    "AWS::EC2::Route": "ec2.describe_route_tables: default routes to IGW / NAT, none in data",
    "AWS::EC2::EIP": "ec2.describe_addresses: one per NAT gateway, associated",
    "AWS::EC2::NatGateway": "ec2.describe_nat_gateways: count per environment and NAT mode",
    "AWS::EC2::NetworkAcl": "ec2.describe_network_acls",
    "AWS::EC2::NetworkAclEntry": "ec2.describe_network_acls: entries of the data tier ACL",
    "AWS::EC2::SubnetNetworkAclAssociation": "ec2.describe_network_acls: associations",
    "AWS::EC2::VPCEndpoint": "ec2.describe_vpc_endpoints: S3 gateway, interface endpoints",
    "AWS::EC2::SecurityGroup": "ec2.describe_security_groups: ingress rules between groups",
    "AWS::EC2::SecurityGroupEgress": "ec2.describe_security_groups: egress rules between groups",
    "AWS::EC2::FlowLog": "ec2.describe_flow_logs: on the VPC, all traffic",
    "AWS::KMS::Key": "kms.describe_key, get_key_rotation_status, get_key_policy",
    "AWS::KMS::Alias": "kms.list_aliases",
    "AWS::Logs::LogGroup": "logs.describe_log_groups: KMS key, retention",
    "AWS::IAM::Role": "iam.get_role, get_role_policy: trust and permissions",
    "AWS::IAM::ManagedPolicy": "iam.list_attached_role_policies, get_policy_version: the execution role's generated permissions (pipeline-target)",
    "AWS::RDS::DBInstance": "rds.describe_db_instances: engine, class, storage, encryption, network, protection, logs, master secret",
    "AWS::RDS::DBSubnetGroup": "rds.describe_db_instances: the private-data subnets",
    "AWS::RDS::DBParameterGroup": "rds.describe_db_parameters: TLS, utf8mb4, slow-query threshold",
    "AWS::RDS::DBProxy": "rds.describe_db_proxies: TLS, subnets, the app secret (prod)",
    "AWS::RDS::DBProxyTargetGroup": "rds.describe_db_proxy_targets: the instance (prod)",
    "AWS::SecretsManager::Secret": "secretsmanager.describe_secret, get_secret_value: key, user, password",
    "AWS::SecretsManager::SecretTargetAttachment": "secretsmanager.get_secret_value: host, port, engine",
    "AWS::SNS::Topic": "sns.get_topic_attributes: the logs key",
    "AWS::SNS::Subscription": "sns.list_subscriptions_by_topic: the alarm e-mail",
    "AWS::SNS::TopicPolicy": "sns.get_topic_attributes: CloudWatch may publish",
    "AWS::SecretsManager::RotationSchedule": "secretsmanager.describe_secret: rotation on, 30 days (the hosted rotation function itself is not created: the emulator cannot fetch it; tests/integration/test_rotation.py runs AWS's code of it on these secrets)",
    "AWS::Backup::BackupVault": "backup.describe_backup_vault: the data key (prod)",
    "AWS::Backup::BackupPlan": "backup.get_backup_plan: daily, 35 days, the cross-region copy (prod)",
    "AWS::Backup::BackupSelection": "backup.get_backup_selection: the database instance (prod)",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "elbv2.describe_load_balancers, attributes: scheme, subnets, group, protection, logs",
    "AWS::ElasticLoadBalancingV2::Listener": "elbv2.describe_listeners: 80 redirects, 443 TLS 1.3 policy, certificate, 403 default",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "elbv2.describe_rules: priorities, the origin header from the secret, forward to blue",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "elbv2.describe_target_groups, attributes: ip targets, health checks, deregistration",
    "AWS::CertificateManager::Certificate": "acm.describe_certificate: the API domain, the site domain (edge-global)",
    "AWS::S3::Bucket": "s3.get_bucket_encryption, get_bucket_lifecycle_configuration, get_bucket_versioning: SSE-S3, expiry, old site versions",
    "AWS::S3::BucketPolicy": "s3.get_bucket_policy: the region's ELB log delivery account; only this distribution reads the site",
    "AWS::WAFv2::WebACL": "wafv2.get_web_acl_for_resource, get_web_acl: the managed rule groups (regional and CLOUDFRONT), the edge rate limit",
    "AWS::WAFv2::WebACLAssociation": "wafv2.get_web_acl_for_resource: the ALB",
    "AWS::WAFv2::LoggingConfiguration": "wafv2.get_logging_configuration: the aws-waf-logs- group",
    "AWS::ECS::Cluster": "ecs.describe_clusters: Container Insights (enhanced for the service, on for jobs)",
    "AWS::ECS::ClusterCapacityProviderAssociations": "ecs.describe_clusters: Fargate and Fargate Spot",
    "AWS::ECS::TaskDefinition": "ecs.describe_task_definition: size, architecture, image tag, read-only root, user, secrets, sidecar",
    "AWS::Events::Rule": "events.describe_rule, list_targets_by_rule: the key's AWSCURRENT change starts the workflow; a release manifest's upload starts the import, with retries and a dead-letter queue; a failed secret rotation goes to the alarm topic",
    "AWS::ElastiCache::ServerlessCache": "elasticache.describe_serverless_caches: Valkey 8, data key, the cache group, app subnets, usage limits, the URL the backend gets (staging, prod; the emulator serves no TLS without Docker)",
    "AWS::CloudWatch::Dashboard": "cloudwatch.get_dashboard: every placeholder substituted with this environment's resources",
    "AWS::Logs::MetricFilter": "logs.describe_metric_filters: the backend's error lines, the namespace its alarm reads",
    "AWS::XRay::Group": "xray.get_group: the API's group, its filter, Insights on (the plugin serves X-Ray: ministack has none)",
    "AWS::Synthetics::Canary": "synthetics.get_canary: the model's schedule, the runtime, the inline handler, started, its KMS-encrypted artifacts bucket and role (the plugin serves Synthetics: ministack has none; nothing runs)",
    "AWS::Budgets::Budget": "budgets.describe_budget, describe_notifications_for_budget: the model's amount, the Environment tag, 80% actual and 100% forecast",
    "AWS::CE::AnomalyMonitor": "ce.get_anomaly_monitors: a custom monitor on the Environment tag (the plugin serves Cost Explorer: ministack has none)",
    "AWS::CE::AnomalySubscription": "ce.get_anomaly_subscriptions: the monitor, to the alarm topic",
    "AWS::CloudWatch::CompositeAlarm": "cloudwatch.describe_alarms (CompositeAlarm): the strained-database rule over its three signals, which page nobody alone",
    "AWS::SQS::Queue": "sqs.get_queue_attributes: the import's dead-letter queue, SSE",
    "AWS::SQS::QueuePolicy": "sqs.get_queue_attributes: only the import rule may send",
    "AWS::StepFunctions::StateMachine": "stepfunctions.describe_state_machine: UpdateService on this cluster and service; the import's runTask.sync on the jobs cluster and its exit-code check; an uploaded manifest starts it (list_executions)",
    "AWS::ECS::Service": "ecs.describe_services: count, Spot, subnets, group, target group, circuit breaker, blue/green",
    "AWS::ApplicationAutoScaling::ScalableTarget": "application-autoscaling.describe_scalable_targets, describe_scheduled_actions",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "application-autoscaling.describe_scaling_policies: CPU and requests per task",
    "AWS::ECR::Repository": "ecr.describe_repositories, get_lifecycle_policy, get_repository_policy: immutable, scanned, KMS",
    "AWS::CloudWatch::Alarm": "cloudwatch.describe_alarms: the six database alarms, the OpenAI alarms (metric math: queries recorded, not evaluated), thresholds, actions",
    "AWS::CloudFront::Distribution": "cloudfront.get_distribution_config: aliases, certificate, TLS policy, WAF, HTTP/3, IPv6, price class, logging, origins (the ALB with the secret header), behaviours, error pages",
    "AWS::CloudFront::OriginAccessControl": "cloudfront.get_origin_access_control: signs always, SigV4",
    "AWS::CloudFront::Function": "cloudfront.describe_function: viewer-request on the default and API behaviours, cloudfront-js-2.0 (the code is run with node in the unit tests)",
    "AWS::CloudFront::ResponseHeadersPolicy": "cloudfront.get_response_headers_policy: HSTS, CSP, on every behaviour",
    "AWS::CloudTrail::Trail": "cloudtrail.describe_trails, get_trail_status: every region, global services, log file validation, the baseline key, its bucket, logging (account baseline; the plugin makes the resource through ministack's CloudTrail API)",
    "AWS::Lambda::Function": "lambda.get_function_configuration: the default group's restriction, Python 3.12 (ministack runs its inline code)",
    "Custom::RestrictDefaultSecurityGroup": "ec2.describe_security_groups: the VPC's default group has no rules left (ministack ran the function and heard its answer)",
    "AWS::GuardDuty::Detector": "guardduty.get_detector: enabled, the protection plans on and off (account baseline; the plugin serves GuardDuty: ministack has none)",
    "AWS::SecurityHub::Hub": "securityhub.describe_hub: one finding per control, new controls on (the plugin serves Security Hub: ministack has none)",
    "AWS::SecurityHub::Standard": "securityhub.get_enabled_standards: AWS Foundational Security Best Practices only",
    "AWS::ECR::RegistryScanningConfiguration": "ecr.get_registry_scanning_configuration, inspector2.batch_get_account_status: enhanced continuous scanning, Inspector's ECR scanning on",
    "AWS::Config::ConfigurationRecorder": "config.describe_configuration_recorders, describe_configuration_recorder_status: every supported type, global ones, recording",
    "AWS::Config::DeliveryChannel": "config.describe_delivery_channels: the history bucket, the baseline key",
    "AWS::Route53::RecordSet": "route53.list_resource_record_sets: the site's A and AAAA aliases to the distribution, the API's to the ALB",
    "AWS::CodePipeline::Pipeline": "codepipeline.get_pipeline: V2, SUPERSEDED, stages in order, the self-update action, approval before prod, rollback, triggers on the branch, artifact store and key (the plugin serves CodePipeline: ministack has none)",
    "AWS::CodeConnections::Connection": "codeconnections.get_connection: GitHub, PENDING until its console handshake",
    "AWS::CodeBuild::Project": "codebuild.batch_get_projects: buildspec from pipeline/, compute, privileged for images, role, timeout",
    "AWS::CodeBuild::ReportGroup": "codebuild.batch_get_report_groups: TEST, no export",
    "AWS::CodeStarNotifications::NotificationRule": "codestar-notifications.describe_notification_rule: the pipeline, failures and approvals, to the topic",
    "AWS::ECR::ReplicationConfiguration": "ecr.describe_registry: every other environment account, the project's repositories",
}


def table(templates: dict[str, dict]) -> str:
    """Markdown: every resource type in the templates, where it is, and what proves it."""
    where: dict[str, Counter] = {}
    for name, template in sorted(templates.items()):
        for resource in template.get("Resources", {}).values():
            where.setdefault(resource["Type"], Counter())[name] += 1
    rows = generated_header("Emulator coverage", "emulator/coverage.py", [
        "Each resource type in `templates/`, and whether the emulator deployment",
        "(`tests/integration/test_emulator_deploy.py`) creates it and reads it back, or only the",
        "unit tests check it.",
        "",
        "| resource type | templates (count) | verified by |",
        "|---|---|---|",
    ])  # fmt: skip
    for resource_type in sorted(where):
        counts = ", ".join(f"{n} ({c})" for n, c in sorted(where[resource_type].items()))
        proof = READ_BACK.get(resource_type)
        rows.append(
            f"| `{resource_type}` | {counts} | "
            + (f"emulator: {proof} |" if proof else "unit tests only |")
        )
    verified = sum(t in READ_BACK for t in where)
    rows += ["", f"{verified} of {len(where)} resource types are verified in the emulator.", ""]
    return "\n".join(rows)
