"""Secrets Manager for ministack's CloudFormation engine.

A secret's Ref is its ARN (``secret_ref_is_arn``), and a generated secret takes every
GenerateSecretString option (``generate_with_every_option``). A RotationSchedule turns rotation
on in the secret's record (no rotation function runs), and the AWS::SecretsManager transform
that goes with it is accepted and applied as a no-op (``accept_secrets_manager_transform``).
"""

import functools
import json
import time

from ministack.services import secretsmanager
from ministack.services.cloudformation import engine as cfn_engine
from ministack.services.cloudformation import provisioners as cfn
from served import json_answer

# --- AWS::SecretsManager::Secret: Ref is the ARN ------------------------------------


def secret_ref_is_arn(handlers):
    """Wrap ministack's AWS::SecretsManager::Secret handlers so the physical id, which Ref
    returns, is the secret's ARN, as on AWS.

    ministack 1.5.33 records the secret's name: a ``Ref`` in an RDS Proxy's Auth SecretArn,
    an IAM policy's Resource or a task definition's secret got a name where AWS gives the
    ARN. ministack's handlers are still called with the name.
    """
    create, update, delete = (handlers[k] for k in ("create", "update", "delete"))

    def name(physical_id):
        return secretsmanager._resolve(physical_id)[0] or physical_id

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        attributes = create(logical_id, props, stack_name)[1]
        return attributes["Arn"], attributes

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        attributes = update(name(physical_id), old_props, new_props, stack_name, logical_id)[1]
        return attributes["Arn"], attributes

    @functools.wraps(delete)
    def deleted(physical_id, props):
        delete(name(physical_id), props)

    created.ref_is_arn = True
    return {**handlers, "create": created, "update": updated, "delete": deleted}


# --- AWS::SecretsManager::RotationSchedule: Ref is the secret's ARN -------------------

_ROTATION = "AWS::SecretsManager::RotationSchedule"


def _rotation_secret(secret_id):
    """The secret a schedule rotates; a missing one or one marked for deletion fails the
    resource with RotateSecret's error."""
    _key, secret = secretsmanager._resolve(secret_id)
    if secret is None:
        raise ValueError(
            f"{_ROTATION}: ResourceNotFoundException: "
            "Secrets Manager can't find the specified secret."
        )
    if secret.get("DeletedDate"):
        raise ValueError(
            f"{_ROTATION}: InvalidRequestException: You can't perform this operation on the"
            " secret because it was marked for deletion."
        )
    return secret


def _rotation_rules(props):
    """RotationRules as Secrets Manager keeps them: AutomaticallyAfterDays a number (a
    template parameter arrives as a string), ScheduleExpression and Duration as given.

    RotateSecret takes AutomaticallyAfterDays or ScheduleExpression, not both.
    """
    rules = props.get("RotationRules") or {}
    if "AutomaticallyAfterDays" in rules and "ScheduleExpression" in rules:
        raise ValueError(
            f"{_ROTATION}: InvalidParameterException: You cannot specify both rotation"
            " frequency and schedule expression together."
        )
    kept = {key: str(rules[key]) for key in ("ScheduleExpression", "Duration") if key in rules}
    if "AutomaticallyAfterDays" in rules:
        kept["AutomaticallyAfterDays"] = int(rules["AutomaticallyAfterDays"])
    return kept


def _set_rotation(props):
    """Turn rotation on with the schedule's rules, as RotateSecret with RotateImmediately
    false does (less the function's testSecret run); returns the secret's ARN, which Ref gives.

    Written into the store directly: ministack 1.5.33's RotateSecret ignores RotateImmediately
    and always "rotates" by copying AWSCURRENT into a new version, a rotation that changes
    no password. So nothing rotates, whatever RotateImmediatelyOnUpdate says: no rotation
    function runs here. A RotationLambdaARN is recorded. A HostedRotationLambda stands for
    the Serverless Application Repository application the transform creates on AWS, which
    no emulator here can fetch or run: the secret gets no RotationLambdaARN at all rather
    than a made-up one.
    """
    if props.get("HostedRotationLambda") and props.get("RotationLambdaARN"):
        raise ValueError(
            f"{_ROTATION}: Can only specify either HostedRotationLambda or RotationLambdaARN."
        )
    secret = _rotation_secret(props["SecretId"])
    rules = _rotation_rules(props)
    if rules:
        secret["RotationRules"] = rules
    if props.get("RotationLambdaARN"):
        secret["RotationLambdaARN"] = props["RotationLambdaARN"]
    elif props.get("HostedRotationLambda"):
        secret["RotationLambdaARN"] = None
    secret.update(RotationEnabled=True, LastChangedDate=int(time.time()))
    secretsmanager._sync_replicas(secret)
    return secret["ARN"], {}


