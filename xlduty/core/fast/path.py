"""The fast path: the same steps for repeated kinds of line, with what cannot change between them worked out once.

A batch repeats a few dozen kinds of line. What every line of one code, unit, origin, claim and date has in common
(its tariff line, unit, consumption-tax class: a ``Kind``) is remembered the first time the engine prepares one; so is
the winning rate where it cannot depend on the value (a plan: ``plans.value_free``), or where the rates compared are
ordered (``plans.ordered``), and then only a line's duty is worked out, in exact integers where Decimal is exact.
A plain declaration (``plain.py``) is checked and prepared in one pass; a line whose texts were seen before has only
its amounts and currency checked, and, where its kind has such a winner, its general result built in that pass
(``Done``): no ``Prepared`` is made unless the de minimis check or the simplified tariff needs one, or its
explanation is rendered.

Everything here is a shortcut through the steps the engine composes (classification, valuation, selection, duty,
consumption tax, explanation), never a rule of its own: ``Engine(fast=False)`` computes without any of it, and
tests/test_fast_path.py holds the two equal, results and explanations, over random declarations of the real
schedule. A result never depends on what was computed before (tests/test_rate_plans.py); every cache is bounded
(``cache.remember``), and ``forget`` empties the ones keyed by edition name when the tables in use are switched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from xlduty.core.cache import remember
from xlduty.core.consumption_tax import exact_taxes
from xlduty.core.declaration import CommonLine, PlainDeclaration, PlainLine
from xlduty.core.duty import duty_base
from xlduty.core.errors import InputError
from xlduty.core.explanation import Explanation
from xlduty.core.facts import AnyLine, Context, Day, Prepared, day_of
from xlduty.core.fast.plain import plain_amount, plain_code, plain_header, plain_line, plain_sum
from xlduty.core.fast.plans import ordered, plan_key, ratio, under
from xlduty.core.fast.single import OneLine
from xlduty.core.fx import YEN, FxRate, rate_for
from xlduty.core.origin import PREFERENCES
from xlduty.core.origin import check as check_origin
from xlduty.core.rate import ZERO, DutyBase, new_base
from xlduty.core.result import LineResult, Step
from xlduty.core.rounding import EXACT, floor_yen, truncate_tax_base
from xlduty.core.rules import Rules
from xlduty.core.schedule import LookupError_, Schedule, TariffLine, edition_on, line_bands, pinned_edition
from xlduty.core.selection import Applied, Coverage, coverage, select_rate
from xlduty.core.simplified import Simplified
from xlduty.core.units import Unit


@dataclass(slots=True)
class Kind:
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
    # the general treatment's remembered plan, once ``general`` has it, with the line's sorted unverified notes,
    # whether it is a preference and the rate's kind
    ordered: Applied | None = None     # else the winner at every value and quantity above 0 (``plans.ordered``)
    ordered_unverified: tuple[str, ...] = ()   # with the line's sorted unverified notes
    unordered: bool = False            # no such winner: selected afresh
    face: Any = None                   # how its line shows under the general treatment (``single.Face``)
    simple: Any = None                 # and under the simplified tariff (False: not the same at every value)
    by_cover: dict[int, tuple] | None = None
    # what the kinds of one class (``FastPath.classes``: one line, unit and consumption-tax class) share, one dict for
    # all of them: by a coverage's id, (coverage, kind, (winner, ratio)) of an origin-free plain-percentage plan
    # (``plans.origin_free``) an origin of that coverage found, the kind for the others
    simple_by_plan: dict[tuple, tuple] | None = None
    # and their simplified-tariff outcomes, one dict for all of them: by (the id of the origin's unclaimed plan,
    # whether claimed, the id of the kind's plan), (that plan, the kind's plan, ``simple``) (``single.simple_plan``)

    def sibling(self) -> Kind:
        """A kind of this one's class (line, unit and consumption-tax class) for another origin or claim: what
        preparing its line the long way gives, but for the origin, which only that preparation checks."""
        return Kind(self.tariff, self.unit, self.reduced, self.ct_rate, self.ct_text, self.ct_ratio,
                    self.unverified.copy())


Done = tuple[LineResult, CommonLine, Kind, FxRate, Decimal, Decimal]
# a common line whose general result the one pass built at once: (result, line, kind, FX rate, foreign value, yen value)

_Plan = tuple[Applied | None, tuple[int, int] | None]   # (winner, its ratio if a plain percentage); None: select afresh
_COMMON = frozenset(("hs_code", "origin", "value", "currency", "freight", "quantity", "unit", "claim_preference"))
# the fields of most lines: a line with no others whose texts were seen before is checked by the one pass itself
KINDS_LIMIT = 1 << 16
"""Line kinds, seen texts and rate plans kept at most (each a few hundred bytes): a broker's order book has thousands
of codes, each under several origins and claims; at 8,192 these were emptied every few thousand lines of such a book
and most lines took the long way (bench/throughput.py, broker mix)."""


def _class_key(key: tuple) -> tuple:
    """The key of a kind's class (``FastPath.classes``): its key (``FastPath.kinds``) but for the origin and claim."""
    return key[:5] + key[7:]


