"""--tls: the importer verifies the server's certificate against --tls-ca, and refuses a
server it cannot verify or one without TLS rather than fall back to plain text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from playback_infra.cli import main
from retrosheet_importer.database import from_url
from tests.database.helpers import migrated_database
from tests.database.server import running_server
from tests.importer.helpers import small_release


def _openssl(*arguments: str, cwd: Path) -> None:
    subprocess.run(["openssl", *arguments], cwd=cwd, check=True, capture_output=True, timeout=60)


def _certificates(directory: Path, name: str) -> None:
    """{name}-ca.pem and a server certificate it signs for 127.0.0.1."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={name} test CA", "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem",
             cwd=directory)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", f"{name}-server.key", "-out", f"{name}-server.csr", cwd=directory)  # fmt: skip
    (directory / "san.cnf").write_text("subjectAltName = IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", f"{name}-server.csr", "-CA", f"{name}-ca.pem",
             "-CAkey", f"{name}-ca.key", "-CAcreateserial", "-days", "2",
             "-extfile", "san.cnf", "-out", f"{name}-server.pem", cwd=directory)  # fmt: skip


@pytest.fixture(scope="module")
def tls_server(server, tmp_path_factory, retrosheet_data):
    if not shutil.which("openssl"):
        pytest.skip("openssl not found")
    base = tmp_path_factory.mktemp("mariadb-tls")
    _certificates(base, "right")
    _certificates(base, "other")
    options = [
        f"--ssl-ca={base / 'right-ca.pem'}",
        f"--ssl-cert={base / 'right-server.pem'}",
        f"--ssl-key={base / 'right-server.key'}",
    ]
    (base / "db").mkdir()
    with running_server(base / "db", options=options) as started:
        yield started, base


def test_verified_tls(tls_server, tmp_path, capsys):
    started, certificates = tls_server
    url = started.url(migrated_database(started, "imp_tls"))
    release = str(small_release(tmp_path))
    ca = str(certificates / "right-ca.pem")
    assert main(["import-retrosheet", release, "--database-url", url, "--tls", "--tls-ca", ca]) == 0
    assert "2023NYA.EVA: 3 games" in capsys.readouterr().out
    with from_url(url, tls=True, tls_ca=ca).connect() as db, db.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        [(_, version)] = cursor.fetchall()
    assert version.startswith("TLSv1.")


def test_a_server_the_ca_did_not_sign_is_refused(tls_server, tmp_path, capsys):
    started, certificates = tls_server
    url = started.url("mysql")
    ca = str(certificates / "other-ca.pem")
    release = str(small_release(tmp_path))
    assert main(["import-retrosheet", release, "--database-url", url, "--tls", "--tls-ca", ca]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "CERTIFICATE_VERIFY_FAILED" in line


def test_a_server_without_tls_is_refused(server, tmp_path, capsys):
    release = str(small_release(tmp_path))
    assert main(["import-retrosheet", release, "--database-url", server.url("mysql"), "--tls"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith('(2026, "SSL is required but the server doesn\'t support it")')
