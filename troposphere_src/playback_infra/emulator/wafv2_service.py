"""WAFv2 for ministack: logging configurations, and its CloudFormation types.

A web ACL association goes through ministack's AssociateWebACL and DisassociateWebACL; a
logging configuration through the PutLoggingConfiguration family, which this module adds to
ministack's WAFv2 API (``serve_waf_logging``). A web ACL's rules keep their numbers
(``waf_integer_members``).
"""

import copy
import functools
import json
import re

from ministack.core.responses import AccountRegionScopedDict, error_response_json, json_response
from ministack.services import alb, waf
from served import integer, json_answer, resetting, typed

# --- WAFv2 logging configurations: the API ministack's WAFv2 service lacks ------------

# Web ACL ARN -> its LoggingConfiguration, as GetLoggingConfiguration answers it.
_waf_logging = AccountRegionScopedDict()
_WAF_LOG_PREFIX = "aws-waf-logs-"


def _waf_logging_scope(arn):
    """REGIONAL or CLOUDFRONT, from the ``regional``/``global`` segment of a web ACL ARN."""
    return "CLOUDFRONT" if ":global/" in arn else "REGIONAL"


def _put_logging_configuration(data):
    """PutLoggingConfiguration: the web ACL must exist, and its one destination (a log group,
    bucket or Firehose stream) must be named ``aws-waf-logs-...``. Replaces the ACL's
    configuration; ManagedByFirewallManager is false, LogType WAF_LOGS, LogScope CUSTOMER."""
    config = copy.deepcopy(data.get("LoggingConfiguration") or {})
    arn = config.get("ResourceArn", "")
    _acl, error = waf._resolve_local_web_acl(arn)
    if error:
        return error
    destinations = config.get("LogDestinationConfigs") or []
    if len(destinations) != 1:
        return waf._waf_err(
            "WAFInvalidParameterException", "A web ACL takes exactly one logging destination."
        )
    name = re.split(r"[:/]", destinations[0].removesuffix(":*"))[-1]
    if not name.startswith(_WAF_LOG_PREFIX):
        return waf._waf_err(
            "WAFInvalidParameterException",
            f"The logging destination name must start with {_WAF_LOG_PREFIX}: {destinations[0]}",
        )
    config.update(ManagedByFirewallManager=False, LogType="WAF_LOGS", LogScope="CUSTOMER")
    _waf_logging[arn] = config
    return json_response({"LoggingConfiguration": config})


def _waf_logging_missing(arn):
    return waf._waf_err(
        "WAFNonexistentItemException", f"No logging configuration for the web ACL {arn}."
    )


def _get_logging_configuration(data):
    """GetLoggingConfiguration of a web ACL; WAFNonexistentItemException without one."""
    arn = data.get("ResourceArn", "")
    if arn not in _waf_logging:
        return _waf_logging_missing(arn)
    return json_response({"LoggingConfiguration": _waf_logging[arn]})


def _delete_logging_configuration(data):
    """DeleteLoggingConfiguration of a web ACL; WAFNonexistentItemException without one."""
    arn = data.get("ResourceArn", "")
    if _waf_logging.pop(arn, None) is None:
        return _waf_logging_missing(arn)
    return json_response({})


def _list_logging_configurations(data):
    """ListLoggingConfigurations of the scope (one page)."""
    scope = (data.get("Scope") or "REGIONAL").upper()
    configs = [c for c in _waf_logging.values() if _waf_logging_scope(c["ResourceArn"]) == scope]
    return json_response({"LoggingConfigurations": configs})


_WAF_LOGGING_ACTIONS = {
    "PutLoggingConfiguration": _put_logging_configuration,
    "GetLoggingConfiguration": _get_logging_configuration,
    "DeleteLoggingConfiguration": _delete_logging_configuration,
    "ListLoggingConfigurations": _list_logging_configurations,
}


def serve_waf_logging(handle_request):
    """Wrap ministack's WAFv2 request handler so it answers the logging configuration actions
    (``_WAF_LOGGING_ACTIONS``): ministack 1.5.33 has none of them ("Unknown WAF action"), so a
    web ACL's logging could be neither set nor read. The other actions go to ministack."""

    @functools.wraps(handle_request)
    async def handle(method, path, headers, body, query_params):
        action = _WAF_LOGGING_ACTIONS.get(headers.get("x-amz-target", "").rpartition(".")[2])
        if action is None:
            return await handle_request(method, path, headers, body, query_params)
        try:
            return action(json.loads(body) if body else {})
        except json.JSONDecodeError:
            return error_response_json("SerializationException", "Invalid JSON", 400)

    return handle


def reset_waf_logging(reset):
    """Wrap WAFv2's ``reset`` (``/_ministack/reset``) so it drops the logging configurations too."""
    return resetting(reset, _waf_logging)


# --- AWS::WAFv2::WebACLAssociation: Ref is "<resource ARN>|<web ACL ARN>" ---------------

_WAF_ASSOCIATION = "AWS::WAFv2::WebACLAssociation"


