"""GuardDuty, Security Hub, AWS Config and the registry's scanning setting for ministack (the
account baseline).

ministack has neither GuardDuty nor Security Hub: ``serve_guardduty`` and ``serve_securityhub``
answer the REST-JSON calls boto3 makes to create, read, update and delete a detector, the hub and
its standards subscriptions, and ``HANDLERS`` records ``AWS::GuardDuty::Detector``,
``AWS::SecurityHub::Hub`` and ``AWS::SecurityHub::Standard`` through the same stores, so what a
stack made reads back through boto3 as on AWS. ministack's ECR has no registry scanning
configuration: ``serve_ecr`` adds Put/GetRegistryScanningConfiguration in front of it, and an
``AWS::ECR::RegistryScanningConfiguration`` with ENHANCED scanning enables Inspector's ECR
scanning through ministack's Inspector2 API, as CloudFormation's handler does (inspector2:Enable).
ministack serves AWS Config's API but cannot provision ``AWS::Config::ConfigurationRecorder`` or
``AWS::Config::DeliveryChannel``: the handlers record them through that API and start the
recorder once its delivery channel exists, as CloudFormation does.
State lives per account and region, as on AWS.
"""

from __future__ import annotations

import json
import re
import time
import uuid

from ministack.core.responses import (
    AccountRegionScopedDict,
    error_response_json,
    get_account_id,
    get_region,
    json_response,
)
from ministack.services import config, inspector2
from ministack.services.cloudformation import provisioners as cfn
from served import json_answer, resetting

_detectors = AccountRegionScopedDict()  # detector id -> detector
_hub = AccountRegionScopedDict()  # "hub" -> the hub, when enabled
_standards = AccountRegionScopedDict()  # subscription ARN -> subscription
_scanning = AccountRegionScopedDict()  # "configuration" -> the registry scanning configuration
_DETECTOR_PATH = re.compile(r"^/detector/([0-9a-f]+)$")


def _parsed(body: bytes, error_code: str):
    """(the request's JSON body, None), or (None, the error response to send)."""
    try:
        return (json.loads(body) if body else {}), None
    except json.JSONDecodeError:
        return None, error_response_json(error_code, "Invalid JSON", 400)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


# --- GuardDuty --------------------------------------------------------------------------------


def _features(requested: list[dict]) -> list[dict]:
    return [
        {
            "name": f["name"],
            "status": f["status"],
            "updatedAt": _now(),
            **(
                {"additionalConfiguration": [
                    {"name": a["name"], "status": a["status"], "updatedAt": _now()}
                    for a in f["additionalConfiguration"]
                ]}
                if f.get("additionalConfiguration")
                else {}
            ),
        }
        for f in requested
    ]  # fmt: skip


def _create_detector(data: dict):
    if _detectors:
        return error_response_json(
            "BadRequestException", "The request is rejected because a detector already exists", 400
        )
    detector_id = uuid.uuid4().hex
    _detectors[detector_id] = {
        "createdAt": _now(),
        "updatedAt": _now(),
        "serviceRole": f"arn:aws:iam::{get_account_id()}:role/aws-service-role/"
        "guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
        "status": "ENABLED" if data.get("enable", True) else "DISABLED",
        "findingPublishingFrequency": data.get("findingPublishingFrequency", "SIX_HOURS"),
        "features": _features(data.get("features", [])),
        "tags": data.get("tags", {}),
    }
    return json_response({"detectorId": detector_id})


def _update_detector(detector_id: str, data: dict):
    detector = _detectors[detector_id]
    if "enable" in data:
        detector["status"] = "ENABLED" if data["enable"] else "DISABLED"
    if "findingPublishingFrequency" in data:
        detector["findingPublishingFrequency"] = data["findingPublishingFrequency"]
    if "features" in data:
        detector["features"] = _features(data["features"])
    detector["updatedAt"] = _now()
    return json_response({})


