"""The buildspecs in pipeline/ (the CodeBuild projects' inline BuildSpec): valid, version 0.2,
runtimes the image of every project that runs them has, every `playback-infra` and `make`
command real, reports and exported variables named as the pipeline stack expects them."""

from __future__ import annotations

import functools
import re
import shlex
import subprocess

import pytest
import yaml

from playback_infra.cli import _parser
from playback_infra.paths import REPO_ROOT
from playback_infra.plan import EXPORTS
from playback_infra.stacks import pipeline

PIPELINE = REPO_ROOT / "pipeline"
BUILDSPECS = (
    "infra-build", "plan", "smoke", "backend-build", "migrate", "release-image",
    "frontend-build", "publish-site",
)  # fmt: skip
# The runtimes of each CodeBuild image (aws-codebuild-docker-images: ubuntu/standard/7.0 and
# al/aarch64/standard/3.0 runtimes.yml).
RUNTIMES = {
    "aws/codebuild/standard:7.0": {"python": {"3.11", "3.12"}, "nodejs": {"18", "20"}},
    "aws/codebuild/amazonlinux-aarch64-standard:3.0": {
        "python": {"3.9", "3.10", "3.11", "3.12", "3.13"}, "nodejs": {"18", "20", "22"},
    },
}  # fmt: skip
# What a buildspec's commands run `playback-infra` with, and what each uses.
TOOL = re.compile(r"^(?:\S*/)?playback-infra$")
USES_TARGET_PROFILE = ("plan", "migrate", "release-image", "publish-site")


def _text(name: str) -> str:
    return (PIPELINE / f"{name}.yml").read_text()


def _spec(name: str) -> dict:
    return yaml.safe_load(_text(name))


def _commands(spec: dict) -> list[str]:
    return [
        command
        for phase in spec["phases"].values()
        for key in ("commands", "finally")
        for command in phase.get(key, [])
    ]


def _invocations(command: str, program: re.Pattern) -> list[list[str]]:
    """Each run of `program` in a shell command: its arguments up to the next operator."""
    words = shlex.split(command.replace("$(", "(").replace("\n", " "))
    found, current = [], None
    for word in words:
        if word in ("&&", "||", ";", "|", "then", "else", "fi", "then;", "fi;"):
            current = None
        elif current is not None:
            current.append(word)
        elif program.match(word):
            current = []
            found.append(current)
    return found


def test_the_buildspecs_the_pipeline_stack_names_exist():
    assert set(BUILDSPECS) <= {p.stem for p in PIPELINE.glob("*.yml")}
    assert list(PIPELINE.glob("*.yaml")) == []


@functools.cache
def _images(name: str) -> set[str]:
    """The CodeBuild images of the pipeline's projects that run buildspec `name`."""
    projects = pipeline.build().to_dict()["Resources"].values()
    return {
        p["Properties"]["Environment"]["Image"]
        for p in projects
        if p["Type"] == "AWS::CodeBuild::Project"
        and p["Properties"]["Source"]["BuildSpec"] == _text(name)
    }


@pytest.mark.parametrize("name", BUILDSPECS)
def test_valid_version_0_2_with_runtimes_of_the_image(name):
    spec = _spec(name)
    assert str(spec["version"]) == "0.2"
    assert spec["env"]["shell"] == "bash"
    runtimes = spec["phases"]["install"]["runtime-versions"]
    assert runtimes, "set the runtimes: the image's default can change"
    assert _images(name), f"no project runs {name}"
    for image in _images(name):
        for runtime, version in runtimes.items():
            assert str(version) in RUNTIMES[image][runtime], f"{image}: {runtime} {version}"
    assert set(spec["phases"]) <= {"install", "pre_build", "build", "post_build"}


@pytest.mark.parametrize("name", BUILDSPECS)
def test_every_playback_infra_command_parses_with_the_real_cli(name):
    runs = [args for c in _commands(_spec(name)) for args in _invocations(c, TOOL)]
    for args in runs:
        try:
            parsed = _parser().parse_args(args)
        except SystemExit as error:
            pytest.fail(f"{name}: `playback-infra {' '.join(args)}` does not parse ({error})")
        if parsed.command in USES_TARGET_PROFILE:
            assert parsed.profile == "target"
    if name in USES_TARGET_PROFILE or name == "smoke":
        assert [args[0] for args in runs] == [name]  # each runs its own command, once


@pytest.mark.parametrize("name", BUILDSPECS)
def test_every_make_target_exists(name):
    for command in _commands(_spec(name)):
        for args in _invocations(command, re.compile(r"^make$")):
            targets = [a for a in args if not a.startswith("-") and a != "infra"]
            done = subprocess.run(
                ["make", "-n", "-C", str(REPO_ROOT), *targets], capture_output=True, text=True
            )
            assert "No rule to make target" not in done.stderr, f"{name}: make {args}"


@pytest.mark.parametrize("name", USES_TARGET_PROFILE)
def test_the_target_profile_assumes_the_deploy_role_from_the_container(name):
    commands = _commands(_spec(name))
    assert 'aws configure set profile.target.role_arn "$DEPLOY_ROLE_ARN"' in commands
    assert "aws configure set profile.target.credential_source EcsContainer" in commands
    setup = commands.index("aws configure set profile.target.credential_source EcsContainer")
    first_use = next(i for i, c in enumerate(commands) if "--profile target" in c)
    assert setup < first_use


