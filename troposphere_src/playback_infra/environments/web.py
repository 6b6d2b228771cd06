"""The web part of an environment: the CloudFront site, its certificate and edge WAF, and the
feature flags the single-page app reads from `/config.json`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from playback_infra.environments import certificates
from playback_infra.environments.retention import retention_problem

# CloudFront certificates must be in us-east-1, whatever the environment's region.
EDGE_REGION = "us-east-1"
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")


@dataclass(frozen=True, kw_only=True)
class Web:
    """The CloudFront distribution in front of the site bucket and the API."""

    hosted_zone_id: str = ""
    """Route 53 zone of site_domain: the certificate is validated there and the alias made."""
    certificate_arn: str = ""
    """Or an existing ACM certificate for site_domain in us-east-1 (DNS is then yours)."""
    price_class: str = "PriceClass_100"
    """Edge locations served: North America and Europe by default; PriceClass_All in prod."""
    waf_rate_limit: int = 1000
    """Requests one viewer IP may send in any 5 minutes before the edge WAF blocks it."""
    waf_log_retention_days: int = 90
    access_log_days: int = 90
    """Days CloudFront's access logs are kept."""
    previous_versions_days: int = 30
    """Days an overwritten or deleted site file is kept (a rollback can restore it)."""


@dataclass(frozen=True, kw_only=True)
class Features:
    """Feature flags of the single-page app, written into its `/config.json`."""

    narration: bool = True
    """Show the OpenAI play-by-play commentary."""
    box_score: bool = True
    """Show the running box score beside the replay."""
    max_replay_speed: int = 8
    """Fastest replay speed a viewer may pick (x real time)."""
    poll_interval_seconds: int = 5
    """How often the replay asks the API for the next plays."""
    debug_panel: bool = False
    """Request timings and build details overlay; development only."""

    def as_config(self) -> dict[str, bool | int]:
        """The flags as the SPA reads them (camelCase keys)."""
        return {_camel(name): value for name, value in asdict(self).items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def violations(web: Web, log_retentions: tuple[int, ...]) -> list[tuple[str, str]]:
    """Every broken rule of a web config as (field, message); fields are `web.x`."""
    found: list[tuple[str, str]] = []

    def bad(field: str, message: str) -> None:
        found.append((f"web.{field}", message))

    for field, message in certificates.source_violations(
        web.hosted_zone_id, web.certificate_arn, EDGE_REGION, "CloudFront"
    ):
        bad(field, message)
    if web.price_class not in PRICE_CLASSES:
        bad(
            "price_class",
            f"{web.price_class!r} is not valid; use one of: {', '.join(PRICE_CLASSES)}",
        )
    if not 10 <= web.waf_rate_limit <= 2_000_000_000:
        bad("waf_rate_limit", f"{web.waf_rate_limit} must be 10-2000000000 requests per 5 minutes")
    if problem := retention_problem(web.waf_log_retention_days, log_retentions):
        bad("waf_log_retention_days", problem)
    for field in ("access_log_days", "previous_versions_days"):
        if not 1 <= getattr(web, field) <= 3650:
            bad(field, f"{getattr(web, field)} must be 1-3650 days")
    return found


def feature_violations(features: Features, production: bool) -> list[tuple[str, str]]:
    """Every broken rule of the feature flags as (field, message); fields are `features.x`."""
    found: list[tuple[str, str]] = []
    if not 1 <= features.max_replay_speed <= 64:
        found.append(("features.max_replay_speed", f"{features.max_replay_speed} must be 1-64"))
    if not 1 <= features.poll_interval_seconds <= 60:
        found.append(
            ("features.poll_interval_seconds", f"{features.poll_interval_seconds} must be 1-60")
        )
    if production and features.debug_panel:
        found.append(
            (
                "features.debug_panel",
                "the debug panel shows request timings and build details: not in production; set it False",
            )
        )
    return found


DEFAULTS = {  # by environment kind
    "development": (Web(access_log_days=30), Features(debug_panel=True)),
    "staging": (Web(), Features()),
    "production": (
        Web(price_class="PriceClass_All", waf_log_retention_days=365, access_log_days=365),
        Features(),
    ),
}
