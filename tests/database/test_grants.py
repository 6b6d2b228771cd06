"""database/scripts/grant-users.js against a real MariaDB server: it creates the schema and the
three users, each with exactly its role's privileges, and running it again changes nothing
but what changed in its input."""

from __future__ import annotations

import pymysql
import pytest

from tests.database.helpers import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    GRANT_USERS,
    SCHEMA_TABLES,
    knex,
    run,
    tables,
)

DATABASE = "playback_grants"
PASSWORDS = {"APP": "app-pw-1", "MIGRATION": "migrate-pw-1", "REPORTING": "report-pw-1"}
USERS = {"APP": "pb_app", "MIGRATION": "pb_migrate", "REPORTING": "pb_report"}
TABLE_ACCESS_DENIED = 1142
DATABASE_ACCESS_DENIED = 1044
LOGIN_REFUSED = 1045


def grant_users(server, passwords=PASSWORDS, **variables):
    env = server.env(
        DB_USER=ADMIN_USER,
        DB_PASSWORD=ADMIN_PASSWORD,
        DB_NAME=DATABASE,
        **{f"DB_{role}_PASSWORD": password for role, password in passwords.items()},
        **variables,
    )
    return run(["node", str(GRANT_USERS)], env)


def granted(server, **variables) -> str:
    done = grant_users(server, **variables)
    assert done.returncode == 0, done.stderr
    return done.stdout


def grants(server) -> dict[str, list[str]]:
    return {
        user: sorted(row[0] for row in server.query(f"SHOW GRANTS FOR `{user}`@'%'"))
        for user in USERS.values()
    }


def connect(server, role: str, password: str | None = None):
    return server.connect(USERS[role], password or PASSWORDS[role], database=DATABASE)


def refused(server, role: str, sql: str) -> int:
    """The MySQL error number `sql` gets as `role`."""
    with (
        connect(server, role) as db,
        db.cursor() as cursor,
        pytest.raises(pymysql.err.OperationalError) as error,
    ):
        cursor.execute(sql)
    return error.value.args[0]


@pytest.fixture(scope="module")
def schema(server):
    """The schema as a deployment makes it: grants with the master user, then the migrations
    as the migration user."""
    server.query(f"DROP DATABASE IF EXISTS `{DATABASE}`")
    output = granted(server)
    knex(
        server,
        "migrate:latest",
        DATABASE,
        DB_USER=USERS["MIGRATION"],
        DB_PASSWORD=PASSWORDS["MIGRATION"],
    )
    return output


def test_creates_the_schema_and_the_users(server, schema):
    assert schema.splitlines() == [
        f"pb_app: SELECT, INSERT, UPDATE, DELETE on {DATABASE}",
        f"pb_migrate: SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, "
        f"REFERENCES on {DATABASE}",
        f"pb_report: SELECT on {DATABASE}",
    ]
    [(charset,)] = server.query(
        "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
        (DATABASE,),
    )
    assert charset == "utf8mb4"


def test_the_migration_user_ran_the_migrations(server, schema):
    assert tables(server, DATABASE) >= SCHEMA_TABLES


def test_a_second_run_changes_nothing(server, schema):
    before = grants(server)
    assert granted(server) == schema
    assert grants(server) == before
    report = f"GRANT SELECT ON `{DATABASE}`.* TO `pb_report`@`%`"
    assert report in before["pb_report"]


def test_the_app_user_reads_and_writes_but_cannot_change_the_schema(server, schema):
    with connect(server, "APP") as db, db.cursor() as cursor:
        cursor.execute("INSERT INTO players VALUES ('testp001', 'Test', 'Player')")
        cursor.execute("UPDATE players SET first_name = 'Changed' WHERE player_id = 'testp001'")
        cursor.execute("SELECT first_name FROM players WHERE player_id = 'testp001'")
        assert cursor.fetchall() == (("Changed",),)
        cursor.execute("DELETE FROM players WHERE player_id = 'testp001'")
    assert refused(server, "APP", "CREATE TABLE scratch (id INT)") == TABLE_ACCESS_DENIED
    assert refused(server, "APP", "DROP TABLE comments") == TABLE_ACCESS_DENIED
    assert refused(server, "APP", "ALTER TABLE plays ADD COLUMN x INT") == TABLE_ACCESS_DENIED
    assert refused(server, "APP", "SELECT * FROM mysql.user") == TABLE_ACCESS_DENIED


def test_the_reporting_user_only_reads(server, schema):
    with connect(server, "REPORTING") as db, db.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM plays")
        assert cursor.fetchall() == ((0,),)
    insert = "INSERT INTO players VALUES ('testp002', 'Test', 'Player')"
    assert refused(server, "REPORTING", insert) == TABLE_ACCESS_DENIED
    assert refused(server, "REPORTING", "DELETE FROM plays") == TABLE_ACCESS_DENIED
    assert refused(server, "REPORTING", "CREATE TABLE scratch (id INT)") == TABLE_ACCESS_DENIED


def test_the_migration_user_changes_the_schema_only_in_its_own(server, schema):
    with connect(server, "MIGRATION") as db, db.cursor() as cursor:
        cursor.execute("CREATE TABLE scratch (id INT PRIMARY KEY)")
        cursor.execute("DROP TABLE scratch")
    assert refused(server, "MIGRATION", "CREATE DATABASE other") == DATABASE_ACCESS_DENIED
    assert refused(server, "MIGRATION", "CREATE USER someone") == 1227  # needs CREATE USER


def test_a_changed_password_is_applied(server, schema):
    try:
        granted(server, passwords={**PASSWORDS, "APP": "app-pw-2"})
        connect(server, "APP", "app-pw-2").close()
        with pytest.raises(pymysql.err.OperationalError) as error:
            connect(server, "APP")
        assert error.value.args[0] == LOGIN_REFUSED
    finally:
        granted(server)
    connect(server, "APP").close()


def test_a_privilege_granted_by_hand_is_revoked(server, schema):
    before = grants(server)
    server.query(f"GRANT DROP, CREATE VIEW ON `{DATABASE}`.* TO pb_report@'%'")
    assert grants(server) != before
    output = granted(server)
    assert f"pb_report: SELECT on {DATABASE}; revoked " in output
    assert grants(server) == before


def test_tls_is_required_only_when_asked(server, schema):
    try:
        granted(server, DB_REQUIRE_SSL="true")
        for user in USERS.values():
            [(ssl_type,)] = server.query(
                "SELECT ssl_type FROM mysql.user WHERE User = %s AND Host = '%%'", (user,)
            )
            assert ssl_type == "ANY", user
        with pytest.raises(pymysql.err.OperationalError) as error:
            connect(server, "REPORTING")  # this server offers no TLS at all
        assert error.value.args[0] == LOGIN_REFUSED
    finally:
        granted(server)
    connect(server, "REPORTING").close()


def test_a_missing_password_changes_nothing(server, schema):
    before = grants(server)
    done = grant_users(server, passwords={"APP": "app-pw-3", "MIGRATION": "migrate-pw-1"})
    assert done.returncode == 1
    assert "set DB_REPORTING_SECRET_ARN or DB_REPORTING_PASSWORD" in done.stderr
    assert grants(server) == before
    connect(server, "APP").close()