def _kind_plan(kind: Kind, applied: Applied, share: tuple[int, int] | None) -> tuple:
    """A kind's plan (``Kind.plan``) from the winner of its selection and its ratio."""
    unverified = kind.unverified + applied.unverified
    return (applied, share, tuple(sorted(set(unverified))) if unverified else (),
            applied.column.startswith(PREFERENCES), applied.rate.kind)


def prepared(lines: list[Prepared | Done]) -> list[Prepared]:
    """Every line as a ``Prepared`` (a ``Done`` line's result is dropped: another treatment or the de minimis check
    works from the line itself)."""
    return [Prepared(p[0].index, p[1], p[2].tariff, p[3], p[4], p[5], p[2].unit, p[2].ct_rate, p[2].reduced, 0, False,
                     [], p[2].unverified, None, False, p[2].ct_text, p[2].ct_ratio, p[2]) if type(p) is tuple else p
            for p in lines]


class FastPath(OneLine):
    """The shortcuts of one engine. ``prepare`` is the engine's own preparation of a line (the long way), which a
    line of an unknown kind takes; ``simplified``, the engine's simplified-tariff step (the one-line route asks it
    for a kind's simplified rate)."""

    def __init__(self, rules: Rules, prepare: Callable[[int, AnyLine, Context, Schedule | None], Prepared],
                 explanation: Explanation, simplified: Simplified) -> None:
        self.rules = rules
        self.prepare = prepare
        self.explanation = explanation
        self.simplified = simplified
        self.dated: dict[date | tuple[date, str], tuple] = {}   # what one-line declarations of a date share
        self.why_not = simplified.why_not
        self.explain_line = self.explain_one
        self.fx_out: dict[int, tuple[FxRate, dict[str, Any], str | None]] = {}   # an FX rate as output, its warning
        self.days: dict[date, Day] = {}                   # dated rule versions by date
        self.plans: dict[tuple, _Plan] = {}               # winners by line, origin, claim and date
        self.shared: dict[tuple, _Plan] = {}              # and by the cells read, coverage and date (``shared_key``)
        self.coverage: dict[tuple, Coverage] = {}         # by origin, claim and date (``cover_of``)
        self.covers: dict[Coverage, Coverage] = {}        # one of equal coverages
        self.kinds: dict[tuple, Kind] = {}
        self.classes: dict[tuple, Kind] = {}              # a kind's line, unit and class, whatever the origin and claim
        self.seen: dict[tuple, tuple[Kind, str | None]] = {}   # a line's texts as given → its kind, its origin
        self.kindless: dict[tuple, bool] = {}             # kind keys the long way gave no kind (``first_of_kind``)

    def forget(self) -> None:
        """Forget remembered rate plans and line kinds (the tables in use were switched)."""
        self.plans.clear()
        self.shared.clear()
        self.kinds.clear()
        self.classes.clear()
        self.seen.clear()
        self.kindless.clear()
        self.dated.clear()
        self.fx_out.clear()

    def day(self, on: date) -> Day:
        """``day_of`` once per date."""
        day = self.days.get(on)
        if day is None:
            day = remember(self.days, on, day_of(self.rules, on))
        return day

    # --- declaring: the one pass --------------------------------------------------------------------------------

    def declare(self, d: dict[str, Any]) -> tuple[PlainDeclaration, Context, Schedule | None,
                                                  list[Prepared | Done], Decimal] | None:
        """A plain declaration without personal use checked and prepared in one pass (what ``plain_declaration`` then
        the engine's ``declare`` give): a line of a kind already known is prepared as it is checked, any other once
        every line is checked, in line order, so errors come in the same order. A common line of seen texts has its
        general result built at once and no ``Prepared`` (``Done``). None, with nothing raised, where something is
        not plain or the tariff edition is not found: the engine's own route then gives the error or the result."""
        head = plain_header(d)
        if head is None or head[1]:
            return None
        on, _personal, simplified, rates, edition, raw = head
        if len(raw) == 1 and (result := self.one(on, simplified, rates, edition, raw[0])) is not None:
            return result   # type: ignore[return-value]  # a declaration of one line, computed whole
        schedule = None
        if edition is not None:
            try:
                schedule = pinned_edition(edition)
            except InputError:
                return None
        ctx = Context(on, rates, False, self.day(on), None, {})
        ct = ctx.day.ct
        kinds, fxs, seen = self.kinds, ctx.fx, self.seen
        num, den = ct.local_fraction
        local_ratio = ct.local_ratio
        explain = self.explain_done
        lines: list[PlainLine | CommonLine] = []
        found: list[Prepared | Done | None] = []
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
                        # value + freight when both are ints (kept as given: CommonLine reads as Decimal)
                        if (amounts := plain_sum(value, freight)) is None:
                            return None
                        whole, freight = amounts
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
                                found.append(None)
                                later = True
                                continue
                        # as valuation (exact: an int is converted exactly, and sums below 2 × 10^15 are exact)
                        foreign = Decimal(whole) if whole is not None else value + freight
                        yen = foreign if fx is YEN else foreign * fx.yen_per_unit
                        # whole yen as an int: the same floors as the Decimal's below EXACT, where its sums are exact
                        money = int(whole if whole is not None and fx is YEN else yen)   # floored: never negative
                        tv = money // 1000 * 1000
                        plan = kind.plan
                        if plan is not None and (share := plan[1]) is not None and 0 < tv < EXACT:
                            # a common line: its general result built now, as ``common`` would build it
                            applied = plan[0]
                            duty = tv * share[0] // share[1]
                            rate_kind, unverified = plan[4], plan[2]
                        elif (plan is None and (applied := kind.ordered) is not None and 0 < tv < EXACT
                              and quantity is not None and 0 < quantity < EXACT):
                            # the winner of ordered rates (see ``general``), its exact duty worked out
                            amount = applied.rate.evaluate(new_base(tv, quantity, kind.unit, on, origin, False, None,
                                                                    True, None))
                            duty = int(amount) if amount > 0 else 0   # floor_yen
                            rate_kind, unverified = applied.rate.kind, kind.ordered_unverified
                        else:
                            found.append(Prepared(i, ln, kind.tariff, fx, foreign, yen, kind.unit, kind.ct_rate,
                                                  kind.reduced, 0, False, [], kind.unverified, None, False,
                                                  kind.ct_text, kind.ct_ratio, kind))
                            continue
                        ct_base, nat, loc = exact_taxes(money, duty, kind.ct_ratio, kind.ct_rate, num, den)
                        tariff = kind.tariff
                        found.append((LineResult(
                            i, tariff.hs, tariff.description, origin, yen, tv, applied.text, rate_kind,
                            applied.column, applied.name, duty, 0, kind.ct_text, kind.reduced, ct_base, nat, loc,
                            None, None, "general",
                            partial(explain, ln, kind, fx, foreign, yen, tv, applied, on, duty, ct_base, nat, loc,
                                    local_ratio),
                            applied.notes.copy(), list(unverified)), ln, kind, fx, foreign, yen))
                        continue
            if ln is None:
                ln = plain_line(item)
                if ln is None:
                    return None
            lines.append(ln)
            # currencies are looked up in line order, as valuation does (the result lists them in order of first use)
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
                found.append(None)
                later = True
                continue
            foreign = ln.value + ln.freight   # + insurance + additions: adding the shared zero changes nothing
            if ln.insurance is not ZERO:
                foreign += ln.insurance
            if ln.additions is not ZERO:
                foreign += ln.additions
            found.append(Prepared(i, ln, kind.tariff, fx, foreign,
                                  foreign if fx is YEN else foreign * fx.yen_per_unit, kind.unit, kind.ct_rate,
                                  kind.reduced, 0, False, [], kind.unverified, None, False, kind.ct_text,
                                  kind.ct_ratio, kind))
        if later:
            for i, p in enumerate(found):
                if p is None:
                    found[i] = self.prepare_line(i, lines[i], ctx, schedule)
        for i, raw_key in unseen:   # the texts of a line of a known kind, remembered as checked
            if (kind := found[i].kind) is not None:  # type: ignore[union-attr]
                remember(seen, raw_key, (kind, lines[i].origin), KINDS_LIMIT)
        if (len(found) == 1 and unseen and self.planned(found[0], on)  # type: ignore[arg-type]
                and (result := self.one(on, simplified, rates, edition, raw[0])) is not None):
            return result   # type: ignore[return-value]  # one line of a kind just given its plan: built whole
        total = Decimal(0)
        for p in found:
            total += p[5] if type(p) is tuple else p.value  # type: ignore[union-attr]
        dm = ctx.day.de_minimis
        if dm is not None and total <= dm.threshold_jpy:
            found = prepared(found)  # type: ignore[arg-type]  # the exemption marks lines: no result built before
        decl = PlainDeclaration(on, False, simplified, rates, edition, lines)
        return decl, ctx, schedule, found, total  # type: ignore[return-value]

    def first_of_kind(self, ln: CommonLine, raw_key: tuple, schedule: Schedule, on: date,
                      rates: dict[str, Decimal], fx: FxRate, foreign: Decimal,
                      yen: Decimal) -> tuple[Kind, str | None] | None:
        """For the one-line route (``one``): the kind of the common line ``ln`` (checked as ``plain_line`` checks
        it) whose texts (``raw_key``) were not seen, valued at ``foreign`` and ``yen`` at ``fx``, and its origin as
        checked, found as ``declare`` finds them for a declaration of that one line (its texts then remembered as
        seen) and given its plan (``planned``); None where ``declare`` must take the line (of no kind, an origin, a
        preparation or a selection that raises). A line of a code (unit, class) not seen before is prepared the long
        way here, as ``declare`` would prepare it, rather than by ``declare`` after this route gave up."""
        origin, claim, whole = ln.origin, ln.claim_preference, ln.quantity is None
        key = (schedule, on, ln.hs_code, ln.unit, None, origin, claim, False, None, whole)
        kind = self.kinds.get(key)
        cover = None
        if kind is None:   # as prepare_line makes it from the class another origin's or claim's line left
            cls = self.classes.get(_class_key(key))
            if cls is None:   # as ``declare`` prepares it (its currency's rate is the one this route found)
                if key in self.kindless:
                    return None
                try:
                    kind = cls = self.long_way(0, ln, Context(on, rates, False, self.day(on), None,
                                                              {ln.currency: fx}), schedule, key).kind
                except InputError:
                    return None
                if kind is None:   # a line of no kind (banded, or with notes of its own): ``declare`` takes it
                    remember(self.kindless, key, True, KINDS_LIMIT)
                    return None
            try:
                if kind is None:   # its origin checked as preparing the line checks it
                    check_origin(origin, 0)
                cover = self.cover_of(origin, claim, on)
            except InputError:
                return None
            common = cls.by_cover
            if common is None:
                common = cls.by_cover = {}
                cls.simple_by_plan = {}
            shared = common.get(id(cover))
            if shared is not None and shared[0] is cover:
                # the kind another origin of this coverage left, with its plan (``plans.origin_free``): all it holds
                # is the same for this origin (the class's facts, the plan and face, and the simplified tariff's
                # outcome, which reads the origin's unclaimed plan: the same for origins of one coverage)
                kind = shared[1]
                tariff = kind.tariff
                remember(self.kinds, key, kind, KINDS_LIMIT)
                remember(self.plans, plan_key(tariff, origin, claim, on, False, None, whole), shared[2],
                         KINDS_LIMIT)   # as ``planned`` would leave it
                remember(self.seen, raw_key, (kind, origin), KINDS_LIMIT)
                return kind, origin
            if kind is None:
                kind = remember(self.kinds, key, cls.sibling(), KINDS_LIMIT)
            kind.by_cover, kind.simple_by_plan = common, cls.simple_by_plan
            tariff = kind.tariff
            shared_key = self.shared_key(tariff, cover, origin, on, False, None, whole)
            plan = self.shared.get(shared_key)
            if plan is not None and plan[1] is not None:
                # the plain-percentage plan another line printing the same cells read left for this coverage (and
                # origin, where the winner may read it): what ``planned`` would find through ``_select``
                remember(self.plans, plan_key(tariff, origin, claim, on, False, None, whole), plan, KINDS_LIMIT)
                kind.plan = _kind_plan(kind, plan[0], plan[1])   # type: ignore[arg-type]
                remember(self.seen, raw_key, (kind, origin), KINDS_LIMIT)
                if shared_key[2] is None and len(common) < 256:   # the same for every origin of the coverage
                    common[id(cover)] = (cover, kind, plan)
                return kind, origin
        remember(self.seen, raw_key, (kind, origin), KINDS_LIMIT)
        p = Prepared(0, ln, kind.tariff, fx, foreign, yen, kind.unit, kind.ct_rate, kind.reduced, 0, False, [],
                     kind.unverified, None, False, kind.ct_text, kind.ct_ratio, kind)
        if not self.planned(p, on):
            return None
        common = kind.by_cover
        if cover is not None and common is not None and len(common) < 256 and under(kind.tariff, cover)[2]:
            # left with the line's class for the other origins of this coverage
            plan = kind.plan
            assert plan is not None
            tariff = kind.tariff
            selected = self.plans.get(plan_key(tariff, origin, claim, on, False, None, whole))
            common[id(cover)] = (cover, kind, selected or (plan[0], plan[1]))
        return kind, origin

    def cover_of(self, origin: str | None, claim: bool | str, on: date) -> Coverage:
        """``coverage`` once per origin, claim and date, one object for equal coverages (so that what is shared by
        coverage is found by the object's identity)."""
        key = (origin, claim, on)
        cover = self.coverage.get(key)
        if cover is None:
            found = coverage(self.rules, origin, claim, on)
            cover = self.covers.get(found)
            if cover is None:
                cover = remember(self.covers, found, found, KINDS_LIMIT)
            remember(self.coverage, key, cover, KINDS_LIMIT)
        return cover

    def planned(self, p: Prepared, on: date) -> bool:
        """Whether the kind of line ``p`` (a line just prepared) has a plain-percentage plan, once selected now as
        the general treatment would select it first (an error is left for the engine's route to raise in its
        place): False for a line of no kind or whose winner depends on the value."""
        kind = p.kind
        if kind is None or type(p) is not Prepared:
            return False
        if kind.plan is None:
            tv = truncate_tax_base(p.value)
            if tv <= 0:
                return False
            try:
                self.general(p, duty_base(p, tv, on), on)
            except InputError:
                return False
        return kind.plan is not None and kind.plan[1] is not None

    def prepare_line(self, i: int, ln: AnyLine, ctx: Context, schedule: Schedule | None) -> Prepared:
        """One line prepared: from its kind when one is known, else the long way (its kind then remembered)."""
        kind = key = None
        on = ctx.on
        if ln.hs_code and ctx.plain and ln.liquor is None and ln.excise is None:
            key = (schedule, on, ln.hs_code, ln.unit, ln.reduced_ct, ln.origin, ln.claim_preference, ln.in_quota,
                   ln.condition, ln.quantity is None)
            kind = self.kinds.get(key)
            if kind is None and (cls := self.classes.get(_class_key(key))) is not None:
                # its line, unit and class are those of another origin's or claim's: preparing the line the long way
                # reads its origin only to check it (origin.check), here in the same place
                check_origin(ln.origin, i)
                kind = remember(self.kinds, key, cls.sibling(), KINDS_LIMIT)
        if kind is None:
            return self.long_way(i, ln, ctx, schedule, key)
        fxs = ctx.fx
        fx = fxs.get(ln.currency)
        if fx is None:
            fx = fxs[ln.currency] = rate_for(ln.currency, on, ctx.fx_supplied, f"lines[{i}].currency")
        foreign = ln.value + ln.freight   # + insurance + additions: adding the shared zero changes nothing
        if ln.insurance is not ZERO:
            foreign += ln.insurance
        if ln.additions is not ZERO:
            foreign += ln.additions
        return Prepared(i, ln, kind.tariff, fx, foreign, foreign if fx is YEN else foreign * fx.yen_per_unit,
                        kind.unit, kind.ct_rate, kind.reduced, 0, False, [], kind.unverified, None,
                        False, kind.ct_text, kind.ct_ratio, kind)

    def long_way(self, i: int, ln: AnyLine, ctx: Context, schedule: Schedule | None, key: tuple | None) -> Prepared:
        """Line ``i`` prepared the long way (the engine's own preparation); the first line of its kind (``key``: of
        no kind where None) leaves what it has in common, its kind and class."""
        p = self.prepare(i, ln, ctx, schedule)
        tariff = p.tariff
        # a line banded by value is checked every time (classification.check_bands): a kind would skip the check
        if key is not None and not p.notes and tariff is not None and not line_bands(tariff.path, tariff.description):
            p.kind = remember(self.kinds, key, Kind(tariff, p.unit, p.reduced, p.ct_rate, p.ct_text, p.ct_ratio,
                                                    p.unverified.copy()), KINDS_LIMIT)
            remember(self.classes, _class_key(key), p.kind, KINDS_LIMIT)
        return p

    # --- a line under the general treatment ---------------------------------------------------------------------

    def common(self, p: Prepared, on: date, num: int, den: int, local_ratio: str) -> LineResult | None:
        """The general result of a common line, as the engine's steps would compute it: a remembered plain
        percentage, no rate of its own, relief, exemption or excise (a kind has none), exact integers. None for any
        other line."""
        kind = p.kind
        if kind is None or (plan := kind.plan) is None or (share := plan[1]) is None:
            return None
        ln = p.line
        value = p.value
        whole_yen = int(value)   # floored: a customs value is never negative
        tv = whole_yen // 1000 * 1000   # truncate_tax_base
        if not 0 < tv < EXACT or ln.rate is not None or ln.relief is not None or p.de_minimis_exempt:
            return None
        applied = plan[0]
        assert applied is not None
        duty = tv * share[0] // share[1]
        ct_base, nat, loc = exact_taxes(whole_yen, duty, p.ct_ratio, p.ct_rate, num, den)
        if p.unverified == kind.unverified:   # nothing added since (a de minimis exclusion would)
            unverified = list(plan[2])       # the kind's and the plan's, sorted once
        else:
            unverified = p.unverified + applied.unverified
            unverified = sorted(set(unverified)) if unverified else unverified
        tariff = kind.tariff
        return LineResult(
            p.index, tariff.hs, tariff.description, ln.origin, value, tv, applied.text, plan[4],
            applied.column, applied.name, duty, 0, p.ct_text, p.reduced, ct_base, nat, loc, None, None, "general",
            partial(self.explain_common, p, tv, applied, on, duty, ct_base, nat, loc, local_ratio),
            p.notes + applied.notes, unverified)   # a new list: the line's own, never the prepared one's

    def general(self, p: Prepared, base: DutyBase, on: date) -> tuple[Applied, Decimal | None, int]:
        """The rate selection (3-1) for a line of the general treatment and its duty: the kind's remembered winner
        where it has one, else selected (and remembered where the winner cannot depend on the value or is ordered).
        The exact amount is None where the duty came from a plan's integer ratio (the explanation works it out)."""
        ln = p.line
        tv = base.taxable_value
        quantity = base.quantity
        kind = p.kind
        plan = kind.plan if kind is not None and tv > 0 else None
        if plan is not None and plan[0] is not None:   # what _select would find
            applied, amount, share = plan[0], None, plan[1]
        elif (kind is not None and kind.ordered is not None and 0 < tv < EXACT and quantity is not None
              and 0 < quantity < EXACT):   # what select_rate would choose, its amount worked out below
            applied, amount, share = kind.ordered, None, None
        else:
            applied, amount, share, kept = self._select(p, base, on, ln.claim_preference)
            if kept and kind is not None:   # a remembered plan (or one just remembered): kept with the kind too
                kind.plan = _kind_plan(kind, applied, share)
            elif (kind is not None and kind.ordered is None and not kind.unordered and 0 < tv < EXACT
                  and quantity is not None and 0 < quantity < EXACT):
                cover = self.coverage[(ln.origin, ln.claim_preference, on)]
                if ordered(kind.tariff, cover):
                    kind.ordered = applied
                    kind.ordered_unverified = tuple(sorted(set(kind.unverified + applied.unverified)))
                else:
                    kind.unordered = True
        if amount is None:
            if share is not None and tv < EXACT:
                return applied, None, tv * share[0] // share[1]   # = floor_yen(tv × percent / 100), exactly
            amount = applied.rate.evaluate(base)
        return applied, amount, floor_yen(amount)

    def selected(self, p: Prepared, base: DutyBase, on: date, claim: bool | str) -> tuple[Applied, Decimal]:
        """通達3-1 selection for the line with ``claim`` (see ``_select``) and the exact amount it gives."""
        applied, amount, _ratio, _kept = self._select(p, base, on, claim)
        return applied, applied.rate.evaluate(base) if amount is None else amount

    def _select(self, p: Prepared, base: DutyBase, on: date,
                claim: bool | str) -> tuple[Applied, Decimal | None, tuple[int, int] | None, bool]:
        """The rate applied, with the exact amount when it was selected afresh, else None; for a plain percentage
        remembered, its ratio (duty = taxable value × n // d); and whether the winner is remembered, which it is
        where it cannot depend on the value (``plans.value_free``)."""
        ln = p.line
        tariff = p.tariff
        assert tariff is not None
        if p.band is not None:   # a banded line is selected afresh: its rates may read the date's reference prices
            try:
                cover = self.coverage.get((ln.origin, claim, on)) or coverage(self.rules, ln.origin, claim, on)
                applied = select_rate(tariff, base, claim, self.rules, on, cover, p.band.gate)
            except InputError as exc:
                raise exc.within(f"lines[{p.index}]") from None
            return applied, applied.amount, None, False
        key = plan_key(tariff, ln.origin, claim, on, ln.in_quota, ln.condition, base.quantity is None)
        plan = self.plans.get(key) if base.taxable_value > 0 else None
        if plan is not None and plan[0] is not None:  # the same rate wins whatever the (non-zero) value
            return plan[0], None, plan[1], True
        try:
            cover = self.cover_of(ln.origin, claim, on)
            if plan is None and base.taxable_value > 0:   # another origin's of the same coverage, or another line's
                # printing the same cells read: select_rate reads a line's cells, nothing else of it (a banded line,
                # whose rates may read the gate-price system, is selected above)
                shared_key = self.shared_key(tariff, cover, ln.origin, on, ln.in_quota, ln.condition,
                                             base.quantity is None)
                if (plan := self.shared.get(shared_key)) is not None:
                    remember(self.plans, key, plan, KINDS_LIMIT)
                    return plan[0], None, plan[1], True   # type: ignore[return-value]
            applied = select_rate(tariff, base, claim, self.rules, on, cover)
        except InputError as exc:
            raise exc.within(f"lines[{p.index}]") from None
        if base.taxable_value > 0 and plan is None:   # (None, None): the winner depends on the value
            plan = remember(self.plans, key, (applied, ratio(applied.rate)) if under(tariff, cover)[1]
                            else (None, None), KINDS_LIMIT)
            if plan[0] is not None:
                remember(self.shared, shared_key, plan, KINDS_LIMIT)
                return applied, applied.amount, plan[1], True
        return applied, applied.amount, None, False

    @staticmethod
    def shared_key(tariff: TariffLine, cover: Coverage, origin: str | None, on: date, in_quota: bool,
                   condition: str | None, whole: bool) -> tuple:
        """The key a value-free winner is shared by between lines (``shared``): what ``select_rate`` reads of a line
        not banded by value, the columns it may read and the line's cells there (``plans.read_cells``), with the
        coverage, date, quota, condition, whether no quantity is given and, where the winner may read the origin
        itself (``plans.origin_free``), the origin: None where every origin of the coverage gets the same."""
        read, _value_free, free = under(tariff, cover)
        return read, cover, None if free else origin, on, in_quota, condition, whole

    # --- explaining a line built here -----------------------------------------------------------------------

    def explain_common(self, p: Prepared, tv: int, applied: Applied, on: date, duty: int, ct_base: int, nat: int,
                       loc: int, local_ratio: str) -> list[Step]:
        """The steps of a common line: its duty base is built here, when asked, not per line."""
        ln = p.line
        base = new_base(tv, ln.quantity, p.unit, on, ln.origin, ln.in_quota, ln.condition, True, None)
        return self.explanation.line(p, tv, applied, None, base, duty, duty, None, False, ct_base, nat, loc,
                                     local_ratio)

    def explain_done(self, ln: CommonLine, kind: Kind, fx: FxRate, foreign: Decimal, value: Decimal, tv: int,
                     applied: Applied, on: date, duty: int, ct_base: int, nat: int, loc: int,
                     local_ratio: str) -> list[Step]:
        """The steps of a ``Done`` line (built without a ``Prepared``: its facts are gathered here, when asked)."""
        p = Prepared(0, ln, kind.tariff, fx, foreign, value, kind.unit, kind.ct_rate, kind.reduced, 0, False, [],
                     kind.unverified, None, False, kind.ct_text, kind.ct_ratio, kind)
        return self.explain_common(p, tv, applied, on, duty, ct_base, nat, loc, local_ratio)
