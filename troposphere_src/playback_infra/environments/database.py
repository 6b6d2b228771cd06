"""The database part of an environment: RDS for MySQL 8.4, its backups, insights and alarms.

Checked here, before anything is written: the instance class (and what it supports), the
engine version (against the versions cfn-lint knows), backup and maintenance windows that
must not overlap, retention ranges, storage bounds, and production's Multi-AZ.
"""

from __future__ import annotations

import enum
import importlib.util
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from playback_infra.environments.retention import retention_problem

ENGINE = "mysql"
# The pinned minor version. To move it: change it here (a version cfn-lint lists for 8.4),
# `make synth`, deploy dev and staging, then prod; RDS upgrades in place in the maintenance
# window or at once (AutoMinorVersionUpgrade stays off so the template stays the truth).
ENGINE_VERSION = "8.4.11"
# RDS's default formula; it scales with the class, so a class change needs no parameter edit.
MAX_CONNECTIONS_FORMULA = "{DBInstanceClassMemory/12582880}"
# Memory (GiB) of the classes this deployment supports, for max_connections and alarms.
CLASS_MEMORY_GIB: dict[str, int] = {
    "db.t4g.micro": 1,
    "db.t3.small": 2, "db.t3.medium": 4, "db.t3.large": 8,
    "db.t4g.small": 2, "db.t4g.medium": 4, "db.t4g.large": 8,
    "db.m7g.large": 8, "db.m7g.xlarge": 16, "db.m7g.2xlarge": 32,
    "db.r7g.large": 16, "db.r7g.xlarge": 32, "db.r7g.2xlarge": 64,
}  # fmt: skip
# AWS: Database Insights (and Performance Insights) is not available on these classes.
NO_INSIGHTS_CLASSES = frozenset(
    {"db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"}
)
MAX_BACKUP_RETENTION_DAYS = 35
MIN_GP3_GIB = 20

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_WEEKLY = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-"
    r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$"
)
_MINUTES_PER_DAY = 24 * 60
_WEEK = 7 * _MINUTES_PER_DAY


class Insights(enum.StrEnum):
    """CloudWatch Database Insights mode; `off` where the class does not support it."""

    OFF = "off"
    STANDARD = "standard"
    ADVANCED = "advanced"


@dataclass(frozen=True, kw_only=True)
class Database:
    """The RDS for MySQL instance of an environment. Defaults come from the environment's kind."""

    instance_class: str
    """One of CLASS_MEMORY_GIB: db.t4g.micro in dev (1 GiB, about 76 connections: room for
    max_app_tasks x the app's pool of 10, at half db.t3.small's price), db.t3.small in
    staging."""
    multi_az: bool
    """A standby in a second AZ; required in production."""
    engine_version: str = ENGINE_VERSION
    allocated_storage_gib: int = MIN_GP3_GIB
    max_allocated_storage_gib: int
    """Storage autoscaling ceiling."""
    backup_retention_days: int
    """Automated backups and point-in-time restore window: 1-35 days (0 would disable both)."""
    backup_window: str = "03:00-03:30"
    """Daily, UTC, at least 30 minutes; must not overlap the maintenance window."""
    maintenance_window: str = "sun:04:00-sun:04:30"
    """Weekly, UTC, at least 30 minutes."""
    insights: Insights | None = None
    """None: `standard` where the class supports it, `off` where it does not."""
    proxy: bool
    """An RDS Proxy in front of the instance (connection pooling)."""
    log_retention_days: int
    """Retention of the error and slow-query log exports."""
    slow_query_seconds: float = 1.0
    """`long_query_time`: statements slower than this go to the slow-query log."""
    restore_snapshot: str = ""
    """For disaster recovery: a snapshot identifier or ARN to create the instance from, with a
    new generation. Keep it set afterwards: removing it would replace the instance with an
    empty one."""
    backup_plan: bool = False
    """An AWS Backup plan on top of RDS's backups: daily, kept 35 days."""
    backup_copy_region: str = ""
    """Region the backup plan copies each backup to (deploy templates/dr-vault.yaml there)."""
    rotation_days: int = 30
    """Days between rotations of the app and migration users' passwords."""
    generation: int = 1
    """Part of the instance name; raise it with restore_snapshot to replace the instance."""
    cpu_alarm_percent: int = 80
    connections_alarm_percent: int = 80
    """Of max_connections for the class."""
    free_storage_alarm_gib: int = 2
    freeable_memory_alarm_percent: int = 10
    """Of the class's memory."""
    read_latency_alarm_ms: int = 20
    write_latency_alarm_ms: int = 50

    @property
    def insights_mode(self) -> Insights:
        if self.insights is not None:
            return self.insights
        return Insights.OFF if self.instance_class in NO_INSIGHTS_CLASSES else Insights.STANDARD

    @property
    def max_connections(self) -> int:
        """An estimate of RDS's formula for the class, DBInstanceClassMemory / 12,582,880:
        DBInstanceClassMemory is the class's memory less what the OS and RDS keep, about 10%."""
        return int(CLASS_MEMORY_GIB[self.instance_class] * 2**30 * 0.9) // 12_582_880

    @property
    def freeable_memory_alarm_bytes(self) -> int:
        return (
            CLASS_MEMORY_GIB[self.instance_class]
            * 2**30
            * self.freeable_memory_alarm_percent
            // 100
        )


