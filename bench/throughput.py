"""Batch throughput of the calculation core, net of JSON I/O (issue target ≥ 200,000 lines/s; floor 50,000).

Usage: python bench/throughput.py [--lines 100000] [--per-declaration 20] [--repeat 5]

Builds a batch of declarations over real tariff lines (ad valorem, free, specific, compound; WTO and
EPA origins; several currencies), parses its JSON once, then times ``compute_batch`` alone on one
core. The declarations leave ``simplified`` at its default (auto: the simplified tariff is also computed where
the total is within its threshold). Rendering results to JSON is excluded, as is reading the input; validating
each declaration (pydantic) is included. The batch runs ``--repeat`` times: the best and the median are reported
(a shared virtual machine's timings vary by a third from run to run; the best is the machine's).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from decimal import Decimal

from xlduty import compute_batch
from xlduty.core.engine import engine

LINES = [  # (hs code, origin, quantity, unit, claim) — real 2026_07_09 lines
    ("6109.10-020", "CN", None, None, False),
    ("6204.62-200", "VN", None, None, True),
    ("8471.30-000", "CN", None, None, False),
    ("0901.21-000", "BR", None, None, False),
    ("6403.99-012", "IT", 12, "pair", True),
    ("4202.22-200", "FR", None, None, True),
    ("9503.00-000", "CN", None, None, False),
    ("8517.13-000", "US", None, None, False),
    ("3304.99-090", "KR", None, None, False),
    ("0406.90-090", "NZ", 40, "kg", False),
    ("2009.19-190", "US", 100, "kg", False),
    ("6110.20-029", "TH", None, None, True),
]


def batch(n_lines: int, per_decl: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    decls = []
    for d in range(n_lines // per_decl):
        lines = []
        for _ in range(per_decl):
            hs, origin, qty, unit, claim = rnd.choice(LINES)
            line = {"hs_code": hs, "origin": origin, "value": rnd.randint(1000, 900000),
                    "freight": rnd.randint(0, 20000), "claim_preference": claim}
            if qty:
                line.update(quantity=qty, unit=unit)
            if d % 3 == 0:
                line["currency"] = "USD"
            lines.append(line)
        decls.append({"date": "2026-11-20", "fx_rates": {"USD": 155.39}, "lines": lines})   # simplified: auto
    return json.loads(json.dumps(decls), parse_float=Decimal)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--per-declaration", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    data = batch(args.lines, args.per_declaration)
    compute_batch(data[:20])  # load rules and the tariff edition once
    engine()
    rates = []
    for _ in range(args.repeat):
        gc.collect()
        t = time.perf_counter()
        results = compute_batch(data)
        elapsed = time.perf_counter() - t
        n = sum(len(r.lines) for r in results)
        rates.append(n / elapsed)
        del results
    print(f"{n} lines × {args.repeat} runs: best {max(rates):,.0f} lines/s, median {statistics.median(rates):,.0f} "
          "lines/s (compute with validation, net of JSON I/O, one core)")


if __name__ == "__main__":
    main()
