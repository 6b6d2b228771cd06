"""What AWS does when a `conditionalCreateOnlyProperties` path of a stateful resource changes.

cfn-lint's resource schemas say such a change *may* replace the resource: the resource
provider decides from the old and new values. Each row here is that decision for one
(resource type, property) pair, with the AWS page it follows. The replacement guard asks
`decide` for every conditional path that changed; a path of a stateful type without a row is
refused until a row says what AWS does (tests/checks/test_conditional_replacement.py keeps
every conditional path of every stateful type the templates use covered).

For RDS DB instances the rows follow the CloudFormation reference page (each property's
"Update requires") and, where the page says only "may", the resource provider's own rule,
`ImmutabilityHelper.isChangeMutable`:
https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-rds/blob/master/aws-rds-dbinstance/src/main/java/software/amazon/rds/dbinstance/util/ImmutabilityHelper.java
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

UPDATE, REPLACE, FAILS = "update", "replace", "fails"
DB_INSTANCE = "AWS::RDS::DBInstance"
_PAGE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html"
_MYSQL_MAJOR = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.MySQL.Major.html"
)
_MODIFY = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html"
# "Amazon RDS supports the following in-place upgrades for major versions of the MySQL
# database engine: MySQL 5.7 to MySQL 8.0, MySQL 8.0 to MySQL 8.4" (_MYSQL_MAJOR).
MYSQL_IN_PLACE_MAJOR_UPGRADES = frozenset({("5.7", "8.0"), ("8.0", "8.4")})
# Engine changes RDS makes in place: the CDB conversions (the reference page, Engine) and
# the provider's isUpgradeToAuroraMySQL and isUpgradeToOracleSE2.
IN_PLACE_ENGINE_CHANGES = frozenset(
    {
        ("oracle-ee", "oracle-ee-cdb"),
        ("oracle-se2", "oracle-se2-cdb"),
        ("aurora", "aurora-mysql"),
        ("oracle-se", "oracle-se2"),
        ("oracle-se1", "oracle-se2"),
    }
)


@dataclass(frozen=True)
class Decision:
    action: str  # UPDATE, REPLACE or FAILS (AWS refuses the update; the stack rolls back)
    why: str


@dataclass(frozen=True)
class Row:
    resource_type: str
    path: str
    decide: Callable[[dict, dict], Decision | None]
    """(old properties, new properties) -> the decision, or None where the row cannot tell."""
    doc: str


def _empty(value: object) -> bool:
    return value is None or value == ""


def _true(value: object) -> bool:
    return value is True or value == "true"


def _always_updates(why: str) -> Callable[[dict, dict], Decision]:
    return lambda old, new: Decision(UPDATE, why)


def _replaces_unless_removed(name: str, what: str) -> Callable[[dict, dict], Decision]:
    """The provider's rule for the restore sources: a new value restores a new instance;
    removing the property after the restore changes nothing."""

    def decide(old: dict, new: dict) -> Decision:
        if _empty(new.get(name)):
            return Decision(UPDATE, f"{what} only matters when the instance is created")
        return Decision(REPLACE, f"a new {what} creates a new instance from it")

    return decide


def _replaces_unless_promoted(name: str) -> Callable[[dict, dict], Decision]:
    """A read replica's source: removing it promotes the replica in place."""

    def decide(old: dict, new: dict) -> Decision:
        if not _empty(old.get(name)) and _empty(new.get(name)):
            return Decision(UPDATE, "removing the source promotes the read replica in place")
        return Decision(REPLACE, "a new source creates a new read replica")

    return decide


def _snapshot(old: dict, new: dict) -> Decision:
    # The page's "Updating DB instances": "if you don't specify the DBSnapshotIdentifier
    # property, an empty DB instance is created, and the original DB instance is deleted. If
    # you specify a property that is different from the previous snapshot restore property, a
    # new DB instance is restored from the specified DBSnapshotIdentifier property". (The
    # provider's isDBSnapshotIdentifierMutable lets a removal through; the documented loss
    # of data wins.) An empty string is no snapshot (same page, DBSnapshotIdentifier).
    before, after = old.get("DBSnapshotIdentifier"), new.get("DBSnapshotIdentifier")
    if _empty(before) and _empty(after):
        return Decision(UPDATE, "an empty identifier is no snapshot")
    if _empty(after):
        return Decision(
            REPLACE, "without the snapshot a restored instance is replaced by an empty one"
        )
    if _empty(before):
        return Decision(
            REPLACE, "a snapshot on an existing instance restores a new instance from it"
        )
    return Decision(REPLACE, "a different snapshot restores a new instance and deletes this one")


def _engine(old: dict, new: dict) -> Decision:
    pair = (old.get("Engine"), new.get("Engine"))
    if pair in IN_PLACE_ENGINE_CHANGES:
        return Decision(UPDATE, f"RDS converts {pair[0]} to {pair[1]} in place")
    return Decision(REPLACE, "RDS cannot change an instance's engine in place")


