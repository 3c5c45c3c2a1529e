"""The one grammar of a number given as text: a JSON string, an ``options`` item, a text cell in Excel, a flag.

A number typed as text is read only when it can be read one way:

    [+|-] digits [. digits] [e|E [+|-] digits]      (or [+|-] . digits …)

after NFKC (so ``３００．５`` typed in a Japanese IME's full-width mode is ``300.5``) and with the spaces around it
removed. Only ASCII digits 0–9 count, and nothing may stand between them: no thousands separator (``300,000``,
``300_000``, ``300 000``, ``300'000``), no decimal comma (``3,9``), no currency mark (``¥``, ``円``, ``$``), no
``NaN`` or ``Infinity``. A comma is refused rather than read: ``1,500`` is one thousand five hundred to a Japanese
reader and one and a half to a German one, and a customs value must never depend on which. Numbers written as JSON
numbers (not strings) are JSON's own grammar, which this one follows.

Rate texts are not numbers in this sense: they follow the tariff's notation (``xlduty.core.rate_parser``), in which
a comma groups thousands by threes (``1,035円/kg``), as the schedule prints them.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

_GRAMMAR = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
MAX_AMOUNT = 10**15
"""An amount, quantity or rate of 10^15 or more is a typing slip (1,000 trillion), and the products of larger ones
would no longer be exact in Decimal's 28 digits: the input contract refuses it (``declaration_models``)."""
NOT_A_NUMBER = "a number is required (digits and a decimal point, no thousands separators)"
"""The message for a text that is not a number: the words every reader of an input uses."""


def number_text(text: str) -> str | None:
    """``text`` as a number's canonical ASCII spelling, or None when the grammar does not read it."""
    t = text if text.isascii() else unicodedata.normalize("NFKC", text)
    t = t.strip()
    return t if _GRAMMAR.fullmatch(t) else None


def problem(text: str) -> str:
    """Why ``text`` is not a number, in the words of ``NOT_A_NUMBER`` (with what it looks like, when that helps)."""
    t = unicodedata.normalize("NFKC", text).strip()
    if t.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity"):
        return "a finite number is required"
    if re.fullmatch(r"[+-]?[0-9]+,[0-9]{1,2}", t):
        return f"{NOT_A_NUMBER}: {text.strip()!r} reads as a decimal comma; write {t.replace(',', '.')}"
    return NOT_A_NUMBER


def parse_number(text: str) -> Decimal:
    """The exact value of a number given as text; ``ValueError`` (with ``problem``'s words) otherwise."""
    t = number_text(text)
    if t is None:
        raise ValueError(problem(text))
    try:
        return Decimal(t)
    except InvalidOperation:   # an exponent beyond Decimal's range
        raise ValueError("the number is out of range") from None


def decimal_input(v: object) -> object:
    """A pydantic before-validator for a decimal field: a text is read by the grammar above (``ValueError`` with
    its words), anything else is left to the field's own validation."""
    return parse_number(v) if type(v) is str else v


def integer_input(v: object) -> object:
    """The same for a whole-number field (pydantic alone would read ``"1_000"`` and ``true`` as numbers)."""
    if type(v) is str:
        d = parse_number(v)
        if d != d.to_integral_value():
            raise ValueError("a whole number is required")
        return int(d)
    if type(v) is bool:
        raise ValueError(NOT_A_NUMBER)
    return v
