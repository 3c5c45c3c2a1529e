"""``xlduty export-pdf IN -o OUT.pdf``: the printable quote without Excel (``--customer``: the 見積書 alone).

Why not convert the workbook directly: LibreOffice cannot compute the xlduty functions (its own
recalculation of an array formula it does not know gives ``#VALUE!``). So the workbook is first
recalculated by ``xlduty recalc``, then a print copy is made in which every formula is replaced by its
value and only the chosen sheets stay visible, and LibreOffice renders that copy with the sheets' own
print setup (A4, print area, titles, header and footer, as ``workbook/src/quote.yaml`` sets them). In
Excel, the ribbon's *Export PDF* does the same through Excel itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
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


def export_pdf(src: str | os.PathLike[str], dst: str | os.PathLike[str],
               sheets: Sequence[str] | None = None, *, timeout: float = 180) -> Path:
    """Recalculate ``src`` headlessly and render ``sheets`` (default: QUOTE_SHEETS it has) to the PDF ``dst``
    (written atomically)."""
    from xlduty.recalc import output_suffix, recalc

    source, target = Path(src), Path(dst)
    check_output(target, inputs=[source], suffixes=(".pdf",), why=_PDF)   # the output's checks, shared: files.py
    sheets = _check_sheets(source, sheets)   # before the recalculation: a wrong name fails at once
    binary = soffice()
    with tempfile.TemporaryDirectory(prefix="xlduty-pdf-") as tmp:
        work = Path(tmp)
        calculated = work / f"calculated{(output_suffix(source) or (source.suffix,))[0]}"
        recalc(source, calculated)
        printable = work / "print.xlsx"
        print_copy(calculated, printable, sheets)
        profile = (work / "profile").as_uri()
        result = subprocess.run([binary, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                                 "--convert-to", "pdf", "--outdir", str(work), str(printable)],
                                capture_output=True, text=True, timeout=timeout, check=False)
        rendered = work / "print.pdf"
        if not rendered.exists():
            raise DataError(f"LibreOffice did not render the PDF: {(result.stderr or result.stdout).strip()[:300]}")
        write_output(target, rendered.read_bytes(), inputs=[source], suffixes=(".pdf",), why=_PDF)
    return target
