"""The whole 2023 season's import stopped at each phase, by SIGTERM (as ECS stops a task) and by
SIGKILL of the main process: the season before is intact, the import lock is free within 10 s,
the run ends `failed` (SIGTERM, within 10 s) or is marked `abandoned` by `status` (SIGKILL),
with its reason; no process and no scratch directory is left behind; the next import succeeds.

Each phase is reached as an operator's import would reach it, with nothing in the importer
for tests: the job's progress on stdout (mid-parse), its session's statement in the server's
processlist (mid-load), and, to hold it exactly there, a row lock this test takes that the job
must wait for: the stale run it marks abandoned before the parse, its own run's row, which its
last statement before COMMIT updates.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from retrosheet_importer.cli import main
from retrosheet_importer.release import write_manifest
from retrosheet_importer.runs import LOCK
from tests.importer.helpers import (
    SEASON,
    Job,
    copy_release,
    poll,
    query,
    run_row,
    small_release,
    snapshot,
    url_of,
)

pytestmark = pytest.mark.season
STOP_SECONDS = 10  # the bound: exit, and the lock free, within 10 s
PARSE_SECONDS = 600  # the whole season's parse on 2 busy cores, with room
SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


@pytest.fixture(scope="session")
def season_release(tmp_path_factory):
    if not SEASON.is_dir():
        pytest.skip(f"no 2023 season at {SEASON} (set RETROSHEET_SEASON)")
    release = copy_release(SEASON, tmp_path_factory.mktemp("season"))
    write_manifest(release)
    return release


def _session_running(settings, *patterns: str) -> bool:
    """Whether a session (not this one) is running a statement LIKE all of `patterns`."""
    likes = " AND ".join(["INFO LIKE %s"] * len(patterns))
    return bool(
        query(
            settings,
            f"SELECT ID FROM information_schema.PROCESSLIST WHERE {likes} AND ID <> CONNECTION_ID()",
            patterns,
        )
    )


@contextmanager
def _held_row(settings, run_id: int, mode: str) -> Iterator[None]:
    """This test's transaction holding `mode` (FOR UPDATE, LOCK IN SHARE MODE) on a run's row."""
    with settings.connect() as db:
        db.begin()
        with db.cursor() as cursor:
            cursor.execute(f"SELECT id FROM import_runs WHERE id = %s {mode}", (run_id,))
        yield
        db.rollback()


@contextmanager
def _at(phase: str, settings, start: Callable[[], Job]) -> Iterator[Job]:
    """Start the job and yield it once it is at `phase`; what held it there is let go when
    the block ends."""
    if phase == "before the parse":
        # A `running` run nobody holds, its row locked here: the job, marking it abandoned
        # once it has the import lock, waits for it.
        [(stale,)] = query(settings, "SELECT 1 + COALESCE(MAX(id), 0) FROM import_runs")
        query(
            settings,
            "INSERT INTO import_runs (id, season, phase) VALUES (%s, 2022, 'parse')",
            (stale,),
        )
        with _held_row(settings, stale, "FOR UPDATE"):
            job = start()
            poll(
                lambda: _session_running(settings, "UPDATE import_runs SET status = 'abandoned'%"),
                60,
            )
            yield job
    elif phase == "mid-parse":
        job = start()
        job.wait_for(r"^\d{4}[A-Z0-9]{3}\.EV[AN]: \d+ games", PARSE_SECONDS)
        yield job
    elif phase == "mid-load":
        job = start()
        poll(
            lambda: _session_running(settings, "LOAD DATA LOCAL INFILE%", "%INTO TABLE `plays`%"),
            PARSE_SECONDS,
        )
        yield job
    else:  # at commit: the run's row, which its last statement before COMMIT updates, held
        job = start()
        [(run_id,)] = poll(
            lambda: query(settings, "SELECT id FROM import_runs WHERE phase = 'load'"),
            PARSE_SECONDS,
            every=0.1,
        )
        with _held_row(settings, run_id, "LOCK IN SHARE MODE"):
            poll(
                lambda: _session_running(settings, "UPDATE import_runs SET status = 'succeeded'%"),
                60,
            )
            yield job


# The phase each stop is recorded with: SIGKILL at commit leaves the phase the database last
# saw (the transaction that would have said `commit` is rolled back).
RECORDED = {
    ("before the parse", "SIGTERM"): "prepare",
    ("before the parse", "SIGKILL"): "prepare",
    ("mid-parse", "SIGTERM"): "parse",
    ("mid-parse", "SIGKILL"): "parse",
    ("mid-load", "SIGTERM"): "load",
    ("mid-load", "SIGKILL"): "load",
    ("at commit", "SIGTERM"): "commit",
    ("at commit", "SIGKILL"): "load",
}


@pytest.mark.parametrize(("phase", "how"), RECORDED)
def test_a_stopped_import(phase, how, loaded, season_release, tmp_path, capsys):
    settings, before = loaded
    tmpdir, url = tmp_path / "tmp", url_of(settings)
    with _at(
        phase, settings, lambda: Job([season_release, "--database-url", url, "-q"], tmpdir)
    ) as job:
        job.process.send_signal(SIGNALS[how])
        signalled = time.monotonic()
        if how == "SIGTERM":
            job.wait_for(r"^run \d+: stopped by SIGTERM during \w+; rolling back$", STOP_SECONDS)
    code, err = job.finish(timeout=STOP_SECONDS)
    assert code == (128 + signal.SIGTERM if how == "SIGTERM" else -signal.SIGKILL), err
    poll(lambda: query(settings, "SELECT IS_FREE_LOCK(%s)", (LOCK,))[0][0] == 1, STOP_SECONDS)
    assert time.monotonic() - signalled < STOP_SECONDS, "exited and the lock free within 10 s"
    assert snapshot(settings) == before, "the season before is intact"
    assert job.survivors() == [], "no worker or tool outlives the job"
    [(run_id,)] = query(settings, "SELECT id FROM import_runs WHERE season = 2023 AND id > 1")
    recorded = RECORDED[phase, how]
    if how == "SIGTERM":
        run = run_row(settings, run_id)
        assert (run["status"], run["phase"]) == ("failed", recorded)
        assert run["reason"] == f"stopped by SIGTERM during {recorded}"
        assert list(tmpdir.iterdir()) == []
    else:
        assert main(["status", "--database-url", url]) == 0
        run = run_row(settings, run_id)
        assert (run["status"], run["phase"]) == ("abandoned", recorded)
        assert run["reason"] == (
            f"its importer is gone (session {run['connection_id']} ended) during {recorded}"
        )
        assert f"  abandoned  {recorded:<7}" in capsys.readouterr().out
    assert run["finished_at"] is not None
    next_import = Job([small_release(tmp_path / "next", games=4), "--database-url", url], tmpdir)
    code, err = next_import.finish(timeout=120)
    assert code == 0, err
    assert run_row(settings)["status"] == "succeeded"
    assert list(tmpdir.iterdir()) == [], "no scratch left"
