"""Run xlduty in a subprocess as a slim install would: every library of ``xlduty.extras.EXTRA_OF`` made
unimportable (an import of one raises ModuleNotFoundError, as when it is not installed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from xlduty.extras import EXTRA_OF

ROOT = Path(__file__).resolve().parents[1]

_PRELUDE = """
import importlib.abc, sys
ABSENT = {absent!r}
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ABSENT:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
for name in [m for m in sys.modules if m.partition(".")[0] in ABSENT]:
    del sys.modules[name]
sys.meta_path.insert(0, Absent())
"""


def run_slim(code: str, *args: str, absent: frozenset[str] = frozenset(EXTRA_OF),
             cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -c code args…`` with the ``absent`` libraries unimportable."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-c", _PRELUDE.format(absent=sorted(absent)) + code, *args],
                          capture_output=True, text=True, encoding="utf-8", cwd=cwd, env=env, timeout=300)


def run_cli_slim(*args: str, absent: frozenset[str] = frozenset(EXTRA_OF)) -> subprocess.CompletedProcess[str]:
    """``xlduty args…`` on a slim install."""
    return run_slim("from xlduty.cli import main\nsys.exit(main(sys.argv[1:]))", *args, absent=absent)
