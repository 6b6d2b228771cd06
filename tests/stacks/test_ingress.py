"""The ingress stack (stacks/ingress.py): the API's ALB, its listeners and target groups, the
certificate, the access-log bucket and the regional WAF, as rendered, and what CloudFormation
makes of it with each environment's parameter file."""

from __future__ import annotations

import re

import pytest

from playback_infra.environments.regions import ELB_LOG_DELIVERY_ACCOUNTS, SUPPORTED_REGIONS
from playback_infra.stacks import ingress
from playback_infra.yaml_render import to_yaml
from tests.stacks.helpers import (
    deploy,
    getatt,
    props,
    ref,
    resources_of_type,
    root_provided_values_checked,
    without_no_value,
)

ENVIRONMENTS = ("dev", "staging", "prod")
RETAIN_IF = {"Fn::If": ["RetainData", "Retain", "Delete"]}
BUCKET_ARN = getatt("AccessLogsBucket", "Arn")
ORIGIN_HEADER = {
    "Field": "http-header",
    "HttpHeaderConfig": {
        "HttpHeaderName": "X-Origin-Verify",
        "Values": [{"Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecret}}}"}],
    },
}
TEST_HEADER = {
    "Field": "http-header",
    "HttpHeaderConfig": {"HttpHeaderName": "X-Playback-Test-Traffic", "Values": ["true"]},
}
EVERY_PATH = {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}
FORWARD_TO_BLUE = [{"Type": "forward", "TargetGroupArn": ref("ApiTargetGroupBlue")}]
MANAGED_RULE_GROUPS = {
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
}
# The Elastic Load Balancing log-delivery accounts, from the ALB access-log documentation
# ("Attach a policy to your S3 bucket"), typed in independently of regions.py (and checked
# against public CloudFormation mappings of the same table).
ELB_ACCOUNTS_FROM_AWS_DOCS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-south-1": "718504428378",
    "sa-east-1": "507241528517",
}
EXPECTED = {  # what each environment's parameter file must give the ingress stack
    "dev": {
        "retain": False,
        "access_log_days": "30",
        "waf_log_days": "90",
        "api_domain": "api.dev.playback.example.com",
    },
    "staging": {
        "retain": True,
        "access_log_days": "90",
        "waf_log_days": "90",
        "api_domain": "api.staging.playback.example.com",
    },
    "prod": {
        "retain": True,
        "access_log_days": "365",
        "waf_log_days": "365",
        "api_domain": "api.playback.example.com",
    },
}


@pytest.fixture(scope="module")
def template():
    return ingress.build()


@pytest.fixture(scope="module")
def t(template) -> dict:
    return template.to_dict()


@pytest.fixture(scope="module")
def live(t, parameter_files, as_deployed):
    """Environment -> what CloudFormation creates with its parameter file."""
    return {env: deploy(t, as_deployed, parameter_files[env]["Parameters"]) for env in ENVIRONMENTS}


def parameters(
    cloudfront: bool = True, zone: bool = True, retain: bool = True, waf: bool = True
) -> dict[str, str]:
    """Just the values the stack's conditions read."""
    return {
        "CloudFrontPrefixListId": "pl-3b927c52" if cloudfront else "",
        "HostedZoneId": "Z0QAPLAYBACKEXAMPLE" if zone else "",
        "RetainStatefulResources": "true" if retain else "false",
        "EnableRegionalWaf": "true" if waf else "false",
    }


def attributes(node: list[dict]) -> dict:
    """Key/Value attribute items as a dict; a key given twice would hide one, so refuse it."""
    keys = [a["Key"] for a in node]
    assert len(keys) == len(set(keys)), keys
    return {a["Key"]: a["Value"] for a in node}


def actions_anywhere(node):
    """Every listener action (a dict with a Type) in a rendered node."""
    if isinstance(node, list):
        for item in node:
            yield from actions_anywhere(item)
    elif isinstance(node, dict):
        if "Type" in node and node["Type"] in ("forward", "redirect", "fixed-response"):
            yield node
        for item in node.values():
            yield from actions_anywhere(item)


