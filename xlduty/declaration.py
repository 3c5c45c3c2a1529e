"""The input contract: one import declaration (輸入申告) with its lines, as ``xlduty compute`` reads it.

Validation errors become an ``InputError`` naming the field and line (``lines[2].value``).
"""

from __future__ import annotations

from datetime import date as Date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from xlduty.errors import InputError


def _decimal(v: object) -> object:
    """Floats become Decimals through their shortest repr (0.1 stays 0.1); bools are refused."""
    if isinstance(v, bool):
        raise ValueError("a number is required, not true/false")
    if isinstance(v, float):
        return Decimal(repr(v))
    if isinstance(v, str):
        return v.replace(",", "").strip()
    return v


Amount = Annotated[Decimal, BeforeValidator(_decimal), Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[Decimal, BeforeValidator(_decimal), Field(gt=0, allow_inf_nan=False)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Liquor(_Input):
    """Goods bearing liquor tax (酒税): category as in rules/liquor_tax.yaml, volume, strength."""

    category: str
    litres: Positive
    abv: Annotated[Decimal | None, BeforeValidator(_decimal), Field(ge=0, le=100)] = None


class Relief(_Input):
    """A relief claimed for the line, named by its kind; ``article`` may name it instead."""

    type: Literal["reimport", "repair", "outward_processing"]
    export_value: Amount | None = None       # 定率法11条: value of the goods as exported (line currency)
    japanese_value: Amount | None = None     # 暫定法8条: value of the Japanese materials (line currency)
    export_ct_free: bool = False             # 定率法14条10号: the export was consumption-tax-free

    @field_validator("type", mode="before")
    @classmethod
    def _by_article(cls, v: object) -> object:
        names = {"14-10": "reimport", "定率法14条10号": "reimport", "14条10号": "reimport",
                 "11": "repair", "定率法11条": "repair", "11条": "repair",
                 "8": "outward_processing", "暫定法8条": "outward_processing", "暫八": "outward_processing"}
        return names.get(str(v).strip(), v)


def _relief(v: object) -> object:
    return {"type": v} if isinstance(v, str) else v


class Line(_Input):
    hs_code: str | None = None
    origin: str | None = None
    value: Amount
    currency: str = "JPY"
    freight: Amount = Decimal(0)
    insurance: Amount = Decimal(0)
    additions: Amount = Decimal(0)        # other costs added to the customs value (定率法4条1項)
    quantity: Amount | None = None
    unit: str | None = None
    rate: str | None = None
    claim_preference: bool | str = False
    reduced_ct: bool | None = None
    liquor: Liquor | None = None
    excise: Amount | None = None
    relief: Annotated[Relief | None, BeforeValidator(_relief)] = None
    in_quota: bool = False                # a tariff-quota (関税割当) certificate covers the line
    condition: str | None = None          # which description of a conditional rate fits the goods

    @field_validator("currency", "origin")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.upper()
        if len(v) not in (2, 3) or not v.isalpha():
            raise ValueError("use an ISO code (origin: 2 letters such as CN; currency: 3 letters such as USD)")
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if len(v) != 3:
            raise ValueError("use a 3-letter ISO 4217 currency code such as USD")
        return v

    @field_validator("origin")
    @classmethod
    def _origin(cls, v: str | None) -> str | None:
        if v is not None and len(v) != 2:
            raise ValueError("use a 2-letter ISO 3166 country code such as CN")
        return v


class Declaration(_Input):
    date: Date
    personal_use: bool = False
    simplified: Literal["auto", "always", "never"] = "auto"
    fx_rates: dict[str, Positive] = {}
    lines: list[Line] = Field(min_length=1)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v: object) -> object:
        if isinstance(v, str) and len(v) != 10:
            raise ValueError("use YYYY-MM-DD")
        return v

    @field_validator("fx_rates")
    @classmethod
    def _fx_keys(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        out = {}
        for k, rate in v.items():
            if len(k) != 3 or not k.isalpha():
                raise ValueError(f"{k!r} is not a 3-letter currency code")
            out[k.upper()] = rate
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


def parse_declaration(data: object) -> Declaration:
    """Validate one declaration; the first problem becomes an ``InputError`` naming its field."""
    if isinstance(data, Declaration):
        return data
    if not isinstance(data, dict):
        raise InputError("", "a declaration must be a JSON object with date and lines")
    try:
        return Declaration.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
        raise InputError(_path(err["loc"]), msg) from None
