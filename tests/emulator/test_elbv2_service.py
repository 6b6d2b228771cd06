"""Deploy the ingress stack (templates/ingress.yaml) into ministack with the plugin
(emulator/elbv2_service.py and the modules beside it), and read it back through ELBv2, WAFv2,
ACM, Route 53, S3, Secrets Manager and CloudWatch Logs.

The ingress template is deployed as it ships, nested under ``AWS::LanguageExtensions`` in a
parent that makes the VPC, subnets, security group and KMS keys it takes. The smaller tests
deploy top-level stacks for the ELBv2 gaps the ingress stack runs into. One emulator serves the
module; each test deploys its own stacks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import (
    ACCOUNT,
    REGION,
    deploy,
    error_code,
    failure_reasons,
    nested_stack_id,
    new_stack_name,
    outputs_of,
    put_template,
    update,
    wait_stack,
)
from tests.stacks.helpers import ref

pytestmark = pytest.mark.emulator


INGRESS = Path(__file__).resolve().parents[2] / "templates" / "ingress.yaml"
ELB_ACCOUNT_US_EAST_1 = "127311923021"  # ElbLogDelivery mapping of the template
DOMAIN = "api.example.com"
PREFIX_LIST = "pl-0123456789abcdef0"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
MANAGED_RULE_GROUPS = [
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
]


@pytest.fixture(scope="module")
def zone(aws):
    """A public hosted zone the certificate validates in."""
    created = aws("route53").create_hosted_zone(Name="example.com", CallerReference="ingress")
    return created["HostedZone"]["Id"].rsplit("/", 1)[-1]


def ingress_parameters(**changes) -> dict:
    """The nested stack's parameters (the VPC ones come from the parent); ``changes`` win."""
    return {
        "AccessLogDays": "90",
        "ApiDomain": DOMAIN,
        "AppPort": "8080",
        "CertificateArn": "",
        "CloudFrontPrefixListId": PREFIX_LIST,
        "DeregistrationDelaySeconds": "30",
        "EnvironmentName": "dev",
        "HealthCheckIntervalSeconds": "15",
        "HealthCheckPath": "/healthz",
        "HealthCheckTimeoutSeconds": "5",
        "HealthyThreshold": "2",
        "HostedZoneId": "",
        "RetainStatefulResources": "false",
        "UnhealthyThreshold": "3",
        "WafLogRetentionDays": "30",
        "EnableRegionalWaf": "true",
        "WafRateLimit": "2000",
        **changes,
    }


def parent_template(url, parameters) -> str:
    """The parent: a VPC with two public subnets in two zones, the ALB's security group, the
    data and logs keys, and the ingress stack at ``url``."""
    key = {
        "Type": "AWS::KMS::Key",
        "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": []}},
    }
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.40.0.0/16"}},
        "SgAlb": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "alb", "VpcId": ref("Vpc")},
        },
        "DataKey": key,
        "LogsKey": key,
        "Ingress": {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {
                "TemplateURL": url,
                "Parameters": {
                    **parameters,
                    "AlbSecurityGroupId": ref("SgAlb"),
                    "DataKeyArn": {"Fn::GetAtt": ["DataKey", "Arn"]},
                    "LogsKeyArn": {"Fn::GetAtt": ["LogsKey", "Arn"]},
                    "PublicSubnetIds": {"Fn::Join": [",", [ref("SubnetA"), ref("SubnetB")]]},
                    "VpcId": ref("Vpc"),
                },
            },
        },
    }
    for index, suffix in enumerate("ab"):
        resources[f"Subnet{suffix.upper()}"] = {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": ref("Vpc"),
                "CidrBlock": f"10.40.{index}.0/24",
                "AvailabilityZone": f"{REGION}{suffix}",
            },
        }
    outputs = {
        name: {"Value": value}
        for name, value in {
            "VpcId": ref("Vpc"),
            "SubnetA": ref("SubnetA"),
            "SubnetB": ref("SubnetB"),
            "AlbSecurityGroupId": ref("SgAlb"),
            "DataKeyArn": {"Fn::GetAtt": ["DataKey", "Arn"]},
            "LogsKeyArn": {"Fn::GetAtt": ["LogsKey", "Arn"]},
        }.items()
    }
    return json.dumps(
        {"Transform": "AWS::LanguageExtensions", "Resources": resources, "Outputs": outputs}
    )


