"""The slice (162 games, 12,484 plays) imported into MariaDB: every play as the reference
cwevent prints it, games with their provenance, substitutions, comments, rosters, the run's
record; and importing the same files again does nothing."""

from __future__ import annotations

import json

import pytest

from retrosheet_importer import columns
from retrosheet_importer.importer import run_import
from retrosheet_importer.release import sha256_of
from tests.database.helpers import documented_plays_sources
from tests.importer.helpers import SLICE, SLICE_GAMES, SLICE_PLAYS, golden_rows, query

EVENT_FILES = ("2023NYA.EVA", "2023NYN.EVN")


def test_the_loader_reads_the_columns_the_migration_documents():
    sources = documented_plays_sources()
    assert {c: (columns.csv_column(k, n), h) for c, k, n, h in columns.PLAYS} == sources


def test_every_play_is_cwevents(imported):
    """All 12,484 rows, every mapped column: T/F flags as 1/0, empty strings as NULL."""
    settings, _, _ = imported
    sources = documented_plays_sources()
    names = list(sources)
    _, *golden = golden_rows()
    expected = sorted(
        (
            tuple(
                (1 if row[n] == "T" else 0)
                if header.endswith("_FL")
                else (None if row[n] == "" else row[n])
                for n, header in sources.values()
            )
            for row in golden
        ),
        key=lambda r: (r[0], int(r[1])),
    )
    loaded = query(
        settings,
        f"SELECT {', '.join(names)} FROM plays ORDER BY game_id, event_id",
    )
    as_text = [
        tuple(
            v if v is None or (isinstance(v, int) and header.endswith("_FL")) else str(v)
            for v, (_, header) in zip(row, sources.values(), strict=True)
        )
        for row in loaded
    ]
    assert len(as_text) == len(expected) == SLICE_PLAYS
    for got, want in zip(as_text, expected, strict=True):
        assert got == want, dict(zip(names, zip(got, want, strict=True), strict=True))


def test_games_carry_their_source_and_run(imported):
    settings, summary, _ = imported
    rows = query(
        settings,
        "SELECT source_file, source_sha256, import_run_id, COUNT(*), SUM(play_count) "
        "FROM games GROUP BY source_file, source_sha256, import_run_id ORDER BY source_file",
    )
    assert [(f, sha, run) for f, sha, run, _, _ in rows] == [
        (name, sha256_of(SLICE / name), summary.run_id) for name in EVENT_FILES
    ]
    assert sum(games for *_, games, _ in rows) == SLICE_GAMES
    assert sum(plays for *_, plays in rows) == SLICE_PLAYS
    [opener] = query(
        settings,
        "SELECT game_date, game_number, visiting_team_id, home_team_id, site_id, game_type, "
        "start_time, day_night, uses_dh, scheduled_innings, play_count FROM games "
        "WHERE game_id = 'NYA202303300'",
    )
    assert tuple(str(v) for v in opener) == (
        "2023-03-30",
        "0",
        "SFN",
        "NYA",
        "NYC21",
        "regular",
        "1:05PM",
        "day",
        "1",
        "9",
        "69",
    )


def test_substitutions_and_comments(imported):
    settings, summary, _ = imported
    sub_lines = sum(
        line.startswith("sub,")
        for name in EVENT_FILES
        for line in (SLICE / name).read_text().splitlines()
    )
    [(subs,)] = query(settings, "SELECT COUNT(*) FROM substitutions")
    assert subs == sub_lines == summary.counts.substitutions
    # Opening day in the Bronx: Wandy Peralta relieves Gerrit Cole in the 7th, and J.D. Davis
    # pinch-hits for Yastrzemski, both before the same play.
    assert query(
        settings,
        "SELECT seq, player_id, player_name, team_home, batting_order, fielding_position, "
        "removed_player_id FROM substitutions WHERE game_id = 'NYA202303300' AND event_id = 46 "
        "ORDER BY seq",
    )[:2] == [
        (1, "peraw002", "Wandy Peralta", 1, 0, 1, "coleg001"),
        (2, "davij006", "J.D. Davis", 0, 5, 11, "yastm001"),
    ]
    [(comments,)] = query(settings, "SELECT COUNT(*) FROM comments")
    assert comments == summary.counts.comments > 100
    assert query(
        settings,
        "SELECT comment_text FROM comments WHERE game_id = 'NYA202304010' AND event_id = 88",
    ) == [("$Yankees challenged (force play), call on the field was upheld.",)]


def test_teams_players_and_rosters(imported):
    settings, _, _ = imported
    roster_lines = [
        line.split(",")
        for path in sorted(SLICE.glob("*.ROS"))
        for line in path.read_text().splitlines()
        if line
    ]
    assert query(settings, "SELECT COUNT(*) FROM teams WHERE season = 2023") == [(30,)]
    assert query(settings, "SELECT COUNT(*) FROM roster_entries WHERE season = 2023") == [
        (len(roster_lines),)
    ]
    assert query(settings, "SELECT COUNT(*) FROM players") == [
        (len({row[0] for row in roster_lines}),)
    ]
    assert query(
        settings,
        "SELECT p.last_name, r.bats, r.throws, r.position FROM players p "
        "JOIN roster_entries r USING (player_id) WHERE player_id = 'judga001'",
    ) == [("Judge", "R", "R", "OF")]


def test_the_run_is_recorded(imported, slice_release):
    settings, summary, lines = imported
    [(status, files, games, plays, error, finished)] = query(
        settings,
        "SELECT status, files, games_loaded, plays_loaded, error_report, finished_at IS NOT NULL "
        "FROM import_runs WHERE id = %s",
        (summary.run_id,),
    )
    assert (status, games, plays, error, finished) == ("succeeded", 162, 12_484, None, 1)
    listed = {f["name"]: f["sha256"] for f in json.loads(files)}
    assert len(listed) == 33
    assert listed["2023NYA.EVA"] == sha256_of(slice_release / "2023NYA.EVA")
    assert "2023NYA.EVA: 81 games, 6,194 plays, 839 substitutions, 77 comments" in lines
    assert "2023NYN.EVN: 81 games, 6,290 plays, 889 substitutions, 73 comments" in lines


@pytest.mark.usefixtures("imported")
def test_importing_the_same_files_again_does_nothing(imported, slice_release):
    """Nothing but the run's record, `skipped`, naming the run that loaded the files."""
    settings, first, _ = imported
    games = query(settings, "SELECT COUNT(*), MAX(import_run_id) FROM games")
    lines: list[str] = []
    again = run_import(str(slice_release / "SHA256SUMS"), settings, progress=lines.append)
    assert again.skipped and again.run_id == first.run_id
    assert lines[-1] == f"season 2023 already loaded from these files (run {first.run_id})"
    assert query(settings, "SELECT COUNT(*), MAX(import_run_id) FROM games") == games
    assert query(settings, "SELECT status, reason FROM import_runs ORDER BY id DESC LIMIT 1") == [
        ("skipped", f"run {first.run_id} loaded these files")
    ]
