"""`xlduty recalc` on the sheets users have: a plain purchase sheet typed by hand, and the shipped
quote template — recalculated without Excel through the real worksheet functions."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _recalc(src: Path, dst: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlduty.cli", "recalc", str(src), "-o", str(dst)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.fixture(scope="module")
def purchase(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    """A purchase sheet as a user types it in Excel (openpyxl writes it like any .xlsx): HS code,
    origin, CIF yen, quantity, declaration date (a real date cell), one-line DUTY and
    CONSUMPTION_TAX per row, SUMs below, and the declaration totals with DUTY_TOTALS."""
    folder = tmp_path_factory.mktemp("purchase")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "仕入"
    ws.append(["HS", "Origin", "CIF", "Qty", "Date", "Duty", "CT"])
    rows = [("6109.10-020", "CN", 300000, None), ("8471.30-000", "CN", 100000, None),
            ("4202.22-200", "FR", 150000, None), ("6403.99-012", "IT", 240000, 12)]
    for r, (hs, origin, cif, qty) in enumerate(rows, start=2):
        ws.append([hs, origin, cif, qty, datetime(2026, 11, 20)])
        ws[f"E{r}"].number_format = "yyyy/mm/dd"
        ws[f"F{r}"] = f"=DUTY(A{r},C{r},B{r},D{r},E{r})"
        ws[f"G{r}"] = f"=CONSUMPTION_TAX(A{r},C{r},B{r},D{r},E{r})"
    ws["E7"] = "Sum of cells"
    ws["F7"] = "=SUM(F2:F5)"
    ws["G7"] = "=SUM(G2:G5)"
    ws["E8"] = "Declaration"
    ws["F8"] = '=DUTY_TOTALS(A2:A5,C2:C5,B2:B5,D2:D5,E2,,"duty")'
    ws["G8"] = '=DUTY_TOTALS(A2:A5,C2:C5,B2:B5,D2:D5,E2,,"consumption_tax")'
    ws["H8"] = '=DUTY_TOTALS(A2:A5,C2:C5,B2:B5,D2:D5,E2,,"total")'
    ws["F10"] = '=DUTY(A2,"abc",B2,,E2)'
    src, dst = folder / "purchase.xlsx", folder / "purchase_out.xlsx"
    wb.save(src)
    before = src.read_bytes()
    p = _recalc(src, dst)
    assert p.returncode == 0, p.stderr
    assert src.read_bytes() == before   # IN is never touched
    return openpyxl.load_workbook(dst, data_only=True)


def test_purchase_sheet_per_row(purchase: openpyxl.Workbook) -> None:
    """Each row is its own one-line declaration (date 2026-11-20, edition 2026_07_09):
    T-shirts 300,000 × 7.4 % = 22,200; CT base 322,000 → 25,116 → 25,100 + local 25,100 × 22/78 = 7,079 → 7,000.
    Laptops 100,000 free; CT 7,800 + 2,200 = 10,000.
    Handbags FR 150,000 ≤ 200,000 → simplified tariff 5 % (cheaper than 8 %) = 7,500; CT base 157,000 →
    12,246 → 12,200 + 12,200 × 22/78 = 3,441 → 3,400 = 15,600.
    Shoes IT 240,000, 12 pairs: 21.6 % or 4,300 yen/pair, the higher: 51,840 vs 51,600 → 51,800;
    CT base floor_1000(291,800) = 291,000 → 22,698 → 22,600 + 22,600 × 22/78 = 6,374 → 6,300 = 28,900."""
    ws = purchase["仕入"]
    assert [ws[f"F{r}"].value for r in range(2, 6)] == [22200, 0, 7500, 51800]
    assert [ws[f"G{r}"].value for r in range(2, 6)] == [32100, 10000, 15600, 28900]
    assert (ws["F7"].value, ws["G7"].value) == (81500, 86600)


def test_purchase_sheet_as_one_declaration(purchase: openpyxl.Workbook) -> None:
    """Together the four lines are 790,000 > 200,000: the general tariff for the handbags (8 % = 12,000).
    Duty floor_100(22,200 + 0 + 12,000 + 51,840) = 86,000. National CT 25,116 + 7,800 + 12,636 + 22,698
    = 68,250 → 68,200; local 7,079 + 2,200 + 3,553 + 6,374 = 19,206 → 19,200; total 173,400 — not the
    SUM of the per-row cells (81,500 + 86,600)."""
    ws = purchase["仕入"]
    assert (ws["F8"].value, ws["G8"].value, ws["H8"].value) == (86000, 87400, 173400)


def test_purchase_sheet_error_is_readable(purchase: openpyxl.Workbook) -> None:
    assert purchase["仕入"]["F10"].value == "#エラー 課税価格(value): 数値を入力してください"


def test_formulas_and_vba_are_kept(template_path: Path) -> None:
    import zipfile

    wb = openpyxl.load_workbook(template_path, keep_vba=True)
    assert wb["Quote"][f"B{_row(wb['Quote'], '関税 Duty')}"].value.startswith("=QUOTE_TOTALS(Lines!$B$5:$L$54,")
    assert wb["Lines"]["A5"].value == '=IF(AND(C5="",E5="",F5=""),"",ROW()-4)'
    original = zipfile.ZipFile(ROOT / "workbook" / "xlduty.xlsm").read("xl/vbaProject.bin")
    assert zipfile.ZipFile(template_path).read("xl/vbaProject.bin") == original


def _row(ws: Any, label: str) -> int:
    """The row of the Quote sheet whose label (column A) starts with ``label``: tests name figures as a user
    reads them, not by row number."""
    rows = [c.row for c in ws["A"] if isinstance(c.value, str) and c.value.startswith(label)]
    assert len(rows) == 1, f"{label!r}: rows {rows}"
    return rows[0]


def _value(ws: Any, label: str, column: str = "B") -> Any:
    return ws[f"{column}{_row(ws, label)}"].value


@pytest.fixture(scope="module")
def template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("template") / "quote.xlsm"
    p = _recalc(ROOT / "workbook" / "xlduty.xlsm", dst)
    assert p.returncode == 0, p.stderr
    return dst


@pytest.fixture(scope="module")
def template(template_path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(template_path, data_only=True, keep_vba=True)


def test_template_quote_figures(template: openpyxl.Workbook) -> None:
    """The worked example in workbook/src/quote.yaml (FOB, USD at 125, freight by weight, insurance by value,
    通関料 and tax-included delivery): goods 500,000, charges 21,250, customs value 521,250, duty 23,500, CT 54,300,
    taxes 77,800, domestic costs 16,800 + CT 500, landed cost 561,550, quote 730,198, margin 168,648 (23.10 % on
    the price, 30.03 % on cost), cash 616,350, cash at import 89,600."""
    q = template["Quote"]
    first = _row(q, "商品代金 Goods")
    assert [q[f"B{r}"].value for r in range(first, first + 16)] == [
        500000, 21250, 521250, 23500, 54300, 77800, 16800, 500, 561550, 730198, 73019, 803217, 168648, 23.1, 616350,
        89600]
    assert _value(q, "粗利率", "D") == 30.03
    assert _value(q, "注意 Warnings") in ("", None)   # no warning: FOB with freight and insurance paid by the buyer
    assert (_value(q, "宛先 Customer"), _value(q, "件名")) == ("株式会社サンプル商事", "Q-2026-031 Tシャツ・ノートPC")


def test_template_lines(template: openpyxl.Workbook) -> None:
    """Per line (hand figures in quote.yaml): freight 17,778 / 2,222 by weight and insurance ¥750 / 500 by value;
    the line's share of the duty payable 23,500 / 0 and of the CT payable 34,139 / 20,161 (national 26,656 /
    15,744, local 7,483 / 4,417); domestic costs 7,080 + 4,444 / 4,720 + 556; landed 353,552 → 1,767.76 per unit
    → ROUNDUP(× 1.3) 2,299; 207,998 → 103,999 → 135,199; cash per unit 1,940.68 and 114,107.50."""
    ws = template["Lines"]
    assert [ws.cell(5, c).value for c in range(13, 25)] == ["7.4%", 300000, 18528, 318528, 23500, 34139, 11524,
                                                           353552, 1767.76, 1940.68, 2299, 459800]
    assert [ws.cell(6, c).value for c in range(13, 25)] == ["無税", 200000, 2722, 202722, 0, 20161, 5276, 207998,
                                                           103999, 114107.5, 135199, 270398]
    assert (ws["A5"].value, ws["A6"].value) == (1, 2)
    assert ws["A7"].value in ("", None) and ws["M7"].value in ("", None) and ws["X54"].value in ("", None)


def test_template_self_test_passes_headless(template: openpyxl.Workbook) -> None:
    """The sheet a release manager checks in Windows Excel computes ALL OK here through the same functions."""
    ws = template["SelfTest"]
    assert [ws[f"D{r}"].value for r in range(5, 16)] == ["OK"] * 11
    assert ws["B2"].value == "ALL OK"
    # and what it reached: the xlduty it was built with (a twelfth check), the Python and xlwings that computed it
    import platform

    from xlduty import __version__

    assert (ws["B16"].value, ws["C16"].value, ws["D16"].value) == (__version__, __version__, "OK")
    assert ws["B19"].value.startswith(platform.python_version() + " (")
    assert ws["B20"].value == "0.37.8"


def _example_input() -> dict[str, object]:
    """The template's example as `xlduty quote` JSON."""
    return {"date": "2026-11-20", "incoterm": "FOB", "currency": "USD", "fx": 125,
            "lines": [{"description": "T-shirts", "hs_code": "6109.10-020", "origin": "CN", "quantity": 200,
                       "unit_price": 12, "weight_kg": 40},
                      {"description": "Laptops", "hs_code": "8471.30-000", "origin": "CN", "quantity": 2,
                       "unit_price": 800, "weight_kg": 5}],
            "charges": [{"kind": "freight", "amount": 20000, "currency": "JPY", "allocate_by": "weight"},
                        {"kind": "insurance", "amount": 10, "allocate_by": "value"}],
            "domestic_costs": [{"kind": "customs_brokerage", "amount": 11800},
                               {"kind": "delivery", "amount": 5500, "tax_included": True, "allocate_by": "weight"}],
            "margin": {"percent": 30, "on": "cost"}}


