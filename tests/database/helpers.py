"""The database tests' server handle and runners for the knex CLI and the grants script
(database/), run as the deployment's jobs run them."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

import pymysql

from playback_infra.paths import REPO_ROOT

DATABASE_DIR = REPO_ROOT / "database"
KNEX = DATABASE_DIR / "node_modules" / ".bin" / "knex"
GRANT_USERS = DATABASE_DIR / "scripts" / "grant-users.js"
MIGRATIONS = len(list((DATABASE_DIR / "migrations").glob("*.js")))
SCHEMA_MIGRATION = DATABASE_DIR / "migrations" / "20261129000001_baseball_schema.js"
# `table.<type>('column', ...) ... // f 10 BAT_ID` or `// x 45 EVENT_RUNS_CT`
SOURCE_COMMENT = re.compile(r"table\.\w+\('(\w+)'.*// ([fx]) (\d+) ([A-Z0-9_]+)")
EXTENDED_OFFSET = 97  # cwevent -f 0-96 comes first, then the extended fields
COMMAND_TIMEOUT = 60.0
# The master user, as RDS creates it (data stack: MASTER_USERNAME).
ADMIN_USER = "playback_admin"
ADMIN_PASSWORD = "admin-password-for-tests"
KNEX_TABLES = {"knex_migrations", "knex_migrations_lock"}
SCHEMA_TABLES = {
    "teams",
    "players",
    "roster_entries",
    "import_runs",
    "games",
    "plays",
    "substitutions",
    "comments",
    "narration_cache",
}


@dataclass(frozen=True)
class Server:
    host: str
    port: int

    def connect(self, user: str = ADMIN_USER, password: str = ADMIN_PASSWORD, **options):
        return pymysql.connect(
            host=self.host, port=self.port, user=user, password=password, autocommit=True, **options
        )

    def query(self, sql: str, args=None, database: str | None = None) -> list[tuple]:
        """Rows of `sql`, run as the master user."""
        with self.connect(database=database) as connection, connection.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())

    def url(self, database: str, user: str = ADMIN_USER, password: str = ADMIN_PASSWORD) -> str:
        """The importer's --database-url for `database`."""
        return f"mysql://{user}:{password}@{self.host}:{self.port}/{database}"

    def fresh_database(self, name: str) -> str:
        self.query(f"DROP DATABASE IF EXISTS `{name}`")
        self.query(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        return name

    def env(self, **variables: str) -> dict[str, str]:
        """A clean environment for the node tools: no ambient DB_* or AWS_* settings."""
        return {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "DB_HOST": self.host,
            "DB_PORT": str(self.port),
            **variables,
        }


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=DATABASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def knex(server: Server, command: str, database: str, *args: str, **variables: str) -> str:
    """The knex CLI (`migrate:latest`, ...) against `database`, as the master user unless
    DB_USER / DB_PASSWORD say otherwise; asserts it succeeded and returns its output."""
    settings = {"DB_USER": ADMIN_USER, "DB_PASSWORD": ADMIN_PASSWORD, "DB_NAME": database}
    env = server.env(**{**settings, **variables})
    done = run([str(KNEX), command, *args], env)
    assert done.returncode == 0, f"knex {command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def migrated_database(server: Server, name: str) -> str:
    """A fresh database `name` with every migration applied."""
    server.fresh_database(name)
    knex(server, "migrate:latest", name)
    return name


def tables(server: Server, database: str) -> set[str]:
    rows = server.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (database,)
    )
    return {name for (name,) in rows}


def documented_plays_sources() -> dict[str, tuple[int, str]]:
    """Column -> (CSV column, cwevent header) from the migration's comments."""
    sources = {}
    for match in SOURCE_COMMENT.finditer(SCHEMA_MIGRATION.read_text()):
        column, kind, number, header = match.groups()
        sources[column] = (int(number) + (EXTENDED_OFFSET if kind == "x" else 0), header)
    return sources
