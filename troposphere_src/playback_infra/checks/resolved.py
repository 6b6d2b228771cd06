"""Every stack of a deployment as CloudFormation resolves it for one set of parameter values.

The root gets its parameter file; each nested stack gets the `Parameters` the root passes it
(a sibling's output is read from that sibling, resolved the same way). Conditions are
evaluated (deployed.py), a resource whose condition is false is not there, and properties
are resolved: Ref to a parameter, Fn::If, Fn::Sub, Fn::Join, Fn::Select, Fn::Split,
Fn::FindInMap and AWS::NoValue. What only exists once deployed (a resource's Ref or
attribute, AWS::AccountId) stays as the intrinsic function, the same on both sides of a
comparison. A resource keeps its Type, Properties and deletion policies; Metadata (suppression
reasons, linter settings) and DependsOn are left out, as nothing of the resource is made of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from playback_infra.deployed import evaluate_conditions
from playback_infra.deployed_environment import nested_templates

NO_VALUE = {"Ref": "AWS::NoValue"}
STACK = "AWS::CloudFormation::Stack"
KEPT_ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy")
_SUB = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Stack:
    """One stack as deployed for its parameter values."""

    template: dict
    parameters: dict[str, object]
    conditions: dict[str, bool]
    resources: dict[str, dict]
    """Logical ID -> Type, resolved Properties and the deletion policies, for the resources
    whose condition holds."""


class _Values(dict):
    """Parameter values; one not given stays a Ref (it is known only at deploy time)."""

    def __missing__(self, name: str) -> dict:
        return {"Ref": name}


def _typed(declared: dict, value: object) -> object:
    """A list parameter's value as the list Ref returns."""
    kind = declared.get("Type", "String")
    listed = kind == "CommaDelimitedList" or kind.startswith("List<")
    if listed and isinstance(value, str):
        return [item.strip() for item in value.split(",")] if value else []
    return value


def parameter_values(template: dict, given: Mapping[str, object]) -> dict[str, object]:
    """The template's parameters: given, else their Default, else unknown (a Ref)."""
    values = _Values()
    for name, declared in template.get("Parameters", {}).items():
        if name in given:
            values[name] = _typed(declared, given[name])
        elif "Default" in declared:
            values[name] = _typed(declared, declared["Default"])
    return values


def _substitute(text: str, names: Mapping[str, object]) -> tuple[str, bool]:
    """`text` with every ${Name} whose value is a known string replaced, and whether that
    was all of them (then `${!Literal}` becomes `${Literal}`, as CloudFormation writes it)."""
    left = [m.group(1) for m in _SUB.finditer(text) if not isinstance(names.get(m.group(1)), str)]
    complete = all(name.startswith("!") for name in left)

    def one(match: re.Match) -> str:
        name = match.group(1)
        if isinstance(value := names.get(name), str):
            return value
        return "${" + name[1:] + "}" if complete and name.startswith("!") else match.group(0)

    return _SUB.sub(one, text), complete


