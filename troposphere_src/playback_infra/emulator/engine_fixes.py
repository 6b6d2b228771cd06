"""Fixes to ministack's CloudFormation engine for nested stacks and template URLs.

The update of a nested stack's resources keeps the attributes of those it leaves unchanged
(``keep_recorded_attributes``), the delete of a nested stack applies its resources'
``DeletionPolicy`` (``honour_deletion_policy``), and a template URL in S3's virtual-hosted
style (taskcat's) is read from its bucket (``read_virtual_hosted_urls``). A nested stack
resolves dynamic references (``resolve_nested_dynamic_references``) and keeps its resources'
generated names across updates (``record_name_seeds``).
"""

import functools
import re
import urllib.parse

import ministack.services.cloudformation as cfn_service
from ministack.services.cloudformation import engine as cfn_engine
from ministack.services.cloudformation import provisioners as cfn
from ministack.services.cloudformation import stacks as cfn_stacks

# --- Engine patch: nested stacks keep their resources' generated names --------------------

# (child stack name, logical id) -> (physical id, name seed) of the resources a nested
# stack's deploy created, until ``record_name_seeds`` writes the seeds on their records.
_created_seeds = {}


def _note_name_seed(stack_name, logical_id, physical_id):
    """Remember the name seed a nested stack's resource was created under."""
    if (cfn_service._stacks.get(stack_name) or {}).get("_parent_stack_name"):
        _created_seeds[(stack_name, logical_id)] = (physical_id, cfn._NAME_SEED.get())


def record_name_seeds(nested_stack_deploy):
    """Wrap ministack's ``_cfn_nested_stack_deploy`` so each resource the deploy created
    keeps, on its record, the name seed its generated name was drawn with.

    ministack 1.5.33 records the seed (``_name_seed``) of a nested resource it updates but
    not of one it creates, and the seed a bucket draws is never reset within the deploy, so
    the resources created after it (a load balancer, target groups) got names drawn with it.
    The next update of the nested stack recomputed their names without it and replaced
    every such resource under a new ARN: an ingress stack's update changed its load
    balancer, target groups and listeners, though nothing about them had changed. The
    seeds are noted as the resources are created (``_note_name_seed``) and written once a
    deploy is over, failed or not, on the records written by then; a record that already
    has one keeps it.
    """

    @functools.wraps(nested_stack_deploy)
    def deploy(*args, **kwargs):
        try:
            return nested_stack_deploy(*args, **kwargs)
        finally:
            for key, (physical_id, seed) in list(_created_seeds.items()):
                stack = cfn_service._stacks.get(key[0])
                record = ((stack or {}).get("_resources") or {}).get(key[1])
                if record is None and stack is not None:
                    continue  # not recorded yet: another deploy under way
                if seed and record and record.get("PhysicalResourceId") == physical_id:
                    record.setdefault("_name_seed", seed)
                del _created_seeds[key]

    return deploy


# --- Engine patch: nested stacks resolve dynamic references -------------------------------


def _resolved(props, *, lenient=False):
    """``props`` with its ``{{resolve:...}}`` dynamic references replaced by their values.
    ``lenient`` leaves them as they are when one no longer resolves."""
    try:
        return cfn_engine._resolve_dynamic_references(props)[0]
    except ValueError:
        if lenient:
            return props
        raise


def resolve_nested_dynamic_references(provision_resource, update_resource):
    """Wrap ministack's ``_provision_resource`` and ``_update_resource`` as the provisioners
    module calls them so resource properties get their ``{{resolve:ssm:...}}``,
    ``{{resolve:ssm-secure:...}}`` and ``{{resolve:secretsmanager:...}}`` values.

    ministack 1.5.33 resolves dynamic references in a top-level stack only
    (``stacks._deploy_stack_async``); a nested stack's deploy (``_cfn_nested_stack_deploy``,
    the one caller that looks the functions up in the provisioners module) passed the
    literal text: a listener rule matching an ``X-Origin-Verify`` header against a secret
    compared it with ``{{resolve:secretsmanager:arn:...}}``. A top-level stack's calls
    arrive resolved, and resolving again changes nothing.

    On update both the old and the new properties are resolved, so a resource whose
    definition did not change is left alone. The old ones are resolved leniently: the
    secret they named may be gone by then (a replaced secret).
    """

    @functools.wraps(provision_resource)
    def provision(resource_type, logical_id, props, stack_name):
        created = provision_resource(resource_type, logical_id, _resolved(props), stack_name)
        _note_name_seed(stack_name, logical_id, created[0])
        return created

    @functools.wraps(update_resource)
    def update(resource_type, physical_id, old_props, new_props, stack_name, *args, **kwargs):
        return update_resource(
            resource_type,
            physical_id,
            _resolved(old_props, lenient=True),
            _resolved(new_props),
            stack_name,
            *args,
            **kwargs,
        )

    return provision, update


