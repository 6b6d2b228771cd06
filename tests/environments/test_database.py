"""The database part of the environment model: defaults, derived values and bad inputs."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from playback_infra.environments.catalog import environments
from playback_infra.environments.database import (
    CLASS_MEMORY_GIB,
    ENGINE_VERSION,
    NO_INSIGHTS_CLASSES,
    Insights,
    known_engine_versions,
)
from playback_infra.environments.model import ConfigError, Kind, define
from tests.environments.helpers import BASE


def test_defaults_follow_the_seed_and_production_rules():
    envs = {env.name: env.database for env in environments()}
    # db.t3.small in staging; dev's db.t4g.micro is half its price (docs/decisions.md).
    assert (envs["dev"].instance_class, envs["staging"].instance_class) == (
        "db.t4g.micro", "db.t3.small",
    )  # fmt: skip
    assert (envs["dev"].multi_az, envs["staging"].multi_az, envs["prod"].multi_az) == (
        False,
        False,
        True,
    )
    assert (envs["dev"].backup_retention_days, envs["prod"].backup_retention_days) == (1, 35)
    assert envs["prod"].proxy and not envs["dev"].proxy
    assert envs["dev"].insights_mode is Insights.OFF  # db.t4g.micro cannot have it
    assert envs["staging"].insights_mode is Insights.OFF  # nor db.t3.small
    assert envs["prod"].insights_mode is Insights.STANDARD
    assert all(db.engine_version == ENGINE_VERSION for db in envs.values())


def test_max_connections_follows_rds_formula():
    db = define("qa", Kind.DEVELOPMENT, **BASE).database
    assert db.max_connections == int(1 * 2**30 * 0.9) // 12_582_880 == 76
    db = define("qa", Kind.STAGING, **BASE).database
    assert db.max_connections == int(2 * 2**30 * 0.9) // 12_582_880 == 153


def test_a_class_too_small_for_the_apps_connections_is_refused():
    # 76 connections: 6 tasks x 10 + 10 fit, 7 x 10 + 10 do not
    assert define("qa", Kind.DEVELOPMENT, **BASE, max_app_tasks=6)
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **BASE, max_app_tasks=7)
    assert [p.field for p in raised.value.problems] == ["database.instance_class"]
    assert "about 76 connections" in str(raised.value) and "need 80" in str(raised.value)


def test_a_dict_changes_some_fields_of_the_kinds_default():
    db = define(
        "qa", Kind.PRODUCTION, **BASE, database={"proxy": False, "insights": "advanced"}
    ).database
    assert (db.proxy, db.insights, db.multi_az, db.instance_class) == (
        False,
        Insights.ADVANCED,
        True,
        "db.m7g.large",
    )


def test_every_supported_class_is_one_cfn_lint_accepts_for_mysql_84():
    data = resources.files("cfnlint.data.schemas.extensions.aws_rds_dbinstance")
    rules = json.loads((data / "db_instance_class.json").read_text())["allOf"]
    (allowed,) = [
        set(rule["then"]["properties"]["DBInstanceClass"]["enum"])
        for rule in rules
        if rule["if"]["properties"].get("Engine", {}).get("const") == "mysql"
        and rule["if"]["properties"]
        .get("EngineVersion", {})
        .get("pattern", "")
        .startswith("^(8\\.4")
    ]
    assert set(CLASS_MEMORY_GIB) <= allowed
    assert NO_INSIGHTS_CLASSES & set(CLASS_MEMORY_GIB) == {
        "db.t4g.micro", "db.t3.small", "db.t4g.small",
    }  # fmt: skip


def test_pinned_version_is_current_in_cfn_lint_and_deprecated_ones_are_not():
    assert ENGINE_VERSION in known_engine_versions()
    assert "8.4.3" not in known_engine_versions()  # deprecated in cfn-lint's data


BAD = {
    "insights on db.t3.small": ({"insights": "standard"}, "insights", "does not support Database Insights"),
    "unknown insights mode": ({"insights": "full"}, "insights", "use one of: off, standard, advanced"),
    "unknown class": ({"instance_class": "db.x9.huge"}, "instance_class", "db.t3.small, db.t3.medium"),
    "backup overlaps maintenance": (
        {"backup_window": "04:10-04:40"}, "maintenance_window", "overlaps the backup window"),
    "backup crossing midnight overlaps": (
        {"backup_window": "23:50-00:20", "maintenance_window": "mon:00:00-mon:00:30"},
        "maintenance_window", "overlaps"),
    "short backup window": ({"backup_window": "03:00-03:10"}, "backup_window", "30 minutes"),
    "malformed backup window": ({"backup_window": "3am"}, "backup_window", "hh:mm-hh:mm"),
    "malformed maintenance window": (
        {"maintenance_window": "sunday 4:00"}, "maintenance_window", "ddd:hh:mm"),
    "retention out of range": ({"backup_retention_days": 36}, "backup_retention_days", "1-35"),
    "retention zero": ({"backup_retention_days": 0}, "backup_retention_days", "turn off backups"),
    "unknown engine version": ({"engine_version": "8.4.99"}, "engine_version", "8.4.11"),
    "deprecated engine version": ({"engine_version": "8.4.3"}, "engine_version", "not a current MySQL 8.4"),
    "autoscaling ceiling too low": (
        {"max_allocated_storage_gib": 21}, "max_allocated_storage_gib", "10% above"),
    "storage below gp3 minimum": ({"allocated_storage_gib": 10}, "allocated_storage_gib", "gp3"),
    "log retention CloudWatch refuses": ({"log_retention_days": 10}, "log_retention_days", "14"),
    "slow query threshold zero": ({"slow_query_seconds": 0}, "slow_query_seconds", "above 0"),
    "bad snapshot id": ({"restore_snapshot": "my snapshot!"}, "restore_snapshot", "snapshot identifier"),
    "rotation too rare": ({"rotation_days": 400}, "rotation_days", "1-365"),
    "copy without a plan": ({"backup_copy_region": "us-west-2"}, "backup_copy_region", "backup_plan=True"),
    "copy to the same region": (
        {"backup_plan": True, "backup_copy_region": "us-east-1"}, "backup_copy_region", "another"),
    "copy to an unknown region": (
        {"backup_plan": True, "backup_copy_region": "mars-1"}, "backup_copy_region", "us-west-2"),
    "wrong type": ({"multi_az": "yes"}, "multi_az", "expected bool, got str 'yes'"),
    "unknown field": ({"iops": 3000}, "iops", "unknown field; valid fields"),
}  # fmt: skip


@pytest.mark.parametrize("change, field, fix", BAD.values(), ids=BAD.keys())
def test_bad_database_input_names_the_field_and_the_fix(change, field, fix):
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **BASE, database=change)
    prefix = f"field 'database.{field}':"
    named = [str(p) for p in raised.value.problems if prefix in str(p)]
    assert named, [str(p) for p in raised.value.problems]
    assert fix in named[0]


def test_production_must_stay_multi_az_and_keep_a_week_of_backups():
    with pytest.raises(ConfigError) as raised:
        define(
            "prod",
            Kind.PRODUCTION,
            **BASE,
            database={"multi_az": False, "backup_retention_days": 3},
        )
    fields = sorted(p.field for p in raised.value.problems)
    assert fields == ["database.backup_retention_days", "database.multi_az"]
