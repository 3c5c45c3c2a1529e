"""Which rate applies to a line (関税定率法基本通達3-1), compared by the amount each produces.

1. A temporary (暫定) rate displaces the general (基本) rate: the national rate.
2. The WTO rate applies only if lower, and only to WTO members and 便益関税 countries.
3. Preferential rates (GSP, LDC, each EPA) only when claimed, for an origin covered on the date, and
   only if lower than 1-2. GSP is not available where the same origin's EPA rate is not higher.
Compound rates are compared by the amount they produce for this line's value and quantity. A line of the gate-price
system for pork reads its cells through ``gate_price.Gate`` (the reference price of the date in figures). Two rates that
both produce ¥0 for the line (a taxable value below ¥1,000 is 0: 通則法118条) are compared where they differ, at a
taxable value of ¥1,000 (``tie_base``): the rate shown is the one that applies, never the higher one with a false
"not lower".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from xlduty.core.errors import InputError
from xlduty.core.gate_price import Gate
from xlduty.core.rate import (
    ByUnitValue,
    DutyBase,
    ManualRate,
    NeedsInput,
    NotApplicable,
    NotApplied,
    Rate,
    new_base,
    reads_unit_value,
)
from xlduty.core.rounding import TAX_BASE_UNIT, yen_text
from xlduty.core.rules import Rules
from xlduty.core.schedule import COLUMN_NAMES_JA, TariffLine, cell_rate
from xlduty.core.typed import closed


@dataclass(slots=True)
class Applied:
    column: str            # rate_general, rate_temporary, rate_wto, rate_gsp, epa_eu …, "override", "simplified"
    name: str              # name of the column or basis, for people
    text: str              # the rate as printed
    rate: Rate
    amount: Decimal        # exact duty before the per-line drop of yen fractions
    notes: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)


def column_name(rules: Rules, column: str) -> str:
    col = rules.parties.columns.get(column)
    return COLUMN_NAMES_JA.get(column) or (col.name_ja if col else column)


def _explain_need(exc: NeedsInput, column: str, text: str) -> InputError:
    return InputError(exc.field, f"{exc.message} (rate {text!r} of {column})")


def _manual(exc: ManualRate, column: str) -> InputError:
    return InputError("rate", f"the {column} rate cannot be applied automatically: {exc}; give the applicable "
                              "rate in `rate`")


def rate_of(line: TariffLine, column: str, gate: Gate | None, unverified: list[str] | None = None,
            text: str | None = None) -> Rate | None:
    """The column's rate: as printed, or, for a line of the gate-price system, as ``gate`` reads it on the date (what
    it relies on that is unverified added to ``unverified``). ``text``: the cell, where the caller has read it."""
    if gate is None:
        return line.rate(column) if text is None else cell_rate(text)
    rate, note = gate.rate(line, column)
    if note is not None and unverified is not None:
        unverified.append(note)
    return rate


def national_rate(line: TariffLine, b: DutyBase, notes: list[str], gate: Gate | None = None) -> Applied:
    """Step 1: temporary over general (定率法基本通達3-1(1))."""
    for column in ("rate_temporary", "rate_general"):
        text = line.text(column)
        if not text:
            continue
        rate = rate_of(line, column, gate, None, text)
        assert rate is not None
        if column == "rate_general" and isinstance(rate, NotApplied):
            notes.append(f"general rate ({rate.inner}) applied: no temporary rate covers the goods")
            rate = rate.inner
        if isinstance(rate, ByUnitValue):   # the cell as printed does not apply (暫定法7条の6): say what does
            text = f"{text} → {rate}"
        try:
            amount = rate.evaluate(b)
            if isinstance(rate, ByUnitValue):   # the band the line's unit value falls in, first
                text = f"{line.text(column)} → {rate.band(b)} ({rate})"
            return Applied(column, COLUMN_NAMES_JA[column], text, rate, amount)
        except NotApplicable as exc:
            notes.append(f"{COLUMN_NAMES_JA[column]} {text!r} not applied: {exc}")
        except NeedsInput as exc:
            raise _explain_need(exc, COLUMN_NAMES_JA[column], text) from None
        except ManualRate as exc:
            raise _manual(exc, COLUMN_NAMES_JA[column]) from None
    raise InputError("hs_code", f"{line.hs} has no general or temporary rate that covers the goods")


def _national_floor(b: DutyBase, gate: Gate | None) -> Applied | None:
    """Where 暫定法7条の6 is in force for the goods and their raised 基準輸入価格 is not bundled (live pigs,
    豚肉加工品), the national rate cannot be worked out, but it is at least the law's bands at the normal price
    (``Gate.normal_rate``): a claimed rate below that is below the national rate too, and applies (通達3-1). The
    floor as an ``Applied`` to compare with, or None where the national rate failed for another reason."""
    if gate is None or not gate.emergency or gate.raised is not None:
        return None
    rate = gate.normal_rate()
    if rate is None:
        return None
    try:
        amount = rate.evaluate(b)
    except NeedsInput as exc:
        raise _explain_need(exc, COLUMN_NAMES_JA["rate_temporary"], str(rate)) from None
    return Applied("rate_temporary", COLUMN_NAMES_JA["rate_temporary"], f"{rate.band(b)} ({rate})", rate, amount)


TIE_VALUE = TAX_BASE_UNIT
"""The taxable value at which two rates that both give ¥0 are compared: the least value that is not cut to 0."""


def tie_base(b: DutyBase) -> DutyBase:
    """Where two rates that give the line ¥0 are told apart: a taxable value of at least ¥1,000 and the quantity
    uncut (the yen a rate would charge, had the line not been cut to nothing)."""
    tv = b[0]
    # b._replace(taxable_value=…, truncate_quantity=False), built from its fields (a fifth of what _replace costs)
    return new_base(tv if tv >= TIE_VALUE else TIE_VALUE, b[1], b[2], b[3], b[4], b[5], b[6], False, b[8])


def _at_tie(rate: Rate, tie: DutyBase) -> Decimal | None:
    """What ``rate`` gives at ``tie`` (``tie_base``); None where it gives nothing there (a rate that does not cover,
    needs more input or is manual: such a rate never wins a tie)."""
    try:
        return rate.evaluate(tie)
    except (NotApplicable, NeedsInput, ManualRate):
        return None


def _lower_in_tie(rate: Rate, other: Rate, b: DutyBase) -> bool:
    """Of two rates giving the line ¥0, ``rate`` is the lower where they differ (at ``tie_base``)."""
    tie = tie_base(b)
    mine = _at_tie(rate, tie)
    return mine is not None and ((theirs := _at_tie(other, tie)) is None or mine < theirs)


def _try_lower(line: TariffLine, column: str, name: str, b: DutyBase, best: Applied,
               notes: list[str], gate: Gate | None = None) -> Applied | None:
    """The column's rate if it produces less than ``best`` (or, where both produce ¥0, is the lower rate); None if it
    does not or does not cover."""
    text = line.text(column)
    if not text:
        return None
    unverified: list[str] = []
    rate = rate_of(line, column, gate, unverified, text)
    assert rate is not None
    least = best.amount
    try:
        bound = rate.lower_bound(b)
        if bound > least or (bound == least and least != 0):
            notes.append(f"{name} {text!r} is not lower")
            return None
        if least == 0:   # a tie at ¥0 at best: told apart below, or not lower (as before) where it cannot be
            try:
                amount = rate.evaluate(b)
            except (NeedsInput, ManualRate):
                notes.append(f"{name} {text!r} is not lower")
                return None
        else:   # where the bound is the amount itself (Rate's own lower_bound), it is not worked out twice
            amount = bound if type(rate).lower_bound is Rate.lower_bound else rate.evaluate(b)
    except NotApplicable as exc:
        notes.append(f"{name} {text!r} not applied: {exc}")
        return None
    except NeedsInput as exc:
        raise _explain_need(exc, name, text) from None
    except ManualRate as exc:
        raise _manual(exc, name) from None
    if amount > least or (amount == least and (least != 0 or not _lower_in_tie(rate, best.rate, b))):
        notes.append(f"{name} {text!r} is not lower")
        return None
    return Applied(column, name, text, rate, amount, unverified=unverified)


def _epa_not_higher(line: TariffLine, b: DutyBase, rules: Rules, on: date, gsp: Applied,
                    known: dict[str, Decimal], gate: Gate | None = None) -> str | None:
    """An EPA column of the same origin whose rate is not higher than GSP (whether claimed or not); where both give
    ¥0, compared at ``tie_base``."""
    assert b.origin is not None
    for column, col in rules.parties.columns.items():
        if not column.startswith("epa_") or not col.covers(b.origin, on) or not line.text(column):
            continue
        amount = known.get(column)
        if amount is None:
            rate = rate_of(line, column, gate)
            assert rate is not None
            try:
                amount = rate.evaluate(b)
            except (NotApplicable, ManualRate):
                continue
            except NeedsInput as exc:
                raise _explain_need(exc, column_name(rules, column), line.text(column) or "") from None
        if amount < gsp.amount or (amount == gsp.amount and (
                amount != 0 or not _lower_in_tie(gsp.rate, rate_of(line, column, gate), b))):   # type: ignore[arg-type]
            return column
    return None


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which columns an origin may use on a date, and the notes that go with it: rule data only,
    the same for every line with that origin, claim and date (so it is worked out once)."""

    wto_ok: bool
    columns: tuple[tuple[str, str, bool], ...]   # (column, name, coverage unverified) eligible preferences
    notes: tuple[str, ...]
    unverified: tuple[str, ...]
    claimed: bool
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # hashed once: the fast path keys its shared plans by coverage (the hash of its fields, as dataclass's)
        object.__setattr__(self, "_hash", hash((self.wto_ok, self.columns, self.notes, self.unverified, self.claimed)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple:
        # made again from its fields where unpickled: a string's hash differs between processes
        return Coverage, (self.wto_ok, self.columns, self.notes, self.unverified, self.claimed)


def coverage(rules: Rules, origin: str | None, claim: bool | str, on: date) -> Coverage:
    """WTO coverage and the eligible preferential columns (通達3-1(2)-(3)); ``InputError`` for a bad claim."""
    notes: list[str] = []
    unverified: list[str] = []
    wto = rules.parties.columns["rate_wto"]
    if origin is None:
        wto_ok = True
        notes.append("no origin given: assumed a WTO member or 便益関税 country")
    else:
        wto_ok = wto.covers(origin, on)
        if not wto_ok:
            notes.append(f"{origin} is not covered by WTO/便益関税 rates on {on}: national rate only")
        elif wto.unverified(origin):
            unverified.append(f"WTO/便益関税 coverage of {origin}")
    eligible: list[tuple[str, str, bool]] = []
    if isinstance(claim, str):   # a column name, read as every closed-set word is (EPA_EU is epa_eu)
        claim = closed(claim)   # type: ignore[assignment]
    if claim is not False:
        if origin is None:
            raise InputError("origin", "a preference is claimed: give the country of origin")
        columns = [c for c in rules.parties.columns if c != "rate_wto"]
        if isinstance(claim, str):
            if claim not in rules.parties.columns or claim == "rate_wto":
                raise InputError("claim_preference", f"unknown preference column {claim!r} (use one of "
                                                     f"{', '.join(columns)})")
            if not rules.parties.columns[claim].covers(origin, on):
                raise InputError("claim_preference", f"{origin} is not covered by {claim} "
                                                     f"({rules.parties.columns[claim].name_ja}) on {on}")
            columns = [claim]
        for c in columns:
            col = rules.parties.columns[c]
            if col.covers(origin, on):
                eligible.append((c, column_name(rules, c), col.unverified(origin)))
        if not eligible:
            notes.append(f"no preferential rate covers origin {origin} on {on}")
    return Coverage(wto_ok, tuple(eligible), tuple(notes), tuple(unverified), claim is not False)


def select_rate(line: TariffLine, b: DutyBase, claim: bool | str, rules: Rules, on: date,
                cover: Coverage | None = None, gate: Gate | None = None) -> Applied:
    """The rate that applies to the line and the amount it produces; ``cover`` is ``coverage(...)``
    for the line's origin, claim and date when the caller has it already; ``gate``, the gate-price system of the
    line's goods on the date, for a line of it."""
    if cover is None:
        cover = coverage(rules, b.origin, claim, on)
    notes = list(cover.notes)
    unverified = list(cover.unverified)
    unknown: InputError | None = None   # the national rate, where 7条の6 is in force and its price not bundled
    try:
        chosen = national_rate(line, b, notes, gate)
    except InputError as exc:
        floor = _national_floor(b, gate) if cover.claimed else None   # only a claimed rate can be below it
        if floor is None:
            raise
        chosen, unknown = floor, exc
    if cover.wto_ok and (lower := _try_lower(line, "rate_wto", COLUMN_NAMES_JA["rate_wto"], b, chosen, notes, gate)):
        chosen = lower
        unknown = None   # below the national rate's floor: the MFN rate, whatever the national one is
    mfn = chosen
    if cover.claimed:
        offers: dict[str, Applied] = {}
        epa_amounts: dict[str, Decimal] = {}
        for column, name, coverage_unverified in cover.columns:
            offer = _try_lower(line, column, name, b, mfn, notes, gate)
            if coverage_unverified:
                unverified.append(f"{name} coverage of {b.origin}")
            if offer is not None:
                offers[column] = offer
                if column.startswith("epa_"):
                    epa_amounts[column] = offer.amount
        gsp = offers.get("rate_gsp")
        if gsp is not None and (blocking := _epa_not_higher(line, b, rules, on, gsp, epa_amounts, gate)):
            del offers["rate_gsp"]
            notes.append(f"GSP not available: the {column_name(rules, blocking)} rate is not higher "
                         "(暫定法施行令25条4項)")
        if offers:
            chosen = min(offers.values(), key=lambda a: a.amount)
            if chosen.amount == 0:   # several at ¥0: the lower rate where they differ (the first of equals, as min)
                for offer in offers.values():
                    if offer.amount == 0 and _lower_in_tie(offer.rate, chosen.rate, b):
                        chosen = offer
        else:
            notes.append("no claimed preferential rate is lower than the MFN rate")
    if unknown is not None:
        assert gate is not None
        if chosen is mfn:
            raise InputError(unknown.field, f"{unknown.message}; no claimed preferential rate is lower than "
                                            f"{yen_text(mfn.amount)} yen, the national duty at the normal 基準輸入価格 "
                                            "(the least it can be under 暫定法7条の6), so which rate applies cannot "
                                            "be decided")
        g = gate.goods
        notes.append(f"national rate under 暫定法7条の6 not known: the raised 基準輸入価格 of {g.name_ja} "
                     f"({g.paragraph}第2号) is not bundled; at the normal price it is {mfn.text} = "
                     f"{yen_text(mfn.amount)} yen, and the raised price can only raise it: the {chosen.name} rate, "
                     f"{yen_text(chosen.amount)} yen, is lower either way (定率法基本通達3-1)")
        unverified.append(f"the national rate of {g.name_ja} under 暫定法7条の6 is bounded by the normal "
                          "基準輸入価格, its raised price not being bundled")
    if reads_unit_value(chosen.rate, b):   # a gate-price formula, alone or inside a lower-of rate (EPA pork)
        unverified.append(f"gate-price unit value: {rules.step('gate_price_unit_value').rule}")
    chosen.notes = notes
    chosen.unverified = unverified + chosen.unverified
    return chosen


def select_for_line(i: int, line: TariffLine, b: DutyBase, claim: bool | str, rules: Rules, on: date,
                    cover: Coverage | None = None, gate: Gate | None = None) -> Applied:
    """``select_rate`` for line ``i`` of a declaration: an error names the line (``lines[2].quantity``)."""
    try:
        if cover is None:
            cover = coverage(rules, b.origin, claim, on)
        return select_rate(line, b, claim, rules, on, cover, gate)
    except InputError as exc:
        raise exc.within(f"lines[{i}]") from None
