"""The slow checks' results, kept outside git and keyed by exactly what decides them.

A result is stored under the SHA-256 of its inputs: the bytes of the files checked, the tool's
installed packages (the names and versions of its virtual environment's distributions), its
command line, its configuration files and environment variables, and the source of the code
that runs it. A result whose inputs differ in any of these is never reused; a result that
cannot be told apart from a tool failure is never stored.

Where: `$PLAYBACK_CHECK_CACHE` (empty: no cache), else `$XDG_CACHE_HOME/playback-infra/checks`,
else `~/.cache/playback-infra/checks`. Deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "PLAYBACK_CHECK_CACHE"


def key(*parts: str | bytes) -> str:
    """The SHA-256 of the parts, each length-prefixed so that no two lists of parts collide."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def files(paths: Iterable[Path], root: Path) -> list[str | bytes]:
    """Each path (relative to `root`, so that clones share results) and its bytes (or that it
    is missing), as key parts."""
    parts: list[str | bytes] = []
    for path in paths:
        parts.append(os.path.relpath(path, root))
        parts.append(path.read_bytes() if path.is_file() else "(missing)")
    return parts


def environment(prefixes: tuple[str, ...], names: tuple[str, ...] = ()) -> str:
    """The environment variables a tool reads (by prefix or name), as one key part."""
    return json.dumps(
        sorted(
            (name, value)
            for name, value in os.environ.items()
            if name.startswith(prefixes) or name in names
        )
    )


def tool(executable: str) -> str:
    """What a tool's results depend on of its installation: the script's own path and bytes and
    the distributions (name-version) and `.pth` files of the virtual environment its `#!` line
    names. A script outside a virtual environment is identified by its own bytes and the
    interpreter's path alone."""
    script = Path(executable).resolve()
    text = script.read_bytes()
    parts = [str(script), hashlib.sha256(text).hexdigest()]
    first = text.split(b"\n", 1)[0]
    if first.startswith(b"#!"):
        interpreter = Path(first[2:].decode().strip().split()[0])
        parts.append(str(interpreter))
        for site in sorted(interpreter.parent.parent.glob("lib/python*/site-packages")):
            with os.scandir(site) as entries:
                names = sorted(e.name for e in entries if e.name.endswith((".dist-info", ".pth")))
            parts += [f"{site}: {name}" for name in names if name.endswith(".dist-info")]
            parts += [(site / name).read_text() for name in names if name.endswith(".pth")]
    return "\n".join(parts)


@dataclass(frozen=True)
class Cache:
    """Results by kind (`cfn-lint`, ...) and key; `root` None stores nothing."""

    root: Path | None

    @classmethod
    def default(cls) -> Cache:
        if ENV_VAR in os.environ:
            return cls(Path(os.environ[ENV_VAR]) if os.environ[ENV_VAR] else None)
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return cls(Path(xdg) / "playback-infra" / "checks")

    def get(self, kind: str, key: str) -> object | None:
        if self.root is None:
            return None
        try:
            return json.loads((self.root / kind / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None

    def put(self, kind: str, key: str, value: object) -> None:
        """Store `value` (JSON); written to a temporary file and renamed, so a reader running
        beside this writer sees the whole result or none. A cache that cannot be written is
        only slower."""
        if self.root is None:
            return
        directory = self.root / kind
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=directory, delete=False) as out:
                json.dump(value, out)
            os.replace(out.name, directory / f"{key}.json")
        except OSError:
            return

    def get_many(self, kind: str, keys: Mapping[str, str]) -> dict[str, object]:
        """name -> stored value, for the names of `keys` (name -> key) that have one."""
        found = {name: self.get(kind, k) for name, k in keys.items()}
        return {name: value for name, value in found.items() if value is not None}
