"""Compute one declaration exactly as Japan Customs does (CA 1111; 関税法基本通達13の4): the steps in the order the
law applies them.

    the declaration, checked (declaration.py)
    each line: its tariff line (classification.py), origin (origin.py), customs value in yen (valuation.py:
        定率法4条, 4条の6, 4条の7), consumption-tax class (consumption_tax.py) and excise (excise.py)
    the total customs value → the ¥10,000 exemption (de_minimis.py: 定率法14条18号)
    each line under the general tariff: its rate (selection.py: 通達3-1) and duty (duty.py), a relief
        (reliefs.py: 14条10号, 11条, 暫八), the exemption, its consumption tax (consumption_tax.py: 消費税法28条4項,
        29条, 地方税法72条の83)
    the same under the simplified tariff where it may apply, the cheaper kept (simplified.py: 定率法3条の3)
    the totals, each cut to 100 yen (rounding.py: 通則法119条), and the proof of origin (origin.py)

This is the Python API the CLI and the Excel functions call: ``compute(declaration) -> Result``. Every step
explains itself (explanation.py). The fast path (``fast/``) takes over the steps it can do faster for repeated kinds
of line; ``Engine(fast=False)`` computes everything the plain way, and tests/test_fast_path.py holds the two equal.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from xlduty.core import classification, consumption_tax, duty, excise, origin, reliefs, tables, valuation, vouch
from xlduty.core.consumption_tax import FoodClass
from xlduty.core.de_minimis import DeMinimis
from xlduty.core.declaration import parse_declaration
from xlduty.core.errors import DataError, InputError
from xlduty.core.explanation import Explanation
from xlduty.core.facts import AnyDeclaration, AnyLine, Context, Day, Prepared, Treated, day_of
from xlduty.core.fast.path import FastPath, prepared
from xlduty.core.fast.plain import plain_header, validate
from xlduty.core.fx import given_rate_warning
from xlduty.core.hs import format_hs
from xlduty.core.rate import DutyBase
from xlduty.core.result import UNVERIFIED, LineResult, Result, Step, Totals
from xlduty.core.rounding import floor_yen, truncate_tax_amount, truncate_tax_base
from xlduty.core.rules import Rules, load_rules
from xlduty.core.schedule import LookupError_, Schedule, edition_on, line_bands, pinned_edition
from xlduty.core.selection import Applied, select_for_line
from xlduty.core.simplified import Simplified

if TYPE_CHECKING:
    from xlduty.core.declaration_models import Declaration

GENERAL, SIMPLIFIED = "general", "simplified"


class Engine:
    """Holds the rules; ``compute`` is reentrant. Between declarations the fast path keeps only bounded caches of
    what cannot depend on a line's amounts (line kinds, rate plans, coverage, dated rules): a result never depends
    on what was computed before (tests/test_rate_plans.py). ``fast=False``: no fast path at all."""

    def __init__(self, rules: Rules | None = None, *, fast: bool = True) -> None:
        self.rules = rules = rules or load_rules()
        self.explanation = Explanation(rules)
        self.food = FoodClass(rules.food)
        self.de_minimis = DeMinimis(rules)
        self.simplified = Simplified(rules)
        self.fast = FastPath(rules, self.prepare_line, self.explanation, self.simplified) if fast else None

    def forget_plans(self) -> None:
        """Forget remembered rate plans and line kinds (the tables in use were switched)."""
        if self.fast is not None:
            self.fast.forget()

    def one_line(self, header: dict[str, Any]) -> Callable[[dict[str, Any]], Result]:
        """``compute`` of declarations of one line that share their declaration fields ``header`` (a batch whose
        date, rates and mode are given once, not per row): ``one_line(header)(line)`` is
        ``compute({**header, "lines": [line]})``, with the header checked once rather than per declaration, and the
        line taken by the fast path's one-line route (``FastPath.one``) where it can be, as ``compute`` takes it."""
        compute = self.compute
        fast = self.fast
        head = plain_header({**header, "lines": [None]}) if fast is not None else None
        if head is None or head[1]:   # not plain (the models say what is wrong), or personal use: every time
            return lambda ln: compute({**header, "lines": [ln]})
        on, _personal, mode, rates, edition, _lines = head
        one = fast.one  # type: ignore[union-attr]

        def run(ln: dict[str, Any]) -> Result:
            result = one(on, mode, rates, edition, ln)
            return result if result is not None else compute({**header, "lines": [ln]})

        return run

    def day(self, on: date) -> Day:
        """The consumption-tax, de minimis and simplified-tariff versions in force on ``on``."""
        return self.fast.day(on) if self.fast is not None else day_of(self.rules, on)

    def compute(self, data: Declaration | dict[str, Any]) -> Result:
        """One declaration (a dict in the ``xlduty compute`` JSON shape, or a ``Declaration``), step by step."""
        fast = self.fast
        declared = fast.declare(data) if fast is not None and type(data) is dict else None
        if type(declared) is Result:   # a declaration of one line, built whole by the fast path (fast.single)
            return declared
        decl, ctx, schedule, lines, total = declared or self.declare(data)   # each line classified and valued
        day = ctx.day
        # a date past what the tables can vouch for, or a pinned edition not in force on it (vouch.py)
        warnings: list[str] = vouch.date_warnings(ctx.on, decl.tariff_edition, self.rules.tariff_cycle.annual_edition)
        explanation = [self.explanation.thresholds(total)]
        exemption = self.de_minimis.apply(lines, total, day.de_minimis, warnings, explanation)  # type: ignore[arg-type]
        general = self.treat(lines, ctx, GENERAL)   # each line's rate, duty, relief, exemption, consumption tax
        simplified = reason = None
        if decl.simplified != "never":   # the simplified tariff, where the consignment is small enough
            reason = self.simplified.why_not(day.simplified, total, ctx.on, exemption, warnings)
            if reason is None:
                try:
                    simplified = self.treat(lines, ctx, SIMPLIFIED)
                except InputError as exc:
                    if decl.simplified == "always":
                        raise
                    reason = f"simplified tariff not computed: {exc}"
        chosen, simplified_info = self.simplified.choose(decl.simplified, general, simplified, reason, day.simplified)
        explanation += self.explanation.totals(chosen)   # cut to 100 yen
        for ln in chosen.flagged:
            warnings.append(f"line {ln.index}: {UNVERIFIED}: {'; '.join(ln.unverified)}")
        if chosen.preference:
            origin.proof(self.rules.reliefs.origin_proof_waiver, total, warnings, explanation)
        fx = [{"currency": r.currency, "yen": r.published, "per_units": r.per_units,   # in order of first use
               "week_start": str(r.week_start) if r.week_start else None,
               "week_end": str(r.week_end) if r.week_end else None,
               "source": r.source, **({"alias_of": r.alias_of} if r.alias_of else {})}
              for r in ctx.fx.values() if r.source != "yen"]
        if ctx.warnings:
            warnings += ctx.warnings
        if ctx.readings:
            self.readings_warning(ctx.readings, chosen, GENERAL if chosen is general else SIMPLIFIED, warnings)
        for r in ctx.fx.values():
            if r.source == "declaration" and (hint := given_rate_warning(r.currency, r.published)) is not None:
                warnings.append(hint)
        return Result(day.text, schedule.edition if schedule else None, fx, decl.personal_use, simplified_info,
                      exemption, chosen.totals, chosen.lines, explanation, warnings)

    def readings_warning(self, readings: list[tuple[str, int, int, int]], chosen: Treated, treatment: str,
                         warnings: list[str]) -> None:
        """Say so where the duty payable differs between the two readings of the gate-price unit value."""
        other = {i: d for t, i, _duty, d in readings if t == treatment}
        if not other:
            return
        total = truncate_tax_amount(sum(other.get(ln.index, ln.duty) for ln in chosen.lines))
        if total != chosen.totals.duty:
            lines = ", ".join(str(i) for i in other)
            warnings.append(
                f"the duty payable is {chosen.totals.duty:,} with the gate-price unit value taken from the 課税価格 "
                f"cut to 1,000 yen, {total:,} if Customs takes the unrounded customs value per unit (line "
                f"{lines}): which one it takes is not verified (rules/rounding.yaml gate_price_unit_value)")

    # --- the declaration and its lines ----------------------------------------------------------------------

    def declare(self, data: Declaration | dict[str, Any]) -> tuple[AnyDeclaration, Context, Schedule | None,
                                                                  list[Prepared], Decimal]:
        """The declaration checked, the tariff edition it is computed under, every line prepared, and the total
        customs value (summed in line order)."""
        decl = validate(data) if self.fast is not None else parse_declaration(data)   # the fast path checks by hand
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
        personal, personal_off = valuation.personal_use(self.rules.personal_use, decl.personal_use, on)
        ctx = Context(on, decl.fx_rates, personal, self.day(on), personal_off, {}, not decl.personal_use,
                      pork_emergency=getattr(decl, "pork_emergency", None))
        prepare = self.fast.prepare_line if self.fast is not None else self.prepare_line
        lines = []
        total = Decimal(0)
        for i, ln in enumerate(decl.lines):
            p = prepare(i, ln, ctx, schedule)
            lines.append(p)
            total += p.value
        return decl, ctx, schedule, lines, total

    def prepare_line(self, i: int, ln: AnyLine, ctx: Context, schedule: Schedule | None) -> Prepared:
        """Line ``i`` classified, valued in yen, its consumption-tax class and excise known."""
        on = ctx.on
        tariff = classification.tariff_line(ln, schedule, on, i)
        origin.check(ln.origin, i)
        unit = classification.quantity_unit(ln, i)
        fx = valuation.exchange_rate(ln, ctx, i)
        notes: list[str] = []
        unverified: list[str] = []
        foreign = valuation.customs_value(ln, ctx, self.rules.personal_use, notes, unverified)
        value = valuation.in_yen(foreign, fx)
        day = ctx.day
        reduced = self.food.reduced(ln, tariff, day.reduced_on, i, notes, unverified, ctx)
        band = None
        if tariff is not None and (bands := line_bands(tariff.path, tariff.description)):
            band = classification.check_bands(i, ln, tariff, bands, value, unit, notes, unverified, ctx, schedule,
                                              self.rules.gate)
        excise_steps = None
        excise_yen = 0
        if ln.excise is not None or ln.liquor is not None:
            excise_steps = []
            excise_yen = excise.line_excise(ln, on, f"lines[{i}]", self.rules, excise_steps, unverified)
        return Prepared(i, ln, tariff, fx, foreign, value, unit,
                        day.ct.national_reduced if reduced else day.ct.national_standard, reduced, excise_yen,
                        ctx.personal, notes, unverified, excise_steps, False, day.ct_texts[reduced],
                        day.ct_ratios[reduced], band=band)

    # --- the lines under one treatment ----------------------------------------------------------------------

    def treat(self, lines: list[Any], ctx: Context, treatment: str) -> Treated:
        """Every line under ``treatment``, and the totals payable, each cut to 100 yen (通則法119条)."""
        general = treatment == GENERAL
        fast = self.fast
        if not general and fast is not None:
            lines = prepared(lines)   # a line the fast path built holds its general result only
        ct = ctx.day.ct
        num, den = ct.local_fraction
        line_result = self.line_result
        results: list[LineResult] = []
        append = results.append
        flagged: list[LineResult] = []     # lines relying on unverified rule data
        sum_duty = sum_nat = sum_loc = sum_excise = 0
        preference = False
        for p in lines:
            if type(p) is tuple:   # a line the fast path built whole (fast.path.Done)
                line = p[0]
            elif general and fast is not None and (common := fast.common(p, ctx.on, num, den,
                                                                          ct.local_ratio)) is not None:
                line = common
            else:
                line = line_result(p, ctx, treatment, num, den)
            append(line)
            sum_duty += line.duty
            sum_nat += line.national_ct
            sum_loc += line.local_ct
            sum_excise += line.excise
            if line.unverified:
                flagged.append(line)
            if not preference and line.rate_column.startswith(origin.PREFERENCES):  # type: ignore[union-attr]
                preference = True
        return Treated(results, Totals(truncate_tax_amount(sum_duty), truncate_tax_amount(sum_nat),
                                       truncate_tax_amount(sum_loc), truncate_tax_amount(sum_excise)),
                       sum_excise > 0, flagged, preference)

    def line_result(self, p: Prepared, ctx: Context, treatment: str, num: int, den: int) -> LineResult:
        """One line under ``treatment``: its taxable value, rate and duty, relief, exemption and consumption tax."""
        ln = p.line
        on = ctx.on
        value = p.value
        whole_yen = int(value)   # floored: a customs value is never negative
        tv = truncate_tax_base(value)
        base = duty.duty_base(p, tv, on)
        if treatment == GENERAL and ln.rate is None and self.fast is not None:
            applied, amount, full_duty = self.fast.general(p, base, on)   # amount None: worked out when explained
        else:
            applied, amount = self.rate_under(p, base, ctx, treatment)
            full_duty = floor_yen(amount)
        if p.band is not None and p.band.readings and ln.relief is None and not p.de_minimis_exempt:
            self.other_reading(p, base, value, ctx, treatment, full_duty)
        notes = p.notes + applied.notes
        unverified = p.unverified + applied.unverified
        line_duty = full_duty
        extra: list[Step] | None = None   # relief and exemption steps, rare: built eagerly
        relief, ct_exempt = None, False
        if ln.relief is not None:
            extra = []
            relief, line_duty, ct_exempt = reliefs.apply(p, full_duty, f"lines[{p.index}]", self.rules, extra, notes)
        exemption = None
        if p.de_minimis_exempt:
            extra = extra or []
            exemption = self.de_minimis.exempt(line_duty, extra)
            line_duty, ct_exempt = 0, True
        if ct_exempt:
            ct_base = nat = loc = 0
        else:
            ct_base = consumption_tax.tax_base(whole_yen, line_duty, p.excise)
            if p.excise:
                unverified.append("excise added to the consumption-tax base in whole yen, not cut to 100 yen")
            nat = consumption_tax.national(ct_base, p.ct_rate)
            loc = consumption_tax.local(nat, num, den)
        tariff = p.tariff
        column = applied.column
        return LineResult(
            p.index, tariff.hs if tariff else None, tariff.description if tariff else None, ln.origin,
            value, tv, applied.text, applied.rate.kind, column, applied.name, line_duty, p.excise,
            p.ct_text, p.reduced, ct_base, nat, loc, exemption, relief,
            SIMPLIFIED if column == SIMPLIFIED else GENERAL,
            partial(self.explanation.line, p, tv, applied, amount, base, full_duty, line_duty, extra, ct_exempt,
                    ct_base, nat, loc, ctx.day.ct.local_ratio),
            notes, sorted(set(unverified)) if unverified else unverified, p.band.misfit if p.band is not None else None)

    def other_reading(self, p: Prepared, base: DutyBase, value: Decimal, ctx: Context, treatment: str,
                      duty_: int) -> None:
        """The line's duty with gate-price formulas applied to its unrounded customs value per unit instead of its
        課税価格 cut to 1,000 yen (rules/rounding.yaml gate_price_unit_value, unverified): kept where it differs, for
        the declaration to say whether the payable duty differs."""
        _applied, amount = self.rate_under(p, base._replace(gate_value=value), ctx, treatment)
        other = floor_yen(amount)
        if other != duty_:
            if ctx.readings is None:
                ctx.readings = []
            ctx.readings.append((treatment, p.index, duty_, other))

    def rate_under(self, p: Prepared, base: DutyBase, ctx: Context, treatment: str) -> tuple[Applied, Decimal]:
        """The rate applied to the line under ``treatment`` and the exact amount it gives: the simplified tariff's
        (the general rate for goods it excludes), the line's own, or the rate selection's."""
        if treatment == SIMPLIFIED:
            version = ctx.day.simplified
            assert version is not None
            found = self.simplified.rate(p, base, version, ctx.on, self.selected)
            if found is not None:
                return found
            applied, amount = self.rate_under(p, base, ctx, GENERAL)
            return self.simplified.excluded(applied, amount, version, p.tariff.code if p.tariff else None), amount
        if p.line.rate is not None:
            return duty.given(p, base)
        return self.selected(p, base, ctx.on, p.line.claim_preference)

    def selected(self, p: Prepared, base: DutyBase, on: date, claim: bool | str) -> tuple[Applied, Decimal]:
        """The rate selection (通達3-1) for the line with ``claim`` and the exact amount it gives."""
        if self.fast is not None:
            return self.fast.selected(p, base, on, claim)
        assert p.tariff is not None
        applied = select_for_line(p.index, p.tariff, base, claim, self.rules, on,
                                  gate=p.band.gate if p.band is not None else None)
        return applied, applied.amount


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
