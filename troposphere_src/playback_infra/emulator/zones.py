"""The environment's Route 53 zones, made in an emulator under the IDs the catalog names.

On AWS the zones exist before the first deploy (Route 53 chose their IDs); an emulator starts
empty. The plugin creates a zone under a requested ID (CallerReference `zone-id:<ID>`, see
`route53_service.zone_with_requested_id`), so the alias and validation records of a deploy
land where they would on AWS. Another emulator would make a zone of another ID.
"""

from __future__ import annotations

from collections import defaultdict

from playback_infra.environments.model import Environment


def zone_names(env: Environment) -> dict[str, str]:
    """Zone ID -> zone name: the longest domain the zone's host names share."""
    hosts: dict[str, list[list[str]]] = defaultdict(list)
    for zone, host in (
        (env.ingress.hosted_zone_id, env.api_domain),
        (env.web.hosted_zone_id, env.site_domain),
    ):
        if zone:
            hosts[zone].append(host.split("."))
    names = {}
    for zone, labels in hosts.items():
        shared: list[str] = []
        for parts in zip(*(reversed(h) for h in labels), strict=False):
            if len(set(parts)) != 1:
                break
            shared.insert(0, parts[0])
        names[zone] = ".".join(shared)
    return names


def ensure_zones(route53, env: Environment) -> None:
    """Create the environment's zones in the emulator unless they exist."""
    for zone, name in zone_names(env).items():
        try:
            route53.get_hosted_zone(Id=zone)
        except route53.exceptions.NoSuchHostedZone:
            route53.create_hosted_zone(Name=name, CallerReference=f"zone-id:{zone}")
