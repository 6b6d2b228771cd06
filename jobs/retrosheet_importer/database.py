"""Database connection settings: a mysql:// URL, or an RDS-style Secrets Manager secret.

The secret has the shape database/lib/connection.js reads: username and password, and host,
port and dbname where it has them (else DB_HOST, DB_PORT, DB_NAME, as there).
`tls` verifies the server's certificate against `tls_ca` (the RDS CA bundle in the jobs
image) or the system's CAs.
"""

from __future__ import annotations

import json
import os
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pymysql

from retrosheet_importer.problems import UsageError

DEFAULT_DATABASE = "playback"
DEFAULT_PORT = 3306
CONNECT_TIMEOUT = 10


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    user: str
    password: str = ""
    database: str = DEFAULT_DATABASE
    tls: bool = False
    tls_ca: str | None = None

    def connect(self, timeout: float = CONNECT_TIMEOUT) -> pymysql.connections.Connection:
        """A connection that may LOAD DATA LOCAL INFILE; UsageError if it cannot be made
        within `timeout` seconds."""
        options = {}
        if self.tls:
            context = ssl.create_default_context(cafile=self.tls_ca)
            options["ssl"] = context
        try:
            return pymysql.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password,
                database=self.database,
                local_infile=True,
                autocommit=True,
                charset="utf8mb4",
                connect_timeout=timeout,
                **options,
            )
        except (pymysql.err.MySQLError, OSError, ssl.SSLError) as error:
            raise UsageError(
                f"cannot connect to {self.user}@{self.host}:{self.port}/{self.database}: {error}"
            ) from None


def from_url(url: str, tls: bool = False, tls_ca: str | None = None) -> Settings:
    """`mysql://user:password@host:port/database` (port and database optional)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb") or not parts.hostname or not parts.username:
        raise UsageError(f"not a database URL: {_redacted(url)} (mysql://user:pass@host:port/db)")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise UsageError(f"bad port in {_redacted(url)}") from None
    return Settings(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        database=unquote(parts.path.lstrip("/")) or DEFAULT_DATABASE,
        tls=tls,
        tls_ca=tls_ca,
    )


def from_secret(
    secret_arn: str, tls: bool = False, tls_ca: str | None = None, env=os.environ
) -> Settings:
    """Settings from a Secrets Manager secret ({username, password, host?, port?, dbname?})."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)
    except (BotoCoreError, ClientError) as error:
        raise UsageError(f"cannot read secret {secret_arn}: {error}") from None
    return from_secret_string(secret_arn, answer.get("SecretString"), tls, tls_ca, env)


def from_secret_string(
    secret_arn: str, text: str | None, tls: bool, tls_ca: str | None, env=os.environ
) -> Settings:
    if not text:
        raise UsageError(f"secret {secret_arn} has no SecretString")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise UsageError(f"secret {secret_arn} is not JSON") from None
    for key in ("username", "password"):
        if not isinstance(value.get(key), str) or not value[key]:
            raise UsageError(f'secret {secret_arn} has no "{key}"')
    host = value.get("host") or env.get("DB_HOST")
    if not host:
        raise UsageError(f'secret {secret_arn} has no "host": set DB_HOST')
    return Settings(
        host=host,
        port=int(value.get("port") or env.get("DB_PORT") or DEFAULT_PORT),
        user=value["username"],
        password=value["password"],
        database=value.get("dbname") or env.get("DB_NAME") or DEFAULT_DATABASE,
        tls=tls,
        tls_ca=tls_ca,
    )


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
