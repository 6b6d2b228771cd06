"""Retrosheet data for the importer tests, small releases cut from it, what the database
holds, and the importer run as the jobs container runs it.

The data is the repository's copy of the project's sample (tests/importer/data/retrosheet, or
$RETROSHEET_DATA): the 2023 slice of the Yankees' and Mets' home games and cwevent's golden
output for it, gzipped. The whole 2023 season stays in the project's shared data
(shared/data/retrosheet/2023 beside the repository, or $RETROSHEET_SEASON).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from playback_infra.paths import REPO_ROOT
from retrosheet_importer.release import EVENT_FILE, write_manifest

DATA = Path(
    os.environ.get("RETROSHEET_DATA", REPO_ROOT / "tests" / "importer" / "data" / "retrosheet")
)
SLICE = DATA / "slice_2023_NYA_NYN"
GOLDEN_SLICE = DATA / "golden" / "cwevent_slice_2023_NYA_NYN.csv.gz"
SEASON = Path(
    os.environ.get(
        "RETROSHEET_SEASON", REPO_ROOT.parent / "shared" / "data" / "retrosheet" / "2023"
    )
)
SEASON_GAMES, SEASON_PLAYS = 2_430, 190_416


def golden_rows() -> list[list[str]]:
    """cwevent's output for the slice: the header row, then a row per play."""
    with gzip.open(GOLDEN_SLICE, "rt", newline="") as f:
        return list(csv.reader(f))


SLICE_GAMES, SLICE_PLAYS = 162, 12_484


def copy_release(source: Path, target: Path) -> Path:
    """A copy of the release files in `source`, with a fresh SHA256SUMS."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        shutil.copyfile(path, target / path.name)
    write_manifest(target)
    return target


def event_lines(name: str) -> list[str]:
    """The lines of a slice event file, CRLF line ends kept."""
    return (SLICE / name).read_bytes().decode().splitlines(keepends=True)


def games_of(lines: list[str]) -> list[list[str]]:
    """The lines split into games (each from its `id` line)."""
    games: list[list[str]] = []
    for line in lines:
        if line.startswith("id,"):
            games.append([])
        games[-1].append(line)
    return games


def small_release(
    target: Path,
    games: int = 3,
    edit: Callable[[list[list[str]]], list[list[str]]] = lambda games: games,
    name: str = "2023NYA.EVA",
) -> Path:
    """A release of the first `games` games of one slice event file, with TEAM2023 and every
    roster, after `edit` changed the games' lines; SHA256SUMS written last."""
    target.mkdir(parents=True, exist_ok=True)
    for path in SLICE.iterdir():
        if not EVENT_FILE.match(path.name):
            shutil.copyfile(path, target / path.name)
    chosen = edit(games_of(event_lines(name))[:games])
    (target / name).write_bytes("".join(line for game in chosen for line in game).encode())
    write_manifest(target)
    return target


def line_number(target: Path, name: str, text: str) -> int:
    """The 1-based line of `name` in `target` that starts with `text`."""
    for number, line in enumerate((target / name).read_text().splitlines(), start=1):
        if line.startswith(text):
            return number
    raise AssertionError(f"{text!r} not in {name}")


# --- what the database holds ------------------------------------------------------------------


def query(settings, sql: str, args=None) -> list[tuple]:
    with settings.connect() as db, db.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def snapshot(settings) -> tuple:
    """Row counts and checksums of the season's tables: equal snapshots, equal data."""
    return tuple(
        query(settings, f"SELECT COUNT(*), {checksum} FROM {table}")[0]
        for table, checksum in (
            ("games", "SUM(CRC32(CONCAT(game_id, play_count, import_run_id)))"),
            ("plays", "SUM(CRC32(CONCAT(game_id, event_id, event_text)))"),
            ("substitutions", "SUM(CRC32(CONCAT(game_id, event_id, seq, player_id)))"),
            ("comments", "SUM(CRC32(CONCAT(game_id, event_id, seq, comment_text)))"),
            ("teams", "SUM(CRC32(CONCAT(season, team_id, nickname)))"),
            ("roster_entries", "SUM(CRC32(CONCAT(season, team_id, player_id, position)))"),
        )
    )


def run_row(settings, run_id: int | None = None) -> dict:
    """One import run (the last one unless `run_id`) as a dict of its columns."""
    where = "WHERE id = %s" if run_id else "ORDER BY id DESC LIMIT 1"
    with settings.connect() as db, db.cursor() as cursor:
        cursor.execute(f"SELECT * FROM import_runs {where}", (run_id,) if run_id else None)
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def poll(what: Callable[[], object], timeout: float, every: float = 0.02):
    """`what()`'s first true value, tried every `every` seconds; AssertionError if there is
    none within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := what():
            return found
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s")


def url_of(settings) -> str:
    return (
        f"mysql://{settings.user}:{settings.password}@{settings.host}:{settings.port}/"
        f"{settings.database}"
    )


# --- the importer as the jobs container runs it ------------------------------------------------


class Job:
    """`python -m retrosheet_importer ARGS` running in a session (and process group) of its
    own, with TMPDIR `tmpdir`; its stdout read line by line as it comes."""

    started: ClassVar[
        list[Job]
    ] = []  # killed, with what they started, when the test ends (conftest)

    def __init__(self, args: list[str], tmpdir: Path):
        tmpdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "retrosheet_importer", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT / "jobs",
            env={**os.environ, "TMPDIR": str(tmpdir)},
            start_new_session=True,
        )
        Job.started.append(self)
        self.lines: queue.Queue[str] = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=lambda: self.err.extend(self.process.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.out.append(line.rstrip("\n"))
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> str:
        """The first line (from here on) that matches `pattern`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no line like {pattern!r} in {timeout} s: {self.out}"
                ) from None
            if re.search(pattern, line):
                return line

    def finish(self, timeout: float) -> tuple[int, str]:
        """(exit code, stderr) once it exits within `timeout` seconds and its output ends (a
        process that outlived it would hold it open)."""
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
            assert not reader.is_alive(), f"its output is held open by {self.survivors()}"
        return code, "".join(self.err)

    def kill(self) -> None:
        """SIGKILL its process group, whatever is left of it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def survivors(self, wait: float = 2.0) -> list[int]:
        """The pids left in its session after up to `wait` seconds: its workers and their
        tools, if they outlived it (a parent-death signal takes a moment)."""
        deadline = time.monotonic() + wait
        while (found := self._in_session()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    def _in_session(self) -> list[int]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.process.pid and fields[0] != "Z":  # session id, state
                found.append(int(stat.parent.name))
        return found