def test_template_agrees_with_the_quote_api(template: openpyxl.Workbook) -> None:
    """The same quote through `xlduty.quote`: the same prices, totals and cash figures as the sheet."""
    from xlduty.quote import quote

    q = quote(_example_input()).to_dict()
    lines, sheet = template["Lines"], template["Quote"]
    assert [ln["price"] for ln in q["lines"]] == [lines["W5"].value, lines["W6"].value] == [2299, 135199]
    assert [float(ln["unit_cost_cash"]) for ln in q["lines"]] == [lines["V5"].value, lines["V6"].value]
    t = q["totals"]
    assert [t["duty"], t["consumption_tax"], t["taxes_total"], t["landed_cost"], t["price_total"],
            t["landed_cost_cash"]] == [_value(sheet, label) for label in (
                "関税", "輸入消費税", "輸入時納付額", "仕入原価合計", "見積合計", "支払総額")]
    assert (t["sales_ct"], t["price_total_with_ct"]) == (_value(sheet, "消費税 Consumption tax on the quote"),
                                                         _value(sheet, "税込合計"))
    assert q["cash_at_import"]["total"] == _value(sheet, "輸入時必要資金")


def test_template_records_its_basis_and_compares_treatments(template: openpyxl.Workbook) -> None:
    """The quote records the edition, FX week, FX applied and options, and sets every treatment side by side
    (hand figures in workbook/src/quote.yaml): as quoted = general = MFN = commercial 77,800; simplified refused
    with the reason; RCEP China (4.6 % on the T-shirts) 68,000, saving 9,800; personal use 44,500, whose landed
    cost carries the import CT (no 仕入税額控除 for personal use): 500,000 + 21,250 + 13,300 + 16,800 + 500 +
    24,400 + 6,800 = 583,050."""
    q = template["Quote"]
    basis = _row(q, "計算根拠")
    assert [q[f"B{r}"].value for r in range(basis + 1, basis + 6)] == ["2026_07_09", "2026-11-15–2026-11-21", 125,
                                                                      "(none)", "0.1.0"]
    first = _row(q, "選択した条件")
    rows = [[q.cell(r, c).value for c in range(1, 5)] for r in range(first, first + 7)]
    assert [r[0].split(" ")[0] for r in rows] == [
        "選択した条件", "一般税率", "簡易税率", "MFN（特恵・EPA不適用）", "地域的な包括的経済連携協定（RCEP）中国向け",
        "商業用（通常の課税価格）", "個人使用（海外小売価格×0.6）"]
    assert [r[1:] for r in rows if r[0].split(" ")[0] != "簡易税率"] == [
        [77800, 561550, 0], [77800, 561550, 0], [77800, 561550, 0], [68000, 552650, -9800], [77800, 561550, 0],
        [44500, 583050, -33300]]
    assert rows[2][1] == "課税価格の合計 521,250 円が 200,000 円を超えるため簡易税率は使えません"
    assert q[f"A{first + 7}"].value in ("", None)   # the spill ends with the treatments
    assert _value(q, "為替 FX (yen", "D").startswith("税関長公示レート未収録")   # 2026: beyond the bundled table


