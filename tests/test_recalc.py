"""``xlduty recalc``: workbooks built with XlsxWriter, recalculated headlessly, read back with openpyxl.

The custom functions here are a small fake registry (FAKE_DUTY = floor(value × rate)), so the figures
are worked by hand below each test and do not depend on the tariff.
"""

from __future__ import annotations

import io
import math
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from xlduty.recalc import RecalcError, recalc
from xlduty.recalc import compiler as compiler_module
from xlduty.recalc import writer as writer_module
from xlduty.recalc.refs import ShapeKeys, engine_text, refs, shape_key, shift

ROOT = Path(__file__).resolve().parents[1]


def FAKE_DUTY(value: Any, rate: Any) -> int:
    """floor(value × rate); a text value raises (→ #VALUE!), as a real function might."""
    return math.floor(value * rate)


def FAKE_LINES(values: Any, rates: Any) -> list[list[Any]]:
    """An array function: one row per input row, [floor(v × r), "ok"]."""
    rows = values if isinstance(values, list) else [[values]]
    rate_rows = rates if isinstance(rates, list) else [[rates]] * len(rows)
    return [[math.floor(v[0] * r[0]), "ok"] for v, r in zip(rows, rate_rows, strict=True)]


def NOTE(value: Any) -> str:
    """A function that reports bad input as readable text, not as an exception."""
    return "#エラー value: 数値を入力してください" if not isinstance(value, float | int) else "ok"


def BOOM(*_args: Any) -> Any:
    raise RuntimeError("boom")


def ECHO(*args: Any) -> str:
    """Shows exactly what a custom function receives."""
    return repr(args)


FAKE = {"FAKE_DUTY": FAKE_DUTY, "fake_lines": FAKE_LINES, "NOTE": NOTE, "BOOM": BOOM, "ECHO": ECHO}


def _build(path: Path, fill: Callable[[Any], None], vba: bytes | None = None) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    if vba is not None:
        wb.add_vba_project(io.BytesIO(vba), is_stream=True)
    fill(wb)
    wb.close()
    return path


def _values(path: Path, sheet: str | None = None) -> Any:
    wb = openpyxl.load_workbook(path, data_only=True)
    return wb[sheet] if sheet else wb.worksheets[0]


def _formulas(path: Path, sheet: str | None = None) -> Any:
    wb = openpyxl.load_workbook(path)
    return wb[sheet] if sheet else wb.worksheets[0]


# --- a purchase sheet: custom functions, lookups, totals ------------------------------------------------

def _purchases(wb: Any) -> None:
    ws = wb.add_worksheet("Purchases")
    rates = wb.add_worksheet("Rates")
    for i, (code, rate) in enumerate([("6109", 0.074), ("8471", 0.0), ("0406", 0.298)], start=1):
        rates.write_string(i, 0, code)
        rates.write_number(i, 1, rate)
    rates.write_number(0, 4, 0.078)
    wb.define_name("CtRate", "=Rates!$E$1")
    wb.define_name("Hundred", "=100")
    yen = wb.add_format({"num_format": "#,##0"})
    rows = [("6109", 300000), ("8471", 98765), ("0406", 12345), ("9999", 5000), (None, None), ("6109", "abc")]
    for r, (code, value) in enumerate(rows, start=1):
        n = r + 1
        if code:
            ws.write_string(r, 0, code)
        if isinstance(value, str):
            ws.write_string(r, 1, value)
        elif value is not None:
            ws.write_number(r, 1, value)
        ws.write_formula(r, 2, f"=VLOOKUP(A{n},Rates!$A$2:$B$4,2,FALSE)", None, -1)
        ws.write_formula(r, 3, f"=FAKE_DUTY(B{n},C{n})", yen, -1)
        ws.write_formula(r, 4, f'=IF(ISNUMBER(D{n}),ROUNDDOWN((B{n}+D{n})*CtRate,0),"-")', yen, "wrong")
        ws.write_formula(r, 5, f'=IFERROR(D{n},"n/a")&" "&A{n}', None, "wrong")
        ws.write_formula(r, 6, f"=SUM($D$2:D{n})", None, -1)
    ws.write_formula(7, 3, "=ROUNDDOWN(SUM(D2:D5),-2)", yen, -1)
    ws.write_formula(7, 4, "=ROUNDDOWN(SUM(E2:E7)/Hundred,0)*Hundred", yen, -1)


def test_purchase_sheet_values_hand_worked(tmp_path: Path) -> None:
    """Rates 6109 7.4 %, 8471 0 %, 0406 29.8 %; CT 7.8 % (a defined name).

    D (FAKE_DUTY = floor(B × C)): 300,000 × 0.074 = 22,200; 98,765 × 0 = 0; 12,345 × 0.298 = 3,678.81 → 3,678;
    9999 is not in the table → VLOOKUP #N/A → FAKE_DUTY gets an error → #N/A; an empty row → #N/A;
    "abc" × 0.074 raises in FAKE_DUTY → #VALUE!.
    E = floor((B + D) × 0.078): 322,200 × 0.078 = 25,131.6 → 25,131; 98,765 × 0.078 = 7,703.67 → 7,703;
    16,023 × 0.078 = 1,249.794 → 1,249; errors → "-".
    D8 = ROUNDDOWN(SUM(D2:D5), -2): D5 is #N/A → #N/A. E8: SUM skips the "-" texts: 25,131 + 7,703 + 1,249
    = 34,083 → /100 → 340 → 34,000.
    G (running SUM($D$2:Dn)): 22,200, 22,200, 25,878, then #N/A from D5 on.
    """
    src = _build(tmp_path / "in.xlsx", _purchases)
    report = recalc(src, tmp_path / "out.xlsx", FAKE)
    ws = _values(tmp_path / "out.xlsx", "Purchases")
    col = lambda c: [ws[f"{c}{r}"].value for r in range(2, 8)]  # noqa: E731
    assert col("C") == [0.074, 0, 0.298, "#N/A", "#N/A", 0.074]
    assert col("D") == [22200, 0, 3678, "#N/A", "#N/A", "#VALUE!"]
    assert col("E") == [25131, 7703, 1249, "-", "-", "-"]
    assert col("F") == ["22200 6109", "0 8471", "3678 0406", "n/a 9999", "n/a ", "n/a 6109"]
    assert col("G") == [22200, 22200, 25878, "#N/A", "#N/A", "#N/A"]
    assert ws["D8"].value == "#N/A"
    assert ws["E8"].value == 34000
    assert report.cells == 32
    assert report.errors == 2 + 3 + 3 + 1  # C5:C6, D5:D7, G5:G7, D8
    assert report.unsupported == []
    assert report.exceptions == {"FAKE_DUTY": "TypeError: can't multiply sequence by non-int of type 'float'"}
    assert report.vectorised > 0


