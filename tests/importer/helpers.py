"""Retrosheet data for the importer tests, and small releases cut from it.

The data is the repository's copy of the project's sample (tests/importer/data/retrosheet, or
$RETROSHEET_DATA): the 2023 slice of the Yankees' and Mets' home games and cwevent's golden
output for it, gzipped.
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from playback_infra.paths import REPO_ROOT
from retrosheet_importer.release import EVENT_FILE, write_manifest

DATA = Path(
    os.environ.get("RETROSHEET_DATA", REPO_ROOT / "tests" / "importer" / "data" / "retrosheet")
)
SLICE = DATA / "slice_2023_NYA_NYN"
GOLDEN_SLICE = DATA / "golden" / "cwevent_slice_2023_NYA_NYN.csv.gz"


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