def deploy_ingress(cfn, template_bucket, parameters) -> tuple[str, str, str]:
    """Create the parent with the ingress stack; its id, the ingress stack's id and the
    template URL."""
    name = new_stack_name()
    url = put_template(template_bucket, f"{name}-ingress.yaml", INGRESS.read_bytes())
    stack_id = cfn.create_stack(StackName=name, TemplateBody=parent_template(url, parameters))[
        "StackId"
    ]
    stack = wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")
    assert stack["StackStatus"] == "CREATE_COMPLETE", failure_reasons(
        cfn, nested_stack_id(cfn, stack_id, "Ingress")
    )
    return stack_id, nested_stack_id(cfn, stack_id, "Ingress"), url


def stack_state(cfn, stack_id) -> tuple[dict, dict]:
    """A stack's outputs and its resources' physical ids by logical id."""
    outputs = outputs_of(cfn.describe_stacks(StackName=stack_id)["Stacks"][0])
    resources = cfn.describe_stack_resources(StackName=stack_id)["StackResources"]
    return outputs, {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def attributes(entries) -> dict:
    return {a["Key"]: a["Value"] for a in entries}


def rules_by_priority(elbv2, listener_arn) -> dict:
    return {r["Priority"]: r for r in elbv2.describe_rules(ListenerArn=listener_arn)["Rules"]}


def header_conditions(rule) -> dict:
    """A rule's http-header conditions, header name -> values."""
    return {
        c["HttpHeaderConfig"]["HttpHeaderName"]: c["HttpHeaderConfig"]["Values"]
        for c in rule["Conditions"]
        if c["Field"] == "http-header"
    }


def web_acl(wafv2, arn) -> dict:
    name, acl_id = arn.rsplit("/", 2)[-2:]
    return wafv2.get_web_acl(Name=name, Id=acl_id, Scope="REGIONAL")["WebACL"]


def check_load_balancer(aws, parent, outputs, resources, *, protected):
    """Scheme, type, subnets and zones, security group and attributes of the ALB."""
    elbv2 = aws("elbv2")
    arn = outputs["ApiLoadBalancerArn"]
    lb = elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    assert (lb["Scheme"], lb["Type"], lb["IpAddressType"]) == (
        "internet-facing",
        "application",
        "ipv4",
    )
    assert lb["VpcId"] == parent["VpcId"]
    assert {(z["ZoneName"], z["SubnetId"]) for z in lb["AvailabilityZones"]} == {
        (f"{REGION}a", parent["SubnetA"]),
        (f"{REGION}b", parent["SubnetB"]),
    }
    assert lb["SecurityGroups"] == [parent["AlbSecurityGroupId"]]
    assert outputs["ApiLoadBalancerDnsName"] == lb["DNSName"]
    assert outputs["ApiLoadBalancerFullName"] == arn.split(":loadbalancer/", 1)[1]
    assert attributes(
        elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    ) == {
        "deletion_protection.enabled": "true" if protected else "false",
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "routing.http.desync_mitigation_mode": "strictest",
        "routing.http2.enabled": "true",
        "idle_timeout.timeout_seconds": "60",
        "waf.fail_open.enabled": "false",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": resources["AccessLogsBucket"],
        "access_logs.s3.prefix": "alb",
    }
    tags = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
    assert {"Key": "Component", "Value": "ingress"} in tags


def check_listeners(aws, outputs, resources, certificate_arn, origin_header):
    """HTTP 80 redirects to HTTPS; HTTPS 443 answers 403 unless a rule forwards. Rule 1 takes
    test traffic, rule 10 all paths, both with the origin header when CloudFront fronts."""
    elbv2 = aws("elbv2")
    listeners = {
        listener["Port"]: listener
        for listener in elbv2.describe_listeners(LoadBalancerArn=outputs["ApiLoadBalancerArn"])[
            "Listeners"
        ]
    }
    http, https = listeners[80], listeners[443]
    assert http["ListenerArn"] == resources["HttpListener"]
    assert http["Protocol"] == "HTTP"
    [redirect] = http["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert {k: redirect["RedirectConfig"][k] for k in ("Protocol", "Port", "StatusCode")} == {
        "Protocol": "HTTPS",
        "Port": "443",
        "StatusCode": "HTTP_301",
    }
    assert https["ListenerArn"] == resources["HttpsListener"]
    assert (https["Protocol"], https["SslPolicy"]) == ("HTTPS", TLS_POLICY)
    assert https["Certificates"] == [{"CertificateArn": certificate_arn}]
    [forbidden] = https["DefaultActions"]
    assert forbidden["Type"] == "fixed-response"
    assert forbidden["FixedResponseConfig"] == {
        "StatusCode": "403",
        "ContentType": "text/plain",
        "MessageBody": "Forbidden",
    }

    rules = rules_by_priority(elbv2, https["ListenerArn"])
    assert set(rules) == {"default", "1", "10"}
    test, production = rules["1"], rules["10"]
    assert test["RuleArn"] == outputs["ApiTestListenerRuleArn"]
    assert production["RuleArn"] == outputs["ApiProductionListenerRuleArn"]
    origin = {"X-Origin-Verify": [origin_header]} if origin_header else {}
    assert header_conditions(test) == {"X-Playback-Test-Traffic": ["true"], **origin}
    assert header_conditions(production) == origin
    [paths] = [c for c in production["Conditions"] if c["Field"] != "http-header"]
    assert (paths["Field"], paths["PathPatternConfig"]["Values"]) == ("path-pattern", ["/*"])
    for rule in (test, production):
        [forward] = rule["Actions"]
        assert (forward["Type"], forward["TargetGroupArn"]) == (
            "forward",
            outputs["ApiTargetGroupBlueArn"],
        )
    tags = elbv2.describe_tags(ResourceArns=[test["RuleArn"]])["TagDescriptions"][0]["Tags"]
    assert {"Key": "Component", "Value": "ingress"} in tags
    assert {"Key": "aws:cloudformation:logical-id", "Value": "ApiTestListenerRule"} in tags


def check_target_groups(aws, parent, outputs, *, interval):
    """Both groups: ip targets over HTTP/1 on the app port, the health check, and the
    attributes. Only blue, which the rules forward to, is behind the load balancer."""
    elbv2 = aws("elbv2")
    for colour, load_balancers in (("Blue", [outputs["ApiLoadBalancerArn"]]), ("Green", [])):
        arn = outputs[f"ApiTargetGroup{colour}Arn"]
        group = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        assert {
            key: group[key]
            for key in (
                "TargetType",
                "Protocol",
                "ProtocolVersion",
                "Port",
                "VpcId",
                "HealthCheckEnabled",
                "HealthCheckProtocol",
                "HealthCheckPath",
                "HealthCheckIntervalSeconds",
                "HealthCheckTimeoutSeconds",
                "HealthyThresholdCount",
                "UnhealthyThresholdCount",
                "Matcher",
                "LoadBalancerArns",
            )
        } == {
            "TargetType": "ip",
            "Protocol": "HTTP",
            "ProtocolVersion": "HTTP1",
            "Port": 8080,
            "VpcId": parent["VpcId"],
            "HealthCheckEnabled": True,
            "HealthCheckProtocol": "HTTP",
            "HealthCheckPath": "/healthz",
            "HealthCheckIntervalSeconds": interval,
            "HealthCheckTimeoutSeconds": 5,
            "HealthyThresholdCount": 2,
            "UnhealthyThresholdCount": 3,
            "Matcher": {"HttpCode": "200"},
            "LoadBalancerArns": load_balancers,
        }, colour
        assert attributes(
            elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
        ) == {
            "deregistration_delay.timeout_seconds": "30",
            "stickiness.enabled": "false",
            "load_balancing.algorithm.type": "least_outstanding_requests",
        }


def check_access_logs_bucket(aws, bucket, *, days, policy=True):
    """SSE-S3, no public access, bucket-owner ownership, versioning, the expiry, and the
    policy that lets the region's ELB account write under alb/ over TLS only (``policy``
    false: no policy, the stack that deleted its policy retained the bucket)."""
    s3 = aws("s3")
    [encryption] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert encryption["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule == {
        "ID": "expire-access-logs",
        "Filter": {"Prefix": ""},
        "Status": "Enabled",
        "Expiration": {"Days": days},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }
    assert {"Key": "Component", "Value": "ingress"} in s3.get_bucket_tagging(Bucket=bucket)[
        "TagSet"
    ]
    if not policy:
        assert error_code(s3.get_bucket_policy, Bucket=bucket) == "NoSuchBucketPolicy"
        return
    delivery, tls_only = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert delivery["Principal"] == {"AWS": [f"arn:aws:iam::{ELB_ACCOUNT_US_EAST_1}:root"]}
    assert delivery["Action"] == ["s3:PutObject"]
    assert delivery["Resource"] == [f"arn:aws:s3:::{bucket}/alb/AWSLogs/{ACCOUNT}/*"]
    assert (tls_only["Effect"], tls_only["Condition"]) == (
        "Deny",
        {"Bool": {"aws:SecureTransport": "false"}},
    )


def check_waf(aws, parent, outputs, resources, *, limit):
    """The web ACL's four AWS managed rule groups (no override) and its rate limit (``limit``),
    its association with the ALB and its logging to the WAF log group."""
    wafv2, logs = aws("wafv2"), aws("logs")
    arn = outputs["ApiWebAclArn"]
    acl = web_acl(wafv2, arn)
    assert acl["ARN"] == arn
    assert acl["DefaultAction"] == {"Allow": {}}
    managed = [r for r in acl["Rules"] if "ManagedRuleGroupStatement" in r["Statement"]]
    assert [r["Statement"]["ManagedRuleGroupStatement"] for r in managed] == [
        {"VendorName": "AWS", "Name": name} for name in MANAGED_RULE_GROUPS
    ]
    assert all(r["OverrideAction"] == {"None": {}} for r in managed)
    # The per-IP rate limit only guards an ALB open to the internet (``limit`` None: none).
    assert [r["Priority"] for r in acl["Rules"]] == [10, 20, 30, 40] + ([50] if limit else [])
    if limit:
        rate = acl["Rules"][-1]
        assert (rate["Name"], rate["Action"]) == ("RateLimitPerIp", {"Block": {}})
        assert rate["Statement"]["RateBasedStatement"] == {
            "Limit": limit,
            "AggregateKeyType": "IP",
        }

    lb = outputs["ApiLoadBalancerArn"]
    assert wafv2.get_web_acl_for_resource(ResourceArn=lb)["WebACL"]["ARN"] == arn
    assert wafv2.list_resources_for_web_acl(WebACLArn=arn)["ResourceArns"] == [lb]
    assert resources["ApiWebAclAssociation"] == f"{lb}|{arn}"

    group_name = resources["WafLogGroup"]
    assert group_name.startswith("aws-waf-logs-")
    [group] = logs.describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]
    assert (group["retentionInDays"], group["kmsKeyId"]) == (30, parent["LogsKeyArn"])
    logging = wafv2.get_logging_configuration(ResourceArn=arn)["LoggingConfiguration"]
    assert logging["LogDestinationConfigs"] == [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name}"
    ]
    assert resources["ApiWebAclLogging"] == arn


