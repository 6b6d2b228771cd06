"""The rotation stack: the application and migration users' passwords rotate every 30 days.

Secrets Manager's hosted rotation function for MySQL, alternating users: the function clones
the user (`pb_app_clone`) on the first rotation and from then on changes the password of
whichever of the two is not current, so connections made with the previous secret keep working.
It signs in with the master user's secret (the `masterarn` of the rotated secret), which RDS
manages (and rotates) itself: that secret holds no host, so the function asks the RDS API
(DescribeDBInstances) for the instance's endpoint.

It is its own stack because the `AWS::SecretsManager-2024-09-16` transform it needs expands the
whole template into a Serverless application; the data stack stays plain.
The function runs in the private-app subnets with the rotation security group, which may reach
the database on 3306 and AWS APIs on 443 through the NAT or the Secrets Manager and RDS
endpoints (the root template's rule refuses an environment with neither; the `rotation`
contract checks every environment as deployed).

A failed rotation leaves the secret's `AWSPENDING` version behind and the current password
working; Secrets Manager records it as a `RotationFailed` event, which the
`RotationFailedRule` sends to the environment's alarm topic.
"""

from __future__ import annotations

from troposphere import Join, Ref, Sub, Template
from troposphere.events import InputTransformer, Rule, Target
from troposphere.logs import LogGroup
from troposphere.secretsmanager import HostedRotationLambda, RotationRules, RotationSchedule

from playback_infra.parts import values
from playback_infra.parts.names import ROTATION_FAILED_RULE_NAME
from playback_infra.parts.secrets import PASSWORD_EXCLUDE
from playback_infra.parts.template import new_template, tag_component

SECRETS_MANAGER_TRANSFORM = "AWS::SecretsManager-2024-09-16"
ROTATED = {  # logical ID -> (the secret's ARN, a data stack output; the function's name)
    "DatabaseAppSecretRotation": (values.DATABASE_APP_SECRET_ARN, "rotate-app"),
    "DatabaseMigrationSecretRotation": (values.DATABASE_MIGRATION_SECRET_ARN, "rotate-migration"),
}
# Rotation logs say which user's password changed and when; CloudTrail keeps the audit trail.
LOG_RETENTION_DAYS = 90


def rotation_failed_pattern(secret_arns: list) -> dict:
    """The event Secrets Manager sends through CloudTrail when a rotation of one of
    `secret_arns` fails (a non-API service event: `RotationFailed`, the secret's ARN in
    `additionalEventData.SecretId`).
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
    """
    return {
        "source": ["aws.secretsmanager"],
        "detail-type": ["AWS Service Event via CloudTrail"],
        "detail": {
            "eventSource": ["secretsmanager.amazonaws.com"],
            "eventName": ["RotationFailed"],
            "additionalEventData": {"SecretId": secret_arns},
        },
    }


def build() -> Template:
    t = new_template("secret rotation (app and migration database users)")
    t.set_transform(SECRETS_MANAGER_TRANSFORM)
    values.consume(
        t,
        *(secret for secret, _ in ROTATED.values()),
        values.ENVIRONMENT_NAME,
        values.LOGS_KEY_ARN,
        values.DATABASE_MASTER_SECRET_ARN,
        values.DATA_KEY_ARN,
        values.PRIVATE_APP_SUBNET_IDS,
        values.SECRETS_ROTATION_SECURITY_GROUP_ID,
        values.SECRET_ROTATION_DAYS,
        values.ALARM_TOPIC_ARN,
    )
    for title, (secret, function) in ROTATED.items():
        name = Sub(f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-{function}")
        # Named so its log group exists first, encrypted and kept for a while, not forever as
        # Lambda would make it. Deleted with the stack: a kept group would block a rebuild.
        log_group = t.add_resource(
            LogGroup(
                f"{title}LogGroup",
                LogGroupName=Sub(
                    f"/aws/lambda/baseball-playback-${{{values.ENVIRONMENT_NAME}}}-{function}"
                ),
                KmsKeyId=Ref(values.LOGS_KEY_ARN),
                RetentionInDays=LOG_RETENTION_DAYS,
            )
        )
        t.add_resource(
            RotationSchedule(
                title,
                DependsOn=[log_group.title],
                SecretId=Ref(secret),
                HostedRotationLambda=HostedRotationLambda(
                    RotationType="MySQLMultiUser",
                    MasterSecretArn=Ref(values.DATABASE_MASTER_SECRET_ARN),
                    MasterSecretKmsKeyArn=Ref(values.DATA_KEY_ARN),
                    KmsKeyArn=Ref(values.DATA_KEY_ARN),
                    VpcSubnetIds=Join(",", Ref(values.PRIVATE_APP_SUBNET_IDS)),
                    VpcSecurityGroupIds=Ref(values.SECRETS_ROTATION_SECURITY_GROUP_ID),
                    ExcludeCharacters=PASSWORD_EXCLUDE,
                    Runtime="python3.12",
                    RotationLambdaName=name,
                ),
                # The users are created by the migrations after this stack exists; rotating at
                # once would fail on a user that is not there yet.
                RotateImmediatelyOnUpdate=False,
                RotationRules=RotationRules(
                    AutomaticallyAfterDays=Ref(values.SECRET_ROTATION_DAYS)
                ),
            )
        )
    _add_failure_rule(t)
    tag_component(t, "rotation")
    return t


def _add_failure_rule(t: Template) -> None:
    """A failed rotation of either secret pages whoever the alarm topic reaches, saying which
    secret and why (the event's `errorMessage`, e.g. a step of the function that failed)."""
    t.add_resource(
        Rule(
            "RotationFailedRule",
            Name=Sub(ROTATION_FAILED_RULE_NAME),
            Description="A failed rotation of the app or migration user's secret, to the alarm topic",
            EventPattern=rotation_failed_pattern([Ref(s) for s, _ in ROTATED.values()]),
            State="ENABLED",
            Targets=[
                Target(
                    Id="AlarmTopic",
                    Arn=Ref(values.ALARM_TOPIC_ARN),
                    InputTransformer=InputTransformer(
                        InputPathsMap={
                            "secret": "$.detail.additionalEventData.SecretId",
                            "error": "$.detail.errorMessage",
                        },
                        InputTemplate=Sub(
                            '"Secret rotation failed in ${EnvironmentName}: <secret>: <error>. '
                            "The current password still works; the function's log group says "
                            'why (docs/runbooks.md, Rotate a secret)."'
                        ),
                    ),
                )
            ],
        )
    )
