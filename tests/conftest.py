"""Shared fixtures."""

from __future__ import annotations

import json

import pytest

from playback_infra import deployed
from playback_infra.paths import REPO_ROOT

# The throwaway MariaDB server (`server` fixture) of tests/database and tests/importer.
pytest_plugins = ["tests.database.server"]

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
