"""Deploy the plugin's WAFv2 types (emulator/wafv2_service.py) into ministack, and call the
logging configuration API it adds to WAFv2.

One emulator serves the module; each test deploys its own stacks.
"""

from __future__ import annotations

import json

import pytest

from conftest import (
    ACCOUNT,
    REGION,
    deploy,
    error_code,
    failure_reasons,
    new_stack_name,
    update,
    wait_stack,
)
from tests.stacks.helpers import ref

pytestmark = pytest.mark.emulator


# --- The WAFv2 types on their own ----------------------------------------------------------


def waf_template(*, association_acl="AclA", logging_acl="AclA", group="GroupA", redact=False):
    """Two web ACLs, a load balancer and two WAF log groups; the association and the logging
    configuration point at the ones the keywords name."""
    acl = {
        "Type": "AWS::WAFv2::WebACL",
        "Properties": {
            "Scope": "REGIONAL",
            "DefaultAction": {"Block": {}},
            "VisibilityConfig": {
                "CloudWatchMetricsEnabled": False,
                "MetricName": "acl",
                "SampledRequestsEnabled": False,
            },
        },
    }
    group_arn = {
        "Fn::Sub": f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}"
        f":log-group:${{{group}}}"
    }
    logging = {
        "ResourceArn": {"Fn::GetAtt": [logging_acl, "Arn"]},
        "LogDestinationConfigs": [group_arn],
    }
    if redact:
        logging["RedactedFields"] = [{"SingleHeader": {"Name": "authorization"}}]
    resources = {
        "AclA": acl,
        "AclB": acl,
        "Alb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Subnets": ["subnet-0aaa", "subnet-0bbb"]},
        },
        "GroupA": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": "aws-waf-logs-${AWS::StackName}-a"}},
        },
        "GroupB": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": "aws-waf-logs-${AWS::StackName}-b"}},
        },
        "Association": {
            "Type": "AWS::WAFv2::WebACLAssociation",
            "Properties": {
                "ResourceArn": ref("Alb"),
                "WebACLArn": {"Fn::GetAtt": [association_acl, "Arn"]},
            },
        },
        "Logging": {"Type": "AWS::WAFv2::LoggingConfiguration", "Properties": logging},
    }
    outputs = {
        "Alb": ref("Alb"),
        "AclA": {"Fn::GetAtt": ["AclA", "Arn"]},
        "AclB": {"Fn::GetAtt": ["AclB", "Arn"]},
        "GroupArn": group_arn,
        "AssociationRef": ref("Association"),
        "LoggingRef": ref("Logging"),
        "LoggingManaged": {"Fn::GetAtt": ["Logging", "ManagedByFirewallManager"]},
    }
    return json.dumps(
        {"Resources": resources, "Outputs": {k: {"Value": v} for k, v in outputs.items()}}
    )


