"""An environment's monthly estimate: its lines, their total, and what was assumed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from playback_infra.cost import lines as pricing
from playback_infra.cost.lines import Line
from playback_infra.cost.prices import PriceTable
from playback_infra.deployed import Deployer
from playback_infra.deployed_environment import (
    DeployedEnvironment,
    deployed_environment,
    read_templates,
)

NOT_ESTIMATED = (
    "data transfer out of the region (CloudFront origin fetches are free; the API answers through it)",
    "Container Insights (enhanced) metrics and logs, X-Ray traces, custom metrics",
    "CloudWatch API, KMS and Secrets Manager requests (cents at these volumes)",
    "Route 53 hosted zones (they exist before the environment); ACM certificates are free",
    "free tiers other than CloudFront's, Step Functions' and SQS's always-free allowances",
)


@dataclass(frozen=True)
class Estimate:
    environment: str
    kind: str
    lines: tuple[Line, ...]
    assumptions: tuple[str, ...]

    @property
    def total_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    def biggest(self, count: int = 5) -> list[Line]:
        return sorted(self.lines, key=lambda line: -line.monthly_usd)[:count]


def _assumptions(env: DeployedEnvironment, table: PriceTable, lines: list[Line]) -> tuple[str, ...]:
    usage = table.usage_for(env.kind)
    said = [
        f"prices: {table.region} on-demand list prices read {table.retrieved}, "
        f"{table.hours_per_month:g} hours a month",
        f"usage a month for a {env.kind} environment: "
        + ", ".join(f"{key} {value}" for key, value in usage.items()),
    ]
    unsourced = sorted(p.key for p in table.prices.values() if not p.sourced)
    said.append(
        "prices not found in the sources searched (AWS's rate as known): " + ", ".join(unsourced)
    )
    said += [f"not estimated: {item}" for item in NOT_ESTIMATED]
    return tuple(said)


def estimate(env: DeployedEnvironment, table: PriceTable) -> Estimate:
    lines = [line for service in pricing.SERVICES for line in service(env, table)]
    return Estimate(env.name, env.kind, tuple(lines), _assumptions(env, table, lines))


def estimate_files(
    name: str,
    kind: str,
    templates: Mapping[str, dict],
    parameter_file: Mapping,
    edge_parameter_file: Mapping,
    table: PriceTable,
    deployer: Deployer | None = None,
) -> Estimate:
    """The estimate from template dicts and the two parameter files' contents (`deployer`: see
    `deployed_environment`)."""
    env = deployed_environment(
        name,
        kind,
        templates,
        parameter_file["Parameters"],
        edge_parameter_file["Parameters"],
        deployer,
    )
    return estimate(env, table)


class UnknownEnvironment(KeyError):
    pass


def estimate_repository(root: Path, name: str, kind: str, table: PriceTable) -> Estimate:
    """The estimate from the committed templates/ and parameters/ of `root`."""
    files = (
        root / "parameters" / f"{name}.json",
        root / "parameters" / "edge-global" / f"{name}.json",
    )
    missing = [str(path.relative_to(root)) for path in files if not path.exists()]
    if missing:
        raise UnknownEnvironment(f"environment {name!r}: no {', '.join(missing)}")
    parameter_file, edge_file = (json.loads(path.read_text()) for path in files)
    return estimate_files(name, kind, read_templates(root), parameter_file, edge_file, table)