def check_certificate(aws, zone, certificate_arn):
    """The certificate for the API domain, DNS-validated through a record in the zone."""
    certificate = aws("acm").describe_certificate(CertificateArn=certificate_arn)["Certificate"]
    assert certificate["DomainName"] == DOMAIN
    [validation] = certificate["DomainValidationOptions"]
    assert (validation["DomainName"], validation["ValidationMethod"]) == (DOMAIN, "DNS")
    record = validation["ResourceRecord"]
    records = aws("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    assert {
        (r["Name"], r["Type"], r["ResourceRecords"][0]["Value"])
        for r in records
        if r["Type"] == "CNAME"
    } == {(record["Name"], "CNAME", record["Value"])}


def test_ingress_behind_cloudfront_deploys_updates_and_deletes(cfn, aws, template_bucket, zone):
    parameters = ingress_parameters(
        EnvironmentName="edge", HostedZoneId=zone, RetainStatefulResources="true"
    )
    stack_id, ingress_id, url = deploy_ingress(cfn, template_bucket, parameters)
    parent = outputs_of(cfn.describe_stacks(StackName=stack_id)["Stacks"][0])
    outputs, resources = stack_state(cfn, ingress_id)
    certificate = outputs["ApiCertificateArn"]
    assert certificate == resources["ApiCertificate"]

    secrets = aws("secretsmanager")
    secret_arn = outputs["OriginVerifySecretArn"]
    described = secrets.describe_secret(SecretId=secret_arn)
    assert described["KmsKeyId"] == parent["DataKeyArn"]
    origin_header = secrets.get_secret_value(SecretId=secret_arn)["SecretString"]
    assert len(origin_header) == 48 and origin_header.isalnum()  # ExcludePunctuation

    check_load_balancer(aws, parent, outputs, resources, protected=True)
    check_listeners(aws, outputs, resources, certificate, origin_header)
    check_target_groups(aws, parent, outputs, interval=15)
    check_access_logs_bucket(aws, resources["AccessLogsBucket"], days=90)
    check_waf(aws, parent, outputs, resources, limit=None)
    check_certificate(aws, zone, certificate)

    # Health check interval and log expiry change; the data is no longer retained, which
    # takes the ALB's deletion protection off; CloudFront no longer fronts the ALB, so the
    # rules drop the origin header and the web ACL gains the rate limit.
    changed = {
        **parameters,
        "HealthCheckIntervalSeconds": "30",
        "AccessLogDays": "30",
        "RetainStatefulResources": "false",
        "CloudFrontPrefixListId": "",
        "WafRateLimit": "5000",
    }
    update(cfn, stack_id, parent_template(url, changed))
    after, resources_after = stack_state(cfn, ingress_id)
    assert after == outputs
    assert resources_after == resources
    check_load_balancer(aws, parent, outputs, resources, protected=False)
    check_listeners(aws, outputs, resources, certificate, origin_header=None)
    check_target_groups(aws, parent, outputs, interval=30)
    check_access_logs_bucket(aws, resources["AccessLogsBucket"], days=30)
    check_waf(aws, parent, outputs, resources, limit=5000)

    cfn.delete_stack(StackName=stack_id)
    stack = wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")
    assert stack["StackStatus"] == "DELETE_COMPLETE", failure_reasons(cfn, ingress_id)
    # DeletionPolicy Retain: the access logs stay, with their settings; the bucket policy,
    # a resource of its own, goes.
    check_access_logs_bucket(aws, resources["AccessLogsBucket"], days=30, policy=False)
    elbv2, wafv2 = aws("elbv2"), aws("wafv2")
    lb = outputs["ApiLoadBalancerArn"]
    assert error_code(elbv2.describe_load_balancers, LoadBalancerArns=[lb]) == (
        "LoadBalancerNotFound"
    )
    for colour in ("Blue", "Green"):
        arn = outputs[f"ApiTargetGroup{colour}Arn"]
        assert error_code(elbv2.describe_target_groups, TargetGroupArns=[arn]) == (
            "TargetGroupNotFound"
        )
    acl = outputs["ApiWebAclArn"]
    name, acl_id = acl.rsplit("/", 2)[-2:]
    missing = "WAFNonexistentItemException"
    assert error_code(wafv2.get_web_acl, Name=name, Id=acl_id, Scope="REGIONAL") == missing
    assert error_code(wafv2.get_web_acl_for_resource, ResourceArn=lb) == missing
    assert error_code(wafv2.get_logging_configuration, ResourceArn=acl) == missing
    logs = aws("logs").describe_log_groups(logGroupNamePrefix=resources["WafLogGroup"])
    assert logs["logGroups"] == []
    assert error_code(secrets.describe_secret, SecretId=secret_arn) == "ResourceNotFoundException"
    assert error_code(aws("acm").describe_certificate, CertificateArn=certificate) == (
        "ResourceNotFoundException"
    )
    # As on AWS, the validation record stays in the zone.
    records = aws("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    assert [r["Type"] for r in records if r["Type"] == "CNAME"] == ["CNAME"]


def test_ingress_open_to_the_internet_with_an_existing_certificate(cfn, aws, template_bucket):
    acm = aws("acm")
    certificate = acm.request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")[
        "CertificateArn"
    ]
    parameters = ingress_parameters(
        EnvironmentName="open", CloudFrontPrefixListId="", CertificateArn=certificate
    )
    stack_id, ingress_id, url = deploy_ingress(cfn, template_bucket, parameters)
    parent = outputs_of(cfn.describe_stacks(StackName=stack_id)["Stacks"][0])
    outputs, resources = stack_state(cfn, ingress_id)
    assert "ApiCertificate" not in resources
    assert outputs["ApiCertificateArn"] == certificate
    check_load_balancer(aws, parent, outputs, resources, protected=False)
    # No X-Origin-Verify condition: the rules match on the test header and the path only.
    check_listeners(aws, outputs, resources, certificate, origin_header=None)
    check_target_groups(aws, parent, outputs, interval=15)
    check_waf(aws, parent, outputs, resources, limit=2000)

    changed = {**parameters, "WafRateLimit": "3000", "HealthCheckIntervalSeconds": "20"}
    update(cfn, stack_id, parent_template(url, changed))
    check_waf(aws, parent, outputs, resources, limit=3000)
    check_target_groups(aws, parent, outputs, interval=20)

    cfn.delete_stack(StackName=stack_id)
    stack = wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")
    assert stack["StackStatus"] == "DELETE_COMPLETE", failure_reasons(cfn, ingress_id)
    # The certificate is not the stack's: it stays.
    assert acm.describe_certificate(CertificateArn=certificate)["Certificate"]["Status"] == (
        "ISSUED"
    )


