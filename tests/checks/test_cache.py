"""The slow checks' cache: a template whose inputs changed is checked again, one whose inputs
did not is not, and nothing but a finished tool run is kept."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from playback_infra.checks import base as bases
from playback_infra.checks import cache, runner
from playback_infra.paths import REPO_ROOT

SMALL = ("alerts.yaml", "dr-vault.yaml")


def _base(tmp_path: Path, names=SMALL) -> Path:
    base = tmp_path / "repo"
    (base / "templates").mkdir(parents=True)
    for name in names:
        shutil.copy(REPO_ROOT / "templates" / name, base / "templates" / name)
    return base


def _run(base: Path, store: cache.Cache) -> dict[str, tuple[runner.Result, list[str]]]:
    """Each slow check's result and the templates it ran its tool on."""
    lint, scan = runner._cfn_lint_start(base, store), runner._checkov_start(base, store)
    return {
        "cfn-lint": (runner._cfn_lint_result(lint, store), lint.checked),
        "checkov": (runner._checkov_result(scan, store), scan.checked),
    }


def test_only_templates_whose_bytes_changed_are_checked_again(tmp_path):
    base, store = _base(tmp_path), cache.Cache(tmp_path / "cache")
    first = _run(base, store)
    assert {name: checked for name, (_, checked) in first.items()} == {
        "cfn-lint": ["templates/alerts.yaml", "templates/dr-vault.yaml"],
        "checkov": ["templates/alerts.yaml", "templates/dr-vault.yaml"],
    }
    again = _run(base, store)
    assert {name: checked for name, (_, checked) in again.items()} == {
        "cfn-lint": [],
        "checkov": [],
    }
    for name, (result, _) in again.items():
        assert (result.ok, result.summary, result.details) == (
            first[name][0].ok,
            first[name][0].summary,
            first[name][0].details,
        )
    alerts = base / "templates" / "alerts.yaml"
    alerts.write_text(alerts.read_text().replace("Type: String", "Type: Number", 1))
    changed = _run(base, store)
    assert {name: checked for name, (_, checked) in changed.items()} == {
        "cfn-lint": ["templates/alerts.yaml"],
        "checkov": ["templates/alerts.yaml"],
    }
    assert changed["checkov"][0].summary == first["checkov"][0].summary


def test_a_nested_template_is_part_of_its_parents_key(tmp_path):
    """cfn-lint compares the root's parameters for a child with the child's (E3043)."""
    base = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "templates", base / "templates")
    every = runner._templates(base)

    def keys():
        return runner._keys(
            base, ["same tool"], lambda p, t: cache.files(runner._nested(base, p, t, every), base)
        )

    before = keys()
    network = base / "templates" / "network.yaml"
    network.write_text(network.read_text() + "# changed\n")
    after = keys()
    # taskcat-root nests the uploaded copies (https URLs), which cfn-lint does not read.
    assert sorted(p for p in before if before[p] != after[p]) == [
        "templates/network.yaml",
        "templates/root.yaml",
    ]


def test_the_installed_packages_are_part_of_a_tools_key(tmp_path):
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    (site / "checkov-3.3.30.dist-info").mkdir(parents=True)
    (venv / "bin").mkdir()
    script = venv / "bin" / "checkov"
    script.write_text(f"#!{venv / 'bin' / 'python'}\nimport checkov\n")
    before = cache.tool(str(script))
    (site / "checkov-3.3.30.dist-info").rename(site / "checkov-3.3.31.dist-info")
    assert cache.tool(str(script)) != before


def test_a_tool_run_that_gave_no_report_is_not_kept(tmp_path, monkeypatch):
    fake = tmp_path / "checkov"
    fake.write_text(f"#!{sys.executable}\nprint('Traceback: not a report')\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PLAYBACK_CHECKOV", str(fake))
    base, store = _base(tmp_path, SMALL[:1]), cache.Cache(tmp_path / "cache")
    for _ in range(2):
        scan = runner._checkov_start(base, store)
        assert scan.checked == ["templates/alerts.yaml"]  # asked again: nothing was kept
        result = runner._checkov_result(scan, store)
        assert (result.ok, result.summary) == (False, "no report (exit 0)")
    assert not (tmp_path / "cache" / "checkov").exists() or not any(
        (tmp_path / "cache" / "checkov").iterdir()
    )


def test_the_base_rendering_is_kept_per_commit(tmp_path, monkeypatch):
    head = bases.fallback(REPO_ROOT, "HEAD")
    store = cache.Cache(tmp_path / "cache")
    read = bases.rendering_at(REPO_ROOT, head, store)
    assert read == bases.rendering_at(REPO_ROOT, head)

    def no_git_show(root, commit):
        raise AssertionError("read again")

    monkeypatch.setattr(bases, "_read", no_git_show)
    bases._rendering.cache_clear()
    assert bases.rendering_at(REPO_ROOT, head, store) == read
    with pytest.raises(AssertionError, match="read again"):
        bases.rendering_at(REPO_ROOT, head, cache.Cache(tmp_path / "other"))
