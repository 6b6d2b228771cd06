"""The edge-global stack: what CloudFront takes only from us-east-1, one stack per environment.

- The site's ACM certificate, validated through DNS in the environment's hosted zone (or an
  existing certificate passed through). ACM renews it by itself while the validation record
  stays in the zone.
- The CLOUDFRONT-scope WAF web ACL: AWS managed rules (IP reputation, common, known bad
  inputs) and a per-viewer-IP rate limit, logged to a KMS-encrypted log group.
Deployed to us-east-1 whatever the environment's region; its two outputs become the root's
SiteCertificateArn and SiteWebAclArn parameters (`playback-infra deploy` passes them on).
"""

from __future__ import annotations

from troposphere import Equals, GetAtt, If, Not, Ref, Sub, Template
from troposphere.kms import Alias

from playback_infra.parts import values
from playback_infra.parts.dns import dns_validated_certificate
from playback_infra.parts.iam import cloudwatch_logs_use, customer_key
from playback_infra.parts.names import SITE_WEB_ACL_NAME
from playback_infra.parts.template import (
    add_retain_condition,
    new_template,
    stateful,
    tag_component,
)
from playback_infra.parts.waf import add_logged_web_acl, managed_rules, rate_limit_rule

COMPONENT = "edge"
ISSUE_CERTIFICATE = "IssueCertificate"
MANAGED_RULE_GROUPS = (  # priority, name
    (10, "AWSManagedRulesAmazonIpReputationList"),
    (20, "AWSManagedRulesCommonRuleSet"),
    (30, "AWSManagedRulesKnownBadInputsRuleSet"),
)


def build() -> Template:
    t = new_template(
        "edge-global (us-east-1: CloudFront certificate and WAF)", language_extensions=True
    )
    values.consume(
        t,
        values.ENVIRONMENT_NAME,
        values.SITE_DOMAIN,
        values.SITE_HOSTED_ZONE_ID,
        values.SITE_EXISTING_CERTIFICATE_ARN,
        values.EDGE_WAF_RATE_LIMIT,
        values.EDGE_WAF_LOG_RETENTION_DAYS,
    )
    add_retain_condition(t)
    t.add_condition(ISSUE_CERTIFICATE, Not(Equals(Ref(values.SITE_HOSTED_ZONE_ID), "")))
    t.add_rule(
        "EdgeGlobalIsInUsEast1",
        {
            "Assertions": [
                {
                    "Assert": Equals(Ref("AWS::Region"), "us-east-1"),
                    "AssertDescription": "CloudFront takes certificates and WAF web ACLs only from us-east-1: deploy this stack there",
                }
            ]
        },
    )
    certificate = t.add_resource(
        dns_validated_certificate(
            "SiteCertificate", values.SITE_DOMAIN, values.SITE_HOSTED_ZONE_ID, ISSUE_CERTIFICATE
        )
    )
    key = t.add_resource(
        stateful(
            customer_key(
                "EdgeLogsKey",
                Sub(f"Baseball Playback ${{{values.ENVIRONMENT_NAME}}}: edge WAF logs"),
                [cloudwatch_logs_use()],
            )
        )
    )
    t.add_resource(
        Alias(
            "EdgeLogsKeyAlias",
            AliasName=Sub(f"alias/baseball-playback/${{{values.ENVIRONMENT_NAME}}}/edge-logs"),
            TargetKeyId=Ref(key),
        )
    )
    web_acl = add_logged_web_acl(
        t,
        "SiteWebAcl",
        name=Sub(SITE_WEB_ACL_NAME),
        scope="CLOUDFRONT",
        rules=[
            *managed_rules(MANAGED_RULE_GROUPS),
            rate_limit_rule(40, Ref(values.EDGE_WAF_RATE_LIMIT)),
        ],
        log_key=GetAtt(key, "Arn"),
        retention=Ref(values.EDGE_WAF_LOG_RETENTION_DAYS),
    )
    values.produce(
        t,
        values.SITE_CERTIFICATE_ARN,
        If(ISSUE_CERTIFICATE, Ref(certificate), Ref(values.SITE_EXISTING_CERTIFICATE_ARN)),
    )
    values.produce(t, values.SITE_WEB_ACL_ARN, GetAtt(web_acl, "Arn"))
    tag_component(t, COMPONENT)
    return t
