"""Shared fixtures."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from playback_infra.paths import REPO_ROOT

# The throwaway MariaDB server (`server` fixture) of tests/database and tests/importer.
pytest_plugins = ["tests.database.server"]

# --- shared by tests/stacks: parameter files and "what CloudFormation would create" ----------


@pytest.fixture(scope="session")
def parameter_files() -> dict[str, dict]:
    """Environment name -> the content of the generated parameters/<env>.json."""
    return {
        path.stem: json.loads(path.read_text())
        for path in sorted((REPO_ROOT / "parameters").glob("*.json"))
    }


@dataclass(frozen=True)
class Deployed:
    """A template as CloudFormation reads it for one set of parameter values."""

    conditions: dict[str, bool]
    resources: dict[str, dict]
    """Only the resources whose Condition holds, with every Fn::If resolved."""
    outputs: dict[str, dict]


def _evaluate_conditions(conditions: dict, parameters: dict[str, str]) -> dict[str, bool]:
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
        raise AssertionError(f"the test evaluator does not know {function}")

    def condition(name: str) -> bool:
        if name not in done:
            done[name] = value(conditions[name])
        return done[name]

    return {name: condition(name) for name in conditions}


def _choose(node, conditions: dict[str, bool]):
    """Replace every Fn::If by the branch its condition picks."""
    if isinstance(node, list):
        return [_choose(item, conditions) for item in node]
    if isinstance(node, dict):
        if list(node) == ["Fn::If"]:
            name, if_true, if_false = node["Fn::If"]
            return _choose(if_true if conditions[name] else if_false, conditions)
        return {key: _choose(item, conditions) for key, item in node.items()}
    return node


def _as_deployed(template: dict, parameters: dict[str, str]) -> Deployed:
    conditions = _evaluate_conditions(template.get("Conditions", {}), parameters)

    def live(section: dict) -> dict:
        return {
            name: _choose(item, conditions)
            for name, item in section.items()
            if "Condition" not in item or conditions[item["Condition"]]
        }

    return Deployed(conditions, live(template["Resources"]), live(template.get("Outputs", {})))


@pytest.fixture(scope="session")
def as_deployed():
    """`as_deployed(template_dict, parameter_values)` -> Deployed."""
    return _as_deployed
