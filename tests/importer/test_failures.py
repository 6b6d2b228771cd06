"""A season that fails to import leaves the season loaded before it as it was, and the run
says why: rejected releases, a manifest that does not match, a load that fails halfway
through the move. A changed release replaces the season."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys

import pytest

from playback_infra.paths import REPO_ROOT
from retrosheet_importer.importer import run_import
from retrosheet_importer.load import PLAY_COLUMNS, Loader
from retrosheet_importer.problems import LoadFailed, Rejected
from retrosheet_importer.release import write_manifest
from tests.importer.helpers import SLICE, small_release

NYA = "2023NYA.EVA"


def _query(settings, sql, args=None):
    with settings.connect() as db, db.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def _snapshot(settings) -> tuple:
    return tuple(
        _query(settings, f"SELECT COUNT(*), {checksum} FROM {table}")[0]
        for table, checksum in (
            ("games", "SUM(CRC32(CONCAT(game_id, play_count, import_run_id)))"),
            ("plays", "SUM(CRC32(CONCAT(game_id, event_id, event_text)))"),
            ("substitutions", "SUM(CRC32(CONCAT(game_id, event_id, seq, player_id)))"),
            ("comments", "SUM(CRC32(CONCAT(game_id, event_id, seq, comment_text)))"),
        )
    )


def _last_run(settings) -> tuple:
    return _query(
        settings,
        "SELECT season, status, error_report, finished_at IS NOT NULL FROM import_runs "
        "ORDER BY id DESC LIMIT 1",
    )[0]


@pytest.fixture
def loaded(fresh_settings, tmp_path):
    """Three games of 2023 loaded: (settings, what the tables held)."""
    summary = run_import(str(small_release(tmp_path / "good")), fresh_settings, lambda _: None)
    assert summary.counts.games == 3
    return fresh_settings, _snapshot(fresh_settings)


def test_a_rejected_release_leaves_the_season(loaded, tmp_path):
    settings, before = loaded
    bad = small_release(tmp_path / "bad", games=4, edit=lambda games: [*games[:3], games[3][:90]])
    with pytest.raises(Rejected) as rejected:
        run_import(str(bad), settings, lambda _: None)
    assert "ends without its closing data lines" in rejected.value.report()
    assert _snapshot(settings) == before
    season, status, report, finished = _last_run(settings)
    assert (season, status, finished) == (2023, "failed", 1)
    assert report == rejected.value.report()
    assert report.startswith(f"{NYA}:")


def test_a_checksum_mismatch_is_recorded(loaded, tmp_path):
    settings, before = loaded
    bad = small_release(tmp_path / "bad", games=4)
    with (bad / NYA).open("ab") as f:
        f.write(b"\r\n")
    with pytest.raises(Rejected):
        run_import(str(bad), settings, lambda _: None)
    assert _snapshot(settings) == before
    season, status, report, _ = _last_run(settings)
    assert (season, status) == (2023, "failed")
    assert report.startswith(f"{NYA}: checksum mismatch")


def test_a_load_failing_halfway_rolls_everything_back(loaded, tmp_path, monkeypatch):
    """A play by a batter nobody knows in the last file's rows: by then the load has deleted
    the old season and loaded the new games and most plays; LOAD DATA LOCAL only warns of
    the foreign key and skips the row, the loader fails on the warning, and all is undone."""
    settings, before = loaded
    load = Loader.load

    def load_a_bad_row(self, release, rosters, parsed, run_id):
        tsv = parsed[-1].plays_tsv
        first = tsv.read_text().splitlines()[0].split("\t")
        bad = [*first]
        bad[PLAY_COLUMNS.index("event_id")] = "999"
        bad[PLAY_COLUMNS.index("batter_id")] = "nobody01"
        with tsv.open("a") as f:
            f.write("\t".join(bad) + "\n")
        return load(self, release, rosters, parsed, run_id)

    monkeypatch.setattr(Loader, "load", load_a_bad_row)
    changed = small_release(tmp_path / "four", games=4)
    with pytest.raises(LoadFailed, match="foreign key constraint fails"):
        run_import(str(changed), settings, lambda _: None)
    assert _snapshot(settings) == before
    _, status, report, _ = _last_run(settings)
    assert status == "failed"
    assert report.startswith("load failed: loading 2023NYA.EVA.plays.tsv into plays: Warning 1452")


def test_a_changed_release_replaces_the_season(loaded, tmp_path):
    settings, _ = loaded
    summary = run_import(str(small_release(tmp_path / "four", games=4)), settings, lambda _: None)
    assert not summary.skipped
    assert _query(settings, "SELECT COUNT(*), COUNT(DISTINCT import_run_id) FROM games") == [(4, 1)]
    assert _query(settings, "SELECT import_run_id FROM games LIMIT 1") == [(summary.run_id,)]
    [(plays,)] = _query(settings, "SELECT COUNT(*) FROM plays")
    assert plays == summary.counts.plays


def test_a_stopped_job_marks_its_run_failed(loaded, tmp_path):
    """ECS stops a task with SIGTERM: the run in progress is marked failed, exit 143."""
    settings, before = loaded
    release = small_release(tmp_path / "four", games=4)
    shutil.copyfile(SLICE / "2023NYN.EVN", release / "2023NYN.EVN")  # 81 games: parsing
    write_manifest(release)
    url = f"mysql://{settings.user}:{settings.password}@{settings.host}:{settings.port}/"
    job = subprocess.Popen(
        [sys.executable, "-m", "retrosheet_importer", str(release),
         "--database-url", url + settings.database],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=REPO_ROOT / "jobs",
    )  # fmt: skip
    assert job.stdout.readline().startswith("release ")
    assert job.stdout.readline().startswith(f"{NYA}: 4 games")  # 2023NYN.EVN still parsing
    job.send_signal(signal.SIGTERM)
    assert job.wait(timeout=30) == 128 + signal.SIGTERM, job.stderr.read()
    assert _snapshot(settings) == before
    _, status, report, finished = _last_run(settings)
    assert (status, report, finished) == ("failed", "failed: SystemExit(143)", 1)
