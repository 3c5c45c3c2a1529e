"""The chunk function: rows of whole declarations in, one result per row out. It is all a worker runs, on this machine
(``--engine local``) or on a Dask cluster (``--engine dask``), and what ``compute_frame`` wraps for pandas.

Each declaration is computed by the core (``xlduty.core.engine``) as ``xlduty compute`` computes it; an error in one
declaration is written into its rows' ``error`` column, naming the field (and the input's own header for it), and the
others go on.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from typing import Any

from xlduty.batch.columns import (
    BLANK_RESULT,
    DECLARATION_FIELDS,
    GROUP,
    NESTED_FIELDS,
    Layout,
    blank,
    converter,
    distinct_keys,
    text_cell,
    value_of,
)
from xlduty.core.errors import DataError, InputError

Row = Sequence[Any]


class Outcome:
    """What a chunk gives back: per row its result columns, per declaration its totals record (where asked for), and
    the counts a run's summary adds up (counted as the rows are, not by another pass over them)."""

    __slots__ = ("declarations", "failed_declarations", "failed_rows", "rows", "totals")

    def __init__(self, rows: list[tuple], totals: list[tuple], declarations: int = 0, failed_declarations: int = 0,
                 failed_rows: int = 0) -> None:
        self.rows = rows        # RESULT_COLUMNS + TOTAL_COLUMNS values, per input row
        self.totals = totals    # TOTALS_FILE_COLUMNS values, per declaration
        self.declarations, self.failed_declarations, self.failed_rows = declarations, failed_declarations, failed_rows


def groups(layout: Layout, rows: Sequence[Row], skip: Container[int] = ()) -> list[list[int]]:
    """The declarations of ``rows``: lists of row positions, in the order of their first row. Rows sharing a
    ``declaration`` value form one; a row without one is a declaration alone. Rows in ``skip`` are left out."""
    return [members for _ident, members in _grouped(layout, rows, skip)]


def _grouped(layout: Layout, rows: Sequence[Row], skip: Container[int] = ()) -> list[tuple[str, list[int]]]:
    """``groups``, each with its ``declaration`` value as text (trimmed; empty for a row without one)."""
    g = layout.fields.get(GROUP)
    if g is None:
        return [("", [i]) for i in range(len(rows)) if i not in skip]
    keys = distinct_keys(rows, g)
    if keys is not None:   # every row a declaration of its own
        return [(k, [i]) for i, k in enumerate(keys[0]) if not skip or i not in skip]
    found: dict[Any, list[int]] = {}
    out = []
    for i, row in enumerate(rows):
        if skip and i in skip:
            continue
        key = row[g]
        if type(key) is str:
            key = key.strip()
            if not key:
                out.append(("", [i]))
                continue
        elif blank(key):
            out.append(("", [i]))
            continue
        members = found.get(key)
        if members is None:
            members = found[key] = []
            out.append((key if type(key) is str else str(key).strip(), members))
        members.append(i)
    return out


def _readers(layout: Layout) -> tuple[list[tuple[str, int, Any, bool]], list[tuple[str, str, int, Any]],
                                      list[tuple[str, int]], list[tuple[str, Any]]]:
    """How the chunk function reads each field: a line field (its converter, and whether it is text: a cell empty once
    trimmed is then left out), a nested one, a declaration field, and the declaration fields given for the batch."""
    f = layout.fields
    line = []
    for n, i in f.items():
        if n != GROUP and n not in NESTED_FIELDS and n not in _DECL:
            conv = converter(n)
            line.append((n, i, conv, conv is text_cell))
    nested = [(NESTED_FIELDS[n][0], NESTED_FIELDS[n][1], i, converter(n)) for n, i in f.items() if n in NESTED_FIELDS]
    decl = [(n, i) for n, i in f.items() if n in _DECL]
    defaults = [(n, v) for n, v in layout.defaults.items() if v is not None]
    return line, nested, decl, defaults


_DECL = frozenset(DECLARATION_FIELDS)


def declaration(layout: Layout, rows: Sequence[Row], members: list[int],
                readers: tuple[list, list, list, list] | None = None) -> dict[str, Any]:
    """The declaration its rows make, in the ``xlduty compute`` JSON shape; an ``InputError`` naming the field for a
    declaration field its rows give differently."""
    line_readers, nested_readers, decl_readers, defaults = readers or _readers(layout)
    d: dict[str, Any] = {}
    for name, i in decl_readers:
        value = None
        for m in members:
            cell = rows[m][i]
            if blank(cell):
                continue
            v = value_of(name, cell, layout.label(name))
            if value is None:
                value = v
            elif v != value:
                raise InputError(name, f"the rows of one declaration give different values ({value} and {v})")
        if value is not None:
            d[name] = value
    for name, v in defaults:
        if name not in d:
            d[name] = v
    d["lines"] = [line(rows[m], line_readers, nested_readers) for m in members]
    return d


