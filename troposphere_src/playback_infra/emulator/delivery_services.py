"""The delivery pipeline's services for ministack: CodePipeline, CodeConnections, CodeStar
Notifications, CodeBuild report groups, ECR replication and the registry's policy.

ministack has no CodePipeline, CodeConnections or CodeStar Notifications: ``serve`` answers the
calls boto3 makes to create, read, update and delete pipelines, connections and notification
rules. Its CodeBuild serves projects but no report groups, and its ECR answers DescribeRegistry
with no replication and has neither PutReplicationConfiguration nor a registry policy: ``extend``
wraps those two services' handlers with the missing calls. ``HANDLERS`` records the six
CloudFormation types (the registry policy is the pipeline-target stack's) through the
same stores, so what a stack made reads back through boto3 as on AWS (a pipeline as GetPipeline
shows it: camelCase, ``artifactStores`` a map by region; a new connection PENDING until its
console handshake). A pipeline the real service refuses is refused (``_refusal``). State lives
per account and region.
"""

from __future__ import annotations

import functools
import json
import time
import uuid

from ministack.core.responses import (
    AccountRegionScopedDict,
    error_response_json,
    get_account_id,
    get_region,
    json_response,
)
from ministack.services.cloudformation.provisioners import _pascal_to_camel
from served import json_answer, resetting

# The services ministack lacks (their credential scopes), and those it has that ``extend`` adds to.
SERVED = ("codepipeline", "codeconnections", "codestar-notifications")
EXTENDED = ("codebuild", "ecr")

_pipelines = AccountRegionScopedDict()  # name -> {"pipeline": declaration, "metadata": ...}
_connections = AccountRegionScopedDict()  # ARN -> connection
_rules = AccountRegionScopedDict()  # ARN -> notification rule
_report_groups = AccountRegionScopedDict()  # ARN -> report group
_replication = AccountRegionScopedDict()  # "configuration" -> the registry's replication
_registry_policy = AccountRegionScopedDict()  # "policyText" -> the registry's policy


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{get_region()}:{get_account_id()}:{resource}"


def _error(code: str, message: str, status: int = 400, message_key: str = "message"):
    return error_response_json(code, message, status, message_key=message_key)


# --- CodePipeline ----------------------------------------------------------------------------


def _stages_refusal(pipeline: dict) -> str | None:
    """The user guide's pipeline requirements for stages (pipeline-requirements.html)."""
    stages = pipeline["stages"]
    names = [s["name"] for s in stages]
    if len(stages) < 2:
        return "A pipeline must contain at least two stages"
    if len(set(names)) != len(names):
        return f"All stage names in a pipeline must be unique: {names}"
    for index, stage in enumerate(stages):
        sources = [a["actionTypeId"]["category"] == "Source" for a in stage["actions"]]
        if index == 0 and not all(sources):
            return f"The first stage ({stage['name']}) can contain source actions only"
        if index > 0 and any(sources):
            return f"Only the first stage of a pipeline can contain source actions: {stage['name']}"
    return None


def _artifacts_refusal(pipeline: dict) -> str | None:
    """The API reference's InputArtifact and OutputArtifact: an input is the output of a
    preceding action (an earlier stage, or an earlier run order); output names are unique."""
    produced: set[str] = set()
    for stage in pipeline["stages"]:
        for run_order in sorted({a["runOrder"] for a in stage["actions"]}):
            batch = [a for a in stage["actions"] if a["runOrder"] == run_order]
            for action in batch:
                missing = {i["name"] for i in action.get("inputArtifacts", [])} - produced
                if missing:
                    return (f"Input artifacts {sorted(missing)} of {action['name']} in "
                            f"{stage['name']} are not an output of a preceding action")  # fmt: skip
            for action in batch:
                outputs = [o["name"] for o in action.get("outputArtifacts", [])]
                if produced & set(outputs):
                    return f"Output artifact names must be unique within a pipeline: {outputs}"
                produced.update(outputs)
    return None