def all_rules(t: dict) -> list[dict]:
    """Every rule the web ACL can have; the rate rule sits in an Fn::If (absent when fronted)."""
    return [r["Fn::If"][2] if "Fn::If" in r else r for r in props(t, "ApiWebAcl")["Rules"]]


def rules_by_name(t: dict) -> dict[str, dict]:
    return {rule["Name"]: rule for rule in all_rules(t)}


# --- template --------------------------------------------------------------------------------


def test_template_uses_language_extensions_and_its_conditions(t):
    assert t["Transform"] == "AWS::LanguageExtensions"  # Fn::If in DeletionPolicy needs it
    assert t["Conditions"] == {
        "RetainData": {"Fn::Equals": [ref("RetainStatefulResources"), "true"]},
        "FrontedByCloudFront": {"Fn::Not": [{"Fn::Equals": [ref("CloudFrontPrefixListId"), ""]}]},
        "IssueCertificate": {"Fn::Not": [{"Fn::Equals": [ref("HostedZoneId"), ""]}]},
        "RegionalWaf": {"Fn::Equals": [ref("EnableRegionalWaf"), "true"]},
    }


def test_exactly_the_ingress_resources(t):
    assert {name: r["Type"] for name, r in t["Resources"].items()} == {
        "ApiCertificate": "AWS::CertificateManager::Certificate",
        "ApiAliasRecord": "AWS::Route53::RecordSet",
        "AccessLogsBucket": "AWS::S3::Bucket",
        "AccessLogsBucketPolicy": "AWS::S3::BucketPolicy",
        "ApiLoadBalancer": "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "ApiTargetGroupBlue": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "ApiTargetGroupGreen": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "OriginVerifySecret": "AWS::SecretsManager::Secret",
        "HttpListener": "AWS::ElasticLoadBalancingV2::Listener",
        "HttpsListener": "AWS::ElasticLoadBalancingV2::Listener",
        "ApiTestListenerRule": "AWS::ElasticLoadBalancingV2::ListenerRule",
        "ApiProductionListenerRule": "AWS::ElasticLoadBalancingV2::ListenerRule",
        "ApiWebAcl": "AWS::WAFv2::WebACL",
        "ApiWebAclAssociation": "AWS::WAFv2::WebACLAssociation",
        "WafLogGroup": "AWS::Logs::LogGroup",
        "ApiWebAclLogging": "AWS::WAFv2::LoggingConfiguration",
    }


def test_every_root_provided_parameter_value_passes_the_stacks_constraints(t, parameter_files):
    # every environment gives the 17 root-provided parameters
    assert root_provided_values_checked(t, parameter_files) == 3 * 17


# --- load balancer ---------------------------------------------------------------------------


def test_load_balancer_is_internet_facing_in_the_public_subnets_behind_its_group(t):
    resource = t["Resources"]["ApiLoadBalancer"]
    p = resource["Properties"]
    assert p["Type"] == "application"
    assert p["Scheme"] == "internet-facing"
    assert p["IpAddressType"] == "ipv4"
    assert p["Subnets"] == ref("PublicSubnetIds")
    assert p["SecurityGroups"] == [ref("AlbSecurityGroupId")]
    # The ALB checks it may write its access logs when it is created.
    assert resource["DependsOn"] == ["AccessLogsBucketPolicy"]


