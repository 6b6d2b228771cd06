"""What each environment switch would change in an estimate: the estimate again with some
parameter values changed, so the cost of NAT, endpoints, Spot, cache, proxy, Insights and the
database class is read from the same templates, not guessed.

These are parameter values, not environment-model changes: the model may refuse some of them
for an environment (production requires per-az NAT, for one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from playback_infra.cost.estimate import Estimate

ENDPOINTS_ON = {
    "EnableEcrEndpoints": "true",
    "EnableLogsEndpoint": "true",
    "EnableSecretsManagerEndpoint": "true",
    "EnableRdsEndpoint": "true",
}
ENDPOINTS_OFF = {key: "false" for key in ENDPOINTS_ON}

SWITCHES: tuple[tuple[str, dict[str, str]], ...] = (
    ("nat_mode none, with the endpoints it requires", {"NatMode": "none", **ENDPOINTS_ON}),
    ("nat_mode single", {"NatMode": "single"}),
    ("nat_mode per-az", {"NatMode": "per-az"}),
    (
        "nat_mode public-ips, the Secrets Manager and RDS endpoints in one AZ",
        {
            "NatMode": "public-ips",
            "EnableSecretsManagerEndpoint": "true",
            "EnableRdsEndpoint": "true",
            "EndpointsInOneAz": "true",
        },
    ),
    ("interface endpoints in one AZ", {"EndpointsInOneAz": "true"}),
    ("regional WAF off (CloudFront's WAF only)", {"EnableRegionalWaf": "false"}),
    ("regional WAF on", {"EnableRegionalWaf": "true"}),
    ("interface endpoints off (needs NAT)", ENDPOINTS_OFF),
    ("interface endpoints on", ENDPOINTS_ON),
    ("Fargate Spot on", {"UseFargateSpot": "true"}),
    ("Fargate Spot off", {"UseFargateSpot": "false"}),
    ("cache off", {"EnableCache": "false"}),
    ("cache on", {"EnableCache": "true"}),
    ("RDS Proxy off", {"EnableDatabaseProxy": "false"}),
    ("Database Insights off", {"DatabaseInsightsMode": "off"}),
    ("Multi-AZ off", {"DatabaseMultiAz": "false"}),
    ("database class db.t4g.micro", {"DatabaseInstanceClass": "db.t4g.micro"}),
    ("database class db.t3.small", {"DatabaseInstanceClass": "db.t3.small"}),
    ("site canary every 60 minutes", {"CanarySchedule": "rate(60 minutes)"}),
    ("X-Ray (ADOT sidecar) off", {"EnableXRay": "false"}),
)


@dataclass(frozen=True)
class Change:
    switch: str
    delta_usd: dict[str, float | None]
    """Environment -> change of its monthly total; None where the switch is already set."""


def changes(
    base: Mapping[str, Estimate],
    parameters: Mapping[str, Mapping[str, str]],
    estimate_with: Callable[[str, dict[str, str]], Estimate],
) -> list[Change]:
    """For each switch some environment does not have yet, each environment's total's change.

    `estimate_with(env, parameter_values)` estimates `env` with other root parameter values.
    """
    found = []
    for switch, values in SWITCHES:
        delta: dict[str, float | None] = {}
        for env, estimate in base.items():
            changed = {**parameters[env], **values}
            if changed == dict(parameters[env]):
                delta[env] = None
            else:
                delta[env] = estimate_with(env, changed).total_usd - estimate.total_usd
        if any(d is not None for d in delta.values()):
            found.append(Change(switch, delta))
    return found
