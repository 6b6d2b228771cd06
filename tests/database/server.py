"""A throwaway MariaDB server for the database and importer tests (session-wide, one for
the whole run: tests/conftest.py registers this module as a plugin).

`make test` installs mariadb-server and database/node_modules; without them (pytest run by
hand) these tests skip, saying what is missing, except in CI (`CI` set), where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pymysql
import pytest

from playback_infra.paths import REPO_ROOT
from tests.database.helpers import ADMIN_PASSWORD, ADMIN_USER, COMMAND_TIMEOUT, KNEX, Server

STARTUP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _missing(what: str) -> None:
    message = f"{what}; `make test` installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _program(name: str) -> str | None:
    # Debian puts the server in /usr/sbin, which a non-root PATH may lack.
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """A fresh MariaDB server on a free port of 127.0.0.1, with a master user like RDS's."""
    mariadbd, install_db = _program("mariadbd"), _program("mariadb-install-db")
    if not (mariadbd and install_db):
        _missing("mariadbd not found (Debian package mariadb-server)")
    if not KNEX.exists():
        _missing(f"{KNEX.relative_to(REPO_ROOT)} not found (npm ci in database/)")
    with running_server(tmp_path_factory.mktemp("mariadb")) as started:
        yield started


@contextmanager
def running_server(
    base: Path, buffer_pool: str = "64M", log_file: str = "16M", options: Sequence[str] = ()
) -> Iterator[Server]:
    """mariadbd on a free port with its data in `base`, stopped on exit (also used by
    benchmarks/import_2023.py, with a larger buffer pool and redo log, and by the importer's
    TLS test, with `options` naming its certificate)."""
    mariadbd, install_db = _program("mariadbd"), _program("mariadb-install-db")
    datadir, socket_path, log = base / "data", base / "mariadb.sock", base / "error.log"
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [
            install_db,
            "--no-defaults",
            f"--datadir={datadir}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            *as_root,
        ],
        check=True,
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
    )
    port = _free_port()
    process = subprocess.Popen(
        [
            mariadbd,
            "--no-defaults",
            *as_root,
            f"--datadir={datadir}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={socket_path}",
            f"--pid-file={base / 'mariadb.pid'}",
            f"--log-error={log}",
            "--skip-name-resolve",
            f"--innodb-buffer-pool-size={buffer_pool}",
            f"--innodb-log-file-size={log_file}",
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(process, socket_path, log)
        with (
            pymysql.connect(unix_socket=str(socket_path), user="root", autocommit=True) as root,
            root.cursor() as cursor,
        ):
            cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (ADMIN_USER, ADMIN_PASSWORD))
            cursor.execute(f"GRANT ALL PRIVILEGES ON *.* TO `{ADMIN_USER}`@'%' WITH GRANT OPTION")
        yield Server("127.0.0.1", port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def certificates(directory: Path, name: str) -> None:
    """{name}-ca.pem and a server certificate it signs for 127.0.0.1 ({name}-server.pem and
    .key), for a server started with TLS (`running_server`'s `options`)."""

    def openssl(*arguments: str) -> None:
        subprocess.run(["openssl", *arguments], cwd=directory, check=True, capture_output=True,
                       timeout=COMMAND_TIMEOUT)  # fmt: skip

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={name} test CA", "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", f"{name}-server.key", "-out", f"{name}-server.csr")  # fmt: skip
    (directory / "san.cnf").write_text("subjectAltName = IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", f"{name}-server.csr", "-CA", f"{name}-ca.pem",
            "-CAkey", f"{name}-ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", "san.cnf", "-out", f"{name}-server.pem")  # fmt: skip


def _wait_ready(process: subprocess.Popen, socket_path: Path, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mariadbd exited with {process.returncode}:\n{log.read_text()}")
        try:
            pymysql.connect(unix_socket=str(socket_path), user="root").close()
            return
        except pymysql.err.OperationalError:
            time.sleep(0.1)
    raise RuntimeError(f"mariadbd not ready after {STARTUP_TIMEOUT:g} s:\n{log.read_text()}")
