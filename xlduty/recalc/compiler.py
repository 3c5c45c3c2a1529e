"""One formula shape compiled once by ``formulas``, with what each input is and whether a whole group of
copies can run in one vectorised call.

``formulas`` compiles a formula into a function of its references (about a millisecond). Copies of one
formula down a column differ only in relative references, so the compiled function is shared: each copy
feeds it its own cells. Called with column arrays in place of the relative cells, the engine's numpy
functions compute every copy at once — but only where each function is element-wise in the arguments
that vary (``ELEMENTWISE``); ``SUM(A2, B2)`` over columns would add up the whole column. Anything else
runs per cell through the same compiled function.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

import numpy as np

from xlduty.recalc import _formulas
from xlduty.recalc.refs import MAX_COL, MAX_ROW, Ref, engine_text, external_books, refs, shift, single_ref

# Functions whose result for each element depends only on that element of the listed argument positions
# (None: all positions), so a column of copies can be computed in one call. Each entry is checked against
# the per-cell result in tests/test_recalc.py (which found VALUE, YEAR, MONTH and DAY to fail on arrays).
ELEMENTWISE: dict[str, frozenset[int] | None] = {
    **dict.fromkeys(("+", "-", "*", "/", "^", "&", "=", "<>", "<", ">", "<=", ">=", "U-", "U+", "%"), None),
    **dict.fromkeys(("IF", "IFERROR", "IFNA", "NOT", "ROUND", "ROUNDUP", "ROUNDDOWN", "INT", "TRUNC", "ABS",
                     "MOD", "SIGN", "SQRT", "POWER", "CEILING", "FLOOR", "LEFT", "RIGHT", "MID", "LEN",
                     "UPPER", "LOWER", "TRIM", "ISBLANK", "ISNUMBER", "ISTEXT", "ISERROR", "ISNA", "DATE"), None),
    "VLOOKUP": frozenset({0}),
    "HLOOKUP": frozenset({0}),
    "MATCH": frozenset({0}),
}
# Functions that need the address, not only the value, of a reference argument: they get a Ranges.
_REFERENCE_FUNCS = frozenset({"ROW", "COLUMN", "ROWS", "COLUMNS", ":", ",", " ", "ISREF", "AREAS"})
# Functions that read only the address: a reference used only by them is no dependency (ROW(A1) in A1).
_ADDRESS_FUNCS = frozenset({"ROW", "COLUMN", "ROWS", "COLUMNS"})
_SUFFIX = re.compile(r"<\d+>$")


def _excel_round(mode: str) -> Callable[[float, float], float]:
    """Excel's ROUND/ROUNDDOWN/ROUNDUP/TRUNC: the number to 15 significant digits first, as Excel keeps
    them. The engine rounds the binary value, so ROUNDDOWN(257000*0.056, 0) (= 14391.999999999998 in
    binary) would give 14,391 where Excel and LibreOffice give 14,392 — a yen off in a duty column."""

    def rounded(x: float, digits: float = 0) -> float:
        try:
            return float(Decimal(f"{x:.15g}").quantize(Decimal(1).scaleb(-int(digits)), rounding=mode))
        except InvalidOperation:
            return x  # beyond Decimal's 28 digits: nothing left to round

    return rounded


@cache
def _fixed_functions() -> dict[str, Any]:
    from formulas.functions import wrap_ufunc

    return {name: wrap_ufunc(_excel_round(mode)) for name, mode in (
        ("ROUND", ROUND_HALF_UP), ("ROUNDDOWN", ROUND_DOWN), ("ROUNDUP", ROUND_UP), ("TRUNC", ROUND_DOWN))}


class Registry(Mapping[str, Callable[..., Any]]):
    """Custom functions by upper-case name. ``source`` is a mapping, or a loader called at the first
    lookup: a workbook with only standard functions never imports the default registry."""

    def __init__(self, source: Mapping[str, Callable[..., Any]] | Callable[[], Mapping[str, Callable[..., Any]]]):
        self._source = source
        self._table: dict[str, Callable[..., Any]] | None = None

    def _get_table(self) -> dict[str, Callable[..., Any]]:
        if self._table is None:
            source = self._source if isinstance(self._source, Mapping) else self._source()
            self._table = {k.upper(): v for k, v in source.items()}
        return self._table

    def __getitem__(self, name: str) -> Callable[..., Any]:
        return self._get_table()[name.upper()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get_table())

    def __len__(self) -> int:
        return len(self._get_table())


class ShapeMismatch(Exception):
    """The quick reference scan and the engine disagree about this text: compile each text on its own."""


@dataclass(slots=True)
class Input:
    """One argument of the compiled function.

    ``kind``: ``ref`` (cells: ``sheet`` and ``ref``, relative parts relative to the shape's cell),
    ``value`` (a defined name's constant, or an error for a name that cannot be resolved), ``func`` (a
    custom function's name: ignored, the call goes to ``CustomCall``) or ``none``.
    """

    key: str
    kind: str
    sheet: int | None = None
    ref: Ref | None = None
    value: Any = None
    ranges: bool = False           # pass a formulas Ranges (address + values), not only the values
    address_only: bool = False     # only ROW()/COLUMN()/ROWS()/COLUMNS() read it: not a dependency

    @property
    def varies(self) -> bool:
        return self.kind == "ref" and self.ref is not None and self.ref.is_relative


def call_custom(func: Callable[..., Any], name: str, args: tuple[Any, ...], exceptions: dict[str, str]) -> Any:
    """One call with Excel semantics: an error argument is the result; an exception is #VALUE! (its text
    kept, once per function, for the report)."""
    xl_error = _formulas.error_type()
    for a in args:
        if isinstance(a, xl_error):
            return a
        if isinstance(a, list):
            for row in a:
                for x in row:
                    if isinstance(x, xl_error):
                        return x
    try:
        return func(*args)
    except Exception as exc:
        exceptions.setdefault(name, f"{type(exc).__name__}: {exc}")
        return _formulas.error("#VALUE!")


class CustomCall:
    """A registry function called where the engine would call one of its own.

    Arguments arrive as the engine's values: a single cell becomes a scalar (``None`` when empty), a range
    a list of rows. In a vectorised call (``n`` set), the ``varying`` positions hold one value per copy,
    and the function runs once per copy.
    """

    __slots__ = ("exceptions", "func", "missing", "n", "name", "varying")

    def __init__(self, name: str, func: Callable[..., Any], missing: frozenset[int],
                 exceptions: dict[str, str]) -> None:
        self.name = name
        self.func = func
        self.missing = missing
        self.varying: frozenset[int] = frozenset()
        self.n: int | None = None
        self.exceptions = exceptions

    def __call__(self, _name: Any, *args: Any) -> Any:
        if self.n is None or not self.varying:
            row = tuple(None if i in self.missing else to_python(a) for i, a in enumerate(args))
            return from_python(call_custom(self.func, self.name, row, self.exceptions))
        return self._vector(args, self.n)

    def _rows(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        """Call the function on each row."""
        func, name, exceptions = self.func, self.name, self.exceptions
        return [call_custom(func, name, row, exceptions) for row in rows]

    def _vector(self, args: tuple[Any, ...], n: int) -> Any:
        columns: list[Any] = []
        for i, a in enumerate(args):
            if i in self.missing:
                columns.append([None] * n)
            elif i in self.varying:
                flat = np.asarray(a, dtype=object).ravel()
                if flat.size == 1:
                    flat = np.repeat(flat, n)
                elif flat.size != n:
                    raise NotVectorisable(self.name)
                columns.append([to_python(x) for x in flat.tolist()])
            else:
                columns.append([to_python(a)] * n)
        out = np.empty((n, 1), dtype=object)
        for i, r in enumerate(self._rows(list(zip(*columns, strict=True)))):
            if isinstance(r, list | tuple | np.ndarray):
                value = from_python(r)
                if value.size != 1:
                    raise NotVectorisable(self.name)  # an array result per copy: spill, cell by cell
                r = value.ravel()[0]
            out[i, 0] = _scalar_from_python(r)
        return out.view(_array_type())


class NotVectorisable(Exception):
    """Raised during a vectorised call that cannot stand for per-cell calls; the group runs per cell."""


def _array_type() -> type:
    from formulas.functions import Array

    return Array


def to_python(v: Any) -> Any:
    """An engine value as a custom function's argument: None, float/int, str, bool, list of rows, error."""
    t = type(v)
    if t is float or t is str or t is bool or t is int:
        return v
    if isinstance(v, np.ndarray):
        if v.size == 1:
            return to_python(v.ravel()[0])
        if v.ndim < 2:
            v = v.reshape(1, -1)
        return [[to_python(x) for x in row] for row in v.tolist()]
    if hasattr(v, "ranges") and hasattr(v, "value"):
        return to_python(v.value)
    if v is _formulas.empty():
        return None
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.floating | np.integer):
        return float(v)
    return v


