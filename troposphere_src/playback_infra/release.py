"""`playback-infra release-image`: run another backend image in a deployed environment.

A change set on the root stack with its previous template, `ImageTag` set and every other
parameter kept (UsePreviousValue), so the backend pipeline changes nothing but the image. It
is refused (deleted, exit 1) when it would touch anything but the app stack's task definition
and service; otherwise executed and followed until the stack settles (exit 1 when it rolls
back). ECS does the blue/green or rolling deployment the environment's service is set up for.
"""

from __future__ import annotations

import argparse
import re
import sys

from playback_infra.deploy import (
    EXIT_FAILED,
    aws_errors,
    change_set,
    environment,
    execute,
    nested_changes,
    print_change_set,
    require_deployed,
    session,
    stack_status,
)
from playback_infra.environments.model import ConfigError, Problem
from playback_infra.errors import DeployError
from playback_infra.parts import values
from playback_infra.synth import NESTED

# ECR's rule for an image tag.
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
APP_STACK = next(title for title, (name, _) in NESTED.items() if name == "app")
# What a new image may change: the app's nested stack, its task definition and its service.
RELEASED = {
    ("root", "AWS::CloudFormation::Stack"),
    ("app", "AWS::ECS::TaskDefinition"),
    ("app", "AWS::ECS::Service"),
}


def outside_release(changes) -> list:
    """The changes an image release must not make."""
    return [
        c
        for c in changes
        if (c.stack, c.resource_type) not in RELEASED
        or (c.stack == "root" and c.logical_id != APP_STACK)
    ]


def release_image(args: argparse.Namespace) -> int:
    env = environment(args.env)
    if not _TAG.match(args.image_tag):
        raise ConfigError(
            [
                Problem(
                    env.name,
                    "image-tag",
                    f"{args.image_tag!r} is not an ECR image tag (letters, digits, _ . -, up to 128)",
                )
            ]
        )
    require_deployed(args, env, "profile", "release-image updates the deployed stack")
    region = args.region or env.region
    with aws_errors(f"release-image in {env.name}: "):
        cfn = session(args, region, args.endpoint_url).client(
            "cloudformation", endpoint_url=args.endpoint_url
        )
        if stack_status(cfn, env.stack_name) in (None, "REVIEW_IN_PROGRESS"):
            raise DeployError(
                f"{env.stack_name} is not deployed in {region}; deploy it first (`playback-infra deploy --env {env.name}` or the infrastructure pipeline)"
            )
        stack = cfn.describe_stacks(StackName=env.stack_name)["Stacks"][0]
        parameters = [
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
            for p in stack["Parameters"]
            if p["ParameterKey"] != values.IMAGE_TAG
        ] + [{"ParameterKey": values.IMAGE_TAG, "ParameterValue": args.image_tag}]
        request = {"UsePreviousTemplate": True, "Parameters": parameters}
        name, described = change_set(cfn, env.stack_name, request)
        if name is None:
            print(f"{env.stack_name} already runs image {args.image_tag}: nothing to release")
            return 0
        print_change_set(name, env.stack_name, described)
        outside = outside_release(nested_changes(cfn, described, env.name))
        if outside:
            cfn.delete_change_set(StackName=env.stack_name, ChangeSetName=name)
            for change in outside:
                print(f"REFUSED {change.describe()}", file=sys.stderr)
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
