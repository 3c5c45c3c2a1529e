"""The quote worksheet functions: a quote sheet's ranges become one ``xlduty.quote`` input.

``QUOTE_LINES`` (spills per line), ``QUOTE_TOTALS`` (one figure), ``QUOTE_TREATMENTS`` (spills the treatments
side by side) and ``QUOTE_REVERSE`` (逆算: the highest supplier price meeting a target) take the same first ten
arguments — the lines, the charges to Japan, the
domestic costs, the date, the incoterm, the invoice currency, the FX rate, the margin, what the margin is on,
and an options text — so the template computes exactly what ``xlduty quote`` computes: incoterm roles,
remainder-safe allocation by value, weight or quantity, domestic consumption tax per cost row, shares of
the taxes payable, cost and cash views, prices.

Ranges have fixed columns (a blank row is skipped; the error of a row names it as users count it):

- lines: description, hs_code, origin, quantity, unit_price, weight_kg, claim, customs_quantity, customs_unit
  (LINE_COLUMNS; the last two — the quantity in the tariff's unit, for specific and compound duties — may be
  left out of a 7-column range). A lines row counts when it has an HS code, a quantity or a unit price.
- charges: kind, label, amount, currency, allocate_by, paid_by (CHARGE_COLUMNS)
- costs: kind, label, amount, ct, tax_included, at_import, allocate_by (COST_COLUMNS)

Kinds are the keys of rules/incoterms.yaml (charges) and rules/domestic_costs.yaml (costs), or their
Japanese names (運賃, 通関料 …). The options text (``;``-separated): ``personal``, ``simplified=auto|always|
never``, ``claim=yes|no|<column>`` (for lines whose claim cell is blank), ``recoverable=yes|no`` (仕入税額控除),
``rounding=10`` (the price per unit rounded up to 10 yen), ``fx=EUR:162.1`` (other currencies' rates) and
``fx_factor=0.95`` (every foreign rate × 0.95: FX sensitivity), ``edition=2026_07_09`` (pin the tariff edition,
as a saved quote was computed), ``pork_emergency=yes|no`` (暫定法7条の6 in force on the date, or not).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from xlduty.core.errors import InputError
from xlduty.core.fx import NoCustomsRate
from xlduty.excel.cells import (
    blank,
    field_names,
    follow_tables,
    hs_text,
    no_error,
    number_text,
    text_of,
    to_date,
    word,
)
from xlduty.excel.messages import cell_error, lines_as_rows, warnings_text
from xlduty.excel.options import NO, YES, fx_pairs, items, number, yes_no

LINE_COLUMNS = ("description", "hs_code", "origin", "quantity", "unit_price", "weight_kg", "claim", "customs_quantity",
                "customs_unit", "unit", "reduced_ct")
SHORT_LINE_COLUMNS = LINE_COLUMNS[:7]   # without the customs quantity: enough unless a duty is specific
CUSTOMS_LINE_COLUMNS = LINE_COLUMNS[:9]   # with the customs quantity and its unit
# A lines range has 7, 9 or 11 columns: the last two are the 見積書's unit (単位) and the food flag (軽減税率).
# The 見積書's own fields, one cell each, in this order (QUOTE_CUSTOMER's document range; xlduty.quote.document).
DOCUMENT_ROWS = ("customer", "honorific", "quote_no", "issued", "valid_until", "subject", "delivery_terms",
                 "payment_terms", "remarks", "issuer_name", "issuer_address", "issuer_contact", "issuer_kind",
                 "registration_number")
CUSTOMER_PARTS = ("table", "lines", "addressee", "quote_no", "issued", "valid_until", "subject", "issuer",
                  "registration_number", "subtotal", "tax", "total", "remarks", "fx")
CHARGE_COLUMNS = ("kind", "label", "amount", "currency", "allocate_by", "paid_by")
COST_COLUMNS = ("kind", "label", "amount", "ct", "tax_included", "at_import", "allocate_by")

QUOTE_LINE_FIELDS = ("goods", "goods_yen", "charges_yen", "customs_value", "taxable_value", "rate", "rate_name",
                     "treatment", "exemption", "duty", "national_ct", "local_ct", "consumption_tax", "excise",
                     "domestic_costs", "domestic_ct", "recoverable_ct", "landed_cost", "landed_cost_cash",
                     "unit_cost", "unit_cost_cash", "price", "price_total", "gross_profit", "margin_percent")
QUOTE_TOTAL_FIELDS = ("goods", "goods_yen", "charges_yen", "customs_value", "taxable_value", "duty", "national_ct",
                      "local_ct", "consumption_tax", "excise", "taxes_total", "domestic_costs", "domestic_ct",
                      "recoverable_ct", "landed_cost", "landed_cost_cash", "price_total", "sales_ct",
                      "price_total_with_ct", "gross_profit", "margin_percent", "markup_percent", "cash_at_import",
                      "tariff_edition", "fx", "simplified", "warnings")
REVERSE_TARGETS = ("unit_cost", "unit_cost_cash", "price")

_OPTION_KEYS = ("personal", "simplified", "claim", "recoverable", "rounding", "fx", "fx_factor", "edition",
                "pork_emergency")
_OPTION_ALIASES = {"personal_use": "personal", "個人使用": "personal", "簡易税率": "simplified", "特恵": "claim",
                   "epa": "claim", "claim_preference": "claim", "ct_recoverable": "recoverable",
                   "仕入税額控除": "recoverable", "price_rounding": "rounding", "端数": "rounding", "為替": "fx",
                   "fx_rates": "fx", "tariff_edition": "edition", "版": "edition"}
_MARGIN_ON = {"price": "price", "売価": "price", "粗利率": "price", "cost": "cost", "原価": "cost", "値入率": "cost"}
# Short names users type for a kind, beside the keys and the full Japanese names of the rule files.
_CHARGE_ALIASES = {"運賃": "freight", "海上運賃": "freight", "航空運賃": "freight", "保険料": "insurance",
                   "保険": "insurance", "その他": "other"}
_COST_ALIASES = {"配送料": "delivery", "国内配送": "delivery", "配送": "delivery", "検査": "inspection",
                 "立替": "advance_fee", "その他": "other"}
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")


# --- ranges → the quote input --------------------------------------------------------------------

def _rows(v: object, columns: tuple[str, ...], table: str, short: tuple[str, ...] | None = None,
          needs: tuple[str, ...] | None = None, wider: tuple[str, ...] | None = None
          ) -> list[tuple[int, dict[str, Any]]]:
    """(row index in the range, {column: cell}) for each row holding anything (or any of ``needs``); a range of
    the wrong width is refused (a shifted column would put prices into quantities). ``short``: the columns of
    a narrower range also accepted; ``wider``: of a wider one (the lines with the 見積書's columns)."""
    if blank(v):
        return []
    rows = [list(r) if isinstance(r, list | tuple) else [r] for r in (v if isinstance(v, list | tuple) else [[v]])]
    width = max((len(r) for r in rows), default=0)
    if short is not None and width == len(short):
        columns = short
    if wider is not None and width == len(wider):
        columns = wider
    if width != len(columns):
        widths = sorted({len(c) for c in (columns, short, wider) if c is not None})
        if len(widths) == 1:
            raise InputError(table, f"give {len(columns)} columns ({', '.join(columns)}), not {width}")
        widest = max((c for c in (columns, short, wider) if c is not None), key=len)
        counts = f"{', '.join(map(str, widths[:-1]))} or {widths[-1]}"
        raise InputError(table, f"give {counts} columns (the first {counts} of: {', '.join(widest)}), not {width}")
    out = []
    for i, r in enumerate(rows):
        cells = dict(zip(columns, r, strict=True))
        if not all(blank(c) for c in (r if needs is None else [cells[k] for k in needs])):
            out.append((i, cells))
    return out


def _flag(v: object, field: str) -> bool | None:
    """yes/no, はい/いいえ, TRUE/FALSE or 1/0 (a number cell arrives as 1.0)."""
    no_error(v, field)
    if blank(v):
        return None
    if isinstance(v, bool):
        return v
    return yes_no(field, _flag_text(v))


def _flag_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return unicodedata.normalize("NFKC", str(v)).strip().lower()


def _choice(v: object, field: str) -> str | None:
    t = text_of(v, field)
    return None if t is None else unicodedata.normalize("NFKC", t).strip().lower().replace(" ", "_")


def _claim(v: object, field: str) -> bool | str | None:
    no_error(v, field)
    if blank(v):
        return None
    if isinstance(v, bool):
        return v
    t = _flag_text(v)
    return True if t in YES else False if t in NO else t


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def _line(cells: dict[str, Any], claim_default: bool | str | None) -> dict[str, Any]:
    line: dict[str, Any] = {"description": text_of(cells["description"], "description") or ""}
    _put(line, "hs_code", hs_text(cells["hs_code"]))
    _put(line, "origin", text_of(cells["origin"]))
    for name in ("quantity", "unit_price", "weight_kg", "customs_quantity"):
        if name in cells:
            _put(line, name, number_text(cells[name], name))
    if "customs_unit" in cells:
        _put(line, "customs_unit", text_of(cells["customs_unit"], "customs_unit"))
    if "unit" in cells:
        _put(line, "unit", text_of(cells["unit"], "unit"))
    if "reduced_ct" in cells:   # food at the reduced rate: yes / no; blank = as the tariff line says
        _put(line, "reduced_ct", _flag(cells["reduced_ct"], "reduced_ct"))
    claim = _claim(cells["claim"], "claim_preference")
    _put(line, "claim_preference", claim_default if claim is None else claim)
    return line


@lru_cache(maxsize=2)
def _kind_names(table: str) -> dict[str, str]:
    """Every name a kind may be typed by → its key: the short aliases and the rule files' Japanese names."""
    from xlduty.quote.domestic import domestic_rules
    from xlduty.quote.incoterms import incoterm_rules

    if table == "charges":
        return {**_CHARGE_ALIASES, **{e.name_ja: k for k, e in incoterm_rules().elements.items()}}
    return {**_COST_ALIASES, **{k.name_ja: key for key, k in domestic_rules().kinds.items()}}


def _currency(v: object, field: str) -> str | None:
    t = text_of(v, field)
    return None if t is None else t.upper()


# How each column of the charges and costs ranges is read (the kind column: by _kind_names).
_READ: dict[str, Callable[[object, str], Any]] = {
    "label": text_of, "amount": number_text, "currency": _currency, "allocate_by": _choice, "paid_by": _choice,
    "ct": _choice, "tax_included": _flag, "at_import": _flag}


def _item(cells: dict[str, Any], table: str) -> dict[str, Any]:
    """A charges or costs row as its JSON item (blank cells left out: the model's defaults apply)."""
    out: dict[str, Any] = {}
    kind = _choice(cells["kind"], "kind")
    _put(out, "kind", None if kind is None else _kind_names(table).get(kind, kind))
    for column, value in cells.items():
        if column != "kind":
            _put(out, column, _READ[column](value, column))
    return out


def _table(rows: list[tuple[int, dict[str, Any]]], table: str, make: Callable[[dict[str, Any]], dict[str, Any]]
           ) -> tuple[list[dict[str, Any]], list[int]]:
    out, where = [], []
    for i, cells in rows:
        try:
            out.append(make(cells))
        except InputError as exc:
            raise InputError(f"{table}[{i}].{exc.field}", exc.message) from None
        where.append(i)
    return out, where


def _options(v: object) -> tuple[dict[str, Any], dict[str, Any]]:
    """(quote fields, worksheet-only settings: claim default, fx_factor)."""
    no_error(v, "options")
    fields: dict[str, Any] = {"options": {}}
    extra: dict[str, Any] = {}
    if blank(v):
        return fields, extra
    for key, val in items(v, _OPTION_KEYS, _OPTION_ALIASES, "personal; rounding=10"):
        if key == "personal":
            fields["options"]["personal_use"] = yes_no(key, val)
        elif key == "recoverable":
            fields["options"]["ct_recoverable"] = yes_no(key, val)
        elif key == "pork_emergency":   # 暫定法7条の6 in force (yes) or not (no) on the date
            fields["options"]["pork_emergency"] = yes_no(key, val)
        elif key == "simplified":
            if val is None or val.lower() not in ("auto", "always", "never"):
                raise InputError("options.simplified", "use one of auto, always, never")
            fields["options"]["simplified"] = val.lower()
        elif key == "rounding":
            fields["options"]["price_rounding"] = number(key, val)
        elif key == "claim":
            extra["claim"] = _claim(val if val is not None else "yes", "options.claim")
        elif key == "edition":   # a saved quote recomputed on the tariff edition it was made with
            if not val:
                raise InputError("options.edition", "give the edition, e.g. edition=2026_07_09")
            fields["tariff_edition"] = val
        elif key == "fx_factor":
            extra["fx_factor"] = number(key, val)
        else:
            rates = fx_pairs(val)
            if "" in rates:
                raise InputError("options.fx", "give other currencies as fx=EUR:162.1 (the invoice currency's "
                                               "rate is the FX argument)")
            fields["fx_rates"] = rates
    return fields, extra


def _document_cells(v: object) -> dict[str, Any]:
    """The document range (one column or one row of len(DOCUMENT_ROWS) cells) as {field: cell}."""
    rows = [list(r) if isinstance(r, list | tuple) else [r] for r in (v if isinstance(v, list | tuple) else [[v]])]
    cells = [c for r in rows for c in r] if all(len(r) == 1 for r in rows) or len(rows) == 1 else []
    if len(cells) != len(DOCUMENT_ROWS):
        raise InputError("document", f"give {len(DOCUMENT_ROWS)} cells in one column ({', '.join(DOCUMENT_ROWS)})")
    return dict(zip(DOCUMENT_ROWS, cells, strict=True))


def document_input(v: object) -> dict[str, Any]:
    """The quote fields a document range gives: ``customer``, ``reference`` (見積番号 and 件名, as one text) and
    ``document`` (the 見積書's own fields, xlduty.quote.model.QuoteDocument)."""
    no_error(v, "document")
    if blank(v):
        return {}
    cells = _document_cells(v)
    doc: dict[str, Any] = {}
    for name in ("honorific", "quote_no", "subject", "delivery_terms", "payment_terms", "remarks"):
        _put(doc, name, text_of(cells[name], f"document.{name}"))
    for name in ("issued", "valid_until"):
        no_error(cells[name], f"document.{name}")
        if not blank(cells[name]):
            try:
                doc[name] = to_date(cells[name]).isoformat()
            except InputError as exc:
                raise InputError(f"document.{name}", exc.message) from None
    issuer: dict[str, Any] = {}
    for name in ("issuer_name", "issuer_address", "issuer_contact", "issuer_kind", "registration_number"):
        _put(issuer, name.removeprefix("issuer_"), text_of(cells[name], f"document.issuer.{name}"))
    if issuer:
        doc["issuer"] = issuer
    out: dict[str, Any] = {"document": doc}
    _put(out, "customer", text_of(cells["customer"], "document.customer"))
    reference = " ".join(x for x in (doc.get("quote_no"), doc.get("subject")) if x)
    _put(out, "reference", reference or None)
    return out


def quote_input(lines: object, charges: object, costs: object, on_date: object, incoterm: object,
                invoice_currency: object, fx: object, margin: object, margin_on: object,
                options: object, document: object = None
                ) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[int]]]:
    """(the ``xlduty quote`` JSON input, worksheet settings, the range row of each item per quote table).
    ``document``: the 見積書's own fields (DOCUMENT_ROWS), for QUOTE_CUSTOMER."""
    fields, extra = _options(options)
    fields.update(document_input(document))
    line_rows = _rows(lines, CUSTOMS_LINE_COLUMNS, "lines", SHORT_LINE_COLUMNS, ("hs_code", "quantity", "unit_price"),
                      LINE_COLUMNS)
    items, where = _table(line_rows, "lines", lambda c: _line(c, extra.get("claim")))
    if not items:
        raise InputError("lines", "no lines: give HS codes, quantities and unit prices")
    data: dict[str, Any] = {"date": to_date(on_date).isoformat(), "lines": items, **fields}
    data["charges"], charge_rows = _table(_rows(charges, CHARGE_COLUMNS, "charges"), "charges",
                                          lambda c: _item(c, "charges"))
    data["domestic_costs"], cost_rows = _table(_rows(costs, COST_COLUMNS, "costs"), "costs",
                                               lambda c: _item(c, "costs"))
    _put(data, "incoterm", text_of(incoterm, "incoterm"))
    currency = text_of(invoice_currency, "currency")
    _put(data, "currency", None if currency is None else currency.upper())
    _put(data, "fx", number_text(fx, "fx"))
    m = number_text(margin, "margin")
    if m is not None:
        on = _choice(margin_on, "margin_on") or "price"
        if on not in _MARGIN_ON:
            raise InputError("margin_on", "use price (粗利率: margin on the selling price) or cost (値入率: markup)")
        data["margin"] = {"percent": str(Decimal(str(m)) * 100), "on": _MARGIN_ON[on]}
    return data, extra, {"lines": where, "charges": charge_rows, "domestic_costs": cost_rows}


