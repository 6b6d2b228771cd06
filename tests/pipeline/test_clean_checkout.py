"""The infrastructure pipeline's Build commands, from pipeline/infra-build.yml, on a fresh clone
of HEAD: what passes on a laptop passes in CodeBuild, and the reverse.

`make test` is not run here (it is this suite: it would recurse); its command is checked to be
.ci/run's in test_buildspecs.py. To stay short, the clone reuses this checkout's installed
libraries (its own .venv gets a path to their site-packages and an editable install of the
clone itself, so `playback-infra` runs the clone's code) and checkov (PLAYBACK_CHECKOV): the
same pinned versions `make` would install.
"""

from __future__ import annotations

import pytest
import yaml

from tests.clone import clone, run

pytestmark = pytest.mark.clean_checkout


def test_the_build_commands_pass_on_a_clean_checkout(tmp_path):
    checkout = tmp_path / "checkout"
    env = clone(checkout)
    spec = yaml.safe_load((checkout / "pipeline" / "infra-build.yml").read_text())
    commands = [c for c in spec["phases"]["build"]["commands"] if c != "make test"]
    assert commands == ["make synth"]
    env.update({k: str(v) for k, v in spec["env"]["variables"].items() if k == "PYTEST_ADDOPTS"})
    for command in commands:
        out = run(command, checkout, env)
    assert "FAIL" not in out and "cfn-lint: 0 errors, 0 warnings" in out
    # The generated files committed at HEAD are what the build generates.
    assert run(["git", "status", "--porcelain"], checkout) == ""
    installed = run([".venv/bin/python", "-c", "import playback_infra; print(playback_infra.__file__)"], checkout)  # fmt: skip
    assert installed.startswith(str(checkout))
