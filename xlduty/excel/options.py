"""The ``options`` text argument of the worksheet functions: everything a ``xlduty compute`` line offers.

One documented, forgiving syntax so a cell formula stays short::

    "personal; simplified=never; claim=epa_eu; rate=14%; reduced=yes; currency=USD; fx=155.39"

Items are separated by ``;`` (or a newline); each is ``key=value`` or a bare flag (``personal``,
``quota``, ``reduced``). Keys and yes/no values are case-insensitive; Japanese aliases are accepted
for the common keys. An unknown key or a bad value is an ``InputError`` naming ``options.<key>``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from xlduty.core.errors import InputError
from xlduty.core.numbers import number_text, problem
from xlduty.core.typed import fx_pairs as fx_pairs_of

YES = frozenset({"yes", "y", "true", "1", "on", "はい"})   # the words of a yes/no option or cell
NO = frozenset({"no", "n", "false", "0", "off", "いいえ"})

# key → (declaration or line, JSON field, kind)
_KEYS: dict[str, tuple[str, str, str]] = {
    "personal": ("declaration", "personal_use", "bool"),
    "simplified": ("declaration", "simplified", "choice:auto,always,never"),
    "fx": ("declaration", "fx_rates", "fx"),
    "pork_emergency": ("declaration", "pork_emergency", "bool"),   # 暫定法7条の6 in force on the date
    "claim": ("line", "claim_preference", "claim"),
    "rate": ("line", "rate", "text"),
    "reduced": ("line", "reduced_ct", "bool_or_auto"),
    "currency": ("line", "currency", "text"),
    "freight": ("line", "freight", "number"),
    "insurance": ("line", "insurance", "number"),
    "additions": ("line", "additions", "number"),
    "unit": ("line", "unit", "text"),
    "excise": ("line", "excise", "number"),
    "liquor": ("liquor", "category", "text"),
    "litres": ("liquor", "litres", "number"),
    "abv": ("liquor", "abv", "number"),
    "relief": ("relief", "type", "text"),
    "export_value": ("relief", "export_value", "number"),
    "japanese_value": ("relief", "japanese_value", "number"),
    "export_ct_free": ("relief", "export_ct_free", "bool"),
    "quota": ("line", "in_quota", "bool"),
    "condition": ("line", "condition", "text"),
}
_ALIASES = {
    "personal_use": "personal", "個人使用": "personal", "簡易税率": "simplified", "simplified_tariff": "simplified",
    "claim_preference": "claim", "特恵": "claim", "epa": "claim", "税率": "rate", "reduced_ct": "reduced",
    "軽減税率": "reduced", "通貨": "currency", "運賃": "freight", "保険料": "insurance", "単位": "unit",
    "fx_rates": "fx", "為替": "fx", "酒類": "liquor", "liters": "litres", "in_quota": "quota", "枠内": "quota",
    "減免税": "relief",
}
KEYS = tuple(_KEYS)


@dataclass
class Options:
    """Parsed options: fields for the declaration and for its (single) line, in JSON-contract shape."""

    declaration: dict[str, Any] = field(default_factory=dict)
    line: dict[str, Any] = field(default_factory=dict)


def yes_no(key: str, value: str | None) -> bool:
    if value is None:
        return True
    v = value.lower()
    if v in YES:
        return True
    if v in NO:
        return False
    raise InputError(f"options.{key}", f"use yes or no, not {value!r}")


def number(key: str, value: str | None) -> str:
    """A number by the one grammar of every input (``xlduty.core.numbers``: no thousands separators, so that
    ``freight=1,5`` is never read as 15), kept as text: the declaration parses it into an exact Decimal."""
    if not value:
        raise InputError(f"options.{key}", "give a number, e.g. " + key + "=1200")
    text = number_text(value)
    if text is None:
        raise InputError(f"options.{key}", problem(value))
    return text


def items(text: object, keys: tuple[str, ...], aliases: dict[str, str],
          example: str) -> Iterator[tuple[str, str | None]]:
    """(key, value or None for a bare flag) for each ``;``-separated item of an options text, the key normalised
    (case, ``-``, aliases, full-width ＝ ； from a Japanese IME); an unknown key is an error naming it, and so is a
    key given twice, under any of its names (``rate=14%; rate=0%`` or ``claim=no; epa=yes``: never the last one
    silently kept)."""
    if not isinstance(text, str):
        raise InputError("options", f"options must be text such as \"{example}\"")
    seen: set[str] = set()
    for raw in unicodedata.normalize("NFKC", text).replace("\n", ";").split(";"):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower().replace("-", "_").replace(" ", "_")
        key = aliases.get(key, key)
        if key not in keys:
            raise InputError(f"options.{key}", f"unknown option (use {', '.join(keys)})")
        if key in seen:
            raise InputError(f"options.{key}", "given twice: give each option once")
        seen.add(key)
        yield key, value.strip() if sep else None


def parse_options(text: object) -> Options:
    """Parse the options cell. Empty or blank → no options."""
    out = Options()
    if text is None:
        return out
    for key, val in items(text, KEYS, _ALIASES, "personal; claim=epa_eu"):
        target, name, kind = _KEYS[key]
        if kind == "bool":
            parsed: Any = yes_no(key, val)
        elif kind == "bool_or_auto":
            if val is not None and val.lower() not in ("auto", *YES, *NO):
                raise InputError(f"options.{key}", f"use yes, no or auto, not {val!r}")
            parsed = None if val is not None and val.lower() == "auto" else yes_no(key, val)
        elif kind == "number":
            parsed = number(key, val)
        elif kind.startswith("choice:"):
            choices = kind.removeprefix("choice:").split(",")
            if val is None or val.lower() not in choices:
                raise InputError(f"options.{key}", f"use one of {', '.join(choices)}")
            parsed = val.lower()
        elif kind == "claim":
            if val is None or val.lower() in YES:
                parsed = True
            elif val.lower() in NO:
                parsed = False
            else:
                parsed = val.lower()
        elif kind == "fx":
            parsed = fx_pairs(val)
        else:
            if not val:
                raise InputError(f"options.{key}", "give a value, e.g. " + key + "=...")
            parsed = val
        if target == "declaration":
            out.declaration[name] = parsed
        elif target == "line":
            out.line[name] = parsed
        else:
            out.line.setdefault(target, {})[name] = parsed
    return out


def fx_pairs(value: str | None) -> dict[str, str]:
    """``fx=155.39`` (for the line currency) or ``fx=USD:155.39,EUR:162.1``, read as every currency:rate list is
    (``xlduty.core.typed.fx_pairs``: the number grammar, a currency given twice refused); each rate kept as the text
    of its exact value, as the other numbers of the options are (the declaration reads it back exactly)."""
    if not value:
        raise InputError("options.fx", "give yen per unit, e.g. fx=155.39 or fx=USD:155.39")
    try:
        return {code: str(rate) for code, rate in fx_pairs_of(value, bare=True).items()}
    except ValueError as exc:
        raise InputError("options.fx", str(exc)) from None


def apply_fx(options: Options) -> None:
    """Give a bare ``fx=…`` the line's currency (it needs ``currency=``)."""
    rates = options.declaration.get("fx_rates")
    if rates and "" in rates:
        ccy = str(options.line.get("currency", "")).upper()
        if not ccy or ccy == "JPY":
            raise InputError("options.fx", "fx=<rate> needs currency=<ISO code> (or write fx=USD:155.39)")
        rates[ccy] = rates.pop("")
