"""Quotes and landed cost (xlduty.quote): worked quotes with hand-computed figures.

Tariff lines of the bundled 2026_07_09 edition (quote date 2026-11-20): 6109.10-020 cotton T-shirts (WTO 7.4 %;
free under AJCEP, the Japan–Viet Nam EPA, CPTPP and RCEP for VN; knitted apparel is outside the simplified
tariff), 8471.30-000 laptops (free), 4202.22-200 bags (WTO 8 %; simplified 5 % when the consignment is
≤ ¥200,000; RCEP China 5.7 %). FX is given explicitly (the bundled customs weekly rates end in 2020).

The pipeline worked by hand (shared reference §0): tv = floor_1000(CIF); duty = floor(tv × rate), payable
floor_100(Σ); ct_base = floor_1000(CIF + floor_100(duty)); nat = floor(ct_base × 7.8 %), payable floor_100(Σ);
loc = floor(floor_100(nat) × 22/78), payable floor_100(Σ).

The reference goods used in several tests ("T-shirts FOB"): 1,000 T-shirts CN at USD 2.00 = USD 2,000, FOB,
freight USD 150, insurance USD 10, fx 150 → customs value (2,000 + 150 + 10) × 150 = 324,000.
  duty 324,000 × 7.4 % = 23,976 → payable 23,900
  ct_base floor_1000(324,000 + 23,900) = 347,000 → nat 27,066 → 27,000
  loc floor_100(27,066) = 27,000 × 22/78 = 7,615.38 → 7,615 → 7,600;  taxes 58,500
  landed cost (cost view, CT recovered) 324,000 + 23,900 = 347,900 → 347.90 per unit
  cash view 347,900 + 27,000 + 7,600 = 382,500 → 382.50 per unit
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlduty.core.errors import InputError
from xlduty.quote import (
    compare_treatments,
    compare_with_permit,
    fx_sensitivity,
    load,
    quote,
    reproduce,
    reverse,
    save,
)
from xlduty.quote.allocation import allocate, allocate_yen, hamilton, quantum_of

ROOT = Path(__file__).resolve().parents[1]
DATE = "2026-11-20"
D = Decimal


def tshirts(incoterm: str = "FOB", price: str = "2.00", charges: list[dict[str, Any]] | None = None,
            **kw: Any) -> dict[str, Any]:
    """The reference T-shirts: 1,000 pcs CN, USD, fx 150 (see the module docstring)."""
    if charges is None:
        charges = [{"kind": "freight", "amount": 150}, {"kind": "insurance", "amount": 10}]
    line = {"description": "T-shirts", "hs_code": "6109.10-020", "origin": kw.pop("origin", "CN"),
            "quantity": 1000, "unit_price": price, "weight_kg": 200}
    return {"date": DATE, "currency": "USD", "fx": 150, "incoterm": incoterm, "lines": [line],
            "charges": charges, **kw}


def taxes(q: Any) -> tuple[int, int, int]:
    t = q.result.totals
    return t.duty, t.national_ct, t.local_ct


# --- allocation ------------------------------------------------------------------------------------------

def test_allocation_1000_yen_over_three_equal_lines() -> None:
    """¥1,000 ÷ 3 = 333.33 each: floors 333 × 3 = 999; the one yen left goes to the first line (equal
    remainders: line order) → 334 / 333 / 333. ¥2 over three: 0.67 each → 1 / 1 / 0."""
    assert allocate_yen(1000, [1, 1, 1]) == [334, 333, 333]
    assert allocate_yen(2, [5, 5, 5]) == [1, 1, 0]
    assert hamilton(0, [0, 0]) == [0, 0]


def test_allocation_largest_remainder_by_weight() -> None:
    """¥1,000 by weights 1 : 2 : 4 (Σ 7): exact 142.857 / 285.714 / 571.429 → floors 142 / 285 / 571 = 998;
    the two yen left go to the largest remainders .857 (line 0) and .714 (line 1) → 143 / 286 / 571."""
    assert allocate_yen(1000, [D(1), D(2), D(4)]) == [143, 286, 571]


def test_allocation_in_cents_of_the_charge_currency() -> None:
    """USD 100.00 over three equal lines in cents: 33.33 × 3 = 99.99, the cent left to line 0 → 33.34 / 33.33 /
    33.33. The quantum is the currency's minor unit, finer if the amount is more precise."""
    assert quantum_of(D(100), "USD") == D("0.01")
    assert quantum_of(D("100.005"), "USD") == D("0.001")
    assert quantum_of(D(1000), "JPY") == D(1)
    assert allocate(D(100), [1, 1, 1], quantum_of(D(100), "USD")) == [D("33.34"), D("33.33"), D("33.33")]


def test_allocation_errors_name_the_field() -> None:
    with pytest.raises(InputError) as e:
        allocate(D(500), [0, 0], 1, field="charges[0].allocate_by", basis="weight_kg")
    assert e.value.field == "charges[0].allocate_by" and "weight_kg is zero" in e.value.message
    with pytest.raises(InputError):
        allocate(D(500), [D(1), D(-1)], 1, field="x")
    with pytest.raises(ValueError, match="whole number"):
        allocate(D("0.5"), [1, 1], 1)


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=12).filter(any))
def test_allocation_sums_exactly_and_stays_within_one_yen(total: int, weights: list[int]) -> None:
    """Property: the parts sum to the total and each is within one quantum of its exact share."""
    parts = allocate_yen(total, weights)
    assert sum(parts) == total
    s = sum(weights)
    for p, w in zip(parts, weights, strict=True):
        assert abs(p * s - total * w) < s          # |p − total·w/s| < 1


