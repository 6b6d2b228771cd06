"""`playback-infra deploy`: the path a user takes, run for them.

1. The committed templates must match the code (else: run `make synth`).
2. Deploy the environment's edge-global stack (certificate and WAF for CloudFront) to
   us-east-1 the same way as below, and keep its outputs for the root's parameters.
3. Package: upload each nested template to S3 and point the root at it, as
   `aws cloudformation package` does (path-style URLs, which it also writes).
4. Create a change set for the root stack with the environment's parameter file (but the image
   tags the pipelines released, which a deployed stack keeps: `KEPT`), show it,
   execute it (asking first on a real account unless --yes), stream the stack events of the
   root and nested stacks, and print the outputs.

With neither --endpoint-url nor --profile, the environment goes into the checkout's local
emulator (`emulator/process.py`: started in the background on 127.0.0.1 if it is not running,
and left running with what was deployed, so the next deploy compares with it).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from playback_infra.environments.catalog import environments
from playback_infra.environments.model import ConfigError, Environment, Problem, validate_catalog
from playback_infra.environments.parameters import DEPLOY_TIME
from playback_infra.environments.web import EDGE_REGION
from playback_infra.errors import DeployError
from playback_infra.parts import values
from playback_infra.parts.delivery import PACKAGED_TEMPLATES_PREFIX
from playback_infra.parts.values import VALUES
from playback_infra.suggest import did_you_mean
from playback_infra.synth import NESTED, Rendered, committed_ranges, differences, render

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]  # roles; LanguageExtensions
EMULATOR_BUCKET = "playback-infra-artifacts"
POLL_SECONDS = 1.0
TIMEOUT_SECONDS = 3 * 3600  # RDS and CloudFront make first deployments long
EDGE_TEMPLATE = "edge-global"
# Templates `deploy` sends in the request body (TemplateBody), not from S3: the AWS contracts'
# limits rule keeps each under CloudFormation's inline size with a margin.
SENT_INLINE = (EDGE_TEMPLATE,)
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


def deploy(args: argparse.Namespace) -> int:
    env = environment(args.env)
    rendered = render()
    stale = differences(rendered.files, args.root)
    if stale:
        raise ConfigError(
            [
                Problem(
                    env.name,
                    "templates",
                    f"{', '.join(stale)} differ from the code; run `make synth` first",
                )
            ]
        )
    region = env.region
    if args.endpoint_url or args.profile:
        return _guarded_run(args, env, rendered.templates, region, args.endpoint_url)
    from playback_infra.emulator.process import BACKGROUND_DIR, EmulatorError, start_background

    try:
        emulator = start_background(args.root / BACKGROUND_DIR)
    except EmulatorError as error:
        raise DeployError(str(error)) from error
    print(emulator.describe(region))
    return _guarded_run(args, env, rendered.templates, region, emulator.endpoint)


def _guarded_run(args, env: Environment, templates: dict, region: str, endpoint: str | None) -> int:
    """`_run`, with AWS's refusals turned into a DeployError."""
    with aws_errors():
        return _run(args, env, templates, region, endpoint)


@contextlib.contextmanager
def aws_errors(context: str = "") -> Iterator[None]:
    """Turn AWS's (or the emulator's) refusals into a DeployError, `context` first."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise DeployError(f"{context}{error}") from error


def check_image_tag(env: Environment, parameter: str, tag: str, option: str) -> None:
    """A ConfigError unless `tag` matches `parameter`'s own AllowedPattern (no `latest`)."""
    if not re.match(VALUES[parameter].allowed_pattern, tag):
        raise ConfigError(
            [Problem(env.name, option, f"{tag!r} is not an image tag {parameter} accepts (letters, digits, . _ -, up to 128, not latest)")]
        )  # fmt: skip


def environment(name: str) -> Environment:
    envs = validate_catalog(environments(), committed_ranges)
    if name not in envs:
        hint = did_you_mean(name, envs, end="? ")
        raise ConfigError(
            [Problem(name, "env", f"unknown environment; {hint}known: {', '.join(envs)}")]
        )
    return envs[name]


def session(args: argparse.Namespace, region: str, endpoint: str | None):
    import boto3

    if endpoint and not args.profile:
        return boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=region
        )
    return boto3.session.Session(profile_name=args.profile, region_name=region)


