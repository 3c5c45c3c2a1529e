"""Compute one declaration exactly as Japan Customs does (CA 1111; 関税法基本通達13の4).

This is the Python API the CLI and the Excel functions call: ``compute(declaration) -> Result``.
Pipeline: value each line in yen (FX week, personal-use factor) → de minimis on the declaration
total → duty per line under general and, where allowed, simplified treatment → reliefs → excise →
consumption tax per line → totals truncated to 100 yen. ``simplified: auto`` keeps the cheaper
treatment for the whole consignment and reports both.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, localcontext
from functools import partial
from typing import Any

from xlduty.core import tables
from xlduty.core.country import origin_problem
from xlduty.core.declaration import (
    MAX_AMOUNT,
    CommonLine,
    Declaration,
    Line,
    PlainDeclaration,
    PlainLine,
    plain_amount,
    plain_code,
    plain_header,
    plain_line,
    validate,
)
from xlduty.core.errors import DataError, InputError, RateParseError
from xlduty.core.fx import YEN, FxRate, given_rate_warning, rate_for
from xlduty.core.hs import format_hs
from xlduty.core.rate import (
    ZERO,
    AdValorem,
    Compound,
    DutyBase,
    Free,
    HigherOf,
    ManualRate,
    NeedsInput,
    NotApplicable,
    Noted,
    Rate,
    Specific,
    proportional,
)
from xlduty.core.rate_parser import parse_rate
from xlduty.core.result import LineResult, Result, Step, Totals
from xlduty.core.rounding import floor_yen, quantity_decimals, truncate_tax_amount, truncate_tax_base, yen_text
from xlduty.core.rules import (
    CTRate,
    DeMinimisVersion,
    Rules,
    SimplifiedCategory,
    SimplifiedVersion,
    hs_digits,
    load_rules,
)
from xlduty.core.schedule import LookupError_, Schedule, TariffLine, ValueBand, edition_on, line_band, pinned_edition
from xlduty.core.selection import Applied, Coverage, coverage, select_rate
from xlduty.core.units import Unit, convert, unit_of

AnyDeclaration = Declaration | PlainDeclaration
AnyLine = Line | PlainLine | CommonLine


@dataclass(slots=True)
class _Prepared:
    """What a line is, independent of the treatment chosen."""

    index: int
    line: AnyLine
    tariff: TariffLine | None
    fx: FxRate
    foreign: Decimal                   # the value in the line currency (after the personal-use factor)
    value: Decimal                     # customs value in yen, unrounded
    unit: Unit | None
    ct_rate: Decimal
    reduced: bool
    excise: int
    personal: bool                     # the personal-use factor was applied
    notes: list[str]
    unverified: list[str]
    excise_steps: list[Step] | None = None
    de_minimis_exempt: bool = False
    ct_text: str = ""                  # the consumption-tax rate as output ("7.8%")
    ct_ratio: tuple[int, int] = (0, 1)  # the national rate / 100 as a fraction
    kind: _Kind | None = None


@dataclass(slots=True)
class _Treated:
    """The lines under one treatment, their totals, and what the declaration reports about them."""

    lines: list[LineResult]
    totals: Totals
    excise: bool                       # some line bears excise (its total may still round to 0)
    flagged: list[LineResult]          # lines relying on unverified rule data
    preference: bool                   # a preferential rate is applied to some line


@dataclass(slots=True)
class _Kind:
    """What every line of one code, unit, origin, claim and date has in common (no liquor, excise or personal use):
    looked up once per process, not per line."""

    tariff: TariffLine
    unit: Unit | None
    reduced: bool
    ct_rate: Decimal
    ct_text: str
    ct_ratio: tuple[int, int]
    unverified: list[str]
    plan: tuple[Applied, tuple[int, int] | None, tuple[str, ...], bool, str] | None = None
    # the general treatment's remembered plan, once ``_select`` has it, with the line's sorted unverified notes,
    # whether it is a preference and the rate's kind
    ordered: Applied | None = None     # else the winner at every value and quantity above 0 (``_ordered``)
    ordered_unverified: tuple[str, ...] = ()   # with the line's sorted unverified notes
    unordered: bool = False            # no such winner: selected afresh


@dataclass(slots=True)
class _Day:
    """The dated rules in force on one date, looked up once per date rather than per declaration."""

    ct: CTRate                         # the consumption-tax version
    reduced_on: bool                   # it has a reduced rate
    ct_texts: tuple[str, str]          # its standard and reduced national rates as output
    ct_ratios: tuple[tuple[int, int], tuple[int, int]]   # and as fractions of 1
    de_minimis: DeMinimisVersion | None   # the de minimis version (定率法14条18号), if any
    simplified: SimplifiedVersion | None  # the simplified-tariff version (簡易税率), if any
    text: str                          # the date as output (YYYY-MM-DD)


@dataclass(slots=True)
class _Context:
    """Per-declaration facts looked up once, not per line."""

    on: date
    fx_supplied: dict[str, Decimal]
    personal: bool                     # personal-use factor in force and asked for
    day: _Day                          # the rules in force on ``on``
    personal_off: str | None = None    # note when personal use is asked for but the rule is not in force
    fx: dict[str, FxRate] = field(default_factory=dict)
    plain: bool = True                 # no personal-use factor or note: lines may use ``_Kind``
    warnings: list[str] | None = None  # what preparing the lines found for the declaration's warnings


_Done = tuple[LineResult, CommonLine, _Kind, FxRate, Decimal, Decimal]
# a common line whose general result _plain built at once: (result, line, kind, FX rate, foreign value, yen value)


def _ready(prepared: list[_Prepared | _Done]) -> list[_Prepared]:
    """Every line as a ``_Prepared`` (a ``_Done`` line's result is dropped: another treatment or the de minimis check
    works from the line itself)."""
    return [_Prepared(p[0].index, p[1], p[2].tariff, p[3], p[4], p[5], p[2].unit, p[2].ct_rate, p[2].reduced, 0, False,
                      [], p[2].unverified, None, False, p[2].ct_text, p[2].ct_ratio, p[2]) if type(p) is tuple else p
            for p in prepared]


_Plan = tuple[Applied | None, tuple[int, int] | None]   # (winner, its ratio if a plain percentage); None: select afresh


class Engine:
    """Holds the rules; ``compute`` is reentrant. Between declarations it keeps only bounded caches of what cannot
    depend on a line's amounts (line kinds, rate plans, coverage, dated rules): a result never depends on what was
    computed before (tests/test_rate_plans.py)."""

    def __init__(self, rules: Rules | None = None) -> None:
        self.rules = rules or load_rules()
        self._steps = {k: (v.basis, v.verified) for k, v in self.rules.rounding.steps.items()}
        self._thresholds_basis = self._steps["thresholds"]
        self._totals_basis = tuple(self._steps[k] for k in ("duty_total", "national_ct_total", "local_ct_total"))
        self._food: dict[str, tuple[bool | None, str | None]] = {}
        self._plans: dict[tuple, _Plan] = {}            # bounded caches (_remember): one per process
        self._coverage: dict[tuple, Coverage] = {}
        self._days: dict[date, _Day] = {}                 # dated rule versions by date
        # by (version's start, 9-digit code): 施行令16条の3 item; simplified-tariff exclusion; its category
        self._excluded: dict[tuple[date | None, str], Any] = {}
        self._simple_out: dict[tuple[date | None, str], bool] = {}
        self._simple_cat: dict[tuple[date | None, str], tuple[SimplifiedCategory, str, Rate]] = {}
        self._kinds: dict[tuple, _Kind] = {}
        self._seen: dict[tuple, tuple[_Kind, str | None]] = {}   # a line's texts as given → its kind, its origin

    def forget_plans(self) -> None:
        """Forget remembered rate plans and line kinds (the tables in use were switched)."""
        self._plans.clear()
        self._kinds.clear()
        self._seen.clear()

    def _day(self, on: date) -> _Day:
        """The consumption-tax, de minimis and simplified-tariff versions in force on ``on`` (once per date)."""
        day = self._days.get(on)
        if day is None:
            rules = self.rules
            ct = rules.consumption_tax.on(on)
            day = _remember(self._days, on, _Day(
                ct, ct.national_reduced is not None, (f"{ct.national_standard}%", f"{ct.national_reduced}%"),
                (_fraction(ct.national_standard), _fraction(ct.national_reduced or ZERO)), rules.de_minimis_on(on),
                rules.simplified_on(on), str(on)))
        return day

    def step(self, key: str, formula: str | Callable[[], str], amount: int | str | None = None) -> Step:
        basis, verified = self._steps[key]
        return Step(key, formula, amount, basis, verified)

    # --- public API ---------------------------------------------------------------------------

    def compute(self, data: Declaration | dict[str, Any]) -> Result:
        fast = self._plain(data) if type(data) is dict else None
        if fast is not None:
            decl, ctx, schedule, prepared, total_value = fast
            on = decl.date
        else:
            decl = validate(data)
            on = decl.date
            schedule = None
            if decl.tariff_edition is not None:
                schedule = pinned_edition(decl.tariff_edition)
            elif decl.lines[0].hs_code or any(ln.hs_code for ln in decl.lines):
                try:
                    schedule = edition_on(on)
                except LookupError_ as exc:
                    first = next(i for i, ln in enumerate(decl.lines) if ln.hs_code)
                    raise InputError(f"lines[{first}].hs_code", str(exc)) from None
            pu = self.rules.personal_use
            ctx = _Context(on, decl.fx_rates, decl.personal_use and pu.covers(on), self._day(on), None, {})
            if decl.personal_use and not ctx.personal:
                ctx.personal_off = f"the personal-use ×{pu.factor} rule is not in force on {on}: full value used"
            ctx.plain = not decl.personal_use
            prepared, total_value = self._prepare(decl.lines, ctx, schedule)
        warnings: list[str] = []
        explanation: list[Step] = [Step("thresholds", lambda: f"total customs value = {yen_text(total_value)}",
                                        _num(total_value), *self._thresholds_basis)]
        day = ctx.day
        dm = day.de_minimis
        if fast is not None and dm is not None and total_value <= dm.threshold_jpy:
            prepared = _ready(prepared)   # the check may exempt lines or add notes: results built before are dropped
        exemption = self._de_minimis(prepared, total_value, dm, warnings, explanation)  # type: ignore[arg-type]

        general = self._treat(prepared, decl, "general")  # type: ignore[arg-type]
        simplified_info: dict[str, Any] = {"mode": decl.simplified, "used": False}
        chosen = general
        sv = day.simplified
        reason = None
        if decl.simplified != "never":
            if sv is None:
                reason = f"no simplified tariff is bundled for {on}"
            elif total_value > sv.threshold_jpy:
                reason = f"total customs value {yen_text(total_value)} exceeds {sv.threshold_jpy:,} yen"
            elif all(type(p) is not tuple and p.de_minimis_exempt for p in prepared):   # a _Done line is not exempt
                reason = "all goods are exempt (定率法14条18号)"
            if sv is not None and sv.threshold_jpy - 1000 <= total_value <= sv.threshold_jpy + 1000:
                warnings.append(f"total customs value {yen_text(total_value)} is within 1,000 yen of the "
                                f"{sv.threshold_jpy:,}-yen simplified-tariff threshold: "
                                f"{self.rules.step('thresholds').rule} [unverified]")
            simplified = None
            if reason is None:
                try:
                    simplified = self._treat(_ready(prepared), decl, "simplified")
                except InputError as exc:
                    if decl.simplified == "always":
                        raise
                    reason = f"simplified tariff not computed: {exc}"
            if decl.simplified == "always" and simplified is None:
                raise InputError("simplified", f"the simplified tariff cannot be used: {reason}")
            if simplified is not None:
                g_total, s_total = general.totals.total, simplified.totals.total
                simplified_info.update(general_total=g_total, simplified_total=s_total)
                if decl.simplified == "always" or s_total <= g_total:
                    chosen = simplified
                    simplified_info["used"] = True
                simplified_info["basis"] = sv.basis if sv else None
                simplified_info["verified"] = sv.verified if sv else None
        if reason:
            simplified_info["reason"] = reason
        lines, totals = chosen.lines, chosen.totals
        explanation += self._total_steps(lines, totals, chosen.excise)
        for ln in chosen.flagged:
            warnings.append(f"line {ln.index}: relies on unverified rule data: {'; '.join(ln.unverified)}")
        if chosen.preference:
            w = self.rules.reliefs.origin_proof_waiver
            if total_value <= w.threshold_jpy:
                explanation.append(Step("origin_proof",
                                        f"total {yen_text(total_value)} ≤ {w.threshold_jpy:,}: {w.rule}", None,
                                        w.basis, w.verified))
            else:
                warnings.append("a preferential rate is applied: proof of origin is required "
                                f"(total customs value over {w.threshold_jpy:,} yen)")
        fx = [{"currency": r.currency, "yen": r.published, "per_units": r.per_units,   # in order of first use
               "week_start": str(r.week_start) if r.week_start else None,
               "week_end": str(r.week_end) if r.week_end else None,
               "source": r.source, **({"alias_of": r.alias_of} if r.alias_of else {})}
              for r in ctx.fx.values() if r.source != "yen"]
        if ctx.warnings:
            warnings += ctx.warnings
        for r in ctx.fx.values():
            if r.source == "declaration" and (hint := given_rate_warning(r.currency, r.published)) is not None:
                warnings.append(hint)
        return Result(day.text, schedule.edition if schedule else None, fx, decl.personal_use, simplified_info,
                      exemption, totals, lines, explanation, warnings)

    # --- valuation, FX, CT rate, excise ----------------------------------------------------------

    def _plain(self, d: dict[str, Any]) -> tuple[PlainDeclaration, _Context, Schedule | None,
                                                  list[_Prepared | _Done], Decimal] | None:
        """A plain declaration without personal use checked and prepared in one pass (what ``plain_declaration`` then
        ``_prepare`` give): a line of a kind already known is prepared as it is checked, any other once every line
        is checked, in line order, so errors come in the same order. A common line of seen texts (see ``_treat``) has
        its general result built at once and no ``_Prepared`` (``_Done``: ``_ready`` makes one if another treatment
        or the de minimis check needs it). None, with nothing raised, where something is not plain or the tariff
        edition is not found: the general route then gives the error or the result."""
        head = plain_header(d)
        if head is None or head[1]:
            return None
        on, _personal, simplified, rates, edition, raw = head
        schedule = None
        if edition is not None:
            try:
                schedule = pinned_edition(edition)
            except InputError:
                return None
        ctx = _Context(on, rates, False, self._day(on), None, {})
        ct = ctx.day.ct
        kinds, fxs, seen = self._kinds, ctx.fx, self._seen
        num, den = ct.local_fraction
        ratio = ct.local_ratio
        explain = self._explain_done
        lines: list[PlainLine | CommonLine] = []
        prepared: list[_Prepared | _Done | None] = []
        later = False
        unseen: list[tuple[int, tuple]] = []
        for i, item in enumerate(raw):
            if type(item) is not dict:
                return None
            kind = ln = None
            if _COMMON.issuperset(item):
                get = item.get
                code, origin, unit, claim = get("hs_code"), get("origin"), get("unit"), get("claim_preference", False)
                if (type(code) is str and code and (origin is None or type(origin) is str)
                        and (unit is None or type(unit) is str)
                        and (claim is False or claim is True or type(claim) is str)):
                    if schedule is None:
                        try:
                            schedule = edition_on(on)
                        except LookupError_:
                            return None
                    quantity = get("quantity")
                    raw_key = (schedule, on, code, origin, unit, claim, quantity is None)
                    known = seen.get(raw_key)
                    if known is None:
                        unseen.append((i, raw_key))
                    else:   # these texts were checked before: only the amounts and the currency are left to check
                        value, freight, currency = get("value"), get("freight", ZERO), get("currency", "JPY")
                        whole = None   # value + freight when both are ints (kept as given: CommonLine reads as Decimal)
                        if type(value) is int and 0 <= value < MAX_AMOUNT:
                            whole = value
                        elif type(value) is not Decimal or not value.is_finite() or not 0 <= value < MAX_AMOUNT:
                            return None
                        if type(freight) is int and 0 <= freight < MAX_AMOUNT:
                            if whole is not None:
                                whole += freight
                        elif freight is not ZERO:
                            whole = None
                            if (freight := plain_amount(freight)) is None:
                                return None
                        if (currency != "JPY" and (currency := plain_code(currency, 3)) is None) or (
                                quantity is not None and (quantity := plain_amount(quantity)) is None):
                            return None
                        kind, origin = known
                        ln = CommonLine(code, origin, value, currency, freight, quantity, unit, claim)
                        lines.append(ln)
                        fx = fxs.get(currency)
                        if fx is None:
                            try:
                                fx = fxs[currency] = rate_for(currency, on, rates, "")
                            except InputError:   # raised again, with its line, when the line is prepared below
                                prepared.append(None)
                                later = True
                                continue
                        # as below (exact: an int is converted exactly, and sums below 2 × 10^15 are exact)
                        foreign = Decimal(whole) if whole is not None else value + freight
                        yen = foreign if fx is YEN else foreign * fx.yen_per_unit
                        # whole yen as an int: the same floors as the Decimal's below _EXACT, where its sums are exact
                        money = int(whole if whole is not None and fx is YEN else yen)   # floored: never negative
                        tv = money // 1000 * 1000
                        plan = kind.plan
                        if plan is not None and (share := plan[1]) is not None and 0 < tv < _EXACT:
                            # a common line: its general result built now, as _treat would build it (see there)
                            applied = plan[0]
                            duty = tv * share[0] // share[1]
                            rate_kind, unverified = plan[4], plan[2]
                        elif (plan is None and (applied := kind.ordered) is not None and 0 < tv < _EXACT
                              and quantity is not None and 0 < quantity < _EXACT):
                            # the winner of ordered rates (see _treat), its exact duty worked out
                            amount = applied.rate.evaluate(_base(DutyBase, (tv, quantity, kind.unit, on, origin, False,
                                                                            None, True)))
                            duty = int(amount) if amount > 0 else 0   # floor_yen
                            rate_kind, unverified = applied.rate.kind, kind.ordered_unverified
                        else:
                            prepared.append(_Prepared(i, ln, kind.tariff, fx, foreign, yen, kind.unit, kind.ct_rate,
                                                      kind.reduced, 0, False, [], kind.unverified, None, False,
                                                      kind.ct_text, kind.ct_ratio, kind))
                            continue
                        ct_base = (money + duty // 100 * 100) // 1000 * 1000
                        ct_ratio = kind.ct_ratio
                        nat = (ct_base * ct_ratio[0] // ct_ratio[1] if ct_base < _EXACT
                               else floor_yen(ct_base * kind.ct_rate / 100))
                        loc = nat // 100 * 100 * num // den
                        tariff = kind.tariff
                        prepared.append((LineResult(
                            i, tariff.hs, tariff.description, origin, yen, tv, applied.text, rate_kind,
                            applied.column, applied.name, duty, 0, kind.ct_text, kind.reduced, ct_base, nat, loc,
                            None, None, "general",
                            partial(explain, ln, kind, fx, foreign, yen, tv, applied, on, duty, ct_base, nat, loc,
                                    ratio),
                            applied.notes.copy(), list(unverified)), ln, kind, fx, foreign, yen))
                        continue
            if ln is None:
                ln = plain_line(item)
                if ln is None:
                    return None
            lines.append(ln)
            # currencies are looked up in line order, as _prepare does (the result lists them in order of first use)
            currency = ln.currency
            fx = fxs.get(currency)
            if fx is None:
                try:
                    fx = fxs[currency] = rate_for(currency, on, rates, "")
                except InputError:   # raised again, with its line, when the line is prepared below
                    fx = None
            if kind is None and (code := ln.hs_code):
                if schedule is None:
                    try:
                        schedule = edition_on(on)
                    except LookupError_:
                        return None
                kind = kinds.get((schedule, on, code, ln.unit, ln.reduced_ct, ln.origin, ln.claim_preference,
                                  ln.in_quota, ln.condition, ln.quantity is None))
            if kind is None or fx is None:
                prepared.append(None)
                later = True
                continue
            foreign = ln.value + ln.freight   # + insurance + additions: adding the shared zero changes nothing
            if ln.insurance is not ZERO:
                foreign += ln.insurance
            if ln.additions is not ZERO:
                foreign += ln.additions
            prepared.append(_Prepared(i, ln, kind.tariff, fx, foreign,
                                      foreign if fx is YEN else foreign * fx.yen_per_unit, kind.unit, kind.ct_rate,
                                      kind.reduced, 0, False, [], kind.unverified, None, False, kind.ct_text,
                                      kind.ct_ratio, kind))
        if later:
            for i, p in enumerate(prepared):
                if p is None:
                    prepared[i] = self._prepare_line(i, lines[i], ctx, schedule)
        for i, raw_key in unseen:   # the texts of a line of a known kind, remembered as checked
            if (kind := prepared[i].kind) is not None:  # type: ignore[union-attr]
                _remember(seen, raw_key, (kind, lines[i].origin))
        total = Decimal(0)
        for p in prepared:
            total += p[5] if type(p) is tuple else p.value  # type: ignore[union-attr]
        decl = PlainDeclaration(on, False, simplified, rates, edition, lines)
        return decl, ctx, schedule, prepared, total  # type: ignore[return-value]

    def _prepare(self, lines: list[Line] | list[PlainLine], ctx: _Context,
                 schedule: Schedule | None) -> tuple[list[_Prepared], Decimal]:
        """Every line prepared, and the total customs value (summed in line order)."""
        prepared: list[_Prepared] = []
        append = prepared.append
        total = Decimal(0)
        for i, ln in enumerate(lines):
            p = self._prepare_line(i, ln, ctx, schedule)
            append(p)
            total += p.value
        return prepared, total

    def _prepare_line(self, i: int, ln: AnyLine, ctx: _Context, schedule: Schedule | None) -> _Prepared:
        """One line prepared: from its kind when one is known, else the long way (its kind then remembered)."""
        kind = key = None
        on = ctx.on
        if ln.hs_code and ctx.plain and ln.liquor is None and ln.excise is None:
            key = (schedule, on, ln.hs_code, ln.unit, ln.reduced_ct, ln.origin, ln.claim_preference, ln.in_quota,
                   ln.condition, ln.quantity is None)
            kind = self._kinds.get(key)
        if kind is None:   # prepared the long way; the first line of its kind leaves what it has in common
            p = self._prepare_any(i, ln, ctx, schedule)
            tariff = p.tariff
            # a line banded by value is checked every time (_check_band): a kind would skip the check
            if key is not None and not p.notes and tariff is not None and line_band(tariff.path,
                                                                                     tariff.description) is None:
                p.kind = _remember(self._kinds, key, _Kind(tariff, p.unit, p.reduced, p.ct_rate, p.ct_text,
                                                           p.ct_ratio, p.unverified.copy()))
            return p
        fxs = ctx.fx
        fx = fxs.get(ln.currency)
        if fx is None:
            fx = fxs[ln.currency] = rate_for(ln.currency, on, ctx.fx_supplied, f"lines[{i}].currency")
        foreign = ln.value + ln.freight   # + insurance + additions: adding the shared zero changes nothing
        if ln.insurance is not ZERO:
            foreign += ln.insurance
        if ln.additions is not ZERO:
            foreign += ln.additions
        return _Prepared(i, ln, kind.tariff, fx, foreign, foreign if fx is YEN else foreign * fx.yen_per_unit,
                         kind.unit, kind.ct_rate, kind.reduced, 0, False, [], kind.unverified, None,
                         False, kind.ct_text, kind.ct_ratio, kind)

    def _prepare_any(self, i: int, ln: AnyLine, ctx: _Context, schedule: Schedule | None) -> _Prepared:
        on = ctx.on
        tariff = None
        if ln.hs_code:
            try:
                assert schedule is not None
                tariff = schedule.typed_line(ln.hs_code, on)
            except (ValueError, LookupError_) as exc:
                raise InputError(f"lines[{i}].hs_code", str(exc)) from None
        elif not ln.rate:
            raise InputError(f"lines[{i}].hs_code", "give hs_code or rate")
        if ln.origin is not None and (problem := origin_problem(ln.origin)) is not None:
            raise InputError(f"lines[{i}].origin", problem)   # also on a line with its own rate: never echoed
        unit = None
        if ln.unit:
            try:
                unit = unit_of(ln.unit)
            except ValueError as exc:
                raise InputError(f"lines[{i}].unit", str(exc)) from None
        fx = ctx.fx.get(ln.currency)
        if fx is None:
            fx = ctx.fx[ln.currency] = rate_for(ln.currency, on, ctx.fx_supplied, f"lines[{i}].currency")
        notes: list[str] = []
        unverified: list[str] = []
        if ctx.personal:
            pu = self.rules.personal_use
            foreign = ln.value * pu.factor + ln.additions
            if ln.freight or ln.insurance:
                notes.append("personal use: separately stated freight and insurance are not added "
                             "(関税評価 取扱事例)")
            if pu.verified == "U":
                unverified.append(f"personal-use factor ×{pu.factor} in force until {pu.end}")
        else:
            if ctx.personal_off:
                notes.append(ctx.personal_off)
            foreign = ln.value + ln.freight + ln.insurance + ln.additions
        value = foreign if fx is YEN else foreign * fx.yen_per_unit
        food = self._food.get(tariff.code) if tariff is not None else None
        day = ctx.day
        if food is not None and food[1] is None and ln.reduced_ct is None and ln.liquor is None and day.reduced_on:
            reduced = food[0]   # the common case of _reduced: classified, nothing to report
        else:
            reduced = self._reduced(ln, tariff, day.reduced_on, i, notes, unverified)
        ct_rate = day.ct.national_reduced if reduced else day.ct.national_standard
        if tariff is not None and (band := line_band(tariff.path, tariff.description)) is not None:
            self._check_band(i, ln, tariff, band, value, unit, notes, ctx)
        excise_steps = None
        excise = 0
        if ln.excise is not None or ln.liquor is not None:
            excise_steps = []
            excise = self._excise(ln, on, f"lines[{i}]", excise_steps, unverified)
        return _Prepared(i, ln, tariff, fx, foreign, value, unit, ct_rate, reduced, excise, ctx.personal, notes,
                         unverified, excise_steps, False, day.ct_texts[reduced], day.ct_ratios[reduced])

    @staticmethod
    def _check_band(i: int, ln: AnyLine, tariff: TariffLine, band: ValueBand, value: Decimal, unit: Unit | None,
                    notes: list[str], ctx: _Context) -> None:
        """A line whose description limits its goods by customs value per unit (copper, zinc, onions …): say so when
        the line's value falls outside, or cannot be checked (no quantity), since a neighbouring line then applies
        with another rate (its duty would not be what Customs assesses)."""
        target = unit_of(band.unit)
        where = f"{tariff.hs} covers only goods 「{band.text}」"
        if ln.quantity is None or ln.quantity <= 0:
            found = f"{where}: give a quantity above 0 in {target.code} to check that it is the right line"
        else:
            try:
                with localcontext() as exact:   # the customs value per unit, to 60 digits: no boundary is blurred
                    exact.prec = 60
                    per_unit: Decimal | None = value / convert(ln.quantity, unit or target, target)
            except (ValueError, ArithmeticError):   # another dimension; a quantity of 1E-999999999
                per_unit = None
            if per_unit is None:
                found = f"{where}: the quantity in {ln.unit or target.code} cannot be checked against it"
            elif band.holds(per_unit):
                return
            else:
                found = (f"{where}, and this line's customs value is {yen_text(per_unit)} yen per {target.ja}: "
                         f"another line of {tariff.hs[:7]} applies, with its own rate")
        notes.append(found)
        if ctx.warnings is None:
            ctx.warnings = []
        ctx.warnings.append(f"line {i}: {found}")

    def _valuation_steps(self, p: _Prepared) -> list[Step]:
        """Valuation and FX steps of a line, rendered only when its explanation is asked for."""
        ln = p.line
        steps = []
        if p.personal:
            pu = self.rules.personal_use
            added = f" + {yen_text(ln.additions)}" if ln.additions else ""
            steps.append(Step("valuation", f"{yen_text(ln.value)} {ln.currency} × {pu.factor} (personal use: overseas "
                                           f"retail price × {pu.factor}){added}", None, pu.basis, pu.verified))
        else:
            parts = " + ".join(yen_text(x) for x in (ln.value, ln.freight, ln.insurance, ln.additions) if x) or "0"
            steps.append(Step("valuation", f"CIF = {parts} {ln.currency}", None,
                              "関税定率法4条1項 (取引価格 + 運賃・保険料等)", "V-sec"))
        if p.fx.source != "yen":
            steps.append(self.step("fx_conversion", f"{yen_text(p.foreign)} {ln.currency} × {p.fx.yen_per_unit} "
                                                    f"({p.fx.describe()}) = {yen_text(p.value)} yen", _num(p.value)))
        if p.excise_steps:
            steps += p.excise_steps
        return steps

    def _reduced(self, ln: AnyLine, tariff: TariffLine | None, available: bool, i: int,
                 notes: list[str], unverified: list[str]) -> bool:
        if ln.reduced_ct is not None:
            if ln.reduced_ct and ln.liquor:
                raise InputError(f"lines[{i}].reduced_ct", "liquor (酒類) is never taxed at the reduced rate")
            if ln.reduced_ct and not available:
                raise InputError(f"lines[{i}].reduced_ct", "no reduced consumption-tax rate on this date "
                                                           "(it starts 2019-10-01)")
            return ln.reduced_ct
        if ln.liquor or not available:
            return False
        if tariff is None:
            notes.append("no HS code: standard consumption-tax rate assumed; set reduced_ct for food (飲食料品)")
            return False
        cached = self._food.get(tariff.code)
        if cached is None:
            status, why = self.rules.food.status(tariff.code)
            if status == "depends":
                cached = (None, f"whether {tariff.hs} is food (飲食料品, reduced rate) depends on its use ({why}): "
                                "set reduced_ct to true or false")
            elif self.rules.food.verified == "U" and (status == "reduced" or int(tariff.code[:2]) <= 24):
                cached = (status == "reduced", f"food classification of {tariff.hs} ({status} rate) from "
                                               "rules/reduced_rate_food.yaml")
            else:
                cached = (status == "reduced", None)
            _remember(self._food, tariff.code, cached)
        reduced, message = cached
        if reduced is None:
            raise InputError(f"lines[{i}].reduced_ct", message)
        if message:
            unverified.append(message)
        return reduced

    def _excise(self, ln: AnyLine, on: date, at: str, steps: list[Step], unverified: list[str]) -> int:
        if ln.excise is not None and ln.liquor is not None:
            raise InputError(f"{at}.excise", "give either liquor or excise, not both")
        if ln.excise is not None:
            amount = floor_yen(ln.excise)
            steps.append(Step("excise_line", f"excise given: {amount:,}", amount, "輸徴法 (内国消費税)", None))
            return amount
        if ln.liquor is None:
            return 0
        lq = ln.liquor
        cats = {**self.rules.liquor.categories, **self.rules.liquor.special_rates}
        cat = cats.get(lq.category)
        if cat is None:
            raise InputError(f"{at}.liquor.category", f"unknown liquor category {lq.category!r} "
                                                       f"(use one of {', '.join(cats)})")
        rate = cat.on(on)
        if rate is None:
            raise InputError(f"{at}.liquor.category", f"no liquor-tax rate for {lq.category} is bundled for {on}")
        try:
            per_kl = rate.per_kl_at(lq.abv)
        except ValueError as exc:
            raise InputError(f"{at}.liquor.abv", str(exc)) from None
        amount = floor_yen(lq.litres * per_kl / 1000)
        strength = f" at {lq.abv}%" if rate.abv_base is not None else ""
        s = self.rules.step("excise_line")
        steps.append(Step("excise_line", f"liquor tax {cat.name_ja}{strength}: {yen_text(lq.litres)} l × {per_kl:,} "
                                         f"yen/kL ÷ 1,000 = {amount:,}", amount, s.basis, rate.verified))
        if rate.verified == "U":
            unverified.append(f"liquor-tax rate for {lq.category}")
        if self.rules.liquor.rounding.verified_detail.get("quantity") == "U":
            unverified.append("liquor-tax quantity rounding (litres kept exact)")
        return amount

    # --- exemption ---------------------------------------------------------------------------------

    def _de_minimis(self, prepared: list[_Prepared], total: Decimal, dm: DeMinimisVersion | None, warnings: list[str],
                    explanation: list[Step]) -> dict[str, Any] | None:
        """The de minimis exemption (``dm``: the version in force, if any) checked against the total customs value."""
        if dm is None or total > dm.threshold_jpy + 1000:   # neither exempt nor near the threshold
            return None
        if abs(total - dm.threshold_jpy) <= 1000:
            warnings.append(f"total customs value {yen_text(total)} is within 1,000 yen of the "
                            f"{dm.threshold_jpy:,}-yen de minimis threshold: {self.rules.step('thresholds').rule} "
                            "[unverified]")
        if total > dm.threshold_jpy:
            return None
        relief = self.rules.reliefs.reliefs["de_minimis"]
        exempt, excluded = [], []
        for p in prepared:
            item = None
            if p.tariff is not None:
                key = (dm.valid_from, p.tariff.code)
                item = (self._excluded[key] if key in self._excluded
                        else _remember(self._excluded, key, dm.excluded_item(p.tariff.code)))
            if item is not None:
                excluded.append(p.index)
                p.notes.append(f"not exempt under {relief.article}: {item.name_ja} (関税定率法施行令16条の3) — a gift "
                               "for private use may still be exempted at Customs' discretion")
                if item.verified == "U":
                    # a new list: a line of a known kind shares its kind's
                    p.unverified = [*p.unverified, f"de minimis exclusion of {p.tariff.hs if p.tariff else ''} "
                                                   f"({item.name_ja})"]
            else:
                p.de_minimis_exempt = True
                exempt.append(p.index)
        if not exempt:
            return None
        but = f" except lines {excluded}" if excluded else ""
        explanation.append(Step("exemption", f"total customs value {yen_text(total)} ≤ {dm.threshold_jpy:,}: duty and "
                                             f"consumption tax exempt{but}; liquor tax and other excises are still "
                                             "charged", None, dm.basis, dm.verified))
        return {"article": relief.article, "name": relief.name_ja, "name_en": relief.name_en,
                "text": f"{relief.article} {relief.name_ja}", "lines": exempt, "excluded_lines": excluded,
                "threshold": dm.threshold_jpy, "verified": dm.verified}

    # --- duty per treatment ------------------------------------------------------------------------

    def _treat(self, prepared: list[_Prepared | _Done], decl: AnyDeclaration, treatment: str) -> _Treated:
        """The lines under ``treatment`` (a ``_Done`` line, general only, holds its result already)."""
        on = decl.date
        ct = self._day(on).ct
        num, den = ct.local_fraction
        ratio = ct.local_ratio
        general = treatment == "general"
        select = self._select
        explain = self._explain_line
        lines: list[LineResult] = []
        append = lines.append
        flagged: list[LineResult] = []     # lines relying on unverified rule data
        sum_duty = sum_nat = sum_loc = sum_excise = 0
        preference = False
        for p in prepared:
            if type(p) is tuple:
                line = p[0]
                append(line)
                sum_duty += line.duty
                sum_nat += line.national_ct
                sum_loc += line.local_ct
                if line.unverified:
                    flagged.append(line)
                if not preference and line.rate_column.startswith(_PREFERENCES):  # type: ignore[union-attr]
                    preference = True
                continue
            ln = p.line
            value = p.value
            whole_yen = int(value)   # floored: a customs value is never negative
            tv = whole_yen // 1000 * 1000   # truncate_tax_base
            if (general and tv > 0 and (kind := p.kind) is not None and (plan := kind.plan) is not None
                    and (share := plan[1]) is not None and tv < _EXACT and ln.rate is None and ln.relief is None
                    and not p.de_minimis_exempt):
                # the common line, as the general steps below would compute it: a remembered plain percentage,
                # no relief, exemption or excise (a kind has none), exact integers
                applied = plan[0]
                assert applied is not None
                duty = tv * share[0] // share[1]
                # truncate_tax_base(value + truncate_tax_amount(duty)) and truncate_tax_amount(nat), neither negative
                ct_base = (whole_yen + duty // 100 * 100) // 1000 * 1000
                ct_ratio = p.ct_ratio
                nat = ct_base * ct_ratio[0] // ct_ratio[1] if ct_base < _EXACT else floor_yen(ct_base * p.ct_rate / 100)
                loc = nat // 100 * 100 * num // den
                if p.unverified == kind.unverified:   # nothing added since (a de minimis exclusion would)
                    unverified = list(plan[2])       # the kind's and the plan's, sorted once
                else:
                    unverified = p.unverified + applied.unverified
                    unverified = sorted(set(unverified)) if unverified else unverified
                tariff = kind.tariff
                column = applied.column
                line = LineResult(
                    p.index, tariff.hs, tariff.description, ln.origin, value, tv, applied.text, plan[4],
                    column, applied.name, duty, 0, p.ct_text, p.reduced, ct_base, nat, loc, None, None, "general",
                    partial(explain, p, tv, applied, None, on, duty, duty, None, False, ct_base, nat, loc, ratio),
                    p.notes + applied.notes, unverified)   # a new list: the line's own, never the prepared one's
                append(line)
                sum_duty += duty
                sum_nat += nat
                sum_loc += loc
                if unverified:
                    flagged.append(line)
                if plan[3]:
                    preference = True
                continue
            quantity, unit, liquor = ln.quantity, p.unit, ln.liquor
            if quantity is None and liquor is not None:
                quantity, unit = liquor.litres, unit_of("l")
            base = _base(DutyBase, (tv, quantity, unit, on, ln.origin, ln.in_quota, ln.condition, liquor is None))
            if general and ln.rate is None:   # what _duty_rate does for it
                kind = p.kind
                plan = kind.plan if kind is not None and tv > 0 else None
                if plan is not None and plan[0] is not None:   # what _select would find
                    applied, amount, share = plan[0], None, plan[1]
                elif (kind is not None and kind.ordered is not None and 0 < tv < _EXACT and quantity is not None
                      and 0 < quantity < _EXACT):   # what select_rate would choose, its amount worked out below
                    applied, amount, share = kind.ordered, None, None
                else:
                    applied, amount, share = select(p, base, on, ln.claim_preference)
                    if amount is None and kind is not None:   # a remembered plan: kept with the kind too
                        kind.plan = (applied, share, tuple(sorted(set(kind.unverified + applied.unverified))),
                                     applied.column.startswith(_PREFERENCES), applied.rate.kind)
                    elif (kind is not None and kind.ordered is None and not kind.unordered and 0 < tv < _EXACT
                          and quantity is not None and 0 < quantity < _EXACT):
                        cover = self._coverage[(ln.origin, ln.claim_preference, on)]
                        if _ordered(kind.tariff, cover):
                            kind.ordered = applied
                            kind.ordered_unverified = tuple(sorted(set(kind.unverified + applied.unverified)))
                        else:
                            kind.unordered = True
                if amount is None:
                    if share is not None and tv < _EXACT:
                        amount_int = tv * share[0] // share[1]   # = floor_yen(tv × percent / 100), exactly
                    else:
                        amount = applied.rate.evaluate(base)
            else:
                applied, amount = self._duty_rate(p, base, decl, treatment)
            notes = p.notes + applied.notes
            unverified = p.unverified + applied.unverified
            duty = full_duty = floor_yen(amount) if amount is not None else amount_int
            extra: list[Step] | None = None   # relief and exemption steps, rare: built eagerly
            relief_text, ct_exempt = None, False
            if ln.relief is not None:
                extra = []
                relief_text, duty, ct_exempt = self._relief(p, duty, f"lines[{p.index}]", extra, notes)
            exemption = None
            if p.de_minimis_exempt:
                dm = self.rules.reliefs.reliefs["de_minimis"]
                exemption = f"{dm.article} {dm.name_ja}"
                extra = extra or []
                extra.append(Step("exemption", f"duty {duty:,} and consumption tax exempt", 0, dm.article, dm.verified))
                duty, ct_exempt = 0, True
            excise = p.excise
            if ct_exempt:
                ct_base = nat = loc = 0
            elif excise:
                ct_base = truncate_tax_base(whole_yen + truncate_tax_amount(duty) + excise)
                unverified.append("excise added to the consumption-tax base in whole yen, not cut to 100 yen")
            else:
                # whole yen + whole amounts: floor(value) + n = floor(value + n) exactly, where a Decimal sum of
                # more than 28 digits would round
                ct_base = truncate_tax_base(whole_yen + truncate_tax_amount(duty))
            if not ct_exempt:
                if ct_base < _EXACT:
                    nat = ct_base * p.ct_ratio[0] // p.ct_ratio[1]   # = floor_yen(ct_base × rate / 100), exactly
                else:
                    nat = floor_yen(ct_base * p.ct_rate / 100)
                loc = truncate_tax_amount(nat) * num // den
            tariff = p.tariff
            column = applied.column
            line = LineResult(
                p.index, tariff.hs if tariff else None, tariff.description if tariff else None, ln.origin,
                value, tv, applied.text, applied.rate.kind, column, applied.name, duty, excise,
                p.ct_text, p.reduced, ct_base, nat, loc, exemption, relief_text,
                "simplified" if column == "simplified" else "general",
                partial(explain, p, tv, applied, amount, base, full_duty, duty, extra, ct_exempt, ct_base, nat, loc,
                        ratio),
                notes, sorted(set(unverified)) if unverified else unverified)
            append(line)
            sum_duty += duty
            sum_nat += nat
            sum_loc += loc
            sum_excise += excise
            if unverified:
                flagged.append(line)
            if not preference and column.startswith(_PREFERENCES):
                preference = True
        return _Treated(lines, Totals(truncate_tax_amount(sum_duty), truncate_tax_amount(sum_nat),
                                      truncate_tax_amount(sum_loc), truncate_tax_amount(sum_excise)),
                        sum_excise > 0, flagged, preference)

    def _explain_done(self, ln: CommonLine, kind: _Kind, fx: FxRate, foreign: Decimal, value: Decimal, tv: int,
                      applied: Applied, on: date, duty: int, ct_base: int, nat: int, loc: int,
                      ratio: str) -> list[Step]:
        """The steps of a ``_Done`` line (built without a ``_Prepared``: its facts are gathered here, when asked)."""
        p = _Prepared(0, ln, kind.tariff, fx, foreign, value, kind.unit, kind.ct_rate, kind.reduced, 0, False, [],
                      kind.unverified, None, False, kind.ct_text, kind.ct_ratio, kind)
        return self._explain_line(p, tv, applied, None, on, duty, duty, None, False, ct_base, nat, loc, ratio)

    def _explain_line(self, p: _Prepared, tv: int, applied: Applied, amount: Decimal | None, base: DutyBase | date,
                      full_duty: int, duty: int,
                      extra: list[Step] | None, ct_exempt: bool, ct_base: int, nat: int, loc: int,
                      ratio: str) -> list[Step]:
        """Every step of one line, rendered on demand from the figures the line already holds (``amount`` None:
        the duty came from a plan's integer ratio, the exact amount is worked out here; ``base`` a date: the line
        took the common path, its duty base is rebuilt here)."""
        if not isinstance(base, tuple):   # the date: a common line's base is built here, not per line
            ln = p.line
            base = DutyBase(tv, ln.quantity, p.unit, base, ln.origin, ln.in_quota, ln.condition, True)
        if amount is None:
            amount = applied.rate.evaluate(base)
        steps = self._valuation_steps(p)
        steps.append(self.step("taxable_value", f"floor_1000({yen_text(p.value)}) = {tv:,}", tv))
        steps.append(self.step("duty_line", _duty_formula(applied, amount, base, full_duty), full_duty))
        if extra:
            steps += extra
        if not ct_exempt:
            dt, et = truncate_tax_amount(duty), p.excise
            steps.append(self.step("ct_base", f"floor_1000({yen_text(p.value)} + {dt:,} + {et:,}) = {ct_base:,}",
                                   ct_base))
            if p.excise:
                steps.append(self.step("excise_in_ct_base", f"excise in the base: the line's {et:,} in whole yen"))
            steps.append(self.step("national_ct_line", f"{ct_base:,} × {p.ct_rate}% = "
                                                       f"{yen_text(ct_base * p.ct_rate / 100)} → {nat:,}", nat))
            steps.append(self.step("local_ct_line", f"floor_100({nat:,}) × {ratio} = {truncate_tax_amount(nat):,} × "
                                                    f"{ratio} → {loc:,}", loc))
        return steps

    def _duty_rate(self, p: _Prepared, base: DutyBase, decl: AnyDeclaration, treatment: str) -> tuple[Applied, Decimal]:
        """The rate applied and the exact amount it gives for this line (a cached ``Applied`` may be shared:
        its own ``amount`` is then another line's)."""
        ln = p.line
        if treatment == "simplified" and p.tariff is not None:
            sv = self._day(decl.date).simplified
            assert sv is not None
            code = p.tariff.code
            key = (sv.valid_from, code)
            out = self._simple_out.get(key)
            if out is None:   # looked up once per version and code: the lists are matched by prefix
                out = _remember(self._simple_out, key, sv.is_excluded(code))
            if not out:
                # duty-free under the general tariff (national or WTO rate): stays free (CA 1001)
                mfn, mfn_amount = self._selected(p, base, decl, False)
                if ln.rate is None and mfn_amount == 0:
                    return Applied("simplified", "簡易税率（無税品）", mfn.text, mfn.rate, mfn_amount,
                                   ["free under the general tariff: stays free under the simplified tariff"],
                                   []), mfn_amount
                found = self._simple_cat.get(key)
                if found is None:
                    cat, text, _kind = sv.category(code)
                    found = _remember(self._simple_cat, key, (cat, text, parse_rate(text)))
                cat, text, rate = found
                try:
                    amount = rate.evaluate(base)
                except NeedsInput as exc:
                    raise InputError(f"lines[{p.index}].{exc.field}",
                                     f"{exc.message} (simplified tariff {text})") from None
                extra = []
                if ln.claim_preference is not False:
                    extra.append("a preferential rate needs the whole consignment to opt out of the simplified "
                                 "tariff (simplified: never)")
                return Applied("simplified", f"簡易税率 第{cat.no}号 {cat.name_ja}", text, rate, amount, extra,
                               [f"simplified-tariff category of {p.tariff.hs}"] if sv.verified == "U" else []), amount
            general, amount = self._duty_rate(p, base, decl, "general")
            return replace(general, amount=amount,
                           notes=["excluded from the simplified tariff: general rate", *general.notes]), amount
        elif treatment == "simplified":
            raise InputError(f"lines[{p.index}].hs_code", "the simplified tariff needs the HS code of every line")
        if ln.rate is not None:
            try:
                rate = parse_rate(ln.rate)
            except (RateParseError, ValueError) as exc:
                raise InputError(f"lines[{p.index}].rate", str(exc)) from None
            amount = self._evaluate(rate, base, f"lines[{p.index}]", "rate")
            return Applied("override", "指定税率 (rate given)", ln.rate, rate, amount), amount
        return self._selected(p, base, decl, ln.claim_preference)

    def _selected(self, p: _Prepared, base: DutyBase, decl: AnyDeclaration,
                  claim: bool | str) -> tuple[Applied, Decimal]:
        """通達3-1 selection for the line with ``claim`` (see ``_select``) and the exact amount it gives."""
        applied, amount, _ratio = self._select(p, base, decl.date, claim)
        return applied, applied.rate.evaluate(base) if amount is None else amount

    def _select(self, p: _Prepared, base: DutyBase, on: date,
                claim: bool | str) -> tuple[Applied, Decimal | None, tuple[int, int] | None]:
        """The rate applied, with the exact amount when it was selected afresh, else None and, for a remembered
        plain percentage, its ratio (duty = taxable value × n // d). The winner is remembered where it cannot
        depend on the value (``_value_free``)."""
        ln = p.line
        tariff = p.tariff
        assert tariff is not None
        key = (tariff.edition, tariff.code, tariff.description, ln.origin, claim, on, ln.in_quota, ln.condition,
               base.quantity is None)
        plan = self._plans.get(key) if base.taxable_value > 0 else None
        if plan is not None and plan[0] is not None:  # the same rate wins whatever the (non-zero) value
            return plan[0], None, plan[1]
        cover_key = (ln.origin, claim, on)
        cover = self._coverage.get(cover_key)
        try:
            if cover is None:
                cover = _remember(self._coverage, cover_key, coverage(self.rules, ln.origin, claim, on))
            applied = select_rate(tariff, base, claim, self.rules, on, cover)
        except InputError as exc:
            raise exc.within(f"lines[{p.index}]") from None
        if base.taxable_value > 0 and plan is None:   # (None, None): the winner depends on the value
            _remember(self._plans, key, (applied, _ratio(applied.rate)) if _value_free(tariff, cover) else (None, None))
        return applied, applied.amount, None

    @staticmethod
    def _evaluate(rate: Rate, base: DutyBase, at: str, field_: str) -> Decimal:
        try:
            return rate.evaluate(base)
        except NeedsInput as exc:
            raise InputError(f"{at}.{exc.field}", exc.message) from None
        except NotApplicable as exc:
            raise InputError(f"{at}.{field_}", f"the rate does not cover the goods: {exc}") from None
        except ManualRate as exc:
            raise InputError(f"{at}.{field_}", str(exc)) from None

    def _relief(self, p: _Prepared, duty: int, at: str, steps: list[Step],
                notes: list[str]) -> tuple[str | None, int, bool]:
        """(relief article, duty after relief, consumption tax exempt?)."""
        rel = p.line.relief
        if rel is None:
            return None, duty, False
        info = self.rules.reliefs.reliefs[rel.type]
        label = f"{info.article} {info.name_ja}"
        if rel.type == "reimport":
            steps.append(Step("relief", f"{label}: duty {duty:,} → 0; consumption tax "
                                        + ("charged (the export was consumption-tax-free)" if rel.export_ct_free
                                           else "exempt (輸徴法13条1項1号)"), 0, info.article, info.verified))
            return label, 0, not rel.export_ct_free
        given = rel.export_value if rel.type == "repair" else rel.japanese_value
        name = "export_value" if rel.type == "repair" else "japanese_value"
        if given is None:
            raise InputError(f"{at}.relief.{name}", f"{info.article} needs {name} (in the line currency)")
        if rel.type == "outward_processing":
            eligible = info.eligible_hs or []
            code = p.tariff.code if p.tariff is not None else ""
            if (not code or not any(code.startswith(hs_digits(e)) for e in eligible)
                    or any(code.startswith(hs_digits(e)) for e in info.excluded_hs)):
                but = f" except {', '.join(info.excluded_hs)}" if info.excluded_hs else ""
                raise InputError(f"{at}.relief", f"{info.article} covers only {', '.join(eligible)}{but}")
        part = given * p.fx.yen_per_unit
        if part > p.value:
            raise InputError(f"{at}.relief.{name}", f"{name} exceeds the customs value of the line")
        cut = floor_yen(Decimal(duty) * part / p.value) if p.value else 0
        steps.append(Step("relief", f"{label}: {duty:,} − floor({duty:,} × {yen_text(part)} / {yen_text(p.value)}) = "
                                    f"{duty - cut:,}; consumption tax not reduced", duty - cut, info.article,
                          info.verified))
        notes.append(f"{label}: {info.conditions}")
        return label, duty - cut, False

    def _total_steps(self, lines: list[LineResult], t: Totals, excise: bool) -> list[Step]:
        (duty_basis, duty_verified), (nat_basis, nat_verified), (loc_basis, loc_verified) = self._totals_basis
        duty, nat, loc = t.duty, t.national_ct, t.local_ct
        steps = [Step("duty_total", partial(_sum_formula, lines, "duty", duty), duty, duty_basis, duty_verified),
                 Step("national_ct_total", partial(_sum_formula, lines, "national_ct", nat), nat, nat_basis,
                      nat_verified),
                 Step("local_ct_total", partial(_sum_formula, lines, "local_ct", loc), loc, loc_basis, loc_verified)]
        if excise:   # some line bears excise (its total may still round to 0)
            steps.append(self.step("excise_total", partial(_sum_formula, lines, "excise", t.excise), t.excise))
        return steps


def _sum_formula(lines: list[LineResult], name: str, total: int) -> str:
    """A total's formula (rendered only when output)."""
    return f"floor_100({' + '.join(f'{getattr(ln, name):,}' for ln in lines)}) = {total:,}"


_CACHE_LIMIT = 8192
_COMMON = frozenset(("hs_code", "origin", "value", "currency", "freight", "quantity", "unit", "claim_preference"))
# the fields of most lines: a line with no others whose texts were seen before is checked by _plain itself
_PREFERENCES = ("epa_", "rate_gsp", "rate_ldc")   # columns whose rate needs proof of origin
_EXACT = 10**20   # below this, an int times a percentage of a few digits is exact in Decimal (28 digits) too


def _fraction(percent: Decimal) -> tuple[int, int]:
    """``percent`` / 100 as (numerator, denominator)."""
    n, d = percent.as_integer_ratio()
    return n, d * 100


def _ratio(rate: Rate) -> tuple[int, int] | None:
    """A plain percentage (or free) as a fraction of the taxable value, when Decimal would compute it exactly."""
    rate = _strip(rate)
    if isinstance(rate, Free):
        return 0, 1
    if isinstance(rate, AdValorem) and len(rate.percent.as_tuple().digits) <= 6:
        return _fraction(rate.percent)
    return None


_base = tuple.__new__   # DutyBase from a tuple of all its fields: a third of what its keyword-aware __new__ costs


def _remember(cache: dict, key: object, value: Any) -> Any:
    """Store in a per-process cache that is emptied when full (Excel keeps one process for days)."""
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def _value_free(line: TariffLine, cover: Coverage) -> bool:
    """True if the winner of ``select_rate`` cannot depend on the taxable value (above 0) or the quantity: every
    column it may read is ``proportional``."""
    for column in _read(line, cover):
        rate = line.rate(column)   # a text no parser knows is a Manual rate here, not an exception
        if rate is not None and not proportional(rate):
            return False
    return True


def _read(line: TariffLine, cover: Coverage) -> list[str]:
    """The columns ``select_rate`` may read for a line: the temporary rate, the general rate unless the temporary one
    always applies, the WTO rate if the origin has it, the claimed preferences and, when GSP is among them, the EPA
    columns (its exclusion)."""
    temporary = line.rate("rate_temporary")
    columns = ["rate_temporary"]
    if temporary is None or not isinstance(_strip(temporary), AdValorem | Free):
        columns.append("rate_general")
    if cover.wto_ok:
        columns.append("rate_wto")
    if cover.claimed:
        columns += [c for c, _name, _unverified in cover.columns]
        if "rate_gsp" in columns:
            columns += [c for c in line.columns if c.startswith("epa_")]
    return columns


_Shape = tuple[str, Decimal, Decimal, Any]   # (av | sum | max, percent, yen, (unit, per, decimals kept) or None)


def _shape(rate: Rate) -> _Shape | None:
    """A rate of the forms ``_ordered`` compares: free, a percentage, a percentage plus or higher-of yen per unit;
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


def _ordered(line: TariffLine, cover: Coverage) -> bool:
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


def _duty_formula(applied: Applied, amount: Decimal, base: DutyBase, duty: int) -> str:
    trace: list[str] = []
    try:
        applied.rate.evaluate(base, trace)
    except (NotApplicable, NeedsInput, ManualRate):
        trace = []
    return f"{applied.name} {applied.text}: {'; '.join(trace) or yen_text(amount)} → {duty:,}"


def _num(d: Decimal) -> int | str:
    return int(d) if d == d.to_integral_value() else format(d.normalize(), "f")


_ENGINE: Engine | None = None


@tables.on_switch
def _forget() -> None:
    if _ENGINE is not None:
        _ENGINE.forget_plans()   # rate plans are keyed by edition name, which a refresh may keep


def engine() -> Engine:
    """The process-wide engine (rules load once)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine()
    return _ENGINE


def compute(declaration: Declaration | dict[str, Any]) -> Result:
    """Compute one declaration (a dict in the ``xlduty compute`` JSON shape, or a ``Declaration``)."""
    return engine().compute(declaration)


class CollectionPaused:
    """Cyclic garbage collection paused, then restored as it was: results and their output form no cycles, and
    rescanning a growing list of them would otherwise dominate a large batch (rendering one: ×1.8).

    A class, not ``@contextmanager``: on CPython 3.11 a loop run while a generator-based context manager is
    suspended measured a third slower (bench/throughput.py 216k → 161k lines/s)."""

    __slots__ = ("_was_enabled",)

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *_exc: object) -> None:
        if self._was_enabled:
            gc.enable()


def compute_batch(declarations: list[Declaration | dict[str, Any]]) -> list[Result]:
    """Compute several declarations; an error names the item (``[3].lines[0].value``). Collection is paused."""
    if not declarations:
        return []
    run = engine().compute   # loaded before collection is paused: a rules error leaves it as it was
    out = []
    with CollectionPaused():
        for i, d in enumerate(declarations):
            try:
                out.append(run(d))
            except InputError as exc:
                raise exc.within(f"[{i}]") from None
    return out


__all__ = ["DataError", "Engine", "InputError", "compute", "compute_batch", "format_hs"]
