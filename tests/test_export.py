"""The printable quote rendered without Excel: `xlduty export-pdf` on the shipped template, read back with
pdfplumber (an independent PDF reader)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from xlduty.export import print_copy

ROOT = Path(__file__).resolve().parents[1]
needs_office = pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                                  reason="LibreOffice is not installed: .ci/run installs libreoffice-calc-nogui")


@needs_office
def test_quote_pdf_shows_the_worked_example(tmp_path: Path) -> None:
    """Page 1 is the 見積書 (Quote sheet, A4 portrait) with the worked example's totals (paid at import
    77,800; quote total 730,198 — see workbook/src/quote.yaml); pages 2 and 3 the lines, two pages wide (the codes
    on the first, the quote prices on the second: 2,299 × 200 = 459,800, each line named again), page 4 the
    charges and domestic costs the quote rests on.
    The Japanese text comes back as text: a Japanese font was embedded, not empty boxes."""
    pdfplumber = pytest.importorskip("pdfplumber")
    src = ROOT / "workbook" / "xlduty.xlsm"
    before = src.read_bytes()
    out = tmp_path / "見積.pdf"
    p = subprocess.run([sys.executable, "-m", "xlduty.cli", "export-pdf", str(src), "-o", str(out)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert src.read_bytes() == before
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == 4
        first, second, third, fourth = (page.extract_text() for page in pdf.pages)
        assert pdf.pages[0].width < pdf.pages[0].height < 850   # A4 portrait (595 × 842 pt)
    assert "見積書 Quote" in first
    assert "輸入時納付額 Taxes paid at import 77,800" in first
    assert "見積合計 Quote total (before tax) 730,198" in first
    assert "6109.10-020" in second and "8471.30-000" in second
    assert "T-shirts, cotton" in third and "459,800" in third and "270,398" in third
    assert "運賃・諸掛 Charges and costs" in fourth and "customs_brokerage 通関料" in fourth and "11,800" in fourth


def test_print_copy_keeps_values_and_only_the_chosen_sheets(tmp_path: Path) -> None:
    """No formula survives in the print copy (LibreOffice cannot recompute DUTY_LINES: it would print
    #VALUE!), and the sheets not asked for are hidden."""
    from xlduty.recalc import recalc

    calculated = tmp_path / "q.xlsm"
    recalc(ROOT / "workbook" / "xlduty.xlsm", calculated)
    printable = tmp_path / "p.xlsx"
    print_copy(calculated, printable, ["Quote", "Lines"])
    with zipfile.ZipFile(printable) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(re.search(rb"<f[ >/]", z.read(n)) for n in sheets)   # <formula1>: a drop-down
        assert b"<v>730198</v>" in z.read("xl/worksheets/sheet1.xml")
        wb = z.read("xl/workbook.xml").decode()
    assert 'state="hidden" name="Rates"' in wb and 'state="hidden" name="SelfTest"' in wb
    assert 'state="hidden" name="Costs"' in wb
    assert 'state="hidden" name="Quote"' not in wb and "fullCalcOnLoad" not in wb
    assert 'activeTab="0"' in wb
    with pytest.raises(Exception, match="no sheet named 'Nope'"):
        print_copy(calculated, tmp_path / "x.xlsx", ["Nope"])


def test_the_print_copy_is_written_once_with_its_rows_fitted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows too short for their wrapped texts are made tall enough in the copy's one write, never by opening and
    writing the copy again: Quote row 57 (the treatments' reason, 3 lines of 11 pt: 3 × 11 × 1.25 + 2 = 43.25 →
    43.2 pt) and row 12; the other rows keep their heights."""
    import types

    from xlduty import export
    from xlduty.recalc import recalc

    calculated = tmp_path / "q.xlsm"
    recalc(ROOT / "workbook" / "xlduty.xlsm", calculated)
    printable = tmp_path / "p.xlsx"
    opened: list[Path] = []
    written: list[Path] = []
    package = export.Package

    class Writing(zipfile.ZipFile):
        def __init__(self, file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> None:
            if mode == "w":
                written.append(Path(file))
            super().__init__(file, mode, *args, **kwargs)

    monkeypatch.setattr(export, "Package", lambda path, **kw: (opened.append(Path(path)), package(path, **kw))[1])
    monkeypatch.setattr(export, "zipfile", types.SimpleNamespace(ZipFile=Writing, ZIP_DEFLATED=zipfile.ZIP_DEFLATED))
    print_copy(calculated, printable, ["Quote"])
    assert (opened, written) == ([calculated], [printable])
    with zipfile.ZipFile(printable) as z:
        tags = re.findall(r"<row\s[^>]*>", z.read("xl/worksheets/sheet1.xml").decode())
    heights = {}
    for tag in tags:
        row, height = re.search(r'\sr="(\d+)"', tag), re.search(r'\sht="([^"]*)"', tag)
        assert row is not None
        heights[int(row[1])] = height[1] if height else None
    assert heights[57] == heights[12] == "43.2"
    assert heights[9] == "30" and heights[13] is None   # as the template sets them


def test_sheet_names_with_escaped_characters(tmp_path: Path) -> None:
    """A name stored with &apos; or a character reference (some XML writers do) is matched by its value."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Quote"
    wb.create_sheet("Bob's & <co>")
    wb.create_sheet("Other")
    src = tmp_path / "in.xlsx"
    wb.save(src)
    raw = tmp_path / "raw.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(raw, "w") as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename == "xl/workbook.xml":
                body = body.replace(b"Bob's", b"Bob&apos;s").replace(b"&amp;", b"&#38;")
            zout.writestr(item, body)
    out = tmp_path / "p.xlsx"
    print_copy(raw, out, ["Bob's & <co>", "Quote"])
    wb_xml = zipfile.ZipFile(out).read("xl/workbook.xml").decode()
    import re

    assert wb_xml.count('state="hidden"') == 1 and re.search(r'<sheet state="hidden"[^>]*name="Other"', wb_xml)
    assert 'activeTab="1"' in wb_xml


def _latin_fonts_only(folder: Path) -> Path:
    """A fontconfig file listing only the DejaVu fonts (no Japanese font), as on a server with fonts-dejavu alone."""
    found = subprocess.run(["fc-list", ":family=DejaVu Sans", "file"], capture_output=True, text=True,
                           check=True).stdout.split()
    assert found, "the DejaVu fonts are needed (Debian: fonts-dejavu-core)"
    conf = folder / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>'
                    f"<dir>{Path(found[0].rstrip(':')).parent}</dir><cachedir>{folder / 'fc-cache'}</cachedir>"
                    "</fontconfig>\n", encoding="utf-8")
    return conf


