"""The 見積書 the customer receives (issue 20): its figures, computed as `xlduty quote` computes them; the
registration number it carries; the sheet in the template and its PDF (`xlduty export-pdf --customer`), read back
with pdfplumber; and no internal figure (landed cost, duty, margin, supplier) anywhere on it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from print_layout import template_with

from xlduty.core.errors import InputError
from xlduty.excel import quote_functions as qf
from xlduty.quote import quote
from xlduty.quote.registration import check_digit, kind_of, registration_number

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbook" / "xlduty.xlsm"
needs_office = pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                                  reason="LibreOffice is not installed: .ci/run installs libreoffice-calc-nogui")

MIXED = {"date": "2026-11-20", "incoterm": "CIF", "currency": "JPY", "margin": {"percent": 30, "on": "cost"},
         "customer": "株式会社テスト食品", "reference": "Q-77",
         "lines": [{"description": "生豆 コーヒー", "hs_code": "0901.11-000", "origin": "BR", "quantity": 60,
                    "unit": "kg", "unit_price": 1234},
                   {"description": "ノートPC", "hs_code": "8471.30-000", "origin": "CN", "quantity": 3, "unit": "台",
                    "unit_price": 98765},
                   {"description": "USBケーブル", "hs_code": "8471.30-000", "origin": "CN", "quantity": 1,
                    "unit": "本", "unit_price": 1005}]}


def test_food_and_other_goods_at_both_rates() -> None:
    """Hand-worked (CIF in yen, 2026-11-20, markup 30 % on cost; green coffee 0901.11 and laptops 8471.30 are free
    of duty, and the import consumption tax is recovered, so each line's landed cost is its goods value):
    coffee 60 kg × ¥1,234: 1,234 × 1.3 = 1,604.2 → rounded up 1,605; × 60 = 96,300 — food (0901: 飲食料品), 8 %;
    laptops 3 × ¥98,765: 128,394.5 → 128,395; × 3 = 385,185 — 10 %;
    cable 1 × ¥1,005: 1,306.5 → 1,307 — 10 %.
    小計 96,300 + 385,185 + 1,307 = 482,792.
    10 %: the amounts summed first, 385,185 + 1,307 = 386,492 → × 10 % = 38,649.2 → 38,649 (one rounding per rate:
    rounding each line, 38,518 + 130 = 38,648, is what 施行令70条の10 does not allow);
    8 %: 96,300 × 8 % = 7,704.
    消費税 38,649 + 7,704 = 46,353; 合計 482,792 + 46,353 = 529,145."""
    c = quote(MIXED).customer_quote()
    assert [(ln.unit_price, ln.amount, ln.ct_percent, ln.reduced) for ln in c.lines] == [
        (1605, 96300, 8, True), (128395, 385185, 10, False), (1307, 1307, 10, False)]
    assert [(r.percent, r.base, r.tax) for r in c.rates] == [(10, 386492, 38649), (8, 96300, 7704)]
    assert (c.subtotal, c.tax, c.total) == (482792, 46353, 529145)
    assert c.table()[3:] == [["", "", "", "", "小計", 482792, ""], ["", "", "", "", "10%対象", 386492, ""],
                             ["", "", "", "", "消費税 10%", 38649, ""], ["", "", "", "", "8%対象", 96300, ""],
                             ["", "", "", "", "消費税 8%", 7704, ""], ["", "", "", "", "合計", 529145, ""],
                             ["", "※は軽減税率（8%）対象品目です", "", "", "", "", ""]]
    assert c.table()[0][6] == "8%※" and c.table()[1][6] == "10%"
    assert c.fx_assumptions == []   # all in yen: the price does not depend on a rate


def test_the_quote_json_carries_the_customer_view() -> None:
    """`xlduty quote` adds ``customer_quote`` (nothing renamed); its tax is the quote's sales_ct, as before."""
    out = quote(MIXED).to_dict()
    cq = out["customer_quote"]
    assert (cq["subtotal"], cq["consumption_tax"], cq["total"]) == (482792, 46353, 529145)
    assert (out["totals"]["price_total"], out["totals"]["sales_ct"], out["totals"]["price_total_with_ct"]) == (
        482792, 46353, 529145)
    assert [r["tax"] for r in cq["rates"]] == [38649, 7704]
    assert (cq["customer"], cq["subject"], cq["honorific"]) == ("株式会社テスト食品", "Q-77", "御中")
    assert "landed_cost" not in str(cq) and "duty" not in str(cq)


def test_the_fx_assumption_names_every_foreign_rate() -> None:
    """A USD invoice at 125 with a freight in EUR at 162.5: both rates are stated."""
    data = {**MIXED, "currency": "USD", "fx": 125, "fx_rates": {"EUR": "162.5"}, "incoterm": "FOB",
            "charges": [{"kind": "freight", "amount": 100, "currency": "EUR"}]}
    c = quote(data).customer_quote()
    assert c.fx_assumptions == ["1 USD = 125円前提", "1 EUR = 162.5円前提"]
    assert c.remarks[-1] == "為替: 1 USD = 125円前提、1 EUR = 162.5円前提（為替変動時は再見積いたします）"


def test_no_margin_no_customer_prices() -> None:
    data = {k: v for k, v in MIXED.items() if k != "margin"}
    assert quote(data).to_dict()["customer_quote"]["total"] is None
    args = _sheet_args(data)
    assert qf.QUOTE_CUSTOMER(*args, None, "total").startswith("#エラー")


# --- the registration number ---------------------------------------------------------------------

def test_corporate_check_digit() -> None:
    """省令2条: 9 − (Σ Pn × Qn mod 9). Worked: 基礎番号 123456789012, from the right 2×1 + 1×2 + 0×1 + 9×2 + 8×1
    + 7×2 + 6×1 + 5×2 + 4×1 + 3×2 + 2×1 + 1×2 = 74; 74 mod 9 = 2; 9 − 2 = 7 → 法人番号 7123456789012."""
    assert check_digit("123456789012") == 7
    assert registration_number("T7123456789012") == "T7123456789012"
    with pytest.raises(InputError, match="検査用数字は 7"):
        registration_number("T1123456789012")


def test_the_check_digit_agrees_with_python_stdnum() -> None:
    """An independent implementation of the 法人番号 (stdnum.jp.cn), over many numbers."""
    cn = pytest.importorskip("stdnum.jp.cn")
    import random

    rng = random.Random(20)
    for _ in range(500):
        base = f"{rng.randrange(10**12):012d}"
        number = f"{check_digit(base)}{base}"
        assert cn.is_valid(number), number
        wrong = f"{(check_digit(base) % 9) + 1}{base}"
        assert not cn.is_valid(wrong)
        with pytest.raises(InputError):
            registration_number("T" + wrong)


def test_numbers_as_people_type_them() -> None:
    """Full-width, lower-case t, spaces and hyphens are normalised; an individual's number has only its form
    checked (no rule for its digits is published), so a corporation's check does not apply to it."""
    assert registration_number("ｔ７１２３ ４５６７-８９０１２") == "T7123456789012"
    assert registration_number("T1234567890123", "individual") == "T1234567890123"
    with pytest.raises(InputError, match="check digit"):
        registration_number("T1234567890123", "corporation")
    for bad in ("7123456789012", "T712345678901", "T71234567890123", "X7123456789012", "T712345678901A"):
        with pytest.raises(InputError, match="T and 13 digits"):
            registration_number(bad)
    assert (kind_of("個人"), kind_of("法人"), kind_of(None)) == ("individual", "corporation", "corporation")
    with pytest.raises(InputError, match="corporation"):
        kind_of("会社")


def test_a_quote_refuses_a_wrong_number_naming_the_field() -> None:
    from xlduty.quote.model import parse_quote

    bad = {**MIXED, "document": {"issuer": {"name": "x", "registration_number": "T1123456789012"}}}
    with pytest.raises(InputError) as err:
        parse_quote(bad)
    assert err.value.field == "document.issuer.registration_number"
    ok = {**MIXED, "document": {"issuer": {"name": "x", "kind": "個人", "registration_number": "T1123456789012"}}}
    assert parse_quote(ok).document.issuer.registration_number == "T1123456789012"  # type: ignore[union-attr]
    with pytest.raises(InputError, match="before the issue date"):
        parse_quote({**MIXED, "document": {"issued": "2026-12-01", "valid_until": "2026-11-01"}})


def test_registration_number_function() -> None:
    assert qf.REGISTRATION_NUMBER("Ｔ7123456789012") == "T7123456789012"
    assert qf.REGISTRATION_NUMBER("T1123456789012").startswith("#エラー")
    assert qf.REGISTRATION_NUMBER("T1123456789012", "個人") == "T1123456789012"
    assert qf.REGISTRATION_NUMBER(None).startswith("#エラー")


# --- the worksheet function and the JSON agree ------------------------------------------------------

def _sheet_args(data: dict[str, Any]) -> tuple[Any, ...]:
    """The quote arguments as a sheet passes them (11-column lines: with the unit and the food flag)."""
    lines = [[ln["description"], ln["hs_code"], ln["origin"], float(ln["quantity"]), float(ln["unit_price"]), None,
              None, None, None, ln.get("unit"), None] for ln in data["lines"]]
    margin = data.get("margin")
    return (lines, None, None, data["date"], data["incoterm"], data["currency"], data.get("fx"),
            None if margin is None else float(Decimal(str(margin["percent"])) / 100), "cost", None)


DOCUMENT = [["株式会社テスト食品"], ["御中"], ["Q-77"], ["2026-11-10"], ["2026-12-10"], [None], ["翌月納品"], [None],
            [None], ["サンプル輸入株式会社"], ["東京都"], ["03-0000-0000"], ["法人"], ["T7123456789012"]]


def test_quote_customer_spills_what_the_json_says() -> None:
    args = _sheet_args(MIXED)
    table = qf.QUOTE_CUSTOMER(*args, DOCUMENT, "table")
    c = quote(MIXED).customer_quote()
    assert table == [[v if not isinstance(v, Decimal) else int(v) for v in row] for row in c.table()]
    assert qf.QUOTE_CUSTOMER(*args, DOCUMENT, "total") == 529145
    assert qf.QUOTE_CUSTOMER(*args, DOCUMENT, "addressee") == "株式会社テスト食品 御中"
    assert qf.QUOTE_CUSTOMER(*args, DOCUMENT, "subject") == "Q-77"   # no 件名: the reference (見積番号 alone)
    assert qf.QUOTE_CUSTOMER(*args, DOCUMENT, "issued") == "2026年11月10日"
    assert qf.QUOTE_CUSTOMER(*args, DOCUMENT, "issuer") == [["サンプル輸入株式会社"], ["東京都"], ["03-0000-0000"],
                                                            ["登録番号 T7123456789012"]]
    assert qf.QUOTE_CUSTOMER(*args, DOCUMENT, "remarks") == [["受渡条件: 翌月納品"], ["有効期限: 2026年12月10日"]]
    assert qf.QUOTE_CUSTOMER(*args, DOCUMENT, "fx") == ""


def test_quote_customer_errors_name_the_cell() -> None:
    args = _sheet_args(MIXED)
    bad = [row[:] for row in DOCUMENT]
    bad[13] = ["T1123456789012"]
    assert "registration_number" in qf.QUOTE_CUSTOMER(*args, bad, "total")
    assert qf.QUOTE_CUSTOMER(*args, bad, "table")[0][0].startswith("#エラー")
    bad = [row[:] for row in DOCUMENT]
    bad[1] = ["殿"]
    assert "honorific" in qf.QUOTE_CUSTOMER(*args, bad, "addressee")
    assert "document" in qf.QUOTE_CUSTOMER(*args, DOCUMENT[:5], "total")
    assert "document" in qf.QUOTE_CUSTOMER(*args, None, "addressee")
    assert qf.QUOTE_CUSTOMER(*args, DOCUMENT, "landed_cost").startswith("#エラー")   # not a part of the 見積書


def test_a_fractional_quantity_prints_whole_yen() -> None:
    """Hand-worked (coffee at ¥1,234 CIF, 30 % on cost: ¥1,605 a kg, as in test_food_and_other_goods_at_both_rates):
    2.5 kg × 1,605 = 4,012.5 → 4,013 and 0.3 kg × 1,605 = 481.5 → 482 (rounded up, as the price is); 小計 4,495;
    8 % of 4,495 = 359.6 → 359; 合計 4,854. Before, 金額 printed 4012.5 and the 小計 4,494 was not the sum of the
    amounts as a sheet formatted #,##0 shows them (4,013 + 482)."""
    coffee = {"description": "coffee", "hs_code": "0901.11-000", "origin": "BR", "unit": "kg", "unit_price": 1234}
    data = {**MIXED, "lines": [{**coffee, "quantity": 2.5}, {**coffee, "quantity": 0.3}]}
    c = quote(data).customer_quote()
    assert [(ln.unit_price, ln.amount) for ln in c.lines] == [(1605, 4013), (1605, 482)]
    assert (c.subtotal, c.tax, c.total) == (4495, 359, 4854)
    assert quote(data).totals()["price_total"] == 4495


def test_quote_customer_reads_part_as_every_closed_word() -> None:
    """``part`` is one word read as every closed-set word is (full-width, case, spaces); an error value in the part
    cell is named as one, not listed as an unknown part."""
    args = _sheet_args(MIXED)
    assert qf.QUOTE_CUSTOMER(*args, DOCUMENT, "ＴＯＴＡＬ") == qf.QUOTE_CUSTOMER(*args, DOCUMENT, "total") == 529145
    error = qf.QUOTE_CUSTOMER(*args, DOCUMENT, "#N/A")
    assert error.startswith("#エラー") and "#N/A" in error and "unknown" not in error


def test_the_food_column_overrides_the_tariff_line() -> None:
    """Column 11 of the lines (食品 8 %): ``no`` puts the coffee at 10 % (bought, say, as a sample for a trade
    show, not eaten): 482,792 all at 10 % → 48,279."""
    lines, *rest = _sheet_args(MIXED)
    lines[0][10] = "no"
    assert qf.QUOTE_CUSTOMER(lines, *rest, None, "tax") == 48279
    lines[0][10] = "maybe"
    assert "reduced_ct" in qf.QUOTE_CUSTOMER(lines, *rest, None, "tax")


# --- the template's 見積書 ------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlduty.cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("customer") / "quote.xlsm"
    p = _cli("recalc", str(TEMPLATE), "-o", str(out))
    assert p.returncode == 0, p.stderr
    return out


def test_the_template_sheet_equals_the_headless_quote(recalculated: Path) -> None:
    """The 見積書 sheet after `xlduty recalc` shows what `xlduty quote quote.xlsm` gives as customer_quote: the
    worked example of quote.yaml (2,299 × 200 = 459,800; 135,199 × 2 = 270,398; 小計 730,198; 10 % 73,019;
    合計 803,217), and the Quote sheet repeats the customer and the reference typed on it."""
    from xlduty.excel.quote_workbook import quote_from_workbook

    ws = openpyxl.load_workbook(recalculated, data_only=True)["見積書"]
    table = [[c.value for c in row] for row in ws["A20:G26"]]
    assert table == [[1, "Tシャツ 綿 T-shirts, cotton", 200, "枚", 2299, 459800, "10%"],
                     [2, "ノートPC Laptops", 2, "台", 135199, 270398, "10%"],
                     [None, None, None, None, "小計", 730198, None], [None, None, None, None, "10%対象", 730198, None],
                     [None, None, None, None, "消費税 10%", 73019, None],
                     [None, None, None, None, "合計", 803217, None],
                     [None] * 7]
    cq = quote(quote_from_workbook(recalculated)).to_dict()["customer_quote"]
    assert [[ln["no"], ln["unit_price"], ln["amount"]] for ln in cq["lines"]] == [[r[0], r[4], r[5]] for r in table[:2]]
    assert (cq["subtotal"], cq["consumption_tax"], cq["total"]) == (730198, 73019, 803217) == (
        ws["F22"].value, ws["F24"].value, ws["C10"].value)
    assert (ws["A3"].value, ws["F3"].value, ws["F4"].value) == (
        "株式会社サンプル商事 御中", "Q-2026-031", "2026年11月10日")
    assert ws["D9"].value == "登録番号 T6012345678901"
    assert "為替: 1 USD = 125円前提（為替変動時は再見積いたします）" in [ws[f"B{r}"].value for r in range(12, 18)]
    quote_sheet = openpyxl.load_workbook(recalculated, data_only=True)["Quote"]
    assert (quote_sheet["B4"].value, quote_sheet["B5"].value) == (
        "株式会社サンプル商事", "Q-2026-031 Tシャツ・ノートPC")


# Figures of the worked example that belong to the costing, never to the customer (workbook/src/quote.yaml).
INTERNAL = {"landed cost": "561,550", "line landed costs": "353,552", "laptop landed cost": "207,998",
            "duty": "23,500", "import consumption tax": "54,300", "taxes at import": "77,800",
            "gross margin": "168,648", "margin %": "23.10", "markup %": "30.03", "unit cost": "1,767.76",
            "cash per unit": "1,940.68", "customs value": "521,250", "cash at import": "89,600",
            "supplier": "Shanghai", "HS code": "6109.10-020", "supplier price": "USD 12"}


@needs_office
def test_customer_pdf(tmp_path: Path) -> None:
    """`xlduty export-pdf --customer`: one A4 portrait page, the 見積書 alone, every field with the computed figures;
    no internal figure; the Japanese text in an embedded Japanese font (it comes back as text)."""
    pdfplumber = pytest.importorskip("pdfplumber")
    out = tmp_path / "mitsumori.pdf"
    before = TEMPLATE.read_bytes()
    p = _cli("export-pdf", str(TEMPLATE), "-o", str(out), "--customer")
    assert p.returncode == 0, p.stderr
    assert TEMPLATE.read_bytes() == before
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == 1
        page = pdf.pages[0]
        assert page.width < page.height < 850   # A4 portrait
        text = page.extract_text()
        words = {w["text"] for w in page.extract_words()}
    lines = text.splitlines()
    assert "御 見 積 書" in lines[0]
    for expected in ("株式会社サンプル商事 御中", "見積番号 Q-2026-031", "発行日 2026年11月10日",
                     "件名 Tシャツ・ノートPC",
                     "有効期限 2026年12月20日", "サンプル輸入株式会社", "〒100-0013 東京都千代田区霞が関1-1-1",
                     "TEL 03-0000-0000 担当 山田", "登録番号 T6012345678901", "御見積金額（税込） ¥803,217-",
                     "1 Tシャツ 綿 T-shirts, cotton 200 枚 2,299 459,800 10%",
                     "2 ノートPC Laptops 2 台 135,199 270,398 10%",
                     "小計 730,198", "10%対象 730,198", "消費税 10% 73,019", "合計 803,217",
                     "受渡条件: ご注文後約6週間、貴社倉庫（東京都内）渡し", "お支払条件: 月末締め翌月末払い",
                     "為替: 1 USD = 125円前提（為替変動時は再見積いたします）"):
        assert any(expected in line for line in lines), (expected, lines)
    for what, figure in INTERNAL.items():
        assert figure not in text, what
    assert not words & {"12", "800", "40", "5"}   # supplier unit prices and weights
    assert _embedded_fonts(out) and all(_embedded_fonts(out).values())
    assert any("IPA" in name or "Gothic" in name for name in _embedded_fonts(out))


def _embedded_fonts(path: Path) -> dict[str, bool]:
    """Each font the PDF's pages use → whether its program is embedded (FontFile, FontFile2 or FontFile3)."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    out: dict[str, bool] = {}
    with path.open("rb") as f:
        doc = PDFDocument(PDFParser(f))
        for page in PDFPage.create_pages(doc):
            for font in resolve1(resolve1(page.resources).get("Font", {})).values():
                font = resolve1(font)
                descriptor = resolve1(font.get("FontDescriptor"))
                if descriptor is None and font.get("DescendantFonts"):
                    descriptor = resolve1(resolve1(resolve1(font["DescendantFonts"])[0]).get("FontDescriptor"))
                name = str(resolve1(font.get("BaseFont")))
                out[name] = descriptor is not None and any(k in descriptor for k in ("FontFile", "FontFile2",
                                                                                     "FontFile3"))
    return out


@needs_office
def test_customer_pdf_of_food_and_other_goods(tmp_path: Path) -> None:
    """The template edited to the hand-worked case above (CIF in yen, no charges or costs): both rates print, the
    coffee line is marked ※ and the note says why."""
    pdfplumber = pytest.importorskip("pdfplumber")

    def edit(sheets: dict[str, dict[str, Any]]) -> None:
        quote_cells, lines, costs = sheets["Quote"]["cells"], sheets["Lines"]["cells"], sheets["Costs"]["cells"]
        quote_cells["B10"]["value"], quote_cells["B11"]["value"], quote_cells["B12"]["value"] = "CIF", "JPY", None
        for ref in [f"{c}{r}" for r in (5, 6, 19, 20) for c in "ABCDEFG"]:
            costs.pop(ref, None)
        for r, ln in enumerate(MIXED["lines"], start=5):
            for col, v in zip("BCDEFGK", [ln["description"], ln["hs_code"], ln["origin"], ln["quantity"],
                                         ln["unit_price"], None, ln["unit"]], strict=True):
                lines[f"{col}{r}"] = {"value": v, "style": "input_text"}

    src = template_with(tmp_path, edit)
    out = tmp_path / "food.pdf"
    p = _cli("export-pdf", str(src), "-o", str(out), "--sheets", "見積書")
    assert p.returncode == 0, p.stderr
    with pdfplumber.open(out) as pdf:
        text = pdf.pages[0].extract_text()
    for expected in ("1 生豆 コーヒー 60 kg 1,605 96,300 8%※", "2 ノートPC 3 台 128,395 385,185 10%",
                     "3 USBケーブル 1 本 1,307 1,307 10%", "小計 482,792", "10%対象 386,492", "消費税 10% 38,649",
                     "8%対象 96,300", "消費税 8% 7,704", "合計 529,145", "※は軽減税率（8%）対象品目です",
                     "御見積金額（税込） ¥529,145-"):
        assert expected in text, (expected, text)
    assert "円前提" not in text   # all in yen: no FX assumption


def test_export_customer_flag_conflicts_with_other_sheets(tmp_path: Path) -> None:
    p = _cli("export-pdf", str(TEMPLATE), "-o", str(tmp_path / "x.pdf"), "--customer", "--sheets", "Quote")
    assert p.returncode == 2 and "--customer" in p.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_the_sheet_lists_only_customer_figures() -> None:
    """The 見積書 sheet's formulas call QUOTE_CUSTOMER only (which has no cost, duty or margin part) and reference
    no costing cell: nothing internal can reach the print."""
    ws = openpyxl.load_workbook(TEMPLATE)["見積書"]
    formulas = [c.value.text if hasattr(c.value, "text") else c.value for row in ws.iter_rows() for c in row
                if (isinstance(c.value, str) and c.value.startswith("=")) or hasattr(c.value, "text")]
    assert formulas
    for f in formulas:
        assert re.findall(r"\b[A-Z_]{4,}(?=\()", f) == ["QUOTE_CUSTOMER"], f
    assert not set(qf.CUSTOMER_PARTS) & {"landed_cost", "duty", "margin", "gross_profit", "unit_cost"}


@needs_office
def test_a_quote_showing_an_error_is_not_exported(tmp_path: Path) -> None:
    """Line 2 typed as 8544.42-000 (not a line of the tariff: 8544.42 splits into -010, -091 and -099 at different
    rates), so QUOTE_CUSTOMER gives ``#エラー …`` in each of the 見積書's fields. The customer PDF is refused in one
    line naming the sheet, the first cell and the error; nothing is written. The internal sheets still print
    (that is where the user finds what is wrong), with one warning line per sheet showing an error."""
    def edit(sheets: dict[str, dict[str, Any]]) -> None:
        sheets["Lines"]["cells"]["C6"]["value"] = "8544.42-000"

    src = template_with(tmp_path, edit)
    out = tmp_path / "mitsumori.pdf"
    p = _cli("export-pdf", str(src), "-o", str(out), "--customer")
    assert (p.returncode, p.stdout) == (2, "")
    line, = p.stderr.splitlines()
    assert line.startswith("xlduty: 見積書!A3: the customer's 見積書 would print an error (and 6 more cells), so no "
                           "PDF is written: #エラー 品目番号(hs_code): 8544.42-000 "), line
    assert "8544.42-010, 8544.42-091, 8544.42-099（明細 2行目）" in line
    assert not out.exists()
    internal = tmp_path / "internal.pdf"
    p = _cli("export-pdf", str(src), "-o", str(internal))
    assert p.returncode == 0 and internal.exists(), p.stderr
    warnings = [ln for ln in p.stderr.splitlines() if ln.startswith("xlduty: warning: ")]
    assert [w.split(" prints an error")[0] for w in warnings] == ["xlduty: warning: Quote!B18",
                                                                 "xlduty: warning: Lines!M5"]
    assert all("8544.42-000" in w for w in warnings)


@needs_office
def test_long_texts_typed_by_the_user_print_whole(tmp_path: Path) -> None:
    """A 38-character 宛先 (J4), a 43-character 件名 (J9) and a 45-character 品名 (Lines B5) wrap in their cells and
    their rows grow: the 見積書 measured on its rendered PDF (print_layout.measure: the characters drawn inside each
    cell's box spell its whole text) has no text cut, and the customer PDF holds every character of each on one
    page. Before, each printed one line long, cut mid-character at its cell's edge."""
    pdfplumber = pytest.importorskip("pdfplumber")
    from print_layout import measure

    to = "株式会社グローバル・トレーディング・アンド・ロジスティクス・ジャパン東京本社"
    subject = "2027年春夏コレクション向け綿Tシャツ及び業務用ノートPCの輸入調達に関するお見積り"
    item = "オーガニックコットン100% 半袖クルーネックTシャツ（ホワイト・Lサイズ・ロゴ刺繍入り）"
    assert (len(to), len(subject), len(item)) == (38, 43, 45)

    def edit(sheets: dict[str, dict[str, Any]]) -> None:
        cells = sheets["見積書"]["cells"]
        cells["J4"]["value"], cells["J9"]["value"] = to, subject
        sheets["Lines"]["cells"]["B5"]["value"] = item

    src = template_with(tmp_path, edit)
    from xlduty.recalc import recalc

    calculated = tmp_path / "calc.xlsm"
    recalc(src, calculated)
    misfits, measured = measure(calculated, "見積書", tmp_path / "layout")
    assert measured >= 30 and not misfits, "\n".join(map(str, misfits))
    out = tmp_path / "mitsumori.pdf"
    p = _cli("export-pdf", str(src), "-o", str(out), "--customer")
    assert p.returncode == 0, p.stderr
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == 1
        lines = pdf.pages[0].extract_text().splitlines()
    joined = "".join(ln.replace(" ", "") for ln in lines)
    assert f"{to}御中" in "".join(ln.replace(" ", "") for ln in lines if not ln.startswith(("見積番号", "発行日")))
    assert subject in "".join(ln.replace(" ", "").removeprefix("件名") for ln in lines
                              if not ln.startswith(("サンプル輸入", "有効期限")))
    assert item.replace(" ", "") in "".join(ln.replace(" ", "").removeprefix("1") for ln in lines
                                            if not ln.startswith("1 200"))
    assert "459,800" in joined


@needs_office
def test_a_character_the_font_lacks_is_named_and_kangxi_radicals_print(tmp_path: Path) -> None:
    """A 宛先 pasted from a PDF holds Kangxi radicals (⼀, ⽤, ⾦: U+2F00…) that share their glyph with the ideographs
    (一, 用, 金): LibreOffice reads them back as either, and the template's own 金額 came back as ⾦額, so a correct PDF
    was refused with "no Japanese font". Characters are now compared as NFKC reads them. A character the installed
    font has no glyph for (𠮷, U+20BB7, not in IPAexGothic) is still refused, but named with the cell that prints it
    (A3, the 宛先 typed in J4), not taken for a
    missing font; nothing is written."""
    def edit_to(text: str) -> Any:
        def edit(sheets: dict[str, dict[str, Any]]) -> None:
            sheets["見積書"]["cells"]["J4"]["value"] = text
        return edit

    radicals = tmp_path / "radicals"
    radicals.mkdir()
    out = tmp_path / "ok.pdf"
    src = template_with(radicals, edit_to("⼀般社団法人 ⽤⾦"))
    p = _cli("export-pdf", str(src), "-o", str(out), "--customer")
    assert p.returncode == 0 and out.exists(), p.stderr
    rare = tmp_path / "rare"
    rare.mkdir()
    out = tmp_path / "rare.pdf"
    src = template_with(rare, edit_to("𠮷野家商事"))
    p = _cli("export-pdf", str(src), "-o", str(out), "--customer")
    assert p.returncode == 2 and not out.exists(), p.stderr
    line, = p.stderr.splitlines()
    assert "no glyph for 1 character" in line and "𠮷 (U+20BB7, 見積書!A3" in line, line   # A3 prints 宛先 (J4)
