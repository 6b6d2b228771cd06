"""RDS for ministack's CloudFormation engine: RDS Proxy, its target group, and what
ministack's DB instance provisioner drops.

ministack's RDS API implements RDS Proxy, but its CloudFormation engine has no provisioner for
it: the handlers here record a proxy and its target group through those RDS functions and
stores. A DB instance keeps what its template says that ministack's provisioner drops
(``complete_db_instance``, ``render_db_instance_extras``).
"""

import functools
import json
import uuid

from ministack.services import rds, secretsmanager
from ministack.services.cloudformation import provisioners as cfn
from served import json_answer

# --- AWS::RDS::DBProxy: Ref is the proxy name -------------------------------------

PROXY = "AWS::RDS::DBProxy"
PROXY_TARGET_GROUP = "AWS::RDS::DBProxyTargetGroup"
DB_INSTANCE = "AWS::RDS::DBInstance"


def _bool_param(props, key):
    """A template boolean as the RDS query API takes it ("true" / "false")."""
    return "true" if cfn._cfn_bool(props.get(key, False)) else "false"


def _proxy_attributes(name):
    proxy = rds._db_proxies[name]
    return {key: proxy[key] for key in ("DBProxyArn", "Endpoint", "VpcId")}


# The properties CreateDBProxy takes as they are.
_PROXY_CREATE_PROPERTIES = (
    "EngineFamily",
    "RoleArn",
    "VpcSubnetIds",
    "VpcSecurityGroupIds",
    "IdleClientTimeout",
    "Auth",
    "DefaultAuthScheme",
    "EndpointNetworkType",
    "TargetConnectionNetworkType",
)


def _proxy_create(logical_id, props, stack_name):
    """Create the proxy (CreateDBProxy), which RDS gives its default target group
    and endpoint, and tag it."""
    name = props["DBProxyName"]
    params = cfn._ec_query({key: props[key] for key in _PROXY_CREATE_PROPERTIES if key in props})
    params.update(
        DBProxyName=name,
        RequireTLS=_bool_param(props, "RequireTLS"),
        DebugLogging=_bool_param(props, "DebugLogging"),
    )
    cfn._rds_call(rds._create_db_proxy, params, PROXY, "create")
    cfn._rds_sync_tags(rds._db_proxies[name]["DBProxyArn"], {}, props, PROXY)
    return name, _proxy_attributes(name)


def _proxy_update(physical_id, old_props, new_props, stack_name):
    """Auth, RoleArn, security groups, IdleClientTimeout, RequireTLS, DebugLogging,
    DefaultAuthScheme and Tags change in place (ModifyDBProxy).

    A setting the template drops goes back to RDS's default.
    """
    scheme = new_props.get("DefaultAuthScheme") or (
        "NONE" if old_props.get("DefaultAuthScheme") else None
    )
    params = cfn._ec_query(
        {
            "RoleArn": new_props["RoleArn"],
            "Auth": new_props.get("Auth") or [],
            "SecurityGroups": new_props.get("VpcSecurityGroupIds") or [],
            "DefaultAuthScheme": scheme,
            "IdleClientTimeout": new_props.get("IdleClientTimeout", 1800),
        }
    )
    params.update(
        DBProxyName=physical_id,
        RequireTLS=_bool_param(new_props, "RequireTLS"),
        DebugLogging=_bool_param(new_props, "DebugLogging"),
    )
    cfn._rds_call(rds._modify_db_proxy, params, PROXY, "update")
    cfn._rds_sync_tags(rds._db_proxies[physical_id]["DBProxyArn"], old_props, new_props, PROXY)
    return physical_id, _proxy_attributes(physical_id)


def _proxy_delete(physical_id, props):
    """Delete the proxy (DeleteDBProxy), its endpoints and target group with it."""
    if rds._db_proxies.get(physical_id):
        cfn._rds_call(rds._delete_db_proxy, {"DBProxyName": physical_id}, PROXY, "delete")


# --- AWS::RDS::DBProxyTargetGroup: Ref is the target group ARN ----------------------

# The target list properties, by the type RDS records a registered target as.
_TARGET_LISTS = {"RDS_INSTANCE": "DBInstanceIdentifiers", "TRACKED_CLUSTER": "DBClusterIdentifiers"}


def _tg_targets(props):
    """The (list property, identifier) pairs the resource registers."""
    return {(key, target) for key in _TARGET_LISTS.values() for target in props.get(key) or []}


def _tg_registered(props):
    """The (list property, identifier) pairs registered on the proxy now (none once it is gone)."""
    proxy = rds._db_proxies.get(props["DBProxyName"]) or {"Targets": []}
    return {(_TARGET_LISTS[t["Type"]], t["RdsResourceId"]) for t in proxy["Targets"]}