def test_template_fx_sensitivity(template: openpyxl.Workbook) -> None:
    """Every foreign rate × 0.95 / × 1.05, the yen freight unchanged (hand figures in quote.yaml): landed cost
    535,387.50 (duty 303,000 × 7.4 % → 22,400) and 587,712.50 (333,000 × 7.4 % → 24,600), ∓26,162.50."""
    q = template["Quote"]
    assert [_value(q, "為替 FX −5 %", c) for c in "BD"] == [535387.5, -26162.5]
    assert [_value(q, "為替 FX +5 %", c) for c in "BD"] == [587712.5, 26162.5]


def test_template_reverse_round_trips(template: openpyxl.Workbook) -> None:
    """逆算 on line 1: at USD 11.49 the T-shirts land at ≤ ¥1,700 per unit and at 11.50 above it; at USD 11.44
    the quote price is ≤ ¥2,200 and at 11.45 above it — checked by `xlduty quote` at those prices."""
    from xlduty.quote import quote

    q = template["Quote"]
    assert (_value(q, "→ 原価目標"), _value(q, "→ 見積目標")) == (11.49, 11.44)

    def line1(price: str) -> dict[str, object]:
        data = _example_input()
        data["lines"][0]["unit_price"] = price  # type: ignore[index]
        return quote(data).to_dict()["lines"][0]

    assert float(line1("11.49")["unit_cost"]) <= 1700 < float(line1("11.50")["unit_cost"])
    assert line1("11.44")["price"] <= 2200 < line1("11.45")["price"]