def test_infra_build_runs_the_readme_commands_and_reports_junit():
    spec = _spec("infra-build")
    assert spec["phases"]["build"]["commands"] == ["make synth", "make test"]
    readme = (REPO_ROOT / "README.md").read_text()
    assert "make synth   #" in readme and "make test    #" in readme
    # The suite runs as CI runs it: .ci/run's command, JUnit added through PYTEST_ADDOPTS.
    ci = [
        line
        for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci == ["make test"]
    junit = spec["env"]["variables"]["PYTEST_ADDOPTS"]
    assert junit == "--junitxml=reports/junit.xml"
    assert spec["reports"] == {
        "pytest": {"files": ["junit.xml"], "base-directory": "reports", "file-format": "JUNITXML"}
    }
    assert set(spec["phases"]["install"]["runtime-versions"]) == {"python", "nodejs"}
    excluded = spec["artifacts"]["exclude-paths"]
    assert {".venv/**/*", ".venv-*/**/*", "**/node_modules/**/*"} <= set(excluded)
    assert spec["artifacts"]["files"] == ["**/*"]
    assert {"/root/.cache/pip/**/*", "/root/.npm/**/*"} <= set(spec["cache"]["paths"])


def test_plan_exports_what_plan_writes():
    spec = _spec("plan")
    assert spec["env"]["exported-variables"] == ["CHANGE_SET_URL", "CHANGE_SET_NAME", "HAS_CHANGES"]
    assert set(spec["env"]["exported-variables"]) == set(EXPORTS)
    commands = spec["phases"]["build"]["commands"]
    (args,) = _invocations(commands[0], TOOL)
    parsed = _parser().parse_args(args)
    assert commands[1] == f"source {parsed.exports}"
    assert (parsed.change_set_name, parsed.artifact_bucket) == (
        "$CHANGE_SET_NAME",
        "$ARTIFACT_BUCKET",
    )
    assert (parsed.site_certificate_arn, parsed.site_web_acl_arn) == (
        "$SITE_CERTIFICATE_ARN", "$SITE_WEB_ACL_ARN",
    )  # fmt: skip
    # Empty unless the action sets it: the deployed jobs image is kept.
    assert parsed.jobs_image_tag == "$JOBS_IMAGE_TAG"
    assert spec["env"]["variables"]["JOBS_IMAGE_TAG"] == ""


def test_smoke_reports_its_junit_file():
    spec = _spec("smoke")
    (args,) = [a for c in _commands(spec) for a in _invocations(c, TOOL)]
    report = spec["reports"]["smoke"]
    assert report["file-format"] == "JUNITXML"
    assert (
        _parser().parse_args(args).junit_xml == f"{report['base-directory']}/{report['files'][0]}"
    )


def test_backend_build_tags_with_the_commit_and_fails_on_critical_findings():
    spec = _spec("backend-build")
    assert spec["env"]["exported-variables"] == ["IMAGE_TAG"]
    commands = "\n".join(_commands(spec))
    assert 'IMAGE_TAG="$CODEBUILD_RESOLVED_SOURCE_VERSION"' in commands
    assert "aws ecr wait image-scan-complete" in commands
    assert "findingSeverityCounts.CRITICAL" in commands and "exit 1" in commands
    assert 'docker push "$REPOSITORY_URI:$IMAGE_TAG"' in commands


def test_frontend_build_is_the_site_and_publish_takes_it_beside_the_tool():
    build, publish = _spec("frontend-build"), _spec("publish-site")
    commands = build["phases"]["build"]["commands"]
    assert build["phases"]["pre_build"]["commands"] == ["npm ci --no-audit --no-fund"]
    assert commands[:2] == ["npm test", "NODE_ENV=production npm run build"]
    assert build["env"]["variables"]["BUILD_DIR"] == "dist"
    assert commands[-1] == 'rm -rf .site && cp -R "$BUILD_DIR" .site'
    assert build["artifacts"] == {"base-directory": ".site", "files": ["**/*"]}
    assert "/root/.npm/**/*" in build["cache"]["paths"]
    (args,) = [a for c in _commands(publish) for a in _invocations(c, TOOL)]
    parsed = _parser().parse_args(args)
    # The Site artifact is the secondary source (the tool's repository is the primary).
    assert parsed.build_dir == "$CODEBUILD_SRC_DIR_Site"
    assert parsed.build_version == "$BUILD_VERSION"


def test_apply_records_the_commit_it_deployed_where_deployed_tag_reads_it():
    """After the change set settles (or when there was none), the source commit goes to the
    environment's deployed-commit parameter, as the deploy role (deployed_commit.py)."""
    from playback_infra import deployed_commit
    from playback_infra.environments.catalog import environments

    commands = _commands(_spec("apply"))
    (record,) = [c for c in commands if "put-parameter" in c]
    assert commands.index(record) == len(commands) - 1
    words = shlex.split(record)
    options = {
        word: (value if not value.startswith("--") else "")
        for word, value in zip(words, [*words[1:], ""], strict=True)
        if word.startswith("--")
    }
    env = next(iter(environments()))
    name = options["--name"].replace("$ENVIRONMENT", env.name)
    assert name == deployed_commit.parameter_name(env)
    assert (options["--profile"], options["--value"]) == ("target", "$COMMIT_ID")
    assert "--overwrite" in words
    assert "exit 0" not in " ".join(commands)  # no early success that skips the record
