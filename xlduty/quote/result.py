"""The output of a quote: per line and in total, from the supplier price to the landed cost and the quote price.

Two views of the landed cost (仕入原価):
- ``landed_cost`` (COST view): what the goods cost a taxable business that recovers the import consumption
  tax and the consumption tax on domestic costs (仕入税額控除, 消費税法30条): goods + charges + duty + excise
  + domestic costs before tax. The quote price is built on it.
- ``landed_cost_cash`` (CASH view): everything paid, taxes included.
Without recovery (personal use, ``ct_recoverable: false``) the two are equal.

Money: line and total figures are exact yen (``Decimal``; fractions come only from foreign-currency amounts);
per-unit figures are shown to 0.01 yen, half up; percentages to 0.01, half up. Taxes are integer yen, and
the per-line taxes are shares of the amounts payable (see ``landed.py``), so lines sum to the totals exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from xlduty.core.result import Result, num
from xlduty.quote.document import (
    CustomerLine,
    CustomerQuote,
    RateTotal,
    fx_assumption,
    japanese_date,
    unit_name,
)

CENT = Decimal("0.01")

# Bilingual labels of the quote figures, for the quote sheet and the printable layout (field → (ja, en)).
LABELS: dict[str, tuple[str, str]] = {
    "description": ("品名", "Description"),
    "hs_code": ("品目番号", "HS code"),
    "origin": ("原産国", "Origin"),
    "quantity": ("数量", "Quantity"),
    "unit_price": ("単価（仕入通貨）", "Unit price (invoice currency)"),
    "goods": ("商品代金（仕入通貨）", "Goods (invoice currency)"),
    "goods_yen": ("商品代金", "Goods (JPY)"),
    "charges_yen": ("運賃・保険料等", "Freight, insurance and charges"),
    "customs_value": ("課税価格", "Customs value"),
    "taxable_value": ("課税標準（千円未満切捨て）", "Taxable value (¥1,000 truncated)"),
    "rate": ("税率", "Duty rate"),
    "duty": ("関税", "Customs duty"),
    "national_ct": ("消費税（国税）", "Consumption tax (national)"),
    "local_ct": ("地方消費税", "Local consumption tax"),
    "consumption_tax": ("輸入消費税", "Import consumption tax"),
    "excise": ("酒税等", "Liquor tax and excise"),
    "taxes_total": ("納付税額合計", "Taxes payable"),
    "domestic_costs": ("国内諸掛（税抜）", "Domestic costs (before tax)"),
    "domestic_ct": ("国内諸掛の消費税", "Consumption tax on domestic costs"),
    "recoverable_ct": ("仕入税額控除の対象", "Recoverable consumption tax"),
    "landed_cost": ("仕入原価（消費税控除後）", "Landed cost (tax recovered)"),
    "landed_cost_cash": ("支払総額（消費税込み）", "Cash paid (tax included)"),
    "unit_cost": ("原価/個", "Landed cost per unit"),
    "unit_cost_cash": ("支払額/個", "Cash per unit"),
    "price": ("見積単価（税抜）", "Quote unit price (before tax)"),
    "price_total": ("見積金額（税抜）", "Quote amount (before tax)"),
    "sales_ct": ("消費税", "Consumption tax on the quote"),
    "price_total_with_ct": ("見積金額（税込）", "Quote amount (tax included)"),
    "gross_profit": ("粗利", "Gross profit"),
    "margin_percent": ("粗利率", "Gross margin on price"),
    "markup_percent": ("値入率（原価比）", "Markup on cost"),
    "cash_at_import": ("輸入時必要資金", "Cash needed at import"),
    "tariff_edition": ("実行関税率表の版", "Tariff edition"),
    "fx": ("税関長公示レート", "Customs exchange rate"),
    "incoterm": ("貿易条件", "Incoterm"),
}


def cents(x: Fraction | Decimal) -> Decimal:
    """A per-unit figure to 0.01, half up (display only: prices are computed from the exact value)."""
    if isinstance(x, Fraction):
        x = Decimal(x.numerator) / Decimal(x.denominator)
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: Fraction, whole: Fraction) -> Decimal | None:
    return cents(part / whole * 100) if whole else None


@dataclass(slots=True)
class ChargeResult:
    index: int
    kind: str
    label: str | None
    amount: Decimal
    currency: str
    yen: Decimal                    # amount × the rate of its currency
    paid_by: str
    role: str                       # add | landed_only | deduct | in_price (incoterms.ROLE_TEXT)
    in_customs_value: bool
    allocate_by: str
    shares: list[Decimal]           # per line, in the charge's currency; they sum to ``amount``
    basis: str
    verified: str

    def to_dict(self) -> dict[str, Any]:
        from xlduty.quote.incoterms import ROLE_TEXT

        return {"index": self.index, "kind": self.kind, "label": self.label, "amount": num(self.amount),
                "currency": self.currency, "yen": num(self.yen), "paid_by": self.paid_by, "role": self.role,
                "effect": ROLE_TEXT[self.role], "in_customs_value": self.in_customs_value,
                "allocate_by": self.allocate_by, "shares": [num(s) for s in self.shares], "basis": self.basis,
                "verified": self.verified}


@dataclass(slots=True)
class DomesticResult:
    index: int
    kind: str
    label: str | None
    name_ja: str
    amount: Decimal                 # before tax
    ct_percent: Decimal
    ct: int
    at_import: bool
    allocate_by: str
    shares: list[Decimal]           # before tax, per line
    ct_shares: list[int]
    basis: str
    verified: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "kind": self.kind, "label": self.label or self.name_ja,
                "amount": num(self.amount), "ct_percent": num(self.ct_percent), "ct": self.ct,
                "at_import": self.at_import, "allocate_by": self.allocate_by,
                "shares": [num(s) for s in self.shares], "ct_shares": self.ct_shares, "basis": self.basis,
                "verified": self.verified}


@dataclass(slots=True)
class QuoteLineResult:
    index: int
    description: str
    hs_code: str | None
    origin: str | None
    quantity: Decimal
    unit: str
    unit_price: Decimal             # invoice currency
    goods: Decimal                  # unit_price × quantity, invoice currency
    goods_yen: Decimal
    charges_yen: Decimal            # charges the buyer pays, allocated to the line
    deducted_yen: Decimal           # stated parts of the price taken out of the customs value
    customs_value: Decimal          # the engine's unrounded customs value in yen
    taxable_value: int
    rate: str | None
    rate_column: str | None
    rate_name: str | None
    treatment: str
    exemption: str | None
    duty_line: int                  # the line's own duty, before the 100-yen truncation of the total
    duty: int                       # share of the duty payable
    national_ct: int                # share of the national consumption tax payable
    local_ct: int
    excise: int
    taxes_borne: bool               # False under DDP: the seller pays the taxes
    domestic_costs: Decimal         # before tax
    domestic_ct: int
    ct_recoverable: bool
    sales_ct_percent: Decimal
    price: int | None = None        # quote price per unit, yen before consumption tax
    notes: list[str] = field(default_factory=list)

    @property
    def consumption_tax(self) -> int:
        return self.national_ct + self.local_ct

    @property
    def recoverable_ct(self) -> int:
        if not self.ct_recoverable:
            return 0
        return (self.consumption_tax if self.taxes_borne else 0) + self.domestic_ct

    @property
    def landed_cost_cash(self) -> Decimal:
        taxes = self.duty + self.consumption_tax + self.excise if self.taxes_borne else 0
        return self.goods_yen + self.charges_yen + taxes + self.domestic_costs + self.domestic_ct

    @property
    def landed_cost(self) -> Decimal:
        return self.landed_cost_cash - self.recoverable_ct

    @property
    def unit_cost_exact(self) -> Fraction:
        return Fraction(self.landed_cost) / Fraction(self.quantity)

    @property
    def price_total(self) -> Decimal | None:
        """The line's amount (金額): price × quantity in whole yen, a fraction of a yen (a quantity such as 2.5 kg)
        rounded UP as the price itself is (``landed.unit_price_for``: the margin is never less), so that the
        見積書's 金額, 小計 and the tax base per rate are the same whole yen a customer adds up."""
        if self.price is None:
            return None
        return (self.price * self.quantity).to_integral_value(rounding=ROUND_CEILING)

    @property
    def gross_profit(self) -> Decimal | None:
        total = self.price_total
        return None if total is None else total - self.landed_cost

    def to_dict(self) -> dict[str, Any]:
        q = Fraction(self.quantity)
        out: dict[str, Any] = {
            "index": self.index, "description": self.description, "hs_code": self.hs_code, "origin": self.origin,
            "quantity": num(self.quantity), "unit": self.unit, "unit_price": num(self.unit_price),
            "goods": num(self.goods), "goods_yen": num(self.goods_yen), "charges_yen": num(self.charges_yen),
            "deducted_yen": num(self.deducted_yen), "customs_value": num(self.customs_value),
            "taxable_value": self.taxable_value, "rate": self.rate, "rate_column": self.rate_column,
            "rate_name": self.rate_name, "treatment": self.treatment, "exemption": self.exemption,
            "duty_line": self.duty_line, "duty": self.duty, "national_ct": self.national_ct,
            "local_ct": self.local_ct, "consumption_tax": self.consumption_tax, "excise": self.excise,
            "taxes_borne": self.taxes_borne, "domestic_costs": num(self.domestic_costs),
            "domestic_ct": self.domestic_ct, "recoverable_ct": self.recoverable_ct,
            "landed_cost": num(self.landed_cost), "landed_cost_cash": num(self.landed_cost_cash),
            "unit_cost": num(cents(self.unit_cost_exact)),
            "unit_cost_cash": num(cents(Fraction(self.landed_cost_cash) / q)),
            "price": self.price, "price_total": None, "gross_profit": None, "margin_percent": None,
            "sales_ct_percent": num(self.sales_ct_percent), "notes": self.notes,
        }
        if self.price is not None:
            total, profit = self.price_total, self.gross_profit
            assert total is not None and profit is not None
            out.update(price_total=num(total), gross_profit=num(profit),
                       margin_percent=_pct(percent(Fraction(profit), Fraction(total))))
        return out