# --- The ministack gaps the ingress stack ran into, on their own ---------------------------


def load_balancer_template(protected) -> str:
    return json.dumps(
        {
            "Resources": {
                "Alb": {
                    "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                    "Properties": {
                        "Subnets": ["subnet-0aaa", "subnet-0bbb"],
                        "LoadBalancerAttributes": [
                            {"Key": "deletion_protection.enabled", "Value": str(protected).lower()}
                        ],
                    },
                }
            },
            "Outputs": {"Alb": {"Value": ref("Alb")}},
        }
    )


def test_a_protected_load_balancer_fails_the_delete(cfn, aws):
    elbv2, wafv2 = aws("elbv2"), aws("wafv2")
    stack_id, outputs = deploy(cfn, load_balancer_template(protected=True))
    acl = wafv2.create_web_acl(
        Name="protected-alb",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={
            "CloudWatchMetricsEnabled": False,
            "MetricName": "alb",
            "SampledRequestsEnabled": False,
        },
    )["Summary"]["ARN"]
    wafv2.associate_web_acl(WebACLArn=acl, ResourceArn=outputs["Alb"])
    cfn.delete_stack(StackName=stack_id)
    assert wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")["StackStatus"] == "DELETE_FAILED"
    assert any(
        "cannot be deleted because deletion protection is enabled" in reason
        for reason in failure_reasons(cfn, stack_id)
    )
    assert elbv2.describe_load_balancers(LoadBalancerArns=[outputs["Alb"]])["LoadBalancers"]

    # Protection off, the retried delete goes through.
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=outputs["Alb"],
        Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}],
    )
    cfn.delete_stack(StackName=stack_id)
    assert wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")["StackStatus"] == "DELETE_COMPLETE"
    # The web ACL association goes with the load balancer.
    assert wafv2.list_resources_for_web_acl(WebACLArn=acl)["ResourceArns"] == []


