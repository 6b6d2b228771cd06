"""The root stack (stacks/root.py) as `synth.render()` builds it, and the parameter files."""

from __future__ import annotations

import pytest
from troposphere import Output, Parameter, Template

from playback_infra import synth
from playback_infra.environments.parameters import DEPLOY_TIME
from playback_infra.paths import REPO_ROOT
from playback_infra.stacks import root
from tests.stacks.helpers import constraint_problems, is_list_type, ref, resources_of_type

CHILDREN = {
    "NetworkStack": "network.yaml",
    "SecurityStack": "security.yaml",
    "AlertsStack": "alerts.yaml",
    "IngressStack": "ingress.yaml",
    "WebStack": "web.yaml",
    "DataStack": "data.yaml",
    "RotationStack": "rotation.yaml",
    "GameDataStack": "game-data.yaml",
    "AppStack": "app.yaml",
    "ObservabilityStack": "observability.yaml",
}
STACK_TAGS = {"Project", "Environment", "CostCenter", "Owner"}


@pytest.fixture(scope="module")
def rendered() -> synth.Rendered:
    return synth.render()


@pytest.fixture(scope="module")
def r(rendered) -> dict:
    return rendered.templates["root"].to_dict()


# --- helpers ---------------------------------------------------------------------------------


def child_of(rendered, stack: dict) -> dict:
    """The nested stack's own template, found by its TemplateURL."""
    return rendered.templates[stack["Properties"]["TemplateURL"].removesuffix(".yaml")].to_dict()


def refs(node) -> set[str]:
    if isinstance(node, list):
        return set().union(set(), *map(refs, node))
    if isinstance(node, dict):
        return ({node["Ref"]} if "Ref" in node else set()).union(set(), *map(refs, node.values()))
    return set()


def tiny(outputs=(), parameters=()) -> Template:
    t = Template()
    for name in parameters:
        t.add_parameter(Parameter(name, Type="String"))
    for name in outputs:
        t.add_output(Output(name, Value="x"))
    return t


# --- nested stacks and wiring ----------------------------------------------------------------


def test_nested_stacks_point_at_the_generated_local_templates(r):
    stacks = resources_of_type(r, "AWS::CloudFormation::Stack")
    assert {n: s["Properties"]["TemplateURL"] for n, s in stacks.items()} == CHILDREN
    for file_name in CHILDREN.values():
        assert (REPO_ROOT / "templates" / file_name).is_file()


def test_committed_templates_and_parameter_files_match_the_code(rendered):
    stale = synth.differences(rendered.files, REPO_ROOT)
    assert [path for path in stale if path.startswith(("templates/", "parameters/"))] == []


