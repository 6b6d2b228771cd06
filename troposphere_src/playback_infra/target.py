"""Where a command's environment is deployed (--endpoint-url, --profile, --region), checked
before anything is created: a value the command cannot use is a UsageError naming the fix."""

from __future__ import annotations

import argparse
import urllib.parse

from playback_infra.errors import UsageError


def check_target(args: argparse.Namespace) -> None:
    """Raise UsageError for an endpoint without a scheme, a profile that is not configured, or a
    region other than the environment's."""
    if endpoint := getattr(args, "endpoint_url", None):
        _check_endpoint(endpoint)
    if profile := getattr(args, "profile", None):
        _check_profile(profile)
    if (region := getattr(args, "region", None)) and getattr(args, "env", None):
        _check_region(args.env, region)


def _check_endpoint(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return
    if "://" not in url:
        raise UsageError(f"--endpoint-url {url!r} has no scheme; give http://{url}")
    raise UsageError(f"--endpoint-url {url!r} is not an http:// or https:// URL")


def _check_profile(profile: str) -> None:
    """botocore raises ProfileNotFound for a profile in neither the config nor the credentials
    file; say which files and which profiles they hold."""
    import botocore.session
    from botocore.exceptions import ProfileNotFound

    session = botocore.session.Session(profile=profile)
    try:
        session.get_scoped_config()
    except ProfileNotFound:
        files = " nor ".join(
            str(session.get_config_variable(name)) for name in ("config_file", "credentials_file")
        )
        known = ", ".join(sorted(session.available_profiles)) or "none"
        raise UsageError(
            f"--profile {profile!r} is in neither {files} (profiles there: {known}); "
            f"create it with `aws configure --profile {profile}` or give one of those"
        ) from None


def _check_region(name: str, region: str) -> None:
    from playback_infra.environments.catalog import environments

    env = next((env for env in environments() if env.name == name), None)
    if env is not None and region != env.region:
        raise UsageError(
            f"--region {region}: {name} deploys to {env.region} (its region in "
            f"environments/catalog.py); leave --region out or give --region {env.region}"
        )
