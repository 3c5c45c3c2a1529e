"""``python -m xlduty``: the ``xlduty`` command, for an environment whose scripts folder is not on PATH."""

import sys

from xlduty.cli import console

sys.exit(console())
