"""A stand-in for the deployed site: the SPA and the backend's API as CloudFront serves them,
for the smoke suite's tests (with faults to inject) and the load test's short run."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

INDEX = b"<!doctype html><title>Baseball Playback</title><div id=app></div>"
HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
PLAYS_PER_GAME = 77


def _api(path: str, query: dict) -> dict | None:
    """The backend's answer to an API path, or None for an unknown one."""
    parts = path.removeprefix("/api/").split("/")
    if parts == ["health"]:
        return {"status": "ok"}
    if len(parts) == 2 and parts[0] == "games":
        return {"id": parts[1], "plays": PLAYS_PER_GAME}
    if len(parts) == 3 and parts[0] == "games" and parts[2] == "plays":
        after, limit = int(query.get("after", ["0"])[0]), int(query.get("limit", ["25"])[0])
        events = range(after + 1, min(after + limit, PLAYS_PER_GAME) + 1)
        return {"plays": [{"eventId": n, "text": f"play {n}"} for n in events]}
    if len(parts) == 5 and parts[0] == "games" and parts[4] == "narration":
        return {"eventId": int(parts[3]), "narration": "A sharp single to left.", "cached": True}
    return None


def site_handler(faults: set[str] = frozenset()):
    """A request handler class serving the site, but for the `faults` named."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in {**HEADERS, **(extra or {})}.items():
                if not (name == "Strict-Transport-Security" and "no-hsts" in faults):
                    self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urlsplit(self.path)
            path = url.path
            if path.startswith("/api/"):
                if path == "/api/health" and "api-html" in faults:
                    return self._send(200, INDEX, "text/html")
                answer = _api(path, parse_qs(url.query))
                if answer is None:
                    return self._send(404, b'{"error":"not found"}', "application/json")
                return self._send(200, json.dumps(answer).encode(), "application/json")
            if path == "/config.json":
                config = {"environment": "dev", "apiBasePath": "/api", "buildVersion": "3f2a1c9"}
                cache = "max-age=3600" if "cached-config" in faults else "no-cache"
                return self._send(200, json.dumps(config).encode(), "application/json",
                                  {"Cache-Control": cache})  # fmt: skip
            last = path.rsplit("/", 1)[1]
            if "." in last and path != "/index.html":
                if "index-for-missing" in faults:
                    return self._send(200, INDEX, "text/html")
                return self._send(404, b"not found", "text/plain")
            if "no-deep-links" in faults and path not in ("/", "/index.html"):
                return self._send(404, b"not found", "text/plain")
            return self._send(200, INDEX, "text/html")

    return Handler