def _rotation_create(logical_id, props, stack_name):
    """Turn the secret's rotation on (``_set_rotation``)."""
    return _set_rotation(props)


def _rotation_update(physical_id, old_props, new_props, stack_name):
    """The rules and the rotation function change in place; SecretId replaces."""
    return _set_rotation(new_props)


def _rotation_delete(physical_id, props):
    """Turn rotation off, as CancelRotateSecret does (ministack has no such action): the
    rules and function stay recorded, as DescribeSecret shows them after a cancel. A secret
    already gone is left alone."""
    _key, secret = secretsmanager._resolve(physical_id)
    if secret is not None:
        secret.update(RotationEnabled=False, LastChangedDate=int(time.time()))
        secretsmanager._sync_replicas(secret)


# --- AWS::SecretsManager::Secret: GenerateSecretString -----------------------------------

# GenerateSecretString's options that GetRandomPassword takes, with their types.
_PASSWORD_OPTIONS = {
    "PasswordLength": int,
    "ExcludeCharacters": str,
    "ExcludeNumbers": cfn._cfn_bool,
    "ExcludePunctuation": cfn._cfn_bool,
    "ExcludeUppercase": cfn._cfn_bool,
    "ExcludeLowercase": cfn._cfn_bool,
    "IncludeSpace": cfn._cfn_bool,
    "RequireEachIncludedType": cfn._cfn_bool,
}


def generate_with_every_option(secret_string):
    """Wrap ministack's ``_sm_secret_string`` so GenerateSecretString generates through
    GetRandomPassword with all its options.

    ministack 1.5.33 honours PasswordLength and ExcludeCharacters only: ExcludePunctuation,
    ExcludeNumbers, ExcludeUppercase, ExcludeLowercase, IncludeSpace and
    RequireEachIncludedType were ignored, and a secret meant to be letters and digits (an
    HTTP header value) got punctuation. A SecretStringTemplate gets the password under
    GenerateStringKey, as before.
    """

    @functools.wraps(secret_string)
    def generate(props):
        options = props.get("GenerateSecretString")
        if not options or props.get("SecretString"):
            return secret_string(props)
        request = {
            key: kind(options[key]) for key, kind in _PASSWORD_OPTIONS.items() if key in options
        }
        password = json_answer(
            secretsmanager._get_random_password(request),
            "AWS::SecretsManager::Secret GenerateSecretString",
        )["RandomPassword"]
        template = options.get("SecretStringTemplate")
        if not template:
            return password
        document = json.loads(template)
        document[options.get("GenerateStringKey", "password")] = password
        return json.dumps(document)

    generate.uses_every_option = True
    return generate


# --- Engine patch: the AWS::SecretsManager transform ----------------------------------

_SECRETS_MANAGER_TRANSFORMS = ("AWS::SecretsManager-2020-07-23", "AWS::SecretsManager-2024-09-16")


def accept_secrets_manager_transform(apply_transforms):
    """Wrap ministack's ``_apply_transforms`` so it applies the AWS::SecretsManager transforms
    (``-2020-07-23``, ``-2024-09-16``) by dropping them from ``Transform``, the resources
    unchanged.

    On AWS the transform turns each RotationSchedule's HostedRotationLambda into an
    AWS::Serverless::Application (the rotation function of the Serverless Application
    Repository) and points the schedule's RotationLambdaARN at it. No emulator here can
    fetch or run that application: the schedule keeps HostedRotationLambda and its
    provisioner records the rotation without a function (``_set_rotation``).

    ministack 1.5.33 knows neither name. A template that declares any transform, known or
    not, skips the up-front resource type check (a macro could rewrite any resource) and is
    then provisioned as it is. Dropped, the SecretsManager transform no longer exempts the
    template, which is then checked as AWS checks the processed one; the other transforms
    (AWS::LanguageExtensions in the same list, an unknown name) go to ministack as before.
    Nested stack templates pass through no transform in ministack (``_cfn_nested_stack_deploy``
    provisions them as parsed), so there the transform stays ignored, as before.
    """

    @functools.wraps(apply_transforms)
    def apply(template, *args, **kwargs):
        declared = cfn_engine.declared_transforms(template)
        for name in _SECRETS_MANAGER_TRANSFORMS:
            if name in declared:
                template = cfn_engine._without_transform(template, name)
        return apply_transforms(template, *args, **kwargs)

    apply.accepts_secrets_manager = True
    return apply


HANDLERS = {
    _ROTATION: {"create": _rotation_create, "update": _rotation_update, "delete": _rotation_delete},
}
# createOnlyProperties of the registry schema.
REPLACING = {_ROTATION: "SecretId"}