def require_deployed(args, env: Environment, field: str, why: str) -> None:
    """Refuse, naming `field`, a command that reads a deployed stack but was given neither a
    real account nor an emulator."""
    if not (args.endpoint_url or args.profile):
        raise ConfigError(
            [
                Problem(
                    env.name,
                    field,
                    f"{why}: give --profile (a real account) or --endpoint-url (an emulator)",
                )
            ]
        )


def deployed_environment(args, env: Environment, why: str, needed: tuple[str, ...]):
    """For a command on the deployed environment (run inside `aws_errors`): a session in its
    region and the root stack's outputs, which must include `needed`."""
    require_deployed(args, env, "profile", why)
    aws = session(args, env.region, args.endpoint_url)
    outputs = stack_outputs(
        aws.client("cloudformation", endpoint_url=args.endpoint_url), env.stack_name
    )
    missing = [name for name in needed if name not in outputs]
    if missing:
        raise DeployError(
            f"{env.stack_name} has no output {', '.join(missing)}; deploy the current templates first"
        )
    return aws, outputs


def _check_account(args, env: Environment, region: str, endpoint: str | None) -> None:
    """On a real account (no endpoint): the environment's account, and an artifact bucket."""
    if endpoint is not None:
        return
    sts = session(args, region, endpoint).client("sts")
    account = sts.get_caller_identity()["Account"]
    if account != env.account_id:
        raise ConfigError(
            [
                Problem(
                    env.name,
                    "account_id",
                    f"credentials are for account {account}, but {env.name} deploys to {env.account_id}; use that account's profile",
                )
            ]
        )
    if not args.artifact_bucket:
        raise ConfigError(
            [
                Problem(
                    env.name,
                    "artifact-bucket",
                    "a real account needs --artifact-bucket (an S3 bucket you own in the region)",
                )
            ]
        )


def prepare(args, env: Environment, root: dict, region: str, endpoint: str | None):
    """Check the account, package the templates (`root`: the root template as a dict); the
    CloudFormation client and the root's URL."""
    _check_account(args, env, region, endpoint)
    aws = session(args, region, endpoint)
    s3 = aws.client("s3", endpoint_url=endpoint)
    bucket = args.artifact_bucket or EMULATOR_BUCKET
    if endpoint is not None:
        _ensure_bucket(s3, bucket, region)
    url_base = endpoint or f"https://s3.{region}.amazonaws.com"
    root_url = package(s3, bucket, url_base, args.root, root)
    return aws.client("cloudformation", endpoint_url=endpoint), root_url


def _run(args, env: Environment, templates: dict, region: str, endpoint: str | None) -> int:
    _check_account(args, env, region, endpoint)
    if endpoint is not None:
        from playback_infra.emulator.zones import ensure_zones

        ensure_zones(session(args, region, endpoint).client("route53", endpoint_url=endpoint), env)
    edge_outputs = _deploy_edge(args, env, endpoint)
    if edge_outputs is None:
        return EXIT_FAILED
    cfn, root_url = prepare(args, env, templates["root"].to_dict(), region, endpoint)
    parameter_file = root_parameter_file(args.root, env, edge_outputs)
    keep_released_images(parameter_file["Parameters"], live_parameters(cfn, env.stack_name))
    code = _deploy_stack(
        args, cfn, env.stack_name, {"TemplateURL": root_url}, parameter_file, endpoint
    )
    if code == EXIT_OK:
        _record_commit(args, env, region, endpoint)
    return code


def _record_commit(args, env: Environment, region: str, endpoint: str | None) -> None:
    """Record the deployed commit in the environment (deployed_commit.py), when the deployed
    templates and parameter files are the checkout's HEAD."""
    from playback_infra import deployed_commit
    from playback_infra.checks.base import committed_head

    commit = committed_head(args.root)
    if commit is None:
        print(
            f"{env.name}: not recorded as a deployed commit (not a commit's templates and parameters)"
        )
        return
    deployed_commit.record(
        session(args, region, endpoint).client("ssm", endpoint_url=endpoint), env, commit
    )
    print(f"{env.name}: recorded {commit[:12]} as deployed ({deployed_commit.parameter_name(env)})")


