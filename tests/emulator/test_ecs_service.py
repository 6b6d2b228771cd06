"""Deploy the app stack (templates/app.yaml) into ministack with the plugin (emulator/ecs_service.py
and the modules beside it), and read it back through ECS, Application Auto Scaling, IAM,
CloudWatch Logs and Secrets Manager.

The app template is deployed as it ships, nested under ``AWS::LanguageExtensions`` in a parent
that makes what it takes from the other stacks: a VPC with two subnets and the tasks' security
group, the data and logs keys, the alarm topic, the database's app secret, and an ALB with a
blue and a green target group and a test and a production listener rule, as the ingress stack
has them. It is deployed rolling on Fargate Spot with the X-Ray sidecar (as dev) and blue/green
with ECS Exec and the game-peak schedule (as prod), updated and deleted. The smaller tests take
the plugin's ECS pieces on their own. One emulator serves the module; each test deploys its own
stacks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import (
    ACCOUNT,
    DESIRED,
    REGION,
    deploy,
    ecs_template,
    error_code,
    failure_reasons,
    nested_stack_id,
    new_stack_name,
    outputs_of,
    put_template,
    update,
    wait_stack,
)
from tests.stacks.helpers import getatt, ref

pytestmark = pytest.mark.emulator


APP = Path(__file__).resolve().parents[2] / "templates" / "app.yaml"
PORT = 3000
SERVICE_LINKED_ROLE = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_ECSService"
)
PEAK_START, PEAK_END = "cron(30 21 * * ? *)", "cron(0 6 * * ? *)"


def app_parameters(**changes) -> dict:
    """The nested stack's own parameters (those naming the parent's resources come from the
    parent), as dev has them; ``changes`` win."""
    return {
        "ApiBasePath": "/api",
        "AppArchitecture": "ARM64",
        "AppCpu": "512",
        "AppDesiredTasks": "2",
        "AppLogRetentionDays": "30",
        "AppMaxTasks": "4",
        "AppMemory": "1024",
        "AppMinTasks": "1",
        "AppPort": str(PORT),
        "CacheUrl": "",
        "BakeMinutes": "5",
        "CpuTargetPercent": "60",
        "DatabaseEndpoint": "db.playback.internal",
        "DatabasePort": "3306",
        "GameDataBucketArn": "arn:aws:s3:::baseball-playback-dev-retrosheet",
        "DeploymentStrategy": "ROLLING",
        "EnableEcsExec": "false",
        "EnableXRay": "true",
        "EnvironmentName": "dev",
        "FeatureFlags": "replay,stats",
        "ImageTag": "bootstrap",
        "NatMode": "single",
        "OpenAiDailyCostAlarmUsd": "5",
        "PeakEnd": "",
        "PeakMinTasks": "0",
        "PeakStart": "",
        "RequestsPerTaskTarget": "200",
        "RetainStatefulResources": "false",
        "TraceSamplingPercent": "50",
        "UseFargateSpot": "true",
        **changes,
    }


def target_group():
    return {
        "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Properties": {
            "Port": PORT,
            "Protocol": "HTTP",
            "TargetType": "ip",
            "VpcId": ref("Vpc"),
            "HealthCheckPath": "/api/health",
        },
    }


def listener_rule(priority, conditions):
    """A rule of the listener forwarding to blue, as the ingress stack's."""
    return {
        "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
        "Properties": {
            "ListenerArn": ref("Listener"),
            "Priority": priority,
            "Actions": [{"Type": "forward", "TargetGroupArn": ref("Blue")}],
            "Conditions": conditions,
        },
    }


