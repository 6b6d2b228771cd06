"""`playback-infra emulator status|env|stop|reset`: the checkout's local AWS emulator, which
`deploy` deploys into when given no account (`process.start_background`)."""

from __future__ import annotations

import argparse
import sys

from playback_infra.emulator.process import (
    BACKGROUND_DIR,
    EmulatorError,
    running,
    start_background,
    stop_background,
)

EXIT_OK, EXIT_FAILED = 0, 1


def _region() -> str:
    """The region awscli is pointed at: the environments' (they all share one today)."""
    from playback_infra.environments.catalog import environments

    return sorted({env.region for env in environments()})[0]


def emulator(args: argparse.Namespace) -> int:
    """status and env: 0 when it runs, 1 when not; stop: 0; reset: 0 once an empty one answers."""
    directory = args.root / BACKGROUND_DIR
    if args.action in ("status", "env"):
        found = running(directory)
        if found is None:
            print(
                "emulator: not running; `playback-infra deploy --env dev` starts it",
                file=sys.stderr if args.action == "env" else sys.stdout,
            )
            return EXIT_FAILED
        status = args.action == "status"
        print(found.describe(_region()) if status else f"export {found.variables(_region())}")
        return EXIT_OK
    stopped = stop_background(directory)
    if stopped is not None:
        print(f"emulator: stopped {stopped.endpoint} (pid {stopped.pid}); what it held is gone")
    elif args.action == "stop":
        print("emulator: not running")
    if args.action == "reset":
        try:
            print(start_background(directory).describe(_region()))
        except EmulatorError as error:
            print(f"emulator: {error}", file=sys.stderr)
            return EXIT_FAILED
    return EXIT_OK
