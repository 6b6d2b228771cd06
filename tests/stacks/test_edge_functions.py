"""The CloudFront Functions' JavaScript, run with node against CloudFront's event shape."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from playback_infra.parts.names import TEST_HEADER
from playback_infra.stacks import web

# Evaluates the function's code as CloudFront does (a script defining `handler`) and prints
# what handler returns for each event read from stdin.
HARNESS = """
const code = require('fs').readFileSync(process.argv[1], 'utf8');
const handler = new Function(code + '\\nreturn handler;')();
const events = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(events.map((event) => handler(event))));
"""


def run_function(name: str, requests: list[dict]) -> list[dict]:
    node = shutil.which("node")
    assert node, "node is needed to run the CloudFront Functions' code"
    events = [{"version": "1.0", "context": {"eventType": "viewer-request"}, "request": r}
              for r in requests]  # fmt: skip
    done = subprocess.run(
        [node, "-e", HARNESS, str(web.FUNCTIONS / f"{name}.js")],
        input=json.dumps(events), capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def request(uri: str, headers: dict | None = None) -> dict:
    return {"method": "GET", "uri": uri, "querystring": {}, "headers": headers or {},
            "cookies": {}}  # fmt: skip


@pytest.mark.parametrize(
    ("uri", "served"),
    [
        ("/", "/index.html"),
        ("/games", "/index.html"),
        ("/games/", "/index.html"),
        ("/games/2023-04-01-NYA202304010", "/index.html"),
        ("/teams/NYN/roster", "/index.html"),
        ("/index.html", "/index.html"),
        ("/config.json", "/config.json"),
        ("/assets/app.3f2a1c9e.js", "/assets/app.3f2a1c9e.js"),
        ("/assets/fonts/inter.woff2", "/assets/fonts/inter.woff2"),
        ("/favicon.ico", "/favicon.ico"),
        ("/errors/5xx.html", "/errors/5xx.html"),
        ("/missing.png", "/missing.png"),  # a missing file stays a 404
        ("/v1.2/notes", "/index.html"),  # a dot in a directory is not a file extension
    ],
)
def test_spa_routing_serves_index_for_app_routes_and_files_as_they_are(uri, served):
    (result,) = run_function("spa_routing", [request(uri)])
    assert result["uri"] == served


def test_spa_routing_keeps_the_rest_of_the_request():
    original = request("/games/1", {"accept": {"value": "text/html"}})
    original["querystring"] = {"inning": {"value": "7"}}
    (result,) = run_function("spa_routing", [original])
    assert {**result, "uri": original["uri"]} == original


def test_api_function_drops_the_test_traffic_header_and_nothing_else():
    headers = {
        TEST_HEADER.lower(): {"value": "1"},
        "authorization": {"value": "Bearer x"},
        "accept": {"value": "application/json"},
    }
    (result,) = run_function("api_request", [request("/api/games/NYA202304010/plays", headers)])
    assert result["headers"] == {
        "authorization": {"value": "Bearer x"},
        "accept": {"value": "application/json"},
    }
    assert result["uri"] == "/api/games/NYA202304010/plays"
    (untouched,) = run_function("api_request", [request("/api/health")])
    assert untouched == request("/api/health")


def test_functions_fit_cloudfront_functions_limits():
    """10 KB of code at most; no `require`, network or timers (cloudfront-js-2.0 has none)."""
    for path in web.FUNCTIONS.glob("*.js"):
        code = path.read_text()
        assert len(code.encode()) <= 10_240, path.name
        for forbidden in ("require(", "fetch(", "setTimeout(", "import "):
            assert forbidden not in code, (path.name, forbidden)
