"""Secrets Manager for ministack's CloudFormation engine, and the API a rotation function uses.

A secret's Ref is its ARN (``secret_ref_is_arn``), and a generated secret takes every
GenerateSecretString option (``generate_with_every_option``). A RotationSchedule turns rotation
on in the secret's record (no rotation function runs), and the AWS::SecretsManager transform
that goes with it is accepted and applied as a no-op (``accept_secrets_manager_transform``).

A rotation goes as on AWS up to the function: RotateSecret stages the new version, with no
value, as ``AWSPENDING`` (``start_rotation``); GetSecretValue finds no value in it until the
function's createSecret step puts one (``only_stored_values``); moving ``AWSCURRENT`` onto it
(finishSecret) completes the rotation (``record_finished_rotation``, ``show_last_rotation``).
Whoever plays the function (a test calling AWS's own rotation function) runs its steps.
"""

import functools
import json
import time
import uuid

from ministack.core.responses import error_response_json, json_response
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

    return generate


# --- RotateSecret, GetSecretValue, UpdateSecretVersionStage: a rotation as AWS runs it ---

_PENDING, _CURRENT = "AWSPENDING", "AWSCURRENT"


def _secret_or_error(secret_id):
    """(secret, None), or (None, the error answer) for a missing or deleted secret."""
    _key, secret = secretsmanager._resolve(secret_id)
    if secret is None:
        return None, error_response_json(
            "ResourceNotFoundException", "Secrets Manager can't find the specified secret.", 400
        )
    if secret.get("DeletedDate"):
        return None, error_response_json(
            "InvalidRequestException",
            "You can't perform this operation on the secret because it was marked for deletion.",
            400,
        )
    return secret, None


def start_rotation(data):
    """RotateSecret as Secrets Manager runs it up to invoking the rotation function, which
    replaces ministack 1.5.33's, which "rotated" by copying ``AWSCURRENT`` into a new current
    version (no function, no new password, yet a rotation that always succeeded).

    It records the function and rules given, turns rotation on and, unless RotateImmediately
    is false, stages ClientRequestToken (or a new id) as ``AWSPENDING`` with no value, taking
    the label off the version that had it: the version the function's four steps work on.
    A version that is ``AWSPENDING`` but not ``AWSCURRENT`` is a rotation still under way (or
    failed): RotateSecret refuses to start another, as AWS does. No function runs here.
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html
    """
    secret, error = _secret_or_error(data.get("SecretId"))
    if error:
        return error
    if not (data.get("RotationLambdaARN") or secret.get("RotationEnabled")):
        return error_response_json(
            "InvalidRequestException",
            "No Lambda rotation function ARN is associated with this secret.",
            400,
        )
    if any(
        _PENDING in version["Stages"] and _CURRENT not in version["Stages"]
        for version in secret["Versions"].values()
    ):
        return error_response_json(
            "InvalidRequestException",
            "A previous rotation isn't complete. That rotation will be reattempted.",
            400,
        )
    if data.get("RotationLambdaARN"):
        secret["RotationLambdaARN"] = data["RotationLambdaARN"]
    if data.get("RotationRules"):
        secret["RotationRules"] = data["RotationRules"]
    secret["RotationEnabled"] = True
    answer = {"ARN": secret["ARN"], "Name": secret["Name"]}
    if data.get("RotateImmediately", True):
        token = data.get("ClientRequestToken") or str(uuid.uuid4())
        for version in secret["Versions"].values():
            if _PENDING in version["Stages"]:
                version["Stages"].remove(_PENDING)
        secret["Versions"][token] = {
            "SecretString": None,
            "SecretBinary": None,
            "CreatedDate": int(time.time()),
            "Stages": [_PENDING],
        }
        answer["VersionId"] = token
    secret["LastChangedDate"] = int(time.time())
    secretsmanager._sync_replicas(secret)
    return json_response(answer)