def test_every_child_parameter_is_fed_by_a_sibling_output_or_a_root_parameter(rendered, r):
    stacks = resources_of_type(r, "AWS::CloudFormation::Stack")
    children = {name: child_of(rendered, stack) for name, stack in stacks.items()}
    sibling_wires = set()
    for name, stack in stacks.items():
        given = stack["Properties"]["Parameters"]
        child_parameters = children[name]["Parameters"]
        assert set(given) == set(child_parameters), name
        for parameter, value in given.items():
            if "Fn::GetAtt" in value:
                producer, attribute = value["Fn::GetAtt"]
                assert attribute == f"Outputs.{parameter}"
                assert producer != name and parameter in children[producer]["Outputs"]
                sibling_wires.add((name, parameter, producer))
                continue
            root_parameter = r["Parameters"][parameter]
            assert root_parameter["Type"] == child_parameters[parameter]["Type"], parameter
            if is_list_type(root_parameter["Type"]):
                assert value == {"Fn::Join": [",", ref(parameter)]}, parameter
            else:
                assert value == ref(parameter), parameter
    assert sibling_wires == {
        ("SecurityStack", "VpcId", "NetworkStack"),
        ("SecurityStack", "DefaultSecurityGroupId", "NetworkStack"),
        ("AlertsStack", "LogsKeyArn", "SecurityStack"),
        ("DataStack", "PrivateDataSubnetIds", "NetworkStack"),
        ("DataStack", "PrivateAppSubnetIds", "NetworkStack"),
        ("DataStack", "DatabaseSecurityGroupId", "SecurityStack"),
        ("DataStack", "DatabaseProxySecurityGroupId", "SecurityStack"),
        ("DataStack", "DataKeyArn", "SecurityStack"),
        ("DataStack", "LogsKeyArn", "SecurityStack"),
        ("DataStack", "AlarmTopicArn", "AlertsStack"),
        ("RotationStack", "DatabaseAppSecretArn", "DataStack"),
        ("RotationStack", "DatabaseMigrationSecretArn", "DataStack"),
        ("RotationStack", "DatabaseMasterSecretArn", "DataStack"),
        ("RotationStack", "DataKeyArn", "SecurityStack"),
        ("RotationStack", "LogsKeyArn", "SecurityStack"),
        ("RotationStack", "PrivateAppSubnetIds", "NetworkStack"),
        ("RotationStack", "SecretsRotationSecurityGroupId", "SecurityStack"),
        ("IngressStack", "VpcId", "NetworkStack"),
        ("IngressStack", "PublicSubnetIds", "NetworkStack"),
        ("IngressStack", "AlbSecurityGroupId", "SecurityStack"),
        ("IngressStack", "LogsKeyArn", "SecurityStack"),
        ("IngressStack", "DataKeyArn", "SecurityStack"),
        ("GameDataStack", "DataKeyArn", "SecurityStack"),
        ("GameDataStack", "LogsKeyArn", "SecurityStack"),
        ("GameDataStack", "JobsSecurityGroupId", "SecurityStack"),
        ("GameDataStack", "PrivateAppSubnetIds", "NetworkStack"),
        ("GameDataStack", "DatabaseMigrationSecretArn", "DataStack"),
        ("GameDataStack", "DatabaseMasterSecretArn", "DataStack"),
        ("GameDataStack", "DatabaseAppSecretArn", "DataStack"),
        ("GameDataStack", "DatabaseReportingSecretArn", "DataStack"),
        ("GameDataStack", "DatabaseInstanceHost", "DataStack"),
        ("GameDataStack", "AlarmTopicArn", "AlertsStack"),
        ("WebStack", "OriginVerifySecretArn", "IngressStack"),
        ("DataStack", "CacheSecurityGroupId", "SecurityStack"),
        *{
            ("ObservabilityStack", name, producer)
            for name, producer in (
                ("AlarmTopicArn", "AlertsStack"),
                ("DataKeyArn", "SecurityStack"),  # the site canary's artifacts
                ("ApiLoadBalancerFullName", "IngressStack"),
                ("ApiTargetGroupBlueFullName", "IngressStack"),
                ("ApiTargetGroupGreenFullName", "IngressStack"),
                ("ClusterName", "AppStack"),
                ("ServiceName", "AppStack"),
                ("AppLogGroupName", "AppStack"),
                ("DatabaseInstanceId", "DataStack"),
                ("SiteDistributionId", "WebStack"),
            )
        },
        *{
            ("AppStack", name, producer)
            for name, producer in (
                ("PrivateAppSubnetIds", "NetworkStack"),
                ("AppSecurityGroupId", "SecurityStack"),
                ("LogsKeyArn", "SecurityStack"),
                ("DataKeyArn", "SecurityStack"),
                ("AlarmTopicArn", "AlertsStack"),
                ("DatabaseEndpoint", "DataStack"),
                ("DatabasePort", "DataStack"),
                ("DatabaseAppSecretArn", "DataStack"),
                ("CacheUrl", "DataStack"),
                ("GameDataBucketArn", "GameDataStack"),
                ("ApiTargetGroupBlueArn", "IngressStack"),
                ("ApiTargetGroupGreenArn", "IngressStack"),
                ("ApiTargetGroupBlueFullName", "IngressStack"),
                ("ApiTargetGroupGreenFullName", "IngressStack"),
                ("ApiLoadBalancerFullName", "IngressStack"),
                ("ApiProductionListenerRuleArn", "IngressStack"),
                ("ApiTestListenerRuleArn", "IngressStack"),
            )
        },
    }