async def serve_guardduty(method, path, headers, body, query_params):
    """ministack's service handler for `guardduty` (register it in SERVICE_HANDLERS)."""
    data, error = _parsed(body, "BadRequestException")
    if error:
        return error
    path = path.rstrip("/")
    if path == "/detector":
        if method == "POST":
            return _create_detector(data)
        return json_response({"detectorIds": list(_detectors.keys())})
    match = _DETECTOR_PATH.match(path)
    if match is None:
        return error_response_json("BadRequestException", f"Unknown path {path}", 400)
    detector_id = match.group(1)
    if detector_id not in _detectors:
        return error_response_json(
            "BadRequestException",
            f"The request is rejected because {detector_id} is not a detector",
            400,
        )
    if method == "GET":
        return json_response(_detectors[detector_id])
    if method == "POST":
        return _update_detector(detector_id, data)
    del _detectors[detector_id]
    return json_response({})


# --- Security Hub -----------------------------------------------------------------------------


def _hub_arn() -> str:
    return f"arn:aws:securityhub:{get_region()}:{get_account_id()}:hub/default"


def _default_standards() -> list[str]:
    """What EnableSecurityHub switches on unless told otherwise (EnableDefaultStandards)."""
    return [
        f"arn:aws:securityhub:{get_region()}::standards/aws-foundational-security-best-practices/v/1.0.0",
        "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
    ]


def _enable_hub(data: dict):
    if "hub" in _hub:
        return error_response_json(
            "ResourceConflictException", "Account is already subscribed to Security Hub", 409
        )
    _hub["hub"] = {
        "HubArn": _hub_arn(),
        "SubscribedAt": _now(),
        "AutoEnableControls": True,
        "ControlFindingGenerator": data.get("ControlFindingGenerator", "SECURITY_CONTROL"),
    }
    if data.get("EnableDefaultStandards", True):
        _subscribe(_default_standards())
    return json_response({})


def _update_hub(data: dict):
    for key in ("AutoEnableControls", "ControlFindingGenerator"):
        if key in data:
            _hub["hub"][key] = data[key]
    return json_response({})


def _subscribe(standards_arns: list[str]) -> list[dict]:
    subscribed = []
    for arn in standards_arns:
        name = arn.split("/", 1)[1]
        subscription = {
            "StandardsSubscriptionArn": f"arn:aws:securityhub:{get_region()}:{get_account_id()}:subscription/{name}",
            "StandardsArn": arn,
            "StandardsInput": {},
            "StandardsStatus": "READY",
        }
        _standards[subscription["StandardsSubscriptionArn"]] = subscription
        subscribed.append(subscription)
    return subscribed


def _enable_standards(data: dict):
    requests = data.get("StandardsSubscriptionRequests", [])
    return json_response(
        {"StandardsSubscriptions": _subscribe([r["StandardsArn"] for r in requests])}
    )


def _disable_standards(data: dict):
    removed = [
        _standards.pop(a) for a in data.get("StandardsSubscriptionArns", []) if a in _standards
    ]
    return json_response({"StandardsSubscriptions": removed})


async def serve_securityhub(method, path, headers, body, query_params):
    """ministack's service handler for `securityhub` (register it in SERVICE_HANDLERS)."""
    data, error = _parsed(body, "InvalidInputException")
    if error:
        return error
    path = path.rstrip("/")
    if path == "/accounts" and method == "POST":
        return _enable_hub(data)
    if "hub" not in _hub:
        return error_response_json(
            "InvalidAccessException", "Account is not subscribed to AWS Security Hub", 401
        )
    if path == "/accounts":
        if method == "GET":
            return json_response(_hub["hub"])
        if method == "PATCH":
            return _update_hub(data)
        _hub.clear()
        _standards.clear()
        return json_response({})
    if path == "/standards/get":
        wanted = set(data.get("StandardsSubscriptionArns", [])) or set(_standards.keys())
        return json_response(
            {"StandardsSubscriptions": [s for a, s in _standards.items() if a in wanted]}
        )
    if path == "/standards/register":
        return _enable_standards(data)
    if path == "/standards/deregister":
        return _disable_standards(data)
    return error_response_json("InvalidInputException", f"Unknown path {path}", 400)


# --- ECR registry scanning (Amazon Inspector) -------------------------------------------------

_BASIC = {"scanType": "BASIC", "rules": []}


