"""An environment's templates as they would be deployed: the root's nested stacks with the
environment's parameter file, and its edge-global stack with the edge parameter file (each
through `deployed.py`). Read by the cost estimate and the AWS contracts check."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from playback_infra.deployed import Deployed, Deployer

EDGE_GLOBAL = "edge-global"


@dataclass(frozen=True)
class DeployedEnvironment:
    """What one environment would deploy, stack by stack."""

    name: str
    kind: str
    parameters: Mapping[str, str]
    """The root parameter file's values (nested stacks receive them by the same name)."""
    stacks: dict[str, Deployed]
    """Template name (`network`, ..., `edge-global`) -> the deployed template."""
    edge_parameters: Mapping[str, str]

    @cached_property
    def _by_type(self) -> dict[str, list[tuple[str, str, dict]]]:
        index = defaultdict(list)
        for name, deployed in sorted(self.stacks.items()):
            for logical_id, resource in sorted(deployed.resources.items()):
                index[resource["Type"]].append((name, logical_id, resource))
        return index

    def resources(self, type_: str, stack: str | None = None) -> Iterator[tuple[str, str, dict]]:
        """(stack, logical ID, resource) of every deployed resource of `type_`, by stack and ID."""
        for found in self._by_type.get(type_, ()):
            if stack is None or found[0] == stack:
                yield found

    def count(self, type_: str, stack: str | None = None) -> int:
        return sum(1 for _ in self.resources(type_, stack))

    def value(self, node, stack: str):
        """A property's value: a Ref to a parameter becomes the parameter file's value."""
        if isinstance(node, dict) and list(node) == ["Ref"]:
            source = self.edge_parameters if stack == EDGE_GLOBAL else self.parameters
            if node["Ref"] in source:
                return source[node["Ref"]]
        return node

    def list_length(self, node, stack: str) -> int:
        """How many items a list property holds: a literal list, a list parameter, or another
        stack's output (`Fn::Join` of a list) passed in under that output's name."""
        node = self.value(node, stack)
        if isinstance(node, list):
            return len(node)
        if isinstance(node, str):
            return len([item for item in node.split(",") if item])
        if isinstance(node, dict) and list(node) == ["Ref"]:
            for deployed in self.stacks.values():
                if node["Ref"] in deployed.outputs:
                    return self.list_length(deployed.outputs[node["Ref"]]["Value"], stack)
        if isinstance(node, dict) and list(node) == ["Fn::Join"]:
            return len(node["Fn::Join"][1])
        raise ValueError(f"cannot tell how many items {node!r} holds in {stack}")


def nested_templates(root: dict) -> dict[str, str]:
    """Logical ID -> template name of each nested stack of the root template."""
    return {
        logical_id: resource["Properties"]["TemplateURL"].removesuffix(".yaml")
        for logical_id, resource in root["Resources"].items()
        if resource["Type"] == "AWS::CloudFormation::Stack"
    }


def deployed_environment(
    name: str,
    kind: str,
    templates: Mapping[str, dict],
    parameters: Mapping[str, str],
    edge_parameters: Mapping[str, str],
    deployer: Deployer | None = None,
) -> DeployedEnvironment:
    """Evaluate the root's nested templates and edge-global for one environment's parameters
    (through `deployer` when given: one shared by many calls reuses its results)."""
    deploy = deployer or Deployer(templates)
    stacks = {
        template: deploy(template, parameters)
        for template in nested_templates(templates["root"]).values()
    }
    stacks[EDGE_GLOBAL] = deploy(EDGE_GLOBAL, edge_parameters)
    return DeployedEnvironment(name, kind, parameters, stacks, edge_parameters)


def read_templates(root: Path) -> dict[str, dict]:
    """The committed templates/*.yaml, by name."""
    from playback_infra.yaml_render import from_yaml

    return {
        path.stem: from_yaml(path.read_text())
        for path in sorted((root / "templates").glob("*.yaml"))
    }
