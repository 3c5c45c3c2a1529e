"""Rate plans: when the rate selection of 定率法基本通達3-1 (``selection.select_rate``) must pick the same rate for
every line of one tariff line, origin, claim and date, whatever its value and quantity, so that the winner can be
selected once and only each line's duty worked out.

- ``value_free``: every rate the selection may read is proportional to the value (free, a percentage, or one that
  always declines): the winner is the same at every taxable value above 0. Its duty is then taxable value × ``ratio``
  in exact integers where the rate is a plain percentage.
- ``ordered``: every two rates it may read are equal, or one is below the other at every value and quantity above 0
  (WTO 29.8%-or-23-yen/kg against general 35%-or-27-yen/kg): each comparison, each note and so the winner are the
  same for every such line.
- ``origin_free``: no rate it may read names countries (a branch for a party: 「…に対する待遇」), no coverage it
  relies on is unverified (its mark names the origin) and GSP is not claimed (its exclusion looks up the origin's
  EPAs): every origin whose coverage is the same (``selection.coverage``: the same columns, notes and marks) then gets
  the same winner, notes and marks, and a plan found for one origin serves the others.
- ``read_cells``: the columns the selection may read under a coverage and a line's cells there; it reads nothing else
  of a line not banded by value, so a plan found for one line serves every line printing the same there (for the
  same origin, where the plan is not origin-free), and so do the two facts above (``under``).

tests/test_rate_plans.py checks both against fresh selection over real lines; tests/test_fast_path.py checks whole
results.
"""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from xlduty.core.cache import remember
from xlduty.core.rate import (
    ZERO,
    AdValorem,
    Branch,
    Branches,
    Compound,
    Free,
    HigherOf,
    Noted,
    Rate,
    Specific,
    proportional,
)
from xlduty.core.rounding import percent_fraction, quantity_decimals
from xlduty.core.schedule import TariffLine
from xlduty.core.selection import Coverage


def plan_key(tariff: TariffLine, origin: str | None, claim: bool | str, on: date, in_quota: bool,
             condition: str | None, whole: bool) -> tuple:
    """The key a winner is remembered by (``FastPath.plans``): the line (its edition, code and description: a code
    may have seasonal lines), the origin, claim and date, the quota and condition, and whether no quantity is given."""
    return tariff.edition, tariff.code, tariff.description, origin, claim, on, in_quota, condition, whole


def ratio(rate: Rate) -> tuple[int, int] | None:
    """A plain percentage (or free) as a fraction of the taxable value, when Decimal would compute it exactly (once
    per rate object: the parser gives one object per rate text)."""
    found = _RATIOS.get(id(rate))
    if found is not None and found[0] is rate:
        return found[1]
    share = _ratio(rate)
    if len(_RATIOS) >= 1 << 14:
        _RATIOS.clear()
    _RATIOS[id(rate)] = rate, share
    return share


_RATIOS: dict[int, tuple[Rate, tuple[int, int] | None]] = {}   # by id: the rate is kept, and compared


def _ratio(rate: Rate) -> tuple[int, int] | None:
    rate = _strip(rate)
    if isinstance(rate, Free):
        return 0, 1
    if isinstance(rate, AdValorem) and len(rate.percent.as_tuple().digits) <= 6:
        return percent_fraction(rate.percent)
    return None


def value_free(line: TariffLine, cover: Coverage) -> bool:
    """True if the winner of ``select_rate`` cannot depend on the taxable value (above 0) or the quantity: every
    column it may read is ``proportional`` (so, at once, where every cell of the line is: ``_line_facts``)."""
    return _free(line, cover)[0]


def origin_free(line: TariffLine, cover: Coverage) -> bool:
    """True if ``select_rate`` for the line under ``cover`` cannot read the origin itself, only its coverage: no
    column it may read has a rate that branches by country of origin, no claimed column's coverage is unverified
    (the mark names the origin) and GSP is not among the claimed columns (its exclusion reads the origin's EPAs)."""
    return _free(line, cover)[1]


def _free(line: TariffLine, cover: Coverage) -> tuple[bool, bool]:
    """(``value_free``, ``origin_free``), the columns the coverage reads (``_facts``) read once for both, and only
    where the line's cells as a whole do not decide (``_line_facts``)."""
    proportional_, reads = _line_facts(line)
    facts = None
    if not proportional_:
        facts = _facts(line, cover)
        proportional_ = all(f[0] for f in facts)
    marked = _MARKED.get(cover)
    if marked is None:
        marked = any(unverified or column == "rate_gsp" for column, _name, unverified in cover.columns)
        if len(_MARKED) >= 1 << 12:
            _MARKED.clear()
        _MARKED[cover] = marked
    if marked:
        return proportional_, False
    if reads:
        reads = any(f[1] for f in (_facts(line, cover) if facts is None else facts))
    return proportional_, not reads


_MARKED: dict[Coverage, bool] = {}   # whether a coverage claims GSP or a column of unverified coverage