def test_every_root_parameter_is_used(r):
    used = set()
    for stack in resources_of_type(r, "AWS::CloudFormation::Stack").values():
        for value in stack["Properties"]["Parameters"].values():
            used |= refs(value)
    assert used == set(r["Parameters"])


def test_root_reexports_every_child_output(rendered, r):
    expected = {}
    for name, stack in resources_of_type(r, "AWS::CloudFormation::Stack").items():
        for output in child_of(rendered, stack).get("Outputs", {}):
            expected[output] = {"Fn::GetAtt": [name, f"Outputs.{output}"]}
    assert {name: o["Value"] for name, o in r["Outputs"].items()} == expected


def test_two_children_producing_the_same_output_is_a_wiring_error():
    children = {
        "A": ("a.yaml", tiny(outputs=["VpcId"])),
        "B": ("b.yaml", tiny(outputs=["VpcId"])),
    }
    with pytest.raises(root.WiringError, match="VpcId is produced by both A and B"):
        root.build(children)


def test_wiring_by_name_on_tiny_templates():
    built = root.build(
        {
            "A": ("a.yaml", tiny(outputs=["VpcId"])),
            "B": ("b.yaml", tiny(parameters=["VpcId", "EnvironmentName", "AvailabilityZones"])),
        }
    ).to_dict()
    assert set(built["Parameters"]) == {"EnvironmentName", "AvailabilityZones"}
    assert built["Resources"]["B"]["Properties"]["Parameters"] == {
        "VpcId": {"Fn::GetAtt": ["A", "Outputs.VpcId"]},
        "EnvironmentName": ref("EnvironmentName"),
        "AvailabilityZones": {"Fn::Join": [",", ref("AvailabilityZones")]},
    }
    assert built["Outputs"]["VpcId"]["Value"] == {"Fn::GetAtt": ["A", "Outputs.VpcId"]}


# --- parameter files -------------------------------------------------------------------------


def test_parameter_files_are_the_rendered_ones(rendered, parameter_files):
    """One root and one edge-global parameter file per environment, and the pipeline's own;
    nothing else."""
    assert {
        path
        for env in parameter_files
        for path in (f"parameters/{env}.json", f"parameters/edge-global/{env}.json")
    } | {"parameters/delivery/pipeline.json"} == {
        path for path in rendered.files if path.startswith("parameters/")
    }


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_parameter_file_has_exactly_the_root_parameters_and_the_stack_tags(r, parameter_files, env):
    content = parameter_files[env]
    assert set(content) == {"Parameters", "Tags"}
    # The edge-global stack's outputs are passed at deploy time, once it exists.
    assert set(content["Parameters"]) == set(r["Parameters"]) - set(DEPLOY_TIME)
    assert set(DEPLOY_TIME) == {"SiteCertificateArn", "SiteWebAclArn"} <= set(r["Parameters"])
    assert set(content["Tags"]) == STACK_TAGS
    assert content["Tags"]["Environment"] == content["Parameters"]["EnvironmentName"] == env
    assert content["Tags"]["Project"] == "baseball-playback"
    assert all(isinstance(v, str) and v for v in content["Tags"].values())


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_parameter_values_meet_the_root_parameter_constraints(r, parameter_files, env):
    given = parameter_files[env]["Parameters"]
    assert all(isinstance(value, str) for value in given.values())
    assert constraint_problems(r["Parameters"], given) == []


@pytest.mark.parametrize(
    ("env", "retain", "az_count", "nat_mode"),
    [
        ("dev", "false", "2", "public-ips"),
        ("staging", "true", "2", "single"),
        ("prod", "true", "3", "per-az"),
    ],
)
def test_environment_choices(parameter_files, env, retain, az_count, nat_mode):
    p = parameter_files[env]["Parameters"]
    assert (p["RetainStatefulResources"], p["AzCount"], p["NatMode"]) == (
        retain,
        az_count,
        nat_mode,
    )
    assert len(p["AvailabilityZones"].split(",")) == int(az_count)
