"""Errors the CLI turns into one clear message and an exit code, never a traceback."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playback_infra.environments.model import Problem


class ConfigError(Exception):
    """One or more configuration problems, each naming environment, field and fix."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DeployError(Exception):
    """AWS (or the emulator) refused or failed a deployment step; the message says which."""


class UsageError(Exception):
    """A flag's value the command cannot use (exit 2, before anything is created); the message
    names the flag and the fix, on one line."""