_EPOCH = datetime(1899, 12, 30)


def _scalar_from_python(r: Any) -> Any:
    if r is None:
        return ""
    t = type(r)
    if t is float or t is int:
        f = float(r)
        return f if math.isfinite(f) else _formulas.error("#NUM!")
    if t is str or t is bool or isinstance(r, _formulas.error_type()):
        return r
    if isinstance(r, bool | np.bool_):
        return bool(r)
    if isinstance(r, int | float | Decimal | np.integer | np.floating):
        f = float(r)
        return f if math.isfinite(f) else _formulas.error("#NUM!")
    if isinstance(r, datetime):
        d = r.replace(tzinfo=None) - _EPOCH
        return d.days + d.seconds / 86400 + d.microseconds / 86_400_000_000
    if isinstance(r, date):
        return float((r - _EPOCH.date()).days)
    if isinstance(r, time):
        return (r.hour * 3600 + r.minute * 60 + r.second + r.microsecond / 1e6) / 86400
    if isinstance(r, str):
        return str(r)
    return _formulas.error("#VALUE!")


def from_python(r: Any) -> Any:
    """A custom function's result as an engine value; a list (of rows) becomes a 2-D array."""
    if isinstance(r, list | tuple | np.ndarray):
        rows = [list(x) if isinstance(x, list | tuple | np.ndarray) else [x] for x in r] if len(r) else [[""]]
        if rows and not any(isinstance(x, list | tuple | np.ndarray) for x in r):
            rows = [list(r)]  # a flat list is one row
        width = max(len(row) for row in rows) or 1
        out = np.empty((len(rows), width), dtype=object)
        out[:, :] = _formulas.error("#N/A")
        for i, row in enumerate(rows):
            for j, x in enumerate(row):
                out[i, j] = _scalar_from_python(x)
        return out.view(_array_type())
    return _scalar_from_python(r)