def parent_template(url, parameters, declared) -> str:
    """The parent: what the app stack takes from the network, security, data, alerts and
    ingress stacks, and the app stack at ``url`` with those of its ``declared`` parameters."""
    key = {
        "Type": "AWS::KMS::Key",
        "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": []}},
    }
    test_header = {"HttpHeaderName": "X-Playback-Test-Traffic", "Values": ["true"]}
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.60.0.0/16"}},
        "SgApp": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "app", "VpcId": ref("Vpc")},
        },
        "DataKey": key,
        "LogsKey": key,
        "AlarmTopic": {"Type": "AWS::SNS::Topic"},
        "AppSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "KmsKeyId": getatt("DataKey", "Arn"),
                "SecretString": json.dumps({"username": "playback_app", "password": "pw"}),
            },
        },
        "Alb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Subnets": [ref("SubnetA"), ref("SubnetB")]},
        },
        "Blue": target_group(),
        "Green": target_group(),
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": ref("Alb"),
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": [
                    {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403"}}
                ],
            },
        },
        "TestRule": listener_rule(1, [{"Field": "http-header", "HttpHeaderConfig": test_header}]),
        "ProductionRule": listener_rule(
            10, [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}]
        ),
        "App": {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {
                "TemplateURL": url,
                "Parameters": {
                    **parameters,
                    "AlarmTopicArn": ref("AlarmTopic"),
                    "ApiLoadBalancerFullName": getatt("Alb", "LoadBalancerFullName"),
                    "ApiProductionListenerRuleArn": ref("ProductionRule"),
                    "ApiTargetGroupBlueArn": ref("Blue"),
                    "ApiTargetGroupBlueFullName": getatt("Blue", "TargetGroupFullName"),
                    "ApiTargetGroupGreenArn": ref("Green"),
                    "ApiTargetGroupGreenFullName": getatt("Green", "TargetGroupFullName"),
                    "ApiTestListenerRuleArn": ref("TestRule"),
                    "AppSecurityGroupId": ref("SgApp"),
                    "DataKeyArn": getatt("DataKey", "Arn"),
                    "DatabaseAppSecretArn": ref("AppSecret"),
                    "LogsKeyArn": getatt("LogsKey", "Arn"),
                    "PrivateAppSubnetIds": {"Fn::Join": [",", [ref("SubnetA"), ref("SubnetB")]]},
                },
            },
        },
    }
    app = resources["App"]["Properties"]
    app["Parameters"] = {k: v for k, v in app["Parameters"].items() if k in declared}
    for index, suffix in enumerate("ab"):
        resources[f"Subnet{suffix.upper()}"] = {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": ref("Vpc"),
                "CidrBlock": f"10.60.{index}.0/24",
                "AvailabilityZone": f"{REGION}{suffix}",
            },
        }
    outputs = {
        name: {"Value": ref(name)}
        for name in (
            "SubnetA",
            "SubnetB",
            "SgApp",
            "AlarmTopic",
            "AppSecret",
            "Alb",
            "Blue",
            "Green",
            "TestRule",
            "ProductionRule",
        )
    }
    outputs["DataKeyArn"] = {"Value": getatt("DataKey", "Arn")}
    outputs["LogsKeyArn"] = {"Value": getatt("LogsKey", "Arn")}
    return json.dumps(
        {"Transform": "AWS::LanguageExtensions", "Resources": resources, "Outputs": outputs}
    )


def declared_parameters(cfn, url) -> set[str]:
    """The parameters the app template at ``url`` declares."""
    return {p["ParameterKey"] for p in cfn.validate_template(TemplateURL=url)["Parameters"]}


def deploy_app(cfn, template_bucket, parameters) -> tuple[str, str, str]:
    """Create the parent with the app stack; its id, the app stack's id and the template URL."""
    name = new_stack_name()
    url = put_template(template_bucket, f"{name}-app.yaml", APP.read_bytes())
    body = parent_template(url, parameters, declared_parameters(cfn, url))
    stack_id = cfn.create_stack(StackName=name, TemplateBody=body)["StackId"]
    stack = wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")
    app_id = nested_stack_id(cfn, stack_id, "App")
    assert stack["StackStatus"] == "CREATE_COMPLETE", failure_reasons(cfn, app_id)
    return stack_id, app_id, url


