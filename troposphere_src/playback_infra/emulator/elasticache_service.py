"""ElastiCache serverless caches for ministack's CloudFormation engine.

An ``AWS::ElastiCache::ServerlessCache`` is recorded through ministack's ElastiCache API, which
has the calls but no provisioner (without Docker it answers with its plaintext sidecar's
endpoint).
"""

from ministack.services import elasticache
from ministack.services.cloudformation import provisioners as cfn

# --- AWS::ElastiCache::ServerlessCache: Ref is the cache's name --------------------------

SERVERLESS_CACHE = "AWS::ElastiCache::ServerlessCache"
_SERVERLESS_CACHE_CREATE = (
    "Description", "Engine", "MajorEngineVersion", "CacheUsageLimits", "KmsKeyId",
    "SecurityGroupIds", "SubnetIds", "UserGroupId", "SnapshotRetentionLimit",
    "DailySnapshotTime", "NetworkType",
)  # fmt: skip
_SERVERLESS_CACHE_MODIFY = (
    "Description", "CacheUsageLimits", "SecurityGroupIds", "SnapshotRetentionLimit",
    "DailySnapshotTime", "MajorEngineVersion",
)  # fmt: skip


def _serverless_cache_attributes(name):
    """The GetAtt values AWS gives: ARN, the endpoints, the full engine version."""
    record = elasticache._serverless_caches[name]
    attributes = {
        "ARN": record["ARN"],
        "FullEngineVersion": record["FullEngineVersion"],
        "CreateTime": str(record["CreateTime"]),
        "Status": record["Status"],
    }
    for endpoint in ("Endpoint", "ReaderEndpoint"):
        attributes[f"{endpoint}.Address"] = record[endpoint]["Address"]
        attributes[f"{endpoint}.Port"] = str(record[endpoint]["Port"])
    return attributes


def _serverless_cache_create(logical_id, props, stack_name):
    """CreateServerlessCache with the template's properties, then its tags. Without Docker
    ministack records the cache, available at once, its endpoint its plaintext sidecar."""
    name = (props.get("ServerlessCacheName") or f"{stack_name}-{logical_id}"[:40]).lower()
    params = cfn._ec_query({k: props[k] for k in _SERVERLESS_CACHE_CREATE if k in props})
    params["ServerlessCacheName"] = name
    cfn._ec_call(elasticache._create_serverless_cache, params, SERVERLESS_CACHE, "create")
    cfn._ec_sync_tags(elasticache._serverless_caches[name]["ARN"], {}, props, SERVERLESS_CACHE)
    return name, _serverless_cache_attributes(name)


def _serverless_cache_update(physical_id, old_props, new_props, stack_name):
    """ModifyServerlessCache with what may change in place (the rest replaces)."""
    params = cfn._ec_query({k: new_props[k] for k in _SERVERLESS_CACHE_MODIFY if k in new_props})
    params["ServerlessCacheName"] = physical_id
    cfn._ec_call(elasticache._modify_serverless_cache, params, SERVERLESS_CACHE, "update")
    cfn._ec_sync_tags(
        elasticache._serverless_caches[physical_id]["ARN"], old_props, new_props,
        SERVERLESS_CACHE,
    )  # fmt: skip
    return physical_id, _serverless_cache_attributes(physical_id)


def _serverless_cache_delete(physical_id, props):
    if physical_id in elasticache._serverless_caches:
        cfn._ec_call(
            elasticache._delete_serverless_cache,
            {"ServerlessCacheName": physical_id},
            SERVERLESS_CACHE,
            "delete",
        )


HANDLERS = {
    SERVERLESS_CACHE: {
        "create": _serverless_cache_create,
        "update": _serverless_cache_update,
        "delete": _serverless_cache_delete,
    },
}
# createOnlyProperties of the registry schema.
REPLACING = {
    SERVERLESS_CACHE: (
        "ConnectionType KmsKeyId NetworkType ServerlessCacheName SnapshotArnsToRestore SubnetIds"
    ),
}
