"""Import one season's Retrosheet release into the replay database.

SOURCE is a release directory (with SHA256SUMS), its SHA256SUMS, s3://bucket/prefix/ or
s3://bucket/prefix/SHA256SUMS. Progress goes to stdout; a rejection or failure report to
stderr. Exit codes: 0 imported (or already imported), 1 rejected or failed (the previous
season is intact), 2 bad usage (missing path, bad URL, unreachable database).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The import's arguments, shared by `python -m retrosheet_importer` and
    `playback-infra import-retrosheet`."""
    parser.add_argument(
        "source", metavar="SOURCE", help="release directory, SHA256SUMS or s3:// URL"
    )
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
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="a line per file only, not per game"
    )


def run(args: argparse.Namespace) -> int:
    """Run the import `args` describe; returns the exit code, never raises for bad input."""
    # ECS stops a task with SIGTERM: end as on an error, so the run is marked failed.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return _run(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    import pymysql

    from retrosheet_importer.database import from_secret, from_url
    from retrosheet_importer.importer import run_import
    from retrosheet_importer.problems import LoadFailed, Rejected, UsageError

    try:
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
        summary = run_import(
            args.source,
            settings,
            progress=lambda line: print(line, flush=True),
            verbose=not args.quiet,
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
    except (LoadFailed, pymysql.err.MySQLError) as error:
        print(f"import-retrosheet: load failed, previous data intact: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:  # e.g. no space left for the parsed files
        print(f"import-retrosheet: failed, previous data intact: {error}", file=sys.stderr)
        return EXIT_FAILED
    if summary.skipped:
        print(f"season {summary.season}: nothing to do (run {summary.run_id} loaded these files)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retrosheet_importer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
