"""``python -m xlduty``: the ``xlduty`` command, for an environment whose scripts folder is not on PATH."""

import sys

from xlduty.cli import main

sys.exit(main())
