"""Load a parsed season in one transaction: delete the season (its games with their plays,
substitutions and comments, its roster entries and teams), insert its teams and roster
entries and upsert the players, LOAD DATA LOCAL INFILE the new rows straight into the live
tables, mark the run succeeded, commit. A season replaced is replaced whole.

Readers (consistent reads) see the old season until the commit and the new one after it. The
transaction is never left half done: on any failure the importer kills this session, which
rolls it back (runs.record_failure). Loading straight into the live tables beat staging tables
plus INSERT ... SELECT (benchmarks/import_2023.py): the rows are written once. LOAD DATA LOCAL
turns errors such as a foreign key violation into warnings and skips the row, so any warning
fails the load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pymysql

from retrosheet_importer import columns
from retrosheet_importer.parse import ParsedFile
from retrosheet_importer.problems import LoadFailed, Problem, Rejected
from retrosheet_importer.release import Release
from retrosheet_importer.rosters import Rosters
from retrosheet_importer.runs import Run

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


@dataclass(frozen=True)
class Counts:
    games: int
    plays: int
    substitutions: int
    comments: int


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


class Loader:
    """The import's load, on the run's connection (autocommit but for the load)."""

    def __init__(self, connection: pymysql.connections.Connection):
        self.db = connection

    def load(
        self, release: Release, rosters: Rosters, parsed: list[ParsedFile], run: Run
    ) -> Counts:
        """Replace the season's rows by the parsed files' and mark the run succeeded, in one
        transaction; Rejected if a game is loaded already as another season's."""
        self._refuse_other_seasons(release.season, parsed)
        self.db.begin()
        with self.db.cursor() as cursor:
            for table in ("comments", "substitutions", "plays"):
                cursor.execute(
                    f"""DELETE t FROM `{table}` t JOIN games g ON g.game_id = t.game_id
                        WHERE g.season = %s""",
                    (release.season,),
                )
            for table in ("games", "roster_entries", "teams"):
                cursor.execute(f"DELETE FROM `{table}` WHERE season = %s", (release.season,))
            self._insert_rosters(cursor, rosters)
            loaded = {}
            for table, names, tsv, extra in (
                ("games", GAME_COLUMNS, "games_tsv", f"SET import_run_id = {int(run.id)}"),
                ("plays", PLAY_COLUMNS, "plays_tsv", ""),
                ("substitutions", SUBSTITUTION_COLUMNS, "substitutions_tsv", ""),
                ("comments", COMMENT_COLUMNS, "comments_tsv", ""),
            ):
                loaded[table] = sum(
                    self._load(cursor, table, names, getattr(file, tsv), extra) for file in parsed
                )
            counts = Counts(**loaded)
            run.phase = "commit"
            cursor.execute(
                """UPDATE import_runs SET status = 'succeeded', finished_at = NOW(3),
                   phase = 'commit', games_loaded = %s, plays_loaded = %s,
                   substitutions_loaded = %s, comments_loaded = %s WHERE id = %s""",
                (counts.games, counts.plays, counts.substitutions, counts.comments, run.id),
            )
        self.db.commit()
        return counts

    def _refuse_other_seasons(self, season: int, parsed: list[ParsedFile]) -> None:
        where = {g.game_id: (p.name, g.line) for p in parsed for g in p.games}
        if not where:
            return
        with self.db.cursor() as cursor:
            cursor.execute(
                f"""SELECT game_id, season, source_file FROM games
                    WHERE season <> %s AND game_id IN ({", ".join(["%s"] * len(where))})""",
                (season, *where),
            )
            taken = cursor.fetchall()
        if taken:
            raise Rejected(
                [
                    Problem(*where[game_id], f"game {game_id} is loaded already as season "
                            f"{other}'s (from {source})")
                    for game_id, other, source in taken
                ]
            )  # fmt: skip

    @staticmethod
    def _insert_rosters(cursor, rosters: Rosters) -> None:
        """The season's teams and roster entries (a line repeated in a file: the last wins),
        and its players, who may have played other seasons."""
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
            """INSERT INTO roster_entries (season, team_id, player_id, bats, throws, position)
               VALUES (%s, %s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE
               bats = VALUES(bats), throws = VALUES(throws), position = VALUES(position)""",
            rosters.entries,
        )

    @staticmethod
    def _load(cursor, table: str, names: list[str], path: Path | None, extra: str) -> int:
        """LOAD DATA of one tab-separated file; LoadFailed on any warning."""
        if path is None:
            raise LoadFailed(f"no {table} file to load")
        count = cursor.execute(
            f"""LOAD DATA LOCAL INFILE %s INTO TABLE `{table}` CHARACTER SET utf8mb4
                ({_names(names)}) {extra}""",
            (str(path),),
        )
        cursor.execute("SHOW WARNINGS LIMIT 3")
        warnings = cursor.fetchall()
        if warnings:
            details = "; ".join(f"{level} {code}: {message}" for level, code, message in warnings)
            raise LoadFailed(f"loading {path.name} into {table}: {details}")
        return count
