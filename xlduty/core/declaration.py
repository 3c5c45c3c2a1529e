"""The input contract: one import declaration (輸入申告) with its lines, as ``xlduty compute`` reads it.

``parse_declaration`` checks one with the pydantic models (``declaration_models.py``: ``Declaration``, ``Line``,
``Liquor``, ``Relief``, also reachable here by name); an error becomes an ``InputError`` naming the field and line
(``lines[2].value``). The steps read a line's fields from a ``Line``, or from the ``PlainLine`` / ``CommonLine`` the
fast path builds when it checked the line itself (``xlduty.core.fast.plain``: the same fields, the same values).

The models are imported on first need, not with this module: a plain batch never validates through pydantic, and
importing it cost more than half of ``xlduty batch``'s start-up.
"""

from __future__ import annotations

from datetime import date as Date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xlduty.core.numbers import MAX_AMOUNT
from xlduty.core.rate import ZERO as _ZERO  # the shared zero: valuation does not add it to a line's value
from xlduty.core.typed import code_text, currency_keys, date_text

if TYPE_CHECKING:
    from xlduty.core.declaration_models import Declaration, Liquor, Relief

__all__ = ["MAX_AMOUNT", "CommonLine", "PlainDeclaration", "PlainLine", "code_text", "currency_keys", "date_text",
           "parse_declaration"]

_MODELS = frozenset(("Declaration", "Line", "Liquor", "Relief", "Amount", "Positive", "Number", "Code", "Word",
                     "Currency", "Country", "input_error"))


def __getattr__(name: str) -> Any:
    """The models and their field types by name (``from xlduty.core.declaration import Line``), imported then."""
    if name in _MODELS:
        from xlduty.core import declaration_models

        return getattr(declaration_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_declaration(data: object) -> Declaration:
    """Validate one declaration; the first problem becomes an ``InputError`` naming its field."""
    from xlduty.core.declaration_models import parse_declaration as parse

    return parse(data)


# --- the same lines as plain objects ------------------------------------------------------------------------
# Built by the fast path (``xlduty.core.fast.plain``) where it checked a line itself; the steps read the same
# fields from them as from a ``Line``.

class PlainLine:
    """A ``Line`` without liquor, excise or relief, as ``plain_declaration`` accepted it (same field names)."""

    __slots__ = ("additions", "claim_preference", "condition", "currency", "freight", "hs_code", "in_quota",
                 "insurance", "origin", "quantity", "rate", "reduced_ct", "unit", "value")
    liquor: Liquor | None = None
    excise: Decimal | None = None
    relief: Relief | None = None

    def __init__(self, hs_code: str | None, origin: str | None, value: Decimal, currency: str, freight: Decimal,
                 insurance: Decimal, additions: Decimal, quantity: Decimal | None, unit: str | None,
                 rate: str | None, claim_preference: bool | str, reduced_ct: bool | None, in_quota: bool,
                 condition: str | None) -> None:
        self.hs_code = hs_code
        self.origin = origin
        self.value = value
        self.currency = currency
        self.freight = freight
        self.insurance = insurance
        self.additions = additions
        self.quantity = quantity
        self.unit = unit
        self.rate = rate
        self.claim_preference = claim_preference
        self.reduced_ct = reduced_ct
        self.in_quota = in_quota
        self.condition = condition


class CommonLine:
    """A ``PlainLine`` of the common fields only (as the engine's one pass checks it): the others at their defaults,
    as class attributes, so that it is built from 8 values instead of 14. Value and freight are kept as given, an
    int or a Decimal, and read as Decimal (the one pass converts only their sum)."""

    __slots__ = ("_freight", "_value", "claim_preference", "currency", "hs_code", "origin", "quantity", "unit")
    insurance: Decimal = _ZERO
    additions: Decimal = _ZERO
    rate: str | None = None
    reduced_ct: bool | None = None
    in_quota: bool = False
    condition: str | None = None
    liquor: Liquor | None = None
    excise: Decimal | None = None
    relief: Relief | None = None

    def __init__(self, hs_code: str, origin: str | None, value: Decimal | int, currency: str, freight: Decimal | int,
                 quantity: Decimal | None, unit: str | None, claim_preference: bool | str) -> None:
        self.hs_code = hs_code
        self.origin = origin
        self._value = value
        self.currency = currency
        self._freight = freight
        self.quantity = quantity
        self.unit = unit
        self.claim_preference = claim_preference

    @property
    def value(self) -> Decimal:
        v = self._value
        return v if type(v) is Decimal else Decimal(v)

    @property
    def freight(self) -> Decimal:
        v = self._freight
        return v if type(v) is Decimal else Decimal(v)


class PlainDeclaration:
    """A ``Declaration`` whose lines are all ``PlainLine`` (or ``CommonLine``)."""

    __slots__ = ("date", "fx_rates", "lines", "personal_use", "simplified", "tariff_edition")

    def __init__(self, date: Date, personal_use: bool, simplified: str, fx_rates: dict[str, Decimal],
                 tariff_edition: str | None, lines: list[PlainLine] | list[PlainLine | CommonLine]) -> None:
        self.date = date
        self.personal_use = personal_use
        self.simplified = simplified
        self.fx_rates = fx_rates
        self.tariff_edition = tariff_edition
        self.lines = lines