def line(row: Row, line_readers: list, nested_readers: list) -> dict[str, Any]:
    """The declaration line one row gives, in the ``xlduty compute`` JSON shape (``declaration``'s lines)."""
    ln: dict[str, Any] = {}
    for name, i, conv, plain_text in line_readers:
        cell = row[i]
        if type(cell) is str:   # a CSV's cells: a text field is its cell trimmed, nothing when that is empty
            if plain_text:
                if cell := cell.strip():
                    ln[name] = cell
                continue
            if not cell or cell.isspace():
                continue
        elif cell is None or (type(cell) is float and cell != cell):
            continue
        ln[name] = conv(cell)
    for parent, child, i, conv in nested_readers:
        cell = row[i]
        if not blank(cell):
            ln.setdefault(parent, {})[child] = conv(cell)
    return ln


def _flat(field: str) -> str:
    """``liquor.litres`` → ``liquor_litres`` (the flat column of a nested field)."""
    parent, _, child = field.partition(".")
    for flat, (p, c) in NESTED_FIELDS.items():
        if p == parent and (c == child or (not child and c == "type")):
            return flat
    return parent


def _message(layout: Layout, exc: InputError) -> tuple[int | None, str]:
    """The line an error belongs to (None: the declaration) and its text, the field named as the input names it."""
    field = exc.field
    if field.startswith("lines["):
        at, _, rest = field[6:].partition("]")
        rest = rest.lstrip(".")
        name = _flat(rest) if rest else ""
        label = layout.label(name) if name else ""
        tail = rest[len(name):] if rest.startswith(name) else ""
        return int(at), f"{label}{tail}: {exc.message}" if label else exc.message
    if field:
        head, _, tail = field.partition(".")
        return None, f"{layout.label(head)}{'.' + tail if tail else ''}: {exc.message}"
    return None, exc.message


def compute_chunk(layout: Layout, rows: Sequence[Row], first_row: int = 1,
                  refused: Mapping[int, str] | None = None, *, records: bool = True) -> Outcome:
    """Every declaration of ``rows`` computed; ``first_row``: the number of the first row in the input (data rows
    count from 1), for the totals record and the errors that name another row; ``refused``: rows the reader refused
    (by position), with their error; ``records``: False gives no totals records, only their counts (no totals file
    is written: each declaration's first row carries its totals and warnings)."""
    from xlduty.core.engine import CollectionPaused, engine

    core = engine()
    run = core.compute
    readers = _readers(layout)
    line_readers, nested_readers, decl_readers, defaults = readers
    # where no column gives a declaration field, every declaration has the batch's own (options, defaults): checked
    # once, and a one-line declaration computed from its line alone (``Engine.one_line``), as ``run`` would
    one_line = None if decl_readers else core.one_line(dict(defaults))
    out: list[tuple | None] = [None] * len(rows)
    totals: list[tuple] = []
    said: dict[tuple, str] = {}   # a one-line declaration's warnings cell, by its warnings and notes (``_split``)
    refused = refused or {}
    failed_rows = failed_declarations = 0
    for i, text in refused.items():
        out[i] = (*BLANK_RESULT, text, None, None, None, None, None, None)
        failed_rows += bool(text)
    declarations = _grouped(layout, rows, refused)
    with CollectionPaused():
        for ident, members in declarations:
            try:
                if one_line is not None and len(members) == 1:
                    result = one_line(line(rows[members[0]], line_readers, nested_readers))
                else:
                    result = run(declaration(layout, rows, members, readers))
            except InputError as exc:
                at, text = _message(layout, exc)
                for k, m in enumerate(members):
                    if at is None or k == at:
                        msg = text
                    else:
                        msg = f"not computed: row {first_row + members[at]} of this declaration: {text}"
                    out[m] = (*BLANK_RESULT, msg, None, None, None, None, None, None)
                error = text if at is None else f"row {first_row + members[at]}: {text}"
            except DataError:
                raise
            except Exception as exc:   # a fault of xlduty's own: this declaration fails, the batch goes on
                error = f"internal error (please report it): {type(exc).__name__}: {exc}"
                for m in members:
                    out[m] = (*BLANK_RESULT, error, None, None, None, None, None, None)
            else:
                error = None
            if error is not None:   # every row of the declaration carries an error
                failed_rows += len(members)
                failed_declarations += 1
                if records:
                    totals.append((ident, first_row + members[0], len(members), None, None, None, None, None, None,
                                   None, None, "", error))
                continue
            t = result.totals
            decl_warnings = result.warnings
            lines = result.lines
            numbers = None
            if len(members) == 1 and len(lines) == 1:   # most often: a declaration of one line
                ln = lines[0]
                notes = ln.notes
                if decl_warnings or notes:   # the same on most rows of a kind: worked out once, where no row is named
                    key = (tuple(decl_warnings), tuple(notes))
                    text = said.get(key)
                    if text is None:
                        general, by_line, free = _split(decl_warnings, [first_row + members[0]])
                        text = _cell(general, notes, by_line.get(0))
                        if free:
                            said[key] = text
                else:
                    text = ""
                duty, nat, loc, excise = ln.duty, ln.national_ct, ln.local_ct, ln.excise
                out[members[0]] = (duty, nat, loc, nat + loc, excise, duty + nat + loc + excise, ln.rate,
                                   ln.rate_column, "exempt" if ln.exemption else ln.treatment, text, "",
                                   t.duty, t.national_ct, t.local_ct, t.consumption_tax, t.excise, t.total)
            else:
                first = (t.duty, t.national_ct, t.local_ct, t.consumption_tax, t.excise, t.total)
                numbers = [first_row + m for m in members]   # the file's row of each line
                general, by_line, _free = _split(decl_warnings, numbers)
                for k, (m, ln) in enumerate(zip(members, lines, strict=True)):
                    nat, loc = ln.national_ct, ln.local_ct
                    out[m] = (ln.duty, nat, loc, nat + loc, ln.excise, ln.duty + nat + loc + ln.excise, ln.rate,
                              ln.rate_column, "exempt" if ln.exemption else ln.treatment,
                              _cell(general if k == 0 else [], ln.notes, by_line.get(k)),
                              "", *(first if k == 0 else _NO_TOTALS))
            if not records:
                continue
            treatment = ("exempt" if result.exemption else
                         "simplified" if result.simplified.get("used") else "general")
            if decl_warnings:
                in_rows = "; ".join([_in_rows(w, numbers or [first_row + m for m in members]) for w in decl_warnings])
            else:
                in_rows = ""
            totals.append((ident, first_row + members[0], len(members), t.duty, t.national_ct, t.local_ct,
                           t.consumption_tax, t.excise, t.total, treatment, result.tariff_edition, in_rows, ""))
    return Outcome(out, totals, len(declarations), failed_declarations, failed_rows)  # type: ignore[arg-type]


