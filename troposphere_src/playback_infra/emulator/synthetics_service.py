"""CloudWatch Synthetics canaries for ministack, which has no Synthetics at all.

The API part (``serve``) answers the REST-JSON calls boto3 makes to read canaries back
(``get_canary``: GET /canary/{name}; ``describe_canaries``: POST /canaries), their runs
(``get_canary_runs``: POST /canary/{name}/runs), to stop one (POST /canary/{name}/stop) and to
delete one; the CloudFormation part (``HANDLERS``) records ``AWS::Synthetics::Canary`` through
the same store, so what a stack made reads back through boto3 as on AWS. Nothing runs: a canary
is recorded RUNNING when the template starts it after creation, READY otherwise, and has no
run until a test records one (``recording_runs``: POST /_playback/synthetics/canaries/{name}/runs
with the run's State and StateReason, the outcome a scheduled run would have had). State
lives per account and region.
"""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import unquote

from ministack.core.responses import (
    AccountRegionScopedDict,
    error_response_json,
    get_account_id,
    get_region,
    json_response,
)
from served import resetting

_canaries = AccountRegionScopedDict()  # name -> canary as GetCanary shows it
_runs = AccountRegionScopedDict()  # name -> its runs as GetCanaryRuns shows them, newest first
_RUNS_PATH = "/_playback/synthetics/canaries/"
# What GetCanary shows of a canary's run configuration (environment variables are write-only).
_RUN_CONFIG_SHOWN = ("TimeoutInSeconds", "MemoryInMB", "ActiveTracing", "EphemeralStorage")


def _not_found(name: str):
    return error_response_json("ResourceNotFoundException", f"Canary {name} not found", 404)


def _record(props: dict, canary_id: str) -> dict:
    """The canary as GetCanary answers, from its CloudFormation properties."""
    name = props["Name"]
    started = props.get("StartCanaryAfterCreation", False) in (True, "true")
    code = props["Code"]
    layer = f"arn:aws:lambda:{get_region()}:{get_account_id()}:layer:cwsyn-{name}-{canary_id[:8]}"
    run_config = props.get("RunConfig", {})
    return {
        "Id": canary_id,
        "Name": name,
        "Code": {"SourceLocationArn": f"{layer}:1", "Handler": code["Handler"]},
        "ExecutionRoleArn": props["ExecutionRoleArn"],
        "Schedule": {"DurationInSeconds": 0, **props["Schedule"]},
        "RunConfig": {k: v for k, v in run_config.items() if k in _RUN_CONFIG_SHOWN},
        "SuccessRetentionPeriodInDays": int(props.get("SuccessRetentionPeriod", 31)),
        "FailureRetentionPeriodInDays": int(props.get("FailureRetentionPeriod", 31)),
        "Status": {"State": "RUNNING" if started else "READY"},
        "ArtifactS3Location": props["ArtifactS3Location"].removeprefix("s3://"),
        "EngineArn": f"arn:aws:lambda:{get_region()}:{get_account_id()}:function:cwsyn-{name}-{canary_id}",
        "RuntimeVersion": props["RuntimeVersion"],
        "ArtifactConfig": props.get("ArtifactConfig", {}),
        "ProvisionedResourceCleanup": props.get("ProvisionedResourceCleanup", "AUTOMATIC"),
        "Tags": {t["Key"]: t["Value"] for t in props.get("Tags", [])},
    }


