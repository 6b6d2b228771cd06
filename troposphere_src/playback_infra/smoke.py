"""`playback-infra smoke`: is a deployed environment answering as it should, from outside?

Run after every deployment (the pipeline does, and publishes the JUnit report) or by an
operator, against an environment by name (its URLs come from the environment model) or by
URL. Standard library only, so it runs anywhere Python does. Each check is one request or
handshake and says what it expected and what it got:

- HTTP redirects to HTTPS; TLS 1.1 and older are refused, TLS 1.2 is served;
- the security headers (HSTS, CSP of this origin, nosniff, frame and referrer policies);
- the SPA for a deep link, a real 404 for a missing file, `/config.json` with the
  environment's values and not cached;
- `<api>/health` and a known game's JSON through CloudFront;
- the ALB refusing a request that did not come through CloudFront (no origin secret).
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import ssl
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

from playback_infra.environments.model import ConfigError, Environment, Problem

TIMEOUT_SECONDS = 10
HSTS_MIN_SECONDS = 31_536_000


class CheckFailed(Exception):
    """What the check expected and what it got."""


@dataclass(frozen=True)
class Target:
    site: str
    """https://host[:port] users open."""
    api_base_path: str
    environment: str
    game_id: str
    direct_api: str = ""
    """https://host[:port] of the ALB by its own name; empty to skip that check."""
    ca_file: str | None = None
    """Trust these CAs instead of the system's (a private or test CA)."""
    plain: str = ""
    """http://host[:port] that must redirect to HTTPS; default the site's host on port 80."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise CheckFailed(f"expected JSON, got {self.body[:80]!r}") from error


def _context(target: Target, **versions) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=target.ca_file)
    with warnings.catch_warnings():  # offering TLS 1.0-1.1 on purpose, to see them refused
        warnings.simplefilter("ignore", DeprecationWarning)
        for name, version in versions.items():
            setattr(context, name, version)
    return context


def _request(url: str, target: Target, headers: dict | None = None) -> Response:
    parts = urlsplit(url)
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port or 443, timeout=TIMEOUT_SECONDS, context=_context(target)
        )
    else:
        connection = http.client.HTTPConnection(
            parts.hostname, parts.port or 80, timeout=TIMEOUT_SECONDS
        )
    try:
        connection.request("GET", parts.path or "/", headers=headers or {})
        answer = connection.getresponse()
        return Response(
            answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        )
    except (OSError, http.client.HTTPException) as error:
        raise CheckFailed(f"GET {url}: {error}") from error
    finally:
        connection.close()


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def http_redirects_to_https(target: Target) -> str:
    plain = target.plain or f"http://{urlsplit(target.site).hostname}"
    answer = _request(f"{plain}/", target)
    _expect(answer.status in (301, 302, 307, 308), f"HTTP answered {answer.status}, not a redirect")
    location = answer.headers.get("location", "")
    _expect(location.startswith("https://"), f"redirects to {location!r}, not HTTPS")
    return f"{answer.status} to {location}"


def _handshake(target: Target, lowest, highest, ciphers: str = "") -> tuple[str, str]:
    """Shake hands with the site offering only TLS `lowest`..`highest`: (version, cipher)."""
    site = urlsplit(target.site)
    context = _context(target, minimum_version=lowest, maximum_version=highest)
    if ciphers:
        context.set_ciphers(ciphers)
    address = (site.hostname, site.port or 443)
    with (
        socket.create_connection(address, TIMEOUT_SECONDS) as raw,
        context.wrap_socket(raw, server_hostname=site.hostname) as tls,
    ):
        return tls.version(), tls.cipher()[0]


def old_tls_is_refused(target: Target) -> str:
    try:
        # SECLEVEL 0: this client may offer what modern OpenSSL no longer does by default.
        version, _ = _handshake(
            target, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, "DEFAULT:@SECLEVEL=0"
        )
    except ssl.SSLError as error:
        if error.reason == "NO_PROTOCOLS_AVAILABLE":
            raise CheckFailed("this machine's OpenSSL cannot offer TLS 1.1: not checked") from error
        return f"TLS 1.0-1.1 refused ({error.reason})"
    raise CheckFailed(f"the site accepted {version}")


def tls_1_2_is_served(target: Target) -> str:
    try:
        version, cipher = _handshake(target, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    except ssl.SSLError as error:
        raise CheckFailed(f"TLS 1.2 handshake failed: {error}") from error
    return f"{version} {cipher}"


def security_headers(target: Target) -> str:
    headers = _request(f"{target.site}/", target).headers
    hsts = headers.get("strict-transport-security", "")
    max_age = int(next((p.split("=")[1] for p in hsts.split(";") if "max-age" in p), "0"))
    _expect(max_age >= HSTS_MIN_SECONDS, f"HSTS {hsts!r}: max-age under a year")
    csp = headers.get("content-security-policy", "")
    _expect("default-src 'self'" in csp, f"CSP {csp!r} does not limit to this origin")
    _expect("frame-ancestors 'none'" in csp, f"CSP {csp!r} allows framing")
    _expect(
        headers.get("x-content-type-options") == "nosniff", "no X-Content-Type-Options: nosniff"
    )
    _expect(headers.get("x-frame-options") == "DENY", "X-Frame-Options is not DENY")
    _expect(bool(headers.get("referrer-policy")), "no Referrer-Policy")
    return f"HSTS {max_age} s, CSP, nosniff, DENY, {headers['referrer-policy']}"


def spa_serves_deep_links(target: Target) -> str:
    index = _request(f"{target.site}/", target)
    deep = _request(f"{target.site}/games/{target.game_id}", target)
    _expect(deep.status == 200, f"a deep link answered {deep.status}")
    _expect("text/html" in deep.headers.get("content-type", ""), "a deep link is not HTML")
    _expect(deep.body == index.body, "a deep link is not the app's index.html")
    return f"/games/{target.game_id} serves index.html"


def missing_files_are_404(target: Target) -> str:
    answer = _request(f"{target.site}/assets/does-not-exist.3f2a1c.js", target)
    _expect(answer.status == 404, f"a missing file answered {answer.status}, not 404")
    return "404"


def config_json(target: Target) -> str:
    answer = _request(f"{target.site}/config.json", target)
    _expect(answer.status == 200, f"/config.json answered {answer.status}")
    config = answer.json()
    _expect(
        config.get("environment") == target.environment,
        f"environment {config.get('environment')!r}, expected {target.environment!r}",
    )
    _expect(
        config.get("apiBasePath") == target.api_base_path,
        f"apiBasePath {config.get('apiBasePath')!r}, expected {target.api_base_path!r}",
    )
    cache = answer.headers.get("cache-control", "")
    _expect("no-cache" in cache or "max-age=0" in cache, f"cached: Cache-Control {cache!r}")
    return f"{config['environment']}, build {config.get('buildVersion', '?')}"


def api_health(target: Target) -> str:
    answer = _request(f"{target.site}{target.api_base_path}/health", target)
    _expect(answer.status == 200, f"health answered {answer.status}")
    _expect("application/json" in answer.headers.get("content-type", ""), "health is not JSON")
    answer.json()
    return "200 JSON"


def api_serves_a_known_game(target: Target) -> str:
    answer = _request(f"{target.site}{target.api_base_path}/games/{target.game_id}", target)
    _expect(answer.status == 200, f"game {target.game_id} answered {answer.status}")
    game = answer.json()
    _expect(target.game_id in json.dumps(game), f"game {target.game_id} is not in the API's answer")
    return f"game {target.game_id}"


def alb_refuses_direct_requests(target: Target) -> str:
    if not target.direct_api:
        return "skipped: no direct API URL"
    try:
        answer = _request(f"{target.direct_api}{target.api_base_path}/health", target)
    except CheckFailed as error:
        # A refused or reset connection refuses too; a certificate or name error does not.
        if isinstance(error.__cause__, ConnectionError | TimeoutError):
            return f"refused ({error})"
        raise
    _expect(answer.status == 403, f"the ALB answered {answer.status} without the origin secret")
    return "403"


CHECKS: tuple[Callable[[Target], str], ...] = (
    http_redirects_to_https,
    old_tls_is_refused,
    tls_1_2_is_served,
    security_headers,
    spa_serves_deep_links,
    missing_files_are_404,
    config_json,
    api_health,
    api_serves_a_known_game,
    alb_refuses_direct_requests,
)


@dataclass(frozen=True)
class Result:
    name: str
    passed: bool
    detail: str
    seconds: float


def run(target: Target) -> list[Result]:
    results = []
    for check in CHECKS:
        started = time.monotonic()
        try:
            detail, passed = check(target), True
        except (CheckFailed, OSError, ssl.SSLError) as error:
            detail, passed = str(error), False
        results.append(Result(check.__name__, passed, detail, time.monotonic() - started))
    return results


def junit(results: list[Result], suite: str) -> str:
    root = ElementTree.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(sum(not r.passed for r in results)),
    )
    for result in results:
        case = ElementTree.SubElement(
            root, "testcase", classname=suite, name=result.name, time=f"{result.seconds:.3f}"
        )
        if not result.passed:
            ElementTree.SubElement(case, "failure", message=result.detail)
    return ElementTree.tostring(root, encoding="unicode")


def target_of(env: Environment, args: argparse.Namespace) -> Target:
    """The environment's URLs from the model, unless --url or --direct-api-url say otherwise."""
    if args.url and not args.url.startswith("https://"):
        raise ConfigError([Problem(env.name, "url", f"{args.url!r} must be an https:// URL")])
    direct = f"https://{env.api_domain}" if env.alb_ingress.value == "cloudfront" else ""
    return Target(
        site=(args.url or f"https://{env.site_domain}").rstrip("/"),
        api_base_path=env.app.api_base_path,
        environment=env.name,
        game_id=args.game_id,
        direct_api=(args.direct_api_url if args.direct_api_url is not None else direct).rstrip("/"),
        ca_file=args.ca_file,
        plain=(args.http_url or "").rstrip("/"),
    )


def smoke(args: argparse.Namespace) -> int:
    from playback_infra.deploy import environment

    target = target_of(environment(args.env), args)
    results = run(target)
    for result in results:
        print(f"{'ok  ' if result.passed else 'FAIL'} {result.name}: {result.detail}")
    if args.junit_xml:
        Path(args.junit_xml).write_text(junit(results, f"smoke-{target.environment}"))
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed against {target.site}")
    return 1 if failed else 0