def _split(warnings: list[str], rows: list[int]) -> tuple[list[str], dict[int, list[str]], bool]:
    """A declaration's warnings split by where they are shown (its lines are the file's ``rows``): those about lines
    on their rows, with the row they name (line labels turned into row numbers), the others (on its first row); and
    whether the texts are the same for any rows (no label turned into a row number), so that a one-line declaration's
    cell may be reused for the rows after it with the same warnings and notes."""
    general: list[str] = []
    by_line: dict[int, list[str]] = {}
    free = True
    for w in warnings:
        if "line " in w and (found := _of_lines(w, rows)) is not None:   # a warning of lines: on their rows
            for k, text in found:
                by_line.setdefault(k, []).append(text)
            m = _LINE.match(w)
            if m is None or "line" in w[m.end():]:
                free = False
            continue
        general.append(w)
    return general, by_line, free


def _cell(general: list[str], notes: list[str], mine: list[str] | None) -> str:
    """A row's warnings cell: the declaration's warnings shown there (``general``), its line's notes, and the
    warnings about its line (``mine``) that its notes do not already say."""
    said = general + notes if not mine else general + notes + [x for x in mine if x not in notes]
    return "; ".join(said)


_NO_TOTALS = (None, None, None, None, None, None)
_LINE = re.compile(r"^line ([0-9]+): ")
_LINES = re.compile(r"\(lines? ([0-9]+(?:, [0-9]+)*)\)")


def _of_lines(warning: str, rows: list[int]) -> list[tuple[int, str]] | None:
    """The lines a declaration's warning is about (``line 2: …`` of the core, or ``… (line 1, 3)``), each with the
    text its row shows: the core counts a declaration's lines from 0, a batch its file's rows from 1 below the header,
    so the text names rows (``row 9``); on the line's own row its leading label is left out. None: not a line's."""
    m = _LINE.match(warning)
    if m is not None:
        k = int(m.group(1))
        return [(k, _in_rows(warning[m.end():], rows))] if k < len(rows) else None
    m = _LINES.search(warning)
    if m is None:
        return None
    ks = [int(x) for x in m.group(1).split(", ")]
    if any(k >= len(rows) for k in ks):
        return None
    text = _in_rows(warning, rows)
    return [(k, text) for k in ks]


def _in_rows(warning: str, rows: list[int]) -> str:
    """``warning`` with its line labels as the file's rows: ``line 2: …`` → ``row 9: …``, ``(line 1, 3)`` →
    ``(rows 8, 10)``."""
    if "line" not in warning:   # neither label is in it
        return warning

    def one(k: str) -> str:
        i = int(k)
        return str(rows[i]) if i < len(rows) else k

    warning = _LINE.sub(lambda m: f"row {one(m.group(1))}: ", warning)
    return _LINES.sub(lambda m: "(row{} {})".format("s" if "," in m.group(1) else "",
                                                     ", ".join(one(k) for k in m.group(1).split(", "))), warning)