def test_web_acl_association_and_logging_are_created_moved_and_removed(cfn, aws):
    wafv2 = aws("wafv2")
    stack_id, outputs = deploy(cfn, waf_template())
    alb, acl_a, acl_b = outputs["Alb"], outputs["AclA"], outputs["AclB"]
    assert outputs["AssociationRef"] == f"{alb}|{acl_a}"
    assert (outputs["LoggingRef"], outputs["LoggingManaged"]) == (acl_a, "false")
    assert wafv2.get_web_acl_for_resource(ResourceArn=alb)["WebACL"]["ARN"] == acl_a
    assert wafv2.get_logging_configuration(ResourceArn=acl_a)["LoggingConfiguration"] == {
        "ResourceArn": acl_a,
        "LogDestinationConfigs": [outputs["GroupArn"]],
        "ManagedByFirewallManager": False,
        "LogType": "WAF_LOGS",
        "LogScope": "CUSTOMER",
    }

    # The association moves to B (a replacement); the logging changes destination in place.
    outputs = update(
        cfn, stack_id, waf_template(association_acl="AclB", group="GroupB", redact=True)
    )
    assert outputs["AssociationRef"] == f"{alb}|{acl_b}"
    assert wafv2.get_web_acl_for_resource(ResourceArn=alb)["WebACL"]["ARN"] == acl_b
    assert wafv2.list_resources_for_web_acl(WebACLArn=acl_a)["ResourceArns"] == []
    logging = wafv2.get_logging_configuration(ResourceArn=acl_a)["LoggingConfiguration"]
    assert logging["LogDestinationConfigs"] == [outputs["GroupArn"]]
    assert logging["RedactedFields"] == [{"SingleHeader": {"Name": "authorization"}}]

    # Logging moves to B: ResourceArn replaces, A's configuration goes.
    outputs = update(
        cfn, stack_id, waf_template(association_acl="AclB", logging_acl="AclB", group="GroupB")
    )
    assert outputs["LoggingRef"] == acl_b
    configs = wafv2.list_logging_configurations(Scope="REGIONAL")["LoggingConfigurations"]
    assert [c["ResourceArn"] for c in configs if c["ResourceArn"] in (acl_a, acl_b)] == [acl_b]
    missing = "WAFNonexistentItemException"
    assert error_code(wafv2.get_logging_configuration, ResourceArn=acl_a) == missing

    cfn.delete_stack(StackName=stack_id)
    assert wait_stack(cfn, stack_id, "DELETE_IN_PROGRESS")["StackStatus"] == "DELETE_COMPLETE"
    assert error_code(wafv2.get_web_acl_for_resource, ResourceArn=alb) == missing
    assert error_code(wafv2.get_logging_configuration, ResourceArn=acl_b) == missing


@pytest.mark.parametrize(
    ("resource", "properties", "reason"),
    [
        (
            "Association",
            {
                "ResourceArn": "arn:aws:elasticloadbalancing:us-east-1:000000000000:"
                "loadbalancer/app/gone/0123456789abcdef"
            },
            "WAFNonexistentItemException",
        ),
        (
            "Logging",
            {"LogDestinationConfigs": ["arn:aws:logs:us-east-1:000000000000:log-group:waf"]},
            "must start with aws-waf-logs-",
        ),
    ],
    ids=["unknown-load-balancer", "destination-name"],
)
def test_waf_types_fail_as_aws_does(cfn, resource, properties, reason):
    body = json.loads(waf_template())
    body["Resources"][resource]["Properties"].update(properties)
    stack_id = cfn.create_stack(StackName=new_stack_name(), TemplateBody=json.dumps(body))[
        "StackId"
    ]
    assert wait_stack(cfn, stack_id, "CREATE_IN_PROGRESS")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert any(
        r.startswith(f"{resource}: ") and reason in r for r in failure_reasons(cfn, stack_id)
    ), failure_reasons(cfn, stack_id)


def test_logging_configuration_api(aws):
    """PutLoggingConfiguration and its kin through the WAFv2 API itself."""
    wafv2 = aws("wafv2")
    visibility = {
        "CloudWatchMetricsEnabled": False,
        "MetricName": "api",
        "SampledRequestsEnabled": False,
    }
    arn = wafv2.create_web_acl(
        Name="logging-api",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig=visibility,
    )["Summary"]["ARN"]
    missing = "WAFNonexistentItemException"
    assert error_code(wafv2.get_logging_configuration, ResourceArn=arn) == missing
    destination = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/aws-waf-logs-api"
    config = {"ResourceArn": arn, "LogDestinationConfigs": [destination]}
    put = wafv2.put_logging_configuration(LoggingConfiguration=config)["LoggingConfiguration"]
    assert wafv2.get_logging_configuration(ResourceArn=arn)["LoggingConfiguration"] == put
    assert put["LogDestinationConfigs"] == [destination]
    two = {**config, "LogDestinationConfigs": [destination, destination]}
    assert error_code(wafv2.put_logging_configuration, LoggingConfiguration=two) == (
        "WAFInvalidParameterException"
    )
    gone = f"{arn.rsplit('/', 1)[0]}/00000000-0000-0000-0000-000000000000"
    unknown = {**config, "ResourceArn": gone}
    assert error_code(wafv2.put_logging_configuration, LoggingConfiguration=unknown) == missing
    wafv2.delete_logging_configuration(ResourceArn=arn)
    assert error_code(wafv2.delete_logging_configuration, ResourceArn=arn) == missing
