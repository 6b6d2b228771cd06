"""The ingress part of an environment: the ALB's certificate, health checks and WAF limits."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playback_infra.environments import certificates
from playback_infra.environments.retention import retention_problem

_PATH = re.compile(r"^/[A-Za-z0-9/_.-]{0,1023}$")


@dataclass(frozen=True, kw_only=True)
class Ingress:
    """How the ALB is reached and how it judges the backend's health."""

    hosted_zone_id: str = ""
    """Route 53 zone of api_domain: the ALB's certificate is issued and DNS-validated there."""
    certificate_arn: str = ""
    """Or an existing ACM certificate for api_domain in the environment's region."""
    health_check_path: str = "/api/health"
    health_check_interval_seconds: int = 10
    health_check_timeout_seconds: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    """With a 10 s interval a broken task leaves the target group within 30 s."""
    deregistration_delay_seconds: int = 30
    """Time in-flight requests get to finish before a task is removed (replays are short)."""
    regional_waf: bool = True
    """A WAF web ACL on the ALB itself. Only where CloudFront alone reaches the ALB (its WAF
    inspects every request, and the ALB requires CloudFront's secret header) may it go: in
    development, to save its $10 a month."""
    waf_rate_limit: int = 2000
    """Requests per IP in any 5 minutes before the WAF blocks it."""
    waf_log_retention_days: int = 90
    access_log_days: int = 90
    """Days the ALB access logs are kept in their bucket."""


def violations(
    ingress: Ingress, region: str, log_retentions: tuple[int, ...]
) -> list[tuple[str, str]]:
    """Every broken rule of an ingress config as (field, message); fields are `ingress.x`."""
    found: list[tuple[str, str]] = []

    def bad(field: str, message: str) -> None:
        found.append((f"ingress.{field}", message))

    for field, message in certificates.source_violations(
        ingress.hosted_zone_id, ingress.certificate_arn, region, "the ALB"
    ):
        bad(field, message)
    if not _PATH.match(ingress.health_check_path):
        bad("health_check_path", f"{ingress.health_check_path!r} must be a path starting with /")
    if not 5 <= ingress.health_check_interval_seconds <= 300:
        bad(
            "health_check_interval_seconds",
            f"{ingress.health_check_interval_seconds} must be 5-300",
        )
    timeout, interval = ingress.health_check_timeout_seconds, ingress.health_check_interval_seconds
    if not 2 <= timeout <= 120 or timeout >= interval:
        bad(
            "health_check_timeout_seconds",
            f"{timeout} must be 2-120 and below the interval ({interval})",
        )
    for field in ("healthy_threshold", "unhealthy_threshold"):
        if not 2 <= getattr(ingress, field) <= 10:
            bad(field, f"{getattr(ingress, field)} must be 2-10")
    if not 0 <= ingress.deregistration_delay_seconds <= 3600:
        bad(
            "deregistration_delay_seconds", f"{ingress.deregistration_delay_seconds} must be 0-3600"
        )
    if not 10 <= ingress.waf_rate_limit <= 2_000_000_000:
        bad(
            "waf_rate_limit",
            f"{ingress.waf_rate_limit} must be 10-2000000000 requests per 5 minutes",
        )
    if problem := retention_problem(ingress.waf_log_retention_days, log_retentions):
        bad("waf_log_retention_days", problem)
    if not 1 <= ingress.access_log_days <= 3650:
        bad("access_log_days", f"{ingress.access_log_days} must be 1-3650")
    return found
