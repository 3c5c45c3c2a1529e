"""End-to-end throughput of batches, and the memory bound of ``xlduty batch`` (targets: ≥ 50,000 lines/s net of
parsing the input for ``xlduty batch`` to CSV and ``xlduty compute --format jsonl --no-explain``; ≥ 15,000 for the
default explained JSON; 1,000,000 lines under 1 GB resident).

Usage: python bench/batch.py [--lines 20000] [--repeat 5]      the three commands on the broker mix
       python bench/batch.py --memory 1000000                   peak resident memory of xlduty batch on 1M lines

The broker mix of bench/throughput.py (one-line declarations over 3,500 real codes and 8 origins) is written as CSV,
JSONL and a JSON array; each command runs as a subprocess (start-up included) with its output to a file, and the
time the same process takes to parse the input alone is subtracted: what is left is computing and writing. Each
command runs once untimed first: its bytecode is compiled, as an installed package has it, into a temporary folder
(``_common.compiled``); best of ``--repeat`` (5) runs.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True   # nor this process (its helper, xlduty): no bytecode in the source tree
from _common import compiled, warm  # noqa: E402

HERE = Path(__file__).resolve().parent
COLUMNS = ["declaration", "hs_code", "origin", "value", "currency", "freight", "claim_preference"]


def broker_mix(lines: int) -> list[dict]:
    spec = importlib.util.spec_from_file_location("throughput", HERE / "throughput.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.broker(min(lines, 20_000))


def write_csv(path: Path, decls: list[dict], lines: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for n in range(lines):
            ln = decls[n % len(decls)]["lines"][0]
            w.writerow([f"D{n}", ln["hs_code"], ln["origin"], ln["value"], ln.get("currency", "JPY"),
                        ln.get("freight", ""), "true" if ln.get("claim_preference") else ""])


def best(cmd: list[str], repeat: int, out: Path, env: dict[str, str]) -> float:
    warm(cmd, env)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        with out.open("wb") as fh:
            p = subprocess.run(cmd, stdout=fh, stderr=subprocess.PIPE, env=env)
        times.append(time.perf_counter() - t)
        if p.returncode not in (0, 4):
            sys.exit(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.decode()[-500:]}")
    return min(times)


def parse_time(kind: str, path: Path, repeat: int, env: dict[str, str]) -> float:
    """The time to parse the input alone, as the command parses it."""
    code = {
        "csv": "from xlduty.batch.read import open_source\nfor c in open_source(P).chunks(20000): pass",
        "jsonl": "import json\nfrom decimal import Decimal\n"
                 "for line in open(P, 'rb'): json.loads(line, parse_float=Decimal)",
        "json": "import json\nfrom decimal import Decimal\njson.loads(open(P, 'rb').read(), parse_float=Decimal)",
    }[kind]
    times = []
    for _ in range(repeat):
        prog = f"import time\nP = {str(path)!r}\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
        times.append(float(subprocess.check_output([sys.executable, "-c", prog], env=env)))
    return min(times)


def throughput(lines: int, repeat: int, env: dict[str, str]) -> None:
    decls = broker_mix(lines)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        src = d / "book.csv"
        write_csv(src, decls, lines)
        rows = [decls[n % len(decls)] for n in range(lines)]
        jsonl = d / "book.jsonl"
        jsonl.write_text("".join(json.dumps(r, default=float) + "\n" for r in rows), encoding="utf-8")
        whole = d / "book.json"
        whole.write_text(json.dumps(rows, default=float), encoding="utf-8")
        x = [sys.executable, "-m", "xlduty"]
        runs = [
            ("xlduty batch → CSV", [*x, "batch", str(src), "-o", str(d / "out.csv"), "--date", "2026-11-20",
                                    "--fx-rates", "USD:155.39"], "csv", src, d / "stdout"),
            ("xlduty compute --format jsonl --no-explain", [*x, "compute", "--format", "jsonl", "--no-explain",
                                                            str(jsonl)], "jsonl", jsonl, d / "out.jsonl"),
            ("xlduty compute (explained JSON)", [*x, "compute", str(whole)], "json", whole, d / "out.json"),
        ]
        for name, cmd, kind, path, out in runs:
            total = best(cmd, repeat, out, env)
            parse = parse_time(kind, path, repeat, env)
            print(f"{name}: {lines:,} lines, best of {repeat}: {total:.2f} s, parsing {parse:.2f} s → "
                  f"{lines / (total - parse):,.0f} lines/s net of parsing ({lines / total:,.0f} with it)")


def memory(lines: int, env: dict[str, str]) -> None:
    decls = broker_mix(20_000)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        src = d / "book.csv"
        write_csv(src, decls, lines)
        cmd = [sys.executable, "-m", "xlduty", "batch", str(src), "-o", str(d / "out.csv"), "--date", "2026-11-20",
               "--fx-rates", "USD:155.39"]
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        elapsed = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size = os.path.getsize(src) / 2**20
        print(f"xlduty batch of {lines:,} lines ({size:,.0f} MiB of CSV): exit {p.returncode}, {elapsed:.1f} s, "
              f"peak resident {peak:,.0f} MiB; {p.stderr.strip().splitlines()[-1]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--memory", type=int, metavar="LINES", help="measure the peak memory of a batch of LINES lines")
    args = ap.parse_args()
    with compiled() as env:
        if args.memory:
            memory(args.memory, env)
        else:
            throughput(args.lines, args.repeat, env)


if __name__ == "__main__":
    main()
