"""A clone of this checkout that `make synth` can run in at once: its .venv reuses this
checkout's installed libraries and tools (the same pinned versions `make` would install) with
the clone itself installed editable, and checkov comes from PLAYBACK_CHECKOV. Used by the clean
checkout test and `make bench`; `make bench-test` takes the bare `git_clone`."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from playback_infra.paths import REPO_ROOT

# The requirement files `make` compares its venv markers with.
MAKE_INPUTS = (
    "requirements.txt",
    "requirements-checkov.txt",
    "pyproject.toml",
    "jobs/pyproject.toml",
)


def run(command: list[str] | str, cwd: Path, env: dict | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, shell=isinstance(command, str), capture_output=True, text=True
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def reuse_installed_libraries(clone: Path) -> None:
    """clone/.venv: this interpreter's libraries and tools, the clone installed editable,
    marked made."""
    run([sys.executable, "-m", "venv", ".venv"], clone)
    purelib = Path(sysconfig.get_paths()["purelib"])
    (clone_lib,) = (clone / ".venv" / "lib").glob("python3*/site-packages")
    (clone_lib / "reused-libraries.pth").write_text(f"{purelib}\n")
    pip = [
        str(clone / ".venv" / "bin" / "pip"),
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]
    run([*pip, "--no-build-isolation", "--no-deps", "-e", ".", "-e", "jobs"], clone)
    bin_dir = clone / ".venv" / "bin"
    for tool in Path(sys.executable).parent.iterdir():  # cfn-lint and the other tools
        if not (bin_dir / tool.name).exists():
            (bin_dir / tool.name).symlink_to(tool)
    for venv in (".venv", ".venv-checkov"):
        (clone / venv).mkdir(exist_ok=True)
        (clone / venv / ".installed").touch()
    for name in MAKE_INPUTS:  # older than the markers, so make keeps these venvs
        os.utime(clone / name, (0, 0))


def git_clone(destination: Path) -> None:
    """HEAD cloned into `destination`, sharing no file with this checkout."""
    run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(destination)], REPO_ROOT)


def clone(destination: Path) -> dict[str, str]:
    """Clone HEAD into `destination`, ready for `make synth`; the environment to run it in."""
    git_clone(destination)
    reuse_installed_libraries(destination)
    return {**os.environ, "PLAYBACK_CHECKOV": str(REPO_ROOT / ".venv-checkov" / "bin" / "checkov")}