# --- the quote, cached per input -----------------------------------------------------------------

@lru_cache(maxsize=64)
def _computed(key: str) -> Any:
    """The quote for one input (a JSON text: the same sheet asks for many figures of one quote)."""
    from xlduty.quote import quote
    from xlduty.quote.solve import at_fx

    data, extra = json.loads(key)
    q = quote(data)
    return q if extra.get("fx_factor") is None else at_fx(q, Decimal(extra["fx_factor"]))


def _quote(args: tuple[object, ...], document: object = None) -> tuple[Any, dict[str, list[int]]]:
    """(the quote, the range row of each item per quote table)."""
    follow_tables()
    data, extra, where = quote_input(*args, document=document)
    try:
        q = _computed(json.dumps([data, extra], sort_keys=True, ensure_ascii=False))
    except InputError as exc:
        raise _named(exc, where) from None
    _refuse_misfit(q.result.misfit(), where)
    return q, where


def _refuse_misfit(found: tuple[int, str] | None, where: dict[str, list[int]], at: str = "") -> None:
    """A quote line outside its code's value band (``Result.misfit``): figures Customs would not assess, refused in
    the cell naming the line and the line that fits; ``at`` says at which price, for a reverse calculation."""
    if found is not None:
        raise _named(InputError(f"lines[{found[0]}].hs_code", at + found[1]), where)


