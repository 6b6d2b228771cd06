"""Starting the emulator (emulator/process.py): what fails is reported."""

from __future__ import annotations

import pytest

from playback_infra.emulator.process import EmulatorError, run_emulator

pytestmark = pytest.mark.emulator


def test_missing_emulator_python_is_reported(tmp_path):
    with (
        pytest.raises(EmulatorError, match="PLAYBACK_EMULATOR_PYTHON"),
        run_emulator(str(tmp_path / "no-python")),
    ):
        pass


def test_emulator_that_exits_is_reported_with_its_log(tmp_path):
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'no ministack here'\nexit 3\n")
    fake_python.chmod(0o755)
    with (
        pytest.raises(EmulatorError, match=r"(?s)code 3.*no ministack here"),
        run_emulator(str(fake_python)),
    ):
        pass
