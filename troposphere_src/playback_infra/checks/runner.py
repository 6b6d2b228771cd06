"""Run every check once, each result as soon as it is known, with its time.

cfn-lint and checkov start first, side by side in their own processes, while the in-process
checks run; their results come last. Both judge one template at a time (cfn-lint also reads
the templates a template nests, for their parameters), so each template's findings are kept
in the cache (`checks/cache.py`) and only the templates whose inputs changed are checked
again. The replacement guard keeps the base's rendering per commit the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from playback_infra.checks import base as bases
from playback_infra.checks import blue_green, contracts, groups, iam, replacement, suppressions
from playback_infra.checks import cache as caching
from playback_infra.environments.model import Environment
from playback_infra.paths import tool
from playback_infra.stacks.pipeline_target import execution_permissions
from playback_infra.synth import differences

CFN_LINT_ARGS = ("--format", "parseable")
CHECKOV_ARGS = ("--framework", "cloudformation", "--skip-download", "--output", "json", "--compact")
# Each check's own code is part of its cache key.
_OWN_CODE = (Path(__file__), Path(caching.__file__))


@dataclass
class Result:
    name: str
    ok: bool
    summary: str
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""
    """How the result was come by, e.g. "19 of 20 templates from the cache"."""


@dataclass
class _Scan:
    """An external tool's run over the templates the cache did not answer for."""

    name: str
    keys: dict[str, str]
    """Template path -> its cache key."""
    found: dict[str, dict]
    """Template path -> its findings, from the cache or (once read) from this run."""
    checked: list[str]
    """The templates this run checks (the cache had no result for them)."""
    process: subprocess.Popen | None
    started: float

    @property
    def note(self) -> str:
        return f"{len(self.keys) - len(self.checked)} of {len(self.keys)} templates from the cache"


def _templates(base: Path) -> list[str]:
    return sorted(p.relative_to(base).as_posix() for p in (base / "templates").glob("*.yaml"))


def _strings(node) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from _strings(item)


def _nested(base: Path, path: str, text: str, every: list[str]) -> list[Path]:
    """The local templates `path` nests: cfn-lint reads their parameters (rule E3043). A
    template that does not parse may nest any of them."""
    if "AWS::CloudFormation::Stack" not in text and "AWS::Serverless::Application" not in text:
        return []
    from playback_infra.yaml_render import from_yaml

    try:
        resources = dict(from_yaml(text).get("Resources") or {})
        locations = {
            value
            for resource in resources.values()
            for name in ("TemplateURL", "Location")
            for value in _strings((resource.get("Properties") or {}).get(name))
        }
    except Exception:  # whatever does not parse here, cfn-lint reports
        return [base / other for other in every]
    directory = (base / path).parent
    return sorted(
        Path(os.path.normpath(directory / location))
        for location in locations
        if not location.startswith(("http://", "https://", "s3://"))
    )


def _keys(
    base: Path, shared: list[str | bytes], extra: Callable[[str, str], list[str | bytes]]
) -> dict[str, str]:
    """Template path -> the key of its result: what every template shares, its path and bytes,
    and what `extra(path, text)` adds."""
    keys = {}
    for path in _templates(base):
        text = (base / path).read_text()
        keys[path] = caching.key(*shared, path, text, *extra(path, text))
    return keys


