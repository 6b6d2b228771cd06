"""The rotation contract (checks/contracts/rotation.py): each clause fails on a template that
breaks it, in the environments it breaks, and the committed templates pass."""

from __future__ import annotations

import copy
import json

from playback_infra.checks import contracts
from playback_infra.checks.contracts import subject
from playback_infra.checks.contracts.rotation import RULE
from tests.checks.contracts.helpers import committed, violating

APP_SECRET = "DatabaseAppSecret"


def _template(t: dict, title: str = APP_SECRET) -> dict:
    return t["Resources"][title]["Properties"]["GenerateSecretString"]


def _secret_text(t: dict, change) -> None:
    """Apply `change` to the app secret's JSON (the text of its Fn::Sub)."""
    sub = _template(t)["SecretStringTemplate"]["Fn::Sub"]
    value = json.loads(sub[0])
    change(value)
    sub[0] = json.dumps(value)


def test_the_committed_templates_keep_the_contract_and_check_runs_it():
    assert RULE in contracts.RULES
    assert RULE.problems(committed()) == []


def test_a_rotated_secret_without_masterarn_fails_everywhere():
    found = RULE.problems(
        violating("data", lambda t: _secret_text(t, lambda v: v.pop("masterarn")))
    )
    assert len(found) == 3  # dev, staging, prod
    for env, problem in zip(("dev", "prod", "staging"), found, strict=True):
        assert problem.startswith(f"rotation: {env}: data DatabaseAppSecret is rotated by ")
        assert 'add "masterarn"' in problem and "KeyError 'masterarn'" in problem
        assert problem.endswith(f"(AWS: {RULE.doc})")


def test_masterarn_naming_another_secret_than_the_schedules_master_fails():
    def other_secret(t):
        _template(t)["SecretStringTemplate"]["Fn::Sub"][1]["MasterSecretArn"] = {
            "Ref": "DatabaseReportingSecret"
        }

    found = RULE.problems(violating("data", other_secret))
    assert len(found) == 3
    assert all(
        '"masterarn" names data DatabaseReportingSecret, but rotation '
        "DatabaseAppSecretRotation gives its function data DatabaseInstance" in p
        for p in found
    )


def test_a_user_whose_clone_name_is_over_16_characters_fails():
    found = RULE.problems(
        violating("data", lambda t: _secret_text(t, lambda v: v.update(username="playback_app")))
    )
    assert len(found) == 3
    assert all(
        'user "playback_app" is cloned as "playback_app_clone", 18 characters' in p
        and "at most 10 characters" in p
        for p in found
    )
    # The limit is the clone's: a 10-character name fits.
    assert RULE.problems(
        violating("data", lambda t: _secret_text(t, lambda v: v.update(username="pb_migrate")))
    ) == []  # fmt: skip


def test_no_nat_and_no_secrets_manager_endpoint_fails_where_there_is_no_nat():
    found = RULE.problems(
        violating("network", lambda t: t["Resources"].pop("SecretsManagerEndpoint"))
    )
    # dev has no NAT; staging and prod route their app subnets to one.
    assert [p.split(":")[1].strip() for p in found] == ["dev", "dev"]  # both schedules
    assert all(
        "runs in PrivateAppSubnet1, PrivateAppSubnet2, which route to no NAT gateway, and "
        "network has no secretsmanager interface endpoint"
        in p
        and "Secrets Manager" in p
        for p in found
    )


def test_no_nat_and_no_rds_endpoint_fails_for_the_rds_managed_master_secret():
    found = RULE.problems(violating("network", lambda t: t["Resources"].pop("RdsEndpoint")))
    assert [p.split(":")[1].strip() for p in found] == ["dev", "dev"]
    assert all("no rds interface endpoint" in p and "the RDS API" in p for p in found)


def test_an_endpoint_without_private_dns_does_not_count():
    def no_private_dns(t):
        t["Resources"]["RdsEndpoint"]["Properties"]["PrivateDnsEnabled"] = False

    assert len(RULE.problems(violating("network", no_private_dns))) == 2  # dev's two schedules


def test_a_master_secret_with_a_host_needs_no_rds_api():
    """A master secret of the template's own (it holds its host) is read from Secrets Manager
    only: without the RDS endpoint, dev still reaches what the function calls."""

    def own_master(t):
        for schedule in ("DatabaseAppSecretRotation", "DatabaseMigrationSecretRotation"):
            hosted = t["Resources"][schedule]["Properties"]["HostedRotationLambda"]
            hosted["MasterSecretArn"] = {"Ref": "DatabaseReportingSecretArn"}

    base = committed()
    templates = copy.deepcopy(dict(base.templates))
    own_master(templates["rotation"])
    templates["network"]["Resources"].pop("RdsEndpoint")
    found = RULE.problems(subject(templates, base.files, base.models))
    # Only the secrets' masterarn, which still names RDS's secret, is reported.
    assert found and all("MasterSecretArn" in p for p in found)
    assert not any("RDS API" in p for p in found)
