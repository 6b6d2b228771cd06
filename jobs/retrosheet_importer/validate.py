"""Checks on an event file's games, each naming the file's line.

That every game belongs to the release (`check_belongs`):
- its id is of the release's season and its `info,date` is its id's date;
- its home team is its id's and its file name's team, and both teams are in TEAMyyyy.

On cwevent's and cwgame's output for one game (`check_game`):
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

from retrosheet_importer.eventfile import GAME_ID, RawGame
from retrosheet_importer.problems import Problem
from retrosheet_importer.release import EVENT_FILE

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


def check_belongs(
    file: str, season: int, teams: set[str], team_file: str, games: list[RawGame]
) -> list[Problem]:
    """Every problem of `file`'s games not being the release's (a game id that is not well
    formed is reported by eventfile and skipped here)."""
    problems = []
    file_team = EVENT_FILE.match(file)["team"]
    if file_team not in teams:
        problems.append(
            Problem(file, 0, f"team {file_team} (the file's name) is not in {team_file}")
        )
    others = []  # games of another home team than the file's name says
    for game in games:
        if not GAME_ID.match(game.game_id):
            continue
        problems += _game_belongs(file, season, teams, team_file, game)
        home = game.info.get("hometeam", (0, game.game_id[:3]))[1]
        if home != file_team:
            others.append((game, home))
    if others:
        (game, home), more = others[0], len(others) - 1
        also = f" (and {more} more of this file's games)" if more else ""
        problems.append(
            Problem(
                file,
                game.info.get("hometeam", (game.line,))[0],
                f"game {game.game_id} is {home}'s home game, not {file_team}'s as the file's "
                f"name says{also}",
            )
        )
    return problems


def _game_belongs(
    file: str, season: int, teams: set[str], team_file: str, game: RawGame
) -> list[Problem]:
    problems = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(file, line, f"game {game.game_id}: {message}"))

    team, year, date = game.game_id[:3], game.game_id[3:7], game.game_id[3:11]
    if int(year) != season:
        problem(game.line, f"its id is of season {year}, not the release's {season}")
    written = f"{date[:4]}/{date[4:6]}/{date[6:]}"
    if "date" not in game.info:
        problem(game.line, "no info,date line")
    elif game.info["date"][1] != written:
        line, value = game.info["date"]
        problem(line, f"date {value} is not its id's ({written})")
    for key, role in (("hometeam", "home team"), ("visteam", "visiting team")):
        if key not in game.info:
            problem(game.line, f"no info,{key} line")
            continue
        line, value = game.info[key]
        if value not in teams:
            problem(line, f"{role} {value} is not in {team_file}")
        if key == "hometeam" and value != team:
            problem(line, f"home team {value} is not its id's ({team})")
    return problems


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
