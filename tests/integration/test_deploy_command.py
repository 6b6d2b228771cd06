"""`playback-infra deploy` as a user runs it: into the checkout's background emulator; against a
"real" account (the emulator stands in for AWS through AWS_ENDPOINT_URL and a named profile, so
the account guard and the confirmation prompt run); refusing bad input before it creates
anything; and ending a failed deployment with its cause."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest

from playback_infra import deploy
from playback_infra.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, main
from playback_infra.emulator.process import run_emulator
from playback_infra.emulator.zones import ensure_zones
from playback_infra.environments.catalog import environments

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


def _cli(root, *words, env=None):
    return subprocess.run(
        [sys.executable, "-m", "playback_infra", "--root", str(root), *words],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def test_deploy_without_an_endpoint_keeps_the_environment_in_a_background_emulator(tmp_path):
    """The local environment outlives the command: a second deploy finds it unchanged, awscli
    reaches it as the output says, `emulator reset` empties it on the same endpoint."""
    assert main(["--root", str(tmp_path), "synth"]) == EXIT_OK
    try:
        first = _cli(tmp_path, "deploy", "--env", "dev")
        assert first.returncode == EXIT_OK, first.stdout + first.stderr
        endpoint = re.match(r"emulator: (\S+) \(started, pid \d+\)", first.stdout)[1]
        assert f"its record and log: {tmp_path / '.deploy' / 'emulator'}" in first.stdout
        assert "baseball-playback-dev: CREATE_COMPLETE" in first.stdout

        second = _cli(tmp_path, "deploy", "--env", "dev")
        assert second.returncode == EXIT_OK, second.stdout + second.stderr
        assert second.stdout.startswith(f"emulator: {endpoint} (running, ")
        assert "baseball-playback-dev-edge-global: no changes" in second.stdout
        assert "baseball-playback-dev: no changes" in second.stdout
        assert "CREATE_" not in second.stdout and "UPDATE_" not in second.stdout

        exports = _cli(tmp_path, "emulator", "env").stdout
        assert re.search(r"awscli: (.*) aws cloudformation", first.stdout)[1] in exports
        variables = dict(word.split("=", 1) for word in exports.removeprefix("export ").split())
        assert variables["AWS_ENDPOINT_URL"] == endpoint
        aws = [str(Path(sys.executable).with_name("aws")), "cloudformation", "describe-stacks"]
        query = ["--query", "Stacks[?StackName=='baseball-playback-dev'].StackStatus"]
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **variables}
        seen = subprocess.run([*aws, *query, "--output", "text"], env=env, capture_output=True,
                              text=True, check=True)  # fmt: skip
        assert seen.stdout.split() == ["CREATE_COMPLETE"]

        reset = _cli(tmp_path, "emulator", "reset")
        assert reset.returncode == EXIT_OK, reset.stderr
        assert f"emulator: {endpoint} (started, " in reset.stdout
        seen = subprocess.run([*aws, *query, "--output", "text"], env=env, capture_output=True,
                              text=True, check=True)  # fmt: skip
        assert seen.stdout.split() == []
    finally:
        stopped = _cli(tmp_path, "emulator", "stop")
    assert stopped.stdout.startswith(f"emulator: stopped {endpoint} ")
    assert _cli(tmp_path, "emulator", "status").returncode == EXIT_FAILED
    assert _cli(tmp_path, "emulator", "env").stdout == ""
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{endpoint}/_ministack/health", timeout=2)


@pytest.fixture(scope="module")
def untouched_emulator():
    """An emulator that the bad inputs below must leave empty."""
    with run_emulator() as endpoint:
        yield endpoint
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        for region in ("us-east-1", "eu-west-1"):
            cfn = session.client("cloudformation", endpoint_url=endpoint, region_name=region)
            assert cfn.list_stacks()["StackSummaries"] == []
        assert session.client("s3", endpoint_url=endpoint).list_buckets()["Buckets"] == []
        route53 = session.client("route53", endpoint_url=endpoint)
        assert route53.list_hosted_zones()["HostedZones"] == []


@pytest.mark.parametrize(
    "words, line",
    [
        (
            ["--endpoint-url", "{host}"],
            "playback-infra deploy: error: --endpoint-url '{host}' has no scheme; give "
            "http://{host}",
        ),
        (
            ["--endpoint-url", "{url}", "--profile", "nope"],
            "playback-infra deploy: error: --profile 'nope' is in neither {tmp}/config nor "
            "{tmp}/credentials (profiles there: emulated); create it with `aws configure "
            "--profile nope` or give one of those",
        ),
        (
            ["--endpoint-url", "{url}", "--region", "eu-west-1"],
            "playback-infra deploy: error: --region eu-west-1: dev deploys to us-east-1 (its "
            "region in environments/catalog.py); leave --region out or give --region us-east-1",
        ),
    ],
    ids=["endpoint without a scheme", "unknown profile", "another region"],
)
def test_a_bad_target_exits_2_with_one_line_and_creates_nothing(
    untouched_emulator, tmp_path, monkeypatch, capsys, words, line
):
    credentials = tmp_path / "credentials"
    credentials.write_text("[emulated]\naws_access_key_id = test\naws_secret_access_key = test\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    given = {"url": untouched_emulator, "host": untouched_emulator.removeprefix("http://"),
             "tmp": tmp_path}  # fmt: skip
    root = tmp_path / "checkout"
    root.mkdir()
    argv = ["--root", str(root), "deploy", "--env", "dev", *(w.format(**given) for w in words)]
    assert main(argv) == EXIT_CONFIG
    assert capsys.readouterr().err.splitlines() == [line.format(**given)]
    assert list(root.iterdir()) == []  # no background emulator either


@pytest.mark.parametrize(
    "words, last",
    [
        (["--yess"], "playback-infra deploy: error: unrecognized argument --yess; did you mean --yes?"),
        (["--endpoint_url", "{url}"],
         "playback-infra deploy: error: unrecognized argument --endpoint_url; did you mean "
         "--endpoint-url?"),
    ],
    ids=["--yess", "--endpoint_url"],
)  # fmt: skip
def test_a_misspelt_flag_shows_the_usage_and_did_you_mean_and_creates_nothing(
    untouched_emulator, tmp_path, capsys, words, last
):
    argv = ["--root", str(tmp_path), "deploy", "--env", "dev",
            *(w.format(url=untouched_emulator) for w in words)]  # fmt: skip
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == EXIT_CONFIG
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("usage: playback-infra deploy [-h] --env ENV")
    assert err[-1] == last
    assert list(tmp_path.iterdir()) == []


def test_a_missing_env_is_one_line_naming_the_environments(untouched_emulator, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--root", str(tmp_path), "deploy", "--endpoint-url", untouched_emulator])
    assert exit_.value.code == EXIT_CONFIG
    assert capsys.readouterr().err.splitlines() == [
        "playback-infra deploy: error: --env is required: give the environment, one of dev, "
        "staging, prod"
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_failed_deploy_ends_with_its_cause_after_every_stacks_events_in_order(capsys):
    """The second of two vaults of one name fails (as AWS Backup refuses it): the events of the
    root and of its nested stack come in one time order, with every stack's whole name, and the
    failed resource's reason is repeated last."""
    root_name = "a-root-stack-whose-name-is-longer-than-thirty-two-characters"
    with run_emulator() as endpoint:
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        s3 = session.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="templates")
        inner = {"Resources": {"Inner": {"Type": "AWS::SNS::Topic"}}}
        s3.put_object(Bucket="templates", Key="inner.json", Body=json.dumps(inner).encode())
        vault = {"Type": "AWS::Backup::BackupVault", "Properties": {"BackupVaultName": "taken"}}
        root = {"Resources": {
            "InnerStack": {"Type": "AWS::CloudFormation::Stack",
                           "Properties": {"TemplateURL": f"{endpoint}/templates/inner.json"}},
            "FirstVault": {**vault, "DependsOn": "InnerStack"},
            "SecondVault": {**vault, "DependsOn": "FirstVault"},
        }}  # fmt: skip
        cfn = session.client("cloudformation", endpoint_url=endpoint)
        request = {"TemplateBody": json.dumps(root), "Parameters": [], "Tags": []}
        name, _ = deploy.change_set(cfn, root_name, request)
        assert deploy.execute(cfn, root_name, name) == EXIT_FAILED
    lines = capsys.readouterr().out.splitlines()
    events = [line.split() for line in lines if re.match(r"\d\d:\d\d:\d\d ", line)]
    assert [e[0] for e in events] == sorted(e[0] for e in events)
    stacks = [e[1] for e in events]
    inner_name = next(s for s in stacks if s != root_name)
    assert inner_name.startswith(f"{root_name}-InnerStack-")
    first_inner, last_inner = stacks.index(inner_name), len(stacks) - stacks[::-1].index(inner_name)
    assert root_name in stacks[:first_inner] and root_name in stacks[last_inner:]
    assert re.fullmatch(rf"{root_name}: ROLLBACK_COMPLETE in \d+ s", lines[-3])
    assert lines[-2] == f"cause: {root_name} SecondVault (AWS::Backup::BackupVault) CREATE_FAILED:"
    assert lines[-1].startswith("  ") and "Backup vault taken already exists" in lines[-1]


