"""The app part of the environment model: defaults by kind, how a dict changes them, the
parameter values it gives the app stack, and bad inputs."""

from __future__ import annotations

import dataclasses

import pytest

from playback_infra.environments.app import DEFAULTS, FARGATE_MEMORY, App
from playback_infra.environments.catalog import environments
from playback_infra.environments.model import ConfigError, Kind, define
from playback_infra.environments.parameters import app_values
from playback_infra.stacks import app as app_stack
from tests.environments.helpers import BASE, refused_once
from tests.stacks.helpers import constraint_problems

PEAK = {"peak_start": "cron(30 21 * * ? *)", "peak_end": "cron(0 6 * * ? *)"}


def app_of(kind: Kind, **change) -> App:
    return define("qa", kind, **BASE, app=change).app


def with_ingress(**change) -> dict:
    """BASE with some ingress fields changed."""
    return {**BASE, "ingress": {**BASE["ingress"], **change}}


# --- defaults --------------------------------------------------------------------------------


def test_defaults_by_kind():
    assert {
        "development": App(
            desired_tasks=1,
            min_tasks=1,
            spot=True,
            cache=False,
            trace_sampling_percent=50,
            latency_p95_alarm_ms=2000,
            error_rate_alarm_percent=10,
        ),
        "staging": App(
            log_retention_days=90, openai_daily_cost_alarm_usd=10, trace_sampling_percent=20
        ),
        "production": App(
            cpu=1024,
            memory=2048,
            desired_tasks=3,
            min_tasks=3,
            deployment="BLUE_GREEN",
            latency_p95_alarm_ms=800,
            error_rate_alarm_percent=2,
            log_retention_days=365,
            openai_daily_cost_alarm_usd=50,
            peak_start="cron(30 21 * * ? *)",
            peak_end="cron(0 6 * * ? *)",
            peak_min_tasks=6,
        ),
    } == DEFAULTS
    assert App() == App(
        cpu=512,
        memory=1024,
        architecture="ARM64",
        desired_tasks=2,
        min_tasks=2,
        spot=False,
        deployment="ROLLING",
        bake_minutes=5,
        cpu_target_percent=60,
        requests_per_task_target=200,
        peak_start="",
        peak_end="",
        peak_min_tasks=0,
        log_retention_days=30,
        ecs_exec=False,
        xray=True,
        image_tag="bootstrap",
        api_base_path="/api",
        feature_flags="",
        openai_daily_cost_alarm_usd=5,
    )


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kinds_default_is_valid(kind):
    assert define("qa", kind, **BASE).app == DEFAULTS[kind.value]


def test_catalog_environments_run_as_planned():
    envs = {env.name: env for env in environments()}
    summary = {
        name: (
            env.app.desired_tasks,
            env.app.min_tasks,
            env.max_app_tasks,
            env.app.spot,
            env.app.deployment,
            env.app.log_retention_days,
        )
        for name, env in envs.items()
    }
    assert summary == {
        "dev": (1, 1, 4, True, "ROLLING", 30),
        "staging": (2, 2, 6, False, "ROLLING", 90),
        "prod": (3, 3, 20, False, "BLUE_GREEN", 365),
    }
    prod = envs["prod"].app
    assert (prod.cpu, prod.memory, prod.bake_minutes, prod.peak_min_tasks) == (1024, 2048, 5, 6)
    assert all(env.app.architecture == "ARM64" for env in envs.values())
    assert not any(env.app.ecs_exec for env in envs.values())


def test_a_dict_changes_only_the_fields_it_names_and_keeps_the_kinds_defaults():
    changed = app_of(Kind.PRODUCTION, cpu_target_percent=50, feature_flags="box-scores")
    assert changed == dataclasses.replace(
        DEFAULTS["production"], cpu_target_percent=50, feature_flags="box-scores"
    )
    # Spelled out: production's size, counts, strategy, peak and retention stay.
    kept = (
        changed.cpu,
        changed.memory,
        changed.desired_tasks,
        changed.min_tasks,
        changed.deployment,
        changed.peak_start,
        changed.peak_end,
        changed.peak_min_tasks,
        changed.log_retention_days,
    )
    assert kept == (
        1024, 2048, 3, 3, "BLUE_GREEN", "cron(30 21 * * ? *)", "cron(0 6 * * ? *)", 6, 365,
    )  # fmt: skip