def update_app(cfn, stack_id, app_id, url, parameters):
    body = parent_template(url, parameters, declared_parameters(cfn, url))
    cfn.update_stack(StackName=stack_id, TemplateBody=body)
    stack = wait_stack(cfn, stack_id, "UPDATE_IN_PROGRESS")
    assert stack["StackStatus"] == "UPDATE_COMPLETE", failure_reasons(cfn, app_id)


def delete_app(cfn, stack_id, app_id):
    cfn.delete_stack(StackName=stack_id)
    stack = wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")
    assert stack["StackStatus"] == "DELETE_COMPLETE", failure_reasons(cfn, app_id)


def stack_state(cfn, stack_id) -> tuple[dict, dict]:
    """A stack's outputs and its resources' physical ids by logical id."""
    outputs = outputs_of(cfn.describe_stacks(StackName=stack_id)["Stacks"][0])
    resources = cfn.describe_stack_resources(StackName=stack_id)["StackResources"]
    return outputs, {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def role_arn(aws, name):
    return aws("iam").get_role(RoleName=name)["Role"]["Arn"]


# --- Reading the stack back -------------------------------------------------------------------


def check_cluster(aws, outputs, environment):
    """Enhanced Container Insights, ECS Exec sessions logged to the app's log group, FARGATE and
    FARGATE_SPOT with FARGATE the default."""
    [cluster] = aws("ecs").describe_clusters(
        clusters=[outputs["ClusterName"]], include=["SETTINGS", "TAGS", "CONFIGURATIONS"]
    )["clusters"]
    assert cluster["clusterName"] == f"baseball-playback-{environment}"
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    assert cluster["configuration"]["executeCommandConfiguration"] == {
        "logging": "OVERRIDE",
        "logConfiguration": {
            "cloudWatchEncryptionEnabled": True,
            "cloudWatchLogGroupName": outputs["AppLogGroupName"],
        },
    }
    assert cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert cluster["defaultCapacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1}
    ]
    assert {"key": "Component", "value": "app"} in cluster["tags"]


def check_task_definition(aws, parent, outputs, resources, *, revision, tag, xray, ecs_exec):
    """The Fargate ARM64 task: the backend as user 1000 with its secrets, health check, init
    process and /tmp volume, its root file system read-only unless ECS Exec is on, and the
    ADOT sidecar where X-Ray is on."""
    described = aws("ecs").describe_task_definition(
        taskDefinition=resources["TaskDefinition"], include=["TAGS"]
    )
    task = described["taskDefinition"]
    family = f"baseball-playback-{outputs['ClusterName'].rsplit('-', 1)[1]}-backend"
    assert task["taskDefinitionArn"].endswith(f"task-definition/{family}:{revision}")
    assert (task["family"], task["revision"], task["status"]) == (family, revision, "ACTIVE")
    assert (task["cpu"], task["memory"], task["networkMode"]) == ("512", "1024", "awsvpc")
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert task["executionRoleArn"] == role_arn(aws, resources["TaskExecutionRole"])
    assert task["taskRoleArn"] == role_arn(aws, resources["TaskRole"])
    assert task["volumes"] == [{"name": "tmp"}]
    assert {"key": "Component", "value": "app"} in described["tags"]

    containers = {c["name"]: c for c in task["containerDefinitions"]}
    assert list(containers) == (["backend", "adot-collector"] if xray else ["backend"])
    backend = containers["backend"]
    assert backend["image"] == (
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/baseball-playback/backend:{tag}"
    )
    assert backend["essential"] is True
    assert backend["portMappings"] == [{"containerPort": PORT, "hostPort": PORT, "protocol": "tcp"}]
    assert (backend["readonlyRootFilesystem"], backend["user"]) == (not ecs_exec, "1000:1000")
    assert backend["stopTimeout"] == 30
    assert backend["linuxParameters"] == {"initProcessEnabled": True}
    assert backend["mountPoints"] == [
        {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}
    ]
    secret = parent["AppSecret"]
    assert backend["secrets"] == [
        {"name": "DB_USER", "valueFrom": f"{secret}:username::"},
        {"name": "DB_PASSWORD", "valueFrom": f"{secret}:password::"},
        {"name": "OPENAI_API_KEY", "valueFrom": outputs["OpenAiApiKeySecretArn"]},
    ]
    health = backend["healthCheck"]
    assert health["command"][0] == "CMD-SHELL"
    assert {k: health[k] for k in ("interval", "timeout", "retries", "startPeriod")} == {
        "interval": 15,
        "timeout": 5,
        "retries": 3,
        "startPeriod": 20,
    }
    environment = {e["name"]: e["value"] for e in backend["environment"]}
    assert environment["PORT"] == str(PORT)
    assert environment["DB_HOST"] == "db.playback.internal"
    assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == ("http://127.0.0.1:4318" if xray else "")
    log = {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": outputs["AppLogGroupName"],
            "awslogs-region": REGION,
            "awslogs-stream-prefix": "backend",
            "max-buffer-size": "4m",
            "mode": "non-blocking",
        },
    }
    assert backend["logConfiguration"] == log
    if xray:
        sidecar = containers["adot-collector"]
        assert (sidecar["essential"], sidecar["user"]) == (False, "10001")
        assert sidecar["readonlyRootFilesystem"] is True
        (variable,) = sidecar["environment"]
        assert variable["name"] == "AOT_CONFIG_CONTENT"
        # the tail sampler's share of error-free traces, substituted from TraceSamplingPercent
        assert "sampling_percentage: 50\n" in variable["value"] and "${" not in variable["value"]
        assert environment["OTEL_TRACES_SAMPLER"] == "parentbased_always_on"
        assert sidecar["logConfiguration"] == log


