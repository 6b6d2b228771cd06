"""Shared fixtures."""

from __future__ import annotations

import json
import os

import pytest

from playback_infra import deployed
from playback_infra.checks.cache import ENV_VAR as CHECK_CACHE
from playback_infra.paths import REPO_ROOT

# The throwaway MariaDB server (`server` fixture) of tests/database and tests/importer.
pytest_plugins = ["tests.database.server"]


@pytest.fixture(scope="session", autouse=True)
def _check_cache(tmp_path_factory):
    """A `check` a test runs caches into this run's own directory (shared by its pytest-xdist
    workers), never the user's: the checks' own test and the clean checkout's `make synth`
    check the same templates, and the second reuses the first's results."""
    run = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run = run.parent  # the workers' directories share it
    patch = pytest.MonkeyPatch()
    patch.setenv(CHECK_CACHE, str(run / "check-cache"))
    yield
    patch.undo()


def pytest_collection_modifyitems(config, items):
    """The modules of the slowest tests (marked `emulator` or `clean_checkout`) first, so that
    `make test`'s workers (pytest-xdist, one module to a worker: its module-scoped emulator or
    deployment is made once) do not end with one of them. Each module's tests keep their order."""
    slow = {
        item.module.__name__
        for item in items
        if item.get_closest_marker("emulator") or item.get_closest_marker("clean_checkout")
    }
    items.sort(key=lambda item: item.module.__name__ not in slow)


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
