"""`playback-infra`: synth, check, diff, parameters, cost, deploy, plan, migrate,
release-image, publish-site, frontend-config, smoke, import-retrosheet, diagram.

Exit codes: 0 success; 1 a check, the deployment or the change set failed; 2 bad usage or
bad environment configuration (nothing was written).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from playback_infra.environments.model import ConfigError
from playback_infra.errors import DeployError

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def _synth(args: argparse.Namespace) -> int:
    from playback_infra.synth import render, write

    rendered = render()
    changed = write(rendered.files, args.root)
    print(
        f"synth: {len(rendered.files)} files, {len(changed)} changed"
        + "".join(f"\n  {c}" for c in changed)
    )
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from playback_infra.checks.cache import Cache
    from playback_infra.checks.runner import run_all
    from playback_infra.synth import render

    rendered = render()
    store = Cache(None) if args.no_cache else Cache.default()
    ok = True
    for result in run_all(args.root, rendered.files, rendered.dicts, rendered.environments, store):
        how = f"{result.seconds:.1f} s" + (f"; {result.note}" if result.note else "")
        print(f"{'ok  ' if result.ok else 'FAIL'} {result.name}: {result.summary} ({how})")
        for detail in result.details:
            print(f"       {detail}")
        sys.stdout.flush()
        ok = ok and result.ok
    return EXIT_OK if ok else EXIT_FAILED


def _diff(args: argparse.Namespace) -> int:
    from playback_infra.checks import replacement
    from playback_infra.synth import render

    if args.live:
        from playback_infra.deploy import live_changes

        changes = live_changes(args)
        print(f"changes in the deployed {args.env} (AWS's change sets): {len(changes) or 'none'}")
    else:
        rendered = render()
        ref = args.base or replacement.default_base(args.root)
        try:
            changes = replacement.compare(args.root, ref, rendered.dicts, rendered.files)
        except replacement.BaseError as error:
            print(f"diff: {error}", file=sys.stderr)
            return EXIT_CONFIG
        print(f"changes since {ref}: {len(changes) or 'none'}")
    for change in changes:
        marker = "!!" if change.destructive else "  "
        print(f"{marker} {change.describe()}")
    allowed, problems = replacement.load_allowlist(args.root / replacement.ALLOWLIST)
    refused = problems + replacement.forbidden(changes, allowed)
    for message in refused:
        print(f"REFUSED {message}", file=sys.stderr)
    return EXIT_FAILED if refused else EXIT_OK


def _parameters(args: argparse.Namespace) -> int:
    from playback_infra.environments.overrides import render_overrides

    print(render_overrides(args.root, args.env, args.format, args.stack))
    return EXIT_OK


def _cost(args: argparse.Namespace) -> int:
    from playback_infra.cost.command import cost_report

    print(cost_report(args.root, args.env, args.format), end="")
    return EXIT_OK


def _frontend_config(args: argparse.Namespace) -> int:
    from playback_infra.frontend_config import frontend_config

    return frontend_config(args)


def _smoke(args: argparse.Namespace) -> int:
    from playback_infra.smoke import smoke

    return smoke(args)


def _import_retrosheet(args: argparse.Namespace) -> int:
    from retrosheet_importer.cli import run

    return run(args)


def _diagram(args: argparse.Namespace) -> int:
    from playback_infra import diagram
    from playback_infra.synth import render

    rendered = render()
    drawn = diagram.files(rendered.dicts, list(rendered.environments.values()))
    changed = []
    for relative, content in drawn.items():
        path = args.root / relative
        if not path.exists() or path.read_text() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            changed.append(relative)
    print(
        f"diagram: {len(drawn)} files, {len(changed)} changed"
        + "".join(f"\n  {c}" for c in changed)
    )
    return EXIT_OK


def _deploy(args: argparse.Namespace) -> int:
    from playback_infra.deploy import deploy

    return deploy(args)


def _later(module: str, function: str):
    """A subcommand's runner that imports its module only when that subcommand runs."""

    def run(args: argparse.Namespace) -> int:
        from importlib import import_module

        return getattr(import_module(f"playback_infra.{module}"), function)(args)

    return run


def _target(parser: argparse.ArgumentParser) -> None:
    """--env and where the deployed environment is: a real account's profile or an emulator."""
    parser.add_argument("--env", required=True, help="environment name, e.g. dev")
    parser.add_argument(
        "--profile", help="AWS profile of the environment's account (in CodeBuild: `target`)"
    )
    parser.add_argument("--endpoint-url", help="an AWS emulator the environment is deployed in")
    parser.add_argument("--region", help="region (default: the environment's)")


