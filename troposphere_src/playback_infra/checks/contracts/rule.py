"""What an AWS contract rule is and what it reads."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from playback_infra.deployed import Deployed
from playback_infra.deployed_environment import DeployedEnvironment, deployed_environment
from playback_infra.environments.model import Environment

Source = tuple[str, str, str | None]
"""(stack, logical ID, attribute or None for a Ref) of the resource a value names."""


@dataclass(frozen=True)
class Subject:
    """Everything a rule may read: the rendered templates and files, the validated model,
    and each environment's templates as its parameter files deploy them."""

    templates: Mapping[str, dict]
    """Template name (`data`, `pipeline-target`, ...) -> the rendered template."""
    files: Mapping[str, str]
    """Relative path -> content of every generated file (for sizes)."""
    models: Mapping[str, Environment]
    """Environment name -> its validated model."""
    deployed: Mapping[str, DeployedEnvironment]
    """Environment name -> its nested stacks and edge-global, conditions applied."""


def subject(
    templates: Mapping[str, dict], files: Mapping[str, str], models: Mapping[str, Environment]
) -> Subject:
    """The subject for these rendered templates and files and this catalog."""
    deployed = {
        name: deployed_environment(
            name,
            env.kind.value,
            templates,
            json.loads(files[f"parameters/{name}.json"])["Parameters"],
            json.loads(files[f"parameters/edge-global/{name}.json"])["Parameters"],
        )
        for name, env in models.items()
    }
    return Subject(templates, files, models, deployed)


@dataclass(frozen=True)
class Rule:
    """One documented AWS behaviour. `find` yields a sentence per violation, naming the
    template, resource and property and saying what to change."""

    name: str
    doc: str
    """The AWS documentation page the rule encodes (quoted in every failure)."""
    find: Callable[[Subject], Iterable[str]]

    def problems(self, subject: Subject) -> list[str]:
        return [f"{self.name}: {finding} (AWS: {self.doc})" for finding in self.find(subject)]


def text(node) -> str:
    """A string property's text: the string, or the template of its Fn::Sub ("" otherwise)."""
    if isinstance(node, dict) and "Fn::Sub" in node:
        node = node["Fn::Sub"]
        return node[0] if isinstance(node, list) else node
    return node if isinstance(node, str) else ""


def source(stacks: Mapping[str, Deployed], stack: str, node) -> Source | None:
    """The resource a Ref or Fn::GetAtt in `stack` names, following a parameter to the output
    of the same name in another of `stacks` (one name per cross-stack value)."""
    if isinstance(node, dict) and list(node) == ["Ref"]:
        name, attribute = node["Ref"], None
    elif isinstance(node, dict) and list(node) == ["Fn::GetAtt"]:
        target = node["Fn::GetAtt"]
        name, attribute = target if isinstance(target, list) else target.split(".", 1)
    else:
        return None
    if name in stacks[stack].resources:
        return stack, name, attribute
    for other, deployed in stacks.items():
        if other != stack and name in deployed.outputs:
            return source(stacks, other, deployed.outputs[name]["Value"])
    return None
