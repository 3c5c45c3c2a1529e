"""Quantity units of specific duties and their conversions.

The tariff writes units in Japanese (円/kg, 円/足, 円/頭, 円/㎡, 円/1,000本 …); users write kg, g, l, ml,
pcs. A quantity converts only within one dimension: never kg to litres.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import NamedTuple


class Unit(NamedTuple):
    code: str          # canonical code, e.g. "kg"
    dimension: str     # mass, volume, area, count, pair, head
    factor: Decimal    # size in the dimension's base unit (kg, l, m2, piece, pair, head)
    ja: str            # how the tariff writes it


_UNITS = [
    Unit("kg", "mass", Decimal(1), "kg"),
    Unit("g", "mass", Decimal("0.001"), "g"),
    Unit("t", "mass", Decimal(1000), "MT"),
    Unit("l", "volume", Decimal(1), "l"),
    Unit("ml", "volume", Decimal("0.001"), "ml"),
    Unit("kl", "volume", Decimal(1000), "kl"),
    Unit("m2", "area", Decimal(1), "㎡"),
    Unit("piece", "count", Decimal(1), "個"),
    Unit("stick", "count", Decimal(1), "本"),
    Unit("sheet", "count", Decimal(1), "枚"),
    Unit("dozen", "count", Decimal(12), "DZ"),
    Unit("pair", "pair", Decimal(1), "足"),
    Unit("head", "head", Decimal(1), "頭"),
]
UNITS: dict[str, Unit] = {u.code: u for u in _UNITS}

_ALIASES = {
    "kg": "kg", "kgs": "kg", "キログラム": "kg", "g": "g", "gr": "g", "グラム": "g",
    "t": "t", "mt": "t", "ton": "t", "tonne": "t", "トン": "t",
    "l": "l", "ℓ": "l", "lt": "l", "litre": "l", "liter": "l", "リットル": "l",
    "ml": "ml", "kl": "kl",
    "m2": "m2", "㎡": "m2", "sm": "m2", "sqm": "m2", "平方メートル": "m2",
    "piece": "piece", "pieces": "piece", "pc": "piece", "pcs": "piece", "no": "piece", "u": "piece",
    "unit": "piece", "units": "piece", "個": "piece",
    "stick": "stick", "sticks": "stick", "本": "stick",
    "sheet": "sheet", "sheets": "sheet", "枚": "sheet",
    "dz": "dozen", "dozen": "dozen", "ダース": "dozen",
    "pair": "pair", "pairs": "pair", "pr": "pair", "足": "pair",
    "head": "head", "heads": "head", "頭": "head",
}


def unit_of(text: str) -> Unit:
    """The unit a user or the tariff wrote; ``ValueError`` names the accepted spellings."""
    code = _ALIASES.get(unicodedata.normalize("NFKC", text).strip().lower())   # ｋｇ typed in full-width: kg
    if code is None:
        raise ValueError(f"unknown unit {text!r} (use kg, g, t, l, ml, kl, m2, pcs, pair, head)")
    return UNITS[code]


def convert(quantity: Decimal, source: Unit, target: Unit) -> Decimal:
    """``quantity`` in ``source`` expressed in ``target``; ``ValueError`` across dimensions."""
    if source.dimension != target.dimension:
        raise ValueError(f"a quantity in {source.code} cannot be converted to {target.code}")
    if source is target:
        return quantity
    return quantity * source.factor / target.factor
