"""From the supplier's invoice to the landed cost per unit and the quote price: ``quote(input) -> Quote``.

Steps, and why each is done this way:
1. FX: one rate per currency used (the invoice's and each charge's): the input's ``fx``/``fx_rates``, else
   the customs weekly rate of the quote date (関税定率法4条の7, ``xlduty.core.fx.rate_for``). The same rates are
   passed to the engine as ``fx_rates``, so the goods cost and the customs value use one rate and a saved
   quote can pin it.
2. Charges are allocated across the lines (largest remainder, in the charge's own currency: ``allocation``)
   and placed by their role (``incoterms.role_of``): added to the customs value, landed cost only, or taken
   out of the invoice price for the customs value.
3. The declaration for ``xlduty.compute``: per line, value = unit_price × quantity (minus stated parts that
   are not customs value), with the allocated freight, insurance and other additions, all in the invoice
   currency, so the engine converts once. A line whose charges are in another currency is given in yen
   instead (each amount × its own rate, exact), which is how Customs converts mixed amounts.
4. The engine's per-line duty and consumption tax do not add up to what is paid: the totals are truncated
   to ¥100 (国税通則法119条). The payable totals are therefore allocated across the lines by each line's own
   figure (largest remainder), so per-line landed costs sum exactly to what is paid.
5. Domestic costs (yen) and their consumption tax (``domestic``) are allocated the same way.
6. Landed cost per line in the COST view (import and domestic consumption tax recovered: 仕入税額控除,
   消費税法30条) and the CASH view; the quote price per unit is the cost view per unit with the margin,
   rounded UP to ``price_rounding`` yen so the margin is never below the one asked for.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from xlduty.core.classification import AskField
from xlduty.core.engine import compute
from xlduty.core.errors import InputError
from xlduty.core.fx import FxRate, rate_for
from xlduty.core.result import Result
from xlduty.quote.allocation import allocate, allocate_yen, quantum_of
from xlduty.quote.domestic import ct_percent, domestic_rules, split_ct
from xlduty.quote.incoterms import ChargeRole, missing_additions, role_of, seller_pays_taxes, unstated_in_price
from xlduty.quote.model import QuoteInput, QuoteLine, parse_quote
from xlduty.quote.result import ChargeResult, DomesticResult, Quote, QuoteLineResult, num

# engine field → quote field, for errors the engine raises about a line
_LINE_FIELDS = {"value": "unit_price", "quantity": "customs_quantity", "unit": "customs_unit"}


def quote(data: QuoteInput | dict[str, Any]) -> Quote:
    """Compute a quote (a dict in the ``xlduty quote`` JSON shape, or a ``QuoteInput``)."""
    return build(parse_quote(data))


def resolve_fx(q: QuoteInput) -> dict[str, FxRate]:
    """The rate of every currency the quote uses, invoice currency first; an unknown week names the field."""
    given = q.rates_given()
    wanted = [(q.currency, "currency")]
    wanted += [(c.currency or q.currency, f"charges[{k}].currency") for k, c in enumerate(q.charges)]
    out: dict[str, FxRate] = {}
    for currency, at in wanted:
        if currency not in out:
            out[currency] = rate_for(currency, q.date, given, at)
    return out


def fx_record(rate: FxRate) -> dict[str, Any]:
    """One rate as recorded with a quote: the figure applied, and the customs week it comes from."""
    return {"currency": rate.currency, "yen_per_unit": num(rate.yen_per_unit), "published": rate.published,
            "per_units": rate.per_units, "week_start": str(rate.week_start) if rate.week_start else None,
            "week_end": str(rate.week_end) if rate.week_end else None,
            "source": "given" if rate.source == "declaration" else rate.source,
            **({"alias_of": rate.alias_of} if rate.alias_of else {})}


def weights_for(q: QuoteInput, basis: str, at: str) -> list[Decimal]:
    """Allocation weights of the lines: invoice value (unit_price × quantity), weight_kg, or quantity.

    By weight every line needs its weight: a missing or zero weight is an error naming the line, because a
    line silently carrying no freight is the usual mistake behind a wrong quote.
    """
    if basis == "value":
        return [ln.unit_price * ln.quantity for ln in q.lines]
    if basis == "quantity":
        return [ln.quantity for ln in q.lines]
    out = []
    for i, ln in enumerate(q.lines):
        if not ln.weight_kg:
            raise InputError(f"lines[{i}].weight_kg", f"give the line's weight (above 0 kg): {at} is allocated by "
                                                      "weight")
        out.append(ln.weight_kg)
    return out


def build(q: QuoteInput) -> Quote:
    """The quote for a validated input (see the module docstring for the steps)."""
    fx = resolve_fx(q)
    yen = {cur: rate.yen_per_unit for cur, rate in fx.items()}
    warnings: list[str] = []
    charges: list[ChargeResult] = []
    roles: list[ChargeRole] = []
    for k, c in enumerate(q.charges):
        at = f"charges[{k}]"
        role = role_of(q.incoterm, c.kind, c.paid_by, c.in_customs_value, at)
        if role.warning:
            warnings.append(role.warning)
        currency = c.currency or q.currency
        shares = allocate(c.amount, weights_for(q, c.allocate_by, at), quantum_of(c.amount, currency),
                          field=f"{at}.allocate_by", basis=_basis_name(c.allocate_by))
        roles.append(role)
        charges.append(ChargeResult(k, c.kind, c.label, c.amount, currency, c.amount * yen[currency], c.paid_by,
                                    role.role, role.in_customs_value, c.allocate_by, shares, role.element.basis,
                                    role.element.verified))
    warnings += missing_additions(q.incoterm, {c.kind for c in charges if c.paid_by == "buyer"})
    warnings += unstated_in_price(q.incoterm, {c.kind for c in charges if c.paid_by == "seller"})

    declaration = {
        "date": q.date.isoformat(), "personal_use": q.options.personal_use, "simplified": q.options.simplified,
        "fx_rates": {cur: rate for cur, rate in yen.items() if cur != "JPY"},   # pinned: converted once, by the engine
        "lines": [_engine_line(q, i, ln, charges, roles, yen) for i, ln in enumerate(q.lines)],
    }
    if q.tariff_edition:
        declaration["tariff_edition"] = q.tariff_edition
    if q.options.pork_emergency is not None:
        declaration["pork_emergency"] = q.options.pork_emergency
    result = _compute(declaration)
    taxes_borne = not seller_pays_taxes(q.incoterm)
    lines = _lines(q, result, charges, yen, taxes_borne)
    domestic = _domestic(q, lines)
    _price(q, lines)
    # the engine's quantity is the quote's customs_quantity (weight_kg allocates charges; it is not the quantity
    # Customs counts in the rate's unit)
    warnings += [w.naming("customs_quantity") if isinstance(w, AskField) and w.field == "quantity" else w
                 for w in result.warnings]
    foreign = [r for r in fx.values() if r.currency != "JPY"]
    return Quote(q, q.date.isoformat(), q.incoterm, result.tariff_edition, [fx_record(r) for r in foreign],
                 {r.currency: r.yen_per_unit for r in foreign}, lines, charges, domestic, declaration, result,
                 taxes_borne, q.options.recoverable, warnings, _notes(q, taxes_borne))


def _basis_name(basis: str) -> str:
    return {"value": "invoice value", "weight": "weight_kg", "quantity": "quantity"}[basis]


def _engine_line(q: QuoteInput, i: int, ln: QuoteLine, charges: list[ChargeResult], roles: list[ChargeRole],
                 yen: dict[str, Decimal]) -> dict[str, Any]:
    """The declaration line: value and additions in the invoice currency (or in yen when currencies mix)."""
    parts: dict[str, list[tuple[Decimal, str]]] = {"value": [(ln.unit_price * ln.quantity, q.currency)],
                                                   "freight": [], "insurance": [], "additions": []}
    for c, role in zip(charges, roles, strict=True):
        share = c.shares[i]
        if role.role == "add":
            parts[role.element.engine_field or "additions"].append((share, c.currency))
        elif role.role == "deduct":
            parts["value"].append((-share, c.currency))
    currency = q.currency if all(cur == q.currency for p in parts.values() for _, cur in p) else "JPY"

    def total(name: str) -> Decimal:
        if currency == q.currency:
            return sum((a for a, _ in parts[name]), Decimal(0))
        return sum((a * yen[cur] for a, cur in parts[name]), Decimal(0))

    value = total("value")
    if value < 0:
        first = next(k for k, role in enumerate(roles) if role.role == "deduct")
        raise InputError(f"charges[{first}].amount", f"the parts stated as inside the price exceed the price of "
                                                     f"line {i}")
    out: dict[str, Any] = {"value": value, "currency": currency, "freight": total("freight"),
                           "insurance": total("insurance"), "additions": total("additions")}
    for name in ("hs_code", "origin", "rate", "reduced_ct", "condition", "excise"):
        v = getattr(ln, name)
        if v is not None:
            out[name] = v
    if ln.claim_preference is not False:
        out["claim_preference"] = ln.claim_preference
    if ln.in_quota:
        out["in_quota"] = True
    if ln.customs_quantity is not None:
        out["quantity"] = ln.customs_quantity
    if ln.customs_unit is not None:
        out["unit"] = ln.customs_unit
    if ln.liquor is not None:
        out["liquor"] = ln.liquor.model_dump(exclude_none=True)
    return out


def _compute(declaration: dict[str, Any]) -> Result:
    """Run the engine; its errors are renamed to the quote's fields (``lines[0].value`` → ``unit_price``)."""
    try:
        return compute(declaration)
    except InputError as exc:
        raise InputError(_quote_field(exc.field), exc.message) from None