def test_a_dict_starts_from_its_own_kinds_default():
    dev = app_of(Kind.DEVELOPMENT, log_retention_days=14)
    assert (dev.desired_tasks, dev.min_tasks, dev.spot, dev.deployment) == (1, 1, True, "ROLLING")
    staging = app_of(Kind.STAGING, desired_tasks=3)
    assert (staging.desired_tasks, staging.min_tasks, staging.log_retention_days) == (3, 2, 90)


def test_an_app_object_is_taken_as_it_is():
    given = App(desired_tasks=1, min_tasks=1, cpu=256, memory=512)
    assert define("qa", Kind.DEVELOPMENT, **BASE, app=given).app is given


def test_app_values_are_the_parameter_strings():
    env = define("qa", Kind.PRODUCTION, **BASE, app={"feature_flags": "box-scores,ai-recap"})
    assert app_values(env) == {
        "AppCpu": "1024",
        "AppMemory": "2048",
        "AppArchitecture": "ARM64",
        "AppDesiredTasks": "3",
        "AppMinTasks": "3",
        "AppMaxTasks": "20",  # the environment's max_app_tasks
        "UseFargateSpot": "false",
        "DeploymentStrategy": "BLUE_GREEN",
        "BakeMinutes": "5",
        "CpuTargetPercent": "60",
        "RequestsPerTaskTarget": "200",
        "PeakStart": "cron(30 21 * * ? *)",
        "PeakEnd": "cron(0 6 * * ? *)",
        "PeakMinTasks": "6",
        "AppLogRetentionDays": "365",
        "EnableEcsExec": "false",
        "EnableXRay": "true",
        "ImageTag": "bootstrap",
        "ApiBasePath": "/api",
        "FeatureFlags": "box-scores,ai-recap",
        "OpenAiDailyCostAlarmUsd": "50",
    }
    dev = define("qa", Kind.DEVELOPMENT, **BASE, app={"ecs_exec": True, "xray": False})
    flags = {k: app_values(dev)[k] for k in ("UseFargateSpot", "EnableEcsExec", "EnableXRay")}
    assert flags == {"UseFargateSpot": "true", "EnableEcsExec": "true", "EnableXRay": "false"}


# --- what is accepted ------------------------------------------------------------------------

EDGES = {  # valid configurations at the limits, each accepted
    "smallest task": {"cpu": 256, "memory": 512},
    "quarter vCPU with 2 GiB": {"cpu": 256, "memory": 2048},
    "largest task": {"cpu": 4096, "memory": 30720},
    "x86": {"architecture": "X86_64"},
    "desired at max_app_tasks": {"desired_tasks": 4},
    "blue/green in development": {"deployment": "BLUE_GREEN"},
    "no bake": {"bake_minutes": 0},
    "a day of bake": {"bake_minutes": 1440},
    "CPU target 10": {"cpu_target_percent": 10},
    "CPU target 90": {"cpu_target_percent": 90},
    "one request per task": {"requests_per_task_target": 1},
    "most requests per task": {"requests_per_task_target": 1_000_000},
    "peak up to max_app_tasks": {**PEAK, "peak_min_tasks": 4},
    "peak at min_tasks": {**PEAK, "peak_min_tasks": 1},
    "weekday peak": {
        "peak_start": "cron(0 22 ? * MON-FRI *)",
        "peak_end": "cron(0 5 ? * TUE-SAT *)",
        "peak_min_tasks": 2,
    },
    "longest log retention": {"log_retention_days": 3653},
    "a git SHA": {"image_tag": "3f9c2a1e7b4d5c6a8e9f0a1b2c3d4e5f6a7b8c9d"},
    "a release tag": {"image_tag": "v1.4.2"},
    "longest tag": {"image_tag": "a" * 128},
    "flags": {"feature_flags": "box-scores,ai_recap,v2"},
    "ecs exec and no tracing": {"ecs_exec": True, "xray": False},
    "a dollar a day of OpenAI": {"openai_daily_cost_alarm_usd": 1},
    "largest OpenAI cost threshold": {"openai_daily_cost_alarm_usd": 100_000},
    "one error line pages": {"error_log_alarm_count": 1},
    "no narration cache": {"cache": False},
}


