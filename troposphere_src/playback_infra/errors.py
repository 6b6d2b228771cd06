"""Errors the CLI turns into one clear message and an exit code, never a traceback."""


class DeployError(Exception):
    """AWS (or the emulator) refused or failed a deployment step; the message says which."""
