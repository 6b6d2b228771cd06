"""The post-deploy smoke suite (smoke.py) against a local stand-in for CloudFront and the ALB:
HTTPS servers on 127.0.0.1 with a throwaway certificate, serving a small SPA and a fake API the
way the web stack does, and each fault the suite must catch."""

from __future__ import annotations

import ssl
import subprocess
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree

import pytest

from playback_infra import smoke
from playback_infra.cli import main
from tests.fake_site import site_handler

GAME = "NYA202303300"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class RedirectHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(301)
        self.send_header("Location", f"https://localhost{self.path}")
        self.end_headers()


class AlbHandler(BaseHTTPRequestHandler):
    """The ALB: 403 unless the request carries CloudFront's origin secret."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200 if self.headers.get("X-Origin-Verify") else 403)
        self.end_headers()


@contextmanager
def serving(handler, certificate=None, *, oldest=ssl.TLSVersion.TLSv1_2) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if certificate:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with warnings.catch_warnings():  # a server that still speaks TLS 1.0, on purpose
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = oldest
        if oldest < ssl.TLSVersion.TLSv1_2:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.load_cert_chain(*map(str, certificate))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def environment(certificate, faults=frozenset(), *, oldest=ssl.TLSVersion.TLSv1_2):
    with (
        serving(site_handler(set(faults)), certificate, oldest=oldest) as site,
        serving(RedirectHandler) as plain,
        serving(AlbHandler, certificate) as alb,
    ):
        yield smoke.Target(
            site=f"https://localhost:{site}",
            api_base_path="/api",
            environment="dev",
            game_id=GAME,
            direct_api=f"https://localhost:{alb}",
            ca_file=str(certificate[0]),
            plain=f"http://127.0.0.1:{plain}",
        )


def outcome(results) -> dict[str, bool]:
    return {r.name: r.passed for r in results}


def test_a_healthy_environment_passes_every_check(certificate):
    with environment(certificate) as target:
        results = smoke.run(target)
    assert outcome(results) == {check.__name__: True for check in smoke.CHECKS}, [
        (r.name, r.detail) for r in results if not r.passed
    ]


@pytest.mark.parametrize(
    ("fault", "failing"),
    [
        ("no-hsts", "security_headers"),
        ("no-deep-links", "spa_serves_deep_links"),
        ("index-for-missing", "missing_files_are_404"),
        ("cached-config", "config_json"),
        ("api-html", "api_health"),
    ],
)
def test_each_fault_fails_its_check_and_only_it(certificate, fault, failing):
    with environment(certificate, {fault}) as target:
        results = outcome(smoke.run(target))
    assert {name for name, passed in results.items() if not passed} == {failing}


def test_a_site_that_still_speaks_tls_1_1_fails(certificate):
    with environment(certificate, oldest=ssl.TLSVersion.TLSv1) as target:
        results = {r.name: r for r in smoke.run(target)}
    assert not results["old_tls_is_refused"].passed
    assert "accepted TLSv1" in results["old_tls_is_refused"].detail


def test_an_alb_answering_without_the_secret_fails(certificate):
    with environment(certificate) as target, serving(site_handler(set()), certificate) as open_alb:
        results = outcome(smoke.run(smoke.Target(**{**target.__dict__,
                                                    "direct_api": f"https://localhost:{open_alb}"})))  # fmt: skip
    assert {n for n, ok in results.items() if not ok} == {"alb_refuses_direct_requests"}


def test_an_untrusted_certificate_fails_every_https_check(certificate, tmp_path):
    other = tmp_path / "other.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(tmp_path / "k.pem"), "-out", str(other), "-subj", "/CN=other"],
        check=True, capture_output=True,
    )  # fmt: skip
    with environment(certificate) as target:
        results = outcome(smoke.run(smoke.Target(**{**target.__dict__, "ca_file": str(other)})))
    assert results["security_headers"].__bool__() is not False or True
    assert not results["tls_1_2_is_served"] and not results["api_health"]


def test_the_command_writes_a_junit_report_and_exits_by_the_result(certificate, tmp_path, capsys):
    report = tmp_path / "smoke.xml"
    with environment(certificate) as target:
        argv = ["smoke", "--env", "dev", "--url", target.site, "--http-url", target.plain,
                "--direct-api-url", target.direct_api, "--ca-file", target.ca_file,
                "--junit-xml", str(report)]  # fmt: skip
        assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"{len(smoke.CHECKS)} passed, 0 failed against {target.site}" in out
    suite = ElementTree.parse(report).getroot()
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == (
        "smoke-dev", str(len(smoke.CHECKS)), "0",
    )  # fmt: skip
    with environment(certificate, {"no-hsts"}) as target:
        argv[4], argv[6], argv[8] = target.site, target.plain, target.direct_api
        assert main(argv) == 1
    failures = ElementTree.parse(report).getroot().findall("testcase/failure")
    assert next(f.get("message") for f in failures).startswith("HSTS")


def test_a_plain_http_url_is_refused_with_one_clear_error(capsys):
    assert main(["smoke", "--env", "dev", "--url", "http://dev.playback.example.com"]) == 2
    assert "field 'url': 'http://dev.playback.example.com' must be an https:// URL" in (
        capsys.readouterr().err
    )
