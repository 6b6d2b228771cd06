"""Architecture: a task runs only an image built for the CPU its task definition names.

Fargate starts a task on the task definition's `RuntimePlatform.CpuArchitecture` (X86_64 when
absent) and cannot run an image of another CPU: the container exits with "exec format error"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-arm64.html,
https://repost.aws/knowledge-center/ecs-task-exec-format-error). The images this repository's
task definitions pull from their account's registry are built by the pipeline stack's CodeBuild
projects, on the project's environment type: `ARM_CONTAINER` hosts are ARM64, `LINUX_CONTAINER`
hosts x86_64, each with its own images
(https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-compute-types.html), and
`docker build --platform $IMAGE_PLATFORM` builds for the project's platform. Each environment is
read as its parameter file deploys it. Public images (Locust, the ADOT collector) are not
checked: which CPUs their publishers build for is not knowable here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from playback_infra.checks.contracts.rule import Rule, Subject, text

DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-arm64.html"
# CodeBuild environment type -> the CPU of its hosts (build-env-ref-compute-types.html).
HOST_CPU = {"ARM_CONTAINER": "ARM64", "LINUX_CONTAINER": "X86_64"}
# The docker platform that builds for each task CPU.
PLATFORM = {"ARM64": "linux/arm64", "X86_64": "linux/amd64"}
# An image of this account's registry, as parts/ecs.image_uri names it: the repository.
_REGISTRY_IMAGE = re.compile(r"\.dkr\.ecr\.[^/]+/(?P<repository>[^:@]+)[:@]")


def builders(pipeline: dict) -> dict[str, tuple[str, dict]]:
    """ECR repository -> (logical ID, properties) of the CodeBuild project that builds it: the
    project of each pipeline action that sets REPOSITORY_URI."""
    resources = pipeline["Resources"]
    found = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::CodePipeline::Pipeline":
            continue
        for stage in resource["Properties"]["Stages"]:
            for action in stage["Actions"]:
                configuration = action.get("Configuration", {})
                listed = text(configuration.get("EnvironmentVariables"))
                for variable in json.loads(listed) if listed else []:
                    if variable["name"] == "REPOSITORY_URI":
                        repository = variable["value"].split("/", 1)[1]
                        project = configuration["ProjectName"]["Ref"]
                        found[repository] = (project, resources[project]["Properties"])
    return found


def _tasks(subject: Subject) -> Iterator[tuple[str, str, str, str, str]]:
    """(environment, stack, logical ID, CPU, repository) of every container of a deployed task
    definition that runs an image of the account's registry."""
    for name, env in sorted(subject.deployed.items()):
        for stack, logical_id, task in env.resources("AWS::ECS::TaskDefinition"):
            properties = task["Properties"]
            platform = properties.get("RuntimePlatform", {})
            cpu = env.value(platform.get("CpuArchitecture", "X86_64"), stack)
            containers = properties["ContainerDefinitions"]
            for container in containers if isinstance(containers, list) else []:
                match = _REGISTRY_IMAGE.search(text(container.get("Image")))
                if match:
                    yield name, stack, logical_id, cpu, match["repository"]


def find(subject: Subject) -> Iterator[str]:
    projects = builders(subject.templates["pipeline"])
    for name, stack, logical_id, cpu, repository in _tasks(subject):
        where = f"{name}: {stack} {logical_id} runs {repository} on {cpu}"
        if repository not in projects:
            yield (
                f"{where}, but no pipeline action builds {repository} (REPOSITORY_URI), so "
                "nothing says which CPU it is built for; build it in the pipeline stack"
            )
            continue
        project, properties = projects[repository]
        environment = properties["Environment"]
        host = HOST_CPU.get(environment["Type"], "none")
        if host != cpu:
            yield (
                f"{where}, but pipeline {project} builds it on {environment['Type']} ({host}); "
                f"give the project the {cpu} environment type (parts/delivery.IMAGE_BUILDERS)"
            )
        if ("aarch64" in environment["Image"]) != (environment["Type"] == "ARM_CONTAINER"):
            yield (
                f"{where}: pipeline {project} runs the image {environment['Image']} on "
                f"{environment['Type']}; CodeBuild's aarch64 images run on ARM_CONTAINER only "
                "and the others on LINUX_CONTAINER: pick the image for the environment type"
            )
        variables = {v["Name"]: v["Value"] for v in environment.get("EnvironmentVariables", [])}
        if variables.get("IMAGE_PLATFORM") != PLATFORM[cpu]:
            yield (
                f"{where}, but pipeline {project}'s docker build targets "
                f"{variables.get('IMAGE_PLATFORM', 'no platform')} (IMAGE_PLATFORM); set it to "
                f"{PLATFORM[cpu]}"
            )


RULE = Rule("architecture", DOC, find)
