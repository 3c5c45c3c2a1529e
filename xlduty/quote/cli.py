"""``xlduty quote FILE|-``: a quote (見積) from a JSON input, as JSON on stdout.

Exit codes as ``xlduty compute``: 0 ok; 2 invalid input (one line on stderr naming the field, nothing on
stdout), e.g. ``xlduty: lines[0].unit_price: a number is required``; 3 bundled data missing or broken.

Forms::

    xlduty quote quote.json                      # the quote (with "record": the saved form)
    xlduty quote quote.json --compare            # + "comparison": the treatments side by side
    xlduty quote quote.json --sensitivity        # + "sensitivity": landed cost at FX × 0.95 / × 1.05
    xlduty quote quote.json --save saved.json    # also write the record to a .json file (atomically; never
                                                 # the input, a folder, a link or a device: xlduty.files)
    xlduty quote quote.json --reverse --target-cost 1500 [--line 0] [--view cost|cash] [--step 0.01]
    xlduty quote quote.json --reverse --sell-price 2400 --target-margin 30 [--margin-on price|cost]
    xlduty quote quote.json --reverse --target-price 2400     # quote price (input's margin) ≤ 2400
    xlduty quote saved.json --reproduce          # same edition and FX: {"identical", "differences", "quote"}
    xlduty quote saved.json --permit permit.json # {"matches", "differences", "causes", "checks"}
    xlduty quote quote.xlsm --save saved.json    # a quote workbook (the template) read as this input

Input (a JSON object; numbers may be JSON numbers or strings; money is exact)::

    {"date": "2026-11-20",                 # expected declaration date: tariff edition, FX week, rules
     "currency": "USD",                    # supplier invoice currency (default JPY)
     "fx": 150.00,                         # yen per 1 USD; omitted: the customs weekly rate of the date
     "fx_rates": {"EUR": 162.1},           # other currencies (charges)
     "incoterm": "FOB", "named_place": "Shanghai",     # EXW FCA FAS FOB CFR CIF CPT CIP DAP DPU DDP
     "reference": "Q-2026-031", "customer": "…", "supplier": "…",
     "lines": [{"description": "T-shirts", "hs_code": "6109.10-020", "origin": "VN", "quantity": 500,
                "unit": "pcs", "unit_price": 3.20, "weight_kg": 110, "claim_preference": "epa_vietnam",
                # optional as in xlduty compute: rate, reduced_ct, customs_quantity + customs_unit (specific
                # duties), condition, in_quota, liquor, excise
                }],
     "charges": [{"kind": "freight", "amount": 380, "currency": "USD", "allocate_by": "weight",
                  "paid_by": "buyer", "in_customs_value": null, "label": "ocean freight"}],
       # kind: pre_carriage export_clearance origin_handling freight insurance destination_handling
       #       post_arrival import_clearance import_duties_taxes other (rules/incoterms.yaml)
       # paid_by seller = inside the invoice price, stated separately (e.g. the Japanese leg of a DAP price)
       # allocate_by: value (unit_price × quantity) | weight (weight_kg, every line needs one) | quantity
     "domestic_costs": [{"kind": "customs_brokerage", "amount": 11800, "ct": null, "tax_included": false,
                         "at_import": null, "allocate_by": "value"}],
       # kind: customs_brokerage 通関料, postal_clearance 郵便通関料, advance_fee 立替手数料, delivery,
       #       inspection, other; ct: standard (10 %) | reduced (8 %) | exempt; default by kind
     "margin": {"percent": 30, "on": "price"},   # on price: cost ÷ (1 − m); on cost (markup): cost × (1 + m)
     "options": {"personal_use": false, "simplified": "auto", "ct_recoverable": null, "price_rounding": 1,
                 "pork_emergency": null},   # 暫定法7条の6 in force: true / false; null: as the rule data records
     "document": {"honorific": "御中", "quote_no": "Q-2026-031", "issued": "2026-11-10", "valid_until": "2026-12-20",
                  "subject": "…", "delivery_terms": "…", "payment_terms": "…", "remarks": "…",
                  "issuer": {"name": "…", "address": "…", "contact": "…", "kind": "corporation",
                             "registration_number": "T…"}}}   # optional: the 見積書's own fields

Output (``Quote.to_dict()``): ``date``, ``tariff_edition``, ``currency``, ``fx`` (each rate with its customs
week and source), ``incoterm``, ``options``; ``totals`` (goods, goods_yen, charges_yen, customs_value,
taxable_value, duty, national_ct, local_ct, consumption_tax, excise, taxes_total, domestic_costs,
domestic_ct, recoverable_ct, landed_cost (cost view), landed_cost_cash, price_total, sales_ct,
price_total_with_ct, gross_profit, margin_percent, markup_percent); ``cash_at_import``; ``lines`` (the same
per line, with the rate applied, ``duty_line`` = the line's own duty and ``duty`` = its share of the duty
payable, ``unit_cost`` / ``unit_cost_cash`` per unit to 0.01 yen, ``price`` per unit); ``charges`` and
``domestic_costs`` (each with its allocation); ``simplified``, ``exemption``, ``warnings``, ``notes``,
``customer_quote`` (the 見積書: lines at the quote price, amount and tax per rate, subtotal, tax, total, the FX
assumption and remarks — no cost, duty or margin; ``xlduty.quote.document``),
``declaration`` (the ``xlduty compute`` input the quote ran) and ``record`` (see ``record.py``).
Whole yen are integers; fractions are exact decimal strings.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``quote`` to the ``xlduty`` sub-commands (``xlduty/cli.py`` calls this)."""
    from xlduty.command import count_arg, number_arg, word_arg

    p = subparsers.add_parser("quote", help="a quote: landed cost per unit and price at a margin (JSON in, JSON out)")
    p.add_argument("file", help="quote JSON, a quote workbook (.xlsm/.xlsx: the template), a saved quote with "
                                "--reproduce/--permit, or - for standard input")
    p.add_argument("--compact", action="store_true", help="one-line JSON output")
    p.add_argument("--compare", action="store_true", help="add the treatments side by side")
    p.add_argument("--sensitivity", action="store_true", help="add the landed cost at FX × 0.95 and × 1.05")
    p.add_argument("--save", metavar="PATH", help="also write the quote record (for --reproduce) to PATH")
    p.add_argument("--reproduce", action="store_true", help="recompute a saved quote with its edition and FX")
    p.add_argument("--permit", metavar="PERMIT_JSON",
                   help="compare a saved quote with the figures of the import permit (輸入許可通知書)")
    r = p.add_argument_group("reverse calculation (逆算)")
    r.add_argument("--reverse", action="store_true", help="the highest supplier unit price meeting a target")
    r.add_argument("--line", type=count_arg, default=0, help="the line whose unit price is searched (default 0)")
    r.add_argument("--target-cost", type=number_arg, help="landed cost per unit in yen, at most")
    r.add_argument("--sell-price", type=number_arg, help="selling price per unit in yen (with --target-margin)")
    r.add_argument("--target-margin", type=number_arg, help="margin in percent, at least")
    r.add_argument("--margin-on", type=word_arg, choices=["price", "cost"], default="price",
                   help="price: gross margin on the price; cost: markup on cost")
    r.add_argument("--target-price", type=number_arg, help="quote price per unit in yen (input's margin), at most")
    r.add_argument("--view", type=word_arg, choices=["cost", "cash"], default="cost",
                   help="cost: consumption tax recovered; cash: everything paid")
    r.add_argument("--step", type=number_arg, default=Decimal("0.01"), help="price grid in the invoice currency")
    p.set_defaults(func=run)
    return p


