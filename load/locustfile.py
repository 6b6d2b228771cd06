"""Game night on Baseball Playback, for Locust (docs/load-testing.md).

A viewer opens the site and its runtime configuration, picks a game, and replays it: it pages
through the plays after the last event it has, polling every few seconds as the SPA does, and
asks for the narration of some plays (most come from the cache, the rest from OpenAI). Viewers
arrive the way a big game brings them: a steady evening crowd, a spike at first pitch, a
plateau, and the drift away. Everything goes through CloudFront's one host name, as the
browser's requests do.

    locust -f load/locustfile.py --host https://staging.playback.example.com --headless

Settings (environment): PEAK_USERS (500), TIME_SCALE (1.0: the shape lasts 30 minutes; 0.01
runs it in 18 s), GAME_IDS (comma-separated Retrosheet game ids), API_BASE_PATH (/api),
POLL_SECONDS (5, the SPA's poll interval), NARRATION_SHARE (0.3 of plays get a narration).
"""

from __future__ import annotations

import os
import random

from locust import HttpUser, LoadTestShape, between, task

API = os.environ.get("API_BASE_PATH", "/api")
GAMES = os.environ.get(
    "GAME_IDS", "NYA202303300,NYA202304010,NYN202304070,NYA202310010,NYN202310010"
).split(",")
POLL_SECONDS = float(os.environ.get("POLL_SECONDS", "5"))
NARRATION_SHARE = float(os.environ.get("NARRATION_SHARE", "0.3"))
PEAK_USERS = int(os.environ.get("PEAK_USERS", "500"))
TIME_SCALE = float(os.environ.get("TIME_SCALE", "1.0"))
PAGE = 25  # plays a poll asks for


class GameNightViewer(HttpUser):
    """One viewer replaying one game."""

    wait_time = between(POLL_SECONDS * 0.8, POLL_SECONDS * 1.2)

    def on_start(self) -> None:
        self.client.get("/", name="site: /")
        self.client.get("/config.json", name="site: /config.json")
        self.game = random.choice(GAMES)
        self.after = 0
        self.client.get(f"{API}/games/{self.game}", name="api: game")

    @task(10)
    def poll_plays(self) -> None:
        """The replay's poll: the next page of plays after the last event shown."""
        with self.client.get(
            f"{API}/games/{self.game}/plays",
            params={"after": self.after, "limit": PAGE},
            name="api: plays page",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            plays = response.json().get("plays", [])
            if plays:
                self.after = plays[-1]["eventId"]
                if random.random() < NARRATION_SHARE:
                    self.narrate(plays[-1]["eventId"])
            else:  # the game is over: the viewer starts another
                self.game, self.after = random.choice(GAMES), 0

    def narrate(self, event_id: int) -> None:
        self.client.get(
            f"{API}/games/{self.game}/plays/{event_id}/narration", name="api: narration"
        )

    @task(1)
    def health(self) -> None:
        """The SPA's occasional status check."""
        self.client.get(f"{API}/health", name="api: health")


# The evening, in (seconds from the start, share of PEAK_USERS): the crowd before the game,
# first pitch (a spike within a minute), the game's plateau, the late innings' drift away.
GAME_NIGHT = ((300, 0.2), (360, 1.0), (1200, 0.9), (1500, 0.5), (1800, 0.1))


def users_at(elapsed: float) -> tuple[int, float] | None:
    """(users, spawn rate) `elapsed` scaled seconds into the evening; None when it is over."""
    for end, share in GAME_NIGHT:
        if elapsed < end * TIME_SCALE:
            users = max(1, round(PEAK_USERS * share))
            # The spike arrives within a minute; elsewhere the crowd changes slowly.
            rate = users / max(1.0, 60 * TIME_SCALE) if share == 1.0 else max(1.0, users / 30)
            return users, rate
    return None


class GameNightShape(LoadTestShape):
    """Viewers over the evening (GAME_NIGHT), scaled by TIME_SCALE."""

    def tick(self):
        return users_at(self.get_run_time())
