"""Recalculate a read workbook: group copies of each formula, order the groups by what they read, run
each group in one vectorised call where its shape allows, and cell by cell where it does not.

Values are the engine's: float, str, bool, an error, or EMPTY for a blank cell. A formula whose result is
an array fills its array-formula range, or spills into the blank cells right and below (``#SPILL!`` if
one is not blank), like Excel's dynamic arrays. A spill can feed formulas that were ordered before it
was known; then the run is repeated with the spilled cells owned by their formula. A dynamic-array
formula whose spill area is not its stored ``ref`` gets the new area in ``Outcome.refs`` (the writer
sets it), and the cells only the old area covered are cleared.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xlduty.excel.messages import PREFIX
from xlduty.recalc import _formulas
from xlduty.recalc.compiler import NotVectorisable, Registry, Shape, ShapeMismatch, compile_shape
from xlduty.recalc.graph import Index, order
from xlduty.recalc.reader import Book, FormulaCell
from xlduty.recalc.refs import MAX_COL, MAX_ROW, ShapeKeys, address, col_letters

CLEAR = object()
"""Written for a cell that held part of a dynamic array which no longer reaches it: no value."""

_MAX_PASSES = 3
MAX_AREA = 20_000_000
"""Cells one range may span as read (whole columns and rows count up to the book's last used row and column):
a sheet with one value in XFD1048576 must not make SUM(A:XFD) build 17 billion cells."""
BLOCK = 1024
"""Rows per vectorised call when independent groups advance together (see ``_Run.run``)."""


@dataclass
class Outcome:
    """What to write (per sheet index: (row, col) → value or CLEAR; ``refs``: (row, col) of a dynamic-array
    anchor → the A1 area its ``<f ref>`` now spans) and what to report."""

    writes: dict[int, dict[tuple[int, int], Any]]
    cells: int
    errors: int
    unsupported: list[str]
    unknown_functions: list[str]
    exceptions: dict[str, str]
    vectorised: int = 0
    refs: dict[int, dict[tuple[int, int], str]] = field(default_factory=dict)
    external: list[str] = field(default_factory=list)


class AreaTooLarge(ValueError):
    """A range spans more than ``MAX_AREA`` cells."""


@dataclass(slots=True)
class _Group:
    shape: Shape
    cells: list[int] = field(default_factory=list)


def _plain(v: Any) -> Any:
    """An engine result as a cell value: numbers as float, blank as 0 (Excel's =A1 of an empty A1)."""
    t = type(v)
    if t is float:
        return v if math.isfinite(v) else _formulas.error("#NUM!")
    if t is str or t is bool:
        return v
    if v is _formulas.empty():
        return 0.0
    if isinstance(v, _formulas.error_type()):
        return v
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | float | np.integer | np.floating):
        f = float(v)
        return f if math.isfinite(f) else _formulas.error("#NUM!")
    if isinstance(v, str):
        return str(v)
    if isinstance(v, np.ndarray) and v.size == 1:
        return _plain(v.ravel()[0])
    return _formulas.error("#VALUE!")


def _unwrap(res: Any) -> Any:
    """The value of an engine result: a Ranges becomes its values, a one-element array its element."""
    if hasattr(res, "ranges") and hasattr(res, "value"):
        res = res.value
    if isinstance(res, np.ndarray) and res.size == 1 and res.ndim <= 2:
        inner = res.ravel()[0]
        return _unwrap(inner) if isinstance(inner, np.ndarray) else inner
    return res


class _Run:
    """One evaluation pass over the book."""

    def __init__(self, book: Book, groups: list[_Group], cells: list[FormulaCell], group_of: list[int],
                 owned: dict[int, list[tuple[int, int, int, int]]]) -> None:
        self.book = book
        self.groups = groups
        self.cells = cells
        self.group_of = group_of
        self.owned = owned
        self.store = [dict(s.values) for s in book.sheets]
        self.writes: dict[int, dict[tuple[int, int], Any]] = {}
        self.spilled: dict[int, list[tuple[int, int, int, int]]] = {}
        self.refs: dict[int, dict[tuple[int, int], str]] = {}
        self.empty = _formulas.empty()
        self.max_row = max([s.max_row for s in book.sheets] + [a[2] for v in owned.values() for a in v] + [1])
        self.max_col = max([s.max_col for s in book.sheets] + [a[3] for v in owned.values() for a in v] + [1])
        self.areas: dict[tuple[int, int, int, int, int], Any] = {}
        self.vectorised = 0
        self.per_cell: set[int] = set()   # shapes whose vectorised call failed once: per cell from then on
        index_items = []
        for cid, fc in enumerate(cells):
            for r1, c1, r2, c2 in owned.get(cid, [(fc.row, fc.col, fc.row, fc.col)]):
                for r in range(r1, r2 + 1):
                    for c in range(c1, c2 + 1):
                        index_items.append((fc.sheet, r, c, cid))
        self.index = Index(index_items)

    # --- reading ------------------------------------------------------------------------------------------

    def _area(self, sheet: int, r1: int, c1: int, r2: int, c2: int) -> Any:
        r2, c2 = min(r2, max(self.max_row, r1)), min(c2, max(self.max_col, c1))
        key = (sheet, r1, c1, r2, c2)
        hit = self.areas.get(key)
        if hit is None:
            if (r2 - r1 + 1) * (c2 - c1 + 1) > MAX_AREA:
                where = f"{self.book.sheets[sheet].name}!{address(r1, c1)}:{address(r2, c2)}"
                raise AreaTooLarge(f"a formula reads {where}, {(r2 - r1 + 1) * (c2 - c1 + 1):,} cells: xlduty "
                                   f"recalc reads at most {MAX_AREA:,} cells in one range (see README, Limits)")
            get = self.store[sheet].get
            empty = self.empty
            out = np.empty((r2 - r1 + 1, c2 - c1 + 1), dtype=object)
            for i, r in enumerate(range(r1, r2 + 1)):
                out[i, :] = [get((r, c), empty) for c in range(c1, c2 + 1)]
            hit = self.areas[key] = out
        return hit

    def _ranges(self, sheet: int, r1: int, c1: int, r2: int, c2: int, value: Any) -> Any:
        from formulas.ranges import Ranges

        name = self.book.sheets[sheet].name.replace("'", "''")
        ref = f"{col_letters(c1)}{r1}" if (r1, c1) == (r2, c2) else f"{col_letters(c1)}{r1}:{col_letters(c2)}{r2}"
        return Ranges().push(f"'{name}'!{ref}", value)

    def _arg(self, shape: Shape, i: int, drow: int, dcol: int) -> Any:
        inp = shape.inputs[i]
        if inp.kind == "value":
            return inp.value
        if inp.kind != "ref":
            return None
        assert inp.ref is not None and inp.sheet is not None
        r1, c1, r2, c2 = inp.ref.shifted(drow, dcol)
        if not (0 < r1 <= MAX_ROW and 0 < r2 <= MAX_ROW and 0 < c1 <= MAX_COL and 0 < c2 <= MAX_COL):
            return _formulas.error("#REF!")
        if r1 == r2 and c1 == c2:
            value = np.empty((1, 1), dtype=object)
            value[0, 0] = self.store[inp.sheet].get((r1, c1), self.empty)
        else:
            value = self._area(inp.sheet, r1, c1, r2, c2)
        if inp.ranges:
            return self._ranges(inp.sheet, r1, c1, r2, c2, value)
        return value

    # --- writing ------------------------------------------------------------------------------------------

    def _put(self, sheet: int, row: int, col: int, value: Any) -> None:
        if value is CLEAR:
            self.store[sheet].pop((row, col), None)
        else:
            self.store[sheet][(row, col)] = value
        self.writes.setdefault(sheet, {})[(row, col)] = value

    def _blocked(self, cid: int, sheet: int, row: int, col: int) -> bool:
        """A spill target that holds something of its own: a typed value or another formula's cell."""
        owners = set(self.index.hits(sheet, row, col, row, col))
        if owners - {cid}:
            return True
        if owners:
            return False
        return (row, col) in self.book.sheets[sheet].values or (row, col) in self.writes.get(sheet, {})

    def _resize(self, fc: FormulaCell, area: tuple[int, int, int, int]) -> None:
        """A dynamic array now spans ``area``: clear the cells only its stored area covered, and record the
        new ``ref`` when it differs, so that the next read (this engine's or Excel's) finds the spilled cells
        owned by the formula rather than in its way, and no stale value is left behind."""
        old = fc.array or (fc.row, fc.col, fc.row, fc.col)
        for r in range(old[0], old[2] + 1):
            for c in range(old[1], old[3] + 1):
                if not (area[0] <= r <= area[2] and area[1] <= c <= area[3]):
                    self._put(fc.sheet, r, c, CLEAR)
        if area != old:
            r1, c1, r2, c2 = area
            ref = address(r1, c1) if (r1, c1) == (r2, c2) else f"{address(r1, c1)}:{address(r2, c2)}"
            self.refs.setdefault(fc.sheet, {})[(fc.row, fc.col)] = ref

    def _place(self, cid: int, res: Any) -> Any:
        """Write a formula's result; returns the anchor cell's value."""
        fc = self.cells[cid]
        anchor = (fc.row, fc.col, fc.row, fc.col)
        if not (isinstance(res, np.ndarray) and res.size > 1):
            value = _plain(res)
            self._put(fc.sheet, fc.row, fc.col, value)
            if fc.array is not None and fc.dynamic:
                self._resize(fc, anchor)
            elif fc.array is not None:
                r1, c1, r2, c2 = fc.array
                for r in range(r1, r2 + 1):
                    for c in range(c1, c2 + 1):
                        if (r, c) != (fc.row, fc.col):
                            self._put(fc.sheet, r, c, value)
            return value
        arr = np.asarray(res, dtype=object)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        h, w = arr.shape
        if fc.array is not None and not fc.dynamic:  # CSE: the range keeps its size; Excel's #N/A pads
            r1, c1, r2, c2 = fc.array
            for i, r in enumerate(range(r1, r2 + 1)):
                for j, c in enumerate(range(c1, c2 + 1)):
                    ii, jj = (0 if h == 1 else i), (0 if w == 1 else j)
                    v = _plain(arr[ii, jj]) if ii < h and jj < w else _formulas.error("#N/A")
                    self._put(fc.sheet, r, c, v)
            return _plain(arr[0, 0])
        area = (fc.row, fc.col, fc.row + h - 1, fc.col + w - 1)
        if area[2] > MAX_ROW or area[3] > MAX_COL or any(
                self._blocked(cid, fc.sheet, r, c)
                for r in range(area[0], area[2] + 1) for c in range(area[1], area[3] + 1)
                if (r, c) != (fc.row, fc.col)):
            value = _formulas.error("#SPILL!")
            self._put(fc.sheet, fc.row, fc.col, value)
            if fc.dynamic:  # as Excel stores it: the anchor alone, its old spill cells empty
                self._resize(fc, anchor)
            return value
        for i in range(h):
            for j in range(w):
                self._put(fc.sheet, fc.row + i, fc.col + j, _plain(arr[i, j]))
        if fc.dynamic:
            self._resize(fc, area)
        self.spilled.setdefault(cid, []).append(area)
        return self.store[fc.sheet][(fc.row, fc.col)]

    # --- running ------------------------------------------------------------------------------------------

    def run_cell(self, cid: int) -> None:
        fc = self.cells[cid]
        shape = self.groups[self.group_of[cid]].shape
        if shape.broken is not None:
            self._place(cid, _formulas.error("#NAME?"))
            return
        drow, dcol = fc.row - shape.row, fc.col - shape.col
        args = [self._arg(shape, i, drow, dcol) for i in range(len(shape.inputs))]
        try:
            res = _unwrap(shape.call(args))
        except AreaTooLarge:
            raise
        except Exception:  # an engine failure on one cell is that cell's #VALUE!
            res = _formulas.error("#VALUE!")
        self._place(cid, res)

    def _run_vector(self, shape: Shape, ids: list[int]) -> None:
        """Run the cells ``ids`` of one vectorisable shape in one call (NotVectorisable if it cannot)."""
        cells = [self.cells[c] for c in ids]
        n = len(cells)
        args: list[Any] = []
        varies = False
        for i, inp in enumerate(shape.inputs):
            if not inp.varies:
                args.append(self._arg(shape, i, 0, 0))
                continue
            varies = True
            assert inp.ref is not None and inp.sheet is not None
            ref, get, empty = inp.ref, self.store[inp.sheet].get, self.empty
            col = np.empty((n, 1), dtype=object)
            col[:, 0] = [
                get((r, c), empty) if 0 < r <= MAX_ROW and 0 < c <= MAX_COL else _formulas.error("#REF!")
                for r, c in (ref.shifted(fc.row - shape.row, fc.col - shape.col)[:2] for fc in cells)]
            args.append(col)
        if not varies:
            raise NotVectorisable("nothing varies")  # one compiled call per cell is as cheap; keeps RAND() apart
        try:
            res = _unwrap(shape.call(args, n))
        except NotVectorisable:
            raise
        except Exception as exc:  # e.g. a broadcasting error: each cell on its own will tell
            raise NotVectorisable(type(exc).__name__) from exc
        if isinstance(res, np.ndarray):
            if res.shape != (n, 1):
                raise NotVectorisable("shape")
            flat = res[:, 0].tolist()
            if any(isinstance(v, np.ndarray) for v in flat):
                raise NotVectorisable("nested")
        else:
            flat = [res] * n
        for fc, v in zip(cells, flat, strict=True):
            self._put(fc.sheet, fc.row, fc.col, _plain(v))
        self.vectorised += n

    def run(self, steps: list[tuple[str, list[int]]], levels: list[int]) -> None:
        """Run ``steps`` level by level. Within a level nothing depends on anything else, so the vectorised
        groups advance together BLOCK rows at a time: a custom function that caches per row (DUTY and
        CONSUMPTION_TAX of one row share one computation) finds the row still cached."""
        by_level: dict[int, list[int]] = {}
        for i, level in enumerate(levels):
            by_level.setdefault(level, []).append(i)
        for level in sorted(by_level):
            blocks: list[tuple[Shape, list[int]]] = []
            for i in by_level[level]:
                kind, ids = steps[i]
                if kind == "cells":
                    for cid in ids:
                        self.run_cell(cid)
                    continue
                group = self.groups[ids[0]]
                if group.shape.broken is None and group.shape.vectorisable and len(group.cells) > 1:
                    blocks.append((group.shape, group.cells))
                else:
                    for cid in group.cells:
                        self.run_cell(cid)
            for start in range(0, max((len(c) for _, c in blocks), default=0), BLOCK):
                for shape, cells in blocks:
                    part = cells[start:start + BLOCK]
                    if len(part) > 1 and id(shape) not in self.per_cell:
                        try:
                            self._run_vector(shape, part)
                            continue
                        except NotVectorisable:
                            self.per_cell.add(id(shape))
                    for cid in part:
                        self.run_cell(cid)


def _label(book: Book, fc: FormulaCell) -> str:
    return f"{book.sheets[fc.sheet].name}!{address(fc.row, fc.col)}"


def _groups(book: Book, functions: Mapping[str, Callable[..., Any]],
            exceptions: dict[str, str]) -> tuple[list[_Group], list[int]]:
    keyed: dict[tuple[Any, ...], list[int]] = {}
    master_keys: dict[tuple[int, int, int], object] = {}
    keys = ShapeKeys()
    for cid, fc in enumerate(book.formulas):
        if fc.array is not None:
            key: tuple[Any, ...] = ("array", cid)
        elif fc.text is None:
            assert fc.master is not None
            mrow, mcol, mtext = fc.master
            mk = master_keys.get((fc.sheet, mrow, mcol))
            if mk is None:
                mk = master_keys[(fc.sheet, mrow, mcol)] = keys.key(mtext, mrow, mcol)
            key = (fc.sheet, mk)
        else:
            key = (fc.sheet, keys.key(fc.text, fc.row, fc.col))
        keyed.setdefault(key, []).append(cid)
    groups: list[_Group] = []
    group_of = [0] * len(book.formulas)
    literal: dict[tuple[int, str], Shape] = {}
    for key, members in keyed.items():
        rep = book.formulas[members[0]]
        try:
            shape = compile_shape(rep.resolve_text(), rep.sheet, rep.row, rep.col, book, functions, exceptions,
                                  literal=key[0] == "array")
            parts = [(shape, members)]
        except ShapeMismatch:
            by_text: dict[str, list[int]] = {}
            for cid in members:
                by_text.setdefault(book.formulas[cid].resolve_text(), []).append(cid)
            parts = []
            for text, cids in by_text.items():
                fc = book.formulas[cids[0]]
                shape = literal.get((fc.sheet, text))
                if shape is None:
                    shape = literal[(fc.sheet, text)] = compile_shape(text, fc.sheet, fc.row, fc.col, book,
                                                                      functions, exceptions, True)
                parts.append((shape, cids))
        for shape, cids in parts:
            for cid in cids:
                group_of[cid] = len(groups)
            groups.append(_Group(shape, cids))
    return groups, group_of


def _deps(run: _Run) -> list[set[int]]:
    """For each group, the groups owning a cell any copy reads (a box around all copies per reference)."""
    out: list[set[int]] = []
    for group in run.groups:
        deps: set[int] = set()
        shape = group.shape
        cells = [run.cells[c] for c in group.cells]
        drs = [fc.row - shape.row for fc in cells]
        dcs = [fc.col - shape.col for fc in cells]
        lo_r, hi_r, lo_c, hi_c = min(drs), max(drs), min(dcs), max(dcs)
        for inp in shape.inputs:
            if inp.kind != "ref" or inp.address_only:
                continue
            assert inp.ref is not None and inp.sheet is not None
            a = inp.ref.shifted(lo_r, lo_c)
            b = inp.ref.shifted(hi_r, hi_c)
            r1, c1, r2, c2 = min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])
            deps.update(run.group_of[o] for o in run.index.hits(inp.sheet, r1, c1, r2, c2))
        out.append(deps)
    return out


