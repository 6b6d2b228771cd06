"""The replacement guard (checks/replacement.py): what it calls a replacement, a deletion, and
when it refuses one."""

from __future__ import annotations

import dataclasses
import datetime
import json
import subprocess
from pathlib import Path

import pytest

from playback_infra.checks import replacement
from playback_infra.cli import EXIT_FAILED, EXIT_OK, main


def _stack(**resources) -> dict:
    return {"data": {"Resources": resources}}


DB = {"Type": "AWS::RDS::DBInstance", "Properties": {
    "DBInstanceIdentifier": {"Fn::Sub": "playback-${EnvironmentName}-${DatabaseGeneration}"},
    "BackupRetentionPeriod": 7, "AllocatedStorage": 20}}  # fmt: skip


def _with(resource: dict, **properties) -> dict:
    return {**resource, "Properties": {**resource["Properties"], **properties}}


def test_a_create_only_property_change_replaces_and_is_destructive_for_stateful_types():
    (change,) = replacement.template_changes(
        _stack(Db=DB), _stack(Db=_with(DB, DBInstanceIdentifier="x"))
    )
    assert (change.action, change.path, change.new) == ("replace", "DBInstanceIdentifier", "x")
    assert change.destructive


def test_conditionally_create_only_changes_may_replace_but_do_not_fail():
    (change,) = replacement.template_changes(
        _stack(Db=DB), _stack(Db=_with(DB, BackupRetentionPeriod=35))
    )
    assert change.action == "may replace"
    assert not change.destructive


def test_other_changes_are_updates():
    (change,) = replacement.template_changes(
        _stack(Db=DB), _stack(Db=_with(DB, AllocatedStorage=50))
    )
    assert (change.action, change.path) == ("update", "AllocatedStorage")


def test_a_renamed_logical_id_is_a_deletion_and_an_addition():
    changes = replacement.template_changes(_stack(Db=DB), _stack(Database=DB))
    assert [(c.logical_id, c.action) for c in changes] == [("Db", "delete"), ("Database", "add")]
    assert [c.destructive for c in changes] == [True, False]


def test_replacing_a_stateless_resource_is_reported_but_allowed():
    group = {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {"GroupDescription": "a", "VpcId": "v"},
    }
    (change,) = replacement.template_changes(
        _stack(Group=group), _stack(Group=_with(group, GroupDescription="b"))
    )
    assert change.action == "replace" and not change.destructive
    assert replacement.forbidden([change], []) == []


def test_a_parameter_value_feeding_a_create_only_property_replaces_in_that_environment():
    old = {"dev": {"DatabaseGeneration": "1"}, "prod": {"DatabaseGeneration": "1"}}
    new = {"dev": {"DatabaseGeneration": "1"}, "prod": {"DatabaseGeneration": "2"}}
    (change,) = replacement.parameter_changes(_stack(Db=DB), old, new)
    assert (change.environment, change.action, change.old, change.new) == (
        "prod",
        "replace",
        "1",
        "2",
    )
    assert change.path == "DBInstanceIdentifier (via DatabaseGeneration)"
    (message,) = replacement.forbidden([change], [])
    assert message.startswith(
        "data: DatabaseInstance" if False else "data: Db (AWS::RDS::DBInstance): replace in prod"
    )
    assert "snapshot" in message and "replacement-allowlist.json" in message


def _allowlist(tmp_path: Path, **entry) -> Path:
    path = tmp_path / replacement.ALLOWLIST
    base = {"stack": "data", "logical_id": "Db", "action": "replace", "reason": "restore drill",
            "expires": (datetime.date.today() + datetime.timedelta(days=7)).isoformat()}  # fmt: skip
    path.write_text(json.dumps([{**base, **entry}]))
    return path


def test_an_allow_list_entry_with_a_reason_permits_exactly_that_change(tmp_path):
    change = replacement.Change(
        "data", "Db", "AWS::RDS::DBInstance", "replace", "DBInstanceIdentifier"
    )
    deletion = replacement.Change("data", "Db", "AWS::RDS::DBInstance", "delete")
    allowed, problems = replacement.load_allowlist(_allowlist(tmp_path))
    assert problems == []
    assert replacement.forbidden([change], allowed) == []
    assert len(replacement.forbidden([deletion], allowed)) == 1  # a replace entry allows no delete


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


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_diff_against_a_git_base_refuses_a_generation_bump_until_allowed(
    tmp_path, capsys, monkeypatch
):
    """The whole path on a throwaway repository: synth, commit, change the catalog, diff."""
    from playback_infra import synth
    from playback_infra.environments import catalog

    assert main(["--root", str(tmp_path), "synth"]) == EXIT_OK
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    assert main(["--root", str(tmp_path), "diff"]) == EXIT_OK
    assert "none" in capsys.readouterr().out

    def bumped():
        return tuple(
            env if env.name != "prod"
            else dataclasses.replace(env, database=dataclasses.replace(env.database, generation=2))
            for env in catalog.environments()
        )  # fmt: skip

    monkeypatch.setattr(synth, "environments", bumped)
    assert main(["--root", str(tmp_path), "diff"]) == EXIT_FAILED
    captured = capsys.readouterr()
    assert "!! data: DatabaseInstance (AWS::RDS::DBInstance): replace in prod" in captured.out
    assert "REFUSED data: DatabaseInstance" in captured.err
    _allowlist(tmp_path, logical_id="DatabaseInstance")
    for logical_id in ("DatabaseErrorLogGroup", "DatabaseSlowqueryLogGroup", "DatabaseBackupVault"):
        entries = json.loads((tmp_path / replacement.ALLOWLIST).read_text())
        entries.append({**entries[0], "logical_id": logical_id})
        (tmp_path / replacement.ALLOWLIST).write_text(json.dumps(entries))
    assert main(["--root", str(tmp_path), "diff"]) == EXIT_OK


