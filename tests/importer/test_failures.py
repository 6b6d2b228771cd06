"""A season that fails to import leaves the season loaded before it as it was, and the run
says why: rejected releases, a manifest that does not match, a load that fails halfway
through the move. A changed release replaces the season."""

from __future__ import annotations

import shutil
import signal

import pytest

from retrosheet_importer.importer import run_import
from retrosheet_importer.load import PLAY_COLUMNS, Loader
from retrosheet_importer.problems import LoadFailed, Rejected
from retrosheet_importer.release import write_manifest
from tests.importer.helpers import (
    SLICE,
    Job,
    query,
    run_row,
    small_release,
    snapshot,
    url_of,
)

NYA = "2023NYA.EVA"


def _last_run(settings) -> tuple:
    run = run_row(settings)
    return run["season"], run["status"], run["error_report"], run["finished_at"] is not None


def test_a_rejected_release_leaves_the_season(loaded, tmp_path):
    settings, before = loaded
    bad = small_release(tmp_path / "bad", games=4, edit=lambda games: [*games[:3], games[3][:90]])
    with pytest.raises(Rejected) as rejected:
        run_import(str(bad), settings, lambda _: None)
    assert "ends without its closing data lines" in rejected.value.report()
    assert snapshot(settings) == before
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
    assert snapshot(settings) == before
    season, status, report, _ = _last_run(settings)
    assert (season, status) == (2023, "failed")
    assert report.startswith(f"{NYA}: checksum mismatch")
    run = run_row(settings)
    assert run["phase"] == "verify"
    assert run["reason"].startswith(f"rejected (1 problem(s)): {NYA}: checksum mismatch")


def test_a_load_failing_halfway_rolls_everything_back(loaded, tmp_path, monkeypatch):
    """A play by a batter nobody knows in the last file's rows: by then the load has deleted
    the old season and loaded the new games and most plays; LOAD DATA LOCAL only warns of
    the foreign key and skips the row, the loader fails on the warning, and all is undone."""
    settings, before = loaded
    load = Loader.load

    def load_a_bad_row(self, release, rosters, parsed, run):
        tsv = parsed[-1].plays_tsv
        first = tsv.read_text().splitlines()[0].split("\t")
        bad = [*first]
        bad[PLAY_COLUMNS.index("event_id")] = "999"
        bad[PLAY_COLUMNS.index("batter_id")] = "nobody01"
        with tsv.open("a") as f:
            f.write("\t".join(bad) + "\n")
        return load(self, release, rosters, parsed, run)

    monkeypatch.setattr(Loader, "load", load_a_bad_row)
    changed = small_release(tmp_path / "four", games=4)
    with pytest.raises(LoadFailed, match="foreign key constraint fails"):
        run_import(str(changed), settings, lambda _: None)
    assert snapshot(settings) == before
    _, status, report, _ = _last_run(settings)
    assert status == "failed"
    assert report.startswith("load failed: loading 2023NYA.EVA.plays.tsv into plays: Warning 1452")


def test_a_changed_release_replaces_the_season(loaded, tmp_path):
    settings, _ = loaded
    summary = run_import(str(small_release(tmp_path / "four", games=4)), settings, lambda _: None)
    assert not summary.skipped
    assert query(settings, "SELECT COUNT(*), COUNT(DISTINCT import_run_id) FROM games") == [(4, 1)]
    assert query(settings, "SELECT import_run_id FROM games LIMIT 1") == [(summary.run_id,)]
    [(plays,)] = query(settings, "SELECT COUNT(*) FROM plays")
    assert plays == summary.counts.plays


def test_a_replaced_season_is_replaced_whole(loaded, tmp_path):
    """Rosters and teams too: a player taken off a roster, a team taken out of TEAM2023 (and
    its roster), are gone from the season once the release without them is loaded."""
    settings, _ = loaded
    release = small_release(tmp_path / "fewer", games=4)
    roster = release / "NYA2023.ROS"
    kept = [
        line
        for line in roster.read_text().splitlines(keepends=True)
        if not line.startswith("badeh001,")
    ]
    assert len(kept) == len(roster.read_text().splitlines()) - 1, "badeh001 is on the roster"
    roster.write_text("".join(kept))
    (release / "ANA2023.ROS").unlink()
    team = release / "TEAM2023"
    team.write_text(
        "".join(t for t in team.read_text().splitlines(keepends=True) if not t.startswith("ANA,"))
    )
    write_manifest(release)
    run_import(str(release), settings, lambda _: None)
    entries = query(settings, "SELECT team_id, player_id FROM roster_entries WHERE season = 2023")
    assert ("NYA", "badeh001") not in entries
    assert not [e for e in entries if e[0] == "ANA"]
    assert query(
        settings, "SELECT COUNT(*) FROM teams WHERE season = 2023 AND team_id = 'ANA'"
    ) == [(0,)]
    assert query(settings, "SELECT COUNT(*) FROM teams WHERE season = 2023") == [(29,)]


def test_a_game_loaded_as_another_seasons_is_refused(loaded, tmp_path):
    """A game id already in the database under another season (loaded before the release
    check refused such games) is refused with the line of its new copy."""
    settings, _ = loaded
    query(settings, "INSERT INTO teams SELECT 2024, team_id, league, city, nickname FROM teams")
    query(settings, "UPDATE games SET season = 2024 WHERE game_id = 'NYA202303300'")
    before = snapshot(settings)
    with pytest.raises(Rejected) as rejected:
        run_import(str(small_release(tmp_path / "four", games=4)), settings, lambda _: None)
    assert rejected.value.report() == (
        f"{NYA}:1: game NYA202303300 is loaded already as season 2024's (from {NYA})"
    )
    assert run_row(settings)["reason"] == (
        f"rejected (1 problem(s)): {NYA}:1: game NYA202303300 is loaded already as season "
        f"2024's (from {NYA})"
    )
    assert snapshot(settings) == before


def test_a_stopped_job_marks_its_run_failed(loaded, tmp_path):
    """ECS stops a task with SIGTERM: the workers stop, the run is marked failed, exit 143,
    within seconds, and nothing is left behind. (test_stops.py does this at every phase of a
    whole season.)"""
    settings, before = loaded
    release = small_release(tmp_path / "four", games=4)
    shutil.copyfile(SLICE / "2023NYN.EVN", release / "2023NYN.EVN")  # 81 games: parsing
    write_manifest(release)
    job = Job([release, "--database-url", url_of(settings)], tmp_path / "tmp")
    job.wait_for(f"^{NYA}: 4 games", timeout=60)  # 2023NYN.EVN still parsing
    job.process.send_signal(signal.SIGTERM)
    code, err = job.finish(timeout=10)
    assert code == 128 + signal.SIGTERM, err
    assert err == "import-retrosheet: stopped by SIGTERM, previous data intact\n"
    assert snapshot(settings) == before
    run = run_row(settings)
    assert (run["status"], run["phase"]) == ("failed", "parse")
    assert run["reason"] == "stopped by SIGTERM during parse"
    assert run["finished_at"] is not None
    assert list((tmp_path / "tmp").iterdir()) == []
    assert job.survivors() == []
