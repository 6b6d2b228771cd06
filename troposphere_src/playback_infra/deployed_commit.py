"""The commit deployed to an environment, recorded where `playback-infra diff` can find it.

The pipeline's CodeBuild actions get this repository through CodePipeline's CodeConnections
source, whose full clone is documented for one use, to "clone the repo and associated Git
metadata"
(https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodestarConnectionSource.html);
nothing there lets an action push a tag back. So the commit is recorded in the environment's
account instead: an SSM parameter (`names.DEPLOYED_COMMIT_PARAMETER`) that the infrastructure
pipeline's Apply writes after the change set succeeds (pipeline/apply.yml) and that
`playback-infra deploy` writes too. `playback-infra deployed-tag` reads it into this checkout
as the annotated tag `deployed/<env>`, which `diff` then takes as that environment's base.
"""

from __future__ import annotations

import argparse
import datetime

from playback_infra.checks import base
from playback_infra.deploy import EXIT_OK, aws_errors, environment, require_deployed, session
from playback_infra.environments.model import ConfigError, Environment, Problem
from playback_infra.errors import DeployError
from playback_infra.parts import names, values


def parameter_name(env: Environment) -> str:
    return names.DEPLOYED_COMMIT_PARAMETER.replace(f"${{{values.ENVIRONMENT_NAME}}}", env.name)


def record(ssm, env: Environment, commit: str) -> None:
    """Record `commit` as the one deployed to `env` (PutParameter, overwriting)."""
    ssm.put_parameter(
        Name=parameter_name(env),
        Value=commit,
        Type="String",
        Overwrite=True,
        Description=f"The commit last deployed to {env.name} (playback-infra deployed-tag)",
    )


def recorded(ssm, env: Environment) -> str | None:
    """The commit recorded for `env`, or None before the first recorded deployment."""
    try:
        return ssm.get_parameter(Name=parameter_name(env))["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None


def deployed_tag(args: argparse.Namespace) -> int:
    """`playback-infra deployed-tag`: tag, in this checkout, the commit last deployed to --env."""
    env = environment(args.env)
    require_deployed(args, env, "profile", "deployed-tag reads the environment")
    name = parameter_name(env)
    with aws_errors(f"deployed-tag for {env.name}: "):
        ssm = session(args, env.region, args.endpoint_url).client(
            "ssm", endpoint_url=args.endpoint_url
        )
        commit = recorded(ssm, env)
    if commit is None:
        raise DeployError(
            f"{env.name} has no recorded deployment ({name}); the pipeline's Apply and "
            "`playback-infra deploy` record one"
        )
    try:
        tag = base.tag_deployed(
            args.root, env.name, commit, f"read from {name} on {datetime.date.today()}"
        )
    except base.BaseError as error:
        raise ConfigError(
            [Problem(env.name, "deployed commit", f"{error}; run `git fetch origin` first")]
        ) from error
    print(f"{tag}: {commit[:12]} (`playback-infra diff` now compares {env.name} with it)")
    return EXIT_OK