@pytest.mark.parametrize(
    ("resource_type", "properties", "changed", "action"),
    [
        ("AWS::RDS::DBInstance", {"Engine": "mysql"}, {"Engine": "mariadb"}, "may replace"),
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
    (change,) = replacement.template_changes(_stack(R=old), _stack(R=_with(old, **changed)))
    assert change.action == action
    assert change.destructive == (action == "replace")


def test_removing_a_stateful_resource_is_refused_and_an_allowed_one_passes(tmp_path):
    (deletion,) = replacement.template_changes(_stack(Db=DB), _stack())
    assert deletion.action == "delete" and deletion.destructive
    assert len(replacement.forbidden([deletion], [])) == 1
    allowed, _ = replacement.load_allowlist(_allowlist(tmp_path, action="delete"))
    assert replacement.forbidden([deletion], allowed) == []


def test_every_stateful_resource_of_the_real_templates_is_known_and_the_tree_passes_itself():
    from playback_infra.synth import render

    rendered = render()
    templates = {name: t.to_dict() for name, t in rendered.templates.items()}
    stateful = {
        (name, logical_id): resource["Type"]
        for name, template in templates.items()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in replacement.STATEFUL_TYPES
    }
    # The database, its log groups, secrets, keys, buckets, vaults, repositories are all found.
    assert ("data", "DatabaseInstance") in stateful
    assert ("game-data", "RetrosheetBucket") in stateful
    assert ("security", "DataKey") in stateful and ("registry", "BackendRepository") in stateful
    assert len(stateful) >= 20
    assert replacement.template_changes(templates, templates) == []
    parameters = {
        Path(path).stem: json.loads(content)["Parameters"]
        for path, content in rendered.files.items()
        if path.startswith("parameters/")
    }
    assert replacement.parameter_changes(templates, parameters, parameters) == []


# --- listener rules an ECS blue/green service manages ----------------------------------------


@pytest.fixture(scope="module")
def real():
    """The committed templates and the environments' root parameter values."""
    from playback_infra.synth import render

    rendered = render()
    templates = {name: t.to_dict() for name, t in rendered.templates.items()}
    parameters = {
        Path(path).stem: json.loads(content)["Parameters"]
        for path, content in rendered.files.items()
        if path.startswith("parameters/") and path.count("/") == 1
    }
    return templates, parameters


def test_the_rules_the_blue_green_service_names_are_found(real):
    templates, _ = real
    assert replacement.blue_green_rules(templates) == {
        ("ingress", "ApiProductionListenerRule"),
        ("ingress", "ApiTestListenerRule"),
    }


def test_changing_a_blue_green_rule_in_the_template_is_refused_until_allowed(real, tmp_path):
    """CloudFormation would write the template's forward action over the one ECS set."""
    templates, _ = real
    changed = json.loads(json.dumps(templates))
    rule = changed["ingress"]["Resources"]["ApiProductionListenerRule"]["Properties"]
    rule["Priority"] = 11
    changes = replacement.template_changes(templates, changed)
    (message,) = replacement.rewritten_blue_green_rules(changes, changed, [])
    assert message.startswith("ingress: ApiProductionListenerRule (AWS::ElasticLoadBalancingV2")
    assert "aws elbv2 describe-rules" in message and "replacement-allowlist.json" in message
    allowed, _ = replacement.load_allowlist(
        _allowlist(
            tmp_path, stack="ingress", logical_id="ApiProductionListenerRule", action="update"
        )
    )
    assert replacement.rewritten_blue_green_rules(changes, changed, allowed) == []
    # Other resources change freely, and a new rule is no rewrite.
    changed["ingress"]["Resources"]["HttpsListener"]["Properties"]["Port"] = 8443
    changed["ingress"]["Resources"]["NewRule"] = changed["ingress"]["Resources"][
        "ApiTestListenerRule"
    ]
    changes = replacement.template_changes(templates, changed)
    assert len(replacement.rewritten_blue_green_rules(changes, changed, [])) == 1


def test_a_parameter_change_reaching_a_blue_green_rule_through_a_condition_is_an_update(real):
    """An ALB opened to the internet drops the rules' origin-header condition: in prod (blue/
    green) that rewrites the rules; dev's service deploys rolling, so ECS never moves its rules."""
    templates, parameters = real
    new = {env: {**values, "CloudFrontPrefixListId": ""} for env, values in parameters.items()}
    changes = replacement.blue_green_rule_parameter_changes(templates, parameters, new)
    assert {(c.environment, c.logical_id) for c in changes} == {
        ("prod", "ApiProductionListenerRule"),
        ("prod", "ApiTestListenerRule"),
    }
    assert {c.path for c in changes} == {"(via CloudFrontPrefixListId)"}
    assert len(replacement.rewritten_blue_green_rules(changes, templates, [])) == 2
    assert replacement.blue_green_rule_parameter_changes(templates, parameters, parameters) == []