def test_formulas_formats_and_names_are_kept(tmp_path: Path) -> None:
    src = _build(tmp_path / "in.xlsx", _purchases)
    recalc(src, tmp_path / "out.xlsx", FAKE)
    before, after = _formulas(src, "Purchases"), _formulas(tmp_path / "out.xlsx", "Purchases")
    for row in before.iter_rows():
        for cell in row:
            assert after[cell.coordinate].value == cell.value
            assert after[cell.coordinate].number_format == cell.number_format
    assert after["D2"].value == "=FAKE_DUTY(B2,C2)"
    names = openpyxl.load_workbook(tmp_path / "out.xlsx").defined_names
    assert names["CtRate"].attr_text == "Rates!$E$1"


def test_only_the_sheets_with_formulas_change(tmp_path: Path) -> None:
    """Every other entry is byte-identical and in the same order. (XlsxWriter already sets
    fullCalcOnLoad="1", so workbook.xml comes out unchanged here; see the next test.)"""
    src = _build(tmp_path / "in.xlsx", _purchases)
    recalc(src, tmp_path / "out.xlsx", FAKE)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(tmp_path / "out.xlsx") as b:
        assert a.namelist() == b.namelist()
        assert [n for n in a.namelist() if a.read(n) != b.read(n)] == ["xl/worksheets/sheet1.xml"]
        assert [(i.filename, i.compress_type, i.date_time) for i in a.infolist()] == [
            (i.filename, i.compress_type, i.date_time) for i in b.infolist()]


@pytest.mark.parametrize(("before", "after"), [
    ('<workbook><sheets/><calcPr calcId="191029"/></workbook>',
     '<workbook><sheets/><calcPr calcId="191029" fullCalcOnLoad="1"/></workbook>'),
    ('<workbook><sheets/><calcPr fullCalcOnLoad="0" calcId="1"></calcPr></workbook>',
     '<workbook><sheets/><calcPr calcId="1" fullCalcOnLoad="1"></calcPr></workbook>'),
    ("<workbook><sheets/><definedNames/><extLst/></workbook>",
     '<workbook><sheets/><definedNames/><calcPr fullCalcOnLoad="1"/><extLst/></workbook>'),
    ("<x:workbook><x:sheets/></x:workbook>", '<x:workbook><x:sheets/><x:calcPr fullCalcOnLoad="1"/></x:workbook>'),
])
def test_workbook_xml_asks_excel_to_recalculate_on_open(before: str, after: str) -> None:
    assert writer_module.patch_workbook(before.encode()) == after.encode()