# --- incoterms -------------------------------------------------------------------------------------------

def test_fob_adds_freight_and_insurance() -> None:
    """T-shirts FOB (module docstring): customs value 324,000; duty 23,900, national 27,000, local 7,600;
    landed cost 347,900 (347.90 per unit), cash 382,500 (382.50 per unit)."""
    q = quote(tshirts("FOB"))
    ln = q.lines[0]
    assert ln.customs_value == 324000 and ln.taxable_value == 324000
    assert (ln.rate, ln.rate_column) == ("7.4%", "rate_wto")
    assert ln.duty_line == 23976
    assert taxes(q) == (23900, 27000, 7600)
    assert ln.goods_yen == 300000 and ln.charges_yen == 24000
    assert ln.landed_cost == 347900 and ln.landed_cost_cash == 382500
    d = ln.to_dict()
    assert (d["unit_cost"], d["unit_cost_cash"]) == ("347.9", "382.5")
    assert q.warnings == []


def test_fob_without_freight_is_flagged_short() -> None:
    """FOB puts the main carriage on the buyer, and it belongs in the customs value: a FOB quote without a freight
    charge is short, and says so (value then USD 2,010 × 150 = 301,500)."""
    q = quote(tshirts("FOB", charges=[{"kind": "insurance", "amount": 10}]))
    assert q.lines[0].customs_value == 301500
    assert any("FOB" in w and "'freight'" in w and "short" in w for w in q.warnings)


def test_cif_adds_nothing_and_warns_of_freight_paid_twice() -> None:
    """CIF at USD 2,160 (the FOB price + freight + insurance): the price is the customs value basis itself,
    2,160 × 150 = 324,000: the same taxes as FOB. A buyer freight charge on top is added (the buyer may pay it)
    but flagged: (2,160 + 10) × 150 = 325,500."""
    q = quote(tshirts("CIF", price="2.16", charges=[]))
    assert q.lines[0].customs_value == 324000 and taxes(q) == (23900, 27000, 7600)
    assert q.warnings == []
    twice = quote(tshirts("CIF", price="2.16", charges=[{"kind": "freight", "amount": 10}]))
    assert twice.lines[0].customs_value == 325500
    assert any("counted twice" in w for w in twice.warnings)


def test_exw_adds_pre_carriage() -> None:
    """EXW at USD 1,900 with the buyer paying pre-carriage USD 100 (seller's door → port), freight 150 and
    insurance 10: (1,900 + 100 + 150 + 10) × 150 = 324,000, the same taxes as FOB. Landed cost: goods 285,000 +
    charges 260 × 150 = 39,000 + duty 23,900 = 347,900. Without the pre-carriage the quote is flagged."""
    charges = [{"kind": "pre_carriage", "amount": 100}, {"kind": "freight", "amount": 150},
               {"kind": "insurance", "amount": 10}]
    q = quote(tshirts("EXW", price="1.90", charges=charges))
    assert q.lines[0].customs_value == 324000 and taxes(q) == (23900, 27000, 7600)
    assert q.lines[0].landed_cost == 347900
    assert q.declaration["lines"][0]["freight"] == 250          # pre-carriage + freight, in USD
    short = quote(tshirts("EXW", price="1.90", charges=charges[1:]))
    assert any("pre_carriage" in w for w in short.warnings)


def test_dap_excludes_a_separately_stated_post_arrival_leg() -> None:
    """DAP (delivered to the buyer's warehouse) at USD 2,300, of which the seller states USD 140 for the leg
    from the Japanese port: that leg is after arrival (関税定率法4条1項, 施行令1条の4) → customs value
    (2,300 − 140) × 150 = 324,000, same taxes. The buyer pays the whole price: landed cost 345,000 + 23,900 =
    368,900."""
    q = quote(tshirts("DAP", price="2.30", charges=[{"kind": "post_arrival", "amount": 140, "paid_by": "seller"}]))
    ln = q.lines[0]
    assert ln.customs_value == 324000 and taxes(q) == (23900, 27000, 7600)
    assert ln.deducted_yen == 21000 and ln.charges_yen == 0
    assert ln.landed_cost == 368900
    assert q.charges[0].role == "deduct"


def test_ddp_taxes_are_the_sellers() -> None:
    """DDP at USD 2,700, stating USD 390 of Japanese duty and taxes and USD 150 of delivery in Japan: customs
    value (2,700 − 390 − 150) × 150 = 324,000 (the duties the seller pays are not part of it), taxes as FOB but
    paid by the seller. The buyer's landed cost is the price, 2,700 × 150 = 405,000, in both views (no import
    consumption tax of its own to recover); no cash is needed at import."""
    charges = [{"kind": "import_duties_taxes", "amount": 390, "paid_by": "seller"},
               {"kind": "post_arrival", "amount": 150, "paid_by": "seller"}]
    q = quote(tshirts("DDP", price="2.70", charges=charges))
    ln = q.lines[0]
    assert ln.customs_value == 324000 and taxes(q) == (23900, 27000, 7600)
    assert not q.taxes_borne
    assert ln.landed_cost == ln.landed_cost_cash == 405000
    assert q.cash_at_import()["total"] == 0
    assert not any(w.startswith("DDP:") for w in q.warnings)


