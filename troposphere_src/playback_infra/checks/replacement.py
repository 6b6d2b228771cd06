"""The replacement guard: no change may silently replace or delete a stateful resource.

Compares two renderings of the deployment (the templates and parameter files at a git ref, and
the ones the code renders now) resource by resource. What AWS does with a changed property is
read from the resource provider schemas cfn-lint ships: a `createOnlyProperties` change replaces
the resource, a `conditionalCreateOnlyProperties` change may. A renamed logical ID is a deletion
plus a creation. Parameter values count too: because every cross-stack value has one name
(parts/values.py), a property that refers to a parameter whose value changed in an
environment's parameter file is changed in that environment.

A replacement or deletion of a STATEFUL resource fails `check` unless the allow-list
(`replacement-allowlist.json`) names it with a reason and an expiry date.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playback_infra.checks.cache import Cache

# Resources whose loss loses data or identity: one constant, documented in the README.
STATEFUL_TYPES = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::SecretsManager::Secret",
        "AWS::Logs::LogGroup",  # flow logs, WAF logs, database logs: audit data
        "AWS::ECR::Repository",
        "AWS::Backup::BackupVault",
    }
)
ALLOWLIST = "replacement-allowlist.json"
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9:]+)\}")


@dataclass(frozen=True)
class Change:
    """One way a resource changes between the base and now."""

    stack: str
    logical_id: str
    resource_type: str
    action: str  # "add", "delete", "replace", "may replace", "update"
    path: str = ""
    old: object = None
    new: object = None
    environment: str = ""  # set when a parameter file's value causes the change

    @property
    def destructive(self) -> bool:
        return self.resource_type in STATEFUL_TYPES and self.action in ("delete", "replace")

    def describe(self) -> str:
        where = f"{self.stack}: {self.logical_id} ({self.resource_type})"
        scope = f" in {self.environment}" if self.environment else ""
        if self.action in ("add", "delete"):
            return f"{where}: {self.action}{scope}"
        return f"{where}: {self.action}{scope}, {self.path}: {self.old!r} -> {self.new!r}"


@cache
def _schema(resource_type: str) -> dict:
    root = Path(find_spec("cfnlint").origin).parent / "data/schemas"
    providers = json.loads((root / "providers/us-east-1.json").read_text())
    if resource_type not in providers:
        return {}
    return json.loads((root / "resources" / f"{providers[resource_type]}.json").read_text())


def _paths(resource_type: str, key: str) -> list[list[str]]:
    return [p.split("/")[2:] for p in _schema(resource_type).get(key, [])]


def _at(properties: dict, path: list[str]) -> object:
    node: object = properties
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _names(value: object) -> set[str]:
    """Every parameter or resource name a value refers to."""
    if isinstance(value, dict):
        found: set[str] = set()
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= set(_SUB_NAME.findall(text)) if isinstance(text, str) else set()
                found |= _names(inner[1]) if isinstance(inner, list) else set()
            else:
                found |= _names(inner)
        return found
    if isinstance(value, list):
        return set().union(*(_names(v) for v in value)) if value else set()
    return set()


def _property_changes(stack: str, logical_id: str, old: dict, new: dict) -> list[Change]:
    resource_type = new["Type"]
    old_props, new_props = old.get("Properties", {}), new.get("Properties", {})
    changes = []
    for action, key in (
        ("replace", "createOnlyProperties"),
        ("may replace", "conditionalCreateOnlyProperties"),
    ):
        for path in _paths(resource_type, key):
            before, after = _at(old_props, path), _at(new_props, path)
            if before != after:
                changes.append(
                    Change(stack, logical_id, resource_type, action, "/".join(path), before, after)
                )
    if not changes and old_props != new_props:
        changed = sorted(
            k for k in old_props.keys() | new_props.keys() if old_props.get(k) != new_props.get(k)
        )
        changes.append(Change(stack, logical_id, resource_type, "update", ", ".join(changed)))
    return changes


def template_changes(old: dict[str, dict], new: dict[str, dict]) -> list[Change]:
    """Changes between two sets of templates (stack name -> template dict)."""
    changes: list[Change] = []
    for stack in sorted(old.keys() | new.keys()):
        before = old.get(stack, {}).get("Resources", {})
        after = new.get(stack, {}).get("Resources", {})
        for logical_id in sorted(before.keys() - after.keys()):
            changes.append(Change(stack, logical_id, before[logical_id]["Type"], "delete"))
        for logical_id in sorted(after.keys() - before.keys()):
            changes.append(Change(stack, logical_id, after[logical_id]["Type"], "add"))
        for logical_id in sorted(before.keys() & after.keys()):
            if before[logical_id]["Type"] != after[logical_id]["Type"]:
                changes.append(Change(stack, logical_id, before[logical_id]["Type"], "delete"))
                changes.append(Change(stack, logical_id, after[logical_id]["Type"], "add"))
            elif before[logical_id] != after[logical_id]:
                changes.extend(
                    _property_changes(stack, logical_id, before[logical_id], after[logical_id])
                )
    return changes


def parameter_changes(
    templates: dict[str, dict], old: dict[str, dict], new: dict[str, dict]
) -> list[Change]:
    """Changes a parameter file's new values cause (environment -> {name: value} old and new)."""
    changes: list[Change] = []
    for environment in sorted(old.keys() & new.keys()):
        changed = {k for k in old[environment].keys() | new[environment].keys()
                   if old[environment].get(k) != new[environment].get(k)}  # fmt: skip
        if not changed:
            continue
        for stack, template in sorted(templates.items()):
            for logical_id, resource in sorted(template.get("Resources", {}).items()):
                properties = resource.get("Properties", {})
                for action, key in (("replace", "createOnlyProperties"),
                                    ("may replace", "conditionalCreateOnlyProperties")):  # fmt: skip
                    for path in _paths(resource["Type"], key):
                        for name in sorted(_names(_at(properties, path)) & changed):
                            changes.append(Change(
                                stack, logical_id, resource["Type"], action, f"{'/'.join(path)} (via {name})",
                                old[environment].get(name), new[environment].get(name), environment,
                            ))  # fmt: skip
    return changes


