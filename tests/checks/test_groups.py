"""checks/groups.py: each environment resolved and compared, so a parameter file's change
shows on every resource it reaches; the delivery stacks and the other templates."""

from __future__ import annotations

import dataclasses

from playback_infra.checks import groups, replacement
from tests.checks.helpers import rendering


def _changes(env: str, **values: str) -> list[replacement.Change]:
    """The changes of `env` when its parameter file says `values`."""
    now = rendering()
    changed = {**now.parameters, env: {**now.parameters[env], **values}}
    return groups.group_changes(now, dataclasses.replace(now, parameters=changed), env)


def test_a_parameter_reaches_a_nested_stack_through_ref():
    (change,) = _changes("dev", FlowLogRetentionDays="14")
    assert (change.environment, change.stack, change.logical_id) == (
        "dev",
        "security",
        "FlowLogGroup",
    )
    (retention,) = change.properties
    assert (retention.path, retention.old, retention.new) == ("RetentionInDays", "30", "14")
    assert (change.action, retention.why) == ("update", "via FlowLogRetentionDays")


def test_a_parameter_reaches_a_create_only_property_through_sub_and_is_refused():
    changes = {c.logical_id: c for c in _changes("prod", DatabaseGeneration="2")}
    database = changes["DatabaseInstance"]
    assert (database.action, database.refused) == ("replace", True)
    (name,) = database.properties
    assert (name.path, name.new, name.why) == (
        "DBInstanceIdentifier", "baseball-playback-prod-2", "via DatabaseGeneration",
    )  # fmt: skip
    (message,) = [m for m in replacement.forbidden(changes.values(), []) if "DatabaseInstance" in m]
    assert message.startswith("prod data: DatabaseInstance (AWS::RDS::DBInstance): replace")
    assert "snapshot or export the data" in message
    assert '"logical_id": "DatabaseInstance", "action": "replace"' in message


def test_a_parameter_reaches_a_property_through_a_condition():
    (change,) = _changes("staging", DatabaseMultiAz="true")
    (multi_az,) = change.properties
    assert (change.logical_id, multi_az.path, multi_az.old, multi_az.new) == (
        "DatabaseInstance", "MultiAZ", False, True,
    )  # fmt: skip
    assert multi_az.why == "RDS converts to and from Multi-AZ in place"  # the table's row
    assert not change.refused


def test_a_parameter_that_switches_a_stateful_resource_off_deletes_it_and_is_refused():
    changes = _changes("prod", EnableBackupPlan="false")
    vault = next(c for c in changes if c.logical_id == "DatabaseBackupVault")
    assert (vault.stack, vault.action, vault.refused) == ("data", "delete", True)
    assert vault.why == "condition UseBackupPlan (EnableBackupPlan): true -> false"
    assert {c.logical_id for c in changes if c.action == "delete"} >= {"DatabaseBackupPlan"}


def test_a_deploy_time_value_changing_nowhere_changes_nothing():
    """Parameters the root passes on from other stacks' outputs are the same on both sides."""
    now = rendering()
    for env in now.environments:
        assert groups.group_changes(now, now, env) == []


def test_every_stateful_resource_of_the_real_templates_is_known_and_the_tree_passes_itself():
    now = rendering()
    stateful = {
        (name, logical_id): resource["Type"]
        for name, template in now.templates.items()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in replacement.STATEFUL_TYPES
    }
    # The database, its log groups, secrets, keys, buckets, vaults, repositories are all found.
    assert ("data", "DatabaseInstance") in stateful
    assert ("game-data", "RetrosheetBucket") in stateful
    assert ("security", "DataKey") in stateful and ("registry", "BackendRepository") in stateful
    assert len(stateful) >= 20
    for group in (*now.environments, groups.DELIVERY, groups.TEMPLATES):
        assert groups.group_changes(now, now, group) == []
