"""--tls: the importer verifies the server's certificate against --tls-ca, and refuses a
server it cannot verify or one without TLS rather than fall back to plain text."""

from __future__ import annotations

import shutil

import pytest

from playback_infra.cli import main
from retrosheet_importer.database import from_url
from tests.database.helpers import migrated_database
from tests.database.server import certificates, running_server
from tests.importer.helpers import small_release


@pytest.fixture(scope="module")
def tls_server(server, tmp_path_factory, retrosheet_data):
    if not shutil.which("openssl"):
        pytest.skip("openssl not found")
    base = tmp_path_factory.mktemp("mariadb-tls")
    certificates(base, "right")
    certificates(base, "other")
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