@pytest.mark.parametrize("change", EDGES.values(), ids=EDGES.keys())
def test_the_limits_are_accepted(change):
    app = app_of(Kind.DEVELOPMENT, **change)
    assert {name: getattr(app, name) for name in change} == change


@pytest.mark.parametrize("cpu", sorted(FARGATE_MEMORY))
def test_every_fargate_memory_size_is_accepted_for_its_cpu(cpu):
    for memory in FARGATE_MEMORY[cpu]:
        assert app_of(Kind.DEVELOPMENT, cpu=cpu, memory=memory).memory == memory


def test_fargate_memory_table_matches_aws():
    """Fargate's CPU/memory combinations (Linux) up to 4 vCPU, from the ECS task-size
    documentation; the model does not offer 8 and 16 vCPU."""
    gib = 1024
    assert {
        256: (512, 1 * gib, 2 * gib),
        512: tuple(n * gib for n in range(1, 5)),
        1024: tuple(n * gib for n in range(2, 9)),
        2048: tuple(n * gib for n in range(4, 17)),
        4096: tuple(n * gib for n in range(8, 31)),
    } == FARGATE_MEMORY


def app_constraint_problems(parameters: dict[str, str]) -> list[tuple[str, str]]:
    """The app stack's parameter constraints each given value breaks."""
    return constraint_problems(app_stack.build().to_dict()["Parameters"], parameters)


@pytest.mark.parametrize("change", [{}, *EDGES.values()], ids=["defaults", *EDGES.keys()])
def test_what_the_model_accepts_the_app_stack_accepts(change):
    """A value the model lets through but a parameter refuses would fail the deploy."""
    env = define("qa", Kind.DEVELOPMENT, **BASE, app=change)
    assert app_constraint_problems(app_values(env)) == []


def test_requests_target_the_stack_refuses_is_refused_by_the_model():
    """The RequestsPerTaskTarget parameter takes 1-1000000: the model names the field before
    the deploy would fail."""
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **BASE, app={"requests_per_task_target": 2_000_000})
    assert [(p.field, p.message) for p in raised.value.problems] == [
        ("app.requests_per_task_target", "2000000 must be 1-1000000")
    ]
    parameter = app_stack.build().to_dict()["Parameters"]["RequestsPerTaskTarget"]
    assert (parameter["MinValue"], parameter["MaxValue"]) == (1, 1_000_000)


# --- bad inputs ------------------------------------------------------------------------------