def test_ddp_without_the_stated_taxes_warns_that_they_are_overstated() -> None:
    """DDP at USD 2,700 (1,000 × 2.70) with nothing stated: the whole price, 405,000 yen, is taken as the
    customs value (the duty inside it cannot be told apart), duty 405,000 × 7.4 % = 29,970 → 29,900 instead of
    23,900 — the quote says so rather than showing the seller's taxes as if they were right."""
    q = quote(tshirts("DDP", price="2.70", charges=[]))
    assert q.lines[0].customs_value == 405000 and q.result.totals.duty == 29900
    assert [w for w in q.warnings if w.startswith("DDP:")] and "overstated" in q.warnings[-1]


def test_unknown_incoterm_and_charge_kind_name_the_field() -> None:
    with pytest.raises(InputError) as e:
        quote(tshirts("FOBX"))
    assert e.value.field == "incoterm"
    with pytest.raises(InputError) as e:
        quote(tshirts(charges=[{"kind": "frieght", "amount": 1}]))
    assert e.value.field == "charges[0].kind"
    with pytest.raises(InputError) as e:
        quote(tshirts(charges=[{"kind": "other", "amount": 5}]))
    assert e.value.field == "charges[0].in_customs_value"


# --- allocation inside a quote, domestic costs, cost vs cash ------------------------------------------------

def laptops() -> dict[str, Any]:
    """Three laptops CN at ¥100,000 each (free), CIF basis in yen; weights 1, 2, 4 kg."""
    line = {"hs_code": "8471.30-000", "origin": "CN", "quantity": 1, "unit_price": 100000}
    return {"date": DATE, "incoterm": "CIF",
            "lines": [{**line, "weight_kg": w} for w in (1, 2, 4)],
            "charges": [{"kind": "freight", "amount": 1000, "allocate_by": "weight"}],
            "domestic_costs": [{"kind": "customs_brokerage", "amount": 1000},
                               {"kind": "delivery", "amount": 1000, "allocate_by": "quantity"}]}


def test_allocation_remainders_in_a_quote_and_cost_vs_cash() -> None:
    """Freight ¥1,000 by weight 1:2:4 → 143 / 286 / 571 (largest remainder, as above): customs values
    100,143 / 100,286 / 100,571 (total 301,000 > ¥200,000: general tariff), duty free.
    CT per line: floor_1000(100,143) = 100,000 → nat 7,800, loc 7,800 × 22/78 = 2,200; payable 23,400 + 6,600.
    通関料 ¥1,000 (exempt), by value (equal) → 334 / 333 / 333. Delivery ¥1,000 + 10 % = ¥100 CT, by quantity
    (equal) → 334 / 333 / 333 and CT 34 / 33 / 33.
    Cost view: 100,000 + 143 + 334 + 334 = 100,811; 100,000 + 286 + 333 + 333 = 100,952;
               100,000 + 571 + 333 + 333 = 101,237; Σ 303,000 = goods 300,000 + freight + 通関料 + delivery.
    Cash view: + 10,000 CT each + delivery CT → 110,845 / 110,985 / 111,270; Σ 333,100 = 303,000 + 30,000 + 100.
    Cash at import: CT 30,000 + 通関料 1,000 (delivery is paid later) = 31,000."""
    q = quote(laptops())
    assert q.charges[0].shares == [143, 286, 571]
    assert [ln.customs_value for ln in q.lines] == [100143, 100286, 100571]
    assert taxes(q) == (0, 23400, 6600)
    assert q.domestic_costs[0].shares == [334, 333, 333] and q.domestic_costs[0].ct == 0
    assert q.domestic_costs[1].ct == 100 and q.domestic_costs[1].ct_shares == [34, 33, 33]
    assert [ln.landed_cost for ln in q.lines] == [100811, 100952, 101237]
    assert [ln.landed_cost_cash for ln in q.lines] == [110845, 110985, 111270]
    assert q.landed_cost == 303000 and q.landed_cost_cash == 333100
    assert q.cash_at_import() == {"duty": 0, "consumption_tax": 30000, "excise": 0, "costs_at_import": 1000,
                                  "total": 31000}
    assert q.totals()["recoverable_ct"] == 30100


def test_allocation_by_weight_needs_every_weight() -> None:
    """A line without weight (or 0 kg) under a by-weight charge is an error naming that line's weight_kg."""
    data = laptops()
    data["lines"][1] = {**data["lines"][1], "weight_kg": 0}
    with pytest.raises(InputError) as e:
        quote(data)
    assert e.value.field == "lines[1].weight_kg"


