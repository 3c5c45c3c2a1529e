"""Plain declarations checked by hand: the common case of the input contract, without pydantic.

Validating a line with pydantic costs more than computing it. A declaration of plain values (the JSON the CLI
reads: ints and Decimals, clean strings, no liquor, excise or relief) is checked here instead; anything else, valid
or not, returns None and goes through the models of ``declaration.py``, so every error message, and every value
pydantic would convert (floats, numeric strings, padded codes), still comes from them. tests/test_plain_path.py
holds the two equal: this accepts only what the models accept, with the same values.
"""

from __future__ import annotations

import re
from datetime import date as Date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xlduty.core.declaration import MAX_AMOUNT, PlainDeclaration, PlainLine, parse_declaration

if TYPE_CHECKING:
    from xlduty.core.declaration_models import Declaration
from xlduty.core.rate import ZERO as _ZERO  # the shared zero: the engine does not add it to a line's value

_LINE_FIELDS = frozenset(("hs_code", "origin", "value", "currency", "freight", "insurance", "additions", "quantity",
                          "unit", "rate", "claim_preference", "reduced_ct", "in_quota", "condition"))
_DECL_FIELDS = frozenset(("date", "personal_use", "simplified", "fx_rates", "tariff_edition", "lines"))
_MODES = frozenset(("auto", "always", "never"))
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_dates: dict[str, Date] = {}
_D0, _DMAX = Decimal(0), Decimal(MAX_AMOUNT)


def plain_amount(v: object) -> Decimal | None:
    """A non-negative finite amount given as an int or a Decimal (what pydantic gives for them), else None."""
    t = type(v)
    if t is Decimal:   # compared with Decimals: with an int, each comparison converts it
        return v if v.is_finite() and _D0 <= v < _DMAX else None  # type: ignore[union-attr, operator, return-value]
    if t is int:
        return Decimal(v) if 0 <= v < MAX_AMOUNT else None  # type: ignore[operator, arg-type]
    return None


def plain_sum(value: object, freight: object) -> tuple[int | None, object] | None:
    """A common line's value and freight checked as ``plain_line`` checks them, or None if either is not plain:
    (value + freight when both are ints, else None; the freight, a Decimal unless given as an int or left out)."""
    whole = None
    if type(value) is int and 0 <= value < MAX_AMOUNT:  # type: ignore[operator]
        whole = value
    elif type(value) is not Decimal or not value.is_finite() or not 0 <= value < MAX_AMOUNT:  # type: ignore[union-attr, operator]
        return None
    if type(freight) is int and 0 <= freight < MAX_AMOUNT:  # type: ignore[operator]
        if whole is not None:
            whole += freight  # type: ignore[operator]
    elif freight is not _ZERO:
        whole = None
        if (freight := plain_amount(freight)) is None:
            return None
    return whole, freight  # type: ignore[return-value]


def _clean(v: object) -> bool:
    """A string pydantic keeps as it is: nothing its whitespace stripping would remove (Python strips more)."""
    return type(v) is str and v.strip() == v  # type: ignore[union-attr]


def plain_code(v: object, size: int) -> str | None:
    """A 2- or 3-letter ASCII code, upper-cased (remembered: a batch repeats a few dozen)."""
    if type(v) is not str:
        return None
    known = _codes.get(v)  # type: ignore[call-overload]
    if known is None and len(v) == size and v.isascii() and v.isalpha():  # type: ignore[arg-type]
        known = _codes[v] = v.upper()  # type: ignore[index, union-attr]
        if len(_codes) > 4096:
            _codes.clear()
    return known if known is not None and len(known) == size else None


_codes: dict[str, str] = {}


def plain_texts(hs_code: object, unit: object, claim: object) -> bool:
    """Whether a line's code, unit and claim are plain (``plain_line`` checks them so; the one-line route too, for a
    line of texts not seen): strings are taken only when pydantic would keep them as they are (str.strip returns the
    string itself)."""
    return ((hs_code is None or (type(hs_code) is str and hs_code.strip() == hs_code and hs_code.isascii()))
            and (unit is None or (type(unit) is str and unit.strip() == unit))
            and (claim is False or claim is True or (_clean(claim) and claim.isascii())))  # type: ignore[attr-defined]


