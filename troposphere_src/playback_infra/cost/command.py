"""`playback-infra cost --env ENV`: the estimate of one environment, as a table (100 columns, or
`--wide`) or JSON."""

from __future__ import annotations

from pathlib import Path

from playback_infra.cost import prices, report
from playback_infra.cost.estimate import estimate_repository
from playback_infra.environments.model import ConfigError, Problem


def environment_kinds() -> dict[str, str]:
    """Environment name -> kind, from the catalog (the kind picks the usage assumptions)."""
    from playback_infra.environments.catalog import environments

    return {env.name: env.kind.value for env in environments()}


def cost_report(root: Path, env: str, fmt: str, wide: bool = False) -> str:
    """Raises ConfigError for an environment the catalog does not define."""
    kinds = environment_kinds()
    if env not in kinds:
        known = ", ".join(sorted(kinds))
        raise ConfigError([Problem(env, "env", f"no such environment; known: {known}")])
    estimate = estimate_repository(root, env, kinds[env], prices.load())
    return report.table(estimate, wide) if fmt == "table" else report.as_json(estimate)