def _name(node_id: str) -> str:
    return _SUFFIX.sub("", node_id).upper()


def _coords(attr: Mapping[str, Any]) -> tuple[int, int, int, int]:
    r1, r2 = int(attr.get("r1") or 0) or 1, int(attr.get("r2") or 0) or MAX_ROW
    c1, c2 = int(attr.get("n1") or 0) or 1, int(attr.get("n2") or 0) or MAX_COL
    return r1, c1, r2, c2


def resolve_name(book: Any, sheet: int, name: str) -> tuple[str, Any]:
    """A defined name as ("ref", (sheet, Ref)) or ("value", constant) or ("error", "#NAME?"), or
    ("external", [workbooks]) when its definition refers to other workbooks."""
    text = book.names.get((sheet, name), book.names.get((None, name)))
    if text is None:
        return "error", "#NAME?"
    linked = external_books(text, getattr(book, "external", ()))
    if linked:
        return "external", linked
    ref = single_ref(text)
    if ref is not None:
        where = sheet if ref.sheet is None else book.sheet_index(ref.sheet)
        if where is None:
            return "error", "#REF!"
        return "ref", (where, Ref(None, ref.r1, ref.c1, ref.r2, ref.c2, True, True, True, True))
    t = text.strip()
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        return "value", t[1:-1].replace('""', '"')
    if t.upper() in ("TRUE", "FALSE"):
        return "value", t.upper() == "TRUE"
    try:
        return "value", float(t)
    except ValueError:
        return "error", "#NAME?"


def _linked_name(where: str, links: Any) -> str:
    """``1`` → the path of externalLink 1; a file name or path as it is."""
    if where.isdigit():
        n = int(where)
        return links[n - 1] if 0 < n <= len(links) else f"[{where}]"
    return where