def plain_line(d: dict[str, Any]) -> PlainLine | None:
    """The line if it is plain (see above), else None."""
    if not _LINE_FIELDS.issuperset(d):
        return None
    get = d.get
    value = get("value")
    if type(value) is int:
        if not 0 <= value < MAX_AMOUNT:
            return None
        value = Decimal(value)
    elif type(value) is not Decimal or not value.is_finite() or not 0 <= value < MAX_AMOUNT:
        return None
    freight, insurance, additions = get("freight", _ZERO), get("insurance", _ZERO), get("additions", _ZERO)
    if type(freight) is int and 0 <= freight < MAX_AMOUNT:   # the usual extra amount, checked here
        freight = Decimal(freight)
    elif freight is not _ZERO and (freight := plain_amount(freight)) is None:
        return None
    if (insurance is not _ZERO and (insurance := plain_amount(insurance)) is None) or (
            additions is not _ZERO and (additions := plain_amount(additions)) is None):
        return None
    hs_code, origin, currency, quantity, unit, rate, claim, reduced, in_quota, condition = (
        get("hs_code"), get("origin"), get("currency", "JPY"), get("quantity"), get("unit"), get("rate"),
        get("claim_preference", False), get("reduced_ct"), get("in_quota", False), get("condition"))
    if not plain_texts(hs_code, unit, claim) or (rate is not None and not _clean(rate)) or (
            condition is not None and not _clean(condition)):
        return None
    if (origin is not None and (origin := plain_code(origin, 2)) is None) or (
            currency != "JPY" and (currency := plain_code(currency, 3)) is None) or (
            quantity is not None and (quantity := plain_amount(quantity)) is None):
        return None
    if not (reduced is None or reduced is True or reduced is False) or not (in_quota is False or in_quota is True):
        return None
    return PlainLine(hs_code, origin, value, currency, freight, insurance, additions, quantity, unit, rate, claim,
                     reduced, in_quota, condition)


def plain_header(d: dict[str, Any]) -> tuple[Date, bool, str, dict[str, Decimal], str | None, list] | None:
    """A plain declaration's own fields checked (date, personal_use, simplified, fx_rates, tariff_edition) and its
    ``lines`` a non-empty list, not yet checked; None if not plain."""
    if not _DECL_FIELDS.issuperset(d):
        return None
    text = d.get("date")
    on = _dates.get(text) if type(text) is str else None  # type: ignore[arg-type]
    if on is None:
        if type(text) is not str or not _DATE.fullmatch(text):  # type: ignore[arg-type]
            return None
        try:
            on = Date.fromisoformat(text)  # type: ignore[arg-type]
        except ValueError:
            return None
        if len(_dates) >= 4096:
            _dates.clear()
        _dates[text] = on  # type: ignore[index]
    personal, simplified, fx, edition, lines = (d.get("personal_use", False), d.get("simplified", "auto"),
                                               d.get("fx_rates", _ZERO), d.get("tariff_edition"), d.get("lines"))
    if not (personal is False or personal is True) or type(simplified) is not str or simplified not in _MODES:
        return None
    if edition is not None and not (_clean(edition) and edition.isascii()):
        return None
    rates: dict[str, Decimal] = {}
    if fx is not _ZERO:
        if type(fx) is not dict:
            return None
        for k, v in fx.items():
            if type(v) is Decimal and v.is_finite() and _D0 < v < _DMAX:
                rate = v   # a rate as JSON gives it, checked as plain_amount checks it (a batch repeats it: no call)
            elif (rate := plain_amount(v)) is None or not rate:
                return None
            code = _codes.get(k) if type(k) is str else None   # a code seen before, as plain_code gives it
            if code is None or len(code) != 3:
                code = plain_code(k, 3)
            if code is None or code in rates:
                return None   # the models say what is wrong (a currency given twice: "usd" and "USD")
            rates[code] = rate
    if type(lines) is not list or not lines:
        return None
    return on, personal, simplified, rates, edition, lines


def plain_declaration(d: dict[str, Any]) -> PlainDeclaration | None:
    """The declaration if it and all its lines are plain, else None (the caller validates it with pydantic)."""
    head = plain_header(d)
    if head is None:
        return None
    plain = []
    for ln in head[5]:
        if type(ln) is not dict or (p := plain_line(ln)) is None:
            return None
        plain.append(p)
    return PlainDeclaration(head[0], head[1], head[2], head[3], head[4], plain)


def validate(data: object) -> Declaration | PlainDeclaration:
    """``parse_declaration``, with plain declarations checked by ``plain_declaration`` first (batches)."""
    if type(data) is dict:
        plain = plain_declaration(data)
        if plain is not None:
            return plain
    elif type(data) is PlainDeclaration:
        return data
    return parse_declaration(data)
