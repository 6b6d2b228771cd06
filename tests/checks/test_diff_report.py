"""`playback-infra diff`'s output (checks/diff_report.py), and the walkthroughs the docs give:
checks.md's example is what diff prints, the onboarding's first change shows its resource, the
roll-back runbook's diff step shows what the revert undoes."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from playback_infra import synth
from playback_infra.cli import EXIT_OK, main
from playback_infra.environments import catalog
from playback_infra.paths import REPO_ROOT
from tests.checks.helpers import git as _git
from tests.checks.helpers import synthesized_repository

SHA = re.compile(r"\b[0-9a-f]{12}\b")


def _retention(days: int):
    """The catalog with dev's flow_log_retention_days at `days` (the docs' first change)."""
    return lambda: tuple(
        dataclasses.replace(env, flow_log_retention_days=days) if env.name == "dev" else env
        for env in catalog.environments()
    )


@pytest.fixture
def repo(tmp_path) -> Path:
    return synthesized_repository(tmp_path)


def _diff(repo: Path, capsys, *extra: str) -> str:
    capsys.readouterr()
    assert main(["--root", str(repo), "diff", *extra]) == EXIT_OK
    return capsys.readouterr().out


def _first_change(repo: Path, capsys, monkeypatch) -> str:
    """The onboarding's commands after the change: `make synth` (its synth), then diff."""
    monkeypatch.setattr(synth, "environments", _retention(14))
    assert main(["--root", str(repo), "synth"]) == EXIT_OK
    return _diff(repo, capsys)


def _block_after(text: str, marker: str) -> str:
    """The first fenced block after `marker`."""
    return re.search(r"```[a-z]*\n(.*?)```", text[text.index(marker) :], re.DOTALL).group(1)


def test_the_checks_docs_example_is_what_diff_prints(repo, capsys, monkeypatch):
    checks = (REPO_ROOT / "docs" / "checks.md").read_text()
    section = checks[checks.index("## Changing infrastructure safely") :]
    shown = _block_after(section, "`playback-infra diff` prints:")
    printed = _first_change(repo, capsys, monkeypatch)
    assert SHA.sub("SHA", printed) == SHA.sub("SHA", shown)


def test_the_onboardings_first_change_shows_its_resource(repo, capsys, monkeypatch):
    onboarding = (REPO_ROOT / "docs" / "onboarding.md").read_text()
    steps = _block_after(onboarding, "## Your first change")
    assert [line.split("#")[0].strip() for line in steps.splitlines()][:2] == [
        "make synth",
        "playback-infra diff",
    ]
    printed = _first_change(repo, capsys, monkeypatch)
    assert "dev: 1 update" in printed
    assert "   security: FlowLogGroup (AWS::Logs::LogGroup): update" in printed
    assert 'RetentionInDays: "30" -> "14" (via FlowLogRetentionDays)' in onboarding
    assert 'RetentionInDays: "30" -> "14" (via FlowLogRetentionDays)' in printed


def test_the_roll_back_runbooks_diff_shows_what_the_revert_undoes(repo, capsys, monkeypatch):
    runbooks = (REPO_ROOT / "docs" / "runbooks.md").read_text()
    assert "git revert --no-edit BAD-COMMIT && make synth && playback-infra diff" in runbooks
    monkeypatch.setattr(synth, "environments", _retention(14))
    assert main(["--root", str(repo), "synth"]) == EXIT_OK
    _git(repo, "commit", "-qam", "shorter flow logs (the bad commit)")
    bad = _git(repo, "rev-parse", "HEAD")
    monkeypatch.undo()  # the code reverted too
    _git(repo, "revert", "--no-edit", bad)
    assert main(["--root", str(repo), "synth"]) == EXIT_OK
    printed = _diff(repo, capsys)
    assert printed.startswith(f"base {bad[:12]} (HEAD~1: HEAD is main: ")
    assert "dev: 1 update" in printed
    assert 'RetentionInDays: "14" -> "30" (via FlowLogRetentionDays)' in printed


def test_json_gives_every_group_its_base_summary_and_changes(repo, capsys, monkeypatch):
    monkeypatch.setattr(synth, "environments", _retention(14))
    report = json.loads(_diff(repo, capsys, "--format", "json"))
    groups = {group["name"]: group for group in report["groups"]}
    assert list(groups) == ["dev", "staging", "prod", "delivery", "templates"]
    assert report["base"]["name"] == "HEAD" and report["refused"] == []
    dev = groups["dev"]
    assert dev["summary"] == {"update": 1}
    (change,) = dev["changes"]
    assert (change["stack"], change["logical_id"], change["action"], change["refused"]) == (
        "security", "FlowLogGroup", "update", False,
    )  # fmt: skip
    assert change["properties"] == [
        {"path": "RetentionInDays", "old": "30", "new": "14", "action": "update",
         "why": "via FlowLogRetentionDays", "doc": ""}
    ]  # fmt: skip
    assert groups["prod"]["changes"] == []
