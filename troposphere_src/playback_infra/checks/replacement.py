"""The replacement guard: every change a deployment makes, and no silent loss of a stateful
resource.

Two renderings of the deployment (templates and parameter files at a base, and now) are
resolved per environment (checks/resolved.py: the root with the environment's parameter file,
each nested stack with the parameters the root passes it, conditions applied) and compared
resource by resource, so a change made only by a parameter file shows on the resources it
reaches, through Ref, Fn::Sub, Fn::If and into nested stacks. A resource a condition switches
off is deleted. What AWS does with a changed property is read from the resource provider
schemas cfn-lint ships: a `createOnlyProperties` change replaces the resource; a
`conditionalCreateOnlyProperties` change is decided by checks/conditional_replacement.py from
the old and new values, and stays "may replace" where no row decides it. A renamed logical ID
is a deletion plus a creation.

Deleting, replacing or leaving undecided a STATEFUL resource, or an update AWS refuses
("fails"), is refused unless the allow-list (`replacement-allowlist.json`) names it with a
reason and an expiry date.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from playback_infra.checks import blue_green, conditional_replacement, resolved
from playback_infra.deployed_environment import nested_templates

# Resources whose loss loses data or identity: one constant, documented in docs/checks.md.
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
ADD, DELETE, UPDATE, REPLACE, UNDECIDED = "add", "delete", "update", "replace", "may replace"
FAILS = conditional_replacement.FAILS
SEVERITY = (UPDATE, UNDECIDED, FAILS, REPLACE)
REFUSED_ACTIONS = frozenset({DELETE, REPLACE, UNDECIDED, FAILS})
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9:]+)\}")


@dataclass(frozen=True)
class PropertyChange:
    """One changed value of a resource: a property (path into it) or a deletion policy."""

    path: str
    old: object = None  # None: not set
    new: object = None
    action: str = UPDATE
    why: str = ""
    doc: str = ""


@dataclass(frozen=True)
class Change:
    """What happens to one resource of one stack in one environment."""

    stack: str
    logical_id: str
    resource_type: str
    action: str  # add, delete, update, may replace, fails, replace
    properties: tuple[PropertyChange, ...] = ()
    environment: str = ""
    why: str = ""

    @property
    def refused(self) -> bool:
        return self.resource_type in STATEFUL_TYPES and self.action in REFUSED_ACTIONS

    @property
    def resource(self) -> str:
        return f"{self.stack}: {self.logical_id} ({self.resource_type})"

    def describe(self) -> str:
        where = f"{self.environment} " if self.environment else ""
        details = [self.why] if self.why else []
        details += [describe_property(p) for p in self.properties if p.action == self.action]
        return f"{where}{self.resource}: {self.action}" + "".join(f", {d}" for d in details)


def describe_property(item: PropertyChange, limit: int = 0) -> str:
    """`path: old -> new (why)`; the path alone where the values are not known (AWS's change
    sets name the property only). With a `limit`, long values are cut to the same window
    around their first difference."""
    if (item.old, item.new) == (None, None):
        return item.path + (f" ({item.why})" if item.why else "")
    old, new = value(item.old), value(item.new)
    if limit and max(len(old), len(new)) > limit:
        first = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), 0)
        start = max(0, min(first - limit // 4, max(len(old), len(new)) - limit))
        old, new = (_window(text, start, limit) for text in (old, new))
    return f"{item.path}: {old} -> {new}" + (f" ({item.why})" if item.why else "")


def _window(text: str, start: int, limit: int) -> str:
    shown = text[start : start + limit]
    return ("…" if start else "") + shown + ("…" if start + limit < len(text) else "")


def value(item: object) -> str:
    """A value as the diff prints it: JSON, `(none)` when not set."""
    return "(none)" if item is None else json.dumps(item, sort_keys=True, separators=(", ", ": "))


@cache
def _schema(resource_type: str) -> dict:
    root = Path(find_spec("cfnlint").origin).parent / "data/schemas"
    providers = json.loads((root / "providers/us-east-1.json").read_text())
    if resource_type not in providers:
        return {}
    return json.loads((root / "resources" / f"{providers[resource_type]}.json").read_text())


def schema_paths(resource_type: str, key: str) -> list[tuple[str, ...]]:
    """A schema's property paths (`/properties/A/*/B` -> ("A", "*", "B"))."""
    return [tuple(p.split("/")[2:]) for p in _schema(resource_type).get(key, [])]


