"""Benchmark: `playback-infra synth` for every environment, as a whole process, no checks.

Runs the synth RUNS times into fresh empty directories (so every file is rendered and written)
and prints the median wall time and the peak resident memory of the process.
Run with `make bench` (or `.venv/bin/python benchmarks/synth.py`).
Targets: median under 0.35 s, peak under 100 MiB, on 2 cores.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 5


def one_run() -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one synth process."""
    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "playback_infra", "--root", root, "synth"],
            stdout=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"synth failed with exit code {process.returncode}")
        return wall, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    runs = [one_run() for _ in range(RUNS)]
    walls = sorted(w for w, _ in runs)
    print(f"synth, {RUNS} runs: median {statistics.median(walls):.3f} s "
          f"(min {walls[0]:.3f}, max {walls[-1]:.3f}), "
          f"peak memory {max(m for _, m in runs):.1f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
