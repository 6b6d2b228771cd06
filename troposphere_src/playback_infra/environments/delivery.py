"""Where the pipelines live and what they build: one `Delivery` per project, validated.

The pipeline stack is deployed once, in `account_id` and `region`; it deploys every
environment of the catalog, in the catalog's order, each into its own account and region.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields

from playback_infra.environments.model import ConfigError, Environment, Problem, unknown_field
from playback_infra.environments.regions import SUPPORTED_REGIONS
from playback_infra.environments.regions import unsupported as unsupported_region

SCOPE = "delivery"
_ACCOUNT = re.compile(r"^\d{12}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]{1,100}$")
_CONNECTION = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
)
_EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


@dataclass(frozen=True)
class Delivery:
    account_id: str
    """The account the pipelines run in (it may also hold environments)."""
    region: str
    """The pipelines' region; other regions get an artifact store of their own."""
    infra_repository: str
    """owner/name of this repository, as the connection's provider spells it."""
    backend_repository: str
    frontend_repository: str
    notification_email: str
    """Failed executions and waiting approvals are mailed here."""
    branch: str = "main"
    connection_arn: str = ""
    """An existing CodeConnections connection; empty: the stack creates one (finish its
    handshake in the console once)."""


def define_delivery(environments: Iterable[Environment], **given) -> Delivery:
    """A validated `Delivery`; raises ConfigError naming each bad field and its fix."""
    known = {f.name for f in fields(Delivery)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigError(
            Problem(SCOPE, name, unknown_field(name, sorted(known))) for name in unknown
        )
    try:
        delivery = Delivery(**given)
    except TypeError as error:
        raise ConfigError([Problem(SCOPE, "fields", str(error))]) from error
    problems = [Problem(SCOPE, f, m) for f, m in _violations(delivery, tuple(environments))]
    if problems:
        raise ConfigError(problems)
    return delivery


def _violations(d: Delivery, environments: tuple[Environment, ...]) -> list[tuple[str, str]]:
    found = []
    if not _ACCOUNT.match(d.account_id):
        found.append(("account_id", f"{d.account_id!r} must be the 12-digit AWS account ID"))
    if d.region not in SUPPORTED_REGIONS:
        found.append(("region", unsupported_region(d.region)))
    for name in ("infra_repository", "backend_repository", "frontend_repository"):
        if not _REPOSITORY.match(getattr(d, name)):
            found.append((name, f"{getattr(d, name)!r} must be owner/name, like octo/playback"))
    if not _BRANCH.match(d.branch):
        found.append(("branch", f"{d.branch!r} is not a branch name, like main"))
    if d.connection_arn and not _CONNECTION.match(d.connection_arn):
        found.append(
            (
                "connection_arn",
                f"{d.connection_arn!r} is not a connection ARN "
                "(arn:aws:codeconnections:REGION:ACCOUNT:connection/UUID); leave it empty to "
                "create one",
            )
        )
    if not _EMAIL.match(d.notification_email):
        found.append(("notification_email", f"{d.notification_email!r} is not an email address"))
    if not environments:
        found.append(("environments", "the catalog has no environment to deliver to"))
    return found