def _tg_call(action, props, extra, verb):
    """Run a target group action on the resource's proxy and group with ``extra`` parameters."""
    params = {"DBProxyName": props["DBProxyName"], "TargetGroupName": props["TargetGroupName"]}
    cfn._rds_call(action, {**params, **extra}, PROXY_TARGET_GROUP, verb)


def _tg_set_targets(action, props, targets, verb):
    """Register or deregister ``targets`` (RegisterDBProxyTargets / DeregisterDBProxyTargets)."""
    for key in _TARGET_LISTS.values():
        identifiers = sorted(target for k, target in targets if k == key)
        if identifiers:
            _tg_call(action, props, cfn._ec_query({key: identifiers}), verb)


def _tg_set_pool(props, verb):
    """Write ConnectionPoolConfigurationInfo (ModifyDBProxyTargetGroup); without it, RDS's
    defaults (an empty setting makes RDS fill in every default)."""
    config = props.get("ConnectionPoolConfigurationInfo") or {}
    params = cfn._ec_query({"ConnectionPoolConfig": config})
    _tg_call(
        rds._modify_db_proxy_target_group,
        props,
        params or {"ConnectionPoolConfig.MaxConnectionsPercent": ""},
        verb,
    )


def _tg_arn(props):
    return rds._db_proxies[props["DBProxyName"]]["TargetGroup"]["TargetGroupArn"]


def _tg_create(logical_id, props, stack_name):
    """Configure the proxy's default target group and register the targets.

    RDS creates the group with the proxy, and "default" is the only TargetGroupName
    it takes: any other fails with DBProxyTargetGroupNotFoundFault, as on AWS.
    """
    _tg_set_pool(props, "create")
    _tg_set_targets(rds._register_db_proxy_targets, props, _tg_targets(props), "create")
    arn = _tg_arn(props)
    cfn._rds_sync_tags(arn, {}, props, PROXY_TARGET_GROUP)
    return arn, {"TargetGroupArn": arn}


def _tg_update(physical_id, old_props, new_props, stack_name):
    """The pool settings, targets and tags change in place. Dropped targets are
    deregistered before new ones are registered: a proxy takes one target."""
    _tg_set_pool(new_props, "update")
    wanted = _tg_targets(new_props)
    dropped = (_tg_targets(old_props) - wanted) & _tg_registered(new_props)
    _tg_set_targets(rds._deregister_db_proxy_targets, new_props, dropped, "update")
    added = wanted - _tg_registered(new_props)
    _tg_set_targets(rds._register_db_proxy_targets, new_props, added, "update")
    cfn._rds_sync_tags(physical_id, old_props, new_props, PROXY_TARGET_GROUP)
    return physical_id, {"TargetGroupArn": physical_id}


def _tg_delete(physical_id, props):
    """Deregister the targets; the group itself lives as long as its proxy."""
    proxy = rds._db_proxies.get(props["DBProxyName"])
    if proxy and proxy["TargetGroup"]["TargetGroupArn"] == physical_id:
        registered = _tg_targets(props) & _tg_registered(props)
        _tg_set_targets(rds._deregister_db_proxy_targets, props, registered, "delete")


# --- AWS::RDS::DBInstance: what ministack's provisioner drops -----------------------

_PROTECTED = (
    f"{DB_INSTANCE} delete failed: InvalidParameterCombination: Cannot delete protected"
    " DB Instance, please disable deletion protection and try again."
)


def _instance_extras(props, instance):
    """The instance fields of the template that ministack 1.5.33's provisioner leaves out."""
    insights = cfn._cfn_bool(props.get("EnablePerformanceInsights", False))
    region, account = instance["DBInstanceArn"].split(":")[3:5]
    monitoring_arn = (
        f"arn:aws:logs:{region}:{account}:log-group:RDSOSMetrics:log-stream:"
        f"{instance['DbiResourceId']}"
    )
    return {
        "EngineLifecycleSupport": props.get(
            "EngineLifecycleSupport", "open-source-rds-extended-support"
        ),
        "DatabaseInsightsMode": props.get("DatabaseInsightsMode", "standard"),
        "EnabledCloudwatchLogsExports": list(props.get("EnableCloudwatchLogsExports") or []),
        "PerformanceInsightsKMSKeyId": props.get("PerformanceInsightsKMSKeyId", "")
        if insights
        else "",
        "PerformanceInsightsRetentionPeriod": int(
            props.get("PerformanceInsightsRetentionPeriod", 7)
        ),
        "EnhancedMonitoringResourceArn": monitoring_arn
        if int(props.get("MonitoringInterval", 0))
        else "",
    }