def check_service(aws, parent, outputs, resources, *, desired, revision, provider, bake, ecs_exec):
    """The service in the private subnets behind the blue target group: its capacity provider,
    deployment configuration (circuit breaker, alarms, strategy: blue/green with ``bake``
    minutes, else rolling), grace period, ECS Exec and tag propagation."""
    ecs = aws("ecs")
    [service] = ecs.describe_services(
        cluster=outputs["ClusterName"], services=[outputs["ServiceName"]], include=["TAGS"]
    )["services"]
    assert service["serviceArn"] == resources["Service"]
    assert service["serviceName"] == outputs["ServiceName"]
    assert (service["status"], service["desiredCount"], service["runningCount"]) == (
        "ACTIVE",
        desired,
        desired,
    )
    assert service["taskDefinition"].endswith(f":{revision}")
    assert service["taskDefinition"] == resources["TaskDefinition"]
    assert "launchType" not in service
    assert service["capacityProviderStrategy"] == [{"capacityProvider": provider, "weight": 1}]
    assert service["platformVersion"] == "LATEST"
    assert service["networkConfiguration"] == {
        "awsvpcConfiguration": {
            "subnets": [parent["SubnetA"], parent["SubnetB"]],
            "securityGroups": [parent["SgApp"]],
            "assignPublicIp": "DISABLED",
        }
    }
    load_balancer = {
        "targetGroupArn": parent["Blue"],
        "containerName": "backend",
        "containerPort": PORT,
    }
    if bake is not None:
        load_balancer["advancedConfiguration"] = {
            "alternateTargetGroupArn": parent["Green"],
            "productionListenerRule": parent["ProductionRule"],
            "testListenerRule": parent["TestRule"],
            "roleArn": role_arn(aws, resources["BlueGreenInfrastructureRole"]),
        }
    assert service["loadBalancers"] == [load_balancer]
    configuration = {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "alarms": {
            "alarmNames": service["deploymentConfiguration"]["alarms"]["alarmNames"],
            "rollback": True,
            "enable": True,
        },
        "strategy": "ROLLING" if bake is None else "BLUE_GREEN",
    }
    if bake is not None:
        configuration["bakeTimeInMinutes"] = bake
    assert service["deploymentConfiguration"] == configuration
    # The deployment watches the stack's own alarms, by name.
    alarms = configuration["alarms"]["alarmNames"]
    assert alarms and set(alarms) <= {resources[n] for n in resources if n.endswith("Alarm")}
    described = aws("cloudwatch").describe_alarms(AlarmNames=alarms)["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in described) == sorted(alarms)
    assert service["deploymentController"] == {"type": "ECS"}
    assert service["healthCheckGracePeriodSeconds"] == 30
    assert service["enableExecuteCommand"] is ecs_exec
    assert (service["propagateTags"], service["enableECSManagedTags"]) == ("SERVICE", True)
    assert {"key": "Component", "value": "app"} in service["tags"]


def check_autoscaling(aws, parent, outputs, resources, *, minimum, maximum, cpu, peak):
    """The service's scalable target with the CPU and requests-per-task target tracking
    policies, and the game-peak scheduled actions where ``peak`` gives PeakMinTasks."""
    scaling = aws("application-autoscaling")
    resource_id = f"service/{outputs['ClusterName']}/{outputs['ServiceName']}"
    [target] = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])[
        "ScalableTargets"
    ]
    assert resources["ServiceScalableTarget"] == f"{resource_id}|{DESIRED}|ecs"
    assert (target["ScalableDimension"], target["MinCapacity"], target["MaxCapacity"]) == (
        DESIRED,
        minimum,
        maximum,
    )
    assert target["RoleARN"] == SERVICE_LINKED_ROLE
    assert target["SuspendedState"] == {
        "DynamicScalingInSuspended": False,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": False,
    }
    tags = scaling.list_tags_for_resource(ResourceARN=target["ScalableTargetARN"])["Tags"]
    assert tags["Component"] == "app"

    policies = {
        p["PolicyARN"]: p
        for p in scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)[
            "ScalingPolicies"
        ]
    }
    # The stack's scaling policies, by their Ref (the ARN): CPU, and requests per task in
    # each target group the ALB can route the service's traffic to.
    assert set(policies) == {resources[n] for n in resources if n.endswith("ScalingPolicy")}
    assert resources["CpuScalingPolicy"] in policies
    cooldowns = {"ScaleInCooldown": 300, "ScaleOutCooldown": 60}
    load_balancer = parent["Alb"].split(":loadbalancer/", 1)[1]
    # A target group's metric name is "targetgroup/<name>/<id>".
    labels = {c: f"{load_balancer}/{parent[c].split(':', 5)[5]}" for c in ("Blue", "Green")}
    assert all(label.split("/")[3] == "targetgroup" for label in labels.values())
    requests = []
    for arn, policy in policies.items():
        assert policy["PolicyType"] == "TargetTrackingScaling"
        configuration = policy["TargetTrackingScalingPolicyConfiguration"]
        metric = configuration["PredefinedMetricSpecification"]
        if arn == resources["CpuScalingPolicy"]:
            assert configuration == {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                },
                "TargetValue": cpu,
                **cooldowns,
            }
            continue
        assert metric["PredefinedMetricType"] == "ALBRequestCountPerTarget"
        assert configuration == {
            "PredefinedMetricSpecification": metric,
            "TargetValue": 200.0,
            **cooldowns,
        }
        requests.append(metric["ResourceLabel"])
    assert labels["Blue"] in requests and set(requests) <= set(labels.values())

    actions = scaling.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=resource_id)[
        "ScheduledActions"
    ]
    expected = (
        {
            ("game-peak-start", PEAK_START, peak, maximum),
            ("game-peak-end", PEAK_END, minimum, maximum),
        }
        if peak is not None
        else set()
    )
    assert {
        (
            a["ScheduledActionName"],
            a["Schedule"],
            a["ScalableTargetAction"]["MinCapacity"],
            a["ScalableTargetAction"]["MaxCapacity"],
        )
        for a in actions
    } == expected
    return target["ScalableTargetARN"], policies


