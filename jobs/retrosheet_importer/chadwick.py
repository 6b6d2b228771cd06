"""Chadwick's tools (chadwickpy, GPL-3.0+) run as separate processes, one event file each.

chadwickpy is never imported: its commands run as `python -m chadwickpy TOOL`, as the C
tools would, and write CSV files that the importer reads and loads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from retrosheet_importer.processes import die_with_parent

# The field lists the schema is built on (database/migrations: "cwevent -n -f 0-96 -x 0-66").
TOOLS = {
    "events": ("cwevent", "-n", "-f", "0-96", "-x", "0-66"),
    "substitutions": ("cwsub", "-n"),
    "comments": ("cwcomment", "-n"),
    # game id, date, number, start time, DH, day/night, teams, site, innings, final score;
    # game type; scheduled innings (x 95).
    "games": ("cwgame", "-n", "-f", "0-9,33-35,85", "-x", "95"),
}
TIMEOUT = 600.0


class ChadwickFailed(Exception):
    pass


@dataclass(frozen=True)
class Outputs:
    """The CSV files the tools wrote for one event file (each with a header row)."""

    events: Path
    substitutions: Path
    comments: Path
    games: Path


def run_tools(event_file: Path, season: int, roster_dir: Path, out_dir: Path) -> Outputs:
    """All four tools over `event_file`, one after the other, rosters from `roster_dir`; each
    dies with the calling process."""
    paths = {}
    die_with_us = partial(die_with_parent, os.getpid())
    for kind, (tool, *options) in TOOLS.items():
        path = out_dir / f"{event_file.name}.{kind}.csv"
        command = [
            sys.executable,
            "-m",
            "chadwickpy",
            tool,
            *options,
            "-y",
            str(season),
            "-D",
            str(roster_dir),
            str(event_file),
        ]
        with path.open("wb") as out:
            done = subprocess.run(
                command,
                stdout=out,
                stderr=subprocess.PIPE,
                timeout=TIMEOUT,
                check=False,
                preexec_fn=die_with_us,  # the worker runs no threads: safe here
            )
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise ChadwickFailed(f"{tool} exited with {done.returncode}: {' '.join(message)}")
        paths[kind] = path
    return Outputs(**paths)
