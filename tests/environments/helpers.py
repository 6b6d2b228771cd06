"""What the environment model tests share: a valid environment's inputs, and the check that a
bad input of one section is refused with exactly one problem that names its field."""

from __future__ import annotations

import pytest

from playback_infra.environments.model import ConfigError, Kind, Tags, define

ENVIRONMENT = {  # every input but the ingress, database, app and features sections
    "account_id": "123456789012",
    "region": "us-east-1",
    "vpc_cidr": "10.30.0.0/16",
    "tags": Tags(cost_center="cc-42", owner="platform-team"),
    "alarm_email": "alerts@example.com",
    "site_domain": "test.playback.example.com",
    "api_domain": "api.test.playback.example.com",
    "web": {"hosted_zone_id": "Z0TESTZONE"},
}
BASE = {"ingress": {"hosted_zone_id": "Z0TESTZONE"}, **ENVIRONMENT}


def refused_once(section: str, change, field: str, name: str = "qa", kind: Kind = Kind.DEVELOPMENT):
    """Define an environment whose `section` is `change`: it must be refused with exactly one
    problem, on `section.field` (the one format of every field, a wrong type or an unknown field
    included), which the message names. Returns (problem, error)."""
    with pytest.raises(ConfigError) as raised:
        define(name, kind, **{**BASE, section: change})
    path = f"{section}.{field}"
    problems = raised.value.problems
    assert [p.field for p in problems] == [path]
    assert f"field '{path}':" in str(problems[0])
    return problems[0], raised.value
