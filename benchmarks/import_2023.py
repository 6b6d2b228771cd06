"""Benchmark: import the whole 2023 season (2,430 games, 190,416 plays) into MariaDB.

Each of RUNS runs imports a copy of shared/data/retrosheet/2023 (with a SHA256SUMS written
for it) into a freshly migrated database and reports, separately:
- parse: plays/s of the Chadwick tools and the checks, and their CPU use (CPU time of the
  child processes / wall time; up to the number of cores);
- load: plays/s of the one transaction that upserts teams, players and rosters and LOADs
  DATA LOCAL INFILE the games, plays, substitutions and comments into the live tables;
then once more over the loaded season, which adds deleting the old rows.
Prints every run and the medians, and writes them to benchmarks/results/import.json, whose
figures the docs quote (benchmarks/figures.py; `make bench-import` then rewrites them). Without
--database-url it starts a throwaway MariaDB the way the tests do (tests/database/server.py),
with a 1 GiB buffer pool and a 256 MiB redo log. Run with `make bench-import` (or
`.venv/bin/python benchmarks/import_2023.py`). Target: load >= 80,000 plays/s; parse CPU near
2.0 on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # tests.database: the server and the migrations

from retrosheet_importer.database import from_url  # noqa: E402
from retrosheet_importer.importer import Summary, run_import  # noqa: E402
from retrosheet_importer.release import write_manifest  # noqa: E402
from tests.database.helpers import migrated_database  # noqa: E402
from tests.database.server import running_server  # noqa: E402

RUNS = 3
SEASON_PLAYS = 190_416
DATA = Path(os.environ.get("RETROSHEET_DATA", REPO_ROOT.parent / "shared" / "data" / "retrosheet"))
RESULTS = REPO_ROOT / "benchmarks" / "results" / "import.json"


def one_run(release: Path, settings) -> Summary:
    summary = run_import(str(release), settings, progress=lambda line: None)
    assert summary.counts and summary.counts.plays == SEASON_PLAYS, summary
    return summary


def _report(label: str, s: Summary) -> None:
    print(
        f"{label}: parse {s.parse_seconds:5.1f} s {SEASON_PLAYS / s.parse_seconds:6,.0f} plays/s, "
        f"CPU {s.parse_cpu_seconds / s.parse_seconds:.2f} of {os.cpu_count()} cores; "
        f"load {s.load_seconds:5.2f} s {SEASON_PLAYS / s.load_seconds:8,.0f} plays/s",
        flush=True,
    )


def _runs_on(settings, release: Path, count: int) -> list[Summary]:
    """Imports over whatever the database holds, each after marking the season's runs failed
    so that the same files are not skipped: each load also deletes the season's rows."""
    runs = []
    for run in range(1, count + 1):
        with settings.connect() as db, db.cursor() as cursor:
            cursor.execute("UPDATE import_runs SET status = 'failed' WHERE season = 2023")
        runs.append(one_run(release, settings))
        _report(f"run {run}, replacing the loaded season", runs[-1])
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="a migrated database to import into instead (every run replaces the season; "
        "nothing is written to the results)",
    )
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    load_average = os.getloadavg()
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-import-")))
        release = scratch / "2023"
        shutil.copytree(DATA / "2023", release)
        write_manifest(release)
        if args.database_url:
            _runs_on(from_url(args.database_url), release, args.runs)
            return 0
        (scratch / "mariadb").mkdir()
        server = stack.enter_context(
            running_server(scratch / "mariadb", buffer_pool="1G", log_file="256M")
        )
        runs = []
        for run in range(1, args.runs + 1):
            settings = from_url(server.url(migrated_database(server, f"bench_import_{run}")))
            runs.append(one_run(release, settings))
            _report(f"run {run}", runs[-1])
        [replacing] = _runs_on(settings, release, 1)  # reported apart, not in the medians
        [(version,)] = server.query("SELECT VERSION()")
    medians = _medians(runs)
    print(
        f"median of {len(runs)}: parse {medians['parse_plays_per_second']:,.0f} plays/s "
        f"(CPU {medians['parse_cpu_cores']:.2f} of {os.cpu_count()} cores), "
        f"load {medians['load_plays_per_second']:,.0f} plays/s"
    )
    _write_results(medians, runs, replacing, version, load_average)
    print(f"wrote {RESULTS.relative_to(REPO_ROOT)}")
    return 0


def _measured(s: Summary) -> dict:
    return {
        "parse_seconds": round(s.parse_seconds, 2),
        "parse_cpu_seconds": round(s.parse_cpu_seconds, 2),
        "load_seconds": round(s.load_seconds, 3),
    }


def _medians(runs: list[Summary]) -> dict[str, float]:
    """The runs' medians, as measured."""
    median = statistics.median
    return {
        "load_plays_per_second": median(SEASON_PLAYS / s.load_seconds for s in runs),
        "load_seconds": median(s.load_seconds for s in runs),
        "parse_plays_per_second": median(SEASON_PLAYS / s.parse_seconds for s in runs),
        "parse_seconds": median(s.parse_seconds for s in runs),
        "parse_cpu_cores": median(s.parse_cpu_seconds / s.parse_seconds for s in runs),
    }


def _write_results(
    medians: dict[str, float],
    runs: list[Summary],
    replacing: Summary,
    version: str,
    load_average: tuple,
) -> None:
    """The medians, rounded as the docs quote them, and every run as measured."""
    figures = {
        "load_plays_per_second": int(round(medians["load_plays_per_second"], -3)),
        "load_seconds": round(medians["load_seconds"], 1),
        "replace_load_seconds": round(replacing.load_seconds, 1),
        "parse_plays_per_second": int(round(medians["parse_plays_per_second"], -2)),
        "parse_seconds": round(medians["parse_seconds"]),
        "parse_cpu_cores": round(medians["parse_cpu_cores"], 1),
        "cores": os.cpu_count(),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": "make bench-import",
                "what": f"the 2023 season ({SEASON_PLAYS:,} plays) into a fresh database, "
                f"median of {len(runs)}; replace: once more over the loaded season",
                "measured": datetime.date.today().isoformat(),
                "server": f"MariaDB {version}, 1 GiB buffer pool, 256 MiB redo log",
                "load_average_before": [round(x, 2) for x in load_average],
                "figures": figures,
                "runs": [_measured(s) for s in runs],
                "replace": _measured(replacing),
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
