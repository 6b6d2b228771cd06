"""Run ministack (with ``ministack_plugin``) in its own venv: for the duration of a block
(``run_emulator``, the tests' emulators), or in the background as a checkout's local AWS
(``start_background``, ``stop_background``: what ``deploy`` deploys into when given no account).

A background emulator keeps its state in its own memory for as long as it runs: the plugin's
services have no on-disk form (ministack's ``PERSIST_STATE`` would restore ministack's own
services without them), so stopping it discards the environment. Its record (process, port)
and log live in a directory of the checkout, ``.deploy/emulator/`` (gitignored).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PLUGIN = Path(__file__).with_name("ministack_plugin.py")
REPO_ROOT = Path(__file__).resolve().parents[3]
BACKGROUND_DIR = Path(".deploy") / "emulator"  # under the checkout
RECORD, LOG = "emulator.json", "ministack.log"
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


def _port_is_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:`port` (closed connections waiting out TIME_WAIT, as after
    a stop, do not count: the emulator's server binds with SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _log_tail(log_path: Path) -> str:
    """The last lines of the emulator's log."""
    lines = log_path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])


def _healthy(endpoint: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with (
        contextlib.suppress(urllib.error.URLError, OSError),
        opener.open(f"{endpoint}/_ministack/health", timeout=2) as response,
    ):
        return response.status == 200
    return False


def _wait_healthy(process: subprocess.Popen, endpoint: str, log_path: Path) -> None:
    """Poll the health endpoint until it answers 200; EmulatorError if the process dies or
    STARTUP_TIMEOUT passes."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorError(
                f"emulator exited with code {process.returncode}; log tail:\n{_log_tail(log_path)}"
            )
        if _healthy(endpoint):
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


def _spawn(
    python: str | None, port: int, workdir: Path, log_path: Path, background: bool
) -> subprocess.Popen:
    """Start the emulator on 127.0.0.1:`port`, its files in `workdir`, its output in `log_path`;
    a `background` one in its own session, so that the terminal's Ctrl-C does not reach it."""
    python = python or default_python()
    if not Path(python).exists():
        raise EmulatorError(
            f"no emulator python at {python}: run `make .venv-emulator/.installed` "
            "(it installs requirements-emulator.txt) or set PLAYBACK_EMULATOR_PYTHON"
        )
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
        "DOCKER_HOST": f"unix://{workdir}/no-docker.sock",
        # ministack's pid file and generated files land here.
        "TMPDIR": str(workdir),
    }
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [python, str(PLUGIN)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=background,
        )


@contextlib.contextmanager
def run_emulator(python: str | None = None) -> Iterator[str]:
    """Start the emulator on a free 127.0.0.1 port; yields its endpoint URL.

    ``python`` is the emulator venv's interpreter (default: ``default_python()``).
    The emulator keeps no state on disk, uses no Docker and opens no listener
    beyond its HTTP port; its log is in a temporary directory removed on exit.
    """
    with tempfile.TemporaryDirectory(prefix="playback-emulator-") as tmp:
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "ministack.log"
        process = _spawn(python, port, Path(tmp), log_path, background=False)
        try:
            _wait_healthy(process, endpoint, log_path)
            yield endpoint
        finally:
            _stop(process)


# --- the background emulator -------------------------------------------------------------------


@dataclass(frozen=True)
class Background:
    """A checkout's background emulator."""

    endpoint: str
    pid: int
    directory: Path
    """Its record and log (`LOG`)."""
    started: bool
    """Started by this call; False when it was running already."""

    def describe(self, region: str) -> str:
        """Where it is, where its state lives, and how awscli reaches it (AWS_ENDPOINT_URL:
        https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-endpoints.html; credentials
        and region: https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-envvars.html)."""
        how = "started" if self.started else "running"
        return (
            f"emulator: {self.endpoint} ({how}, pid {self.pid})\n"
            "  state: in the emulator's memory, kept between deploys until `playback-infra "
            f"emulator stop` or `reset`; its record and log: {self.directory}\n"
            f"  awscli: {self.variables(region)} aws cloudformation describe-stacks"
        )

    def variables(self, region: str) -> str:
        """The environment variables that point awscli and the SDKs at it."""
        return (
            f"AWS_ENDPOINT_URL={self.endpoint} AWS_DEFAULT_REGION={region} "
            "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
        )


def _record(directory: Path) -> dict:
    """The directory's record ({} when there is none)."""
    path = directory / RECORD
    return json.loads(path.read_text()) if path.exists() else {}


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[dict]:
    """The directory's record, with the directory locked against another `deploy` or `emulator`
    command of the same checkout."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield _record(directory)


def _write_record(directory: Path, record: dict) -> None:
    (directory / RECORD).write_text(json.dumps(record, indent=1) + "\n")


def _is_emulator(pid: int | None) -> bool:
    """Whether process `pid` runs the plugin (a recorded pid may since belong to another
    program); a stopped one's /proc entry is gone, or empty while it awaits its reaper."""
    if not pid:
        return False
    proc = Path(f"/proc/{pid}/cmdline")
    if proc.parent.parent.is_dir():
        with contextlib.suppress(OSError):
            return str(PLUGIN).encode() in proc.read_bytes()
        return False
    done = subprocess.run(["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True)
    return str(PLUGIN) in done.stdout


def _answering(record: dict, directory: Path) -> Background | None:
    """The emulator `record` names, if it runs and answers."""
    if record and _is_emulator(record.get("pid")) and _healthy(record["endpoint"]):
        return Background(record["endpoint"], record["pid"], directory, started=False)
    return None


def running(directory: Path) -> Background | None:
    """The background emulator recorded in `directory`, if it runs and answers (nothing is
    written: asking creates no directory)."""
    return _answering(_record(directory), directory)


def start_background(directory: Path, python: str | None = None) -> Background:
    """The background emulator recorded in `directory`, started unless it runs: on the port it
    had before when that is free, so that its endpoint stays the one the user configured."""
    with _locked(directory) as record:
        if found := _answering(record, directory):
            return found
        if record and _is_emulator(record.get("pid")):  # alive but not answering: replaced
            _end_session(record["pid"])
        port = record.get("port")
        port = port if port and _port_is_free(port) else _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        workdir = directory / "tmp"
        workdir.mkdir(exist_ok=True)
        process = _spawn(python, port, workdir, directory / LOG, background=True)
        try:
            _wait_healthy(process, endpoint, directory / LOG)
        except EmulatorError:
            _stop(process)
            raise
        # Left running on purpose (the next deploy, awscli and `emulator stop` find it through
        # the record): marked done, so that Popen's finalizer neither warns nor waits for it.
        process.returncode = 0
        _write_record(directory, {"endpoint": endpoint, "port": port, "pid": process.pid})
        return Background(endpoint, process.pid, directory, started=True)


def stop_background(directory: Path) -> Background | None:
    """Stop the background emulator recorded in `directory` (its state is gone); the one that
    ran, or None. Its port stays recorded for the next start."""
    with _locked(directory) as record:
        if not (record and _is_emulator(record.get("pid"))):
            return None
        pid = record["pid"]
        _end_session(pid)
        _write_record(directory, {"endpoint": record["endpoint"], "port": record["port"]})
        return Background(record["endpoint"], pid, directory, started=False)


def _end_session(pid: int) -> None:
    """SIGTERM the emulator's session (it and what it started), SIGKILL after STOP_TIMEOUT."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _is_emulator(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _is_emulator(pid):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)  # reaped here when this process started it (a test)
