"""Cells straight from the workbook's XML parts: values, formulas (shared and array ones), defined names.

It reads only what recalculation needs, streaming each sheet (``iterparse``, rows freed as they are
read) instead of building a full object model: a 10,000-row sheet reads in a fraction of a second.

What it refuses (``BookError``, one line), rather than compute wrong or exhaust the machine: a workbook in
the 1904 date system (its serial numbers count days from 1904-01-01; the engine's date functions and
DUTY's date read them from 1900, 1,462 days apart, and which numbers are dates is not knowable from the
file); more than ``MAX_CELLS`` cells (values, formulas and array-formula areas) or ``MAX_ELEMENTS`` XML
elements in its sheets and shared strings; a row or column beyond Excel's grid; two sheets on one part.
The package itself is read within ``xlduty.files``' limits (parts, inflated bytes). Links to other
workbooks (``externalReferences``) are listed in ``Book.external`` for the report.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from xlduty.files import FileError, Package
from xlduty.recalc import _formulas
from xlduty.recalc.refs import MAX_COL, MAX_ROW, address, col_index, parse_cell

MAX_CELLS = 2_000_000
"""Cells holding a value or a formula, plus the cells of array-formula areas, in all sheets: 2,000,000 (200,000
rows × 10) recalculate in 12.5 s with 810 MB. Beyond it, compute declarations with ``xlduty compute`` (a JSON batch)."""
MAX_ELEMENTS = 10_000_000
"""XML elements read from the sheets and the shared strings (a cell is two or three): it bounds the time
spent on a sheet of empty or unknown elements, which hold no cells."""
_LOOSE = 1_000_000
"""XML elements of the sheets and shared strings outside rows and strings (held until their part is read:
about 80 bytes each)."""
_ROW_ELEMENTS = 200_000
"""Room for the row being read when loose elements are counted as they come (16,384 cells of a few each)."""
_TREE_BYTES = 32 << 20
"""Parts read whole into a tree (workbook.xml, relationships): at most this many bytes."""

_MAIN = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_R_ATTR = ("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
           "{http://purl.oclc.org/ooxml/officeDocument/relationships}id")


def _tags(local: str) -> frozenset[str]:
    return frozenset(f"{{{ns}}}{local}" for ns in _MAIN)


_ROW, _C, _F, _V, _IS, _T, _R, _SI, _SHEET, _NAME, _WB_PR, _EXT_REF = (
    _tags(x) for x in ("row", "c", "f", "v", "is", "t", "r", "si", "sheet", "definedName", "workbookPr",
                       "externalReference"))
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_DIGITS = "0123456789"


class BookError(ValueError):
    """The file is not a workbook this module can read."""


@dataclass(slots=True)
class FormulaCell:
    """One formula. ``text`` is as stored (no ``=``); a shared formula's child has ``text`` None and its
    ``master`` (row, col, text) until ``resolve_text`` shifts the master's text to it."""

    sheet: int
    row: int
    col: int
    text: str | None
    master: tuple[int, int, str] | None = None
    array: tuple[int, int, int, int] | None = None   # t="array": r1, c1, r2, c2 (the anchor is r1, c1)
    dynamic: bool = False                            # a dynamic-array (spilling) formula, not a CSE one

    def resolve_text(self) -> str:
        if self.text is None:
            from xlduty.recalc.refs import shift

            assert self.master is not None
            mrow, mcol, mtext = self.master
            self.text = shift(mtext, self.row - mrow, self.col - mcol)
        return self.text


@dataclass(slots=True)
class Sheet:
    name: str
    part: str | None                     # zip member; None for chart and dialog sheets
    values: dict[tuple[int, int], Any] = field(default_factory=dict)
    max_row: int = 0
    max_col: int = 0


@dataclass(slots=True)
class Book:
    workbook_part: str
    sheets: list[Sheet]
    names: dict[tuple[int | None, str], str]          # (local sheet index or None, NAME) → definition
    formulas: list[FormulaCell]
    external: list[str] = field(default_factory=list)  # [1], [2] … of formulas: the linked workbook's path

    def sheet_index(self, name: str) -> int | None:
        upper = name.upper()
        for i, s in enumerate(self.sheets):
            if s.name.upper() == upper:
                return i
        return None


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


