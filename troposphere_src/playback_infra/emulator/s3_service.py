"""S3 buckets for ministack's CloudFormation engine: a bucket gets its encryption,
lifecycle, ownership and tags (``configure_bucket_settings``).
"""

import functools
from xml.etree import ElementTree

from ministack.services import s3
from ministack.services.cloudformation import provisioners as cfn
from served import xml_answer, xml_members

# --- AWS::S3::Bucket: what ministack's provisioner drops ----------------------------------


def _s3_body(root_tag, members):
    """An S3 request body: ``root_tag`` in S3's namespace holding ``members``."""
    root = ElementTree.Element(root_tag, xmlns=s3.S3_NS)
    xml_members(root, members)
    return ElementTree.tostring(root)


def _encryption_body(config):
    """BucketEncryption as the PutBucketEncryption body."""
    rules = [
        {
            "ApplyServerSideEncryptionByDefault": rule.get("ServerSideEncryptionByDefault"),
            "BucketKeyEnabled": cfn._cfn_bool(rule.get("BucketKeyEnabled", False)),
        }
        for rule in config.get("ServerSideEncryptionConfiguration") or []
    ]
    return _s3_body("ServerSideEncryptionConfiguration", {"Rule": rules})


def _ownership_body(config):
    """OwnershipControls as the PutBucketOwnershipControls body."""
    rules = [{"ObjectOwnership": rule["ObjectOwnership"]} for rule in config.get("Rules") or []]
    return _s3_body("OwnershipControls", {"Rule": rules})


def _tagging_body(tags):
    """Tags as the PutBucketTagging body."""
    tag_set = [{"Key": tag["Key"], "Value": tag.get("Value", "")} for tag in tags or []]
    return _s3_body("Tagging", {"TagSet": {"Tag": tag_set}})


def _lifecycle_filter(rule):
    """A template rule's Prefix, TagFilters and object sizes as the API's Filter."""
    conditions = {
        "Prefix": rule.get("Prefix"),
        "Tag": [{"Key": t["Key"], "Value": t["Value"]} for t in rule.get("TagFilters") or []],
        "ObjectSizeGreaterThan": rule.get("ObjectSizeGreaterThan"),
        "ObjectSizeLessThan": rule.get("ObjectSizeLessThan"),
    }
    count = sum(
        len(value) if isinstance(value, list) else value is not None
        for value in conditions.values()
    )
    if count > 1:
        return {"And": conditions}
    return {key: value for key, value in conditions.items() if value not in (None, [])} or {
        "Prefix": ""
    }


def _lifecycle_rule(rule):
    """One template lifecycle rule in the API's Rule shape."""
    transitions = list(rule.get("Transitions") or []) + (
        [rule["Transition"]] if rule.get("Transition") else []
    )
    noncurrent_transitions = list(rule.get("NoncurrentVersionTransitions") or []) + (
        [rule["NoncurrentVersionTransition"]] if rule.get("NoncurrentVersionTransition") else []
    )
    noncurrent = rule.get("NoncurrentVersionExpiration") or (
        {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
        if "NoncurrentVersionExpirationInDays" in rule
        else None
    )
    expiration = {
        "Days": rule.get("ExpirationInDays"),
        "Date": rule.get("ExpirationDate"),
        "ExpiredObjectDeleteMarker": cfn._cfn_bool(rule["ExpiredObjectDeleteMarker"])
        if "ExpiredObjectDeleteMarker" in rule
        else None,
    }
    return {
        "ID": rule.get("Id"),
        "Filter": _lifecycle_filter(rule),
        "Status": rule["Status"],
        "Expiration": expiration if any(v is not None for v in expiration.values()) else None,
        "Transition": [
            {
                "Days": t.get("TransitionInDays"),
                "Date": t.get("TransitionDate"),
                "StorageClass": t["StorageClass"],
            }
            for t in transitions
        ],
        "NoncurrentVersionTransition": [
            {
                "NoncurrentDays": t.get("TransitionInDays"),
                "NewerNoncurrentVersions": t.get("NewerNoncurrentVersions"),
                "StorageClass": t["StorageClass"],
            }
            for t in noncurrent_transitions
        ],
        "NoncurrentVersionExpiration": noncurrent,
        "AbortIncompleteMultipartUpload": rule.get("AbortIncompleteMultipartUpload"),
    }


def _lifecycle_body(config):
    """LifecycleConfiguration as the PutBucketLifecycleConfiguration body."""
    rules = [_lifecycle_rule(rule) for rule in config.get("Rules") or []]
    return _s3_body("LifecycleConfiguration", {"Rule": rules})


# Each bucket property: its request body, and the S3 calls that set and remove it.
_BUCKET_SETTINGS = (
    ("BucketEncryption", _encryption_body, s3._put_bucket_encryption, s3._delete_bucket_encryption),
    (
        "LifecycleConfiguration",
        _lifecycle_body,
        s3._put_bucket_lifecycle,
        s3._delete_bucket_lifecycle,
    ),
    (
        "OwnershipControls",
        _ownership_body,
        s3._put_bucket_ownership_controls,
        s3._delete_bucket_ownership_controls,
    ),
    ("Tags", _tagging_body, s3._put_bucket_tagging, s3._delete_bucket_tagging),
)


def _configure_bucket(name, props, old_props):
    """Set the bucket properties the template declares through the S3 API; one it dropped
    is removed."""
    for key, body, put, remove in _BUCKET_SETTINGS:
        if props.get(key):
            xml_answer(put(name, body(props[key])), f"AWS::S3::Bucket {key}")
        elif old_props.get(key):
            xml_answer(remove(name), f"AWS::S3::Bucket {key}")


def configure_bucket_settings(handlers):
    """Wrap ministack's AWS::S3::Bucket create and update so BucketEncryption,
    LifecycleConfiguration, OwnershipControls and Tags reach the bucket (PutBucketEncryption,
    PutBucketLifecycleConfiguration, PutBucketOwnershipControls, PutBucketTagging).

    ministack 1.5.33's provisioner drops all four: a bucket read back the S3 defaults
    (SSE-S3, BucketOwnerEnforced) whatever its template said, no lifecycle rules and no
    tags. With the type in the stack-tag table the bucket gets the stack's and the
    aws:cloudformation:* tags too, as on AWS.
    """
    create, update = handlers["create"], handlers["update"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        name, attributes = create(logical_id, props, stack_name)
        _configure_bucket(name, props, {})
        return name, attributes

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name):
        name, attributes = update(physical_id, old_props, new_props, stack_name)
        _configure_bucket(name, new_props, old_props if name == physical_id else {})
        return name, attributes

    return {**handlers, "create": created, "update": updated}
