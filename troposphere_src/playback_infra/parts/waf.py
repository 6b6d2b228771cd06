"""WAF web ACLs the way both of ours are made: AWS managed rule groups, a per-IP rate limit,
metrics on every rule, and logging to a KMS-encrypted CloudWatch Logs group."""

from __future__ import annotations

from troposphere import GetAtt, Sub, Template
from troposphere.logs import LogGroup
from troposphere.wafv2 import (
    AllowAction,
    BlockAction,
    DefaultAction,
    LoggingConfiguration,
    LoggingConfigurationFieldToMatch,
    ManagedRuleGroupStatement,
    OverrideAction,
    RateBasedStatement,
    RuleAction,
    SingleHeader,
    VisibilityConfig,
    WebACL,
    WebACLRule,
)
from troposphere.wafv2 import Statement as WafStatement

from playback_infra.parts.template import stateful

RATE_LIMIT_RULE = "RateLimitPerIp"


def visibility(metric: str) -> VisibilityConfig:
    return VisibilityConfig(
        SampledRequestsEnabled=True, CloudWatchMetricsEnabled=True, MetricName=metric
    )


def managed_rules(groups: tuple[tuple[int, str], ...]) -> list[WebACLRule]:
    """AWS managed rule groups, (priority, name) each, with their own actions."""
    return [
        WebACLRule(
            Name=group,
            Priority=priority,
            OverrideAction=OverrideAction(**{"None": {}}),
            Statement=WafStatement(
                ManagedRuleGroupStatement=ManagedRuleGroupStatement(VendorName="AWS", Name=group)
            ),
            VisibilityConfig=visibility(group),
        )
        for priority, group in groups
    ]


def rate_limit_rule(priority: int, limit) -> WebACLRule:
    """Block an IP address that sends more than `limit` requests in any 5 minutes."""
    return WebACLRule(
        Name=RATE_LIMIT_RULE,
        Priority=priority,
        Action=RuleAction(Block=BlockAction()),
        Statement=WafStatement(
            RateBasedStatement=RateBasedStatement(Limit=limit, AggregateKeyType="IP")
        ),
        VisibilityConfig=visibility(RATE_LIMIT_RULE),
    )


def add_logged_web_acl(
    t: Template,
    title: str,
    *,
    name: Sub,
    scope: str,
    rules: list,
    log_key,
    retention,
    redacted_headers: tuple[str, ...] = (),
) -> WebACL:
    """A web ACL allowing what no rule blocks, logged to `aws-waf-logs-<stack name>` (WAF
    requires the prefix; the stack name keeps a rebuilt environment clear of a retained group).
    The template needs the LanguageExtensions transform and the RetainData condition."""
    web_acl = t.add_resource(
        WebACL(
            title,
            Name=name,
            Scope=scope,
            DefaultAction=DefaultAction(Allow=AllowAction()),
            Rules=rules,
            VisibilityConfig=visibility(title),
        )
    )
    log_group = t.add_resource(
        stateful(
            LogGroup(
                "WafLogGroup",
                LogGroupName=Sub("aws-waf-logs-${AWS::StackName}"),
                KmsKeyId=log_key,
                RetentionInDays=retention,
            )
        )
    )
    logging = LoggingConfiguration(
        f"{title}Logging",
        ResourceArn=GetAtt(web_acl, "Arn"),
        # The group's ARN without the ":*" its Arn attribute ends in.
        LogDestinationConfigs=[
            Sub(
                f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{{log_group.title}}}"
            )
        ],
    )
    if redacted_headers:
        logging.RedactedFields = [
            LoggingConfigurationFieldToMatch(SingleHeader=SingleHeader(Name=header))
            for header in redacted_headers
        ]
    t.add_resource(logging)
    return web_acl
