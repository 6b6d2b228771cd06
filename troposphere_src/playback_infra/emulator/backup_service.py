"""AWS Backup for ministack's CloudFormation engine and API.

A backup selection is added to its plan through ministack's Backup API, which has the call but
no provisioner, and a backup vault whose name is taken fails (``refuse_taken_vault_name``).
Copy jobs, which ministack lists as none and cannot start, are served (``serving_copy_jobs``).
"""

import copy
import datetime
import functools
import json
import time
import uuid

from ministack.core.responses import AccountRegionScopedDict, get_account_id
from ministack.services import backup
from served import json_answer, resetting

# --- AWS::Backup::BackupSelection: Ref is the selection id ------------------------------

_SELECTION = "AWS::Backup::BackupSelection"
VAULT = "AWS::Backup::BackupVault"


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
    answer = json_answer(
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

    return {**handlers, "create": created}


# --- Copy jobs: StartCopyJob, ListCopyJobs, DescribeCopyJob ------------------------------

_copy_jobs = AccountRegionScopedDict()  # copy job id -> CopyJob, in the source region
# ListCopyJobs' query parameters and the CopyJob member each compares, by equality.
_COPY_JOB_FILTERS = {
    "state": "State",
    "destinationVaultArn": "DestinationBackupVaultArn",
    "resourceArn": "ResourceArn",
}


def _vault_of(arn):
    """A backup vault ARN's vault record in its own account and region, or None."""
    parts = arn.split(":")
    if len(parts) != 7 or parts[2] != "backup" or parts[5] != "backup-vault":
        return None
    return backup._vaults.get_scoped(parts[4], parts[3], parts[6])


def _start_copy_job(body):
    """StartCopyJob (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartCopyJob.html)
    of a recovery point a backup job of the source vault made. The copy runs at once, as
    ministack's backup jobs do: COMPLETED into the destination vault, or FAILED with the reason
    when that vault does not exist in its region (the emulator's wording)."""
    source = body.get("SourceBackupVaultName", "")
    if source not in backup._vaults:
        return backup._err("ResourceNotFoundException", f"Vault '{source}' not found.", 400)
    point = body.get("RecoveryPointArn", "")
    job = next(
        (
            j
            for j in backup._jobs.values()
            if j["RecoveryPointArn"] == point and j["BackupVaultName"] == source
        ),
        None,
    )
    if job is None:
        return backup._err(
            "ResourceNotFoundException", f"Recovery point '{point}' not found in '{source}'.", 400
        )
    if not body.get("IamRoleArn"):
        return backup._err("InvalidParameterValueException", "IamRoleArn is required.", 400)
    destination = body.get("DestinationBackupVaultArn", "")
    copy_job_id = str(uuid.uuid4()).upper()
    now = time.time()
    copied = _vault_of(destination) is not None
    _copy_jobs[copy_job_id] = {
        "AccountId": get_account_id(),
        "CopyJobId": copy_job_id,
        "SourceBackupVaultArn": backup._vault_arn(source),
        "SourceRecoveryPointArn": point,
        "DestinationBackupVaultArn": destination,
        "DestinationRecoveryPointArn": (
            f"{destination.split(':backup-vault:')[0]}:recovery-point:{uuid.uuid4()}"
            if copied
            else ""
        ),
        "ResourceArn": job["ResourceArn"],
        "ResourceType": "RDS" if ":rds:" in job["ResourceArn"] else "",
        "CreationDate": now,
        "CompletionDate": now,
        "State": "COMPLETED" if copied else "FAILED",
        "StatusMessage": ""
        if copied
        else f"The destination backup vault {destination} does not exist.",
        "BackupSizeInBytes": 0,
        "IamRoleArn": body["IamRoleArn"],
        "IsParent": False,
    }
    return backup._ok({"CopyJobId": copy_job_id, "CreationDate": now, "IsParent": False})


def _timestamp(value):
    """A query string timestamp (ISO 8601, as boto3 sends it, or epoch seconds) in seconds."""
    try:
        return float(value)
    except ValueError:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _list_copy_jobs(query):
    """ListCopyJobs (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListCopyJobs.html)
    by state, destination vault, resource and creation date, newest first."""
    jobs = [
        j
        for j in _copy_jobs.values()
        if all(j[member] == query[key] for key, member in _COPY_JOB_FILTERS.items() if key in query)
        and ("createdAfter" not in query or j["CreationDate"] > _timestamp(query["createdAfter"]))
        and ("createdBefore" not in query or j["CreationDate"] < _timestamp(query["createdBefore"]))
    ]
    jobs.sort(key=lambda j: j["CreationDate"], reverse=True)
    return backup._paginate(jobs, query, "CopyJobs")


def serving_copy_jobs(handle_request):
    """Wrap ministack's Backup handler so ``/copy-jobs`` serves StartCopyJob (PUT),
    ListCopyJobs (GET) and DescribeCopyJob (GET ``/copy-jobs/{id}``) from ``_copy_jobs``."""

    async def handle(method, path, headers, body, query_params):
        parts = [p for p in path.strip("/").split("/") if p]
        if parts[:1] != ["copy-jobs"] or len(parts) > 2:
            return await handle_request(method, path, headers, body, query_params)
        query = {k: (v[0] if isinstance(v, list) else v) for k, v in query_params.items()}
        if len(parts) == 1 and method == "PUT":
            return _start_copy_job(json.loads(body) if body else {})
        if len(parts) == 1 and method == "GET":
            return _list_copy_jobs(query)
        if method == "GET":
            copy_job = _copy_jobs.get(parts[1])
            if copy_job is None:
                return backup._err(
                    "ResourceNotFoundException", f"Copy job '{parts[1]}' not found.", 400
                )
            return backup._ok({"CopyJob": copy_job})
        return await handle_request(method, path, headers, body, query_params)

    return handle


def reset(reset_all_state):
    """Wrap ministack's reset so it empties the copy jobs too."""
    return resetting(reset_all_state, _copy_jobs)


HANDLERS = {
    # Both properties replace, so an update never reaches an update handler.
    _SELECTION: {"create": _selection_create, "delete": _selection_delete},
}
# createOnlyProperties of the registry schema.
REPLACING = {_SELECTION: "BackupPlanId BackupSelection"}
