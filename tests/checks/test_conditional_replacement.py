"""checks/conditional_replacement.py: each row decides both ways, through the guard's own
comparison (checks/replacement.py), and a conditional path no row covers is refused."""

from __future__ import annotations

import pytest

from playback_infra.checks import conditional_replacement, groups, replacement
from tests.checks.helpers import rendered

DB = {"Engine": "mysql", "EngineVersion": "8.0.40", "DBInstanceClass": "db.t4g.micro"}

# (row, old properties, new properties, action): every row both ways.
CASES = [
    ("AutoMinorVersionUpgrade", {"AutoMinorVersionUpgrade": True}, {"AutoMinorVersionUpgrade": False}, "update"),
    ("AutoMinorVersionUpgrade", {"AutoMinorVersionUpgrade": False}, {"AutoMinorVersionUpgrade": True}, "update"),
    ("AvailabilityZone", {"AvailabilityZone": "us-east-1a"}, {"AvailabilityZone": "us-east-1b"}, "replace"),
    ("AvailabilityZone", {}, {"AvailabilityZone": "us-east-1a"}, "replace"),
    ("AvailabilityZone", {"AvailabilityZone": "us-east-1a"}, {"MultiAZ": True}, "update"),
    ("BackupRetentionPeriod", {"BackupRetentionPeriod": 7}, {"BackupRetentionPeriod": 35}, "update"),
    ("BackupRetentionPeriod", {"BackupRetentionPeriod": 35}, {"BackupRetentionPeriod": 0}, "update"),
    ("DBClusterSnapshotIdentifier", {"DBClusterSnapshotIdentifier": "a"}, {"DBClusterSnapshotIdentifier": "b"}, "replace"),
    ("DBClusterSnapshotIdentifier", {"DBClusterSnapshotIdentifier": "a"}, {}, "update"),
    ("DBParameterGroupName", {"DBParameterGroupName": "a"}, {"DBParameterGroupName": "b"}, "update"),
    ("DBParameterGroupName", {"DBParameterGroupName": "b"}, {"DBParameterGroupName": "a"}, "update"),
    ("DBSnapshotIdentifier", {}, {"DBSnapshotIdentifier": "snap-1"}, "replace"),
    ("DBSnapshotIdentifier", {"DBSnapshotIdentifier": "snap-1"}, {}, "replace"),
    ("DBSnapshotIdentifier", {"DBSnapshotIdentifier": "snap-1"}, {"DBSnapshotIdentifier": "snap-2"}, "replace"),
    ("DBSnapshotIdentifier", {"DBSnapshotIdentifier": ""}, {}, "update"),
    ("Engine", {"Engine": "mysql"}, {"Engine": "mariadb"}, "replace"),
    ("Engine", {"Engine": "oracle-ee"}, {"Engine": "oracle-ee-cdb"}, "update"),
    ("EngineVersion", {"EngineVersion": "8.0.40"}, {"EngineVersion": "8.0.41"}, "update"),
    ("EngineVersion", {"EngineVersion": "8.0.41"}, {"EngineVersion": "8.0.40"}, "fails"),
    ("EngineVersion", {"EngineVersion": "8.4.3"}, {"EngineVersion": "8.0.40"}, "fails"),
    ("EngineVersion", {"EngineVersion": "8.0.40"}, {"EngineVersion": "8.4.3", "AllowMajorVersionUpgrade": True}, "update"),
    ("EngineVersion", {"EngineVersion": "8.0.40"}, {"EngineVersion": "8.4.3"}, "fails"),
    ("EngineVersion", {"EngineVersion": "5.7.44"}, {"EngineVersion": "8.4.3", "AllowMajorVersionUpgrade": True}, "fails"),
    ("EngineVersion", {"EngineVersion": "8.0.40"}, {"EngineVersion": "8.0"}, "update"),
    ("EngineVersion", {"Engine": "postgres", "EngineVersion": "15.4"}, {"Engine": "postgres", "EngineVersion": "16.1"}, "may replace"),
    ("MultiAZ", {"MultiAZ": False}, {"MultiAZ": True}, "update"),
    ("MultiAZ", {"MultiAZ": True}, {"MultiAZ": False}, "update"),
    ("PerformanceInsightsKMSKeyId", {}, {"PerformanceInsightsKMSKeyId": "k1"}, "update"),
    ("PerformanceInsightsKMSKeyId", {"PerformanceInsightsKMSKeyId": "k1"}, {}, "update"),
    ("PerformanceInsightsKMSKeyId", {"PerformanceInsightsKMSKeyId": "k1"}, {"PerformanceInsightsKMSKeyId": "k2"}, "replace"),
    ("PreferredMaintenanceWindow", {"PreferredMaintenanceWindow": "sun:04:00-sun:04:30"}, {"PreferredMaintenanceWindow": "mon:04:00-mon:04:30"}, "update"),
    ("PreferredMaintenanceWindow", {"PreferredMaintenanceWindow": "mon:04:00-mon:04:30"}, {}, "update"),
    ("RestoreTime", {"RestoreTime": "2026-01-01T00:00:00Z"}, {"RestoreTime": "2026-01-02T00:00:00Z"}, "replace"),
    ("RestoreTime", {"RestoreTime": "2026-01-01T00:00:00Z"}, {}, "update"),
    ("SourceDBClusterIdentifier", {}, {"SourceDBClusterIdentifier": "c1"}, "replace"),
    ("SourceDBClusterIdentifier", {"SourceDBClusterIdentifier": "c1"}, {}, "update"),
    ("SourceDBInstanceAutomatedBackupsArn", {}, {"SourceDBInstanceAutomatedBackupsArn": "arn:b"}, "replace"),
    ("SourceDBInstanceAutomatedBackupsArn", {"SourceDBInstanceAutomatedBackupsArn": "arn:b"}, {}, "update"),
    ("SourceDBInstanceIdentifier", {"SourceDBInstanceIdentifier": "db1"}, {"SourceDBInstanceIdentifier": "db2"}, "replace"),
    ("SourceDBInstanceIdentifier", {"SourceDBInstanceIdentifier": "db1"}, {}, "update"),
    ("SourceDbiResourceId", {}, {"SourceDbiResourceId": "db-ABC"}, "replace"),
    ("SourceDbiResourceId", {"SourceDbiResourceId": "db-ABC"}, {}, "update"),
    ("UseLatestRestorableTime", {"UseLatestRestorableTime": False}, {"UseLatestRestorableTime": True}, "replace"),
    ("UseLatestRestorableTime", {"UseLatestRestorableTime": True}, {"UseLatestRestorableTime": False}, "update"),
]  # fmt: skip