def test_payable_totals_are_allocated_so_lines_sum_to_what_is_paid() -> None:
    """Three T-shirt lines CN, CIF in yen: 123,456 / 234,567 / 345,678 (Σ 703,701).
    duty: 123,000 × 7.4 % = 9,102; 234,000 → 17,316; 345,000 → 25,530; Σ 51,948 → payable 51,900.
      shares of 51,900 by 9,102 : 17,316 : 25,530 (48 less than Σ):
      9,102 − 9,102 × 48/51,948 = 9,093.59; 17,316 − 16.00 = 17,300.00; 25,530 − 23.59 = 25,506.41
      → floors 9,093 / 17,300 / 25,506 (51,899), the yen left to the largest remainder (.59, line 0)
      → 9,094 / 17,300 / 25,506.
    nat: floor_1000(123,456 + 9,100) = 132,000 → 10,296; floor_1000(234,567 + 17,300) = 251,000 → 19,578;
         floor_1000(345,678 + 25,500) = 371,000 → 28,938; Σ 58,812 → 58,800; shares (12 less):
         10,296 − 2.10 = 10,293.90; 19,578 − 3.99 = 19,574.01; 28,938 − 5.90 = 28,932.10 → 10,294 / 19,574 / 28,932.
    loc: 10,200 × 22/78 = 2,876; 19,500 × 22/78 = 5,500; 28,900 × 22/78 = 8,151; Σ 16,527 → 16,500; shares
         (27 less): 2,876 − 4.70 = 2,871.30; 5,500 − 8.99 = 5,491.01; 8,151 − 13.32 = 8,137.68 → 2,871 / 5,491 / 8,138.
    Landed cost (cost view) Σ = 703,701 + 51,900 = 755,601; cash + 58,800 + 16,500 = 830,901."""
    line = {"hs_code": "6109.10-020", "origin": "CN", "quantity": 1}
    q = quote({"date": DATE, "incoterm": "CIF",
               "lines": [{**line, "unit_price": v} for v in (123456, 234567, 345678)]})
    assert [ln.duty_line for ln in q.lines] == [9102, 17316, 25530]
    assert taxes(q) == (51900, 58800, 16500)
    assert [ln.duty for ln in q.lines] == [9094, 17300, 25506]
    assert [ln.national_ct for ln in q.lines] == [10294, 19574, 28932]
    assert [ln.local_ct for ln in q.lines] == [2871, 5491, 8138]
    assert q.landed_cost == 755601 and q.landed_cost_cash == 830901
    assert sum(ln.landed_cost for ln in q.lines) == q.landed_cost


# --- margin and price -------------------------------------------------------------------------------------

def test_margin_on_price_and_markup_on_cost() -> None:
    """T-shirts FOB, cost 347.90 per unit.
    30 % on the price: 347.90 ÷ 0.7 = 497.00 → 497; quote 497,000; profit 497,000 − 347,900 = 149,100 = 30.00 %
    of the price, 42.86 % of the cost; consumption tax on the quote 49,700 → 546,700 tax included.
    30 % markup on cost: 347.90 × 1.3 = 452.27 → up to the yen 453; to ¥10: 460."""
    q = quote(tshirts(margin={"percent": 30, "on": "price"}))
    t = q.totals()
    assert q.lines[0].price == 497
    assert (t["price_total"], t["gross_profit"], t["margin_percent"], t["markup_percent"]) == (
        497000, 149100, 30, "42.86")
    assert (t["sales_ct"], t["price_total_with_ct"]) == (49700, 546700)
    assert quote(tshirts(margin={"percent": 30, "on": "cost"})).lines[0].price == 453
    assert quote(tshirts(margin={"percent": 30, "on": "cost"}, options={"price_rounding": 10})).lines[0].price == 460


def test_personal_use_is_valued_at_retail_x_0_6_and_recovers_no_tax() -> None:
    """Personal use: USD 2,000 × 0.6 × 150 = 180,000 (separately stated freight not added, 定率法4条の6②);
    duty 180,000 × 7.4 % = 13,320 → 13,300; ct_base floor_1000(193,300) = 193,000 → nat 15,054 → 15,000;
    loc 15,000 × 22/78 = 4,230 → 4,200. No 仕入税額控除 for a consumer: cost = cash = goods 300,000 + freight and
    insurance 24,000 + 13,300 + 15,000 + 4,200 = 356,500."""
    q = quote(tshirts(options={"personal_use": True}))
    assert q.lines[0].customs_value == 180000
    assert taxes(q) == (13300, 15000, 4200)
    assert not q.ct_recoverable
    assert q.landed_cost == q.landed_cost_cash == 356500


# --- reverse calculation and FX sensitivity -----------------------------------------------------------------

def test_reverse_round_trip_on_the_landed_cost() -> None:
    """At USD 2.00 the cost is 347.90 per unit (module docstring). One cent more, USD 2.01: value
    (2,010 + 160) × 150 = 325,500 → duty 325,000 × 7.4 % = 24,050 → 24,000; cost 349,500 → 349.50 > 347.90.
    So the highest price for a target of 347.90 is exactly USD 2.00, and its quote gives the target back.
    Cash view at 2.01: ct_base floor_1000(349,500) = 349,000 → nat 27,222 → 27,200; loc 27,200 × 22/78 = 7,671
    → 7,600; cash 384,300 → 384.30 > 382.50 → the cash target 382.50 also gives USD 2.00."""
    r = reverse(tshirts(price="3.00"), target_unit_cost=D("347.90"))
    assert r.unit_price == D("2.00") and r.next_unit_price == D("2.01")
    assert r.quote.lines[0].landed_cost == 347900
    assert r.next_quote.lines[0].landed_cost == 349500
    assert reverse(tshirts(), target_unit_cost=D("382.50"), view="cash").unit_price == D("2.00")
    # round trip: the found price, quoted again, meets the target; one step more does not
    again = quote(tshirts(price=str(r.unit_price)))
    assert again.lines[0].unit_cost_exact <= D("347.90") < quote(tshirts(price="2.01")).lines[0].unit_cost_exact


