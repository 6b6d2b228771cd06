"""The runs' record: two imports at once (the second waits, or gives up with the retryable exit
75, recorded either way), a killed import's run marked abandoned by the next import and by
`status`, what `status` lists, and "already loaded" read from the season loaded, not from the
last attempt."""

from __future__ import annotations

import json
import signal
import time

import pytest

from retrosheet_importer.cli import main
from retrosheet_importer.importer import run_import
from retrosheet_importer.problems import Rejected
from retrosheet_importer.runs import LOCK
from tests.importer.helpers import (
    SLICE,
    Job,
    copy_release,
    poll,
    query,
    run_row,
    small_release,
    url_of,
)

NYA = "2023NYA.EVA"
pytestmark = pytest.mark.usefixtures("retrosheet_data")


def test_a_second_import_waits_for_the_first(fresh_settings, tmp_path):
    """Two manifests uploaded together: the second import says whose run it waits for, then
    imports; both are recorded."""
    url = url_of(fresh_settings)
    first = Job(
        [copy_release(SLICE, tmp_path / "slice"), "--database-url", url, "-q"], tmp_path / "a"
    )
    first.wait_for(r"^run 1: parsing$", timeout=60)
    second = Job([small_release(tmp_path / "small"), "--database-url", url], tmp_path / "b")
    waiting = second.wait_for(r"^run 2: waiting for the import lock", timeout=30)
    assert waiting.startswith("run 2: waiting for the import lock, held by run 1 (season 2023, ")
    assert run_row(fresh_settings, 2)["phase"] == "waiting"
    assert first.finish(timeout=120)[0] == 0
    code, err = second.finish(timeout=120)
    assert code == 0, err
    assert query(fresh_settings, "SELECT id, status FROM import_runs ORDER BY id") == [
        (1, "succeeded"),
        (2, "succeeded"),
    ]
    assert query(fresh_settings, "SELECT DISTINCT import_run_id FROM games") == [(2,)]


def test_an_import_that_waits_too_long_exits_75(fresh_settings, server, tmp_path):
    url = url_of(fresh_settings)
    with server.connect() as holder, holder.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, 0)", (LOCK,))
        job = Job(
            [small_release(tmp_path / "r"), "--database-url", url, "--lock-wait", "1"], tmp_path
        )
        code, err = job.finish(timeout=30)
    assert code == 75
    assert err == (
        "import-retrosheet: another session held the import lock for all of the 1 s this run "
        "waits; try again later\n"
    )
    run = run_row(fresh_settings)
    assert (run["status"], run["phase"]) == ("failed", "waiting")
    assert run["reason"] == (
        "gave up waiting: another session held the import lock for all of the 1 s this run waits"
    )


def test_stopped_while_waiting(fresh_settings, server, tmp_path):
    url = url_of(fresh_settings)
    with server.connect() as holder, holder.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, 0)", (LOCK,))
        job = Job([small_release(tmp_path / "r"), "--database-url", url], tmp_path / "tmp")
        job.wait_for(r"^run 1: waiting for the import lock, held by another session", 30)
        job.process.send_signal(signal.SIGTERM)
        code, err = job.finish(timeout=10)
    assert code == 128 + signal.SIGTERM, err
    run = run_row(fresh_settings)
    assert (run["status"], run["reason"]) == ("failed", "stopped by SIGTERM during waiting")
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_killed_imports_run_is_abandoned_by_the_next(fresh_settings, tmp_path):
    """SIGKILL in the middle of the parse: its workers die with it, its session's locks go at
    once, and the next import marks its run abandoned and removes its scratch directory."""
    url, tmpdir = url_of(fresh_settings), tmp_path / "tmp"
    job = Job([copy_release(SLICE, tmp_path / "slice"), "--database-url", url, "-q"], tmpdir)
    job.wait_for(r"^run 1: parsing$", timeout=60)
    time.sleep(1)  # the workers are running the tools
    job.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    assert job.finish(timeout=10)[0] == -signal.SIGKILL
    poll(lambda: query(fresh_settings, "SELECT IS_FREE_LOCK(%s)", (LOCK,)) == [(1,)], 10)
    assert time.monotonic() - killed < 10, "the lock is free within 10 s"
    assert job.survivors() == []
    [scratch] = tmpdir.iterdir()
    assert scratch.name.startswith("retrosheet-import-")
    assert run_row(fresh_settings, 1)["status"] == "running"
    next_import = Job([small_release(tmp_path / "small"), "--database-url", url], tmpdir)
    assert next_import.finish(timeout=120)[0] == 0
    lines = next_import.out
    assert any(
        line.startswith(f"removed a stopped import's scratch directory {tmpdir}/") for line in lines
    )
    assert "run 1 marked abandoned: its importer is gone" in lines
    run = run_row(fresh_settings, 1)
    assert (run["status"], run["phase"]) == ("abandoned", "parse")
    assert (
        run["reason"] == f"its importer is gone (session {run['connection_id']} ended) during parse"
    )
    assert list(tmpdir.iterdir()) == []


def test_status_lists_the_recent_runs(fresh_settings, tmp_path, capsys):
    url = url_of(fresh_settings)
    run_import(str(small_release(tmp_path / "a")), fresh_settings, lambda _: None)
    query(fresh_settings, "INSERT INTO import_runs (season, phase) VALUES (2023, 'load')")  # dead
    assert main(["status", "--database-url", url]) == 0
    header, dead, loaded = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "run",
        "season",
        "status",
        "phase",
        "started",
        "finished",
        "plays",
        "reason",
    ]
    assert dead.split()[:4] == ["2", "2023", "abandoned", "load"]
    assert dead.endswith("its importer is gone during load")  # no session recorded
    assert loaded.split()[:4] == ["1", "2023", "succeeded", "commit"]
    assert loaded.split()[8] == "233"
    assert main(["status", "--database-url", url, "--format", "json", "--limit", "1"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert {k: listed[k] for k in ("id", "season", "status", "phase")} == {
        "id": 2, "season": 2023, "status": "abandoned", "phase": "load"
    }  # fmt: skip


def test_status_with_bad_usage(capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DB_SECRET_ARN", raising=False)
    assert main(["status"]) == 2
    assert capsys.readouterr().err == (
        "import-retrosheet status: no database: give --database-url or --database-secret-arn\n"
    )


def test_already_loaded_reads_the_season_loaded_not_the_last_attempt(fresh_settings, tmp_path):
    """The release loaded, then a rejected one, then the loaded one again: nothing to do."""
    good = small_release(tmp_path / "good")
    loaded = run_import(str(good), fresh_settings, lambda _: None)
    bad = small_release(tmp_path / "bad", edit=lambda games: [*games, games[0]])
    with pytest.raises(Rejected):
        run_import(str(bad), fresh_settings, lambda _: None)
    again = run_import(str(good), fresh_settings, lambda _: None)
    assert again.skipped and again.run_id == loaded.run_id
    assert query(fresh_settings, "SELECT id, status FROM import_runs ORDER BY id") == [
        (1, "succeeded"),
        (2, "failed"),
        (3, "skipped"),
    ]