DEFAULTS = {  # by environment kind
    "development": Database(
        instance_class="db.t4g.micro", multi_az=False, max_allocated_storage_gib=50,
        backup_retention_days=1, proxy=False, log_retention_days=30,
    ),
    "staging": Database(
        instance_class="db.t3.small", multi_az=False, max_allocated_storage_gib=100,
        backup_retention_days=7, proxy=False, log_retention_days=90,
    ),
    "production": Database(
        instance_class="db.m7g.large", multi_az=True, max_allocated_storage_gib=500,
        backup_retention_days=35, proxy=True, log_retention_days=365,
        backup_plan=True, backup_copy_region="us-west-2",
    ),
}  # fmt: skip


def _mysql_versions(file_name: str, key: str) -> frozenset[str]:
    # Found by path: importing cfnlint itself would cost synth half a second.
    spec = importlib.util.find_spec("cfnlint")
    data = Path(spec.origin).parent / "data/schemas/extensions/aws_rds_dbinstance" / file_name
    for branch in json.loads(data.read_text())["allOf"]:
        if branch["if"]["properties"].get("Engine", {}).get("const") == ENGINE:
            return frozenset(branch[key]["properties"]["EngineVersion"]["enum"])
    return frozenset()


@cache
def known_engine_versions() -> frozenset[str]:
    """MySQL versions cfn-lint's RDS data lists as current (the data it lints templates with)."""
    current = _mysql_versions("engine_version.json", "then")
    return current - _mysql_versions("engine_version_deprecated.json", "if")