def _waf_association_create(logical_id, props, stack_name):
    """Associate the web ACL with the resource (AssociateWebACL). An unknown web ACL fails,
    as on AWS, and so does an unknown load balancer: ministack's call takes any resource ARN.

    The Ref is the schema's primaryIdentifier, ResourceArn and WebACLArn joined by "|";
    the type has no Fn::GetAtt attributes.
    """
    resource_arn, acl_arn = props["ResourceArn"], props["WebACLArn"]
    if ":loadbalancer/" in resource_arn and resource_arn not in alb._lbs:
        raise ValueError(
            f"{_WAF_ASSOCIATION} create failed: WAFNonexistentItemException: AWS WAF couldn't"
            f" perform the operation because your resource doesn't exist: {resource_arn}"
        )
    json_answer(
        waf._associate_web_acl({"ResourceArn": resource_arn, "WebACLArn": acl_arn}),
        f"{_WAF_ASSOCIATION} create failed",
    )
    return f"{resource_arn}|{acl_arn}", {}


def _waf_association_delete(physical_id, props):
    """Disassociate the resource (DisassociateWebACL) while GetWebACLForResource still names
    this web ACL: a replacing association to another ACL took the resource over first."""
    resource_arn = props["ResourceArn"]
    status, _headers, body = waf._get_web_acl_for_resource({"ResourceArn": resource_arn})
    if status < 400 and json.loads(body)["WebACL"]["ARN"] == props["WebACLArn"]:
        json_answer(
            waf._disassociate_web_acl({"ResourceArn": resource_arn}),
            f"{_WAF_ASSOCIATION} delete failed",
        )


# --- AWS::WAFv2::LoggingConfiguration: Ref is the web ACL's ARN ------------------------

_WAF_LOGGING = "AWS::WAFv2::LoggingConfiguration"


def _waf_logging_put(props, verb):
    """Write the web ACL's configuration (``_put_logging_configuration``)."""
    config = {key: props[key] for key in ("RedactedFields", "LoggingFilter") if props.get(key)}
    config.update(
        ResourceArn=props["ResourceArn"], LogDestinationConfigs=list(props["LogDestinationConfigs"])
    )
    answer = json_answer(
        _put_logging_configuration({"LoggingConfiguration": config}),
        f"{_WAF_LOGGING} {verb} failed",
    )["LoggingConfiguration"]
    # A string, as a stack output shows the boolean.
    managed = str(answer["ManagedByFirewallManager"]).lower()
    return answer["ResourceArn"], {"ManagedByFirewallManager": managed}


def _waf_logging_create(logical_id, props, stack_name):
    """Turn the web ACL's logging on; an unknown ACL or a destination not named
    ``aws-waf-logs-...`` fails, as on AWS."""
    return _waf_logging_put(props, "create")


def _waf_logging_update(physical_id, old_props, new_props, stack_name):
    """LogDestinationConfigs, RedactedFields and LoggingFilter change in place; ResourceArn
    replaces."""
    return _waf_logging_put(new_props, "update")


def _waf_logging_delete(physical_id, props):
    """Turn the web ACL's logging off (DeleteLoggingConfiguration); one already off is left."""
    if physical_id in _waf_logging:
        json_answer(
            _delete_logging_configuration({"ResourceArn": physical_id}),
            f"{_WAF_LOGGING} delete failed",
        )


# --- AWS::WAFv2::WebACL: what ministack's provisioner misses ------------------------------

# The WAFv2 API's integer members that a web ACL's rules can carry.
_WAF_TYPES = dict.fromkeys(
    ("Priority", "Limit", "EvaluationWindowSec", "Size", "ResponseCode", "ImmunityTime"),
    integer,
)


def _waf_numbers(value):
    """``value`` with the WAFv2 integer members that arrive as strings made numbers."""
    return typed(value, _WAF_TYPES)


def waf_integer_members(handlers):
    """Wrap ministack's AWS::WAFv2::WebACL create and update so the rules' integer members
    (Priority, a rate-based statement's Limit ...) are numbers, as GetWebACL answers them.

    ministack 1.5.33 stores the rules as the template resolved them: a ``Ref`` to a Number
    parameter (the rate limit) is a string there, and GetWebACL answered ``"Limit": "2000"``.
    """
    create, update = handlers["create"], handlers["update"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        return create(logical_id, _waf_numbers(props), stack_name)

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        return update(
            physical_id, _waf_numbers(old_props), _waf_numbers(new_props), stack_name, logical_id
        )

    return {**handlers, "create": created, "update": updated}


HANDLERS = {
    # Both properties replace, so an update never reaches an update handler.
    _WAF_ASSOCIATION: {"create": _waf_association_create, "delete": _waf_association_delete},
    _WAF_LOGGING: {
        "create": _waf_logging_create,
        "update": _waf_logging_update,
        "delete": _waf_logging_delete,
    },
}
# createOnlyProperties of each type's CloudFormation registry schema.
REPLACING = {
    _WAF_ASSOCIATION: "ResourceArn WebACLArn",
    _WAF_LOGGING: "ResourceArn",
}