_SHEET_TABLE = {"lines": "lines", "charges": "charges", "domestic_costs": "costs"}


def _named(exc: InputError, where: dict[str, list[int]]) -> InputError:
    """``lines[1].unit_price`` (the quote's second line) → the range row it came from (``costs[4]`` for
    ``domestic_costs[1]``), so the cell names the row the user typed."""
    if exc.field == "currency" and isinstance(exc, NoCustomsRate):   # the invoice currency's: typed in the FX cell
        return exc.advise("fx", "type the rate in the FX cell")
    message = sheet_text(exc.message, where)
    if exc.field.startswith("margin."):          # the margin cell holds the percent and its basis
        return InputError("margin", message)
    m = re.match(r"(lines|charges|domestic_costs)\[(\d+)\]", exc.field)
    if m and int(m.group(2)) < len(where[m.group(1)]):
        row = where[m.group(1)][int(m.group(2))]
        return InputError(f"{_SHEET_TABLE[m.group(1)]}[{row}]{exc.field[m.end():]}", message)
    return InputError(exc.field, message)


_INDEXED = re.compile(r"\b(lines|charges|domestic_costs)\[(\d+)\]")
_TABLE_NAME = {"lines": "明細", "charges": "運賃等", "domestic_costs": "国内諸掛"}


