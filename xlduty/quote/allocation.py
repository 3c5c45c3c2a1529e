"""Remainder-safe allocation (按分) of an amount across lines: the parts always sum exactly to the total.

Why: a quote shows per-line freight, costs and taxes that must add up to the freight bill and to the
taxes actually paid; rounding each share on its own loses or creates yen (¥1,000 over three equal lines
rounded each is 333 × 3 = 999). Method: largest remainder (Hamilton). Each line first gets its exact
share ``total × weight / Σ weights`` floored to the quantum (¥1, or 0.01 of a currency); the quanta left
over go one each to the lines with the largest fractional remainders; equal remainders go to the
earlier line (line order). So ¥1,000 over three equal lines is 334 / 333 / 333.

Exact arithmetic throughout (``fractions.Fraction``): no share depends on a float or on Decimal precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from xlduty.core.errors import InputError

Number = int | Decimal


def hamilton(units: int, weights: Sequence[Number]) -> list[int]:
    """Split ``units`` whole quanta in proportion to ``weights`` by largest remainder, ties to the earlier line.

    ``ValueError`` for a negative weight, or for all-zero weights with something to split: the caller names
    the field (see ``allocate``).
    """
    if units < 0:
        raise ValueError("cannot allocate a negative amount")
    if any(w < 0 for w in weights):
        raise ValueError("a weight is negative")
    total_weight = sum((Fraction(w) for w in weights), Fraction(0))
    if units == 0:
        return [0] * len(weights)
    if total_weight == 0:
        raise ValueError("every weight is zero")
    exact = [Fraction(units) * Fraction(w) / total_weight for w in weights]
    floors = [int(e) for e in exact]            # exact shares are non-negative: int() is the floor
    left = units - sum(floors)
    # largest remainder first; the line index breaks ties (earlier line first): sorted() is stable
    order = sorted(range(len(weights)), key=lambda i: -(exact[i] - floors[i]))
    for i in order[:left]:
        floors[i] += 1
    return floors


def allocate(total: Number, weights: Sequence[Number], quantum: Number = 1, *, field: str = "",
             basis: str = "weight") -> list[Decimal]:
    """``total`` split across lines by ``weights`` in steps of ``quantum``; the parts sum exactly to ``total``.

    ``total`` must be a whole number of quanta (``quantum_of`` picks one that fits). All-zero weights with
    a non-zero total are an ``InputError`` naming ``field`` and the ``basis`` that was zero.
    """
    q = Decimal(quantum)
    t = Decimal(total)
    units = t / q
    if units != units.to_integral_value():
        raise ValueError(f"{total} is not a whole number of {quantum}")
    try:
        parts = hamilton(int(units), weights)
    except ValueError as exc:
        if "zero" in str(exc):
            raise InputError(field, f"every line's {basis} is zero: nothing to allocate {total} by") from None
        raise InputError(field, f"cannot allocate by {basis}: {exc}") from None
    return [Decimal(p) * q for p in parts]


def allocate_yen(total: int, weights: Sequence[Number], *, field: str = "", basis: str = "weight") -> list[int]:
    """Integer yen split by largest remainder (taxes paid, domestic costs): the parts sum exactly to ``total``."""
    return [int(p) for p in allocate(total, weights, 1, field=field, basis=basis)]


# ISO 4217 currencies without minor units (the ones a supplier invoice is likely to use)
_NO_MINOR = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX", "XAF", "XOF"})
_THREE_MINOR = frozenset({"BHD", "JOD", "KWD", "OMR", "TND", "IQD", "LYD"})


def quantum_of(amount: Number, currency: str) -> Decimal:
    """The step an amount is allocated in: the currency's minor unit (¥1, $0.01, KWD 0.001), or finer when the
    amount itself is given more precisely (so the amount is always a whole number of steps)."""
    minor = 0 if currency in _NO_MINOR else 3 if currency in _THREE_MINOR else 2
    exponent = Decimal(amount).normalize().as_tuple().exponent
    decimals = max(minor, -exponent) if isinstance(exponent, int) else minor
    return Decimal(1).scaleb(-decimals)