def test_reverse_on_a_margin_at_a_selling_price() -> None:
    """Selling at ¥497 with 30 % margin on the price allows a cost of 497 × 0.7 = 347.90: USD 2.00 again.
    As a markup (cost ≤ 497 ÷ 1.3 = 382.31): USD 2.19 costs (2,190 + 160) × 150 = 352,500 + duty 352,000 × 7.4 %
    = 26,048 → 26,000 → 378,500 = 378.50 ≤ 382.31; USD 2.20 costs 354,000 + 354,000 × 7.4 % = 26,196 → 26,100
    → 380,100 = 380.10 ≤ 382.31; 2.21: 355,500 + 355,000 × 7.4 % = 26,270 → 26,200 → 381.70 ≤ 382.31;
    2.22: 357,000 + 357,000 × 7.4 % = 26,418 → 26,400 → 383.40 > 382.31 → USD 2.21."""
    assert reverse(tshirts(), sell_price=D(497), target_margin=D(30)).unit_price == D("2.00")
    r = reverse(tshirts(), sell_price=D(497), target_margin=D(30), margin_on="cost")
    assert r.unit_price == D("2.21") and r.quote.lines[0].landed_cost == 381700
    assert r.next_quote.lines[0].landed_cost == 383400


def test_reverse_finds_the_answer_beyond_a_dip_of_the_step_function() -> None:
    """Polyethylene 3901.10-099 CN (WTO 2.8 %, simplified 5 %) at ¥p beside bags 4202.22-200 CN ¥100,000 (WTO 8 %,
    simplified 5 %), CIF in yen, ``simplified: auto``; target: polyethylene ≤ ¥103,000 (cost view), grid ¥100.
    p = 98,100 (total 198,100 ≤ 200,000): simplified 4,900 + 5,000 = 9,900; CT bases 103,000 / 105,000 → nat
        8,034 + 8,190 → 16,200, loc 2,256 + 2,284 → 4,500: 30,600. General: 2,744 + 8,000 → 10,700; bases
        100,000 / 108,000 → 7,800 + 8,424 → 16,200; loc 2,200 + 2,369 → 4,500: 31,400. Simplified wins:
        cost 98,100 + 4,900 = 103,000 (meets). p = 98,200: 98,200 + 4,900 = 103,100 (fails).
    p = 99,500 (the input): tv 99,000 → 4,950; payable 9,900 by 4,950 : 5,000 → 4,925.13 / 4,974.87 → 4,925 /
        4,975: cost 104,425 (fails). p = 100,000: 5,000 + 5,000, cost 105,000 (fails).
    p = 100,100: total 200,100 > 200,000, general only: 100,000 × 2.8 % = 2,800, bags 8,000 → cost 102,900 — the
        cost DROPS. p = 100,200 → 103,000 (meets); p = 100,300 → 103,100 (fails), and it only rises after.
    Bisecting below the input (¥99,500 fails) stops at ¥98,100; the neighbour scan (20 grid steps) finds
    ¥100,100 and the search goes on to the true answer ¥100,200."""
    data = {"date": DATE, "incoterm": "CIF", "lines": [
        {"description": "polyethylene", "hs_code": "3901.10-099", "origin": "CN", "quantity": 1, "unit_price": 99500},
        {"description": "bags", "hs_code": "4202.22-200", "origin": "CN", "quantity": 1, "unit_price": 100000}]}
    r = reverse(data, target_unit_cost=D(103000), step=D(100))
    assert (r.unit_price, r.next_unit_price) == (D(100200), D(100300))
    assert (r.quote.lines[0].landed_cost, r.next_quote.lines[0].landed_cost) == (103000, 103100)
    assert r.quote.result.simplified["used"] is False and [ln.duty for ln in r.quote.lines] == [2800, 8000]
    lower = quote(data | {"lines": [data["lines"][0] | {"unit_price": 98100}, data["lines"][1]]})
    assert lower.result.simplified["used"] is True and lower.lines[0].landed_cost == 103000
    assert (lower.result.simplified["simplified_total"], lower.result.simplified["general_total"]) == (30600, 31400)
    assert quote(data).lines[0].landed_cost == 104425


def test_reverse_target_out_of_reach_names_the_target() -> None:
    """Freight and insurance alone cost 24,000 / 1,000 = 24 per unit plus duty: a target of 20 cannot be met."""
    with pytest.raises(InputError) as e:
        reverse(tshirts(), target_unit_cost=D(20))
    assert e.value.field == "target"