def _master_secret_key(props, instance):
    """MasterUserSecret.KmsKeyId, or the ARN ministack gives Secrets Manager's default key."""
    region, account = instance["DBInstanceArn"].split(":")[3:5]
    return (props.get("MasterUserSecret") or {}).get("KmsKeyId") or (
        f"arn:aws:kms:{region}:{account}:key/aws-secretsmanager-default"
    )


# RDS "manages the settings for the secret and rotates the secret every seven days by default"
# (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
_MASTER_SECRET_ROTATION = {"AutomaticallyAfterDays": 7}
_MASTER_SECRET = f"{DB_INSTANCE} master user secret"  # how a failed call's error starts


def _create_master_secret(instance, props):
    """Generate the master password into RDS's own secret (CreateSecret), as
    ManageMasterUserPassword does, with the MasterUserSecret KMS key, its rotation on."""
    password = rds._generate_master_user_password()
    arn = instance["DBInstanceArn"]
    request = {
        "Name": f"rds!db-{uuid.uuid4()}",
        "Description": f"Secret associated with primary RDS DB instance: {arn}",
        "SecretString": json.dumps({"username": instance["MasterUsername"], "password": password}),
        "KmsKeyId": (props.get("MasterUserSecret") or {}).get("KmsKeyId"),
        "Tags": [
            {"Key": "aws:rds:primaryDBInstanceArn", "Value": arn},
            {"Key": "aws:secretsmanager:owningService", "Value": "rds"},
        ],
    }
    created = json_answer(secretsmanager._create_secret(request), _MASTER_SECRET)
    secretsmanager._resolve(created["ARN"])[1].update(
        RotationEnabled=True, RotationRules=dict(_MASTER_SECRET_ROTATION)
    )
    instance["_MasterUserPassword"] = password
    instance["MasterUserSecret"] = {
        "SecretArn": created["ARN"],
        "SecretStatus": "active",
        "KmsKeyId": _master_secret_key(props, instance),
    }


def _drop_master_secret(instance):
    """Delete RDS's secret of the instance at once, as RDS does (DeleteSecret)."""
    secret = instance.pop("MasterUserSecret", None)
    if secret and secretsmanager._resolve(secret["SecretArn"])[1]:
        request = {"SecretId": secret["SecretArn"], "ForceDeleteWithoutRecovery": True}
        json_answer(secretsmanager._delete_secret(request), _MASTER_SECRET)


def _update_master_secret(instance, old_props, new_props):
    """Turn the managed secret on or off, or move it to another KMS key, as
    ModifyDBInstance does."""
    was, now = (
        cfn._cfn_bool(props.get("ManageMasterUserPassword", False))
        for props in (old_props, new_props)
    )
    secret = instance.get("MasterUserSecret")
    if now and not secret:
        _create_master_secret(instance, new_props)
    elif was and not now:
        _drop_master_secret(instance)
        instance["_MasterUserPassword"] = new_props.get("MasterUserPassword", "password")
    elif now and secret["KmsKeyId"] != _master_secret_key(new_props, instance):
        key = (new_props.get("MasterUserSecret") or {}).get("KmsKeyId")
        request = {"SecretId": secret["SecretArn"], "KmsKeyId": key}
        json_answer(secretsmanager._update_secret(request), _MASTER_SECRET)
        secret["KmsKeyId"] = _master_secret_key(new_props, instance)


def _restored_snapshot(props):
    """The snapshot DBSnapshotIdentifier (an id or an ARN) names, None without one; an unknown
    one fails the create, as RestoreDBInstanceFromDBSnapshot does."""
    wanted = props.get("DBSnapshotIdentifier")
    if not wanted:
        return None
    for snapshot in rds._snapshots.values():
        if wanted in (snapshot["DBSnapshotIdentifier"], snapshot["DBSnapshotArn"]):
            return snapshot
    raise ValueError(
        f"{DB_INSTANCE} create failed: DBSnapshotNotFound: DBSnapshot {wanted} not found."
    )


def _refuse_protected(physical_id):
    """Fail like RDS when the instance has DeletionProtection on."""
    if (rds._instances.get(physical_id) or {}).get("DeletionProtection"):
        raise ValueError(_PROTECTED)


def _with_secret_arn(instance, attributes):
    """The attributes with ``MasterUserSecret.SecretArn`` while the instance has the secret."""
    secret = instance.get("MasterUserSecret")
    return (
        {**attributes, "MasterUserSecret.SecretArn": secret["SecretArn"]} if secret else attributes
    )


