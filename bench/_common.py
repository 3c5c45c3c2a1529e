"""What the benchmarks share: the commands they time run from bytecode, as an installed package's do, and that
bytecode is kept outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def compiled() -> Iterator[dict[str, str]]:
    """The environment for the subprocesses a benchmark times: their bytecode read from and written to a temporary
    folder (``PYTHONPYCACHEPREFIX``), removed at the end, so that a run leaves no ``__pycache__`` in the source tree
    (the benchmark's own process writes none: ``sys.dont_write_bytecode``, set before it imports this); written there
    even where Python is told not to write bytecode (``PYTHONDONTWRITEBYTECODE``, set on some machines), or each timed
    run would compile every module it imports (about 60 ms), which no user's run does (pip compiles a package on
    install). The folder starts empty: run each command once untimed first (``warm``)."""
    with tempfile.TemporaryDirectory(prefix="xlduty-bench-bytecode-") as folder:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        yield {**env, "PYTHONPYCACHEPREFIX": folder}


def warm(cmd: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> None:
    """``cmd`` run once, untimed: what it imports (xlduty, its dependencies, the standard library) is compiled into
    the bytecode folder of ``compiled``, and the user cache (``core/cache.py``) filled."""
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode not in (0, 4):
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
