"""Reading rendered templates (dicts) in the stack tests."""


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