class _Budget:
    """What is left of ``MAX_CELLS``, ``MAX_ELEMENTS`` and ``_LOOSE`` for the rest of the book."""

    __slots__ = ("cells", "elements", "loose", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self.cells = MAX_CELLS
        self.elements = MAX_ELEMENTS
        self.loose = _LOOSE

    def too_many_cells(self) -> BookError:
        return BookError(f"{self.path} has more than {MAX_CELLS:,} cells (values, formulas and array areas): "
                         "xlduty recalc reads at most that (see README, Limits); for large batches use "
                         "xlduty compute with a JSON array")

    def too_many_elements(self) -> BookError:
        return BookError(f"{self.path} has more than {MAX_ELEMENTS:,} XML elements in its sheets, or more than "
                         f"{_LOOSE:,} outside their rows: xlduty recalc reads at most that (see README, Limits)")


def _tree(zf: zipfile.ZipFile, part: str) -> ET.Element:
    """A small part parsed whole (KeyError if it is missing)."""
    info = zf.getinfo(part)
    if info.file_size > _TREE_BYTES:
        raise BookError(f"{part} is {info.file_size:,} bytes: xlduty reads at most {_TREE_BYTES:,} there")
    return ET.fromstring(zf.read(info))


def _rels(zf: zipfile.ZipFile, part: str, external: bool = False) -> dict[str, tuple[str, str]]:
    """Relationship id → (type, target part) of ``part``; ``external``: only the targets outside the
    package (as written), instead of only those inside."""
    folder, name = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", name + ".rels")
    try:
        root = _tree(zf, rels_part)
    except KeyError:
        return {}
    out = {}
    for rel in root.iter(f"{{{_REL_NS}}}Relationship"):
        target = rel.get("Target", "")
        if (rel.get("TargetMode") == "External") != external:
            continue
        path = target if external else (
            target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target)))
        out[rel.get("Id", "")] = (rel.get("Type", ""), path)
    return out


def _complete(stream: IO[bytes], tags: frozenset[str], budget: _Budget) -> Iterator[ET.Element]:
    """Each element with one of ``tags`` once parsed whole; it is emptied after use. Elements outside
    those (a sheet's columns, merged cells, links … or junk) stay in the parser's tree until the part ends,
    so there may be at most ``_LOOSE`` of them, and at most ``MAX_ELEMENTS`` in all. Counted without a
    "start" event per element, which would make the parse half again slower."""
    left, loose = budget.elements, budget.loose
    since = 0                       # elements ended since the last kept one: its own, and loose ones
    ceiling = loose + _ROW_ELEMENTS
    try:
        for _, el in ET.iterparse(stream):
            since += 1
            if el.tag not in tags:
                if since > ceiling:
                    raise budget.too_many_elements()
                continue
            left -= since
            loose -= since - len(list(el.iter()))
            since = 0
            ceiling = loose + _ROW_ELEMENTS
            if left < 0 or loose < 0:
                raise budget.too_many_elements()
            yield el
            el.clear()
        left -= since
        loose -= since
        if left < 0 or loose < 0:
            raise budget.too_many_elements()
    finally:
        budget.elements, budget.loose = left, loose


def _shared_strings(stream: IO[bytes], budget: _Budget) -> list[str]:
    out = []
    for el in _complete(stream, _SI, budget):
        parts = []
        for child in el:
            if child.tag in _T:
                parts.append(child.text or "")
            elif child.tag in _R:
                for t in child:
                    if t.tag in _T:
                        parts.append(t.text or "")
        out.append(_unescape("".join(parts)))
        if len(out) > MAX_CELLS:
            raise BookError(f"{budget.path} has more than {MAX_CELLS:,} shared strings: xlduty recalc reads at "
                            "most that (see README, Limits)")
    return out


def _inline(el: ET.Element) -> str:
    parts = []
    for child in el:
        if child.tag in _T:
            parts.append(child.text or "")
        elif child.tag in _R:
            parts.extend(t.text or "" for t in child if t.tag in _T)
    return _unescape("".join(parts))


