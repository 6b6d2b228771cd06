"""A parameter file as awscli v1 arguments.

awscli v1 (the one on PyPI) reads `--parameter-overrides` and `--tags` only as `Key=Value`
words, not as a template-configuration file. One word per line, so values may hold spaces:

    mapfile -t OVERRIDES < <(playback-infra parameters dev)
    mapfile -t TAGS < <(playback-infra parameters dev --format tags)
    aws cloudformation deploy ... --parameter-overrides "${OVERRIDES[@]}" --tags "${TAGS[@]}"

`--stack edge-global` gives the edge-global stack's words, `pipeline --stack delivery` the pipeline
stack's. The root's words leave out the edge-global outputs (SiteCertificateArn, SiteWebAclArn):
add them from that stack.
"""

from __future__ import annotations

import json
from pathlib import Path

from playback_infra.environments.model import ConfigError, Problem


def render_overrides(root: Path, env: str, fmt: str, stack: str = "root") -> str:
    """`stack` is "root" (parameters/ENV.json), "edge-global" (parameters/edge-global/) or
    "delivery" (parameters/delivery/, whose one file is pipeline.json)."""
    folder = root / "parameters" / ("" if stack == "root" else stack)
    path = folder / f"{env}.json"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.json"))
        raise ConfigError(
            [Problem(env, "env", f"no {path.name} in parameters/; known: {', '.join(known)}")]
        )
    content = json.loads(path.read_text())
    pairs = content["Parameters"] if fmt == "overrides" else content["Tags"]
    return "\n".join(f"{key}={value}" for key, value in sorted(pairs.items()))