def _delivery_commands(commands) -> None:
    """The commands the pipelines' CodeBuild projects run (pipeline/*.yml)."""
    plan = commands.add_parser(
        "plan",
        help="create (not execute) the root change set from the committed templates",
        description="Package the committed nested templates, keep the deployed ImageTag and "
        "JobsImageTag, create the root change set with its nested stacks and print it. Exit 1 "
        "when it would replace or remove a stateful resource (the change set is kept for "
        "review); a change set without changes is deleted.",
    )
    _target(plan)
    plan.add_argument(
        "--artifact-bucket", help="bucket in the environment's region for the packaged templates"
    )
    plan.add_argument(
        "--change-set-name", help="name of the change set (replaces one of that name)"
    )
    plan.add_argument(
        "--site-certificate-arn", help="edge-global's SiteCertificateArn (default: read it)"
    )
    plan.add_argument("--site-web-acl-arn", help="edge-global's SiteWebAclArn (default: read it)")
    plan.add_argument(
        "--jobs-image-tag",
        default="",
        help="set JobsImageTag to this jobs image (default, or empty: keep the deployed one)",
    )
    plan.add_argument(
        "--exports",
        help="also write CHANGE_SET_NAME, CHANGE_SET_URL and HAS_CHANGES here as shell exports",
    )
    plan.set_defaults(run=_later("plan", "plan"))

    migrate = commands.add_parser(
        "migrate",
        help="run the database step (grants, then Knex migrations) as a one-off ECS task",
        description="Run `scripts/release.sh` in the environment's migration task (the jobs "
        "image: users and grants as the master user, then `knex migrate:latest` as the "
        "migration user) on the jobs cluster, print its log, exit 1 unless the container "
        "exited 0.",
    )
    _target(migrate)
    migrate.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds to wait before stopping the task and failing (default: 1800)",
    )
    migrate.set_defaults(run=_later("migrate", "migrate"))

    release = commands.add_parser(
        "release-image",
        help="deploy another backend image: only the root stack's ImageTag changes",
        description="A change set on the deployed root stack with its previous template, "
        "ImageTag set and every other parameter kept; refused unless it changes only the "
        "app's task definition and service; executed and followed.",
    )
    _target(release)
    release.add_argument("--image-tag", required=True, help="the backend image's tag in ECR")
    release.add_argument(
        "--image-wait-seconds",
        type=float,
        default=600.0,
        help="how long to wait for the image to reach this account's registry (replication; "
        "default: 600)",
    )
    release.set_defaults(run=_later("release", "release_image"))

    publish = commands.add_parser(
        "publish-site",
        help="upload a frontend build to the site bucket and invalidate what changed",
        description="Write config.json from the deployed stack, upload changed files with "
        "their cache headers, delete stale ones, invalidate the changed non-hashed paths.",
    )
    _target(publish)
    publish.add_argument(
        "--build-dir", required=True, help="the build's output directory (with index.html)"
    )
    publish.add_argument(
        "--build-version", required=True, help="the frontend build's commit SHA or release"
    )
    publish.set_defaults(run=_later("publish_site", "publish_site"))


