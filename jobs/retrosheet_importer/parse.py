"""Parse a release: the Chadwick tools over every event file, as many at a time as there are
cores, then the checks, and the staging files the loader reads.

Every table's rows are written here as tab-separated files (`\\N` for NULL) that LOAD DATA
reads as they are: the plays' columns picked from cwevent's 164 and converted (T/F to 1/0,
empty to NULL) in the workers, so the server only stores them; games, substitutions and
comments with what the tools leave out: the source file and its checksum, the name on each
`sub` line, and the order of several at one event.

The workers are spawned, not forked: they hold nothing of the importer's (no database
connection), and they die with it (processes.die_with_parent). Stopped, or failing, the
parse kills them at once rather than let them finish the files queued.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from retrosheet_importer import columns as c
from retrosheet_importer.chadwick import ChadwickFailed, run_tools
from retrosheet_importer.eventfile import RawGame, read_event_file
from retrosheet_importer.problems import Problem
from retrosheet_importer.processes import die_with_parent
from retrosheet_importer.release import Release, ReleaseFile
from retrosheet_importer.rosters import Rosters
from retrosheet_importer.validate import Play, check_belongs, check_game

NULL = "\\N"


@dataclass(frozen=True)
class GameSummary:
    game_id: str
    line: int
    """The line of its `id` record."""
    plays: int
    score: tuple[int, int] | None


@dataclass
class ParsedFile:
    """One event file, parsed and checked."""

    name: str
    plays_tsv: Path | None = None
    games_tsv: Path | None = None
    substitutions_tsv: Path | None = None
    comments_tsv: Path | None = None
    games: list[GameSummary] = field(default_factory=list)
    plays: int = 0
    substitutions: int = 0
    comments: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Known:
    """What the rosters and TEAMyyyy name: the ids a game may use."""

    players: frozenset[str]
    teams: frozenset[str]
    team_file: str


# A hook for tests: rewrite one file's parsed plays before the checks (see tests/importer).
# The workers are spawned, so a hook must be picklable (a module-level function).
PlaysHook = Callable[[str, dict[str, list[Play]]], None]
_plays_hook: PlaysHook | None = None  # set in each worker process


def _start_worker(parent: int, hook: PlaysHook | None) -> None:
    global _plays_hook
    die_with_parent(parent)
    _plays_hook = hook


def parse_release(
    release: Release,
    out_dir: Path,
    rosters: Rosters,
    on_file: Callable[[ParsedFile], None] = lambda parsed: None,
    workers: int | None = None,
    plays_hook: PlaysHook | None = None,
) -> list[ParsedFile]:
    """Every event file parsed (largest first, `workers` at a time, default os.cpu_count()),
    in the release's order, with game ids repeated across files reported. `on_file` is
    called in this process as each file is done."""
    known = Known(
        frozenset(rosters.players),
        frozenset(team for _, team, *_ in rosters.teams),
        release.team_file.name,
    )
    files = sorted(release.event_files, key=lambda f: f.bytes, reverse=True)
    pool = ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(), plays_hook),
    )
    try:
        futures = [pool.submit(_parse_file, release, f, out_dir, known) for f in files]
        done = {}
        for future in as_completed(futures):
            result = future.result()
            on_file(result)
            done[result.name] = result
    except BaseException:  # stopped (SIGTERM), a worker's bug: no file is worth finishing
        _kill(pool)
        raise
    pool.shutdown()
    parsed = [done[f.name] for f in release.event_files]
    first: dict[str, tuple[str, int]] = {}
    for result in parsed:
        for game in result.games:
            if game.game_id in first:
                file, line = first[game.game_id]
                result.problems.append(
                    Problem(result.name, game.line, f"game {game.game_id} is also at {file}:{line}")
                )
            first.setdefault(game.game_id, (result.name, game.line))
    return parsed


def _kill(pool: ProcessPoolExecutor) -> None:
    """Drop the queued files and kill the workers (their tools die with them). The pool's
    workers are this process's only multiprocessing children."""
    pool.shutdown(wait=False, cancel_futures=True)
    workers = multiprocessing.active_children()
    for worker in workers:
        worker.kill()
    for worker in workers:
        worker.join()