def sheet_text(text: str, where: dict[str, list[int]]) -> str:
    """The quote's own item numbers in a message (``charges[0]``, ``line 1``: 0-based among the items given) as
    the sheet rows they came from (``運賃等 3行目``)."""
    def row(table: str, k: int) -> str | None:
        rows = where[table]
        return f"{_TABLE_NAME[table]} {rows[k] + 1}行目" if k < len(rows) else None

    text = _INDEXED.sub(lambda m: row(m.group(1), int(m.group(2))) or m.group(0), text)
    return lines_as_rows(text, lambda k: row("lines", k))


def _excel(v: Any) -> Any:
    """A figure as a cell holds it: whole numbers as int, fractions as float, None as blank."""
    if v is None:
        return ""
    if isinstance(v, bool | int | float):
        return v
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, str):   # exact decimals travel as text in the quote JSON; names and rates stay text
        return _excel(Decimal(v)) if _DECIMAL.fullmatch(v) else v
    return str(v)


def _total(q: Any, name: str) -> Any:
    if name == "cash_at_import":
        return q.cash_at_import()["total"]
    if name == "tariff_edition":
        return q.tariff_edition
    if name == "fx":
        return Decimal(1) if q.input.currency == "JPY" else q.fx_rates[q.input.currency]
    if name == "simplified":
        return "yes" if q.result.simplified and q.result.simplified.get("used") else "no"
    return q.totals()[name]


