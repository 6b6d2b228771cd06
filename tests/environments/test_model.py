"""The environment model: defaults per kind, derived values, and one clear error per bad input."""

from __future__ import annotations

import re
from ipaddress import IPv4Network

import pytest

from playback_infra.environments.catalog import environments
from playback_infra.environments.model import (
    AlbIngress,
    ConfigError,
    InterfaceEndpoint,
    Kind,
    NatMode,
    Tags,
    define,
    validate_catalog,
)
from playback_infra.environments.parameters import parameter_values
from tests.environments.helpers import BASE


def test_catalog_defines_dev_staging_prod_with_their_kinds_defaults():
    envs = validate_catalog(environments())
    assert list(envs) == ["dev", "staging", "prod"]
    dev, staging, prod = envs.values()
    assert (dev.az_count, dev.nat_mode, dev.retain_data) == (2, NatMode.PUBLIC_IPS, False)
    assert (staging.az_count, staging.nat_mode, staging.retain_data) == (2, NatMode.SINGLE, True)
    assert (prod.az_count, prod.nat_mode, prod.retain_data) == (3, NatMode.PER_AZ, True)
    assert prod.interface_endpoints == frozenset(InterfaceEndpoint)
    # dev: no NAT; the rotation functions reach Secrets Manager through its endpoint, in one AZ
    assert dev.interface_endpoints == frozenset({InterfaceEndpoint.SECRETS_MANAGER})
    assert (dev.endpoints_in_one_az, staging.endpoints_in_one_az, prod.endpoints_in_one_az) == (
        True, False, False,
    )  # fmt: skip
    assert (dev.ingress.regional_waf, staging.ingress.regional_waf, prod.ingress.regional_waf) == (
        False, True, True,
    )  # fmt: skip
    assert prod.flow_log_retention_days == 365
    assert prod.availability_zones == ("us-east-1a", "us-east-1b", "us-east-1c")


def test_strings_are_accepted_for_enums_and_sets():
    env = define(
        "qa", "development", **BASE, nat_mode="per-az", interface_endpoints=["ecr", "logs"]
    )
    assert env.kind is Kind.DEVELOPMENT
    assert env.nat_mode is NatMode.PER_AZ
    assert env.interface_endpoints == {InterfaceEndpoint.ECR, InterfaceEndpoint.LOGS}


def test_cloudfront_prefix_list_follows_region_and_ingress_mode():
    assert define("qa", Kind.DEVELOPMENT, **BASE).cloudfront_prefix_list == "pl-3b927c52"
    west = define("qa", Kind.DEVELOPMENT, **{**BASE, "region": "us-west-2"})
    assert west.cloudfront_prefix_list == "pl-82a045eb"
    open_alb = define("qa", Kind.DEVELOPMENT, **BASE, alb_ingress=AlbIngress.INTERNET)
    assert open_alb.cloudfront_prefix_list == ""


def test_subnets_are_tier_blocks_cut_into_fixed_slots():
    env = define("qa", Kind.PRODUCTION, **BASE)
    layout = env.subnets
    assert layout.app.block == IPv4Network("10.30.0.0/17")
    assert layout.public.block == IPv4Network("10.30.128.0/18")
    assert layout.data.block == IPv4Network("10.30.192.0/18")
    assert [str(s) for s in layout.app.subnets] == [
        "10.30.0.0/19",
        "10.30.32.0/19",
        "10.30.64.0/19",
    ]
    assert [str(s) for s in layout.data.subnets] == [
        "10.30.192.0/20", "10.30.208.0/20", "10.30.224.0/20",
    ]  # fmt: skip
    assert all(
        s.subnet_of(t.block) for t in (layout.public, layout.app, layout.data) for s in t.subnets
    )
    assert layout.app.usable_per_subnet == 8192 - 5


def test_adding_an_az_keeps_the_existing_subnets():
    two = define("qa", Kind.DEVELOPMENT, **BASE).subnets
    three = define("qa", Kind.DEVELOPMENT, **BASE, az_count=3).subnets
    for tier in ("public", "app", "data"):
        assert getattr(three, tier).subnets[:2] == getattr(two, tier).subnets


def test_smallest_vpc_that_passes_still_gives_the_alb_a_27():
    env = define("qa", Kind.DEVELOPMENT, **{**BASE, "vpc_cidr": "10.30.0.0/23"}, max_app_tasks=2)
    assert env.subnets.public.subnets[0].prefixlen == 27


