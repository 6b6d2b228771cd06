"""Reading rendered templates (dicts) in the stack tests."""

import re


def resources_of_type(t: dict, type_: str) -> dict[str, dict]:
    return {name: r for name, r in t["Resources"].items() if r["Type"] == type_}


def props(t: dict, name: str) -> dict:
    return t["Resources"][name]["Properties"]


def ref(name: str) -> dict:
    return {"Ref": name}


def getatt(name: str, attribute: str) -> dict:
    return {"Fn::GetAtt": [name, attribute]}


NO_VALUE = {"Ref": "AWS::NoValue"}


def without_no_value(node):
    """What CloudFormation passes on: entries and list items set to AWS::NoValue dropped."""
    if isinstance(node, list):
        return [without_no_value(item) for item in node if item != NO_VALUE]
    if isinstance(node, dict):
        return {key: without_no_value(item) for key, item in node.items() if item != NO_VALUE}
    return node


def with_parameters(node, parameters: dict[str, str]):
    """Replace each `Ref` to one of `parameters` by its value (other Refs stay)."""
    if isinstance(node, list):
        return [with_parameters(item, parameters) for item in node]
    if isinstance(node, dict):
        if list(node) == ["Ref"] and node["Ref"] in parameters:
            return parameters[node["Ref"]]
        return {key: with_parameters(item, parameters) for key, item in node.items()}
    return node


def deploy(t: dict, as_deployed, parameters: dict[str, str]) -> dict:
    """Resources and outputs as CloudFormation creates them: conditions applied, AWS::NoValue
    dropped, the given parameter values in place of their Refs."""
    d = as_deployed(t, parameters)
    return {
        "conditions": d.conditions,
        "resources": with_parameters(without_no_value(d.resources), parameters),
        "outputs": with_parameters(without_no_value(d.outputs), parameters),
    }


def is_list_type(type_: str) -> bool:
    return type_.startswith(("List<", "CommaDelimitedList"))


def constraint_problems(declared: dict[str, dict], given: dict[str, str]) -> list[tuple[str, str]]:
    """The (parameter, value) pairs of `given` that a template's `declared` Parameters refuse,
    as CloudFormation checks them: each item of a list, AllowedValues, the whole item against
    AllowedPattern, and a Number's digits and MinValue-MaxValue."""
    found = []
    for name, value in given.items():
        spec = declared[name]
        for item in value.split(",") if is_list_type(spec["Type"]) else [value]:
            low, high = spec.get("MinValue", 0), spec.get("MaxValue", float("inf"))
            if (
                ("AllowedValues" in spec and item not in spec["AllowedValues"])
                or ("AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], item))
                or (spec["Type"] == "Number" and not (item.isdigit() and low <= int(item) <= high))
            ):
                found.append((name, item))
    return found


def root_provided_values_checked(t: dict, parameter_files: dict[str, dict]) -> int:
    """Check every environment's parameter-file values for the nested stack `t` (the others
    come from sibling stacks' outputs) against its constraints: a value the stack refuses
    would fail the deploy, not the synth. Returns how many values were checked."""
    checked = 0
    for env, content in parameter_files.items():
        given = {n: v for n, v in content["Parameters"].items() if n in t["Parameters"]}
        problems = constraint_problems(t["Parameters"], given)
        assert problems == [], (env, problems)
        checked += len(given)
    return checked
