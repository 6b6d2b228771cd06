"""A Retrosheet event file read line by line, for what cwevent does not check.

cwevent reads past unknown records, short lines and games cut off in the middle, so the
file's shape is checked here: known record types with their field counts, every game from
its `id` line to its closing `data` lines, and the line of each play and `info` record, so
that a problem found in cwevent's output can name the line it comes from. Each physical line
is one record (a quote never runs on into the next line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from retrosheet_importer.lines import csv_records, decode, physical_lines
from retrosheet_importer.problems import Problem

# Fields per record type, the type included (Retrosheet's event file specification).
FIELD_COUNTS = {
    "id": 2,
    "version": 2,
    "info": 3,
    "start": 6,
    "sub": 6,
    "play": 7,
    "com": 2,
    "data": 4,
    "badj": 3,
    "padj": 3,
    "ladj": 3,
    "radj": 3,
    "presadj": 3,
}
GAME_ID = re.compile(r"^[A-Z0-9]{3}\d{8}\d$")
NO_PLAY = "NP"


@dataclass
class RawGame:
    """One game as the event file has it."""

    game_id: str
    line: int
    info: dict[str, tuple[int, str]] = field(default_factory=dict)
    """`info` records: key -> (line, value)."""
    play_lines: list[int] = field(default_factory=list)
    """The line of each play (NP lines are not plays): event_id N is play_lines[N - 1]."""
    subs: list[tuple[int, str, str]] = field(default_factory=list)
    """(line, player id, name as written) of each `sub` record, in order."""
    players: set[str] = field(default_factory=set)
    """Every player id on a start, sub or play line."""
    last_record: str = "id"
    last_line: int = 0

    def line_of(self, event_id: int) -> int:
        if 1 <= event_id <= len(self.play_lines):
            return self.play_lines[event_id - 1]
        return self.line


@dataclass
class RawFile:
    name: str
    games: list[RawGame]
    problems: list[Problem]


def read_event_file(path: Path) -> RawFile:
    """Every game of the file and every problem of its shape."""
    name = path.name
    text = decode(path.read_bytes())
    problems: list[Problem] = []
    games: list[RawGame] = []
    lines = physical_lines(text)
    if text and not text.endswith("\n"):
        problems.append(Problem(name, len(lines), "truncated: the last line has no line end"))
    game: RawGame | None = None
    for number, fields in csv_records(name, lines, problems):
        if not fields:
            problems.append(Problem(name, number, "empty line"))
            continue
        kind = fields[0]
        expected = FIELD_COUNTS.get(kind)
        if expected is None:
            problems.append(Problem(name, number, f"unknown record type {kind[:20]!r}"))
            continue
        if len(fields) != expected:
            problems.append(
                Problem(name, number, f"{kind} line with {len(fields)} fields, expected {expected}")
            )
            continue
        if kind != "com" and any("\t" in f or "\\" in f for f in fields):
            problems.append(Problem(name, number, f"{kind} line with a tab or a backslash"))
            continue
        if kind == "id":
            if game is not None:
                _close(game, name, problems)
            game = RawGame(fields[1], number)
            if not GAME_ID.match(game.game_id):
                problems.append(Problem(name, number, f"malformed game id {game.game_id!r}"))
            games.append(game)
        elif game is None:
            problems.append(Problem(name, number, f"{kind} line before the first game id"))
            continue
        else:
            _add(game, kind, fields, number, name, problems)
    if game is not None:
        _close(game, name, problems)
    return RawFile(name, games, problems)


def _add(
    game: RawGame, kind: str, fields: list[str], number: int, name: str, problems: list[Problem]
) -> None:
    if game.last_record == "data" and kind not in ("data", "com"):
        problems.append(
            Problem(name, number, f"{kind} line after game {game.game_id}'s data lines")
        )
    if kind == "info":
        game.info[fields[1]] = (number, fields[2])
    elif kind in ("start", "sub"):
        game.players.add(fields[1])
        if kind == "sub":
            game.subs.append((number, fields[1], fields[2]))
    elif kind == "play":
        if fields[6] != NO_PLAY:
            game.play_lines.append(number)
            game.players.add(fields[3])
        for position in (1, 2):
            if not fields[position].isdigit():
                problems.append(
                    Problem(name, number, f"play line field {position + 1} not a number")
                )
    if kind != "com":
        game.last_record, game.last_line = kind, number


def _close(game: RawGame, name: str, problems: list[Problem]) -> None:
    if not game.play_lines:
        problems.append(Problem(name, game.line, f"game {game.game_id} has no plays"))
    elif game.last_record != "data":
        problems.append(
            Problem(
                name,
                game.last_line,
                f"game {game.game_id} ends without its closing data lines (truncated?)",
            )
        )