@dataclass(frozen=True)
class Allowed:
    stack: str
    logical_id: str
    action: str
    reason: str
    expires: datetime.date


def load_allowlist(path: Path) -> tuple[list[Allowed], list[str]]:
    """The allow-list entries, and a problem for each malformed or expired one."""
    if not path.exists():
        return [], []
    entries, problems = [], []
    for index, raw in enumerate(json.loads(path.read_text())):
        try:
            entry = Allowed(raw["stack"], raw["logical_id"], raw["action"], raw["reason"].strip(),
                            datetime.date.fromisoformat(raw["expires"]))  # fmt: skip
        except (KeyError, ValueError, AttributeError, TypeError) as error:
            problems.append(
                f"{path.name} entry {index + 1}: {error!r}; give stack, logical_id, action, reason, expires (YYYY-MM-DD)"
            )
            continue
        if not entry.reason:
            problems.append(f"{path.name} entry {index + 1}: the reason is empty")
        elif entry.expires < datetime.date.today():
            problems.append(
                f"{path.name} entry {index + 1} ({entry.stack} {entry.logical_id}) expired on {entry.expires}; remove it or renew it with a reason"
            )
        else:
            entries.append(entry)
    return entries, problems


GUIDANCE = (
    "To change it safely: snapshot or export the data, create the new resource beside the old "
    "one (a new logical ID or generation), move the data and the traffic, then remove the old "
    "one in a later change; or, if the loss is intended, add an entry to replacement-allowlist.json "
    "with the stack, logical ID, action, reason and expiry."
)


def forbidden(changes: list[Change], allowed: list[Allowed]) -> list[str]:
    """A message per destructive change on a stateful resource the allow-list does not name."""
    permits = {(a.stack, a.logical_id, a.action) for a in allowed}
    return [
        f"{change.describe()}. {GUIDANCE}"
        for change in changes
        if change.destructive and (change.stack, change.logical_id, change.action) not in permits
    ]


class BaseError(Exception):
    """The base to compare with cannot be read (no git, unknown ref)."""


def _git(root: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise BaseError(f"git {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def default_base(root: Path) -> str:
    """The merge base with main (so a branch is compared with where it left main)."""
    try:
        return _git(root, "merge-base", "HEAD", "main").strip()
    except BaseError:
        return "HEAD"


def load_base(
    root: Path, ref: str, store: Cache | None = None
) -> tuple[dict[str, dict], dict[str, dict]]:
    """The templates (name -> dict) and parameter values (environment -> dict) at `ref`; from
    `store` when it holds them for that commit, this code and this cfn-lint (the parser)."""
    from importlib.metadata import version

    from playback_infra.checks.cache import key

    commit = _git(root, "rev-parse", "--verify", f"{ref}^{{commit}}").strip()
    cache_key = key(commit, version("cfn-lint"), Path(__file__).read_bytes())
    if store is not None and (stored := store.get("replacement-base", cache_key)) is not None:
        return stored["templates"], stored["parameters"]
    templates, parameters = _read_base(root, commit)
    if store is not None:
        store.put("replacement-base", cache_key, {"templates": templates, "parameters": parameters})
    return templates, parameters


def _read_base(root: Path, ref: str) -> tuple[dict[str, dict], dict[str, dict]]:
    from cfnlint.decode import decode_str

    templates, parameters = {}, {}
    for path in _git(root, "ls-tree", "--name-only", ref, "templates/", "parameters/").split():
        text = _git(root, "show", f"{ref}:{path}")
        name = Path(path).stem
        if path.startswith("templates/") and path.endswith(".yaml"):
            template, problems = decode_str(text)
            if template is None:
                raise BaseError(f"{ref}:{path} does not parse: {problems}")
            templates[name] = json.loads(json.dumps(template, default=str))
        elif path.startswith("parameters/") and path.endswith(".json"):
            parameters[name] = json.loads(text)["Parameters"]
    return templates, parameters


def compare(
    root: Path,
    ref: str,
    templates: dict[str, dict],
    files: dict[str, str],
    store: Cache | None = None,
) -> list[Change]:
    """Every change from `ref` to what the code renders now (templates and parameter files);
    the base's rendering from `store` when it has it."""
    old_templates, old_parameters = load_base(root, ref, store)
    new_parameters = {
        Path(path).stem: json.loads(content)["Parameters"]
        for path, content in files.items()
        if path.startswith("parameters/") and path.count("/") == 1  # the environments' roots
    }
    return template_changes(old_templates, templates) + parameter_changes(
        templates, old_parameters, new_parameters
    )
