"""verify: the images the task definitions name, and the images the services' tasks run.

- image architecture: each task definition's images in the account's private registry are
  built for the CPU its RuntimePlatform names (X86_64, ARM64:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html). ECR
  holds an image by its manifest (BatchGetImage): an image index (manifest list) lists its
  platforms; a single image's config blob holds its `architecture`, in the Go names amd64 and
  arm64 (https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-push-multi-architecture-image.html,
  https://github.com/opencontainers/image-spec/blob/main/config.md); the config blob is read
  through GetDownloadUrlForLayer
  (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetDownloadUrlForLayer.html).
- running tasks: ECS "resolves container image names and any image tags specified in the task
  definition to container image digests"
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerImage.html) and each
  task's container reports its `imageDigest`: each running task of a service must run its
  service's task definition and the digest the registry holds for that image's tag.

Images from other registries (the ADOT collector, public.ecr.aws) are AWS's and are skipped.
"""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass

from botocore.exceptions import ClientError

from playback_infra.verify import Deployed, Result, failed, passed, skipped

ARCHITECTURE, TASKS = "image architecture", "running tasks"
# RuntimePlatform's CpuArchitecture -> the image's architecture (GOARCH).
IMAGE_ARCHITECTURE = {"X86_64": "amd64", "ARM64": "arm64"}
INDEXES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFESTS = (
    *INDEXES,
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_PRIVATE_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<repository>[^:@]+)(?::(?P<tag>[^:@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
DOWNLOAD_TIMEOUT_SECONDS = 30


class ImageMissing(Exception):
    """The registry does not hold the image."""


@dataclass(frozen=True)
class Image:
    account: str
    repository: str
    reference: str
    """The tag, or the digest of an image named by digest."""

    @property
    def name(self) -> str:
        return f"{self.repository}{'@' if self.reference.startswith('sha256:') else ':'}{self.reference}"

    def image_id(self) -> dict:
        key = "imageDigest" if self.reference.startswith("sha256:") else "imageTag"
        return {key: self.reference}


def private_image(uri: str) -> Image | None:
    """The image a container definition names in an account's private ECR registry, else None."""
    named = _PRIVATE_IMAGE.match(uri)
    if not named:
        return None
    return Image(named["account"], named["repository"], named["digest"] or named["tag"] or "latest")


def platforms(manifest: dict, media_type: str, read_config) -> frozenset[str]:
    """The architectures an image is built for, from its manifest: an index's platforms (less
    the attestation manifests buildx adds as platform unknown/unknown:
    https://docs.docker.com/build/metadata/attestations/attestation-storage/), or the
    `architecture` of a single image's config, which `read_config(digest)` reads."""
    if media_type in INDEXES:
        return frozenset(
            m["platform"]["architecture"]
            for m in manifest.get("manifests", [])
            if m.get("platform", {}).get("os", "unknown") != "unknown"
        )
    return frozenset([read_config(manifest["config"]["digest"]).get("architecture", "unknown")])


def held_image(ecr, image: Image) -> dict:
    """BatchGetImage's image (its imageId with the digest, its manifest); ImageMissing when
    the registry does not hold it or has no such repository (RepositoryNotFoundException,
    https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchGetImage.html)."""
    try:
        answer = ecr.batch_get_image(
            registryId=image.account,
            repositoryName=image.repository,
            imageIds=[image.image_id()],
            acceptedMediaTypes=list(MANIFESTS),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "RepositoryNotFoundException":
            raise
        raise ImageMissing(f"the repository {image.repository} does not exist") from error
    if not answer.get("images"):
        reasons = "; ".join(f["failureReason"] for f in answer.get("failures", [])) or "not found"
        raise ImageMissing(reasons)
    return answer["images"][0]


def built_for(ecr, image: Image) -> frozenset[str]:
    """The architectures the image is built for; ImageMissing when the registry lacks it."""
    found = held_image(ecr, image)
    manifest = json.loads(found["imageManifest"])

    def read_config(digest: str) -> dict:
        url = ecr.get_download_url_for_layer(
            registryId=image.account, repositoryName=image.repository, layerDigest=digest
        )["downloadUrl"]
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            return json.load(response)

    media_type = found.get("imageManifestMediaType") or manifest.get("mediaType", "")
    return platforms(manifest, media_type, read_config)


def architecture_result(
    subject: str, image: Image, cpu: str | None, built: frozenset[str]
) -> Result:
    """The verdict on one container's image: built for the task definition's CPU?"""
    if cpu is None:
        return failed(
            ARCHITECTURE,
            subject,
            "the task definition names no CPU architecture",
            "set RuntimePlatform.CpuArchitecture to the architecture the image is built for",
        )
    wanted = IMAGE_ARCHITECTURE.get(cpu, cpu.lower())
    if wanted in built:
        return passed(
            ARCHITECTURE,
            subject,
            f"{image.name} is built for {', '.join(sorted(built))}; the task runs {cpu}",
        )
    return failed(
        ARCHITECTURE,
        subject,
        f"{image.name} is built for {', '.join(sorted(built))}, but the task definition runs {cpu}: "
        "its containers cannot start",
        f"build the image for linux/{wanted} (docker buildx build --platform linux/{wanted}) and release it",
    )


def architectures(deployed: Deployed) -> list[Result]:
    ecs, ecr = deployed.client("ecs"), deployed.client("ecr")
    results = []
    for resource in deployed.of_type("AWS::ECS::TaskDefinition"):
        definition = ecs.describe_task_definition(taskDefinition=resource.physical_id)[
            "taskDefinition"
        ]
        cpu = (definition.get("runtimePlatform") or {}).get("cpuArchitecture")
        for container in definition["containerDefinitions"]:
            image = private_image(container["image"])
            if image is None:
                continue
            subject = f"{definition['family']}/{container['name']}"
            try:
                built = built_for(ecr, image)
            except ImageMissing as error:
                results.append(
                    failed(
                        ARCHITECTURE,
                        subject,
                        f"{image.name} is not in the registry: {error}",
                        "deploy the registry stack and push the first images (docs/backend.md, "
                        "'The first images'); later ones come from the pipelines, or release a "
                        "tag the registry holds",
                    )
                )
                continue
            results.append(architecture_result(subject, image, cpu, built))
    return results


def tasks_result(
    service: dict,
    definition: dict,
    tasks: list[dict],
    released: dict[str, tuple[Image, str]],
    stopped_reason: str,
) -> Result:
    """The verdict on one service's running tasks. `released` maps a container of the
    service's task definition to its image and the digest the registry holds for it."""
    name = service["serviceName"]
    if not tasks:
        if not service.get("desiredCount"):
            return skipped(TASKS, name, "no task desired")
        return failed(
            TASKS,
            name,
            f"no task running of {service['desiredCount']} desired"
            + (f"; the last one stopped: {stopped_reason}" if stopped_reason else ""),
            "read the stopped tasks' reasons (aws ecs describe-tasks) and their containers' log: "
            "an image for another CPU, a secret or image the execution role cannot read",
        )
    wrong = [
        f"task {t['taskArn'].rsplit('/', 1)[-1]} {c['name']} runs {c.get('imageDigest') or 'no reported digest'}, "
        f"the registry's {released[c['name']][0].name} is {released[c['name']][1]}"
        for t in tasks
        for c in t.get("containers", [])
        if c["name"] in released and c.get("imageDigest") != released[c["name"]][1]
    ]
    if wrong:
        return failed(
            TASKS,
            name,
            "; ".join(wrong),
            "the tasks run another image than the release: the tag was pushed again (make the "
            "repository's tags IMMUTABLE), then start new tasks (aws ecs update-service "
            "--force-new-deployment)",
        )
    stale = [t for t in tasks if t["taskDefinitionArn"] != definition["taskDefinitionArn"]]
    if stale:
        return failed(
            TASKS,
            name,
            f"{len(stale)} of {len(tasks)} running tasks run another task definition "
            f"than the service's {definition['taskDefinitionArn'].rsplit('/', 1)[-1]}",
            "a deployment has not finished: watch it (aws ecs describe-services); if it stays, "
            "read its events and the new tasks' stopped reasons",
        )
    images = (
        ", ".join(f"{i.name} ({d[:19]}...)" for i, d in released.values()) or "no private image"
    )
    return passed(
        TASKS, name, f"{len(tasks)} of {service['desiredCount']} desired tasks run {images}"
    )


def running_tasks(deployed: Deployed) -> list[Result]:
    ecs, ecr = deployed.client("ecs"), deployed.client("ecr")
    results = []
    for resource in deployed.of_type("AWS::ECS::Service"):
        cluster = resource.physical_id.split("/")[1]  # arn:...:service/CLUSTER/NAME
        services = ecs.describe_services(cluster=cluster, services=[resource.physical_id])
        if not services["services"]:
            results.append(
                failed(
                    TASKS,
                    resource.physical_id.rsplit("/", 1)[-1],
                    "the service does not exist",
                    "deploy the environment again (its app stack creates the service)",
                )
            )
            continue
        (service,) = services["services"]
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
            "taskDefinition"
        ]
        released = {}
        for container in definition["containerDefinitions"]:
            image = private_image(container["image"])
            if image is not None:
                try:
                    digest = held_image(ecr, image)["imageId"]["imageDigest"]
                    released[container["name"]] = (image, digest)
                except ImageMissing:
                    released[container["name"]] = (image, "not in the registry")
        tasks = _tasks(ecs, cluster, service["serviceName"], "RUNNING")
        stopped = sorted(
            _tasks(ecs, cluster, service["serviceName"], "STOPPED"),
            key=lambda t: str(t.get("stoppedAt", "")),
        )
        reason = stopped[-1].get("stoppedReason", "") if stopped else ""
        results.append(tasks_result(service, definition, tasks, released, reason))
    return results


def _tasks(ecs, cluster: str, service: str, status: str) -> list[dict]:
    """The service's tasks of a desired status, described 100 at a time, DescribeTasks' most
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html)."""
    arns = [
        arn
        for page in ecs.get_paginator("list_tasks").paginate(
            cluster=cluster, serviceName=service, desiredStatus=status
        )
        for arn in page["taskArns"]
    ]
    return [
        task
        for start in range(0, len(arns), 100)
        for task in ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100])["tasks"]
    ]
