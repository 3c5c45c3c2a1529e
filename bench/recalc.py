"""Recalculating a 10,000-row purchase sheet headlessly: ``xlduty recalc`` beside LibreOffice.

Usage: python bench/recalc.py [--rows 10000] [--runs 3] [--keep DIR]

Two workbooks with the same 10,000 purchase lines (HS code, origin, CIF yen, quantity) of the 2026_07_09
tariff, ad valorem lines only:

- ours: duty ``=DUTY(A2,C2,B2,D2,$I$1,$J$1)`` (date, options) and ``=CONSUMPTION_TAX(…)`` per line, then
  ``ROUNDDOWN(SUM(…),-2)`` below;
- plain: the same with VLOOKUP into a rate sheet of all 9,654 tariff lines and ROUNDDOWN arithmetic
  (duty = floor(floor_1000(CIF) × rate); national CT 7.8 % of floor_1000(CIF + floor_100(duty)); local CT
  floor_100(national) × 22/78), which LibreOffice recalculates.

Every formula's cached value is written wrong (-1), and each result is checked to have replaced it:
LibreOffice trusts cached values unless told otherwise, so it runs with its own profile in which
``/org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode`` = 0 (always recalculate).

Timed, interleaved run by run so both see the same machine load (medians):
LibreOffice ``soffice --headless --convert-to xlsx`` (start-up included; its profile is created by one
untimed run first); ``xlduty recalc`` as a subprocess of the installed interpreter (start-up included,
no shell shims); ``recalc()`` in this process (first call, then warm with the functions' caches cleared).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ON = date(2026, 11, 20)
ORIGINS = ("CN", "US", "DE", "VN", "BR")
RECALC_ON_LOAD = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def _percent(text: str | None) -> float | None:
    t = (text or "").strip()
    if t in ("無税", "Free"):
        return 0.0
    m = re.fullmatch(r"(\d+(?:\.\d+)?)%", t)
    return float(m.group(1)) / 100 if m else None


def tariff_rates() -> list[tuple[str, float | None]]:
    """Every line of the edition in force on ON: (HS code, rate). The rate is the WTO rate, else the general
    one, and None unless the general, temporary and WTO cells are all plain ad valorem (or empty): the
    plain sheet cannot follow conditional, specific or temporary rates, and the purchases avoid them."""
    from xlduty.core.schedule import edition_on

    out = []
    for lines in edition_on(ON).lines.values():
        for line in lines:
            general, wto = _percent(line.text("rate_general")), _percent(line.text("rate_wto"))
            temporary = line.text("rate_temporary")
            plain = general is not None and (wto is not None or not line.text("rate_wto")) and not temporary
            out.append((line.hs, (wto if wto is not None else general) if plain else None))
    return out


def first_rates(rates: list[tuple[str, float | None]]) -> dict[str, float | None]:
    """HS code → rate of its first line, as VLOOKUP(…, FALSE) finds it (a few codes have several lines)."""
    table: dict[str, float | None] = {}
    for hs, rate in rates:
        table.setdefault(hs, rate)
    return table


def purchases(rates: list[tuple[str, float | None]], rows: int) -> list[tuple[str, str, int, int]]:
    rng = random.Random(2026)
    ad_valorem = [hs for hs, rate in first_rates(rates).items() if rate is not None]
    return [(rng.choice(ad_valorem), rng.choice(ORIGINS), rng.randint(10_000, 3_000_000), rng.randint(1, 100))
            for _ in range(rows)]


def _inputs(wb: Any, ws: Any, lines: list[tuple[str, str, int, int]]) -> None:
    ws.write_row(0, 0, ["HS code", "origin", "CIF (yen)", "quantity", "duty", "consumption tax", None, "date"])
    ws.write_datetime(0, 8, datetime(ON.year, ON.month, ON.day), wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_string(0, 9, "reduced=no")  # options: standard CT rate (food use must otherwise be stated)
    for i, (hs, origin, cif, qty) in enumerate(lines, start=1):
        ws.write_string(i, 0, hs)
        ws.write_string(i, 1, origin)
        ws.write_number(i, 2, cif)
        ws.write_number(i, 3, qty)


def build_ours(path: Path, lines: list[tuple[str, str, int, int]]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Purchases")
    _inputs(wb, ws, lines)
    for i in range(1, len(lines) + 1):
        r = i + 1
        ws.write_formula(i, 4, f"=DUTY(A{r},C{r},B{r},D{r},$I$1,$J$1)", None, -1)
        ws.write_formula(i, 5, f"=CONSUMPTION_TAX(A{r},C{r},B{r},D{r},$I$1,$J$1)", None, -1)
    last = len(lines) + 1
    ws.write_formula(last, 4, f"=ROUNDDOWN(SUM(E2:E{last}),-2)", None, -1)
    ws.write_formula(last, 5, f"=ROUNDDOWN(SUM(F2:F{last}),-2)", None, -1)
    wb.close()


def build_plain(path: Path, lines: list[tuple[str, str, int, int]], rates: list[tuple[str, float | None]]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Purchases")
    table = wb.add_worksheet("Rates")
    table.write_row(0, 0, ["HS code", "rate"])
    for i, (hs, rate) in enumerate(rates, start=1):
        table.write_string(i, 0, hs)
        if rate is not None:
            table.write_number(i, 1, rate)
    _inputs(wb, ws, lines)
    end = len(rates) + 1
    for i in range(1, len(lines) + 1):
        r = i + 1
        ws.write_formula(i, 4, f"=ROUNDDOWN(ROUNDDOWN(C{r},-3)*VLOOKUP(A{r},Rates!$A$2:$B${end},2,FALSE),0)", None, -1)
        base = f"ROUNDDOWN(C{r}+ROUNDDOWN(E{r},-2),-3)"
        national = f"ROUNDDOWN({base}*0.078,0)"
        ws.write_formula(i, 5, f"={national}+ROUNDDOWN(ROUNDDOWN({national},-2)*22/78,0)", None, -1)
    last = len(lines) + 1
    ws.write_formula(last, 4, f"=ROUNDDOWN(SUM(E2:E{last}),-2)", None, -1)
    ws.write_formula(last, 5, f"=ROUNDDOWN(SUM(F2:F{last}),-2)", None, -1)
    wb.close()


def registry(rates: list[tuple[str, float | None]]) -> tuple[dict[str, Callable[..., Any]] | None, str]:
    """The project's functions if present (None: recalc's default), else a labelled stand-in."""
    try:
        from xlduty.excel.functions import EXCEL_FUNCTIONS  # noqa: F401
    except ImportError:
        table = first_rates(rates)

        def duty(hs: Any, value: Any, *_: Any) -> int:
            return math.floor(math.floor(value / 1000) * 1000 * table[hs])

        def ct(hs: Any, value: Any, *_: Any) -> int:
            national = math.floor(math.floor((value + duty(hs, value) // 100 * 100) / 1000) * 1000 * 0.078)
            return national + math.floor(national // 100 * 100 * 22 / 78)

        return {"DUTY": duty, "CONSUMPTION_TAX": ct}, "STAND-IN DUTY/CONSUMPTION_TAX (xlduty.excel.functions missing)"
    return None, "xlduty.excel.functions.EXCEL_FUNCTIONS (the project's DUTY and CONSUMPTION_TAX)"


def _floor(x: float, digits: int) -> float:
    """ROUNDDOWN as Excel does it (15 significant digits first)."""
    return float(Decimal(f"{x:.15g}").quantize(Decimal(1).scaleb(-digits), rounding=ROUND_DOWN))


def check_plain(path: Path, lines: list[tuple[str, str, int, int]], rates: list[tuple[str, float | None]]) -> str:
    """LibreOffice's output: every formula recalculated (no -1 left), figures as worked out here."""
    table = first_rates(rates)
    ws = openpyxl.load_workbook(path, data_only=True, read_only=True)["Purchases"]
    got = list(ws.iter_rows(min_row=2, max_row=len(lines) + 2, min_col=5, max_col=6, values_only=True))
    duties = []
    for (hs, _origin, cif, _qty), (duty, _ct) in zip(lines, got, strict=False):
        expected = _floor(_floor(cif, -3) * table[hs], 0)
        if duty != expected:
            raise SystemExit(f"LibreOffice: {hs} {cif}: duty {duty}, expected {expected} (not recalculated?)")
        duties.append(expected)
    total = got[len(lines)][0]
    if total != _floor(sum(duties), -2) or any(-1 in row for row in got):
        raise SystemExit(f"LibreOffice: total {total} != {_floor(sum(duties), -2)}, or a cached -1 is left")
    return f"all {len(lines)} duties as worked out here, total duty {total:,.0f}"


