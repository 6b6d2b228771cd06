"""Load a parsed season: staging tables by LOAD DATA LOCAL INFILE, then one transaction that
upserts teams, players and rosters, deletes the season's games (their plays, substitutions
and comments) and inserts the staged ones. Readers see the old season or the new one.

import_runs records every attempt: `running` when it starts, then `succeeded` with the counts
or `failed` with the report. A failure before the commit leaves the live tables as they were.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pymysql

from retrosheet_importer import columns
from retrosheet_importer.parse import ParsedFile
from retrosheet_importer.problems import LoadFailed, UsageError
from retrosheet_importer.release import Release, ReleaseFile
from retrosheet_importer.rosters import Rosters

# One import at a time: the staging tables are shared.
LOCK = "playback.retrosheet_import"
GAME_COLUMNS = [
    "game_id",
    "season",
    "game_date",
    "game_number",
    "visiting_team_id",
    "home_team_id",
    "site_id",
    "game_type",
    "start_time",
    "day_night",
    "uses_dh",
    "scheduled_innings",
    "play_count",
    "source_file",
    "source_sha256",
]
PLAY_COLUMNS = [column for column, *_ in columns.PLAYS]
SUBSTITUTION_COLUMNS = [
    "game_id",
    "event_id",
    "seq",
    "player_id",
    "player_name",
    "team_home",
    "batting_order",
    "fielding_position",
    "removed_player_id",
]
COMMENT_COLUMNS = ["game_id", "event_id", "seq", "comment_text"]
STAGING = ("staging_games", "staging_plays", "staging_substitutions", "staging_comments")


@dataclass(frozen=True)
class Counts:
    games: int
    plays: int
    substitutions: int
    comments: int


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


class Loader:
    """The import's database side, on one connection (autocommit but for the move)."""

    def __init__(self, connection: pymysql.connections.Connection):
        self.db = connection

    def _run(self, sql: str, args=None) -> int:
        with self.db.cursor() as cursor:
            return cursor.execute(sql, args)

    def _rows(self, sql: str, args=None) -> list[tuple]:
        with self.db.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())

    def lock(self) -> None:
        [(got,)] = self._rows("SELECT GET_LOCK(%s, 0)", (LOCK,))
        if got != 1:
            raise UsageError("another Retrosheet import is running on this database")

    def already_loaded(self, release: Release) -> int | None:
        """The id of the last run for the season if it succeeded with these very files."""
        rows = self._rows(
            "SELECT id, status, files FROM import_runs WHERE season = %s ORDER BY id DESC LIMIT 1",
            (release.season,),
        )
        files = [f.as_json() for f in release.files]
        if rows and rows[0][1] == "succeeded" and json.loads(rows[0][2] or "null") == files:
            return rows[0][0]
        return None

    def start_run(self, season: int, files: Iterable[ReleaseFile]) -> int:
        listed = json.dumps([f.as_json() for f in files])
        with self.db.cursor() as cursor:
            cursor.execute(
                "INSERT INTO import_runs (season, status, files) VALUES (%s, 'running', %s)",
                (season, listed),
            )
            return cursor.lastrowid

    def fail_run(self, run_id: int, report: str) -> None:
        self._run(
            """UPDATE import_runs SET status = 'failed', finished_at = NOW(3), error_report = %s
               WHERE id = %s""",
            (report, run_id),
        )

    def stage(self, parsed: list[ParsedFile]) -> None:
        """Every file's rows into the (emptied) staging tables."""
        for table in STAGING:
            self._run(f"TRUNCATE TABLE `{table}`")
        variables, assignments = columns.plays_load_clause()
        for file in parsed:
            self._load(
                f"""LOAD DATA LOCAL INFILE %s INTO TABLE staging_plays CHARACTER SET utf8mb4
                    FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY ''
                    LINES TERMINATED BY '\\n' IGNORE 1 LINES ({variables}) SET {assignments}""",
                file.events_csv,
            )
            for table, names, path in (
                ("staging_games", GAME_COLUMNS, file.games_tsv),
                ("staging_substitutions", SUBSTITUTION_COLUMNS, file.substitutions_tsv),
                ("staging_comments", COMMENT_COLUMNS, file.comments_tsv),
            ):
                self._load(
                    f"""LOAD DATA LOCAL INFILE %s INTO TABLE `{table}` CHARACTER SET utf8mb4
                        ({_names(names)})""",
                    path,
                )

    def _load(self, sql: str, path: Path | None) -> None:
        with self.db.cursor() as cursor:
            cursor.execute(sql, (str(path),))
            cursor.execute("SHOW WARNINGS LIMIT 3")
            warnings = cursor.fetchall()
        if warnings:
            details = "; ".join(f"{level} {code}: {message}" for level, code, message in warnings)
            raise LoadFailed(f"loading {path.name if path else '?'} warned: {details}")

    def move(self, release: Release, rosters: Rosters, run_id: int) -> Counts:
        """Replace the season's live rows by the staged ones and mark the run succeeded, in one
        transaction."""
        season = release.season
        self.db.begin()
        try:
            with self.db.cursor() as cursor:
                cursor.executemany(
                    """INSERT INTO teams (season, team_id, league, city, nickname)
                       VALUES (%s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE
                       league = VALUES(league), city = VALUES(city), nickname = VALUES(nickname)""",
                    rosters.teams,
                )
                cursor.executemany(
                    """INSERT INTO players (player_id, last_name, first_name) VALUES (%s, %s, %s)
                       ON DUPLICATE KEY UPDATE
                       last_name = VALUES(last_name), first_name = VALUES(first_name)""",
                    [(p, last, first) for p, (last, first) in rosters.players.items()],
                )
                cursor.executemany(
                    """INSERT INTO roster_entries
                       (season, team_id, player_id, bats, throws, position)
                       VALUES (%s, %s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE
                       bats = VALUES(bats), throws = VALUES(throws), position = VALUES(position)""",
                    rosters.entries,
                )
                for table in ("comments", "substitutions", "plays"):
                    cursor.execute(
                        f"""DELETE t FROM `{table}` t JOIN games g ON g.game_id = t.game_id
                            WHERE g.season = %s""",
                        (season,),
                    )
                cursor.execute("DELETE FROM games WHERE season = %s", (season,))
                games = cursor.execute(
                    f"""INSERT INTO games ({_names(GAME_COLUMNS)}, import_run_id)
                        SELECT {_names(GAME_COLUMNS)}, %s FROM staging_games""",
                    (run_id,),
                )
                plays = cursor.execute(
                    f"INSERT INTO plays ({_names(PLAY_COLUMNS)}) "
                    f"SELECT {_names(PLAY_COLUMNS)} FROM staging_plays"
                )
                substitutions = cursor.execute(
                    f"INSERT INTO substitutions ({_names(SUBSTITUTION_COLUMNS)}) "
                    f"SELECT {_names(SUBSTITUTION_COLUMNS)} FROM staging_substitutions"
                )
                comments = cursor.execute(
                    f"INSERT INTO comments ({_names(COMMENT_COLUMNS)}) "
                    f"SELECT {_names(COMMENT_COLUMNS)} FROM staging_comments"
                )
                counts = Counts(games, plays, substitutions, comments)
                cursor.execute(
                    """UPDATE import_runs SET status = 'succeeded', finished_at = NOW(3),
                       games_loaded = %s, plays_loaded = %s, substitutions_loaded = %s,
                       comments_loaded = %s WHERE id = %s""",
                    (games, plays, substitutions, comments, run_id),
                )
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise
        return counts

    def clear_staging(self) -> None:
        for table in STAGING:
            self._run(f"TRUNCATE TABLE `{table}`")
