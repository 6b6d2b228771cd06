"""The rule every log retention in the model follows: one of CloudWatch Logs' own periods."""

from __future__ import annotations

from playback_infra.parts.values import LOG_RETENTION_DAYS


def retention_problem(days: int, retentions: tuple[int, ...] = LOG_RETENTION_DAYS) -> str:
    """Why `days` cannot be a log group's retention, or ""."""
    if days in retentions:
        return ""
    return (
        f"{days} is not a CloudWatch Logs retention; use one of: {', '.join(map(str, retentions))}"
    )
