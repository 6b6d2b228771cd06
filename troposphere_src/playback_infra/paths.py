"""Where the repository and its tool environments are (the package is installed editable)."""

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def tool(env_var: str, venv: str, name: str) -> str | None:
    """A tool from `$env_var`, else the repository's own venv, else PATH."""
    if os.environ.get(env_var):
        return os.environ[env_var]
    candidate = REPO_ROOT / venv / "bin" / name
    return str(candidate) if candidate.exists() else shutil.which(name)
