"""The importer tests' data and database (the session's throwaway MariaDB server)."""

from __future__ import annotations

import os

import pytest

from retrosheet_importer.database import from_url
from retrosheet_importer.importer import run_import
from tests.database.helpers import migrated_database
from tests.importer.helpers import GOLDEN_SLICE, SLICE, Job, copy_release, small_release, snapshot


@pytest.fixture(autouse=True)
def _no_job_outlives_its_test():
    yield
    while Job.started:
        Job.started.pop().kill()


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


# Children first: emptied in this order, the foreign keys hold at every step.
TABLES = (
    "comments",
    "substitutions",
    "plays",
    "games",
    "import_runs",
    "roster_entries",
    "players",
    "teams",
)


@pytest.fixture(scope="session")
def scratch_database(server):
    """One migrated database the tests that need an empty one share (migrating takes a
    second or two; emptying, milliseconds)."""
    return migrated_database(server, "importer_scratch")


@pytest.fixture
def fresh_settings(server, scratch_database):
    """Settings for the scratch database, emptied, its run ids starting at 1 again."""
    with server.connect(database=scratch_database) as db, db.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"DELETE FROM `{table}`")
        cursor.execute("ALTER TABLE import_runs AUTO_INCREMENT = 1")
    return from_url(server.url(scratch_database))


@pytest.fixture
def loaded(fresh_settings, retrosheet_data, tmp_path):
    """The season before: three games of 2023 loaded into the scratch database (settings,
    what the tables held)."""
    summary = run_import(str(small_release(tmp_path / "loaded")), fresh_settings, lambda _: None)
    assert summary.counts.games == 3
    return fresh_settings, snapshot(fresh_settings)
