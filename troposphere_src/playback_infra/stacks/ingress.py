"""The ingress stack: the API's Application Load Balancer, its certificate and regional WAF.

- Internet-facing in the public subnets, behind the ALB security group (CloudFront's
  origin-facing prefix list, or the internet where no CloudFront fronts it).
- HTTP only redirects to HTTPS; HTTPS uses a TLS 1.3 policy, drops invalid header fields and
  mitigates desync strictly.
- Production traffic goes through a listener *rule*, not the default action: ECS native
  blue/green moves that rule between the blue and green target groups, and a second rule
  (a test header) reaches the green tasks before the shift. Where CloudFront fronts the API,
  both rules also require CloudFront's secret origin header; everything else gets a 403.
- Access logs go to a bucket of their own (SSE-S3: ALB log delivery supports nothing else).
- The regional WAF web ACL: AWS managed rules (common, known bad inputs, SQL injection, IP
  reputation) and a per-IP rate limit, logged to CloudWatch Logs; where EnableRegionalWaf
  says (the model lets development drop it only when the ALB admits CloudFront alone, whose
  WAF then inspects every request, and production never).
This stack needs only the network and security stacks, so it builds while the database does.
"""

from __future__ import annotations

from awacs import s3
from awacs.aws import Allow, Policy, Principal, Statement
from troposphere import Equals, FindInMap, GetAtt, If, Not, Ref, Sub, Template
from troposphere.certificatemanager import Certificate
from troposphere.elasticloadbalancingv2 import (
    Action,
    FixedResponseConfig,
    HttpHeaderConfig,
    Listener,
    ListenerRule,
    ListenerRuleAction,
    LoadBalancer,
    LoadBalancerAttributes,
    Matcher,
    PathPatternConfig,
    RedirectConfig,
    TargetGroup,
    TargetGroupAttribute,
)
from troposphere.elasticloadbalancingv2 import (
    Certificate as ListenerCertificate,
)
from troposphere.elasticloadbalancingv2 import (
    Condition as RuleCondition,
)
from troposphere.s3 import (
    Bucket,
    BucketPolicy,
)
from troposphere.secretsmanager import GenerateSecretString, Secret
from troposphere.wafv2 import WebACL, WebACLAssociation

from playback_infra.environments.regions import ELB_LOG_DELIVERY_ACCOUNTS
from playback_infra.parts import values
from playback_infra.parts.dns import alias_record, dns_validated_certificate
from playback_infra.parts.names import API_WEB_ACL_NAME, ORIGIN_HEADER, TEST_HEADER
from playback_infra.parts.s3 import access_log_bucket, tls_only
from playback_infra.parts.template import (
    add_retain_condition,
    new_template,
    stateful,
    tag_component,
)
from playback_infra.parts.waf import add_logged_web_acl, managed_rules, rate_limit_rule

COMPONENT = "ingress"
FRONTED = "FrontedByCloudFront"
REGIONAL_WAF = "RegionalWaf"
ISSUE_CERTIFICATE = "IssueCertificate"
# TLS 1.3 and 1.2 with forward-secret ciphers only.
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
LOG_PREFIX = "alb"
MANAGED_RULE_GROUPS = (  # priority, name
    (10, "AWSManagedRulesAmazonIpReputationList"),
    (20, "AWSManagedRulesCommonRuleSet"),
    (30, "AWSManagedRulesKnownBadInputsRuleSet"),
    (40, "AWSManagedRulesSQLiRuleSet"),
)


