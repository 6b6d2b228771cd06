"""Disaster recovery at environment level, in the AWS emulator: restore the database of a
deployed environment from a snapshot identifier, as docs/runbooks.md's "Restore the database"
says: snapshot the instance, set `database.restore_snapshot` and a new `generation` for the
environment, synthesize, deploy.

Editing `catalog.py` and running `make synth` is done here by rendering a changed catalog into
a copy of the repository's generated files (`--root`), so the real `playback-infra deploy`
deploys exactly what an operator's edited checkout would.
"""

from __future__ import annotations

import dataclasses
import json

import boto3
import pytest

from playback_infra import deploy, synth
from playback_infra.cli import EXIT_FAILED, EXIT_OK, main
from playback_infra.emulator.process import run_emulator
from playback_infra.environments.catalog import environments

pytestmark = pytest.mark.emulator

SNAPSHOT = "baseball-playback-dev-before-restore"


def _restoring(snapshot: str, generation: int):
    """The catalog with dev's database restored from `snapshot` as `generation`."""

    def catalog():
        for env in environments():
            if env.name == "dev":
                database = dataclasses.replace(
                    env.database, restore_snapshot=snapshot, generation=generation
                )
                env = dataclasses.replace(env, database=database)
            yield env

    return catalog


def _deploy(root, endpoint: str, capsys) -> tuple[int, str]:
    code = main(["--root", str(root), "deploy", "--env", "dev", "--endpoint-url", endpoint])
    return code, capsys.readouterr().out


def _checkout(tmp_path, monkeypatch, catalog):
    """A repository root whose generated files come from `catalog`, and the CLI reading it."""
    monkeypatch.setattr(synth, "environments", catalog)
    monkeypatch.setattr(deploy, "environments", catalog)
    root = tmp_path / f"checkout-{len(list(tmp_path.iterdir()))}"
    synth.write(synth.render().files, root)
    return root


def test_dev_database_is_restored_from_a_snapshot_of_the_deployed_instance(
    tmp_path, monkeypatch, capsys
):
    dev = next(e for e in environments() if e.name == "dev")
    with run_emulator() as endpoint:
        aws = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=dev.region
        )
        rds, cfn = (
            aws.client("rds", endpoint_url=endpoint),
            aws.client("cloudformation", endpoint_url=endpoint),
        )
        secrets = aws.client("secretsmanager", endpoint_url=endpoint)

        def outputs() -> dict[str, str]:
            stack = cfn.describe_stacks(StackName=dev.stack_name)["Stacks"][0]
            return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

        def instance_ids() -> set[str]:
            return {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}

        # The environment as the repository has it: generation 1.
        code, out = _deploy(_checkout(tmp_path, monkeypatch, environments), endpoint, capsys)
        assert code == EXIT_OK, out
        before = outputs()
        assert before["DatabaseInstanceId"] == "baseball-playback-dev-1"

        # 1. Snapshot the deployed instance (or find the final snapshot a delete left).
        rds.create_db_snapshot(
            DBInstanceIdentifier=before["DatabaseInstanceId"], DBSnapshotIdentifier=SNAPSHOT
        )
        (snapshot,) = rds.describe_db_snapshots(DBSnapshotIdentifier=SNAPSHOT)["DBSnapshots"]
        assert snapshot["DBInstanceIdentifier"] == "baseball-playback-dev-1"

        # 2. A wrong identifier fails the deployment, which rolls back to generation 1.
        wrong = _checkout(tmp_path, monkeypatch, _restoring("no-such-snapshot", 2))
        parameters = json.loads((wrong / "parameters" / "dev.json").read_text())["Parameters"]
        assert parameters["DatabaseSnapshotIdentifier"] == "no-such-snapshot"
        code, out = _deploy(wrong, endpoint, capsys)
        assert code == EXIT_FAILED, out
        assert "DBSnapshotNotFound" in out, out
        assert outputs()["DatabaseInstanceId"] == "baseball-playback-dev-1"
        assert "baseball-playback-dev-1" in instance_ids()

        # 3. restore_snapshot and the next generation: a new instance from the snapshot.
        restore = _checkout(tmp_path, monkeypatch, _restoring(SNAPSHOT, 2))
        code, out = _deploy(restore, endpoint, capsys)
        assert code == EXIT_OK, out
        assert f"{dev.stack_name}: UPDATE_COMPLETE" in out
        after = outputs()
        assert after["DatabaseInstanceId"] == "baseball-playback-dev-2"
        (restored,) = rds.describe_db_instances(DBInstanceIdentifier="baseball-playback-dev-2")[
            "DBInstances"
        ]
        assert restored["DBInstanceStatus"] == "available"
        # What RDS takes from the snapshot rather than from the template (which sets no
        # master username when restoring): the emulator copies them from the snapshot it found.
        assert (restored["MasterUsername"], restored["Engine"], restored["EngineVersion"]) == (
            snapshot["MasterUsername"], snapshot["Engine"], snapshot["EngineVersion"],
        )  # fmt: skip
        # The app follows: the endpoint output and the users' secrets name the new instance.
        assert after["DatabaseEndpoint"] == restored["Endpoint"]["Address"]
        assert after["DatabaseEndpoint"] != before["DatabaseEndpoint"]
        app_secret = json.loads(
            secrets.get_secret_value(SecretId=after["DatabaseAppSecretArn"])["SecretString"]
        )
        assert app_secret["host"] == restored["Endpoint"]["Address"]
        # dev keeps nothing on replacement (UpdateReplacePolicy Delete): the old one is gone,
        # the snapshot stays.
        assert "baseball-playback-dev-1" not in instance_ids()
        assert rds.describe_db_snapshots(DBSnapshotIdentifier=SNAPSHOT)["DBSnapshots"]

        # 4. Deploying the restored environment again changes nothing (restore_snapshot stays).
        code, out = _deploy(restore, endpoint, capsys)
        assert code == EXIT_OK and f"{dev.stack_name}: no changes" in out, out
