"""`playback-infra verify --env ENV`: what only AWS can show about a deployed environment.

For the first hours of a real environment and after each change: it reads the account
(`--profile`) or an emulator (`--endpoint-url`) and changes nothing, but for `--rotate`. Every
name and ARN comes from the deployed stacks: the root stack's outputs and the resources of the
root and its nested stacks; the account's trail from the account baseline stack's output.
Each item passes, fails (saying what to do) or does not apply to the environment:

- rotation: each rotated secret's last rotation finished; `--rotate` starts one (`secrets`)
- image architecture, running tasks: each task definition's images are built for its CPU, and
  each service's tasks run the image the registry holds for the released tag (`images`)
- backup copies, cache: the latest copy job to each copy region completed; each serverless
  cache is available (`data`)
- canary, alarms, trail: each canary runs and its latest run passed; none of the stacks'
  alarms is in ALARM; the account's trail logs every region (`monitoring`)

What no API shows (a key policy evaluated at use, an image pull, CloudFront and certificate
validation, ...) is listed in docs/verify.md with how to check it.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from playback_infra.deploy import aws_errors, deployed_environment, environment
from playback_infra.environments.model import Environment
from playback_infra.errors import UsageError

PASS, FAIL, SKIP = "pass", "fail", "skip"
EXIT_OK, EXIT_FAILED = 0, 1
# The account baseline's stack, deployed once per account and region (docs/security.md).
BASELINE_STACK = "baseball-playback-account-baseline"


@dataclass(frozen=True)
class Result:
    item: str
    subject: str
    status: str
    """PASS, FAIL or SKIP (the item does not apply to this environment)."""
    detail: str
    fix: str = ""
    """What to do about a failure."""


def passed(item: str, subject: str, detail: str) -> Result:
    return Result(item, subject, PASS, detail)


def failed(item: str, subject: str, detail: str, fix: str) -> Result:
    return Result(item, subject, FAIL, detail, fix)


def skipped(item: str, subject: str, detail: str) -> Result:
    return Result(item, subject, SKIP, detail)


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    physical_id: str


@dataclass(frozen=True)
class Deployed:
    """A deployed environment as the checks read it."""

    env: Environment
    region: str
    client: Callable[[str], object]
    """A boto3 client of a service, in the environment's account and region."""
    outputs: Mapping[str, str]
    """The root stack's outputs."""
    resources: tuple[Resource, ...]
    """The resources of the root stack and of its nested stacks, at any depth."""
    baseline_stack: str = BASELINE_STACK

    def of_type(self, resource_type: str) -> list[Resource]:
        return [r for r in self.resources if r.type == resource_type]

    def output_naming(self, value: str) -> str:
        """The root output whose value is `value` (a secret's ARN ...), else `value`."""
        return next((k for k, v in sorted(self.outputs.items()) if v == value), value)


def stack_resources(cfn, stack: str) -> list[Resource]:
    """The resources of `stack` and of its nested stacks (ListStackResources)."""
    found = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
        for summary in page["StackResourceSummaries"]:
            if not summary.get("PhysicalResourceId"):
                continue
            found.append(
                Resource(
                    summary["LogicalResourceId"],
                    summary["ResourceType"],
                    summary["PhysicalResourceId"],
                )
            )
            if summary["ResourceType"] == "AWS::CloudFormation::Stack":
                found += stack_resources(cfn, summary["PhysicalResourceId"])
    return found


def _checks():
    from playback_infra.verify import data, images, monitoring, secrets

    return (
        ("rotation", secrets.rotation),
        ("image architecture", images.architectures),
        ("running tasks", images.running_tasks),
        ("backup copies", data.backup_copies),
        ("cache", data.caches),
        ("canary", monitoring.canaries),
        ("alarms", monitoring.alarms),
        ("trail", monitoring.trail),
    )


def run(deployed: Deployed) -> list[Result]:
    """Every check's results; a check AWS answers with an error fails with that error."""
    from botocore.exceptions import BotoCoreError, ClientError

    results = []
    for item, check in _checks():
        try:
            results += check(deployed)
        except (BotoCoreError, ClientError) as error:
            results.append(
                failed(
                    item,
                    deployed.env.name,
                    f"AWS answered: {error}",
                    "access denied: the profile needs the actions docs/verify.md lists; a "
                    "resource not found: deploy the environment again",
                )
            )
    return results


def counts(results: list[Result]) -> dict[str, int]:
    return {
        "passed": sum(r.status == PASS for r in results),
        "failed": sum(r.status == FAIL for r in results),
        "not_applicable": sum(r.status == SKIP for r in results),
    }


def text_report(deployed: Deployed, results: list[Result]) -> str:
    marks = {PASS: "ok  ", FAIL: "FAIL", SKIP: "--  "}
    width = max((len(r.item) for r in results), default=0)
    lines = [f"verify {deployed.env.name}: {deployed.env.stack_name} in {deployed.region}"]
    for r in results:
        lines.append(f"{marks[r.status]} {r.item:<{width}}  {r.subject}: {r.detail}")
        if r.fix:
            lines.append(f"       fix: {r.fix}")
    lines.append(", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts(results).items()))
    return "\n".join(lines)


def json_report(deployed: Deployed, results: list[Result]) -> str:
    return json.dumps(
        {
            "environment": deployed.env.name,
            "stack": deployed.env.stack_name,
            "region": deployed.region,
            "results": [dataclasses.asdict(r) for r in results],
            **counts(results),
        },
        indent=2,
    )


def verify(args: argparse.Namespace) -> int:
    from playback_infra.verify import secrets

    if args.rotate_timeout <= 0:
        raise UsageError(f"--rotate-timeout {args.rotate_timeout:g}: give seconds above 0")
    env = environment(args.env)
    with aws_errors(f"verify {env.name}: "):
        aws, outputs = deployed_environment(
            args, env, "verify reads the deployed environment", needed=()
        )
        client = functools.cache(
            lambda service: aws.client(service, endpoint_url=args.endpoint_url)
        )
        deployed = Deployed(
            env=env,
            region=aws.region_name,
            client=client,
            outputs=outputs,
            resources=tuple(stack_resources(client("cloudformation"), env.stack_name)),
            baseline_stack=args.baseline_stack or BASELINE_STACK,
        )
        results = secrets.rotate(deployed, tuple(args.rotate or ()), args.rotate_timeout)
        results += run(deployed)
    report = json_report if args.format == "json" else text_report
    print(report(deployed, results))
    return EXIT_FAILED if any(r.status == FAIL for r in results) else EXIT_OK
