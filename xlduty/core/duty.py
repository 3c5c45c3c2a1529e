"""Duty per line (関税): the rate applied to a line and the duty it gives.

The rate is the line's own (``rate`` given: 指定税率), else the one the rate selection picks from the schedule
(``selection``: 定率法基本通達3-1) or, under the simplified tariff, the one of its category (``simplified``:
定率法3条の3). It applies to the line's taxable value, its customs value cut to 1,000 yen (国税通則法118条1項 by
関税法13条の4), and to its quantity, truncated by the digits of a yen rate (関税法基本通達13の4-2(2): ``rate.py``).
The duty is the exact amount with fractions of a yen dropped (Customs Answer 1111); the engine sums the lines and
cuts the total to 100 yen.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xlduty.core.errors import InputError, RateParseError
from xlduty.core.facts import Prepared
from xlduty.core.rate import DutyBase, ManualRate, NeedsInput, NotApplicable, Rate, new_base
from xlduty.core.rate_parser import parse_rate
from xlduty.core.selection import Applied
from xlduty.core.units import unit_of

_LITRE = unit_of("l")


def duty_base(p: Prepared, taxable_value: int, on: date) -> DutyBase:
    """What a rate needs from the line: its taxable value and quantity (of liquor, its litres where no other is
    given), origin, quota and condition; a quantity that also bears liquor tax is not truncated (通達13の4-2(2))."""
    ln = p.line
    quantity, unit, liquor = ln.quantity, p.unit, ln.liquor
    if quantity is None and liquor is not None:
        quantity, unit = liquor.litres, _LITRE
    return new_base(taxable_value, quantity, unit, on, ln.origin, ln.in_quota, ln.condition, liquor is None, None)


def given(p: Prepared, base: DutyBase) -> tuple[Applied, Decimal]:
    """The line's own rate (指定税率) and the exact amount it gives."""
    text = p.line.rate
    assert text is not None
    try:
        rate = parse_rate(text)
    except (RateParseError, ValueError) as exc:
        raise InputError(f"lines[{p.index}].rate", str(exc)) from None
    amount = evaluate(rate, base, f"lines[{p.index}]", "rate")
    return Applied("override", "指定税率 (rate given)", text, rate, amount), amount


def evaluate(rate: Rate, base: DutyBase, at: str, field_: str) -> Decimal:
    """The exact amount ``rate`` gives, or an ``InputError`` on ``at`` saying what is missing."""
    try:
        return rate.evaluate(base)
    except NeedsInput as exc:
        raise InputError(f"{at}.{exc.field}", exc.message) from None
    except NotApplicable as exc:
        raise InputError(f"{at}.{field_}", f"the rate does not cover the goods: {exc}") from None
    except ManualRate as exc:
        raise InputError(f"{at}.{field_}", str(exc)) from None
