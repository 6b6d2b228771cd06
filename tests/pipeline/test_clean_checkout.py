"""The infrastructure pipeline's Build commands, from pipeline/infra-build.yml, on a fresh clone
of HEAD: what passes on a laptop passes in CodeBuild, and the reverse.

`make test` is not run here (it is this suite: it would recurse); its command is checked to be
.ci/run's in test_buildspecs.py. To stay short, the clone reuses this checkout's installed
libraries (its own .venv gets a path to their site-packages and an editable install of the
clone itself, so `playback-infra` runs the clone's code) and checkov (PLAYBACK_CHECKOV): the
same pinned versions `make` would install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from playback_infra.paths import REPO_ROOT

pytestmark = pytest.mark.clean_checkout

# The requirement files `make` compares its venv markers with.
MAKE_INPUTS = (
    "requirements.txt",
    "requirements-checkov.txt",
    "pyproject.toml",
    "jobs/pyproject.toml",
)


def _run(command: list[str] | str, cwd: Path, env: dict | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, shell=isinstance(command, str), capture_output=True, text=True
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _reuse_installed_libraries(clone: Path) -> None:
    """clone/.venv: this interpreter's libraries and tools, the clone installed editable,
    marked made."""
    _run([sys.executable, "-m", "venv", ".venv"], clone)
    purelib = Path(sysconfig.get_paths()["purelib"])
    (clone_lib,) = (clone / ".venv" / "lib").glob("python3*/site-packages")
    (clone_lib / "reused-libraries.pth").write_text(f"{purelib}\n")
    pip = [
        str(clone / ".venv" / "bin" / "pip"),
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]
    _run([*pip, "--no-build-isolation", "--no-deps", "-e", ".", "-e", "jobs"], clone)
    bin_dir = clone / ".venv" / "bin"
    for tool in Path(sys.executable).parent.iterdir():  # cfn-lint and the other tools
        if not (bin_dir / tool.name).exists():
            (bin_dir / tool.name).symlink_to(tool)
    for venv in (".venv", ".venv-checkov"):
        (clone / venv).mkdir(exist_ok=True)
        (clone / venv / ".installed").touch()
    for name in MAKE_INPUTS:  # older than the markers, so make keeps these venvs
        os.utime(clone / name, (0, 0))


def test_the_build_commands_pass_on_a_clean_checkout(tmp_path):
    clone = tmp_path / "checkout"
    _run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(clone)], tmp_path)
    spec = yaml.safe_load((clone / "pipeline" / "infra-build.yml").read_text())
    commands = [c for c in spec["phases"]["build"]["commands"] if c != "make test"]
    assert commands == ["make synth"]
    _reuse_installed_libraries(clone)
    env = {
        **os.environ,
        **{k: str(v) for k, v in spec["env"]["variables"].items() if k == "PYTEST_ADDOPTS"},
        "PLAYBACK_CHECKOV": str(REPO_ROOT / ".venv-checkov" / "bin" / "checkov"),
    }
    for command in commands:
        out = _run(command, clone, env)
    assert "FAIL" not in out and "cfn-lint: 0 errors, 0 warnings" in out
    # The generated files committed at HEAD are what the build generates.
    assert _run(["git", "status", "--porcelain"], clone) == ""
    installed = _run([".venv/bin/python", "-c", "import playback_infra; print(playback_infra.__file__)"], clone)  # fmt: skip
    assert installed.startswith(str(clone))