def _parse_file(release: Release, file: ReleaseFile, out_dir: Path, known: Known) -> ParsedFile:
    result = ParsedFile(file.name)
    path = release.directory / file.name
    raw = read_event_file(path)
    result.problems.extend(raw.problems)
    result.problems.extend(
        check_belongs(file.name, release.season, known.teams, known.team_file, raw.games)
    )
    try:
        outputs = run_tools(path, release.season, release.directory, out_dir)
    except (ChadwickFailed, OSError) as error:
        result.problems.append(Problem(file.name, 0, str(error)))
        return result
    result.plays_tsv = out_dir / f"{file.name}.plays.tsv"
    games = {g.game_id: g for g in raw.games}
    counts = Counter(g.game_id for g in raw.games)
    first_line: dict[str, int] = {}
    for game in raw.games:
        if game.game_id in first_line:
            result.problems.append(
                Problem(
                    file.name,
                    game.line,
                    f"game {game.game_id} is also at line {first_line[game.game_id]}",
                )
            )
        first_line.setdefault(game.game_id, game.line)
    plays = _read_plays(outputs.events, result.plays_tsv, result, known.players, games)
    outputs.events.unlink()  # 164 columns; the loader reads the plays file
    if _plays_hook:
        _plays_hook(file.name, plays)
    finals = _read_games(outputs.games)
    for game in raw.games:
        if counts[game.game_id] > 1:
            continue  # their rows are mixed up; the repetition is reported
        final = finals.get(game.game_id)
        result.problems.extend(
            check_game(file.name, game, plays.get(game.game_id, []), final and final["score"])
        )
        result.games.append(
            GameSummary(
                game.game_id, game.line, len(plays.get(game.game_id, [])), final and final["score"]
            )
        )
    result.plays = sum(len(p) for p in plays.values())
    result.games_tsv = out_dir / f"{file.name}.games.tsv"
    _write_tsv(result.games_tsv, _game_rows(release, file, raw.games, finals, plays, result))
    result.substitutions_tsv = out_dir / f"{file.name}.substitutions.tsv"
    result.substitutions = _write_tsv(
        result.substitutions_tsv,
        _substitution_rows(
            outputs.substitutions,
            {g: game for g, game in games.items() if counts[g] == 1},  # repeated: reported
            known.players,
            result,
        ),
    )
    result.comments_tsv = out_dir / f"{file.name}.comments.tsv"
    result.comments = _write_tsv(result.comments_tsv, _comment_rows(outputs.comments))
    return result


def _csv_rows(path: Path) -> Iterable[list[str]]:
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        rows = csv.reader(f)
        next(rows, None)  # the header
        yield from rows


def _read_plays(
    path: Path,
    tsv: Path,
    result: ParsedFile,
    known_players: frozenset[str],
    games: dict[str, RawGame],
) -> dict[str, list[Play]]:
    """cwevent's rows as Plays per game, written to `tsv` for the loader on the way."""
    plays: dict[str, list[Play]] = defaultdict(list)
    unknown: set[str] = set()  # each reported once
    with tsv.open("w", encoding="utf-8", newline="") as out:
        for row in _csv_rows(path):
            out.write(c.plays_tsv_line(row) + "\n")
            _add_play(row, plays, unknown, known_players, games, result)
    return plays


