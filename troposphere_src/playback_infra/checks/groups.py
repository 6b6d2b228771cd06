"""What `diff` and the replacement guard compare: a rendering of the deployment (its
templates and parameter files) in groups. Each environment is resolved as deployed
(checks/resolved.py: its root and nested stacks with its parameter file, its edge-global stack
with its own); the delivery stacks with theirs; every other template as written (TEMPLATES).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

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

    @cached_property
    def deployed(self) -> dict[str, dict[str, resolved.Stack]]:
        """Each environment's stacks resolved (its root and nested stacks, its edge-global
        stack) and the delivery stacks with their parameter files (DELIVERY), by group;
        resolved once per rendering, however many groups are compared."""
        found: dict[str, dict[str, resolved.Stack]] = {}
        for env in self.environments:
            stacks = (
                resolved.deployment(self.templates, self.parameters[env])
                if "root" in self.templates
                else {}
            )
            if EDGE in self.templates and f"{EDGE}/{env}" in self.parameters:
                stacks[EDGE] = resolved.stack(
                    self.templates[EDGE], self.parameters[f"{EDGE}/{env}"]
                )
            found[env] = stacks
        delivery = {name.removeprefix(f"{DELIVERY}/"): values for name, values in self.parameters.items()
                    if name.startswith(f"{DELIVERY}/") and name.removeprefix(f"{DELIVERY}/") in self.templates}  # fmt: skip
        found[DELIVERY] = {
            name: resolved.stack(self.templates[name], values) for name, values in delivery.items()
        }
        return found


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


def group_changes(old: Rendering, new: Rendering, group: str) -> list[Change]:
    """The changes of one group (an environment, DELIVERY or TEMPLATES) from `old` to `new`.
    A template that an environment or the delivery group deploys on either side is theirs;
    TEMPLATES holds every other template, as written."""
    if group != TEMPLATES:
        return compare(old.deployed.get(group, {}), new.deployed.get(group, {}), group)
    used = {name for of in (old, new) for stacks in of.deployed.values() for name in stacks}
    before, after = (
        as_written({n: t for n, t in of.templates.items() if n not in used}) for of in (old, new)
    )
    return compare(before, after)
