"""Excise collected at import with the duty (内国消費税, 輸徴法): liquor tax computed from its category, volume and
strength (酒税法22条・23条; rules/liquor_tax.yaml, dated), or another excise the declaration states. A line's excise
goes into its consumption-tax base (消費税法28条4項) and is charged even on goods the de minimis rule exempts.
"""

from __future__ import annotations

from datetime import date

from xlduty.core.errors import InputError
from xlduty.core.facts import AnyLine
from xlduty.core.result import Step
from xlduty.core.rounding import floor_yen, yen_text
from xlduty.core.rules import Rules


def line_excise(ln: AnyLine, on: date, at: str, rules: Rules, steps: list[Step], unverified: list[str]) -> int:
    """The excise of the line at ``at`` (``lines[2]``), its explanation appended to ``steps``."""
    if ln.excise is not None and ln.liquor is not None:
        raise InputError(f"{at}.excise", "give either liquor or excise, not both")
    if ln.excise is not None:
        amount = floor_yen(ln.excise)
        steps.append(Step("excise_line", f"excise given: {amount:,}", amount, "輸徴法 (内国消費税)", None))
        return amount
    if ln.liquor is None:
        return 0
    lq = ln.liquor
    cats = {**rules.liquor.categories, **rules.liquor.special_rates}
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
    s = rules.step("excise_line")
    steps.append(Step("excise_line", f"liquor tax {cat.name_ja}{strength}: {yen_text(lq.litres)} l × {per_kl:,} "
                                     f"yen/kL ÷ 1,000 = {amount:,}", amount, s.basis, rate.verified))
    if rate.verified == "U":
        unverified.append(f"liquor-tax rate for {lq.category}")
    if rules.liquor.rounding.verified_detail.get("quantity") == "U":
        unverified.append("liquor-tax quantity rounding (litres kept exact)")
    return amount