def _change(resource_type: str, old: dict, new: dict) -> replacement.Change:
    def stacks(properties: dict) -> dict:
        template = {"Resources": {"Db": {"Type": resource_type, "Properties": properties}}}
        return groups.as_written({"data": template})

    (change,) = replacement.compare(stacks(old), stacks(new))
    return change


@pytest.mark.parametrize(("path", "old", "new", "action"), CASES)
def test_each_row_decides_from_the_old_and_new_values(path, old, new, action):
    change = _change(conditional_replacement.DB_INSTANCE, {**DB, **old}, {**DB, **new})
    decided = next(p for p in change.properties if p.path == path)
    assert decided.action == action
    assert change.action == action  # no other property of the case changes the outcome
    assert change.refused == (action != "update")
    row = conditional_replacement.row(conditional_replacement.DB_INSTANCE, path)
    assert decided.doc == (row.doc if action != "may replace" else "")
    assert decided.doc.startswith("https://docs.aws.amazon.com/") or action == "may replace"


def test_every_row_is_tested_both_ways():
    tested = {path for path, *_ in CASES}
    assert tested == {row.path for row in conditional_replacement.ROWS}
    for row in conditional_replacement.ROWS:
        outcomes = [(old, new, action) for path, old, new, action in CASES if path == row.path]
        assert len(outcomes) >= 2, row.path
        assert len({(tuple(o.items()), tuple(n.items())) for o, n, _ in outcomes}) == len(outcomes)


def test_every_conditional_path_of_every_stateful_type_the_templates_use_has_a_row():
    used = {
        resource["Type"]
        for template in rendered().dicts.values()
        for resource in template["Resources"].values()
    } & replacement.STATEFUL_TYPES
    missing = [
        (resource_type, "/".join(path))
        for resource_type in sorted(used)
        for path in replacement.schema_paths(resource_type, "conditionalCreateOnlyProperties")
        if conditional_replacement.row(resource_type, "/".join(path)) is None
    ]
    assert missing == []
    assert conditional_replacement.DB_INSTANCE in used


def test_a_conditional_path_without_a_row_is_refused_on_a_stateful_resource():
    """DBCluster is stateful and no template uses it yet: its Engine has no row."""
    change = _change(
        "AWS::RDS::DBCluster", {"Engine": "aurora-mysql"}, {"Engine": "aurora-postgresql"}
    )
    assert (change.action, change.refused) == ("may replace", True)
    (message,) = replacement.forbidden([change], [])
    assert "add a row to checks/conditional_replacement.py" in message


def test_a_conditional_path_without_a_row_on_a_stateless_resource_is_reported_not_refused():
    change = _change("AWS::ECS::Service", {"LaunchType": "FARGATE"}, {"LaunchType": "EC2"})
    assert (change.action, change.refused) == ("may replace", False)