def test_fx_sensitivity_plus_minus_5_percent() -> None:
    """fx 150 × 0.95 = 142.5: value 2,160 × 142.5 = 307,800 → duty 307,000 × 7.4 % = 22,718 → 22,700; cost
    330,500 (−17,400). × 1.05 = 157.5: 340,200 → duty 340,000 × 7.4 % = 25,160 → 25,100; cost 365,300 (+17,400)."""
    rows = fx_sensitivity(tshirts())
    assert [r["factor"] for r in rows] == [1, "0.95", "1.05"]
    assert [r["fx"]["USD"] for r in rows] == [150, "142.5", "157.5"]
    assert [r["landed_cost"] for r in rows] == [347900, 330500, 365300]
    assert [r["difference"] for r in rows] == [0, -17400, 17400]


# --- treatments side by side ------------------------------------------------------------------------------

def test_compare_mfn_and_each_epa_for_vietnam() -> None:
    """T-shirts from VN, no claim: MFN 7.4 % → taxes 58,500 (as FOB above). Claimed under an EPA (AJCEP, Japan–Viet
    Nam, CPTPP, RCEP all print 無税 for 6109.10-020): duty 0; ct_base 324,000 → nat 25,272 → 25,200; loc 25,200 ×
    22/78 = 7,107 → 7,100; taxes 32,300: a saving of 26,200. GSP covers VN but the line has no GSP rate: no saving.
    The simplified tariff is out (324,000 > 200,000), listed with the reason. Personal use: 32,500 (see above)."""
    c = compare_treatments(tshirts(origin="VN"))
    rows = {r["key"]: r for r in c.to_dict()["rows"]}
    assert rows["chosen"]["taxes"]["total"] == rows["mfn"]["taxes"]["total"] == 58500
    for col in ("epa_asean", "epa_vietnam", "epa_cptpp", "epa_rcep_asean_au_nz"):
        assert rows[f"claim:{col}"]["taxes"]["total"] == 32300
        assert rows[f"claim:{col}"]["savings_vs_mfn"] == 26200
        assert rows[f"claim:{col}"]["difference_taxes"] == -26200
    assert rows["claim:rate_gsp"]["savings_vs_mfn"] == 0
    assert not rows["simplified"]["feasible"] and "exceeds 200,000" in rows["simplified"]["reason"]
    assert "taxes" not in rows["simplified"]
    assert rows["personal"]["taxes"]["total"] == 32500
    assert "claim:epa_eu" not in rows


def test_compare_general_simplified_and_rcep_china_for_bags() -> None:
    """Bags 4202.22-200 CN, ¥150,000 CIF. General 8 %: 12,000; ct_base 162,000 → 12,636 → 12,600; loc 12,600 ×
    22/78 = 3,553 → 3,500; 28,100. Simplified 5 %: 7,500; ct_base floor_1000(157,500) = 157,000 → 12,246 →
    12,200; loc 12,200 × 22/78 = 3,441 → 3,400; 23,100 — chosen by ``auto``. RCEP China 5.7 % (general tariff):
    8,550 → 8,500; ct_base 158,000 → 12,324 → 12,300; loc 12,300 × 22/78 = 3,469 → 3,400; 24,200: saves 3,900
    against MFN but costs 1,100 more than the simplified tariff."""
    data = {"date": DATE, "incoterm": "CIF",
            "lines": [{"hs_code": "4202.22-200", "origin": "CN", "quantity": 100, "unit_price": 1500}]}
    rows = {r["key"]: r for r in compare_treatments(data).to_dict()["rows"]}
    assert rows["chosen"]["taxes"]["total"] == rows["simplified"]["taxes"]["total"] == 23100
    assert rows["general"]["taxes"]["total"] == rows["mfn"]["taxes"]["total"] == 28100
    assert rows["general"]["difference_taxes"] == 5000
    rcep = rows["claim:epa_rcep_china"]
    assert (rcep["taxes"]["total"], rcep["savings_vs_mfn"], rcep["difference_taxes"]) == (24200, 3900, 1100)


# --- saved quotes, reproduction, the permit ------------------------------------------------------------------

def test_save_reproduce_gives_identical_figures(tmp_path: Path) -> None:
    """A saved quote recomputes to the same figures with its own FX rate, even if the input's fx was edited:
    the saved rate (150) is pinned."""
    q = quote(tshirts(margin={"percent": 30}))
    path = tmp_path / "q.json"
    record = save(q, path)
    assert record["tariff_edition"] == "2026_07_09"
    assert record["fx"][0]["yen_per_unit"] == 150 and record["rates"][0]["rate"] == "7.4%"
    loaded = load(path)
    rep = reproduce(loaded)
    assert rep.identical and rep.differences == []
    assert rep.quote.result.totals.total == 58500 and rep.quote.lines[0].price == 497
    edited = json.loads(path.read_text(encoding="utf-8"))
    edited["input"]["fx"] = 999
    assert reproduce(edited).identical
    edited["figures"]["totals"]["duty"] = 24000          # a record that no longer matches is reported
    rep = reproduce(edited)
    assert not rep.identical and rep.differences == [{"field": "totals.duty", "saved": 24000, "now": 23900}]