BAD = {  # in development: 1 task (min 1), max_app_tasks 4
    "a latency baseline below 50 ms": (
        {"latency_p95_alarm_ms": 49}, "latency_p95_alarm_ms", "must be 50-60000 ms"),
    "no error share pages": (
        {"error_rate_alarm_percent": 0}, "error_rate_alarm_percent", "must be 1-100"),
    "no tracing": ({"trace_sampling_percent": 0}, "trace_sampling_percent", "must be 1-100"),
    "more than every request": (
        {"trace_sampling_percent": 101}, "trace_sampling_percent", "must be 1-100"),
    "no error lines page": (
        {"error_log_alarm_count": 0}, "error_log_alarm_count", "must be 1-100000 log lines"),
    "no OpenAI cost threshold": (
        {"openai_daily_cost_alarm_usd": 0}, "openai_daily_cost_alarm_usd",
        "0 must be 1-100000 (US dollars a day)"),
    "OpenAI cost threshold above the parameter's maximum": (
        {"openai_daily_cost_alarm_usd": 100_001}, "openai_daily_cost_alarm_usd",
        "100001 must be 1-100000"),
    "memory not valid for the CPU": (
        {"memory": 512}, "memory", "512 MiB is not valid with 512 CPU; use 1024-4096 in steps of 1024"),
    "memory above the CPU's range": (
        {"cpu": 1024, "memory": 16384}, "memory", "use 2048-8192 in steps of 1024"),
    "unknown CPU": (
        {"cpu": 768}, "cpu", "768 is not a Fargate CPU size; use one of: 256, 512, 1024, 2048, 4096"),
    "unknown architecture": ({"architecture": "arm64"}, "architecture", "use ARM64 or X86_64"),
    "min above desired": (
        {"min_tasks": 2}, "min_tasks", "need 1 <= min_tasks (2) <= desired_tasks (1)"),
    "no task": ({"min_tasks": 0, "desired_tasks": 0}, "min_tasks", "1 <= min_tasks (0)"),
    "desired above max_app_tasks": (
        {"desired_tasks": 5}, "min_tasks", "desired_tasks (5) <= max_app_tasks (4)"),
    "unknown strategy": ({"deployment": "CANARY"}, "deployment", "use ROLLING or BLUE_GREEN"),
    "lowercase strategy": ({"deployment": "rolling"}, "deployment", "use ROLLING or BLUE_GREEN"),
    "negative bake time": ({"bake_minutes": -1}, "bake_minutes", "-1 must be 0-1440"),
    "bake time over a day": ({"bake_minutes": 1441}, "bake_minutes", "1441 must be 0-1440"),
    "CPU target below 10": ({"cpu_target_percent": 9}, "cpu_target_percent", "9 must be 10-90"),
    "CPU target above 90": ({"cpu_target_percent": 95}, "cpu_target_percent", "95 must be 10-90"),
    "no requests per task": (
        {"requests_per_task_target": 0}, "requests_per_task_target", "0 must be 1-1000000"),
    "requests per task above the parameter's maximum": (
        {"requests_per_task_target": 1_000_001},
        "requests_per_task_target", "1000001 must be 1-1000000"),
    "peak start without end": (
        {"peak_start": PEAK["peak_start"], "peak_min_tasks": 2},
        "peak_end", "give both peak_start and peak_end, or neither"),
    "peak end without start": (
        {"peak_end": PEAK["peak_end"]}, "peak_end", "give both peak_start and peak_end"),
    "peak start without cron()": (
        {**PEAK, "peak_start": "30 21 * * ? *", "peak_min_tasks": 2},
        "peak_start", "must be an Application Auto Scaling cron(...) expression in UTC"),
    "peak end as a rate": (
        {**PEAK, "peak_end": "rate(1 day)", "peak_min_tasks": 2},
        "peak_end", "must be an Application Auto Scaling cron(...) expression"),
    "peak end with five fields": (
        {**PEAK, "peak_end": "cron(0 6 * * *)", "peak_min_tasks": 2},
        "peak_end", "'cron(0 6 * * *)' must be an Application Auto Scaling cron(...) expression"),
    "peak min below min_tasks": (
        {**PEAK, "peak_min_tasks": 0},
        "peak_min_tasks", "0 must be between min_tasks (1) and max_app_tasks (4)"),
    "peak min above max_app_tasks": (
        {**PEAK, "peak_min_tasks": 5},
        "peak_min_tasks", "5 must be between min_tasks (1) and max_app_tasks (4)"),
    "log retention CloudWatch refuses": (
        {"log_retention_days": 10},
        "log_retention_days", "10 is not a CloudWatch Logs retention; use one of: 1, 3, 5, 7, 14"),
    "image tag latest": ({"image_tag": "latest"}, "image_tag", "never 'latest'"),
    "image tag with a space": ({"image_tag": "v1 2"}, "image_tag", "must be an immutable tag"),
    "image tag starting with a dash": ({"image_tag": "-v1"}, "image_tag", "a git SHA or release"),
    "empty image tag": ({"image_tag": ""}, "image_tag", "must be an immutable tag"),
    "image tag too long": ({"image_tag": "a" * 129}, "image_tag", "must be an immutable tag"),
    "image tag with a digest": (
        {"image_tag": "sha256:abc"}, "image_tag", "must be an immutable tag"),
    "feature flags in capitals": (
        {"feature_flags": "BoxScores"}, "feature_flags", "comma-separated lowercase flag names"),
    "feature flags with spaces": (
        {"feature_flags": "box-scores, ai-recap"}, "feature_flags", "comma-separated lowercase"),
    "feature flags with a semicolon": (
        {"feature_flags": "a;b"}, "feature_flags", "comma-separated lowercase flag names"),
    "unknown field": ({"replicas": 3}, "replicas", "unknown field; valid fields: cpu, memory"),
    "wrong type": ({"cpu": "512"}, "cpu", "expected int, got str '512'"),
    "bool for a number": ({"desired_tasks": True}, "desired_tasks", "expected int, got bool True"),
    "number for a bool": ({"spot": 1}, "spot", "expected bool, got int 1"),
    "text for a bool": ({"xray": "yes"}, "xray", "expected bool, got str 'yes'"),
    "number for text": ({"image_tag": 42}, "image_tag", "expected str, got int 42"),
}  # fmt: skip


