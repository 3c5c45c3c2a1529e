"""Quotes and landed cost (見積): from a supplier's invoice in any currency to the landed cost per unit and a
quote price at the user's margin, with the Japanese duty and import consumption tax computed as Customs does.

    >>> from xlduty.quote import quote
    >>> q = quote({"date": "2026-11-20", "currency": "USD", "fx": 150, "incoterm": "FOB",
    ...            "lines": [{"hs_code": "6109.10-020", "origin": "CN", "quantity": 200, "unit_price": 10}],
    ...            "charges": [{"kind": "freight", "amount": 120}], "margin": {"percent": 30, "on": "price"}})
    >>> q.result.totals.duty, q.lines[0].price
    (23500, 2440)

Modules: ``model`` (input), ``incoterms`` and ``domestic`` (rules data), ``allocation`` (remainder-safe
按分), ``landed`` (the quote), ``solve`` (逆算 reverse calculation, FX sensitivity), ``compare``
(treatments side by side), ``record`` (save, reproduce, compare with the 輸入許可通知書), ``cli`` (``xlduty quote``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Lazy: ``xlduty`` builds every sub-command's parser at start-up, and `xlduty compute` must start fast.
_WHERE = {
    "Comparison": "compare", "compare_treatments": "compare", "quote": "landed", "QuoteInput": "model",
    "parse_quote": "model", "PermitComparison": "record", "Reproduction": "record", "compare_with_permit": "record",
    "load": "record", "reproduce": "record", "save": "record", "LABELS": "result", "Quote": "result",
    "Reverse": "solve", "fx_sensitivity": "solve", "reverse": "solve",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(name)
    value = getattr(import_module(f"xlduty.quote.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["LABELS", "Comparison", "PermitComparison", "Quote", "QuoteInput", "Reproduction", "Reverse",
           "compare_treatments", "compare_with_permit", "fx_sensitivity", "load", "parse_quote", "quote",
           "reproduce", "reverse", "save"]
