"""`python -m playback_infra`: the same CLI as the `playback-infra` command."""

import sys

from playback_infra.cli import main

sys.exit(main())
