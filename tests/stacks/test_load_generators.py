"""The load-generators stack (stacks/load_generators.py): Locust on Fargate."""

from __future__ import annotations

import base64

import pytest

from playback_infra.checks import iam as iam_checks
from playback_infra.paths import REPO_ROOT
from playback_infra.stacks import load_generators
from tests.stacks.helpers import props


@pytest.fixture(scope="module")
def t() -> dict:
    return load_generators.build().to_dict()


def _container(t: dict) -> dict:
    (container,) = props(t, "LoadTaskDefinition")["ContainerDefinitions"]
    return container


def _environment(t: dict) -> dict:
    return {e["Name"]: e["Value"] for e in _container(t)["Environment"]}


def test_runs_the_repositorys_locustfile_with_the_pinned_locust(t):
    embedded = base64.b64decode(_environment(t)["LOCUSTFILE_BASE64"])
    assert embedded == (REPO_ROOT / "load" / "locustfile.py").read_bytes()
    pinned = next(
        line.split("==")[1]
        for line in (REPO_ROOT / "requirements-load.txt").read_text().splitlines()
        if line.startswith("locust==")
    )
    assert _container(t)["Image"] == f"locustio/locust:{pinned}"


def test_one_worker_per_vcpu_headless_against_the_target(t):
    (command,) = _container(t)["Command"]
    assert _container(t)["EntryPoint"] == ["sh", "-c"]
    assert "--headless --processes -1" in command and '--host "$TARGET_HOST"' in command
    assert _environment(t)["TARGET_HOST"] == {"Ref": "TargetHost"}
    assert _environment(t)["PEAK_USERS"] == {"Ref": "UsersPerTask"}
    assert _container(t)["ReadonlyRootFilesystem"] is True


def test_every_cpu_size_has_a_memory_fargate_accepts(t):
    sizes = t["Parameters"]["TaskCpu"]["AllowedValues"]
    memory = t["Mappings"]["Memory"]
    for cpu in sizes:
        # Fargate: memory between 2x and 8x the vCPUs (in GiB) for these sizes.
        assert 2 * int(cpu) <= int(memory[cpu]["MiB"]) <= 8 * int(cpu)
    assert props(t, "LoadTaskDefinition")["Memory"] == {
        "Fn::FindInMap": ["Memory", {"Ref": "TaskCpu"}, "MiB"]
    }


def test_nothing_comes_in_and_only_https_goes_out(t):
    group = props(t, "LoadSecurityGroup")
    assert "SecurityGroupIngress" not in group
    assert group["SecurityGroupEgress"] == [
        {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "CidrIp": "0.0.0.0/0",
            "Description": "the site through CloudFront, and the image registry",
        }
    ]


def test_target_must_be_an_https_origin(t):
    pattern = t["Parameters"]["TargetHost"]["AllowedPattern"]
    import re

    assert re.fullmatch(pattern, "https://staging.playback.example.com")
    assert not re.fullmatch(pattern, "http://staging.playback.example.com")
    assert not re.fullmatch(pattern, "https://staging.playback.example.com/api")


def test_roles_are_least_privilege(t):
    assert iam_checks.problems({"load-generators": t}) == []
    assert "TaskRoleArn" not in props(t, "LoadTaskDefinition")  # Locust needs no AWS access
