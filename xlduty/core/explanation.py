"""The explanation: every step a figure went through, with its legal basis and how sure the rule is
(rules/rounding.yaml names each step's basis and verification mark).

The steps a line always takes (valuation, FX, taxable value, duty, consumption tax) are rendered here from the
figures the line already holds, and only when its explanation is output: formatting is most of a line's cost. They
are built as their output dicts (``result.Rendered``), not as ``Step`` objects turned into dicts afterwards. A
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
from xlduty.core.result import LineResult, Rendered, Step, Totals, num
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
        # the basis and mark of the steps every line takes, as their output gives them (``steps_out``)
        self._tails = tuple(_tail(*self._steps[k]) for k in ("fx_conversion", "taxable_value", "duty_line", "ct_base",
                                                              "national_ct_line", "local_ct_line"))
        self._fx: dict[int, tuple[FxRate, str, str]] = {}   # a conversion's text, by the rate (a few per day)

    def step(self, key: str, formula: str | Callable[[], str], amount: int | str | None = None) -> Step:
        basis, verified = self._steps[key]
        return Step(key, formula, amount, basis, verified)

    def thresholds(self, total: Decimal) -> Step:
        """The total customs value the thresholds are tested on (de minimis, simplified tariff, proof of origin)."""
        return Step("thresholds", lambda: f"total customs value = {yen_text(total)}", num(total), *self._thresholds)

    def valuation(self, p: Prepared, value: str | None = None) -> list[Step | Rendered]:
        """Valuation and FX steps of a line (and its excise, decided when the line was prepared); ``value``: the
        line's yen value as ``yen_text`` prints it, where the caller has it."""
        ln = p.line
        steps: list[Step | Rendered] = []
        if p.personal:
            pu = self.personal_use
            added = f" + {yen_text(ln.additions)}" if ln.additions else ""
            steps.append(Step("valuation", f"{yen_text(ln.value)} {ln.currency} × {pu.factor} (personal use: overseas "
                                           f"retail price × {pu.factor}){added}", None, pu.basis, pu.verified))
        else:
            if type(ln) is CommonLine:   # value and freight as given: an int prints as its Decimal would
                v, f = ln._value, ln._freight
                parts = f"{yen_text(v)} + {yen_text(f)}" if v and f else yen_text(v or f) if v or f else "0"
            else:
                parts = " + ".join([yen_text(x) for x in (ln.value, ln.freight, ln.insurance, ln.additions)
                                    if x]) or "0"
            steps.append({"step": "valuation", "formula": f"CIF = {parts} {ln.currency}", **_CIF})
        fx = p.fx
        if fx.source != "yen":
            steps.append({"step": "fx_conversion",
                          "formula": f"{yen_text(p.foreign)}{self._fx_text(fx, ln.currency)}"
                                     f"{value or yen_text(p.value)} yen",
                          "amount": num(p.value), **self._tails[0]})
        if p.excise_steps:
            steps += p.excise_steps
        return steps

    def _fx_text(self, fx: FxRate, currency: str) -> str:
        """The middle of a conversion's formula, `` USD × 155.39 (USD 155.39 yen (…)) = ``: the same for every line
        converted at one rate (a few rates a day), so written once per rate."""
        known = self._fx.get(id(fx))
        if known is None or known[0] is not fx or known[1] != currency:
            if len(self._fx) >= 4096:
                self._fx.clear()
            known = self._fx[id(fx)] = (fx, currency, f" {currency} × {fx.yen_per_unit} ({fx.describe()}) = ")
        return known[2]

    def line(self, p: Prepared, tv: int, applied: Applied, amount: Decimal | None, base: DutyBase, full_duty: int,
             duty: int, extra: list[Step] | None, ct_exempt: bool, ct_base: int, nat: int, loc: int,
             ratio: str) -> list[Step | Rendered]:
        """Every step of one line, from the figures it holds (``amount`` None: the duty came from a plan's integer
        ratio; the exact amount is worked out here). The steps every line takes are built as they are output
        (``Rendered``): a ``Step`` and then its dict for each was half the cost of an explained line."""
        value = yen_text(p.value)
        steps = self.valuation(p, value)
        _fx, taxable, duty_line, base_, national, local = self._tails
        steps.append({"step": "taxable_value", "formula": f"floor_1000({value}) = {tv:,}", "amount": tv, **taxable})
        if p.band is not None:
            steps.append(p.band.step)
        steps.append({"step": "duty_line", "formula": duty_formula(applied, amount, base, full_duty),
                      "amount": full_duty, **duty_line})
        if extra:
            steps += extra
        if not ct_exempt:
            dt, et = truncate_tax_amount(duty), p.excise
            steps.append({"step": "ct_base", "formula": f"floor_1000({value} + {dt:,} + {et:,}) = {ct_base:,}",
                          "amount": ct_base, **base_})
            if p.excise:
                steps.append(self.step("excise_in_ct_base", f"excise in the base: the line's {et:,} in whole yen"))
            steps.append({"step": "national_ct_line",
                          "formula": f"{ct_base:,} × {p.ct_text or f'{p.ct_rate}%'} = {_percent_of(ct_base, p)} → "
                                     f"{nat:,}",
                          "amount": nat, **national})
            steps.append({"step": "local_ct_line", "formula": f"floor_100({nat:,}) × {ratio} = "
                                                              f"{truncate_tax_amount(nat):,} × {ratio} → {loc:,}",
                          "amount": loc, **local})
        return steps

    def totals(self, treated: Treated) -> list[Step]:
        """The totals payable, each the lines' figures summed and cut to 100 yen."""
        return self.totals_of(treated.lines, treated.totals, treated.excise)

    def totals_of(self, lines: list[LineResult], t: Totals, excise: bool) -> list[Step]:
        """``totals`` of the ``lines`` under one treatment, their ``t`` and whether some line bears excise."""
        (duty_basis, duty_verified), (nat_basis, nat_verified), (loc_basis, loc_verified) = self._totals
        duty, nat, loc = t.duty, t.national_ct, t.local_ct
        formulas: tuple[str | Callable[[], str], ...]
        if len(lines) == 1:   # most declarations of a broker's book: written at once (sum_formula's one-line case),
            ln = lines[0]     # cheaper than a call each on output
            formulas = (f"floor_100({ln.duty:,}) = {duty:,}", f"floor_100({ln.national_ct:,}) = {nat:,}",
                        f"floor_100({ln.local_ct:,}) = {loc:,}")
        else:   # a longer declaration's are joined only when output
            formulas = (partial(sum_formula, lines, "duty", duty), partial(sum_formula, lines, "national_ct", nat),
                        partial(sum_formula, lines, "local_ct", loc))
        steps = [Step("duty_total", formulas[0], duty, duty_basis, duty_verified),
                 Step("national_ct_total", formulas[1], nat, nat_basis, nat_verified),
                 Step("local_ct_total", formulas[2], loc, loc_basis, loc_verified)]
        if excise:   # some line bears excise (its total may still round to 0)
            steps.append(self.step("excise_total", partial(sum_formula, lines, "excise", t.excise), t.excise))
        return steps


_CIF = {"basis": "関税定率法4条1項 (取引価格 + 運賃・保険料等)", "verified": "V-sec"}   # the valuation step's


def _tail(basis: str | None, verified: str | None) -> dict[str, str]:
    """A step's basis and mark as its output dict ends (``steps_out``: each where it has one)."""
    return {k: v for k, v in (("basis", basis), ("verified", verified)) if v}


def _percent_of(amount: int, p: Prepared) -> str:
    """``yen_text(amount * p.ct_rate / 100)``: in integers where the quotient is whole (a base in thousands of yen at
    7.8% always is), else in Decimal."""
    n, d = p.ct_ratio
    if n:
        whole, rest = divmod(amount * n, d)
        if not rest:
            return f"{whole:,}"
    return yen_text(amount * p.ct_rate / 100)


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
