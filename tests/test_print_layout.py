"""Every sheet the template prints, printed as `xlduty export-pdf` prints it: A4, one page wide, a print area,
repeated header rows where a list can run long — and no text cut off by its neighbour, checked by measuring the
rendered PDF (tests/print_layout.py says how)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from print_layout import MIN_SIZE, measure, template_with

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbook" / "xlduty.xlsm"
needs_office = pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                                  reason="LibreOffice is not installed: .ci/run installs libreoffice-calc-nogui")
# The sheets with a print setup: the internal quote (Quote, Lines, Costs) and the customer's 見積書.
PRINTED = ("Quote", "Lines", "Costs", "見積書")


def test_print_setup_of_every_printed_sheet() -> None:
    """A4 (paper 9), one page wide and as many long as needed, a print area; the line lists repeat their header
    row on every page; the customer's 見積書 portrait and centred; the wide Lines landscape and two pages wide:
    No and 品名 (A:B) repeated on the second page."""
    wb = openpyxl.load_workbook(TEMPLATE)
    printed = [ws.title for ws in wb if ws.print_area]
    assert sorted(printed) == sorted(PRINTED)
    for name in PRINTED:
        ws = wb[name]
        setup = ws.page_setup
        assert (setup.paperSize, ws.sheet_properties.pageSetUpPr.fitToPage) == (9, True), name
        wide = 2 if name == "Lines" else 1
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (wide, 0), name   # 1 wide is the default: not written
    lines = wb["Lines"]
    assert lines.print_title_cols == "$A:$B"
    assert (wb["Lines"].print_title_rows, wb["見積書"].print_title_rows) == ("$4:$4", "$19:$19")
    assert wb["Lines"].page_setup.orientation == "landscape"
    assert wb["見積書"].page_setup.orientation == "portrait" and wb["見積書"].print_options.horizontalCentered
    assert wb["見積書"].print_area == "'見積書'!$A$1:$G$81"


@pytest.fixture(scope="module")
def calculated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layout") / "quote.xlsm"
    p = subprocess.run([sys.executable, "-m", "xlduty.cli", "recalc", str(TEMPLATE), "-o", str(out)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    return out


@needs_office
@pytest.mark.parametrize("sheet", PRINTED)
def test_no_text_is_cut_off(calculated: Path, sheet: str, tmp_path: Path) -> None:
    """Each text of the printed sheet fits the box it prints in (its cell, the empty cells it may run into), at a
    legible size (print_layout.MIN_SIZE, 6 pt): on main before issue 20, 32 of 146 texts of Quote, Lines and Costs
    did not fit; before the treatments' reason wrapped, Quote!B57 printed at 2.2 pt (shrunk to fit); before Lines
    printed two pages wide, its 24 columns came out at 4.0 pt."""
    misfits, measured = measure(calculated, sheet, tmp_path, min_size=MIN_SIZE)
    assert measured >= 30, measured
    assert not misfits, "\n".join(map(str, misfits))


@needs_office
def test_numbers_are_never_hashes(calculated: Path, tmp_path: Path) -> None:
    """A number too wide for its column prints as ###: none does."""
    pdfplumber = pytest.importorskip("pdfplumber")
    from print_layout import render

    for sheet in PRINTED:
        pdf_path, _values = render(calculated, sheet, tmp_path / sheet)
        with pdfplumber.open(pdf_path) as pdf:
            for page in pdf.pages:
                assert "###" not in (page.extract_text() or ""), sheet


@needs_office
def test_the_measure_finds_a_cut_label(tmp_path: Path) -> None:
    """The check can fail: a label longer than its column, with a value in the next cell, is reported with what
    was drawn of it; the same label with the next cell empty runs into it and fits."""
    long_label = "国内諸掛の消費税 Consumption tax on the domestic costs of the quote, allocated to each line"

    def edit(sheets: dict[str, dict[str, Any]]) -> None:
        cells = sheets["Quote"]["cells"]
        cells["A25"]["value"] = long_label          # B25 holds a figure: cut
        cells["A41"]["value"] = long_label          # B41 holds the version: cut
        cells["A2"]["value"] = long_label           # B2 is empty: runs on, fits

    src = template_with(tmp_path, edit)
    calculated = tmp_path / "calc.xlsm"
    from xlduty.recalc import recalc

    recalc(src, calculated)
    misfits, _measured = measure(calculated, "Quote", tmp_path / "out")
    cut = {m.cell: m for m in misfits}
    assert {"A25", "A41"} <= set(cut) and "A2" not in cut   # (B41's text is crossed by A41's: reported too)
    assert all(cut[c].text == long_label and len(cut[c].drawn) < len(long_label.replace(" ", "")) for c in ("A25",
                                                                                                          "A41"))


@needs_office
def test_the_measure_finds_a_text_shrunk_below_legibility(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail on size too: a long label shrunk to fit its cell is all there, but at a few points; it is
    reported with its size. The same label wrapped (its row grows) prints at full size and passes."""
    from xlduty.excel import build

    monkeypatch.setitem(build._STYLES, "shrunk", {"shrink": True})
    long_label = "国内諸掛の消費税 Consumption tax on the domestic costs of the quote, allocated to each line"

    def edit(style: str) -> Any:
        def apply(sheets: dict[str, dict[str, Any]]) -> None:
            sheets["Quote"]["cells"]["A25"] = {"value": long_label, "style": style}
        return apply

    from xlduty.recalc import recalc

    for style in ("shrunk", "wrap"):
        src = template_with(tmp_path / style, edit(style))
        calculated = tmp_path / style / "calc.xlsm"
        recalc(src, calculated)
        misfits, _measured = measure(calculated, "Quote", tmp_path / style / "out")
        found = {m.cell: m for m in misfits}
        if style == "shrunk":
            assert set(found) == {"A25"} and 0 < found["A25"].size < MIN_SIZE, found
            assert found["A25"].drawn == long_label.replace(" ", "")   # all drawn: only its size is wrong
        else:
            assert not found, found
