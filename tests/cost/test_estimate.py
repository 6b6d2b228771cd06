"""The estimate of each committed environment, and the `cost` command's output and errors."""

from __future__ import annotations

import json

import pytest

from playback_infra.cli import EXIT_CONFIG, EXIT_OK, main
from playback_infra.cost import prices, report
from playback_infra.cost.command import environment_kinds
from playback_infra.cost.estimate import estimate_repository
from playback_infra.paths import REPO_ROOT

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def estimates():
    table, kinds = prices.load(), environment_kinds()
    return {env: estimate_repository(REPO_ROOT, env, kinds[env], table) for env in ENVIRONMENTS}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_total_is_positive_and_the_sum_of_the_lines(estimates, env):
    estimate = estimates[env]
    assert estimate.total_usd > 0
    assert estimate.total_usd == pytest.approx(sum(line.monthly_usd for line in estimate.lines))
    assert all(line.monthly_usd >= 0 for line in estimate.lines)


def test_what_differs_between_environments_shows_in_their_lines(estimates):
    def line(env, start):
        [found] = [x for x in estimates[env].lines if x.item.startswith(start)]
        return found

    assert not any(x.item.startswith("NAT gateways") for x in estimates["dev"].lines)
    assert line("staging", "NAT gateways").quantity == 1 * 730  # nat_mode single
    assert line("prod", "NAT gateways").quantity == 3 * 730  # per-az over three AZs
    assert line("prod", "DatabaseInstance db.m7g.large MySQL, Multi-AZ").quantity == 2 * 730
    assert (
        "Spot" in line("dev", "Service 1 x 0.5 vCPU/1 GB (sidecars share the task size): vCPU").item
    )
    assert (
        "on-demand"
        in line("prod", "Service 3 x 1 vCPU/2 GB (sidecars share the task size): vCPU").item
    )
    # dev: no NAT (public-ips): its one task's address, and the Secrets Manager endpoint in one AZ
    assert line("dev", "public IPv4 addresses").item.startswith(
        "public IPv4 addresses (0 Elastic IPs, 2 ALB: one per AZ, 1 service tasks)"
    )
    assert (
        line("dev", "interface endpoints").item
        == "interface endpoints (1 in 1 endpoint-AZs), hours"
    )
    assert line("dev", "SiteCanary runs").quantity == 730 * 60 / 30
    assert not any(x.item.startswith("DatabaseProxy") for x in estimates["staging"].lines)
    assert any(x.item.startswith("DatabaseProxy") for x in estimates["prod"].lines)
    assert any(x.service == "cache" for x in estimates["staging"].lines)
    assert not any(x.service == "cache" for x in estimates["dev"].lines)
    # edge-global's resources are in every environment's estimate
    assert any("SiteWebAcl (CLOUDFRONT, us-east-1)" in x.item for x in estimates["dev"].lines)


def test_json_is_the_same_estimate(capsys, estimates):
    assert main(["cost", "--env", "staging", "--format", "json"]) == EXIT_OK
    printed = json.loads(capsys.readouterr().out)
    estimate = estimates["staging"]
    assert printed["environment"] == "staging" and printed["kind"] == "staging"
    assert [x["item"] for x in printed["lines"]] == [x.item for x in estimate.lines]
    assert printed["total_usd"] == round(estimate.total_usd, 2)
    assert sum(x["monthly_usd"] for x in printed["lines"]) == pytest.approx(
        printed["total_usd"], abs=0.01
    )
    assert printed["assumptions"] == list(estimate.assumptions)
    assert [(x["assumed"], x["unsourced"]) for x in printed["lines"]] == [
        (x.assumed, x.unsourced) for x in estimate.lines
    ]


def _rows(out: str) -> list[tuple[str, str]]:
    """The table's (line, monthly USD) between its rules, each line's wrapped name joined again."""
    table = out.split("\n-")[1].split("\n-")[0].splitlines()[1:]
    rows: list[tuple[str, str]] = []
    for row in table:
        if row.startswith("    "):
            rows[-1] = (f"{rows[-1][0]} {row.strip()}", rows[-1][1])
        else:
            name, cost = row.rsplit(None, 1)
            rows.append((name, cost))
    return rows


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_table_fits_100_columns_with_every_line_its_cost_and_the_total(capsys, estimates, env):
    assert main(["cost", "--env", env]) == EXIT_OK
    out = capsys.readouterr().out
    assert max(len(row) for row in out.splitlines()) <= 100
    estimate = estimates[env]
    for (name, cost), line in zip(_rows(out), estimate.lines, strict=True):
        assert name.startswith(f"{line.service}: {line.item}")
        assert cost == f"{line.monthly_usd:,.2f}"
    [total] = [row for row in out.splitlines() if row.startswith("total")]
    assert total.split()[-1] == f"{estimate.total_usd:,.2f}"
    assert "Assumptions:" in out and f"usage a month for a {estimate.kind} environment" in out
    assert "rds_proxy_vcpu_hour" in out  # the prices we could not source are named
    assert out.rstrip().endswith("(`--wide` adds each line's quantity and unit price)")


