"""The committed catalog's contract subject, and copies of it with one template changed."""

from __future__ import annotations

import copy
from collections.abc import Callable

from playback_infra.checks.contracts import Subject, subject
from tests.checks.helpers import rendered


def committed() -> Subject:
    """The subject `playback-infra check` reads for the committed code."""
    now = rendered()
    return subject(now.dicts, now.files, now.environments)


def violating(template: str, change: Callable[[dict], object]) -> Subject:
    """The committed subject with `change` applied to a deep copy of one template."""
    now = rendered()
    changed = copy.deepcopy(now.dicts)
    change(changed[template])
    return subject(changed, now.files, now.environments)
