"""The web and features parts of the environment model: defaults, changes and bad inputs."""

from __future__ import annotations

import pytest

from playback_infra.environments.catalog import environments
from playback_infra.environments.model import Kind, define
from playback_infra.environments.parameters import edge_parameter_file, web_values
from playback_infra.environments.web import Features, Web
from tests.environments.helpers import BASE, refused_once

ZONE = {"hosted_zone_id": "Z0QAPLAYBACKEXAMPLE"}
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def test_defaults_by_kind():
    envs = {
        kind: define("qa", kind, **{**BASE, "web": ZONE})
        for kind in (Kind.DEVELOPMENT, Kind.STAGING, Kind.PRODUCTION)
    }
    assert {k.value: e.web.price_class for k, e in envs.items()} == {
        "development": "PriceClass_100",
        "staging": "PriceClass_100",
        "production": "PriceClass_All",
    }
    assert {k.value: e.features.debug_panel for k, e in envs.items()} == {
        "development": True,
        "staging": False,
        "production": False,
    }
    assert envs[Kind.PRODUCTION].web == Web(
        **ZONE, price_class="PriceClass_All", waf_log_retention_days=365, access_log_days=365
    )


def test_catalog_environments_issue_the_site_certificate_in_their_zone():
    for env in environments():
        assert env.web.hosted_zone_id.startswith("Z") and not env.web.certificate_arn
        assert env.features == Features(debug_panel=env.name == "dev")


def test_a_dict_changes_only_the_fields_it_names():
    env = define(
        "qa", Kind.STAGING, **{**BASE, "web": {**ZONE, "waf_rate_limit": 300}},
        features={"narration": False, "max_replay_speed": 16},
    )  # fmt: skip
    assert env.web == Web(**ZONE, waf_rate_limit=300)
    assert env.features == Features(narration=False, max_replay_speed=16)


def test_an_existing_certificate_in_us_east_1_serves_any_environment_region():
    env = define("qa", Kind.DEVELOPMENT, **{
        **BASE, "region": "eu-west-1", "web": {"certificate_arn": CERTIFICATE},
        "ingress": {"certificate_arn": CERTIFICATE.replace("us-east-1", "eu-west-1")},
    })  # fmt: skip
    assert edge_parameter_file(env)["Parameters"]["SiteExistingCertificateArn"] == CERTIFICATE
    assert web_values(env)["SiteHostedZoneId"] == ""


def test_web_values_and_the_edge_parameter_file_are_the_parameter_strings():
    env = define("qa", Kind.PRODUCTION, **{**BASE, "web": ZONE})
    assert web_values(env) == {
        "SiteDomain": "test.playback.example.com",
        "SiteHostedZoneId": "Z0QAPLAYBACKEXAMPLE",
        "SitePriceClass": "PriceClass_All",
        "SiteAccessLogDays": "365",
        "SitePreviousVersionsDays": "30",
    }
    assert edge_parameter_file(env)["Parameters"] == {
        "EnvironmentName": "qa",
        "RetainStatefulResources": "true",
        "SiteDomain": "test.playback.example.com",
        "SiteHostedZoneId": "Z0QAPLAYBACKEXAMPLE",
        "SiteExistingCertificateArn": "",
        "EdgeWafRateLimit": "1000",
        "EdgeWafLogRetentionDays": "365",
    }


def test_features_as_the_spa_reads_them():
    assert Features().as_config() == {
        "narration": True,
        "boxScore": True,
        "maxReplaySpeed": 8,
        "pollIntervalSeconds": 5,
        "debugPanel": False,
    }


BAD_WEB = {
    "neither zone nor certificate": ({}, "hosted_zone_id", "give exactly one: hosted_zone_id"),
    "both zone and certificate": (
        {**ZONE, "certificate_arn": CERTIFICATE}, "hosted_zone_id", "or certificate_arn"),
    "malformed hosted zone": ({"hosted_zone_id": "example.com"}, "hosted_zone_id", "like Z0123"),
    "certificate outside us-east-1": (
        {"certificate_arn": CERTIFICATE.replace("us-east-1", "eu-west-1")},
        "certificate_arn", "the certificate is in eu-west-1; CloudFront needs one in us-east-1"),
    "not a certificate": (
        {"certificate_arn": "arn:aws:iam::123456789012:server-certificate/site"},
        "certificate_arn", "is not an ACM certificate ARN"),
    "unknown price class": (
        {**ZONE, "price_class": "PriceClass_50"}, "price_class", "use one of: PriceClass_100"),
    "WAF limit below 10": ({**ZONE, "waf_rate_limit": 9}, "waf_rate_limit", "10-2000000000"),
    "WAF log retention CloudWatch refuses": (
        {**ZONE, "waf_log_retention_days": 45}, "waf_log_retention_days",
        "not a CloudWatch Logs retention"),
    "no access log days": ({**ZONE, "access_log_days": 0}, "access_log_days", "1-3650 days"),
    "old versions kept forever": (
        {**ZONE, "previous_versions_days": 3651}, "previous_versions_days", "1-3650 days"),
    "text for a number": ({**ZONE, "waf_rate_limit": "1000"}, "waf_rate_limit", "expected int, got str"),
    "unknown field": ({**ZONE, "cdn": "fastly"}, "cdn", "unknown field; valid fields"),
}  # fmt: skip


@pytest.mark.parametrize(("change", "field", "fix"), BAD_WEB.values(), ids=BAD_WEB.keys())
def test_bad_web_input_names_the_field_and_the_fix(change, field, fix):
    problem, _ = refused_once("web", change, field)
    assert fix in problem.message


BAD_FEATURES = {
    "replay speed 0": ({"max_replay_speed": 0}, "max_replay_speed", "must be 1-64"),
    "replay speed 65": ({"max_replay_speed": 65}, "max_replay_speed", "must be 1-64"),
    "polling faster than a second": (
        {"poll_interval_seconds": 0}, "poll_interval_seconds", "must be 1-60"),
    "a number for a flag": ({"narration": 1}, "narration", "expected bool, got int 1"),
    "a flag for a number": (
        {"max_replay_speed": True}, "max_replay_speed", "expected int, got bool True"),
    "unknown flag": ({"live_chat": True}, "live_chat", "unknown field; valid fields"),
}  # fmt: skip


@pytest.mark.parametrize(("change", "field", "fix"), BAD_FEATURES.values(), ids=BAD_FEATURES.keys())
def test_bad_feature_flags_name_the_field_and_the_fix(change, field, fix):
    problem, _ = refused_once("features", change, field)
    assert fix in problem.message


def test_production_refuses_the_debug_panel():
    problem, _ = refused_once(
        "features", {"debug_panel": True}, "debug_panel", kind=Kind.PRODUCTION
    )
    assert "not in production; set it False" in problem.message
