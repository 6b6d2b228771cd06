"""References that must outlive their deploy: no lifecycle rule expires an object a deployed
stack still names.

An S3 lifecycle rule deletes every current object its filter covers once it is older than
`ExpirationInDays` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configuration-examples.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html); CloudFormation
reads a stack's nested TemplateURLs again on every update of the stack
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-nested-stacks.html),
and a function's or canary's code from its S3 key whenever it is replaced. Two kinds of names:
- the packaged nested templates in the artifact store (parts/delivery.py): `plan` and `deploy`
  upload them under PACKAGED_TEMPLATES_PREFIX and the deployed root names them;
- an object a resource names by `S3Bucket` and `S3Key` in a bucket of the same template
  (Lambda and Synthetics code).
A rule with a tag filter deletes only objects with those tags, which nothing here sets.
"""

from __future__ import annotations

from collections.abc import Iterator

from playback_infra.checks.contracts.rule import Rule, Subject, text
from playback_infra.parts.delivery import ARTIFACT_BUCKET_PREFIX, PACKAGED_TEMPLATES_PREFIX

DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html"


def _expiring(bucket: dict) -> Iterator[tuple[str, str]]:
    """(rule ID, key prefix) of each enabled rule that expires current objects."""
    configuration = bucket["Properties"].get("LifecycleConfiguration", {})
    for rule in configuration.get("Rules", []):
        filtered = rule.get("TagFilters") or rule.get("Filter", {}).get("Tag")
        expires = "ExpirationInDays" in rule or "ExpirationDate" in rule
        if rule.get("Status") == "Enabled" and expires and not filtered:
            prefix = rule.get("Prefix", rule.get("Filter", {}).get("Prefix", ""))
            yield rule.get("Id", "(no Id)"), prefix


def _covers(prefix: str, key: str) -> bool:
    """A rule of `prefix` expires some object under `key` (a key or a key prefix)."""
    return key.startswith(prefix) or prefix.startswith(key)


def _named(template: dict) -> Iterator[tuple[str, str, str]]:
    """(bucket logical ID, key, what names it) of every object a resource names by S3Bucket and
    S3Key in a bucket of the same template."""

    def walk(node, owner: str):
        if isinstance(node, dict):
            bucket = node.get("S3Bucket")
            if isinstance(bucket, dict) and "Ref" in bucket and "S3Key" in node:
                yield bucket["Ref"], text(node["S3Key"]), owner
            for value in node.values():
                yield from walk(value, owner)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value, owner)

    for logical_id, resource in template["Resources"].items():
        yield from walk(resource.get("Properties", {}), logical_id)


def find(subject: Subject) -> Iterator[str]:
    for name, template in sorted(subject.templates.items()):
        buckets = {
            logical_id: resource
            for logical_id, resource in template["Resources"].items()
            if resource["Type"] == "AWS::S3::Bucket"
        }
        named = [
            (logical_id, PACKAGED_TEMPLATES_PREFIX, "the packaged nested templates a deployed root names")
            for logical_id, bucket in buckets.items()
            if text(bucket["Properties"].get("BucketName")).startswith(ARTIFACT_BUCKET_PREFIX)
        ]  # fmt: skip
        named += [
            (bucket, key, f"{owner}'s code")
            for bucket, key, owner in _named(template)
            if bucket in buckets
        ]
        for bucket, key, what in named:
            for rule_id, prefix in _expiring(buckets[bucket]):
                if _covers(prefix, key):
                    yield (
                        f"{name}: {bucket}'s lifecycle rule {rule_id} expires {key}* "
                        f"({what}), and CloudFormation reads it again on the next update; "
                        f"narrow the rule's Prefix so that nothing under {key} expires"
                    )


RULE = Rule("references", DOC, find)