def check_logs_and_secret(aws, parent, outputs):
    """The log group with its retention and key; the OpenAI key secret under the data key."""
    [group] = aws("logs").describe_log_groups(logGroupNamePrefix=outputs["AppLogGroupName"])[
        "logGroups"
    ]
    assert (group["retentionInDays"], group["kmsKeyId"]) == (30, parent["LogsKeyArn"])
    secrets = aws("secretsmanager")
    secret = outputs["OpenAiApiKeySecretArn"]
    assert secrets.describe_secret(SecretId=secret)["KmsKeyId"] == parent["DataKeyArn"]
    value = secrets.get_secret_value(SecretId=secret)["SecretString"]
    assert len(value) == 32 and value.isalnum()


def check_deleted(aws, outputs, resources, task_definitions):
    """The stack's ECS, Application Auto Scaling, IAM, logs and secret resources are gone."""
    ecs = aws("ecs")
    described = ecs.describe_clusters(clusters=[outputs["ClusterName"]])
    assert described["clusters"] == [] and described["failures"][0]["reason"] == "MISSING"
    for arn in task_definitions:
        assert ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"] == (
            "INACTIVE"
        )
    scaling = aws("application-autoscaling")
    resource_id = f"service/{outputs['ClusterName']}/{outputs['ServiceName']}"
    assert (
        scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])[
            "ScalableTargets"
        ]
        == []
    )
    for describe, key in (
        (scaling.describe_scaling_policies, "ScalingPolicies"),
        (scaling.describe_scheduled_actions, "ScheduledActions"),
    ):
        assert describe(ServiceNamespace="ecs", ResourceId=resource_id)[key] == []
    for role in ("TaskRole", "TaskExecutionRole"):
        assert error_code(aws("iam").get_role, RoleName=resources[role]) == "NoSuchEntity"
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=outputs["AppLogGroupName"])
    assert groups["logGroups"] == []
    assert error_code(
        aws("secretsmanager").describe_secret, SecretId=outputs["OpenAiApiKeySecretArn"]
    ) in ("ResourceNotFoundException", "InvalidRequestException")


