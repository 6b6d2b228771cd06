"""`python -m retrosheet_importer SOURCE --database-url ...` (the jobs image's entry point)."""

import sys

from retrosheet_importer.cli import main

sys.exit(main())