def _stores_refusal(pipeline: dict) -> str | None:
    """The user guide's artifactStore OR artifactStores: one of the two; a store in the
    pipeline's region and in each region an action runs in."""
    if ("artifactStore" in pipeline) == ("artifactStores" in pipeline):
        return "A pipeline must include either artifactStore or artifactStores, not both"
    home = get_region()
    regions = {a.get("region", home) for s in pipeline["stages"] for a in s["actions"]} | {home}
    if "artifactStore" in pipeline and regions != {home}:
        return f"Actions run in {sorted(regions)}: a cross-region pipeline uses artifactStores"
    missing = regions - set(pipeline.get("artifactStores", {home: None}))
    return f"No artifact store in {sorted(missing)}, where actions run" if missing else None


def _triggers_refusal(pipeline: dict) -> str | None:
    """GitConfiguration's sourceActionName: the source action a trigger configures, one
    trigger per source action."""
    sources = {a["name"] for a in pipeline["stages"][0]["actions"]}
    triggered = [t["gitConfiguration"]["sourceActionName"] for t in pipeline.get("triggers", [])]
    if set(triggered) - sources:
        return f"A trigger names a source action the pipeline lacks: {triggered}"
    if len(set(triggered)) != len(triggered):
        return f"Only one trigger configuration per source action: {triggered}"
    return None


def _refusal(pipeline: dict) -> str | None:
    """Why CodePipeline refuses this declaration (the first reason), or None."""
    rules = (_stages_refusal, _artifacts_refusal, _stores_refusal, _triggers_refusal)
    return next(filter(None, (rule(pipeline) for rule in rules)), None)


def _stored(pipeline: dict, version: int):
    for action in (a for s in pipeline["stages"] for a in s["actions"]):
        action.setdefault("runOrder", 1)
    refusal = _refusal(pipeline)
    if refusal:
        return _error("InvalidStructureException", refusal)
    now = time.time()
    created = _pipelines[pipeline["name"]]["metadata"]["created"] if version > 1 else now
    _pipelines[pipeline["name"]] = {
        "pipeline": {**pipeline, "version": version},
        "metadata": {
            "pipelineArn": _arn("codepipeline", pipeline["name"]),
            "created": created,
            "updated": now,
        },
    }
    return json_response({"pipeline": _pipelines[pipeline["name"]]["pipeline"]})


def _create_pipeline(data: dict):
    if data["pipeline"]["name"] in _pipelines:
        return _error("PipelineNameInUseException", f"{data['pipeline']['name']} exists")
    return _stored(data["pipeline"], 1)


def _get_pipeline(data: dict):
    if data["name"] not in _pipelines:
        return _error("PipelineNotFoundException", f"Pipeline {data['name']} not found")
    return json_response(_pipelines[data["name"]])


def _update_pipeline(data: dict):
    name = data["pipeline"]["name"]
    if name not in _pipelines:
        return _error("PipelineNotFoundException", f"Pipeline {name} not found")
    return _stored(data["pipeline"], _pipelines[name]["pipeline"]["version"] + 1)


def _delete_pipeline(data: dict):
    _pipelines.pop(data["name"], None)  # DeletePipeline has no not-found error
    return json_response({})


# --- CodeConnections -------------------------------------------------------------------------


def _create_connection(data: dict):
    arn = _arn("codeconnections", f"connection/{uuid.uuid4()}")
    _connections[arn] = {
        "ConnectionName": data["ConnectionName"],
        "ConnectionArn": arn,
        "ProviderType": data.get("ProviderType", ""),
        "OwnerAccountId": get_account_id(),
        "ConnectionStatus": "PENDING",  # until someone completes the handshake in the console
        **({"HostArn": data["HostArn"]} if "HostArn" in data else {}),
    }
    return json_response({"ConnectionArn": arn, "Tags": data.get("Tags", [])})


def _get_connection(data: dict):
    if data["ConnectionArn"] not in _connections:
        return _connection_not_found(data)
    return json_response({"Connection": _connections[data["ConnectionArn"]]})


def _delete_connection(data: dict):
    if _connections.pop(data["ConnectionArn"], None) is None:
        return _connection_not_found(data)
    return json_response({})


def _connection_not_found(data: dict):
    return _error("ResourceNotFoundException", data["ConnectionArn"], message_key="Message")


# --- CodeStar Notifications (REST) ------------------------------------------------------------