def _cell_deps(run: _Run, cid: int, among: set[int]) -> set[int]:
    fc = run.cells[cid]
    shape = run.groups[run.group_of[cid]].shape
    found: set[int] = set()
    for inp in shape.inputs:
        if inp.kind != "ref" or inp.address_only:
            continue
        assert inp.ref is not None and inp.sheet is not None
        r1, c1, r2, c2 = inp.ref.shifted(fc.row - shape.row, fc.col - shape.col)
        found.update(o for o in run.index.hits(inp.sheet, r1, c1, r2, c2) if o in among)
    return found


def _levels(steps: list[tuple[str, list[int]]], group_deps: list[set[int]], group_of: list[int]) -> list[int]:
    """Each step's level: one more than the highest step it reads (steps come in dependency order)."""
    step_of: dict[int, int] = {}
    members: list[set[int]] = []
    for i, (kind, ids) in enumerate(steps):
        groups = set(ids) if kind == "group" else {group_of[c] for c in ids}
        members.append(groups)
        for g in groups:
            step_of[g] = i
    levels: list[int] = []
    for i, groups in enumerate(members):
        level = 0
        for g in groups:
            for d in group_deps[g]:
                j = step_of[d]
                if j != i:
                    level = max(level, levels[j] + 1)
        levels.append(level)
    return levels


