"""Batch throughput of the calculation core, net of JSON I/O, on two mixes of declarations.

Usage: python bench/throughput.py [--mix classic|broker|both] [--lines N] [--per-declaration 20] [--repeat 5]

- ``classic`` (targets ≥ 200,000 lines/s; floor 50,000): 100,000 lines in 20-line declarations over 12 real tariff
  lines (ad valorem, free, specific, compound; WTO and EPA origins; several currencies).
- ``broker`` (target ≥ 100,000 lines/s): 20,000 one-line declarations over 3,500 real 9-digit codes of the
  2026_07_09 edition and 8 origins, a quarter claiming a preference, a third in USD: what a customs broker's order
  book looks like (the per-declaration cost and the cost of many distinct codes).

Each mix's JSON is parsed once, then ``compute_batch`` alone is timed on one core. The declarations leave
``simplified`` at its default (auto: the simplified tariff is also computed where the total is within its threshold).
Rendering results to JSON is excluded, as is reading the input; validating each declaration is included. The batch
runs ``--repeat`` times: the best and the median are reported (a shared virtual machine's timings vary by a third from
run to run; the best is the machine's).
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


BROKER_ORIGINS = ("CN", "US", "VN", "DE", "TH", "KR", "AU", "GB")
BROKER_CODES = 3_500


def broker_codes(count: int = BROKER_CODES, seed: int = 11) -> list[str]:
    """``count`` real 9-digit codes of the 2026_07_09 edition, each one that a one-line declaration of a value alone
    computes (codes whose rate needs a quantity, or that the schedule splits by season, are left out)."""
    from datetime import date

    from xlduty.core.errors import InputError
    from xlduty.core.schedule import edition_on

    run = engine().compute
    fit = []
    for code in sorted(edition_on(date(2026, 11, 20)).codes()):
        try:
            run({"date": "2026-11-20", "lines": [{"hs_code": code, "origin": "CN", "value": 100000}]})
        except InputError:
            continue
        fit.append(code)
    return sorted(random.Random(seed).sample(fit, min(count, len(fit))))


def broker(n_lines: int = 20_000, seed: int = 13, codes: list[str] | None = None) -> list[dict]:
    """One-line declarations over many real codes and several origins (see the module docstring); a declaration
    that does not compute (an origin or claim whose rate needs a quantity) is left out."""
    from xlduty.core.errors import InputError

    codes = codes or broker_codes()
    rnd = random.Random(seed)
    run = engine().compute
    decls: list[dict] = []
    while len(decls) < n_lines:
        line: dict = {"hs_code": f"{(c := rnd.choice(codes))[:4]}.{c[4:6]}-{c[6:]}",
                      "origin": rnd.choice(BROKER_ORIGINS), "value": rnd.randint(2000, 600000),
                      "freight": rnd.randint(0, 8000)}
        if rnd.random() < 0.25:
            line["claim_preference"] = True
        if rnd.random() < 1 / 3:
            line["currency"] = "USD"
        d = {"date": "2026-11-20", "fx_rates": {"USD": 155.39}, "lines": [line]}
        d = json.loads(json.dumps(d), parse_float=Decimal)
        try:
            run(d)
        except InputError:
            continue
        decls.append(d)
    return decls


def measure(name: str, data: list[dict], repeat: int) -> None:
    compute_batch(data[:20])  # load rules and the tariff edition once
    rates = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        results = compute_batch(data)
        elapsed = time.perf_counter() - t
        n = sum(len(r.lines) for r in results)
        rates.append(n / elapsed)
        del results
    print(f"{name}: {n} lines × {repeat} runs: best {max(rates):,.0f} lines/s, median "
          f"{statistics.median(rates):,.0f} lines/s, first {rates[0]:,.0f} (compute with validation, net of JSON I/O, "
          "one core)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mix", choices=["classic", "broker", "both"], default="both")
    ap.add_argument("--lines", type=int, help="lines per mix (default: classic 100,000, broker 20,000)")
    ap.add_argument("--per-declaration", type=int, default=20, help="lines per declaration of the classic mix")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    engine()
    if args.mix in ("classic", "both"):
        measure(f"classic ({args.per_declaration} lines/declaration, 12 codes)",
                batch(args.lines or 100_000, args.per_declaration), args.repeat)
    if args.mix in ("broker", "both"):
        data = broker(args.lines or 20_000)
        engine().forget_plans()   # the first timed run starts from no line kinds, as a new process would
        measure(f"broker (1 line/declaration, {BROKER_CODES:,} codes, {len(BROKER_ORIGINS)} origins)", data,
                args.repeat)


if __name__ == "__main__":
    main()
