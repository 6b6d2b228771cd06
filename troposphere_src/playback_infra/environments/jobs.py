"""The jobs part of an environment: the one-off Fargate tasks (the Retrosheet import)."""

from __future__ import annotations

from dataclasses import dataclass

from playback_infra.environments.app import image_tag_problem, task_size_problems
from playback_infra.environments.retention import retention_problem


@dataclass(frozen=True, kw_only=True)
class Jobs:
    """The jobs image and the import task's size (it parses on every vCPU it gets)."""

    image_tag: str = "bootstrap"
    """The jobs image's tag for the first deployment only: once the stack exists, `deploy` keeps
    the tag it runs and `plan` sets the one the infrastructure pipeline just built."""
    import_cpu: int = 2048
    import_memory: int = 4096
    log_retention_days: int = 90


def violations(jobs: Jobs, log_retentions: tuple[int, ...]) -> list[tuple[str, str]]:
    """Every broken rule of a jobs config as (field, message); fields are `jobs.x`."""
    found = [
        (f"jobs.import_{field}", message)
        for field, message in task_size_problems(jobs.import_cpu, jobs.import_memory)
    ]
    if image_tag_problem(jobs.image_tag):
        found.append(("jobs.image_tag", image_tag_problem(jobs.image_tag)))
    if problem := retention_problem(jobs.log_retention_days, log_retentions):
        found.append(("jobs.log_retention_days", problem))
    return found


DEFAULTS = {  # by environment kind
    "development": Jobs(log_retention_days=30),
    "staging": Jobs(),
    "production": Jobs(log_retention_days=365),
}
