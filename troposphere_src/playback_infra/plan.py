"""`playback-infra plan`: the change set an environment's pipeline stage shows and executes.

Runs on the Build artifact, so it plans exactly the committed templates and parameter file
that were checked and tested: packages the nested templates, keeps the deployed root stack's
ImageTag and JobsImageTag (the backend pipeline owns them once the stack exists), creates the
root change set with its nested stacks' change sets and prints it, without executing it.

`--jobs-image-tag` sets JobsImageTag instead (the infrastructure pipeline builds the jobs image
from this repository); empty, the deployed one is kept.

It refuses (exit 1, the change set kept for review) what the replacement guard refuses
(checks/replacement.py: a stateful resource replaced, removed or left undecided, an update AWS
refuses; its allow-list), from two answers (deploy.with_static_answers): AWS's own, in the
nested change sets, and the code's, comparing the deployed stacks (templates and live
parameters) with the new ones, which decides AWS's "Conditional" and stands in for the nested
change sets the emulator does not give. A change set without changes is deleted. `--exports FILE` writes CHANGE_SET_NAME, CHANGE_SET_URL and
HAS_CHANGES as shell `export` lines for CodeBuild's exported variables.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from pathlib import Path
from urllib.parse import quote

from playback_infra.checks import replacement
from playback_infra.deploy import (
    EXIT_FAILED,
    EXIT_OK,
    KEPT,
    as_request,
    aws_errors,
    change_set,
    check_image_tag,
    decode,
    deployed_stacks,
    edge_outputs_of,
    environment,
    keep_released_images,
    live_parameters,
    nested_changes,
    prepare,
    print_change_set,
    require_deployed,
    root_parameter_file,
    stack_status,
    with_static_answers,
)
from playback_infra.environments.model import ConfigError, Problem
from playback_infra.parts import values
from playback_infra.synth import NESTED

# What --exports writes, for CodeBuild's exported variables (pipeline/plan.yml).
EXPORTS = ("CHANGE_SET_NAME", "CHANGE_SET_URL", "HAS_CHANGES")


def committed_templates(root: Path) -> dict[str, dict]:
    """The committed templates (name -> template dict), as the replacement guard reads them."""
    names = ["root", *(name for name, _ in NESTED.values())]
    return {name: decode((root / "templates" / f"{name}.yaml").read_text()) for name in names}


def console_url(region: str, described: dict) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/cloudformation/home?region={region}"
        f"#/stacks/changesets/changes?stackId={quote(described['StackId'], safe='')}"
        f"&changeSetId={quote(described['ChangeSetId'], safe='')}"
    )


def _write_exports(path: str | None, *exported: str) -> None:
    """Print EXPORTS with their values and write them to `path` as shell exports."""
    exported = dict(zip(EXPORTS, exported, strict=True))
    for key, value in exported.items():
        print(f"{key}={value}")
    if path:
        Path(path).write_text(
            "".join(f"export {k}={shlex.quote(v)}\n" for k, v in exported.items())
        )


def plan(args: argparse.Namespace) -> int:
    env = environment(args.env)
    require_deployed(args, env, "profile", "plan creates a change set in the environment")
    region = env.region
    if args.jobs_image_tag:
        check_image_tag(env, values.JOBS_IMAGE_TAG, args.jobs_image_tag, "jobs-image-tag")
    if not (args.root / "templates" / "root.yaml").is_file():
        raise ConfigError(
            [Problem(env.name, "root", f"{args.root} has no templates/root.yaml; run plan in the Build artifact or give --root")]
        )  # fmt: skip
    templates = committed_templates(args.root)
    with aws_errors(f"plan for {env.name}: "):
        cfn, root_url = prepare(args, env, templates["root"], region, args.endpoint_url)
        edge = (
            {values.SITE_CERTIFICATE_ARN: args.site_certificate_arn,
             values.SITE_WEB_ACL_ARN: args.site_web_acl_arn}
            if args.site_certificate_arn and args.site_web_acl_arn
            else edge_outputs_of(args, env, args.endpoint_url)
        )  # fmt: skip
        parameter_file = root_parameter_file(args.root, env, edge)
        parameters = parameter_file["Parameters"]
        status = stack_status(cfn, env.stack_name)
        deployed = status not in (None, "REVIEW_IN_PROGRESS")
        live = live_parameters(cfn, env.stack_name)
        keep_released_images(parameters, live)
        if args.jobs_image_tag:
            parameters[values.JOBS_IMAGE_TAG] = args.jobs_image_tag
        static = (
            replacement.compare(*deployed_stacks(cfn, env, templates, parameters, live), env.name)
            if deployed
            else []
        )
        print(f"{env.name}: image tags {', '.join(f'{k}={parameters[k]}' for k in KEPT)}")
        if args.change_set_name and status is not None:
            # CreateChangeSet refuses a name in use: the previous run's is replaced.
            with contextlib.suppress(cfn.exceptions.ClientError):
                cfn.delete_change_set(StackName=env.stack_name, ChangeSetName=args.change_set_name)
        request = {"TemplateURL": root_url, **as_request(parameter_file)}
        name, described = change_set(cfn, env.stack_name, request, args.change_set_name)
        if name is None:
            print(f"{env.stack_name}: no changes; the empty change set was deleted")
            _write_exports(args.exports, "", "", "false")
            return EXIT_OK
        print_change_set(name, env.stack_name, described)
        changes = with_static_answers(nested_changes(cfn, described, env.name), static)
    for change in changes:
        if change.stack != "root":
            print(
                f"  {change.stack}: {change.action:<11} {change.logical_id} ({change.resource_type})"
            )
    strategy = {env.name: parameters.get(values.DEPLOYMENT_STRATEGY, "")}
    refused = replacement.refusals(args.root, changes, templates, strategy)
    url = console_url(region, described)
    if refused:
        for message in refused:
            print(f"REFUSED {message}", file=sys.stderr)
        print(f"the change set stays for review, not to be executed: {url}", file=sys.stderr)
        return EXIT_FAILED
    _write_exports(args.exports, name, url, "true")
    return EXIT_OK
