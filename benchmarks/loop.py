"""Benchmark: the two loops, edit -> `make synth` and a fresh clone -> `make test`.

`make bench` measures, each as a whole process and each several times (min and median):
- synth: `python -m playback_infra --root EMPTY synth`, every file written into an empty
  directory, with Python's bytecode cache warm (one untimed run first; PYTHONDONTWRITEBYTECODE
  dropped from the child's environment, as on a developer's machine); beside it the AWS CDK
  peer (benchmarks/cdk_peer/app.js, `node` running app.synth() on the same stacks and
  resources for the three environments) as CDK runs by default, its built-in CloudFormation
  validation on, and the ratio of the two medians; and for comparison the peer with that
  validation off (CDK_VALIDATION=false) and synth's ratio to it. The ratio the goal is read
  against is the first: what a CDK user gets without opting out of anything;
- make synth, nothing changed: `make synth` (synth, diagram, every check) in a clone of HEAD
  whose venvs reuse this checkout's (tests/clone.py), after one untimed run has filled a
  check cache of its own;
- make synth, one environment field changed: the same, each run after setting dev's
  alarm_email in environments/catalog.py to a new value, so parameters/dev.json, taskcat.yml and
  templates/pipeline.yaml (the pipelines notify it) change and pipeline.yaml is checked again.
`make bench-test` (`--test`) measures `make test` on a fresh clone of HEAD: apt packages (if
missing), every venv from the pinned requirements, npm ci, ruff and pytest; once.

Prints each figure with the machine's load average, and writes them to
benchmarks/results/loop.json (`--test`: results/test.json); `benchmarks/figures.py` then
rewrites the figures the docs quote.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # tests.clone

from tests.clone import clone, git_clone  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "results"
PEER = REPO_ROOT / "benchmarks" / "cdk_peer"
SYNTH_RUNS, MAKE_RUNS = 7, 3
FIELD = re.compile(r'alarm_email="playback-alerts-dev[^"@]*@example.com"')


def _timed(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one run; exits on failure."""
    with tempfile.TemporaryFile() as stderr:  # a file: a pipe could fill and stall the child
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            stderr.seek(0)
            raise SystemExit(f"{' '.join(command)} failed:\n{stderr.read().decode()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _runs(count: int, one: Callable[[], tuple[float, float]]) -> dict[str, float]:
    runs = [one() for _ in range(count)]
    walls = sorted(wall for wall, _ in runs)
    return {
        "min": round(walls[0], 2),
        "median": round(statistics.median(walls), 2),
        "cpu_median": round(statistics.median(cpu for _, cpu in runs), 2),
        "runs": count,
    }


def _synth_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _synth_once(env: dict[str, str]) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as root:
        return _timed(
            [sys.executable, "-m", "playback_infra", "--root", root, "synth"], REPO_ROOT, env
        )


def _write_shape(directory: Path) -> None:
    """What the CDK peer builds: the rendered templates as JSON and the environments' values."""
    from playback_infra.synth import STANDALONE, render

    rendered = render()
    for name, template in rendered.dicts.items():
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::CloudFormation::Stack" and name == "root":
                url = resource["Properties"]["TemplateURL"]  # the peer reads its children's JSON
                resource["Properties"]["TemplateURL"] = url.removesuffix(".yaml") + ".json"
        (directory / f"{name}.json").write_text(json.dumps(template))
    environments = {
        name: json.loads(rendered.files[f"parameters/{name}.json"])["Parameters"]
        for name in rendered.environments
    }
    shape = {"environments": environments, "standalone": list(STANDALONE)}
    (directory / "shape.json").write_text(json.dumps(shape))


def _peer_env(validation: bool) -> dict[str, str]:
    """The peer's environment: CDK's default (its built-in validation on), or with the
    validation off by CDK's documented switch."""
    env = {k: v for k, v in os.environ.items() if k != "CDK_VALIDATION"}
    return env if validation else {**env, "CDK_VALIDATION": "false"}


def _peer_once(shape: Path, env: dict[str, str]) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as out:
        return _timed(["node", str(PEER / "app.js"), str(shape), out], PEER, env)


def _make_synth(checkout: Path, env: dict[str, str], change: int = 0) -> tuple[float, float]:
    """`make synth`; with `change`, after setting dev's alarm_email to a value no run had, so
    that no check finds the changed files' results in its cache."""
    if change:
        catalog = checkout / "troposphere_src/playback_infra/environments/catalog.py"
        value = f'alarm_email="playback-alerts-dev-bench{change}@example.com"'
        text, count = FIELD.subn(value, catalog.read_text())
        assert count == 1, f"dev's alarm_email not found in {catalog}"
        catalog.write_text(text)
    return _timed(["make", "synth"], checkout, env)


def _loop(work: Path) -> dict:
    env = _synth_env()
    _synth_once(env)  # writes the bytecode cache
    synth = _runs(SYNTH_RUNS, lambda: _synth_once(env))
    print(f"synth: {_said(synth)}", flush=True)
    shape = work / "shape"
    shape.mkdir()
    _write_shape(shape)
    peers = {}
    for validation in (True, False):
        env = _peer_env(validation)
        _peer_once(shape, env)
        peers[validation] = _runs(SYNTH_RUNS, lambda env=env: _peer_once(shape, env))
    peer, unvalidated = peers[True], peers[False]
    ratio = round(synth["median"] / peer["median"], 3)
    unvalidated_ratio = round(synth["median"] / unvalidated["median"], 3)
    print(
        f"CDK peer as CDK runs by default (its CloudFormation validation on): {_said(peer)}; "
        f"synth / peer (medians): {ratio}",
        flush=True,
    )
    print(
        f"CDK peer with CDK_VALIDATION=false: {_said(unvalidated)}; synth / that peer: "
        f"{unvalidated_ratio}",
        flush=True,
    )
    checkout = work / "checkout"
    make_env = {**clone(checkout), "PLAYBACK_CHECK_CACHE": str(work / "check-cache")}
    make_env.pop("PYTHONDONTWRITEBYTECODE", None)
    _make_synth(checkout, make_env)  # fills the check cache
    unchanged = _runs(MAKE_RUNS, lambda: _make_synth(checkout, make_env))
    print(f"make synth, nothing changed: {_said(unchanged)}", flush=True)
    changes = iter(range(1, MAKE_RUNS + 1))
    changed = _runs(MAKE_RUNS, lambda: _make_synth(checkout, make_env, next(changes)))
    print(f"make synth, one environment field changed: {_said(changed)}", flush=True)
    return {
        "synth": synth,
        "cdk_peer": peer,
        "cdk_peer_validation_off": unvalidated,
        "synth_to_cdk_peer_is": "synth's median over the peer's as CDK runs by default (its "
        "built-in CloudFormation validation on: AppProps builtinCloudFormationValidation defaults "
        "to true), what a CDK user gets without opting out; the peer with CDK_VALIDATION=false "
        "and synth's ratio to it are given for comparison",
        "make_synth_unchanged": unchanged,
        "make_synth_field_changed": changed,
        "figures": {
            "synth_seconds": synth["median"],
            "cdk_peer_seconds": peer["median"],
            "synth_to_cdk_peer": ratio,
            "cdk_peer_validation_off_seconds": unvalidated["median"],
            "synth_to_cdk_peer_validation_off": unvalidated_ratio,
            "make_synth_unchanged_seconds": unchanged["median"],
            "make_synth_field_changed_seconds": changed["median"],
        },
    }


def _test(work: Path) -> dict:
    checkout = work / "checkout"
    (work / "shared").symlink_to(REPO_ROOT.parent / "shared")  # beside the clone, as in CI
    git_clone(checkout)  # nothing reused: make test installs everything
    env = {**os.environ, "CI": "true"}
    started = time.perf_counter()
    done = subprocess.run(["make", "test"], cwd=checkout, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"make test failed:\n{done.stdout[-5000:]}\n{done.stderr[-3000:]}")
    # pytest's last line: "==== 1515 passed, 3 skipped in 427.12s (0:07:07) ===="
    summary = [line for line in done.stdout.splitlines() if re.search(r" in [\d.]+s", line)][-1]
    pytest_seconds = float(re.search(r" in ([\d.]+)s", summary)[1])
    print(
        f"make test on a fresh clone: {wall:.0f} s (pytest {pytest_seconds:.0f} s: {summary.strip('= ')})"
    )
    return {
        "pytest_summary": summary.strip("= "),
        "figures": {
            "make_test_seconds": round(wall),
            "make_test_minutes": round(wall / 60, 1),
            "pytest_seconds": round(pytest_seconds),
        },
    }


def _said(measured: dict[str, float]) -> str:
    return (
        f"median {measured['median']:.2f} s, min {measured['min']:.2f} s "
        f"(CPU {measured['cpu_median']:.2f} s; {measured['runs']} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test", action="store_true", help="measure `make test` on a fresh clone")
    args = parser.parse_args()
    load_before = os.getloadavg()
    print(f"load average: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="playback-bench-") as work:
        measured = (_test if args.test else _loop)(Path(work))
    load_after = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("test.json" if args.test else "loop.json")).write_text(
        json.dumps(
            {
                "command": "make bench-test" if args.test else "make bench",
                "measured": datetime.date.today().isoformat(),
                "cores": os.cpu_count(),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in load_after],
                **measured,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