def check_openai_alarms(aws, resources, daily_cost):
    """The OpenAI alarms as CloudWatch describes them: the error rate is a metric math alarm,
    with its queries and without a single metric."""
    names = [resources[a] for a in ("OpenAiErrorRateAlarm", "OpenAiDailyCostAlarm")]
    alarms = {
        a["AlarmName"]: a
        for a in aws("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    }
    rate, cost = alarms[names[0]], alarms[names[1]]
    assert "MetricName" not in rate and "Dimensions" not in rate
    queries = {q["Id"]: q for q in rate["Metrics"]}
    assert queries["rate"]["ReturnData"] is True and queries["errors"]["ReturnData"] is False
    assert queries["requests"]["MetricStat"]["Period"] == 60
    assert queries["requests"]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "Environment", "Value": "roll"}
    ]
    assert (rate["Threshold"], rate["EvaluationPeriods"], rate["DatapointsToAlarm"]) == (10.0, 5, 3)
    assert (cost["MetricName"], cost["Period"], cost["Threshold"]) == (
        "OpenAiCostUsd", 86400, daily_cost)  # fmt: skip


# --- The app stack, deployed as dev and as prod ----------------------------------------------


def test_rolling_on_fargate_spot_deploys_updates_and_deletes(cfn, aws, template_bucket):
    parameters = app_parameters(EnvironmentName="roll")
    stack_id, app_id, url = deploy_app(cfn, template_bucket, parameters)
    parent = outputs_of(cfn.describe_stacks(StackName=stack_id)["Stacks"][0])
    outputs, resources = stack_state(cfn, app_id)
    assert outputs["ClusterName"] == resources["Cluster"] == "baseball-playback-roll"
    assert outputs["ServiceName"] == "baseball-playback-roll-backend"
    assert resources["ClusterCapacityProviders"] == outputs["ClusterName"]
    # No ECS Exec, no blue/green: neither the exec policy nor the infrastructure role.
    assert "EcsExecPolicy" not in resources and "BlueGreenInfrastructureRole" not in resources
    iam = aws("iam")
    assert iam.list_role_policies(RoleName=resources["TaskRole"])["PolicyNames"] == [
        "least-privilege"
    ]

    check_cluster(aws, outputs, "roll")
    check_task_definition(
        aws, parent, outputs, resources, revision=1, tag="bootstrap", xray=True, ecs_exec=False
    )
    check_service(
        aws, parent, outputs, resources, desired=2, revision=1, provider="FARGATE_SPOT",
        bake=None, ecs_exec=False,
    )  # fmt: skip
    target_arn, policies = check_autoscaling(
        aws, parent, outputs, resources, minimum=1, maximum=4, cpu=60.0, peak=None
    )
    check_logs_and_secret(aws, parent, outputs)
    check_openai_alarms(aws, resources, daily_cost=5.0)
    first_revision = resources["TaskDefinition"]

    # A new image is a new revision, the old one deregistered; the service moves to it and
    # off Spot with one more task; autoscaling's range and CPU target change in place.
    changed = {
        **parameters,
        "ImageTag": "v1.2.0",
        "AppDesiredTasks": "3",
        "UseFargateSpot": "false",
        "AppMinTasks": "2",
        "AppMaxTasks": "6",
        "CpuTargetPercent": "70",
        "OpenAiDailyCostAlarmUsd": "20",
    }
    update_app(cfn, stack_id, app_id, url, changed)
    after, resources_after = stack_state(cfn, app_id)
    assert after == outputs
    assert resources_after["TaskDefinition"] != first_revision
    assert {k: v for k, v in resources_after.items() if k != "TaskDefinition"} == {
        k: v for k, v in resources.items() if k != "TaskDefinition"
    }
    ecs = aws("ecs")
    old = ecs.describe_task_definition(taskDefinition=first_revision)["taskDefinition"]
    assert old["status"] == "INACTIVE"
    check_task_definition(
        aws, parent, outputs, resources_after, revision=2, tag="v1.2.0", xray=True, ecs_exec=False
    )
    check_service(
        aws, parent, outputs, resources_after, desired=3, revision=2, provider="FARGATE",
        bake=None, ecs_exec=False,
    )  # fmt: skip
    target_after, policies_after = check_autoscaling(
        aws, parent, outputs, resources_after, minimum=2, maximum=6, cpu=70.0, peak=None
    )
    assert target_after == target_arn
    assert {n: p["PolicyARN"] for n, p in policies_after.items()} == {
        n: p["PolicyARN"] for n, p in policies.items()
    }
    check_cluster(aws, outputs, "roll")
    check_openai_alarms(aws, resources_after, daily_cost=20.0)  # in place: same alarms

    delete_app(cfn, stack_id, app_id)
    check_deleted(aws, outputs, resources, [first_revision, resources_after["TaskDefinition"]])


