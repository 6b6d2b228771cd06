"""`playback-infra frontend-config`: the SPA's /config.json for one deployed environment.

The values come from the environment model (API base path, feature flags, name) and from
the deployed root stack's outputs (the site's URL), so the file always matches what is
deployed; the frontend pipeline writes it into the site bucket with `Cache-Control: no-cache`.
"""

from __future__ import annotations

import argparse
import json
import re

from playback_infra.deploy import environment, require_deployed, session, stack_outputs
from playback_infra.environments.model import ConfigError, Environment, Problem
from playback_infra.errors import DeployError

_BUILD_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")


def valid_build_version(value: str) -> bool:
    """A commit SHA or a release tag (letters, digits, . _ + -)."""
    return bool(_BUILD_VERSION.match(value))


def config(env: Environment, outputs: dict[str, str], build_version: str) -> dict:
    """The file's content; `outputs` are the root stack's."""
    return {
        "environment": env.name,
        "siteUrl": outputs["SiteUrl"],
        "apiBasePath": env.app.api_base_path,
        "buildVersion": build_version,
        "features": env.features.as_config(),
    }


def frontend_config(args: argparse.Namespace) -> int:
    env = environment(args.env)
    if not valid_build_version(args.build_version):
        raise ConfigError(
            [
                Problem(
                    env.name,
                    "build-version",
                    f"{args.build_version!r} must be a commit SHA or release tag (letters, digits, . _ + -)",
                )
            ]
        )
    require_deployed(args, env, "stack", "the file is read from the deployed stack")
    from botocore.exceptions import BotoCoreError, ClientError

    region = args.region or env.region
    try:
        cfn = session(args, region, args.endpoint_url).client(
            "cloudformation", endpoint_url=args.endpoint_url
        )
        outputs = stack_outputs(cfn, env.stack_name)
    except (BotoCoreError, ClientError) as error:
        raise DeployError(f"cannot read {env.stack_name} in {region}: {error}") from error
    print(json.dumps(config(env, outputs, args.build_version), indent=2, sort_keys=True))
    return 0