def _names(node: object) -> set[str]:
    """Every parameter, resource or condition name a value refers to (Ref, Fn::Sub, Fn::If)."""
    if isinstance(node, dict):
        found: set[str] = set()
        for key, inner in node.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= set(_SUB_NAME.findall(text)) if isinstance(text, str) else set()
                found |= _names(inner[1]) if isinstance(inner, list) else set()
            elif key == "Fn::If" and isinstance(inner, list) and inner:
                found |= {f"condition {inner[0]}"} | _names(inner[1:])
            else:
                found |= _names(inner)
        return found
    if isinstance(node, list):
        return set().union(*(_names(v) for v in node)) if node else set()
    return set()


def _intrinsic(node: object) -> bool:
    return (
        isinstance(node, dict) and len(node) == 1 and next(iter(node)).startswith(("Fn::", "Ref"))
    )


def _keyed(items: list) -> dict[str, object] | None:
    """A list of {"Key"|"Name"|"Sid": ...} items (tags, environment variables, policy
    statements) by that key."""
    for key in ("Key", "Name", "Sid"):
        if items and all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items):
            by_key = {i[key]: i for i in items}
            if len(by_key) == len(items):
                return by_key
    return None


def _leaves(
    old: object, new: object, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], object, object]]:
    """The smallest differing parts of two values: (path, old, new); lists by position, or by
    their items' Key, Name or Sid."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict) and not (_intrinsic(old) or _intrinsic(new)):
        return [leaf for key in sorted(old.keys() | new.keys())
                for leaf in _leaves(old.get(key), new.get(key), (*path, key))]  # fmt: skip
    if isinstance(old, list) and isinstance(new, list):
        keyed_old, keyed_new = _keyed(old), _keyed(new)
        if keyed_old is not None and keyed_new is not None:
            keys = [*keyed_old, *(k for k in keyed_new if k not in keyed_old)]
            return [leaf for key in keys
                    for leaf in _leaves(keyed_old.get(key), keyed_new.get(key), (*path, f"[{key}]"))]  # fmt: skip
        if len(old) == len(new):
            return [leaf for index, (a, b) in enumerate(zip(old, new, strict=True))
                    for leaf in _leaves(a, b, (*path, f"[{index}]"))]  # fmt: skip
    return [(path, old, new)]


def _shown(path: tuple[str, ...]) -> str:
    return "".join(part if part.startswith("[") or index == 0 else f".{part}"
                   for index, part in enumerate(path))  # fmt: skip


def _under(path: tuple[str, ...], schema_path: tuple[str, ...]) -> bool:
    """Whether a changed value's path and a schema path overlap (`*` is any list item)."""
    return all(
        (s == "*" and p.startswith("[")) or s == p for p, s in zip(path, schema_path, strict=False)
    )


def _classify(
    resource_type: str, old: dict, new: dict
) -> list[tuple[tuple[str, ...], str, str, str]]:
    """For each changed value of the properties: (path, action, why, doc)."""
    create_only = schema_paths(resource_type, "createOnlyProperties")
    decided = schema_paths(resource_type, "conditionalCreateOnlyProperties")
    decided += [(row.path,) for row in conditional_replacement.ROWS
                if row.resource_type == resource_type and (row.path,) not in decided]  # fmt: skip
    found = []
    for path, _, _ in _leaves(old, new):
        if any(_under(path, p) for p in create_only):
            found.append((path, REPLACE, "", ""))
            continue
        conditional = next((p for p in decided if _under(path, p)), None)
        row = conditional and conditional_replacement.row(resource_type, "/".join(conditional))
        decision = row.decide(old, new) if row else None
        if conditional is None:
            found.append((path, UPDATE, "", ""))
        elif decision is None:
            found.append(
                (
                    path,
                    UNDECIDED,
                    "AWS decides from the values; no row of checks/conditional_replacement.py says how",
                    "",
                )
            )
        else:
            found.append((path, decision.action, decision.why, row.doc))
    return found


