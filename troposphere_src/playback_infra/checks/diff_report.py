"""`playback-infra diff`'s output: a summary line per group (environment), then each changed
resource with its changed values; or the same as JSON for scripts."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, replace

from playback_infra.checks.base import Base, Section
from playback_infra.checks.groups import TEMPLATES
from playback_infra.checks.replacement import (
    ADD,
    DELETE,
    SEVERITY,
    UPDATE,
    Change,
    describe_property,
)

LABELS = {TEMPLATES: "stacks without a parameter file"}
ORDER = (ADD, *SEVERITY, DELETE)
VALUE_WIDTH = 70


def label(group: str) -> str:
    return LABELS.get(group, group)


def summary(changes: list[Change]) -> str:
    """`2 add, 1 update, 1 replace (1 refused)`, or `no changes`."""
    if not changes:
        return "no changes"
    counts = Counter(change.action for change in changes)
    text = ", ".join(f"{counts[action]} {action}" for action in ORDER if counts[action])
    refused = sum(change.refused for change in changes)
    return text + (f" ({refused} refused)" if refused else "")


def _resource(change: Change) -> list[str]:
    marker = "!!" if change.refused else "  "
    why = f" ({change.why})" if change.why else ""
    lines = [f"{marker} {change.resource}: {change.action}{why}"]
    for item in change.properties:
        said = (
            item.why
            if item.action == UPDATE
            else f"{item.action}: {item.why}"
            if item.why
            else item.action
        )
        lines.append(f"     {describe_property(replace(item, why=said), VALUE_WIDTH)}")
    return lines


def text(common: Base, found: list[Section]) -> str:
    """The summary lines (a group's own base where it is not the common one), then each
    group's changed resources."""
    lines = [f"base {common.describe()}"]
    for section in found:
        own = f", since {section.base.describe()}" if section.base != common else ""
        lines.append(f"{label(section.group)}: {summary(section.changes)}{own}")
    for section in found:
        if section.changes:
            lines += ["", label(section.group)]
            for change in section.changes:
                lines += _resource(change)
    return "\n".join(lines)


def as_json(common: Base, found: list[Section], refused: list[str]) -> str:
    def change(item: Change) -> dict:
        described = asdict(item)
        described.pop("environment")
        return {**described, "refused": item.refused}

    return json.dumps(
        {
            "base": asdict(common),
            "groups": [
                {"name": section.group, "base": asdict(section.base),
                 "summary": dict(Counter(c.action for c in section.changes)),
                 "changes": [change(c) for c in section.changes]}
                for section in found
            ],
            "refused": refused,
        },
        indent=2,
    )  # fmt: skip
