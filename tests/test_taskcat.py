"""taskcat.yml and templates/taskcat-root.yaml as `synth` generates them (playback_infra.taskcat).

taskcat itself runs over them in tests/integration/test_taskcat_cli.py.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from playback_infra import synth, taskcat
from playback_infra.environments.catalog import environments
from playback_infra.environments.model import Kind
from playback_infra.environments.parameters import DEPLOY_TIME
from playback_infra.paths import REPO_ROOT
from playback_infra.stacks import edge_global, root
from tests.stacks.helpers import getatt, ref

# What a test takes from elsewhere than the environment's parameter files.
NOT_FROM_THE_PARAMETER_FILES = {
    "ApiDomain",
    "AvailabilityZones",
    "EnvironmentName",
    "SiteDomain",
    "CloudFrontPrefixListId",
    "RetainStatefulResources",
    "TemplateBucketName",
    "TemplateKeyPrefix",
}


@pytest.fixture(scope="module")
def roots() -> tuple[dict, dict]:
    """(the environment root, the taskcat root), as dicts."""
    children = synth.children()
    return (
        root.build(children).to_dict(),
        taskcat.root_template(children, edge_global.build()).to_dict(),
    )


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((REPO_ROOT / taskcat.CONFIG).read_text())


def _parameter_file(*path: str) -> dict[str, str]:
    return json.loads(REPO_ROOT.joinpath("parameters", *path).read_text())


def test_the_taskcat_root_wires_every_child_as_the_root_does_but_the_edge_outputs(roots):
    env_root, taskcat_root = roots
    for title in synth.NESTED:
        wired = env_root["Resources"][title]["Properties"]["Parameters"]
        for name in set(DEPLOY_TIME) & wired.keys():
            assert wired[name] == ref(name)
            wired = {**wired, name: getatt(taskcat.EDGE_STACK, f"Outputs.{name}")}
        assert taskcat_root["Resources"][title]["Properties"]["Parameters"] == wired, title
    # The web stack is the one consuming them.
    web = taskcat_root["Resources"]["WebStack"]["Properties"]["Parameters"]
    assert web["SiteCertificateArn"] == getatt("EdgeGlobalStack", "Outputs.SiteCertificateArn")


def test_the_taskcat_root_takes_the_edge_stacks_inputs_instead_of_its_outputs(roots):
    env_root, taskcat_root = roots
    edge_inputs = set(edge_global.build().parameters)
    assert set(taskcat_root["Parameters"]) == (
        set(env_root["Parameters"]) - set(DEPLOY_TIME)
        | edge_inputs
        | {"TemplateBucketName", "TemplateKeyPrefix"}
    )
    edge = taskcat_root["Resources"]["EdgeGlobalStack"]["Properties"]["Parameters"]
    assert edge == {name: ref(name) for name in edge_inputs}


def test_children_come_from_where_taskcat_uploads_them_and_nothing_is_packaged(roots):
    _, taskcat_root = roots
    stacks = {t: r for t, r in taskcat_root["Resources"].items() if t.endswith("Stack")}
    assert set(stacks) == {*synth.NESTED, "EdgeGlobalStack"}
    for title, resource in stacks.items():
        name = synth.NESTED[title][0] if title in synth.NESTED else "edge-global"
        assert resource["Properties"]["TemplateURL"] == {
            "Fn::Sub": "https://${TemplateBucketName}.s3.${AWS::Region}.${AWS::URLSuffix}/"
            f"${{TemplateKeyPrefix}}templates/{name}.yaml"
        }
        # The root's W3002 suppression says "packaged": not true here.
        assert "Metadata" not in resource


def test_one_dev_like_and_one_prod_like_test_in_us_east_1(config):
    kinds = {env.name: env.kind for env in environments()}
    assert [kinds[name] for name in config["tests"]] == [Kind.DEVELOPMENT, Kind.PRODUCTION]
    for test in config["tests"].values():
        assert test["template"] == "templates/taskcat-root.yaml"
        assert test["regions"] == ["us-east-1"]
    assert config["project"] == {
        "name": "baseball-playback",
        "package_lambda": False,
        "s3_regional_buckets": True,
    }


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_a_test_has_its_parameter_files_values_but_its_names_and_account_specific_ones(
    config, name
):
    test = config["tests"][name]
    from_files = {**_parameter_file(f"{name}.json")["Parameters"]}
    from_files.update(_parameter_file("edge-global", f"{name}.json")["Parameters"])
    differing = {k for k, v in test["parameters"].items() if from_files.get(k) != v}
    assert differing <= NOT_FROM_THE_PARAMETER_FILES
    assert set(test["parameters"]) - set(from_files) == {"TemplateBucketName", "TemplateKeyPrefix"}
    parameters = test["parameters"]
    # Beside the environment, even in its account: names and domains of its own.
    assert parameters["EnvironmentName"] == f"tc-{name}"
    assert test["tags"] == {
        **_parameter_file(f"{name}.json")["Tags"],
        "Environment": f"tc-{name}",
    }
    for domain in ("SiteDomain", "ApiDomain"):
        assert parameters[domain] == f"taskcat.{from_files[domain]}"
    assert parameters["AvailabilityZones"] == f"$[taskcat_getaz_{parameters['AzCount']}]"
    assert parameters["TemplateBucketName"] == "$[taskcat_autobucket]"
    assert parameters["TemplateKeyPrefix"] == "$[taskcat_project_name]/"
    assert parameters["CloudFrontPrefixListId"] == "pl-3b927c52"  # us-east-1's
    assert parameters["RetainStatefulResources"] == "false"  # the test's stacks are deleted


def test_an_environment_outside_us_east_1_is_still_tested_there(config):
    envs = [
        dataclasses.replace(env, region="eu-west-1") if env.kind is Kind.DEVELOPMENT else env
        for env in environments()
    ]
    children = synth.children()
    harness = taskcat.root_template(children, edge_global.build())
    moved = taskcat.config(
        envs,
        {n: _parameter_file(f"{n}.json") for n in config["tests"]},
        {n: _parameter_file("edge-global", f"{n}.json") for n in config["tests"]},
        set(harness.parameters),
    )
    assert moved == config


def test_a_long_environment_name_is_cut_to_what_environment_name_allows():
    dev = next(env for env in environments() if env.name == "dev")
    assert taskcat.environment_name(dataclasses.replace(dev, name="development-east")) == (
        "tc-development-"
    )


def test_parameter_files_that_disagree_on_a_shared_value_are_refused():
    dev = next(env for env in environments() if env.name == "dev")
    edge = _parameter_file("edge-global", "dev.json")
    edge["Parameters"]["SiteDomain"] = "elsewhere.example.com"
    with pytest.raises(ValueError, match=r"disagree on \['SiteDomain'\]"):
        taskcat.parameters_of(dev, _parameter_file("dev.json"), edge)