async def serve(method, path, headers, body, query_params):
    """ministack's service handler for `synthetics` (register it in SERVICE_HANDLERS)."""
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if method == "POST" and parts == ["canaries"]:
        request = json.loads(body) if body else {}
        names = request.get("Names")
        found = [c for c in _canaries.values() if names is None or c["Name"] in names]
        return json_response({"Canaries": found})
    if len(parts) in (2, 3) and parts[0] == "canary":
        canary = _canaries.get(parts[1])
        if canary is None:
            return _not_found(parts[1])
        if method == "GET" and len(parts) == 2:
            return json_response({"Canary": canary})
        if method == "DELETE" and len(parts) == 2:
            del _canaries[parts[1]]
            _runs.pop(parts[1], None)
            return json_response({})
        if method == "POST" and parts[2:] == ["runs"]:
            return json_response({"CanaryRuns": _runs.get(parts[1], [])})
        if method == "POST" and parts[2:] == ["stop"]:
            return _stop(canary)
    return error_response_json("UnknownOperationException", f"Unknown {method} {path}", 404)


def _stop(canary):
    """StopCanary: a RUNNING canary stops; another state is a conflict
    (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_StopCanary.html)."""
    if canary["Status"]["State"] != "RUNNING":
        return error_response_json(
            "ConflictException", f"Canary {canary['Name']} is {canary['Status']['State']}", 409
        )
    canary["Status"] = {"State": "STOPPED"}
    return json_response({})


def _record_run(name, body):
    """A finished run of the canary with the given State (PASSED or FAILED) and StateReason, in
    GetCanaryRuns' shape
    (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryRun.html)."""
    canary = _canaries.get(name)
    if canary is None:
        return _not_found(name)
    request = json.loads(body) if body else {}
    state = request.get("State")
    if state not in ("PASSED", "FAILED"):
        return error_response_json("ValidationException", "State must be PASSED or FAILED", 400)
    now = time.time()
    status = {"State": state}
    if request.get("StateReason"):
        status.update(StateReason=request["StateReason"], StateReasonCode="CANARY_FAILURE")
    run = {
        "Id": str(uuid.uuid4()),
        "Name": name,
        "Status": status,
        "Timeline": {"Started": now, "Completed": now},
        "ArtifactS3Location": f"{canary['ArtifactS3Location']}/{uuid.uuid4()}",
    }
    _runs[name] = [run, *_runs.get(name, [])]
    return json_response(run)


def recording_runs(handle_post_body_shortcuts):
    """Wrap ministack's ``_handle_post_body_shortcuts`` so POST to ``_RUNS_PATH`` NAME/runs
    records a run of canary NAME (``_record_run``) in the emulator's default account and
    region."""

    async def handle(method, path, headers, body, query_params, request_id):
        if method == "POST" and path.startswith(_RUNS_PATH) and path.endswith("/runs"):
            return _record_run(unquote(path[len(_RUNS_PATH) : -len("/runs")]), body)
        return await handle_post_body_shortcuts(
            method, path, headers, body, query_params, request_id
        )

    return handle


def reset(reset_all_state):
    """Wrap ministack's reset so it empties this service's stores too."""
    return resetting(reset_all_state, _canaries, _runs)


# --- CloudFormation (Ref: the canary's name; GetAtt Id, State) -------------------------------


def _attributes(canary: dict) -> dict:
    return {"Id": canary["Id"], "State": canary["Status"]["State"]}


def _canary_create(logical_id, props, stack_name):
    name = props["Name"]
    if name in _canaries:
        raise ValueError(f"AlreadyExistsException: a canary named {name} exists")
    _canaries[name] = _record(props, str(uuid.uuid4()))
    return name, _attributes(_canaries[name])


def _canary_update(physical_id, old_props, new_props, stack_name):
    previous = _canaries[physical_id]
    _canaries[physical_id] = {**_record(new_props, previous["Id"]), "Status": previous["Status"]}
    return physical_id, _attributes(_canaries[physical_id])


def _canary_delete(physical_id, props):
    _canaries.pop(physical_id, None)
    _runs.pop(physical_id, None)


HANDLERS = {
    "AWS::Synthetics::Canary": {
        "create": _canary_create,
        "update": _canary_update,
        "delete": _canary_delete,
    },
}
# createOnlyProperties of the registry schema.
REPLACING = {"AWS::Synthetics::Canary": "Name"}
