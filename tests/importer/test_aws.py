"""The job as it runs in AWS: the release from S3 (the manifest's URL, as the upload starts
it) and the database from a Secrets Manager secret, here in the local AWS emulator."""

from __future__ import annotations

import json

import boto3
import pytest

from playback_infra.cli import main
from playback_infra.emulator.process import run_emulator
from tests.database.helpers import ADMIN_PASSWORD, ADMIN_USER
from tests.importer.helpers import small_release

REGION = "us-east-1"
BUCKET = "game-data"


@pytest.fixture(scope="module")
def aws(retrosheet_data):
    with run_emulator() as url:
        yield {
            "AWS_ENDPOINT_URL": url,
            "AWS_DEFAULT_REGION": REGION,  # as ECS sets it (with AWS_REGION)
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
        }


@pytest.fixture
def client(aws, monkeypatch):
    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    for name in ("DATABASE_URL", "DB_SECRET_ARN", "DB_HOST", "DB_PORT", "DB_NAME", "DB_SSL"):
        monkeypatch.delenv(name, raising=False)
    return lambda service: boto3.client(service, region_name=REGION)


@pytest.fixture
def secret_arn(server, client, fresh_settings, request):
    """A secret like the migration user's: username, password, host, port and dbname."""
    database = fresh_settings.database
    value = {
        "username": ADMIN_USER,
        "password": ADMIN_PASSWORD,
        "engine": "mysql",
        "host": server.host,
        "port": server.port,
        "dbname": database,
    }
    arn = client("secretsmanager").create_secret(
        Name=request.node.name, SecretString=json.dumps(value)
    )["ARN"]
    return arn, database


def _upload(client, release, prefix: str) -> None:
    s3 = client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    for path in sorted(release.iterdir()):
        if path.is_file():
            s3.upload_file(str(path), BUCKET, f"{prefix}{path.name}")


def test_import_from_s3_with_the_secret(client, secret_arn, server, tmp_path, capsys):
    arn, database = secret_arn
    _upload(client, small_release(tmp_path), "2023/")
    # Another season's release under a longer prefix is not part of this one.
    client("s3").put_object(Bucket=BUCKET, Key="2023/old/2023NYN.EVN", Body=b"id,x\r\n")
    url = f"s3://{BUCKET}/2023/SHA256SUMS"
    assert main(["import-retrosheet", url, "--database-secret-arn", arn]) == 0, (
        capsys.readouterr().err
    )
    assert "2023NYA.EVA: 3 games, 233 plays" in capsys.readouterr().out
    assert server.query("SELECT COUNT(*), MIN(source_file) FROM games", database=database) == [
        (3, "2023NYA.EVA")
    ]


def test_an_unlisted_event_file_in_s3_is_rejected(client, secret_arn, tmp_path, capsys):
    arn, _ = secret_arn
    release = small_release(tmp_path)
    _upload(client, release, "2023-extra/")
    client("s3").put_object(
        Bucket=BUCKET, Key="2023-extra/2023NYN.EVN", Body=(release / "2023NYA.EVA").read_bytes()
    )
    assert (
        main(["import-retrosheet", f"s3://{BUCKET}/2023-extra/", "--database-secret-arn", arn]) == 1
    )
    assert "2023NYN.EVN: not listed in SHA256SUMS" in capsys.readouterr().err


def test_no_manifest_under_the_prefix(client, secret_arn, capsys):
    arn, _ = secret_arn
    client("s3").create_bucket(Bucket="empty-bucket")
    assert main(["import-retrosheet", "s3://empty-bucket/2023/", "--database-secret-arn", arn]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == "import-retrosheet: s3://empty-bucket/2023/ has no SHA256SUMS"


def test_a_secret_that_does_not_exist(client, tmp_path, capsys):
    missing = f"arn:aws:secretsmanager:{REGION}:000000000000:secret:nothing-here"
    assert (
        main(["import-retrosheet", str(small_release(tmp_path)), "--database-secret-arn", missing])
        == 2
    )
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"import-retrosheet: cannot read secret {missing}: ")
