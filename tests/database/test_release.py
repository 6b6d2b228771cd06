"""database/scripts/release.sh, the database step of every release (`playback-infra migrate`):
grants first, then the migrations, against a real MariaDB server; a second run changes
nothing."""

from __future__ import annotations

from tests.database.helpers import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    DATABASE_DIR,
    SCHEMA_TABLES,
    run,
    tables,
)
from tests.database.test_grants import DATABASE, PASSWORDS, USERS, grants

RELEASE = DATABASE_DIR / "scripts" / "release.sh"


def _release(server):
    # Locally there are no secrets: both steps sign in with DB_USER (the server's admin).
    env = server.env(
        DB_USER=ADMIN_USER,
        DB_PASSWORD=ADMIN_PASSWORD,
        DB_NAME=DATABASE,
        **{f"DB_{role}_PASSWORD": password for role, password in PASSWORDS.items()},
    )
    return run(["sh", str(RELEASE)], env)


def test_a_fresh_database_gets_its_users_then_its_schema_and_a_rerun_changes_nothing(server):
    server.query(f"DROP DATABASE IF EXISTS `{DATABASE}`")
    first = _release(server)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    granted = next(i for i, line in enumerate(lines) if line.startswith("pb_app:"))
    migrated = next(i for i, line in enumerate(lines) if "Batch 1 run" in line)
    assert granted < migrated  # the users exist before any migration runs
    assert tables(server, DATABASE) >= SCHEMA_TABLES
    assert set(grants(server)) == set(USERS.values())
    before = grants(server)
    second = _release(server)
    assert second.returncode == 0, second.stderr
    assert "Already up to date" in second.stdout
    assert grants(server) == before


def test_a_failed_grant_stops_before_the_migrations(server):
    server.query(f"DROP DATABASE IF EXISTS `{DATABASE}`")
    env = server.env(DB_USER="nobody", DB_PASSWORD="wrong", DB_NAME=DATABASE)
    done = run(["sh", str(RELEASE)], env)
    assert done.returncode != 0
    assert "Batch" not in done.stdout and "Already up to date" not in done.stdout
    assert DATABASE not in {row[0] for row in server.query("SHOW DATABASES")}
