"""The AWS contract check: how a rule reports, and that `check` runs every rule."""

from __future__ import annotations

from playback_infra.checks import contracts
from playback_infra.checks.contracts import Rule
from playback_infra.checks.contracts.rule import source
from tests.checks.contracts.helpers import committed, violating


def test_a_failure_names_its_rule_and_aws_page():
    rule = Rule("bucket count", "https://docs.aws.amazon.com/example", lambda s: ["too many"])
    assert contracts.problems(committed(), [rule]) == [
        "bucket count: too many (AWS: https://docs.aws.amazon.com/example)"
    ]


def test_each_environment_is_read_as_its_parameter_files_deploy_it():
    deployed = committed().deployed
    assert set(deployed) == {"dev", "staging", "prod"}
    # The cache is on where the model turns it on, and nowhere else.
    cached = {
        name for name, env in deployed.items() if env.count("AWS::ElastiCache::ServerlessCache")
    }
    assert cached == {name for name, env in committed().models.items() if env.app.cache}


def test_violating_changes_a_copy_only():
    changed = violating("data", lambda t: t["Resources"].clear())
    assert changed.templates["data"]["Resources"] == {}
    assert committed().templates["data"]["Resources"]


def test_every_rule_has_a_name_and_an_aws_page():
    for rule in contracts.RULES:
        assert rule.name
        assert rule.doc.startswith("https://docs.aws.amazon.com/"), rule.name


def test_a_value_is_followed_to_the_resource_a_sibling_stack_outputs_under_its_name():
    dev = committed().deployed["dev"].stacks
    # The data stack's key parameter is filled by the security stack's output of that name.
    ((name, key),) = [
        (n, r["Properties"]["KmsKeyId"])
        for n, r in dev["data"].resources.items()
        if r["Type"] == "AWS::RDS::DBInstance"
    ]
    found = source(dev, "data", key)
    assert found is not None and found[0] == "security", name
    assert dev["security"].resources[found[1]]["Type"] == "AWS::KMS::Key"
    assert source(dev, "data", {"Fn::GetAtt": f"{name}.Endpoint.Address"}) == (
        "data", name, "Endpoint.Address",
    )  # fmt: skip
    # A parameter the stack gives back as its own output of the same name names no resource.
    assert source(dev, "network", {"Ref": "VpcCidr"}) is None