# (fields to change, field named in the error, words the fix must contain)
BAD_INPUTS = {
    "malformed CIDR": ({"vpc_cidr": "10.0.0.0/33"}, "vpc_cidr", "not a valid IPv4 network"),
    "host bits set": ({"vpc_cidr": "10.0.0.1/16"}, "vpc_cidr", "not a valid IPv4 network"),
    "not a CIDR at all": ({"vpc_cidr": "my-vpc"}, "vpc_cidr", "e.g. 10.20.0.0/16"),
    "/28 VPC": ({"vpc_cidr": "10.0.0.0/28"}, "vpc_cidr", "too small"),
    "/24 VPC": ({"vpc_cidr": "10.0.0.0/24"}, "vpc_cidr", "the ALB needs /27"),
    "/8 VPC": ({"vpc_cidr": "10.0.0.0/8"}, "vpc_cidr", "larger than AWS allows"),
    "public range": ({"vpc_cidr": "8.8.0.0/16"}, "vpc_cidr", "RFC 1918"),
    "IPv6 range": ({"vpc_cidr": "fd00::/56"}, "vpc_cidr", "IPv6"),
    "4 AZs": ({"az_count": 4}, "az_count", "use 2 or 3"),
    "1 AZ": ({"az_count": 1}, "az_count", "use 2 or 3"),
    "AZ of another region": (
        {"availability_zones": ("us-west-2a", "us-west-2b")}, "availability_zones", "us-east-1a"),
    "AZ list too short": ({"availability_zones": ("us-east-1a",)}, "availability_zones", "exactly 2"),
    "unknown NAT mode": ({"nat_mode": "dual"}, "nat_mode", "none, single, per-az"),
    "region with a typo": ({"region": "us-eest-1"}, "region", "us-east-1"),
    "empty cost center": ({"tags": Tags(cost_center="", owner="x")}, "tags.cost_center", "1-256"),
    "owner with padding": ({"tags": Tags(cost_center="cc", owner=" me ")}, "tags.owner", "surrounding"),
    "tags missing a key": ({"tags": {"owner": "x"}}, "tags", "cost_center and owner"),
    "wrong type for az_count": ({"az_count": "3"}, "az_count", "whole number, got str '3'"),
    "bool for app_port": ({"app_port": True}, "app_port", "whole number"),
    "wrong type for endpoints": ({"interface_endpoints": "ecr"}, "interface_endpoints", "set"),
    "unknown endpoint": ({"interface_endpoints": {"sqs"}}, "interface_endpoints", "ecr, logs"),
    "privileged port": ({"app_port": 80}, "app_port", "non-root"),
    "retention CloudWatch refuses": ({"flow_log_retention_days": 10}, "flow_log_retention_days", "14"),
    "account id too short": ({"account_id": "12345"}, "account_id", "12-digit"),
    "bad alarm e-mail": ({"alarm_email": "alerts"}, "alarm_email", "e-mail"),
    "uppercase domain": ({"site_domain": "Playback.Example.com"}, "site_domain", "lowercase"),
    "same site and api domain": (
        {"api_domain": "test.playback.example.com"}, "api_domain", "must differ"),
    "too many tasks for the subnets": (
        {"vpc_cidr": "10.0.0.0/23", "max_app_tasks": 40}, "vpc_cidr", "2 x max_app_tasks"),
    "a budget under ten dollars": (
        {"monthly_budget_usd": 5}, "monthly_budget_usd", "must be 10-1000000 US dollars"),
    "a budget given as text": (
        {"monthly_budget_usd": "150"}, "monthly_budget_usd", "expected a whole number"),
    "canary every 0 minutes": (
        {"canary_interval_minutes": 0}, "canary_interval_minutes", "must be 1-60 minutes"),
    "canary every 2 hours": (
        {"canary_interval_minutes": 120}, "canary_interval_minutes", "must be 1-60 minutes"),
    "canary interval as text": (
        {"canary_interval_minutes": "5"}, "canary_interval_minutes", "expected a whole number"),
    "unknown field": ({"nat_gateways": 2}, "nat_gateways", "unknown field"),
    "NAT none without endpoints": ({"nat_mode": "none"}, "interface_endpoints", "ecr, logs and secretsmanager"),
    "public IPs without the Secrets Manager endpoint": (
        {"nat_mode": "public-ips", "interface_endpoints": set()}, "interface_endpoints",
        "the secret rotation functions have no public address"),
    "endpoints in one AZ as text": (
        {"endpoints_in_one_az": "yes"}, "endpoints_in_one_az", "expected True or False"),
}  # fmt: skip


