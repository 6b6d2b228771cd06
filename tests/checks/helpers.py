"""The code's rendering, shared by the tests of the checks, and throwaway git repositories
for the tests of `diff` and its bases."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from playback_infra.checks import groups
from playback_infra.cli import EXIT_OK, main
from playback_infra.synth import Rendered, render


@functools.cache
def rendered() -> Rendered:
    """What `synth` renders, once per test process: copy before changing any of it."""
    return render()


@functools.cache
def rendering() -> groups.Rendering:
    """The rendering `diff` and the replacement guard compare, for the code as it is."""
    now = rendered()
    return groups.rendering(now.dicts, now.files, now.environments)


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` (as a test author); its output."""
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


def synthesized_repository(path: Path) -> Path:
    """`path` as a repository on main whose one commit holds the generated files of the code."""
    assert main(["--root", str(path), "synth"]) == EXIT_OK
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "base")
    return path
