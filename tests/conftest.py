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
    """The slowest modules first, so that `make test`'s workers (pytest-xdist, one module to a
    worker: its module-scoped emulator or deployment is made once) do not end with one of them:
    those that deploy whole stacks (tests/integration) or run the build on a clone
    (`clean_checkout`), then the other `emulator` ones. Each module's tests keep their order."""

    def rank(item) -> int:
        if item.get_closest_marker("clean_checkout") or item.path.parent.name == "integration":
            return 0
        return 1 if item.get_closest_marker("emulator") else 2

    ranks: dict[str, int] = {}
    for item in items:
        ranks[item.module.__name__] = min(rank(item), ranks.get(item.module.__name__, 2))
    items.sort(key=lambda item: ranks[item.module.__name__])


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
