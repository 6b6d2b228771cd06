"""AWS Backup for ministack's CloudFormation engine.

A backup selection is added to its plan through ministack's Backup API, which has the call but
no provisioner, and a backup vault whose name is taken fails (``refuse_taken_vault_name``).
"""

import copy
import functools
import json

from ministack.services import backup

# --- AWS::Backup::BackupSelection: Ref is the selection id ------------------------------

_SELECTION = "AWS::Backup::BackupSelection"
VAULT = "AWS::Backup::BackupVault"


def _backup_answer(response, what):
    """The JSON answer of a Backup API function (``backup._create_selection`` ...); an error
    answer raises ValueError with its error type and message."""
    status, _headers, body = response
    answer = json.loads(body) if body else {}
    if status >= 400:
        raise ValueError(f"{what}: {answer.get('__type')}: {answer.get('Message')}")
    return answer


def _selection_create(logical_id, props, stack_name):
    """Add the selection to its plan (CreateBackupSelection); an unknown plan fails, as on AWS.

    SelectionName and IamRoleArn are required, as by the API: ministack's function takes a
    selection without them.
    """
    selection = copy.deepcopy(props["BackupSelection"])
    missing = [key for key in ("SelectionName", "IamRoleArn") if not selection.get(key)]
    if missing:
        raise ValueError(f"{_SELECTION}: BackupSelection requires {' and '.join(missing)}")
    plan_id = props["BackupPlanId"]
    answer = _backup_answer(
        backup._create_selection(plan_id, {"BackupSelection": selection}),
        f"{_SELECTION} create failed",
    )
    selection_id = answer["SelectionId"]
    return selection_id, {"Id": selection_id, "SelectionId": selection_id, "BackupPlanId": plan_id}


def _selection_delete(physical_id, props):
    """Remove the selection from its plan (DeleteBackupSelection). One whose plan is gone, which
    the call no longer finds, is dropped from the store; one already gone is left alone."""
    selection = backup._selections.get(physical_id)
    if selection is None:
        return
    status, _headers, _body = backup._delete_selection(selection["BackupPlanId"], physical_id)
    if status >= 400:
        backup._selections.pop(physical_id, None)


# --- AWS::Backup::BackupVault: what ministack's provisioner misses ------------------------


def refuse_taken_vault_name(handlers):
    """Wrap ministack's AWS::Backup::BackupVault create so a vault name already taken in the
    region fails the resource, as CreateBackupVault does (AlreadyExistsException).

    ministack 1.5.33's provisioner drops CreateBackupVault's error answer: the stack then
    took over the existing vault with its encryption key, not the template's. A vault a
    deleted stack retained (DeletionPolicy Retain), which blocks a redeploy on AWS, went
    unnoticed. ministack's update handler creates a renamed vault through the module's
    ``_backup_vault_create``, which ``register()`` points at the wrapper too.
    """
    create = handlers["create"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        name = props.get("BackupVaultName")
        if name and name in backup._vaults:
            raise ValueError(
                f"{VAULT} create failed: AlreadyExistsException: Backup vault {name} already"
                " exists in this account and region."
            )
        return create(logical_id, props, stack_name)

    created.refuses_taken_name = True
    return {**handlers, "create": created}


HANDLERS = {
    # Both properties replace, so an update never reaches an update handler.
    _SELECTION: {"create": _selection_create, "delete": _selection_delete},
}
# createOnlyProperties of the registry schema.
REPLACING = {_SELECTION: "BackupPlanId BackupSelection"}