def _availability_zone(old: dict, new: dict) -> Decision:
    # isAvailabilityZoneChangeMutable: only dropping the zone of an instance made Multi-AZ.
    if _empty(new.get("AvailabilityZone")) and _true(new.get("MultiAZ")):
        return Decision(UPDATE, "a Multi-AZ instance has no zone of its own")
    return Decision(REPLACE, "a Single-AZ instance moves to another zone only as a new instance")


def _performance_insights_key(old: dict, new: dict) -> Decision:
    # The page, PerformanceInsightsKMSKeyId: "Once Performance Insights is enabled with a KMS
    # key, you cannot change to a different physical KMS key without replacing the DB
    # instance"; setting the first key or removing the property does not replace.
    if _empty(old.get("PerformanceInsightsKMSKeyId")):
        return Decision(UPDATE, "the first Performance Insights key is set in place")
    if _empty(new.get("PerformanceInsightsKMSKeyId")):
        return Decision(UPDATE, "removing the property keeps the key")
    return Decision(REPLACE, "another Performance Insights key needs a new instance")


def _use_latest_restorable_time(old: dict, new: dict) -> Decision:
    if _true(new.get("UseLatestRestorableTime")):
        return Decision(REPLACE, "a point-in-time restore creates a new instance")
    return Decision(UPDATE, "the restore only matters when the instance is created")


def _mysql_version(value: object) -> tuple[int, ...] | None:
    parts = str(value).split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def _engine_version(old: dict, new: dict) -> Decision | None:
    """RDS upgrades in place (ModifyDBInstance's EngineVersion is "the version ... to upgrade
    to"); a downgrade, a skipped major version or a major upgrade without
    AllowMajorVersionUpgrade is refused by RDS and the stack update fails."""
    if old.get("Engine") != new.get("Engine"):
        return Decision(REPLACE, "a new engine is a new instance (the Engine row)")
    if new.get("Engine") != "mysql":
        return None
    before, after = (
        _mysql_version(old.get("EngineVersion")),
        _mysql_version(new.get("EngineVersion")),
    )
    if before is None or after is None:
        return None
    # A bare major version ("8.4") means that major's default minor version (_MODIFY).
    if after[:2] < before[:2] or (after[:2] == before[:2] and len(after) > 2 and after < before):
        return Decision(FAILS, "RDS cannot downgrade an instance; restore a snapshot instead")
    if after[:2] == before[:2]:
        return Decision(UPDATE, "a minor version upgrade is made in place")
    step = (".".join(map(str, before[:2])), ".".join(map(str, after[:2])))
    if step not in MYSQL_IN_PLACE_MAJOR_UPGRADES:
        return Decision(
            FAILS,
            f"RDS upgrades MySQL in place only {' or '.join(f'{a} to {b}' for a, b in sorted(MYSQL_IN_PLACE_MAJOR_UPGRADES))}",
        )
    if not _true(new.get("AllowMajorVersionUpgrade")):
        return Decision(FAILS, "a major version upgrade needs AllowMajorVersionUpgrade: true")
    return Decision(UPDATE, f"RDS upgrades MySQL {step[0]} to {step[1]} in place")


def _db(path: str, decide: Callable[[dict, dict], Decision | None], doc: str = "") -> Row:
    return Row(DB_INSTANCE, path, decide, doc or f"{_PAGE}#cfn-rds-dbinstance-{path.lower()}")


ROWS: tuple[Row, ...] = (
    _db("AutoMinorVersionUpgrade", _always_updates("Update requires: No interruption")),
    _db("AvailabilityZone", _availability_zone),
    _db("BackupRetentionPeriod", _always_updates("Update requires: Some interruptions")),
    _db("DBClusterSnapshotIdentifier", _replaces_unless_removed("DBClusterSnapshotIdentifier", "cluster snapshot")),
    _db("DBParameterGroupName", _always_updates("Update requires: Some interruptions (a reboot)")),
    _db("DBSnapshotIdentifier", _snapshot),
    _db("Engine", _engine),
    _db("EngineVersion", _engine_version, f"{_MODIFY} {_MYSQL_MAJOR}"),
    _db("MultiAZ", _always_updates("RDS converts to and from Multi-AZ in place")),
    _db("PerformanceInsightsKMSKeyId", _performance_insights_key),
    _db("PreferredMaintenanceWindow", _always_updates("applied immediately on an update")),
    _db("RestoreTime", _replaces_unless_removed("RestoreTime", "restore time")),
    _db("SourceDBClusterIdentifier", _replaces_unless_promoted("SourceDBClusterIdentifier")),
    _db("SourceDBInstanceAutomatedBackupsArn", _replaces_unless_removed("SourceDBInstanceAutomatedBackupsArn", "automated backup to restore")),
    _db("SourceDBInstanceIdentifier", _replaces_unless_promoted("SourceDBInstanceIdentifier")),
    _db("SourceDbiResourceId", _replaces_unless_removed("SourceDbiResourceId", "source instance to restore")),
    _db("UseLatestRestorableTime", _use_latest_restorable_time),
)  # fmt: skip
_BY_KEY = {(row.resource_type, row.path): row for row in ROWS}


def row(resource_type: str, path: str) -> Row | None:
    return _BY_KEY.get((resource_type, path))
