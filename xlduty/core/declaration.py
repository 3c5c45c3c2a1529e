"""The input contract: one import declaration (輸入申告) with its lines, as ``xlduty compute`` reads it.

Validation errors become an ``InputError`` naming the field and line (``lines[2].value``). The steps read a line's
fields from a ``Line``, or from the ``PlainLine`` / ``CommonLine`` the fast path builds when it checked the line
itself (``xlduty.core.fast.plain``: the same fields, the same values).
"""

from __future__ import annotations

import unicodedata
from datetime import date as Date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from xlduty.core.errors import InputError
from xlduty.core.numbers import NOT_A_NUMBER, decimal_input
from xlduty.core.rate import ZERO as _ZERO
from xlduty.core.typed import closed, read_date  # the shared zero: valuation does not add it to a line's value

# Validated natively by pydantic-core: floats become Decimals through their shortest repr (0.1 stays 0.1), booleans
# are refused; a number given as text is read by the one grammar of xlduty.core.numbers (NFKC, no separators).
# An amount, quantity or rate of 10^15 or more is a typing slip (1,000 trillion), and the products of larger ones
# would no longer be exact in Decimal's 28 digits: refused with the field named, never an arithmetic crash.
MAX_AMOUNT = 10**15
Number = BeforeValidator(decimal_input)
Amount = Annotated[Decimal, Number, Field(ge=0, lt=MAX_AMOUNT, allow_inf_nan=False)]
Positive = Annotated[Decimal, Number, Field(gt=0, lt=MAX_AMOUNT, allow_inf_nan=False)]


def code_text(v: object) -> object:
    """A code typed in a Japanese IME's full-width mode (``ＣＮ``, ``ｅｐａ＿ｅｕ``) read as NFKC reads it, as numbers
    are: the same text in ASCII (a pydantic before-validator: anything but text is left to the field)."""
    return unicodedata.normalize("NFKC", v) if type(v) is str and not v.isascii() else v


Code = BeforeValidator(code_text)
Word = BeforeValidator(closed)
"""A word of a closed set (``simplified``, a relief, a preference column): case- and width-insensitive, read by the
one normaliser (``xlduty.core.typed.closed``): ``NEVER`` and ``ｎｅｖｅｒ`` are ``never``."""
Currency = Annotated[str, Code, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
Country = Annotated[str, Code, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)


class Liquor(_Input):
    """Goods bearing liquor tax (酒税): category as in rules/liquor_tax.yaml, volume, strength."""

    category: str
    litres: Positive
    abv: Annotated[Decimal | None, Number, Field(ge=0, le=100, allow_inf_nan=False)] = None


class Relief(_Input):
    """A relief claimed for the line, named by its kind; ``article`` may name it instead."""

    type: Annotated[Literal["reimport", "repair", "outward_processing"], Word]
    export_value: Amount | None = None       # 定率法11条: value of the goods as exported (line currency)
    japanese_value: Amount | None = None     # 暫定法8条: value of the Japanese materials (line currency)
    export_ct_free: bool = False             # 定率法14条10号: the export was consumption-tax-free

    @field_validator("type", mode="before")
    @classmethod
    def _by_article(cls, v: object) -> object:
        names = {"14-10": "reimport", "定率法14条10号": "reimport", "14条10号": "reimport",
                 "11": "repair", "定率法11条": "repair", "11条": "repair",
                 "8": "outward_processing", "暫定法8条": "outward_processing", "暫八": "outward_processing"}
        if isinstance(v, str):
            text = str(closed(v))   # REIMPORT, ｒｅｉｍｐｏｒｔ: the word reimport
            return names.get(text, text)
        return names.get(str(v).strip(), v)   # 11, 8: the article's number


def _relief(v: object) -> object:
    return {"type": v} if isinstance(v, str) else v


class Line(_Input):
    hs_code: Annotated[str | None, Code] = None
    origin: Country | None = None
    value: Amount
    currency: Currency = "JPY"
    freight: Amount = Decimal(0)
    insurance: Amount = Decimal(0)
    additions: Amount = Decimal(0)        # other costs added to the customs value (定率法4条1項)
    quantity: Amount | None = None
    unit: Annotated[str | None, Code] = None
    rate: str | None = None
    claim_preference: Annotated[bool | str, Word] = False   # a column name: epa_eu, EPA_EU, ｅｐａ＿ｅｕ
    reduced_ct: bool | None = None
    liquor: Liquor | None = None
    excise: Amount | None = None
    relief: Annotated[Relief | None, BeforeValidator(_relief)] = None
    in_quota: bool = False                # a tariff-quota (関税割当) certificate covers the line
    condition: str | None = None          # which description of a conditional rate fits the goods



class Declaration(_Input):
    date: Date
    personal_use: bool = False
    simplified: Annotated[Literal["auto", "always", "never"], Word] = "auto"
    fx_rates: dict[str, Positive] = {}
    tariff_edition: Annotated[str | None, Code] = None   # pin an edition (a saved quote); default: in force on date
    pork_emergency: bool | None = None    # 暫定法7条の6 in force on date (None: as rules/reference_prices.yaml records)
    lines: list[Line] = Field(min_length=1)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v: object) -> object:
        return date_text(v)

    @field_validator("fx_rates")
    @classmethod
    def _fx_keys(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        return currency_keys(v)


def date_text(v: object) -> object:
    """A date given as text, read by the one date grammar (``xlduty.core.typed.read_date``: YYYY-MM-DD, or
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


_SKIP = ("str", "bool", "Relief", "constrained-str")


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "union[", "nullable[")) or part in _SKIP:
            continue
        else:
            out += f".{part}" if out else part
    return out


_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "decimal_type": "a number is required",
    "decimal_parsing": NOT_A_NUMBER,
    "less_than": "must be below 10^15 (1,000 trillion): a typing slip?",
}
_PATTERN_MESSAGES = {
    "currency": "use a 3-letter ISO 4217 currency code such as USD",
    "origin": "use a 2-letter ISO 3166 country code such as CN",
}


def parse_declaration(data: object) -> Declaration:
    """Validate one declaration; the first problem becomes an ``InputError`` naming its field."""
    if isinstance(data, Declaration):
        return data
    if not isinstance(data, dict):
        raise InputError("", "a declaration must be a JSON object with date and lines")
    try:
        return Declaration.model_validate(data)
    except ValidationError as exc:
        raise input_error(exc) from None


def input_error(exc: ValidationError) -> InputError:
    """The first problem pydantic found, as an ``InputError`` naming its field in plain words."""
    err = exc.errors(include_url=False)[0]
    msg = err["msg"].removeprefix("Value error, ")
    msg = _MESSAGES.get(err["type"], msg)
    if err["type"] == "string_pattern_mismatch":
        msg = _PATTERN_MESSAGES.get(str(err["loc"][-1]), msg)
    return InputError(_path(err["loc"]), msg)


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