_SAVE_AS = "the quote record is JSON: name it .json (a workbook or PDF under that name would be overwritten)"


def _json(value: Any) -> Any:
    from xlduty.quote.result import num

    if isinstance(value, Decimal):
        return num(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def run(args: argparse.Namespace) -> int:
    """Run ``xlduty quote``; input errors propagate as ``InputError`` (the caller prints them, exit 2)."""
    from xlduty.command import read_json, write
    from xlduty.core.errors import InputError
    from xlduty.files import MAX_OBJECT_MODEL_BYTES, check_output, check_package, write_output
    from xlduty.quote import (
        compare_treatments,
        compare_with_permit,
        fx_sensitivity,
        quote,
        reproduce,
        reverse,
        save,
    )
    from xlduty.quote.record import jsonable

    if args.save:   # before any work: never onto the input, a folder, a link, a device, nor a workbook's name
        check_output(args.save, inputs=[args.file, args.permit], suffixes=(".json",), why=_SAVE_AS)
    if args.file.lower().endswith((".xlsx", ".xlsm")):   # the quote template (or any QUOTE_TOTALS sheet)
        from xlduty.excel.quote_workbook import quote_from_workbook

        check_package(args.file, max_bytes=MAX_OBJECT_MODEL_BYTES)   # openpyxl loads it whole, twice
        data: Any = quote_from_workbook(args.file)
    else:
        data = read_json(args.file)
    out: Any
    if args.permit:
        out = compare_with_permit(data, read_json(args.permit)).to_dict()
    elif args.reproduce:
        out = reproduce(data).to_dict()
    elif args.reverse:
        if not isinstance(data, dict):
            raise InputError("", "a quote must be a JSON object")
        out = reverse(data, line=args.line, target_unit_cost=args.target_cost, sell_price=args.sell_price,
                      target_margin=args.target_margin, margin_on=args.margin_on, target_price=args.target_price,
                      view=args.view, step=args.step).to_dict()
    else:
        qt = quote(data)
        out = qt.to_dict()
        out["declaration"] = jsonable(qt.declaration)
        out["record"] = record = save(qt)
        if args.save:
            text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"   # as record.save writes it
            write_output(args.save, text.encode("utf-8"), inputs=[args.file, args.permit], suffixes=(".json",),
                         why=_SAVE_AS)
        if args.compare:
            out["comparison"] = compare_treatments(qt.input).to_dict()
        if args.sensitivity:
            out["sensitivity"] = fx_sensitivity(qt.input)
    write(json.dumps(out, ensure_ascii=False, indent=None if args.compact else 2, default=_json) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m xlduty.quote.cli FILE …``: the same as ``xlduty quote FILE …`` (one error handling)."""
    from xlduty.command import run_alone

    return run_alone(add_parser, ["quote", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
