"""Run ministack (with ``ministack_plugin``) in its own venv for the duration of a block."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

PLUGIN = Path(__file__).with_name("ministack_plugin.py")
REPO_ROOT = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0
LOG_TAIL_LINES = 30


class EmulatorError(RuntimeError):
    """The emulator could not be started, or died while starting."""


def default_python() -> str:
    """$PLAYBACK_EMULATOR_PYTHON, or the repo's .venv-emulator python."""
    return os.environ.get("PLAYBACK_EMULATOR_PYTHON") or str(
        REPO_ROOT / ".venv-emulator" / "bin" / "python"
    )


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _log_tail(log_path: Path) -> str:
    """The last lines of the emulator's log."""
    lines = log_path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])


def _wait_healthy(process: subprocess.Popen, endpoint: str, log_path: Path) -> None:
    """Poll the health endpoint until it answers 200; EmulatorError if the process dies or
    STARTUP_TIMEOUT passes."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorError(
                f"emulator exited with code {process.returncode}; log tail:\n{_log_tail(log_path)}"
            )
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            opener.open(f"{endpoint}/_ministack/health", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    raise EmulatorError(
        f"emulator not healthy after {STARTUP_TIMEOUT:.0f} s; log tail:\n{_log_tail(log_path)}"
    )


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the emulator, then SIGKILL it if it has not exited after STOP_TIMEOUT."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def run_emulator(python: str | None = None) -> Iterator[str]:
    """Start the emulator on a free 127.0.0.1 port; yields its endpoint URL.

    ``python`` is the emulator venv's interpreter (default: ``default_python()``).
    The emulator keeps no state on disk, uses no Docker and opens no listener
    beyond its HTTP port; its log is in a temporary directory removed on exit.
    """
    python = python or default_python()
    if not Path(python).exists():
        raise EmulatorError(
            f"no emulator python at {python}: run `make .venv-emulator/.installed` "
            "(it installs requirements-emulator.txt) or set PLAYBACK_EMULATOR_PYTHON"
        )
    with tempfile.TemporaryDirectory(prefix="playback-emulator-") as tmp:
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "ministack.log"
        env = {
            **os.environ,
            "GATEWAY_PORT": str(port),
            "BIND_HOST": "127.0.0.1",
            "MINISTACK_HOST": "127.0.0.1",
            "PERSIST_STATE": "0",
            "S3_PERSIST": "0",
            # ministack's own listeners besides the gateway bind every interface.
            "SFTP_ENABLED": "0",
            "IOT_MTLS_ENABLED": "0",
            # A socket that does not exist: ministack then never talks to a Docker
            # daemon (nor reaps another ministack's containers at boot).
            "DOCKER_HOST": f"unix://{tmp}/no-docker.sock",
            # ministack's pid file and generated files land here.
            "TMPDIR": tmp,
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [python, str(PLUGIN)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_healthy(process, endpoint, log_path)
            yield endpoint
        finally:
            _stop(process)
