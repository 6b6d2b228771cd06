"""One import: fetch and verify the release, skip it if already loaded, parse and check every
file, then load. Each step reports through `progress`."""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pymysql

from retrosheet_importer.database import Settings
from retrosheet_importer.load import Counts, Loader
from retrosheet_importer.parse import ParsedFile, PlaysHook, parse_release
from retrosheet_importer.problems import LoadFailed, Rejected
from retrosheet_importer.release import Release, season_of, verify
from retrosheet_importer.rosters import read_rosters
from retrosheet_importer.source import resolve


@dataclass(frozen=True)
class Summary:
    season: int
    run_id: int
    skipped: bool
    """True when the last run for the season loaded these very files: nothing was done."""
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
) -> Summary:
    """Import the release at `source`; Rejected (nothing loaded) or LoadFailed on failure."""
    with tempfile.TemporaryDirectory(prefix="retrosheet-") as scratch:
        downloads, work = Path(scratch, "release"), Path(scratch, "parsed")
        downloads.mkdir()
        work.mkdir()
        directory, manifest = resolve(source, downloads)
        with settings.connect() as connection:
            loader = Loader(connection)
            loader.lock()
            try:
                release = verify(directory, manifest)
            except Rejected as rejected:
                season = season_of(directory)
                if season is not None:
                    loader.fail_run(loader.start_run(season, []), rejected.report())
                raise
            progress(f"release {source}: season {release.season}, {len(release.files)} files")
            done = loader.already_loaded(release)
            if done is not None:
                progress(f"season {release.season} already loaded from these files (run {done})")
                return Summary(release.season, done, skipped=True)
            run_id = loader.start_run(release.season, release.files)
            try:
                return _import(
                    release, loader, run_id, work, progress, verbose, workers, plays_hook
                )
            except Rejected as rejected:
                loader.fail_run(run_id, rejected.report())
                raise
            except (LoadFailed, pymysql.err.MySQLError) as error:
                loader.fail_run(run_id, f"load failed: {error}")
                raise LoadFailed(f"import run {run_id}: {error}") from None
            except BaseException as error:  # stopped (SIGTERM), out of disk, a bug
                loader.fail_run(run_id, f"failed: {error!r}")
                raise


def _import(
    release: Release,
    loader: Loader,
    run_id: int,
    work: Path,
    progress: Callable[[str], None],
    verbose: bool,
    workers: int | None,
    plays_hook: PlaysHook | None,
) -> Summary:
    rosters = read_rosters(release)
    if rosters.problems:
        raise Rejected(rosters.problems)

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
    parsed = parse_release(release, work, set(rosters.players), on_file, workers, plays_hook)
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
    started = time.perf_counter()
    counts = loader.load(release, rosters, parsed, run_id)
    load_seconds = time.perf_counter() - started
    progress(
        f"loaded in {load_seconds:.1f} s ({counts.plays / load_seconds:,.0f} plays/s): "
        f"run {run_id}, season {release.season}: {counts.games:,} games, {counts.plays:,} plays, "
        f"{counts.substitutions:,} substitutions, {counts.comments:,} comments"
    )
    return Summary(release.season, run_id, False, counts, parse_seconds, parse_cpu, load_seconds)
