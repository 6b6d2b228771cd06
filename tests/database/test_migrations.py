"""The Knex migrations against a real MariaDB server: they apply, roll back and apply again;
the schema has the keys and indexes the replay's queries need; and the plays table takes
cwevent's output as the migration's comments document it."""

from __future__ import annotations

import csv
from pathlib import Path

import pymysql
import pytest

from tests.database.helpers import (
    KNEX_TABLES,
    MIGRATIONS,
    SCHEMA_TABLES,
    documented_plays_sources,
    knex,
    tables,
)

CWEVENT_SAMPLE = Path(__file__).with_name("data") / "cwevent_2023_NYA_two_games.csv"


def test_latest_then_rollback_all_then_latest_again(server):
    database = server.fresh_database("migrations_cycle")
    assert f"Batch 1 run: {MIGRATIONS} migrations" in knex(server, "migrate:latest", database)
    assert tables(server, database) == SCHEMA_TABLES | KNEX_TABLES
    assert f"Batch 1 rolled back: {MIGRATIONS} migrations" in knex(
        server, "migrate:rollback", database, "--all"
    )
    assert tables(server, database) == KNEX_TABLES, "rollback leaves only knex's own tables"
    assert f"Batch 1 run: {MIGRATIONS} migrations" in knex(server, "migrate:latest", database)
    assert tables(server, database) == SCHEMA_TABLES | KNEX_TABLES
    assert "Already up to date" in knex(server, "migrate:latest", database)


@pytest.fixture(scope="module")
def schema(server):
    database = server.fresh_database("migrations_schema")
    knex(server, "migrate:latest", database)
    return database


def _indexes(server, database: str, table: str) -> dict[str, tuple[str, ...]]:
    rows = server.query(
        """SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
           WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY INDEX_NAME, SEQ_IN_INDEX""",
        (database, table),
    )
    found: dict[str, tuple[str, ...]] = {}
    for index, column in rows:
        found[index] = (*found.get(index, ()), column)
    return found


def test_every_table_is_innodb_and_utf8mb4(server, schema):
    rows = server.query(
        """SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES
           WHERE TABLE_SCHEMA = %s""",
        (schema,),
    )
    for table, engine, collation in rows:
        if table in SCHEMA_TABLES:
            assert engine == "InnoDB", table
            assert collation.startswith("utf8mb4_"), (table, collation)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("teams", ("season", "team_id")),
        ("players", ("player_id",)),
        ("roster_entries", ("season", "team_id", "player_id")),
        ("import_runs", ("id",)),
        ("games", ("game_id",)),
        # A game's plays in order, and a page after an event id, are ranges of this key.
        ("plays", ("game_id", "event_id")),
        ("substitutions", ("game_id", "event_id", "seq")),
        ("comments", ("game_id", "event_id", "seq")),
        ("narration_cache", ("prompt_sha256",)),
    ],
)
def test_primary_key(server, schema, table, key):
    assert _indexes(server, schema, table)["PRIMARY"] == key


@pytest.mark.parametrize(
    ("table", "index", "columns"),
    [
        ("games", "games_game_date_index", ("game_date",)),
        ("games", "games_home_team_index", ("season", "home_team_id", "game_date")),
        ("games", "games_visiting_team_index", ("season", "visiting_team_id", "game_date")),
        ("plays", "plays_batter_id_index", ("batter_id",)),
        ("plays", "plays_pitcher_id_index", ("pitcher_id",)),
        ("narration_cache", "narration_cache_prompt_version_index", ("prompt_version",)),
        ("narration_cache", "narration_cache_expires_at_index", ("expires_at",)),
    ],
)
def test_index_for_a_replay_query(server, schema, table, index, columns):
    assert _indexes(server, schema, table)[index] == columns


