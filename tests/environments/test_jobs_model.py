"""The jobs part of the environment model: defaults, changes and bad inputs."""

from __future__ import annotations

import pytest

from playback_infra.environments.catalog import environments
from playback_infra.environments.jobs import Jobs
from playback_infra.environments.model import Kind, define
from playback_infra.environments.parameters import parameter_values
from tests.environments.helpers import BASE, refused_once


def test_defaults_by_kind_and_in_the_catalog():
    assert {env.name: env.jobs for env in environments()} == {
        "dev": Jobs(log_retention_days=30),
        "staging": Jobs(),
        "prod": Jobs(log_retention_days=365),
    }


def test_a_dict_changes_only_the_fields_it_names_and_reaches_the_parameters():
    env = define("qa", Kind.STAGING, **BASE, jobs={"image_tag": "3f2a1c9", "import_cpu": 4096,
                                                    "import_memory": 8192})  # fmt: skip
    assert env.jobs == Jobs(image_tag="3f2a1c9", import_cpu=4096, import_memory=8192)
    given = parameter_values(env)
    assert (given["JobsImageTag"], given["ImportCpu"], given["ImportMemory"]) == (
        "3f2a1c9", "4096", "8192",
    )  # fmt: skip


BAD = {
    "latest tag": ({"image_tag": "latest"}, "image_tag", "never 'latest'"),
    "tag with a slash": ({"image_tag": "feature/x"}, "image_tag", "immutable tag"),
    "not a Fargate CPU": ({"import_cpu": 3000}, "import_cpu", "not a Fargate CPU size"),
    "memory the CPU cannot have": (
        {"import_cpu": 2048, "import_memory": 2048}, "import_memory", "use 4096-16384"),
    "log retention CloudWatch refuses": (
        {"log_retention_days": 10}, "log_retention_days", "not a CloudWatch Logs retention"),
    "text for a number": ({"import_cpu": "2048"}, "import_cpu", "expected int, got str"),
    "unknown field": ({"schedule": "daily"}, "schedule", "unknown field; valid fields"),
}  # fmt: skip


@pytest.mark.parametrize(("change", "field", "fix"), BAD.values(), ids=BAD.keys())
def test_bad_jobs_input_names_the_field_and_the_fix(change, field, fix):
    problem, _ = refused_once("jobs", change, field)
    assert fix in problem.message
