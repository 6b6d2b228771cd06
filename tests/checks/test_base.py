"""checks/base.py: which commit each environment's changes are counted from, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from playback_infra.checks import base
from playback_infra.cli import EXIT_CONFIG, main
from tests.checks.helpers import git as _git


def _commit(repo: Path, text: str) -> str:
    (repo / "file.txt").write_text(text)
    _git(repo, "add", "file.txt")
    _git(repo, "commit", "-qm", text)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path) -> Path:
    _git(tmp_path, "init", "-q", "-b", "main")
    return tmp_path


def test_a_branch_off_main_is_compared_with_where_it_left_main(repo):
    left = _commit(repo, "one")
    _git(repo, "checkout", "-qb", "feature")
    _commit(repo, "two")
    _git(repo, "checkout", "-q", "main")
    _commit(repo, "three")  # main moved on: still the fork point
    _git(repo, "checkout", "-q", "feature")
    found = base.fallback(repo)
    assert (found.commit, found.name) == (left, "merge base with main")


def test_main_without_uncommitted_changes_is_compared_with_its_last_commits_parent(repo):
    first = _commit(repo, "one")
    _commit(repo, "two")
    found = base.fallback(repo)
    assert (found.commit, found.name) == (first, "HEAD~1")
    assert found.why == "HEAD is main: its last commit is compared with its parent"


def test_main_with_uncommitted_changes_is_compared_with_head(repo):
    _commit(repo, "one")
    head = _commit(repo, "two")
    (repo / "file.txt").write_text("three")
    found = base.fallback(repo)
    assert (found.commit, found.name, found.why) == (
        head, "HEAD", "HEAD is main, with uncommitted changes",
    )  # fmt: skip


def test_the_only_commit_is_its_own_base(repo):
    head = _commit(repo, "one")
    assert (base.fallback(repo).commit, base.fallback(repo).name) == (head, "HEAD")


def test_a_given_base_wins_and_an_unknown_one_is_refused(repo):
    first = _commit(repo, "one")
    _commit(repo, "two")
    assert base.fallback(repo, "HEAD~1").commit == first
    with pytest.raises(base.BaseError, match="--base nope is not a commit here"):
        base.fallback(repo, "nope")


def test_a_deployed_tag_is_its_environments_base(repo):
    deployed = _commit(repo, "one")
    _git(repo, "tag", "-a", "deployed/prod", "-m", "deployed to prod", deployed)
    _commit(repo, "two")
    found = base.deployed(repo, "prod")
    assert (found.commit, found.name) == (deployed, "deployed/prod")
    assert found.why.startswith("the commit last deployed to prod, tagged 20")
    assert base.deployed(repo, "dev") is None


def test_diff_outside_a_git_checkout_is_one_clear_error(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "diff"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith(f"diff: {tmp_path} is not a git checkout with a commit")
    assert "Traceback" not in err
