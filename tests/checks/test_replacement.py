"""The replacement guard (checks/replacement.py): what it calls an update, a replacement, a
deletion, where a change comes from, and when it refuses one."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

import pytest

from playback_infra.checks import groups, replacement
from playback_infra.cli import EXIT_FAILED, EXIT_OK, main
from tests.checks.helpers import synthesized_repository


def _stack(**resources) -> dict:
    return groups.as_written({"data": {"Resources": resources}})


DB = {"Type": "AWS::RDS::DBInstance", "Properties": {
    "DBInstanceIdentifier": {"Fn::Sub": "playback-${EnvironmentName}-${DatabaseGeneration}"},
    "BackupRetentionPeriod": 7, "AllocatedStorage": 20,
    "Tags": [{"Key": "Component", "Value": "data"}]}}  # fmt: skip


def _with(resource: dict, **properties) -> dict:
    return {**resource, "Properties": {**resource["Properties"], **properties}}


def test_a_create_only_property_change_replaces_and_is_refused_for_stateful_types():
    (change,) = replacement.compare(_stack(Db=DB), _stack(Db=_with(DB, DBInstanceIdentifier="x")))
    (changed,) = change.properties
    assert (change.action, changed.path, changed.new) == ("replace", "DBInstanceIdentifier", "x")
    assert change.refused


def test_a_conditional_property_is_decided_from_its_values():
    (change,) = replacement.compare(_stack(Db=DB), _stack(Db=_with(DB, BackupRetentionPeriod=35)))
    assert (change.action, change.refused) == ("update", False)
    assert change.properties[0].why == "Update requires: Some interruptions"


def test_other_changes_are_updates_with_the_smallest_changed_value():
    tags = [{"Key": "Component", "Value": "database"}, {"Key": "Team", "Value": "a"}]
    (change,) = replacement.compare(
        _stack(Db=DB), _stack(Db=_with(DB, AllocatedStorage=50, Tags=tags))
    )
    assert change.action == "update"
    assert [(p.path, p.old, p.new) for p in change.properties] == [
        ("AllocatedStorage", 20, 50),
        ("Tags[Component].Value", "data", "database"),
        ("Tags[Team]", None, {"Key": "Team", "Value": "a"}),
    ]


def test_a_renamed_logical_id_is_a_deletion_and_an_addition():
    changes = replacement.compare(_stack(Db=DB), _stack(Database=DB))
    assert [(c.logical_id, c.action) for c in changes] == [("Db", "delete"), ("Database", "add")]
    assert [c.refused for c in changes] == [True, False]


def test_replacing_a_stateless_resource_is_reported_but_allowed():
    group = {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {"GroupDescription": "a", "VpcId": "v"},
    }
    (change,) = replacement.compare(
        _stack(Group=group), _stack(Group=_with(group, GroupDescription="b"))
    )
    assert change.action == "replace" and not change.refused
    assert replacement.forbidden([change], []) == []


def _allowlist(tmp_path: Path, **entry) -> Path:
    path = tmp_path / replacement.ALLOWLIST
    base = {"stack": "data", "logical_id": "Db", "action": "replace", "reason": "restore drill",
            "expires": (datetime.date.today() + datetime.timedelta(days=7)).isoformat()}  # fmt: skip
    path.write_text(json.dumps([{**base, **entry}]))
    return path


def test_an_allow_list_entry_with_a_reason_permits_exactly_that_change(tmp_path):
    change = replacement.Change("data", "Db", "AWS::RDS::DBInstance", "replace")
    deletion = replacement.Change("data", "Db", "AWS::RDS::DBInstance", "delete")
    allowed, problems = replacement.load_allowlist(_allowlist(tmp_path))
    assert problems == []
    assert replacement.forbidden([change], allowed) == []
    (message,) = replacement.forbidden([deletion], allowed, tmp_path / replacement.ALLOWLIST)
    assert f"add to the JSON list in {tmp_path / replacement.ALLOWLIST}" in message
    assert '"action": "delete", "reason": "why it is intended", "expires": "YYYY-MM-DD"' in message


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"expires": "2020-01-01"}, "expired on 2020-01-01"),
        ({"reason": "  "}, "the reason is empty"),
        ({"expires": "soon"}, "YYYY-MM-DD"),
    ],
)
def test_expired_or_malformed_allow_list_entries_are_problems(tmp_path, entry, problem):
    allowed, problems = replacement.load_allowlist(_allowlist(tmp_path, **entry))
    assert allowed == []
    assert len(problems) == 1 and problem in problems[0]


def test_diff_against_a_git_base_refuses_a_generation_bump_until_allowed(
    tmp_path, capsys, monkeypatch
):
    """The whole path on a throwaway repository: synth, commit, change the catalog, diff."""
    from playback_infra import synth
    from playback_infra.environments import catalog

    synthesized_repository(tmp_path)
    assert main(["--root", str(tmp_path), "diff"]) == EXIT_OK
    assert "prod: no changes" in capsys.readouterr().out

    def bumped():
        return tuple(
            env if env.name != "prod"
            else dataclasses.replace(env, database=dataclasses.replace(env.database, generation=2))
            for env in catalog.environments()
        )  # fmt: skip

    monkeypatch.setattr(synth, "environments", bumped)
    assert main(["--root", str(tmp_path), "diff"]) == EXIT_FAILED
    captured = capsys.readouterr()
    assert "!! data: DatabaseInstance (AWS::RDS::DBInstance): replace" in captured.out
    assert "REFUSED prod data: DatabaseInstance" in captured.err
    _allowlist(tmp_path, logical_id="DatabaseInstance")
    for logical_id in ("DatabaseErrorLogGroup", "DatabaseSlowqueryLogGroup", "DatabaseBackupVault"):
        entries = json.loads((tmp_path / replacement.ALLOWLIST).read_text())
        entries.append({**entries[0], "logical_id": logical_id})
        (tmp_path / replacement.ALLOWLIST).write_text(json.dumps(entries))
    assert main(["--root", str(tmp_path), "diff"]) == EXIT_OK


@pytest.mark.parametrize(
    ("resource_type", "properties", "changed", "action"),
    [
        ("AWS::RDS::DBInstance", {"Engine": "mysql"}, {"Engine": "mariadb"}, "replace"),
        (
            "AWS::RDS::DBInstance",
            {"StorageEncrypted": True},
            {"StorageEncrypted": False},
            "replace",
        ),
        ("AWS::RDS::DBInstance", {"KmsKeyId": "a"}, {"KmsKeyId": "b"}, "replace"),
        ("AWS::RDS::DBInstance", {"DBName": "a"}, {"DBName": "b"}, "replace"),
        ("AWS::S3::Bucket", {"BucketName": "a"}, {"BucketName": "b"}, "replace"),
        ("AWS::SecretsManager::Secret", {"Name": "a"}, {"Name": "b"}, "replace"),
        ("AWS::Logs::LogGroup", {"LogGroupName": "a"}, {"LogGroupName": "b"}, "replace"),
        ("AWS::ECR::Repository", {"RepositoryName": "a"}, {"RepositoryName": "b"}, "replace"),
        ("AWS::Logs::LogGroup", {"RetentionInDays": 30}, {"RetentionInDays": 90}, "update"),
        ("AWS::KMS::Key", {"EnableKeyRotation": True}, {"EnableKeyRotation": False}, "update"),
    ],
)
def test_each_kind_of_change_is_classified_from_the_schemas(
    resource_type, properties, changed, action
):
    old = {"Type": resource_type, "Properties": properties}
    (change,) = replacement.compare(_stack(R=old), _stack(R=_with(old, **changed)))
    assert change.action == action
    assert change.refused == (action == "replace")


def test_removing_a_stateful_resource_is_refused_and_an_allowed_one_passes(tmp_path):
    (deletion,) = replacement.compare(_stack(Db=DB), _stack())
    assert deletion.action == "delete" and deletion.refused
    assert len(replacement.forbidden([deletion], [])) == 1
    allowed, _ = replacement.load_allowlist(_allowlist(tmp_path, action="delete"))
    assert replacement.forbidden([deletion], allowed) == []