def _add_play(
    row: list[str],
    plays: dict[str, list[Play]],
    unknown: set[str],
    known_players: frozenset[str],
    games: dict[str, RawGame],
    result: ParsedFile,
) -> None:
    play = Play(
        event_id=int(row[c.EVENT_ID]),
        inning=int(row[c.INNING]),
        batting_home=row[c.BATTING_HOME] == "1",
        outs_before=int(row[c.OUTS_BEFORE]),
        outs_on_play=int(row[c.OUTS_ON_PLAY]),
        runs=int(row[c.RUNS_ON_PLAY]),
        event_type=int(row[c.EVENT_TYPE]),
    )
    game_id = row[c.GAME_ID]
    plays[game_id].append(play)
    for column in (c.BATTER, c.PITCHER):
        if row[column] not in known_players and row[column] not in unknown:
            unknown.add(row[column])
            game = games.get(game_id)
            line = game.line_of(play.event_id) if game else 0
            result.problems.append(
                Problem(result.name, line, f"player {row[column]!r} is on no roster")
            )


def _read_games(path: Path) -> dict[str, dict]:
    games = {}
    for row in _csv_rows(path):
        game = dict(zip(c.GAME_COLUMNS, row, strict=True))
        game["score"] = (int(game["AWAY_SCORE_CT"]), int(game["HOME_SCORE_CT"]))
        games[game["GAME_ID"]] = game
    return games


def _value(value) -> str:
    if value is None or value == "":
        return NULL
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _write_tsv(path: Path, rows: Iterable[tuple]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        for row in rows:
            f.write("\t".join(_value(v) for v in row) + "\n")
            count += 1
    return count


def _game_rows(
    release: Release,
    file: ReleaseFile,
    raw_games: list[RawGame],
    finals: dict[str, dict],
    plays: dict[str, list[Play]],
    result: ParsedFile,
) -> Iterable[tuple]:
    """games columns but import_run_id, in the staging table's order."""
    for game in raw_games:
        final = finals.get(game.game_id)
        if final is None:
            continue  # reported by check_game
        date = final["GAME_DT"]
        if len(date) != 8 or not date.isdigit():
            result.problems.append(Problem(file.name, game.line, f"no valid date ({date!r})"))
            continue
        info = {key: value for key, (_, value) in game.info.items()}
        yield (
            game.game_id,
            release.season,
            f"{date[:4]}-{date[4:6]}-{date[6:]}",
            final["GAME_CT"],
            final["AWAY_TEAM_ID"],
            final["HOME_TEAM_ID"],
            final["PARK_ID"],
            final["GAME_TYPE_TX"],
            info.get("starttime"),
            info.get("daynight"),
            {"T": 1, "F": 0}.get(final["DH_FL"]),
            final["SCHED_INN_CT"] if final["SCHED_INN_CT"] not in ("", "0") else None,
            len(plays.get(game.game_id, [])),
            file.name,
            file.sha256,
        )


def _substitution_rows(
    path: Path, games: dict[str, RawGame], known_players: frozenset[str], result: ParsedFile
) -> Iterable[tuple]:
    """cwsub's rows with the name from the nth `sub` line of the game and a seq per event."""
    taken: Counter[str] = Counter()
    seq: Counter[tuple[str, int]] = Counter()
    for row in _csv_rows(path):
        game_id, player, event_id = row[0], row[3], int(row[9])
        game = games.get(game_id)
        if game is None:
            continue  # a repeated game id, reported already
        index = taken[game_id]
        taken[game_id] += 1
        if game is None or index >= len(game.subs) or game.subs[index][1] != player:
            line = game.line if game else 0
            result.problems.append(
                Problem(
                    result.name,
                    line,
                    f"cwsub's substitution {index + 1} ({player}) has no sub line",
                )
            )
            continue
        if player not in known_players:
            line = game.subs[index][0]
            result.problems.append(Problem(result.name, line, f"player {player!r} is on no roster"))
        seq[game_id, event_id] += 1
        yield (
            game_id,
            event_id,
            seq[game_id, event_id],
            player,
            game.subs[index][2],
            row[4],
            row[5],
            row[6],
            row[7],
        )


def _comment_rows(path: Path) -> Iterable[tuple]:
    seq: Counter[tuple[str, int]] = Counter()
    for row in _csv_rows(path):
        game_id, event_id = row[0], int(row[1])
        seq[game_id, event_id] += 1
        yield (game_id, event_id, seq[game_id, event_id], row[2])
