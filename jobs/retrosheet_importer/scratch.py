"""The import's scratch directory (the downloaded release, the parsed files: about 60 MB for a
season), removed on every exit the importer lives to see and, when it did not (SIGKILL), by
the next import: the live importer holds an exclusive flock on the directory's lock file, which
the kernel releases when the process dies, so a directory whose lock can be taken is a dead
import's.
"""

from __future__ import annotations

import fcntl
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "retrosheet-import-"
LOCK_FILE = ".lock"


@contextmanager
def scratch_directory(progress: Callable[[str], None]) -> Iterator[Path]:
    """A fresh directory in the temporary directory ($TMPDIR), after removing dead imports'."""
    _remove_dead(Path(tempfile.gettempdir()), progress)
    with (
        tempfile.TemporaryDirectory(prefix=PREFIX) as name,
        open(Path(name, LOCK_FILE), "w") as lock,
    ):
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield Path(name)


def _remove_dead(parent: Path, progress: Callable[[str], None]) -> None:
    for directory in sorted(parent.glob(PREFIX + "*")):
        try:
            lock = open(directory / LOCK_FILE)  # noqa: SIM115 (held while the directory goes)
        except OSError:
            continue  # being created, or not ours to judge
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live import's
            # Another import may be removing it too: what it removed first is no error.
            shutil.rmtree(directory, ignore_errors=True)
            progress(f"removed a stopped import's scratch directory {directory}")