def test_foreign_keys(server, schema):
    rows = server.query(
        """SELECT k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,
                  k.REFERENCED_COLUMN_NAME, r.DELETE_RULE
           FROM information_schema.KEY_COLUMN_USAGE k
           JOIN information_schema.REFERENTIAL_CONSTRAINTS r
             ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA
            AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
           WHERE k.TABLE_SCHEMA = %s""",
        (schema,),
    )
    found = set(rows)
    # A game deleted to be loaded again takes its plays, substitutions and comments along.
    for child in ("plays", "substitutions", "comments"):
        assert (child, "game_id", "games", "game_id", "CASCADE") in found
    for column in ("batter_id", "pitcher_id"):
        assert ("plays", column, "players", "player_id", "RESTRICT") in found
    assert ("games", "import_run_id", "import_runs", "id", "RESTRICT") in found
    assert ("games", "home_team_id", "teams", "team_id", "RESTRICT") in found
    assert ("games", "visiting_team_id", "teams", "team_id", "RESTRICT") in found
    assert ("roster_entries", "player_id", "players", "player_id", "RESTRICT") in found


def test_import_run_status_is_checked(server, schema):
    server.query("INSERT INTO import_runs (season) VALUES (2023)", database=schema)
    assert server.query("SELECT status FROM import_runs", database=schema) == [("running",)]
    for status in ("succeeded", "failed", "abandoned", "skipped"):
        server.query(
            "INSERT INTO import_runs (season, status, phase, reason, connection_id) "
            "VALUES (2023, %s, 'load', 'why', 42)",
            (status,),
            database=schema,
        )
    with pytest.raises(pymysql.err.OperationalError) as refused:
        server.query(
            "INSERT INTO import_runs (season, status) VALUES (2023, 'done')", database=schema
        )
    assert refused.value.args[0] == 4025, "CONSTRAINT import_runs_status_check failed"


def test_narration_cache_key_is_the_hex_sha256(server, schema):
    [(column_type, charset)] = server.query(
        """SELECT COLUMN_TYPE, CHARACTER_SET_NAME FROM information_schema.COLUMNS
           WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 'narration_cache'
             AND COLUMN_NAME = 'prompt_sha256'""",
        (schema,),
    )
    assert (column_type, charset) == ("char(64)", "ascii")


# --- the plays table takes cwevent's output -------------------------------------------------