def _deploy_edge(args, env: Environment, endpoint: str | None) -> dict[str, str] | None:
    """Deploy the environment's edge-global stack to us-east-1; its outputs, or None."""
    cfn = _edge_cloudformation(args, endpoint)
    body = (args.root / "templates" / f"{EDGE_TEMPLATE}.yaml").read_text()
    parameter_file = json.loads(
        (args.root / "parameters" / EDGE_TEMPLATE / f"{env.name}.json").read_text()
    )
    stack_name = edge_stack_name(env)
    template = {"TemplateBody": body}
    if _deploy_stack(args, cfn, stack_name, template, parameter_file, endpoint) != EXIT_OK:
        return None
    return stack_outputs(cfn, stack_name)


def _edge_cloudformation(args, endpoint: str | None):
    """CloudFormation in us-east-1, where every environment's edge-global stack lives."""
    return session(args, EDGE_REGION, endpoint).client("cloudformation", endpoint_url=endpoint)


def edge_stack_name(env: Environment) -> str:
    return f"{env.stack_name}-{EDGE_TEMPLATE}"


def edge_outputs_of(args, env: Environment, endpoint: str | None) -> dict[str, str]:
    """The deployed edge-global stack's outputs (for a change set of the root, not executed)."""
    cfn = _edge_cloudformation(args, endpoint)
    if stack_status(cfn, edge_stack_name(env)) is None:
        raise DeployError(
            f"{edge_stack_name(env)} is not deployed in {EDGE_REGION}; run `playback-infra deploy --env {env.name}` first"
        )
    return stack_outputs(cfn, edge_stack_name(env))


def root_parameter_file(base: Path, env: Environment, edge_outputs: dict[str, str]) -> dict:
    """The environment's parameter file with the edge-global outputs it leaves to deploy time."""
    content = json.loads((base / "parameters" / f"{env.name}.json").read_text())
    content["Parameters"].update({name: edge_outputs[name] for name in DEPLOY_TIME})
    return content


def _deploy_stack(
    args, cfn, stack_name: str, template: dict, parameter_file: dict, endpoint: str | None
) -> int:
    """Create a change set, show it, execute it (asking first on a real account unless --yes),
    follow the events and print the outputs."""
    name, described = change_set(cfn, stack_name, {**template, **as_request(parameter_file)})
    if name is None:
        print(f"{stack_name}: no changes")
        _print_outputs(cfn, stack_name)
        return EXIT_OK
    print_change_set(name, stack_name, described)
    if (
        endpoint is None
        and not args.yes
        and input("Execute this change set? [y/N] ").strip().lower() != "y"
    ):
        print("not executed; the change set stays for review")
        return EXIT_FAILED
    return execute(cfn, stack_name, name)


def execute(cfn, stack_name: str, name: str) -> int:
    """Execute a change set, follow the events until the stack settles, print the outputs, or
    the first failed resource's reason last."""
    started = time.time()
    cfn.execute_change_set(ChangeSetName=name, StackName=stack_name)
    status, failure = _follow(cfn, stack_name, started)
    print(f"{stack_name}: {status} in {time.time() - started:.0f} s")
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        if failure:
            print(
                f"cause: {failure['StackName']} {failure['LogicalResourceId']} "
                f"({failure['ResourceType']}) {failure['ResourceStatus']}:\n"
                f"  {failure.get('ResourceStatusReason', 'no reason given')}"
            )
        return EXIT_FAILED
    _print_outputs(cfn, stack_name)
    return EXIT_OK


def _ensure_bucket(s3, bucket: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        extra = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=bucket, **extra)


def package(s3, bucket: str, url_base: str, base: Path, root: dict) -> str:
    """Upload the committed nested templates and a root pointing at them; returns its URL.

    Keys are content hashes, as `aws cloudformation package` makes them, so an unchanged
    child keeps its URL and CloudFormation sees no change in it.
    """

    def upload(body: str) -> str:
        key = f"{PACKAGED_TEMPLATES_PREFIX}{hashlib.sha256(body.encode()).hexdigest()}.template"
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
        return f"{url_base}/{bucket}/{key}"

    root = json.loads(json.dumps(root))  # the caller's copy keeps its local TemplateURLs
    for title, (name, _) in NESTED.items():
        child = (base / "templates" / f"{name}.yaml").read_text()
        root["Resources"][title]["Properties"]["TemplateURL"] = upload(child)
    return upload(json.dumps(root, indent=1, sort_keys=True))


