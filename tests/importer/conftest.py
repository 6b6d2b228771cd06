"""The importer tests' data and database (the session's throwaway MariaDB server)."""

from __future__ import annotations

import os

import pytest

from retrosheet_importer.database import from_url
from retrosheet_importer.importer import run_import
from tests.database.helpers import migrated_database
from tests.importer.helpers import GOLDEN_SLICE, SLICE, copy_release


@pytest.fixture(scope="session")
def retrosheet_data():
    if not (SLICE.is_dir() and GOLDEN_SLICE.is_file()):
        message = f"no Retrosheet data at {SLICE.parent} (set RETROSHEET_DATA)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def slice_release(retrosheet_data, tmp_path_factory):
    """A copy of the slice with its SHA256SUMS."""
    return copy_release(SLICE, tmp_path_factory.mktemp("slice"))


@pytest.fixture(scope="session")
def imported(server, slice_release):
    """The slice imported into a fresh database, once: (settings, summary, progress lines)."""
    database = migrated_database(server, "importer_slice")
    settings = from_url(server.url(database))
    lines: list[str] = []
    summary = run_import(str(slice_release), settings, progress=lines.append)
    return settings, summary, lines


@pytest.fixture
def fresh_settings(server, request):
    """Settings for an empty, migrated database of this test's own."""
    name = "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:48]
    return from_url(server.url(migrated_database(server, f"imp_{name}")))