def QUOTE_LINES(lines: object = None, charges: object = None, costs: object = None, on_date: object = None,
                incoterm: object = None, invoice_currency: object = None, fx: object = None, margin: object = None,
                margin_on: object = None, options: object = None, fields: object = None) -> Any:
    """見積明細 (spills one row per row of ``lines``; blank rows stay blank): ``fields`` comma-separated from
    QUOTE_LINE_FIELDS (default ``landed_cost,unit_cost,price``). Taxes are each line's share of the amounts
    payable, so a column sums to QUOTE_TOTALS."""
    try:
        names = field_names(fields, QUOTE_LINE_FIELDS, ("landed_cost", "unit_cost", "price"))
        q, where = _quote((lines, charges, costs, on_date, incoterm, invoice_currency, fx, margin, margin_on,
                           options))
        rows = where["lines"]
        n = len(lines) if isinstance(lines, list | tuple) else 1
    except Exception as exc:  # never a traceback in a cell
        return [[cell_error(exc)]]
    by_row = {row: q.lines[k].to_dict() for k, row in enumerate(rows)}
    return [[_excel(by_row[i][f]) for f in names] if i in by_row else [""] * len(names) for i in range(n)]


def QUOTE_TOTALS(lines: object = None, charges: object = None, costs: object = None, on_date: object = None,
                 incoterm: object = None, invoice_currency: object = None, fx: object = None, margin: object = None,
                 margin_on: object = None, options: object = None, field: object = None) -> Any:
    """見積の合計: one figure from QUOTE_TOTAL_FIELDS (default ``landed_cost``), e.g. ``taxes_total`` (paid at
    import), ``cash_at_import``, ``price_total``, ``tariff_edition``, ``fx`` (the rate applied)."""
    try:
        name = field_names(field, QUOTE_TOTAL_FIELDS, ("landed_cost",))
        if len(name) != 1:
            raise InputError("field", "give one field")
        q, where = _quote((lines, charges, costs, on_date, incoterm, invoice_currency, fx, margin, margin_on,
                           options))
        if name[0] == "warnings":   # one text, the rows named as the sheet numbers them
            return warnings_text(q.warnings, lambda text: sheet_text(text, where))
        return _excel(_total(q, name[0]))
    except Exception as exc:  # never a traceback in a cell
        return cell_error(exc)


