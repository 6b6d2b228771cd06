"""The security stack: KMS keys, every security group (the VPC's default one left with no rules,
`default_group.py`), and the VPC flow logs.

Security groups live here, not with what uses them, so that no stack needs another stack's
group before it exists and the whole who-may-reach-what picture is in one file:

    internet or CloudFront --443--> ALB --AppPort--> app tasks --3306--> RDS Proxy --3306--> RDS
                                                     jobs     --3306--> RDS Proxy, RDS
                                        secret rotation  --3306--> RDS
    app tasks, jobs, RDS Proxy --443--> AWS APIs (and OpenAI) through NAT or VPC endpoints

Ingress rules are inline. Egress rules that name another group are separate resources,
because each such pair of groups refers to the other and inline rules would form a cycle.
The flow logs are here rather than in the network stack because they are encrypted with the
logs key, and this stack needs the VPC from the network stack.
"""

from __future__ import annotations

from awacs import kms, logs
from awacs.aws import (
    Allow,
    Bool,
    Condition,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import Equals, GetAtt, If, Not, Ref, Sub, Template
from troposphere.ec2 import FlowLog, SecurityGroup, SecurityGroupEgress, SecurityGroupRule
from troposphere.kms import Alias, Key
from troposphere.logs import LogGroup

from playback_infra.parts import values
from playback_infra.parts.ec2 import NO_EGRESS
from playback_infra.parts.iam import (
    ACCOUNT_ROOT,
    BILLING_ALERT_SERVICES,
    KEY_GRANT_ACTIONS,
    KEY_USE_ACTIONS,
    THIS_KEY,
    cloudwatch_logs_use,
    customer_key,
    for_this_account,
    service_role,
)
from playback_infra.parts.template import (
    add_retain_condition,
    name_tag,
    new_template,
    stateful,
    tag_component,
)
from playback_infra.stacks.security.default_group import add_default_group_restriction

COMPONENT = "security"
ALB_FROM_CLOUDFRONT = "AlbFromCloudFront"
MYSQL = 3306
# The serverless cache's primary endpoint (its reader endpoint, 6380, is not used).
VALKEY = 6379
# Services that use the data key on a caller's behalf (kms:ViaService); AWS Backup for the vault.
# The narration cache (ElastiCache Serverless) uses it through both elasticache and dax: "include
# both ViaService names", https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/
# at-rest-encryption.html#using-customer-managed-keys-for-elasticache-security
DATA_KEY_SERVICES = ("rds", "secretsmanager", "s3", "backup", "elasticache", "dax")


def build() -> Template:
    t = new_template(
        "security (KMS keys, security groups, VPC flow logs)", language_extensions=True
    )
    values.consume(
        t,
        values.ENVIRONMENT_NAME,
        values.VPC_ID,
        values.APP_PORT,
        values.CLOUDFRONT_PREFIX_LIST_ID,
        values.FLOW_LOG_RETENTION_DAYS,
    )
    add_retain_condition(t)
    t.add_condition(ALB_FROM_CLOUDFRONT, Not(Equals(Ref(values.CLOUDFRONT_PREFIX_LIST_ID), "")))

    data_key = _add_key(
        t, "DataKey", "data", "RDS, data buckets and secrets", _data_key_statements()
    )
    logs_key = _add_key(
        t, "LogsKey", "logs", "CloudWatch Logs and alarm notifications", _logs_key_statements()
    )
    groups = _add_security_groups(t)
    add_default_group_restriction(t, logs_key)
    flow_log_group = _add_flow_logs(t, logs_key)

    values.produce(t, values.DATA_KEY_ARN, GetAtt(data_key, "Arn"))
    values.produce(t, values.LOGS_KEY_ARN, GetAtt(logs_key, "Arn"))
    for name, group in groups.items():
        values.produce(t, name, GetAtt(group, "GroupId"))
    values.produce(t, values.FLOW_LOG_GROUP_NAME, Ref(flow_log_group))
    tag_component(t, COMPONENT)
    return t


# --- keys ------------------------------------------------------------------------------------


def _add_key(t: Template, title: str, alias: str, purpose: str, statements: list) -> Key:
    key = t.add_resource(
        stateful(
            customer_key(
                title,
                Sub(f"Baseball Playback ${{{values.ENVIRONMENT_NAME}}}: {purpose}"),
                statements,
            )
        )
    )
    t.add_resource(
        Alias(
            f"{title}Alias",
            AliasName=Sub(f"alias/baseball-playback/${{{values.ENVIRONMENT_NAME}}}/{alias}"),
            TargetKeyId=Ref(key),
        )
    )
    return key


def _data_key_statements() -> list[Statement]:
    """Principals of this account may use the key only through the services that keep the
    data (DATA_KEY_SERVICES), and grant it only to those services' resources."""
    via_services = StringEquals(
        {
            "kms:CallerAccount": Sub("${AWS::AccountId}"),
            "kms:ViaService": [
                Sub(f"{s}.${{AWS::Region}}.amazonaws.com") for s in DATA_KEY_SERVICES
            ],
        }
    )
    return [
        Statement(
            Sid="UseThroughAwsServices",
            Effect=Allow,
            Principal=Principal("AWS", [ACCOUNT_ROOT]),
            Action=KEY_USE_ACTIONS,
            Resource=[THIS_KEY],
            Condition=Condition([via_services]),
        ),
        Statement(
            Sid="GrantsForAwsServices",
            Effect=Allow,
            Principal=Principal("AWS", [ACCOUNT_ROOT]),
            Action=KEY_GRANT_ACTIONS,
            Resource=[THIS_KEY],
            Condition=Condition([via_services, Bool("kms:GrantIsForAWSResource", "true")]),
        ),
    ]


def _logs_key_statements() -> list[Statement]:
    """CloudWatch Logs may use the key for this account's log groups in this region, and
    CloudWatch alarms, budgets and cost anomaly alerts of this account to publish to the
    encrypted alarm topic (SNS asks for a data key on the publisher's behalf)."""
    topic_use = [kms.Decrypt, kms.GenerateDataKey]
    return [
        for_this_account(
            "CloudWatchAlarmsToEncryptedTopic", ["cloudwatch.amazonaws.com"], topic_use, THIS_KEY
        ),
        for_this_account(
            "BillingAlertsToEncryptedTopic", BILLING_ALERT_SERVICES, topic_use, THIS_KEY
        ),
        cloudwatch_logs_use(),
    ]


# --- security groups -------------------------------------------------------------------------


def _rule(port, description: str, **peer) -> SecurityGroupRule:
    return SecurityGroupRule(
        IpProtocol="tcp", FromPort=port, ToPort=port, Description=description, **peer
    )


def _group(
    t: Template, title: str, description: str, ingress: list | If, egress: list
) -> SecurityGroup:
    return t.add_resource(
        SecurityGroup(
            title,
            GroupDescription=description,
            VpcId=Ref(values.VPC_ID),
            SecurityGroupIngress=ingress,
            SecurityGroupEgress=egress,
            Tags=name_tag(title.removesuffix("SecurityGroup").lower()),
        )
    )


def _add_security_groups(t: Template) -> dict[str, SecurityGroup]:
    app_port = Ref(values.APP_PORT)
    alb = _group(
        t,
        "AlbSecurityGroup",
        "ALB: HTTPS from CloudFront only, or from the internet where no CloudFront fronts it",
        If(
            ALB_FROM_CLOUDFRONT,
            # Only 443: the CloudFront prefix list counts as 55 rules towards the group's quota
            # of 60, so a second rule from it (port 80) would not fit. CloudFront speaks HTTPS.
            [
                _rule(
                    443,
                    "HTTPS from CloudFront",
                    SourcePrefixListId=Ref(values.CLOUDFRONT_PREFIX_LIST_ID),
                )
            ],
            [
                _rule(443, "HTTPS from the internet", CidrIp="0.0.0.0/0"),
                _rule(80, "HTTP from the internet, redirected to HTTPS", CidrIp="0.0.0.0/0"),
            ],
        ),
        [NO_EGRESS],
    )
    app = _group(
        t,
        "AppSecurityGroup",
        "Backend tasks: the app port from the ALB only",
        [_rule(app_port, "App port from the ALB", SourceSecurityGroupId=Ref(alb))],
        [_rule(443, "HTTPS to OpenAI and AWS APIs", CidrIp="0.0.0.0/0")],
    )
    jobs = _group(
        t,
        "JobsSecurityGroup",
        "One-off jobs (imports, migrations): no inbound traffic",
        [],
        [_rule(443, "HTTPS to AWS APIs and Retrosheet downloads", CidrIp="0.0.0.0/0")],
    )
    proxy = _group(
        t,
        "DatabaseProxySecurityGroup",
        "RDS Proxy: MySQL from the app tasks and jobs",
        [
            _rule(MYSQL, "MySQL from the app tasks", SourceSecurityGroupId=Ref(app)),
            _rule(MYSQL, "MySQL from jobs", SourceSecurityGroupId=Ref(jobs)),
        ],
        # The proxy fetches its database credentials from Secrets Manager through its own
        # interfaces (the NAT or the Secrets Manager endpoint); without 443 out, its targets
        # never become available.
        [_rule(443, "HTTPS to Secrets Manager", CidrIp="0.0.0.0/0")],
    )
    rotation = _group(
        t,
        "SecretsRotationSecurityGroup",
        "Secret rotation functions: no inbound traffic",
        [],
        [_rule(443, "HTTPS to Secrets Manager and RDS APIs", CidrIp="0.0.0.0/0")],
    )
    database = _group(
        t,
        "DatabaseSecurityGroup",
        "RDS MySQL: MySQL from the app tasks, the proxy and jobs",
        [
            _rule(MYSQL, "MySQL from the app tasks", SourceSecurityGroupId=Ref(app)),
            _rule(MYSQL, "MySQL from the RDS Proxy", SourceSecurityGroupId=Ref(proxy)),
            _rule(MYSQL, "MySQL from jobs", SourceSecurityGroupId=Ref(jobs)),
            _rule(MYSQL, "MySQL from secret rotation", SourceSecurityGroupId=Ref(rotation)),
        ],
        [NO_EGRESS],
    )
    cache = _group(
        t,
        "CacheSecurityGroup",
        "Valkey narration cache: from the app tasks only",
        [_rule(VALKEY, "Valkey (TLS) from the app tasks", SourceSecurityGroupId=Ref(app))],
        [NO_EGRESS],
    )
    for source, target, port, description in (
        (alb, app, app_port, "ALB to the app tasks"),
        (app, proxy, MYSQL, "App tasks to the RDS Proxy"),
        (app, database, MYSQL, "App tasks to the database"),
        (jobs, proxy, MYSQL, "Jobs to the RDS Proxy"),
        (jobs, database, MYSQL, "Jobs to the database"),
        (proxy, database, MYSQL, "RDS Proxy to the database"),
        (rotation, database, MYSQL, "Secret rotation to the database"),
        (app, cache, VALKEY, "App tasks to the narration cache"),
    ):
        t.add_resource(
            SecurityGroupEgress(
                f"{source.title.removesuffix('SecurityGroup')}To"
                f"{target.title.removesuffix('SecurityGroup')}Egress",
                GroupId=GetAtt(source, "GroupId"),
                DestinationSecurityGroupId=GetAtt(target, "GroupId"),
                IpProtocol="tcp",
                FromPort=port,
                ToPort=port,
                Description=description,
            )
        )
    return {
        values.ALB_SECURITY_GROUP_ID: alb,
        values.APP_SECURITY_GROUP_ID: app,
        values.DATABASE_SECURITY_GROUP_ID: database,
        values.DATABASE_PROXY_SECURITY_GROUP_ID: proxy,
        values.JOBS_SECURITY_GROUP_ID: jobs,
        values.SECRETS_ROTATION_SECURITY_GROUP_ID: rotation,
        values.CACHE_SECURITY_GROUP_ID: cache,
    }


# --- flow logs -------------------------------------------------------------------------------


def _add_flow_logs(t: Template, logs_key: Key) -> LogGroup:
    group = t.add_resource(
        stateful(
            LogGroup(
                "FlowLogGroup",
                # No LogGroupName: a retained group from a deleted stack would block re-creation.
                KmsKeyId=GetAtt(logs_key, "Arn"),
                RetentionInDays=Ref(values.FLOW_LOG_RETENTION_DAYS),
            )
        )
    )
    role = t.add_resource(
        service_role(
            "FlowLogRole",
            "Lets VPC Flow Logs write to the flow-log group",
            service="vpc-flow-logs.amazonaws.com",
            source_arn=Sub(
                "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-flow-log/*"
            ),
            policy_name="write-flow-logs",
            statements=[
                Statement(
                    Effect=Allow,
                    Action=[logs.CreateLogStream, logs.PutLogEvents, logs.DescribeLogStreams],
                    Resource=[GetAtt(group, "Arn")],
                )
            ],
        )
    )
    t.add_resource(
        FlowLog(
            "VpcFlowLog",
            ResourceId=Ref(values.VPC_ID),
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogDestination=GetAtt(group, "Arn"),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
            MaxAggregationInterval=60,
            Tags=name_tag("vpc-flow-log"),
        )
    )
    return group
