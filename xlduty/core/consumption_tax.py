"""Import consumption tax (輸入消費税), per line (Customs Answer 1111), then summed by the engine.

- Rate: standard, or reduced for food (飲食料品: 消費税法 別表第一; rules/reduced_rate_food.yaml, by HS code; the
  user decides where the use decides it). Liquor is never reduced.
- Base (課税標準): customs value + duty cut to 100 yen + the line's excise (消費税法28条4項), cut to 1,000 yen
  (国税通則法118条1項).
- National tax: base × the national rate, fractions of a yen dropped (消費税法29条).
- Local tax (地方消費税): the national tax cut to 100 yen × 22/78 (地方税法72条の83), fractions dropped.
"""

from __future__ import annotations

from decimal import Decimal

from xlduty.core.cache import remember
from xlduty.core.errors import InputError
from xlduty.core.facts import AnyLine, Context
from xlduty.core.rounding import EXACT, floor_yen, truncate_tax_amount, truncate_tax_base
from xlduty.core.rules import FoodRules
from xlduty.core.schedule import TariffLine


def tax_base(whole_yen: int, duty: int, excise: int) -> int:
    """The line's base: ``whole_yen`` (its customs value, floored) + its duty cut to 100 yen + its excise in whole yen,
    cut to 1,000 yen. Whole yen + whole amounts: floor(value) + n = floor(value + n) exactly, where a Decimal sum of
    more than 28 digits would round."""
    return truncate_tax_base(whole_yen + truncate_tax_amount(duty) + excise)


def national(base: int, percent: Decimal) -> int:
    """The national tax of a line at ``percent``."""
    return floor_yen(base * percent / 100)


def local(national_tax: int, num: int, den: int) -> int:
    """The local tax of a line: its national tax cut to 100 yen × num / den (22/78)."""
    return truncate_tax_amount(national_tax) * num // den


def exact_taxes(whole_yen: int, duty: int, ratio: tuple[int, int], percent: Decimal, num: int,
                den: int) -> tuple[int, int, int]:
    """``tax_base`` (no excise), ``national`` and ``local`` of a line in ints, as the fast path works them out: the
    national rate as its ratio (``percent`` / 100 = n / d) where the base is below ``EXACT``, where that product is
    what the Decimal one gives. (base, national tax, local tax)."""
    base = (whole_yen + duty // 100 * 100) // 1000 * 1000
    nat = base * ratio[0] // ratio[1] if base < EXACT else floor_yen(base * percent / 100)
    return base, nat, nat // 100 * 100 * num // den


class FoodClass:
    """Whether goods are food at the reduced rate, by HS code (rules/reduced_rate_food.yaml), once per code."""

    def __init__(self, food: FoodRules) -> None:
        self.food = food
        self._known: dict[str, tuple[bool | None, str | None]] = {}

    def of(self, tariff: TariffLine) -> tuple[bool | None, str | None]:
        """(reduced, what to report): reduced None where the use decides (the message says so)."""
        known = self._known.get(tariff.code)
        if known is None:
            status, why = self.food.status(tariff.code)
            if status == "depends":
                known = (None, f"whether {tariff.hs} is food (飲食料品, reduced rate) depends on its use ({why}): "
                               "set reduced_ct to true or false")
            elif self.food.verified == "U" and (status == "reduced" or int(tariff.code[:2]) <= 24):
                known = (status == "reduced", f"food classification of {tariff.hs} ({status} rate) from "
                                              "rules/reduced_rate_food.yaml")
            else:
                known = (status == "reduced", None)
            remember(self._known, tariff.code, known)
        return known

    def reduced(self, ln: AnyLine, tariff: TariffLine | None, available: bool, i: int, notes: list[str],
                unverified: list[str], ctx: Context | None = None) -> bool:
        """Whether line ``i`` is taxed at the reduced rate (``available``: the date has one). Food declared at the
        reduced rate on a date before it existed (2019-10-01: 平成28年改正法附則) pays the one rate of that date, as
        every good then did: said in the line's notes and the declaration's warnings (``ctx``)."""
        if ln.reduced_ct is not None:
            if ln.reduced_ct and ln.liquor:
                raise InputError(f"lines[{i}].reduced_ct", "liquor (酒類) is never taxed at the reduced rate")
            if ln.reduced_ct and not available:
                said = ("reduced_ct: no reduced consumption-tax rate existed on this date (it starts 2019-10-01): "
                        "every good paid the standard rate, which is applied")
                notes.append(said)
                if ctx is not None:
                    if ctx.warnings is None:
                        ctx.warnings = []
                    ctx.warnings.append(f"line {i}: {said}")
                return False
            return ln.reduced_ct
        if ln.liquor or not available:
            return False
        if tariff is None:
            notes.append("no HS code: standard consumption-tax rate assumed; set reduced_ct for food (飲食料品)")
            return False
        reduced, message = self.of(tariff)
        if reduced is None:
            raise InputError(f"lines[{i}].reduced_ct", message)
        if message:
            unverified.append(message)
        return reduced
