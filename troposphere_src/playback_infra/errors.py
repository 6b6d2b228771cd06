"""Errors the CLI turns into one clear message and an exit code, never a traceback."""


class DeployError(Exception):
    """AWS (or the emulator) refused or failed a deployment step; the message says which."""


class UsageError(Exception):
    """A flag's value the command cannot use (exit 2, before anything is created); the message
    names the flag and the fix, on one line."""
