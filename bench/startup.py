"""Start-up of ``xlduty compute`` on one declaration and of ``xlduty batch`` on a one-line CSV, beyond bare Python
(issue target ≤ 0.3 s; aimed at ≤ 0.12 s).

Usage: python bench/startup.py [--runs 9]

Runs the installed interpreter directly (no shell shims) and reports the medians of ``python -c pass``,
``python -m xlduty.cli compute examples/declaration.json`` and ``python -m xlduty.cli batch`` of one CSV row (the
broker mix's first) into a temporary folder, each run once untimed first: it compiles what it imports, into a
temporary folder (``_common.compiled``), and fills the user cache (``core/cache.py``).

The example declaration has a liquor line, which the fast path does not check itself: its start-up includes
importing pydantic for ``core/declaration_models.py`` (about 90 ms); the one-line batch never imports it. Measured
with compiled bytecode (as an installed package has it), medians of 11 paired runs: compute
0.141 s beyond bare Python (0.172 s before), batch 0.062 s (0.168 s before). Where Python may not write bytecode
(``PYTHONDONTWRITEBYTECODE``) each run also compiles every module it imports (about 60 ms).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True   # nor this process (its helper, xlduty): no bytecode in the source tree
from _common import compiled, warm  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ONE_ROW = ("declaration,hs_code,origin,value,currency,freight,claim_preference\n"
           "D0,2921.21-000,TH,196745,USD,5341,true\n")


def median_seconds(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    warm(cmd, env, ROOT)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=env)
        if p.returncode:
            sys.exit(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    runs = ap.parse_args().runs
    with compiled() as env, tempfile.TemporaryDirectory() as tmp:
        bare = median_seconds([sys.executable, "-c", "pass"], runs, env)
        full = median_seconds([sys.executable, "-m", "xlduty.cli", "compute", "examples/declaration.json"], runs, env)
        rows = Path(tmp) / "one.csv"
        rows.write_text(ONE_ROW, encoding="utf-8")
        out = Path(tmp) / "out.csv"
        batch = median_seconds([sys.executable, "-m", "xlduty.cli", "batch", str(rows), "-o", str(out), "--date",
                                "2026-11-20", "--fx-rates", "USD:155.39"], runs, env)
    print(f"bare python {bare:.3f} s; xlduty compute {full:.3f} s; beyond bare Python {full - bare:.3f} s; "
          f"xlduty batch (one row) {batch:.3f} s; beyond bare Python {batch - bare:.3f} s")


if __name__ == "__main__":
    main()