def _create_rule(data: dict):
    if any(r["Name"] == data["Name"] for r in _rules.values()):
        return _error(
            "ResourceAlreadyExistsException", f"Rule {data['Name']} exists", 409, "Message"
        )
    arn = _arn("codestar-notifications", f"notificationrule/{uuid.uuid4().hex}")
    _rules[arn] = {"Arn": arn, "CreatedBy": f"arn:aws:iam::{get_account_id()}:root",
                   "CreatedTimestamp": time.time(), "Status": "ENABLED", "Tags": {}}  # fmt: skip
    _set_rule(_rules[arn], data)
    return json_response({"Arn": arn})


def _set_rule(rule: dict, data: dict) -> None:
    for key in ("Name", "Resource", "DetailType", "Status", "Tags"):
        if key in data:
            rule[key] = data[key]
    if "EventTypeIds" in data:
        rule["EventTypes"] = [{"EventTypeId": e} for e in data["EventTypeIds"]]
    if "Targets" in data:
        rule["Targets"] = [{**t, "TargetStatus": "ACTIVE"} for t in data["Targets"]]
    rule["LastModifiedTimestamp"] = time.time()


def _named_rule(data: dict):
    rule = _rules.get(data["Arn"])
    if rule is None:
        return None, _error("ResourceNotFoundException", data["Arn"], 404, "Message")
    return rule, None


def _describe_rule(data: dict):
    rule, missing = _named_rule(data)
    return missing or json_response(rule)


def _update_rule(data: dict):
    rule, missing = _named_rule(data)
    if missing:
        return missing
    _set_rule(rule, data)
    return json_response({})


def _delete_rule(data: dict):
    _rules.pop(data["Arn"], None)  # DeleteNotificationRule has no not-found error
    return json_response({"Arn": data["Arn"]})


# --- CodeBuild report groups -----------------------------------------------------------------


def _create_report_group(data: dict):
    arn = _arn("codebuild", f"report-group/{data['name']}")
    if arn in _report_groups:
        return _error("ResourceAlreadyExistsException", f"Report group {arn} already exists")
    now = time.time()
    _report_groups[arn] = {"arn": arn, "name": data["name"], "type": data["type"],
                           "exportConfig": data["exportConfig"], "tags": data.get("tags", []),
                           "created": now, "lastModified": now, "status": "ACTIVE"}  # fmt: skip
    return json_response({"reportGroup": _report_groups[arn]})


def _batch_get_report_groups(data: dict):
    arns = data["reportGroupArns"]
    return json_response({
        "reportGroups": [_report_groups[a] for a in arns if a in _report_groups],
        "reportGroupsNotFound": [a for a in arns if a not in _report_groups],
    })  # fmt: skip


def _update_report_group(data: dict):
    group = _report_groups.get(data["arn"])
    if group is None:
        return _error("ResourceNotFoundException", f"Report group {data['arn']} not found")
    group.update({k: data[k] for k in ("exportConfig", "tags") if k in data})
    group["lastModified"] = time.time()
    return json_response({"reportGroup": group})


def _delete_report_group(data: dict):
    _report_groups.pop(data["arn"], None)
    return json_response({})


# --- ECR registry replication ----------------------------------------------------------------


def _put_replication(data: dict):
    _replication["configuration"] = data["replicationConfiguration"]
    return json_response({"replicationConfiguration": data["replicationConfiguration"]})


def _describe_registry(data: dict):
    configuration = _replication.get("configuration", {"rules": []})
    return json_response(
        {"registryId": get_account_id(), "replicationConfiguration": configuration}
    )


def _put_registry_policy(data: dict):
    _registry_policy["policyText"] = data["policyText"]
    return json_response({"registryId": get_account_id(), "policyText": data["policyText"]})


def _get_registry_policy(data: dict):
    if "policyText" not in _registry_policy:
        return _error(
            "RegistryPolicyNotFoundException",
            f"Registry policy does not exist in the registry with id '{get_account_id()}'",
        )
    return json_response(
        {"registryId": get_account_id(), "policyText": _registry_policy["policyText"]}
    )


def _delete_registry_policy(data: dict):
    answer = _get_registry_policy(data)
    _registry_policy.pop("policyText", None)
    return answer


