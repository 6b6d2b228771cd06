"""The game-night Locust scenario (load/locustfile.py), run for real but briefly against the
fake site on 127.0.0.1, and its arrival shape checked in Locust's own environment."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import threading
from http.server import ThreadingHTTPServer

import pytest

from playback_infra.paths import REPO_ROOT
from tests.fake_site import site_handler

LOCUST_PYTHON = REPO_ROOT / ".venv-load" / "bin" / "python"
LOCUSTFILE = REPO_ROOT / "load" / "locustfile.py"
pytestmark = pytest.mark.skipif(
    not LOCUST_PYTHON.exists() and not os.environ.get("CI"),
    reason="no .venv-load (make test creates it)",
)


@pytest.fixture(scope="module")
def site() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), site_handler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_short_game_night_exercises_every_request_without_failures(site, tmp_path):
    # The whole evening in 9 s, 20 viewers at the peak, polling every 0.2 s.
    settings = {"TIME_SCALE": "0.005", "PEAK_USERS": "20", "POLL_SECONDS": "0.2",
                "NARRATION_SHARE": "0.5"}  # fmt: skip
    done = subprocess.run(
        [str(LOCUST_PYTHON), "-m", "locust", "-f", str(LOCUSTFILE), "--host", site, "--headless",
         "--csv", str(tmp_path / "run"), "--only-summary", "--loglevel", "WARNING"],
        env={**os.environ, **settings}, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    with (tmp_path / "run_stats.csv").open() as f:
        stats = {row["Name"]: row for row in csv.DictReader(f)}
    names = set(stats) - {"Aggregated"}
    assert names == {
        "site: /", "site: /config.json", "api: game", "api: plays page", "api: narration",
        "api: health",
    }  # fmt: skip
    assert int(stats["Aggregated"]["Failure Count"]) == 0
    assert int(stats["api: plays page"]["Request Count"]) > int(stats["api: game"]["Request Count"])
    assert int(stats["Aggregated"]["Request Count"]) >= 100


def test_the_evening_spikes_at_first_pitch_and_drifts_away():
    probe = (
        "import json, locustfile as f; "
        "print(json.dumps([f.users_at(s) for s in (0, 299, 300, 330, 359, 360, 1300, 1700, 1800)]))"
    )
    done = subprocess.run(
        [str(LOCUST_PYTHON), "-c", probe], cwd=LOCUSTFILE.parent, capture_output=True, text=True,
        env={**os.environ, "PEAK_USERS": "500", "TIME_SCALE": "1"}, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shape = json.loads(done.stdout.splitlines()[-1])
    users = [point[0] if point else None for point in shape]
    assert users == [100, 100, 500, 500, 500, 450, 250, 50, None]
    spike_rate = shape[2][1]
    assert spike_rate >= 500 / 60  # the first-pitch crowd arrives within a minute