@dataclass(slots=True)
class Shape:
    """A compiled formula and its inputs; ``row``/``col`` is the cell relative references count from.

    ``literal``: references are taken as written (no copies share it). ``broken``: the engine cannot
    parse or compile it, or it refers to another workbook; its cells get ``#NAME?``. ``unknown``: function
    names neither the engine nor the registry knows (their calls give ``#NAME?``, as in Excel).
    ``external``: the other workbooks it refers to (directly or through a defined name), never read: a
    link's cells would otherwise be taken from this workbook's sheet of the same name.
    """

    text: str
    sheet: int
    row: int
    col: int
    literal: bool
    fn: Any = None
    inputs: list[Input] = field(default_factory=list)
    customs: list[CustomCall] = field(default_factory=list)
    vectorisable: bool = False
    unknown: set[str] = field(default_factory=set)
    broken: str | None = None
    external: list[str] = field(default_factory=list)

    def call(self, args: list[Any], n: int | None = None) -> Any:
        for c in self.customs:
            c.n = n
        return self.fn(*args)


def compile_shape(text: str, sheet: int, row: int, col: int, book: Any,
                  functions: Mapping[str, Callable[..., Any]], exceptions: dict[str, str],
                  literal: bool = False) -> Shape:
    """Compile ``text`` written in (sheet, row, col). Raises ShapeMismatch (only when not ``literal``) if
    its references cannot be matched one to one with the engine's, so copies cannot share it.

    The engine names an input by its cell, so in ``A2*$A$2`` written in row 2 both references are one
    input although only one moves with the copies. Then the formula is compiled as if copied far down the
    sheet, where its relative references land on other cells than its absolute ones.
    """
    try:
        return _compile(text, sheet, row, col, book, functions, exceptions, literal, 0)
    except _Ambiguous:
        far = MAX_ROW // 2 - row if row < MAX_ROW // 2 else -(MAX_ROW // 4)
        try:
            return _compile(text, sheet, row, col, book, functions, exceptions, literal, far)
        except _Ambiguous:
            raise ShapeMismatch(text) from None


class _Ambiguous(ShapeMismatch):
    """One engine input stands for references that move differently between copies."""