def build() -> Template:
    t = new_template(
        "ingress (API load balancer, certificate, regional WAF)", language_extensions=True
    )
    values.consume(
        t,
        values.ENVIRONMENT_NAME,
        values.VPC_ID,
        values.PUBLIC_SUBNET_IDS,
        values.ALB_SECURITY_GROUP_ID,
        values.LOGS_KEY_ARN,
        values.DATA_KEY_ARN,
        values.APP_PORT,
        values.CLOUDFRONT_PREFIX_LIST_ID,
        values.API_DOMAIN,
        values.HOSTED_ZONE_ID,
        values.CERTIFICATE_ARN,
        values.HEALTH_CHECK_PATH,
        values.HEALTH_CHECK_INTERVAL_SECONDS,
        values.HEALTH_CHECK_TIMEOUT_SECONDS,
        values.HEALTHY_THRESHOLD,
        values.UNHEALTHY_THRESHOLD,
        values.DEREGISTRATION_DELAY_SECONDS,
        values.ENABLE_REGIONAL_WAF,
        values.WAF_RATE_LIMIT,
        values.WAF_LOG_RETENTION_DAYS,
        values.ACCESS_LOG_DAYS,
    )
    add_retain_condition(t)
    t.add_condition(FRONTED, Not(Equals(Ref(values.CLOUDFRONT_PREFIX_LIST_ID), "")))
    t.add_condition(REGIONAL_WAF, Equals(Ref(values.ENABLE_REGIONAL_WAF), "true"))
    t.add_condition(ISSUE_CERTIFICATE, Not(Equals(Ref(values.HOSTED_ZONE_ID), "")))
    t.add_mapping(
        "ElbLogDelivery",
        {region: {"Account": account} for region, account in ELB_LOG_DELIVERY_ACCOUNTS.items()},
    )

    certificate = If(ISSUE_CERTIFICATE, Ref(_add_certificate(t)), Ref(values.CERTIFICATE_ARN))
    logs_bucket = _add_access_logs_bucket(t)
    alb = _add_load_balancer(t, logs_bucket)
    blue, green = (_target_group(t, f"ApiTargetGroup{colour}") for colour in ("Blue", "Green"))
    origin_secret = t.add_resource(
        stateful(
            Secret(
                "OriginVerifySecret",
                Description=Sub(
                    f"Baseball Playback ${{{values.ENVIRONMENT_NAME}}}: header CloudFront sends to the ALB"
                ),
                KmsKeyId=Ref(values.DATA_KEY_ARN),
                GenerateSecretString=GenerateSecretString(
                    PasswordLength=48, ExcludePunctuation=True
                ),
            )
        )
    )
    production, test = _add_listeners(t, alb, certificate, blue, origin_secret)
    # CloudFront connects to the API origin by this name (the certificate's).
    t.add_resource(
        alias_record(
            "ApiAliasRecord",
            ISSUE_CERTIFICATE,
            values.HOSTED_ZONE_ID,
            values.API_DOMAIN,
            "A",
            GetAtt(alb, "DNSName"),
            GetAtt(alb, "CanonicalHostedZoneID"),
        )
    )
    web_acl = _add_waf(t, alb)

    values.produce(t, values.API_LOAD_BALANCER_ARN, Ref(alb))
    values.produce(t, values.API_LOAD_BALANCER_DNS_NAME, GetAtt(alb, "DNSName"))
    values.produce(t, values.API_LOAD_BALANCER_FULL_NAME, GetAtt(alb, "LoadBalancerFullName"))
    values.produce(t, values.API_TARGET_GROUP_BLUE_ARN, Ref(blue))
    values.produce(t, values.API_TARGET_GROUP_GREEN_ARN, Ref(green))
    values.produce(t, values.API_TARGET_GROUP_BLUE_FULL_NAME, GetAtt(blue, "TargetGroupFullName"))
    values.produce(t, values.API_TARGET_GROUP_GREEN_FULL_NAME, GetAtt(green, "TargetGroupFullName"))
    values.produce(t, values.API_PRODUCTION_LISTENER_RULE_ARN, Ref(production))
    values.produce(t, values.API_TEST_LISTENER_RULE_ARN, Ref(test))
    values.produce(t, values.API_CERTIFICATE_ARN, certificate)
    values.produce(t, values.ORIGIN_VERIFY_SECRET_ARN, Ref(origin_secret))
    # The root re-exports every output: this one is there either way.
    values.produce(t, values.API_WEB_ACL_ARN, If(REGIONAL_WAF, GetAtt(web_acl, "Arn"), "none"))
    tag_component(t, COMPONENT)
    return t