@needs_office
def test_no_japanese_font_refuses_the_pdf(tmp_path: Path) -> None:
    """With only DejaVu fonts LibreOffice draws every kana and kanji as a box: export-pdf says which font package
    to install, in one line, exit 2 (the system refused: README, Exit codes), and leaves no PDF behind."""
    import os

    conf = _latin_fonts_only(tmp_path)
    assert subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True,
                          env={**os.environ, "FONTCONFIG_FILE": str(conf)}).stdout.strip() == ""
    out = tmp_path / "m.pdf"
    p = subprocess.run([sys.executable, "-m", "xlduty.cli", "export-pdf", str(ROOT / "workbook" / "xlduty.xlsm"),
                        "-o", str(out), "--customer"], capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env={**os.environ, "FONTCONFIG_FILE": str(conf)})
    assert (p.returncode, p.stdout) == (2, "")
    line, = p.stderr.splitlines()
    assert line.startswith("xlduty: font: no Japanese font") and "fonts-ipaexfont-gothic" in line
    assert not out.exists() and sorted(f.name for f in tmp_path.iterdir()) == ["fc-cache", "fonts.conf"]


@needs_office
def test_the_rendered_pdf_itself_is_checked_for_japanese_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where fontconfig cannot be asked beforehand (no fc-list), the rendered PDF is read back with pdfplumber: its
    kana and kanji came out as boxes (all read back as one wrong character), so it is refused and not written."""
    from xlduty import export
    from xlduty.core.errors import InputError

    monkeypatch.setenv("FONTCONFIG_FILE", str(_latin_fonts_only(tmp_path)))
    which = shutil.which
    monkeypatch.setattr(export.shutil, "which", lambda name: None if name == "fc-list" else which(name))
    out = tmp_path / "m.pdf"
    with pytest.raises(InputError, match=r"^font: no Japanese font .* did not come back from the PDF") as caught:
        export.export_pdf(ROOT / "workbook" / "xlduty.xlsm", out, ["見積書"])
    missing, printed = (int(n) for n in re.search(r"\((\d+) of the (\d+) Japanese", caught.value.message).groups())
    assert printed > 50 and missing >= printed - 1   # at most the one character every box reads back as
    assert not out.exists()


def test_printed_cells_are_those_that_print(tmp_path: Path) -> None:
    """What the checks before writing a PDF read (export.printed_cells): the texts inside the print area, none of a
    hidden row or column (they do not print, so a Japanese text there cannot be missing from the PDF, nor an error
    there reach it), and an error value as Excel shows it."""
    import openpyxl

    from xlduty.export import check_errors, printed_cells

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "見積書"
    ws["A1"], ws["B1"], ws["C1"], ws["A2"], ws["A3"], ws["E1"] = "見積", "隠し列", "x", "隠し行", "#N/A", "範囲外"
    ws["A3"].data_type = "e"
    ws.column_dimensions["B"].hidden = True
    ws.row_dimensions[2].hidden = True
    ws.print_area = "A1:C3"
    src = tmp_path / "p.xlsx"
    wb.save(src)
    cells = printed_cells(src, ["見積書"])
    assert cells == {"見積書": [("A1", "見積"), ("C1", "x"), ("A3", "#N/A")]}
    from xlduty.core.errors import InputError

    with pytest.raises(InputError, match=r"^見積書!A3: the customer's 見積書 would print an error, so no PDF is "
                                         r"written: #N/A$"):
        check_errors(cells)
    with pytest.warns(UserWarning, match=r"^Quote!A3 prints an error: #N/A$"):
        check_errors({"Quote": cells["見積書"]})