def _daily_minutes(window: str) -> tuple[int, int] | None:
    match = _DAILY.match(window)
    if not match:
        return None
    h1, m1, h2, m2 = map(int, match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    return start, end if end > start else end + _MINUTES_PER_DAY


def _weekly_minutes(window: str) -> tuple[int, int] | None:
    match = _WEEKLY.match(window)
    if not match:
        return None
    d1, h1, m1, d2, h2, m2 = match.groups()
    start = _DAYS.index(d1) * _MINUTES_PER_DAY + int(h1) * 60 + int(m1)
    end = _DAYS.index(d2) * _MINUTES_PER_DAY + int(h2) * 60 + int(m2)
    return start, end if end > start else end + _WEEK


def _overlaps(daily: tuple[int, int], weekly: tuple[int, int]) -> bool:
    """Does a window that recurs every day meet a weekly one?"""
    w_start, w_end = weekly
    for day in range(-1, 8):
        start, end = daily[0] + day * _MINUTES_PER_DAY, daily[1] + day * _MINUTES_PER_DAY
        for shift in (0, _WEEK, -_WEEK):
            if start < w_end + shift and w_start + shift < end:
                return True
    return False


def violations(
    db: Database,
    production: bool,
    log_retentions: tuple[int, ...],
    region: str,
    regions: tuple[str, ...],
) -> list[tuple[str, str]]:
    """Every broken rule of a database config as (field, message); fields are `database.x`."""
    found: list[tuple[str, str]] = []

    def bad(field: str, message: str) -> None:
        found.append((f"database.{field}", message))

    if db.instance_class not in CLASS_MEMORY_GIB:
        bad(
            "instance_class",
            f"{db.instance_class!r} is not a supported class; use one of: {', '.join(CLASS_MEMORY_GIB)}",
        )
    elif db.insights not in (None, Insights.OFF) and db.instance_class in NO_INSIGHTS_CLASSES:
        bad(
            "insights",
            f"{db.instance_class} does not support Database Insights; use db.t3.medium or larger, or insights=None to switch it off there",
        )
    lts = sorted(
        (v for v in known_engine_versions() if re.fullmatch(r"8\.4\.\d+", v)),
        key=lambda v: int(v.rsplit(".", 1)[1]),
    )
    if db.engine_version not in lts:
        bad(
            "engine_version",
            f"{db.engine_version!r} is not a current MySQL 8.4 version cfn-lint knows; use one of: {', '.join(lts)}",
        )
    if production and not db.multi_az:
        bad(
            "multi_az",
            "production runs Multi-AZ, so an AZ failure or maintenance does not take the database down; set multi_az=True",
        )
    if not 1 <= db.backup_retention_days <= MAX_BACKUP_RETENTION_DAYS:
        bad(
            "backup_retention_days",
            f"{db.backup_retention_days} is out of range; use 1-{MAX_BACKUP_RETENTION_DAYS} (0 would turn off backups and point-in-time restore)",
        )
    elif production and db.backup_retention_days < 7:
        bad(
            "backup_retention_days",
            f"{db.backup_retention_days} days is too short for production; use 7-{MAX_BACKUP_RETENTION_DAYS}",
        )
    if not MIN_GP3_GIB <= db.allocated_storage_gib <= 65536:
        bad(
            "allocated_storage_gib",
            f"{db.allocated_storage_gib} GiB is outside gp3's {MIN_GP3_GIB}-65536",
        )
    if db.max_allocated_storage_gib < db.allocated_storage_gib * 1.1:
        bad(
            "max_allocated_storage_gib",
            f"{db.max_allocated_storage_gib} GiB must be at least 10% above allocated_storage_gib ({db.allocated_storage_gib}) for storage autoscaling",
        )
    backup, maintenance = _daily_minutes(db.backup_window), _weekly_minutes(db.maintenance_window)
    if backup is None:
        bad("backup_window", f"{db.backup_window!r} must be hh:mm-hh:mm in UTC, e.g. 03:00-03:30")
    elif backup[1] - backup[0] < 30:
        bad("backup_window", f"{db.backup_window} is shorter than the 30 minutes RDS requires")
    if maintenance is None:
        bad(
            "maintenance_window",
            f"{db.maintenance_window!r} must be ddd:hh:mm-ddd:hh:mm in UTC, e.g. sun:04:00-sun:04:30",
        )
    elif maintenance[1] - maintenance[0] < 30:
        bad(
            "maintenance_window",
            f"{db.maintenance_window} is shorter than the 30 minutes RDS requires",
        )
    if backup and maintenance and _overlaps(backup, maintenance):
        bad(
            "maintenance_window",
            f"{db.maintenance_window} overlaps the backup window {db.backup_window}; move one of them",
        )
    if problem := retention_problem(db.log_retention_days, log_retentions):
        bad("log_retention_days", problem)
    if not 0 < db.slow_query_seconds <= 3600:
        bad("slow_query_seconds", f"{db.slow_query_seconds} must be above 0 and at most 3600")
    if db.restore_snapshot and not re.fullmatch(
        r"[A-Za-z][A-Za-z0-9:/._-]{0,254}", db.restore_snapshot
    ):
        bad("restore_snapshot", f"{db.restore_snapshot!r} is not a snapshot identifier or ARN")
    if db.backup_copy_region and not db.backup_plan:
        bad("backup_copy_region", "copies come from the backup plan; set backup_plan=True too")
    if db.backup_copy_region and (
        db.backup_copy_region == region or db.backup_copy_region not in regions
    ):
        bad(
            "backup_copy_region",
            f"{db.backup_copy_region!r} must be another supported region than {region}: one of {', '.join(r for r in regions if r != region)}",
        )
    if not 1 <= db.rotation_days <= 365:
        bad("rotation_days", f"{db.rotation_days} must be 1-365")
    if not 1 <= db.generation <= 99:
        bad("generation", f"{db.generation} must be 1-99")
    for field, low, high in (
        ("cpu_alarm_percent", 1, 100),
        ("connections_alarm_percent", 1, 100),
        ("freeable_memory_alarm_percent", 1, 90),
    ):
        if not low <= getattr(db, field) <= high:
            bad(field, f"{getattr(db, field)} must be {low}-{high}")
    for field in (
        "free_storage_alarm_gib",
        "read_latency_alarm_ms",
        "write_latency_alarm_ms",
    ):
        if getattr(db, field) <= 0:
            bad(field, f"{getattr(db, field)} must be above 0")
    return found