def test_reproduce_pins_the_saved_edition() -> None:
    """A saved quote is recomputed on its own edition, whatever the tables in use give for the date. The
    record says 2025_04_01 (RCEP China 5.1 % for 6109.10-020, 4.6 % in 2026_07_09): ¥300,000 of T-shirts
    from CN claiming epa_rcep_china pays 300,000 × 5.1 % = 15,300 under it; an edition that is not
    available is refused, naming tariff_edition."""
    from xlduty import compute

    line = {"hs_code": "6109.10-020", "origin": "CN", "value": 300000, "claim_preference": "epa_rcep_china"}
    pinned = compute({"date": "2026-11-20", "simplified": "never", "tariff_edition": "2025_04_01", "lines": [line]})
    assert (pinned.tariff_edition, pinned.totals.duty) == ("2025_04_01", 15300)
    assert compute({"date": "2026-11-20", "simplified": "never", "lines": [line]}).totals.duty == 13800
    saved = save(quote(tshirts()))
    assert reproduce(saved).identical
    with pytest.raises(InputError) as e:
        reproduce({**saved, "tariff_edition": "2031_04_01"})
    assert e.value.field == "tariff_edition" and "2031_04_01" in e.value.message


def test_customs_weekly_rate_is_recorded_with_its_week() -> None:
    """Without fx the customs weekly rate of the date is used and recorded: USD for 2019-05-01 is 111.97 (week
    2019-04-28 – 05-04). A 10 % line of USD 1,000 CIF: 111,970 → duty 11,100 (111,000 × 10 %)."""
    q = quote({"date": "2019-05-01", "currency": "USD", "incoterm": "CIF",
               "lines": [{"rate": "10%", "quantity": 10, "unit_price": 100}]})
    assert q.fx == [{"currency": "USD", "yen_per_unit": "111.97", "published": "111.97", "per_units": 1,
                     "week_start": "2019-04-28", "week_end": "2019-05-04", "source": "customs"}]
    assert q.lines[0].customs_value == 111970 and q.result.totals.duty == 11100


def test_permit_comparison_finds_fx_treatment_and_rounding() -> None:
    """Quote: T-shirts FOB VN without claim, taxes 23,900 / 27,000 / 7,600.
    - Same figures → match.
    - Permit at USD 152: value 2,160 × 152 = 328,320 → duty 328,000 × 7.4 % = 24,272 → 24,200; ct_base
      floor_1000(352,520) = 352,000 → 27,456 → 27,400; loc 27,400 × 22/78 = 7,728 → 7,700: explained by FX.
    - Permit 0 / 25,200 / 7,100 = the EPA figures (see the comparison test): explained by the treatment.
    - Duty 24,000 (100 more), the rest equal: within the truncation steps → rounding."""
    saved = save(quote(tshirts(origin="VN")))
    assert compare_with_permit(saved, {"duty": 23900, "national_ct": 27000, "local_ct": 7600}).matches
    fx = compare_with_permit(saved, {"duty": 24200, "national_ct": 27400, "local_ct": 7700, "fx": {"USD": 152}})
    assert not fx.matches
    assert [d["field"] for d in fx.differences] == ["duty", "national_ct", "local_ct"]
    assert any(c.startswith("FX: the permit converts USD at 152") for c in fx.causes)
    assert any("permit's FX rates, the quote gives the permit's figures" in c for c in fx.causes)
    epa = compare_with_permit(saved, {"duty": 0, "national_ct": 25200, "local_ct": 7100})
    assert any("claim:epa_vietnam" in c for c in epa.causes)
    rounding = compare_with_permit(saved, {"duty": 24000, "national_ct": 27000, "local_ct": 7600})
    assert rounding.differences == [{"field": "duty", "quote": 23900, "permit": 24000, "difference": 100}]
    assert any(c.startswith("rounding") for c in rounding.causes)
    with pytest.raises(InputError) as e:
        compare_with_permit(saved, {"date": "2026-11-20"})
    assert e.value.field == "permit"


# --- the example and the command line -----------------------------------------------------------------------