def test_template_with_a_yen_invoice_and_a_seller_paid_charge(tmp_path: Path) -> None:
    """A user edits the template: invoice in JPY (T-shirts ¥1,500, laptops ¥100,000), incoterm DAP with the
    seller's Japanese delivery leg of ¥5,000 stated inside the price (paid_by seller: taken out of the customs
    value, allocated by quantity 200 : 2 → 4,950.495… / 49.504… → 4,950 / 50), no freight rows, customs brokerage only.
    The sheet equals `xlduty quote` on the same input, and the row numbers in an error are the sheet's."""
    from xlduty.quote import quote

    wb = openpyxl.load_workbook(ROOT / "workbook" / "xlduty.xlsm", keep_vba=True)
    quote_sheet = wb["Quote"]
    for label, value in (("貿易条件", "DAP"), ("仕入通貨", "JPY"), ("為替 FX (yen", None)):
        quote_sheet[f"B{_row(quote_sheet, label)}"] = value
    wb["Lines"]["F5"], wb["Lines"]["F6"] = 1500, 100000
    costs = wb["Costs"]
    for c, v in zip("ABCDEF", ["post_arrival", "配送 (DAP)", 5000, None, "quantity", "seller"], strict=True):
        costs[f"{c}5"] = v
    for c in "ABCDEF":
        costs[f"{c}6"] = None
    for c in "ABCDEFG":
        costs[f"{c}20"] = None
    src, dst = tmp_path / "dap.xlsm", tmp_path / "dap_out.xlsm"
    wb.save(src)
    assert _recalc(src, dst).returncode == 0
    out = openpyxl.load_workbook(dst, data_only=True, keep_vba=True)
    sheet, lines = out["Quote"], out["Lines"]
    data = _example_input()
    data.update(incoterm="DAP", currency="JPY", fx=None,
                charges=[{"kind": "post_arrival", "amount": 5000, "allocate_by": "quantity", "paid_by": "seller"}],
                domestic_costs=[{"kind": "customs_brokerage", "amount": 11800}])
    data["lines"][0]["unit_price"], data["lines"][1]["unit_price"] = 1500, 100000  # type: ignore[index]
    q = quote(data).to_dict()
    assert [ln["customs_value"] for ln in q["lines"]] == [lines["P5"].value, lines["P6"].value] == [295050, 199950]
    assert [ln["price"] for ln in q["lines"]] == [lines["W5"].value, lines["W6"].value]
    assert (q["totals"]["landed_cost"], q["totals"]["price_total"]) == (_value(sheet, "仕入原価合計"),
                                                                        _value(sheet, "見積合計"))