def _put_scanning(data: dict):
    configuration = {"scanType": data.get("scanType", "BASIC"), "rules": data.get("rules", [])}
    if configuration["scanType"] == "ENHANCED":
        json_answer(inspector2._enable({"resourceTypes": ["ECR"]}))
    _scanning["configuration"] = configuration
    return json_response(
        {"registryScanningConfiguration": configuration}, content_type="application/x-amz-json-1.1"
    )


def _get_scanning(data: dict):
    return json_response(
        {"registryId": get_account_id(),
         "scanningConfiguration": _scanning.get("configuration", _BASIC)},
        content_type="application/x-amz-json-1.1",
    )  # fmt: skip


_ECR_ACTIONS = {
    "PutRegistryScanningConfiguration": _put_scanning,
    "GetRegistryScanningConfiguration": _get_scanning,
}


def serving_ecr(handle_request):
    """Wrap ministack's ECR handler so it answers the registry scanning calls too."""

    async def handle(method, path, headers, body, query_params):
        action = _ECR_ACTIONS.get(headers.get("x-amz-target", "").rpartition(".")[2])
        if action is None:
            return await handle_request(method, path, headers, body, query_params)
        return action(json.loads(body) if body else {})

    return handle


def reset(reset_all_state):
    """Wrap ministack's reset so it empties this module's stores too."""
    return resetting(reset_all_state, _detectors, _hub, _standards, _scanning)


# --- CloudFormation -------------------------------------------------------------------------


def _camel(props: dict) -> dict:
    """A detector's template properties as the GuardDuty API names them."""
    return {
        "enable": props.get("Enable", True) in (True, "true"),
        "findingPublishingFrequency": props.get("FindingPublishingFrequency", "SIX_HOURS"),
        "features": [
            {"name": f["Name"], "status": f["Status"],
             "additionalConfiguration": [{"name": a["Name"], "status": a["Status"]}
                                         for a in f.get("AdditionalConfiguration", [])]}
            for f in props.get("Features", [])
        ],
        "tags": {t["Key"]: t["Value"] for t in props.get("Tags", [])},
    }  # fmt: skip


def _detector_create(logical_id, props, stack_name):
    detector_id = json_answer(_create_detector(_camel(props)))["detectorId"]
    return detector_id, {"Id": detector_id}


def _detector_update(physical_id, old_props, new_props, stack_name):
    json_answer(_update_detector(physical_id, _camel(new_props)))
    return physical_id, {"Id": physical_id}


def _detector_delete(physical_id, props):
    _detectors.pop(physical_id, None)


def _hub_request(props: dict) -> dict:
    return {
        "EnableDefaultStandards": props.get("EnableDefaultStandards", True) in (True, "true"),
        "ControlFindingGenerator": props.get("ControlFindingGenerator", "SECURITY_CONTROL"),
    }


def _hub_create(logical_id, props, stack_name):
    json_answer(_enable_hub(_hub_request(props)))
    _hub["hub"]["AutoEnableControls"] = props.get("AutoEnableControls", True) in (True, "true")
    return _hub_arn(), {"ARN": _hub_arn(), "SubscribedAt": _hub["hub"]["SubscribedAt"]}


def _hub_update(physical_id, old_props, new_props, stack_name):
    auto = new_props.get("AutoEnableControls", True) in (True, "true")
    json_answer(_update_hub({**_hub_request(new_props), "AutoEnableControls": auto}))
    return physical_id, {"ARN": physical_id, "SubscribedAt": _hub["hub"]["SubscribedAt"]}


def _hub_delete(physical_id, props):
    _hub.clear()
    _standards.clear()


def _standard_create(logical_id, props, stack_name):
    if "hub" not in _hub:
        raise ValueError("InvalidAccessException: Account is not subscribed to AWS Security Hub")
    (subscription,) = _subscribe([props["StandardsArn"]])
    arn = subscription["StandardsSubscriptionArn"]
    return arn, {"StandardsSubscriptionArn": arn}


def _standard_update(physical_id, old_props, new_props, stack_name):
    return physical_id, {"StandardsSubscriptionArn": physical_id}


def _standard_delete(physical_id, props):
    _standards.pop(physical_id, None)


