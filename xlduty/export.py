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


def print_copy(src: Path, dst: Path, sheets: Sequence[str]) -> None:
    """A values-only copy of ``src`` with only ``sheets`` visible (the first of them active)."""
    with Package(src) as z:
        parts = _sheet_parts(z)
        missing = [s for s in sheets if s not in parts]
        if missing:
            raise InputError("sheets", f"no sheet named {missing[0]!r} (sheets: {', '.join(parts)})")
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
            for item in z.infolist():
                body = z.read(item.filename)
                if item.filename in parts.values():
                    body = _FORMULA.sub(b"", body)
                elif item.filename == "xl/workbook.xml":
                    body = _visible_only(body, sheets)
                elif item.filename == "xl/calcChain.xml":
                    continue   # no formulas left to chain; Excel and LibreOffice rebuild it anyway
                out.writestr(item, body)


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


def printed_cells(printable: Path, sheets: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """Sheet → (cell, text) of every text cell inside its print area (the whole sheet when it has none), read
    from the values-only print copy."""
    import openpyxl
    from openpyxl.utils import range_boundaries

    wb = openpyxl.load_workbook(printable)
    out: dict[str, list[tuple[str, str]]] = {}
    for name in sheets:
        ws = wb[name]
        area = ws.print_area
        if area:
            first = str(area).split(",")[0].split("!")[-1].replace("$", "")
            c0, r0, c1, r1 = range_boundaries(first)
        else:
            c0, r0, c1, r1 = 1, 1, ws.max_column, ws.max_row
        out[name] = [(cell.coordinate, f"#{cell.value}" if cell.data_type == "e" and not str(cell.value).startswith(
                         "#") else str(cell.value))
                     for row in ws.iter_rows(min_row=r0, max_row=r1, min_col=c0, max_col=c1) for cell in row
                     if cell.data_type in ("s", "e", "str", "inlineStr") and str(cell.value or "").strip()]
    return out


def _is_error(text: str) -> bool:
    """A cell showing an error: xlduty's ``#エラー …`` text or one of Excel's error values (#VALUE!, #N/A…)."""
    from xlduty.excel.messages import PREFIX

    return text.startswith(PREFIX) or text in _EXCEL_ERRORS


_EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!",
                 "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#N/A!"}


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

    wanted = {ch for texts in cells.values() for _cell, text in texts for ch in text if _japanese(ch)}
    if not wanted:
        return
    with pdfplumber.open(pdf) as doc:
        drawn = {ch for page in doc.pages for c in page.chars for ch in c["text"]}
    missing = sorted(wanted - drawn)
    if missing:
        raise InputError("font", f"{_NO_FONT} ({len(missing)} of the {len(wanted)} Japanese characters printed did "
                                 f"not come back from the PDF, e.g. {''.join(missing[:8])})")


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
        print_copy(calculated, printable, sheets)
        cells = printed_cells(printable, sheets)
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