def test_live_diff_shows_what_the_emulators_change_sets_report(capsys, monkeypatch):
    """`diff --live` asks the deployed stack through a change set it never executes. On AWS
    (IncludeNestedStacks) each nested stack's own change set gives every resource's Replacement
    answer; ministack's root change set names the modified nested stacks but carries no nested
    change set (no ChangeSetId), so here only the stack level can be shown."""
    from playback_infra import synth

    with run_emulator() as endpoint:
        assert main(["deploy", "--env", "dev", "--endpoint-url", endpoint]) == EXIT_OK
        capsys.readouterr()
        live = ["diff", "--live", "--env", "dev", "--endpoint-url", endpoint]
        assert main(live) == EXIT_OK
        assert "changes in the deployed dev (AWS's change sets): none" in capsys.readouterr().out

        def bumped():
            return tuple(
                dataclasses.replace(env, database=dataclasses.replace(env.database, generation=2))
                if env.name == "dev" else env
                for env in environments()
            )  # fmt: skip

        monkeypatch.setattr(synth, "environments", bumped)
        assert main(live) == EXIT_OK
        out = capsys.readouterr().out
        assert "root: DataStack (AWS::CloudFormation::Stack): may replace in dev, Parameters" in out
        assert "DatabaseInstance" not in out  # the emulator gives no nested change set
        cfn = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        ).client("cloudformation", endpoint_url=endpoint)
        # Never executed, and not left behind.
        summaries = cfn.list_change_sets(StackName="baseball-playback-dev")["Summaries"]
        assert [c for c in summaries if c["ExecutionStatus"] == "AVAILABLE"] == []
