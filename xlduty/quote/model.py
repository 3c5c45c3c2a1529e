"""The input of a quote (見積): a supplier's invoice, the charges to Japan, the costs in Japan and the margin.

Validation errors become an ``InputError`` naming the field (``lines[2].unit_price``), as for a declaration.
Money is ``Decimal``; amounts of the invoice and of each charge are in their own currency, domestic costs in
yen. The JSON shape is documented in ``xlduty/quote/cli.py``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date as Date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from xlduty.core.declaration import (
    Amount,
    Country,
    Currency,
    Liquor,
    Number,
    Positive,
    Word,
    currency_keys,
    date_text,
    input_error,
)
from xlduty.core.errors import InputError
from xlduty.core.numbers import integer_input
from xlduty.quote.domestic import CtClass, domestic_rules
from xlduty.quote.incoterms import incoterm_rules

Basis = Annotated[Literal["value", "weight", "quantity"], Word]


def _known(v: str, known: Mapping[str, object], what: str) -> str:
    """A kind must be a key of its rule file: the error lists them."""
    if v not in known:
        raise ValueError(f"unknown {what} {v!r} (use one of {', '.join(known)})")
    return v


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class QuoteLine(_Input):
    """One line of the supplier's invoice: the goods, their tariff line and their price."""

    description: str = ""
    hs_code: str | None = None
    origin: Country | None = None
    quantity: Positive                        # units sold: the per-unit figures divide by it
    unit: str = "pcs"                         # label of the unit on the 見積書 (not the tariff's unit)
    unit_price: Amount                        # in the invoice currency, at the incoterm
    weight_kg: Amount | None = None           # total weight of the line (all units), for allocation by weight
    claim_preference: bool | str = False      # as in a declaration: true = best eligible EPA/GSP/LDC, or a column
    rate: str | None = None                   # overrides the tariff rate (any tariff notation)
    reduced_ct: bool | None = None            # food at the reduced consumption-tax rate; None = from the tariff line
    customs_quantity: Amount | None = None    # quantity in the tariff's unit, for specific and compound duties
    customs_unit: str | None = None           # unit of customs_quantity (kg, l, pcs, pair …)
    condition: str | None = None
    in_quota: bool = False
    liquor: Liquor | None = None
    excise: Amount | None = None              # other excise on the line, in yen


class Charge(_Input):
    """A cost between the supplier and the Japanese port (or a stated part of the invoice price).

    ``paid_by: buyer`` (default): the importer pays it on top of the invoice. ``paid_by: seller``: it is inside
    the invoice price and stated separately, e.g. the domestic leg of a DAP price, so that a part that is not
    customs value can be taken out. ``in_customs_value`` overrides the kind's default (rules/incoterms.yaml).
    """

    kind: str
    label: str | None = None
    amount: Amount
    currency: Currency | None = None          # default: the invoice currency
    allocate_by: Basis = "value"
    paid_by: Annotated[Literal["buyer", "seller"], Word] = "buyer"
    in_customs_value: bool | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        return _known(v, incoterm_rules().elements, "charge kind")


class DomesticCost(_Input):
    """A cost in Japan in yen (通関料, 郵便通関料, 立替手数料, delivery, inspection …) and its consumption tax.

    ``ct``: ``standard`` (10 %), ``reduced`` (8 %) or ``exempt``; default by kind (rules/domestic_costs.yaml).
    ``amount`` is before tax unless ``tax_included``. ``at_import``: paid at clearance (cash needed at import).
    """

    kind: str
    label: str | None = None
    amount: Amount
    ct: Annotated[CtClass | None, Word] = None
    tax_included: bool = False
    at_import: bool | None = None
    allocate_by: Basis = "value"

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        return _known(v, domestic_rules().kinds, "domestic cost kind")


class Margin(_Input):
    """The margin the quote price carries, on the cost view (consumption tax recovered).

    ``on: price`` — gross margin on the selling price (粗利率): price = cost ÷ (1 − percent/100).
    ``on: cost`` — markup on cost (値入率 on cost): price = cost × (1 + percent/100).
    """

    percent: Annotated[Decimal, Number, Field(ge=0, allow_inf_nan=False)]
    on: Annotated[Literal["price", "cost"], Word] = "price"

    @model_validator(mode="after")
    def _below_100(self) -> Margin:
        if self.on == "price" and self.percent >= 100:
            raise ValueError("a margin on the price must be below 100 %")
        return self