@pytest.mark.parametrize("change, field, fix", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_gets_one_clear_error_naming_environment_field_and_fix(change, field, fix):
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **{**BASE, **change})
    messages = [str(p) for p in raised.value.problems]
    named = [m for m in messages if m.startswith(f"environment 'qa', field '{field}':")]
    assert named, messages
    assert fix in named[0]


def test_prod_with_nat_none_is_refused_even_with_endpoints():
    with pytest.raises(ConfigError) as raised:
        define("prod", Kind.PRODUCTION, **BASE, nat_mode="none")
    assert [p.field for p in raised.value.problems] == ["nat_mode"]
    assert "use 'per-az'" in str(raised.value)


@pytest.mark.parametrize("kind", [Kind.STAGING, Kind.PRODUCTION])
def test_public_task_addresses_are_for_development_only(kind):
    with pytest.raises(ConfigError) as raised:
        define("qa", kind, **BASE, nat_mode="public-ips")
    assert "nat_mode" in [p.field for p in raised.value.problems]
    assert "development only" in str(raised.value)


def test_prod_keeps_an_endpoint_in_every_az():
    with pytest.raises(ConfigError) as raised:
        define("prod", Kind.PRODUCTION, **BASE, endpoints_in_one_az=True)
    assert [p.field for p in raised.value.problems] == ["endpoints_in_one_az"]
    assert define("qa", Kind.STAGING, **BASE, endpoints_in_one_az=True).endpoints_in_one_az


def test_prod_with_a_single_nat_is_refused():
    with pytest.raises(ConfigError, match=r"field 'nat_mode'.*use 'per-az'"):
        define("prod", Kind.PRODUCTION, **BASE, nat_mode=NatMode.SINGLE)


def test_prod_canary_runs_at_least_every_five_minutes():
    assert define("prod", Kind.PRODUCTION, **BASE, canary_interval_minutes=5)
    with pytest.raises(ConfigError) as raised:
        define("prod", Kind.PRODUCTION, **BASE, canary_interval_minutes=10)
    assert [p.field for p in raised.value.problems] == ["canary_interval_minutes"]
    assert "use 5 or fewer" in str(raised.value)


@pytest.mark.parametrize(("minutes", "schedule"), [(1, "rate(1 minute)"), (30, "rate(30 minutes)")])
def test_canary_schedule_is_a_rate_of_the_models_minutes(minutes, schedule):
    env = define("qa", Kind.DEVELOPMENT, **BASE, canary_interval_minutes=minutes)
    given = parameter_values(env)
    assert (given["CanarySchedule"], given["CanaryPeriodSeconds"]) == (schedule, str(minutes * 60))


def test_missing_required_field_is_named():
    fields = {k: v for k, v in BASE.items() if k != "alarm_email"}
    with pytest.raises(ConfigError, match="field 'alarm_email': required field is missing"):
        define("qa", Kind.DEVELOPMENT, **fields)


def test_unknown_kind_lists_the_kinds():
    with pytest.raises(
        ConfigError, match="field 'kind': 'testing' is not valid; use one of: development"
    ):
        define("qa", "testing", **BASE)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as raised:
        define(
            "qa", Kind.DEVELOPMENT, **{**BASE, "region": "mars-1", "account_id": "x"}, app_port=1
        )
    assert {p.field for p in raised.value.problems} == {"region", "account_id", "app_port"}


def test_environments_must_not_share_vpc_ranges_or_names():
    a = define("one", Kind.DEVELOPMENT, **BASE)
    b = define("two", Kind.DEVELOPMENT, **{**BASE, "vpc_cidr": "10.30.128.0/17"})
    with pytest.raises(
        ConfigError,
        match=re.escape("environment 'two', field 'vpc_cidr': 10.30.128.0/17 overlaps one's"),
    ):
        validate_catalog([a, b])
    with pytest.raises(ConfigError, match="field 'name': defined twice"):
        validate_catalog([a, a])


# --- messages that lead to the fix -------------------------------------------------------------


def _catalog(**ranges):
    return [
        define(name, Kind.DEVELOPMENT, **{**BASE, "vpc_cidr": cidr})
        for name, cidr in ranges.items()
    ]


