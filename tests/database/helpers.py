"""The database tests' server handle and runners for the knex CLI and the grants script
(database/), run as the deployment's jobs run them."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

import pymysql

from playback_infra.paths import REPO_ROOT

DATABASE_DIR = REPO_ROOT / "database"
KNEX = DATABASE_DIR / "node_modules" / ".bin" / "knex"
GRANT_USERS = DATABASE_DIR / "scripts" / "grant-users.js"
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


def tables(server: Server, database: str) -> set[str]:
    rows = server.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (database,)
    )
    return {name for (name,) in rows}
