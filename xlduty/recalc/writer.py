"""Computed values into the workbook as cached values, touching nothing else.

The sheet XML is edited as text: only the ``<c>`` elements of computed cells are rebuilt (their ``<f>``,
attributes other than ``t``, and ``<extLst>`` kept as they are; ``<v>``/``<is>`` and ``t`` replaced). A
dynamic-array formula whose spill area changed gets its new area as ``<f ref>``: the next read, here or in
Excel, then finds the spilled cells owned by it (not values in its way). Re-serialising a parsed tree
instead would rename namespace prefixes and drop declarations that ``mc:Ignorable`` still names, which
Excel rejects. Every other zip entry is copied unchanged, in order.

``xl/calcChain.xml`` is kept: it lists formula cells, and recalculation adds or removes none (spilled
values are plain values), so it stays valid.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from typing import IO, Any

from xlduty.recalc import _formulas
from xlduty.recalc.evaluate import CLEAR
from xlduty.recalc.refs import address, col_index

_T_ATTR = re.compile(r"""\st\s*=\s*(?:"[^"]*"|'[^']*')""")
_REF_ATTR = re.compile(r"""\sref\s*=\s*(?:"[^"]*"|'[^']*')""")
_R_ATTR = re.compile(r"""\sr\s*=\s*["']\$?([A-Za-z]+)\$?([0-9]+)["']""")
_ROW_R = re.compile(r"""\sr\s*=\s*["']([0-9]+)["']""")
_SHEET_DATA = re.compile(r"<(?P<p>[\w.-]+:)?sheetData\b[^>]*?(?P<close>/?)>")
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]")
_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_WB_ROOT = re.compile(r"<(?P<p>[\w.-]+:)?workbook\b")
_AFTER_CALC = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing",
               "fileRecoveryPr", "webPublishObjects", "extLst")


