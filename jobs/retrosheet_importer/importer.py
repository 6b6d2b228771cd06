"""One import: fetch and verify the release, record the run, wait for the import lock, skip
the release if the season loaded is these files, parse and check every file, then load. Each
step reports through `progress`; the run's phase (waiting for the lock, prepare, parse, load,
commit) is recorded as it goes, and however the import ends, short of the process being killed, its run ends with
it (runs.py: a killed one's is marked abandoned by the next import)."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pymysql

from retrosheet_importer import runs
from retrosheet_importer.database import Settings
from retrosheet_importer.load import Counts, Loader
from retrosheet_importer.parse import ParsedFile, PlaysHook, parse_release
from retrosheet_importer.problems import (
    LOCK_WAIT,
    Busy,
    LoadFailed,
    Rejected,
    Stopped,
    UsageError,
)
from retrosheet_importer.release import Release, season_of, verify
from retrosheet_importer.rosters import read_rosters
from retrosheet_importer.scratch import scratch_directory
from retrosheet_importer.source import resolve


@dataclass(frozen=True)
class Summary:
    season: int
    run_id: int
    skipped: bool
    """True when the season loaded is these very files: nothing was done; run_id is the run
    that loaded them."""
    counts: Counts | None = None
    parse_seconds: float = 0.0
    parse_cpu_seconds: float = 0.0
    """CPU time of the Chadwick processes (user + system)."""
    load_seconds: float = 0.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_import(
    source: str,
    settings: Settings,
    progress: Callable[[str], None] = print,
    verbose: bool = False,
    workers: int | None = None,
    plays_hook: PlaysHook | None = None,
    lock_wait: float = LOCK_WAIT,
) -> Summary:
    """Import the release at `source`. Raises Rejected (nothing loaded), LoadFailed, Busy (the
    lock stayed taken), or Stopped; the run is recorded as failed first."""
    with scratch_directory(progress) as scratch:
        downloads, work = Path(scratch, "release"), Path(scratch, "parsed")
        downloads.mkdir()
        work.mkdir()
        directory, manifest = resolve(source, downloads)
        with settings.connect() as db:
            try:
                release = verify(directory, manifest)
            except Rejected as rejected:
                season = season_of(directory)
                if season is not None:
                    runs.record_rejected(db, season, *_reason(rejected, "verify"))
                raise
            progress(f"release {source}: season {release.season}, {len(release.files)} files")
            run = runs.start(db, release)
            try:
                return _import(
                    release, db, run, work, progress, verbose, workers, plays_hook, lock_wait
                )
            except BaseException as error:
                _record_failure(settings, run, error, progress)
                raise


def _import(
    release: Release,
    db: pymysql.connections.Connection,
    run: runs.Run,
    work: Path,
    progress: Callable[[str], None],
    verbose: bool,
    workers: int | None,
    plays_hook: PlaysHook | None,
    lock_wait: float,
) -> Summary:
    runs.lock_import(db, run, lock_wait, progress)
    runs.enter(db, run, "prepare")
    for abandoned in runs.mark_abandoned(db):
        progress(f"run {abandoned} marked abandoned: its importer is gone")
    loaded = runs.loaded_run(db, release)
    if loaded is not None:
        runs.skip(db, run, loaded)
        progress(f"season {release.season} already loaded from these files (run {loaded})")
        return Summary(release.season, loaded, skipped=True)
    rosters = read_rosters(release)
    if rosters.problems:
        raise Rejected(rosters.problems)
    runs.enter(db, run, "parse")
    progress(f"run {run.id}: parsing")

    def on_file(parsed: ParsedFile) -> None:
        status = f", {len(parsed.problems)} problem(s)" if parsed.problems else ""
        progress(
            f"{parsed.name}: {len(parsed.games)} games, {parsed.plays:,} plays, "
            f"{parsed.substitutions:,} substitutions, {parsed.comments:,} comments{status}"
        )
        if verbose:
            for game in parsed.games:
                score = f"{game.score[0]}-{game.score[1]}" if game.score else "no score"
                progress(f"  {game.game_id}: {game.plays} plays, {score}")

    started, cpu = time.perf_counter(), _children_cpu()
    parsed = parse_release(release, work, rosters, on_file, workers, plays_hook)
    parse_seconds = time.perf_counter() - started
    parse_cpu = _children_cpu() - cpu
    plays = sum(p.plays for p in parsed)
    progress(
        f"parsed {len(parsed)} event file(s) in {parse_seconds:.1f} s ({plays / parse_seconds:,.0f} plays/s, "
        f"CPU {parse_cpu / parse_seconds:.2f} cores)"
    )
    problems = [problem for p in parsed for problem in p.problems]
    if problems:
        raise Rejected(problems)
    runs.enter(db, run, "load")
    progress(f"run {run.id}: loading")
    started = time.perf_counter()
    counts = Loader(db).load(release, rosters, parsed, run)
    load_seconds = time.perf_counter() - started
    progress(
        f"loaded in {load_seconds:.1f} s ({counts.plays / load_seconds:,.0f} plays/s): "
        f"run {run.id}, season {release.season}: {counts.games:,} games, {counts.plays:,} plays, "
        f"{counts.substitutions:,} substitutions, {counts.comments:,} comments"
    )
    return Summary(release.season, run.id, False, counts, parse_seconds, parse_cpu, load_seconds)


def _reason(error: BaseException, phase: str) -> tuple[str, str | None]:
    """(the run's reason, its full report) for how the import ended."""
    if isinstance(error, Stopped):
        return f"stopped by {error.name} during {phase}", None
    if isinstance(error, Rejected):
        return f"rejected ({len(error.problems)} problem(s)): {error.problems[0]}", error.report()
    if isinstance(error, Busy):
        return f"gave up waiting: {error}", None
    if isinstance(error, LoadFailed):
        return f"load failed: {error}", f"load failed: {error}"
    if isinstance(error, pymysql.err.MySQLError):
        return f"database error during {phase}: {error}", f"database error: {error}"
    return f"failed during {phase}: {error!r}", f"failed: {error!r}"


def _record_failure(
    settings: Settings, run: runs.Run, error: BaseException, progress: Callable[[str], None]
) -> None:
    reason, report = _reason(error, run.phase)
    if isinstance(error, Stopped):
        progress(f"run {run.id}: {reason}; rolling back")
    try:
        status = runs.record_failure(settings, run, reason, report)
    except (UsageError, pymysql.err.MySQLError) as failure:
        progress(
            f"run {run.id}: could not record its end ({failure}); the next import marks it abandoned"
        )
        return
    if status == "succeeded":
        progress(
            f"run {run.id}: the commit got through before the stop: season {run.season} is loaded"
        )
