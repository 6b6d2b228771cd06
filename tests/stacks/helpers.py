"""Reading rendered templates (dicts) in the stack tests."""


def resources_of_type(t: dict, type_: str) -> dict[str, dict]:
    return {name: r for name, r in t["Resources"].items() if r["Type"] == type_}


def props(t: dict, name: str) -> dict:
    return t["Resources"][name]["Properties"]


def ref(name: str) -> dict:
    return {"Ref": name}