def QUOTE_REVERSE(lines: object = None, charges: object = None, costs: object = None, on_date: object = None,
                  incoterm: object = None, invoice_currency: object = None, fx: object = None,
                  margin: object = None, margin_on: object = None, options: object = None, line_no: object = None,
                  target: object = None, target_kind: object = None) -> Any:
    """逆算: the highest supplier unit price (invoice currency; 0.01, or 1 yen for JPY) of row ``line_no`` (1 = the
    first row of ``lines``) at which ``target_kind`` stays at or below ``target``: ``unit_cost`` (landed cost per
    unit, tax recovered; default), ``unit_cost_cash`` (tax included) or ``price`` (the quote price per unit)."""
    from xlduty.quote.solve import reverse

    try:
        kind = _choice(target_kind, "target_kind") or "unit_cost"
        if kind not in REVERSE_TARGETS:
            raise InputError("target_kind", f"use one of {', '.join(REVERSE_TARGETS)}")
        goal = number_text(target, "target")
        if goal is None:
            raise InputError("target", "required")
        row = number_text(line_no, "line_no")
        if row is None or Decimal(str(row)) != int(Decimal(str(row))) or int(Decimal(str(row))) < 1:
            raise InputError("line_no", "give the row number in the lines range (1 = its first row)")
        follow_tables()
        data, extra, where = quote_input(lines, charges, costs, on_date, incoterm, invoice_currency, fx, margin,
                                         margin_on, options)
        if extra.get("fx_factor") is not None:
            raise InputError("options.fx_factor", "not with a reverse calculation: set the FX rate itself")
        index = int(Decimal(str(row))) - 1
        if index not in where["lines"]:
            raise InputError("line_no", f"row {index + 1} of the lines range is blank")
        step = Decimal(1) if data.get("currency", "JPY") == "JPY" else Decimal("0.01")
        amount = Decimal(str(goal))
        try:
            r = reverse(data, line=where["lines"].index(index), step=step,
                        target_unit_cost=amount if kind != "price" else None,
                        target_price=amount if kind == "price" else None,
                        view="cash" if kind == "unit_cost_cash" else "cost")
        except InputError as exc:
            raise _named(exc, where) from None
        # a price at which the line leaves its band is not a price of this line
        _refuse_misfit(r.quote.result.misfit(), where, f"at the unit price found ({r.unit_price}): ")
        return _excel(r.unit_price)
    except Exception as exc:  # never a traceback in a cell
        return cell_error(exc)


