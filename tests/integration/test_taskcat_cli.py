"""taskcat (.venv-taskcat) over taskcat.yml: `taskcat lint`, and a whole `taskcat test run`
against the emulator on 127.0.0.1 (project upload, both tests' stacks created from the
uploaded templates, then deleted), as docs/taskcat.md runs it.

taskcat's boto3 (1.44) takes the emulator from AWS_ENDPOINT_URL. taskcat polls each stack once
a minute, so the run takes a minute or more however fast the emulator is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import boto3
import pytest
import yaml

from playback_infra import synth, taskcat
from playback_infra.emulator.process import run_emulator
from playback_infra.emulator.zones import ensure_zones
from playback_infra.environments.catalog import environments
from playback_infra.paths import REPO_ROOT

TASKCAT = REPO_ROOT / ".venv-taskcat" / "bin" / "taskcat"
TEMPLATES = {
    "taskcat-root.yaml",
    "edge-global.yaml",
    *(f"{name}.yaml" for name, _ in synth.NESTED.values()),
}
# The one request taskcat's report makes to the internet (it inlines this stylesheet).
STYLESHEET_HOST = "raw.githubusercontent.com"


@pytest.fixture
def taskcat_bin() -> str:
    if not TASKCAT.exists():
        pytest.fail(f"no taskcat at {TASKCAT}: run `make .venv-taskcat/.installed`")
    return str(TASKCAT)


def _taskcat(taskcat_bin: str, *args: str, cwd: Path, env: dict[str, str] | None = None):
    """Run taskcat in `cwd` (it reads ./.taskcat_overrides.yml and writes ./taskcat_outputs
    there) with a HOME of its own (no ~/.taskcat.yml)."""
    return subprocess.run(
        [taskcat_bin, *args],
        cwd=cwd,
        env={**(env or os.environ), "HOME": str(cwd)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def _linted(output: str) -> set[str]:
    return set(re.findall(r"Linting passed for file: .*/templates/(\S+)", output))


def test_lint_passes_over_the_root_and_every_template_it_nests(taskcat_bin, tmp_path):
    done = _taskcat(
        taskcat_bin, "lint", "--strict", "-i", "taskcat.yml", "-p", str(REPO_ROOT), cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # taskcat found each child through its TemplateURL.
    assert _linted(done.stdout + done.stderr) == TEMPLATES


def test_lint_fails_on_an_error_in_a_nested_template(taskcat_bin, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "templates", project / "templates")
    # One test is enough to reach the nested template (the two lint the same files twice).
    config = yaml.safe_load((REPO_ROOT / taskcat.CONFIG).read_text())
    config["tests"] = dict(list(config["tests"].items())[:1])
    (project / taskcat.CONFIG).write_text(yaml.safe_dump(config))
    network = project / "templates" / "network.yaml"
    network.write_text(
        network.read_text().replace("Type: AWS::EC2::VPC\n", "Type: AWS::EC2::VPX\n")
    )
    done = _taskcat(taskcat_bin, "lint", "-i", "taskcat.yml", "-p", str(project), cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Linting detected issues in: " + str(network) in output
    assert "Resource type 'AWS::EC2::VPX' does not exist" in output


def _when_deleted(cfn) -> dict[str, str]:
    """Every stack's name and status once none is being deleted (taskcat ran with
    --dont-wait-for-delete, which spares a minute of its polling)."""
    deadline = time.monotonic() + 60
    while True:
        stacks = {s["StackName"]: s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]}
        if "DELETE_IN_PROGRESS" not in stacks.values() or time.monotonic() > deadline:
            return stacks
        time.sleep(0.5)


def _clean_checkout(target: Path) -> Path:
    """The repository's files as a clean checkout has them (tracked and new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for relative in filter(None, listed):
        source = REPO_ROOT / relative
        if source.is_file():  # a tracked file deleted in the working tree is not
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    return target


@pytest.mark.emulator
def test_run_creates_and_deletes_both_tests_stacks_in_the_emulator(taskcat_bin, tmp_path):
    project = _clean_checkout(tmp_path / "checkout")
    work = tmp_path / "work"
    work.mkdir()
    tested = taskcat.tested(environments())
    with run_emulator() as endpoint:
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        for env in tested:  # the account holds the environments' hosted zones
            ensure_zones(session.client("route53", endpoint_url=endpoint), env)
        credentials = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        done = _taskcat(
            taskcat_bin, "test", "run", "-i", "taskcat.yml", "-p", str(project),
            "--dont-wait-for-delete", cwd=work, env={**environ, **credentials},
        )  # fmt: skip
        output = done.stdout + done.stderr
        errors = [line for line in output.splitlines() if line.startswith("[ERROR")]
        # Offline, the report's stylesheet cannot be fetched: the run's last step, after the
        # stacks were deleted, and the only error allowed.
        assert all(STYLESHEET_HOST in line for line in errors), output
        assert done.returncode == (1 if errors else 0), output

        cfn = session.client("cloudformation", endpoint_url=endpoint)
        stacks = _when_deleted(cfn)
        roots = [
            re.fullmatch(r"tCaT-baseball-playback-([a-z0-9-]+?)-[0-9a-f]{32}", n) for n in stacks
        ]
        assert sorted(m[1] for m in roots if m) == sorted(env.name for env in tested)
        assert set(stacks.values()) == {"DELETE_COMPLETE"}, stacks
        # The project stays in taskcat's bucket for the account and region, where the
        # taskcat root's TemplateURLs point.
        s3 = session.client("s3", endpoint_url=endpoint)
        (bucket,) = [
            b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith("-us-east-1")
        ]
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="baseball-playback/templates/")
        assert {o["Key"].rsplit("/", 1)[1] for o in listed["Contents"]} >= TEMPLATES

    for env in tested:
        (log,) = (work / "taskcat_outputs").glob(f"tCaT-baseball-playback-{env.name}-*-cfnlogs.txt")
        events = log.read_text()
        assert "Stack launch was successful" in events
        created = set(re.findall(r"CREATE_COMPLETE\s+AWS::CloudFormation::Stack\s+(\w+)", events))
        assert {*synth.NESTED, taskcat.EDGE_STACK} <= created, events
