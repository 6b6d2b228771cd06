"""The limits rule: names that fit under the longest environment name, templates under
CloudFormation's quotas with a margin or deployed from S3."""

from __future__ import annotations

import dataclasses

import pytest

from playback_infra.checks.contracts import limits
from playback_infra.environments.model import MAX_NAME_LENGTH, ConfigError, define
from tests.checks.contracts.helpers import committed, violating


def _problems(template: str, change) -> list[str]:
    return limits.RULE.problems(violating(template, change))


def test_the_committed_templates_keep_the_contract():
    assert limits.RULE.problems(committed()) == []


def test_every_environment_is_read_under_the_longest_name_the_model_accepts():
    models = committed().models
    names = {limits.longest(env).name for env in models.values()}
    assert {len(name) for name in names} == {MAX_NAME_LENGTH}
    assert len(names) == len(models)
    env = next(iter(models.values()))
    given = {f.name: getattr(env, f.name) for f in dataclasses.fields(env)}
    given = {k: v for k, v in given.items() if k not in ("name", "kind")}
    with pytest.raises(ConfigError, match="must be 2-15 lowercase"):
        define("x" * (MAX_NAME_LENGTH + 1), env.kind, **given)


def test_the_names_checked_embed_the_longest_name():
    found = {
        (stack, logical_id) for _, stack, logical_id, *_ in limits._deployed_names(committed())
    }
    # nested stacks, edge-global and a standalone template (dr-vault's EnvironmentName)
    assert {("observability", "ApiTraceGroup"), ("data", "NarrationCache")} <= found
    assert {("edge-global", "SiteWebAcl"), ("dr-vault", "DrBackupVault")} <= found


def test_every_name_in_the_table_has_a_limit_from_the_api_model_or_its_page():
    for key, name in limits.NAMES.items():
        length, pattern = limits.constraint(name)
        assert length or pattern, key
        assert name.doc.startswith("https://docs.aws.amazon.com/"), key
    assert limits.constraint(limits.NAMES[("AWS::XRay::Group", "GroupName")]) == (32, None)
    backup = limits.NAMES[("AWS::Backup::BackupVault", "BackupVaultName")]
    assert limits.constraint(backup)[1] == "^[a-zA-Z0-9\\-\\_]{2,50}$"


def test_a_name_too_long_for_the_longest_environment_name_fails():
    """The X-Ray group's name as it was: 37 characters with a 15-character environment name."""

    def long_group(t):
        t["Resources"]["ApiTraceGroup"]["Properties"]["GroupName"] = {
            "Fn::Sub": "baseball-playback-${EnvironmentName}-api"
        }

    [problem] = _problems("observability", long_group)
    assert problem.startswith("limits: observability: ApiTraceGroup GroupName 'baseball-playback-")
    assert "37 characters, over the 32 allowed" in problem
    assert "https://docs.aws.amazon.com/xray/latest/api/API_CreateGroup.html" in problem


def test_a_name_outside_its_pattern_fails():
    def dotted(t):
        t["Resources"]["SpaRoutingFunction"]["Properties"]["Name"] = {
            "Fn::Sub": "bp.${EnvironmentName}.spa"
        }

    [problem] = _problems("web", dotted)
    assert "SpaRoutingFunction Name" in problem and "not matching [a-zA-Z0-9-_]{1,64}" in problem


@pytest.mark.parametrize(("section", "what", "quota"), [
    ("Resources", "resources", 500), ("Parameters", "parameters", 200), ("Outputs", "outputs", 200),
])  # fmt: skip
def test_a_template_near_a_count_quota_fails(section, what, quota):
    def crowd(t):
        entry = {
            "Resources": {"Type": "AWS::SNS::Topic"},
            "Parameters": {"Type": "String"},
            "Outputs": {"Value": "x"},
        }[section]
        t.setdefault(section, {}).update({f"Extra{i}": dict(entry) for i in range(quota)})

    problems = _problems("alerts", crowd)
    assert any(
        "alerts: " in p and f"{what}, over 90% of CloudFormation's {quota}" in p for p in problems
    )


def test_a_template_near_the_s3_size_quota_fails():
    def huge(t):
        t["Metadata"] = {"Padding": "x" * 950_000}

    problems = _problems("alerts", huge)
    assert any("over 90% of the 1000000 a template in S3 may have" in p for p in problems)


def test_a_template_sent_inline_near_the_inline_quota_fails():
    """edge-global goes inline from the runbooks' awscli-only deploy and from `deploy`."""

    def big(t):
        t["Metadata"] = {"Padding": "x" * 40_000}

    problems = _problems("edge-global", big)
    inline = [p for p in problems if "a request may carry inline" in p]
    assert len(inline) == 2
    assert (
        sum(
            "docs/runbooks.md (aws cloudformation deploy templates/edge-global.yaml)" in p
            for p in inline
        )
        == 1
    )
    assert sum("playback-infra deploy (TemplateBody)" in p for p in inline) == 1


def test_the_packaged_root_is_measured_with_its_s3_urls():
    subject = committed()
    root = limits.size(subject, "root", subject.templates["root"])
    packaged = limits._packaged_size(subject, "root")
    assert packaged - root > 10 * 100  # ten children, each URL over 100 characters longer

    def grown(t):
        t["Metadata"] = {
            "Padding": "x" * (int(limits.MARGIN * limits.INLINE_BODY_BYTES) - packaged + 10)
        }

    problems = _problems("root", grown)
    assert (
        sum("docs/runbooks.md (aws cloudformation deploy packaged.yaml)" in p for p in problems)
        == 1
    )


def test_the_documented_deploys_of_large_templates_use_a_bucket():
    inline = {template for _, template in limits.inline_deploys()}
    assert "pipeline" not in inline and "pipeline-target" not in inline
    assert {"edge-global", "root", "dr-vault"} <= inline
