"""Properties every template must have, checked across all of them at once: cost-allocation
tags on every taggable resource, and no log group kept forever or unencrypted."""

from __future__ import annotations

import json

import pytest

from playback_infra import synth, taskcat
from playback_infra.environments.catalog import environments
from playback_infra.environments.parameters import stack_tags
from tests.stacks.helpers import resources_of_type

COST_TAGS = {"Project", "Environment", "CostCenter", "Owner"}


@pytest.fixture(scope="module")
def rendered() -> synth.Rendered:
    return synth.render()


def test_every_taggable_resource_of_every_template_carries_its_component(rendered):
    """Project, Environment, CostCenter and Owner come from the stack's tags, which
    CloudFormation propagates to every resource that takes tags; Component is set per stack."""
    checked = 0
    for name, template in rendered.templates.items():
        if name in ("root", taskcat.TEMPLATE_NAME):  # nested stacks only, tagged by the stack
            continue
        for title, resource in template.resources.items():
            if "Tags" not in resource.props:
                continue
            tags = resource.to_dict()["Properties"]["Tags"]
            keys = list(tags) if isinstance(tags, dict) else [t["Key"] for t in tags]
            assert "Component" in keys, f"{name}: {title}"
            checked += 1
    assert checked > 120


@pytest.mark.parametrize("env", [e.name for e in environments()])
def test_every_stack_is_deployed_with_the_cost_allocation_tags(rendered, env):
    """The root's parameter file and the edge-global one carry the same stack tags: `deploy`,
    awscli and CodePipeline pass them to the stack, CloudFormation to its resources."""
    root = json.loads(rendered.files[f"parameters/{env}.json"])["Tags"]
    edge = json.loads(rendered.files[f"parameters/edge-global/{env}.json"])["Tags"]
    (model,) = [e for e in environments() if e.name == env]
    assert root == edge == stack_tags(model)
    assert set(root) == COST_TAGS and root["Environment"] == env


def test_no_log_group_is_kept_forever_or_left_unencrypted(rendered):
    groups = {
        f"{name}: {title}": group["Properties"]
        for name, template in rendered.templates.items()
        for title, group in resources_of_type(template.to_dict(), "AWS::Logs::LogGroup").items()
    }
    assert len(groups) >= 7  # flow logs, 2 database, 2 WAF, app, import
    for where, properties in groups.items():
        assert "RetentionInDays" in properties, where
        assert "KmsKeyId" in properties, where