@lru_cache(maxsize=16)
def _compared(key: str) -> tuple[list[list[Any]], tuple[int, str] | None]:
    """(the rows, or none and the line outside its code's band that refuses them): a refusal is cached as rows are
    (as data, not as an exception holding frames), so each cell of a refused sheet does not compare it again."""
    from xlduty.excel.messages import reason_ja
    from xlduty.quote import compare_treatments

    rows = compare_treatments(json.loads(key)).rows
    chosen = rows[0].quote
    assert chosen is not None
    for r in rows:   # every treatment computes the same lines: one outside its band makes each figure wrong
        found = r.quote.result.misfit() if r.quote is not None else None
        if found is not None:
            return [], found
    out = []
    for r in rows:
        label = f"{r.label_ja} {r.label_en}"
        if r.quote is None:
            out.append([label, reason_ja(r.reason or "")[:255], "", ""])
            continue
        taxes = r.quote.result.totals.total
        out.append([label, taxes, _excel(r.quote.landed_cost), taxes - chosen.result.totals.total])
    return out, None


def QUOTE_TREATMENTS(lines: object = None, charges: object = None, costs: object = None, on_date: object = None,
                     incoterm: object = None, invoice_currency: object = None, fx: object = None,
                     margin: object = None, margin_on: object = None, options: object = None) -> Any:
    """取扱いの比較 (spills one row per treatment: label, taxes paid at import, landed cost, difference in taxes
    vs as quoted): as quoted, general, simplified, MFN, each preference covering an origin (EPA, GSP, LDC),
    commercial, personal use. A treatment that cannot apply shows why, never 0."""
    try:
        follow_tables()
        data, extra, where = quote_input(lines, charges, costs, on_date, incoterm, invoice_currency, fx, margin,
                                         margin_on, options)
        if extra.get("fx_factor") is not None:
            raise InputError("options.fx_factor", "not for the comparison: it compares treatments at the FX given")
        try:
            rows, misfit = _compared(json.dumps(data, sort_keys=True, ensure_ascii=False))
        except InputError as exc:
            raise _named(exc, where) from None
        _refuse_misfit(misfit, where)
        # a copy (the cached rows are shared), with the reasons naming sheet rows
        return [[row[0], sheet_text(row[1], where)[:255] if isinstance(row[1], str) else row[1], *row[2:]]
                for row in rows]
    except Exception as exc:  # never a traceback in a cell
        return [[cell_error(exc)]]