@pytest.fixture(scope="module")
def cwevent():
    with CWEVENT_SAMPLE.open(newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def test_every_plays_column_names_its_cwevent_field(server, schema, cwevent):
    header, _ = cwevent
    sources = documented_plays_sources()
    columns = server.query(
        """SELECT COLUMN_NAME FROM information_schema.COLUMNS
           WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 'plays'""",
        (schema,),
    )
    assert {name for (name,) in columns} == set(sources)
    for column, (number, name) in sources.items():
        assert header[number] == name, f"plays.{column}: column {number} is {header[number]}"


@pytest.fixture(scope="module")
def loaded(server, schema, cwevent):
    """The sample loaded with LOAD DATA, as the importer will: the documented columns, T/F
    flags (cwevent's *_FL fields) to booleans, empty strings to NULL."""
    header, rows = cwevent
    games = {row[0]: row for row in rows}
    players = {row[i] for row in rows for i in (10, 14, *range(18, 29))} - {""}
    with server.connect(database=schema, local_infile=True) as db, db.cursor() as cursor:
        cursor.execute("INSERT INTO import_runs (season, status) VALUES (2023, 'succeeded')")
        run_id = cursor.lastrowid
        cursor.executemany(
            "INSERT INTO teams VALUES (2023, %s, %s, %s, %s)",
            [("NYA", "A", "New York", "Yankees"), ("SFN", "N", "San Francisco", "Giants")],
        )
        cursor.executemany(
            "INSERT INTO players VALUES (%s, %s, '')", [(p, p) for p in sorted(players)]
        )
        cursor.executemany(
            """INSERT INTO games (game_id, season, game_date, game_number, visiting_team_id,
                                  home_team_id, play_count, source_file, source_sha256,
                                  import_run_id)
               VALUES (%s, 2023, %s, %s, %s, 'NYA', %s, '2023NYA.EVA', %s, %s)""",
            [
                (
                    game,
                    f"{game[3:7]}-{game[7:9]}-{game[9:11]}",
                    game[11],
                    row[1],
                    max(int(r[96]) for r in rows if r[0] == game),
                    "0" * 64,
                    run_id,
                )
                for game, row in games.items()
            ],
        )
        sources = documented_plays_sources()
        assignments = ", ".join(
            f"{column} = (@c{n} = 'T')" if name.endswith("_FL") else f"{column} = NULLIF(@c{n}, '')"
            for column, (n, name) in sources.items()
        )
        variables = ", ".join(f"@c{n}" for n in range(len(header)))
        loaded = cursor.execute(
            f"""LOAD DATA LOCAL INFILE %s INTO TABLE plays
                FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' IGNORE 1 LINES
                ({variables}) SET {assignments}""",
            (str(CWEVENT_SAMPLE),),
        )
        cursor.execute("SHOW WARNINGS")
        warnings = cursor.fetchall()
        cursor.execute("ANALYZE TABLE games, plays")
    return loaded, warnings, rows


def test_the_sample_loads_whole_and_without_warnings(loaded):
    count, warnings, rows = loaded
    assert count == len(rows) == 157
    assert warnings == ()


def test_loaded_values_are_cwevents(server, schema, loaded):
    _, _, rows = loaded
    [first] = server.query(
        """SELECT inning, batting_team_home, batting_team_id, balls, strikes, pitch_sequence,
                  batter_id, pitcher_id, event_text, event_type, is_at_bat,
                  runner_on_first_id, batted_ball_type
           FROM plays WHERE game_id = 'NYA202303300' AND event_id = 1""",
        database=schema,
    )
    # The first play of 2023 in the Bronx: LaMonte Wade Jr. walks on four pitches.
    assert first == (1, 0, "SFN", 3, 0, "BBBB", "wadel001", "coleg001", "W", 14, 0, None, None)
    [(runs, rbi, at_bats, hits)] = server.query(
        "SELECT SUM(runs_on_play), SUM(rbi), SUM(is_at_bat), SUM(hit_value > 0) FROM plays",
        database=schema,
    )
    assert runs == sum(int(r[142]) for r in rows)
    assert rbi == sum(int(r[43]) for r in rows)
    assert at_bats == sum(r[36] == "T" for r in rows)
    assert hits == sum(r[37] != "0" for r in rows)


@pytest.mark.parametrize(
    ("query", "index"),
    [
        # The next page of a game's plays: a primary-key range, no sort.
        (
            "SELECT * FROM plays WHERE game_id = 'NYA202303300' AND event_id > 20 "
            "ORDER BY event_id LIMIT 25",
            "PRIMARY",
        ),
        (
            "SELECT game_id, event_id FROM plays WHERE batter_id = 'judga001'",
            "plays_batter_id_index",
        ),
        (
            "SELECT game_id, event_id FROM plays WHERE pitcher_id = 'coleg001'",
            "plays_pitcher_id_index",
        ),
        ("SELECT * FROM games WHERE game_date = '2023-04-01'", "games_game_date_index"),
        (
            "SELECT * FROM games WHERE season = 2023 AND home_team_id = 'NYA' ORDER BY game_date",
            "games_home_team_index",
        ),
    ],
)
def test_replay_queries_use_their_index(server, schema, loaded, query, index):
    with server.connect(database=schema) as db, db.cursor(pymysql.cursors.DictCursor) as cursor:
        cursor.execute(f"EXPLAIN {query}")
        [plan] = cursor.fetchall()
    assert plan["key"] == index, plan
    assert "filesort" not in (plan["Extra"] or ""), plan


def test_deleting_a_game_deletes_its_plays(server, schema, loaded):
    game = "NYA202304010"
    server.query("DELETE FROM games WHERE game_id = %s", (game,), database=schema)
    assert server.query(
        "SELECT COUNT(*) FROM plays WHERE game_id = %s", (game,), database=schema
    ) == [(0,)]
    assert server.query("SELECT COUNT(*) FROM plays", database=schema)[0][0] > 0
