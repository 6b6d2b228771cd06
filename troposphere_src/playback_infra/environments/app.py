"""The backend service part of an environment: Fargate size, counts, scaling and deployments."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playback_infra.environments.retention import retention_problem

# Fargate's valid memory (MiB) for each CPU size (vCPU x 1024).
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}
STRATEGIES = ("ROLLING", "BLUE_GREEN")
# Application Auto Scaling cron: six fields (minutes hours day-of-month month day-of-week year).
_CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$")


@dataclass(frozen=True, kw_only=True)
class App:
    """The backend's ECS service. `max_tasks` is the environment's max_app_tasks."""

    cpu: int = 512
    memory: int = 1024
    desired_tasks: int = 2
    min_tasks: int = 2
    spot: bool = False
    """Run on Fargate Spot (interruptible, about 70% cheaper): dev only by default."""
    deployment: str = "ROLLING"
    """ROLLING with circuit breaker and alarm rollback, or ECS native BLUE_GREEN."""
    bake_minutes: int = 5
    """Blue/green: how long the new version serves all traffic before the old one goes."""
    cpu_target_percent: int = 60
    requests_per_task_target: int = 200
    """Target of ALB requests per task per minute for scaling."""
    peak_start: str = ""
    """cron() in UTC when game traffic peaks (e.g. evening first pitches); empty for none."""
    peak_end: str = ""
    peak_min_tasks: int = 0
    log_retention_days: int = 30
    ecs_exec: bool = False
    """Shell access into tasks; off by default, and every session is logged when on."""
    xray: bool = True
    """An AWS Distro for OpenTelemetry sidecar sending traces to X-Ray."""
    image_tag: str = "bootstrap"
    """The backend image's tag for the first deployment only: once the stack exists, `deploy` and
    `plan` keep the tag it runs (the backend pipeline's `release-image` moves it)."""
    api_base_path: str = "/api"
    feature_flags: str = ""
    """Comma-separated flags the backend reads from FEATURE_FLAGS."""
    cache: bool = True
    """An ElastiCache Serverless (Valkey) narration cache in front of the table (off in dev)."""
    trace_sampling_percent: int = 5
    """Share of error-free traces the ADOT sidecar sends to X-Ray (1-100); it sends every trace
    with an error or a 5xx answer."""
    latency_p95_alarm_ms: int = 1000
    """The API's p95 latency (at the ALB) that pages when held for 5 minutes: the baseline."""
    error_rate_alarm_percent: int = 5
    """The share of API requests answered 5xx that pages (3 of 5 minutes, 20+ requests)."""
    error_log_alarm_count: int = 10
    """Backend error log lines (level error or fatal) in 5 minutes that page."""
    openai_daily_cost_alarm_usd: int = 5
    """Estimated OpenAI spend over 24 hours that alarms; the OpenAI project budget is the cap."""


def task_size_problems(cpu: int, memory: int) -> list[tuple[str, str]]:
    """A Fargate task size's problems as (field, message): field `cpu` or `memory`."""
    if cpu not in FARGATE_MEMORY:
        return [
            (
                "cpu",
                f"{cpu} is not a Fargate CPU size; use one of: {', '.join(map(str, FARGATE_MEMORY))}",
            )
        ]
    sizes = FARGATE_MEMORY[cpu]
    if memory not in sizes:
        return [
            (
                "memory",
                f"{memory} MiB is not valid with {cpu} CPU; use {sizes[0]}-{sizes[-1]} in steps of {sizes[1] - sizes[0]}",
            )
        ]
    return []


def image_tag_problem(tag: str) -> str:
    """Why `tag` cannot name a deployed image, or ""."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", tag) or tag == "latest":
        return f"{tag!r} must be an immutable tag (a git SHA or release), never 'latest'"
    return ""


def violations(
    app: App, max_tasks: int, production: bool, log_retentions: tuple[int, ...]
) -> list[tuple[str, str]]:
    """Every broken rule of an app config as (field, message); fields are `app.x`."""
    found: list[tuple[str, str]] = []

    def bad(field: str, message: str) -> None:
        found.append((f"app.{field}", message))

    for field, message in task_size_problems(app.cpu, app.memory):
        bad(field, message)
    if not 1 <= app.min_tasks <= app.desired_tasks <= max_tasks:
        bad(
            "min_tasks",
            f"need 1 <= min_tasks ({app.min_tasks}) <= desired_tasks ({app.desired_tasks}) <= max_app_tasks ({max_tasks})",
        )
    if production and app.min_tasks < 2:
        bad("min_tasks", "production keeps at least 2 tasks, in two AZs")
    if production and app.spot:
        bad(
            "spot",
            "production does not run on Fargate Spot (tasks may be stopped at two minutes' notice); set spot=False",
        )
    if app.deployment not in STRATEGIES:
        bad("deployment", f"{app.deployment!r} is not valid; use ROLLING or BLUE_GREEN")
    if not 0 <= app.bake_minutes <= 1440:
        bad("bake_minutes", f"{app.bake_minutes} must be 0-1440")
    if not 10 <= app.cpu_target_percent <= 90:
        bad("cpu_target_percent", f"{app.cpu_target_percent} must be 10-90")
    if not 1 <= app.requests_per_task_target <= 1_000_000:
        bad("requests_per_task_target", f"{app.requests_per_task_target} must be 1-1000000")
    if bool(app.peak_start) != bool(app.peak_end):
        bad("peak_end", "give both peak_start and peak_end, or neither")
    for field in ("peak_start", "peak_end"):
        if getattr(app, field) and not _CRON.match(getattr(app, field)):
            bad(
                field,
                f"{getattr(app, field)!r} must be an Application Auto Scaling cron(...) expression in UTC",
            )
    if app.peak_start and not app.min_tasks <= app.peak_min_tasks <= max_tasks:
        bad(
            "peak_min_tasks",
            f"{app.peak_min_tasks} must be between min_tasks ({app.min_tasks}) and max_app_tasks ({max_tasks})",
        )
    if problem := retention_problem(app.log_retention_days, log_retentions):
        bad("log_retention_days", problem)
    if image_tag_problem(app.image_tag):
        bad("image_tag", image_tag_problem(app.image_tag))
    if not re.fullmatch(r"(/[a-z0-9_-]+)+", app.api_base_path):
        bad("api_base_path", f"{app.api_base_path!r} must be a path like /api (no trailing slash)")
    if not re.fullmatch(r"[a-z0-9_,-]*", app.feature_flags):
        bad("feature_flags", f"{app.feature_flags!r} must be comma-separated lowercase flag names")
    if not 1 <= app.trace_sampling_percent <= 100:
        bad("trace_sampling_percent", f"{app.trace_sampling_percent} must be 1-100 (percent)")
    if not 50 <= app.latency_p95_alarm_ms <= 60_000:
        bad("latency_p95_alarm_ms", f"{app.latency_p95_alarm_ms} must be 50-60000 ms")
    if not 1 <= app.error_rate_alarm_percent <= 100:
        bad("error_rate_alarm_percent", f"{app.error_rate_alarm_percent} must be 1-100 (percent)")
    if not 1 <= app.error_log_alarm_count <= 100_000:
        bad("error_log_alarm_count", f"{app.error_log_alarm_count} must be 1-100000 log lines")
    if not 1 <= app.openai_daily_cost_alarm_usd <= 100_000:
        bad(
            "openai_daily_cost_alarm_usd",
            f"{app.openai_daily_cost_alarm_usd} must be 1-100000 (US dollars a day)",
        )
    return found


DEFAULTS = {  # by environment kind
    "development": App(
        desired_tasks=1, min_tasks=1, spot=True, cache=False, trace_sampling_percent=50,
        latency_p95_alarm_ms=2000, error_rate_alarm_percent=10,
    ),
    "staging": App(log_retention_days=90, openai_daily_cost_alarm_usd=10, trace_sampling_percent=20),
    "production": App(
        cpu=1024, memory=2048, desired_tasks=3, min_tasks=3, deployment="BLUE_GREEN",
        latency_p95_alarm_ms=800, error_rate_alarm_percent=2,
        log_retention_days=365, openai_daily_cost_alarm_usd=50,
        # US evening first pitches (about 18:00-01:00 Eastern): more tasks before the rush.
        peak_start="cron(30 21 * * ? *)", peak_end="cron(0 6 * * ? *)", peak_min_tasks=6,
    ),
}  # fmt: skip