def complete_db_instance(handlers):
    """Wrap ministack's AWS::RDS::DBInstance handlers so the instance keeps what the template says.

    ministack 1.5.33's provisioner writes the instance record straight into the RDS
    store (no Docker container; ``available`` at once). It drops EngineLifecycleSupport,
    DatabaseInsightsMode, EnableCloudwatchLogsExports and PerformanceInsightsKMSKeyId,
    leaves PerformanceInsightsRetentionPeriod and EnhancedMonitoringResourceArn unset,
    ignores ManageMasterUserPassword and MasterUserSecret (no secret, and no
    ``MasterUserSecret.SecretArn`` attribute, so a ``Fn::GetAtt`` on it fails the stack),
    reports a database "mydb" that RDS for MySQL would not create, ignores
    DBSnapshotIdentifier, and deletes (and snapshots) an instance whose
    DeletionProtection is on.

    The wrappers record those fields on the instance (``render_db_instance_extras``
    shows them), keep RDS's managed master user secret through Secrets Manager's API
    (created, re-keyed, dropped with the instance), take the master username and
    database name from the restored snapshot and fail on an unknown one, and refuse
    to snapshot or delete a protected instance with RDS's error, so the stack delete
    fails as on AWS.
    """
    create, update, delete, snapshot = (
        handlers[k] for k in ("create", "update", "delete", "snapshot")
    )

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        source = _restored_snapshot(props)
        physical_id, attributes = create(logical_id, props, stack_name)
        instance = rds._instances[physical_id]
        instance.update(_instance_extras(props, instance))
        if source:
            instance["MasterUsername"] = source["MasterUsername"]
        if not instance.get("DBClusterIdentifier"):
            instance["DBName"] = props.get("DBName") or (source or {}).get("DBName", "")
        if cfn._cfn_bool(props.get("ManageMasterUserPassword", False)):
            _create_master_secret(instance, props)
        return physical_id, _with_secret_arn(instance, attributes)

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        new_id, attributes = update(physical_id, old_props, new_props, stack_name, logical_id)
        instance = rds._instances[new_id]
        if new_id == physical_id:
            # As ministack's update: a field changes when its template value did.
            old, new = _instance_extras(old_props, instance), _instance_extras(new_props, instance)
            instance.update({key: value for key, value in new.items() if old[key] != value})
            _update_master_secret(instance, old_props, new_props)
        return new_id, _with_secret_arn(instance, attributes)

    @functools.wraps(delete)
    def deleted(physical_id, props):
        _refuse_protected(physical_id)
        instance = rds._instances.get(physical_id)
        delete(physical_id, props)
        if instance:
            _drop_master_secret(instance)

    @functools.wraps(snapshot)
    def snapshotted(physical_id, props):
        _refuse_protected(physical_id)
        snapshot(physical_id, props)

    return {
        **handlers,
        "create": created,
        "update": updated,
        "delete": deleted,
        "snapshot": snapshotted,
    }


def render_db_instance_extras(instance_xml):
    """Wrap RDS's DBInstance XML so DescribeDBInstances shows what ``complete_db_instance``
    records: ministack 1.5.33 renders EnabledCloudwatchLogsExports always empty and leaves out
    MasterUserSecret, EngineLifecycleSupport, DatabaseInsightsMode and
    PerformanceInsightsKMSKeyId. An instance without them renders as before."""

    @functools.wraps(instance_xml)
    def render(instance):
        exports = "".join(
            f"<member>{rds._esc(e)}</member>"
            for e in instance.get("EnabledCloudwatchLogsExports") or []
        )
        xml = instance_xml(instance).replace(
            "<EnabledCloudwatchLogsExports/>",
            f"<EnabledCloudwatchLogsExports>{exports}</EnabledCloudwatchLogsExports>",
        )
        for key in (
            "EngineLifecycleSupport",
            "DatabaseInsightsMode",
            "PerformanceInsightsKMSKeyId",
        ):
            if instance.get(key):
                xml += f"<{key}>{rds._esc(instance[key])}</{key}>"
        secret = instance.get("MasterUserSecret")
        if secret:
            fields = "".join(
                f"<{key}>{rds._esc(secret[key])}</{key}>"
                for key in ("SecretArn", "SecretStatus", "KmsKeyId")
            )
            xml += f"<MasterUserSecret>{fields}</MasterUserSecret>"
        return xml

    return render


HANDLERS = {
    PROXY: {"create": _proxy_create, "update": _proxy_update, "delete": _proxy_delete},
    PROXY_TARGET_GROUP: {"create": _tg_create, "update": _tg_update, "delete": _tg_delete},
}
# createOnlyProperties of each type's CloudFormation registry schema.
REPLACING = {
    PROXY: (
        "DBProxyName EndpointNetworkType EngineFamily TargetConnectionNetworkType VpcSubnetIds"
    ),
    PROXY_TARGET_GROUP: "DBProxyName TargetGroupName",
}
