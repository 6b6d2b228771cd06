"""The ingress part of the environment model: defaults, how a dict changes them, and bad inputs."""

from __future__ import annotations

import pytest

from playback_infra.environments.catalog import environments
from playback_infra.environments.ingress import Ingress
from playback_infra.environments.model import ConfigError, Kind, define
from playback_infra.environments.parameters import ingress_values
from tests.environments.helpers import ENVIRONMENT, refused_once

ZONE = {"hosted_zone_id": "Z0QAPLAYBACKEXAMPLE"}
CERTIFICATE_ID = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def certificate(region: str = "us-east-1") -> str:
    return f"arn:aws:acm:{region}:123456789012:certificate/{CERTIFICATE_ID}"


def test_defaults():
    assert Ingress() == Ingress(
        hosted_zone_id="",
        certificate_arn="",
        health_check_path="/api/health",
        health_check_interval_seconds=10,
        health_check_timeout_seconds=5,
        healthy_threshold=2,
        unhealthy_threshold=3,
        deregistration_delay_seconds=30,
        waf_rate_limit=2000,
        waf_log_retention_days=90,
        access_log_days=90,
    )


def test_catalog_environments_issue_their_certificates_and_keep_logs_by_kind():
    envs = {env.name: env.ingress for env in environments()}
    assert all(i.hosted_zone_id.startswith("Z") and not i.certificate_arn for i in envs.values())
    assert {name: i.access_log_days for name, i in envs.items()} == {
        "dev": 30,
        "staging": 90,
        "prod": 365,
    }
    assert {name: i.waf_log_retention_days for name, i in envs.items()} == {
        "dev": 90,
        "staging": 90,
        "prod": 365,
    }


def test_a_dict_changes_only_the_fields_it_names():
    ingress = define(
        "qa", Kind.PRODUCTION, **ENVIRONMENT, ingress={**ZONE, "waf_rate_limit": 500}
    ).ingress
    assert ingress == Ingress(hosted_zone_id="Z0QAPLAYBACKEXAMPLE", waf_rate_limit=500)
    assert (ingress.health_check_path, ingress.deregistration_delay_seconds) == ("/api/health", 30)


def test_an_ingress_object_is_taken_as_it_is():
    given = Ingress(hosted_zone_id="Z0QAPLAYBACKEXAMPLE", access_log_days=7)
    assert define("qa", Kind.DEVELOPMENT, **ENVIRONMENT, ingress=given).ingress is given


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_an_existing_certificate_in_the_environments_region_is_accepted(region):
    env = define(
        "qa", Kind.DEVELOPMENT, **{**ENVIRONMENT, "region": region},
        ingress={"certificate_arn": certificate(region)},
    )  # fmt: skip
    assert (env.ingress.certificate_arn, env.ingress.hosted_zone_id) == (certificate(region), "")
    given = ingress_values(env)
    assert (given["CertificateArn"], given["HostedZoneId"]) == (certificate(region), "")


def test_ingress_values_are_the_parameter_strings():
    env = define(
        "qa", Kind.DEVELOPMENT, **ENVIRONMENT, ingress={**ZONE, "health_check_path": "/api/ping"}
    )
    assert ingress_values(env) == {
        "ApiDomain": "api.test.playback.example.com",
        "HostedZoneId": "Z0QAPLAYBACKEXAMPLE",
        "CertificateArn": "",
        "HealthCheckPath": "/api/ping",
        "HealthCheckIntervalSeconds": "10",
        "HealthCheckTimeoutSeconds": "5",
        "HealthyThreshold": "2",
        "UnhealthyThreshold": "3",
        "DeregistrationDelaySeconds": "30",
        "EnableRegionalWaf": "true",
        "WafRateLimit": "2000",
        "WafLogRetentionDays": "90",
        "AccessLogDays": "90",
    }


