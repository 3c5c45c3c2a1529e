"""逆算 (reverse calculation): the highest supplier unit price that still meets a target, and FX sensitivity.

Why a search and not a formula: the landed cost is a step function of the supplier price. The customs value
is truncated to ¥1,000 per line, the taxes paid to ¥100, the de minimis (¥10,000) and simplified-tariff
(¥200,000) thresholds switch treatments, and allocation shares move by whole quanta. Mostly it rises with
the price, but not strictly, and not smoothly.

Method: the prices tried are a grid (``step``, e.g. 0.01 of the invoice currency). (1) From the input price,
double until a price fails the target; (2) bisect between the last price that meets it and the first that
does not; (3) check the next ``window`` grid prices above the answer: if one meets the target (a local dip
of a step function), move there and search again. The answer meets the target, the next grid price does
not, and none of the ``window`` prices after it does. The result records both neighbours, so a test (or a
user) can see the round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from xlduty.core.errors import InputError
from xlduty.quote.landed import build
from xlduty.quote.model import QuoteInput, parse_quote
from xlduty.quote.result import Quote, QuoteLineResult, cents, num

_MAX_DOUBLINGS = 48


@dataclass(slots=True)
class Reverse:
    """The outcome of a reverse calculation on one line."""

    line: int
    view: str
    target: dict[str, Any]
    threshold: Fraction | None      # the highest landed cost per unit allowed (None for a price target)
    step: Decimal
    unit_price: Decimal             # the highest grid price meeting the target
    quote: Quote                    # the quote at that price
    next_unit_price: Decimal        # one step more
    next_quote: Quote               # … which does not meet the target
    window: int
    evaluations: int

    def to_dict(self) -> dict[str, Any]:
        here, nxt = self.quote.lines[self.line], self.next_quote.lines[self.line]
        return {"line": self.line, "view": self.view, "target": self.target,
                "max_unit_cost": None if self.threshold is None else num(cents(self.threshold)),
                "step": num(self.step), "currency": self.quote.input.currency,
                "unit_price": num(self.unit_price), "unit_cost": num(cents(_unit_cost(here, self.view))),
                "price": here.price,
                "next_unit_price": num(self.next_unit_price),
                "next_unit_cost": num(cents(_unit_cost(nxt, self.view))), "next_price": nxt.price,
                "checked_above": self.window, "evaluations": self.evaluations,
                "quote": self.quote.to_dict()}


def _unit_cost(ln: QuoteLineResult, view: str) -> Fraction:
    total = ln.landed_cost if view == "cost" else ln.landed_cost_cash
    return Fraction(total) / Fraction(ln.quantity)


def with_unit_price(q: QuoteInput, line: int, price: Decimal) -> QuoteInput:
    """The same quote with one line's supplier unit price changed (no re-validation: the price is ≥ 0)."""
    lines = list(q.lines)
    lines[line] = lines[line].model_copy(update={"unit_price": price})
    return q.model_copy(update={"lines": lines})


def reverse(data: QuoteInput | dict[str, Any], *, line: int = 0, target_unit_cost: Decimal | None = None,
            sell_price: Decimal | None = None, target_margin: Decimal | None = None,
            margin_on: Literal["price", "cost"] = "price", target_price: Decimal | None = None,
            view: Literal["cost", "cash"] = "cost", step: Decimal = Decimal("0.01"), window: int = 20) -> Reverse:
    """The highest unit price of line ``line`` (invoice currency, multiple of ``step``) that meets one target:

    - ``target_unit_cost``: landed cost per unit (``view`` cost or cash) ≤ the target, in yen;
    - ``sell_price`` + ``target_margin``: at that selling price per unit (yen, before tax) the margin is at least
      ``target_margin`` % — on the price (cost ≤ price × (1 − m)) or, ``margin_on: cost``, as a markup
      (cost ≤ price ÷ (1 + m));
    - ``target_price``: the quote price per unit (with the input's margin and rounding) ≤ the target.
    """
    q = parse_quote(data)
    if not 0 <= line < len(q.lines):
        raise InputError("line", f"no line {line}: the quote has {len(q.lines)}")
    if step <= 0:
        raise InputError("step", "the price step must be above 0")
    target, threshold, meets = _target(q, line, target_unit_cost, sell_price, target_margin, margin_on, target_price,
                                       view)
    cache: dict[int, Quote] = {}

    def at(k: int) -> Quote:
        if k not in cache:
            cache[k] = build(with_unit_price(q, line, step * k))
        return cache[k]

    def ok(k: int) -> bool:
        return meets(at(k))

    if not ok(1):
        cost = cents(_unit_cost(at(1).lines[line], view))
        raise InputError("target", f"not reachable: at a unit price of {num(step)} {q.currency} line {line} already "
                                   f"costs {num(cost)} yen per unit ({view} view), above the target")
    lo = 1
    while True:
        hi = _first_failure(lo, q.lines[line].unit_price, step, ok)
        while hi - lo > 1:                      # invariant: ok(lo), not ok(hi)
            mid = (lo + hi) // 2
            if ok(mid):
                lo = mid
            else:
                hi = mid
        dip = next((k for k in range(lo + 2, lo + 2 + window) if ok(k)), None)   # lo + 1 = hi fails
        if dip is None:
            break
        lo = dip
    return Reverse(line, view, target, threshold, step, step * lo, at(lo), step * (lo + 1), at(lo + 1), window,
                   len(cache))


