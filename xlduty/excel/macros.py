"""What the ribbon buttons do, without Excel: ``udfs.ribbon_*`` call these and show the result.

Kept free of xlwings so each action is tested on Linux; only the showing happens in ``udfs``.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from xlduty.excel import functions as f
from xlduty.excel.cells import split_args

_CALL = re.compile(r"^=\s*(?:_xludf\.)?([A-Z_]+)\((.*)\)\s*$", re.S | re.I)
_REF = re.compile(r"^(?:'?[^'!]+'?!)?\$?[A-Z]{1,3}\$?\d+$", re.I)


def explain_formula(formula: str, resolve: Callable[[str], Any]) -> str:
    """The calculation steps behind a cell holding ``=DUTY(...)``, ``=CONSUMPTION_TAX(...)`` or another
    one-line xlduty function: its arguments are read (cell references through ``resolve``) and
    passed to ``DUTY_EXPLAIN``."""
    m = _CALL.match(formula or "")
    if not m or m.group(1).upper() not in ("DUTY", "CONSUMPTION_TAX", "EXEMPTION", "DUTY_RATE", "DUTY_EXPLAIN"):
        return ("選択したセルは xlduty の1行関数（DUTY, CONSUMPTION_TAX, EXEMPTION, DUTY_RATE）ではありません。\n"
                "Select a cell whose formula is =DUTY(...), =CONSUMPTION_TAX(...), =EXEMPTION(...) or =DUTY_RATE(...).")
    values: list[Any] = []
    for arg in split_args(m.group(2)):
        if not arg:
            values.append(None)
        elif arg.startswith('"') and arg.endswith('"'):
            values.append(arg[1:-1].replace('""', '"'))
        elif _REF.match(arg):
            values.append(resolve(arg.replace("$", "")))
        else:
            try:
                values.append(float(arg))
            except ValueError:
                return (f"引数 {arg} は説明できません（セル参照・数値・文字列のみ）: "
                        f"argument {arg} is not a cell, number or text")
    return str(f.DUTY_EXPLAIN(*values[:6]))


def template_path() -> Path:
    """The quote template shipped with the package (or beside the sources in a checkout)."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_workbook" / "xlduty.xlsm", here.parent / "workbook" / "xlduty.xlsm"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("the quote template xlduty.xlsm is not installed: reinstall xlduty")


def new_quote_path(folder: Path | None = None, now: datetime | None = None) -> Path:
    """Copy the template to a new, never-existing file (見積_YYYYMMDD_HHMMSS.xlsm) and return it."""
    folder = folder or Path.home() / "Documents"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d_%H%M%S")
    target = folder / f"見積_{stamp}.xlsm"
    n = 1
    while target.exists():
        target = folder / f"見積_{stamp}_{n}.xlsm"
        n += 1
    shutil.copyfile(template_path(), target)
    return target


def about_text() -> str:
    """Version, tariff editions (with the one in force today) and the span of bundled FX weeks."""
    from datetime import date

    from xlduty import __version__
    from xlduty.core.fx import customs_rates
    from xlduty.core.schedule import edition_on
    from xlduty.core.tables import editions

    today = date.today()
    fx = customs_rates()
    lines = [f"xlduty {__version__} (Python {sys.version.split()[0]})",
             f"実行関税率表 in force today: {edition_on(today).edition}",
             "editions: " + ", ".join(f"{name} (from {start})" for name, start in editions()),
             f"税関長公示レート: weeks {fx.first_week} – {fx.last_week}",
             "出典：税関ホームページ 実行関税率表・外国為替相場 を加工して作成"]
    return "\n".join(lines)


def refresh_rates(progress: Callable[[int, int, str], None] | None = None) -> str:
    """Refresh the tariff and FX tables from Japan Customs; the summary (or why nothing changed).

    ``xlduty.rates.refresh`` never leaves half-written tables and clears the function caches itself."""
    from xlduty.rates import refresh

    return str(refresh(progress=progress))


def rates_report() -> str:
    """The change report of the tables in use (shown by the About button)."""
    from xlduty.rates import report_text

    return report_text()