class _Resolver:
    def __init__(
        self, template: dict, values: Mapping[str, object], conditions: dict[str, bool], outputs
    ):
        self.values, self.conditions, self.outputs = values, conditions, outputs
        self.mappings = template.get("Mappings", {})

    def __call__(self, node):
        if isinstance(node, list):
            return [r for item in node if (r := self(item)) != NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {k: r for k, v in node.items() if (r := self(v)) != NO_VALUE}
        ((function, argument),) = node.items()
        if function == "Fn::If":
            name, if_true, if_false = argument
            return self(if_true if self.conditions[name] else if_false)
        if function == "Ref":
            return self.values.get(argument, node)
        argument = self(argument)
        resolved = self._function(function, argument)
        return {function: argument} if resolved is None else resolved

    def _function(self, function: str, argument):
        if function == "Fn::Sub":
            text, names = (argument, {}) if isinstance(argument, str) else argument
            if isinstance(text, str) and isinstance(names, dict):
                text, complete = _substitute(text, {**self.values, **names})
                if complete:
                    return text
                return {function: text if isinstance(argument, str) else [text, names]}
        elif function == "Fn::Join":
            separator, items = argument
            if isinstance(items, list) and all(isinstance(i, str) for i in items):
                return separator.join(items)
        elif function == "Fn::Select":
            index, items = argument
            if isinstance(items, list) and str(index).isdigit() and int(index) < len(items):
                return items[int(index)]
        elif function == "Fn::Split":
            separator, text = argument
            if isinstance(text, str):
                return text.split(separator)
        elif function == "Fn::FindInMap":
            if all(isinstance(key, str) for key in argument):
                first, second, third = argument
                return self.mappings.get(first, {}).get(second, {}).get(third)
        elif function == "Fn::GetAtt" and self.outputs is not None:
            title, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            if attribute.startswith("Outputs."):
                return self.outputs(title, attribute.removeprefix("Outputs."))
        return None


def stack(template: dict, given: Mapping[str, object]) -> Stack:
    """`template` deployed with the parameter values `given`."""
    values = parameter_values(template, given)
    return _stack(template, values, evaluate_conditions(template.get("Conditions", {}), values))


def _stack(
    template: dict, values: Mapping[str, object], conditions: dict[str, bool], outputs=None
) -> Stack:
    """`outputs(title, name)` reads a nested stack's output for the root (None where it
    cannot be known)."""
    resolve = _Resolver(template, values, conditions, outputs)
    resources = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if "Condition" in resource and not conditions[resource["Condition"]]:
            continue
        kept = {"Type": resource["Type"], "Properties": resolve(resource.get("Properties", {}))}
        kept.update({k: resolve(resource[k]) for k in KEPT_ATTRIBUTES if k in resource})
        resources[logical_id] = kept
    return Stack(template, values, conditions, resources)


def output(deployed: Stack, name: str) -> object:
    """An output's resolved value (an Fn::GetAtt of it where the output is not there)."""
    declared = deployed.template.get("Outputs", {}).get(name)
    if declared is None or (
        "Condition" in declared and not deployed.conditions[declared["Condition"]]
    ):
        return None
    return _Resolver(deployed.template, deployed.parameters, deployed.conditions, None)(
        declared["Value"]
    )


def deployment(
    templates: Mapping[str, dict],
    parameters: Mapping[str, object],
    titles: Mapping[str, str] | None = None,
    known: Mapping[str, Mapping[str, object]] | None = None,
) -> dict[str, Stack]:
    """The root (`templates["root"]`) with `parameters` and every nested stack it deploys,
    by template name. `titles` maps the root's nested stack logical IDs to template names
    (default: from their TemplateURLs); `known` gives a nested stack's parameter values to use
    where the root passes a value known only at deploy time (the deployed stack's own). A
    nested template missing from `templates` is left out."""
    root_template = templates["root"]
    titles = {
        title: name
        for title, name in (titles or nested_templates(root_template)).items()
        if name in templates
    }
    values = parameter_values(root_template, parameters)
    conditions = evaluate_conditions(root_template.get("Conditions", {}), values)
    done: dict[str, Stack | None] = {}

    def child(title: str) -> Stack | None:
        if title not in done:
            resource = root_template["Resources"][title]
            if "Condition" in resource and not conditions[resource["Condition"]]:
                done[title] = None
                return None
            resolve = _Resolver(root_template, values, conditions, read_output)
            passed = resolve(resource.get("Properties", {}).get("Parameters", {}))
            name = titles[title]
            deployed_values = (known or {}).get(name, {})
            for key, value in passed.items():
                if not isinstance(value, str) and key in deployed_values:
                    passed[key] = deployed_values[key]
            done[title] = stack(templates[name], passed)
        return done[title]

    def read_output(title: str, name: str) -> object:
        nested = child(title) if title in titles else None
        return None if nested is None else output(nested, name)

    stacks = {"root": _stack(root_template, values, conditions, read_output)}
    for title in titles:
        if (nested := child(title)) is not None:
            stacks[titles[title]] = nested
    return stacks
