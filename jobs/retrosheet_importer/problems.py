"""What the importer reports: problems that reject a season, bad usage, a busy database, and
being stopped."""

from __future__ import annotations

import signal
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One reason to reject the season, at a file and (where known) a line of it."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class Rejected(Exception):
    """The release is refused; nothing was loaded."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = sorted(problems)

    def report(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class UsageError(Exception):
    """Bad input before any work: a missing path, a bad URL, an unreachable database."""


class LoadFailed(Exception):
    """The database refused the load; the previous season is intact."""


# Seconds a second import waits for the one running before it gives up (Busy: exit 75, retried).
LOCK_WAIT = 600


class Busy(Exception):
    """Another import held the import lock for longer than this one would wait (LOCK_WAIT)."""


class Stopped(BaseException):
    """The process was told to stop (SIGTERM from ECS, SIGINT): a BaseException, so that no
    `except Exception` on the way swallows it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name