def _add_certificate(t: Template) -> Certificate:
    return t.add_resource(
        dns_validated_certificate(
            "ApiCertificate", values.API_DOMAIN, values.HOSTED_ZONE_ID, ISSUE_CERTIFICATE
        )
    )


def _add_access_logs_bucket(t: Template) -> Bucket:
    bucket = t.add_resource(
        access_log_bucket("AccessLogsBucket", values.ACCESS_LOG_DAYS, "ALB access")
    )
    t.add_resource(
        BucketPolicy(
            "AccessLogsBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="ElbLogDelivery",
                        Effect=Allow,
                        # The regional Elastic Load Balancing account writes the logs.
                        Principal=Principal(
                            "AWS",
                            [
                                Sub(
                                    "arn:${AWS::Partition}:iam::${Account}:root",
                                    Account=FindInMap(
                                        "ElbLogDelivery", Ref("AWS::Region"), "Account"
                                    ),
                                )
                            ],
                        ),
                        Action=[s3.PutObject],
                        Resource=[
                            Sub(
                                f"${{{bucket.title}.Arn}}/{LOG_PREFIX}/AWSLogs/${{AWS::AccountId}}/*"
                            )
                        ],
                    ),
                    tls_only(bucket),
                ],
            ),
        )
    )
    return bucket


def _add_load_balancer(t: Template, logs_bucket: Bucket) -> LoadBalancer:
    attributes = {
        "deletion_protection.enabled": If("RetainData", "true", "false"),
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "routing.http.desync_mitigation_mode": "strictest",
        "routing.http2.enabled": "true",
        "idle_timeout.timeout_seconds": "60",
        "waf.fail_open.enabled": "false",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": Ref(logs_bucket),
        "access_logs.s3.prefix": LOG_PREFIX,
    }
    return t.add_resource(
        LoadBalancer(
            "ApiLoadBalancer",
            DependsOn=["AccessLogsBucketPolicy"],  # the ALB checks it may write its logs
            Type="application",
            Scheme="internet-facing",
            IpAddressType="ipv4",
            Subnets=Ref(values.PUBLIC_SUBNET_IDS),
            SecurityGroups=[Ref(values.ALB_SECURITY_GROUP_ID)],
            LoadBalancerAttributes=[
                LoadBalancerAttributes(Key=k, Value=v) for k, v in attributes.items()
            ],
        )
    )


def _target_group(t: Template, title: str) -> TargetGroup:
    return t.add_resource(
        TargetGroup(
            title,
            TargetType="ip",  # Fargate tasks register by IP
            Protocol="HTTP",
            ProtocolVersion="HTTP1",
            Port=Ref(values.APP_PORT),
            VpcId=Ref(values.VPC_ID),
            HealthCheckEnabled=True,
            HealthCheckProtocol="HTTP",
            HealthCheckPath=Ref(values.HEALTH_CHECK_PATH),
            HealthCheckIntervalSeconds=Ref(values.HEALTH_CHECK_INTERVAL_SECONDS),
            HealthCheckTimeoutSeconds=Ref(values.HEALTH_CHECK_TIMEOUT_SECONDS),
            HealthyThresholdCount=Ref(values.HEALTHY_THRESHOLD),
            UnhealthyThresholdCount=Ref(values.UNHEALTHY_THRESHOLD),
            Matcher=Matcher(HttpCode="200"),
            TargetGroupAttributes=[
                TargetGroupAttribute(
                    Key="deregistration_delay.timeout_seconds",
                    Value=Ref(values.DEREGISTRATION_DELAY_SECONDS),
                ),
                TargetGroupAttribute(Key="stickiness.enabled", Value="false"),
                TargetGroupAttribute(
                    Key="load_balancing.algorithm.type", Value="least_outstanding_requests"
                ),
            ],
        )
    )


