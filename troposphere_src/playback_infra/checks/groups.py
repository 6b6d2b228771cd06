"""What `diff` and the replacement guard compare: a rendering of the deployment (its
templates and parameter files) in groups. Each environment is resolved as deployed
(checks/resolved.py: its root and nested stacks with its parameter file, its edge-global stack
with its own); the delivery stacks with theirs; every other template as written (TEMPLATES).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from playback_infra.checks import resolved
from playback_infra.checks.replacement import Change, compare

TEMPLATES = "templates"
DELIVERY = "delivery"
EDGE = "edge-global"


def as_written(templates: Mapping[str, dict]) -> dict[str, resolved.Stack]:
    """Templates compared as written (no parameter values): their resources unresolved."""
    return {name: resolved.Stack(t, {}, {}, {lid: {"Type": r["Type"], "Properties": r.get("Properties", {}),
                                                   **{k: r[k] for k in resolved.KEPT_ATTRIBUTES if k in r}}
                                             for lid, r in t.get("Resources", {}).items()})
            for name, t in templates.items()}  # fmt: skip


@dataclass(frozen=True)
class Rendering:
    """The deployment's generated files, as dicts."""

    templates: dict[str, dict]
    """Template name (`network`) -> template."""
    parameters: dict[str, dict[str, object]]
    """Parameter file (`dev`, `edge-global/dev`, `delivery/pipeline`) -> its Parameters."""
    environments: tuple[str, ...]
    """The environments (parameter files at the top), in the order to report them."""


def rendering(
    templates: Mapping[str, dict], files: Mapping[str, str], order: Iterable[str] = ()
) -> Rendering:
    """A Rendering from template dicts and the generated files (`parameters/...json`); the
    environments in `order`, then any other."""
    parameters = {
        path.removeprefix("parameters/").removesuffix(".json"): json.loads(content)["Parameters"]
        for path, content in files.items()
        if path.startswith("parameters/") and path.endswith(".json")
    }
    found = [name for name in parameters if "/" not in name]
    ordered = [name for name in order if name in found]
    return Rendering(
        dict(templates), parameters, (*ordered, *(n for n in found if n not in ordered))
    )


def groups(of: Rendering, nested: Iterable[str] = ()) -> dict[str, dict[str, resolved.Stack]]:
    """Each environment's stacks resolved (its root and nested stacks, its edge-global stack),
    the delivery stacks with their parameter files, and every other template as written
    (TEMPLATES); `nested` names more templates to leave out of TEMPLATES."""
    found: dict[str, dict[str, resolved.Stack]] = {}
    used = set(nested)
    for env in of.environments:
        stacks = (
            resolved.deployment(of.templates, of.parameters[env]) if "root" in of.templates else {}
        )
        if EDGE in of.templates and f"{EDGE}/{env}" in of.parameters:
            stacks[EDGE] = resolved.stack(of.templates[EDGE], of.parameters[f"{EDGE}/{env}"])
        found[env] = stacks
        used |= set(stacks)
    delivery = {name.removeprefix(f"{DELIVERY}/"): values for name, values in of.parameters.items()
                if name.startswith(f"{DELIVERY}/") and name.removeprefix(f"{DELIVERY}/") in of.templates}  # fmt: skip
    found[DELIVERY] = {
        name: resolved.stack(of.templates[name], values) for name, values in delivery.items()
    }
    used |= set(delivery)
    found[TEMPLATES] = as_written({n: t for n, t in of.templates.items() if n not in used})
    return found


def group_changes(old: Rendering, new: Rendering, group: str) -> list[Change]:
    """The changes of one group (an environment, DELIVERY or TEMPLATES) from `old` to `new`.
    A template that an environment or the delivery group deploys on either side is theirs."""
    used = {
        name
        for of in (old, new)
        for g, stacks in groups(of).items()
        if g != TEMPLATES
        for name in stacks
    }
    before, after = groups(old, used).get(group, {}), groups(new, used).get(group, {})
    return compare(before, after, "" if group == TEMPLATES else group)
