"""The app stack: the backend on ECS Fargate behind the ingress stack's ALB.

- A cluster with Container Insights (enhanced) and the Fargate and Fargate Spot capacity
  providers; Spot only where the environment allows it (dev).
- One task definition of the environment's image architecture (ARM64 by default), read-only
  root filesystem with a writable /tmp, non-root user, the image from this account's ECR by an
  immutable tag, configuration in environment variables and credentials injected from Secrets Manager (the database app user,
  the OpenAI API key, whose value is set out of band), logs to a KMS-encrypted log group, a
  container health check, and an ADOT sidecar for X-Ray where enabled.
- The service in the private-app subnets, with public IPs only where the environment has no
  NAT (NatMode public-ips: the app tier routes to the internet gateway). Rolling deployments
  have the circuit breaker and alarm rollback (target 5xx, unhealthy hosts); ECS native blue/green
  shifts the ingress stack's listener rules between the blue and green target groups after a
  test rule reached the new tasks, then bakes. A task that cannot get healthy fails the
  deployment within minutes (health check grace 30 s, ALB checks every 10 s).
- Target tracking on CPU and on ALB requests per running task (both target groups' requests,
  so the signal exists whichever colour is live), and scheduled scaling for game peaks.
"""

from __future__ import annotations

from pathlib import Path

from awacs import cloudwatch, logs, ssmmessages, xray
from awacs.aws import Allow, Condition, Policy, Statement, StringEquals
from troposphere import (
    Equals,
    GetAtt,
    If,
    Join,
    Not,
    NoValue,
    Ref,
    Sub,
    Template,
)
from troposphere.applicationautoscaling import (
    CustomizedMetricSpecification,
    PredefinedMetricSpecification,
    ScalableTarget,
    ScalableTargetAction,
    ScalingPolicy,
    ScheduledAction,
    TargetTrackingMetric,
    TargetTrackingMetricDataQuery,
    TargetTrackingMetricDimension,
    TargetTrackingMetricStat,
    TargetTrackingScalingPolicyConfiguration,
)
from troposphere.cloudwatch import Alarm, MetricDimension
from troposphere.ecs import (
    AdvancedConfiguration,
    AwsvpcConfiguration,
    CapacityProviderStrategy,
    CapacityProviderStrategyItem,
    Cluster,
    ClusterCapacityProviderAssociations,
    ClusterConfiguration,
    ClusterSetting,
    ContainerDefinition,
    DeploymentAlarms,
    DeploymentCircuitBreaker,
    DeploymentConfiguration,
    ExecuteCommandConfiguration,
    ExecuteCommandLogConfiguration,
    HealthCheck,
    LinuxParameters,
    LoadBalancer,
    MountPoint,
    NetworkConfiguration,
    PortMapping,
    RuntimePlatform,
    Service,
    TaskDefinition,
    Volume,
)
from troposphere.ecs import (
    Environment as EnvironmentVariable,
)
from troposphere.ecs import (
    Secret as ContainerSecret,
)
from troposphere.iam import PolicyType as PolicyResource
from troposphere.iam import Role
from troposphere.logs import LogGroup
from troposphere.secretsmanager import GenerateSecretString, Secret

from playback_infra.parts import values
from playback_infra.parts.alarms import paging_alarm
from playback_infra.parts.ec2 import add_public_ip_condition, assign_public_ip
from playback_infra.parts.ecs import (
    awslogs,
    image_uri,
    pull_and_log,
    read_bucket,
    read_secrets,
    task_role,
)
from playback_infra.parts.iam import assumable_by
from playback_infra.parts.metrics import METRICS_NAMESPACE
from playback_infra.parts.names import TRACED_SERVICE_NAME
from playback_infra.parts.template import (
    add_retain_condition,
    logs_key_log_group,
    new_template,
    stateful,
    tag_component,
)
from playback_infra.stacks.app import openai_usage
from playback_infra.stacks.app.secret_redeploy import add_redeploy_on_secret_change

COMPONENT = "app"
CONTAINER = "backend"
REPOSITORY = "baseball-playback/backend"
BLUE_GREEN = "BlueGreen"
USE_SPOT = "UseSpot"
XRAY_ON = "XRayOn"
HAS_PEAK = "HasPeak"
ECS_EXEC = "EcsExecOn"
# The AWS Distro for OpenTelemetry collector, pinned; it forwards traces to X-Ray, keeping
# every trace with an error and the environment's share of the rest (its configuration).
ADOT_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
ADOT_CONFIG = Path(__file__).with_name("adot") / "collector.yaml"
# The container's own check; node is in the image, curl and wget may not be.
HEALTH_COMMAND = (
    "node -e \"require('http').get('http://127.0.0.1:'+process.env.PORT+process.env.API_BASE_PATH"
    "+'/health',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))\""
)


