"""`playback-infra publish-site`: put a frontend build into an environment's site bucket.

1. `config.json` from the model and the deployed stack (frontend_config), with the build's
   version; a config.json in the build is replaced by it.
2. Each file is uploaded only when its content (MD5, the ETag of a single-part upload to the
   SSE-S3 site bucket) differs from the bucket's, with its Content-Type and Cache-Control:
   content-hashed assets (`app.3f2a9c1e.js`, `index-BQ3xNm9q.css`: a name part of 8 or more
   letters and digits with a digit or a capital) `public, max-age=31536000, immutable`; every
   other file, `index.html` and `config.json` among them, `no-cache` (revalidated each time).
   Files are not pre-compressed: the distribution compresses (gzip and Brotli) itself.
3. Objects no longer in the build are deleted (the bucket is versioned: old versions remain
   for a rollback).
4. One CloudFront invalidation for the changed or deleted non-hashed paths (`/` with
   `/index.html`), none when nothing of them changed: a hashed asset's new content has a new
   name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mimetypes
import re
import time
from dataclasses import dataclass
from pathlib import Path

from playback_infra.deploy import aws_errors, deployed_environment, environment
from playback_infra.environments.model import ConfigError, Problem
from playback_infra.frontend_config import config, valid_build_version
from playback_infra.parts import values

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
CONFIG = "config.json"
INDEX = "index.html"
NEEDED = (values.SITE_BUCKET_NAME, values.SITE_DISTRIBUTION_ID, values.SITE_URL)
_HASH_PART = re.compile(r"[.-]([A-Za-z0-9_]{8,})\.[A-Za-z0-9]+$")
# Where Python's own table differs between versions or lacks the type.
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
}
_TEXT = ("text/", "application/json", "application/manifest+json", "image/svg+xml")


def hashed(key: str) -> bool:
    """Whether a file's name carries its content hash (so its content never changes)."""
    match = _HASH_PART.search(key.rsplit("/", 1)[-1])
    return bool(match) and any(ch.isdigit() or ch.isupper() for ch in match.group(1))


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    kind = _TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith(_TEXT) else kind


@dataclass(frozen=True)
class File:
    key: str
    body: bytes

    @property
    def md5(self) -> str:
        return hashlib.md5(self.body, usedforsecurity=False).hexdigest()

    @property
    def cache_control(self) -> str:
        return IMMUTABLE if hashed(self.key) else REVALIDATE


def build_files(build_dir: Path, config_json: dict) -> list[File]:
    """The files to publish: the build's, and config.json."""
    files = [
        File(path.relative_to(build_dir).as_posix(), path.read_bytes())
        for path in sorted(build_dir.rglob("*"))
        if path.is_file() and path.relative_to(build_dir).as_posix() != CONFIG
    ]
    body = (json.dumps(config_json, indent=2, sort_keys=True) + "\n").encode()
    return [*files, File(CONFIG, body)]


def invalidation_paths(changed: list[str]) -> list[str]:
    """The CloudFront paths of the changed non-hashed keys (`/` serves index.html)."""
    paths = sorted({f"/{key}" for key in changed if not hashed(key)})
    return sorted({*paths, "/"}) if f"/{INDEX}" in paths else paths


def _bucket_etags(s3, bucket: str) -> dict[str, str]:
    etags = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            etags[item["Key"]] = item["ETag"].strip('"')
    return etags


def publish_site(args: argparse.Namespace) -> int:
    env = environment(args.env)
    build_dir = Path(args.build_dir)
    problems = []
    if not (build_dir / INDEX).is_file():
        problems.append(
            Problem(env.name, "build-dir", f"{build_dir} has no {INDEX}; give the build's output directory")
        )  # fmt: skip
    if not valid_build_version(args.build_version):
        problems.append(
            Problem(env.name, "build-version", f"{args.build_version!r} must be a commit SHA or release tag")
        )  # fmt: skip
    if problems:
        raise ConfigError(problems)
    with aws_errors(f"publish-site to {env.name}: "):
        aws, outputs = deployed_environment(
            args, env, "publish-site reads the deployed stack's bucket", NEEDED
        )
        bucket = outputs[values.SITE_BUCKET_NAME]
        s3 = aws.client("s3", endpoint_url=args.endpoint_url)
        before = _bucket_etags(s3, bucket)
        files = build_files(build_dir, config(env, outputs, args.build_version))
        changed = [f.key for f in files if before.get(f.key) != f.md5]
        for file in files:
            if file.key in changed:
                s3.put_object(
                    Bucket=bucket,
                    Key=file.key,
                    Body=file.body,
                    ContentType=content_type(file.key),
                    CacheControl=file.cache_control,
                )
        stale = sorted(before.keys() - {f.key for f in files})
        for start in range(0, len(stale), 1000):  # DeleteObjects takes up to 1000 keys
            s3.delete_objects(
                Bucket=bucket,
                Delete={
                    "Objects": [{"Key": k} for k in stale[start : start + 1000]],
                    "Quiet": True,
                },
            )
        print(
            f"s3://{bucket}: {len(changed)} uploaded, {len(files) - len(changed)} unchanged, "
            f"{len(stale)} deleted"
        )
        for key in changed:
            print(f"  put    {key}")
        for key in stale:
            print(f"  delete {key}")
        paths = invalidation_paths(changed + stale)
        if not paths:
            print("no invalidation: no non-hashed file changed")
            return 0
        distribution = outputs[values.SITE_DISTRIBUTION_ID]
        answer = aws.client("cloudfront", endpoint_url=args.endpoint_url).create_invalidation(
            DistributionId=distribution,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": f"publish-site-{args.build_version}-{time.time_ns()}",
            },
        )
        print(f"invalidation {answer['Invalidation']['Id']} on {distribution}: {' '.join(paths)}")
    return 0