def forwarding_template(default_forward) -> str:
    """A load balancer whose listener forwards to the target group, or answers 404."""
    action = (
        {"Type": "forward", "TargetGroupArn": ref("Group")}
        if default_forward
        else {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}
    )
    return json.dumps(
        {
            "Resources": {
                "Alb": {
                    "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                    "Properties": {"Subnets": ["subnet-0aaa", "subnet-0bbb"]},
                },
                "Group": {
                    "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                    "Properties": {"Port": 80, "Protocol": "HTTP", "VpcId": "vpc-0aaa"},
                },
                "Listener": {
                    "Type": "AWS::ElasticLoadBalancingV2::Listener",
                    "Properties": {
                        "LoadBalancerArn": ref("Alb"),
                        "Port": 80,
                        "Protocol": "HTTP",
                        "DefaultActions": [action],
                    },
                },
            },
            "Outputs": {"Alb": {"Value": ref("Alb")}, "Group": {"Value": ref("Group")}},
        }
    )


def test_a_target_group_lists_the_load_balancers_that_forward_to_it(cfn, aws):
    elbv2 = aws("elbv2")

    def load_balancers(group):
        [described] = elbv2.describe_target_groups(TargetGroupArns=[group])["TargetGroups"]
        return described["LoadBalancerArns"]

    stack_id, outputs = deploy(cfn, forwarding_template(default_forward=True))
    assert load_balancers(outputs["Group"]) == [outputs["Alb"]]
    update(cfn, stack_id, forwarding_template(default_forward=False))
    assert load_balancers(outputs["Group"]) == []