def test_load_balancer_attributes_are_exactly_the_hardened_set(t):
    assert attributes(props(t, "ApiLoadBalancer")["LoadBalancerAttributes"]) == {
        "deletion_protection.enabled": {"Fn::If": ["RetainData", "true", "false"]},
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "routing.http.desync_mitigation_mode": "strictest",
        "routing.http2.enabled": "true",
        "idle_timeout.timeout_seconds": "60",
        "waf.fail_open.enabled": "false",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": ref("AccessLogsBucket"),
        "access_logs.s3.prefix": "alb",
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deletion_protection_per_environment(live, env):
    p = live[env]["resources"]["ApiLoadBalancer"]["Properties"]
    protected = attributes(p["LoadBalancerAttributes"])["deletion_protection.enabled"]
    assert protected == ("true" if EXPECTED[env]["retain"] else "false")


# --- listeners and rules ---------------------------------------------------------------------


def test_http_listener_only_redirects_to_https(t):
    p = props(t, "HttpListener")
    assert (p["LoadBalancerArn"], p["Port"], p["Protocol"]) == (ref("ApiLoadBalancer"), 80, "HTTP")
    assert p["DefaultActions"] == [
        {
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
        }
    ]
    rules = resources_of_type(t, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    assert [r for r in rules if r["Properties"]["ListenerArn"] != ref("HttpsListener")] == []


def test_https_listener_uses_tls13_and_the_certificate(t):
    p = props(t, "HttpsListener")
    assert (p["LoadBalancerArn"], p["Port"], p["Protocol"]) == (
        ref("ApiLoadBalancer"),
        443,
        "HTTPS",
    )
    assert p["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert p["Certificates"] == [
        {
            "CertificateArn": {
                "Fn::If": ["IssueCertificate", ref("ApiCertificate"), ref("CertificateArn")]
            }
        }
    ]


def test_https_listener_refuses_whatever_no_rule_matches(t):
    assert props(t, "HttpsListener")["DefaultActions"] == [
        {
            "Type": "fixed-response",
            "FixedResponseConfig": {
                "StatusCode": "403",
                "ContentType": "text/plain",
                "MessageBody": "Forbidden",
            },
        }
    ]


def test_only_the_two_rules_forward_and_only_to_blue(t):
    forwarding = {
        name
        for name, r in t["Resources"].items()
        if any(a["Type"] == "forward" for a in actions_anywhere(r.get("Properties", {})))
    }
    assert forwarding == {"ApiTestListenerRule", "ApiProductionListenerRule"}
    for name in forwarding:
        # ECS blue/green moves the rules to green; the template starts both at blue.
        assert props(t, name)["Actions"] == FORWARD_TO_BLUE


def test_rule_priorities(t):
    assert props(t, "ApiTestListenerRule")["Priority"] == 1  # checked before production
    assert props(t, "ApiProductionListenerRule")["Priority"] == 10
    rules = resources_of_type(t, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    priorities = [r["Properties"]["Priority"] for r in rules]
    assert len(priorities) == len(set(priorities)) == 2


@pytest.mark.parametrize("cloudfront", [True, False], ids=["cloudfront", "internet"])
def test_rules_require_the_origin_header_exactly_when_cloudfront_fronts_the_alb(
    t, as_deployed, cloudfront
):
    resources = deploy(t, as_deployed, parameters(cloudfront=cloudfront))["resources"]
    origin = [ORIGIN_HEADER] if cloudfront else []
    assert resources["ApiTestListenerRule"]["Properties"]["Conditions"] == [TEST_HEADER, *origin]
    assert resources["ApiProductionListenerRule"]["Properties"]["Conditions"] == [
        EVERY_PATH,
        *origin,
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_requires_the_origin_header(live, env):
    for rule in ("ApiTestListenerRule", "ApiProductionListenerRule"):
        assert ORIGIN_HEADER in live[env]["resources"][rule]["Properties"]["Conditions"], rule


def test_origin_secret_is_generated_with_the_data_key_and_no_wildcard_characters(t):
    resource = t["Resources"]["OriginVerifySecret"]
    p = resource["Properties"]
    assert p["KmsKeyId"] == ref("DataKeyArn")
    # No punctuation: ALB header conditions treat * and ? as wildcards.
    assert p["GenerateSecretString"] == {"PasswordLength": 48, "ExcludePunctuation": True}
    assert "SecretString" not in p
    assert p["Description"] == {
        "Fn::Sub": "Baseball Playback ${EnvironmentName}: header CloudFront sends to the ALB"
    }
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == RETAIN_IF


# --- target groups ---------------------------------------------------------------------------


def test_blue_and_green_target_groups_are_identical(t):
    assert props(t, "ApiTargetGroupBlue") == props(t, "ApiTargetGroupGreen")


@pytest.mark.parametrize("group", ["ApiTargetGroupBlue", "ApiTargetGroupGreen"])
def test_target_group_sends_http_to_task_ips_and_checks_their_health(t, group):
    p = props(t, group)
    assert p["TargetType"] == "ip"  # Fargate tasks register by IP
    assert (p["Protocol"], p["ProtocolVersion"]) == ("HTTP", "HTTP1")
    assert p["Port"] == ref("AppPort")
    assert p["VpcId"] == ref("VpcId")
    assert p["HealthCheckEnabled"] is True
    assert p["HealthCheckProtocol"] == "HTTP"
    assert p["HealthCheckPath"] == ref("HealthCheckPath")
    assert p["HealthCheckIntervalSeconds"] == ref("HealthCheckIntervalSeconds")
    assert p["HealthCheckTimeoutSeconds"] == ref("HealthCheckTimeoutSeconds")
    assert p["HealthyThresholdCount"] == ref("HealthyThreshold")
    assert p["UnhealthyThresholdCount"] == ref("UnhealthyThreshold")
    assert p["Matcher"] == {"HttpCode": "200"}
    assert "HealthCheckPort" not in p  # the traffic port
    assert attributes(p["TargetGroupAttributes"]) == {
        "deregistration_delay.timeout_seconds": ref("DeregistrationDelaySeconds"),
        "stickiness.enabled": "false",
        "load_balancing.algorithm.type": "least_outstanding_requests",
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_health_checks_per_environment(live, env):
    for group in ("ApiTargetGroupBlue", "ApiTargetGroupGreen"):
        p = live[env]["resources"][group]["Properties"]
        checks = (
            p["HealthCheckPath"],
            p["HealthCheckIntervalSeconds"],
            p["HealthCheckTimeoutSeconds"],
            p["HealthyThresholdCount"],
            p["UnhealthyThresholdCount"],
        )
        assert checks == ("/api/health", "10", "5", "2", "3")
        delay = attributes(p["TargetGroupAttributes"])["deregistration_delay.timeout_seconds"]
        assert delay == "30"
        assert p["Port"] == "3000"


# --- certificate -----------------------------------------------------------------------------


def test_certificate_is_dns_validated_in_the_hosted_zone(t):
    resource = t["Resources"]["ApiCertificate"]
    assert resource["Condition"] == "IssueCertificate"
    p = resource["Properties"]
    assert p["DomainName"] == ref("ApiDomain")
    assert p["ValidationMethod"] == "DNS"
    assert p["DomainValidationOptions"] == [
        {"DomainName": ref("ApiDomain"), "HostedZoneId": ref("HostedZoneId")}
    ]
    assert "SubjectAlternativeNames" not in p


@pytest.mark.parametrize("zone", [True, False], ids=["issued", "existing"])
def test_certificate_is_issued_only_with_a_hosted_zone(t, as_deployed, zone):
    d = deploy(t, as_deployed, parameters(zone=zone))
    assert ("ApiCertificate" in d["resources"]) is zone
    expected = ref("ApiCertificate") if zone else ref("CertificateArn")
    listener = d["resources"]["HttpsListener"]["Properties"]
    assert listener["Certificates"] == [{"CertificateArn": expected}]
    assert d["outputs"]["ApiCertificateArn"]["Value"] == expected


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_issues_its_certificate_in_its_zone(live, parameter_files, env):
    given = parameter_files[env]["Parameters"]
    certificate = live[env]["resources"]["ApiCertificate"]["Properties"]
    assert certificate["DomainName"] == given["ApiDomain"] == EXPECTED[env]["api_domain"]
    assert certificate["DomainValidationOptions"][0]["HostedZoneId"] == given["HostedZoneId"]
    assert re.fullmatch(r"Z[A-Z0-9]+", given["HostedZoneId"])


# --- access logs -----------------------------------------------------------------------------


def test_access_log_bucket_is_sse_s3_private_owner_enforced_and_versioned(t):
    p = props(t, "AccessLogsBucket")
    # ALB log delivery writes only to SSE-S3 buckets; SSE-KMS would lose every log.
    assert p["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "BucketName" not in p  # a rebuilt environment gets a new bucket beside the kept one


def test_access_log_bucket_expires_logs_old_versions_and_abandoned_uploads(t):
    assert props(t, "AccessLogsBucket")["LifecycleConfiguration"] == {
        "Rules": [
            {
                "Id": "expire-access-logs",
                "Status": "Enabled",
                "ExpirationInDays": ref("AccessLogDays"),
                "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            }
        ]
    }


def test_access_log_bucket_is_always_retained_with_reasoned_suppressions(t, live):
    resource = t["Resources"]["AccessLogsBucket"]
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    for env in ENVIRONMENTS:
        assert live[env]["resources"]["AccessLogsBucket"]["DeletionPolicy"] == "Retain"
    skips = {s["id"]: s["comment"] for s in resource["Metadata"]["checkov"]["skip"]}
    assert set(skips) == {"CKV_AWS_18", "CKV_AWS_145"}
    assert "SSE-S3" in skips["CKV_AWS_145"]  # why not the KMS key
    assert "loop" in skips["CKV_AWS_18"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_access_log_days_per_environment(live, env):
    p = live[env]["resources"]["AccessLogsBucket"]["Properties"]
    [rule] = p["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == EXPECTED[env]["access_log_days"]


def test_bucket_policy_lets_only_the_regional_elb_account_write_under_the_log_prefix(t):
    p = props(t, "AccessLogsBucketPolicy")
    assert p["Bucket"] == ref("AccessLogsBucket")
    assert p["PolicyDocument"]["Version"] == "2012-10-17"
    statements = {s["Sid"]: s for s in p["PolicyDocument"]["Statement"]}
    assert set(statements) == {"ElbLogDelivery", "TlsOnly"}
    prefix = attributes(props(t, "ApiLoadBalancer")["LoadBalancerAttributes"])[
        "access_logs.s3.prefix"
    ]
    assert statements["ElbLogDelivery"] == {
        "Sid": "ElbLogDelivery",
        "Effect": "Allow",
        "Principal": {
            "AWS": [
                {
                    "Fn::Sub": [
                        "arn:${AWS::Partition}:iam::${Account}:root",
                        {
                            "Account": {
                                "Fn::FindInMap": ["ElbLogDelivery", ref("AWS::Region"), "Account"]
                            }
                        },
                    ]
                }
            ]
        },
        "Action": ["s3:PutObject"],
        "Resource": [
            {"Fn::Sub": f"${{AccessLogsBucket.Arn}}/{prefix}/AWSLogs/${{AWS::AccountId}}/*"}
        ],
    }


def test_bucket_policy_denies_every_request_without_tls(t):
    [tls] = [
        s
        for s in props(t, "AccessLogsBucketPolicy")["PolicyDocument"]["Statement"]
        if s["Sid"] == "TlsOnly"
    ]
    assert tls == {
        "Sid": "TlsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:*"],
        "Resource": [BUCKET_ARN, {"Fn::Sub": "${AccessLogsBucket.Arn}/*"}],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_elb_log_delivery_mapping_covers_every_supported_region_with_the_right_account(t):
    mapping = t["Mappings"]["ElbLogDelivery"]
    assert set(mapping) == set(SUPPORTED_REGIONS)
    assert {region: m["Account"] for region, m in mapping.items()} == ELB_LOG_DELIVERY_ACCOUNTS
    assert ELB_LOG_DELIVERY_ACCOUNTS == ELB_ACCOUNTS_FROM_AWS_DOCS
    assert all(re.fullmatch(r"\d{12}", m["Account"]) for m in mapping.values())


def test_rendered_yaml_quotes_the_elb_accounts_with_a_leading_zero(t):
    text = to_yaml(t)
    leading_zero = [a for a in ELB_LOG_DELIVERY_ACCOUNTS.values() if a.startswith("0")]
    assert len(leading_zero) == 4
    for account in leading_zero:
        assert f"Account: '{account}'" in text or f'Account: "{account}"' in text, account


# --- WAF -------------------------------------------------------------------------------------


def test_web_acl_is_regional_and_allows_by_default(t):
    p = props(t, "ApiWebAcl")
    assert p["Scope"] == "REGIONAL"
    assert p["Name"] == {"Fn::Sub": "baseball-playback-${EnvironmentName}-api"}
    assert p["DefaultAction"] == {"Allow": {}}
    assert p["VisibilityConfig"] == {
        "SampledRequestsEnabled": True,
        "CloudWatchMetricsEnabled": True,
        "MetricName": "ApiWebAcl",
    }


def test_web_acl_runs_exactly_the_four_aws_managed_groups_unweakened(t):
    rules = rules_by_name(t)
    assert set(rules) == MANAGED_RULE_GROUPS | {"RateLimitPerIp"}
    for name in MANAGED_RULE_GROUPS:
        rule = rules[name]
        # None: the group's own block actions apply (Count would only watch).
        assert rule["OverrideAction"] == {"None": {}}, name
        assert "Action" not in rule, name
        # No excluded rules or rule action overrides that would silence part of a group.
        assert rule["Statement"] == {
            "ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}
        }, name


def test_rate_rule_blocks_above_the_limit_parameter(t):
    rule = rules_by_name(t)["RateLimitPerIp"]
    assert rule["Action"] == {"Block": {}}
    assert "OverrideAction" not in rule
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["Limit"] == ref("WafRateLimit")
    assert "ScopeDownStatement" not in statement  # every request counts
    assert t["Parameters"]["WafRateLimit"]["MinValue"] == 10  # WAF's lowest limit


def test_rate_rule_applies_only_where_viewers_reach_the_alb_directly(t, as_deployed):
    """Behind CloudFront every request comes from an edge address: a per-IP limit here would
    block a busy edge for all its viewers, so there the CloudFront-scope WAF limits instead."""
    fronted = deploy(t, as_deployed, parameters(cloudfront=True))["resources"]
    direct = deploy(t, as_deployed, parameters(cloudfront=False))["resources"]

    def names(r):
        return {rule["Name"] for rule in without_no_value(r["ApiWebAcl"]["Properties"]["Rules"])}

    assert names(fronted) == MANAGED_RULE_GROUPS
    assert names(direct) == MANAGED_RULE_GROUPS | {"RateLimitPerIp"}


def test_web_acl_rule_priorities_are_unique_and_every_rule_is_visible(t):
    rules = all_rules(t)
    assert len(rules) == 5
    priorities = [r["Priority"] for r in rules]
    assert len(set(priorities)) == len(priorities)
    assert rules_by_name(t)["AWSManagedRulesAmazonIpReputationList"]["Priority"] == min(priorities)
    for rule in rules:
        assert rule["VisibilityConfig"] == {
            "SampledRequestsEnabled": True,
            "CloudWatchMetricsEnabled": True,
            "MetricName": rule["Name"],
        }


def test_web_acl_is_associated_with_the_load_balancer(t):
    assert props(t, "ApiWebAclAssociation") == {
        "ResourceArn": ref("ApiLoadBalancer"),
        "WebACLArn": getatt("ApiWebAcl", "Arn"),
    }


def test_waf_log_group_has_the_name_waf_requires_the_logs_key_and_retention(t):
    resource = t["Resources"]["WafLogGroup"]
    p = resource["Properties"]
    name = p["LogGroupName"]["Fn::Sub"]
    assert name.startswith("aws-waf-logs-")  # WAF refuses any other log group
    assert name == "aws-waf-logs-${AWS::StackName}"
    assert p["KmsKeyId"] == ref("LogsKeyArn")
    assert p["RetentionInDays"] == ref("WafLogRetentionDays")
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == RETAIN_IF


def test_waf_logs_go_to_the_log_group_arn_without_the_wildcard_suffix(t):
    p = props(t, "ApiWebAclLogging")
    assert p["ResourceArn"] == getatt("ApiWebAcl", "Arn")
    [destination] = p["LogDestinationConfigs"]
    assert destination == {
        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
        ":log-group:${WafLogGroup}"
    }
    assert not destination["Fn::Sub"].endswith(":*")  # GetAtt Arn would end so; WAF refuses it


def test_waf_logs_redact_the_origin_secret_header(t):
    redacted = props(t, "ApiWebAclLogging").get("RedactedFields", [])
    names = {f["SingleHeader"]["Name"].lower() for f in redacted if "SingleHeader" in f}
    assert "x-origin-verify" in names


@pytest.mark.parametrize("waf", [True, False], ids=["regional-waf", "cloudfront-waf-only"])
def test_the_regional_waf_its_logs_and_output_exist_only_where_switched_on(t, as_deployed, waf):
    d = deploy(t, as_deployed, parameters(waf=waf))
    acl = {"ApiWebAcl", "ApiWebAclAssociation", "ApiWebAclLogging", "WafLogGroup"}
    assert (acl & set(d["resources"])) == (acl if waf else set())
    assert d["outputs"]["ApiWebAclArn"]["Value"] == (getatt("ApiWebAcl", "Arn") if waf else "none")
    # the ALB is there either way, and behind CloudFront still demands its origin header
    assert "ApiLoadBalancer" in d["resources"]
    conditions = d["resources"]["ApiProductionListenerRule"]["Properties"]["Conditions"]
    assert ORIGIN_HEADER in conditions


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_stateful_resources_and_waf_log_retention_per_environment(live, env):
    resources = live[env]["resources"]
    policy = "Retain" if EXPECTED[env]["retain"] else "Delete"
    for name in ("OriginVerifySecret", "WafLogGroup"):
        resource = resources[name]
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (policy, policy)
    retention = resources["WafLogGroup"]["Properties"]["RetentionInDays"]
    assert retention == EXPECTED[env]["waf_log_days"]
    # Every environment is fronted by CloudFront, so none runs the regional per-IP rule.
    rules = without_no_value(resources["ApiWebAcl"]["Properties"]["Rules"])
    assert "RateLimitPerIp" not in {rule["Name"] for rule in rules}


def test_only_the_secret_the_log_group_and_the_bucket_are_stateful(t):
    stateful = {n for n, r in t["Resources"].items() if "DeletionPolicy" in r}
    assert stateful == {"OriginVerifySecret", "WafLogGroup", "AccessLogsBucket"}


# --- outputs and tags ------------------------------------------------------------------------


def test_outputs(t):
    outputs = {name: o["Value"] for name, o in t["Outputs"].items()}
    assert outputs == {
        "ApiLoadBalancerArn": ref("ApiLoadBalancer"),
        "ApiLoadBalancerDnsName": getatt("ApiLoadBalancer", "DNSName"),
        "ApiLoadBalancerFullName": getatt("ApiLoadBalancer", "LoadBalancerFullName"),
        "ApiTargetGroupBlueArn": ref("ApiTargetGroupBlue"),
        "ApiTargetGroupGreenArn": ref("ApiTargetGroupGreen"),
        "ApiTargetGroupBlueFullName": getatt("ApiTargetGroupBlue", "TargetGroupFullName"),
        "ApiTargetGroupGreenFullName": getatt("ApiTargetGroupGreen", "TargetGroupFullName"),
        "ApiProductionListenerRuleArn": ref("ApiProductionListenerRule"),
        "ApiTestListenerRuleArn": ref("ApiTestListenerRule"),
        "ApiCertificateArn": {
            "Fn::If": ["IssueCertificate", ref("ApiCertificate"), ref("CertificateArn")]
        },
        "OriginVerifySecretArn": ref("OriginVerifySecret"),
        "ApiWebAclArn": {"Fn::If": ["RegionalWaf", getatt("ApiWebAcl", "Arn"), "none"]},
    }
    assert all(o["Description"].strip() for o in t["Outputs"].values())


def test_every_taggable_resource_has_the_component_tag(template, t):
    taggable = [name for name, r in template.resources.items() if "Tags" in r.props]
    # certificate, bucket, ALB, 2 target groups, secret, 2 listeners, 2 rules, web ACL, log group
    assert len(taggable) == 12
    for name in taggable:
        tags = t["Resources"][name]["Properties"]["Tags"]
        assert [tag for tag in tags if tag["Key"] == "Component"] == [
            {"Key": "Component", "Value": "ingress"}
        ], name