def _first_failure(lo: int, current: Decimal, step: Decimal, ok: Callable[[int], bool]) -> int:
    """A grid index above ``lo`` whose price fails the target, found by doubling from the input price."""
    hi = max(lo + 1, int(current / step))
    for _ in range(_MAX_DOUBLINGS):
        if not ok(hi):
            return hi
        hi *= 2
    raise InputError("target", "no supplier price fails the target: the landed cost does not depend on this line's "
                               "price (check the line and the target)")


def _target(q: QuoteInput, line: int, target_unit_cost: Decimal | None, sell_price: Decimal | None,
            target_margin: Decimal | None, margin_on: str, target_price: Decimal | None,
            view: str) -> tuple[dict[str, Any], Fraction | None, Callable[[Quote], bool]]:
    modes = [target_unit_cost is not None, sell_price is not None or target_margin is not None,
             target_price is not None]
    if sum(modes) != 1:
        raise InputError("target", "give one target: target_unit_cost, sell_price with target_margin, or "
                                   "target_price")
    if target_price is not None:
        if q.margin is None:
            raise InputError("margin", "a target quote price needs the quote's margin")
        limit = target_price
        return ({"price": num(target_price)}, None,
                lambda quote: quote.lines[line].price is not None and quote.lines[line].price <= limit)
    if target_unit_cost is not None:
        threshold = Fraction(target_unit_cost)
        target: dict[str, Any] = {"unit_cost": num(target_unit_cost)}
    else:
        if sell_price is None or target_margin is None:
            raise InputError("target", "a margin target needs both sell_price and target_margin")
        m = Fraction(target_margin) / 100
        if margin_on == "price" and m >= 1:
            raise InputError("target_margin", "a margin on the price must be below 100 %")
        threshold = Fraction(sell_price) * (1 - m) if margin_on == "price" else Fraction(sell_price) / (1 + m)
        target = {"sell_price": num(sell_price), "margin_percent": num(target_margin), "margin_on": margin_on}
    return target, threshold, lambda quote: _unit_cost(quote.lines[line], view) <= threshold


def fx_sensitivity(data: QuoteInput | dict[str, Any],
                   factors: Sequence[Decimal] = (Decimal("0.95"), Decimal("1.05"))) -> list[dict[str, Any]]:
    """The quote again with every foreign rate × each factor (yen weaker or stronger by 5 %): landed cost,
    taxes and quote prices, and the difference to the rates as given. The first row is the base (× 1)."""
    base = build(parse_quote(data))
    return [_sensitivity_row(Decimal(1), base, base)] + [_sensitivity_row(f, at_fx(base, f), base) for f in factors]


def at_fx(base: Quote, factor: Decimal) -> Quote:
    """The quote again with every foreign rate it applied × ``factor`` (a yen amount stays as it is)."""
    if factor <= 0:
        raise InputError("fx_factor", "the FX factor must be above 0")
    pinned = {cur: rate * factor for cur, rate in base.fx_rates.items()}
    return build(base.input.model_copy(update={"fx": None, "fx_rates": pinned}))


def _sensitivity_row(factor: Decimal, qt: Quote, base: Quote) -> dict[str, Any]:
    return {"factor": num(factor), "fx": {cur: num(r) for cur, r in qt.fx_rates.items()},
            "taxes_total": qt.result.totals.total, "landed_cost": num(qt.landed_cost),
            "landed_cost_cash": num(qt.landed_cost_cash),
            "difference": num(qt.landed_cost - base.landed_cost),
            "unit_costs": [num(cents(ln.unit_cost_exact)) for ln in qt.lines],
            "prices": [ln.price for ln in qt.lines]}
