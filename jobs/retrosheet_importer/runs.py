"""import_runs: the record of every import, from `running` to how it ended, and which runs are
still alive.

A run is created `running` once its release is verified, by the session that imports it,
which holds the run's own lock (`playback.retrosheet_import.run.<id>`) from then on; the row
and the lock are taken in one transaction, so no other session sees the row before the lock.
A lock taken with GET_LOCK is released when its session ends, normally or not, and a session
may hold several (https://mariadb.com/kb/en/get_lock): a `running` run whose lock is free has
lost its importer (killed, its connection gone), and the next import and `status` mark it
`abandoned`.

One import at a time holds `playback.retrosheet_import`; another waits for it, bounded, saying
which run holds it. A run that fails or is stopped ends on a fresh connection, after its own
session is killed (KILL of one's own connection needs no privilege:
https://mariadb.com/docs/server/reference/sql-statements/administrative-sql-statements/kill):
whatever state that session was in (mid-statement, mid-LOAD DATA, in a lock wait), the server
has rolled its transaction back and released its locks before the failure is written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import pymysql

from retrosheet_importer.database import Settings
from retrosheet_importer.problems import Busy
from retrosheet_importer.release import Release

LOCK = "playback.retrosheet_import"
# Seconds: how often a waiting import says so, and how long each step of recording a stopped
# run's end may take (connect, wait for the killed session to go); within ECS's stop timeout.
LOCK_POLL = 30
END_STEP = 3
REASON_LENGTH = 255  # import_runs.reason
UNKNOWN_THREAD = 1094  # KILL of a session that is already gone


def run_lock(run_id: int) -> str:
    return f"{LOCK}.run.{run_id}"


@dataclass
class Run:
    """A run in progress: its row, its session, the phase it is in."""

    id: int
    season: int
    connection_id: int
    phase: str


def _rows(db: pymysql.connections.Connection, sql: str, args=None) -> list[tuple]:
    with db.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= REASON_LENGTH else line[: REASON_LENGTH - 3] + "..."


def start(db: pymysql.connections.Connection, release: Release) -> Run:
    """A `running` run of `release`, waiting for the import lock; this session holds its lock."""
    files = json.dumps([f.as_json() for f in release.files])
    db.begin()
    with db.cursor() as cursor:
        cursor.execute(
            """INSERT INTO import_runs (season, status, phase, files, connection_id)
               VALUES (%s, 'running', 'waiting', %s, CONNECTION_ID())""",
            (release.season, files),
        )
        run_id = cursor.lastrowid
        cursor.execute("SELECT GET_LOCK(%s, 0), CONNECTION_ID()", (run_lock(run_id),))
        [(got, connection_id)] = cursor.fetchall()
    if got != 1:  # a fresh run id: nobody else can hold its lock
        db.rollback()
        raise RuntimeError(f"cannot take the lock of new run {run_id}")
    db.commit()
    return Run(run_id, release.season, connection_id, "waiting")


def record_rejected(
    db: pymysql.connections.Connection, season: int, reason: str, report: str
) -> None:
    """A run refused before it started: the release did not verify."""
    _rows(
        db,
        """INSERT INTO import_runs (season, status, phase, reason, error_report, finished_at)
           VALUES (%s, 'failed', 'verify', %s, %s, NOW(3))""",
        (season, _one_line(reason), report),
    )


def enter(db: pymysql.connections.Connection, run: Run, phase: str) -> None:
    run.phase = phase
    _rows(db, "UPDATE import_runs SET phase = %s WHERE id = %s", (phase, run.id))


def lock_import(
    db: pymysql.connections.Connection, run: Run, wait: float, progress: Callable[[str], None]
) -> None:
    """Take the import lock, waiting up to `wait` seconds and saying who holds it; Busy if it
    is still held then."""
    started = time.monotonic()
    [(got,)] = _rows(db, "SELECT GET_LOCK(%s, 0)", (LOCK,))
    while got != 1:
        waited = time.monotonic() - started
        holder = _holder(db)
        if waited >= wait:
            raise Busy(f"{holder} held the import lock for all of the {wait:g} s this run waits")
        progress(
            f"run {run.id}: waiting for the import lock, held by {holder} "
            f"({waited:.0f} s of {wait:g} s)"
        )
        [(got,)] = _rows(db, "SELECT GET_LOCK(%s, %s)", (LOCK, min(LOCK_POLL, wait - waited)))


def _holder(db: pymysql.connections.Connection) -> str:
    rows = _rows(
        db,
        """SELECT id, season, phase FROM import_runs
           WHERE status = 'running' AND connection_id = IS_USED_LOCK(%s)
           ORDER BY id DESC LIMIT 1""",
        (LOCK,),
    )
    if not rows:
        return "another session"
    run_id, season, phase = rows[0]
    return f"run {run_id} (season {season}, {phase})"


def mark_abandoned(db: pymysql.connections.Connection) -> list[int]:
    """Mark `abandoned` every `running` run whose lock is free (its session is gone)."""
    abandoned = []
    for run_id, phase, connection_id in _rows(
        db, "SELECT id, phase, connection_id FROM import_runs WHERE status = 'running'"
    ):
        [(free,)] = _rows(db, "SELECT IS_FREE_LOCK(%s)", (run_lock(run_id),))
        if free != 1:
            continue
        session = f" (session {connection_id} ended)" if connection_id else ""
        reason = f"its importer is gone{session}" + (f" during {phase}" if phase else "")
        with db.cursor() as cursor:
            # `running` still: it may have ended, and released its lock, since it was read.
            if cursor.execute(
                """UPDATE import_runs SET status = 'abandoned', finished_at = NOW(3), reason = %s
                   WHERE id = %s AND status = 'running'""",
                (reason, run_id),
            ):
                abandoned.append(run_id)
    return abandoned


def loaded_run(db: pymysql.connections.Connection, release: Release) -> int | None:
    """The run that loaded the season as the database holds it (its last succeeded run), if
    it loaded these very files (names, SHA-256, sizes)."""
    rows = _rows(
        db,
        """SELECT id, files FROM import_runs WHERE season = %s AND status = 'succeeded'
           ORDER BY id DESC LIMIT 1""",
        (release.season,),
    )
    files = [f.as_json() for f in release.files]
    if rows and json.loads(rows[0][1] or "null") == files:
        return rows[0][0]
    return None


def skip(db: pymysql.connections.Connection, run: Run, loaded: int) -> None:
    _rows(
        db,
        """UPDATE import_runs SET status = 'skipped', finished_at = NOW(3), reason = %s
           WHERE id = %s""",
        (f"run {loaded} loaded these files", run.id),
    )


def record_failure(settings: Settings, run: Run, reason: str, report: str | None) -> str:
    """End `run` as failed, on a fresh connection, once its own session is killed and gone;
    returns the status the run has then (`succeeded` if the commit got through first).
    UsageError or MySQLError if that cannot be done within a few seconds."""
    with settings.connect(timeout=END_STEP) as db:
        _rows(db, "SET SESSION innodb_lock_wait_timeout = %s", (END_STEP,))
        try:
            _rows(db, f"KILL CONNECTION {int(run.connection_id)}")
        except pymysql.err.MySQLError as error:
            if error.args[0] != UNKNOWN_THREAD:
                raise
        # The killed session releases the run's lock when it is gone, its transaction rolled back.
        _rows(db, "SELECT GET_LOCK(%s, %s)", (run_lock(run.id), END_STEP))
        _rows(
            db,
            """UPDATE import_runs SET status = 'failed', finished_at = NOW(3), phase = %s,
               reason = %s, error_report = %s
               WHERE id = %s AND status IN ('running', 'abandoned')""",
            (run.phase, _one_line(reason), report, run.id),
        )
        [(status,)] = _rows(db, "SELECT status FROM import_runs WHERE id = %s", (run.id,))
        return status


COLUMNS = ("id", "season", "status", "phase", "started_at", "finished_at", "plays", "reason")


def recent(db: pymysql.connections.Connection, limit: int, season: int | None) -> list[dict]:
    """The last `limit` runs (of `season`, if given), newest first."""
    where, args = ("WHERE season = %s", (season, limit)) if season else ("", (limit,))
    return [
        dict(zip(COLUMNS, row, strict=True))
        for row in _rows(
            db,
            f"""SELECT id, season, status, phase, started_at, finished_at, plays_loaded, reason
                FROM import_runs {where} ORDER BY id DESC LIMIT %s""",
            args,
        )
    ]
