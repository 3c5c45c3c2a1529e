"""``xlduty export-pdf IN -o OUT.pdf``: the printable quote without Excel (``--customer``: the 見積書 alone).

Why not convert the workbook directly: LibreOffice cannot compute the xlduty functions (its own
recalculation of an array formula it does not know gives ``#VALUE!``). So the workbook is first
recalculated by ``xlduty recalc``, then a print copy is made in which every formula is replaced by its
value and only the chosen sheets stay visible, and LibreOffice renders that copy with the sheets' own
print setup (A4, print area, titles, header and footer, as ``workbook/src/quote.yaml`` sets them). In
Excel, the ribbon's *Export PDF* does the same through Excel itself.

What must not reach a customer is refused before anything is written: a 見積書 with an error in a printed cell
(``check_errors``), and a PDF whose Japanese text was drawn without a Japanese font, as empty boxes
(``check_japanese_font`` before rendering, ``check_pdf_fonts`` on the rendered PDF).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from xlduty.core.errors import DataError, InputError
from xlduty.files import Package, check_output, write_output

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_FORMULA = re.compile(rb"<f(?:\s[^>]*)?/>|<f(?:\s[^>]*)?>.*?</f>", re.S)


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise DataError("LibreOffice is needed to render a PDF without Excel (Debian/Ubuntu: apt-get install "
                        "libreoffice-calc-nogui); in Excel use the xlduty ribbon's Export PDF")
    return found


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its part name inside the package."""
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for sh in wb.iter(f"{{{_MAIN}}}sheet"):
        t = target[sh.get(f"{{{_REL}}}id")]
        out[sh.get("name", "")] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    return out


def print_copy(src: Path, dst: Path, sheets: Sequence[str]) -> Any:
    """A values-only copy of ``src`` with only ``sheets`` visible (the first of them active), each row tall enough
    for its wrapped texts (``row_heights``), written once; returns the workbook as openpyxl reads its values (the
    copy's, for ``printed_cells``)."""
    import openpyxl

    with Package(src) as z:
        parts = _sheet_parts(z)
        missing = [s for s in sheets if s not in parts]
        if missing:
            raise InputError("sheets", f"no sheet named {missing[0]!r} (sheets: {', '.join(parts)})")
        # the cached values are what the copy keeps of each formula: read so, the workbook is the copy's
        wb = openpyxl.load_workbook(src, data_only=True)
        heights = row_heights(wb, sheets, parts)
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
            for item in z.infolist():
                body = z.read(item.filename)
                if item.filename in parts.values():
                    body = _FORMULA.sub(b"", body)
                    if item.filename in heights:
                        body = _tall_rows(body, heights[item.filename])
                elif item.filename == "xl/workbook.xml":
                    body = _visible_only(body, sheets)
                elif item.filename == "xl/calcChain.xml":
                    continue   # no formulas left to chain; Excel and LibreOffice rebuild it anyway
                out.writestr(item, body)
    return wb


# Text metrics for sizing a wrapped cell's row (row_heights). A column's width counts the digit "0" of the default font
# (11 pt), as LibreOffice draws it (tests/print_layout.py reads the grid: 40.71 → 156.7 pt at a 6/11 scale, 3.85
# per "0"); a full-width character is one em, 1.6 of those digits at 11 pt (DejaVu's "0" is 0.636 em), any other
# character 0.8 (its average in running text); Latin word wrapping wastes part of a line (_WRAP_SLACK). A line is
# 1.25 em high (two lines of 11 pt fit the template's 30 pt rows, as they print).
_FULL_DIGITS = 1.6
_NARROW_DIGITS = 0.8
_PADDING_DIGITS = 0.5
_WRAP_SLACK = 1.05
_LINE_EM = 1.25