# --- Engine patch: nested-stack updates keep unchanged resources' attributes ------


def keep_recorded_attributes(update_resource):
    """Wrap ministack's ``_update_resource`` so a missing ``old_attrs`` comes from the stack record.

    ``_update_resource`` answers an unchanged resource (old and new properties
    equal) with ``old_attrs or {}``. A top-level stack update passes the
    recorded attributes, but ministack 1.5.33's nested-stack update
    (``_cfn_nested_stack_deploy``, the only caller that looks the function up
    in the provisioners module) passes none: every resource it leaves alone is
    recorded with no attributes, and a later ``Fn::GetAtt`` on it fails the
    update with "Requested attribute ... does not exist in schema" -- for any
    type (an EIP's AllocationId, a Subnet's AvailabilityZone). A child stack
    update that turns on a conditioned NAT gateway beside an existing one
    failed so, and so did its rollback.

    At the call the child stack's record still holds the resource's previous
    entry (the new one is written after), so its attributes are read there.
    stacks.py imported the original function by name and keeps calling it.
    """

    @functools.wraps(update_resource)
    def update(
        resource_type,
        physical_id,
        old_props,
        new_props,
        stack_name,
        logical_id=None,
        old_attrs=None,
    ):
        if old_attrs is None and logical_id is not None:
            stack = cfn_service._stacks.get(stack_name) or {}
            record = stack.get("_resources", {}).get(logical_id) or {}
            if record.get("PhysicalResourceId") == physical_id:
                old_attrs = record.get("Attributes")
        return update_resource(
            resource_type, physical_id, old_props, new_props, stack_name, logical_id, old_attrs
        )

    return update


# --- Engine patch: virtual-hosted S3 URLs of templates -------------------------------

# https://<bucket>.s3.amazonaws.com/<key> and https://<bucket>.s3.<region>.amazonaws.com/<key>
_VIRTUAL_HOSTED = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$"
)


def read_virtual_hosted_urls(resolve_document):
    """Wrap ministack's ``_resolve_document`` so a TemplateURL (or StackPolicyURL) in S3's
    virtual-hosted style names its bucket by the host, as on AWS.

    ministack 1.5.33 takes the URL path's first segment as the bucket in every style, so
    ``https://bucket.s3.us-east-1.amazonaws.com/project/templates/root.yaml`` is looked up as
    key ``templates/root.yaml`` in bucket ``project``. taskcat passes its project's templates
    in exactly that style; the URL is rewritten to the path style ministack reads.
    """

    @functools.wraps(resolve_document)
    def resolve(params, body_key, url_key, label):
        url = params.get(url_key)
        url = url[0] if isinstance(url, list) and url else url
        parsed = urllib.parse.urlparse(url) if isinstance(url, str) else None
        match = _VIRTUAL_HOSTED.match(parsed.hostname or "") if parsed else None
        if match:
            path_style = f"https://s3.amazonaws.com/{match['bucket']}{parsed.path}"
            params = {**params, url_key: [path_style]}
        return resolve_document(params, body_key, url_key, label)

    return resolve


# --- Engine patch: nested-stack deletes apply the child's DeletionPolicy ----------

# The stack states in which a rollback deletes what the operation created.
_ROLLING_BACK = (
    "ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
)


def _rolling_back(stack):
    """Whether the stack's root stack is rolling an operation back.

    A nested stack deleted then was created by that operation (an existing one
    is updated back, not deleted), and so were its resources.
    """
    while stack.get("_parent_stack_name") in cfn_service._stacks:
        stack = cfn_service._stacks[stack["_parent_stack_name"]]
    return stack.get("StackStatus") in _ROLLING_BACK


def _record_delete_failure(child_name, child, logical_id, exc):
    """A ``DELETE_FAILED`` event for the child stack's resource, with the error."""
    resource = child["_resources"][logical_id]
    cfn_stacks._add_event(
        child.get("StackId", ""),
        child_name,
        logical_id,
        resource.get("ResourceType", ""),
        "DELETE_FAILED",
        str(exc),
        resource.get("PhysicalResourceId", ""),
    )


def _fail_child(child, failed):
    """Mark the child stack ``DELETE_FAILED`` for the ``failed`` resources, and raise: the
    parent records the nested stack ``DELETE_FAILED`` too."""
    reason = f"The following resource(s) failed to delete: [{', '.join(sorted(failed))}]."
    child.update(StackStatus="DELETE_FAILED", StackStatusReason=reason)
    raise ValueError(reason)


