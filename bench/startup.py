"""Start-up of ``xlduty compute`` on one declaration, beyond bare Python (issue target ≤ 0.3 s).

Usage: python bench/startup.py [--runs 9]

Runs the installed interpreter directly (no shell shims) and reports the medians of
``python -c pass`` and ``python -m xlduty.cli compute examples/declaration.json``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    runs = ap.parse_args().runs
    bare = median_seconds([sys.executable, "-c", "pass"], runs)
    full = median_seconds([sys.executable, "-m", "xlduty.cli", "compute", "examples/declaration.json"], runs)
    print(f"bare python {bare:.3f} s; xlduty compute {full:.3f} s; beyond bare Python {full - bare:.3f} s")


if __name__ == "__main__":
    main()