def _line_facts(line: TariffLine) -> tuple[bool, bool]:
    """Whether every printed cell of the line is known to be ``proportional``, and whether any may read the origin:
    worked out once per line (by the line object, then by its cells: lines of one heading often print the same), so
    that a new origin or claim of a known line, whose coverage reads a subset of the cells, is decided without reading
    its columns again where the whole line decides it. A cell is known without parsing it where it prints a plain
    percentage or 無税 (``_PLAIN``), or from its rate's facts where it was parsed before; any other counts as neither
    proportional nor free of the origin, and the columns the coverage reads then decide (``_facts``), so that no cell
    is parsed only for this."""
    found = _LINE_FACTS.get(id(line))
    if found is not None and found[0] is line:
        return found[1]
    cells = line.cells
    facts = _CELL_FACTS.get(cells)
    if facts is None:
        proportional_, reads = True, False
        known = _TEXT_FACTS.get
        plain = _PLAIN.fullmatch
        for text in cells:
            if text:
                rate_facts = known(text)
                if rate_facts is None:
                    if plain(text) is None:
                        proportional_, reads = False, True
                        break
                    rate_facts = _TEXT_FACTS[text] = _PLAIN_FACTS
                if not rate_facts[0]:
                    proportional_ = False
                if rate_facts[1]:
                    reads = True
        facts = proportional_, reads
        if len(_CELL_FACTS) >= 1 << 15:
            _CELL_FACTS.clear()
        _CELL_FACTS[cells] = facts
    if len(_LINE_FACTS) >= 1 << 15:
        _LINE_FACTS.clear()
    _LINE_FACTS[id(line)] = line, facts
    return facts


_PLAIN = re.compile(r"無税|[0-9]+(?:\.[0-9]+)?%")
_PLAIN_FACTS = (True, False)   # a plain percentage or free: proportional, and reads no origin
_CELL_FACTS: dict[tuple[str | None, ...], tuple[bool, bool]] = {}   # by the cells (facts of their texts only)
_LINE_FACTS: dict[int, tuple[TariffLine, tuple[bool, bool]]] = {}   # by id: the line is kept, and compared


def _facts(line: TariffLine, cover: Coverage) -> list[tuple[bool, bool]]:
    """For each rate ``select_rate`` may read for the line: whether it is ``proportional`` and whether it reads the
    origin (``_reads_origin``), worked out once per rate text (a text no parser knows is a Manual rate here)."""
    out = []
    for column in _read(line, cover):
        text = line.text(column)
        if text:
            out.append(_text_facts(line, column, text))
    return out


def _text_facts(line: TariffLine, column: str, text: str) -> tuple[bool, bool]:
    """(``proportional``, ``_reads_origin``) of the rate of a cell, once per rate text."""
    facts = _TEXT_FACTS.get(text)
    if facts is None:
        rate = line.rate(column)
        facts = (proportional(rate), _reads_origin(rate))   # type: ignore[arg-type]
        if len(_TEXT_FACTS) >= 1 << 14:
            _TEXT_FACTS.clear()
        _TEXT_FACTS[text] = facts
    return facts


_TEXT_FACTS: dict[str, tuple[bool, bool]] = {}


def _reads_origin(value: object) -> bool:
    """True if a rate (or any rate inside it) has branches for parties (``Branches.candidates`` reads the origin)."""
    if isinstance(value, Branches) and any(br.parties or br.other_parties for br in value.branches):
        return True
    if isinstance(value, Rate | Branch):
        names = _FIELD_NAMES.get(type(value))
        if names is None:   # the fields that may hold rates (a dataclass's fields() is slow to ask for every rate)
            names = _FIELD_NAMES[type(value)] = tuple(f.name for f in fields(value))  # type: ignore[arg-type]
        for name in names:
            inner = getattr(value, name)
            if isinstance(inner, Rate | Branch | tuple) and _reads_origin(inner):
                return True
        return False
    if isinstance(value, tuple):
        return any(_reads_origin(v) for v in value)
    return False


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _read(line: TariffLine, cover: Coverage) -> list[str]:
    """The columns ``select_rate`` may read for a line: the temporary rate, the general rate unless the temporary one
    always applies, the WTO rate if the origin has it, the claimed preferences and, when GSP is among them, the EPA
    columns (its exclusion)."""
    temporary = line.rate("rate_temporary")
    columns = ["rate_temporary"]
    if temporary is None or not isinstance(_strip(temporary), AdValorem | Free):
        columns.append("rate_general")
    return columns + _covered(cover, line.columns)


def _covered(cover: Coverage, columns: tuple[str, ...]) -> list[str]:
    """The columns beyond the temporary and general rates that ``select_rate`` may read under ``cover``, of a line
    with ``columns``: the WTO rate if the origin has it, the claimed preferences and, when GSP is among them, the EPA
    columns (its exclusion). ``_read`` and ``read_cells`` both take them from here: lines that agree in these cells
    share a winner, so a column read but not compared would give one line another's duty."""
    names = ["rate_wto"] if cover.wto_ok else []
    if cover.claimed:
        names += [c for c, _name, _unverified in cover.columns]
        if "rate_gsp" in names:
            names += [c for c in columns if c.startswith("epa_")]
    return names