def _number(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    text = repr(x)
    return text.upper() if "e" in text else text


def _text(s: str) -> str:
    """XML text, with characters XML 1.0 cannot hold written as Excel's ``_xHHHH_``."""
    s = _ESCAPED.sub(r"_x005F_\1", s)
    s = _INVALID.sub(lambda m: f"_x{ord(m.group(0)):04X}_", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def encode(value: Any) -> tuple[str | None, str | None]:
    """(``t`` attribute, ``<v>`` text) of a value; (None, None) for no value."""
    if value is CLEAR or value is None:
        return None, None
    if isinstance(value, _formulas.error_type()):
        return "e", str(value)
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, str):
        return "str", _text(value)
    return None, _number(float(value))


class _Sheet:
    def __init__(self, prefix: str) -> None:
        p = re.escape(prefix)
        self.p = prefix
        self.row = re.compile(rf"<{p}row(?=[\s/>])(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</{p}row\s*>)", re.S)
        self.cell = re.compile(rf"<{p}c(?=[\s/>])(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</{p}c\s*>)", re.S)
        self.f = re.compile(rf"<{p}f(?=[\s/>])(?P<attrs>[^>]*?)(?P<rest>/>|>.*?</{p}f\s*>)", re.S)
        self.ext = re.compile(rf"<{p}extLst(?=[\s/>]).*?</{p}extLst\s*>", re.S)

    def cell_xml(self, attrs: str, body: str, value: Any, ref: str | None = None) -> str:
        """The cell rebuilt with ``value``; ``ref``: a new area for its (array) formula's ``ref``."""
        p = self.p
        attrs = _T_ATTR.sub("", attrs).rstrip()
        if attrs and not attrs[0].isspace():
            attrs = " " + attrs
        f = self.f.search(body)
        ext = self.ext.search(body)
        t, v = encode(value)
        formula = f.group(0) if f else ""
        if f and ref is not None:
            f_attrs = _REF_ATTR.sub("", f.group("attrs")).rstrip()
            formula = f'<{p}f{f_attrs} ref="{ref}"{f.group("rest")}'
        inner = "".join((formula, f"<{p}v>{v}</{p}v>" if v is not None else "",
                         ext.group(0) if ext else ""))
        t_attr = f' t="{t}"' if t else ""
        return f"<{p}c{attrs}{t_attr}>{inner}</{p}c>" if inner else f"<{p}c{attrs}{t_attr}/>"

    def new_cell(self, row: int, col: int, value: Any) -> str:
        return self.cell_xml(f' r="{address(row, col)}"', "", value)

    def row_body(self, row: int, body: str, writes: Mapping[int, Any], refs: Mapping[int, str]) -> str:
        """The row's content with its written cells rebuilt and cells it lacks inserted in column order,
        walking every cell (also those without an ``r`` attribute)."""
        pending = sorted(writes)
        out: list[str] = []
        pos = col = 0
        for m in self.cell.finditer(body):
            attrs = m.group("attrs")
            r = _R_ATTR.search(attrs)
            col = col_index(r.group(1)) if r else col + 1
            while pending and pending[0] < col:
                c = pending.pop(0)
                if writes[c] is not CLEAR:
                    out.append(body[pos:m.start()])
                    pos = m.start()
                    out.append(self.new_cell(row, c, writes[c]))
            out.append(body[pos:m.start()])
            pos = m.end()
            if pending and pending[0] == col:
                pending.pop(0)
                out.append(self.cell_xml(attrs, m.group("body") or "", writes[col], refs.get(col)))
            else:
                out.append(m.group(0))
        tail = body[pos:]
        ext = self.ext.search(tail)
        cut = ext.start() if ext else len(tail)
        out.append(tail[:cut])
        out.extend(self.new_cell(row, c, writes[c]) for c in pending if writes[c] is not CLEAR)
        out.append(tail[cut:])
        return "".join(out)

    def new_row(self, row: int, writes: Mapping[int, Any]) -> str:
        cells = "".join(self.new_cell(row, c, writes[c]) for c in sorted(writes) if writes[c] is not CLEAR)
        return f'<{self.p}row r="{row}">{cells}</{self.p}row>' if cells else ""


def _by_address(sheet: _Sheet, body: str, writes: Mapping[tuple[int, int], Any],
                refs: Mapping[tuple[int, int], str]) -> str | None:
    """The common case: every written cell exists and has its ``r`` attribute. Cells follow in row and
    column order, so each is found by ``r="E2"`` searching on from the previous one — linear in the sheet.
    None when a cell is missing (it has to be inserted: the row walk does that)."""
    out: list[str] = []
    pos = 0
    for row, col in sorted(writes):
        key = f'r="{address(row, col)}"'
        at = body.find(key, pos)
        while at > 0 and not body[at - 1].isspace():
            at = body.find(key, at + 1)
        if at <= 0:
            return None
        start = body.rfind("<", pos, at)
        m = sheet.cell.match(body, start) if start >= 0 else None
        if m is None or at >= m.start("attrs") + len(m.group("attrs")):  # r="…" must be this tag's own
            return None
        out.append(body[pos:start])
        out.append(sheet.cell_xml(m.group("attrs"), m.group("body") or "", writes[(row, col)],
                                  refs.get((row, col))))
        pos = m.end()
    out.append(body[pos:])
    return "".join(out)


def patch_sheet(xml: bytes, writes: Mapping[tuple[int, int], Any],
                refs: Mapping[tuple[int, int], str] | None = None) -> bytes:
    """``xml`` (a worksheet part) with ``writes`` ((row, col) → value or CLEAR) as cached values, and
    ``refs`` ((row, col) of a written formula cell → A1 area) as the new ``ref`` of those cells' ``<f>``."""
    refs = refs or {}
    if not writes:
        return xml
    text = xml.decode("utf-8")
    m = _SHEET_DATA.search(text)
    if m is None:
        raise ValueError("worksheet without <sheetData>")
    prefix = m.group("p") or ""
    sheet = _Sheet(prefix)
    by_row: dict[int, dict[int, Any]] = {}
    for (r, c), v in writes.items():
        by_row.setdefault(r, {})[c] = v
    if m.group("close"):
        head = text[: m.start()] + m.group(0)[:-2].rstrip() + ">"
        tail = f"</{prefix}sheetData>" + text[m.end():]
        body = ""
    else:
        close = re.compile(rf"</{re.escape(prefix)}sheetData\s*>").search(text, m.end())
        if close is None:
            raise ValueError("worksheet with an unclosed <sheetData>")
        start, end = m.end(), close.start()
        head, tail, body = text[:start], text[end:], text[start:end]
    fast = _by_address(sheet, body, writes, refs)
    if fast is not None:
        return (head + fast + tail).encode("utf-8")
    new_rows = sorted(by_row)
    out: list[str] = [head]
    pos = row = 0
    for rm in sheet.row.finditer(body):
        attrs = rm.group("attrs")
        r = _ROW_R.search(attrs)
        row = int(r.group(1)) if r else row + 1
        while new_rows and new_rows[0] < row:
            n = new_rows.pop(0)
            out.append(body[pos:rm.start()])
            pos = rm.start()
            out.append(sheet.new_row(n, by_row[n]))
        out.append(body[pos:rm.start()])
        pos = rm.end()
        if new_rows and new_rows[0] == row:
            new_rows.pop(0)
            row_refs = {c: a for (r, c), a in refs.items() if r == row}
            inner = sheet.row_body(row, rm.group("body") or "", by_row[row], row_refs)
            out.append(f"<{prefix}row{attrs.rstrip().removesuffix('/')}>{inner}</{prefix}row>")
        else:
            out.append(rm.group(0))
    out.append(body[pos:])
    out.extend(sheet.new_row(n, by_row[n]) for n in new_rows)
    out.append(tail)
    return "".join(out).encode("utf-8")


def patch_workbook(xml: bytes) -> bytes:
    """``xl/workbook.xml`` with ``<calcPr fullCalcOnLoad="1">``: Excel then recalculates everything when
    the file is opened, instead of trusting the values computed here (its own functions, add-in state and
    volatile functions such as TODAY() are then Excel's)."""
    text = xml.decode("utf-8")
    root = _WB_ROOT.search(text)
    prefix = (root.group("p") or "") if root else ""
    p = re.escape(prefix)
    calc = re.compile(rf"<{p}calcPr(?=[\s/>])(?P<attrs>[^>]*?)(?P<close>/?)>").search(text)
    if calc is not None:
        attrs = re.sub(r"""\sfullCalcOnLoad\s*=\s*(?:"[^"]*"|'[^']*')""", "", calc.group("attrs")).rstrip()
        new = f'<{prefix}calcPr{attrs} fullCalcOnLoad="1"{calc.group("close")}>'
        return (text[: calc.start()] + new + text[calc.end():]).encode("utf-8")
    after = re.compile(rf"<{p}(?:{'|'.join(_AFTER_CALC)})(?=[\s/>])|</{p}workbook\s*>").search(text)
    if after is None:
        raise ValueError("workbook.xml without </workbook>")
    new = f'<{prefix}calcPr fullCalcOnLoad="1"/>'
    return (text[: after.start()] + new + text[after.start():]).encode("utf-8")


def copy_zip(zin: zipfile.ZipFile, out: IO[bytes], replace: Mapping[str, bytes]) -> None:
    """The package ``zin`` (the input, already open and checked) with the entries in ``replace`` swapped, every
    entry in its order, name, date, compression and attributes."""
    with zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = replace.get(info.filename)
            if data is None:
                data = zin.read(info)
            zi = zipfile.ZipInfo(info.filename, info.date_time)
            zi.compress_type = info.compress_type
            zi.external_attr = info.external_attr
            zi.create_system = info.create_system
            zi.comment = info.comment
            zout.writestr(zi, data)
        zout.comment = zin.comment

