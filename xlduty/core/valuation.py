"""The customs value of a line (課税価格) in yen.

- The transaction value plus freight, insurance and other costs to the port of import (関税定率法4条1項: CIF).
- Goods for personal use: the overseas retail price × 0.6, freight and insurance stated separately not added
  (4条の6第2項; 定率法基本通達4の6-2(3); rules/personal_use.yaml, dated).
- A foreign currency converts at the customs rate of the week of the declaration (4条の7; 施行規則1条:
  ``fx.py``), or at the rate the declaration gives in ``fx_rates``.

The value stays unrounded here: the duty's tax base cuts it to 1,000 yen (``rounding.truncate_tax_base``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xlduty.core.facts import AnyLine, Context
from xlduty.core.fx import YEN, FxRate, rate_for
from xlduty.core.rules import PersonalUse


def personal_use(rule: PersonalUse, asked: bool, on: date) -> tuple[bool, str | None]:
    """Whether the personal-use factor applies, and the note when it is asked for but not in force on ``on``."""
    applies = asked and rule.covers(on)
    if asked and not applies:
        return False, f"the personal-use ×{rule.factor} rule is not in force on {on}: full value used"
    return applies, None


def exchange_rate(ln: AnyLine, ctx: Context, i: int) -> FxRate:
    """Line ``i``'s rate to yen: one per currency and declaration (the result lists them in order of first use)."""
    fx = ctx.fx.get(ln.currency)
    if fx is None:
        fx = ctx.fx[ln.currency] = rate_for(ln.currency, ctx.on, ctx.fx_supplied, f"lines[{i}].currency")
    return fx


def customs_value(ln: AnyLine, ctx: Context, rule: PersonalUse, notes: list[str], unverified: list[str]) -> Decimal:
    """The line's customs value in its own currency (``in_yen`` converts it)."""
    if ctx.personal:
        value = ln.value * rule.factor + ln.additions
        if ln.freight or ln.insurance:
            notes.append("personal use: separately stated freight and insurance are not added (関税評価 取扱事例)")
        if rule.verified == "U":
            unverified.append(f"personal-use factor ×{rule.factor} in force until {rule.end}")
        return value
    if ctx.personal_off:
        notes.append(ctx.personal_off)
    return ln.value + ln.freight + ln.insurance + ln.additions


def in_yen(foreign: Decimal, fx: FxRate) -> Decimal:
    """A value in the line's currency, in yen (exact: the customs rates have a few digits)."""
    return foreign if fx is YEN else foreign * fx.yen_per_unit
