"""Cells straight from the workbook's XML parts: values, formulas (shared and array ones), defined names.

It reads only what recalculation needs, streaming each sheet (``iterparse``, rows freed as they are
read) instead of building a full object model: a 10,000-row sheet reads in a fraction of a second.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from xlduty.recalc import _formulas
from xlduty.recalc.refs import MAX_COL, col_index, parse_cell

_MAIN = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_R_ATTR = ("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
           "{http://purl.oclc.org/ooxml/officeDocument/relationships}id")


def _tags(local: str) -> frozenset[str]:
    return frozenset(f"{{{ns}}}{local}" for ns in _MAIN)


_ROW, _C, _F, _V, _IS, _T, _R, _SI, _SHEET, _NAME = (
    _tags(x) for x in ("row", "c", "f", "v", "is", "t", "r", "si", "sheet", "definedName"))
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

    def sheet_index(self, name: str) -> int | None:
        upper = name.upper()
        for i, s in enumerate(self.sheets):
            if s.name.upper() == upper:
                return i
        return None


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type, target part) of ``part``."""
    folder, name = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", name + ".rels")
    try:
        root = ET.fromstring(zf.read(rels_part))
    except KeyError:
        return {}
    out = {}
    for rel in root.iter(f"{{{_REL_NS}}}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", ""), path)
    return out


def _shared_strings(stream: IO[bytes]) -> list[str]:
    out = []
    for _, el in ET.iterparse(stream):
        if el.tag in _SI:
            parts = []
            for child in el:
                if child.tag in _T:
                    parts.append(child.text or "")
                elif child.tag in _R:
                    for t in child:
                        if t.tag in _T:
                            parts.append(t.text or "")
            out.append(_unescape("".join(parts)))
            el.clear()
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


def _area(ref: str, row: int, col: int) -> tuple[int, int, int, int]:
    a, _, b = ref.partition(":")
    p = parse_cell(a.replace("$", "")) or (row, col)
    q = parse_cell(b.replace("$", "")) if b else p
    q = q or p
    return min(p[0], q[0]), min(p[1], q[1]), max(p[0], q[0]), max(p[1], q[1])


_col_cache: dict[str, int] = {}


def _col_of(ref: str) -> int:
    letters = ref.rstrip(_DIGITS)
    n = _col_cache.get(letters)
    if n is None:
        n = _col_cache[letters] = col_index(letters.lstrip("$"))
    return n


def _read_sheet(stream: IO[bytes], index: int, sheet: Sheet, sst: list[str], formulas: list[FormulaCell]) -> None:
    values = sheet.values
    masters: dict[str, tuple[int, int, str]] = {}
    children: list[tuple[FormulaCell, str]] = []
    arrays: list[FormulaCell] = []
    row = max_col = 0
    for _, el in ET.iterparse(stream):
        if el.tag not in _ROW:
            continue
        r = el.get("r")
        row = int(r) if r else row + 1
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
                fc.array = _area(f.get("ref") or "", row, col)
                fc.dynamic = c.get("cm") is not None
                arrays.append(fc)
            formulas.append(fc)
        el.clear()
    for fc, si in children:
        master = masters.get(si)
        if master is None:
            raise BookError(f"{sheet.name}: shared formula {si} has no master cell")
        fc.master = master
    for fc in arrays:
        assert fc.array is not None
        r1, c1, r2, c2 = fc.array
        for rr in range(r1, r2 + 1):
            for cc in range(c1, c2 + 1):
                values.pop((rr, cc), None)
    sheet.max_row = max(row, max((k[0] for k in values), default=0))
    sheet.max_col = min(max(max_col, max((k[1] for k in values), default=0)), MAX_COL)


def read(path: str) -> Book:
    """The workbook at ``path``. Raises ``BookError`` if it is not a readable .xlsx/.xlsm."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BookError(f"{path} is not a workbook (.xlsx/.xlsm): {exc}") from None
    with zf:
        root_rels = _rels(zf, "")
        wb_part = next((p for t, p in root_rels.values() if t.endswith("/officeDocument")), "xl/workbook.xml")
        try:
            wb_root = ET.fromstring(zf.read(wb_part))
        except KeyError:
            raise BookError(f"{path} is not a workbook (.xlsx/.xlsm): it has no {wb_part}") from None
        except ET.ParseError as exc:
            raise BookError(f"{path}: {wb_part} is not valid XML: {exc}") from None
        rels = _rels(zf, wb_part)
        sheets: list[Sheet] = []
        for el in wb_root.iter():
            if el.tag in _SHEET:
                rid = next((el.get(a) for a in _R_ATTR if el.get(a)), "")
                kind, target = rels.get(rid, ("", ""))
                part = target if kind.endswith("/worksheet") else None
                sheets.append(Sheet(el.get("name", ""), part))
        names: dict[tuple[int | None, str], str] = {}
        for el in wb_root.iter():
            if el.tag in _NAME:
                local = el.get("localSheetId")
                names[(int(local) if local is not None else None, el.get("name", "").upper())] = (el.text or "").strip()
        sst: list[str] = []
        sst_part = next((p for t, p in rels.values() if t.endswith("/sharedStrings")), None)
        if sst_part and sst_part in zf.namelist():
            with zf.open(sst_part) as stream:
                sst = _shared_strings(stream)
        formulas: list[FormulaCell] = []
        for i, sheet in enumerate(sheets):
            if sheet.part is None:
                continue
            try:
                with zf.open(sheet.part) as stream:
                    _read_sheet(stream, i, sheet, sst, formulas)
            except KeyError:
                raise BookError(f"{path}: sheet {sheet.name!r} ({sheet.part}) is missing") from None
            except ET.ParseError as exc:
                raise BookError(f"{path}: {sheet.part} is not valid XML: {exc}") from None
        return Book(wb_part, sheets, names, formulas)
