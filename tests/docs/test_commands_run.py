"""Every shell block of README.md and docs/*.md that needs no AWS account runs as printed, in
document order (the README first), in one bash session in one fresh clone of this checkout, as
a reader who has run `make synth` types them: the local deployment into the background emulator
included, the shell's variables and PATH carried from block to block.

A block that needs what this machine does not give says so in its info string: ```bash account
(a real AWS account), ```bash docker (a Docker engine), ```bash mysql (a MySQL server of yours);
those, and the commands long-running by nature (`make synth`, which the clone stands for and
tests/pipeline/test_clean_checkout.py runs; `make test`, this suite; the benchmarks; a pytest
run), are parsed (tests/test_docs_commands.py), not run. The clone reuses this checkout's
installed libraries and its `.venv-*` environments, so that `make .venv-X/.installed` has
nothing to do; one that would rebuild one fails instead.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from playback_infra.paths import REPO_ROOT
from tests.clone import clone, run
from tests.docs.markdown import DOCS, Block, blocks

pytestmark = pytest.mark.emulator

NOT_RUN = {
    "account": "a real AWS account",
    "docker": "a Docker engine",
    "mysql": "a MySQL server of yours",
}
SHELL = {"bash", "sh", "shell"}
LONG_RUNNING = re.compile(
    r"^(make (synth|test|test-season|bench(-[a-z]+)?)\b|(\.venv/bin/)?pytest\b)"
)
ENVIRONMENTS = re.compile(r"^make( \.venv-[a-z]+/\.installed)+$")
TIMEOUT = 300


def _commands(block: Block) -> list[str]:
    """The block's commands, a backslash-continued one as one string."""
    return block.text.replace("\\\n", " ").splitlines()


def _runnable() -> list[Block]:
    return [
        block
        for path in DOCS
        for block in blocks(path)
        if block.language in SHELL and not set(block.info[1:]) & NOT_RUN.keys()
    ]


def _script(runnable: list[Block], checkout: Path) -> tuple[str, list[str]]:
    """The bash script of the runnable blocks, and the long-running commands left out."""
    lines, left_out = ["set -e"], []
    for block in runnable:
        lines.append(f'echo "=== {block.where} $SECONDS" >&2')
        for command in _commands(block):
            if LONG_RUNNING.match(command.strip()):
                left_out.append(f"{block.where}: {command.strip()}")
                continue
            if ENVIRONMENTS.match(command.split("#")[0].strip()):
                targets = command.split("#")[0].split()[1:]
                question = subprocess.run(["make", "-q", *targets], cwd=checkout)
                assert question.returncode == 0, (
                    f"{block.where}: `{command}` would build {targets} in the clone; run it in "
                    "this checkout first"
                )
            lines.append(command)
    return "\n".join(lines) + "\n", left_out


def _share_environments(checkout: Path) -> None:
    """The checkout's .venv-* environments in the clone, their requirement files older than
    their markers (as in a checkout where `make` made them)."""
    for venv in REPO_ROOT.glob(".venv-*"):
        if not (checkout / venv.name).exists():  # .venv-checkov: made by the reuse already
            (checkout / venv.name).symlink_to(venv)
        requirements = checkout / f"requirements-{venv.name.removeprefix('.venv-')}.txt"
        if requirements.exists():
            os.utime(requirements, (0, 0))
    with (checkout / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write(".venv-*\n")  # .gitignore's `.venv-*/` names directories, not links


def test_the_runnable_blocks_are_the_local_path():
    """What runs covers the first hour without an account: the two commands' environment, the
    local deploy and awscli against it, the emulator's life cycle, diff, cost, parameters."""
    run = "\n".join(block.text for block in _runnable())
    for needed in (
        "source .venv/bin/activate",
        "playback-infra deploy --env dev",
        'eval "$(playback-infra emulator env)"',
        "aws cloudformation describe-stacks",
        "playback-infra emulator stop",
        "playback-infra emulator reset",
        "playback-infra diff",
        "playback-infra cost --env",
        "playback-infra parameters",
    ):
        assert needed in run, f"no runnable block runs {needed}"
    assert all(block.info[1:] == () for block in _runnable())


def test_every_marked_block_says_why_it_is_not_run():
    marks = {
        word
        for path in DOCS
        for block in blocks(path)
        if block.language in SHELL
        for word in block.info[1:]
    }
    assert marks <= NOT_RUN.keys()


def test_the_docs_commands_run_as_printed(tmp_path):
    checkout = tmp_path / "checkout"
    env = clone(checkout)
    _share_environments(checkout)
    script, left_out = _script(_runnable(), checkout)
    for entry in left_out:  # a left-out pytest run names files the clone has
        words = shlex.split(entry.split(": ", 1)[1])
        if "pytest" in words[0]:
            paths = [w for w in words[1:] if not w.startswith("-")]
            assert paths and all((checkout / p).exists() for p in paths), entry
    env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    try:
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    finally:
        subprocess.run(
            [".venv/bin/playback-infra", "emulator", "stop"], cwd=checkout, capture_output=True
        )
    ran = re.findall(r"^=== (\S+) \d+$", done.stderr, re.MULTILINE)
    assert done.returncode == 0, (
        f"the block at {ran[-1] if ran else '?'} failed:\n{done.stdout[-4000:]}\n"
        f"{done.stderr[-4000:]}"
    )
    assert ran == [block.where for block in _runnable()]
    # What the reader is told they will see.
    assert "baseball-playback-dev: no changes" in done.stdout
    assert '"CREATE_COMPLETE"' in done.stdout
    assert "dev: 1 update" not in done.stdout  # the clone changed nothing
    assert run(["git", "status", "--porcelain"], checkout) == ""
