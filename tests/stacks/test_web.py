"""The web stack (stacks/web/): the site bucket, CloudFront for the SPA and the API."""

from __future__ import annotations

import re

import pytest

from playback_infra.parts.names import ORIGIN_HEADER
from playback_infra.stacks import web
from tests.stacks.helpers import (
    constraint_problems,
    deploy,
    getatt,
    props,
    ref,
    resources_of_type,
    root_provided_values_checked,
)

CERTIFICATE = "arn:aws:acm:us-east-1:111111111111:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
WEB_ACL = "arn:aws:wafv2:us-east-1:111111111111:global/webacl/baseball-playback-dev-site/0f1e2d3c"
SECRET = "arn:aws:secretsmanager:us-east-1:111111111111:secret:origin-verify-AbCdEf"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]


@pytest.fixture(scope="module")
def t() -> dict:
    return web.build().to_dict()


@pytest.fixture(scope="module")
def live(t, parameter_files, as_deployed) -> dict[str, dict]:
    """The stack per environment, with the edge-global and ingress outputs it is given."""
    given = {
        "SiteCertificateArn": CERTIFICATE,
        "SiteWebAclArn": WEB_ACL,
        "OriginVerifySecretArn": SECRET,
    }
    return {
        env: deploy(
            t,
            as_deployed,
            {
                **{n: v for n, v in content["Parameters"].items() if n in t["Parameters"]},
                **given,
            },
        )
        for env, content in parameter_files.items()
    }


def _distribution(t: dict) -> dict:
    return props(t, "SiteDistribution")["DistributionConfig"]


def _behaviour(t: dict, path: str) -> dict:
    (found,) = [b for b in _distribution(t)["CacheBehaviors"] if b["PathPattern"] == path]
    return found


def test_exactly_the_web_resources(t):
    assert {name: r["Type"] for name, r in t["Resources"].items()} == {
        "SiteBucket": "AWS::S3::Bucket",
        "SiteBucketPolicy": "AWS::S3::BucketPolicy",
        "SiteLogsBucket": "AWS::S3::Bucket",
        "SiteLogsBucketPolicy": "AWS::S3::BucketPolicy",
        "SiteOriginAccessControl": "AWS::CloudFront::OriginAccessControl",
        "SpaRoutingFunction": "AWS::CloudFront::Function",
        "ApiRequestFunction": "AWS::CloudFront::Function",
        "SecurityHeadersPolicy": "AWS::CloudFront::ResponseHeadersPolicy",
        "SiteDistribution": "AWS::CloudFront::Distribution",
        "SiteAliasA": "AWS::Route53::RecordSet",
        "SiteAliasAAAA": "AWS::Route53::RecordSet",
    }


# --- the site bucket -------------------------------------------------------------------------