def check_ours(path: Path, rows: int) -> str:
    ws = openpyxl.load_workbook(path, data_only=True, read_only=True)["Purchases"]
    got = list(ws.iter_rows(min_row=2, max_row=rows + 2, min_col=5, max_col=6, values_only=True))
    if any(-1 in row or any(isinstance(v, str) for v in row) for row in got):
        raise SystemExit("xlduty recalc: a cached -1 or an error text is left")
    duty = _floor(sum(r[0] for r in got[:rows]), -2)
    ct = _floor(sum(r[1] for r in got[:rows]), -2)
    if got[rows] != (duty, ct):
        raise SystemExit(f"xlduty recalc: totals {got[rows]} != {(duty, ct)}")
    return f"no cached -1 left, total duty {duty:,.0f}, consumption tax {ct:,.0f}"


def _clear_caches() -> None:
    try:
        from xlduty.excel.functions import clear_caches
    except ImportError:
        return
    clear_caches()


def _sheet(path: Path) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path, data_only=True, read_only=True)["Purchases"].iter_rows(values_only=True))


def _seconds(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    took = time.perf_counter() - started
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="keep the workbooks in this directory")
    args = ap.parse_args()
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice is not installed: apt-get install -y libreoffice-calc-nogui")

    work = Path(tempfile.mkdtemp(prefix="xlduty-bench-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    rates = tariff_rates()
    lines = purchases(rates, args.rows)
    ours, plain = work / "purchases_xlduty.xlsx", work / "purchases_vlookup.xlsx"
    build_ours(ours, lines)
    build_plain(plain, lines, rates)
    functions, label = registry(rates)
    version = subprocess.run([soffice, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"{args.rows:,} purchase lines, tariff of {ON} ({len(rates):,} lines in the VLOOKUP rate sheet), "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"registry: {label}")

    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ON_LOAD, encoding="utf-8")
    lo_out = work / "lo"
    lo_cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "xlsx",
              "--outdir", str(lo_out), str(plain)]
    _seconds(lo_cmd)  # creates the profile; not timed
    sub_cmd = [sys.executable, "-m", "xlduty.cli", "recalc", str(ours), "-o", str(work / "ours_cli.xlsx")]
    if functions is not None:  # the stand-in registry exists only in this process
        sub_cmd = None

    lo_times, sub_times = [], []
    for _ in range(args.runs):
        lo_times.append(_seconds(lo_cmd))
        if sub_cmd:
            sub_times.append(_seconds(sub_cmd))
    lo_check = check_plain(lo_out / plain.name, lines, rates)

    from xlduty.recalc import recalc

    started = time.perf_counter()
    report = recalc(ours, work / "ours.xlsx", functions)
    first = time.perf_counter() - started
    warm = []
    for _ in range(args.runs):
        _clear_caches()
        started = time.perf_counter()
        recalc(ours, work / "ours.xlsx", functions)
        warm.append(time.perf_counter() - started)
    ours_check = check_ours(work / "ours.xlsx", args.rows)
    plain_report = recalc(plain, work / "vlookup_by_xlduty.xlsx", functions)
    same = _sheet(work / "vlookup_by_xlduty.xlsx") == _sheet(lo_out / plain.name)

    lo = statistics.median(lo_times)
    print(f"LibreOffice ({version}), VLOOKUP sheet, headless convert with recalculation forced: median {lo:.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in lo_times)})")
    print(f"  verified: {lo_check}")
    if sub_times:
        sub = statistics.median(sub_times)
        print(f"xlduty recalc, DUTY/CONSUMPTION_TAX sheet, subprocess incl. start-up: median {sub:.2f} s "
              f"(runs {', '.join(f'{t:.2f}' for t in sub_times)})")
    print(f"xlduty recalc, in process: first call {first:.2f} s, then median {statistics.median(warm):.2f} s "
          "with the functions' caches cleared")
    print(f"  verified: {ours_check}; {report.summary()}")
    print(f"  (for reference: xlduty recalc of the VLOOKUP sheet itself, in process: {plain_report.seconds:.2f} s; "
          f"{'every value identical to' if same else 'VALUES DIFFER from'} LibreOffice's)")
    ours_time = statistics.median(sub_times) if sub_times else first
    verdict = "faster" if ours_time < lo else "SLOWER"
    print(f"xlduty recalc ({'subprocess' if sub_times else 'in process, first call'}) {ours_time:.2f} s vs "
          f"LibreOffice {lo:.2f} s: {lo / ours_time:.2f}x, {verdict}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