def test_wide_gives_each_line_one_row_with_its_quantity_and_unit_price(capsys, estimates):
    assert main(["cost", "--env", "prod", "--wide"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines()[2].split() == ["line", "quantity", "unit", "price", "(USD)", "monthly", "USD"]  # fmt: skip
    rows = out.split("\n-")[1].split("\n-")[0].splitlines()[1:]
    for row, line in zip(rows, estimates["prod"].lines, strict=True):
        assert f"{line.unit_usd:g} / {line.unit}" in row
    assert "--wide" not in out


def test_each_marker_means_one_thing(capsys, estimates):
    """`*`: the quantity is a usage assumption; `?`: the price was not found. A line may be both."""
    assert main(["cost", "--env", "prod"]) == EXIT_OK
    out = capsys.readouterr().out
    assert (
        "* the quantity is a usage assumption (see Assumptions), not read from the templates" in out
    )
    assert "? the unit price was not found in the sources searched (AWS's rate as known)" in out
    for (name, _), line in zip(_rows(out), estimates["prod"].lines, strict=True):
        marks = name.removeprefix(f"{line.service}: {line.item}").strip()
        assert marks == "*" * line.assumed + "?" * line.unsourced, name
    lines = estimates["prod"].lines
    assert any(x.assumed and not x.unsourced for x in lines)
    assert any(x.unsourced and not x.assumed for x in lines)


def test_an_unknown_environment_is_one_clear_error(capsys):
    assert main(["cost", "--env", "qa"]) == EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "configuration error (1):",
        "  environment 'qa', field 'env': no such environment; known: dev, prod, staging",
    ]


def test_the_side_by_side_table_has_each_environment_and_total(estimates):
    doc = report.side_by_side([estimates[env] for env in ENVIRONMENTS])
    [total] = [row for row in doc.splitlines() if row.startswith("| **total")]
    assert total.count("**") == 2 + 2 * len(ENVIRONMENTS)
    for env in ENVIRONMENTS:
        assert f"**{estimates[env].total_usd:,.2f}**" in total


def test_every_price_names_its_source_and_every_kind_has_usage():
    table = prices.load()
    assert all(p.source and p.unit for p in table.prices.values())
    assert set(table.usage) == set(environment_kinds().values())
    keys = {frozenset(u) for u in table.usage.values()}
    assert len(keys) == 1  # every kind states the same assumptions


@pytest.fixture(scope="module")
def switch_changes(estimates):
    from playback_infra.cost.estimate import estimate_files
    from playback_infra.cost.switches import changes
    from playback_infra.deployed_environment import read_templates

    table, kinds, templates = prices.load(), environment_kinds(), read_templates(REPO_ROOT)

    def files(env, edge=False):
        folder = REPO_ROOT / "parameters" / ("edge-global" if edge else "")
        return json.loads((folder / f"{env}.json").read_text())

    def estimate_with(env, parameters):
        return estimate_files(
            env, kinds[env], templates, {"Parameters": parameters}, files(env, True), table
        )

    parameters = {env: files(env)["Parameters"] for env in ENVIRONMENTS}
    return {c.switch: c.delta_usd for c in changes(estimates, parameters, estimate_with)}


def test_a_switch_changes_the_total_by_its_lines(switch_changes):
    # db.t3.small -> db.t4g.micro, Single-AZ: (0.016 - 0.034) x 730, and back
    assert switch_changes["database class db.t4g.micro"]["staging"] == pytest.approx(-13.14)
    assert switch_changes["database class db.t3.small"]["dev"] == pytest.approx(13.14)
    # dev (public-ips, the Secrets Manager endpoint in one AZ): its task's address goes, the
    # three other endpoints come, in the one AZ
    assert switch_changes["nat_mode none, with the endpoints it requires"]["dev"] == pytest.approx(
        -730 * 0.005 + 3 * 1 * 730 * 0.01
    )
    # staging's NAT, its data and its address go, its two tasks get addresses, and its four
    # endpoints move from two AZs to one
    public_ips = "nat_mode public-ips, the Secrets Manager endpoint in one AZ"
    assert switch_changes[public_ips]["staging"] == pytest.approx(
        -(730 * 0.045 + 10 * 0.045 + 730 * 0.005) + 2 * 730 * 0.005 - 4 * 1 * 730 * 0.01
    )
    assert switch_changes[public_ips]["dev"] is None
    # staging's regional web ACL, its 5 rules, 0.3 million requests and its log group (0.5 GB
    # ingested a month, kept 90 days) go
    assert switch_changes["regional WAF off (CloudFront's WAF only)"]["staging"] == pytest.approx(
        -(5 + 5 * 1 + 0.3 * 0.6 + 0.5 * 0.5 + 0.5 * 90 / (365 / 12) * 0.03)
    )
    # a canary run costs 0.0012: dev's 1,460 a month become 730
    assert switch_changes["site canary every 60 minutes"]["dev"] == pytest.approx(-730 * 0.0012)
    # the ADOT sidecar shares the task's size: no cost of its own
    assert switch_changes["X-Ray (ADOT sidecar) off"] == {"dev": 0, "staging": 0, "prod": 0}


def test_a_switch_an_environment_already_has_is_blank(switch_changes):
    assert switch_changes["Fargate Spot on"]["dev"] is None
    assert switch_changes["nat_mode per-az"]["prod"] is None
    assert switch_changes["Fargate Spot on"]["prod"] < 0