def test_blue_green_with_ecs_exec_and_peak_schedule(cfn, aws, template_bucket):
    parameters = app_parameters(
        EnvironmentName="bg",
        DeploymentStrategy="BLUE_GREEN",
        UseFargateSpot="false",
        EnableXRay="false",
        EnableEcsExec="true",
        PeakStart=PEAK_START,
        PeakEnd=PEAK_END,
        PeakMinTasks="3",
    )
    stack_id, app_id, url = deploy_app(cfn, template_bucket, parameters)
    parent = outputs_of(cfn.describe_stacks(StackName=stack_id)["Stacks"][0])
    outputs, resources = stack_state(cfn, app_id)
    iam = aws("iam")
    # ECS Exec: the conditional policy on the task role.
    assert resources["EcsExecPolicy"]
    exec_policy = iam.get_role_policy(RoleName=resources["TaskRole"], PolicyName="ecs-exec")
    assert {
        "Action": [
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ],
        "Effect": "Allow",
        "Resource": ["*"],
    } in exec_policy["PolicyDocument"]["Statement"]
    infrastructure = iam.list_attached_role_policies(
        RoleName=resources["BlueGreenInfrastructureRole"]
    )["AttachedPolicies"]
    assert [p["PolicyName"] for p in infrastructure] == [
        "AmazonECSInfrastructureRolePolicyForLoadBalancers"
    ]

    check_cluster(aws, outputs, "bg")
    check_task_definition(
        aws, parent, outputs, resources, revision=1, tag="bootstrap", xray=False, ecs_exec=True
    )
    check_service(
        aws,
        parent,
        outputs,
        resources,
        desired=2,
        revision=1,
        provider="FARGATE",
        bake=5,
        ecs_exec=True,
    )
    check_autoscaling(aws, parent, outputs, resources, minimum=1, maximum=4, cpu=60.0, peak=3)

    # The bake time grows, the peak goes, and ECS Exec is turned off with its policy: the
    # backend's root file system is read-only again, a new task definition revision.
    changed = {
        **parameters,
        "BakeMinutes": "15",
        "PeakStart": "",
        "PeakEnd": "",
        "EnableEcsExec": "false",
    }
    update_app(cfn, stack_id, app_id, url, changed)
    _after, resources_after = stack_state(cfn, app_id)
    assert "EcsExecPolicy" not in resources_after
    assert error_code(
        iam.get_role_policy, RoleName=resources["TaskRole"], PolicyName="ecs-exec"
    ) == ("NoSuchEntity")
    [service] = aws("ecs").describe_services(
        cluster=outputs["ClusterName"], services=[outputs["ServiceName"]]
    )["services"]
    assert service["deploymentConfiguration"]["bakeTimeInMinutes"] == 15
    assert service["enableExecuteCommand"] is False
    check_task_definition(
        aws, parent, outputs, resources_after, revision=2, tag="bootstrap", xray=False,
        ecs_exec=False,
    )  # fmt: skip
    assert service["taskDefinition"] == resources_after["TaskDefinition"]
    check_autoscaling(aws, parent, outputs, resources, minimum=1, maximum=4, cpu=60.0, peak=None)

    delete_app(cfn, stack_id, app_id)
    revisions = [resources["TaskDefinition"], resources_after["TaskDefinition"]]
    check_deleted(aws, outputs, resources, revisions)


