"""Japanese legal rounding: where every truncation of a base, an amount or a quantity lives.

関税法13条の4 makes 国税通則法118条1項 (tax base) and 119条1項 (tax amount) apply to customs duty;
import consumption tax and liquor tax are national taxes to which they apply directly.
All inputs are non-negative; ``int()`` on a non-negative Decimal is the floor.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Context, Decimal
from fractions import Fraction

Number = int | Decimal
_EXACT = Context(prec=60, rounding=ROUND_FLOOR)
TAX_BASE_UNIT = 1000   # 通則法118条1項: a tax base is cut to whole thousands of yen


EXACT = 10**20   # below this, an int times a percentage of a few digits is exact in Decimal (28 digits) too

def floor_yen(amount: Number) -> int:
    """Drop fractions of a yen (per-line duty, per-line consumption tax: CA 1111)."""
    return int(amount) if amount > 0 else 0


def truncate_tax_base(amount: Number) -> int:  # 通則法118条1項; 関税法基本通達13の4-1
    """Tax base (課税価格, 課税標準額): drop fractions below 1,000 yen; a base under 1,000 yen is 0."""
    return int(amount) // TAX_BASE_UNIT * TAX_BASE_UNIT if amount > 0 else 0


def truncate_tax_amount(amount: Number) -> int:  # 通則法119条1項; 関税法基本通達13の4-1
    """Tax amount (確定金額): drop fractions below 100 yen; an amount under 100 yen is 0."""
    return int(amount) // 100 * 100 if amount > 0 else 0


def quantity_decimals(yen_per_unit: Decimal) -> int:
    """Decimal places kept in a specific-duty quantity (関税法基本通達13の4-2(2)).

    A rate with n integer digits keeps n-2 decimals: 1-99 yen/unit → whole units,
    100-999 yen → 1 decimal, 1,000-9,999 yen → 2 decimals … Rates under 1 yen are treated as
    whole units (sub-item イ of the 通達 was not retrieved: rules/rounding.yaml marks it [U]).
    """
    digits = len(str(int(yen_per_unit))) if yen_per_unit >= 1 else 1
    return max(digits - 2, 0)


def truncate_quantity(quantity: Decimal, yen_per_unit: Decimal) -> Decimal:
    """Truncate a taxable quantity by the size of its yen rate (関税法基本通達13の4-2(2))."""
    step = _steps.get(yen_per_unit)
    if step is None:   # a handful of distinct rates: the step of each is worked out once
        step = Decimal(1).scaleb(-quantity_decimals(yen_per_unit))
        if len(_steps) < 4096:
            _steps[yen_per_unit] = step
    return (quantity // step) * step


_steps: dict[Decimal, Decimal] = {}


def percent_fraction(percent: Decimal) -> tuple[int, int]:
    """``percent`` / 100 as (numerator, denominator): a rate of a few digits applied in exact integers."""
    n, d = percent.as_integer_ratio()
    return n, d * 100


def yen_text(amount: Number) -> str:
    """A yen figure as an explanation prints it: thousands separators, fractions cut (never rounded up) after six
    places, so that a floor or truncation printed beside it agrees with it (910,999.999999 → 910,000, never 911,000).
    """
    if type(amount) is int or isinstance(amount, int):
        return f"{amount:,}"
    text = f"{amount:,f}"   # every digit, with separators and no exponent: nothing is rounded here
    whole, dot, fraction = text.partition(".")
    if dot:
        fraction = fraction[:6].rstrip("0")
        text = f"{whole}.{fraction}" if fraction else whole
    return "0" if text == "-0" else text


def exact_text(x: Fraction) -> str:
    """An exact quotient as an explanation prints it: ``yen_text`` of it cut at 60 digits, with "…" where digits beyond
    those printed are dropped (546.53 / 1.043 = 523.998082…)."""
    cut = _EXACT.divide(Decimal(x.numerator), Decimal(x.denominator))
    text = yen_text(cut)
    return text if Fraction(Decimal(text.replace(",", ""))) == x else f"{text}…"