# Released by the pipelines once the stack exists (`release-image`, the jobs image of `plan`):
# a deployment keeps the deployed values, whatever the parameter file says.
KEPT = (values.IMAGE_TAG, values.JOBS_IMAGE_TAG)


def live_parameters(cfn, stack_name: str) -> dict[str, str]:
    """The deployed root stack's parameter values; empty before its first deployment."""
    stack = described_stack(cfn, stack_name)
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return {}
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}


def keep_released_images(parameters: dict[str, str], live: dict[str, str]) -> None:
    parameters.update({k: live[k] for k in KEPT if k in live})


def described_stack(cfn, stack_name: str) -> dict | None:
    """DescribeStacks' answer for the stack; None when it does not exist."""
    try:
        return cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except cfn.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def stack_status(cfn, stack_name: str) -> str | None:
    stack = described_stack(cfn, stack_name)
    return None if stack is None else stack["StackStatus"]


def print_change_set(name: str, stack_name: str, described: dict) -> None:
    """The root's changes, one line each (nested stacks' own are in their change sets)."""
    print(f"change set {name} for {stack_name}:")
    for change in described.get("Changes", []):
        rc = change["ResourceChange"]
        replacement = f" (replacement: {rc['Replacement']})" if rc.get("Replacement") else ""
        print(
            f"  {rc['Action']:<8} {rc['LogicalResourceId']:<32} {rc['ResourceType']}{replacement}"
        )


def as_request(parameter_file: dict) -> dict:
    """A parameter file as CreateChangeSet's Parameters and Tags."""
    return {
        "Parameters": [
            {"ParameterKey": k, "ParameterValue": v}
            for k, v in parameter_file["Parameters"].items()
        ],
        "Tags": [{"Key": k, "Value": v} for k, v in parameter_file["Tags"].items()],
    }


def change_set(
    cfn, stack_name: str, request: dict, name: str | None = None
) -> tuple[str | None, dict]:
    """Create a change set and wait for it: (name, description), or (None, {}) with no changes
    (the empty change set deleted). `request` holds the template ({"TemplateURL": ...},
    {"TemplateBody": ...} or {"UsePreviousTemplate": True}), Parameters and Tags."""
    status = stack_status(cfn, stack_name)
    name = name or f"playback-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    cfn.create_change_set(
        StackName=stack_name,
        ChangeSetName=name,
        ChangeSetType="CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE",
        Capabilities=CAPABILITIES,
        IncludeNestedStacks=True,
        **request,
    )
    while True:
        described = cfn.describe_change_set(StackName=stack_name, ChangeSetName=name)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            break
        time.sleep(POLL_SECONDS)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        if any(marker in reason for marker in NO_CHANGES):
            cfn.delete_change_set(StackName=stack_name, ChangeSetName=name)
            return None, {}
        raise DeployError(f"change set {name} failed: {reason}")
    return name, described


def _events(cfn, stack_id: str, since: float) -> Iterator[dict]:
    """The stack's events from `since` on. DescribeStackEvents answers newest first
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackEvents.html),
    so no page after one that reaches back before `since` is asked for."""
    with contextlib.suppress(cfn.exceptions.ClientError):
        for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack_id):
            events = page["StackEvents"]
            yield from (e for e in events if e["Timestamp"].timestamp() >= since)
            if any(e["Timestamp"].timestamp() < since for e in events):
                return


def _first_failure(events: list[dict]) -> dict | None:
    """The earliest failed resource (a nested stack's own failure only repeats its resource's)."""
    failed = [e for e in events if e["ResourceStatus"].endswith("_FAILED")]
    resources = [e for e in failed if e["ResourceType"] != "AWS::CloudFormation::Stack"]
    return (resources or failed or [None])[0]


