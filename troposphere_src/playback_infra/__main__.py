"""`python -m playback_infra`: the same CLI as the `playback-infra` command."""

from playback_infra.cli import run

run()