def _pct(d: Decimal | None) -> int | str | None:
    return None if d is None else num(d)


@dataclass(slots=True)
class Quote:
    """A computed quote; ``to_dict()`` is the ``xlduty quote`` JSON."""

    input: Any                      # the QuoteInput
    date: str
    incoterm: str
    tariff_edition: str | None
    fx: list[dict[str, Any]]        # every currency used: rate, customs week, source
    fx_rates: dict[str, Decimal]    # yen per unit as applied (pinned for reproduction)
    lines: list[QuoteLineResult]
    charges: list[ChargeResult]
    domestic_costs: list[DomesticResult]
    declaration: dict[str, Any]     # the xlduty compute input built from the quote
    result: Result                  # the engine's result
    taxes_borne: bool
    ct_recoverable: bool
    warnings: list[str]
    notes: list[str]

    def total(self, name: str) -> Decimal:
        return sum((Decimal(getattr(ln, name)) for ln in self.lines), Decimal(0))

    @property
    def landed_cost(self) -> Decimal:
        return self.total("landed_cost")

    @property
    def landed_cost_cash(self) -> Decimal:
        return self.total("landed_cost_cash")

    @property
    def price_total(self) -> Decimal | None:
        if any(ln.price is None for ln in self.lines):
            return None
        return sum((ln.price_total or Decimal(0) for ln in self.lines), Decimal(0))

    def sales_ct_by_rate(self) -> dict[Decimal, tuple[Decimal, int]] | None:
        """Consumption tax on the quote per rate: {percent: (the amounts at that rate summed, their tax)}, the tax
        rounded once per rate over the whole quote, fractions of a yen dropped — as the 適格請求書 that follows
        must compute it (消費税法施行令70条の10; 基本通達1-8-15: rounding each line and adding is not allowed;
        the direction of the rounding is the issuer's choice, and xlduty truncates). Highest rate first."""
        if self.price_total is None:
            return None
        groups: dict[Decimal, Decimal] = {}
        for ln in self.lines:
            groups[ln.sales_ct_percent] = groups.get(ln.sales_ct_percent, Decimal(0)) + (ln.price_total or 0)
        return {pct: (amount, int(amount * pct / 100)) for pct, amount in sorted(groups.items(), reverse=True)}

    @property
    def sales_ct(self) -> int | None:
        """Consumption tax on the quote: one rounding per rate over the quote (施行令70条の10), fractions dropped."""
        by_rate = self.sales_ct_by_rate()
        return None if by_rate is None else sum(tax for _base, tax in by_rate.values())

    def cash_at_import(self) -> dict[str, Decimal | int]:
        """Cash the importer needs at clearance: the taxes payable it bears and the domestic costs paid at import
        (tax included). The supplier and the freight are paid before; delivery after."""
        taxes = self.result.totals
        borne = self.taxes_borne
        out: dict[str, Decimal | int] = {
            "duty": taxes.duty if borne else 0, "consumption_tax": taxes.consumption_tax if borne else 0,
            "excise": taxes.excise if borne else 0,
            "costs_at_import": sum((d.amount + d.ct for d in self.domestic_costs if d.at_import), Decimal(0))}
        out["total"] = sum(out.values())
        return out

    def totals(self) -> dict[str, Any]:
        t = self.result.totals
        landed = self.landed_cost
        out: dict[str, Any] = {
            "goods": num(self.total("goods")), "goods_yen": num(self.total("goods_yen")),
            "charges_yen": num(self.total("charges_yen")), "customs_value": num(self.total("customs_value")),
            "taxable_value": sum(ln.taxable_value for ln in self.lines),
            "duty": t.duty, "national_ct": t.national_ct, "local_ct": t.local_ct,
            "consumption_tax": t.consumption_tax, "excise": t.excise, "taxes_total": t.total,
            "taxes_borne": self.taxes_borne, "domestic_costs": num(self.total("domestic_costs")),
            "domestic_ct": int(self.total("domestic_ct")), "recoverable_ct": int(self.total("recoverable_ct")),
            "landed_cost": num(landed), "landed_cost_cash": num(self.landed_cost_cash),
            "price_total": None, "sales_ct": None, "price_total_with_ct": None, "gross_profit": None,
            "margin_percent": None, "markup_percent": None,
        }
        price = self.price_total
        if price is not None:
            sales_ct = self.sales_ct or 0
            profit = price - landed
            out.update(price_total=num(price), sales_ct=sales_ct, price_total_with_ct=num(price + sales_ct),
                       gross_profit=num(profit), margin_percent=_pct(percent(Fraction(profit), Fraction(price))),
                       markup_percent=_pct(percent(Fraction(profit), Fraction(landed))))
        return out

    def to_dict(self) -> dict[str, Any]:
        from xlduty.quote.incoterms import incoterm_rules

        q = self.input
        term = incoterm_rules().terms[self.incoterm]
        r = self.result
        return {
            "date": self.date,
            "reference": q.reference, "customer": q.customer, "supplier": q.supplier,
            "tariff_edition": self.tariff_edition,
            "currency": q.currency,
            "fx": self.fx,
            "incoterm": {"code": self.incoterm, "name_ja": term.name_ja, "name_en": term.name_en,
                         "named_place": q.named_place, "verified": term.verified},
            "options": {"personal_use": q.options.personal_use, "simplified": q.options.simplified,
                        "ct_recoverable": self.ct_recoverable, "price_rounding": q.options.price_rounding,
                        "margin": None if q.margin is None else {"percent": num(q.margin.percent), "on": q.margin.on}},
            "totals": self.totals(),
            "cash_at_import": {k: num(v) for k, v in self.cash_at_import().items()},
            "lines": [ln.to_dict() for ln in self.lines],
            "charges": [c.to_dict() for c in self.charges],
            "domestic_costs": [d.to_dict() for d in self.domestic_costs],
            "simplified": r.simplified,
            "exemption": r.exemption,
            "warnings": self.warnings,
            "notes": self.notes,
            "customer_quote": self.customer_quote().to_dict(),
        }

    def customer_quote(self) -> CustomerQuote:
        """The 見積書 the customer receives: the lines at the quote price and the tax per rate, never the costing."""
        doc = self.input.document
        by_rate = self.sales_ct_by_rate()
        lines: list[CustomerLine] = []
        rates: list[RateTotal] = []
        if by_rate is not None:
            pairs = list(zip(self.lines, self.result.lines, strict=True))
            reduced_pct = {ln.sales_ct_percent for ln, e in pairs if e.reduced_ct}
            for k, (ln, e) in enumerate(pairs, start=1):
                assert ln.price is not None and ln.price_total is not None
                lines.append(CustomerLine(k, ln.description, ln.quantity, unit_name(ln.unit), ln.price, ln.price_total,
                                          ln.sales_ct_percent, bool(e.reduced_ct)))
            rates = [RateTotal(pct, pct in reduced_pct, base, tax) for pct, (base, tax) in by_rate.items()]
        issuer = None
        if doc is not None and doc.issuer is not None:
            issuer = doc.issuer.model_dump()
        remarks: list[str] = []
        if doc is not None:
            if doc.delivery_terms:
                remarks.append(f"受渡条件: {doc.delivery_terms}")
            if doc.payment_terms:
                remarks.append(f"お支払条件: {doc.payment_terms}")
            if doc.valid_until:
                remarks.append(f"有効期限: {japanese_date(doc.valid_until)}")
        fx = [fx_assumption(cur, rate) for cur, rate in self.fx_rates.items()]
        if fx:
            remarks.append("為替: " + "、".join(fx) + "（為替変動時は再見積いたします）")
        if doc is not None and doc.remarks:
            remarks.append(doc.remarks)
        return CustomerQuote(self.input.customer, doc.honorific if doc else "御中", doc.quote_no if doc else None,
                             doc.issued if doc else None, doc.valid_until if doc else None,
                             (doc.subject if doc and doc.subject else None) or self.input.reference, issuer, lines,
                             rates, fx, remarks)