def _serial(text: str) -> float:
    """An ISO 8601 ``t="d"`` cell as an Excel serial number (1900 date system)."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    delta = dt - datetime(1899, 12, 30)
    return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000


def _value(t: str | None, v: str | None, inline: ET.Element | None, sst: list[str]) -> Any:
    if t == "inlineStr":
        return _inline(inline) if inline is not None else None
    if v is None:
        return None
    if t is None or t == "n":
        return float(v)
    if t == "s":
        return sst[int(v)]
    if t == "str":
        return _unescape(v)
    if t == "b":
        return v.strip() in ("1", "true")
    if t == "e":
        return _formulas.error(v.strip())
    if t == "d":
        return _serial(v)
    return v


def _area(ref: str, row: int, col: int, path: str = "", sheet: str = "") -> tuple[int, int, int, int]:
    a, _, b = ref.partition(":")
    p = parse_cell(a.replace("$", "")) or (row, col)
    q = parse_cell(b.replace("$", "")) if b else p
    q = q or p
    area = min(p[0], q[0]), min(p[1], q[1]), max(p[0], q[0]), max(p[1], q[1])
    if area[2] > MAX_ROW or area[3] > MAX_COL:
        raise BookError(f"{path}: sheet {sheet!r}: the array formula in {address(row, col)} spans {ref}, beyond "
                        "Excel's grid")
    return area


_col_cache: dict[str, int] = {}


def _col_of(ref: str) -> int:
    letters = ref.rstrip(_DIGITS)
    n = _col_cache.get(letters)
    if n is None:
        n = _col_cache[letters] = col_index(letters.lstrip("$"))
    return n


def _read_sheet(stream: IO[bytes], index: int, sheet: Sheet, sst: list[str], formulas: list[FormulaCell],
                budget: _Budget) -> None:
    values = sheet.values
    masters: dict[str, tuple[int, int, str]] = {}
    children: list[tuple[FormulaCell, str]] = []
    arrays: list[FormulaCell] = []
    row = max_col = 0
    held = len(values) + len(formulas)
    for el in _complete(stream, _ROW, budget):
        r = el.get("r")
        row = int(r) if r else row + 1
        if not 0 < row <= MAX_ROW:
            raise BookError(f"{budget.path}: sheet {sheet.name!r}: row {row:,} is beyond Excel's grid (rows 1 to "
                            f"{MAX_ROW:,})")
        if len(values) + len(formulas) - held > budget.cells:
            raise budget.too_many_cells()
        col = 0
        for c in el:
            if c.tag not in _C:
                continue
            ref = c.get("r")
            col = _col_of(ref) if ref else col + 1
            f = v = inline = None
            for child in c:
                tag = child.tag
                if tag in _V:
                    v = child.text
                elif tag in _F:
                    f = child
                elif tag in _IS:
                    inline = child
            if col > max_col:
                max_col = col
                if col > MAX_COL:
                    raise BookError(f"{budget.path}: sheet {sheet.name!r}: column {col:,} is beyond Excel's grid "
                                    "(columns A to XFD)")
            if f is None or f.get("t") == "dataTable":
                value = _value(c.get("t"), v, inline, sst)
                if value is not None:
                    values[(row, col)] = value
                continue
            kind = f.get("t")
            text = f.text or ""
            fc = FormulaCell(index, row, col, text)
            if kind == "shared":
                si = f.get("si", "")
                if text.strip() and si not in masters:
                    masters[si] = (row, col, text)
                elif not text.strip():
                    fc.text = None
                    children.append((fc, si))
            elif kind == "array":
                fc.array = a = _area(f.get("ref") or "", row, col, budget.path, sheet.name)
                fc.dynamic = c.get("cm") is not None
                arrays.append(fc)
                budget.cells -= (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
            formulas.append(fc)
    budget.cells -= len(values) + len(formulas) - held
    if budget.cells < 0:
        raise budget.too_many_cells()
    for fc, si in children:
        master = masters.get(si)
        if master is None:
            raise BookError(f"{budget.path}: sheet {sheet.name!r}: shared formula {si} has no master cell")
        fc.master = master
    for fc in arrays:
        assert fc.array is not None
        r1, c1, r2, c2 = fc.array
        for rr in range(r1, r2 + 1):
            for cc in range(c1, c2 + 1):
                values.pop((rr, cc), None)
    sheet.max_row = max(row, max((k[0] for k in values), default=0))
    sheet.max_col = min(max(max_col, max((k[1] for k in values), default=0)), MAX_COL)


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true")


def _external_books(zf: zipfile.ZipFile, wb_root: ET.Element, rels: dict[str, tuple[str, str]]) -> list[str]:
    """The workbooks ``[1]``, ``[2]`` … of formulas link to, as their externalLink parts name them (a DDE or
    OLE link, or a part without a path, as ``[n]``)."""
    out: list[str] = []
    for el in wb_root.iter():
        if el.tag not in _EXT_REF:
            continue
        rid = next((el.get(a) for a in _R_ATTR if el.get(a)), "")
        kind, part = rels.get(rid, ("", ""))
        target = next((t for k, t in _rels(zf, part, external=True).values() if "externallinkpath" in k.lower()),
                      None) if kind.endswith("/externalLink") else None
        out.append(target or f"[{len(out) + 1}]")
    return out


def read(path: str) -> Book:
    """The workbook at ``path``. Raises ``BookError`` if it is not a readable .xlsx/.xlsm, uses the 1904 date
    system, or exceeds a limit (see the module's docstring)."""
    try:
        with Package(path) as zf:
            return read_package(zf)
    except FileError as exc:
        raise BookError(str(exc)) from None


def read_package(zf: Package) -> Book:
    """The workbook in an open package, as ``read``; a part that breaks a limit while read is a ``FileError``
    (``xlduty recalc`` reads, patches and copies the input through one open package)."""
    return _read(zf, zf.source)


def _read(zf: Package, path: str) -> Book:
    budget = _Budget(path)
    try:
        root_rels = _rels(zf, "")
    except ET.ParseError as exc:
        raise BookError(f"{path}: _rels/.rels is not valid XML: {exc}") from None
    wb_part = next((p for t, p in root_rels.values() if t.endswith("/officeDocument")), "xl/workbook.xml")
    try:
        wb_root = _tree(zf, wb_part)
        rels = _rels(zf, wb_part)
    except KeyError:
        raise BookError(f"{path} is not a workbook (.xlsx/.xlsm): it has no {wb_part}") from None
    except ET.ParseError as exc:
        raise BookError(f"{path}: {wb_part} is not valid XML: {exc}") from None
    if any(el.tag in _WB_PR and _true(el.get("date1904")) for el in wb_root.iter()):
        raise BookError(f"{path} uses the 1904 date system: xlduty recalc reads dates in the 1900 system only "
                        "(they would be 1,462 days early); in Excel untick File > Options > Advanced > "
                        "'Use 1904 date system', correct the dates it moves, save, and recalc that")
    sheets: list[Sheet] = []
    parts: dict[str, str] = {}
    for el in wb_root.iter():
        if el.tag in _SHEET:
            rid = next((el.get(a) for a in _R_ATTR if el.get(a)), "")
            kind, target = rels.get(rid, ("", ""))
            part = target if kind.endswith("/worksheet") else None
            name = el.get("name", "")
            if part is not None and part in parts:
                raise BookError(f"{path}: sheets {parts[part]!r} and {name!r} are the same part ({part})")
            if part is not None:
                parts[part] = name
            sheets.append(Sheet(name, part))
    names: dict[tuple[int | None, str], str] = {}
    for el in wb_root.iter():
        if el.tag in _NAME:
            local = el.get("localSheetId")
            names[(int(local) if local is not None else None, el.get("name", "").upper())] = (el.text or "").strip()
    try:
        external = _external_books(zf, wb_root, rels)
    except (KeyError, ET.ParseError):
        external = []
    sst: list[str] = []
    sst_part = next((p for t, p in rels.values() if t.endswith("/sharedStrings")), None)
    if sst_part and sst_part in zf.namelist():
        try:
            with zf.open(sst_part) as stream:
                sst = _shared_strings(stream, budget)
        except ET.ParseError as exc:
            raise BookError(f"{path}: {sst_part} is not valid XML: {exc}") from None
    formulas: list[FormulaCell] = []
    for i, sheet in enumerate(sheets):
        if sheet.part is None:
            continue
        try:
            with zf.open(sheet.part) as stream:
                _read_sheet(stream, i, sheet, sst, formulas, budget)
        except KeyError:
            raise BookError(f"{path}: sheet {sheet.name!r} ({sheet.part}) is missing") from None
        except ET.ParseError as exc:
            raise BookError(f"{path}: {sheet.part} is not valid XML: {exc}") from None
        except (BookError, FileError):
            raise
        except (ValueError, IndexError) as exc:   # r="x", a shared string index past the table, v="1,5"
            raise BookError(f"{path}: {sheet.part} holds a malformed cell ({exc})") from None
    return Book(wb_part, sheets, names, formulas, external)