@pytest.mark.parametrize(
    ("kind", "changes", "message"),
    [
        (Kind.DEVELOPMENT, {"alb_ingress": "internet"}, "open to the internet"),
        (Kind.STAGING, {"alb_ingress": "internet"}, "open to the internet"),
        (Kind.PRODUCTION, {}, "production keeps the ALB's own WAF"),
    ],
)
def test_the_regional_waf_goes_only_behind_cloudfront_and_never_in_production(
    kind, changes, message
):
    with pytest.raises(ConfigError) as raised:
        define("qa", kind, **ENVIRONMENT, **changes, ingress={**ZONE, "regional_waf": False})
    assert [p.field for p in raised.value.problems] == ["ingress.regional_waf"]
    assert message in str(raised.value)
    behind_cloudfront = define(
        "qa", Kind.STAGING, **ENVIRONMENT, ingress={**ZONE, "regional_waf": False}
    )
    assert ingress_values(behind_cloudfront)["EnableRegionalWaf"] == "false"


EDGES = {  # the limits AWS allows, each accepted
    "shortest interval": {"health_check_interval_seconds": 5, "health_check_timeout_seconds": 4},
    "longest interval": {"health_check_interval_seconds": 300},
    "shortest timeout": {"health_check_timeout_seconds": 2},
    "thresholds at 2": {"healthy_threshold": 2, "unhealthy_threshold": 2},
    "thresholds at 10": {"healthy_threshold": 10, "unhealthy_threshold": 10},
    "no deregistration delay": {"deregistration_delay_seconds": 0},
    "longest deregistration delay": {"deregistration_delay_seconds": 3600},
    "lowest WAF limit": {"waf_rate_limit": 10},
    "highest WAF limit": {"waf_rate_limit": 2_000_000_000},
    "longest WAF log retention": {"waf_log_retention_days": 3653},
    "one day of access logs": {"access_log_days": 1},
    "ten years of access logs": {"access_log_days": 3650},
    "longest health path": {"health_check_path": "/api/" + "h" * 1019},
}


@pytest.mark.parametrize("change", EDGES.values(), ids=EDGES.keys())
def test_the_limits_aws_allows_are_accepted(change):
    ingress = define("qa", Kind.DEVELOPMENT, **ENVIRONMENT, ingress={**ZONE, **change}).ingress
    assert {name: getattr(ingress, name) for name in change} == change


BAD = {
    "neither zone nor certificate": ({}, "hosted_zone_id", "give exactly one: hosted_zone_id"),
    "both zone and certificate": (
        {**ZONE, "certificate_arn": certificate()}, "hosted_zone_id", "or certificate_arn"),
    "malformed hosted zone": (
        {"hosted_zone_id": "zone-1234"}, "hosted_zone_id", "like Z0123456789ABCDEFGHIJ"),
    "malformed certificate ARN": (
        {"certificate_arn": "arn:aws:acm:us-east-1:123456789012:cert/abc"},
        "certificate_arn", "is not an ACM certificate ARN"),
    "IAM server certificate": (
        {"certificate_arn": "arn:aws:iam::123456789012:server-certificate/api"},
        "certificate_arn", "is not an ACM certificate ARN"),
    "certificate in another region": (
        {"certificate_arn": certificate("us-west-2")},
        "certificate_arn", "the certificate is in us-west-2; the ALB needs one in us-east-1"),
    "health path with a space": (
        {**ZONE, "health_check_path": "/api/he alth"}, "health_check_path", "starting with /"),
    "health path too long": (
        {**ZONE, "health_check_path": "/api/" + "h" * 1020}, "health_check_path", "starting with /"),
    # The ALB must check the backend's own health route, under the API's base path (/api).
    "root health path": (
        {**ZONE, "health_check_path": "/"},
        "health_check_path", "/ is outside the API's base path /api; the ALB must check"),
    "health path outside the API": (
        {**ZONE, "health_check_path": "/health"},
        "health_check_path", "/health is outside the API's base path /api"),
    "health path only sharing the API's prefix": (
        {**ZONE, "health_check_path": "/apiv2/health"},
        "health_check_path", "e.g. /api/health"),
    "interval too short": (
        {**ZONE, "health_check_interval_seconds": 4, "health_check_timeout_seconds": 2},
        "health_check_interval_seconds", "must be 5-300"),
    "interval too long": (
        {**ZONE, "health_check_interval_seconds": 301}, "health_check_interval_seconds", "5-300"),
    "timeout equal to the interval": (
        {**ZONE, "health_check_timeout_seconds": 10},
        "health_check_timeout_seconds", "below the interval (10)"),
    "timeout too short": (
        {**ZONE, "health_check_timeout_seconds": 1}, "health_check_timeout_seconds", "2-120"),
    "healthy threshold below 2": ({**ZONE, "healthy_threshold": 1}, "healthy_threshold", "2-10"),
    "unhealthy threshold above 10": (
        {**ZONE, "unhealthy_threshold": 11}, "unhealthy_threshold", "must be 2-10"),
    "negative deregistration delay": (
        {**ZONE, "deregistration_delay_seconds": -1}, "deregistration_delay_seconds", "0-3600"),
    "deregistration delay over an hour": (
        {**ZONE, "deregistration_delay_seconds": 3601}, "deregistration_delay_seconds", "0-3600"),
    "WAF limit below 10": (
        {**ZONE, "waf_rate_limit": 9}, "waf_rate_limit", "10-2000000000 requests per 5 minutes"),
    "WAF limit above WAF's maximum": (
        {**ZONE, "waf_rate_limit": 2_000_000_001}, "waf_rate_limit", "10-2000000000"),
    "WAF log retention CloudWatch refuses": (
        {**ZONE, "waf_log_retention_days": 100},
        "waf_log_retention_days", "not a CloudWatch Logs retention; use one of: 1, 3, 5"),
    "no access log days": ({**ZONE, "access_log_days": 0}, "access_log_days", "must be 1-3650"),
    "access logs over ten years": ({**ZONE, "access_log_days": 3651}, "access_log_days", "1-3650"),
    "wrong type": (
        {**ZONE, "healthy_threshold": "2"}, "healthy_threshold", "expected int, got str '2'"),
    "bool for a number": (
        {**ZONE, "waf_rate_limit": True}, "waf_rate_limit", "expected int, got bool True"),
    "unknown field": ({**ZONE, "waf_rules": []}, "waf_rules", "unknown field; valid fields"),
}  # fmt: skip


