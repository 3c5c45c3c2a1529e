"""The explanation: every step a figure went through, with its legal basis and how sure the rule is
(rules/rounding.yaml names each step's basis and verification mark).

The steps a line always takes (valuation, FX, taxable value, duty, consumption tax) are rendered here from the
figures the line already holds, and only when its explanation is output: formatting is most of a line's cost. A
step that only some lines take is appended by the step itself as it happens (excise, relief, exemption). The
declaration's own steps are the thresholds, its totals, the exemption and the proof of origin.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial

from xlduty.core.declaration import CommonLine
from xlduty.core.facts import Prepared, Treated
from xlduty.core.fx import FxRate
from xlduty.core.rate import DutyBase, ManualRate, NeedsInput, NotApplicable
from xlduty.core.result import LineResult, Step, Totals, num
from xlduty.core.rounding import truncate_tax_amount, yen_text
from xlduty.core.rules import Rules
from xlduty.core.selection import Applied


class Explanation:
    """The steps' wording under the rules given."""

    def __init__(self, rules: Rules) -> None:
        self.personal_use = rules.personal_use
        self._steps = {k: (v.basis, v.verified) for k, v in rules.rounding.steps.items()}
        self._thresholds = self._steps["thresholds"]
        self._totals = tuple(self._steps[k] for k in ("duty_total", "national_ct_total", "local_ct_total"))
        self._line = tuple(self._steps[k] for k in ("fx_conversion", "taxable_value", "duty_line", "ct_base",
                                                    "national_ct_line", "local_ct_line"))
        self._fx: dict[int, tuple[FxRate, str]] = {}   # an exchange rate's description, by the rate (a few per day)

    def step(self, key: str, formula: str | Callable[[], str], amount: int | str | None = None) -> Step:
        basis, verified = self._steps[key]
        return Step(key, formula, amount, basis, verified)

    def thresholds(self, total: Decimal) -> Step:
        """The total customs value the thresholds are tested on (de minimis, simplified tariff, proof of origin)."""
        return Step("thresholds", lambda: f"total customs value = {yen_text(total)}", num(total), *self._thresholds)

    def valuation(self, p: Prepared, value: str | None = None) -> list[Step]:
        """Valuation and FX steps of a line (and its excise, decided when the line was prepared); ``value``: the
        line's yen value as ``yen_text`` prints it, where the caller has it."""
        ln = p.line
        steps = []
        if p.personal:
            pu = self.personal_use
            added = f" + {yen_text(ln.additions)}" if ln.additions else ""
            steps.append(Step("valuation", f"{yen_text(ln.value)} {ln.currency} × {pu.factor} (personal use: overseas "
                                           f"retail price × {pu.factor}){added}", None, pu.basis, pu.verified))
        else:
            if type(ln) is CommonLine:   # value and freight as given: an int prints as its Decimal would
                parts = " + ".join([yen_text(x) for x in (ln._value, ln._freight) if x]) or "0"
            else:
                parts = " + ".join([yen_text(x) for x in (ln.value, ln.freight, ln.insurance, ln.additions)
                                    if x]) or "0"
            steps.append(Step("valuation", f"CIF = {parts} {ln.currency}", None,
                              "関税定率法4条1項 (取引価格 + 運賃・保険料等)", "V-sec"))
        fx = p.fx
        if fx.source != "yen":
            described = self._fx.get(id(fx))
            if described is None or described[0] is not fx:
                if len(self._fx) >= 4096:
                    self._fx.clear()
                described = self._fx[id(fx)] = (fx, fx.describe())
            steps.append(Step("fx_conversion", f"{yen_text(p.foreign)} {ln.currency} × {fx.yen_per_unit} "
                                               f"({described[1]}) = {value or yen_text(p.value)} yen", num(p.value),
                              *self._line[0]))
        if p.excise_steps:
            steps += p.excise_steps
        return steps

    def line(self, p: Prepared, tv: int, applied: Applied, amount: Decimal | None, base: DutyBase, full_duty: int,
             duty: int, extra: list[Step] | None, ct_exempt: bool, ct_base: int, nat: int, loc: int,
             ratio: str) -> list[Step]:
        """Every step of one line, from the figures it holds (``amount`` None: the duty came from a plan's integer
        ratio; the exact amount is worked out here)."""
        value = yen_text(p.value)
        steps = self.valuation(p, value)
        _fx, taxable, duty_line, base_, national, local = self._line
        steps.append(Step("taxable_value", f"floor_1000({value}) = {tv:,}", tv, *taxable))
        if p.band is not None:
            steps.append(p.band.step)
        steps.append(Step("duty_line", duty_formula(applied, amount, base, full_duty), full_duty, *duty_line))
        if extra:
            steps += extra
        if not ct_exempt:
            dt, et = truncate_tax_amount(duty), p.excise
            steps.append(Step("ct_base", f"floor_1000({value} + {dt:,} + {et:,}) = {ct_base:,}", ct_base, *base_))
            if p.excise:
                steps.append(self.step("excise_in_ct_base", f"excise in the base: the line's {et:,} in whole yen"))
            steps.append(Step("national_ct_line", f"{ct_base:,} × {p.ct_rate}% = "
                                                  f"{yen_text(ct_base * p.ct_rate / 100)} → {nat:,}", nat, *national))
            steps.append(Step("local_ct_line", f"floor_100({nat:,}) × {ratio} = {truncate_tax_amount(nat):,} × "
                                               f"{ratio} → {loc:,}", loc, *local))
        return steps

    def totals(self, treated: Treated) -> list[Step]:
        """The totals payable, each the lines' figures summed and cut to 100 yen."""
        return self.totals_of(treated.lines, treated.totals, treated.excise)

    def totals_of(self, lines: list[LineResult], t: Totals, excise: bool) -> list[Step]:
        """``totals`` of the ``lines`` under one treatment, their ``t`` and whether some line bears excise."""
        (duty_basis, duty_verified), (nat_basis, nat_verified), (loc_basis, loc_verified) = self._totals
        duty, nat, loc = t.duty, t.national_ct, t.local_ct
        steps = [Step("duty_total", partial(sum_formula, lines, "duty", duty), duty, duty_basis, duty_verified),
                 Step("national_ct_total", partial(sum_formula, lines, "national_ct", nat), nat, nat_basis,
                      nat_verified),
                 Step("local_ct_total", partial(sum_formula, lines, "local_ct", loc), loc, loc_basis, loc_verified)]
        if excise:   # some line bears excise (its total may still round to 0)
            steps.append(self.step("excise_total", partial(sum_formula, lines, "excise", t.excise), t.excise))
        return steps


def sum_formula(lines: list[LineResult], name: str, total: int) -> str:
    """A total's formula (rendered only when output)."""
    if len(lines) == 1:   # most declarations of a broker's book: no join
        return f"floor_100({getattr(lines[0], name):,}) = {total:,}"
    return f"floor_100({' + '.join([f'{getattr(ln, name):,}' for ln in lines])}) = {total:,}"


def duty_formula(applied: Applied, amount: Decimal | None, base: DutyBase, duty: int) -> str:
    """How the rate applied gives the line's duty, as the rate traces it (else its exact ``amount``, worked out here
    where it is None)."""
    trace: list[str] = []
    try:
        applied.rate.evaluate(base, trace)
    except (NotApplicable, NeedsInput, ManualRate):
        trace = []
    if trace:
        return f"{applied.name} {applied.text}: {'; '.join(trace)} → {duty:,}"
    if amount is None:
        amount = applied.rate.evaluate(base)
    return f"{applied.name} {applied.text}: {yen_text(amount)} → {duty:,}"