def _quote_field(field: str) -> str:
    if field == "simplified":
        return "options.simplified"
    if field.startswith("lines[") and "]." in field:
        head, _, rest = field.partition("].")
        name, dot, tail = rest.partition(".")
        if name == "currency":
            return "currency"
        return f"{head}].{_LINE_FIELDS.get(name, name)}{dot}{tail}"
    return field


def _lines(q: QuoteInput, r: Result, charges: list[ChargeResult], yen: dict[str, Decimal],
           taxes_borne: bool) -> list[QuoteLineResult]:
    """Per-line figures, the taxes being shares of the amounts payable (allocated by each line's own figure)."""
    t = r.totals
    duty = allocate_yen(t.duty, [ln.duty for ln in r.lines], field="duty", basis="duty")
    nat = allocate_yen(t.national_ct, [ln.national_ct for ln in r.lines], field="national_ct", basis="national_ct")
    loc = allocate_yen(t.local_ct, [ln.local_ct for ln in r.lines], field="local_ct", basis="local_ct")
    exc = allocate_yen(t.excise, [ln.excise for ln in r.lines], field="excise", basis="excise")
    standard = ct_percent("standard", q.date, "lines")
    out = []
    for i, (ln, e) in enumerate(zip(q.lines, r.lines, strict=True)):
        paid = sum((c.shares[i] * yen[c.currency] for c in charges if c.role in ("add", "landed_only")), Decimal(0))
        deducted = sum((c.shares[i] * yen[c.currency] for c in charges if c.role == "deduct"), Decimal(0))
        sales = ct_percent("reduced", q.date, f"lines[{i}].reduced_ct") if e.reduced_ct else standard
        out.append(QuoteLineResult(
            i, ln.description, e.hs_code, e.origin, ln.quantity, ln.unit, ln.unit_price, ln.unit_price * ln.quantity,
            ln.unit_price * ln.quantity * yen[q.currency], paid, deducted, e.customs_value, e.taxable_value, e.rate,
            e.rate_column, e.rate_name, e.treatment, e.exemption, e.duty, duty[i], nat[i], loc[i], exc[i],
            taxes_borne, Decimal(0), 0, q.options.recoverable, sales, notes=list(e.notes)))
    return out


