"""One-line declarations built at once: what the engine's steps give a declaration of one common line whose texts were
seen and whose kind has a remembered plain-percentage winner (``plans.value_free``, ``plans.ratio``).

A broker's order book is mostly declarations of one line. For one line, what the engine works out per declaration is
fixed by the line's single amount: the total customs value is the line's value, so the ¥10,000 exemption and the
simplified tariff's threshold are decided from it, the totals are the line's figures cut to 100 yen, and the choice
between the general and the simplified tariff compares two integers. What is fixed per kind of line (the simplified
tariff's rate for it: its category, its exclusion, or free because the general tariff is) is worked out once, by the
simplified-tariff step itself (``simplified.Simplified.rate``), and kept with the kind where it cannot depend on the
value; the declaration's warnings, totals and explanation steps come from the steps' own functions.

Anything else, or a total near a threshold (where the steps warn), is left to the engine's route (None): it gives
the result or the error. tests/test_fast_path.py holds the two equal, one-line declarations drawn on purpose.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from xlduty.core import origin, vouch
from xlduty.core.consumption_tax import exact_taxes
from xlduty.core.declaration import MAX_AMOUNT, CommonLine
from xlduty.core.errors import InputError
from xlduty.core.facts import Prepared
from xlduty.core.fast.plain import plain_amount, plain_code, plain_sum, plain_texts
from xlduty.core.fast.plans import plan_key, ratio
from xlduty.core.fx import YEN, FxRate, given_rate_warning, rate_for
from xlduty.core.rate import ZERO, DutyBase, new_base
from xlduty.core.result import LineResult, Result, Step, Totals
from xlduty.core.rounding import EXACT, floor_yen
from xlduty.core.schedule import LookupError_, edition_on, pinned_edition
from xlduty.core.selection import Applied

_COMMON = frozenset(("hs_code", "origin", "value", "currency", "freight", "quantity", "unit", "claim_preference"))

Face = tuple[Applied, tuple[int, int], str, Any, tuple[str, ...], bool, str, str, str, str | None]
"""How a kind's line shows under one treatment at every taxable value above 0: (rate applied, its duty as a fraction
of the taxable value, the line's treatment, its notes, its sorted unverified notes, whether it is a preference, the
rate's kind, the line's HS code and description, the declaration's warning for its unverified notes)."""