def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlduty.quote.cli", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_example_quote_through_the_cli() -> None:
    """examples/quote.json: FOB Ho Chi Minh City, USD at 150.25, both lines from VN with the EPA claimed (free).
    Goods: T-shirts 500 × 3.20 = 1,600; bags 300 × 4.50 = 1,350 (Σ 2,950).
    Freight 380 by weight 110 : 90 → 209.00 / 171.00. Insurance 12 by value: 6.508 / 5.492 → 6.50 / 5.49 (11.99),
    the cent to the larger remainder (.0084, line 0) → 6.51 / 5.49.
    Customs value: 1,815.51 × 150.25 = 272,780.3775; 1,526.49 × 150.25 = 229,355.1225 (> ¥200,000: general).
    CT: 272,000 × 7.8 % = 21,216, loc 21,200 × 22/78 = 5,979; 229,000 → 17,862, loc 17,800 × 22/78 = 5,020;
        payable nat floor_100(39,078) = 39,000, loc floor_100(10,999) = 10,900.
    Domestic: 通関料 11,800 (exempt) by value 1,600 : 1,350 → 6,400 / 5,400; delivery 8,000 + 800 CT by weight
        → 4,400 / 3,600 (CT 440 / 360).
    Cost view: 272,780.3775 + 6,400 + 4,400 = 283,580.3775 → 567.16 per unit; 229,355.1225 + 5,400 + 3,600 =
        238,355.1225 → 794.52. Price at 35 % on price, up to ¥10: 567.1608 ÷ 0.65 = 872.56 → 880;
        794.5171 ÷ 0.65 = 1,222.33 → 1,230. Quote 440,000 + 369,000 = 809,000; CT on it 80,900.
    Cash at import: CT 49,900 + 通関料 11,800 = 61,700."""
    p = _cli("examples/quote.json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    t = out["totals"]
    assert (t["customs_value"], t["duty"], t["national_ct"], t["local_ct"]) == ("502135.5", 0, 39000, 10900)
    assert (t["landed_cost"], t["price_total"], t["sales_ct"]) == ("521935.5", 809000, 80900)
    assert out["cash_at_import"]["total"] == 61700
    assert [c["shares"] for c in out["charges"]] == [[209, 171], ["6.51", "5.49"]]
    assert [(ln["unit_cost"], ln["price"]) for ln in out["lines"]] == [("567.16", 880), ("794.52", 1230)]
    assert [ln["rate"] for ln in out["lines"]] == ["無税", "無税"]
    assert out["tariff_edition"] == "2026_07_09" and out["record"]["format"] == "xlduty-quote/1"
    assert out["declaration"]["lines"][0]["freight"] == 209


def test_cli_bad_input_exits_2_naming_the_field() -> None:
    bad = json.dumps(tshirts() | {"lines": [{"hs_code": "6109.10-020", "quantity": 5, "unit_price": "x"}]})
    p = _cli("-", stdin=bad)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip().splitlines() == ["xlduty: lines[0].unit_price: a number is required (digits and a "
                                             "decimal point, no thousands separators)"]
    p = _cli("-", stdin=json.dumps(tshirts() | {"lines": [{"hs_code": "9999.99", "quantity": 1, "unit_price": 1}]}))
    assert p.returncode == 2 and p.stderr.startswith("xlduty: lines[0].hs_code: ")


def test_cli_reverse_and_reproduce(tmp_path: Path) -> None:
    """The reverse search and a reproduction through the CLI: USD 2.00 for a cost of 347.90 (see above)."""
    src = tmp_path / "q.json"
    src.write_text(json.dumps(tshirts()), encoding="utf-8")
    p = _cli(str(src), "--reverse", "--target-cost", "347.90")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert (out["unit_price"], out["unit_cost"], out["next_unit_price"], out["next_unit_cost"]) == (
        2, "347.9", "2.01", "349.5")
    saved = tmp_path / "saved.json"
    assert _cli(str(src), "--save", str(saved)).returncode == 0
    p = _cli(str(saved), "--reproduce")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["identical"] is True


def test_cli_hook_for_the_xlduty_command() -> None:
    """What xlduty/cli.py adds: ``add_parser(sub)`` registers ``quote`` with ``func=run``."""
    import argparse

    from xlduty.quote import cli

    parser = argparse.ArgumentParser(prog="xlduty")
    cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["quote", "examples/quote.json", "--compare"])
    assert args.func is cli.run and args.compare


def test_personal_use_cannot_recover_consumption_tax() -> None:
    """仕入税額控除 is for a business's taxable purchases (消費税法30条): asking for it with personal use is refused."""
    with pytest.raises(InputError) as e:
        quote({"date": "2026-11-20", "lines": [{"hs_code": "6109.10-020", "origin": "CN", "quantity": 1,
                                                 "unit_price": 1000}],
               "options": {"personal_use": True, "ct_recoverable": True}})
    assert e.value.field == "options" and "personal_use" in e.value.message


def test_a_banded_line_without_a_customs_quantity_asks_for_the_quote_field() -> None:
    """Copper 7402.00-030 (a band per kg) without a quantity in kg: the engine asks for its ``quantity``; a quote's
    ``quantity`` is the pieces sold, so the quote asks for its ``customs_quantity``. The core says which field it
    asks for beside the text (``AskField``), which stays the plain text in JSON and across processes (pickle)."""
    import pickle

    from xlduty.core.classification import AskField
    from xlduty.core.engine import compute

    band = "line 0: 7402.00-030 covers only goods 「課税価格が1キログラムにつき490円を超えるもの」: give "
    tail = " above 0 in kg to check that it is the right line"
    engine = compute({"date": "2026-11-20", "simplified": "never",
                      "lines": [{"hs_code": "7402.00-030", "origin": "CL", "value": 600000}]})
    asked = [w for w in engine.warnings if isinstance(w, AskField)]
    assert asked == [f"{band}a quantity{tail}"] and asked[0].field == "quantity"
    assert json.loads(json.dumps(engine.warnings)) == engine.warnings
    again = pickle.loads(pickle.dumps(asked[0]))
    assert (again, again.field, again.naming("q")) == (asked[0], "quantity", f"{band}q{tail}")
    q = quote({"date": "2026-11-20", "incoterm": "CIF", "currency": "JPY",
               "lines": [{"description": "copper", "hs_code": "7402.00-030", "origin": "CL", "quantity": "1",
                          "unit_price": "600000"}]})
    assert [w for w in q.warnings if "7402.00-030 covers" in w] == [f"{band}customs_quantity{tail}"]
