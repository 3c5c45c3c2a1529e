"""Typed rate expressions (税率) and the duty each produces for one declaration line.

Every cell of the tariff parses (``xlduty.core.rate_parser``) into one of these. ``evaluate`` gives the
exact duty before the per-line drop of yen fractions; it raises ``NotApplicable`` when the cell
does not cover the goods (a quota-only rate outside the quota, a rate printed in parentheses),
``NeedsInput`` when the user must say more (quantity, which condition), and ``ManualRate`` when the
tariff itself gives no computable figure (ranges, reference-price texts). Unknown is never zero.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Context, Decimal
from fractions import Fraction
from typing import ClassVar, NamedTuple

from xlduty.core.rounding import truncate_quantity, yen_text
from xlduty.core.units import Unit, convert

ZERO = Decimal(0)
_EXACT = Context(prec=60, rounding=ROUND_FLOOR)


class DutyBase(NamedTuple):
    """What a rate needs from one line to produce an amount (a tuple: built once per line, cheaply)."""

    taxable_value: int                 # 課税価格 of the line, already truncated to 1,000 yen
    quantity: Decimal | None = None
    unit: Unit | None = None           # unit of ``quantity``; None = the rate's own unit
    date: date | None = None
    origin: str | None = None
    in_quota: bool = False             # 関税割当 certificate held for this line
    condition: str | None = None       # which conditional branch describes the goods
    truncate_quantity: bool = True     # False for goods that also bear liquor tax (通達13の4-2(2))
    gate_value: Decimal | None = None  # the value gate-price formulas divide by the quantity, when not taxable_value:
    # the other reading of rules/rounding.yaml gate_price_unit_value (the unrounded customs value), to compare


_tuple_new = tuple.__new__


def new_base(taxable_value: int, quantity: Decimal | None, unit: Unit | None, on: date | None, origin: str | None,
             in_quota: bool, condition: str | None, truncate_quantity: bool, gate_value: Decimal | None) -> DutyBase:
    """A ``DutyBase`` of every field, given in order: built as the tuple it is, a third of what NamedTuple's
    keyword-aware constructor costs (a line's base is built per line, and per line kind)."""
    return _tuple_new(DutyBase, (taxable_value, quantity, unit, on, origin, in_quota, condition, truncate_quantity,
                                 gate_value))


class NotApplicable(Exception):
    """The cell does not cover these goods; the next rate in priority order is used."""


class NeedsInput(Exception):
    """The user must give ``field`` before this rate can be applied."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class ManualRate(Exception):
    """The tariff gives no computable figure here: the user must state the rate."""


Trace = list[str] | None


class Rate:
    """Base of all rate expressions."""

    __slots__ = ()
    kind: ClassVar[str] = "rate"

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        raise NotImplementedError

    def lower_bound(self, b: DutyBase) -> Decimal:
        """The least this cell could cost the line: used to skip candidates that cannot win."""
        return self.evaluate(b)

    @property
    def needs_quantity(self) -> bool:
        return False

    @property
    def is_free(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Free(Rate):
    kind: ClassVar[str] = "free"

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        if trace is not None:
            trace.append("無税 = 0")
        return ZERO

    @property
    def is_free(self) -> bool:
        return True

    def __str__(self) -> str:
        return "無税"


@dataclass(frozen=True, slots=True)
class AdValorem(Rate):
    percent: Decimal
    kind: ClassVar[str] = "ad_valorem"

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        amount = b.taxable_value * self.percent / 100
        if trace is not None:
            trace.append(f"{b.taxable_value:,} × {self.percent}% = {yen_text(amount)}")
        return amount

    @property
    def is_free(self) -> bool:
        return self.percent == 0

    def __str__(self) -> str:
        return f"{self.percent}%"


def _quantity_in(b: DutyBase, unit: Unit, what: Rate) -> Decimal:
    """The line's quantity in ``unit`` (``what``, the rate, is printed only in the error)."""
    if b.quantity is None:
        raise NeedsInput("quantity", f"the rate {what} is per {unit.ja}: give the quantity in {unit.code}")
    try:
        return convert(b.quantity, b.unit or unit, unit)
    except ValueError as exc:
        raise NeedsInput("unit", f"the rate {what} is per {unit.ja}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Specific(Rate):
    yen: Decimal
    unit: Unit
    per: Decimal = Decimal(1)          # 1,000 for "円/1,000本"
    kind: ClassVar[str] = "specific"

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        raw = _quantity_in(b, self.unit, self) / self.per
        qty = truncate_quantity(raw, self.yen) if b.truncate_quantity else raw
        amount = qty * self.yen
        if trace is not None:
            cut = f" (truncated from {raw.normalize():f})" if qty != raw else ""
            trace.append(f"{qty.normalize():f}{cut} × {self} = {yen_text(amount)}")
        return amount

    @property
    def needs_quantity(self) -> bool:
        return True

    def __str__(self) -> str:
        per = "" if self.per == 1 else f"{self.per:,}"
        return f"{self.yen}円/{per}{self.unit.ja}"


@dataclass(frozen=True, slots=True)
class Compound(Rate):
    """Ad valorem plus specific, e.g. ``25%＋63円/kg``: the parts are added."""

    parts: tuple[Rate, ...]
    kind: ClassVar[str] = "compound"

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        total = sum((p.evaluate(b, trace) for p in self.parts), ZERO)
        if trace is not None:
            trace.append(f"{self!s} = {yen_text(total)}")
        return total

    @property
    def needs_quantity(self) -> bool:
        return any(p.needs_quantity for p in self.parts)

    def __str__(self) -> str:
        return "＋".join(str(p) for p in self.parts)


@dataclass(frozen=True, slots=True)
class HigherOf(Rate):
    """``A又はBのうちいずれか高い税率``, optionally capped (``ただしその税率がC%を上回る場合はC%``)."""

    options: tuple[Rate, ...]
    cap: Rate | None = None
    kind: ClassVar[str] = "higher_of"

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        if trace is None:   # no list kept: the first of the highest, as max() gives
            options = iter(self.options)
            amount = next(options).evaluate(b)
            for o in options:
                if (a := o.evaluate(b)) > amount:
                    amount = a
        else:
            amounts = [o.evaluate(b, trace) for o in self.options]
            amount = max(amounts)
            trace.append(f"higher of {', '.join(yen_text(a) for a in amounts)} = {yen_text(amount)}")
        if self.cap is not None:
            cap = self.cap.evaluate(b, trace)
            if cap < amount:
                amount = cap
                if trace is not None:
                    trace.append(f"capped at {self.cap} = {yen_text(cap)}")
        return amount

    @property
    def needs_quantity(self) -> bool:
        return any(o.needs_quantity for o in self.options)

    def __str__(self) -> str:
        s = "又は".join(str(o) for o in self.options) + "のうちいずれか高い税率"
        return s + (f"（ただしその税率が{self.cap}を上回る場合は{self.cap}とする）" if self.cap else "")


@dataclass(frozen=True, slots=True)
class LowerOf(Rate):
    """``A又はBのうちいずれか低い税率``, optionally with a minimum (``ただし…を下回る場合は…``)."""

    options: tuple[Rate, ...]
    floor: Rate | None = None
    kind: ClassVar[str] = "lower_of"

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        amounts = [o.evaluate(b, trace) for o in self.options]
        amount = min(amounts)
        if trace is not None:
            trace.append(f"lower of {', '.join(yen_text(a) for a in amounts)} = {yen_text(amount)}")
        if self.floor is not None:
            floor = self.floor.evaluate(b, trace)
            if floor > amount:
                amount = floor
                if trace is not None:
                    trace.append(f"raised to the minimum {self.floor} = {yen_text(floor)}")
        return amount

    @property
    def needs_quantity(self) -> bool:
        return any(o.needs_quantity for o in self.options) or bool(self.floor and self.floor.needs_quantity)

    def __str__(self) -> str:
        s = "又は".join(str(o) for o in self.options) + "のうちいずれか低い税率"
        return s + (f" ただしその税率が{self.floor}を下回る場合は{self.floor}" if self.floor else "")


# --- gate-price (差額関税) formulas: a small arithmetic tree over the unit customs value -------------

_OPS = {"+": operator.add, "-": operator.sub, "×": operator.mul, "/": operator.truediv}


@dataclass(frozen=True, slots=True)
class Formula:
    """``op`` is "num", "var" (課税価格 per unit) or one of + - × /."""

    op: str
    value: Fraction = Fraction(0)
    left: Formula | None = None
    right: Formula | None = None

    def __call__(self, unit_value: Fraction) -> Fraction:
        if self.op == "num":
            return self.value
        if self.op == "var":
            return unit_value
        assert self.left is not None and self.right is not None
        return _OPS[self.op](self.left(unit_value), self.right(unit_value))

    def __str__(self) -> str:
        if self.op == "num":
            v = self.value
            return str(v.numerator) if v.denominator == 1 else str(Decimal(v.numerator) / v.denominator)
        if self.op == "var":
            return "課税価格"
        return f"({self.left}{self.op}{self.right})"


def _gate_quantity(b: DutyBase, unit: Unit, what: Rate) -> tuple[Decimal, int | Decimal]:
    """The quantity a gate-price rate divides by (positive, in ``unit``) and the value it divides: the 課税価格, or the
    other reading's value (``DutyBase.gate_value``)."""
    qty = _quantity_in(b, unit, what)
    if qty <= 0:
        raise NeedsInput("quantity", f"the rate {what} needs a positive quantity")
    return qty, b.taxable_value if b.gate_value is None else b.gate_value


@dataclass(frozen=True, slots=True)
class GatePrice(Rate):
    """Differential duty: ``formula(unit customs value)`` yen per unit, never below zero.

    The unit customs value is the line's 課税価格 divided by its quantity (in the rate's unit).
    """

    formula: Formula
    unit: Unit
    kind: ClassVar[str] = "gate_price"

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        qty, value = _gate_quantity(b, self.unit, self)
        q = Fraction(qty)
        per_unit = max(self.formula(Fraction(value) / q), Fraction(0))
        exact = per_unit * q
        amount = _EXACT.divide(Decimal(exact.numerator), Decimal(exact.denominator))
        if trace is not None:
            unit_value = _EXACT.divide(Decimal(value), qty)   # both shown cut, never rounded (nor float)
            gap = _EXACT.divide(Decimal(per_unit.numerator), Decimal(per_unit.denominator))
            trace.append(
                f"unit value {yen_text(value)} / {qty.normalize():f} = {yen_text(unit_value)}円/{self.unit.ja}; "
                f"{self} → {yen_text(gap)}円/{self.unit.ja} × {qty.normalize():f} = {yen_text(amount)}")
        return amount

    @property
    def needs_quantity(self) -> bool:
        return True

    def __str__(self) -> str:
        return f"{self.formula}/{self.unit.ja}"


@dataclass(frozen=True, slots=True)
class ByUnitValue(Rate):
    """Rates by band of the customs value per unit, each band up to its limit (included; None: no limit): the
    gate-price system of one item as a whole, where no line's cell says it (暫定法7条の6: ``gate_price.py``). The unit
    value is that of the gate-price formulas (``GatePrice``)."""

    bands: tuple[tuple[Fraction | None, Rate], ...]
    unit: Unit
    text: str
    kind: ClassVar[str] = "gate_price"

    def band(self, b: DutyBase) -> Rate:
        """The band's rate that applies to the line (by its unit value)."""
        qty, value = _gate_quantity(b, self.unit, self)
        v = Fraction(value) / Fraction(qty)
        return next(rate for high, rate in self.bands if high is None or v <= high)

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        qty, value = _gate_quantity(b, self.unit, self)
        v = Fraction(value) / Fraction(qty)
        for high, rate in self.bands:
            if high is None or v <= high:
                if trace is not None:
                    cut = _EXACT.divide(Decimal(v.numerator), Decimal(v.denominator))
                    limit = "" if high is None else (
                        f" ≤ {yen_text(_EXACT.divide(Decimal(high.numerator), Decimal(high.denominator)))}")
                    trace.append(f"{self.text}: unit value {yen_text(cut)}円/{self.unit.ja}{limit} → {rate}")
                return rate.evaluate(b, trace)
        raise AssertionError("the last band has no limit")

    @property
    def needs_quantity(self) -> bool:
        return True

    def __str__(self) -> str:
        return self.text


# --- cells with several branches (quota tiers, per-party treatment, seasons, described goods) ------

@dataclass(frozen=True, slots=True)
class Branch:
    condition: str
    rate: Rate
    quota: bool | None = None            # True: only within a tariff quota; False: only outside one
    parties: frozenset[str] | None = None  # ISO codes named in （…に対する待遇）
    other_parties: bool = False          # （他の締約国に対する待遇）
    season: tuple[int, int, int, int] | None = None  # (month, day, month, day), end inclusive
    described: bool = False              # the condition describes the goods in words
    otherwise: bool = False              # その他のもの: the goods described by no other branch


def _in_season(d: date, season: tuple[int, int, int, int]) -> bool:
    start, end = (season[0], season[1]), (season[2], season[3])
    md = (d.month, d.day)
    return start <= md <= end if start <= end else (md >= start or md <= end)


def _matches(condition: str, branch: Branch) -> bool:
    return condition in branch.condition


@dataclass(frozen=True, slots=True)
class Branches(Rate):
    branches: tuple[Branch, ...]
    kind_name: str = "conditional"        # quota, party, seasonal or conditional

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.kind_name

    def candidates(self, b: DutyBase) -> list[Branch]:
        """The branches that may describe the goods, after quota, party and season are applied."""
        cands = [br for br in self.branches
                 if (br.quota is None or br.quota == b.in_quota)
                 and (br.season is None or (b.date is not None and _in_season(b.date, br.season)))]
        if any(br.parties or br.other_parties for br in cands):
            if b.origin is None:
                raise NeedsInput("origin", "this rate differs by country of origin: give the origin")
            named = [br for br in cands if br.parties and b.origin in br.parties]
            cands = [br for br in cands if not br.parties and not (named and br.other_parties)] + named
        if b.in_quota and any(br.quota for br in cands):
            cands = [br for br in cands if not (br.otherwise and br.quota is None)]
        if b.condition is not None:
            want = b.condition.strip()
            if want.lower() in ("other", "others", "none", "その他", "その他のもの"):
                return [br for br in cands if not br.described]
            chosen = [br for br in cands if br.described and _matches(want, br)]
            return chosen or [br for br in cands if not br.described]
        return cands

    def resolve(self, b: DutyBase) -> Branch:
        cands = self.candidates(b)
        if not cands:
            raise NotApplicable("no branch of this rate covers the goods")
        if len(cands) == 1 and (not cands[0].described or b.condition is not None):
            return cands[0]
        options = "; ".join(f"「{br.condition}」 {br.rate}" for br in cands)
        raise NeedsInput("condition", f"the rate depends on the goods: {options}. Set condition to a word "
                                      "of the matching description, or 'other' if none matches")

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        br = self.resolve(b)
        if trace is not None:
            trace.append(f"branch 「{br.condition}」: {br.rate}")
        return br.rate.evaluate(b, trace)

    def lower_bound(self, b: DutyBase) -> Decimal:
        bounds = []
        for br in self.candidates(b):
            try:
                bounds.append(br.rate.lower_bound(b))
            except NotApplicable:
                continue
        if not bounds:
            raise NotApplicable("no branch of this rate covers the goods")
        return min(bounds)

    @property
    def needs_quantity(self) -> bool:
        return any(br.rate.needs_quantity for br in self.branches)

    def __str__(self) -> str:
        return " ".join(f"{br.condition} {br.rate}" for br in self.branches)


@dataclass(frozen=True, slots=True)
class Range(Rate):
    """A span or list of rates (``●2.2%〜3.5%``, ``…又は非譲許``): the line-level rate is not given."""

    options: tuple[Rate, ...]
    unbound: bool = False               # 非譲許: possibly no concession at all
    text: str = ""
    kind: ClassVar[str] = "range"

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        raise ManualRate(f"the schedule gives a range, not one rate: {self.text or self}")

    def lower_bound(self, b: DutyBase) -> Decimal:
        bounds = []
        for o in self.options:
            try:
                bounds.append(o.lower_bound(b))
            except (NotApplicable, ManualRate):
                continue
            except NeedsInput:
                bounds.append(ZERO)
        return min(bounds) if bounds else ZERO

    def __str__(self) -> str:
        return self.text or "〜".join(str(o) for o in self.options) + ("又は非譲許" if self.unbound else "")


@dataclass(frozen=True, slots=True)
class NotApplied(Rate):
    """A rate printed in parentheses: not applied, a lower or equal rate takes precedence."""

    inner: Rate
    kind: ClassVar[str] = "not_applied"

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        raise NotApplicable(f"({self.inner}) is printed in parentheses: not applied")

    def lower_bound(self, b: DutyBase) -> Decimal:
        raise NotApplicable(f"({self.inner}) is printed in parentheses: not applied")

    def __str__(self) -> str:
        return f"({self.inner})"


@dataclass(frozen=True, slots=True)
class Noted(Rate):
    """A rate carrying a mark of the schedule (◆n footnote, ◎, ※, *): computed, and the mark reported."""

    inner: Rate
    marks: tuple[str, ...] = field(default=())

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.inner.kind

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        if trace is not None:
            trace.append(f"the schedule marks this rate {' '.join(self.marks)}: see the tariff's notes")
        return self.inner.evaluate(b, trace)

    def lower_bound(self, b: DutyBase) -> Decimal:
        return self.inner.lower_bound(b)

    @property
    def needs_quantity(self) -> bool:
        return self.inner.needs_quantity

    @property
    def is_free(self) -> bool:
        return self.inner.is_free

    def __str__(self) -> str:
        lead = "".join(m for m in self.marks if not m.startswith("◆"))
        tail = " ".join(m for m in self.marks if m.startswith("◆"))
        return f"{lead}{self.inner}" + (f" {tail}" if tail else "")


@dataclass(frozen=True, slots=True)
class Manual(Rate):
    """A rate the schedule states in words or by a reference price: the user must give it."""

    text: str
    reason: str
    kind: ClassVar[str] = "manual"

    def evaluate(self, b: DutyBase, trace: Trace = None) -> Decimal:
        raise ManualRate(f"{self.reason}: 「{self.text}」")

    def lower_bound(self, b: DutyBase) -> Decimal:
        return ZERO

    def __str__(self) -> str:
        return self.text


def reads_unit_value(rate: Rate, b: DutyBase | None = None) -> bool:
    """Whether the rate's amount is worked out from the customs value per unit (a gate-price formula, alone or as an
    option of a lower-of or higher-of rate, in the branch that applies to the line where ``b`` says which): such a
    line relies on how that unit value is taken (rules/rounding.yaml gate_price_unit_value)."""
    if isinstance(rate, GatePrice | ByUnitValue):
        return True
    if isinstance(rate, Noted | NotApplied):
        return reads_unit_value(rate.inner, b)
    if isinstance(rate, LowerOf):
        return any(reads_unit_value(o, b) for o in (*rate.options, *([rate.floor] if rate.floor else [])))
    if isinstance(rate, HigherOf):
        return any(reads_unit_value(o, b) for o in (*rate.options, *([rate.cap] if rate.cap else [])))
    if isinstance(rate, Range):
        return any(reads_unit_value(o, b) for o in rate.options)
    if isinstance(rate, Branches):
        if b is not None:
            try:
                return reads_unit_value(rate.resolve(b).rate, b)
            except (NotApplicable, NeedsInput):
                pass
        return any(reads_unit_value(br.rate, b) for br in rate.branches)
    return False


def proportional(rate: Rate) -> bool:
    """True if the rate's duty is the taxable value times a constant (or it always declines or refuses, whatever the
    value): comparing such rates for one line gives the same winner at every taxable value above 0."""
    if isinstance(rate, Free | AdValorem | NotApplied | Manual):
        return True
    if isinstance(rate, Noted):
        return proportional(rate.inner)
    if isinstance(rate, Compound):
        return all(proportional(p) for p in rate.parts)
    if isinstance(rate, HigherOf):
        return all(proportional(o) for o in rate.options) and (rate.cap is None or proportional(rate.cap))
    if isinstance(rate, LowerOf):
        return all(proportional(o) for o in rate.options) and (rate.floor is None or proportional(rate.floor))
    if isinstance(rate, Range):
        return all(proportional(o) for o in rate.options)
    if isinstance(rate, Branches):   # which branch applies depends on quota, origin, date and condition, not value
        return all(proportional(br.rate) for br in rate.branches)
    return False                     # specific and gate-price rates: the winner depends on value and quantity