def build() -> Template:
    t = new_template(
        "app (ECS Fargate backend, autoscaling, deployments)", language_extensions=True
    )
    values.consume(
        t,
        values.ENVIRONMENT_NAME,
        values.PRIVATE_APP_SUBNET_IDS,
        values.APP_SECURITY_GROUP_ID,
        values.LOGS_KEY_ARN,
        values.DATA_KEY_ARN,
        values.ALARM_TOPIC_ARN,
        values.APP_PORT,
        values.DATABASE_ENDPOINT,
        values.DATABASE_PORT,
        values.DATABASE_APP_SECRET_ARN,
        values.GAME_DATA_BUCKET_ARN,
        values.API_TARGET_GROUP_BLUE_ARN,
        values.API_TARGET_GROUP_GREEN_ARN,
        values.API_TARGET_GROUP_BLUE_FULL_NAME,
        values.API_TARGET_GROUP_GREEN_FULL_NAME,
        values.API_LOAD_BALANCER_FULL_NAME,
        values.API_PRODUCTION_LISTENER_RULE_ARN,
        values.API_TEST_LISTENER_RULE_ARN,
        values.APP_CPU,
        values.APP_MEMORY,
        values.IMAGE_ARCHITECTURE,
        values.APP_DESIRED_TASKS,
        values.APP_MIN_TASKS,
        values.APP_MAX_TASKS,
        values.USE_FARGATE_SPOT,
        values.DEPLOYMENT_STRATEGY,
        values.BAKE_MINUTES,
        values.CPU_TARGET_PERCENT,
        values.REQUESTS_PER_TASK_TARGET,
        values.PEAK_START,
        values.PEAK_END,
        values.PEAK_MIN_TASKS,
        values.APP_LOG_RETENTION_DAYS,
        values.ENABLE_ECS_EXEC,
        values.ENABLE_XRAY,
        values.TRACE_SAMPLING_PERCENT,
        values.IMAGE_TAG,
        values.API_BASE_PATH,
        values.FEATURE_FLAGS,
        values.CACHE_URL,
    )
    add_retain_condition(t)
    t.add_condition(BLUE_GREEN, Equals(Ref(values.DEPLOYMENT_STRATEGY), "BLUE_GREEN"))
    t.add_condition(USE_SPOT, Equals(Ref(values.USE_FARGATE_SPOT), "true"))
    t.add_condition(XRAY_ON, Equals(Ref(values.ENABLE_XRAY), "true"))
    add_public_ip_condition(t)
    t.add_condition(ECS_EXEC, Equals(Ref(values.ENABLE_ECS_EXEC), "true"))
    t.add_condition(HAS_PEAK, Not(Equals(Ref(values.PEAK_START), "")))

    openai_secret = t.add_resource(
        stateful(
            Secret(
                "OpenAiApiKeySecret",
                Description=Sub(
                    f"Baseball Playback ${{{values.ENVIRONMENT_NAME}}}: OpenAI API key. Set the value with "
                    "aws secretsmanager put-secret-value; the generated one is not a key."
                ),
                KmsKeyId=Ref(values.DATA_KEY_ARN),
                # A random stand-in until an operator puts the real key: never in a template.
                GenerateSecretString=GenerateSecretString(
                    PasswordLength=32, ExcludePunctuation=True
                ),
            )
        )
    )
    log_group = t.add_resource(logs_key_log_group("AppLogGroup", values.APP_LOG_RETENTION_DAYS))
    cluster = _add_cluster(t, log_group)
    execution_role, task_role = _add_roles(t, log_group, openai_secret)
    task = _add_task_definition(t, execution_role, task_role, log_group, openai_secret)
    alarms = _add_deployment_alarms(t)
    openai_usage.add_alarms(t)
    service = _add_service(t, cluster, task, alarms)
    _add_scaling(t, cluster, service)
    add_redeploy_on_secret_change(
        t, [openai_secret, Ref(values.DATABASE_APP_SECRET_ARN)], cluster, service
    )

    values.produce(t, values.CLUSTER_NAME, Ref(cluster))
    values.produce(t, values.SERVICE_NAME, GetAtt(service, "Name"))
    values.produce(t, values.OPENAI_API_KEY_SECRET_ARN, Ref(openai_secret))
    values.produce(t, values.APP_LOG_GROUP_NAME, Ref(log_group))
    tag_component(t, COMPONENT)
    return t