def _follow(cfn, stack_name: str, since: float) -> tuple[str, dict | None]:
    """Print the events of the root and its nested stacks in time order, as they come, until the
    root settles; its status and the first failed resource's event."""
    seen: set[str] = set()
    stacks = [stack_name]
    printed: list[dict] = []
    width = len(stack_name)

    def print_new_events() -> None:
        nonlocal width
        fresh, asked = [], 0
        while asked < len(stacks):  # a nested stack found in this pass is asked in this pass
            for event in reversed(list(_events(cfn, stacks[asked], since - 5))):  # oldest first
                if event["EventId"] in seen:
                    continue
                seen.add(event["EventId"])
                fresh.append(event)
                nested = event.get("PhysicalResourceId")
                if (
                    event["ResourceType"] == "AWS::CloudFormation::Stack"
                    and event["LogicalResourceId"] != event["StackName"]  # not its own event
                    and nested
                    and nested not in stacks
                ):
                    stacks.append(nested)
            asked += 1
        for event in sorted(fresh, key=lambda e: e["Timestamp"]):
            width = max(width, len(event["StackName"]))
            reason = event.get("ResourceStatusReason")
            print(
                f"{event['Timestamp']:%H:%M:%S} {event['StackName']:<{width}} "
                f"{event['LogicalResourceId']:<36} {event['ResourceStatus']}"
                + (f"  {reason}" if reason else "")
            )
            printed.append(event)

    deadline = time.time() + TIMEOUT_SECONDS
    while True:
        status = stack_status(cfn, stack_name) or "DELETE_COMPLETE"
        print_new_events()
        if not status.endswith("_IN_PROGRESS") or time.time() > deadline:
            return status, _first_failure(sorted(printed, key=lambda e: e["Timestamp"]))
        time.sleep(POLL_SECONDS)


def stack_outputs(cfn, stack_name: str) -> dict[str, str]:
    outputs = cfn.describe_stacks(StackName=stack_name)["Stacks"][0].get("Outputs", [])
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}


def _print_outputs(cfn, stack_name: str) -> None:
    for key, value in sorted(stack_outputs(cfn, stack_name).items()):
        print(f"  {key:<32} {value}")


# AWS's answer for a resource in a change set, in the replacement guard's words.
_LIVE_ACTIONS = {"Add": "add", "Remove": "delete", "Dynamic": "update"}
_REPLACEMENT = {"True": "replace", "Conditional": "may replace", "False": "update"}
HIDDEN = "****"  # how DescribeStacks shows a NoEcho parameter's value


def decode(body: str | dict) -> dict:
    """A template as GetTemplate or a file gives it (YAML or JSON text, or parsed)."""
    if isinstance(body, dict):
        return body
    from cfnlint.decode import decode_str

    template, problems = decode_str(body)
    if template is None:
        raise DeployError(f"a template does not parse: {problems}")
    return json.loads(json.dumps(template, default=str))


def nested_changes(cfn, described: dict, env_name: str):
    """Every resource change of a change set and of its nested stacks' change sets, with AWS's
    own Replacement answer, as the replacement guard's Changes. A nested stack whose change
    set AWS does not give (the emulator gives none) is one change of the root."""
    from playback_infra.checks.replacement import Change, PropertyChange

    titles = {title: name for title, (name, _) in NESTED.items()}
    changes: list[Change] = []

    def collect(description: dict, stack: str) -> None:
        for item in description.get("Changes", []):
            rc = item["ResourceChange"]
            if rc["ResourceType"] == "AWS::CloudFormation::Stack" and rc.get("ChangeSetId"):
                nested = cfn.describe_change_set(ChangeSetName=rc["ChangeSetId"])
                collect(nested, titles.get(rc["LogicalResourceId"], rc["LogicalResourceId"]))
                continue
            action = _LIVE_ACTIONS.get(rc["Action"]) or _REPLACEMENT.get(
                rc.get("Replacement", "False"), "update"
            )
            named = dict.fromkeys(
                d["Target"]["Name"]
                for d in rc.get("Details", [])
                if d.get("Target", {}).get("Name")
            )
            changes.append(Change(stack, rc["LogicalResourceId"], rc["ResourceType"], action,
                                  tuple(PropertyChange(name, action=action) for name in named), env_name))  # fmt: skip

    collect(described, "root")
    return changes


