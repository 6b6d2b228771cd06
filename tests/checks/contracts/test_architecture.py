"""The architecture rule: each task's image is built for the CPU its task definition names."""

from __future__ import annotations

import json

from playback_infra.checks.contracts import architecture
from tests.checks.contracts.helpers import committed, violating


def _project(name: str):
    """A change setting `change(environment)` on the pipeline's CodeBuild project `name`."""

    def change_with(change):
        return lambda t: change(t["Resources"][name]["Properties"]["Environment"])

    return change_with


def test_the_committed_templates_keep_the_contract():
    assert architecture.RULE.problems(committed()) == []


def test_every_registry_image_a_task_runs_has_its_build_project():
    assert set(architecture.builders(committed().templates["pipeline"])) == {
        "baseball-playback/backend",
        "baseball-playback/jobs",
    }


def test_a_build_on_another_cpu_fails():
    problems = architecture.RULE.problems(
        violating("pipeline", _project("BackendImageProject")(
            lambda e: e.update(Type="LINUX_CONTAINER", Image="aws/codebuild/standard:7.0")
        ))
    )  # fmt: skip
    assert problems
    assert all("BackendImageProject builds it on LINUX_CONTAINER (X86_64)" in p for p in problems)
    assert {p.split(":")[1].strip() for p in problems} == {"dev", "staging", "prod"}
    assert all(p.endswith(f"(AWS: {architecture.DOC})") for p in problems)


def test_an_aarch64_image_on_an_x86_host_fails():
    problems = architecture.RULE.problems(
        violating("pipeline", _project("JobsImageProject")(
            lambda e: e.update(Image="aws/codebuild/standard:7.0")
        ))
    )  # fmt: skip
    assert problems and all("aarch64 images run on ARM_CONTAINER only" in p for p in problems)


def test_a_docker_build_for_another_platform_fails():
    problems = architecture.RULE.problems(
        violating("pipeline", _project("JobsImageProject")(
            lambda e: e.update(EnvironmentVariables=[{"Name": "IMAGE_PLATFORM", "Value": "linux/amd64"}])
        ))
    )  # fmt: skip
    assert problems and all("targets linux/amd64 (IMAGE_PLATFORM)" in p for p in problems)
    # the import and the migration task definitions, in each environment
    assert len(problems) == 6


def test_a_task_definition_of_another_cpu_than_the_build_fails():
    def x86_import(t):
        t["Resources"]["ImportTaskDefinition"]["Properties"]["RuntimePlatform"][
            "CpuArchitecture"
        ] = "X86_64"

    problems = architecture.RULE.problems(violating("game-data", x86_import))
    # in each environment: the build host's CPU and the docker platform differ from the task's
    assert len(problems) == 6
    assert all("ImportTaskDefinition runs baseball-playback/jobs on X86_64" in p for p in problems)
    assert sum("builds it on ARM_CONTAINER (ARM64)" in p for p in problems) == 3


def test_an_image_no_pipeline_action_builds_fails():
    def no_jobs_build(t):
        for stage in t["Resources"]["InfraPipeline"]["Properties"]["Stages"]:
            for action in stage["Actions"]:
                variables = action.get("Configuration", {}).get("EnvironmentVariables")
                if isinstance(variables, dict) and "baseball-playback/jobs" in variables["Fn::Sub"]:
                    listed = json.loads(variables["Fn::Sub"])
                    kept = [v for v in listed if v["name"] != "REPOSITORY_URI"]
                    variables["Fn::Sub"] = json.dumps(kept)

    problems = architecture.RULE.problems(violating("pipeline", no_jobs_build))
    assert problems and all(
        "no pipeline action builds baseball-playback/jobs" in p for p in problems
    )
