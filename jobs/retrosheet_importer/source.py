"""Where a release comes from: a local directory, a local SHA256SUMS, or S3.

`s3://bucket/prefix/` and `s3://bucket/prefix/SHA256SUMS` (the upload that starts the import
job) both mean the release under that prefix: its manifest and every release file beside it
(not in sub-prefixes) are downloaded to a temporary directory, so that an event file uploaded
but not listed is seen, and rejected, as it would be locally.
"""

from __future__ import annotations

from pathlib import Path

from retrosheet_importer.problems import UsageError
from retrosheet_importer.release import MANIFEST, is_release_file


def resolve(source: str, download_dir: Path) -> tuple[Path, Path]:
    """(directory, manifest) of the release `source` names; S3 files go to `download_dir`."""
    if source.startswith("s3://"):
        return _download(source, download_dir)
    path = Path(source)
    if path.is_dir():
        manifest = path / MANIFEST
        if not manifest.is_file():
            raise UsageError(f"{path} has no {MANIFEST}: a release lists its files there")
        return path, manifest
    if path.is_file():
        return path.parent, path
    raise UsageError(f"no such directory or manifest: {source}")


def _split(url: str) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise UsageError(f"not an S3 URL: {url} (s3://bucket/prefix/ or .../{MANIFEST})")
    if key.endswith(MANIFEST):
        key = key[: -len(MANIFEST)]
    elif key and not key.endswith("/"):
        key += "/"
    return bucket, key


def _download(url: str, download_dir: Path) -> tuple[Path, Path]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = _split(url)
    s3 = boto3.client("s3")
    try:
        names = []
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/"
        ):
            names += [o["Key"][len(prefix) :] for o in page.get("Contents", [])]
        if MANIFEST not in names:
            raise UsageError(f"s3://{bucket}/{prefix} has no {MANIFEST}")
        for name in names:
            if name == MANIFEST or is_release_file(name):
                s3.download_file(bucket, prefix + name, str(download_dir / name))
    except (BotoCoreError, ClientError) as error:
        raise UsageError(f"cannot read s3://{bucket}/{prefix}: {error}") from None
    return download_dir, download_dir / MANIFEST
