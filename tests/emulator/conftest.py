"""Shared by the emulator tests: one emulator per test module, its clients, and stack helpers.

The helpers are plain functions; the test modules import them (``from conftest import ...``).
"""

from __future__ import annotations

import itertools
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from playback_infra.emulator.process import run_emulator
from tests.stacks.helpers import ref

REGION = "us-east-1"
ACCOUNT = "000000000000"
DESIRED = "ecs:service:DesiredCount"  # the ECS service scalable dimension
STACK_TIMEOUT = 20.0
_stack_numbers = itertools.count(1)


def new_stack_name() -> str:
    """A stack name no other test uses."""
    return f"plugin-test-{next(_stack_numbers)}"


@pytest.fixture(scope="module")
def endpoint():
    with run_emulator() as url:
        yield url


def client(service, endpoint, region=REGION):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture(scope="module")
def aws(endpoint):
    """A client of the emulator for a service."""
    return lambda service: client(service, endpoint)


@pytest.fixture(scope="module")
def cfn(endpoint):
    return client("cloudformation", endpoint)


@pytest.fixture(scope="module")
def ec2(endpoint):
    return client("ec2", endpoint)


@pytest.fixture(scope="module")
def kms(endpoint):
    return client("kms", endpoint)


@pytest.fixture(scope="module")
def logs(endpoint):
    return client("logs", endpoint)


@pytest.fixture(scope="module")
def rds(endpoint):
    return client("rds", endpoint)


@pytest.fixture(scope="module")
def secrets(endpoint):
    return client("secretsmanager", endpoint)


@pytest.fixture(scope="module")
def template_bucket(endpoint):
    """An S3 bucket for nested-stack templates, and the URL its keys are read at."""
    bucket = "plugin-test-templates"
    client("s3", endpoint).create_bucket(Bucket=bucket)
    return client("s3", endpoint), f"{endpoint}/{bucket}"


def put_template(template_bucket, key, body) -> str:
    """Upload a nested-stack template; the URL it is read at."""
    s3, url = template_bucket
    s3.put_object(Bucket=url.rsplit("/", 1)[1], Key=key, Body=body)
    return f"{url}/{key}"


def wait_stack(cfn, stack_id, in_progress) -> dict:
    """The stack once its status leaves ``in_progress``; fails with its events' reasons."""
    deadline = time.monotonic() + STACK_TIMEOUT
    while time.monotonic() < deadline:
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        if stack["StackStatus"] != in_progress:
            return stack
        time.sleep(0.1)
    pytest.fail(f"{stack_id} still {in_progress} after {STACK_TIMEOUT} s")


def failure_reasons(cfn, stack_id) -> list[str]:
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    return [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
        for e in events
        if e["ResourceStatus"].endswith("FAILED")
    ]


def deploy(cfn, template) -> tuple[str, dict]:
    """Create a stack from ``template``; its id and outputs once CREATE_COMPLETE."""
    stack_id = cfn.create_stack(StackName=new_stack_name(), TemplateBody=template)["StackId"]
    stack = wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")
    assert stack["StackStatus"] == "CREATE_COMPLETE", failure_reasons(cfn, stack_id)
    return stack_id, outputs_of(stack)


def update(cfn, stack_id, template) -> dict:
    """Update the stack; its outputs once UPDATE_COMPLETE."""
    cfn.update_stack(StackName=stack_id, TemplateBody=template)
    stack = wait_stack(cfn, stack_id, "UPDATE_IN_PROGRESS")
    assert stack["StackStatus"] == "UPDATE_COMPLETE", failure_reasons(cfn, stack_id)
    return outputs_of(stack)


def outputs_of(stack) -> dict:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def nested_stack_id(cfn, stack_id, logical_id) -> str:
    """The id of the stack's nested stack ``logical_id``."""
    resource = cfn.describe_stack_resource(StackName=stack_id, LogicalResourceId=logical_id)
    return resource["StackResourceDetail"]["PhysicalResourceId"]


def error_code(call, **kwargs) -> str:
    """The error code of the ClientError ``call`` must raise."""
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"]


def ecs_template(*, strategy="FARGATE_SPOT", providers=("FARGATE", "FARGATE_SPOT"), tags=None):
    """A cluster with capacity providers associated, a task definition and a service on
    ``strategy``; the cluster carries ``tags``."""
    cluster = {"Type": "AWS::ECS::Cluster", "Properties": {}}
    if tags:
        cluster["Properties"]["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    resources = {
        "Cluster": cluster,
        "Capacity": {
            "Type": "AWS::ECS::ClusterCapacityProviderAssociations",
            "Properties": {
                "Cluster": ref("Cluster"),
                "CapacityProviders": list(providers),
                "DefaultCapacityProviderStrategy": [
                    {"CapacityProvider": providers[0], "Weight": "1"}
                ]
                if providers
                else [],
            },
        },
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "RequiresCompatibilities": ["FARGATE"],
                "NetworkMode": "awsvpc",
                "Cpu": 256,
                "Memory": 512,
                "ContainerDefinitions": [{"Name": "web", "Image": "nginx:1.27"}],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "DependsOn": ["Capacity"],
            "Properties": {
                "Cluster": ref("Cluster"),
                "TaskDefinition": ref("Task"),
                "DesiredCount": "1",
                "CapacityProviderStrategy": [{"CapacityProvider": strategy, "Weight": 1}],
                "NetworkConfiguration": {
                    "AwsvpcConfiguration": {
                        "Subnets": ["subnet-0aaa"],
                        "AssignPublicIp": "DISABLED",
                    }
                },
            },
        },
    }
    outputs = {"Cluster": {"Value": ref("Cluster")}, "Service": {"Value": ref("Service")}}
    return {"Resources": resources, "Outputs": outputs}
