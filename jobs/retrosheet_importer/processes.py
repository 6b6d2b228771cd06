"""Child processes that die with their parent, so that nothing outlives a killed import: the
parse workers die with the importer, each Chadwick tool with its worker.

Linux's parent-death signal (prctl PR_SET_PDEATHSIG) is sent when the thread that created the
process ends, is not inherited by a fork and is kept across execve; a parent already gone by
the time of the call sends nothing, hence the check of the parent's pid after it
(https://man7.org/linux/man-pages/man2/PR_SET_PDEATHSIG.2const.html).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when `parent`, its creator, dies (Linux only; elsewhere nothing)."""
    if sys.platform != "linux":
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
