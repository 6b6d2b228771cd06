"""The Application Auto Scaling the plugin serves (emulator/application_autoscaling_service.py):
a ScalableTarget deployed over an ECS service, and the API through boto3.

One emulator serves the module; each test deploys its own stack or names its own resources.
"""

from __future__ import annotations

import json

import pytest

from conftest import (
    DESIRED,
    deploy,
    ecs_template,
    error_code,
    failure_reasons,
    new_stack_name,
    wait_stack,
)
from tests.stacks.helpers import getatt, ref

pytestmark = pytest.mark.emulator


def test_scalable_target_needs_its_service_and_brings_it_into_range(cfn, aws):
    body = ecs_template()
    target = {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {
            "ServiceNamespace": "ecs",
            "ScalableDimension": DESIRED,
            "ResourceId": {
                "Fn::Join": ["/", ["service", ref("Cluster"), getatt("Service", "Name")]]
            },
            "MinCapacity": "3",
            "MaxCapacity": "5",
        },
    }
    body["Resources"]["Target"] = target
    stack_id, outputs = deploy(cfn, json.dumps(body))
    # As AWS does for an active resource, registering moves the service into the range.
    [service] = aws("ecs").describe_services(
        cluster=outputs["Cluster"], services=[outputs["Service"]]
    )["services"]
    assert service["desiredCount"] == 3

    unknown = json.loads(json.dumps(body))
    unknown["Resources"]["Target"]["Properties"]["ResourceId"] = "service/nowhere/nothing"
    missing_id = cfn.create_stack(StackName=new_stack_name(), TemplateBody=json.dumps(unknown))[
        "StackId"
    ]
    assert wait_stack(cfn, missing_id, "CREATE_IN_PROGRESS")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert any(
        "ECS service doesn't exist: service/nowhere/nothing" in r
        for r in failure_reasons(cfn, missing_id)
    ), failure_reasons(cfn, missing_id)
    cfn.delete_stack(StackName=stack_id)
    assert wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")["StackStatus"] == "DELETE_COMPLETE"


def test_application_autoscaling_api(aws):
    """The Application Auto Scaling calls the plugin serves, through boto3's client."""
    ecs, scaling = aws("ecs"), aws("application-autoscaling")
    ecs.create_cluster(clusterName="api-cluster")
    ecs.register_task_definition(
        family="api-task", containerDefinitions=[{"name": "web", "image": "nginx:1.27"}]
    )
    ecs.create_service(
        cluster="api-cluster", serviceName="web", taskDefinition="api-task", desiredCount=4
    )
    target = {"ServiceNamespace": "ecs", "ResourceId": "service/api-cluster/web"}
    target["ScalableDimension"] = DESIRED
    not_found = "ObjectNotFoundException"
    policy = {
        "PolicyName": "cpu",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 50.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
        },
    }
    assert error_code(scaling.put_scaling_policy, **target, **policy) == not_found
    assert error_code(scaling.register_scalable_target, **target, MinCapacity=5, MaxCapacity=2) == (
        "ValidationException"
    )
    arn = scaling.register_scalable_target(
        **target, MinCapacity=1, MaxCapacity=3, Tags={"Team": "playback"}
    )["ScalableTargetARN"]
    # The desired count of 4 comes down to the maximum.
    [service] = ecs.describe_services(cluster="api-cluster", services=["web"])["services"]
    assert service["desiredCount"] == 3
    # Registering again keeps the target (its ARN) and takes the new values.
    again = scaling.register_scalable_target(**target, MaxCapacity=8)["ScalableTargetARN"]
    assert again == arn
    [described] = scaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[target["ResourceId"]]
    )["ScalableTargets"]
    assert (described["MinCapacity"], described["MaxCapacity"]) == (1, 8)
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Team": "playback"}

    policy_arn = scaling.put_scaling_policy(**target, **policy)["PolicyARN"]
    assert policy_arn.endswith(":resource/ecs/service/api-cluster/web:policyName/cpu")
    label = {"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": "app/x"}
    bad = {**policy, "TargetTrackingScalingPolicyConfiguration": {
        "TargetValue": 100.0, "PredefinedMetricSpecification": label}}  # fmt: skip
    assert error_code(scaling.put_scaling_policy, **target, **bad) == "ValidationException"
    scaling.put_scheduled_action(
        **target,
        ScheduledActionName="night",
        Schedule="cron(0 22 * * ? *)",
        ScalableTargetAction={"MinCapacity": 1, "MaxCapacity": 2},
    )
    assert error_code(
        scaling.put_scheduled_action, **target, ScheduledActionName="bad", Schedule="daily"
    ) == ("ValidationException")
    mine = {"ServiceNamespace": "ecs", "ResourceId": target["ResourceId"]}
    [action] = scaling.describe_scheduled_actions(**mine, ScheduledActionNames=["night"])[
        "ScheduledActions"
    ]
    assert action["ScheduledActionARN"].endswith(":scheduledActionName/night")
    [described] = scaling.describe_scaling_policies(**mine, PolicyNames=["cpu"])["ScalingPolicies"]
    assert described["PolicyARN"] == policy_arn

    # Deregistering the target deletes its policies and scheduled actions.
    scaling.deregister_scalable_target(**target)
    assert scaling.describe_scaling_policies(**mine)["ScalingPolicies"] == []
    assert scaling.describe_scheduled_actions(**mine)["ScheduledActions"] == []
    assert error_code(scaling.deregister_scalable_target, **target) == not_found
    assert error_code(
        scaling.register_scalable_target,
        ServiceNamespace="ecs",
        ResourceId="service/api-cluster/none",
        ScalableDimension=DESIRED,
        MinCapacity=1,
        MaxCapacity=2,
    ) == ("ValidationException")