def _condition_parameters(conditions: dict, name: str) -> set[str]:
    """The parameters a condition reads, through the conditions it names."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, inner in node.items():
                if key == "Condition" and isinstance(inner, str):
                    walk(conditions.get(inner))
                elif key == "Ref" and isinstance(inner, str):
                    found.add(inner)
                else:
                    walk(inner)
        elif isinstance(node, list):
            for inner in node:
                walk(inner)

    walk(conditions.get(name))
    return found


def _changed(old: resolved.Stack, new: resolved.Stack) -> set[str]:
    """The parameters whose value differs between two resolutions of a stack."""
    return {
        name
        for name in old.parameters.keys() | new.parameters.keys()
        if old.parameters.get(name) != new.parameters.get(name)
    }


def _condition(old: resolved.Stack, new: resolved.Stack, name: str) -> str:
    """`condition Name (the changed parameters it reads)`."""
    conditions = new.template.get("Conditions", {})
    read = sorted(_condition_parameters(conditions, name) & _changed(old, new))
    return f"condition {name}" + (f" ({', '.join(read)})" if read else "")


def _via(old: resolved.Stack, new: resolved.Stack, logical_id: str, key: str) -> str:
    """The changed parameters and conditions a property (or attribute) the template did not
    change reads: why it changed."""
    old_raw, new_raw = old.template["Resources"][logical_id], new.template["Resources"][logical_id]
    before = old_raw.get("Properties", {}).get(key, old_raw.get(key))
    after = new_raw.get("Properties", {}).get(key, new_raw.get(key))
    if before != after:
        return ""
    changed, found = _changed(old, new), []
    for name in sorted(_names(after)):
        condition = name.removeprefix("condition ")
        if name in changed:
            found.append(name)
        elif condition != name and old.conditions.get(condition) != new.conditions.get(condition):
            found.append(_condition(old, new, condition))
    return f"via {', '.join(found)}" if found else ""


def _resource_change(
    stack: str, logical_id: str, old: resolved.Stack, new: resolved.Stack, environment: str
) -> Change | None:
    before, after = old.resources[logical_id], new.resources[logical_id]
    if before == after:
        return None
    leaves = {path: (a, b) for path, a, b in _leaves(before["Properties"], after["Properties"])}
    properties = [
        PropertyChange(_shown(path), *leaves[path], action,
                       why or _via(old, new, logical_id, path[0]), doc)
        for path, action, why, doc in _classify(after["Type"], before["Properties"], after["Properties"])
    ]  # fmt: skip
    for attribute in resolved.KEPT_ATTRIBUTES:
        if before.get(attribute) != after.get(attribute):
            properties.append(PropertyChange(attribute, before.get(attribute), after.get(attribute), UPDATE,
                                             _via(old, new, logical_id, attribute)))  # fmt: skip
    action = max((p.action for p in properties), key=SEVERITY.index)
    return Change(stack, logical_id, after["Type"], action, tuple(properties), environment)


def _presence_why(
    name: str, logical_id: str, old: resolved.Stack | None, new: resolved.Stack | None
) -> str:
    """Why a resource was added or deleted when the template did not do it: its stack came
    or went, or a condition both templates give it changed its value."""
    if old is None or new is None:
        return f"stack {name} {'added' if old is None else 'removed'}"
    conditions = {
        s.template.get("Resources", {}).get(logical_id, {}).get("Condition") for s in (old, new)
    }
    if len(conditions) != 1 or None in conditions:
        return ""
    (condition,) = conditions
    values = f"{str(old.conditions[condition]).lower()} -> {str(new.conditions[condition]).lower()}"
    return f"{_condition(old, new, condition)}: {values}"


def compare(
    old: Mapping[str, resolved.Stack], new: Mapping[str, resolved.Stack], environment: str = ""
) -> list[Change]:
    """Every resource change from the stacks `old` to `new` (template name -> Stack). A nested
    stack whose template is compared too is not reported itself: its resources are."""
    changes: list[Change] = []
    for name in [*old, *(n for n in new if n not in old)]:
        before, after = old.get(name), new.get(name)
        was = before.resources if before else {}
        now = after.resources if after else {}
        for logical_id in [*was, *(i for i in now if i not in was)]:
            a, b = was.get(logical_id), now.get(logical_id)
            if (a or b)["Type"] == resolved.STACK and _nests_compared(name, logical_id, old, new):
                continue
            retyped = a is not None and b is not None and a["Type"] != b["Type"]
            if a is not None and (b is None or retyped):
                why = _presence_why(name, logical_id, before, after)
                changes.append(Change(name, logical_id, a["Type"], DELETE, (), environment, why))
            if b is not None and (a is None or retyped):
                why = _presence_why(name, logical_id, before, after)
                changes.append(Change(name, logical_id, b["Type"], ADD, (), environment, why))
            elif a is not None and b is not None:
                change = _resource_change(name, logical_id, before, after, environment)
                changes += [change] if change else []
    return changes


def _nests_compared(name: str, logical_id: str, old: Mapping, new: Mapping) -> bool:
    """Whether `logical_id` of an environment's root nests a template whose resources are
    compared (the root is the one stack of an environment that nests others)."""
    return name == "root" and any(
        name in stacks and nested_templates(stacks[name].template).get(logical_id) in stacks
        for stacks in (old, new)
    )


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


GUIDANCE = {
    DELETE: "To change it safely: snapshot or export the data, create the new resource beside "
    "the old one (a new logical ID or generation), move the data and the traffic, then remove "
    "the old one in a later change",
    FAILS: "AWS refuses this update and rolls the stack back: make the change the way the AWS "
    "page says",
    UNDECIDED: "AWS decides from the values whether it replaces the resource: add a row to "
    "checks/conditional_replacement.py that says what AWS does, citing its page",
}
GUIDANCE[REPLACE] = GUIDANCE[DELETE]


def _entry(change: Change) -> str:
    return json.dumps({"stack": change.stack, "logical_id": change.logical_id, "action": change.action,
                       "reason": "why it is intended", "expires": "YYYY-MM-DD"})  # fmt: skip


def refusals(
    root: Path,
    changes: Iterable[Change],
    templates: Mapping[str, dict],
    strategies: Mapping[str, str],
) -> list[str]:
    """What `check`, `diff` and `plan` refuse of `changes`: the allow-list's own problems, then
    each refused change it does not name (`strategies`, environment -> DeploymentStrategy, say
    whose listener rules in `templates` ECS manages: blue_green.managed)."""
    allowlist = root / ALLOWLIST
    allowed, problems = load_allowlist(allowlist)
    managed = blue_green.managed(templates, strategies)
    return problems + forbidden(changes, allowed, allowlist, managed)


def forbidden(
    changes: Iterable[Change],
    allowed: list[Allowed],
    allowlist: Path = Path(ALLOWLIST),
    managed: frozenset[tuple[str, str, str]] = frozenset(),
) -> list[str]:
    """A message per refused change the allow-list does not name, saying how to proceed and
    where and how to allow it. `managed` (checks/blue_green.py) names the listener rules ECS
    moves between target groups, by environment: any change to one but its creation is refused."""
    permits = {(a.stack, a.logical_id, a.action) for a in allowed}
    messages = []
    for change in changes:
        if (change.stack, change.logical_id, change.action) in permits:
            continue
        if change.refused:
            docs = sorted({p.doc for p in change.properties if p.doc and p.action == change.action})
            guidance = "".join(f" AWS: {d}." for d in docs) + f" {GUIDANCE[change.action]}"
        elif change.action != ADD and (
            (change.environment, change.stack, change.logical_id) in managed
        ):
            guidance = f" {blue_green.GUIDANCE}"
        else:
            continue
        messages.append(
            f"{change.describe()}.{guidance}; "
            f"or, if it is intended, add to the JSON list in {allowlist}: {_entry(change)}"
        )
    return list(dict.fromkeys(messages))
