"""xlwings Lite under Pyodide: cold start, per-call time and what the browser downloads (issue targets: first
call ≤ 2 s and later calls ≤ 5 ms on one core; all wheels together ≤ 6 MB).

Usage: python bench/lite.py [--runs 5] [--calls 200] [--all-cores]   (with the test extra: Node, hatchling)

Each run is a fresh Node process with Pyodide 314 (tests/pyodide_env.py; the first run of the machine sets it up,
which needs the npm registry and PyPI), pinned to one core with ``taskset`` where there is one. In it, as the
xlwings Lite runtime does: import xlwings (Lite's own start, reported apart), import the Lite module
workbook/lite/main.py and register its functions (``custom_functions_meta``), make the first call (the README's
``=DUTY("6109.10-020",300000,"CN",,"2026-11-01")``), then ``--calls`` calls with distinct values, so that none is
answered from the functions' cache. Cold start = the Lite module's import and registration + the first call: what a
user waits for once Lite's Python is up. Wall and CPU time (the process's, from Node) are reported as the median of
the runs, with the load average: this machine is shared, and its load moves the wall time most, so the targets
are judged on CPU time, the work one core does.

The download is every wheel Lite installs for workbook/lite/requirements.txt, as the test installs them: xlduty's
(built from this checkout) and the PyPI wheels for Pyodide's platform. Lite may take its own builds of PyYAML,
platformdirs, typing-extensions … from the Pyodide CDN instead, which could not be measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import pyodide_env  # noqa: E402

TARGET_COLD, TARGET_CALL, TARGET_DOWNLOAD = 2.0, 0.005, 6_000_000
FIRST = [[["6109.10-020"]], [[300000]], [["CN"]], None, [["2026-11-01"]], None]


def build_wheel(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(folder), str(ROOT)], check=True, capture_output=True)
    return next(folder.glob("xlduty-*.whl"))


def one_run(env: pyodide_env.Env, wheel: Path, work: Path, calls: int, one_core: bool) -> dict:
    plan = {"calls": [{"name": "DUTY", "args": FIRST}],
            "repeat": {"name": "DUTY", "args": [[[["6109.10-020"]], [[300001 + i]], *FIRST[2:]] for i in range(calls)]}}
    (work / "calls.json").write_text(json.dumps(plan), encoding="utf-8")
    prefix = ("taskset", "-c", "0") if one_core and shutil.which("taskset") else ()
    out = env.run(pyodide_env.HERE / "lite_calls.py", "/lite", "/work/calls.json", "/work/results.json",
                  xlduty_wheel=wheel, mounts={ROOT / "workbook" / "lite": "/lite", work: "/work"}, prefix=prefix)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    result = json.loads((work / "results.json").read_text(encoding="utf-8"))
    if result["results"][0] != {"result": [[22200]]}:
        raise SystemExit(f"the first call gave {result['results'][0]}, not 22,200")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--all-cores", action="store_true", help="do not pin the Node process to one core")
    args = ap.parse_args()
    env = pyodide_env.prepare()
    with tempfile.TemporaryDirectory(prefix="xlduty-bench-lite-") as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "dist")
        sizes = {p.name: p.stat().st_size for p in [*env.wheels.glob("*.whl"), wheel]
                 if not p.name.startswith("micropip-")}
        load_before = os.getloadavg()
        runs = [one_run(env, wheel, work, args.calls, not args.all_cores) for _ in range(args.runs)]
        load_after = os.getloadavg()

    def median(key: str, what: str) -> float:
        return statistics.median(r["timings"][key][what] for r in runs)

    def cold(r: dict, what: str) -> float:
        return r["timings"]["register"][what] + r["timings"]["first_call"][what]

    per_call = {what: sorted(c[what] for r in runs for c in r["per_call"]) for what in ("wall", "cpu")}
    cold_walls = [cold(r, "wall") for r in runs]
    cold_wall = statistics.median(cold_walls)
    cold_cpu = statistics.median(cold(r, "cpu") for r in runs)
    call_wall, call_cpu = (statistics.median(per_call[w]) for w in ("wall", "cpu"))
    p95 = per_call["wall"][int(len(per_call["wall"]) * 0.95)]
    total = sum(sizes.values())
    core = "all cores" if args.all_cores or not shutil.which("taskset") else "one core (taskset -c 0)"
    print(f"Pyodide {pyodide_env.PLATFORM}, Python {runs[0]['python']}, {len(runs)} fresh processes, {core}; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"  Lite's own start (import xlwings): wall {median('import_xlwings', 'wall'):.2f} s, "
          f"CPU {median('import_xlwings', 'cpu'):.2f} s (not ours)")
    for key, label in (("register", "import + register main.py"), ("first_call", "first call =DUTY(…)")):
        print(f"  {label}: wall {median(key, 'wall'):.3f} s, CPU {median(key, 'cpu'):.3f} s")
    print(f"  cold start (import + register + first call): wall {cold_wall:.3f} s, CPU {cold_cpu:.3f} s "
          f"(target ≤ {TARGET_COLD:.0f} s of one core's CPU time: {'met' if cold_cpu <= TARGET_COLD else 'MISSED'}"
          f"{'' if cold_wall <= TARGET_COLD else '; wall above it: the load average'}); "
          f"per run wall {', '.join(f'{w:.2f}' for w in cold_walls)} s")
    print(f"  later calls ({len(per_call['wall'])} through custom_functions_call): median wall "
          f"{call_wall * 1e3:.2f} ms, CPU {call_cpu * 1e3:.2f} ms, p95 wall {p95 * 1e3:.2f} ms "
          f"(target ≤ {TARGET_CALL * 1e3:.0f} ms: "
          f"{'met' if call_cpu <= TARGET_CALL else 'MISSED'})")
    print(f"  download, every wheel Lite installs: {total:,} bytes = {total / 1e6:.2f} MB "
          f"(target ≤ {TARGET_DOWNLOAD / 1e6:.0f} MB: {'met' if total <= TARGET_DOWNLOAD else 'MISSED'})")
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"    {size:>10,}  {name}")


if __name__ == "__main__":
    main()
