"""The knexfile and the grants script read Secrets Manager secrets of the shapes RDS makes
(the managed master secret: username and password; a user secret with a target attachment:
host, port, engine as well), here from the local AWS emulator."""

from __future__ import annotations

import json

import boto3
import pytest

from playback_infra.emulator.process import run_emulator
from tests.database.helpers import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    GRANT_USERS,
    KNEX,
    MIGRATIONS,
    run,
    tables,
)

DATABASE = "playback_secrets"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def emulator():
    with run_emulator() as url:
        yield url


@pytest.fixture(scope="module")
def secret(emulator):
    """`secret(name, value)` -> the ARN of a new secret holding `value` as JSON."""
    client = boto3.client(
        "secretsmanager",
        region_name=REGION,
        endpoint_url=emulator,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return lambda name, value: client.create_secret(Name=name, SecretString=json.dumps(value))[
        "ARN"
    ]


def aws_env(server, emulator, **variables: str) -> dict[str, str]:
    """No DB_HOST or DB_PORT: what a secret lacks must come from `variables`."""
    env = server.env(
        AWS_ENDPOINT_URL=emulator,
        AWS_REGION=REGION,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
    )
    del env["DB_HOST"], env["DB_PORT"]
    return {**env, **variables}


@pytest.fixture(scope="module")
def secrets(server, secret):
    attached = {"engine": "mysql", "host": server.host, "port": server.port}
    return {
        "master": secret("master", {"username": ADMIN_USER, "password": ADMIN_PASSWORD}),
        # After a first alternating-users rotation the secret names the clone.
        "app": secret("app", {"username": "pb_app_clone", "password": "app-s", **attached}),
        "migration": secret(
            "migration",
            {"username": "pb_migrate", "password": "mig-s", "dbname": DATABASE, **attached},
        ),
        "reporting": secret("reporting", {"username": "pb_report", "password": "rep-s"}),
        "stranger": secret("stranger", {"username": "someone_else", "password": "x"}),
    }


def grant_users(server, emulator, secrets, app="app"):
    env = aws_env(
        server,
        emulator,
        DB_SECRET_ARN=secrets["master"],
        DB_HOST=server.host,  # the RDS-managed master secret has no host
        DB_PORT=str(server.port),
        DB_NAME=DATABASE,
        DB_APP_SECRET_ARN=secrets[app],
        DB_MIGRATION_SECRET_ARN=secrets["migration"],
        DB_REPORTING_SECRET_ARN=secrets["reporting"],
    )
    return run(["node", str(GRANT_USERS)], env)


@pytest.fixture(scope="module")
def granted(server, emulator, secrets):
    server.query(f"DROP DATABASE IF EXISTS `{DATABASE}`")
    done = grant_users(server, emulator, secrets)
    yield done
    server.query("DROP USER IF EXISTS pb_app_clone@'%'")


def test_grants_users_from_their_secrets(server, granted):
    assert granted.returncode == 0, granted.stderr
    assert "pb_app_clone: SELECT, INSERT, UPDATE, DELETE on" in granted.stdout
    for user, password in (
        ("pb_app_clone", "app-s"),
        ("pb_migrate", "mig-s"),
        ("pb_report", "rep-s"),
    ):
        server.connect(user, password, database=DATABASE).close()
    clone = server.query("SHOW GRANTS FOR pb_app_clone@'%'")
    assert (
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{DATABASE}`.* TO `pb_app_clone`@`%`",
    ) in clone


def test_knex_reads_host_port_and_database_from_the_secret(server, emulator, secrets, granted):
    env = aws_env(server, emulator, DB_SECRET_ARN=secrets["migration"])
    done = run([str(KNEX), "migrate:latest"], env)
    assert done.returncode == 0, done.stderr
    assert f"Batch 1 run: {MIGRATIONS} migrations" in done.stdout
    assert "plays" in tables(server, DATABASE)


def test_a_secret_of_another_user_is_refused(server, emulator, secrets, granted):
    done = grant_users(server, emulator, secrets, app="stranger")
    assert done.returncode == 1
    assert 'is for "someone_else", not pb_app' in done.stderr
    assert server.query("SELECT User FROM mysql.user WHERE User = 'someone_else'") == []