@pytest.mark.parametrize("change, field, fix", BAD.values(), ids=BAD.keys())
def test_bad_ingress_input_names_the_field_and_the_fix(change, field, fix):
    # Exactly the one problem: each input above breaks one rule.
    problem, error = refused_once("ingress", change, field)
    assert fix in problem.message
    assert "environment 'qa'" in str(error)


def test_a_health_path_without_a_leading_slash_is_neither_a_path_nor_under_the_api():
    with pytest.raises(ConfigError) as raised:
        define(
            "qa",
            Kind.DEVELOPMENT,
            **ENVIRONMENT,
            ingress={**ZONE, "health_check_path": "api/health"},
        )
    assert [(p.field, p.message) for p in raised.value.problems] == [
        ("ingress.health_check_path", "'api/health' must be a path starting with /"),
        (
            "ingress.health_check_path",
            "api/health is outside the API's base path /api; the ALB must check the backend's "
            "own health route, e.g. /api/health",
        ),
    ]


def test_ingress_that_is_neither_a_dict_nor_an_ingress_is_refused():
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **ENVIRONMENT, ingress="Z0QAPLAYBACKEXAMPLE")
    [problem] = raised.value.problems
    assert problem.field == "ingress"
    assert "expected Ingress(...) or a dict of its fields, got str" in problem.message


def test_every_broken_ingress_rule_is_reported_at_once():
    with pytest.raises(ConfigError) as raised:
        define(
            "qa",
            Kind.DEVELOPMENT,
            **ENVIRONMENT,
            ingress={"health_check_path": "health", "waf_rate_limit": 1, "access_log_days": 0},
        )
    assert sorted(p.field for p in raised.value.problems) == [
        "ingress.access_log_days",
        "ingress.health_check_path",  # not a path
        "ingress.health_check_path",  # not under the API's base path
        "ingress.hosted_zone_id",
        "ingress.waf_rate_limit",
    ]


def test_a_timeout_over_120_seconds_is_refused():
    with pytest.raises(ConfigError) as raised:
        define(
            "qa",
            Kind.DEVELOPMENT,
            **ENVIRONMENT,
            ingress={
                **ZONE,
                "health_check_interval_seconds": 300,
                "health_check_timeout_seconds": 150,
            },
        )
    assert [p.field for p in raised.value.problems] == ["ingress.health_check_timeout_seconds"]
