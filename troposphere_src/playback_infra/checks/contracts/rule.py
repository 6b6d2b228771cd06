"""What an AWS contract rule is and what it reads."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from playback_infra.deployed_environment import DeployedEnvironment, deployed_environment
from playback_infra.environments.model import Environment


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