@pytest.mark.parametrize("change, field, fix", BAD.values(), ids=BAD.keys())
def test_bad_app_input_names_the_field_and_the_fix(change, field, fix):
    # Exactly the one problem: each input above breaks one rule.
    problem, error = refused_once("app", change, field)
    assert fix in problem.message
    assert "environment 'qa'" in str(error)


BAD_BASE_PATHS = {  # path -> fix
    "without a slash": ("api", "'api' must be a path like /api (no trailing slash)"),
    "in capitals": ("/API", "'/API' must be a path like /api"),
    "with a query": ("/api?v=2", "'/api?v=2' must be a path like /api"),
    "with a trailing slash": ("/api/", "'/api/' must be a path like /api (no trailing slash)"),
    "the root": ("/", "'/' must be a path like /api (no trailing slash)"),
    "with an empty segment": ("/api//v2", "must be a path like /api"),
}


@pytest.mark.parametrize("path, fix", BAD_BASE_PATHS.values(), ids=BAD_BASE_PATHS.keys())
def test_a_bad_api_base_path_names_the_field_and_the_fix(path, fix):
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **BASE, app={"api_base_path": path})
    problems = {p.field: p.message for p in raised.value.problems}
    # The ALB's default health check, /api/health, is outside any other base path as well.
    assert list(problems) == ["ingress.health_check_path", "app.api_base_path"]
    assert fix in problems["app.api_base_path"]
    assert problems["ingress.health_check_path"].startswith(
        f"/api/health is outside the API's base path {path};"
    )


BAD_IN_PRODUCTION = {  # 3 tasks (min 3), max_app_tasks 20, blue/green, peak at 6
    "one task": (
        {"desired_tasks": 1, "min_tasks": 1}, "min_tasks", "production keeps at least 2 tasks"),
    "on Spot": ({"spot": True}, "spot", "does not run on Fargate Spot"),
    "desired above max_app_tasks": (
        {"desired_tasks": 21}, "min_tasks", "desired_tasks (21) <= max_app_tasks (20)"),
    "peak below a raised min_tasks": (
        {"desired_tasks": 8, "min_tasks": 8}, "peak_min_tasks", "6 must be between min_tasks (8)"),
}  # fmt: skip


@pytest.mark.parametrize("change, field, fix", BAD_IN_PRODUCTION.values(), ids=BAD_IN_PRODUCTION)
def test_bad_production_input_names_the_field_and_the_fix(change, field, fix):
    problem, _ = refused_once("app", change, field, name="prod", kind=Kind.PRODUCTION)
    assert fix in problem.message


