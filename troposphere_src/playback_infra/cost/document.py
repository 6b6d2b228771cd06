"""docs/cost.md: the environments' estimates side by side and what their switches change."""

from __future__ import annotations

from collections.abc import Mapping

from playback_infra.cost.estimate import Estimate, estimate_files
from playback_infra.cost.prices import PriceTable
from playback_infra.cost.report import side_by_side
from playback_infra.cost.switches import changes
from playback_infra.deployed import Deployer


def document(
    kinds: Mapping[str, str],
    templates: Mapping[str, dict],
    parameter_files: Mapping[str, dict],
    edge_parameter_files: Mapping[str, dict],
    table: PriceTable,
) -> str:
    """`kinds`: environment name -> kind, in the order of the table's columns."""
    deployer = Deployer(templates)

    def estimate_with(env: str, parameters: Mapping[str, str]) -> Estimate:
        return estimate_files(
            env,
            kinds[env],
            templates,
            {"Parameters": parameters},
            edge_parameter_files[env],
            table,
            deployer,
        )

    base = {env: estimate_with(env, parameter_files[env]["Parameters"]) for env in kinds}
    parameters = {env: parameter_files[env]["Parameters"] for env in kinds}
    return side_by_side(list(base.values()), changes(base, parameters, estimate_with))
