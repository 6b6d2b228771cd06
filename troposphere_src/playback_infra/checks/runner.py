"""Run every check once, the slow external ones (cfn-lint, checkov) in parallel."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from playback_infra.checks import base as bases
from playback_infra.checks import blue_green, contracts, groups, iam, replacement, suppressions
from playback_infra.environments.model import Environment
from playback_infra.paths import tool
from playback_infra.synth import differences


@dataclass
class Result:
    name: str
    ok: bool
    summary: str
    details: list[str] = field(default_factory=list)


def _cfn_lint(base: Path) -> subprocess.Popen:
    paths = sorted(str(p) for p in (base / "templates").glob("*.yaml"))
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("cfn-lint")), "--format", "parseable", *paths],
        cwd=base,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _cfn_lint_result(process: subprocess.Popen) -> Result:
    out, err = process.communicate()
    findings = [line for line in out.splitlines() if line.strip()]
    rules = [line.split(":")[5] if line.count(":") >= 6 else "?" for line in findings]
    errors = sum(r.startswith("E") for r in rules)
    warnings = sum(r.startswith("W") for r in rules)
    ok = process.returncode == 0 and not findings
    details = findings + ([err.strip()] if err.strip() and not ok else [])
    return Result(
        "cfn-lint",
        ok,
        f"{errors} errors, {warnings} warnings, {len(findings) - errors - warnings} other",
        details,
    )


def _checkov(base: Path) -> subprocess.Popen | None:
    checkov = tool("PLAYBACK_CHECKOV", ".venv-checkov", "checkov")
    if checkov is None:
        return None
    return subprocess.Popen(
        [checkov, "--directory", "templates", "--framework", "cloudformation", "--skip-download",
         "--output", "json", "--compact", "--quiet"],
        cwd=base, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _checkov_result(process: subprocess.Popen | None) -> Result:
    if process is None:
        return Result(
            "checkov",
            False,
            "not installed: run `make .venv-checkov/.installed` or set PLAYBACK_CHECKOV",
        )
    out, err = process.communicate()
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        return Result(
            "checkov", False, f"no report (exit {process.returncode})", [err.strip()[-2000:]]
        )
    summary = report["summary"]
    failed = [
        f"{c['file_path']}: {c['resource']}: {c['check_id']} {c['check_name']}"
        for c in report.get("results", {}).get("failed_checks", [])
    ]
    ok = summary["failed"] == 0 and summary["parsing_errors"] == 0
    text = f"{summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} skipped"
    return Result("checkov", ok, text, failed)


def _in_process(name: str, found: list[str], what: str) -> Result:
    """`what` says what each finding is, e.g. "violations"."""
    return Result(name, not found, f"{len(found)} {what}", found)


def _replacement_guard(
    root: Path, files: dict[str, str], templates: dict[str, dict], order: list[str]
) -> Result:
    try:
        common, found = bases.sections(root, groups.rendering(templates, files, order))
    except bases.BaseError as error:
        return Result("replacement guard", False, "cannot read the base", [str(error)])
    allowlist = root / replacement.ALLOWLIST
    allowed, problems = replacement.load_allowlist(allowlist)
    changes = [change for section in found for change in section.changes]
    managed = blue_green.managed(templates, blue_green.strategies(files))
    refused = problems + replacement.forbidden(changes, allowed, allowlist, managed)
    since = {section.base.describe() for section in found} or {common.describe()}
    return Result(
        "replacement guard", not refused,
        f"{len(changes)} changes since {'; '.join(sorted(since))}, {len(refused)} refused",
        refused,
    )  # fmt: skip


def run_all(
    base: Path,
    files: dict[str, str],
    templates: dict[str, dict],
    models: dict[str, Environment],
) -> list[Result]:
    """`files` are the generated files as the code renders them, `templates` their dicts and
    `models` the validated environments they were rendered for."""
    lint, scan = _cfn_lint(base), _checkov(base)
    results = [
        _replacement_guard(base, files, templates, list(models)),
        _in_process(
            "generated files in sync",
            differences(files, base),
            "files differ from the code (fix: `make synth`)",
        ),
        _in_process("IAM least privilege", iam.problems(templates), "violations"),
        _in_process(
            "suppressions have reasons", suppressions.problems(templates), "without a reason"
        ),
        _in_process(
            "AWS contracts",
            contracts.problems(contracts.subject(templates, files, models)),
            "broken (each names the AWS page it encodes)",
        ),
    ]
    return [*results, _cfn_lint_result(lint), _checkov_result(scan)]