def test_site_bucket_is_private_owner_enforced_encrypted_and_versioned(t):
    p = props(t, "SiteBucket")
    assert p["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "WebsiteConfiguration" not in p and "CorsConfiguration" not in p  # one origin, no CORS


def test_previous_site_versions_expire_after_the_environments_days(t):
    (rule,) = props(t, "SiteBucket")["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": ref("SitePreviousVersionsDays")
    }
    assert "ExpirationInDays" not in rule  # the current site never expires
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_only_this_distribution_reads_the_site_and_only_over_tls(t):
    allow, tls = props(t, "SiteBucketPolicy")["PolicyDocument"]["Statement"]
    assert allow == {
        "Sid": "CloudFrontReadsThroughOac",
        "Effect": "Allow",
        "Principal": {"Service": ["cloudfront.amazonaws.com"]},
        "Action": ["s3:GetObject"],
        "Resource": [{"Fn::Sub": "${SiteBucket.Arn}/*"}],
        "Condition": {
            "StringEquals": {
                "AWS:SourceArn": {
                    "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${SiteDistribution}"
                }
            }
        },
    }
    assert tls["Effect"] == "Deny"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_origin_access_control_signs_every_request(t):
    config = props(t, "SiteOriginAccessControl")["OriginAccessControlConfig"]
    assert (
        config["OriginAccessControlOriginType"],
        config["SigningBehavior"],
        config["SigningProtocol"],
    ) == ("s3", "always", "sigv4")
    (site,) = [o for o in _distribution(t)["Origins"] if o["Id"] == web.SITE_ORIGIN]
    assert site["DomainName"] == getatt("SiteBucket", "RegionalDomainName")
    assert site["OriginAccessControlId"] == getatt("SiteOriginAccessControl", "Id")
    assert site["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI


def test_access_logs_go_to_their_own_retained_bucket(t):
    logging = _distribution(t)["Logging"]
    assert logging == {
        "Bucket": getatt("SiteLogsBucket", "DomainName"),
        "Prefix": "cloudfront/",
        "IncludeCookies": False,
    }
    bucket = t["Resources"]["SiteLogsBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    p = bucket["Properties"]
    # CloudFront standard logging writes through an ACL grant: ACLs stay on, objects ours.
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    assert all(p["PublicAccessBlockConfiguration"].values())
    (rule,) = p["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == ref("SiteAccessLogDays")
    (statement,) = props(t, "SiteLogsBucketPolicy")["PolicyDocument"]["Statement"]
    assert statement["Sid"] == "TlsOnly"


# --- behaviours ------------------------------------------------------------------------------


def test_default_behaviour_serves_the_site_cached_with_app_routes_rewritten(t):
    default = _distribution(t)["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == web.SITE_ORIGIN
    assert default["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"  # CachingOptimized
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["AllowedMethods"] == ["GET", "HEAD"]
    assert default["Compress"] is True
    assert default["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": getatt("SpaRoutingFunction", "FunctionARN")}
    ]
    assert "OriginRequestPolicyId" not in default


@pytest.mark.parametrize("path", ["/index.html", "/config.json"])
def test_index_and_runtime_configuration_are_never_cached(t, path):
    behaviour = _behaviour(t, path)
    assert behaviour["TargetOriginId"] == web.SITE_ORIGIN
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert "FunctionAssociations" not in behaviour


def test_api_behaviour_reaches_the_alb_uncached_with_every_header_but_host(t, parameter_files):
    api = _behaviour(t, {"Fn::Sub": "${ApiBasePath}/*"})
    assert api["TargetOriginId"] == web.API_ORIGIN
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    # AllViewerExceptHostHeader: the ALB's certificate is for ApiDomain, not the site's name.
    assert api["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert api["AllowedMethods"] == ALL_METHODS
    assert api["ViewerProtocolPolicy"] == "redirect-to-https"
    assert api["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": getatt("ApiRequestFunction", "FunctionARN")}
    ]
    # Behaviours are matched in order: the API's comes after the two site files only.
    paths = [b["PathPattern"] for b in _distribution(t)["CacheBehaviors"]]
    assert paths == ["/index.html", "/config.json", {"Fn::Sub": "${ApiBasePath}/*"}]
    assert {c["Parameters"]["ApiBasePath"] for c in parameter_files.values()} == {"/api"}


def test_api_origin_is_the_alb_by_name_over_tls_with_the_secret_header(t):
    (api,) = [o for o in _distribution(t)["Origins"] if o["Id"] == web.API_ORIGIN]
    assert api["DomainName"] == ref("ApiDomain")
    config = api["CustomOriginConfig"]
    assert config["OriginProtocolPolicy"] == "https-only"
    assert config["OriginSSLProtocols"] == ["TLSv1.2"]
    assert api["OriginCustomHeaders"] == [
        {
            "HeaderName": ORIGIN_HEADER,
            "HeaderValue": {"Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecretArn}}}"},
        }
    ]


def test_only_real_server_errors_get_error_pages(t):
    """SPA routing is the function's job, so a 403 or 404 (an API's answer too) passes through."""
    responses = _distribution(t)["CustomErrorResponses"]
    assert [r["ErrorCode"] for r in responses] == [500, 502, 503, 504]
    for response in responses:
        assert response["ResponseCode"] == response["ErrorCode"]  # the status stays an error
        assert response["ResponsePagePath"] == "/errors/5xx.html"
        assert response["ErrorCachingMinTTL"] == 10


# --- TLS, protocols, aliases -----------------------------------------------------------------


def test_https_with_a_modern_tls_policy_http3_and_ipv6(t):
    config = _distribution(t)
    certificate = config["ViewerCertificate"]
    assert certificate == {
        "AcmCertificateArn": ref("SiteCertificateArn"),
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2025",
    }
    year = int(re.fullmatch(r"TLSv1\.[23]_(\d{4})", certificate["MinimumProtocolVersion"])[1])
    assert year >= 2021
    assert config["HttpVersion"] == "http2and3"
    assert config["IPV6Enabled"] is True
    assert config["Aliases"] == [ref("SiteDomain")]
    assert config["WebACLId"] == ref("SiteWebAclArn")
    assert config["PriceClass"] == ref("SitePriceClass")
    assert config["DefaultRootObject"] == "index.html"


def test_every_behaviour_redirects_http_and_sends_the_security_headers(t):
    config = _distribution(t)
    for behaviour in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behaviour["ResponseHeadersPolicyId"] == ref("SecurityHeadersPolicy")


def test_security_headers(t):
    config = props(t, "SecurityHeadersPolicy")["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    hsts = headers["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 31_536_000 and hsts["IncludeSubdomains"] is True
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    assert all(h["Override"] for h in headers.values())
    assert config["CustomHeadersConfig"]["Items"][0]["Header"] == "Permissions-Policy"


def test_content_security_policy_allows_this_origin_and_nothing_more(t):
    csp = props(t, "SecurityHeadersPolicy")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"][
        "ContentSecurityPolicy"
    ]["ContentSecurityPolicy"]
    directives = dict(d.split(" ", 1) if " " in d else (d, "") for d in csp.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["connect-src"] == "'self'"  # the API is under the same origin
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "upgrade-insecure-requests" in directives
    for forbidden in ("*", "http:", "https:", "'unsafe-inline'", "'unsafe-eval'"):
        assert forbidden not in csp.split(), forbidden


def test_alias_records_point_at_the_distribution_where_a_zone_is_given(t, live):
    for record_type in ("A", "AAAA"):
        record = t["Resources"][f"SiteAlias{record_type}"]
        assert record["Condition"] == "HasSiteHostedZone"
        assert record["Properties"] == {
            "HostedZoneId": ref("SiteHostedZoneId"),
            "Name": ref("SiteDomain"),
            "Type": record_type,
            "AliasTarget": {
                "DNSName": getatt("SiteDistribution", "DomainName"),
                "HostedZoneId": "Z2FDTNDATAQYW2",
            },
        }
    assert all("SiteAliasAAAA" in d["resources"] for d in live.values())


def test_functions_run_on_cloudfront_js_2_and_publish(t):
    functions = resources_of_type(t, "AWS::CloudFront::Function")
    for name, function in functions.items():
        p = function["Properties"]
        assert p["AutoPublish"] is True
        assert p["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
        assert "function handler(event)" in p["FunctionCode"], name
    assert props(t, "SpaRoutingFunction")["FunctionCode"] == web.function_code("spa_routing")


# --- per environment -------------------------------------------------------------------------


def test_price_class_and_retention_per_environment(live):
    classes = {
        env: d["resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]["PriceClass"]
        for env, d in live.items()
    }
    assert classes == {
        "dev": "PriceClass_100",
        "staging": "PriceClass_100",
        "prod": "PriceClass_All",
    }
    for env, d in live.items():
        site = d["resources"]["SiteBucket"]
        assert site["DeletionPolicy"] == ("Delete" if env == "dev" else "Retain"), env


def test_every_root_provided_parameter_value_passes_the_stacks_constraints(t, parameter_files):
    assert root_provided_values_checked(t, parameter_files) == 3 * 9


def test_edge_global_outputs_are_required_and_a_missing_one_says_what_to_do(t):
    """The parameter files leave them out (they exist once edge-global is deployed): an
    empty or hand-made value is refused at the change set, naming the fix."""
    edge = {"SiteCertificateArn": CERTIFICATE, "SiteWebAclArn": WEB_ACL}
    assert constraint_problems(t["Parameters"], edge) == []
    assert constraint_problems(t["Parameters"], dict.fromkeys(edge, "")) == [
        ("SiteCertificateArn", ""),
        ("SiteWebAclArn", ""),
    ]
    wrong_region = CERTIFICATE.replace("us-east-1", "eu-west-1")
    assert constraint_problems(t["Parameters"], {"SiteCertificateArn": wrong_region}) != []
    for name in edge:
        assert (
            "edge-global stack (deploy it first)" in t["Parameters"][name]["ConstraintDescription"]
        )


def test_outputs_for_the_frontend_pipeline(t):
    assert {name: o["Value"] for name, o in t["Outputs"].items()} == {
        "SiteBucketName": ref("SiteBucket"),
        "SiteDistributionId": ref("SiteDistribution"),
        "SiteDistributionDomainName": getatt("SiteDistribution", "DomainName"),
        "SiteUrl": {"Fn::Sub": "https://${SiteDomain}"},
    }
