"""The committed catalog's contract subject, and copies of it with one template changed."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable

from playback_infra.checks.contracts import Subject, subject
from playback_infra.synth import render


@functools.cache
def _rendered():
    rendered = render()
    return {n: t.to_dict() for n, t in rendered.templates.items()}, rendered


def committed() -> Subject:
    """The subject `playback-infra check` reads for the committed code."""
    templates, rendered = _rendered()
    return subject(templates, rendered.files, rendered.environments)


def violating(template: str, change: Callable[[dict], object]) -> Subject:
    """The committed subject with `change` applied to a deep copy of one template."""
    templates, rendered = _rendered()
    changed = copy.deepcopy(templates)
    change(changed[template])
    return subject(changed, rendered.files, rendered.environments)
