"""Text as people type it, read one way wherever it is typed: the words of a closed set, dates, and currency:rate
pairs (numbers: ``numbers.py``). The JSON input, an ``options`` text, an Excel cell, a batch's CSV cell and a
command-line option all read these through here, so that ``NEVER`` or ``2026/11/20`` means the same in each.

- **Words of a closed set** (``simplified``, a relief, a preference column, an option's choice) are read after NFKC
  (full-width typing from a Japanese IME), trimmed and lower-cased: ``NEVER``, ``Ｎｅｖｅｒ`` and ``never`` are one
  word.
- **Dates** are ``YYYY-MM-DD``, or as Japanese Excel writes a date cell into a CSV file: ``2026/11/20``, ``2026/1/5``,
  ``2026年11月20日``, full-width or not. Nothing else is read (``20261120``, ``11/20/2026``, a serial number in a
  text), and a day the calendar does not have (``2026-02-30``) is refused with the date named.
- **Currency:rate pairs** (``USD:155.39,EUR:162.1``; ``,`` or ``;`` between pairs): each code three ASCII letters
  after NFKC, upper-cased, given once; each rate read by the number grammar (``numbers.parse_number``: no
  thousands separators, no ``NaN``), above 0. ``USD:155_39`` is refused, never read as 15,539; ``USD:155.39,USD:1``
  is refused, never "the last one wins".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from xlduty.core.numbers import MAX_AMOUNT, parse_number

MAX_RATE = Decimal(MAX_AMOUNT)   # a rate is held to the bound of an amount: anything larger is a typing slip


def closed(v: object) -> object:
    """A word of a closed set as it is compared: NFKC, trimmed, lower-case (anything but text as it is). A pydantic
    before-validator as well."""
    if type(v) is not str:
        return v
    text = v if v.isascii() else unicodedata.normalize("NFKC", v)
    return text.strip().lower()


def code_text(v: object) -> object:
    """A code typed in a Japanese IME's full-width mode (``ＣＮ``, ``ｅｐａ＿ｅｕ``) read as NFKC reads it, as numbers
    are: the same text in ASCII (a pydantic before-validator: anything but text is left to the field)."""
    return unicodedata.normalize("NFKC", v) if type(v) is str and not v.isascii() else v


def date_text(v: object) -> object:
    """A date given as text, read by the one date grammar (``read_date``: YYYY-MM-DD, or
    2026/11/20 as Japanese Excel writes it; pydantic alone would also take other forms, and refuses these)."""
    if isinstance(v, str):
        return read_date(v)
    return v


def currency_keys(v: dict[str, Decimal]) -> dict[str, Decimal]:
    """``{ISO: yen per unit}`` with 3-letter keys, upper-cased."""
    out = {}
    for k, rate in v.items():
        code = unicodedata.normalize("NFKC", k).strip().upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise ValueError(f"{k!r} is not a 3-letter currency code")
        if code in out:   # "usd" and "USD": one currency given twice
            raise ValueError(f"{code} given twice")
        out[code] = rate
    return out


def word(text: str, allowed: Iterable[str]) -> str:
    """``text`` as one of ``allowed`` (lower-case words), read by ``closed``; ``ValueError`` listing them."""
    choices = tuple(allowed)
    w = closed(text)
    if w not in choices:
        raise ValueError(f"unknown {str(text).strip()!r} (use {', '.join(choices)})")
    return w   # type: ignore[return-value]


_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{1,2})-([0-9]{1,2})|/([0-9]{1,2})/([0-9]{1,2})"
                   r"|年([0-9]{1,2})月([0-9]{1,2})日)")
DATE_FORMS = "YYYY-MM-DD (or 2026/11/20 as Excel writes it)"


def read_date(text: str) -> date:
    """A date typed as text (see the module's docstring); ``ValueError`` saying which forms are read."""
    t = text if text.isascii() else unicodedata.normalize("NFKC", text)
    t = t.strip()
    m = _DATE.fullmatch(t)
    if m is None:
        raise ValueError(f"{text.strip()!r} is not a date: use {DATE_FORMS}")
    year, *rest = m.groups()
    month, day = (x for x in rest if x is not None)
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a day of the calendar") from None


def fx_pairs(text: str, *, bare: bool = False) -> dict[str, Decimal]:
    """``USD:155.39,EUR:162.1`` as ``{"USD": Decimal("155.39"), "EUR": Decimal("162.1")}``; with ``bare``, a rate
    alone (``155.39``) is the pair of the currency ``""`` (the caller gives it the line's currency). ``ValueError``
    naming the pair at fault."""
    t = text if text.isascii() else unicodedata.normalize("NFKC", text)
    parts = [p.strip() for p in re.split(r"[,;]", t)]
    pairs: list[str] = []
    for part in parts:
        if part.count(":") > 1:   # pairs separated by spaces only: USD:155.39 EUR:162.1
            pairs += part.split()
        elif part:
            pairs.append(part)
    if not pairs:
        raise ValueError("give yen per unit, e.g. USD:155.39,EUR:162.1")
    rates: dict[str, Decimal] = {}
    for pair in pairs:
        code, sep, rate = pair.partition(":")
        if not sep:
            if not (bare and len(pairs) == 1):   # 155,39: a decimal comma, or a rate without its currency
                raise ValueError(f"{pair!r}: give each rate with its currency (USD:155.39,EUR:162.1); write a "
                                 "decimal point, not a comma")
            code, rate = "", code
        code = code.strip().upper()
        if code and not (len(code) == 3 and code.isascii() and code.isalpha()):
            raise ValueError(f"{pair!r}: {code!r} is not a 3-letter currency code")
        if code in rates:
            raise ValueError(f"{code or 'the rate'} given twice: give each currency once")
        try:
            value = parse_number(rate)
        except ValueError as exc:
            raise ValueError(f"{pair!r}: {exc}") from None
        if not value > 0:
            raise ValueError(f"{pair!r}: the rate must be above 0 (yen per 1 unit)")
        if not value < MAX_RATE:   # the words of the models' bound on fx_rates (declaration_models._MESSAGES)
            raise ValueError(f"{pair!r}: the rate must be below 10^15 (1,000 trillion): a typing slip?")
        rates[code] = value
    return rates
