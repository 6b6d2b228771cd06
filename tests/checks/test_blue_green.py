"""checks/blue_green.py: the listener rules an ECS blue/green service manages, and the replacement
guard's refusal of any change to them where the environment deploys blue/green."""

from __future__ import annotations

import copy
import dataclasses
import json

from playback_infra.checks import blue_green, groups, replacement
from tests.checks.helpers import rendered, rendering


def _now() -> tuple[groups.Rendering, dict[str, str]]:
    return rendering(), blue_green.strategies(rendered().files)


def _managed(rendering: groups.Rendering) -> frozenset:
    return blue_green.managed(rendering.templates, _now()[1])


def _allowlist(tmp_path, **entry):
    path = tmp_path / "allow.json"
    path.write_text(
        json.dumps([{"reason": "production is on blue", "expires": "2099-01-01", **entry}])
    )
    return replacement.load_allowlist(path)[0]


def test_the_rules_the_blue_green_service_names_are_found():
    now, strategies = _now()
    assert blue_green.rules(now.templates) == {
        ("ingress", "ApiProductionListenerRule"),
        ("ingress", "ApiTestListenerRule"),
    }
    # prod deploys blue/green; dev's rolling service never has its rules moved.
    assert strategies["prod"] == "BLUE_GREEN" and strategies["dev"] != "BLUE_GREEN"
    assert {env for env, _, _ in _managed(now)} == {
        env for env, strategy in strategies.items() if strategy == "BLUE_GREEN"
    }


def test_changing_a_blue_green_rule_in_the_template_is_refused_until_allowed(tmp_path):
    """CloudFormation would write the template's forward action over the one ECS set."""
    now, _ = _now()
    templates = copy.deepcopy(now.templates)
    templates["ingress"]["Resources"]["ApiProductionListenerRule"]["Properties"]["Priority"] = 11
    changed = dataclasses.replace(now, templates=templates)
    changes = groups.group_changes(now, changed, "prod")
    (message,) = replacement.forbidden(changes, [], managed=_managed(changed))
    assert message.startswith(
        "prod ingress: ApiProductionListenerRule (AWS::ElasticLoadBalancingV2"
    )
    assert "aws elbv2 describe-rules" in message and "replacement-allowlist.json" in message
    allowed = _allowlist(
        tmp_path, stack="ingress", logical_id="ApiProductionListenerRule", action="update"
    )
    assert replacement.forbidden(changes, allowed, managed=_managed(changed)) == []
    # In dev (rolling) the same change is an ordinary update.
    dev = groups.group_changes(now, changed, "dev")
    assert dev and replacement.forbidden(dev, [], managed=_managed(changed)) == []


def test_a_new_rule_and_other_resources_change_freely():
    now, _ = _now()
    templates = copy.deepcopy(now.templates)
    resources = templates["ingress"]["Resources"]
    resources["NewRule"] = copy.deepcopy(resources["ApiTestListenerRule"])
    resources["NewRule"]["Properties"]["Priority"] = 99
    changed = dataclasses.replace(now, templates=templates)
    changes = groups.group_changes(now, changed, "prod")
    assert {c.logical_id for c in changes} == {"NewRule"}
    assert replacement.forbidden(changes, [], managed=_managed(changed)) == []


def test_a_parameter_change_reaching_a_blue_green_rule_through_a_condition_is_refused():
    """An ALB opened to the internet drops the rules' origin-header condition: in prod (blue/
    green) that rewrites the rules."""
    now, _ = _now()
    parameters = {
        **now.parameters,
        "prod": {**now.parameters["prod"], "CloudFrontPrefixListId": ""},
    }
    changed = dataclasses.replace(now, parameters=parameters)
    changes = groups.group_changes(now, changed, "prod")
    rules = {c.logical_id for c in changes if c.resource_type == blue_green.LISTENER_RULE}
    assert rules == {"ApiProductionListenerRule", "ApiTestListenerRule"}
    refused = replacement.forbidden(changes, [], managed=_managed(changed))
    assert (
        sum("ListenerRule (AWS::ElasticLoadBalancingV2::ListenerRule)" in m for m in refused) == 2
    )