_ACTIONS = {
    **{f"CodePipeline_20150709.{name}": action for name, action in (
        ("CreatePipeline", _create_pipeline), ("GetPipeline", _get_pipeline),
        ("UpdatePipeline", _update_pipeline), ("DeletePipeline", _delete_pipeline))},
    **{f"com.amazonaws.codeconnections.CodeConnections_20231201.{name}": action for name, action in (
        ("CreateConnection", _create_connection), ("GetConnection", _get_connection),
        ("DeleteConnection", _delete_connection))},
    **{f"CodeBuild_20161006.{name}": action for name, action in (
        ("CreateReportGroup", _create_report_group),
        ("BatchGetReportGroups", _batch_get_report_groups),
        ("UpdateReportGroup", _update_report_group), ("DeleteReportGroup", _delete_report_group))},
    "AmazonEC2ContainerRegistry_V20150921.PutReplicationConfiguration": _put_replication,
    "AmazonEC2ContainerRegistry_V20150921.DescribeRegistry": _describe_registry,
    "AmazonEC2ContainerRegistry_V20150921.PutRegistryPolicy": _put_registry_policy,
    "AmazonEC2ContainerRegistry_V20150921.GetRegistryPolicy": _get_registry_policy,
    "AmazonEC2ContainerRegistry_V20150921.DeleteRegistryPolicy": _delete_registry_policy,
    # CodeStar Notifications is REST: its operations are paths.
    "/createNotificationRule": _create_rule,
    "/describeNotificationRule": _describe_rule,
    "/updateNotificationRule": _update_rule,
    "/deleteNotificationRule": _delete_rule,
}  # fmt: skip


def _action(path: str, headers: dict):
    return _ACTIONS.get(headers.get("x-amz-target", "")) or _ACTIONS.get(path.rstrip("/"))


def _answer(action, body):
    try:
        return action(json.loads(body) if body else {})
    except (json.JSONDecodeError, KeyError) as error:
        return _error("ValidationException", f"Invalid request: {error}")


async def serve(method, path, headers, body, query_params):
    """ministack's service handler for each of `SERVED` (register it in SERVICE_HANDLERS)."""
    action = _action(path, headers)
    if action is None:
        return _error("UnknownOperationException", f"Unknown operation {path}", 404)
    return _answer(action, body)


def extend(handle_request):
    """Wrap ministack's handler of one of `EXTENDED` so it answers the calls added here too."""

    @functools.wraps(handle_request)
    async def handle(method, path, headers, body, query_params):
        action = _action(path, headers)
        if action is None:
            return await handle_request(method, path, headers, body, query_params)
        return _answer(action, body)

    return handle


def reset(reset_all_state):
    """Wrap ministack's reset so it empties this module's stores too."""
    return resetting(
        reset_all_state,
        _pipelines,
        _connections,
        _rules,
        _report_groups,
        _replication,
        _registry_policy,
    )


# --- CloudFormation -------------------------------------------------------------------------


def _declaration(props: dict) -> dict:
    """A pipeline's properties as the API declares it: camelCase, each action's configuration
    verbatim and its run order a number, ``artifactStores`` a map by region."""
    given = {k: v for k, v in props.items() if k not in ("RestartExecutionOnUpdate", "Tags")}
    pipeline = _pascal_to_camel(given)
    for stage, stage_props in zip(pipeline["stages"], props["Stages"], strict=True):
        for action, action_props in zip(stage["actions"], stage_props["Actions"], strict=True):
            action["configuration"] = action_props.get("Configuration", {})
            if "runOrder" in action:
                action["runOrder"] = int(action["runOrder"])
    if "artifactStores" in pipeline:
        pipeline["artifactStores"] = {
            s["region"]: s["artifactStore"] for s in pipeline["artifactStores"]
        }
    return pipeline


def _pipeline_create(logical_id, props, stack_name):
    name = props.get("Name") or f"{stack_name}-{logical_id}"
    created = json_answer(_create_pipeline({"pipeline": _declaration({**props, "Name": name})}))
    return name, {"Version": str(created["pipeline"]["version"])}


def _pipeline_update(physical_id, old_props, new_props, stack_name):
    pipeline = _declaration({**new_props, "Name": physical_id})
    updated = json_answer(_update_pipeline({"pipeline": pipeline}))
    return physical_id, {"Version": str(updated["pipeline"]["version"])}


