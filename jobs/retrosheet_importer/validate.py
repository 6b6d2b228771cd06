"""Checks on cwevent's and cwgame's output for one game, each naming the event file's line.

- event ids run 1..N, one per play line of the file (NP lines are not plays);
- every play could be read (cwevent's EVENT_CD 0 is an event it did not understand);
- the runs scored on the plays add up to cwgame's final score;
- every half-inning ends with three outs, except the game's last one (a walk-off, a game
  called in the middle of an inning) and none has more than three. A home team that does not
  bat in the ninth ends the game with the top half, so that is the last half-inning.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from retrosheet_importer.eventfile import RawGame
from retrosheet_importer.problems import Problem

OUTS_PER_HALF_INNING = 3
UNKNOWN_EVENT = 0


@dataclass(frozen=True)
class Play:
    """What the checks read of one cwevent row."""

    event_id: int
    inning: int
    batting_home: bool
    outs_before: int
    outs_on_play: int
    runs: int
    event_type: int


def _half(play: Play) -> str:
    return f"{'bottom' if play.batting_home else 'top'} of inning {play.inning}"


def check_game(
    file: str, game: RawGame, plays: list[Play], final_score: tuple[int, int] | None
) -> list[Problem]:
    """Every problem of one game's plays; `final_score` is cwgame's (visitors, home)."""
    problems = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(file, line, f"game {game.game_id}: {message}"))

    for expected, play in enumerate(plays, start=1):
        if play.event_id != expected:
            problem(
                game.line_of(expected),
                f"event ids are not 1..{len(plays)}: event {play.event_id} where {expected} belongs",
            )
            break
    if len(plays) != len(game.play_lines):
        problem(game.line, f"{len(game.play_lines)} play lines but cwevent read {len(plays)} plays")
    for play in plays:
        if play.event_type == UNKNOWN_EVENT:
            problem(game.line_of(play.event_id), "a play cwevent could not read")
    if final_score is None:
        problem(game.line, "cwgame did not report this game")
    else:
        runs = (
            sum(p.runs for p in plays if not p.batting_home),
            sum(p.runs for p in plays if p.batting_home),
        )
        if runs != final_score:
            problem(
                game.line,
                f"runs scored on the plays ({runs[0]}-{runs[1]}) disagree with the final score "
                f"({final_score[0]}-{final_score[1]})",
            )
    halves = [list(group) for _, group in groupby(plays, key=lambda p: (p.inning, p.batting_home))]
    for number, half in enumerate(halves, start=1):
        last = half[-1]
        outs = last.outs_before + last.outs_on_play
        is_last_half = number == len(halves)
        if outs > OUTS_PER_HALF_INNING or (not is_last_half and outs < OUTS_PER_HALF_INNING):
            problem(
                game.line_of(last.event_id),
                f"the {_half(last)} ends with {outs} outs, and the game goes on",
            )
    return problems
