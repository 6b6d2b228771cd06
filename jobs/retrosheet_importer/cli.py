"""Import one season's Retrosheet release into the replay database, or list the recent imports.

`python -m retrosheet_importer SOURCE ...` imports SOURCE: a release directory (with
SHA256SUMS), its SHA256SUMS, s3://bucket/prefix/ or s3://bucket/prefix/SHA256SUMS. Progress
goes to stdout; a rejection or failure report to stderr. A second import waits for the one
running (--lock-wait). SIGTERM or SIGINT stops the import: the workers are killed, the load
rolled back, the run recorded failed, within seconds.

`python -m retrosheet_importer status ...` lists the recent runs, newest first, after marking
abandoned those whose importer is gone.

Exit codes: 0 imported (or already imported); 1 rejected or failed (the previous season is
intact); 2 bad usage (missing path, bad URL, unreachable database); 75 another import held the
lock for all of --lock-wait (try again later); 128+N stopped by signal N (143: SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 75
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STATUS_LIMIT = 20


def _add_database_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--database-url",
        help="mysql://user:password@host:port/database (default: $DATABASE_URL)",
    )
    where.add_argument(
        "--database-secret-arn",
        help="Secrets Manager secret {username, password, host, port, dbname} "
        "(default: $DB_SECRET_ARN; DB_HOST, DB_PORT, DB_NAME fill what it lacks)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        default=os.environ.get("DB_SSL") == "true",
        help="connect with TLS and verify the server (default: on when DB_SSL=true)",
    )
    parser.add_argument(
        "--tls-ca",
        default=os.environ.get("DB_SSL_CA"),
        help="CA bundle to verify the server with, e.g. the RDS global bundle "
        "(default: $DB_SSL_CA, else the system's CAs)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The import's arguments, shared by `python -m retrosheet_importer` and
    `playback-infra import-retrosheet`."""
    from retrosheet_importer.problems import LOCK_WAIT

    parser.add_argument(
        "source", metavar="SOURCE", help="release directory, SHA256SUMS or s3:// URL"
    )
    _add_database_arguments(parser)
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="a line per file only, not per game"
    )
    parser.add_argument(
        "--lock-wait",
        type=float,
        default=LOCK_WAIT,
        metavar="SECONDS",
        help=f"how long to wait for another import to finish before exiting 75 "
        f"(default: {LOCK_WAIT})",
    )


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    """`status`'s arguments."""
    _add_database_arguments(parser)
    parser.add_argument("--season", type=int, help="only this season's runs")
    parser.add_argument(
        "--limit", type=int, default=STATUS_LIMIT, help=f"how many runs (default: {STATUS_LIMIT})"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _settings(args: argparse.Namespace):
    from retrosheet_importer.database import from_secret, from_url
    from retrosheet_importer.problems import UsageError

    url, secret = args.database_url, args.database_secret_arn
    if not (url or secret):  # a flag wins over both environment variables
        url, secret = os.environ.get("DATABASE_URL"), os.environ.get("DB_SECRET_ARN")
    if url:
        settings = from_url(url, args.tls, args.tls_ca)
    elif secret:
        settings = from_secret(secret, args.tls, args.tls_ca)
    else:
        raise UsageError("no database: give --database-url or --database-secret-arn")
    if args.tls_ca and not os.path.isfile(args.tls_ca):
        raise UsageError(f"no such CA bundle: {args.tls_ca}")
    return settings


def run(args: argparse.Namespace) -> int:
    """Run the import `args` describe; returns the exit code, never raises for bad input."""
    from retrosheet_importer.problems import Stopped

    def stop(signum, frame):
        for number in STOP_SIGNALS:  # once: the run's end must not be interrupted
            signal.signal(number, signal.SIG_IGN)
        raise Stopped(signum)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        return _run(args)
    except Stopped as stopped:
        print(
            f"import-retrosheet: stopped by {stopped.name}, previous data intact",
            file=sys.stderr,
        )
        return 128 + stopped.signum
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run(args: argparse.Namespace) -> int:
    import pymysql

    from retrosheet_importer.importer import run_import
    from retrosheet_importer.problems import Busy, LoadFailed, Rejected, UsageError

    try:
        summary = run_import(
            args.source,
            _settings(args),
            progress=lambda line: print(line, flush=True),
            verbose=not args.quiet,
            lock_wait=args.lock_wait,
        )
    except UsageError as error:
        print(f"import-retrosheet: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Rejected as rejected:
        print(
            f"import-retrosheet: season rejected, nothing loaded ({len(rejected.problems)} "
            f"problem(s)):\n{rejected.report()}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except Busy as busy:
        print(f"import-retrosheet: {busy}; try again later", file=sys.stderr)
        return EXIT_BUSY
    except (LoadFailed, pymysql.err.MySQLError) as error:
        print(f"import-retrosheet: load failed, previous data intact: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:  # e.g. no space left for the parsed files
        print(f"import-retrosheet: failed, previous data intact: {error}", file=sys.stderr)
        return EXIT_FAILED
    if summary.skipped:
        print(f"season {summary.season}: nothing to do (run {summary.run_id} loaded these files)")
    return EXIT_OK


def status(args: argparse.Namespace) -> int:
    """List the recent runs `args` ask for; returns the exit code."""
    import pymysql

    from retrosheet_importer import runs
    from retrosheet_importer.problems import UsageError

    try:
        with _settings(args).connect() as db:
            runs.mark_abandoned(db)
            found = runs.recent(db, args.limit, args.season)
    except UsageError as error:
        print(f"import-retrosheet status: {error}", file=sys.stderr)
        return EXIT_USAGE
    except pymysql.err.MySQLError as error:
        print(f"import-retrosheet status: {error}", file=sys.stderr)
        return EXIT_FAILED
    if args.format == "json":
        print(json.dumps(found, default=str, indent=2))
        return EXIT_OK
    print(
        f"{'run':>5}  season  {'status':<9}  {'phase':<7}  {'started':<19}  {'finished':<19}  {'plays':>7}  reason"
    )
    for r in found:
        started, finished = (
            f"{t:%Y-%m-%d %H:%M:%S}" if t else "" for t in (r["started_at"], r["finished_at"])
        )
        print(
            f"{r['id']:>5}  {r['season']:>6}  {r['status']:<9}  {r['phase'] or '':<7}  "
            f"{started:<19}  {finished:<19}  {r['plays']:>7,}  {r['reason'] or ''}"
        )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["status"]:
        parser = argparse.ArgumentParser(
            prog="python -m retrosheet_importer status",
            description="List the recent Retrosheet import runs, newest first, after marking "
            "abandoned those whose importer is gone.",
        )
        add_status_arguments(parser)
        return status(parser.parse_args(arguments[1:]))
    parser = argparse.ArgumentParser(
        prog="python -m retrosheet_importer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(arguments))
