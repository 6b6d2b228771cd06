"""Starting the emulator (emulator/process.py): what fails is reported; the background
emulator's record: what `emulator stop` may signal and what it leaves."""

from __future__ import annotations

import json
import os

import pytest

from playback_infra.emulator.process import (
    RECORD,
    EmulatorError,
    run_emulator,
    running,
    stop_background,
)


@pytest.mark.emulator
def test_missing_emulator_python_is_reported(tmp_path):
    with (
        pytest.raises(EmulatorError, match="PLAYBACK_EMULATOR_PYTHON"),
        run_emulator(str(tmp_path / "no-python")),
    ):
        pass


@pytest.mark.emulator
def test_emulator_that_exits_is_reported_with_its_log(tmp_path):
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'no ministack here'\nexit 3\n")
    fake_python.chmod(0o755)
    with (
        pytest.raises(EmulatorError, match=r"(?s)code 3.*no ministack here"),
        run_emulator(str(fake_python)),
    ):
        pass


def test_a_recorded_pid_that_is_not_the_emulator_is_never_signalled(tmp_path):
    """After a reboot the recorded pid may belong to any program (here: this test's own)."""
    record = {"endpoint": "http://127.0.0.1:9", "port": 9, "pid": os.getpid()}
    (tmp_path / RECORD).write_text(json.dumps(record))
    assert running(tmp_path) is None
    assert stop_background(tmp_path) is None
    assert json.loads((tmp_path / RECORD).read_text()) == record


def test_without_a_record_nothing_runs_and_asking_creates_nothing(tmp_path):
    assert running(tmp_path / "none") is None
    assert list(tmp_path.iterdir()) == []
    assert stop_background(tmp_path / "none") is None