def under(line: TariffLine, cover: Coverage) -> tuple[tuple[tuple[str, ...], tuple[str | None, ...]], bool, bool]:
    """``read_cells``, ``value_free`` and ``origin_free`` of a line under a coverage, worked out once for the pair
    (the first line of a code under a coverage asks for them twice or more: ``FastPath.shared_key``, ``_select``)."""
    found = _UNDER.get((id(line), id(cover)))
    if found is not None and found[0] is line and found[1] is cover:
        return found[2]
    read = read_cells(line, cover)
    free = _FREE.get((read, cover))
    if free is None:   # both are decided by the cells read (``_free``): lines printing the same there share them
        free = remember(_FREE, (read, cover), _free(line, cover), 1 << 14)
    facts = read, free[0], free[1]
    remember(_UNDER, (id(line), id(cover)), (line, cover, facts), 1 << 15)
    return facts


_UNDER: dict[tuple[int, int], tuple[TariffLine, Coverage, Any]] = {}   # by ids: the line and coverage kept, compared
_FREE: dict[tuple, tuple[bool, bool]] = {}   # by the columns read, the cells there and the coverage


def read_cells(line: TariffLine, cover: Coverage) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    """The columns ``select_rate`` may read for a line under ``cover`` and the line's cells in them: the columns of
    ``_read``, the general rate always (whatever kind of temporary rate the line has). The winner, its notes and marks
    depend on nothing else of a line not banded by value, so lines printing the same there share a plan
    (``FastPath.shared``), whatever they print in the columns the coverage does not read."""
    columns = line.columns
    found = _READ.get((id(columns), cover))
    if found is None or found[0] is not columns:
        names = ["rate_temporary", "rate_general", *_covered(cover, columns)]
        read = tuple(n for n in names if n in columns)
        indexes = [columns.index(n) for n in read]
        # an itemgetter of one index gives the item, not a 1-tuple: the cells are read as a slice then
        getter = itemgetter(*indexes) if len(indexes) > 1 else (lambda cells: tuple(cells[i] for i in indexes))
        found = remember(_READ, (id(columns), cover), (columns, read, getter), 1 << 12)
    return found[1], found[2](line.cells)


_READ: dict[tuple[int, Coverage], tuple[tuple[str, ...], tuple[str, ...], Any]] = {}
# by the id of a schedule's columns (kept, and compared) and coverage: the columns read and a getter of their cells


_Shape = tuple[str, Decimal, Decimal, Any]   # (av | sum | max, percent, yen, (unit, per, decimals kept) or None)


def _shape(rate: Rate) -> _Shape | None:
    """A rate of the forms ``ordered`` compares: free, a percentage, a percentage plus or higher-of yen per unit;
    None for any other."""
    rate = _strip(rate)
    if isinstance(rate, Free):
        return "av", ZERO, ZERO, None
    if isinstance(rate, AdValorem):
        return "av", rate.percent, ZERO, None
    if isinstance(rate, Compound) and len(rate.parts) == 2:
        op, parts = "sum", rate.parts
    elif isinstance(rate, HigherOf) and rate.cap is None and len(rate.options) == 2:
        op, parts = "max", rate.options
    else:
        return None
    percent = [p for p in parts if type(p) is AdValorem]
    specific = [p for p in parts if type(p) is Specific]
    if len(percent) != 1 or len(specific) != 1:
        return None
    sp = specific[0]
    return op, percent[0].percent, sp.yen, (sp.unit, sp.per, quantity_decimals(sp.yen))


def _below(f: _Shape, g: _Shape) -> bool:
    """True if ``f`` gives less than ``g`` at every taxable value above 0 and every quantity (the same truncated
    quantity Q feeds both yen parts: same unit, divisor and decimals kept). f = a·v is below anything at least b·v with
    a < b; max(a·v, y·Q) is below max(b·v, z·Q) and b·v + z·Q when a < b and y < z (Q may truncate to 0); a·v + y·Q is
    below b·v + z·Q when a < b and y ≤ z."""
    if f[0] == "av":
        return f[1] < g[1]
    if g[0] == "av" or f[3] != g[3]:
        return False
    if f[0] == "max":
        return f[1] < g[1] and f[2] < g[2]
    return g[0] == "sum" and f[1] < g[1] and f[2] <= g[2]


def ordered(line: TariffLine, cover: Coverage) -> bool:
    """True if every two rates ``select_rate`` may read for the line are equal or one is below the other (``_below``)
    at every taxable value and quantity above 0: each comparison it makes, each note it writes and so its winner are
    then the same for every such line, whose duty alone must be worked out."""
    shapes = []
    for column in _read(line, cover):
        rate = line.rate(column)
        if rate is not None:
            shape = _shape(rate)
            if shape is None:
                return False
            shapes.append(shape)
    return all(f == g or _below(f, g) or _below(g, f) for i, f in enumerate(shapes) for g in shapes[i + 1:])


def _strip(rate: Rate) -> Rate:
    return rate.inner if isinstance(rate, Noted) else rate