def _pipeline_delete(physical_id, props):
    _delete_pipeline({"name": physical_id})


def _connection_attributes(arn: str) -> dict:
    connection = _connections[arn]
    return {k: connection[k] for k in ("ConnectionArn", "ConnectionStatus", "OwnerAccountId")}


def _connection_create(logical_id, props, stack_name):
    arn = json_answer(_create_connection(props))["ConnectionArn"]
    return arn, _connection_attributes(arn)


def _connection_update(physical_id, old_props, new_props, stack_name):
    """Only the tags may change in place (the rest is create-only): the emulator keeps none."""
    return physical_id, _connection_attributes(physical_id)


def _connection_delete(physical_id, props):
    _connections.pop(physical_id, None)


def _rule_create(logical_id, props, stack_name):
    arn = json_answer(_create_rule(props))["Arn"]
    return arn, {"Arn": arn}


def _rule_update(physical_id, old_props, new_props, stack_name):
    json_answer(_update_rule({**new_props, "Arn": physical_id}))
    return physical_id, {"Arn": physical_id}


def _rule_delete(physical_id, props):
    _delete_rule({"Arn": physical_id})


def _report_group_request(props: dict) -> dict:
    return {
        "exportConfig": _pascal_to_camel(props["ExportConfig"]),
        "tags": [{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])],
    }


def _report_group_create(logical_id, props, stack_name):
    name = props.get("Name") or f"{stack_name}-{logical_id}"
    request = {"name": name, "type": props["Type"], **_report_group_request(props)}
    arn = json_answer(_create_report_group(request))["reportGroup"]["arn"]
    return arn, {"Arn": arn, "Name": name}


def _report_group_update(physical_id, old_props, new_props, stack_name):
    group = json_answer(
        _update_report_group({"arn": physical_id, **_report_group_request(new_props)})
    )
    return physical_id, {"Arn": physical_id, "Name": group["reportGroup"]["name"]}


def _report_group_delete(physical_id, props):
    _delete_report_group({"arn": physical_id})


def _replication_put(logical_id, props, stack_name):
    json_answer(_put_replication(_pascal_to_camel(props)))
    return get_account_id(), {"RegistryId": get_account_id()}


def _replication_update(physical_id, old_props, new_props, stack_name):
    return _replication_put(None, new_props, stack_name)


def _replication_delete(physical_id, props):
    _put_replication({"replicationConfiguration": {"rules": []}})


def _registry_policy_put(logical_id, props, stack_name):
    text = props["PolicyText"]
    json_answer(
        _put_registry_policy({"policyText": text if isinstance(text, str) else json.dumps(text)})
    )
    return get_account_id(), {"RegistryId": get_account_id()}


def _registry_policy_update(physical_id, old_props, new_props, stack_name):
    return _registry_policy_put(None, new_props, stack_name)


def _registry_policy_delete(physical_id, props):
    _delete_registry_policy({})


def _handlers(create, update, delete) -> dict:
    return {"create": create, "update": update, "delete": delete}


HANDLERS = {
    "AWS::CodePipeline::Pipeline": _handlers(_pipeline_create, _pipeline_update, _pipeline_delete),
    "AWS::CodeConnections::Connection": _handlers(
        _connection_create, _connection_update, _connection_delete
    ),
    "AWS::CodeStarNotifications::NotificationRule": _handlers(
        _rule_create, _rule_update, _rule_delete
    ),
    "AWS::CodeBuild::ReportGroup": _handlers(
        _report_group_create, _report_group_update, _report_group_delete
    ),
    "AWS::ECR::ReplicationConfiguration": _handlers(
        _replication_put, _replication_update, _replication_delete
    ),
    "AWS::ECR::RegistryPolicy": _handlers(
        _registry_policy_put, _registry_policy_update, _registry_policy_delete
    ),
}
# createOnlyProperties of the registry schemas.
REPLACING = {
    "AWS::CodePipeline::Pipeline": "Name",
    "AWS::CodeConnections::Connection": "ConnectionName ProviderType HostArn",
    "AWS::CodeStarNotifications::NotificationRule": "Resource",
    "AWS::CodeBuild::ReportGroup": "Name Type",
    "AWS::ECR::ReplicationConfiguration": "",
    "AWS::ECR::RegistryPolicy": "",
}
