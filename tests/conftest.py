"""Shared fixtures."""

from __future__ import annotations

import json

import pytest

from playback_infra import deployed
from playback_infra.checks.cache import ENV_VAR as CHECK_CACHE
from playback_infra.paths import REPO_ROOT

# The throwaway MariaDB server (`server` fixture) of tests/database and tests/importer.
pytest_plugins = ["tests.database.server"]


@pytest.fixture(scope="session", autouse=True)
def _check_cache(tmp_path_factory):
    """A `check` a test runs (the clean checkout's `make synth`) caches into this session's own
    directory, never the user's."""
    patch = pytest.MonkeyPatch()
    patch.setenv(CHECK_CACHE, str(tmp_path_factory.mktemp("check-cache")))
    yield
    patch.undo()


# --- shared by tests/stacks: parameter files and "what CloudFormation would create" ----------


@pytest.fixture(scope="session")
def parameter_files() -> dict[str, dict]:
    """Environment name -> the content of the generated parameters/<env>.json."""
    return {
        path.stem: json.loads(path.read_text())
        for path in sorted((REPO_ROOT / "parameters").glob("*.json"))
    }


@pytest.fixture(scope="session")
def as_deployed():
    """`as_deployed(template_dict, parameter_values)` -> Deployed."""
    return deployed.as_deployed