class OneLine:
    """The one-line route of the fast path (``FastPath`` holds the caches it reads: ``seen``, kinds, plans, days)."""

    # provided by FastPath
    rules: Any
    explanation: Any
    simplified: Any
    seen: dict
    plans: dict
    dated: dict[date | tuple[date, str], tuple]
    why_not: Any                       # the simplified tariff's why_not, and explain_one, bound once
    explain_line: Any
    fx_out: dict[int, tuple[FxRate, dict[str, Any], str | None]]

    def day(self, on: date) -> Any:  # pragma: no cover - FastPath's
        raise NotImplementedError

    def selected(self, p: Prepared, base: DutyBase, on: date, claim: bool | str) -> tuple[Applied, Decimal]:
        raise NotImplementedError  # pragma: no cover - FastPath's

    def explain_done(self, *args: Any) -> Any:  # pragma: no cover - FastPath's
        raise NotImplementedError

    def first_of_kind(self, ln: CommonLine, raw_key: tuple, schedule: Any, on: date, rates: dict[str, Decimal],
                      fx: FxRate, foreign: Decimal, yen: Decimal) -> tuple[Any, str | None] | None:
        raise NotImplementedError  # pragma: no cover - FastPath's

    def one(self, on: date, mode: str, rates: dict[str, Decimal], edition: str | None,
            item: object) -> Result | None:
        """The result of a plain declaration of the one line ``item`` (its own fields checked by ``plain_header``),
        or None where the engine's route must compute it."""
        if type(item) is not dict or not _COMMON.issuperset(item):
            return None
        get = item.get
        code, origin_, unit, claim, quantity = (get("hs_code"), get("origin"), get("unit"),
                                                get("claim_preference", False), get("quantity"))
        if not (type(code) is str and code and (origin_ is None or type(origin_) is str)
                and (unit is None or type(unit) is str) and (claim is False or claim is True or type(claim) is str)):
            return None
        dated = self.dated.get(on if edition is None else (on, edition))
        if dated is None and (dated := self.dated_one(on, edition)) is None:
            return None
        schedule, day, dm_limit, num, den, local_ratio, vouched = dated
        raw_key = (schedule, on, code, origin_, unit, claim, quantity is None)
        known = self.seen.get(raw_key)
        if known is not None:
            kind, origin_ = known
            face = kind.face or _face(kind)
            if face is None:
                return None
        else:   # texts not seen: the line's kind is looked for below, once its amounts are found plain
            kind = face = None
        # the amounts and the currency, checked as the one pass checks them (FastPath.declare)
        value, freight, currency = get("value"), get("freight", ZERO), get("currency", "JPY")
        if type(value) is int and type(freight) is int and 0 <= value < MAX_AMOUNT and 0 <= freight < MAX_AMOUNT:
            whole = value + freight   # the usual two ints, checked as plain_sum checks them (a call costs more)
        elif (amounts := plain_sum(value, freight)) is None:
            return None
        else:
            whole, freight = amounts
        if quantity is not None and (quantity := plain_amount(quantity)) is None:
            return None
        if currency == "JPY":
            fx = YEN
        elif (currency := plain_code(currency, 3)) is None:
            return None
        else:
            try:
                fx = rate_for(currency, on, rates, "")
            except InputError:
                return None
        # valuation, as FastPath.declare works it out (exact)
        if fx is YEN:
            if whole is not None:
                foreign = yen = Decimal(whole)
                money = shown = whole   # the same text in an explanation (yen_text) and number (num) as the Decimal
            else:
                foreign = yen = shown = value + freight
                money = int(yen)   # floored: never negative
        else:
            foreign = Decimal(whole) if whole is not None else value + freight
            yen = shown = foreign * fx.yen_per_unit
            money = int(yen)
        tv = money // 1000 * 1000
        if not 0 < tv < EXACT or (dm_limit is not None and money <= dm_limit):
            # the exemption, or a total near its threshold (a warning): the engine's route (compared in whole yen,
            # which an int does faster than a Decimal: a total less than a yen above the limit goes that way too)
            return None
        if kind is None:   # the first line of these texts: its kind and plan, as the one pass would find them
            if not plain_texts(code, unit, claim) or (origin_ is not None
                                                      and (origin_ := plain_code(origin_, 2)) is None):
                return None
            found = self.first_of_kind(CommonLine(code, origin_, value, currency, freight, quantity, unit, claim),
                                       raw_key, schedule, on, rates, fx, foreign, yen)
            if found is None or (face := found[0].face or _face(found[0])) is None:
                return None
            kind, origin_ = found
        warnings = [*vouched] if vouched else []
        reason = version = None
        if mode != "never":   # (a total near the threshold is warned of here, in the engine's order)
            version = day.simplified
            reason = self.why_not(version, shown, on, None, warnings)
            if reason is not None and mode == "always":
                return None   # an error: the engine's route raises it
        ct_ratio, ct_rate = kind.ct_ratio, kind.ct_rate
        share = face[1]
        duty = tv * share[0] // share[1]
        # exact_taxes written out (the one line of most declarations: a call here costs 3 % of a declaration), the
        # duty and national tax each cut to 100 yen once for both the taxes and the totals
        duty_t = duty // 100 * 100
        ct_base = (money + duty_t) // 1000 * 1000
        nat = ct_base * ct_ratio[0] // ct_ratio[1] if ct_base < EXACT else floor_yen(ct_base * ct_rate / 100)
        nat_t = nat // 100 * 100
        loc = nat_t * num // den
        loc_t = loc // 100 * 100
        if version is None or reason is not None:
            totals = Totals(duty_t, nat_t, loc_t, 0)
            info: dict[str, Any] = {"mode": mode, "used": False, "reason": reason} if reason else {"mode": mode,
                                                                                                  "used": False}
        else:   # the simplified tariff is computed too, the cheaper kept (simplified.choose)
            simple = kind.simple
            if simple is None:
                simple = kind.simple = self.simple_plan(kind, face, CommonLine(code, origin_, value, currency, freight,
                                                                               quantity, unit, claim),
                                                        fx, foreign, yen, tv, on, version)
            if simple is False:
                return None
            s_share = simple[1]
            s_duty = tv * s_share[0] // s_share[1]
            s_ct_base, s_nat, s_loc = exact_taxes(money, s_duty, ct_ratio, ct_rate, num, den)
            s_duty_t, s_nat_t, s_loc_t = s_duty // 100 * 100, s_nat // 100 * 100, s_loc // 100 * 100
            g_total, s_total = duty_t + nat_t + loc_t, s_duty_t + s_nat_t + s_loc_t   # Totals.total
            used = mode == "always" or s_total <= g_total
            info = {"mode": mode, "used": used, "general_total": g_total, "simplified_total": s_total,
                    "basis": version.basis, "verified": version.verified}
            if used:
                face, duty, ct_base, nat, loc = simple, s_duty, s_ct_base, s_nat, s_loc
                totals = Totals(s_duty_t, s_nat_t, s_loc_t, 0)
            else:
                totals = Totals(duty_t, nat_t, loc_t, 0)
        applied = face[0]
        lines = [LineResult(0, face[7], face[8], origin_, yen, tv, applied.text, face[6], applied.column, applied.name,
                            duty, 0, kind.ct_text, kind.reduced, ct_base, nat, loc, None, None, face[2],
                            partial(self.explain_line, code, origin_, value, currency, freight, quantity, unit, claim,
                                    kind, fx, foreign, yen, tv, applied, on, duty, ct_base, nat, loc, local_ratio),
                            [*face[3]], [*face[4]])]   # the line's own lists (a display faster than list())
        if face[9] is not None:
            warnings.append(face[9])
        if face[5]:   # a preference: the proof of origin, a warning now or a step of the explanation when built
            origin.proof(self.rules.reliefs.origin_proof_waiver, shown, warnings, [])
        if fx is YEN:
            fx_list = []
        else:
            out = self.fx_out.get(id(fx))
            if out is None or out[0] is not fx:
                out = self.fx_one(fx)
            fx_list = [out[1].copy()]
            if out[2] is not None:
                warnings.append(out[2])
        result = Result(day.text, schedule.edition, fx_list, False, info, None, totals, lines, None,  # type: ignore[arg-type]
                        warnings, self.steps)
        del result.explanation   # built on first use (Result.explain)
        return result

    def dated_one(self, on: date, edition: str | None) -> tuple | None:
        """What every one-line declaration of date ``on`` (on ``edition``, if pinned) shares: the edition, the rules
        of the day, the exemption's limit below which the engine's route decides, the local tax's fraction and
        ratio, and the date's warnings (vouch.py); None where the engine's route says what is wrong."""
        try:
            schedule = edition_on(on) if edition is None else pinned_edition(edition)
        except (LookupError_, InputError):
            return None
        day = self.day(on)
        dm = day.de_minimis
        ct = day.ct
        num, den = ct.local_fraction
        dated = (schedule, day, dm.threshold_jpy + 1000 if dm is not None else None, num, den, ct.local_ratio,
                 tuple(vouch.date_warnings(on, edition, self.rules.tariff_cycle.annual_edition)))
        if len(self.dated) >= 4096:
            self.dated.clear()
        self.dated[on if edition is None else (on, edition)] = dated
        return dated

    def fx_one(self, fx: FxRate) -> tuple[FxRate, dict[str, Any], str | None]:
        """An exchange rate as the result lists it, and its warning (a per-100 figure given as per unit?)."""
        out = (fx, {"currency": fx.currency, "yen": fx.published, "per_units": fx.per_units,
                    "week_start": str(fx.week_start) if fx.week_start else None,
                    "week_end": str(fx.week_end) if fx.week_end else None, "source": fx.source,
                    **({"alias_of": fx.alias_of} if fx.alias_of else {})},
               given_rate_warning(fx.currency, fx.published) if fx.source == "declaration" else None)
        if len(self.fx_out) >= 4096:
            self.fx_out.clear()
        self.fx_out[id(fx)] = out
        return out

    def explain_one(self, code: str, origin_: str | None, value: Decimal | int, currency: str,
                    freight: Decimal | int, quantity: Decimal | None, unit: str | None, claim: bool | str,
                    *facts: Any) -> list[Step]:
        """The steps of a line built here: its ``CommonLine`` made when asked (``FastPath.explain_done``)."""
        return self.explain_done(CommonLine(code, origin_, value, currency, freight, quantity, unit, claim), *facts)

    def steps(self, result: Result) -> list[Step]:
        """The explanation of a one-line declaration's ``result``, as the engine composes it: the total customs value
        (the line's) the thresholds are tested on, the totals cut to 100 yen and, where a preference is applied, the
        proof of origin."""
        lines = result.lines
        line = lines[0]
        total = line.customs_value
        steps = [self.explanation.thresholds(total), *self.explanation.totals_of(lines, result.totals, False)]
        if line.rate_column.startswith(origin.PREFERENCES):  # type: ignore[union-attr]
            origin.proof(self.rules.reliefs.origin_proof_waiver, total, [], steps)
        return steps

    def simple_plan(self, kind: Any, face: tuple, ln: CommonLine, fx: FxRate, foreign: Decimal, yen: Decimal, tv: int,
                    on: date, version: Any) -> Face | bool:
        """The kind's simplified-tariff outcome, found by the simplified-tariff step for this line, where it is the
        same at every taxable value above 0; False where it may not be (or the step refuses the line). The outcome
        reads the line's class, its general plan (for goods the simplified tariff excludes), whether a preference is
        claimed and the plan of the origin unclaimed (the free goods stay free); another kind of the class with the
        same of each (the same objects: plans shared by coverage, ``FastPath.first_of_kind``) takes it from the
        class."""
        common = kind.simple_by_plan
        if common is not None:
            tariff = kind.tariff
            mfn = self.plans.get(plan_key(tariff, ln.origin, False, on, False, None, ln.quantity is None))
            shared_key = (id(mfn), ln.claim_preference is not False, id(kind.plan))
            shared = common.get(shared_key) if mfn is not None else None
            if shared is not None and shared[0] is mfn and shared[1] is kind.plan:
                return shared[2]   # type: ignore[no-any-return]
        simple = self._simple_plan(kind, face, ln, fx, foreign, yen, tv, on, version)
        if common is not None and len(common) < 256:
            mfn = self.plans.get(plan_key(tariff, ln.origin, False, on, False, None, ln.quantity is None))
            if mfn is not None:
                common[(id(mfn), ln.claim_preference is not False, id(kind.plan))] = (mfn, kind.plan, simple)
        return simple

    def _simple_plan(self, kind: Any, face: tuple, ln: CommonLine, fx: FxRate, foreign: Decimal, yen: Decimal,
                     tv: int, on: date, version: Any) -> Face | bool:
        """``simple_plan`` found by the simplified-tariff step for this line."""
        p = Prepared(0, ln, kind.tariff, fx, foreign, yen, kind.unit, kind.ct_rate, kind.reduced, 0, False, [],
                     kind.unverified, None, False, kind.ct_text, kind.ct_ratio, kind)
        base = new_base(tv, ln.quantity, kind.unit, on, ln.origin, False, None, True, None)
        try:
            found = self.simplified.rate(p, base, version, on, self.selected)
            if found is None:   # goods excluded from the simplified tariff: the general rate (the kind's plan)
                general, amount = self.selected(p, base, on, ln.claim_preference)
                applied, share = self.simplified.excluded(general, amount), face[1]
            else:
                applied = found[0]
                # free under the general tariff, or not, at every value: the general rate unclaimed is value-free
                tariff = kind.tariff
                mfn = self.plans.get(plan_key(tariff, ln.origin, False, on, False, None, ln.quantity is None))
                if mfn is None or mfn[1] is None:
                    return False
                free = mfn[1][0] == 0
                if free != (applied.amount == 0 and applied.column == "simplified" and applied.rate is mfn[0].rate):
                    return False
                share = (0, 1) if free else ratio(applied.rate)
                if share is None:
                    return False
        except InputError:
            return False
        unverified = kind.unverified + applied.unverified
        unverified = tuple(sorted(set(unverified)))
        return (applied, share, "simplified" if applied.column == "simplified" else "general", tuple(applied.notes),
                unverified, applied.column.startswith(origin.PREFERENCES), applied.rate.kind, face[7], face[8],
                _flagged(unverified))


def _face(kind: Any) -> Face | None:
    """How a line of ``kind`` shows under the general treatment, from its plain-percentage plan (kept with the kind);
    None where it has no such plan."""
    plan = kind.plan
    if plan is None or plan[1] is None:
        return None
    applied = plan[0]
    tariff = kind.tariff
    face = kind.face = (applied, plan[1], "general", applied.notes, plan[2], plan[3], plan[4], tariff.hs,
                        tariff.description, _flagged(plan[2]))
    return face


def _flagged(unverified: tuple[str, ...]) -> str | None:
    """The declaration's warning for its line 0 relying on unverified rule data (the engine's wording)."""
    return f"line 0: relies on unverified rule data: {'; '.join(unverified)}" if unverified else None