def _add_cluster(t: Template, log_group: LogGroup) -> Cluster:
    cluster = t.add_resource(
        Cluster(
            "Cluster",
            ClusterName=Sub(f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}"),
            ClusterSettings=[ClusterSetting(Name="containerInsights", Value="enhanced")],
            # Every ECS Exec session (when switched on) is recorded in the app's log group.
            Configuration=ClusterConfiguration(
                ExecuteCommandConfiguration=ExecuteCommandConfiguration(
                    Logging="OVERRIDE",
                    LogConfiguration=ExecuteCommandLogConfiguration(
                        CloudWatchLogGroupName=Ref(log_group), CloudWatchEncryptionEnabled=True
                    ),
                )
            ),
        )
    )
    t.add_resource(
        ClusterCapacityProviderAssociations(
            "ClusterCapacityProviders",
            Cluster=Ref(cluster),
            CapacityProviders=["FARGATE", "FARGATE_SPOT"],
            DefaultCapacityProviderStrategy=[
                CapacityProviderStrategy(CapacityProvider="FARGATE", Weight=1)
            ],
        )
    )
    return cluster


def _add_roles(t: Template, log_group: LogGroup, openai_secret: Secret) -> tuple[Role, Role]:
    injected = [Ref(values.DATABASE_APP_SECRET_ARN), Ref(openai_secret)]
    execution = t.add_resource(
        task_role(
            "TaskExecutionRole",
            "Starts the backend's tasks: pulls the image, writes logs, injects the secrets",
            [
                *pull_and_log(REPOSITORY, GetAtt(log_group, "Arn")),
                *read_secrets(injected, Ref(values.DATA_KEY_ARN)),
            ],
        )
    )
    task = t.add_resource(
        task_role(
            "TaskRole",
            "The backend's own AWS access: game data (read), traces, metrics, ECS Exec if on",
            [
                *read_bucket(Ref(values.GAME_DATA_BUCKET_ARN), Ref(values.DATA_KEY_ARN)),
                # X-Ray and PutMetricData have no resource-level permissions (checks/iam.py).
                Statement(
                    Effect=Allow,
                    Action=[
                        xray.PutTraceSegments,
                        xray.PutTelemetryRecords,
                    ],
                    Resource=["*"],
                ),
                Statement(
                    Effect=Allow,
                    Action=[cloudwatch.PutMetricData],
                    Resource=["*"],
                    Condition=Condition(StringEquals("cloudwatch:namespace", METRICS_NAMESPACE)),
                ),
            ],
        )
    )
    t.add_resource(
        PolicyResource(
            "EcsExecPolicy",
            Condition=ECS_EXEC,
            PolicyName="ecs-exec",
            Roles=[Ref(task)],
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    # Session Manager channels have no resource-level permissions (checks/iam.py).
                    Statement(
                        Effect=Allow,
                        Action=[
                            ssmmessages.CreateControlChannel,
                            ssmmessages.CreateDataChannel,
                            ssmmessages.OpenControlChannel,
                            ssmmessages.OpenDataChannel,
                        ],
                        Resource=["*"],
                    ),
                    Statement(
                        Effect=Allow,
                        Action=[logs.CreateLogStream, logs.PutLogEvents, logs.DescribeLogStreams],
                        Resource=[GetAtt(log_group, "Arn")],
                    ),
                ],
            ),
        )
    )
    return execution, task


