"""One name per cross-stack value.

Every value that crosses a stack boundary has one entry here. A stack declares the values it
consumes with `consume()` (a Parameter of that name) and the values it produces with
`produce()` (an Output of the same name). The root wires a consumer to the child that produces
the name, or to a root parameter of the same name when no child does; nothing else knows how
stacks connect.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Output, Parameter, Template


@dataclass(frozen=True)
class Value:
    """How a value is declared where it is consumed."""

    type: str
    description: str
    allowed_values: tuple[str, ...] = ()
    allowed_pattern: str = ""
    constraint: str = ""
    min_value: int | None = None
    max_value: int | None = None


# For a CommaDelimitedList, CloudFormation matches the pattern against each item.
_CIDR = r"^(\d{1,3}\.){3}\d{1,3}/\d{1,2}$"
_TRUE_FALSE = ("true", "false")
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
VALUES_LOG_RETENTION = tuple(map(str, LOG_RETENTION_DAYS))

# Environment inputs, written to the parameter files from the environment model.
ENVIRONMENT_NAME = "EnvironmentName"
RETAIN_STATEFUL_RESOURCES = "RetainStatefulResources"
AVAILABILITY_ZONES = "AvailabilityZones"
AZ_COUNT = "AzCount"
VPC_CIDR = "VpcCidr"
PUBLIC_TIER_CIDR = "PublicTierCidr"
APP_TIER_CIDR = "AppTierCidr"
DATA_TIER_CIDR = "DataTierCidr"
PUBLIC_SUBNET_CIDRS = "PublicSubnetCidrs"
PRIVATE_APP_SUBNET_CIDRS = "PrivateAppSubnetCidrs"
PRIVATE_DATA_SUBNET_CIDRS = "PrivateDataSubnetCidrs"
NAT_MODE = "NatMode"
ENDPOINTS_IN_ONE_AZ = "EndpointsInOneAz"
ENABLE_ECR_ENDPOINTS = "EnableEcrEndpoints"
ENABLE_LOGS_ENDPOINT = "EnableLogsEndpoint"
ENABLE_SECRETS_MANAGER_ENDPOINT = "EnableSecretsManagerEndpoint"
FLOW_LOG_RETENTION_DAYS = "FlowLogRetentionDays"
APP_PORT = "AppPort"
CLOUDFRONT_PREFIX_LIST_ID = "CloudFrontPrefixListId"

ALARM_EMAIL = "AlarmEmail"
DATABASE_INSTANCE_CLASS = "DatabaseInstanceClass"
DATABASE_ENGINE_VERSION = "DatabaseEngineVersion"
DATABASE_MULTI_AZ = "DatabaseMultiAz"
DATABASE_ALLOCATED_STORAGE = "DatabaseAllocatedStorage"
DATABASE_MAX_ALLOCATED_STORAGE = "DatabaseMaxAllocatedStorage"
DATABASE_BACKUP_RETENTION_DAYS = "DatabaseBackupRetentionDays"
DATABASE_BACKUP_WINDOW = "DatabaseBackupWindow"
DATABASE_MAINTENANCE_WINDOW = "DatabaseMaintenanceWindow"
DATABASE_INSIGHTS_MODE = "DatabaseInsightsMode"
ENABLE_DATABASE_PROXY = "EnableDatabaseProxy"
DATABASE_LOG_RETENTION_DAYS = "DatabaseLogRetentionDays"
DATABASE_SLOW_QUERY_SECONDS = "DatabaseSlowQuerySeconds"
DATABASE_SNAPSHOT_IDENTIFIER = "DatabaseSnapshotIdentifier"
DATABASE_GENERATION = "DatabaseGeneration"
DATABASE_CPU_ALARM_PERCENT = "DatabaseCpuAlarmPercent"
DATABASE_CONNECTIONS_ALARM_COUNT = "DatabaseConnectionsAlarmCount"
DATABASE_FREE_STORAGE_ALARM_BYTES = "DatabaseFreeStorageAlarmBytes"
DATABASE_FREEABLE_MEMORY_ALARM_BYTES = "DatabaseFreeableMemoryAlarmBytes"
DATABASE_READ_LATENCY_ALARM_SECONDS = "DatabaseReadLatencyAlarmSeconds"
DATABASE_WRITE_LATENCY_ALARM_SECONDS = "DatabaseWriteLatencyAlarmSeconds"
DATABASE_PROXY_CLIENTS_ALARM_COUNT = "DatabaseProxyClientsAlarmCount"
SECRET_ROTATION_DAYS = "SecretRotationDays"
APP_CPU = "AppCpu"
APP_MEMORY = "AppMemory"
APP_ARCHITECTURE = "AppArchitecture"
APP_DESIRED_TASKS = "AppDesiredTasks"
APP_MIN_TASKS = "AppMinTasks"
APP_MAX_TASKS = "AppMaxTasks"
USE_FARGATE_SPOT = "UseFargateSpot"
DEPLOYMENT_STRATEGY = "DeploymentStrategy"
BAKE_MINUTES = "BakeMinutes"
CPU_TARGET_PERCENT = "CpuTargetPercent"
REQUESTS_PER_TASK_TARGET = "RequestsPerTaskTarget"
PEAK_START = "PeakStart"
PEAK_END = "PeakEnd"
PEAK_MIN_TASKS = "PeakMinTasks"
APP_LOG_RETENTION_DAYS = "AppLogRetentionDays"
ENABLE_ECS_EXEC = "EnableEcsExec"
ENABLE_XRAY = "EnableXRay"
IMAGE_TAG = "ImageTag"
API_BASE_PATH = "ApiBasePath"
FEATURE_FLAGS = "FeatureFlags"
OPENAI_DAILY_COST_ALARM_USD = "OpenAiDailyCostAlarmUsd"
API_DOMAIN = "ApiDomain"
HOSTED_ZONE_ID = "HostedZoneId"
CERTIFICATE_ARN = "CertificateArn"
HEALTH_CHECK_PATH = "HealthCheckPath"
HEALTH_CHECK_INTERVAL_SECONDS = "HealthCheckIntervalSeconds"
HEALTH_CHECK_TIMEOUT_SECONDS = "HealthCheckTimeoutSeconds"
HEALTHY_THRESHOLD = "HealthyThreshold"
UNHEALTHY_THRESHOLD = "UnhealthyThreshold"
DEREGISTRATION_DELAY_SECONDS = "DeregistrationDelaySeconds"
ENABLE_REGIONAL_WAF = "EnableRegionalWaf"
WAF_RATE_LIMIT = "WafRateLimit"
WAF_LOG_RETENTION_DAYS = "WafLogRetentionDays"
ACCESS_LOG_DAYS = "AccessLogDays"
ENABLE_BACKUP_PLAN = "EnableBackupPlan"
ENABLE_CACHE = "EnableCache"
APP_ERROR_ALARM_COUNT = "AppErrorAlarmCount"
API_LATENCY_ALARM_SECONDS = "ApiLatencyAlarmSeconds"
MONTHLY_BUDGET_USD = "MonthlyBudgetUsd"
CANARY_SCHEDULE = "CanarySchedule"
CANARY_PERIOD_SECONDS = "CanaryPeriodSeconds"
TRACE_SAMPLING_PERCENT = "TraceSamplingPercent"
API_ERROR_RATE_ALARM_PERCENT = "ApiErrorRateAlarmPercent"
JOBS_IMAGE_TAG = "JobsImageTag"
IMPORT_CPU = "ImportCpu"
IMPORT_MEMORY = "ImportMemory"
JOBS_LOG_RETENTION_DAYS = "JobsLogRetentionDays"
BACKUP_COPY_REGION = "BackupCopyRegion"

# Web and edge-global inputs, from the environment model's `web` section.
SITE_DOMAIN = "SiteDomain"
SITE_HOSTED_ZONE_ID = "SiteHostedZoneId"
SITE_EXISTING_CERTIFICATE_ARN = "SiteExistingCertificateArn"
SITE_PRICE_CLASS = "SitePriceClass"
SITE_ACCESS_LOG_DAYS = "SiteAccessLogDays"
SITE_PREVIOUS_VERSIONS_DAYS = "SitePreviousVersionsDays"
EDGE_WAF_RATE_LIMIT = "EdgeWafRateLimit"
EDGE_WAF_LOG_RETENTION_DAYS = "EdgeWafLogRetentionDays"

# Edge-global stack outputs (us-east-1), passed to the root as parameters at deploy time.
SITE_CERTIFICATE_ARN = "SiteCertificateArn"
SITE_WEB_ACL_ARN = "SiteWebAclArn"

# Network stack outputs.
VPC_ID = "VpcId"
DEFAULT_SECURITY_GROUP_ID = "DefaultSecurityGroupId"
PUBLIC_SUBNET_IDS = "PublicSubnetIds"
PRIVATE_APP_SUBNET_IDS = "PrivateAppSubnetIds"
PRIVATE_DATA_SUBNET_IDS = "PrivateDataSubnetIds"

# Security stack outputs.
DATA_KEY_ARN = "DataKeyArn"
LOGS_KEY_ARN = "LogsKeyArn"
ALB_SECURITY_GROUP_ID = "AlbSecurityGroupId"
APP_SECURITY_GROUP_ID = "AppSecurityGroupId"
DATABASE_SECURITY_GROUP_ID = "DatabaseSecurityGroupId"
DATABASE_PROXY_SECURITY_GROUP_ID = "DatabaseProxySecurityGroupId"
JOBS_SECURITY_GROUP_ID = "JobsSecurityGroupId"
SECRETS_ROTATION_SECURITY_GROUP_ID = "SecretsRotationSecurityGroupId"
CACHE_SECURITY_GROUP_ID = "CacheSecurityGroupId"
FLOW_LOG_GROUP_NAME = "FlowLogGroupName"

# Alerts stack outputs.
ALARM_TOPIC_ARN = "AlarmTopicArn"

# Data stack outputs.
DATABASE_INSTANCE_ID = "DatabaseInstanceId"
DATABASE_ENDPOINT = "DatabaseEndpoint"
DATABASE_INSTANCE_HOST = "DatabaseInstanceHost"
DATABASE_PORT = "DatabasePort"
DATABASE_MASTER_SECRET_ARN = "DatabaseMasterSecretArn"
DATABASE_APP_SECRET_ARN = "DatabaseAppSecretArn"
DATABASE_MIGRATION_SECRET_ARN = "DatabaseMigrationSecretArn"
DATABASE_REPORTING_SECRET_ARN = "DatabaseReportingSecretArn"
BACKUP_VAULT_NAME = "BackupVaultName"
CACHE_URL = "CacheUrl"

# Ingress stack outputs.
API_LOAD_BALANCER_ARN = "ApiLoadBalancerArn"
API_LOAD_BALANCER_DNS_NAME = "ApiLoadBalancerDnsName"
API_LOAD_BALANCER_FULL_NAME = "ApiLoadBalancerFullName"
API_TARGET_GROUP_BLUE_ARN = "ApiTargetGroupBlueArn"
API_TARGET_GROUP_GREEN_ARN = "ApiTargetGroupGreenArn"
API_TARGET_GROUP_BLUE_FULL_NAME = "ApiTargetGroupBlueFullName"
API_TARGET_GROUP_GREEN_FULL_NAME = "ApiTargetGroupGreenFullName"
API_PRODUCTION_LISTENER_RULE_ARN = "ApiProductionListenerRuleArn"
API_TEST_LISTENER_RULE_ARN = "ApiTestListenerRuleArn"
API_CERTIFICATE_ARN = "ApiCertificateArn"
ORIGIN_VERIFY_SECRET_ARN = "OriginVerifySecretArn"
API_WEB_ACL_ARN = "ApiWebAclArn"

# Game-data stack outputs.
GAME_DATA_BUCKET_NAME = "GameDataBucketName"
GAME_DATA_BUCKET_ARN = "GameDataBucketArn"
JOBS_CLUSTER_NAME = "JobsClusterName"
MIGRATION_TASK_DEFINITION_ARN = "MigrationTaskDefinitionArn"
MIGRATION_CONTAINER_NAME = "MigrationContainerName"
JOBS_LOG_GROUP_NAME = "JobsLogGroupName"

# Web stack outputs.
SITE_BUCKET_NAME = "SiteBucketName"
SITE_DISTRIBUTION_ID = "SiteDistributionId"
SITE_DISTRIBUTION_DOMAIN_NAME = "SiteDistributionDomainName"
SITE_URL = "SiteUrl"

# App stack outputs.
CLUSTER_NAME = "ClusterName"
SERVICE_NAME = "ServiceName"
OPENAI_API_KEY_SECRET_ARN = "OpenAiApiKeySecretArn"
APP_LOG_GROUP_NAME = "AppLogGroupName"

VALUES: dict[str, Value] = {
    ENVIRONMENT_NAME: Value(
        "String",
        "Environment name (dev, staging, prod); prefixes physical names",
        allowed_pattern=r"^[a-z][a-z0-9-]{1,14}$",
        constraint="2-15 lowercase letters, digits or '-', starting with a letter",
    ),
    RETAIN_STATEFUL_RESOURCES: Value(
        "String",
        "true keeps keys, data and audit logs when the stack deletes or replaces them",
        allowed_values=_TRUE_FALSE,
    ),
    AVAILABILITY_ZONES: Value(
        "List<AWS::EC2::AvailabilityZone::Name>", "The AZs to use, in order (AzCount of them)"
    ),
    AZ_COUNT: Value("String", "How many AZs the network spans", allowed_values=("2", "3")),
    VPC_CIDR: Value("String", "The VPC's IPv4 range", allowed_pattern=_CIDR),
    PUBLIC_TIER_CIDR: Value(
        "String", "The block holding every public subnet", allowed_pattern=_CIDR
    ),
    APP_TIER_CIDR: Value(
        "String", "The block holding every private-app subnet", allowed_pattern=_CIDR
    ),
    DATA_TIER_CIDR: Value(
        "String", "The block holding every private-data subnet", allowed_pattern=_CIDR
    ),
    PUBLIC_SUBNET_CIDRS: Value(
        "CommaDelimitedList", "Public subnet ranges, one per AZ", allowed_pattern=_CIDR
    ),
    PRIVATE_APP_SUBNET_CIDRS: Value(
        "CommaDelimitedList", "Private-app subnet ranges, one per AZ", allowed_pattern=_CIDR
    ),
    PRIVATE_DATA_SUBNET_CIDRS: Value(
        "CommaDelimitedList", "Private-data subnet ranges, one per AZ", allowed_pattern=_CIDR
    ),
    NAT_MODE: Value(
        "String",
        "App-tier egress: no NAT, one for all AZs, one per AZ, or public-ips (no NAT: the app "
        "tier routes to the internet gateway and tasks get public IPv4 addresses)",
        allowed_values=("none", "single", "per-az", "public-ips"),
    ),
    ENDPOINTS_IN_ONE_AZ: Value(
        "String",
        "Interface endpoints in the first AZ only (reached from the others across AZs)",
        allowed_values=_TRUE_FALSE,
    ),
    ENABLE_ECR_ENDPOINTS: Value(
        "String", "Create the ecr.api and ecr.dkr interface endpoints", allowed_values=_TRUE_FALSE
    ),
    ENABLE_LOGS_ENDPOINT: Value(
        "String", "Create the CloudWatch Logs interface endpoint", allowed_values=_TRUE_FALSE
    ),
    ENABLE_SECRETS_MANAGER_ENDPOINT: Value(
        "String", "Create the Secrets Manager interface endpoint", allowed_values=_TRUE_FALSE
    ),
    FLOW_LOG_RETENTION_DAYS: Value(
        "Number", "Days to keep VPC flow logs", allowed_values=VALUES_LOG_RETENTION
    ),
    APP_PORT: Value(
        "Number", "Port the backend container listens on", min_value=1024, max_value=65535
    ),
    CLOUDFRONT_PREFIX_LIST_ID: Value(
        "String",
        "CloudFront origin-facing prefix list the ALB admits; empty opens the ALB to the internet",
        allowed_pattern=r"^(pl-[0-9a-f]{8,17})?$",
    ),
    ALARM_EMAIL: Value(
        "String",
        "E-mail address the alarm topic notifies",
        allowed_pattern=r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
        constraint="an e-mail address",
    ),
    DATABASE_INSTANCE_CLASS: Value(
        "String", "RDS instance class", allowed_pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$"
    ),
    DATABASE_ENGINE_VERSION: Value(
        "String", "MySQL engine version (8.4.x)", allowed_pattern=r"^8\.4\.\d+$"
    ),
    DATABASE_MULTI_AZ: Value("String", "A standby in a second AZ", allowed_values=_TRUE_FALSE),
    DATABASE_ALLOCATED_STORAGE: Value(
        "Number", "Initial gp3 storage (GiB)", min_value=20, max_value=65536
    ),
    DATABASE_MAX_ALLOCATED_STORAGE: Value(
        "Number", "Storage autoscaling ceiling (GiB)", min_value=22, max_value=65536
    ),
    DATABASE_BACKUP_RETENTION_DAYS: Value(
        "Number", "Days of automated backups and point-in-time restore", min_value=1, max_value=35
    ),
    DATABASE_BACKUP_WINDOW: Value(
        "String",
        "Daily backup window (UTC, hh:mm-hh:mm)",
        allowed_pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
    ),
    DATABASE_MAINTENANCE_WINDOW: Value(
        "String",
        "Weekly maintenance window (UTC, ddd:hh:mm-ddd:hh:mm)",
        allowed_pattern=r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-"
        r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$",
    ),
    DATABASE_INSIGHTS_MODE: Value(
        "String",
        "CloudWatch Database Insights: off where the class does not support it",
        allowed_values=("off", "standard", "advanced"),
    ),
    ENABLE_DATABASE_PROXY: Value(
        "String", "Put an RDS Proxy in front of the database", allowed_values=_TRUE_FALSE
    ),
    DATABASE_LOG_RETENTION_DAYS: Value(
        "Number",
        "Days to keep the database's error and slow-query logs",
        allowed_values=VALUES_LOG_RETENTION,
    ),
    DATABASE_SLOW_QUERY_SECONDS: Value(
        "String",
        "long_query_time: slower statements go to the slow-query log",
        allowed_pattern=r"^\d+(\.\d+)?$",
    ),
    DATABASE_SNAPSHOT_IDENTIFIER: Value(
        "String",
        "Snapshot to create the database from (disaster recovery); empty for a new one",
        allowed_pattern=r"^([A-Za-z][A-Za-z0-9:/._-]{0,254})?$",
    ),
    DATABASE_GENERATION: Value(
        "Number",
        "Part of the instance name; raise it to replace the instance from a snapshot",
        min_value=1,
        max_value=99,
    ),
    DATABASE_CPU_ALARM_PERCENT: Value(
        "Number", "CPU alarm threshold (%)", min_value=1, max_value=100
    ),
    DATABASE_CONNECTIONS_ALARM_COUNT: Value(
        "Number",
        "Connections alarm threshold (a share of max_connections)",
        min_value=1,
        max_value=100000,
    ),
    DATABASE_FREE_STORAGE_ALARM_BYTES: Value("Number", "Free storage alarm threshold (bytes)"),
    DATABASE_FREEABLE_MEMORY_ALARM_BYTES: Value(
        "Number", "Freeable memory alarm threshold (bytes)"
    ),
    DATABASE_READ_LATENCY_ALARM_SECONDS: Value(
        "String", "Read latency alarm threshold (seconds)", allowed_pattern=r"^\d+(\.\d+)?$"
    ),
    DATABASE_WRITE_LATENCY_ALARM_SECONDS: Value(
        "String", "Write latency alarm threshold (seconds)", allowed_pattern=r"^\d+(\.\d+)?$"
    ),
    DATABASE_PROXY_CLIENTS_ALARM_COUNT: Value(
        "Number", "RDS Proxy client connections alarm threshold", min_value=1, max_value=1000000
    ),
    SECRET_ROTATION_DAYS: Value(
        "Number",
        "Days between rotations of the app and migration users' passwords",
        min_value=1,
        max_value=365,
    ),
    APP_CPU: Value(
        "Number",
        "Task CPU units (1024 = 1 vCPU)",
        allowed_values=("256", "512", "1024", "2048", "4096"),
    ),
    APP_MEMORY: Value(
        "Number", "Task memory (MiB), valid for the CPU size", min_value=512, max_value=30720
    ),
    APP_ARCHITECTURE: Value(
        "String", "CPU architecture of the image", allowed_values=("ARM64", "X86_64")
    ),
    APP_DESIRED_TASKS: Value("Number", "Tasks the service starts with", min_value=1, max_value=500),
    APP_MIN_TASKS: Value("Number", "Fewest tasks autoscaling keeps", min_value=1, max_value=500),
    APP_MAX_TASKS: Value("Number", "Most tasks autoscaling runs", min_value=1, max_value=500),
    USE_FARGATE_SPOT: Value("String", "Run the tasks on Fargate Spot", allowed_values=_TRUE_FALSE),
    DEPLOYMENT_STRATEGY: Value(
        "String", "How new versions roll out", allowed_values=("ROLLING", "BLUE_GREEN")
    ),
    BAKE_MINUTES: Value(
        "Number", "Blue/green: minutes before the old version goes", min_value=0, max_value=1440
    ),
    CPU_TARGET_PERCENT: Value(
        "Number", "Average CPU autoscaling keeps", min_value=10, max_value=90
    ),
    REQUESTS_PER_TASK_TARGET: Value(
        "Number",
        "ALB requests per task per minute autoscaling keeps",
        min_value=1,
        max_value=1000000,
    ),
    PEAK_START: Value(
        "String",
        "cron() when the game-traffic peak starts; empty for none",
        allowed_pattern=r"^(cron\(.+\))?$",
    ),
    PEAK_END: Value("String", "cron() when the peak ends", allowed_pattern=r"^(cron\(.+\))?$"),
    PEAK_MIN_TASKS: Value("Number", "Fewest tasks during the peak", min_value=0, max_value=500),
    APP_LOG_RETENTION_DAYS: Value(
        "Number", "Days to keep the backend's logs", allowed_values=VALUES_LOG_RETENTION
    ),
    ENABLE_ECS_EXEC: Value(
        "String", "Allow ECS Exec shells into tasks (logged)", allowed_values=_TRUE_FALSE
    ),
    ENABLE_XRAY: Value(
        "String", "Run the ADOT sidecar sending traces to X-Ray", allowed_values=_TRUE_FALSE
    ),
    IMAGE_TAG: Value(
        "String",
        "Backend image tag (a git SHA or release; never latest)",
        allowed_pattern=r"^(?!latest$)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
    ),
    API_BASE_PATH: Value("String", "Path prefix of the API", allowed_pattern=r"^/[a-z0-9/_-]*$"),
    FEATURE_FLAGS: Value(
        "String", "Comma-separated feature flags for the backend", allowed_pattern=r"^[a-z0-9_,-]*$"
    ),
    OPENAI_DAILY_COST_ALARM_USD: Value(
        "Number",
        "Estimated OpenAI spend (USD) over 24 hours that raises an alarm",
        min_value=1,
        max_value=100000,
    ),
    API_DOMAIN: Value("String", "Host name of the API origin (the ALB's certificate)"),
    HOSTED_ZONE_ID: Value(
        "String",
        "Route 53 zone the ALB certificate is validated in; empty to use CertificateArn",
        allowed_pattern=r"^(Z[A-Z0-9]{1,32})?$",
    ),
    CERTIFICATE_ARN: Value(
        "String",
        "An existing ACM certificate for the ALB; empty to issue one",
        allowed_pattern=r"^(arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+)?$",
    ),
    HEALTH_CHECK_PATH: Value(
        "String", "Path the ALB checks each task on", allowed_pattern=r"^/.*$"
    ),
    HEALTH_CHECK_INTERVAL_SECONDS: Value(
        "Number", "Seconds between health checks", min_value=5, max_value=300
    ),
    HEALTH_CHECK_TIMEOUT_SECONDS: Value(
        "Number", "Seconds a health check may take", min_value=2, max_value=120
    ),
    HEALTHY_THRESHOLD: Value(
        "Number", "Passed checks before a task gets traffic", min_value=2, max_value=10
    ),
    UNHEALTHY_THRESHOLD: Value(
        "Number", "Failed checks before a task loses traffic", min_value=2, max_value=10
    ),
    DEREGISTRATION_DELAY_SECONDS: Value(
        "Number",
        "Seconds in-flight requests get before a task is removed",
        min_value=0,
        max_value=3600,
    ),
    ENABLE_REGIONAL_WAF: Value(
        "String",
        "A regional WAF web ACL on the ALB (CloudFront's WAF inspects every request anyway)",
        allowed_values=_TRUE_FALSE,
    ),
    WAF_RATE_LIMIT: Value(
        "Number",
        "Requests per IP in 5 minutes before the WAF blocks it",
        min_value=10,
        max_value=2000000000,
    ),
    WAF_LOG_RETENTION_DAYS: Value(
        "Number", "Days to keep WAF logs", allowed_values=VALUES_LOG_RETENTION
    ),
    ACCESS_LOG_DAYS: Value("Number", "Days to keep ALB access logs", min_value=1, max_value=3650),
    ENABLE_BACKUP_PLAN: Value(
        "String",
        "An AWS Backup plan for the database (daily, kept 35 days)",
        allowed_values=_TRUE_FALSE,
    ),
    BACKUP_COPY_REGION: Value(
        "String",
        "Region the backup plan copies to (its dr-vault stack must exist); empty for none",
        allowed_pattern=r"^([a-z]{2}-[a-z]+-\d)?$",
    ),
    VPC_ID: Value("AWS::EC2::VPC::Id", "The VPC"),
    DEFAULT_SECURITY_GROUP_ID: Value(
        "AWS::EC2::SecurityGroup::Id", "The VPC's default security group (left with no rules)"
    ),
    PUBLIC_SUBNET_IDS: Value("List<AWS::EC2::Subnet::Id>", "Public subnets (ALB, NAT), one per AZ"),
    PRIVATE_APP_SUBNET_IDS: Value(
        "List<AWS::EC2::Subnet::Id>",
        "Private-app subnets (tasks, jobs, RDS Proxy, interface endpoints), one per AZ",
    ),
    PRIVATE_DATA_SUBNET_IDS: Value(
        "List<AWS::EC2::Subnet::Id>", "Private-data subnets (RDS), one per AZ, no internet route"
    ),
    DATA_KEY_ARN: Value("String", "KMS key for data at rest: RDS, data buckets, secrets"),
    LOGS_KEY_ARN: Value("String", "KMS key for CloudWatch Logs log groups"),
    ALB_SECURITY_GROUP_ID: Value("AWS::EC2::SecurityGroup::Id", "Security group of the ALB"),
    APP_SECURITY_GROUP_ID: Value(
        "AWS::EC2::SecurityGroup::Id", "Security group of the backend tasks"
    ),
    DATABASE_SECURITY_GROUP_ID: Value(
        "AWS::EC2::SecurityGroup::Id", "Security group of the database"
    ),
    DATABASE_PROXY_SECURITY_GROUP_ID: Value(
        "AWS::EC2::SecurityGroup::Id", "Security group of the RDS Proxy"
    ),
    JOBS_SECURITY_GROUP_ID: Value(
        "AWS::EC2::SecurityGroup::Id", "Security group of one-off jobs (imports, migrations)"
    ),
    SECRETS_ROTATION_SECURITY_GROUP_ID: Value(
        "AWS::EC2::SecurityGroup::Id", "Security group of the secret rotation Lambda functions"
    ),
    CACHE_SECURITY_GROUP_ID: Value(
        "AWS::EC2::SecurityGroup::Id", "Security group of the Valkey narration cache"
    ),
    FLOW_LOG_GROUP_NAME: Value("String", "Log group receiving the VPC flow logs"),
    ALARM_TOPIC_ARN: Value("String", "SNS topic every alarm of the environment notifies"),
    DATABASE_INSTANCE_ID: Value("String", "RDS instance identifier"),
    DATABASE_ENDPOINT: Value(
        "String", "Host the app connects to: the RDS Proxy where enabled, else the instance"
    ),
    DATABASE_INSTANCE_HOST: Value(
        "String", "Host of the instance itself (the grants step signs in there as the master user)"
    ),
    DATABASE_PORT: Value("String", "MySQL port"),
    DATABASE_MASTER_SECRET_ARN: Value(
        "String", "Secret of the master user, managed and rotated by RDS"
    ),
    DATABASE_APP_SECRET_ARN: Value("String", "Secret of the application user (DML only)"),
    DATABASE_MIGRATION_SECRET_ARN: Value("String", "Secret of the migration user (DDL)"),
    DATABASE_REPORTING_SECRET_ARN: Value("String", "Secret of the reporting user (read only)"),
    API_LOAD_BALANCER_ARN: Value("String", "The API's Application Load Balancer"),
    API_LOAD_BALANCER_DNS_NAME: Value(
        "String", "DNS name of the ALB (CloudFront's API origin points here)"
    ),
    API_LOAD_BALANCER_FULL_NAME: Value("String", "The ALB's name in CloudWatch metrics"),
    API_TARGET_GROUP_BLUE_ARN: Value("String", "Target group the service starts in (blue)"),
    API_TARGET_GROUP_BLUE_FULL_NAME: Value(
        "String", "The blue target group's name in CloudWatch metrics"
    ),
    API_TARGET_GROUP_GREEN_FULL_NAME: Value(
        "String", "The green target group's name in CloudWatch metrics"
    ),
    API_TARGET_GROUP_GREEN_ARN: Value("String", "Target group blue/green deployments shift to"),
    API_PRODUCTION_LISTENER_RULE_ARN: Value("String", "Listener rule carrying production traffic"),
    API_TEST_LISTENER_RULE_ARN: Value("String", "Listener rule for test traffic during blue/green"),
    API_CERTIFICATE_ARN: Value("String", "The ALB's certificate"),
    ORIGIN_VERIFY_SECRET_ARN: Value(
        "String", "Secret header value CloudFront sends and the ALB requires"
    ),
    API_WEB_ACL_ARN: Value(
        "String", "Regional WAF web ACL on the ALB, or none (EnableRegionalWaf false)"
    ),
    GAME_DATA_BUCKET_NAME: Value("String", "Bucket Retrosheet releases are uploaded to"),
    GAME_DATA_BUCKET_ARN: Value("String", "ARN of the Retrosheet releases bucket"),
    JOBS_CLUSTER_NAME: Value("String", "ECS cluster of the import and the database step"),
    MIGRATION_TASK_DEFINITION_ARN: Value(
        "String", "Task definition `playback-infra migrate` runs (Knex, as the migration user)"
    ),
    MIGRATION_CONTAINER_NAME: Value("String", "Container of the migration task definition"),
    JOBS_LOG_GROUP_NAME: Value("String", "Log group of the import and migration tasks"),
    CLUSTER_NAME: Value("String", "ECS cluster of the environment"),
    SERVICE_NAME: Value("String", "ECS service of the backend"),
    OPENAI_API_KEY_SECRET_ARN: Value(
        "String", "Secret holding the OpenAI API key (value set out of band)"
    ),
    APP_LOG_GROUP_NAME: Value("String", "Log group of the backend's containers"),
    BACKUP_VAULT_NAME: Value("String", "AWS Backup vault of the database's backups"),
    SITE_DOMAIN: Value(
        "String",
        "Host name users open (the CloudFront alias and its certificate)",
        allowed_pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        constraint="a lowercase DNS host name like playback.example.com",
    ),
    SITE_HOSTED_ZONE_ID: Value(
        "String",
        "Route 53 zone of SiteDomain (certificate validation, alias records); empty to use SiteExistingCertificateArn",
        allowed_pattern=r"^(Z[A-Z0-9]{1,32})?$",
    ),
    SITE_EXISTING_CERTIFICATE_ARN: Value(
        "String",
        "An existing us-east-1 ACM certificate for SiteDomain; empty to issue one",
        allowed_pattern=r"^(arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+)?$",
        constraint="an ACM certificate ARN in us-east-1, or empty",
    ),
    SITE_PRICE_CLASS: Value(
        "String",
        "CloudFront edge locations served",
        allowed_values=("PriceClass_100", "PriceClass_200", "PriceClass_All"),
    ),
    SITE_ACCESS_LOG_DAYS: Value(
        "Number", "Days CloudFront access logs are kept", min_value=1, max_value=3650
    ),
    SITE_PREVIOUS_VERSIONS_DAYS: Value(
        "Number",
        "Days an overwritten or deleted site file is kept for rollback",
        min_value=1,
        max_value=3650,
    ),
    EDGE_WAF_RATE_LIMIT: Value(
        "Number",
        "Requests one viewer IP may send in any 5 minutes before the edge WAF blocks it",
        min_value=10,
        max_value=2000000000,
    ),
    EDGE_WAF_LOG_RETENTION_DAYS: Value(
        "Number", "Days to keep the edge WAF's logs", allowed_values=VALUES_LOG_RETENTION
    ),
    SITE_CERTIFICATE_ARN: Value(
        "String",
        "CloudFront's certificate for SiteDomain (an edge-global output, us-east-1)",
        allowed_pattern=r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$",
        constraint="the SiteCertificateArn output of this environment's edge-global stack (deploy it first)",
    ),
    SITE_WEB_ACL_ARN: Value(
        "String",
        "CLOUDFRONT-scope WAF web ACL (an edge-global output, us-east-1)",
        allowed_pattern=r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/.+$",
        constraint="the SiteWebAclArn output of this environment's edge-global stack (deploy it first)",
    ),
    SITE_BUCKET_NAME: Value("String", "Bucket the frontend pipeline syncs the built SPA to"),
    SITE_DISTRIBUTION_ID: Value(
        "String", "CloudFront distribution the frontend pipeline invalidates"
    ),
    SITE_DISTRIBUTION_DOMAIN_NAME: Value(
        "String", "The distribution's own host name (dxxxx.cloudfront.net)"
    ),
    SITE_URL: Value("String", "Where users open the site"),
    MONTHLY_BUDGET_USD: Value(
        "Number",
        "The environment's monthly AWS budget (USD)",
        min_value=10,
        max_value=1000000,
    ),
    API_LATENCY_ALARM_SECONDS: Value(
        "String",
        "The API's p95 latency (s) that pages when held for 5 minutes",
        allowed_pattern=r"^\d{1,2}(\.\d{1,3})?$",
        constraint="seconds, e.g. 0.8",
    ),
    API_ERROR_RATE_ALARM_PERCENT: Value(
        "Number", "Share (%) of API requests answered 5xx that pages", min_value=1, max_value=100
    ),
    CANARY_SCHEDULE: Value(
        "String",
        "How often the site canary runs: a Synthetics rate() of minutes",
        allowed_pattern=r"^rate\((1 minute|([2-9]|[1-5]\d|60) minutes)\)$",
        constraint="rate(1 minute) or rate(N minutes) with N from 2 to 60",
    ),
    CANARY_PERIOD_SECONDS: Value(
        "Number",
        "The site canary's interval in seconds: the period its alarm judges",
        min_value=60,
        max_value=3600,
    ),
    TRACE_SAMPLING_PERCENT: Value(
        "Number",
        "Share (%) of error-free traces the ADOT sidecar keeps; it keeps every trace with an error",
        min_value=1,
        max_value=100,
    ),
    APP_ERROR_ALARM_COUNT: Value(
        "Number",
        "Backend error log lines in 5 minutes that page",
        min_value=1,
        max_value=100000,
    ),
    ENABLE_CACHE: Value(
        "String",
        "Create the ElastiCache Serverless (Valkey) narration cache",
        allowed_values=_TRUE_FALSE,
    ),
    CACHE_URL: Value(
        "String", "rediss:// URL of the narration cache's primary endpoint; empty without one"
    ),
    JOBS_IMAGE_TAG: Value(
        "String",
        "Jobs image tag (importer and migrations; a git SHA or release, never latest)",
        allowed_pattern=r"^(?!latest$)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
    ),
    IMPORT_CPU: Value(
        "String",
        "The import task's CPU units",
        allowed_values=("256", "512", "1024", "2048", "4096"),
    ),
    IMPORT_MEMORY: Value(
        "Number", "The import task's memory (MiB)", min_value=512, max_value=30720
    ),
    JOBS_LOG_RETENTION_DAYS: Value(
        "Number", "Days to keep the jobs' logs", allowed_values=VALUES_LOG_RETENTION
    ),
}


def consume(template: Template, *names: str) -> None:
    """Declare parameters for values this stack takes from the root (a name the template
    already has stays as it is: a stack's parts may each say what they consume)."""
    for name in names:
        if name in template.parameters:
            continue
        value = VALUES[name]
        parameter = Parameter(name, Type=value.type, Description=value.description)
        if value.allowed_values:
            parameter.AllowedValues = list(value.allowed_values)
        if value.allowed_pattern:
            parameter.AllowedPattern = value.allowed_pattern
            parameter.ConstraintDescription = (
                value.constraint or f"must match {value.allowed_pattern}"
            )
        if value.min_value is not None:
            parameter.MinValue = value.min_value
            parameter.MaxValue = value.max_value
        template.add_parameter(parameter)


def produce(template: Template, name: str, value: object) -> None:
    """Declare an output under the value's one name."""
    template.add_output(Output(name, Description=VALUES[name].description, Value=value))
