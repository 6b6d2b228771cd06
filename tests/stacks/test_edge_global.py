"""The edge-global stack (stacks/edge_global.py): CloudFront's certificate and WAF, us-east-1."""

from __future__ import annotations

import json

import pytest

from playback_infra.paths import REPO_ROOT
from playback_infra.stacks import edge_global
from tests.stacks.helpers import constraint_problems, deploy, getatt, props, ref


@pytest.fixture(scope="module")
def t() -> dict:
    return edge_global.build().to_dict()


@pytest.fixture(scope="module")
def edge_files() -> dict[str, dict]:
    """Environment name -> parameters/edge-global/<env>.json."""
    folder = REPO_ROOT / "parameters" / "edge-global"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def test_exactly_the_edge_resources(t):
    assert {name: r["Type"] for name, r in t["Resources"].items()} == {
        "SiteCertificate": "AWS::CertificateManager::Certificate",
        "EdgeLogsKey": "AWS::KMS::Key",
        "EdgeLogsKeyAlias": "AWS::KMS::Alias",
        "SiteWebAcl": "AWS::WAFv2::WebACL",
        "WafLogGroup": "AWS::Logs::LogGroup",
        "SiteWebAclLogging": "AWS::WAFv2::LoggingConfiguration",
    }


def test_refuses_any_region_but_us_east_1(t):
    (assertion,) = t["Rules"]["EdgeGlobalIsInUsEast1"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [ref("AWS::Region"), "us-east-1"]}
    assert "deploy this stack there" in assertion["AssertDescription"]


def test_certificate_is_issued_for_the_site_and_validated_in_its_zone(t):
    certificate = t["Resources"]["SiteCertificate"]
    assert certificate["Condition"] == "IssueCertificate"
    assert certificate["Properties"] == {
        "DomainName": ref("SiteDomain"),
        "ValidationMethod": "DNS",
        "DomainValidationOptions": [
            {"DomainName": ref("SiteDomain"), "HostedZoneId": ref("SiteHostedZoneId")}
        ],
        "Tags": [{"Key": "Component", "Value": "edge"}],
    }
    assert t["Outputs"]["SiteCertificateArn"]["Value"] == {
        "Fn::If": ["IssueCertificate", ref("SiteCertificate"), ref("SiteExistingCertificateArn")]
    }


def test_web_acl_is_cloudfront_scoped_with_managed_rules_and_a_per_ip_limit(t):
    p = props(t, "SiteWebAcl")
    assert p["Scope"] == "CLOUDFRONT"
    assert p["DefaultAction"] == {"Allow": {}}
    rules = {r["Name"]: r for r in p["Rules"]}
    assert list(rules) == [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "RateLimitPerIp",
    ]
    priorities = [r["Priority"] for r in p["Rules"]]
    assert priorities == sorted(set(priorities))
    for name, rule in rules.items():
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True, name
        if name.startswith("AWSManaged"):
            assert rule["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"
            assert rule["OverrideAction"] == {"None": {}}
    rate = rules["RateLimitPerIp"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {
        "Limit": ref("EdgeWafRateLimit"),
        "AggregateKeyType": "IP",
    }
    assert t["Outputs"]["SiteWebAclArn"]["Value"] == getatt("SiteWebAcl", "Arn")


def test_waf_logs_are_encrypted_with_a_key_only_cloudwatch_logs_uses(t):
    group = props(t, "WafLogGroup")
    assert group["LogGroupName"] == {"Fn::Sub": "aws-waf-logs-${AWS::StackName}"}
    assert group["KmsKeyId"] == getatt("EdgeLogsKey", "Arn")
    assert group["RetentionInDays"] == ref("EdgeWafLogRetentionDays")
    logging = props(t, "SiteWebAclLogging")
    assert logging["ResourceArn"] == getatt("SiteWebAcl", "Arn")
    admin, logs = props(t, "EdgeLogsKey")["KeyPolicy"]["Statement"]
    assert admin["Sid"] == "KeyAdministration"
    assert logs["Principal"] == {"Service": [{"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}]}
    assert "kms:Decrypt" in logs["Action"] and "kms:CreateGrant" not in logs["Action"]
    assert props(t, "EdgeLogsKey")["EnableKeyRotation"] is True


def test_stateful_resources_are_kept_outside_development(t, edge_files, as_deployed):
    for env, content in edge_files.items():
        d = deploy(t, as_deployed, content["Parameters"])
        expected = "Delete" if env == "dev" else "Retain"
        for name in ("EdgeLogsKey", "WafLogGroup"):
            assert d["resources"][name]["DeletionPolicy"] == expected, (env, name)
        assert "SiteCertificate" in d["resources"]  # every catalog environment names a zone


def test_parameter_files_give_exactly_the_parameters_and_meet_their_constraints(t, edge_files):
    assert set(edge_files) == {"dev", "staging", "prod"}
    for env, content in edge_files.items():
        assert set(content["Parameters"]) == set(t["Parameters"]), env
        assert constraint_problems(t["Parameters"], content["Parameters"]) == [], env
        assert content["Tags"]["Environment"] == env
    limits = {env: c["Parameters"]["EdgeWafLogRetentionDays"] for env, c in edge_files.items()}
    assert limits == {"dev": "90", "staging": "90", "prod": "365"}
