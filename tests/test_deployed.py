"""The Deployer: `as_deployed` by template name, reusing a result for the same conditions."""

from __future__ import annotations

from playback_infra import synth
from playback_infra.cost.switches import SWITCHES
from playback_infra.deployed import Deployer, as_deployed
from playback_infra.deployed_environment import nested_templates


def test_the_deployer_deploys_as_as_deployed_does(parameter_files):
    templates = synth.render().dicts
    deployer = Deployer(templates)
    for env, content in parameter_files.items():
        for _, values in ((None, {}), *SWITCHES):
            parameters = {**content["Parameters"], **values}
            for name in nested_templates(templates["root"]).values():
                assert deployer(name, parameters) == as_deployed(templates[name], parameters), (
                    env,
                    name,
                    values,
                )


def test_the_same_conditions_reuse_one_result():
    template = {
        "Parameters": {"A": {"Type": "String"}, "B": {"Type": "String"}},
        "Conditions": {"IsA": {"Fn::Equals": [{"Ref": "A"}, "yes"]}},
        "Resources": {
            "Kept": {"Type": "X", "Properties": {"P": {"Ref": "B"}}},
            "Switched": {"Type": "X", "Properties": {"P": {"Fn::If": ["IsA", 1, 2]}}},
        },
    }
    deployer = Deployer({"t": template})
    first = deployer("t", {"A": "yes", "B": "1"})
    assert deployer("t", {"A": "yes", "B": "2"}) is first  # B decides no condition
    other = deployer("t", {"A": "no", "B": "1"})
    assert other.resources["Switched"]["Properties"]["P"] == 2
    assert first.resources["Switched"]["Properties"]["P"] == 1
    assert other.resources["Kept"] is template["Resources"]["Kept"]  # no Fn::If: not copied