def test_cached_value_types_in_the_xml(tmp_path: Path) -> None:
    """Numbers have no t, texts t="str", booleans t="b", errors t="e"; the <f> is left as written."""
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        ws.write_formula("A1", "=1+1", None, "stale")
        ws.write_formula("A2", '="a"&"<b>&"', None, 7)
        ws.write_formula("A3", "=1>0", None, 0)
        ws.write_formula("A4", "=1/0", None, 0)
        ws.write_formula("A5", "=0.1+0.2", None, 0)

    src = _build(tmp_path / "in.xlsx", fill)
    recalc(src, tmp_path / "out.xlsx", {})
    xml = zipfile.ZipFile(tmp_path / "out.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="A1"><f>1+1</f><v>2</v></c>' in xml
    assert '<c r="A2" t="str"><f>"a"&amp;"&lt;b&gt;&amp;"</f><v>a&lt;b&gt;&amp;</v></c>' in xml
    assert '<c r="A3" t="b"><f>1&gt;0</f><v>1</v></c>' in xml
    assert '<c r="A4" t="e"><f>1/0</f><v>#DIV/0!</v></c>' in xml
    assert '<c r="A5"><f>0.1+0.2</f><v>0.30000000000000004</v></c>' in xml


# --- vectorised groups equal per-cell evaluation ------------------------------------------------------

MIXED = [3.7, -2.25, 0, 12, "12", "abc", "", True, False, None, "=1/0", "=NA()", 46327, "  pad  ", 5]

ELEMENTWISE_CASES = [
    "x+y", "x-y", "x*y", "x/y", "x^2", "x&y", "x=y", "x<>y", "x<y", "x>y", "x<=y", "x>=y", "-x", "+x", "x%",
    'IF(x,y,"f")', 'IF(y>0,x,"n")', 'IFERROR(x/y,"e")', 'IFNA(x,"na")', "NOT(x)", "ROUND(x,1)", "ROUND(12.345,y)",
    "ROUNDUP(x,0)", "ROUNDDOWN(x,-1)", "INT(x)", "TRUNC(x,1)", "ABS(x)", "MOD(x,3)", "MOD(7,y)", "SIGN(x)",
    "SQRT(x)", "POWER(x,2)", "CEILING(x,5)", "FLOOR(x,5)", "LEFT(x,2)", 'LEFT("abcdef",y)', "RIGHT(x,2)",
    "MID(x,2,2)", "LEN(x)", "UPPER(x)", "LOWER(x)", "TRIM(x)", "ISBLANK(x)", "ISNUMBER(x)",
    "ISTEXT(x)", "ISERROR(x)", "ISNA(x)", "DATE(2026,y,1)", "VLOOKUP(x,$H$1:$I$4,2,FALSE)",
    "HLOOKUP(x,$H$6:$K$7,2,FALSE)", "MATCH(x,$H$1:$H$4,0)",
    'FAKE_DUTY(x,0.1)', 'FAKE_DUTY(y,x)', 'IFERROR(FAKE_DUTY(x,y),"")&"|"', "NOTE(x)", "ECHO(x,y)",
    'IF(ISNUMBER(x),FAKE_DUTY(x,0.5),"skip")', "ROUND(x,0)+ROUND(x,0)*2", "x+SUM($H$1:$H$4)",
]
PER_CELL_CASES = ["VALUE(x)", "YEAR(x)", "MONTH(x)", "DAY(x)", "SUM(x,y)", "MAX(x,y)", "CONCATENATE(x,y)"]
"""Functions that are not element-wise on arrays in the engine: their columns run cell by cell."""


def _mixed(wb: Any) -> None:
    ws = wb.add_worksheet("M")
    for r, (x, y) in enumerate(zip(MIXED, reversed(MIXED), strict=True)):
        for c, v in ((0, x), (1, y)):
            if v is None:
                continue
            if isinstance(v, str) and v.startswith("="):
                ws.write_formula(r, c, v)
            elif isinstance(v, bool):
                ws.write_boolean(r, c, v)
            elif isinstance(v, str):
                ws.write_string(r, c, v)
            else:
                ws.write_number(r, c, v)
    for r, (k, v) in enumerate([(12, "twelve"), ("abc", "letters"), (0, "zero"), (True, "true")]):
        ws.write(r, 7, k)
        ws.write(r, 8, v)
    for c, (k, v) in enumerate([(12, "h12"), ("abc", "habc"), (5, "h5"), (0, "h0")], start=7):
        ws.write(5, c, k)
        ws.write(6, c, v)
    for c, case in enumerate(ELEMENTWISE_CASES + PER_CELL_CASES, start=12):
        for r in range(len(MIXED)):
            ws.write_formula(r, c, "=" + case.replace("x", f"A{r + 1}").replace("y", f"B{r + 1}"), None, -1)


def _all_values(path: Path) -> dict[str, Any]:
    ws = _values(path, "M")
    return {cell.coordinate: cell.value for row in ws.iter_rows() for cell in row}


def test_vectorised_groups_equal_per_cell_evaluation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every entry of ELEMENTWISE, and custom calls, over numbers, texts, booleans, blanks and errors:
    one vectorised call per column gives exactly what one call per cell gives; the PER_CELL_CASES columns
    are not vectorised at all."""
    src = _build(tmp_path / "in.xlsx", _mixed)
    vectorised = recalc(src, tmp_path / "vector.xlsx", FAKE)
    monkeypatch.setattr(compiler_module, "_vectorise", lambda *a: False)
    per_cell = recalc(src, tmp_path / "cells.xlsx", FAKE)
    assert per_cell.vectorised == 0
    assert vectorised.vectorised == len(ELEMENTWISE_CASES) * len(MIXED)
    a, b = _all_values(tmp_path / "vector.xlsx"), _all_values(tmp_path / "cells.xlsx")
    assert a == b
    assert vectorised.errors == per_cell.errors
    assert vectorised.exceptions == per_cell.exceptions


def test_what_custom_functions_receive(tmp_path: Path) -> None:
    """Numbers as float, texts, booleans, None for a blank cell or a missing argument, a range as rows."""
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        ws.write_number("A1", 3)
        ws.write_string("A2", "x")
        ws.write_boolean("A3", True)
        ws.write_formula("B1", "=ECHO(A1,A2,A3,A4,,A1:A2,7)")

    src = _build(tmp_path / "in.xlsx", fill)
    recalc(src, tmp_path / "out.xlsx", FAKE)
    assert _values(tmp_path / "out.xlsx")["B1"].value == "(3.0, 'x', True, None, None, [[3.0], ['x']], 7)"


def test_a_group_is_not_vectorised_through_an_aggregate(tmp_path: Path) -> None:
    """SUM(A1, B1) copied down must add its own row, not the whole column."""
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        for r in range(4):
            ws.write_number(r, 0, r + 1)
            ws.write_number(r, 1, 10 * (r + 1))
            ws.write_formula(r, 2, f"=SUM(A{r + 1},B{r + 1})+MAX(A{r + 1},0)")

    src = _build(tmp_path / "in.xlsx", fill)
    report = recalc(src, tmp_path / "out.xlsx", {})
    ws = _values(tmp_path / "out.xlsx")
    assert [ws[f"C{r}"].value for r in range(1, 5)] == [12, 24, 36, 48]
    assert report.vectorised == 0


# --- Excel's rounding -----------------------------------------------------------------------------------

def test_rounding_follows_excel_not_binary(tmp_path: Path) -> None:
    """257,000 × 0.056 is 14,391.999999999998 in binary; Excel (15 digits) and LibreOffice round it down to
    14,392. ROUND(2.675, 2) = 2.68 and ROUNDUP(0.29 × 100, 0) = 29 likewise; ROUNDDOWN(-1234.5, -2) = -1,200."""
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        for r, f in enumerate(["=ROUNDDOWN(257000*0.056,0)", "=ROUND(2.675,2)", "=ROUNDUP(0.29*100,0)",
                               "=ROUNDDOWN(-1234.5,-2)", "=TRUNC(257000*0.056)", "=ROUND(-2.5,0)"]):
            ws.write_formula(r, 0, f)

    src = _build(tmp_path / "in.xlsx", fill)
    recalc(src, tmp_path / "out.xlsx", {})
    ws = _values(tmp_path / "out.xlsx")
    assert [ws[f"A{r}"].value for r in range(1, 7)] == [14392, 2.68, 29, -1200, 14392, -3]


# --- dependencies, cycles, shared and array formulas, spills -----------------------------------------

def test_dependencies_out_of_sheet_order_and_a_running_total(tmp_path: Path) -> None:
    """A1 = B1 + 1 reads B1 = C1 × 2 reads C1 = 5 (placed after them). D is a running balance reading
    its own column: D1 = 5, D2 = D1 + A1 = 16, D3 = D2 + B1 = 26."""
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        ws.write_formula("A1", "=B1+1")
        ws.write_formula("B1", "=C1*2")
        ws.write_formula("C1", "=5")
        ws.write_formula("D1", "=C1")
        ws.write_formula("D2", "=D1+A1")
        ws.write_formula("D3", "=D2+B1")

    src = _build(tmp_path / "in.xlsx", fill)
    recalc(src, tmp_path / "out.xlsx", {})
    ws = _values(tmp_path / "out.xlsx")
    assert [ws[c].value for c in ("A1", "B1", "C1", "D1", "D2", "D3")] == [11, 10, 5, 5, 16, 26]


def test_a_circular_reference_is_refused_naming_the_cells(tmp_path: Path) -> None:
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet("Loop")
        ws.write_formula("A1", "=B1+1")
        ws.write_formula("B1", "=C1+1")
        ws.write_formula("C1", "=A1+1")
        ws.write_formula("D1", "=1")

    src = _build(tmp_path / "in.xlsx", fill)
    with pytest.raises(RecalcError, match=r"circular reference between Loop!A1, Loop!B1, Loop!C1"):
        recalc(src, tmp_path / "out.xlsx", {})
    assert not (tmp_path / "out.xlsx").exists()


def test_shared_formulas_are_expanded(tmp_path: Path) -> None:
    """Excel writes a filled-down column once (<f t="shared" ref= si=>) and children as <f t="shared" si=/>.
    B = A × 2 + $A$1: A = 1, 2, 3 → 3, 5, 7."""
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        for r in range(3):
            ws.write_number(r, 0, r + 1)
            ws.write_formula(r, 1, f"=A{r + 1}*2+$A$1", None, 0)

    src = _build(tmp_path / "plain.xlsx", fill)
    with zipfile.ZipFile(src) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    xml = entries["xl/worksheets/sheet1.xml"].decode()
    xml = xml.replace("<f>A1*2+$A$1</f>", '<f t="shared" ref="B1:B3" si="0">A1*2+$A$1</f>')
    for r in (2, 3):
        xml = xml.replace(f"<f>A{r}*2+$A$1</f>", '<f t="shared" si="0"/>')
    entries["xl/worksheets/sheet1.xml"] = xml.encode()
    shared = tmp_path / "shared.xlsx"
    with zipfile.ZipFile(shared, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    report = recalc(shared, tmp_path / "out.xlsx", {})
    ws = _values(tmp_path / "out.xlsx")
    assert [ws[f"B{r}"].value for r in (1, 2, 3)] == [3, 5, 7]
    assert report.vectorised == 3
    out_xml = zipfile.ZipFile(tmp_path / "out.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="B2"><f t="shared" si="0"/><v>5</v></c>' in out_xml


def _with_sheet_data(tmp_path: Path, rows: str, strings: str | None = None) -> Path:
    """A workbook whose first sheet's <sheetData> is ``rows`` as written (and, optionally, its shared strings)."""
    plain = _build(tmp_path / "plain.xlsx", lambda wb: wb.add_worksheet().write_string("A1", "placeholder"))
    with zipfile.ZipFile(plain) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    xml = entries["xl/worksheets/sheet1.xml"].decode()
    start, end = xml.index("<sheetData>") + len("<sheetData>"), xml.index("</sheetData>")
    entries["xl/worksheets/sheet1.xml"] = (xml[:start] + rows + xml[end:]).encode()
    if strings is not None:
        entries["xl/sharedStrings.xml"] = strings.encode()
    out = tmp_path / "crafted.xlsx"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out


def test_cell_types_as_stored_by_other_writers(tmp_path: Path) -> None:
    """Inline strings, booleans, errors, ISO dates (t="d"), rich shared strings with phonetic runs, rows and
    cells without an ``r`` attribute. 2026-11-01 is serial 46,327; B5 is the cell after A5 in row 5."""
    strings = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats'
               '.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><r><t>関</t></r><r><rPr><b/></rPr>'
               "<t>税</t></r><rPh sb=\"0\" eb=\"1\"><t>カンゼイ</t></rPh></si></sst>")
    rows = ('<row r="1"><c r="A1" t="inlineStr"><is><t>ab&amp;c</t></is></c><c r="B1"><f>A1&amp;"!"</f></c></row>'
            '<row r="2"><c r="A2" t="b"><v>1</v></c><c r="B2"><f>IF(A2,"yes","no")</f><v>0</v></c></row>'
            '<row r="3"><c r="A3" t="e"><v>#N/A</v></c><c r="B3"><f>ISNA(A3)</f></c></row>'
            '<row r="4"><c r="A4" t="d"><v>2026-11-01T00:00:00</v></c><c r="B4"><f>A4+1</f></c></row>'
            '<row><c><v>7</v></c><c><f>A5*6</f><v>0</v></c></row>'
            '<row r="6"><c r="A6" t="s"><v>0</v></c><c r="B6"><f>A6&amp;LEN(A6)</f></c></row>')
    src = _with_sheet_data(tmp_path, rows, strings)
    report = recalc(src, tmp_path / "out.xlsx", {})
    ws = _values(tmp_path / "out.xlsx")
    assert [ws[f"B{r}"].value for r in range(1, 7)] == ["ab&c!", "yes", True, 46328, 42, "関税2"]
    assert report.cells == 6 and report.errors == 0
    xml = zipfile.ZipFile(tmp_path / "out.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert '<row><c><v>7</v></c><c><f>A5*6</f><v>42</v></c></row>' in xml


def test_array_formulas_and_spills(tmp_path: Path) -> None:
    """C1:C3 {=A1:A3*B1:B3} = 10, 40, 90. E1:E3 (dynamic) = A × 2 = 2, 4, 6. G1 (a dynamic array of one
    cell) = FAKE_LINES(A1:A3, {0.5}) spills 3 rows × 2 columns: floor(1 × 0.5) = 0, floor(2 × 0.5) = 1,
    floor(3 × 0.5) = 1, "ok". J1, a plain formula, spills likewise into empty cells; L1's spill would
    cover the typed value in M2, so L1 is #SPILL! and M2 keeps 99. SUM(G1:G3) after the spill = 0 + 1 + 1
    = 2; A10 sums J21:J22, spilled by J20 (1 + 1 = 2)."""
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        for i in range(3):
            ws.write_number(i, 0, i + 1)
            ws.write_number(i, 1, 10 * (i + 1))
        ws.write_array_formula("C1:C3", "{=A1:A3*B1:B3}")
        ws.write_dynamic_array_formula("E1:E3", "=A1:A3*2")
        ws.write_dynamic_array_formula("G1:G1", "=FAKE_LINES(A1:A3,0.5)")
        ws.write_formula("J1", "=FAKE_LINES(A1:A3,0.5)")
        ws.write_formula("L1", "=FAKE_LINES(A1:A3,0.5)")
        ws.write_number("M2", 99)
        ws.write_formula("O1", "=SUM(G1:G3)")
        ws.write_formula("A10", "=SUM(J21:J22)")  # reads only spilled cells, and comes first in the sheet
        ws.write_formula("J20", "=FAKE_LINES(A1:A3,0.5)")

    src = _build(tmp_path / "in.xlsx", fill)
    report = recalc(src, tmp_path / "out.xlsx", FAKE)
    ws = _values(tmp_path / "out.xlsx")
    grid = lambda cols, rows=3: [[ws[f"{c}{r}"].value for c in cols] for r in range(1, rows + 1)]  # noqa: E731
    assert grid("C") == [[10], [40], [90]]
    assert grid("E") == [[2], [4], [6]]
    assert grid("GH") == [[0, "ok"], [1, "ok"], [1, "ok"]]
    assert grid("JK") == [[0, "ok"], [1, "ok"], [1, "ok"]]
    assert grid("LM") == [["#SPILL!", None], [None, 99], [None, None]]
    assert ws["O1"].value == 2
    assert ws["A10"].value == 2  # known only after J20 spilled: the second pass orders it after J20
    assert report.errors == 1
    f = _formulas(tmp_path / "out.xlsx")
    assert f["J1"].value == "=FAKE_LINES(A1:A3,0.5)" and f["J2"].value == 1


def _cell_xml(path: Path, ref: str) -> str:
    """The ``<c r="ref">`` element of the first sheet as stored ("" when there is none)."""
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    m = re.search(rf'<c r="{ref}"(?:[^>]*/>|[^>]*>.*?</c>)', xml, re.S)
    return m.group(0) if m else ""


def _resizing(tmp_path: Path, anchor: str) -> tuple[dict[str, Any], Callable[[str, str], Path]]:
    """A dynamic array ``=LINES(A2:A4)`` stored over ``anchor`` (F2 to F4 styled), SUM(F2:H10) in J2; A2:A4 =
    1, 2, 3. LINES returns the first ``size["rows"]`` inputs as rows of ``size["cols"]`` columns: [v, 10v, …]
    (one cell is a scalar). ``run(src, name)`` recalculates ``src`` into ``name``."""
    size: dict[str, Any] = {"rows": 3, "cols": 1}

    def lines(values: Any) -> Any:
        out = [[v[0] * 10 ** j for j in range(size["cols"])] for v in values[: size["rows"]]]
        return out[0][0] if len(out) == 1 and len(out[0]) == 1 else out

    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        fmt = wb.add_format({"num_format": "#,##0"})
        for i in range(3):
            ws.write_number(i + 1, 0, i + 1)
            ws.write_blank(i + 1, 5, None, fmt)
        ws.write_dynamic_array_formula(anchor, "=LINES(A2:A4)", fmt)
        ws.write_formula("J2", "=SUM(F2:H10)")

    def run(src: str, name: str) -> Path:
        recalc(tmp_path / src, tmp_path / name, {"LINES": lines})
        return tmp_path / name

    _build(tmp_path / "in.xlsx", fill)
    return size, run


def _grid(path: Path) -> list[list[Any]]:
    ws = _values(path)
    return [[ws[f"{c}{r}"].value for c in "FGH"] for r in range(2, 6)] + [[ws["J2"].value]]


def test_dynamic_array_grows_and_its_ref_follows(tmp_path: Path) -> None:
    """F2 (ref F2) spills 3 rows: 1, 2, 3 in F2:F4, SUM 6; the stored ref becomes F2:F4, so a second run
    finds F3:F4 owned by the formula (not a #SPILL!) and writes the same file."""
    _, run = _resizing(tmp_path, "F2:F2")
    first = run("in.xlsx", "one.xlsx")
    assert _grid(first) == [[1, None, None], [2, None, None], [3, None, None], [None] * 3, [6]]
    assert re.search(r'<f t="array" ref="F2:F4">LINES\(A2:A4\)</f>', _cell_xml(first, "F2"))
    assert 'cm="1"' in _cell_xml(first, "F2")
    second = run("one.xlsx", "two.xlsx")
    assert _grid(second) == _grid(first)
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        assert a.read("xl/worksheets/sheet1.xml") == b.read("xl/worksheets/sheet1.xml")


def test_dynamic_array_shrinks_clearing_what_it_left(tmp_path: Path) -> None:
    """F2 (ref F2:F4) now gives one value: F2 = 1 with ref F2, F3:F4 without a value but with their style,
    SUM 1; run again, the same. Then back to 2 rows: ref F2:F3, F4 stays empty, SUM 3."""
    size, run = _resizing(tmp_path, "F2:F4")
    size["rows"] = 1
    first = run("in.xlsx", "one.xlsx")
    assert _grid(first) == [[1, None, None], [None] * 3, [None] * 3, [None] * 3, [1]]
    assert re.search(r'<f t="array" ref="F2">', _cell_xml(first, "F2"))
    for ref in ("F3", "F4"):
        assert re.fullmatch(rf'<c r="{ref}" s="[0-9]+"/>', _cell_xml(first, ref))
    second = run("one.xlsx", "two.xlsx")
    assert _grid(second) == _grid(first)
    size["rows"] = 2
    third = run("two.xlsx", "three.xlsx")
    assert _grid(third) == [[1, None, None], [2, None, None], [None] * 3, [None] * 3, [3]]
    assert re.search(r'<f t="array" ref="F2:F3">', _cell_xml(third, "F2"))


def test_dynamic_array_two_dimensional_spill(tmp_path: Path) -> None:
    """F2 spills 3 rows × 2 columns ([v, 10v]): ref F2:G4, SUM 66; again identical; then 3 × 3 (ref F2:H4,
    SUM 666) and back to 2 × 1 (ref F2:F3, G2:H4 and F4 cleared, SUM 3)."""
    size, run = _resizing(tmp_path, "F2:F2")
    size["cols"] = 2
    first = run("in.xlsx", "one.xlsx")
    assert _grid(first) == [[1, 10, None], [2, 20, None], [3, 30, None], [None] * 3, [66]]
    assert re.search(r'<f t="array" ref="F2:G4">', _cell_xml(first, "F2"))
    second = run("one.xlsx", "two.xlsx")
    assert _grid(second) == _grid(first)
    size["cols"] = 3
    third = run("two.xlsx", "three.xlsx")
    assert _grid(third) == [[1, 10, 100], [2, 20, 200], [3, 30, 300], [None] * 3, [666]]
    assert re.search(r'<f t="array" ref="F2:H4">', _cell_xml(third, "F2"))
    size["rows"], size["cols"] = 2, 1
    fourth = run("three.xlsx", "four.xlsx")
    assert _grid(fourth) == [[1, None, None], [2, None, None], [None] * 3, [None] * 3, [3]]
    assert re.search(r'<f t="array" ref="F2:F3">', _cell_xml(fourth, "F2"))
    assert all("<v>" not in _cell_xml(fourth, ref) for ref in ("G2", "H2", "G3", "F4", "G4", "H4"))
    assert _grid(run("four.xlsx", "five.xlsx")) == _grid(fourth)


def test_dynamic_array_spill_blocked_keeps_only_its_anchor(tmp_path: Path) -> None:
    """F2 (ref F2:F4) would now spill 3 × 2 over G3 = 99: #SPILL!, its old cells F3:F4 emptied, ref F2."""
    size, run = _resizing(tmp_path, "F2:F4")
    src = tmp_path / "in.xlsx"
    with zipfile.ZipFile(src) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    xml = entries["xl/worksheets/sheet1.xml"].decode()
    f3 = _cell_xml(src, "F3")
    assert f3 and '<c r="G3"' not in xml
    blocked = xml.replace(f3, f3 + '<c r="G3"><v>99</v></c>')
    entries["xl/worksheets/sheet1.xml"] = blocked.encode()
    with zipfile.ZipFile(tmp_path / "blocked.xlsx", "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    size["cols"] = 2
    first = run("blocked.xlsx", "one.xlsx")
    assert _grid(first) == [["#SPILL!", None, None], [None, 99, None], [None] * 3, [None] * 3, ["#SPILL!"]]
    assert re.search(r'<f t="array" ref="F2">', _cell_xml(first, "F2"))
    assert _grid(run("one.xlsx", "two.xlsx")) == _grid(first)


def test_legacy_array_and_plain_spill_keep_their_size(tmp_path: Path) -> None:
    """A CSE array C1:C3 of a 2-row result keeps its range (the third cell #N/A, ref C1:C3); a plain formula
    E1 spills as values and gets no ``ref``."""
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        ws.write_number("A1", 1)
        ws.write_number("A2", 2)
        ws.write_array_formula("C1:C3", "{=TWO(A1:A2)}")
        ws.write_formula("E1", "=TWO(A1:A2)")

    src = _build(tmp_path / "in.xlsx", fill)
    recalc(src, tmp_path / "out.xlsx", {"TWO": lambda v: v})
    ws = _values(tmp_path / "out.xlsx")
    assert [ws[f"C{r}"].value for r in (1, 2, 3)] == [1, 2, "#N/A"]
    assert [ws[f"E{r}"].value for r in (1, 2, 3)] == [1, 2, None]
    assert '<f t="array" ref="C1:C3">' in _cell_xml(tmp_path / "out.xlsx", "C1")
    assert re.fullmatch(r'<c r="E1"><f>TWO\(A1:A2\)</f><v>1</v></c>', _cell_xml(tmp_path / "out.xlsx", "E1"))


def test_cross_sheet_references_whole_columns_row_and_column(tmp_path: Path) -> None:
    """'My Rates'!$B$1 = 0.1; SUM(A:A) = 1 + 2 + 3 = 6; ROW()/COLUMN() of B2 = 2/2."""
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet("Main")
        other = wb.add_worksheet("My Rates")
        other.write_number("B1", 0.1)
        for r in range(3):
            ws.write_number(r, 0, r + 1)
        ws.write_formula("B1", "=A1*'My Rates'!$B$1")
        ws.write_formula("B2", "=ROW()*10+COLUMN()")
        ws.write_formula("B3", "=SUM(A:A)")
        ws.write_formula("C1", "=ROW(A3)")

    src = _build(tmp_path / "in.xlsx", fill)
    recalc(src, tmp_path / "out.xlsx", {})
    ws = _values(tmp_path / "out.xlsx", "Main")
    assert [ws[c].value for c in ("B1", "B2", "B3", "C1")] == [0.1, 22, 6, 3]


# --- errors and unsupported functions -------------------------------------------------------------------

def test_errors_exceptions_and_unsupported_functions(tmp_path: Path) -> None:
    """BOOM raises → #VALUE!, and IFERROR catches it; an error argument is passed on (#DIV/0!); a text the
    function returns as its own error message is written as text, and counted among the errors (A1, A3, A4, A5:
    a cell saying ``#エラー`` is a figure not computed, which "0 errors" hid); an unknown function is #NAME? and
    reported."""
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet("S")
        ws.write_formula("A1", "=BOOM(1)")
        ws.write_formula("A2", '=IFERROR(BOOM(1),"caught")')
        ws.write_formula("A3", "=FAKE_DUTY(1/0,0.1)")
        ws.write_formula("A4", '=NOTE("x")')
        ws.write_formula("A5", "=NO_SUCH_FUNCTION(1)+1")
        ws.write_formula("A6", '=IFERROR(NO_SUCH_FUNCTION(1),"fallback")')

    src = _build(tmp_path / "in.xlsx", fill)
    report = recalc(src, tmp_path / "out.xlsx", FAKE)
    ws = _values(tmp_path / "out.xlsx", "S")
    assert [ws[f"A{r}"].value for r in range(1, 7)] == [
        "#VALUE!", "caught", "#DIV/0!", "#エラー value: 数値を入力してください", "#NAME?", "fallback"]
    assert report.errors == 4
    assert report.unsupported == ["S!A5", "S!A6"]
    assert report.unknown_functions == ["NO_SUCH_FUNCTION"]
    assert report.exceptions == {"BOOM": "RuntimeError: boom"}
    assert "unsupported (NO_SUCH_FUNCTION: S!A5, S!A6)" in report.summary()


# --- files: VBA kept, OUT == IN refused, atomic writes --------------------------------------------------

def _vba_bin() -> bytes:
    xlwings = pytest.importorskip("xlwings")
    with zipfile.ZipFile(Path(xlwings.__file__).parent / "quickstart_standalone.xlsm") as z:
        return z.read("xl/vbaProject.bin")


def test_xlsm_keeps_its_vba_project_byte_for_byte(tmp_path: Path) -> None:
    vba = _vba_bin()

    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        ws.write_number("A1", 1000)
        ws.write_formula("B1", "=FAKE_DUTY(A1,0.074)", None, 0)

    src = _build(tmp_path / "in.xlsm", fill, vba)
    recalc(src, tmp_path / "out.xlsm", FAKE)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(tmp_path / "out.xlsm") as b:
        assert b.read("xl/vbaProject.bin") == vba == a.read("xl/vbaProject.bin")
        assert a.namelist() == b.namelist()
        assert b.read("[Content_Types].xml") == a.read("[Content_Types].xml")
    assert _values(tmp_path / "out.xlsm")["B1"].value == 74
    archive = openpyxl.load_workbook(tmp_path / "out.xlsm", keep_vba=True).vba_archive
    assert archive is not None
    archive.close()  # openpyxl leaves it open; collected later it warns in whichever test is running


def test_out_equal_to_in_is_refused_and_in_is_untouched(tmp_path: Path) -> None:
    src = _build(tmp_path / "in.xlsx", _purchases)
    before = src.read_bytes()
    with pytest.raises(RecalcError, match="is the input file"):
        recalc(src, src, FAKE)
    with pytest.raises(RecalcError, match="is the input file"):
        recalc(src, tmp_path / "." / "in.xlsx", FAKE)
    os.link(src, tmp_path / "hard.xlsx")
    with pytest.raises(RecalcError, match="is the input file"):
        recalc(src, tmp_path / "hard.xlsx", FAKE)
    os.symlink(src, tmp_path / "soft.xlsx")
    with pytest.raises(RecalcError, match="is the input file"):
        recalc(src, tmp_path / "soft.xlsx", FAKE)
    assert src.read_bytes() == before


def test_bad_input_files(tmp_path: Path) -> None:
    with pytest.raises(RecalcError, match="no such file"):
        recalc(tmp_path / "missing.xlsx", tmp_path / "out.xlsx", {})
    (tmp_path / "text.xlsx").write_text("not a zip")
    with pytest.raises(RecalcError, match="is not a workbook"):
        recalc(tmp_path / "text.xlsx", tmp_path / "out.xlsx", {})
    with zipfile.ZipFile(tmp_path / "empty.xlsx", "w") as z:
        z.writestr("hello.txt", "no workbook here")
    with pytest.raises(RecalcError, match=r"has no xl/workbook\.xml"):
        recalc(tmp_path / "empty.xlsx", tmp_path / "out.xlsx", {})
    assert not (tmp_path / "out.xlsx").exists()


def test_the_input_is_opened_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """IN is opened (and its zip directory checked for bombs) once: its extension, its cells, the parts patched and
    the parts copied all come from that one open package, which is closed when OUT is written."""
    from xlduty import files

    opened: list[Any] = []
    real = files.Package.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        opened.append(self)

    src = _build(tmp_path / "in.xlsx", _purchases)
    monkeypatch.setattr(files.Package, "__init__", counted)
    report = recalc(src, tmp_path / "out.xlsx", FAKE)
    assert len(opened) == 1 and opened[0].fp is None   # closed
    assert (report.cells, report.errors) == (32, 9)   # as test_purchase_sheet_values_hand_worked works them
    ws = _values(tmp_path / "out.xlsx", "Purchases")
    assert [ws[f"D{r}"].value for r in range(2, 5)] == [22200, 0, 3678] and ws["E8"].value == 34000


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The result goes to a temporary file beside OUT and is renamed over it only when complete."""
    src = _build(tmp_path / "in.xlsx", _purchases)
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"previous result")

    def broken(src: str, fh: Any, replace: Any) -> None:
        fh.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(writer_module, "copy_zip", broken)
    with pytest.raises(OSError, match="disk full"):
        recalc(src, out, FAKE)
    assert out.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.xlsx", "out.xlsx"]


# --- the command line -----------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlduty.cli", "recalc", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def test_cli_recalc_writes_out_and_one_summary_line(tmp_path: Path) -> None:
    """Standard functions only (no registry needed): B = A × 1.1 rounded down: 100 → 110, 250 → 275."""
    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        for r, v in enumerate([100, 250]):
            ws.write_number(r, 0, v)
            ws.write_formula(r, 1, f"=ROUNDDOWN(A{r + 1}*1.1,0)", None, 0)

    src = _build(tmp_path / "in.xlsx", fill)
    p = _cli(str(src), "-o", str(tmp_path / "out.xlsx"))
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1 and "2 formula cells recalculated" in p.stderr and "0 errors" in p.stderr
    ws = _values(tmp_path / "out.xlsx")
    assert [ws["B1"].value, ws["B2"].value] == [110, 275]


@pytest.mark.parametrize("case", ["missing", "same", "not_a_workbook"])
def test_cli_recalc_bad_input_exits_2_with_one_line(tmp_path: Path, case: str) -> None:
    src = tmp_path / "in.xlsx"
    if case == "same":
        _build(src, lambda wb: wb.add_worksheet().write_formula("A1", "=1"))
        args = [str(src), "-o", str(src)]
    elif case == "not_a_workbook":
        src.write_text("plain text")
        args = [str(src), "-o", str(tmp_path / "out.xlsx")]
    else:
        args = [str(src), "-o", str(tmp_path / "out.xlsx")]
    p = _cli(*args)
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.startswith("xlduty: ") and p.stderr.count("\n") == 1
    assert not (tmp_path / "out.xlsx").exists()


# --- with the project's own functions, when they are there ---------------------------------------------

def test_default_registry_duty_and_consumption_tax(tmp_path: Path) -> None:
    """6109.10-020 (T-shirts) from CN, ¥300,000 on 2026-11-01: duty 300,000 × 7.4 % = 22,200; CT base
    floor_1000(322,200) = 322,000 → national 25,116 → 25,100, local floor_100(25,116) × 22/78 = 7,079 → 7,000;
    CT 32,100 (as in tests/test_excel_functions.py)."""
    pytest.importorskip("xlduty.excel.functions")

    def fill(wb: Any) -> None:
        ws = wb.add_worksheet()
        ws.write_row("A1", ["6109.10-020", 300000, "CN", None, "2026-11-01"])
        ws.write_formula("F1", "=DUTY(A1,B1,C1,D1,E1)", None, 0)
        ws.write_formula("G1", "=CONSUMPTION_TAX(A1,B1,C1,D1,E1)", None, 0)

    src = _build(tmp_path / "in.xlsx", fill)
    report = recalc(src, tmp_path / "out.xlsx")
    ws = _values(tmp_path / "out.xlsx")
    assert (ws["F1"].value, ws["G1"].value) == (22200, 32100)
    assert report.errors == 0 and report.unsupported == []


# --- reference scanning ---------------------------------------------------------------------------------

def test_reference_scan() -> None:
    text = "IF(A2>0,VLOOKUP(B2,Rates!$A$2:$B$9655,2,FALSE),\"A1\")&LOG10(C2)+'Q1 x'!D$4+SUM(E:E)"
    assert [(r.sheet, r.r1, r.c1, r.r2, r.c2) for r in refs(text)] == [
        (None, 2, 1, 2, 1), (None, 2, 2, 2, 2), ("Rates", 2, 1, 9655, 2), (None, 2, 3, 2, 3), ("Q1 x", 4, 4, 4, 4),
        (None, 1, 5, 1_048_576, 5)]
    assert shift("A1+$B$2+C$3+$D4+Rates!E5:F6", 2, 1) == "B3+$B$2+D$3+$D6+Rates!F7:G8"
    assert shape_key("A2*$B$1", 2, 3) == shape_key("A7*$B$1", 7, 3) != shape_key("A7*$B$1", 6, 3)
    keys = ShapeKeys()
    assert keys.key("A2*$B$1+3", 2, 3) == keys.key("A7*$B$1+3", 7, 3) != keys.key("A7*$B$1+4", 7, 3)
    assert engine_text("_xlfn.IFS(ROW()>1,COLUMN( ))&\"ROW()\"", 5, 2) == 'IFS(ROW(B5)>1,COLUMN(B5))&"ROW()"'
