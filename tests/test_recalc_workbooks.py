"""`xlduty recalc` on the sheets users have: a plain purchase sheet typed by hand, and the shipped
quote template — recalculated without Excel through the real worksheet functions."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

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
    assert wb["Quote"]["B17"].value.startswith("=DUTY_TOTALS(")
    assert wb["Lines"]["G5"].value == '=IF(C5="","",E5*F5*Quote!$B$11)'
    original = zipfile.ZipFile(ROOT / "workbook" / "xlduty.xlsm").read("xl/vbaProject.bin")
    assert zipfile.ZipFile(template_path).read("xl/vbaProject.bin") == original


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
    """The worked example in workbook/src/quote.yaml: duty 23,000, CT 54,200 (42,300 + 11,900), paid at
    import 77,200; landed cost 500,000 + 20,000 + 23,000 + 11,800 = 554,800; quote 444,800 + 276,536
    = 721,336 (the figure `xlduty quote` gives for the same goods); margin 166,536."""
    q = template["Quote"]
    assert [q[f"B{r}"].value for r in range(14, 23)] == [500000, 20000, 520000, 23000, 54200, 77200, 554800,
                                                          721336, 166536]


def test_template_lines(template: openpyxl.Workbook) -> None:
    """Per line: freight 12,000 / 8,000 by value; the line's share of the duty payable 23,000 / 0 (its own
    duty 23,088 / 0, total truncated to ¥100) and of the CT payable: national 42,300 split 26,130 : 16,224 →
    26,100 / 16,200, local 11,900 split 7,361 : 4,569 → 7,339 / 4,561, so 33,439 / 20,761 (DUTY_LINES spill);
    landed per unit (312,000 + 23,000 + 7,080) / 200 = 1,710.40 and (208,000 + 4,720) / 2 = 106,360;
    quote ROUNDUP(× 1.3): 2,224 and 138,268."""
    ws = template["Lines"]
    assert [ws[f"{c}5"].value for c in "GHIJKLMN"] == [300000, 12000, 312000, 23000, 33439, 1710.4, 2224, 444800]
    assert [ws[f"{c}6"].value for c in "GHIJKLMN"] == [200000, 8000, 208000, 0, 20761, 106360, 138268, 276536]
    # cash view: (312,000 + 23,000 + 33,439 + 7,080) / 200 = 1,877.595 → 1,877.60; (208,000 + 20,761 + 4,720) / 2
    assert (ws["O5"].value, ws["O6"].value) == (1877.6, 116740.5)
    assert template["Quote"]["B23"].value == 609000
    assert ws["J7"].value in ("", None) and ws["G7"].value in ("", None)


def test_template_self_test_passes_headless(template: openpyxl.Workbook) -> None:
    """The sheet a release manager checks in Windows Excel computes ALL OK here through the same functions."""
    ws = template["SelfTest"]
    assert [ws[f"D{r}"].value for r in range(5, 15)] == ["OK"] * 10
    assert ws["B2"].value == "ALL OK"


def test_template_agrees_with_the_quote_api(template: openpyxl.Workbook) -> None:
    """The same goods through `xlduty.quote` (FOB, buyer pays ¥20,000 freight allocated by value, ¥11,800 of
    other costs outside the consumption tax, markup 30 % on cost): the same prices and totals as the sheet."""
    from xlduty.quote import quote

    q = quote({"date": "2026-11-20", "incoterm": "FOB",
               "lines": [{"description": "T-shirts", "hs_code": "6109.10-020", "origin": "CN", "quantity": 200,
                          "unit_price": 1500},
                         {"description": "Laptops", "hs_code": "8471.30-000", "origin": "CN", "quantity": 2,
                          "unit_price": 100000}],
               "charges": [{"kind": "freight", "amount": 20000, "currency": "JPY", "allocate_by": "value",
                            "paid_by": "buyer"}],
               "domestic_costs": [{"kind": "other", "amount": 11800, "ct": "exempt", "allocate_by": "value"}],
               "margin": {"percent": 30, "on": "cost"}}).to_dict()
    lines = template["Lines"]
    assert [ln["price"] for ln in q["lines"]] == [lines["M5"].value, lines["M6"].value] == [2224, 138268]
    sheet = template["Quote"]
    assert (q["totals"]["duty"], q["totals"]["consumption_tax"]) == (sheet["B17"].value, sheet["B18"].value)
    assert (q["totals"]["landed_cost"], q["totals"]["price_total"]) == (sheet["B20"].value, sheet["B21"].value)
    assert q["totals"]["landed_cost_cash"] == sheet["B23"].value
    assert [float(ln["unit_cost_cash"]) for ln in q["lines"]] == [lines["O5"].value, lines["O6"].value]


def test_template_records_its_basis_and_compares_treatments(template: openpyxl.Workbook) -> None:
    """The quote records the edition, FX week and options it was computed on, and sets the treatments side by
    side (hand figures in workbook/src/quote.yaml): general 77,200; simplified refused with the reason; best
    preference (RCEP China 4.6 % on the T-shirts) 67,600, saving 9,600; personal use 46,200."""
    q = template["Quote"]
    assert [q[f"B{r}"].value for r in range(27, 31)] == ["2026_07_09", "2026-11-15–2026-11-21", "(none)", "0.1.0"]
    assert [q["B33"].value, q["B34"].value, q["B36"].value, q["B37"].value] == [77200, 77200, 67600, 46200]
    assert [q["D34"].value, q["D36"].value, q["D37"].value] == [0, -9600, -31000]
    assert q["B35"].value == ("#エラー 簡易税率(simplified): 課税価格の合計 520,000 円が 200,000 円を超えるため"
                              "簡易税率は使えません")


def test_template_fx_sensitivity(template: openpyxl.Workbook) -> None:
    """Invoice amounts in yen × 0.95 / × 1.05, freight unchanged (hand figures in quote.yaml): landed cost
    528,700 (duty 297,000 × 7.4 % → 21,900) and 580,900 (327,000 × 7.4 % → 24,100), ∓26,100 vs 554,800."""
    q = template["Quote"]
    assert (q["B40"].value, q["D40"].value, q["B41"].value, q["D41"].value) == (528700, -26100, 580900, 26100)
    assert (template["Lines"]["P5"].value, template["Lines"]["Q6"].value) == (297000, 218000)


def test_template_in_a_foreign_currency_agrees_with_the_api(tmp_path: Path) -> None:
    """The user sets Invoice currency USD at 150 yen and USD unit prices (10 × 200 T-shirts, 1,000 × 2 laptops):
    goods 300,000 + 300,000 yen, freight 10,000 each, CIF 310,000 each; duty 310,000 × 7.4 % = 22,940 → 22,900.
    The sheet's prices and totals equal `xlduty quote` for the same USD invoice."""
    from xlduty.quote import quote

    wb = openpyxl.load_workbook(ROOT / "workbook" / "xlduty.xlsm", keep_vba=True)
    wb["Quote"]["B10"], wb["Quote"]["B11"] = "USD", 150
    wb["Lines"]["F5"], wb["Lines"]["F6"] = 10, 1000
    src, dst = tmp_path / "usd.xlsm", tmp_path / "usd_out.xlsm"
    wb.save(src)
    assert _recalc(src, dst).returncode == 0
    out = openpyxl.load_workbook(dst, data_only=True, keep_vba=True)
    sheet, lines = out["Quote"], out["Lines"]
    assert (sheet["B16"].value, sheet["B17"].value) == (620000, 22900)
    q = quote({"date": "2026-11-20", "incoterm": "FOB", "currency": "USD", "fx": 150,
               "lines": [{"hs_code": "6109.10-020", "origin": "CN", "quantity": 200, "unit_price": 10},
                         {"hs_code": "8471.30-000", "origin": "CN", "quantity": 2, "unit_price": 1000}],
               "charges": [{"kind": "freight", "amount": 20000, "currency": "JPY", "allocate_by": "value",
                            "paid_by": "buyer"}],
               "domestic_costs": [{"kind": "other", "amount": 11800, "ct": "exempt", "allocate_by": "value"}],
               "margin": {"percent": 30, "on": "cost"}}).to_dict()
    assert [ln["price"] for ln in q["lines"]] == [lines["M5"].value, lines["M6"].value]
    assert (q["totals"]["landed_cost"], q["totals"]["price_total"]) == (sheet["B20"].value, sheet["B21"].value)
