"""The references rule: no lifecycle rule expires an object a deployed stack still names."""

from __future__ import annotations

import pytest

from playback_infra.checks.contracts import references
from tests.checks.contracts.helpers import committed, violating


def _rules(t: dict, bucket: str) -> list[dict]:
    return t["Resources"][bucket]["Properties"]["LifecycleConfiguration"]["Rules"]


def test_the_committed_templates_keep_the_contract():
    assert references.RULE.problems(committed()) == []


@pytest.mark.parametrize("stack", ["pipeline", "pipeline-artifacts"])
def test_expiring_every_artifact_again_fails(stack):
    """The store's rule as it was: every object after 30 days, the packaged templates too."""

    def expire_everything(t):
        for rule in _rules(t, "ArtifactBucket"):
            rule.pop("Prefix")
            rule["ExpirationInDays"] = 30

    problems = references.RULE.problems(violating(stack, expire_everything))
    assert problems == [
        f"references: {stack}: ArtifactBucket's lifecycle rule {rule_id} expires templates/* "
        "(the packaged nested templates a deployed root names), and CloudFormation reads it again "
        "on the next update; narrow the rule's Prefix so that nothing under templates/ expires "
        f"(AWS: {references.DOC})"
        for rule_id in ("expire-pipeline-artifacts", "keep-packaged-templates")
    ]


def test_a_rule_for_part_of_the_packaged_templates_fails():
    def expire_some(t):
        _rules(t, "ArtifactBucket")[0]["Prefix"] = "templates/old-"

    assert len(references.RULE.problems(violating("pipeline", expire_some))) == 1


def test_a_rule_only_for_tagged_objects_expires_no_template():
    def tagged(t):
        rule = _rules(t, "ArtifactBucket")[0]
        rule.pop("Prefix")
        rule["TagFilters"] = [{"Key": "scratch", "Value": "true"}]

    assert references.RULE.problems(violating("pipeline", tagged)) == []


def test_code_in_an_expiring_bucket_fails():
    """The canary's code moved to S3, in the bucket whose objects expire after 30 days."""

    def code_in_s3(t):
        t["Resources"]["SiteCanary"]["Properties"]["Code"] = {
            "Handler": "index.handler",
            "S3Bucket": {"Ref": "CanaryArtifactsBucket"},
            "S3Key": "code/canary.zip",
        }

    [problem] = references.RULE.problems(violating("observability", code_in_s3))
    assert (
        "CanaryArtifactsBucket's lifecycle rule expire-canary-artifacts expires code/canary.zip*"
        in problem
    )
    assert "(SiteCanary's code)" in problem