def _scanning_request(props: dict) -> dict:
    return {
        "scanType": props["ScanType"],
        "rules": [
            {"scanFrequency": r["ScanFrequency"],
             "repositoryFilters": [{"filter": f["Filter"], "filterType": f["FilterType"]}
                                   for f in r["RepositoryFilters"]]}
            for r in props.get("Rules", [])
        ],
    }  # fmt: skip


def _scanning_create(logical_id, props, stack_name):
    json_answer(_put_scanning(_scanning_request(props)))
    return get_account_id(), {"RegistryId": get_account_id()}


def _scanning_update(physical_id, old_props, new_props, stack_name):
    return _scanning_create("", new_props, stack_name)


def _scanning_delete(physical_id, props):
    """AWS puts the registry back to basic scanning (Inspector stays enabled)."""
    _scanning["configuration"] = dict(_BASIC)


# --- AWS Config (ministack serves the API; its CloudFormation has no provisioner) --------------


def _recorder_put(name: str, props: dict) -> None:
    group = props.get("RecordingGroup", {})
    json_answer(config._put_configuration_recorder({"ConfigurationRecorder": {
        "name": name,
        "roleARN": props["RoleARN"],
        "recordingGroup": {
            "allSupported": cfn._cfn_bool(group.get("AllSupported", False)),
            "includeGlobalResourceTypes": cfn._cfn_bool(group.get("IncludeGlobalResourceTypes", False)),
            "resourceTypes": group.get("ResourceTypes", []),
        },
    }}))  # fmt: skip


def _channel_put(name: str, props: dict) -> None:
    if not config._recorders:
        raise ValueError(
            "NoAvailableConfigurationRecorderException: there is no configuration recorder"
        )
    channel = {"name": name, "s3BucketName": props["S3BucketName"]}
    for key, api in (("S3KeyPrefix", "s3KeyPrefix"), ("S3KmsKeyArn", "s3KmsKeyArn"),
                     ("SnsTopicARN", "snsTopicARN")):  # fmt: skip
        if key in props:
            channel[api] = props[key]
    frequency = props.get("ConfigSnapshotDeliveryProperties", {}).get("DeliveryFrequency")
    if frequency:
        channel["configSnapshotDeliveryProperties"] = {"deliveryFrequency": frequency}
    json_answer(config._put_delivery_channel({"DeliveryChannel": channel}))
    # CloudFormation starts the recorder as soon as the delivery channel is available.
    for recorder in list(config._recorders):
        json_answer(config._start_configuration_recorder({"ConfigurationRecorderName": recorder}))


def _named(put, store) -> dict:
    """Handlers for a Config object named by its Name (generated when the template gives none)
    that `put` creates or replaces and that lives in `store`."""

    def create(logical_id, props, stack_name):
        name = props.get("Name") or f"{stack_name}-{logical_id}-{uuid.uuid4().hex[:12].upper()}"
        put(name, props)
        return name, {}

    def update(physical_id, old_props, new_props, stack_name):
        put(physical_id, new_props)
        return physical_id, {}

    def delete(physical_id, props):
        store.pop(physical_id, None)

    return {"create": create, "update": update, "delete": delete}


HANDLERS = {
    "AWS::Config::ConfigurationRecorder": _named(_recorder_put, config._recorders),
    "AWS::Config::DeliveryChannel": _named(_channel_put, config._delivery_channels),
    "AWS::GuardDuty::Detector": {
        "create": _detector_create,
        "update": _detector_update,
        "delete": _detector_delete,
    },
    "AWS::SecurityHub::Hub": {"create": _hub_create, "update": _hub_update, "delete": _hub_delete},
    "AWS::SecurityHub::Standard": {
        "create": _standard_create,
        "update": _standard_update,
        "delete": _standard_delete,
    },
    "AWS::ECR::RegistryScanningConfiguration": {
        "create": _scanning_create,
        "update": _scanning_update,
        "delete": _scanning_delete,
    },
}
# createOnlyProperties of the registry schemas.
REPLACING = {
    "AWS::SecurityHub::Standard": "StandardsArn",
    "AWS::Config::ConfigurationRecorder": "Name",
    "AWS::Config::DeliveryChannel": "Name",
}
