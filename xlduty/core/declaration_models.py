"""The input contract's models: pydantic checks a declaration with them, and says what is wrong in words that name
the field (``lines[2].value``).

``declaration.py`` imports this only for a declaration the fast path did not check itself (liquor, excise, a relief,
a value to convert, an error): pydantic costs more to import than a plain batch costs to compute.
"""

from __future__ import annotations

from datetime import date as Date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from xlduty.core.errors import InputError
from xlduty.core.numbers import MAX_AMOUNT, NOT_A_NUMBER, decimal_input
from xlduty.core.typed import closed, code_text, currency_keys, date_text

# Validated natively by pydantic-core: floats become Decimals through their shortest repr (0.1 stays 0.1), booleans
# are refused; a number given as text is read by the one grammar of xlduty.core.numbers (NFKC, no separators).
# An amount, quantity or rate of 10^15 or more is a typing slip (1,000 trillion), and the products of larger ones
# would no longer be exact in Decimal's 28 digits: refused with the field named, never an arithmetic crash.
Number = BeforeValidator(decimal_input)
Amount = Annotated[Decimal, Number, Field(ge=0, lt=MAX_AMOUNT, allow_inf_nan=False)]
Positive = Annotated[Decimal, Number, Field(gt=0, lt=MAX_AMOUNT, allow_inf_nan=False)]
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
    # the bounds on the number alone: on the optional as a whole, pydantic applied them to null too (a TypeError)
    abv: Annotated[Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)] | None, Number] = None


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
    """Validate one declaration; the first problem becomes an ``InputError`` naming its field (``declaration.py``
    calls this for whatever the fast path did not check itself)."""
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
