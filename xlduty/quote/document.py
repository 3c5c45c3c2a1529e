"""The 見積書 the customer receives: the quote's prices, its consumption tax per rate and its terms — and nothing of
the costing behind them (landed cost, duty, margin, the supplier and its prices stay on the internal sheets).

It is laid out as the qualified invoice (適格請求書) that will follow it must be (消費税法57条の4第1項): the issuer and
its registration number (1号), what is sold with the reduced-rate lines marked (3号: ``※``), the amounts summed per
rate with the rate (4号), the consumption tax per rate (5号), the customer (6号). A quote is not itself an invoice,
but a customer compares the two, so their figures agree: the tax is rounded once per rate over the document
(``Quote.sales_ct_by_rate``, 施行令70条の10), never per line.

The FX assumption: a price computed from a supplier price or a charge in a foreign currency depends on the rate
used, so the 見積書 states it (``1 USD = 125円前提``) for every foreign currency the quote used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from xlduty.core.result import num

REDUCED_MARK = "※"
REDUCED_NOTE = "※は軽減税率（{percent}%）対象品目です"   # 57条の4第1項3号: the reduced-rate lines are marked
HONORIFICS = ("御中", "様")


def percent_text(pct: Decimal) -> str:
    return f"{num(pct)}%"


@dataclass(frozen=True, slots=True)
class CustomerLine:
    """One line as the customer reads it: No, 品名, 数量, 単位, 単価 (yen, before tax), 金額, its tax rate."""

    no: int
    description: str
    quantity: Decimal
    unit: str
    unit_price: int
    amount: Decimal
    ct_percent: Decimal
    reduced: bool

    @property
    def rate_text(self) -> str:
        return percent_text(self.ct_percent) + (REDUCED_MARK if self.reduced else "")

    def to_dict(self) -> dict[str, Any]:
        return {"no": self.no, "description": self.description, "quantity": num(self.quantity), "unit": self.unit,
                "unit_price": self.unit_price, "amount": num(self.amount), "ct_percent": num(self.ct_percent),
                "reduced": self.reduced}


@dataclass(frozen=True, slots=True)
class RateTotal:
    """The lines at one consumption-tax rate: their amounts summed (税率ごとの対価の額) and the tax on them."""

    percent: Decimal
    reduced: bool
    base: Decimal
    tax: int

    def to_dict(self) -> dict[str, Any]:
        return {"ct_percent": num(self.percent), "reduced": self.reduced, "base": num(self.base), "tax": self.tax}


@dataclass(slots=True)
class CustomerQuote:
    """The customer's view of a quote (``None`` figures when the quote has no margin, hence no price)."""

    customer: str | None
    honorific: str
    quote_no: str | None
    issued: date | None
    valid_until: date | None
    subject: str | None
    issuer: dict[str, Any] | None
    lines: list[CustomerLine]
    rates: list[RateTotal]
    fx_assumptions: list[str]
    remarks: list[str] = field(default_factory=list)

    @property
    def priced(self) -> bool:
        return bool(self.lines)

    @property
    def subtotal(self) -> Decimal | None:
        return sum((r.base for r in self.rates), Decimal(0)) if self.priced else None

    @property
    def tax(self) -> int | None:
        return sum(r.tax for r in self.rates) if self.priced else None

    @property
    def total(self) -> Decimal | None:
        return None if not self.priced else (self.subtotal or Decimal(0)) + (self.tax or 0)

    @property
    def reduced_note(self) -> str:
        reduced = [r for r in self.rates if r.reduced]
        return REDUCED_NOTE.format(percent=num(reduced[0].percent)) if reduced else ""

    def table(self) -> list[list[Any]]:
        """The 見積書's table as rows of seven cells (No, 品名, 数量, 単位, 単価, 金額, 税率): one row per line, then
        小計, the amount and the tax of each rate (standard first), 合計, and the note that marks reduced-rate
        lines when there are any. Labels of the totals stand under 単価, their figures under 金額."""
        rows: list[list[Any]] = [[ln.no, ln.description, ln.quantity, ln.unit, ln.unit_price, ln.amount,
                                  ln.rate_text] for ln in self.lines]
        if not self.priced:
            return rows
        blank = ["", "", "", ""]
        rows.append([*blank, "小計", self.subtotal, ""])
        for r in self.rates:
            rate = percent_text(r.percent)
            rows.append([*blank, f"{rate}対象", r.base, ""])
            rows.append([*blank, f"消費税 {rate}", r.tax, ""])
        rows.append([*blank, "合計", self.total, ""])
        if self.reduced_note:
            rows.append(["", self.reduced_note, "", "", "", "", ""])
        return rows

    def to_dict(self) -> dict[str, Any]:
        def opt(d: Decimal | int | None) -> Any:
            return None if d is None else num(d)

        return {"customer": self.customer, "honorific": self.honorific, "quote_no": self.quote_no,
                "issued": None if self.issued is None else self.issued.isoformat(),
                "valid_until": None if self.valid_until is None else self.valid_until.isoformat(),
                "subject": self.subject, "issuer": self.issuer,
                "lines": [ln.to_dict() for ln in self.lines], "rates": [r.to_dict() for r in self.rates],
                "subtotal": opt(self.subtotal), "consumption_tax": opt(self.tax), "total": opt(self.total),
                "fx_assumptions": self.fx_assumptions, "remarks": self.remarks}


# Units as a supplier invoice often writes them, and as a 見積書 in Japanese prints them.
UNIT_NAMES = {"pcs": "個", "pc": "個", "piece": "個", "pieces": "個", "set": "式", "sets": "セット", "kg": "kg",
              "l": "L", "pair": "足", "pairs": "足", "box": "箱", "boxes": "箱", "case": "ケース", "dozen": "ダース"}


def unit_name(unit: str | None) -> str:
    """The unit printed on the 見積書: the quote's own word, or the Japanese one for a common English code."""
    if not unit:
        return "個"
    return UNIT_NAMES.get(unit.strip().lower(), unit.strip())


def fx_assumption(currency: str, yen_per_unit: Decimal) -> str:
    """``1 USD = 125円前提``: the rate the prices were computed at."""
    rate = num(yen_per_unit)
    return f"1 {currency} = {rate:,}円前提" if isinstance(rate, int) else f"1 {currency} = {rate}円前提"


def japanese_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"