# --- The plugin's ECS pieces on their own ----------------------------------------------------


def test_service_needs_its_capacity_provider_associated(cfn):
    body = ecs_template(providers=("FARGATE",))
    stack_id = cfn.create_stack(StackName=new_stack_name(), TemplateBody=json.dumps(body))[
        "StackId"
    ]
    assert wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert any(
        r.startswith("Service: ") and "not associated with the cluster" in r
        for r in failure_reasons(cfn, stack_id)
    ), failure_reasons(cfn, stack_id)


def test_cluster_keeps_its_capacity_providers_and_they_stay_while_in_use(cfn, aws):
    ecs = aws("ecs")
    stack_id, outputs = deploy(cfn, json.dumps(ecs_template(tags={"Team": "a"})))
    # A change to the cluster itself keeps what the association gave it.
    update(cfn, stack_id, json.dumps(ecs_template(tags={"Team": "b"})))
    [cluster] = ecs.describe_clusters(clusters=[outputs["Cluster"]], include=["TAGS"])["clusters"]
    assert cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert {"key": "Team", "value": "b"} in cluster["tags"]

    # Taking FARGATE_SPOT away while the service runs on it fails, and the update rolls back.
    cfn.update_stack(
        StackName=stack_id, TemplateBody=json.dumps(ecs_template(providers=("FARGATE",)))
    )
    stack = wait_stack(cfn, stack_id, "UPDATE_IN_PROGRESS")
    if stack["StackStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS":
        stack = wait_stack(cfn, stack_id, "UPDATE_ROLLBACK_IN_PROGRESS")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert any("ResourceInUseException" in r for r in failure_reasons(cfn, stack_id))
    [cluster] = ecs.describe_clusters(clusters=[outputs["Cluster"]])["clusters"]
    assert cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]

    cfn.delete_stack(StackName=stack_id)
    assert wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")["StackStatus"] == "DELETE_COMPLETE"