def _domestic(q: QuoteInput, lines: list[QuoteLineResult]) -> list[DomesticResult]:
    """Domestic costs and their consumption tax, each allocated across the lines (largest remainder)."""
    kinds = domestic_rules().kinds
    out = []
    for j, d in enumerate(q.domestic_costs):
        at = f"domestic_costs[{j}]"
        kind = kinds[d.kind]
        pct = ct_percent(d.ct or kind.ct, q.date, at)
        net, tax = split_ct(d.amount, pct, d.tax_included)
        weights = weights_for(q, d.allocate_by, at)
        basis = _basis_name(d.allocate_by)
        shares = allocate(net, weights, quantum_of(net, "JPY"), field=f"{at}.allocate_by", basis=basis)
        ct_shares = allocate_yen(tax, weights, field=f"{at}.allocate_by", basis=basis)
        for ln, share, ct in zip(lines, shares, ct_shares, strict=True):
            ln.domestic_costs += share
            ln.domestic_ct += ct
        out.append(DomesticResult(j, d.kind, d.label, kind.name_ja, net, pct, tax,
                                  kind.at_import if d.at_import is None else d.at_import, d.allocate_by, shares,
                                  ct_shares, kind.basis, kind.verified))
    return out


def unit_price_for(cost_per_unit: Fraction, percent: Decimal, on: str, step: int) -> int:
    """The quote price per unit: cost with the margin, rounded UP to ``step`` yen (the margin is never less).

    ``on: price``: cost ÷ (1 − p); ``on: cost``: cost × (1 + p).
    """
    p = Fraction(percent) / 100
    raw = cost_per_unit / (1 - p) if on == "price" else cost_per_unit * (1 + p)
    return math.ceil(raw / step) * step


def _price(q: QuoteInput, lines: list[QuoteLineResult]) -> None:
    if q.margin is None:
        return
    for ln in lines:
        ln.price = unit_price_for(ln.unit_cost_exact, q.margin.percent, q.margin.on, q.options.price_rounding)


def _notes(q: QuoteInput, taxes_borne: bool) -> list[str]:
    rules = domestic_rules()
    notes = ["per-line duty and consumption tax are shares of the amounts payable (totals truncated to ¥100, "
             "国税通則法119条), allocated by each line's own figure, largest remainder: lines sum to the totals",
             "charges and domestic costs are allocated by largest remainder (ties to the earlier line)"]
    if not taxes_borne:
        notes.append(f"{q.incoterm}: the seller pays the duty and import consumption tax: shown, not in the landed "
                     "cost or the cash needed")
    if q.options.recoverable:
        notes.append(f"cost view: consumption tax recovered (仕入税額控除, {rules.ct_recovery.basis}) "
                     f"[{rules.ct_recovery.verified}]: {rules.ct_recovery.conditions}")
    else:
        notes.append("consumption tax not recoverable: the cost view equals the cash view")
    if q.margin is not None:
        how = ("gross margin on the price: cost ÷ (1 − m)" if q.margin.on == "price"
               else "markup on cost: cost × (1 + m)")
        notes.append(f"quote price per unit: {how}, rounded up to ¥{q.options.price_rounding}, before consumption "
                     f"tax; {rules.sales_ct_rounding.rule} [{rules.sales_ct_rounding.verified}]")
    if q.domestic_costs:
        notes.append(f"{rules.ct_rounding.rule} [{rules.ct_rounding.verified}]")
    return notes
