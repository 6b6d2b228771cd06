"""No security group of any template admits the whole internet (0.0.0.0/0 or ::/0) on a port
it was not designed to: inline rules, `AWS::EC2::SecurityGroupIngress` resources, both branches
of every `Fn::If`, IPv4 and IPv6. Egress to the internet (HTTPS out) is asserted rule by rule in
test_security.py."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_network

import pytest

from playback_infra import synth

# (template, security group, protocol, from port, to port) -> why it may admit everyone.
DESIGNED = {
    ("security", "AlbSecurityGroup", "tcp", 443, 443): (
        "the internet-facing ALB where no CloudFront fronts the API (CloudFrontPrefixListId "
        "empty); every environment sets the prefix list (test_no_environment_opens_the_alb_"
        "to_the_internet), so none deploys this branch"
    ),
    ("security", "AlbSecurityGroup", "tcp", 80, 80): (
        "the same branch's HTTP listener, which only redirects to HTTPS"
    ),
}


def _rules(node) -> Iterator[dict]:
    """Every rule under `node`, whichever branch of a condition it sits in."""
    if isinstance(node, dict):
        if "IpProtocol" in node:
            yield node
            return
        for value in node.values():
            yield from _rules(value)
    elif isinstance(node, list):
        for value in node:
            yield from _rules(value)


def _anywhere(rule: dict) -> bool:
    peers = [rule.get("CidrIp"), rule.get("CidrIpv6")]
    return any(isinstance(p, str) and ip_network(p, strict=False).prefixlen == 0 for p in peers)


def _group(node) -> str:
    return node["Ref"] if "Ref" in node else node["Fn::GetAtt"][0]


def open_to_the_internet(templates: dict[str, dict]) -> set[tuple]:
    """(template, group, protocol, from port, to port) of each rule admitting everyone;
    protocol -1 (all traffic) is reported with ports "all"."""
    found = set()
    for name, template in templates.items():
        for title, resource in template.get("Resources", {}).items():
            properties = resource.get("Properties", {})
            if resource["Type"] == "AWS::EC2::SecurityGroup":
                owned = [(title, r) for r in _rules(properties.get("SecurityGroupIngress", []))]
            elif resource["Type"] == "AWS::EC2::SecurityGroupIngress":
                owned = [(_group(properties["GroupId"]), properties)]
            else:
                continue
            for group, rule in owned:
                if _anywhere(rule):
                    protocol = str(rule["IpProtocol"])
                    ports = (
                        ("all", "all")
                        if protocol == "-1"
                        else (rule.get("FromPort"), rule.get("ToPort"))
                    )
                    found.add((name, group, protocol, *ports))
    return found


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    return {name: t.to_dict() for name, t in synth.render().templates.items()}


def test_only_the_designed_rules_admit_the_internet(templates):
    assert open_to_the_internet(templates) == set(DESIGNED)


def test_every_template_with_security_groups_is_scanned(templates):
    with_groups = {
        name
        for name, t in templates.items()
        for r in t["Resources"].values()
        if r["Type"].startswith("AWS::EC2::SecurityGroup")
    }
    assert {"security", "network"} <= with_groups
    assert len(list(_rules([t["Resources"] for t in templates.values()]))) >= 20


def _group_with(ingress) -> dict:
    return {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": ingress}}


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (_group_with([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]),
         ("t", "G", "tcp", 22, 22)),
        (_group_with([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv6": "::/0"}]),
         ("t", "G", "tcp", 22, 22)),
        (_group_with({"Fn::If": ["C", [], [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]]}),
         ("t", "G", "-1", "all", "all")),
        ({"Type": "AWS::EC2::SecurityGroupIngress",
          "Properties": {"GroupId": {"Fn::GetAtt": ["AppSecurityGroup", "GroupId"]},
                         "IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "CidrIpv6": "::/0"}},
         ("t", "AppSecurityGroup", "tcp", 3306, 3306)),
    ],
    ids=["inline-ipv4", "inline-ipv6", "hidden-in-a-condition", "standalone-ipv6"],
)  # fmt: skip
def test_the_scan_catches_a_rule_open_to_everyone(resource, expected):
    assert open_to_the_internet({"t": {"Resources": {"G": resource}}}) == {expected}


def test_the_scan_leaves_private_ranges_and_prefix_lists_alone():
    ingress = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "SourcePrefixListId": "pl-1"},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv6": "fd00::/8"},
    ]
    assert open_to_the_internet({"t": {"Resources": {"G": _group_with(ingress)}}}) == set()