def deployed_stacks(
    cfn, env: Environment, templates: dict[str, dict], parameters: dict[str, str], live: dict
):
    """The deployed root and nested stacks resolved with their live parameter values (`live`:
    the root's, `live_parameters`), and the same stacks as `templates` and `parameters` would
    deploy them (a value the root passes that only the deployment knows, a sibling's output,
    is taken from the deployed stack)."""
    from playback_infra.checks import resolved

    old_templates = {"root": decode(cfn.get_template(StackName=env.stack_name)["TemplateBody"])}
    known: dict[str, dict[str, str]] = {}
    titles = {}
    for item in cfn.describe_stack_resources(StackName=env.stack_name)["StackResources"]:
        title = item["LogicalResourceId"]
        if title in NESTED and item.get("PhysicalResourceId"):
            name = titles[title] = NESTED[title][0]
            old_templates[name] = decode(
                cfn.get_template(StackName=item["PhysicalResourceId"])["TemplateBody"]
            )
            nested = described_stack(cfn, item["PhysicalResourceId"]) or {}
            known[name] = {
                p["ParameterKey"]: p["ParameterValue"]
                for p in nested.get("Parameters", [])
                if p["ParameterValue"] != HIDDEN
            }
    # A NoEcho value reads back hidden: taken as unchanged.
    old_parameters = {k: parameters.get(k, v) if v == HIDDEN else v for k, v in live.items()}
    old = resolved.deployment(old_templates, old_parameters, titles, known)
    new = resolved.deployment(templates, parameters, {t: n for t, (n, _) in NESTED.items()}, known)
    return old, new


def with_static_answers(aws: list, static: list) -> list:
    """AWS's changes, told with the code's comparison of the deployed stacks (`static`):
    a nested stack AWS gives no change set for becomes its resources' changes; a change both
    see keeps AWS's action unless AWS says only "may replace" or "update", where the code's
    decision (checks/conditional_replacement.py) and its old and new values are used; a
    change only the code sees is kept too."""
    from dataclasses import replace

    from playback_infra.checks.replacement import UNDECIDED, UPDATE

    by_resource = {(c.stack, c.logical_id): c for c in static}
    told = []
    for change in aws:
        if change.stack == "root" and change.logical_id in NESTED:
            told += [c for c in static if c.stack == NESTED[change.logical_id][0]]
            continue
        found = by_resource.get((change.stack, change.logical_id))
        if found is None or change.action in ("add", "delete"):
            told.append(change)
        elif change.action in (UNDECIDED, UPDATE):
            told.append(found)
        else:
            told.append(replace(found, action=change.action))
    seen = {(c.stack, c.logical_id) for c in told}
    return told + [c for c in static if (c.stack, c.logical_id) not in seen]


def live_changes(args: argparse.Namespace, rendered: Rendered):
    """`diff --live`: a change set against the deployed environment, not executed, with AWS's
    own Replacement answer for every resource of every nested stack, told with the code's
    comparison of the deployed stacks (`rendered`: what the code renders now); the base and
    the environment's one Section."""
    from playback_infra.checks.base import Base, Section
    from playback_infra.checks.replacement import compare

    env = environment(args.env)
    region = env.region
    require_deployed(args, env, "live", "--live compares with a deployed stack")
    with aws_errors():
        cfn, root_url = prepare(args, env, rendered.dicts["root"], region, args.endpoint_url)
        parameter_file = json.loads(rendered.files[f"parameters/{env.name}.json"])
        parameter_file["Parameters"].update(
            {
                k: v
                for k, v in edge_outputs_of(args, env, args.endpoint_url).items()
                if k in DEPLOY_TIME
            }
        )
        live = live_parameters(cfn, env.stack_name)
        keep_released_images(parameter_file["Parameters"], live)
        request = {"TemplateURL": root_url, **as_request(parameter_file)}
        base = Base("", env.stack_name, "the deployed stack, through a change set never executed")
        name, described = change_set(cfn, env.stack_name, request)
        if name is None:
            return base, [Section(env.name, base, [])]
        static = compare(
            *deployed_stacks(cfn, env, rendered.dicts, parameter_file["Parameters"], live),
            env.name,
        )
        changes = with_static_answers(nested_changes(cfn, described, env.name), static)
        cfn.delete_change_set(StackName=env.stack_name, ChangeSetName=name)
        return base, [Section(env.name, base, changes)]