def wrapped_lines(text: str, width_chars: float, size: float) -> int:
    """How many lines ``text`` takes wrapped in a box ``width_chars`` wide (digits "0" of 11 pt), at ``size`` pt."""
    room = max(width_chars - _PADDING_DIGITS, 1.0)
    lines = 0
    for part in text.split("\n"):
        need = sum(_FULL_DIGITS if unicodedata.east_asian_width(ch) in "WF" else _NARROW_DIGITS for ch in part)
        lines += max(1, -(-need * size / 11 * _WRAP_SLACK // room))
    return int(lines)


def wrapped_height(text: str, width_chars: float, size: float) -> float:
    """The height (pt) a row needs to show ``text`` wrapped in a box ``width_chars`` wide, at ``size`` pt."""
    return round(wrapped_lines(text, width_chars, size) * size * _LINE_EM + 2, 1)


def row_heights(wb: Any, sheets: Sequence[str], parts: dict[str, str]) -> dict[str, dict[int, float]]:
    """Sheet part → {row: height (pt)} for the rows of ``sheets`` too short for their wrapped texts.

    Why: Excel fits a row to its wrapped text when it calculates (for a row whose height was not set by hand), but
    LibreOffice, which renders the PDF without Excel, keeps the height stored in the file (tests: a why-not reason
    or a long 品名 printed one line high, the rest of it over the next rows). A row set by hand is only ever made
    taller; a merged range over one row counts its columns' widths together."""
    heights: dict[str, dict[int, float]] = {}
    for name in sheets:
        ws = wb[name]
        default_width = ws.sheet_format.defaultColWidth or 8.43
        widths = {c: dim.width for dim in ws.column_dimensions.values() if dim.width and dim.min
                  for c in range(dim.min, (dim.max or dim.min) + 1)}   # one <col> may set a range of columns

        def width(col: int, widths: dict[int, float] = widths, default_width: float = default_width) -> float:
            return widths.get(col, default_width)

        merged = {(m.min_row, m.min_col): m for m in ws.merged_cells.ranges if m.min_row == m.max_row}
        need: dict[int, float] = {}
        c0, r0, c1, r1 = _print_bounds(ws)
        for row in ws.iter_rows(min_row=r0, max_row=r1, min_col=c0, max_col=c1):
            for cell in row:
                if not (cell.alignment.wrap_text and isinstance(cell.value, str) and cell.value.strip()):
                    continue
                m = merged.get((cell.row, cell.column))
                cols = range(m.min_col, m.max_col + 1) if m else range(cell.column, cell.column + 1)
                size = float(cell.font.sz or 11)
                box = sum(width(c) for c in cols)
                if wrapped_lines(cell.value, box, size) < 2:
                    continue   # one line: the row's height shows it already
                h = wrapped_height(cell.value, box, size)
                stored = ws.row_dimensions[cell.row].height or ws.sheet_format.defaultRowHeight or 15
                if h > stored and h > need.get(cell.row, 0):
                    need[cell.row] = h
        if need:
            heights[parts[name]] = need
    return heights


def _tall_rows(body: bytes, need: dict[int, float]) -> bytes:
    """A sheet part with the rows of ``need`` set to their heights (by hand: ``customHeight``)."""
    def tall(m: re.Match[bytes]) -> bytes:
        tag = m.group(0)
        row = int(re.search(rb'\sr="(\d+)"', tag).group(1))   # type: ignore[union-attr]
        if row not in need:
            return tag
        tag = re.sub(rb'\s(?:ht|customHeight)="[^"]*"', b"", tag)
        return tag[:4] + f' ht="{need[row]}" customHeight="1"'.encode() + tag[4:]

    return re.sub(rb"<row\s[^>]*>", tall, body)


def _visible_only(body: bytes, sheets: Sequence[str]) -> bytes:
    """Hide the sheets not asked for and make the first one asked for active. Names are read with an XML
    parser (any escaping), the tags rewritten in place by position (everything else stays as written)."""
    names = [sh.get("name", "") for sh in ET.fromstring(body).iter(f"{{{_MAIN}}}sheet")]
    text = body.decode("utf-8")
    text = re.sub(r'\s(?:fullCalcOnLoad|firstSheet|activeTab)="[^"]*"', "", text)
    position = iter(range(len(names)))

    def one(m: re.Match[str]) -> str:
        tag = re.sub(r'\sstate="[^"]*"', "", m.group(0))
        hidden = names[next(position)] not in sheets
        return tag.replace("<sheet ", '<sheet state="hidden" ', 1) if hidden else tag

    text = re.sub(r"<sheet\s[^>]*/>", one, text)
    text = re.sub(r"<workbookView\b", f'<workbookView activeTab="{names.index(sheets[0])}"', text, count=1)
    # LibreOffice prints a hidden sheet that has a print area: the print areas and titles of the sheets not asked
    # for go (a defined name is tied to its sheet by localSheetId, the sheet's position).
    hidden = {str(i) for i, name in enumerate(names) if name not in sheets}

    def printing(m: re.Match[str]) -> str:
        local = re.search(r'\slocalSheetId="(\d+)"', m.group(0))
        return "" if local and local.group(1) in hidden else m.group(0)

    text = re.sub(r'<definedName\s[^>]*name="_xlnm\.Print_(?:Area|Titles)"[^>]*>.*?</definedName>', printing, text,
                  flags=re.S)
    text = re.sub(r"<definedNames>\s*</definedNames>", "", text)
    return text.encode("utf-8")


# What a quote prints when no sheets are named: those of these the workbook has (a quote made before the Costs
# sheet existed prints without it).
QUOTE_SHEETS = ("Quote", "Lines", "Costs")
# What the customer receives (--customer): the 見積書 alone, never the costing sheets.
CUSTOMER_SHEETS = ("見積書",)


def _check_sheets(src: Path, sheets: Sequence[str] | None) -> list[str]:
    """The sheets to print: as named (each must exist), or the quote sheets the workbook has."""
    try:
        with Package(src) as z:   # within the package limits: xlduty.files
            parts = _sheet_parts(z)
    except (OSError, zipfile.BadZipFile, KeyError, ET.ParseError) as exc:
        raise InputError("file", f"{src} is not a readable .xlsx/.xlsm workbook ({exc})") from None
    if sheets is None:
        sheets = [s for s in QUOTE_SHEETS if s in parts]
        if not sheets:
            raise InputError("sheets", f"not an xlduty quote (no sheet {', '.join(QUOTE_SHEETS)}): name the sheets "
                                       f"to print (sheets: {', '.join(parts)})")
    missing = [s for s in sheets if s not in parts]
    if missing or not sheets:
        raise InputError("sheets", f"no sheet named {missing[0] if missing else ''!r} (sheets: {', '.join(parts)})")
    return list(sheets)


_PDF = "the output must be a .pdf file"

# Said when the PDF would print Japanese text without a Japanese font (LibreOffice then draws empty boxes).
_NO_FONT = ("no Japanese font is installed for LibreOffice, so the PDF's Japanese text would print as empty boxes: "
            "install one (Debian/Ubuntu: apt-get install fonts-ipaexfont-gothic, or fonts-noto-cjk; Fedora: "
            "google-noto-sans-cjk-fonts) and run again")


def _japanese(ch: str) -> bool:
    """A character that only a Japanese (CJK) font draws: kana and the CJK ideographs."""
    return unicodedata.name(ch, "").startswith(("CJK UNIFIED IDEOGRAPH", "HIRAGANA", "KATAKANA"))


def check_japanese_font() -> None:
    """Before rendering: on a system with fontconfig (where LibreOffice finds its fonts through it), refuse when
    ``fc-list :lang=ja`` lists no font. Elsewhere (no fc-list) the rendered PDF is checked alone."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return
    try:
        found = subprocess.run([fc_list, ":lang=ja", "family"], capture_output=True, text=True, timeout=60,
                               check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return   # fontconfig would not answer: the PDF itself is checked after rendering
    if not found.strip():
        raise InputError("font", _NO_FONT)


def printed_cells(printable: Path, sheets: Sequence[str], wb: Any = None) -> dict[str, list[tuple[str, str]]]:
    """Sheet → (cell, text) of every text cell inside its print area (the whole sheet when it has none) and not in
    a hidden row or column (neither prints), read from the values-only print copy (``wb``: as ``print_copy`` read
    it, so it is not read again)."""
    import openpyxl

    if wb is None:
        wb = openpyxl.load_workbook(printable)
    out: dict[str, list[tuple[str, str]]] = {}
    for name in sheets:
        ws = wb[name]
        c0, r0, c1, r1 = _print_bounds(ws)
        hidden_rows = {r for r, dim in ws.row_dimensions.items() if dim.hidden}
        hidden_cols = {c for dim in ws.column_dimensions.values() if dim.hidden and dim.min
                       for c in range(dim.min, (dim.max or dim.min) + 1)}
        texts = []
        for row in ws.iter_rows(min_row=r0, max_row=r1, min_col=c0, max_col=c1):
            for cell in row:
                if cell.row in hidden_rows or cell.column in hidden_cols:
                    continue
                if cell.data_type in ("s", "e", "str", "inlineStr") and str(cell.value or "").strip():
                    text = str(cell.value)
                    texts.append((cell.coordinate, text if cell.data_type != "e" or text.startswith("#")
                                  else f"#{text}"))
        out[name] = texts
    return out


def _print_bounds(ws: Any) -> tuple[int, int, int, int]:
    """(first column, first row, last column, last row) of the sheet's print area (its first range), or of the
    whole sheet when it has none."""
    from openpyxl.utils import range_boundaries

    area = ws.print_area
    if area:
        return range_boundaries(str(area).split(",")[0].split("!")[-1].replace("$", ""))  # type: ignore[return-value]
    return 1, 1, ws.max_column, ws.max_row


def _is_error(text: str) -> bool:
    """A cell showing an error: xlduty's ``#エラー …`` text or one of Excel's error values (#VALUE!, #N/A…)."""
    from xlduty.excel.cells import EXCEL_ERRORS  # the one list of Excel's error values
    from xlduty.excel.messages import PREFIX

    return text.startswith(PREFIX) or text in EXCEL_ERRORS


def check_errors(cells: dict[str, list[tuple[str, str]]]) -> None:
    """A customer sheet (CUSTOMER_SHEETS) showing an error in a printed cell is refused, naming the first such cell
    and its text: a 見積書 with ``#エラー`` in place of its figures must not reach a customer. An internal sheet
    still prints (it is where the user sees what is wrong), with a warning naming its first error cell."""
    for sheet, texts in cells.items():
        errors = [(cell, text) for cell, text in texts if _is_error(text)]
        if not errors:
            continue
        cell, text = errors[0]
        more = f" (and {len(errors) - 1} more cells)" if len(errors) > 1 else ""
        text = " ".join(text.split())
        if sheet in CUSTOMER_SHEETS:
            raise InputError(f"{sheet}!{cell}", f"the customer's {sheet} would print an error{more}, so no PDF is "
                                                f"written: {text}")
        warnings.warn(f"{sheet}!{cell} prints an error{more}: {text}", stacklevel=2)


def check_pdf_fonts(pdf: Path, cells: dict[str, list[tuple[str, str]]]) -> None:
    """After rendering: every Japanese character the printed cells hold must come back from the PDF as that
    character. Without a Japanese font LibreOffice draws a box for each (a font's missing glyph, which reads back
    as one same wrong character), so the PDF is refused, not half-readable."""
    try:
        import pdfplumber
    except ModuleNotFoundError as exc:
        from xlduty.extras import needed_by

        raise needed_by("export", exc) from None

    def same(ch: str) -> str:   # a Kangxi radical pasted from a PDF (⾦) and its ideograph (金) share one glyph
        return unicodedata.normalize("NFKC", ch)

    wanted: dict[str, list[str]] = {}   # character (NFKC) → the cells that print it
    for sheet, texts in cells.items():
        for cell, text in texts:
            for ch in text:
                if _japanese(ch):
                    wanted.setdefault(same(ch), []).append(f"{sheet}!{cell}")
    if not wanted:
        return
    with pdfplumber.open(pdf) as doc:
        drawn = {same(ch) for page in doc.pages for c in page.chars for ch in c["text"]}
    missing = sorted(set(wanted) - drawn)
    if not missing:
        return
    if 2 * len(missing) > len(wanted):   # most did not come back (boxes read back as one same wrong character)
        raise InputError("font", f"{_NO_FONT} ({len(missing)} of the {len(wanted)} Japanese characters printed did "
                                 f"not come back from the PDF, e.g. {''.join(missing[:8])})")
    shown = "; ".join(f"{ch} (U+{ord(ch[0]):04X}, {', '.join(wanted[ch][:3])})" for ch in missing[:5])
    raise InputError("font", f"the Japanese font installed has no glyph for {len(missing)} character(s) the sheets "
                             f"print: {shown}; use a common form of the character, or install a font that has it")


def export_pdf(src: str | os.PathLike[str], dst: str | os.PathLike[str],
               sheets: Sequence[str] | None = None, *, timeout: float = 180) -> Path:
    """Recalculate ``src`` headlessly and render ``sheets`` (default: QUOTE_SHEETS it has) to the PDF ``dst``
    (written atomically)."""
    from xlduty.recalc import output_suffix, recalc

    source, target = Path(src), Path(dst)
    check_output(target, inputs=[source], suffixes=(".pdf",), why=_PDF)   # the output's checks, shared: files.py
    sheets = _check_sheets(source, sheets)   # before the recalculation: a wrong name fails at once
    binary = soffice()
    check_japanese_font()   # before the minutes of recalculation: a system without one is refused at once
    with tempfile.TemporaryDirectory(prefix="xlduty-pdf-") as tmp:
        work = Path(tmp)
        calculated = work / f"calculated{(output_suffix(source) or (source.suffix,))[0]}"
        recalc(source, calculated)
        printable = work / "print.xlsx"
        cells = printed_cells(printable, sheets, print_copy(calculated, printable, sheets))
        check_errors(cells)
        profile = (work / "profile").as_uri()
        result = subprocess.run([binary, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                                 "--convert-to", "pdf", "--outdir", str(work), str(printable)],
                                capture_output=True, text=True, timeout=timeout, check=False)
        rendered = work / "print.pdf"
        if not rendered.exists():
            raise DataError(f"LibreOffice did not render the PDF: {(result.stderr or result.stdout).strip()[:300]}")
        check_pdf_fonts(rendered, cells)
        write_output(target, rendered.read_bytes(), inputs=[source], suffixes=(".pdf",), why=_PDF)
    return target
