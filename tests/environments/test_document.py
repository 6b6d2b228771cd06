"""docs/environments.md (environments/document.py): every field of every environment."""

from __future__ import annotations

import dataclasses
import typing

from playback_infra.environments.catalog import environments
from playback_infra.environments.document import environment_reference
from playback_infra.environments.model import Environment, Kind, Tags, define


def _row(text: str, field: str) -> list[str]:
    (line,) = [line for line in text.splitlines() if line.startswith(f"| `{field}` |")]
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def _fields(cls: type, prefix: str = "") -> list[str]:
    """The model's fields in declaration order, a section's as `section.field`."""
    hints = typing.get_type_hints(cls)
    names = []
    for field in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[field.name]):
            names += _fields(hints[field.name], f"{prefix}{field.name}.")
        else:
            names.append(f"{prefix}{field.name}")
    return names


def test_every_field_of_the_model_is_a_row_with_each_environments_value():
    text = environment_reference(environments())
    rows = [line.split(" | ")[0].strip("| `") for line in text.splitlines()[10:]]
    assert rows == _fields(Environment)
    assert _row(text, "database.instance_class")[:4] == [
        "`database.instance_class`", "`db.t4g.micro`", "`db.t3.small`", "`db.m7g.large`",
    ]  # fmt: skip
    assert _row(text, "interface_endpoints")[1] == "`rds, secretsmanager`"


def test_a_fields_docstring_is_its_description_and_a_changed_field_shows():
    qa = define(
        "qa",
        Kind.STAGING,
        account_id="444455556666",
        region="us-east-1",
        vpc_cidr="10.30.0.0/16",
        tags=Tags(cost_center="c", owner="o"),
        alarm_email="qa@example.com",
        site_domain="qa.example.com",
        api_domain="api.qa.example.com",
        ingress={"hosted_zone_id": "Z0QA"},
        web={"hosted_zone_id": "Z0QA"},
        app={"min_tasks": 4, "desired_tasks": 4},
    )
    text = environment_reference([qa])
    assert _row(text, "app.min_tasks")[1] == "`4`"
    assert _row(text, "database.multi_az")[2] == (
        "A standby in a second AZ; required in production."
    )
    assert _row(text, "kind")[2] == ""  # no docstring: an empty cell