def _parser() -> argparse.ArgumentParser:
    from playback_infra.paths import REPO_ROOT

    parser = argparse.ArgumentParser(
        prog="playback-infra",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--root",
        type=_path,
        default=REPO_ROOT,
        help="repository to read and write templates/ and parameters/ in (default: this checkout)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = commands.add_parser(
        "synth", help="write templates/ and parameters/ from the code (no checks)"
    )
    synth.set_defaults(run=_synth)

    check = commands.add_parser(
        "check",
        help="cfn-lint, checkov, IAM, suppression and in-sync checks",
        description="Run every check, printing each result as it is known, with its time: the "
        "in-process checks first, then cfn-lint and checkov (run side by side). Their results "
        "per template, and the replacement guard's base per commit, are cached outside git "
        "($PLAYBACK_CHECK_CACHE, else $XDG_CACHE_HOME or ~/.cache, under playback-infra/checks) "
        "and reused only while the template, the tool's installed packages, its configuration "
        "and the check's code are the same.",
    )
    check.add_argument(
        "--no-cache", action="store_true", help="check every template again; keep nothing"
    )
    check.set_defaults(run=_check)

    diff = commands.add_parser(
        "diff", help="what a change adds, updates, replaces or deletes, per stack and resource"
    )
    diff.add_argument("--base", help="git ref to compare with (default: the merge base with main)")
    diff.add_argument(
        "--live",
        action="store_true",
        help="compare with the deployed --env through change sets (not executed)",
    )
    diff.add_argument("--env", help="environment, with --live")
    diff.add_argument("--endpoint-url", help="with --live: an emulator")
    diff.add_argument("--profile", help="with --live: the real account's profile")
    diff.add_argument("--region", help="with --live: region (default: the environment's)")
    diff.add_argument(
        "--artifact-bucket", help="with --live on a real account: bucket for the templates"
    )
    diff.set_defaults(run=_diff)

    parameters = commands.add_parser(
        "parameters",
        help="print an environment's parameters for awscli v1 (Key=Value, one per line)",
    )
    parameters.add_argument("env", help="environment name, e.g. dev")
    parameters.add_argument(
        "--format",
        choices=("overrides", "tags"),
        default="overrides",
        help="overrides: --parameter-overrides values; tags: --tags values",
    )
    parameters.add_argument(
        "--stack",
        choices=("root", "edge-global"),
        default="root",
        help="the environment's root stack, or its edge-global stack (us-east-1)",
    )
    parameters.set_defaults(run=_parameters)

    cost = commands.add_parser(
        "cost",
        help="estimate an environment's monthly cost from its templates and parameter files",
        description="Estimate the monthly cost of an environment, line by line, from the "
        "generated templates and its parameter files (edge-global included), at the prices and "
        "usage assumptions of troposphere_src/playback_infra/cost/prices_us_east_1.json.",
    )
    cost.add_argument("--env", required=True, help="environment name, e.g. dev")
    cost.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: lines, total and assumptions for people; json: the same for scripts",
    )
    cost.set_defaults(run=_cost)

    deploy = commands.add_parser(
        "deploy",
        help="package and deploy an environment through a change set",
        description="Deploy an environment. With no --endpoint-url and no --profile, a local AWS "
        "emulator is started on 127.0.0.1 for the run and stopped afterwards.",
    )
    deploy.add_argument("--env", required=True, help="environment name, e.g. dev")
    deploy.add_argument(
        "--endpoint-url", help="an AWS emulator to deploy into instead of starting one"
    )
    deploy.add_argument("--profile", help="AWS profile of the real account to deploy to")
    deploy.add_argument("--region", help="region (default: the environment's)")
    deploy.add_argument(
        "--artifact-bucket", help="S3 bucket for packaged templates (created in an emulator)"
    )
    deploy.add_argument("--yes", action="store_true", help="execute the change set without asking")
    deploy.add_argument(
        "--keep-emulator",
        action="store_true",
        help="leave the started emulator running and print its endpoint",
    )
    deploy.set_defaults(run=_deploy)
    _delivery_commands(commands)

    frontend = commands.add_parser(
        "frontend-config",
        help="print the SPA's /config.json for a deployed environment",
        description="Print the single-page app's /config.json: API base path, environment, "
        "feature flags (from the environment model), site URL (from the deployed stack) and "
        "the build version.",
    )
    frontend.add_argument("--env", required=True, help="environment name, e.g. dev")
    frontend.add_argument(
        "--build-version", required=True, help="the frontend build's commit SHA or release"
    )
    frontend.add_argument("--endpoint-url", help="an AWS emulator the environment is deployed in")
    frontend.add_argument("--profile", help="AWS profile of the environment's account")
    frontend.add_argument("--region", help="region (default: the environment's)")
    frontend.set_defaults(run=_frontend_config)

    smoke = commands.add_parser(
        "smoke",
        help="check a deployed environment from outside (HTTPS, TLS, headers, SPA, API)",
        description="Post-deploy smoke tests against an environment's public URLs (from the "
        "environment model, or --url). Exit 0 when every check passes, 1 otherwise.",
    )
    smoke.add_argument("--env", required=True, help="environment name, e.g. dev")
    smoke.add_argument("--url", help="https:// URL of the site instead of the model's site_domain")
    smoke.add_argument("--http-url", help="http:// URL that must redirect (default: port 80)")
    smoke.add_argument(
        "--direct-api-url",
        help="https:// URL of the ALB by its own name, which must refuse (empty: skip)",
    )
    smoke.add_argument(
        "--game-id",
        default="NYA202303300",  # Opening Day 2023 at Yankee Stadium
        help="a game the API must know",
    )
    smoke.add_argument("--ca-file", help="trust these CA certificates instead of the system's")
    smoke.add_argument("--junit-xml", help="also write the results as a JUnit report here")
    smoke.set_defaults(run=_smoke)

    drawing = commands.add_parser(
        "diagram",
        help="draw the architecture, network-flow and security diagrams into docs/diagrams/",
        description="Draw docs/diagrams/{architecture,network-flow,security}.{dot,svg} from the "
        "rendered templates and the environment model (Graphviz's `dot` lays them out); "
        "unchanged files are not rewritten.",
    )
    drawing.set_defaults(run=_diagram)

    retrosheet = commands.add_parser(
        "import-retrosheet",
        help="validate a season's Retrosheet release and load it into the database",
        description="Import one season's Retrosheet release (event files, rosters, TEAMyyyy "
        "and their SHA256SUMS) into the replay database; the same as the jobs image's "
        "`python -m retrosheet_importer`. Exit codes: 0 imported or already imported, "
        "1 rejected or failed (the previous season is intact), 2 bad usage.",
    )
    _importer_arguments(retrosheet)
    retrosheet.set_defaults(run=_import_retrosheet)
    return parser


def _importer_arguments(parser: argparse.ArgumentParser) -> None:
    # retrosheet_importer is loaded only when the command's arguments are built: it is small
    # and needs neither troposphere nor boto3 at import time.
    from retrosheet_importer.cli import add_arguments

    add_arguments(parser)


def _path(value: str):
    from pathlib import Path

    return Path(value).resolve()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as error:
        print(f"configuration error ({len(error.problems)}):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except DeployError as error:
        print(f"deploy failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # the reader (e.g. `head`) stopped early
        sys.stderr.close()
        return EXIT_OK