def _delete_child_resources(child_name, child):
    """Delete a child stack's resources in reverse dependency order, as ministack's nested
    delete does, but keep each one whose delete fails, with a ``DELETE_FAILED`` event.

    Returns the logical ids of those.
    """
    resources = child.get("_resources") or {}
    try:
        order = cfn_engine._topological_sort(
            (child.get("_template") or {}).get("Resources", {}), child.get("_conditions", {})
        )
    except ValueError:
        order = list(resources)
    # Resources the template no longer declares have no dependents: they go first.
    order += [logical_id for logical_id in resources if logical_id not in order]
    failed = []
    for logical_id in reversed(order):
        resource = resources.get(logical_id)
        if not resource:
            continue
        try:
            cfn._delete_resource(
                resource.get("ResourceType", ""),
                resource.get("PhysicalResourceId", ""),
                resource.get("Properties", {}),
                child_name,
                logical_id,
            )
        except Exception as exc:
            _record_delete_failure(child_name, child, logical_id, exc)
            failed.append(logical_id)
        else:
            del resources[logical_id]
    return failed


def honour_deletion_policy(delete_nested_stack):
    """Wrap ministack's nested-stack delete so it applies the child resources' DeletionPolicy.

    ministack 1.5.33's ``_cfn_nested_stack_delete`` deletes every resource of the
    child stack without reading its ``DeletionPolicy``: deleting the parent
    scheduled a ``Retain`` KMS key for deletion and dropped a ``Retain`` log
    group with its events -- literal policies as well as an ``Fn::If`` under
    ``AWS::LanguageExtensions`` -- and took no snapshot for ``Snapshot``. The
    top-level delete (``stacks._delete_stack_async``) and the nested-stack
    update's removal of a resource read the policy; only this path did not.

    Before the original runs, each child resource's policy is resolved as the
    top-level delete resolves it (``stacks._resource_policy``, with the child
    stack's template, resolved parameters, conditions and mappings). A
    retaining one (``Retain``, ``RetainExceptOnCreate``) leaves the child's
    record with a ``DELETE_SKIPPED`` event, so the original never sees it; a
    ``Snapshot`` one is snapshotted and then deleted by the original. A failed
    snapshot raises before anything is deleted: the parent records the nested
    stack ``DELETE_FAILED`` and a retried delete starts over, rather than the
    data going without its snapshot. During a rollback of the root stack the
    child was created by the operation, so, as the top-level rollback does,
    only ``Retain`` keeps a resource and nothing is snapshotted.

    ministack's nested delete also logs and forgets a resource whose delete
    fails (an RDS instance with DeletionProtection on) and reports the child
    stack ``DELETE_COMPLETE``. So the wrapper deletes the child's resources
    itself, in the same order (``_delete_child_resources``), and the original
    only finishes a child that has none left. As on AWS, a failed one stays in
    the child with a ``DELETE_FAILED`` event, the child and then the parent end
    ``DELETE_FAILED``, and a retried delete takes it up again.
    """

    @functools.wraps(delete_nested_stack)
    def delete(physical_id, props):
        child_name = cfn._nested_stack_lookup_name(physical_id)
        child = cfn_service._stacks.get(child_name)
        if child:
            resources = child.get("_resources") or {}
            template = child.get("_template") or {}
            rolling_back = _rolling_back(child)
            policies = {
                logical_id: cfn_stacks._resource_policy(
                    template.get("Resources", {}).get(logical_id),
                    "DeletionPolicy",
                    resources,
                    child.get("_resolved_params", {}),
                    child.get("_conditions", {}),
                    template.get("Mappings", {}),
                    child_name,
                    child.get("StackId", ""),
                )
                for logical_id in resources
            }
            for logical_id, policy in policies.items():
                resource = resources[logical_id]
                rtype = resource.get("ResourceType", "")
                pid = resource.get("PhysicalResourceId", "")
                if policy == "Retain" or (policy in cfn._RETAINING_POLICIES and not rolling_back):
                    cfn_stacks._add_event(
                        child.get("StackId", ""),
                        child_name,
                        logical_id,
                        rtype,
                        "DELETE_SKIPPED",
                        physical_id=pid,
                    )
                    del resources[logical_id]
                elif policy == "Snapshot" and not rolling_back:
                    try:
                        cfn._snapshot_resource(rtype, pid, resource.get("Properties", {}))
                    except Exception as exc:
                        _record_delete_failure(child_name, child, logical_id, exc)
                        _fail_child(child, [logical_id])
            failed = _delete_child_resources(child_name, child)
            if failed:
                _fail_child(child, failed)
        return delete_nested_stack(physical_id, props)

    return delete
