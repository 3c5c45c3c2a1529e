"""`xlduty quote quote.xlsm`: the quote template read back as the `xlduty quote` input, so a template user can
save a record, reproduce it and compare it with the import permit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from xlduty.core.errors import InputError
from xlduty.excel.quote_workbook import quote_from_workbook
from xlduty.quote import quote

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbook" / "xlduty.xlsm"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlduty.cli", "quote", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_the_template_reads_as_its_worked_example() -> None:
    """The template's inputs (workbook/src/quote.yaml) become the quote whose hand-worked figures the sheet shows:
    landed cost 561,550, quote 730,198, taxes 77,800; the customer and reference come along for the record."""
    data = quote_from_workbook(TEMPLATE)
    assert (data["incoterm"], data["currency"], data["fx"], data["margin"]) == ("FOB", "USD", 125,
                                                                                {"percent": "30.0", "on": "cost"})
    assert [ln["hs_code"] for ln in data["lines"]] == ["6109.10-020", "8471.30-000"]
    assert [c["kind"] for c in data["domestic_costs"]] == ["customs_brokerage", "delivery"]
    assert (data["customer"], data["reference"]) == ("株式会社サンプル商事", "Q-2026-031 Tシャツ・ノートPC")
    t = quote(data).totals()
    assert (t["landed_cost"], t["price_total"], t["taxes_total"]) == (561550, 730198, 77800)


def test_save_and_reproduce_from_the_template(tmp_path: Path) -> None:
    """`--save` writes the record of the template's quote (edition 2026_07_09, USD at 125); `--reproduce` on it
    finds the same figures."""
    saved = tmp_path / "saved.json"
    p = _cli(str(TEMPLATE), "--save", str(saved), "--compact")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["totals"]["price_total"] == 730198
    record = json.loads(saved.read_text(encoding="utf-8"))
    assert record["tariff_edition"] == "2026_07_09"
    again = _cli(str(saved), "--reproduce", "--compact")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["identical"] is True


def test_moved_rows_and_edited_inputs_are_followed(tmp_path: Path) -> None:
    """The inputs are found through the QUOTE_TOTALS arguments, not fixed cells: after a layout change (Excel
    rewrites the formulas: here the margin moved from B13 to D13, as 40 %) and with the laptops deleted, the
    quote read is the one the sheet computes."""
    wb = openpyxl.load_workbook(TEMPLATE, keep_vba=True)
    for c in "BCDEFG":
        wb["Lines"][f"{c}6"] = None
    for row in wb["Quote"].iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and "Quote!$B$13," in cell.value:
                cell.value = cell.value.replace("Quote!$B$13,", "Quote!$D$13,")
    wb["Quote"]["D13"] = 0.4
    path = tmp_path / "edited.xlsm"
    wb.save(path)
    data = quote_from_workbook(path)
    assert len(data["lines"]) == 1 and data["margin"] == {"percent": "40.0", "on": "cost"}


def test_a_workbook_without_a_quote_is_refused(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "=SUM(1,2)"
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    with pytest.raises(InputError, match="no =QUOTE_TOTALS"):
        quote_from_workbook(path)
    p = _cli(str(path))
    assert p.returncode == 2 and p.stdout == "" and "QUOTE_TOTALS" in p.stderr