def only_stored_values(get_secret_value):
    """Wrap ministack's GetSecretValue so a version without a value, or one that lacks the
    VersionStage asked for with its VersionId, is not found, as on AWS.

    ministack 1.5.33 answered such a version with no SecretString at all. AWS's rotation
    functions read the ``AWSPENDING`` version first and put a value only when it is not
    found (createSecret).
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
    """

    @functools.wraps(get_secret_value)
    def get(data):
        secret, _error = _secret_or_error(data.get("SecretId"))
        if secret is not None:
            version_id, stage = data.get("VersionId"), data.get("VersionStage")
            if version_id:
                version, asked = secret["Versions"].get(version_id), f"VersionId: {version_id}"
            else:
                stage = stage or _CURRENT
                version = secretsmanager._find_stage_version(secret, stage)[1]
                asked = f"staging label: {stage}"
            empty = version is not None and (
                version.get("SecretString") is None and version.get("SecretBinary") is None
            )
            if empty or (version is not None and stage and stage not in version["Stages"]):
                return error_response_json(
                    "ResourceNotFoundException",
                    f"Secrets Manager can't find the specified secret value for {asked}",
                    400,
                )
        return get_secret_value(data)

    return get


def record_finished_rotation(update_secret_version_stage):
    """Wrap ministack's UpdateSecretVersionStage so moving ``AWSCURRENT`` onto the
    ``AWSPENDING`` version (a rotation function's finishSecret) records the rotation's date,
    which DescribeSecret shows as LastRotatedDate (``show_last_rotation``)."""

    @functools.wraps(update_secret_version_stage)
    def update(data):
        secret, _error = _secret_or_error(data.get("SecretId"))
        target = (secret or {}).get("Versions", {}).get(data.get("MoveToVersionId"))
        finishing = data.get("VersionStage") == _CURRENT and target and _PENDING in target["Stages"]
        answer = update_secret_version_stage(data)
        if finishing and answer[0] < 400:
            secret["LastRotatedDate"] = int(time.time())
        return answer

    return update


def one_version_per_label(put_secret_value):
    """Wrap ministack's PutSecretValue so the staging labels it attaches leave every other
    version of the secret: "Each staging label can be attached to only one version at a time"
    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html;
    PutSecretValue moves a label the same way). ministack 1.5.33 left ``AWSPENDING`` on the
    version that had it too, so a later stage move found the wrong version."""

    @functools.wraps(put_secret_value)
    def put(data):
        answer = put_secret_value(data)
        if answer[0] < 400:
            version = json.loads(answer[2])["VersionId"]
            _key, secret = secretsmanager._resolve(data.get("SecretId"))
            labels = set(secret["Versions"][version]["Stages"])
            for other, kept in secret["Versions"].items():
                if other != version:
                    kept["Stages"] = [label for label in kept["Stages"] if label not in labels]
        return answer

    return put


# The tag a secret another service manages (RDS's master user secret) carries.
_OWNING_SERVICE_TAG = "aws:secretsmanager:owningService"


def show_last_rotation(describe_secret):
    """Wrap ministack's DescribeSecret so its answer has LastRotatedDate (once a rotation
    finished) and OwningService (a secret another service manages, such as RDS's master user
    secret, which carries the ``aws:secretsmanager:owningService`` tag), as DescribeSecret
    answers on AWS (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html).
    """

    @functools.wraps(describe_secret)
    def describe(data):
        status, headers, body = describe_secret(data)
        _key, secret = secretsmanager._resolve(data.get("SecretId"))
        if status >= 400 or secret is None:
            return status, headers, body
        described = json.loads(body)
        if secret.get("LastRotatedDate"):
            described["LastRotatedDate"] = secret["LastRotatedDate"]
        owner = next(
            (t["Value"] for t in secret.get("Tags", []) if t["Key"] == _OWNING_SERVICE_TAG), None
        )
        if owner:
            described["OwningService"] = owner
        return json_response(described)

    return describe


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

    return apply


HANDLERS = {
    _ROTATION: {"create": _rotation_create, "update": _rotation_update, "delete": _rotation_delete},
}
# createOnlyProperties of the registry schema.
REPLACING = {_ROTATION: "SecretId"}
