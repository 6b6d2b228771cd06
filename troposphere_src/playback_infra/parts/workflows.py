"""Step Functions workflows started by EventBridge rules, each with its own least-privilege
role: the shape of the OpenAI-key redeploy and of the Retrosheet import."""

from __future__ import annotations

from awacs import states
from awacs.aws import Allow, Statement
from troposphere import GetAtt, Ref, Sub, Template
from troposphere.events import Rule, Target
from troposphere.stepfunctions import StateMachine

from playback_infra.parts.iam import service_role


def rule_arn(name: str) -> Sub:
    """The ARN of this account's EventBridge rule `name` (Fn::Sub form)."""
    return Sub(f"arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:rule/{name}")


def add_workflow(
    t: Template,
    title: str,
    name: str,
    purpose: str,
    policy_name: str,
    statements: list[Statement],
    **state_machine,
) -> StateMachine:
    """A STANDARD state machine named `name` (Fn::Sub form), whose role `<title>Role` only
    Step Functions may assume, for this state machine, with `statements`."""
    role = t.add_resource(
        service_role(
            f"{title}Role",
            purpose,
            service="states.amazonaws.com",
            source_arn=Sub(f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{name}"),
            policy_name=policy_name,
            statements=statements,
        )
    )  # fmt: skip
    return t.add_resource(
        StateMachine(
            title,
            StateMachineName=Sub(name),
            StateMachineType="STANDARD",
            RoleArn=GetAtt(role, "Arn"),
            **state_machine,
        )
    )


def add_starting_rule(
    t: Template,
    title: str,
    name: str,
    purpose: str,
    policy_name: str,
    workflow: StateMachine,
    target_id: str,
    **rule,
) -> Rule:
    """A rule named `name` whose one target starts `workflow` through the role `<title>Role`
    (only EventBridge, for this rule, may assume it). `rule` gives Description and
    EventPattern, and `target` options in `Target`."""
    target_options = rule.pop("target", {})
    role = t.add_resource(
        service_role(
            f"{title}Role",
            purpose,
            service="events.amazonaws.com",
            source_arn=rule_arn(name),
            policy_name=policy_name,
            statements=[
                Statement(Effect=Allow, Action=[states.StartExecution], Resource=[Ref(workflow)])
            ],
        )
    )  # fmt: skip
    return t.add_resource(
        Rule(
            title,
            Name=Sub(name),
            State="ENABLED",
            Targets=[
                Target(
                    Id=target_id,
                    Arn=Ref(workflow),
                    RoleArn=GetAtt(role, "Arn"),
                    **target_options,
                )
            ],
            **rule,
        )
    )