def QUOTE_CUSTOMER(lines: object = None, charges: object = None, costs: object = None, on_date: object = None,
                   incoterm: object = None, invoice_currency: object = None, fx: object = None, margin: object = None,
                   margin_on: object = None, options: object = None, document: object = None,
                   part: object = None) -> Any:
    """見積書: the customer's view of the quote (xlduty.quote.document), as ``xlduty quote`` gives it in
    ``customer_quote``. ``document``: the 見積書's own fields, one cell each (DOCUMENT_ROWS). ``part`` (CUSTOMER_PARTS):
    ``table`` (default: spills No, 品名, 数量, 単位, 単価, 金額, 税率 per line, then 小計, the amount and tax of each
    rate, 合計), ``lines``, ``issuer`` and ``remarks`` (spill), or one text or figure: ``addressee`` (宛先 with 御中
    or 様), ``quote_no``, ``issued``, ``valid_until``, ``subject``, ``registration_number``, ``subtotal``, ``tax``,
    ``total``, ``fx`` (the FX assumption). No cost, duty, margin or supplier figure is among them."""
    from xlduty.quote.document import japanese_date

    spills = ("table", "lines", "issuer", "remarks")
    name = ""   # a part refused is answered in one cell
    try:
        name = str(word(part, "part", CUSTOMER_PARTS, "table"))
        if blank(document) and name not in ("table", "lines", "subtotal", "tax", "total", "fx"):
            raise InputError("document", f"{name} comes from the document range: give it")
        q, _where = _quote((lines, charges, costs, on_date, incoterm, invoice_currency, fx, margin, margin_on,
                            options), document)
        c = q.customer_quote()
        if name in ("table", "lines", "subtotal", "tax", "total") and not c.priced:
            raise InputError("margin", "the 見積書 shows prices: give the margin")
        if name in ("table", "lines"):
            rows = c.table() if name == "table" else c.table()[:len(c.lines)]
            return [[_excel(v) for v in row] for row in rows]
        if name == "issuer":
            issuer = c.issuer or {}
            number = issuer.get("registration_number")
            rows = [issuer.get(k) for k in ("name", "address", "contact")] + [f"登録番号 {number}" if number else None]
            return [[r] for r in rows if r] or [[""]]
        if name == "remarks":
            return [[r] for r in c.remarks] or [[""]]
        value: Any = {"addressee": f"{c.customer} {c.honorific}" if c.customer else "", "quote_no": c.quote_no,
                      "issued": japanese_date(c.issued) if c.issued else "",
                      "valid_until": japanese_date(c.valid_until) if c.valid_until else "", "subject": c.subject,
                      "registration_number": (c.issuer or {}).get("registration_number"), "subtotal": c.subtotal,
                      "tax": c.tax, "total": c.total, "fx": "、".join(c.fx_assumptions)}[name]
        return _excel(value)
    except Exception as exc:  # never a traceback in a cell
        return [[cell_error(exc)]] if name in spills else cell_error(exc)


def REGISTRATION_NUMBER(number: object = None, kind: object = None) -> Any:
    """適格請求書発行事業者の登録番号: ``number`` checked and written as T + 13 digits (xlduty.quote.registration):
    a corporation's (法人, default) check digit is verified; an individual's (個人) number has none to verify."""
    from xlduty.quote.registration import kind_of, registration_number

    try:
        text = text_of(number, "registration_number")
        if text is None:
            raise InputError("registration_number", "required: T and 13 digits")
        return registration_number(text, kind_of(text_of(kind, "kind"), "kind"), "registration_number")
    except Exception as exc:  # never a traceback in a cell
        return cell_error(exc)


def clear_caches() -> None:
    _computed.cache_clear()
    _compared.cache_clear()


QUOTE_FUNCTIONS: dict[str, Callable[..., Any]] = {"QUOTE_LINES": QUOTE_LINES, "QUOTE_TOTALS": QUOTE_TOTALS,
                                                  "QUOTE_REVERSE": QUOTE_REVERSE, "QUOTE_TREATMENTS": QUOTE_TREATMENTS,
                                                  "QUOTE_CUSTOMER": QUOTE_CUSTOMER,
                                                  "REGISTRATION_NUMBER": REGISTRATION_NUMBER}
