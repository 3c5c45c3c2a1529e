"""Quotes and landed cost (見積): from a supplier's invoice in any currency to the landed cost per unit and a
quote price at the user's margin, with the Japanese duty and import consumption tax computed as Customs does.

    >>> from xlduty.quote import quote
    >>> q = quote({"date": "2026-11-20", "currency": "USD", "fx": 150, "incoterm": "FOB",
    ...            "lines": [{"hs_code": "6109.10-020", "origin": "CN", "quantity": 200, "unit_price": 10}],
    ...            "charges": [{"kind": "freight", "amount": 120}], "margin": {"percent": 30, "on": "price"}})
    >>> q.result.totals.duty, q.lines[0].price
    (23500, 2440)

Modules: ``model`` (input), ``incoterms`` and ``domestic`` (rules data), ``allocation`` (remainder-safe
按分), ``landed`` (the quote), ``reverse`` (逆算, FX sensitivity), ``compare`` (treatments side by side),
``record`` (save, reproduce, compare with the 輸入許可通知書), ``cli`` (``xlduty quote``).
"""

from __future__ import annotations

from xlduty.quote.compare import Comparison, compare_treatments
from xlduty.quote.landed import quote
from xlduty.quote.model import QuoteInput, parse_quote
from xlduty.quote.record import PermitComparison, Reproduction, compare_with_permit, load, reproduce, save
from xlduty.quote.result import LABELS, Quote
from xlduty.quote.reverse import Reverse, fx_sensitivity, reverse

__all__ = ["LABELS", "Comparison", "PermitComparison", "Quote", "QuoteInput", "Reproduction", "Reverse",
           "compare_treatments", "compare_with_permit", "fx_sensitivity", "load", "parse_quote", "quote",
           "reproduce", "reverse", "save"]
