"""`playback-infra deploy` against a "real" account: the emulator stands in for AWS through
AWS_ENDPOINT_URL and a named profile, so the account guard and the confirmation prompt run."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from playback_infra import deploy
from playback_infra.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, main
from playback_infra.emulator.process import run_emulator
from playback_infra.emulator.zones import ensure_zones
from playback_infra.environments.catalog import environments
from tests.checks.helpers import git as _git
from tests.checks.helpers import synthesized_repository

pytestmark = pytest.mark.emulator
EMULATOR_ACCOUNT = "000000000000"


@pytest.fixture
def real_looking_account(tmp_path, monkeypatch):
    """A profile `emulated` whose every AWS call goes to a fresh emulator."""
    credentials = tmp_path / "credentials"
    credentials.write_text("[emulated]\naws_access_key_id = test\naws_secret_access_key = test\n")
    with run_emulator() as endpoint:
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        yield endpoint


def _dev_in_account(account: str):
    return lambda: tuple(
        dataclasses.replace(env, account_id=account) if env.name == "dev" else env
        for env in environments()
    )


ARGS = ["deploy", "--env", "dev", "--profile", "emulated", "--artifact-bucket", "artifacts"]


def test_refuses_credentials_of_another_account(real_looking_account, capsys):
    assert main(ARGS) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert f"credentials are for account {EMULATOR_ACCOUNT}, but dev deploys to 111111111111" in err


def test_needs_an_artifact_bucket(real_looking_account, capsys, monkeypatch):
    monkeypatch.setattr(deploy, "environments", _dev_in_account(EMULATOR_ACCOUNT))
    assert main(ARGS[:-2]) == EXIT_CONFIG
    assert "a real account needs --artifact-bucket" in capsys.readouterr().err


def test_shows_the_change_set_and_asks_before_executing(real_looking_account, capsys, monkeypatch):
    monkeypatch.setattr(deploy, "environments", _dev_in_account(EMULATOR_ACCOUNT))
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    session.client("s3").create_bucket(Bucket="artifacts")
    # The account has the environment's hosted zones, as a real one has.
    ensure_zones(session.client("route53"), deploy.environment("dev"))
    # The edge-global stack (us-east-1) comes first; refusing it deploys nothing at all.
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(ARGS) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "for baseball-playback-dev-edge-global:" in out and "Add      SiteWebAcl" in out
    assert "not executed; the change set stays for review" in out
    assert "NetworkStack" not in out

    # Yes to the edge stack, no to the environment: its change set was shown, then kept.
    answers = iter(["y", "n"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert main(ARGS) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "baseball-playback-dev-edge-global: CREATE_COMPLETE" in out
    assert "Add      NetworkStack" in out and "Add      WebStack" in out
    assert out.rstrip().endswith("not executed; the change set stays for review")

    assert main([*ARGS, "--yes"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "baseball-playback-dev: CREATE_COMPLETE" in out
    assert "NetworkStack" in out and "VpcId" in out


def test_deploy_without_an_endpoint_starts_and_stops_its_own_emulator():
    done = subprocess.run(
        [sys.executable, "-m", "playback_infra", "deploy", "--env", "dev"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    endpoint = done.stdout.splitlines()[0].removeprefix("emulator: ")
    assert endpoint.startswith("http://127.0.0.1:")
    assert "baseball-playback-dev: CREATE_COMPLETE" in done.stdout
    assert "Vpc" in done.stdout  # nested stacks' events are shown too
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{endpoint}/_ministack/health", timeout=2)


def _dev(**fields):
    """The catalog with dev's `fields` (a `database` dict changes database fields) changed."""
    database = fields.pop("database", {})

    def changed():
        return tuple(
            dataclasses.replace(env, **fields, database=dataclasses.replace(env.database, **database))
            if env.name == "dev" else env
            for env in environments()
        )  # fmt: skip

    return changed


def test_live_diff_tells_a_nested_stacks_resources_and_the_deployed_commit_is_diffs_base(
    tmp_path, capsys, monkeypatch
):
    """`diff --live` asks the deployed stack through a change set it never executes. ministack's
    root change set names a modified nested stack without its change set (on AWS,
    IncludeNestedStacks gives one): the code's comparison of the deployed stack (its templates
    and live parameters) tells that stack's resources instead of a "may replace" of the stack.
    `deploy` records the deployed commit in the environment; `deployed-tag` makes it the
    local tag diff compares dev with."""
    from playback_infra import synth

    root = ["--root", str(tmp_path)]
    head = _git(synthesized_repository(tmp_path), "rev-parse", "HEAD")
    with run_emulator() as endpoint:
        assert main([*root, "deploy", "--env", "dev", "--endpoint-url", endpoint]) == EXIT_OK
        assert f"dev: recorded {head[:12]} as deployed" in capsys.readouterr().out
        live = [*root, "diff", "--live", "--env", "dev", "--endpoint-url", endpoint]
        assert main(live) == EXIT_OK
        assert "dev: no changes" in capsys.readouterr().out

        monkeypatch.setattr(synth, "environments", _dev(flow_log_retention_days=14))
        assert main(live) == EXIT_OK
        out = capsys.readouterr().out
        assert "dev: 1 update" in out
        assert "security: FlowLogGroup (AWS::Logs::LogGroup): update" in out
        assert 'RetentionInDays: "30" -> "14" (via FlowLogRetentionDays)' in out
        assert "SecurityStack" not in out and "may replace" not in out

        assert main([*root, "deployed-tag", "--env", "dev", "--endpoint-url", endpoint]) == EXIT_OK
        assert capsys.readouterr().out.startswith(f"deployed/dev: {head[:12]}")
        assert _git(tmp_path, "rev-parse", "deployed/dev^{commit}") == head
        assert main([*root, "diff"]) == EXIT_OK
        out = capsys.readouterr().out
        assert (
            f"dev: 1 update, since {head[:12]} (deployed/dev: the commit last deployed to dev"
            in out
        )

        monkeypatch.setattr(synth, "environments", _dev(database={"generation": 2}))
        assert main(live) == EXIT_FAILED
        captured = capsys.readouterr()
        assert "!! data: DatabaseInstance (AWS::RDS::DBInstance): replace" in captured.out
        assert "REFUSED dev data: DatabaseInstance" in captured.err
        import boto3

        cfn = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        ).client("cloudformation", endpoint_url=endpoint)
        # Never executed, and not left behind.
        summaries = cfn.list_change_sets(StackName="baseball-playback-dev")["Summaries"]
        assert [c for c in summaries if c["ExecutionStatus"] == "AVAILABLE"] == []