def _add_listeners(
    t: Template, alb: LoadBalancer, certificate, blue: TargetGroup, origin_secret: Secret
):
    t.add_resource(
        Listener(
            "HttpListener",
            LoadBalancerArn=Ref(alb),
            Port=80,
            Protocol="HTTP",
            DefaultActions=[
                Action(
                    Type="redirect",
                    RedirectConfig=RedirectConfig(
                        Protocol="HTTPS", Port="443", StatusCode="HTTP_301"
                    ),
                )
            ],
        )
    )
    https = t.add_resource(
        Listener(
            "HttpsListener",
            LoadBalancerArn=Ref(alb),
            Port=443,
            Protocol="HTTPS",
            SslPolicy=SSL_POLICY,
            Certificates=[ListenerCertificate(CertificateArn=certificate)],
            # Only the rules below forward; anything else is refused.
            DefaultActions=[
                Action(
                    Type="fixed-response",
                    FixedResponseConfig=FixedResponseConfig(
                        StatusCode="403", ContentType="text/plain", MessageBody="Forbidden"
                    ),
                )
            ],
        )
    )
    origin_header = If(
        FRONTED,
        RuleCondition(
            Field="http-header",
            HttpHeaderConfig=HttpHeaderConfig(
                HttpHeaderName=ORIGIN_HEADER,
                Values=[Sub(f"{{{{resolve:secretsmanager:${{{origin_secret.title}}}}}}}")],
            ),
        ),
        Ref("AWS::NoValue"),
    )
    every_path = RuleCondition(
        Field="path-pattern", PathPatternConfig=PathPatternConfig(Values=["/*"])
    )
    forward = [ListenerRuleAction(Type="forward", TargetGroupArn=Ref(blue))]
    test = t.add_resource(
        ListenerRule(
            "ApiTestListenerRule",
            ListenerArn=Ref(https),
            Priority=1,
            Conditions=[
                RuleCondition(
                    Field="http-header",
                    HttpHeaderConfig=HttpHeaderConfig(HttpHeaderName=TEST_HEADER, Values=["true"]),
                ),
                origin_header,
            ],
            Actions=forward,
        )
    )
    production = t.add_resource(
        ListenerRule(
            "ApiProductionListenerRule",
            ListenerArn=Ref(https),
            Priority=10,
            Conditions=[every_path, origin_header],
            Actions=forward,
        )
    )
    return production, test


def _add_waf(t: Template, alb: LoadBalancer) -> WebACL:
    # Behind CloudFront every request comes from an edge address, so a per-IP limit here would
    # count a whole edge's viewers together; there the CloudFront-scope WAF limits per viewer.
    rate_limit = If(FRONTED, Ref("AWS::NoValue"), rate_limit_rule(50, Ref(values.WAF_RATE_LIMIT)))
    web_acl = add_logged_web_acl(
        t,
        "ApiWebAcl",
        name=Sub(API_WEB_ACL_NAME),
        scope="REGIONAL",
        rules=[*managed_rules(MANAGED_RULE_GROUPS), rate_limit],
        log_key=Ref(values.LOGS_KEY_ARN),
        retention=Ref(values.WAF_LOG_RETENTION_DAYS),
        # The origin secret travels in a header; it must not land in the logs.
        redacted_headers=(ORIGIN_HEADER.lower(),),
    )
    t.add_resource(
        WebACLAssociation(
            "ApiWebAclAssociation", ResourceArn=Ref(alb), WebACLArn=GetAtt(web_acl, "Arn")
        )
    )
    for title in (web_acl.title, f"{web_acl.title}Logging", "WafLogGroup", "ApiWebAclAssociation"):
        t.resources[title].Condition = REGIONAL_WAF
    return web_acl
