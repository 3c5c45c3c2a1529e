"""A1 references found in formula text by one regular expression, without a full parse.

A full parse costs about a millisecond; this scan costs microseconds, so every formula cell can be keyed
by its relative (R1C1) shape, and shared formulas can be shifted to their cells, before the formula
engine parses one representative per shape. Anything the scan does not recognise is kept as text: two
formulas then merely fail to share a key, never share a wrong one (``compiler`` also checks the scan
against the engine's own tokens).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ROW = 1_048_576
MAX_COL = 16_384

_REF = r"""
    (?P<sheet>(?:'(?:[^']|'')+'|[A-Za-z_\\][\w.]*)!)?
    (?: (?P<ac1>\$?)(?P<c1>[A-Za-z]{1,3})(?P<ar1>\$?)(?P<r1>[0-9]+)
        (?::(?P<ac2>\$?)(?P<c2>[A-Za-z]{1,3})(?P<ar2>\$?)(?P<r2>[0-9]+))?
      | (?P<acc1>\$?)(?P<cc1>[A-Za-z]{1,3}):(?P<acc2>\$?)(?P<cc2>[A-Za-z]{1,3})
      | (?P<arr1>\$?)(?P<rr1>[0-9]+):(?P<arr2>\$?)(?P<rr2>[0-9]+)
    )"""
# String literals and quoted sheet names are matched whole so nothing inside them is taken for a
# reference; a reference may not start inside a word (LOG10) nor end before one, "(" or "!".
_FIND = re.compile(
    rf"""
      (?P<str>"(?:[^"]|"")*")
    | (?<![\w.$!'\]\\])(?P<ref>{_REF})(?![\w.(!\[\#])
    | (?P<quoted>'(?:[^']|'')*')
    """,
    re.X | re.S,
)
_ENGINE = re.compile(
    r"""(?P<str>"(?:[^"]|"")*")
      |(?P<addin>(?:\[[0-9]+\]|'[^']*\.xla[m]?')!)(?=[A-Za-z_][\w.]*\()
      |(?P<quoted>'(?:[^']|'')*')
      |(?<![\w.])(?P<prefix>(?:_xlfn\.|_xlws\.|_xll\.)+)
      |(?<![\w.])(?P<self>ROW|COLUMN)\(\s*\)""",
    re.X | re.I | re.S,
)
_CELL = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)")
# References into other workbooks, as stored ([1]Sheet1!A1, '[1]My sheet'!A1, [1]!Name) or as typed
# ('[other.xlsx]Sheet1'!A1, 'C:\data\[other.xlsx]Sheet1'!A1, 'C:\data\other.xlsx'!Name). A sheet name
# cannot hold [ ] \ / : ? *, so a quoted prefix with a bracket or a path separator names another workbook.
# Not references: string literals, a table's structured reference (Table1[[#This Row],[Col]]), and an
# add-in's function ([1]!DUTY( or 'C:\…\xlduty.xlam'!DUTY(, which engine_text strips); [0] is this workbook.
_EXTERNAL = re.compile(
    r"""(?P<str>"(?:[^"]|"")*")
      |(?P<table>[A-Za-z_\\][\w.\\]*\[(?:[^\[\]]|\[[^\[\]]*\])*\])
      |'(?P<quoted>(?:[^']|'')*)'!(?P<qcall>[A-Za-z_][\w.]*\()?
      |\[(?P<book>[^\[\]]*)\](?P<sheet>[^\W\d][\w.]*)?!(?P<call>[A-Za-z_][\w.]*\()?""",
    re.X | re.S)


@dataclass(frozen=True, slots=True)
class Ref:
    """One reference as written: corners (1-based), which parts carry ``$``, and the sheet if named.

    A whole column ``A:A`` spans rows 1..MAX_ROW with absolute rows; a whole row likewise for columns.
    """

    sheet: str | None
    r1: int
    c1: int
    r2: int
    c2: int
    ar1: bool
    ac1: bool
    ar2: bool
    ac2: bool

    @property
    def is_cell(self) -> bool:
        return self.r1 == self.r2 and self.c1 == self.c2

    @property
    def is_relative(self) -> bool:
        return not (self.ar1 and self.ac1 and self.ar2 and self.ac2)

    def shifted(self, drow: int, dcol: int) -> tuple[int, int, int, int]:
        """Corners for a copy of the formula ``drow``/``dcol`` away (absolute parts stay)."""
        return (self.r1 if self.ar1 else self.r1 + drow, self.c1 if self.ac1 else self.c1 + dcol,
                self.r2 if self.ar2 else self.r2 + drow, self.c2 if self.ac2 else self.c2 + dcol)


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def address(row: int, col: int) -> str:
    return f"{col_letters(col)}{row}"


def parse_cell(text: str) -> tuple[int, int] | None:
    """``"B12"`` → (12, 2); ``None`` for anything else."""
    m = _CELL.fullmatch(text)
    if not m:
        return None
    return int(m.group(4)), col_index(m.group(2))


def unquote_sheet(prefix: str) -> str:
    """``'My ''x'' sheet'!`` or ``Sheet1!`` → the sheet name."""
    name = prefix[:-1]
    if name.startswith("'"):
        name = name[1:-1].replace("''", "'")
    return name


_GROUPS = ("sheet", "ac1", "c1", "ar1", "r1", "ac2", "c2", "ar2", "r2", "acc1", "cc1", "acc2", "cc2",
           "arr1", "rr1", "arr2", "rr2")
_cols: dict[str, int] = {}


def _col(letters: str) -> int:
    n = _cols.get(letters)
    if n is None:
        n = _cols[letters] = col_index(letters)
    return n


Parts = tuple[str | None, int, int, int, int, bool, bool, bool, bool]


def _parts(m: re.Match[str]) -> Parts | None:
    """(sheet prefix as written, r1, c1, r2, c2, $r1, $c1, $r2, $c2) of a reference match, corners ordered."""
    sheet, ac1, c1, ar1, r1, ac2, c2, ar2, r2, acc1, cc1, acc2, cc2, arr1, rr1, arr2, rr2 = m.group(*_GROUPS)
    if c1 is not None:
        if c2 is None:
            ac2, c2, ar2, r2 = ac1, c1, ar1, r1
        p: Parts = (sheet, int(r1), _col(c1), int(r2), _col(c2), ar1 == "$", ac1 == "$", ar2 == "$", ac2 == "$")
    elif cc1 is not None:
        p = (sheet, 1, _col(cc1), MAX_ROW, _col(cc2), True, acc1 == "$", True, acc2 == "$")
    else:
        p = (sheet, int(rr1), 1, int(rr2), MAX_COL, arr1 == "$", True, arr2 == "$", True)
    _, pr1, pc1, pr2, pc2, f1, g1, f2, g2 = p
    if not (0 < pr1 <= MAX_ROW and 0 < pr2 <= MAX_ROW and 0 < pc1 <= MAX_COL and 0 < pc2 <= MAX_COL):
        return None  # e.g. a name such as ABCD1 that only looks like a cell
    if pr1 > pr2:
        pr1, pr2, f1, f2 = pr2, pr1, f2, f1
    if pc1 > pc2:
        pc1, pc2, g1, g2 = pc2, pc1, g2, g1
    return sheet, pr1, pc1, pr2, pc2, f1, g1, f2, g2


def _ref(m: re.Match[str]) -> Ref | None:
    p = _parts(m)
    if p is None:
        return None
    sheet = unquote_sheet(p[0]) if p[0] else None
    return Ref(sheet, *p[1:])


def refs(text: str) -> list[Ref]:
    """The references of ``text`` in order of appearance."""
    out = []
    for m in _FIND.finditer(text):
        if m.group("ref") is not None:
            r = _ref(m)
            if r is not None:
                out.append(r)
    return out


def single_ref(text: str) -> Ref | None:
    """``text`` is exactly one reference (a defined name's definition such as ``Rates!$A$2:$B$99``)."""
    text = text.strip()
    m = _FIND.match(text)
    if m and m.group("ref") is not None and m.end() == len(text):
        return _ref(m)
    return None


def shape_key(text: str, row: int, col: int) -> str:
    """``text`` (written in row, col) with each reference in R1C1 form: copies of a formula share it."""

    def one(m: re.Match[str]) -> str:
        if m.group("ref") is None:
            return m.group(0)
        p = _parts(m)
        if p is None:
            return m.group(0)
        sheet, r1, c1, r2, c2, f1, g1, f2, g2 = p
        return "".join((
            sheet.upper() if sheet else "",
            f"R{r1}" if f1 else f"R[{r1 - row}]", f"C{c1}" if g1 else f"C[{c1 - col}]", ":",
            f"R{r2}" if f2 else f"R[{r2 - row}]", f"C{c2}" if g2 else f"C[{c2 - col}]",
        ))

    return _FIND.sub(one, text)


_RUN = re.compile(r"[0-9]+")


class ShapeKeys:
    """Shape keys for many formulas at near C speed.

    Copies of a formula share their text with the digits taken out (the template); what differs is the
    digits of relative rows and, across columns, the letters (which stay in the template). The first
    formula of each template is scanned once to learn which digit runs are relative rows and whether any
    column is relative; then a formula's key is its template, its digit runs with relative rows made
    relative to its own row, and its column if columns are relative. Formulas with equal keys have equal
    ``shape_key``s; copies along a row (other letters) get keys of their own, and so groups of their own.
    """

    def __init__(self) -> None:
        self._learnt: dict[str, tuple[frozenset[int], bool, int] | None] = {}

    @staticmethod
    def _learn(text: str) -> tuple[frozenset[int], bool, int] | None:
        starts = {m.start(): i for i, m in enumerate(_RUN.finditer(text))}
        rel_rows: set[int] = set()
        rel_col = False
        for m in _FIND.finditer(text):
            if m.group("ref") is None or _parts(m) is None:
                continue
            for digits, dollar in (("r1", "ar1"), ("r2", "ar2"), ("rr1", "arr1"), ("rr2", "arr2")):
                if m.group(digits) is not None and not m.group(dollar):
                    if m.start(digits) not in starts:
                        return None
                    rel_rows.add(starts[m.start(digits)])
            rel_col = rel_col or any(m.group(c) is not None and not m.group(d)
                                     for c, d in (("c1", "ac1"), ("c2", "ac2"), ("cc1", "acc1"), ("cc2", "acc2")))
        return frozenset(rel_rows), rel_col, len(starts)

    def key(self, text: str, row: int, col: int) -> tuple[object, ...]:
        template = _RUN.sub("#", text)
        if template in self._learnt:
            learnt = self._learnt[template]
        else:
            learnt = self._learnt[template] = self._learn(text)
        if learnt is None:
            return ("text", shape_key(text, row, col))
        rel_rows, rel_col, count = learnt
        runs = _RUN.findall(text)
        if len(runs) != count:
            return ("text", shape_key(text, row, col))
        if rel_rows:
            runs = [int(v) - row if i in rel_rows else v for i, v in enumerate(runs)]
        return template, col if rel_col else 0, tuple(runs)


def external_books(text: str, links: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The other workbooks ``text`` (formula text or a defined name's definition) refers to, in order, each
    once: ``[n]`` as ``links[n - 1]`` (the workbook's externalLink paths) when known; [] for none."""
    found: list[str] = []
    for m in _EXTERNAL.finditer(text):
        quoted, book = m.group("quoted"), m.group("book")
        if quoted is not None and m.group("qcall") is None:
            name = quoted.replace("''", "'")
            if not any(ch in name for ch in "[]\\/"):
                continue   # this workbook's sheet (or sheets: 'Jan:Mar'!)
            if "[" in name and "]" in name:
                folder, _, rest = name.partition("[")
                book = rest.partition("]")[0]
                where = _linked(book, links) if book.isdigit() else folder + book
            else:
                where = name
        elif book is not None and m.group("call") is None and book.strip() != "0":
            book = book.strip()
            where = _linked(book, links) if book.isdigit() else book
        else:
            continue
        if where not in found:
            found.append(where)
    return found


def _linked(index: str, links: list[str] | tuple[str, ...]) -> str:
    n = int(index) if index.isdigit() else 0
    return links[n - 1] if 0 < n <= len(links) else f"[{index}]"


def engine_text(text: str, row: int, col: int) -> str:
    """``text`` for the formula engine: without the prefixes Excel stores before newer and add-in function
    names (``_xlfn.``, ``_xlws.``, ``_xll.``, an add-in's ``[1]!`` or ``'…\\addin.xlam'!``), and with
    ``ROW()``/``COLUMN()`` given their own cell, which the engine can only know as an argument."""

    def one(m: re.Match[str]) -> str:
        if m.group("prefix") is not None or m.group("addin") is not None:
            return ""
        if m.group("self") is not None:
            return f"{m.group('self')}({address(row, col)})"
        return m.group(0)

    return _ENGINE.sub(one, text)


def shift(text: str, drow: int, dcol: int) -> str:
    """``text`` copied ``drow`` rows and ``dcol`` columns away (a shared formula's child cell)."""

    def one(m: re.Match[str]) -> str:
        if m.group("ref") is None or _parts(m) is None:
            return m.group(0)
        g = m.group
        if g("c1") is not None:
            parts = [_cell(g("ac1"), g("c1"), g("ar1"), g("r1"), drow, dcol)]
            if g("c2") is not None:
                parts.append(_cell(g("ac2"), g("c2"), g("ar2"), g("r2"), drow, dcol))
        elif g("cc1") is not None:
            parts = [_axis(g("acc1"), _col(g("cc1")), dcol, True), _axis(g("acc2"), _col(g("cc2")), dcol, True)]
        else:
            parts = [_axis(g("arr1"), int(g("rr1")), drow, False), _axis(g("arr2"), int(g("rr2")), drow, False)]
        if "#REF!" in parts:
            return "#REF!"
        return (g("sheet") or "") + ":".join(parts)

    return _FIND.sub(one, text)


def _cell(ac: str, c: str, ar: str, r: str, drow: int, dcol: int) -> str:
    cn = _col(c) if ac else _col(c) + dcol
    rn = int(r) if ar else int(r) + drow
    if not (0 < rn <= MAX_ROW and 0 < cn <= MAX_COL):
        return "#REF!"
    return f"{ac}{col_letters(cn)}{ar}{rn}"


def _axis(dollar: str, n: int, delta: int, is_col: bool) -> str:
    if not dollar:
        n += delta
    if not (0 < n <= (MAX_COL if is_col else MAX_ROW)):
        return "#REF!"
    return f"{dollar}{col_letters(n) if is_col else n}"