def evaluate(book: Book, functions: Mapping[str, Callable[..., Any]]) -> Outcome:
    """Recalculate every formula of ``book`` with the engine's functions plus ``functions`` (upper-case
    names). Raises graph.CycleError on a circular reference."""
    _formulas.load()
    registry = functions if isinstance(functions, Registry) else Registry(functions)
    return _evaluate(book, registry)


def _evaluate(book: Book, registry: Registry) -> Outcome:
    exceptions: dict[str, str] = {}
    groups, group_of = _groups(book, registry, exceptions)
    cells = book.formulas
    owned: dict[int, list[tuple[int, int, int, int]]] = {
        cid: [fc.array] for cid, fc in enumerate(cells) if fc.array is not None}
    run = None
    for _ in range(_MAX_PASSES):
        run = _Run(book, groups, cells, group_of, owned)
        group_deps = _deps(run)
        steps = order(len(groups), group_deps, lambda g: groups[g].cells,
                      lambda c, among, r=run: _cell_deps(r, c, among), lambda c: _label(book, cells[c]))
        run.run(steps, _levels(steps, group_deps, group_of))
        grown = False
        for cid, areas in run.spilled.items():
            have = owned.setdefault(cid, [])
            for area in areas:
                if not any(a[0] <= area[0] and a[1] <= area[1] and area[2] <= a[2] and area[3] <= a[3] for a in have):
                    have.append(area)
                    grown = True
        if not grown:
            break
    assert run is not None
    xl_error = _formulas.error_type()
    errors = 0
    unsupported: list[str] = []
    unknown: set[str] = set()
    external: list[str] = []
    for cid, fc in enumerate(cells):
        value = run.store[fc.sheet].get((fc.row, fc.col))
        if isinstance(value, xl_error) or (type(value) is str and value.startswith(PREFIX)):   # xlduty's own too
            errors += 1
        shape = groups[group_of[cid]].shape
        if shape.external:
            external.append(f"{_label(book, fc)} ({', '.join(shape.external)})")
        elif shape.broken is not None or shape.unknown:
            unsupported.append(_label(book, fc))
            unknown.update(shape.unknown or {f"(formula the engine cannot parse: {shape.broken})"})
    return Outcome(run.writes, len(cells), errors, unsupported, sorted(unknown), exceptions, run.vectorised,
                   run.refs, external)
