"""`python -m retrosheet_importer SOURCE --database-url ...` (the jobs image's entry point) and
`python -m retrosheet_importer status ...`."""

import sys

from retrosheet_importer.cli import main

# Guarded: the parse workers are spawned, and a spawned process imports this module again.
if __name__ == "__main__":
    sys.exit(main())