def _start(
    name: str,
    base: Path,
    store: caching.Cache,
    command: Callable[[list[str]], list[str]],
    shared: list[str | bytes],
    extra: Callable[[str, str], list[str | bytes]] = lambda path, text: [],
) -> _Scan:
    """Look each template up in the cache; start `command(paths)` on the rest."""
    started = time.perf_counter()
    keys = _keys(base, shared, extra)
    found = store.get_many(name, keys)
    checked = [path for path in keys if path not in found]
    process = None
    if checked:
        process = subprocess.Popen(
            command(checked), cwd=base, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    return _Scan(name, keys, found, checked, process, started)


def _shared(executable: str, args: tuple[str, ...], base: Path, configs: list[str], env: str):
    home = Path.home()
    return [
        caching.tool(executable),
        json.dumps(args),
        *caching.files([base / c for c in configs], base),
        *caching.files([home / c for c in configs], home),
        env,
        *caching.files(_OWN_CODE, Path(__file__).parent),
    ]


def _cfn_lint_start(base: Path, store: caching.Cache) -> _Scan:
    executable = str(Path(sys.executable).with_name("cfn-lint"))
    configs = [".cfnlintrc", ".cfnlintrc.yaml", ".cfnlintrc.yml"]
    shared = _shared(
        executable, CFN_LINT_ARGS, base, configs,
        caching.environment((), ("AWS_REGION", "AWS_DEFAULT_REGION")),
    )  # fmt: skip
    every = _templates(base)
    return _start(
        "cfn-lint", base, store, lambda paths: [executable, *CFN_LINT_ARGS, *paths], shared,
        lambda path, text: caching.files(_nested(base, path, text, every), base),
    )  # fmt: skip


def _cfn_lint_findings(scan: _Scan, store: caching.Cache) -> list[str]:
    """Every finding line; the new ones stored per template. Raises RuntimeError if cfn-lint
    itself failed (exit code bit 1) or printed what is no finding of a template."""
    if scan.process is not None:
        out, err = scan.process.communicate()
        lines = [line for line in out.splitlines() if line.strip()]
        per_file: dict[str, list[str]] = {path: [] for path in scan.checked}
        for line in lines:
            path = line.split(":", 1)[0]
            if path not in per_file:
                raise RuntimeError(f"cfn-lint: unexpected output {line!r}\n{err.strip()}")
            per_file[path].append(line)
        if scan.process.returncode & 1:
            raise RuntimeError(f"cfn-lint exited {scan.process.returncode}\n{err.strip()}")
        for path, found in per_file.items():
            store.put(scan.name, scan.keys[path], {"findings": found})
            scan.found[path] = {"findings": found}
    return [line for path in sorted(scan.found) for line in scan.found[path]["findings"]]


def _cfn_lint_result(scan: _Scan, store: caching.Cache) -> Result:
    try:
        findings = _cfn_lint_findings(scan, store)
    except RuntimeError as error:
        return Result("cfn-lint", False, "did not finish", [str(error)[-2000:]])
    rules = [line.split(":")[5] if line.count(":") >= 6 else "?" for line in findings]
    errors = sum(r.startswith("E") for r in rules)
    warnings = sum(r.startswith("W") for r in rules)
    return Result(
        "cfn-lint",
        not findings,
        f"{errors} errors, {warnings} warnings, {len(findings) - errors - warnings} other",
        findings,
    )


def _checkov_start(base: Path, store: caching.Cache) -> _Scan | None:
    checkov = tool("PLAYBACK_CHECKOV", ".venv-checkov", "checkov")
    if checkov is None:
        return None
    shared = _shared(
        checkov, CHECKOV_ARGS, base, [".checkov.yaml", ".checkov.yml"],
        caching.environment(("CKV_", "CHECKOV_", "BC_")),
    )  # fmt: skip
    return _start(
        "checkov", base, store,
        lambda paths: [checkov, *CHECKOV_ARGS, *(a for path in paths for a in ("--file", path))],
        shared,
    )  # fmt: skip


def _per_template(report: dict, checked: list[str]) -> dict[str, dict]:
    """A checkov report split by template: counts, failures and parsing errors."""
    found = {
        path: {"passed": 0, "failed": [], "skipped": 0, "parse_error": False} for path in checked
    }
    results = report["results"]
    for outcome in ("passed_checks", "failed_checks", "skipped_checks"):
        for c in results.get(outcome, []):
            entry = found[c["file_path"].lstrip("/")]
            if outcome == "failed_checks":
                entry["failed"].append(f"{c['resource']}: {c['check_id']} {c['check_name']}")
            else:
                entry[outcome.removesuffix("_checks")] += 1
    for path in results.get("parsing_errors", []):
        found[path.lstrip("/")]["parse_error"] = True
    return found


def _checkov_result(scan: _Scan | None, store: caching.Cache) -> Result:
    if scan is None:
        return Result(
            "checkov",
            False,
            "not installed: run `make .venv-checkov/.installed` or set PLAYBACK_CHECKOV",
        )
    if scan.process is not None:
        out, err = scan.process.communicate()
        try:
            new = _per_template(json.loads(out), scan.checked)
        except (json.JSONDecodeError, KeyError, TypeError):
            return Result(
                "checkov",
                False,
                f"no report (exit {scan.process.returncode})",
                [err.strip()[-2000:]],
            )
        for path, entry in new.items():
            store.put(scan.name, scan.keys[path], entry)
        scan.found.update(new)
    entries = [(path, scan.found[path]) for path in sorted(scan.found)]
    failed = [f"{path}: {failure}" for path, e in entries for failure in e["failed"]]
    failed += [f"{path}: does not parse" for path, e in entries if e["parse_error"]]
    passed, skipped = (sum(e[what] for _, e in entries) for what in ("passed", "skipped"))
    text = f"{passed} passed, {len(failed)} failed, {skipped} skipped"
    return Result("checkov", not failed, text, failed)


def _in_process(name: str, found: list[str], what: str) -> Result:
    """`what` says what each finding is, e.g. "violations"."""
    return Result(name, not found, f"{len(found)} {what}", found)


def _replacement_guard(
    root: Path,
    files: dict[str, str],
    templates: dict[str, dict],
    order: list[str],
    store: caching.Cache,
) -> Result:
    try:
        common, found = bases.sections(root, groups.rendering(templates, files, order), store=store)
    except bases.BaseError as error:
        return Result("replacement guard", False, "cannot read the base", [str(error)])
    changes = [change for section in found for change in section.changes]
    refused = replacement.refusals(root, changes, templates, blue_green.strategies(files))
    since = {section.base.describe() for section in found} or {common.describe()}
    return Result(
        "replacement guard", not refused,
        f"{len(changes)} changes since {'; '.join(sorted(since))}, {len(refused)} refused",
        refused,
    )  # fmt: skip


def generated_differences(files: dict[str, str], base: Path) -> list[str]:
    """Generated paths under `base` that differ from the code: synth's `files`, and the
    execution role's action table (from the pinned schemas: `playback-infra execution-actions`)."""
    table = execution_permissions.table_path()
    fresh = execution_permissions.table_text(execution_permissions.derived_table())
    stale_table = not (base / table).exists() or (base / table).read_text() != fresh
    return differences(files, base) + ([table] if stale_table else [])


def _timed(check: Callable[[], Result], started: float | None = None) -> Result:
    started = time.perf_counter() if started is None else started
    result = check()
    result.seconds = time.perf_counter() - started
    return result


def run_all(
    base: Path,
    files: dict[str, str],
    templates: dict[str, dict],
    models: dict[str, Environment],
    store: caching.Cache | None = None,
) -> Iterator[Result]:
    """Each check's result as it is known: the in-process checks', then cfn-lint's and
    checkov's in the order they finish. `files` are the generated files as the code renders
    them, `templates` their dicts and `models` the validated environments they were rendered
    for; `store` keeps and reuses the slow checks' results (default: none kept)."""
    store = store or caching.Cache(None)
    lint, scan = _cfn_lint_start(base, store), _checkov_start(base, store)
    yield _timed(lambda: _replacement_guard(base, files, templates, list(models), store))
    yield _timed(lambda: _in_process(
        "generated files in sync", generated_differences(files, base),
        "files differ from the code (fix: `make synth`)",
    ))  # fmt: skip
    yield _timed(lambda: _in_process("IAM least privilege", iam.problems(templates), "violations"))
    yield _timed(lambda: _in_process(
        "suppressions have reasons", suppressions.problems(templates), "without a reason"
    ))  # fmt: skip
    yield _timed(lambda: _in_process(
        "AWS contracts", contracts.problems(contracts.subject(templates, files, models)),
        "broken (each names the AWS page it encodes)",
    ))  # fmt: skip
    slow = (
        (lint, lambda: _cfn_lint_result(lint, store)),
        (scan, lambda: _checkov_result(scan, store)),
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        waiting = {pool.submit(_timed, check, s.started if s else None): s for s, check in slow}
        for done in as_completed(waiting):
            result = done.result()
            if waiting[done] is not None:
                result.note = waiting[done].note
            yield result