def _compile(text: str, sheet: int, row: int, col: int, book: Any, functions: Mapping[str, Callable[..., Any]],
             exceptions: dict[str, str], literal: bool, drow: int) -> Shape:
    formulas = _formulas.load()
    from formulas.tokens.operand import Range

    shape = Shape(text, sheet, row + drow, col, literal)
    links = getattr(book, "external", ())
    shape.external = external_books(text, links)
    if shape.external:
        shape.broken = "a reference to another workbook"
        return shape
    etext = engine_text(text, row, col)
    if drow:
        far = shift(etext, drow, 0)
        if far.count("#REF!") != etext.count("#REF!"):
            raise ShapeMismatch(text)  # a reference would leave the sheet there
        etext = far
    try:
        tokens, builder = formulas.Parser(is_cell=True).ast("=" + etext)
        fn = builder.compile()
    except Exception as exc:
        shape.broken = f"{type(exc).__name__}"
        return shape
    shape.fn = fn

    ref_tokens: dict[str, list[tuple[Ref | None, Mapping[str, Any]]]] = {}
    name_keys: set[str] = set()
    seen: list[Ref | None] = []
    for t in tokens:
        if not isinstance(t, Range):
            continue
        attr = t.attr
        if attr.get("filename") or attr.get("directory"):   # also INDIRECT("'[book.xlsx]S'!A1"), a literal
            where = str(attr.get("directory") or "") + str(attr["filename"] if attr.get("filename") else "")
            linked = _linked_name(where, links)
            if linked not in shape.external:
                shape.external.append(linked)
            continue
        if attr.get("is_reference") and "ref" in attr and "r1" not in attr:
            kind, found = resolve_name(book, sheet, attr["name"])
            if kind == "external":
                shape.external.extend(b for b in found if b not in shape.external)
        if attr.get("is_reference") and "ref" in attr and "r1" not in attr:
            name_keys.add(attr["name"])
            continue
        mine = single_ref(t.source[: t.end_match])
        if mine is not None and (mine.r1, mine.c1, mine.r2, mine.c2) != _coords(attr):
            mine = None
        seen.append(mine)
        ref_tokens.setdefault(attr["name"], []).append((mine, attr))
    if shape.external:
        shape.broken, shape.fn = "a reference to another workbook", None
        return shape
    if not literal:
        scanned = refs(etext)
        if any(len({m for m, _ in v}) > 1 for v in ref_tokens.values()):
            raise _Ambiguous(text)
        if None in seen or [(r.r1, r.c1, r.r2, r.c2, r.ar1, r.ac1, r.ar2, r.ac2) for r in scanned] != [
                (r.r1, r.c1, r.r2, r.c2, r.ar1, r.ac1, r.ar2, r.ac2) for r in seen if r is not None]:
            raise ShapeMismatch(text)

    nodes = fn.dsp.function_nodes
    consumers: dict[str, list[tuple[str, int]]] = {}
    custom_nodes: dict[str, str] = {}
    for node_id, node in nodes.items():
        args = [i for i in node["inputs"] if type(i) is str]
        func = node.get("function")
        if getattr(func, "__name__", "") == "run_function" and args:
            custom_nodes[node_id] = args[0]
            args = args[1:]
        for pos, key in enumerate(args):
            consumers.setdefault(key, []).append((node_id, pos))

    for key in fn.inputs:
        inp = Input(key, "none")
        if key in ref_tokens:
            mine, attr = ref_tokens[key][0]
            r1, c1, r2, c2 = _coords(attr)
            if literal or mine is None:
                mine = Ref(None, r1, c1, r2, c2, True, True, True, True)
            written = attr.get("sheet")
            where = sheet if not written else book.sheet_index(written)
            if where is None:
                inp.kind, inp.value = "value", _formulas.error("#REF!")
            else:
                inp.kind, inp.sheet, inp.ref = "ref", where, mine
        elif key in name_keys:
            kind, found = resolve_name(book, sheet, key)
            if kind == "ref":
                inp.kind, (inp.sheet, inp.ref) = "ref", found
            elif kind == "value":
                inp.kind, inp.value = "value", found
            else:
                inp.kind, inp.value = "value", _formulas.error(found)
                if found == "#NAME?":
                    shape.unknown.add(key)
        elif key in custom_nodes.values():
            inp.kind = "func"
        users = consumers.get(key, [])
        names = {_name(n) for n, _ in users}
        inp.ranges = bool(names & _REFERENCE_FUNCS) and inp.kind == "ref"
        inp.address_only = bool(users) and names <= _ADDRESS_FUNCS
        shape.inputs.append(inp)

    fixed = _fixed_functions()
    for node_id, node in nodes.items():
        if node_id not in custom_nodes and _name(node_id) in fixed:
            node["function"] = fixed[_name(node_id)]
    for node_id, fname in custom_nodes.items():
        func = functions.get(fname)
        if func is None:
            shape.unknown.add(fname)
            continue
        args = [i for i in nodes[node_id]["inputs"] if type(i) is str][1:]
        call = CustomCall(fname, func, frozenset(i for i, a in enumerate(args) if a == ""), exceptions)
        nodes[node_id]["function"] = call
        shape.customs.append(call)

    if not literal:
        shape.vectorisable = _vectorise(shape, nodes, custom_nodes)
    return shape


def _vectorise(shape: Shape, nodes: Mapping[str, Any], custom_nodes: Mapping[str, str]) -> bool:
    """Mark which data vary between copies; True if every function fed varying data is element-wise
    in those arguments (custom calls then know their varying positions)."""
    varying = set()
    for inp in shape.inputs:
        if inp.varies:
            assert inp.ref is not None
            if not inp.ref.is_cell or inp.ranges:
                return False
            varying.add(inp.key)
    if not varying:
        return True
    from schedula import bypass

    calls = {id(c): c for c in shape.customs}
    changed = True
    while changed:
        changed = False
        for node_id, node in nodes.items():
            args = [i for i in node["inputs"] if type(i) is str]
            if node_id in custom_nodes:
                args = args[1:]
            hit = frozenset(i for i, a in enumerate(args) if a in varying)
            if not hit:
                continue
            name = _name(node_id)
            if node_id in custom_nodes:
                call = calls.get(id(node["function"]))
                if call is not None:
                    call.varying = hit
            elif node["function"] is not bypass:  # the engine's alias for a repeated sub-expression
                allowed = ELEMENTWISE.get(name, frozenset())
                if allowed is not None and not hit <= allowed:
                    return False
            for out in node["outputs"]:
                if out not in varying:
                    varying.add(out)
                    changed = True
    return True
