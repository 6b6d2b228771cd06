"""`playback-infra diagram`: the committed diagrams are current, and what the templates hold
(a new resource type, a new security-group rule, a new user of a key) shows up in them."""

from __future__ import annotations

import copy
import re

import pytest

from playback_infra import diagram, taskcat
from playback_infra.cli import EXIT_OK, main
from playback_infra.environments.catalog import environments
from playback_infra.paths import REPO_ROOT
from playback_infra.synth import render


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    return {name: t.to_dict() for name, t in render().templates.items()}


@pytest.fixture(scope="module")
def envs():
    return list(environments())


def test_committed_sources_are_what_the_code_draws(templates, envs):
    for path, source in diagram.sources(templates, envs).items():
        committed = (REPO_ROOT / path).read_text()
        assert committed == source, f"{path} is stale: run `make diagram` and commit it"


@pytest.mark.parametrize("name", diagram.DRAWINGS)
def test_committed_svg_is_the_layout_of_the_committed_source(name):
    """Graphviz's layout is deterministic for one version (Debian's, which the Makefile
    installs), so the SVG is compared byte for byte."""
    source = (REPO_ROOT / diagram.DIRECTORY / f"{name}.dot").read_text()
    svg = diagram.svg(source)
    assert (REPO_ROOT / diagram.DIRECTORY / f"{name}.svg").read_text() == svg
    assert "resources/" not in svg.split("</defs>")[1], "every icon is an embedded symbol"
    assert svg.count("<symbol ") == len(set(re.findall(r'image="([^"]+)"', source)))


def test_every_stack_and_resource_type_is_in_the_architecture(templates, envs):
    source = diagram.sources(templates, envs)[f"{diagram.DIRECTORY}/architecture.dot"]
    for name, template in templates.items():
        if name in ("root", taskcat.TEMPLATE_NAME):  # roots nest the stacks drawn
            continue
        assert f"cluster_{name}.yaml" in source
        for resource in template["Resources"].values():
            assert resource["Type"].removeprefix("AWS::") in source, (name, resource["Type"])
    assert "prod: 3 AZs, NAT per-az" in source  # the environment model's sizes


def test_a_new_resource_type_and_rule_show_up(templates, envs):
    changed = copy.deepcopy(templates)
    changed["app"]["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    changed["app"]["Resources"]["Widget"] = {"Type": "AWS::Made::Up", "Properties": {}}
    changed["security"]["Resources"]["AppToWorld"] = {
        "Type": "AWS::EC2::SecurityGroupEgress",
        "Properties": {"GroupId": {"Fn::GetAtt": ["AppSecurityGroup", "GroupId"]},
                       "DestinationSecurityGroupId": {"Fn::GetAtt": ["CacheSecurityGroup",
                                                                      "GroupId"]},
                       "IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443},
    }  # fmt: skip
    drawn = diagram.sources(changed, envs)
    architecture = drawn[f"{diagram.DIRECTORY}/architecture.dot"]
    assert "SQS::Queue" in architecture and "1 Made::Up" in architecture
    flows = drawn[f"{diagram.DIRECTORY}/network-flow.dot"]
    assert re.search(r'-> \w+ \[label="6379, 8443"', flows), flows


def test_network_flow_has_every_rule_and_the_tiers(templates, envs):
    source = diagram.sources(templates, envs)[f"{diagram.DIRECTORY}/network-flow.dot"]
    rules = [
        rule for stack in ("security", "load-generators") for rule in
        diagram._security_group_rules(templates[stack]) if diagram.NOTHING not in rule[:2]
    ]  # fmt: skip
    assert len(rules) >= 13
    edges = re.findall(r"(\w+) -> (\w+) \[label=", source)
    assert len(edges) == len({(*r[:2], r[3]) for r in rules}) + 2  # + viewers and NAT egress
    prod = next(e for e in envs if e.name == "prod")
    assert f"prod: {prod.subnets.data.block} (3 AZs)" in source
    assert 'label="443\n(if AlbFromCloudFront)"' in source


def test_security_links_each_key_to_what_it_encrypts(templates, envs):
    source = diagram.sources(templates, envs)[f"{diagram.DIRECTORY}/security.dot"]
    node = {
        label.split("\n")[0]: nid for nid, label in re.findall(r'(n\d+) \[label="([^"]+)"', source)
    }
    edges = set(re.findall(r"(n\d+) -> (n\d+)", source))
    assert (node["DataKey"], node["RDS::DBInstance"]) in edges
    assert (node["LogsKey"], node["Logs::LogGroup x2"]) in edges  # data: error and slow query
    assert (node["DataKey"], node["OpenAiApiKeySecret"]) in edges
    assert (node["OpenAiApiKeySecret"], node["ECS::TaskDefinition"]) in edges


def test_the_command_writes_the_diagrams_and_then_changes_nothing(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "diagram"]) == EXIT_OK
    assert "6 files, 6 changed" in capsys.readouterr().out
    for path in sorted((tmp_path / diagram.DIRECTORY).iterdir()):
        assert path.read_text() == (REPO_ROOT / diagram.DIRECTORY / path.name).read_text()
    assert main(["--root", str(tmp_path), "diagram"]) == EXIT_OK
    assert "6 files, 0 changed" in capsys.readouterr().out
