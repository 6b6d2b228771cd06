"""A template as CloudFormation would deploy it for one set of parameter values.

Evaluates `Conditions` (Ref to a parameter, Condition, Fn::Equals, Fn::Not, Fn::And, Fn::Or),
keeps only the resources and outputs whose condition holds, and replaces every `Fn::If` by the
branch its condition picks. Used by `deployed_environment.py` (a whole environment) and the
stack tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Deployed:
    """A template as CloudFormation reads it for one set of parameter values."""

    conditions: dict[str, bool]
    resources: dict[str, dict]
    """Only the resources whose Condition holds, with every Fn::If resolved."""
    outputs: dict[str, dict]


class UnsupportedFunction(ValueError):
    """A condition uses a function this evaluator does not know."""


def evaluate_conditions(conditions: dict, parameters: Mapping[str, str]) -> dict[str, bool]:
    """Every condition of a template, by name, for these parameter values."""
    done: dict[str, bool] = {}

    def value(node):
        if not isinstance(node, dict):
            return node
        [(function, argument)] = node.items()
        match function:
            case "Ref":
                return parameters[argument]
            case "Condition":
                return condition(argument)
            case "Fn::Equals":
                return value(argument[0]) == value(argument[1])
            case "Fn::Not":
                return not value(argument[0])
            case "Fn::And":
                return all(value(a) for a in argument)
            case "Fn::Or":
                return any(value(a) for a in argument)
        raise UnsupportedFunction(f"the condition evaluator does not know {function}")

    def condition(name: str) -> bool:
        if name not in done:
            done[name] = value(conditions[name])
        return done[name]

    return {name: condition(name) for name in conditions}


def choose(node, conditions: Mapping[str, bool]):
    """Replace every Fn::If by the branch its condition picks."""
    if isinstance(node, list):
        return [choose(item, conditions) for item in node]
    if isinstance(node, dict):
        if list(node) == ["Fn::If"]:
            name, if_true, if_false = node["Fn::If"]
            return choose(if_true if conditions[name] else if_false, conditions)
        return {key: choose(item, conditions) for key, item in node.items()}
    return node


def as_deployed(template: dict, parameters: Mapping[str, str]) -> Deployed:
    """`template` (a dict) with its conditions applied for `parameters`."""
    return _applied(template, evaluate_conditions(template.get("Conditions", {}), parameters))


def _applied(template: dict, conditions: dict[str, bool], fixed: frozenset[str] = frozenset()):
    """`fixed`: names of resources and outputs without an Fn::If, kept as they are."""

    def live(section: dict) -> dict:
        return {
            name: item if name in fixed else choose(item, conditions)
            for name, item in section.items()
            if "Condition" not in item or conditions[item["Condition"]]
        }

    return Deployed(conditions, live(template["Resources"]), live(template.get("Outputs", {})))


def _has_if(node) -> bool:
    if isinstance(node, list):
        return any(_has_if(item) for item in node)
    if isinstance(node, dict):
        return "Fn::If" in node or any(_has_if(item) for item in node.values())
    return False


@dataclass
class Deployer:
    """`as_deployed` for templates by name, keeping each result for the condition values it was
    made for (a deployed template depends on nothing else). The cost document deploys the same
    templates for 40 sets of parameter values, most of them with the same conditions.

    Its results are read-only: a resource or output without an Fn::If is the template's own."""

    templates: Mapping[str, dict]
    _made: dict[tuple[str, tuple[bool, ...]], Deployed] = field(default_factory=dict)
    _fixed: dict[str, frozenset[str]] = field(default_factory=dict)

    def __call__(self, name: str, parameters: Mapping[str, str]) -> Deployed:
        template = self.templates[name]
        conditions = evaluate_conditions(template.get("Conditions", {}), parameters)
        key = (name, tuple(conditions.values()))
        if key not in self._made:
            if name not in self._fixed:
                self._fixed[name] = frozenset(
                    item_name
                    for section in ("Resources", "Outputs")
                    for item_name, item in template.get(section, {}).items()
                    if not _has_if(item)
                )
            self._made[key] = _applied(template, conditions, self._fixed[name])
        return self._made[key]