def test_an_overlap_blames_the_environment_whose_range_was_edited_and_offers_a_free_one():
    # `one` comes first but was edited onto `two`'s range: `one` is to blame.
    envs = _catalog(one="10.21.0.0/16", two="10.21.0.0/16", three="10.22.0.0/16")
    committed = {"one": "10.20.0.0/16", "two": "10.21.0.0/16", "three": "10.22.0.0/16"}
    with pytest.raises(ConfigError) as raised:
        validate_catalog(envs, lambda: committed)
    assert [str(p) for p in raised.value.problems] == [
        "environment 'one', field 'vpc_cidr': 10.21.0.0/16 overlaps two's 10.21.0.0/16; give "
        "every environment its own range so VPCs can be peered or joined by VPN: 10.23.0.0/16 "
        "is free"
    ]
    # Without the committed ranges, the later one is named.
    with pytest.raises(ConfigError, match="environment 'two', field 'vpc_cidr'"):
        validate_catalog(envs)


def test_the_free_range_offered_is_of_the_edited_size_and_wraps_around_its_block():
    envs = _catalog(one="192.168.254.0/23", two="192.168.254.0/23")
    with pytest.raises(ConfigError) as raised:
        validate_catalog(envs)
    free = re.search(r"(\S+) is free", str(raised.value))[1]
    assert free == "192.168.0.0/23"  # after the block's last /23, its first
    assert not any(IPv4Network(free).overlaps(env.network) for env in envs)


def test_synth_blames_the_environment_that_differs_from_its_parameter_file(
    tmp_path, capsys, monkeypatch
):
    """dev (first in the catalog) moved onto staging's range: dev is named, not staging."""
    import dataclasses

    from playback_infra import synth
    from playback_infra.cli import EXIT_CONFIG, main

    def edited():
        return tuple(
            dataclasses.replace(env, vpc_cidr="10.21.0.0/16") if env.name == "dev" else env
            for env in environments()
        )

    monkeypatch.setattr(synth, "environments", edited)
    assert main(["--root", str(tmp_path), "synth"]) == EXIT_CONFIG
    assert capsys.readouterr().err.splitlines() == [
        "configuration error (1):",
        "  environment 'dev', field 'vpc_cidr': 10.21.0.0/16 overlaps staging's 10.21.0.0/16; "
        "give every environment its own range so VPCs can be peered or joined by VPN: "
        "10.23.0.0/16 is free",
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_real_region_without_its_facts_says_why_and_where_to_add_it():
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **{**BASE, "region": "eu-south-1"})
    problems = [p for p in raised.value.problems if p.field == "region"]
    assert len(problems) == 1
    assert problems[0].message.startswith(
        "'eu-south-1' is an AWS region this deployment does not support yet: "
        "environments/regions.py has no ID of its CloudFront origin-facing prefix list (the ALB "
        "admits only CloudFront through it) nor its Elastic Load Balancing account"
    )


def test_a_region_that_is_none_offers_the_close_one():
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **{**BASE, "region": "us-eest-1"})
    region = next(p for p in raised.value.problems if p.field == "region")
    assert region.message.startswith("'us-eest-1' is not an AWS region; did you mean us-east-1? ")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"vpc_cdir": "10.30.0.0/16"}, "vpc_cdir", "unknown field; did you mean vpc_cidr? valid fields: name, kind"),
        ({"database": {"backup_retention_day": 7}}, "database.backup_retention_day",
         "unknown field; did you mean backup_retention_days? valid fields: "),
        ({"app": {"cpus": 512}}, "app.cpus", "unknown field; did you mean cpu? valid fields: "),
        ({"database": {"zzz": 1}}, "database.zzz", "unknown field; valid fields: "),
    ],
    ids=["top level", "database", "app", "nothing close"],
)  # fmt: skip
def test_a_misspelt_field_is_offered_the_close_one(fields, field, message):
    with pytest.raises(ConfigError) as raised:
        define("qa", Kind.DEVELOPMENT, **{**BASE, **fields})
    assert [(p.field, p.message[: len(message)]) for p in raised.value.problems] == [
        (field, message)
    ]


def test_every_field_of_a_section_is_named_in_one_format_all_at_once():
    with pytest.raises(ConfigError) as raised:
        define(
            "qa", Kind.DEVELOPMENT, **BASE,
            database={"backup_retention_days": "7", "multi_az": "yes"},
        )  # fmt: skip
    assert [str(p) for p in raised.value.problems] == [
        "environment 'qa', field 'database.backup_retention_days': expected int, got str '7'",
        "environment 'qa', field 'database.multi_az': expected bool, got str 'yes'",
    ]
