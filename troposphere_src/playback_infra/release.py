"""`playback-infra release-image`: run another backend image in a deployed environment.

A change set on the root stack with its previous template, `ImageTag` set and every other
parameter kept (UsePreviousValue), so the backend pipeline changes nothing but the image. It
is refused (deleted, exit 1) when it would touch anything but the app stack's task definition
and service; otherwise executed and followed until the stack settles (exit 1 when it rolls
back). ECS does the blue/green or rolling deployment the environment's service is set up for.
First it waits for the image in the environment account's registry: the backend pipeline pushes
once, in the delivery account, and ECR replicates to the others within seconds to minutes.

The stacks that take an app stack output (the observability stack: cluster and service names)
show as modified too, because CloudFormation resolves those outputs only while executing; their
resources may change only through such a reference (`Evaluation: Dynamic`): a new image changes
none of those outputs.
"""

from __future__ import annotations

import argparse
import sys
import time

from playback_infra.deploy import (
    EXIT_FAILED,
    POLL_SECONDS,
    aws_errors,
    change_set,
    check_image_tag,
    decode,
    environment,
    execute,
    live_parameters,
    print_change_set,
    require_deployed,
    session,
)
from playback_infra.errors import DeployError
from playback_infra.parts import values
from playback_infra.stacks.app import REPOSITORY
from playback_infra.synth import NESTED

APP_STACK = next(title for title, (name, _) in NESTED.items() if name == "app")
RELEASED_TYPES = ("AWS::ECS::TaskDefinition", "AWS::ECS::Service")


def consumers_of(root: dict, title: str) -> set[str]:
    """The root template's nested stacks that take an output of `title`."""

    def refers(value) -> bool:
        if isinstance(value, dict):
            getatt = value.get("Fn::GetAtt")
            return (isinstance(getatt, list) and getatt[:1] == [title]) or any(
                refers(v) for v in value.values()
            )
        return isinstance(value, list) and any(refers(v) for v in value)

    return {
        name
        for name, resource in root.get("Resources", {}).items()
        if refers(resource.get("Properties", {}).get("Parameters", {}))
    }


def refusals(described: dict, nested: dict[str, dict], consumers: set[str]) -> list[str]:
    """What a release's change set must not do: one line per change outside the app's task
    definition and service. `nested` maps a nested stack's title to its change set (absent
    where AWS gives none)."""
    refused = []
    for item in described.get("Changes", []):
        rc = item["ResourceChange"]
        title = rc["LogicalResourceId"]
        if rc["ResourceType"] != "AWS::CloudFormation::Stack" or title not in {
            APP_STACK,
            *consumers,
        }:
            refused.append(f"root: {rc['Action']} {title} ({rc['ResourceType']})")
            continue
        for inner in nested.get(title, {}).get("Changes", []):
            change = inner["ResourceChange"]
            details = change.get("Details", [])
            dynamic = bool(details) and all(d.get("Evaluation") == "Dynamic" for d in details)
            if (title == APP_STACK and change["ResourceType"] in RELEASED_TYPES) or (
                title in consumers and dynamic
            ):
                continue
            refused.append(
                f"{title}: {change['Action']} {change['LogicalResourceId']} ({change['ResourceType']})"
            )
    return refused


def wait_for_image(ecr, tag: str, timeout: float) -> None:
    """Return once `REPOSITORY:tag` is in this account's registry; DeployError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])
            return
        except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
            if time.monotonic() >= deadline:
                raise DeployError(
                    f"{REPOSITORY}:{tag} is not in this account's registry after {timeout:.0f} s: "
                    "check the delivery account's image replication (pipeline stack, "
                    "ImageReplication) and this account's registry stack and registry policy "
                    "(pipeline-target)"
                ) from None
        time.sleep(POLL_SECONDS)


def release_image(args: argparse.Namespace) -> int:
    env = environment(args.env)
    check_image_tag(env, values.IMAGE_TAG, args.image_tag, "image-tag")
    require_deployed(args, env, "profile", "release-image updates the deployed stack")
    region = env.region
    with aws_errors(f"release-image in {env.name}: "):
        aws = session(args, region, args.endpoint_url)
        cfn = aws.client("cloudformation", endpoint_url=args.endpoint_url)
        live = live_parameters(cfn, env.stack_name)
        if not live:
            raise DeployError(
                f"{env.stack_name} is not deployed in {region}; deploy it first (`playback-infra deploy --env {env.name}` or the infrastructure pipeline)"
            )
        wait_for_image(
            aws.client("ecr", endpoint_url=args.endpoint_url),
            args.image_tag,
            args.image_wait_seconds,
        )
        parameters = [
            {"ParameterKey": key, "UsePreviousValue": True}
            for key in live
            if key != values.IMAGE_TAG
        ] + [{"ParameterKey": values.IMAGE_TAG, "ParameterValue": args.image_tag}]
        request = {"UsePreviousTemplate": True, "Parameters": parameters}
        name, described = change_set(cfn, env.stack_name, request)
        if name is None:
            print(f"{env.stack_name} already runs image {args.image_tag}: nothing to release")
            return 0
        print_change_set(name, env.stack_name, described)
        nested = {
            item["ResourceChange"]["LogicalResourceId"]: cfn.describe_change_set(
                ChangeSetName=item["ResourceChange"]["ChangeSetId"]
            )
            for item in described.get("Changes", [])
            if item["ResourceChange"].get("ChangeSetId")
        }
        root = decode(cfn.get_template(StackName=env.stack_name)["TemplateBody"])
        refused = refusals(described, nested, consumers_of(root, APP_STACK))
        if refused:
            cfn.delete_change_set(StackName=env.stack_name, ChangeSetName=name)
            for line in refused:
                print(f"REFUSED {line}", file=sys.stderr)
            print(
                f"release-image changes only the app's task definition and service; deploy "
                f"the other changes through the infrastructure pipeline first (change set {name} deleted)",
                file=sys.stderr,
            )
            return EXIT_FAILED
        code = execute(cfn, env.stack_name, name)
    if code != 0:
        print(
            f"{env.stack_name} did not take image {args.image_tag}: it rolled back (events above)",
            file=sys.stderr,
        )
    return code