def test_production_on_spot_is_told_what_to_set():
    with pytest.raises(ConfigError) as raised:
        define("prod", Kind.PRODUCTION, **BASE, app={"spot": True})
    assert "set spot=False" in raised.value.problems[0].message


@pytest.mark.parametrize("kind", [Kind.DEVELOPMENT, Kind.STAGING])
def test_only_production_refuses_spot_and_a_single_task(kind):
    app = app_of(kind, spot=True, desired_tasks=1, min_tasks=1)
    assert (app.spot, app.min_tasks) == (True, 1)


def test_app_that_is_neither_a_dict_nor_an_app_is_refused():
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **BASE, app="fargate")
    [problem] = raised.value.problems
    assert problem.field == "app"
    assert "expected App(...) or a dict of its fields, got str 'fargate'" in problem.message


def test_every_broken_app_rule_is_reported_at_once():
    with pytest.raises(ConfigError) as raised:
        define(
            "qa",
            Kind.DEVELOPMENT,
            **BASE,
            app={
                "cpu": 512,
                "memory": 512,
                "deployment": "CANARY",
                "cpu_target_percent": 100,
                "log_retention_days": 10,
                "image_tag": "latest",
            },
        )
    assert sorted(p.field for p in raised.value.problems) == [
        "app.cpu_target_percent",
        "app.deployment",
        "app.image_tag",
        "app.log_retention_days",
        "app.memory",
    ]


# --- what the stack's parameters cannot check ------------------------------------------------


@pytest.mark.parametrize(
    "cron", ["cron(30 21 * * *)", "cron(every evening)", "cron(0 30 21 * * ? *)", "cron()"]
)
def test_a_peak_cron_without_six_fields_is_refused(cron):
    """Application Auto Scaling needs six fields (minutes hours day-of-month month
    day-of-week year); the PeakStart parameter's pattern only wants cron(...)."""
    with pytest.raises(ConfigError) as raised:
        define(
            "qa", Kind.DEVELOPMENT, **BASE, app={**PEAK, "peak_start": cron, "peak_min_tasks": 2}
        )
    assert [(p.field, p.message) for p in raised.value.problems] == [
        (
            "app.peak_start",
            f"{cron!r} must be an Application Auto Scaling cron(...) expression in UTC",
        )
    ]


def test_an_api_base_path_the_albs_health_check_misses_is_refused():
    """The container checks api_base_path + /health, the ALB ingress.health_check_path
    (default /api/health): another base path without its own health path is refused."""
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **BASE, app={"api_base_path": "/v1"})
    assert [(p.field, p.message) for p in raised.value.problems] == [
        (
            "ingress.health_check_path",
            "/api/health is outside the API's base path /v1; the ALB must check the backend's "
            "own health route, e.g. /v1/health",
        )
    ]


@pytest.mark.parametrize("base_path", ["/v1", "/playback/api", "/api_v2", "/a-b"])
def test_an_api_base_path_with_the_health_check_under_it_is_accepted(base_path):
    env = define(
        "qa",
        Kind.DEVELOPMENT,
        **with_ingress(health_check_path=f"{base_path}/health"),
        app={"api_base_path": base_path},
    )
    assert (env.app.api_base_path, env.ingress.health_check_path) == (
        base_path,
        f"{base_path}/health",
    )
    assert app_constraint_problems(app_values(env)) == []


@pytest.mark.parametrize(
    "health_path",
    [
        "/api",  # the base path itself, not a route under it
        "/apiv2/health",  # shares the prefix, not the path segment
        "/health",
        "/v1/api/health",
    ],
)
def test_a_health_check_outside_the_api_base_path_is_refused(health_path):
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **with_ingress(health_check_path=health_path))
    [problem] = raised.value.problems
    assert problem.field == "ingress.health_check_path"
    assert problem.message == (
        f"{health_path} is outside the API's base path /api; the ALB must check the backend's "
        "own health route, e.g. /api/health"
    )
