"""``python -m seethink ARGS`` is ``seethink ARGS``: for a machine where the script is not on PATH."""

import sys

from seethink_core.cli.main import main

sys.exit(main())