def _add_task_definition(
    t: Template, execution: Role, task: Role, log_group: LogGroup, openai_secret: Secret
) -> TaskDefinition:
    log_configuration = awslogs(
        log_group,
        CONTAINER,
        mode="non-blocking",  # a slow log pipe never stalls the event loop
        **{"max-buffer-size": "4m"},
    )
    app_secret = Ref(values.DATABASE_APP_SECRET_ARN)

    def backend(otel_endpoint: str) -> ContainerDefinition:
        """The backend container; it sends traces to the sidecar where there is one."""
        return ContainerDefinition(
            Name=CONTAINER,
            Image=image_uri(REPOSITORY, values.IMAGE_TAG),
            Essential=True,
            User="1000:1000",  # the node user of the official images, never root
            # ECS Exec's agent needs a writable root: only while exec is switched on.
            ReadonlyRootFilesystem=If(ECS_EXEC, False, True),
            PortMappings=[PortMapping(ContainerPort=Ref(values.APP_PORT), Protocol="tcp")],
            Environment=[
                EnvironmentVariable(Name=name, Value=value)
                for name, value in (
                    ("NODE_ENV", "production"),
                    # The EMF dimension of every metric (docs/openai-integration.md).
                    ("ENVIRONMENT_NAME", Ref(values.ENVIRONMENT_NAME)),
                    ("PORT", Ref(values.APP_PORT)),
                    ("API_BASE_PATH", Ref(values.API_BASE_PATH)),
                    ("FEATURE_FLAGS", Ref(values.FEATURE_FLAGS)),
                    ("DB_HOST", Ref(values.DATABASE_ENDPOINT)),
                    ("DB_PORT", Ref(values.DATABASE_PORT)),
                    ("DB_SSL", "true"),
                    ("METRICS_NAMESPACE", METRICS_NAMESPACE),
                    # The narration cache (rediss://, TLS), or empty: the table alone.
                    ("CACHE_URL", Ref(values.CACHE_URL)),
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", otel_endpoint),
                    # Every trace goes to the sidecar, which decides once it is complete.
                    ("OTEL_TRACES_SAMPLER", "parentbased_always_on" if otel_endpoint else ""),
                    # The X-Ray service name the sampling rule and group select.
                    ("OTEL_SERVICE_NAME", Sub(TRACED_SERVICE_NAME)),
                )
            ],
            # Injected at start by the execution role; the task role cannot read them.
            Secrets=[
                ContainerSecret(
                    Name="DB_USER", ValueFrom=Sub("${Secret}:username::", Secret=app_secret)
                ),
                ContainerSecret(
                    Name="DB_PASSWORD", ValueFrom=Sub("${Secret}:password::", Secret=app_secret)
                ),
                ContainerSecret(Name="OPENAI_API_KEY", ValueFrom=Ref(openai_secret)),
            ],
            MountPoints=[MountPoint(SourceVolume="tmp", ContainerPath="/tmp", ReadOnly=False)],
            HealthCheck=HealthCheck(
                Command=["CMD-SHELL", HEALTH_COMMAND],
                Interval=15,
                Timeout=5,
                Retries=3,
                StartPeriod=20,
            ),
            LinuxParameters=LinuxParameters(InitProcessEnabled=True),  # ECS Exec needs an init
            StopTimeout=30,
            LogConfiguration=log_configuration,
        )

    sidecar = ContainerDefinition(
        Name="adot-collector",
        Image=ADOT_IMAGE,
        Essential=False,  # tracing must never take the backend down
        User="10001",
        ReadonlyRootFilesystem=True,
        Environment=[
            EnvironmentVariable(Name="AOT_CONFIG_CONTENT", Value=Sub(ADOT_CONFIG.read_text()))
        ],
        LogConfiguration=log_configuration,
    )
    return t.add_resource(
        TaskDefinition(
            "TaskDefinition",
            Family=Sub(f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-backend"),
            Cpu=Ref(values.APP_CPU),
            Memory=Ref(values.APP_MEMORY),
            NetworkMode="awsvpc",
            RequiresCompatibilities=["FARGATE"],
            RuntimePlatform=RuntimePlatform(
                CpuArchitecture=Ref(values.IMAGE_ARCHITECTURE), OperatingSystemFamily="LINUX"
            ),
            ExecutionRoleArn=GetAtt(execution, "Arn"),
            TaskRoleArn=GetAtt(task, "Arn"),
            Volumes=[Volume(Name="tmp")],
            ContainerDefinitions=If(
                XRAY_ON, [backend("http://127.0.0.1:4318"), sidecar], [backend("")]
            ),
        )
    )


# Blue/green alternates the target group that serves production, so whatever watches or
# scales on one target group exists for both.
TARGET_GROUPS = {
    "Blue": values.API_TARGET_GROUP_BLUE_FULL_NAME,
    "Green": values.API_TARGET_GROUP_GREEN_FULL_NAME,
}


def _alarm(
    t: Template,
    title: str,
    metric: str,
    statistic: str,
    threshold: int,
    dimensions: list,
    description: str,
) -> Alarm:
    return t.add_resource(
        paging_alarm(
            title,
            description,
            Namespace="AWS/ApplicationELB",
            MetricName=metric,
            Dimensions=dimensions,
            Statistic=statistic,
            Period=60,
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Threshold=threshold,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
        )
    )


def _add_deployment_alarms(t: Template) -> list[Alarm]:
    """The alarms that roll a deployment back (and page): 5xx from the tasks, unhealthy hosts."""
    load_balancer = MetricDimension(
        Name="LoadBalancer", Value=Ref(values.API_LOAD_BALANCER_FULL_NAME)
    )
    alarms = [
        _alarm(
            t, "ApiTarget5xxAlarm", "HTTPCode_Target_5XX_Count", "Sum", 10, [load_balancer],
            "The backend answered 10 or more 5xx a minute, twice in 3 minutes. During a deployment "
            "ECS rolls back; otherwise check the backend's logs and the database alarms first.",
        )
    ]  # fmt: skip
    for colour, full_name in TARGET_GROUPS.items():
        alarms.append(
            _alarm(
                t, f"ApiUnhealthyHosts{colour}Alarm", "UnHealthyHostCount", "Maximum", 1,
                [load_balancer, MetricDimension(Name="TargetGroup", Value=Ref(full_name))],
                f"A backend task in the {colour.lower()} target group fails the ALB health check. "
                "Check the task's stopped reason and its logs (database reachability, secrets) first.",
            )
        )  # fmt: skip
    return alarms


def _add_service(
    t: Template, cluster: Cluster, task: TaskDefinition, alarms: list[Alarm]
) -> Service:
    infrastructure = t.add_resource(
        Role(
            "BlueGreenInfrastructureRole",
            Condition=BLUE_GREEN,
            Description="Lets ECS move the ALB listener rules during blue/green deployments",
            AssumeRolePolicyDocument=assumable_by("ecs.amazonaws.com"),
            ManagedPolicyArns=[
                Sub(
                    "arn:${AWS::Partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
                )
            ],
        )
    )
    load_balancer = LoadBalancer(
        ContainerName=CONTAINER,
        ContainerPort=Ref(values.APP_PORT),
        TargetGroupArn=Ref(values.API_TARGET_GROUP_BLUE_ARN),
        AdvancedConfiguration=If(
            BLUE_GREEN,
            AdvancedConfiguration(
                AlternateTargetGroupArn=Ref(values.API_TARGET_GROUP_GREEN_ARN),
                ProductionListenerRule=Ref(values.API_PRODUCTION_LISTENER_RULE_ARN),
                TestListenerRule=Ref(values.API_TEST_LISTENER_RULE_ARN),
                RoleArn=GetAtt(infrastructure, "Arn"),
            ),
            NoValue,
        ),
    )
    return t.add_resource(
        Service(
            "Service",
            DependsOn=["ClusterCapacityProviders"],
            Cluster=Ref(cluster),
            ServiceName=Sub(f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-backend"),
            TaskDefinition=Ref(task),
            DesiredCount=Ref(values.APP_DESIRED_TASKS),
            CapacityProviderStrategy=If(
                USE_SPOT,
                [CapacityProviderStrategyItem(CapacityProvider="FARGATE_SPOT", Weight=1)],
                [CapacityProviderStrategyItem(CapacityProvider="FARGATE", Weight=1)],
            ),
            PlatformVersion="LATEST",
            NetworkConfiguration=NetworkConfiguration(
                AwsvpcConfiguration=AwsvpcConfiguration(
                    Subnets=Ref(values.PRIVATE_APP_SUBNET_IDS),
                    SecurityGroups=[Ref(values.APP_SECURITY_GROUP_ID)],
                    AssignPublicIp=assign_public_ip(),
                )
            ),
            LoadBalancers=[load_balancer],
            HealthCheckGracePeriodSeconds=30,
            DeploymentConfiguration=DeploymentConfiguration(
                Strategy=Ref(values.DEPLOYMENT_STRATEGY),
                BakeTimeInMinutes=If(BLUE_GREEN, Ref(values.BAKE_MINUTES), NoValue),
                MaximumPercent=200,
                MinimumHealthyPercent=100,
                # Both failure detectors work with rolling and blue/green deployments
                # (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-failure-detection.html).
                DeploymentCircuitBreaker=DeploymentCircuitBreaker(Enable=True, Rollback=True),
                Alarms=DeploymentAlarms(
                    AlarmNames=[Ref(alarm) for alarm in alarms], Enable=True, Rollback=True
                ),
            ),
            EnableExecuteCommand=If(ECS_EXEC, True, False),
            PropagateTags="SERVICE",
            EnableECSManagedTags=True,
        )
    )


def _add_scaling(t: Template, cluster: Cluster, service: Service) -> None:
    target = t.add_resource(
        ScalableTarget(
            "ServiceScalableTarget",
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Join("/", ["service", Ref(cluster), GetAtt(service, "Name")]),
            MinCapacity=Ref(values.APP_MIN_TASKS),
            MaxCapacity=Ref(values.APP_MAX_TASKS),
            ScheduledActions=If(
                HAS_PEAK,
                [
                    ScheduledAction(
                        ScheduledActionName="game-peak-start",
                        Schedule=Ref(values.PEAK_START),
                        ScalableTargetAction=ScalableTargetAction(
                            MinCapacity=Ref(values.PEAK_MIN_TASKS),
                            MaxCapacity=Ref(values.APP_MAX_TASKS),
                        ),
                    ),
                    ScheduledAction(
                        ScheduledActionName="game-peak-end",
                        Schedule=Ref(values.PEAK_END),
                        ScalableTargetAction=ScalableTargetAction(
                            MinCapacity=Ref(values.APP_MIN_TASKS),
                            MaxCapacity=Ref(values.APP_MAX_TASKS),
                        ),
                    ),
                ],
                NoValue,
            ),
        )
    )
    t.add_resource(
        ScalingPolicy(
            "CpuScalingPolicy",
            PolicyName="cpu",
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(target),
            TargetTrackingScalingPolicyConfiguration=TargetTrackingScalingPolicyConfiguration(
                PredefinedMetricSpecification=PredefinedMetricSpecification(
                    PredefinedMetricType="ECSServiceAverageCPUUtilization"
                ),
                TargetValue=Ref(values.CPU_TARGET_PERCENT),
                ScaleInCooldown=300,
                ScaleOutCooldown=60,
            ),
        )
    )
    t.add_resource(
        ScalingPolicy(
            "RequestsScalingPolicy",
            PolicyName="alb-requests-per-task",
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(target),
            TargetTrackingScalingPolicyConfiguration=TargetTrackingScalingPolicyConfiguration(
                CustomizedMetricSpecification=_requests_per_task(cluster, service),
                TargetValue=Ref(values.REQUESTS_PER_TASK_TARGET),
                ScaleInCooldown=300,
                ScaleOutCooldown=60,
            ),
        )
    )


def _requests_per_task(cluster: Cluster, service: Service) -> CustomizedMetricSpecification:
    """ALB requests a minute per running task, whichever target group serves production.

    One policy per target group would leave the idle colour's without data (the ALB publishes
    RequestCount for a target group only while it gets requests), and a policy without data
    never agrees to scale in, while Application Auto Scaling scales in only to the largest
    capacity any policy asks for
    (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html,
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html).
    So one metric-math signal: both colours' requests, each FILLed with 0 where it has no data
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html),
    over Container Insights' running task count
    (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html).
    """
    load_balancer = TargetTrackingMetricDimension(
        Name="LoadBalancer", Value=Ref(values.API_LOAD_BALANCER_FULL_NAME)
    )

    def metric(query_id: str, namespace: str, name: str, statistic: str, dimensions: list):
        return TargetTrackingMetricDataQuery(
            Id=query_id,
            MetricStat=TargetTrackingMetricStat(
                Metric=TargetTrackingMetric(
                    Namespace=namespace, MetricName=name, Dimensions=dimensions
                ),
                Stat=statistic,
            ),
            ReturnData=False,
        )

    requests = [
        metric(
            colour.lower(), "AWS/ApplicationELB", "RequestCount", "Sum",
            [load_balancer, TargetTrackingMetricDimension(Name="TargetGroup", Value=Ref(full_name))],
        )
        for colour, full_name in TARGET_GROUPS.items()
    ]  # fmt: skip
    tasks = metric(
        "tasks", "ECS/ContainerInsights", "RunningTaskCount", "Average",
        [
            TargetTrackingMetricDimension(Name="ClusterName", Value=Ref(cluster)),
            TargetTrackingMetricDimension(Name="ServiceName", Value=GetAtt(service, "Name")),
        ],
    )  # fmt: skip
    filled = " + ".join(f"FILL({query.Id}, 0)" for query in requests)
    return CustomizedMetricSpecification(
        Metrics=[
            *requests,
            tasks,
            TargetTrackingMetricDataQuery(
                Id="requests_per_task",
                Expression=f"({filled}) / tasks",
                Label="ALB requests per running task",
                ReturnData=True,
            ),
        ]
    )