class Options(_Input):
    personal_use: bool = False                # 定率法4条の6②: overseas retail price × 0.6 while in force
    simplified: Annotated[Literal["auto", "always", "never"], Word] = "auto"
    ct_recoverable: bool | None = None        # 仕入税額控除 available; None = yes unless personal_use
    # the quote price per unit is rounded UP to this many yen
    price_rounding: Annotated[int, BeforeValidator(integer_input), Field(ge=1)] = 1
    # 暫定法7条の6 (pork emergency measure) in force on the date; None: as rules/reference_prices.yaml records it
    pork_emergency: bool | None = None

    @model_validator(mode="after")
    def _personal_is_not_recoverable(self) -> Options:
        if self.personal_use and self.ct_recoverable:
            raise ValueError("goods for personal use give no 仕入税額控除 (消費税法30条: taxable purchases of a "
                             "business): ct_recoverable cannot be true with personal_use")
        return self

    @property
    def recoverable(self) -> bool:
        return (not self.personal_use) if self.ct_recoverable is None else self.ct_recoverable


class Issuer(_Input):
    """Who issues the 見積書 (発行者): printed on it, with the 適格請求書発行事業者 registration number the invoice
    that follows will carry (消費税法57条の4第1項1号). ``kind``: corporation (法人: the number embeds the 法人番号,
    whose check digit is verified) or individual (個人事業者・人格のない社団等: only the form is checked)."""

    name: str
    address: str | None = None
    contact: str | None = None                # TEL, e-mail, person in charge
    kind: str = "corporation"                 # before the number: its check depends on it
    registration_number: str | None = None    # T + 13 digits

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        from xlduty.quote.registration import kind_of

        try:
            return kind_of(v, "kind")
        except InputError as exc:
            raise ValueError(exc.message) from None

    @field_validator("registration_number")
    @classmethod
    def _number(cls, v: str | None, info: ValidationInfo) -> str | None:
        from xlduty.quote.registration import registration_number

        if not v:
            return None
        try:
            return registration_number(v, info.data.get("kind", "corporation"))
        except InputError as exc:
            raise ValueError(exc.message) from None


class QuoteDocument(_Input):
    """What the 見積書 the customer receives says besides the figures: its number, dates, subject, terms, issuer.
    The customer's name is the quote's ``customer``; ``subject`` defaults to its ``reference``."""

    honorific: Annotated[Literal["御中", "様"], Word] = "御中"   # 御中 for a company or department, 様 for a person
    quote_no: str | None = None
    issued: Date | None = None
    valid_until: Date | None = None
    subject: str | None = None
    delivery_terms: str | None = None         # 納期・受渡条件
    payment_terms: str | None = None          # お支払条件
    remarks: str | None = None                # free text for 備考
    issuer: Issuer | None = None

    @field_validator("issued", "valid_until", mode="before")
    @classmethod
    def _dates(cls, v: object) -> object:
        return date_text(v)

    @model_validator(mode="after")
    def _order(self) -> QuoteDocument:
        if self.issued and self.valid_until and self.valid_until < self.issued:
            raise ValueError("valid_until is before the issue date (有効期限が発行日より前です)")
        return self


class QuoteInput(_Input):
    date: Date                                # expected declaration date: tariff edition, FX week, rules
    currency: Currency = "JPY"                # currency of the supplier invoice
    fx: Positive | None = None                # yen per 1 unit of `currency`; else the customs weekly rate
    fx_rates: dict[str, Positive] = {}        # yen per 1 unit of other currencies (charges)
    incoterm: str = "CIF"
    named_place: str | None = None
    reference: str | None = None
    customer: str | None = None
    supplier: str | None = None
    lines: list[QuoteLine] = Field(min_length=1)
    charges: list[Charge] = []
    domestic_costs: list[DomesticCost] = []
    margin: Margin | None = None
    options: Options = Options()
    tariff_edition: str | None = None         # pin the edition (a saved quote reproduced); default: in force on date
    document: QuoteDocument | None = None     # the 見積書's own fields (xlduty.quote.document)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v: object) -> object:
        return date_text(v)

    @field_validator("incoterm", mode="before")
    @classmethod
    def _incoterm(cls, v: object) -> object:
        if isinstance(v, str):
            code = unicodedata.normalize("NFKC", v).strip().upper()
            known = incoterm_rules().terms
            if code not in known:
                raise ValueError(f"unknown incoterm {v!r} (use one of {', '.join(known)})")
            return code
        return v

    @field_validator("fx_rates")
    @classmethod
    def _fx_keys(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        return currency_keys(v)

    def rates_given(self) -> dict[str, Decimal]:
        """Every rate the input gives, ``fx`` included (``fx`` wins for the invoice currency)."""
        out = dict(self.fx_rates)
        if self.fx is not None:
            out[self.currency] = self.fx
        return out


def parse_quote(data: object) -> QuoteInput:
    """Validate a quote input; the first problem becomes an ``InputError`` naming its field."""
    if isinstance(data, QuoteInput):
        return data
    if not isinstance(data, dict):
        raise InputError("", "a quote must be a JSON object with date, lines and (optionally) charges")
    try:
        q = QuoteInput.model_validate(data)
    except ValidationError as exc:
        raise input_error(exc) from None
    if q.currency == "JPY" and q.fx is not None and q.fx != 1:
        raise InputError("fx", "fx is the yen rate of the invoice currency, and the invoice is in JPY: give currency")
    return q
