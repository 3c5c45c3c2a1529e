"""Price-dependent duties (issue 16): the gate-price system for pork (差額関税, 関税暫定措置法 別表第1の3 and
第1の3の2) and the lines banded by customs value per unit, worked by hand on real lines of the 2026_07_09 edition.

Unless a docstring says otherwise: date 2026-11-01, values in yen, simplified tariff off, origin US without a claim
(so the national 暫定 rate applies: the WTO cells of these lines are parenthesised), 10,000 kg. The reference prices
are those of rules/reference_prices.yaml: 部分肉 546.53 yen/kg, 枝肉 409.90 (both V-sec); 豚肉加工品 409.90 and
live pigs 22,134.60 yen/head (both derived, U). So:

    部分肉  従量税適用限度価格 546.53 − 482 = 64.53;  分岐点価格 546.53 / 1.043 = 523.998082…
    枝肉    従量税適用限度価格 409.90 − 361 = 48.90;  分岐点価格 409.90 / 1.043 = 393.000958…
    豚肉加工品 分岐点価格 409.90 × 1.5 / (0.6 + 0.085) = 897.591240…
    live pigs 従量税適用限度価格 22,134.60 − 19,508 = 2,626.60;  分岐点価格 22,134.60 / 1.085 = 20,400.552995…

Pork is food: consumption tax at the reduced 6.24 % + 22/78 (CA 1111).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlduty import compute
from xlduty.core.errors import InputError

DATE = "2026-11-01"
CUT_LIMIT, CUT_GATE = Fraction("546.53") - 482, Fraction("546.53") / Fraction("1.043")
CARCASS_LIMIT, CARCASS_GATE = Fraction("409.90") - 361, Fraction("409.90") / Fraction("1.043")


def _decl(hs: str, value: int | Decimal, quantity: int | Decimal | None = 10000, *, unit: str | None = "kg",
          date: str = DATE, origin: str = "US", **kw: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"hs_code": hs, "value": value, "origin": origin, **kw}
    if quantity is not None:
        line["quantity"] = quantity
    if unit is not None:
        line["unit"] = unit
    return {"date": date, "simplified": "never", "lines": [line]}


def _band_warnings(result: Any) -> list[str]:
    return [w for w in result.warnings if "covers only" in w]


def _step(result: Any, name: str) -> str:
    return next(s.to_dict()["formula"] for s in result.lines[0].explanation if s.step == name)


# --- the three bands, cuts and carcasses: national rates -------------------------------------------------------

@pytest.mark.parametrize(("hs", "value", "duty", "kind", "band"), [
    # cuts 〔1〕: 500,000 / 10,000 = 50 ≤ 64.53 → 482 yen/kg; 482 has 3 digits, so the quantity keeps one decimal
    # (通達13の4-2(2)): 10,000.0 × 482 = 4,820,000.
    ("0203.19-023", 500000, 4820000, "specific", "〔1〕"),
    # cuts 〔2〕, 399 yen or more: 4,000,000 / 10,000 = 400; 64.53 < 400 ≤ 523.998…: (546.53 − 400) × 10,000 =
    # 146.53 × 10,000 = 1,465,300.
    ("0203.19-025", 4000000, 1465300, "gate_price", "〔2〕"),
    # cuts 〔2〕, under 399 yen: 3,000,000 / 10,000 = 300: (546.53 − 300) × 10,000 = 2,465,300.
    ("0203.19-024", 3000000, 2465300, "gate_price", "〔2〕"),
    # cuts 〔3〕: 6,000,000 / 10,000 = 600 > 523.998…: 4.3 % × 6,000,000 = 258,000.
    ("0203.19-022", 6000000, 258000, "ad_valorem", "〔3〕"),
    # carcasses 〔1〕: 400,000 / 10,000 = 40 ≤ 48.90 → 361 yen/kg × 10,000.0 = 3,610,000.
    ("0203.21-020", 400000, 3610000, "specific", "〔1〕"),
    # carcasses 〔2〕, 299.25 yen or more: 3,000,000 / 10,000 = 300; 48.90 < 300 ≤ 393.000…: (409.90 − 300) × 10,000 =
    # 1,099,000.
    ("0203.21-032", 3000000, 1099000, "gate_price", "〔2〕"),
    # carcasses 〔2〕, under 299.25: 2,000,000 / 10,000 = 200: (409.90 − 200) × 10,000 = 2,099,000.
    ("0203.21-031", 2000000, 2099000, "gate_price", "〔2〕"),
    # carcasses 〔3〕: 4,000,000 / 10,000 = 400 > 393.000…: 4.3 % = 172,000.
    ("0203.21-040", 4000000, 172000, "ad_valorem", "〔3〕"),
    # fresh cuts (0203.12) and offal priced as cuts (0206.49) read the same 部分肉 price
    ("0203.12-025", 4000000, 1465300, "gate_price", "〔2〕"),
    ("0206.49-095", 4000000, 1465300, "gate_price", "〔2〕"),
])
def test_each_band_of_cuts_and_carcasses(hs: str, value: int, duty: int, kind: str, band: str) -> None:
    r = compute(_decl(hs, value))
    line = r.lines[0]
    assert (line.duty, line.rate_kind, line.rate_column) == (duty, kind, "rate_temporary")
    assert _band_warnings(r) == []
    step = _step(r, "value_band")
    assert f": {band}, national duty" in step and "the declared line is the line of this value" in step
    assert ("基準輸入価格 546.53 yen per kg (別表第1の3の2 第3項第1号" in step
            or "基準輸入価格 409.90 yen per kg (別表第1の3の2 第2項第1号" in step)


def test_difference_band_totals_and_explanation() -> None:
    """0203.19-025, 4,000,000 for 10,000 kg: duty 1,465,300 (above). CT base floor_1000(4,000,000 + 1,465,300) =
    5,465,000 × 6.24 % = 341,016 → 341,000; local floor_100(341,016) = 341,000 × 22/78 = 96,179.4 → 96,179 → 96,100.
    Total 1,465,300 + 341,000 + 96,100 = 1,902,400. The explanation shows the unit value, the band and why, the
    reference price with its article, and the duty per kg."""
    r = compute(_decl("0203.19-025", 4000000))
    assert (r.totals.duty, r.totals.national_ct, r.totals.local_ct, r.totals.total) == (1465300, 341000, 96100,
                                                                                         1902400)
    step = _step(r, "value_band")
    for said in ("customs value per kg = 4,000,000 / 10,000 = 400",
                 "部分肉: 基準輸入価格 546.53 yen per kg (別表第1の3の2 第3項第1号, in force from 2001-04-01; V-sec)",
                 "64.53 < 400 ≤ 分岐点価格 523.998082…: 〔2〕, national duty per kg = 546.53 − 400 = 146.53",
                 "従量税適用限度価格 = 546.53 − 482 = 64.53; 分岐点価格 = 546.53 / 1.043 = 523.998082…"):
        assert said in step
    assert "(546.53-課税価格)/kg → 146.53円/kg × 10000 = 1,465,300" in _step(r, "duty_line")
    assert r.lines[0].rate == "1キログラムにつき部分肉に係る基準輸入価格と課税価格との差額"


@pytest.mark.parametrize(("hs", "value", "quantity", "warned"), [
    # exactly at the 従量税適用限度価格: 645,300 / 10,000 = 64.53: 〔1〕 (以下), not 〔2〕 (を超え)
    ("0203.19-023", 645300, 10000, False),
    ("0203.19-024", 645300, 10000, True),
    # exactly at the 分岐点価格: 546,530 / 1,043 = 523.998082… = 546.53 / 1.043 exactly: 〔2〕 (以下), not 〔3〕
    ("0203.19-025", 546530, 1043, False),
    ("0203.19-022", 546530, 1043, True),
    # 524.00 is above 523.998…, not at "524": 〔3〕
    ("0203.19-022", 5240000, 10000, False),
    ("0203.19-025", 5240000, 10000, True),
    # the statistical split at 399 yen inside 〔2〕: 399 itself is 「399円以上」
    ("0203.19-025", 3990000, 10000, False),
    ("0203.19-024", 3990000, 10000, True),
])
def test_band_edges_are_exact(hs: str, value: int, quantity: int, warned: bool) -> None:
    """The band check compares exact quotients: no rounding of the unit value or of the 分岐点価格 can move a line."""
    assert bool(_band_warnings(compute(_decl(hs, value, quantity)))) is warned


# --- never silent: the declared line does not fit the unit value ----------------------------------------------

def test_misdeclared_band_names_band_threshold_value_and_the_line_that_fits() -> None:
    """Cuts declared under 0203.19-022 (above the 分岐点価格) at 400 yen/kg: charged 4.3 % = 172,000 under the line
    declared, while the law's line, 0203.19-025, charges (546.53 − 400) × 10,000 = 1,465,300 (+1,293,300). The
    warning names the band, its threshold in figures, the unit value and the line that fits."""
    r = compute(_decl("0203.19-022", 4000000))
    assert r.lines[0].duty == 172000
    assert _band_warnings(r) == [
        "line 0: 0203.19-022 covers only goods "
        "「〔3〕課税価格が1キログラムにつき、部分肉に係る分岐点価格を超えるもの」 (分岐点価格 = 546.53 / 1.043 = "
        "523.998082…), and this line's customs value is 400 yen per kg: 0203.19-025 applies, with its own rate"]
    assert compute(_decl("0203.19-025", 4000000)).lines[0].duty - r.lines[0].duty == 1293300


def test_the_parent_band_under_a_statistical_split_is_checked() -> None:
    """0203.19-024 is 「課税価格が1キログラムにつき、399円未満」 under the 〔2〕 heading: 50 yen/kg is under 399 but not
    above the 従量税適用限度価格 64.53, so 〔1〕 (0203.19-023, 482 yen/kg) applies. Before, only "under 399" was
    read."""
    r = compute(_decl("0203.19-024", 500000))
    [warning] = _band_warnings(r)
    assert ("「〔2〕課税価格が1キログラムにつき、部分肉に係る従量税適用限度価格を超え、部分肉に係る分岐点価格以下」"
            in warning)
    assert "(従量税適用限度価格 = 546.53 − 482 = 64.53; 分岐点価格 = 546.53 / 1.043 = 523.998082…)" in warning
    assert warning.endswith("customs value is 50 yen per kg: 0203.19-023 applies, with its own rate")


def test_no_quantity_asks_for_it() -> None:
    """A difference line needs the quantity to compute at all (an error naming the field); a 〔3〕 line computes its
    4.3 % but says its band could not be checked."""
    with pytest.raises(InputError) as e:
        compute(_decl("0203.19-025", 4000000, None, unit=None))
    assert e.value.field == "lines[0].quantity"
    r = compute(_decl("0203.19-022", 6000000, None, unit=None))
    assert r.lines[0].duty == 258000
    assert any("0203.19-022 covers only goods 「〔3〕" in w and "give a quantity above 0 in kg" in w
               for w in r.warnings)


# --- EPA rates on gate-price lines ----------------------------------------------------------------------------

@pytest.mark.parametrize(("hs", "value", "origin", "claim", "column", "duty"), [
    # CPTPP 2026 (year 9): 「（524円×1.002-課税価格）/kg又は54円/kgのうちいずれか低い税率」. 400 yen/kg:
    # min(525.048 − 400, 54) = 54 → 540,000, lower than the national 1,465,300.
    ("0203.19-025", 4000000, "CA", True, "epa_cptpp", 540000),
    # 500 yen/kg: min(25.048, 54) × 10,000 = 250,480.
    ("0203.19-025", 5000000, "CA", True, "epa_cptpp", 250480),
    # the 〔3〕 line's own cell: 0.2 % × 6,000,000 = 12,000.
    ("0203.19-022", 6000000, "US", True, "epa_us", 12000),
    # carcasses, EU: min(393 × 1.002 − 300, 40.50) = min(93.786, 40.50) → 40.50 × 10,000 = 405,000.
    ("0203.21-032", 3000000, "DE", "epa_eu", "epa_eu", 405000),
    # Mexico in quota: 535.53 − 400 = 135.53 × 10,000 = 1,355,300 (the agreement's own reference price).
    ("0203.19-025", 4000000, "MX", "epa_mexico", "epa_mexico", 1355300),
])
def test_an_epa_claim_on_a_gate_price_line(hs: str, value: int, origin: str, claim: bool | str, column: str,
                                           duty: int) -> None:
    extra = {"in_quota": True} if origin == "MX" else {}
    r = compute(_decl(hs, value, origin=origin, claim_preference=claim, **extra))
    assert (r.lines[0].rate_column, r.lines[0].duty) == (column, duty)


def test_an_epa_claim_is_no_longer_refused_where_the_national_rate_is_worded() -> None:
    """1602.41-011 ham, 1,000 kg at 500,000 (500 yen/kg ≤ 897.59…): national 409.90 × 1.5 − 0.6 × 500 = 314.85 yen/kg
    → 314,850 (the price U: derived). CPTPP 2026: (課税価格 × (1.007 − 51.46/897.59) + 51.46) − 課税価格 per kg =
    51.46 × (1 − 500/897.59) + 0.007 × 500 = 26.294350… → 26,294. Before issue 16 the worded national cell was refused
    before the EPA column was read."""
    national = compute(_decl("1602.41-011", 500000, 1000))
    assert (national.lines[0].duty, national.lines[0].rate_kind) == (314850, "gate_price")
    assert any("豚肉加工品 基準輸入価格 409.90" in u for u in national.lines[0].unverified)
    r = compute(_decl("1602.41-011", 500000, 1000, origin="CA", claim_preference=True))
    assert (r.lines[0].rate_column, r.lines[0].duty) == ("epa_cptpp", 26294)


def test_live_pigs_per_head_and_the_cptpp_cell_read_per_head() -> None:
    """0103.92-012, 10 head at 100,000 (10,000 yen/head; 2,626.60 < 10,000 ≤ 20,400.55…): national (22,134.60 −
    10,000) × 10 = 121,346 (the price U). CPTPP prints
    「（20,400.55円×1.037-課税価格）/頭又は8,534.75円/kgの…低い税率」: per kg beside per head (EU and UK print
    円/頭), read per head (rules/reference_prices.yaml, U): min(21,155.370… − 10,000, 8,534.75) = 8,534.75 × 10 =
    85,347.5 → 85,347."""
    r = compute(_decl("0103.92-012", 100000, 10, unit="head"))
    assert r.lines[0].duty == 121346
    claimed = compute(_decl("0103.92-012", 100000, 10, unit="head", origin="CA", claim_preference="epa_cptpp"))
    assert (claimed.lines[0].rate_column, claimed.lines[0].duty) == ("epa_cptpp", 85347)
    assert any("read 「（20,400.55円×1.037-課税価格）/頭又は8,534.75円/頭" in u for u in claimed.lines[0].unverified)


# --- the emergency measure (暫定法7条の6) ------------------------------------------------------------------------

def test_the_emergency_measure_is_not_known_to_be_in_force_and_says_so() -> None:
    """On 2026-11-01 no record says the measure is in force: the normal prices, and the line says it relies on that;
    a declaration that states it (pork_emergency: false) carries no such note."""
    r = compute(_decl("0203.19-025", 4000000))
    assert any(u.startswith("暫定法7条の6 (pork emergency measure) not known to be in force on 2026-11-01")
               for u in r.lines[0].unverified)
    stated = compute({**_decl("0203.19-025", 4000000), "pork_emergency": False})
    assert stated.lines[0].duty == 1465300
    assert not any("7条の6" in u for u in stated.lines[0].unverified)


@pytest.mark.parametrize(("hs", "value", "duty"), [
    # raised 部分肉 price 681.08 (V-sec): 分岐点価格 681.08 / 1.043 = 653.000958…; 600 yen/kg declared under the
    # 〔3〕 line (its band is the normal one, > 523.998…) pays the difference: (681.08 − 600) × 10,000 = 810,800.
    ("0203.19-022", 6000000, 810800),
    # above the raised 分岐点価格: 700 yen/kg → 4.3 % = 301,000.
    ("0203.19-022", 7000000, 301000),
    # 〔2〕 at 400: (681.08 − 400) × 10,000 = 2,810,800.
    ("0203.19-025", 4000000, 2810800),
    # raised 従量税適用限度価格 681.08 − 482 = 199.08: 50 yen/kg still 482 × 10,000 = 4,820,000.
    ("0203.19-023", 500000, 4820000),
])
def test_the_emergency_measure_when_declared(hs: str, value: int, duty: int) -> None:
    r = compute({**_decl(hs, value), "pork_emergency": True})
    assert r.lines[0].duty == duty
    explained = " ".join(s.to_dict()["formula"] for s in r.lines[0].explanation)
    assert "暫定法7条の6 in force (declared: pork_emergency true)" in explained


def test_a_date_after_the_confirmed_prices_says_so() -> None:
    """別表第1の3の2 sets the prices by period; the bundled figures were confirmed to 2027-03-31 (the fiscal year of the
    newest edition). On 2027-05-01 the same figure is used, (546.53 − 400) × 10,000 = 1,465,300, and the line says it
    relies on a price not confirmed for the date."""
    r = compute(_decl("0203.19-025", 4000000, date="2027-05-01"))
    assert r.lines[0].duty == 1465300
    assert any(u.startswith("部分肉 基準輸入価格 after 2027-03-31") for u in r.lines[0].unverified)
    assert not any("after 2027-03-31" in u for u in compute(_decl("0203.19-025", 4000000)).lines[0].unverified)


def test_the_emergency_measure_on_the_record() -> None:
    """2002-09-01 lies in a recorded period (2002-08-01 to 2003-03-31, ALIC): the raised price applies without being
    declared (edition pinned, since the bundled ones start 2025). 600 yen/kg under 0203.19-022 → 810,800."""
    r = compute({**_decl("0203.19-022", 6000000, date="2002-09-01"), "tariff_edition": "2026_07_09"})
    assert r.lines[0].duty == 810800


def test_the_emergency_price_of_pork_preparations_is_not_bundled() -> None:
    """No raised price of 豚肉加工品 was found: declared in force, the national rate is refused with the field to
    give."""
    with pytest.raises(InputError) as e:
        compute({**_decl("1602.41-011", 500000, 1000), "pork_emergency": True})
    assert e.value.field == "lines[0].rate" and "別表第1の3の2 第4項第2号" in e.value.message


def test_the_rate_shown_under_the_emergency_measure_is_the_band_that_applies() -> None:
    """0203.19-022 prints 4.3 %; under 7条の6 at 600 yen/kg the duty is the difference (681.08 − 600) × 10,000 =
    810,800, and the rate shown said only "4.3% → 暫定法7条の6 …". It now shows the band that applies first; above the
    raised 分岐点価格 (700 yen/kg) that band is the 4.3 % itself: 7,000,000 × 4.3 % = 301,000."""
    r = compute({**_decl("0203.19-022", 6000000), "pork_emergency": True})
    assert r.lines[0].duty == 810800
    assert r.lines[0].rate == "4.3% → (681.08-課税価格)/kg (暫定法7条の6: 部分肉 at the raised 基準輸入価格 681.08)"
    r = compute({**_decl("0203.19-022", 7000000), "pork_emergency": True})
    assert r.lines[0].duty == 301000
    assert r.lines[0].rate == "4.3% → 4.3% (暫定法7条の6: 部分肉 at the raised 基準輸入価格 681.08)"


def test_an_epa_claim_under_the_emergency_measure_without_its_raised_price() -> None:
    """With 7条の6 in force, live pigs and 豚肉加工品 have no raised price bundled, so their national rate is unknown,
    and a claimed EPA rate was refused with it. The national rate cannot be below the law's bands at the normal price
    (each band's duty rises with the price), so a claimed rate below that floor is below the national rate and
    applies (通達3-1), marked unverified; without a claim the line is refused as before. Worked by hand (2026 edition):

    - 0103.92-012 AU, 10 head, ¥100,000 (10,000 yen/head), CPTPP: min(20,400.55 × 1.037 − 10,000 = 11,155.37…,
      8,534.75) = 8,534.75 × 10 = 85,347; floor (22,134.60 − 10,000) × 10 = 121,346.
    - 1602.41-011 US, 1,000 kg, ¥500,000 (500 yen/kg), Japan-US: 500 × (1.007 − 51.46/897.59) + 51.46 − 500 =
      26.294…/kg → 26,294; floor (1.5 × 409.90 − 0.6 × 500) × 1,000 = 314,850."""
    pigs = {**_decl("0103.92-012", 100000, 10, unit="head", origin="AU", claim_preference="epa_cptpp"),
            "pork_emergency": True}
    r = compute(pigs)
    assert (r.lines[0].duty, r.lines[0].rate_column) == (85347, "epa_cptpp")
    assert any("at the normal price it is" in n and "121,346 yen" in n for n in r.lines[0].notes)
    assert any("bounded by the normal 基準輸入価格" in u for u in r.lines[0].unverified)
    ham = {**_decl("1602.41-011", 500000, 1000, claim_preference="epa_us"), "pork_emergency": True}
    r = compute(ham)
    assert (r.lines[0].duty, r.lines[0].rate_column) == (26294, "epa_us")
    assert any("314,850 yen" in n for n in r.lines[0].notes)
    with pytest.raises(InputError) as e:   # no claim: the national rate is still needed
        compute({**ham, "lines": [{**ham["lines"][0], "claim_preference": False}]})
    assert e.value.field == "lines[0].rate" and "別表第1の3の2 第4項第2号" in e.value.message
    bare = {k: v for k, v in pigs["lines"][0].items() if k not in ("quantity", "unit", "claim_preference")}
    with pytest.raises(InputError) as e:   # nor a quantity: the same error as before, not a question of quantity
        compute({**pigs, "lines": [bare]})
    assert e.value.field == "lines[0].rate"


def test_an_epa_gate_formula_of_the_lower_of_kind_is_marked_unverified() -> None:
    """The CPTPP cell 「（524円×1.002-課税価格）/kg又は54円/kgのうちいずれか低い税率」 reads the unit value as a
    gate-price formula does, but only a rate of the gate_price kind listed "gate-price unit value" among the line's
    unverified data. 0203.19-025 AU, 10,000 kg at ¥4,000,000: min(524 × 1.002 − 400 = 125.048, 54) × 10,000 =
    540,000."""
    r = compute(_decl("0203.19-025", 4000000, origin="AU", claim_preference="epa_cptpp"))
    assert (r.lines[0].duty, r.lines[0].rate_kind) == (540000, "lower_of")
    assert any(u.startswith("gate-price unit value") for u in r.lines[0].unverified)


# --- the unit value: truncated 課税価格 or unrounded customs value ---------------------------------------------

def test_the_two_readings_of_the_unit_value_are_both_shown_when_they_differ() -> None:
    """0203.19-025, CIF 4,000,750 for 10,000 kg. Taken from the 課税価格 4,000,000: (546.53 − 400) × 10,000 = 1,465,300.
    Taken from the unrounded value: (546.53 − 400.075) × 10,000 = 1,464,550 → 1,464,500 payable. Which one Customs
    takes is not verified (rules/rounding.yaml gate_price_unit_value): the result says so with both figures."""
    r = compute(_decl("0203.19-025", 4000750))
    assert r.totals.duty == 1465300
    assert ("the duty payable is 1,465,300 with the gate-price unit value taken from the 課税価格 cut to 1,000 yen, "
            "1,464,500 if Customs takes the unrounded customs value per unit (line 0)") in " ".join(r.warnings)
    assert not [w for w in compute(_decl("0203.19-025", 4000000)).warnings if "duty payable is" in w]


# --- metals, onions: bands in figures ---------------------------------------------------------------------------

@pytest.mark.parametrize(("hs", "value", "quantity", "unit", "column", "duty"), [
    # copper 7403.11-020 (485 < v ≤ 500), 1,000 kg at 488,000: general (500 − 488) × 1,000 = 12,000 against WTO 3 % ×
    # 488,000 = 14,640: the general rate, as the WTO rate applies only if lower.
    ("7403.11-020", 488000, 1000, "kg", "rate_general", 12000),
    # the same as 1 t: 1 t = 1,000 kg, the same band and duty
    ("7403.11-020", 488000, 1, "t", "rate_general", 12000),
    # at 499 yen/kg: general (500 − 499) × 1,000 = 1,000 < WTO 14,970
    ("7403.11-020", 499000, 1000, "kg", "rate_general", 1000),
    # zinc 7901.11-020 (242 < v ≤ 250), 245 yen/kg: general (250 − 245) × 1,000 = 5,000 against WTO 4.30 × 1,000 =
    # 4,300: WTO.
    ("7901.11-020", 245000, 1000, "kg", "rate_wto", 4300),
    # lead 7801.10-020 (172 < v ≤ 180), 179 yen/kg: general 1,000 < WTO 2.70 × 1,000 = 2,700.
    ("7801.10-020", 179000, 1000, "kg", "rate_general", 1000),
])
def test_a_metal_price_band(hs: str, value: int, quantity: int, unit: str, column: str, duty: int) -> None:
    r = compute(_decl(hs, value, quantity, unit=unit, origin="CN"))
    assert (r.lines[0].rate_column, r.lines[0].duty) == (column, duty)
    assert _band_warnings(r) == []


def test_a_metal_outside_its_band_names_the_line_that_fits() -> None:
    """Copper declared under 7403.11-010 (485 yen/kg or less: 15 yen/kg) at 490 yen/kg: 7403.11-020 applies."""
    r = compute(_decl("7403.11-010", 490000, 1000, origin="CN"))
    assert _band_warnings(r) == [
        "line 0: 7403.11-010 covers only goods 「課税価格が1キログラムにつき485円以下」, and this line's customs value "
        "is 490 yen per kg: 7403.11-020 applies, with its own rate"]


@pytest.mark.parametrize(("hs", "quantity", "unit", "said"), [
    # 4202.31-100 wallets with precious trim, counted in dozens, banded per piece (6,000 yen or more): 10 dozen at
    # 600,000 = 5,000 yen per piece: outside.
    ("4202.31-100", 10, "dozen", "customs value is 5,000 yen per 個"),
    # 120 pieces: the same
    ("4202.31-100", 120, "pcs", "customs value is 5,000 yen per 個"),
    # 10 without a unit: dozens (the tariff's unit) or pieces (the band's)? Not guessed.
    ("4202.31-100", 10, None, "the tariff counts 4202.31-100 in DZ and its band is per 個: give the unit"),
    # 2309.10-092 feed, counted in tonnes, banded per kg (over 70 yen): 2 without a unit is not guessed either
    ("2309.10-092", 2, None, "the tariff counts 2309.10-092 in MT and its band is per kg: give the unit"),
])
def test_units_of_the_band_and_of_the_tariff(hs: str, quantity: int, unit: str | None, said: str) -> None:
    r = compute(_decl(hs, 600000, quantity, unit=unit, origin="CN", reduced_ct=False))
    assert any(said in w for w in _band_warnings(r))


def test_units_that_fit() -> None:
    """10 dozen wallets at 1,200,000 = 10,000 yen per piece (> 6,000), and 2 t of feed at 200,000 = 100 yen per kg
    (> 70): inside their bands."""
    assert _band_warnings(compute(_decl("4202.31-100", 1200000, 10, unit="dozen", origin="CN"))) == []
    assert _band_warnings(compute(_decl("2309.10-092", 200000, 2, unit="t", origin="CN", reduced_ct=False))) == []


def test_a_reference_price_cell_on_a_date_without_a_price_asks_for_the_rate() -> None:
    """Before 2001-04-01 no reference price is bundled: the worded cell is refused (never a zero), the band cannot be
    checked and says so, and a rate given by the user is applied (100 kg × 482 = 48,200)."""
    decl = {**_decl("0203.11-031", 20000, 100, date="2000-06-01"), "tariff_edition": "2026_07_09"}
    with pytest.raises(InputError) as e:
        compute(decl)
    assert e.value.field == "lines[0].rate" and "give the applicable rate in `rate`" in e.value.message
    decl["lines"][0]["rate"] = "482円/kg"
    r = compute(decl)
    assert r.lines[0].duty == 48200
    assert any("cannot be checked on 2000-06-01, for which no 基準輸入価格 is bundled" in w for w in r.warnings)


# --- every banded line of the bundled schedule --------------------------------------------------------------------

_MARKS = ("課税価格が1キログラムにつき", "1頭の課税価格", "課税価格が1個につき")
# the limits of the bands in words, worked by hand (module docstring), by goods and band mark: (above, at or below)
_WORDS: dict[str, dict[str, tuple[Fraction | None, Fraction | None]]] = {
    "部分肉": {"〔1〕": (None, CUT_LIMIT), "〔2〕": (CUT_LIMIT, CUT_GATE), "〔3〕": (CUT_GATE, None)},
    "枝肉": {"〔1〕": (None, CARCASS_LIMIT), "〔2〕": (CARCASS_LIMIT, CARCASS_GATE), "〔3〕": (CARCASS_GATE, None)},
    "生きている豚": {"〔1〕": (None, Fraction("2626.60")),
                 "〔2〕": (Fraction("2626.60"), Fraction("22134.60") / Fraction("1.085")),
                 "〔3〕": (Fraction("22134.60") / Fraction("1.085"), None)},
    "豚肉加工品": {"〔1〕": (None, Fraction("409.90") * Fraction(3, 2) / Fraction("0.685")),
              "〔2〕": (Fraction("409.90") * Fraction(3, 2) / Fraction("0.685"), None)},
}


def _banded(edition: str) -> list[Any]:
    """Every line of ``edition`` whose description or a heading above it limits the goods by customs value per unit,
    found from the text alone (not by the code under test)."""
    from xlduty.core.schedule import load_edition

    out = []
    for group in load_edition(edition).lines.values():
        for line in group:
            if any(m in part for part in (line.description, *line.path.split(" > ")) for m in _MARKS):
                out.append(line)
    return out


def _limits(line: Any) -> list[tuple[Fraction | None, bool, Fraction | None, bool]]:
    """The line's bands as (low, low included, high, high included), the figures read by ``value_band`` (tested on
    its own above and in test_tariff_lines.py), the words from the hand-worked table."""
    from xlduty.core.schedule import value_band

    bands = []
    for part in (line.description, *line.path.split(" > ")):
        if (figures := value_band(part)) is not None:
            bands.append((None if figures.low is None else Fraction(figures.low), figures.low_included,
                          None if figures.high is None else Fraction(figures.high), figures.high_included))
        elif "に係る" in part and any(m in part for m in _MARKS):
            goods = next(g for g in _WORDS if f"{g}に係る" in part)
            mark = next(m for m in ("〔1〕", "〔2〕", "〔3〕") if m in part)
            low, high = _WORDS[goods][mark]
            bands.append((low, False, high, True))
    return bands


def _inside(bands: list[tuple[Fraction | None, bool, Fraction | None, bool]], v: Fraction) -> bool:
    return all((low is None or v > low or (inc_low and v == low)) and (high is None or v < high or (inc_high and
                                                                                                  v == high))
               for low, inc_low, high, inc_high in bands)


def _unit(line: Any) -> str:
    text = " ".join((line.description, line.path))
    return "head" if "1頭の課税価格" in text else "pcs" if "1個につき" in text else "kg"


def _compute_at(line: Any, v: Fraction) -> Any:
    """The line computed at exactly ``v`` yen per unit (an integer value over an integer quantity of 1,000 units or
    more), or the InputError it gives."""
    times = -(-1000 // v.denominator)
    try:
        return compute({"date": DATE, "simplified": "never", "tariff_edition": line.edition, "pork_emergency": False,
                        "lines": [{"hs_code": line.hs, "value": v.numerator * times,
                                   "quantity": v.denominator * times, "unit": _unit(line), "origin": "US",
                                   "reduced_ct": False}]})
    except InputError as exc:
        return exc


@pytest.mark.parametrize("edition", ["2025_04_01", "2026_04_01", "2026_07_09"])
def test_every_banded_line_is_checked_at_its_limits(edition: str) -> None:
    """110 lines in each bundled edition limit their goods by customs value per unit (research of issue 16: 77 in
    figures, 33 in words only, 16 in both). Each is computed at each limit of its bands, just above and just below:
    none computes without its bands checked (a value_band step that says so), and the check warns exactly when the
    value is outside a band by the hand-worked limits."""
    from xlduty.core.schedule import line_bands

    lines = _banded(edition)
    assert len(lines) == 110
    checked = 0
    for line in lines:
        assert line_bands(line.path, line.description), f"{line.hs}: band not read"
        bands = _limits(line)
        assert bands, line.hs
        points = {limit + d for low, _a, high, _b in bands for limit in (low, high) if limit is not None
                  for d in (Fraction(-1, 100), Fraction(0), Fraction(1, 100))}
        for v in sorted(p for p in points if p > 0):
            _assert_checked(line, bands, v)
            checked += 1
    assert checked == 474


def _assert_checked(line: Any, bands: list[tuple[Fraction | None, bool, Fraction | None, bool]], v: Fraction) -> None:
    r = _compute_at(line, v)
    assert not isinstance(r, InputError), (line.hs, v, r)
    step = next((s.to_dict()["formula"] for s in r.lines[0].explanation if s.step == "value_band"), None)
    assert step is not None, (line.hs, v)
    warned = [w for w in r.warnings if f"{line.hs} covers only goods" in w and "customs value is" in w]
    assert bool(warned) is not _inside(bands, v), (line.hs, v, warned)
    assert ("the declared line is the line of this value" in step) is _inside(bands, v), (line.hs, v)


BANDED = _banded("2026_07_09")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BANDED), st.fractions(min_value=Fraction(1, 100), max_value=30000, max_denominator=1000))
def test_no_banded_line_computes_without_its_band_checked(line: Any, v: Fraction) -> None:
    """Any banded line of the edition in force at any customs value per unit: the band is checked (a value_band
    step), and a warning names the line exactly when the value is outside its bands (hand-worked limits)."""
    _assert_checked(line, _limits(line), v)


@pytest.mark.parametrize("edition", ["2025_04_01", "2026_04_01", "2026_07_09"])
def test_the_rule_data_agrees_with_the_schedule(edition: str) -> None:
    """rules/reference_prices.yaml repeats the rates its formulas use (従量税適用限度価格 = price − the 〔1〕 rate;
    分岐点価格 = price / (1 + the rate above it)): they are the 暫定 cells of those lines in every bundled edition;
    each cell it reads otherwise is printed so in some edition."""
    from xlduty.core.engine import engine
    from xlduty.core.schedule import WordBand, line_bands, load_edition

    gate = engine().rules.gate
    seen = set()
    for line in _banded(edition):
        word = next((b for b in line_bands(line.path, line.description) if isinstance(b, WordBand)), None)
        if word is None:
            continue
        goods = gate.goods[word.goods]
        unit = "頭" if goods.unit == "head" else "kg"
        text = line.text("rate_temporary")
        if word.low is None and word.high == "limit":
            assert text == f"{goods.specific:,}円/{unit}", (line.hs, text)
        elif word.high is None:
            assert text == f"{goods.ad_valorem}%", (line.hs, text)
        else:
            assert "基準輸入価格" in text, (line.hs, text)
        seen.add(word.goods)
    assert seen == set(gate.goods)
    printed = {line.text(fix.column) for fix in gate.corrections for code in fix.lines
               for line in load_edition(edition).lines[code.replace(".", "").replace("-", "")]}
    assert printed & {t for fix in gate.corrections for t in fix.printed}


def test_the_emergency_measure_is_an_option_in_excel_and_in_quotes() -> None:
    """`pork_emergency=yes` in a worksheet function's options, and `options.pork_emergency` of a quote, reach the
    declaration field. 0203.19-025 (部分肉, between the limits), ¥4,000,000 for 10,000 kg = 400 yen/kg:
    normal reference price 546.53 → (546.53 − 400) × 10,000 = ¥1,465,300; under 暫定法7条の6 the raised price
    681.08 → (681.08 − 400) × 10,000 = ¥2,810,800. Left out, the record of rules/reference_prices.yaml decides
    (no measure recorded for 2026): the normal figure."""
    from xlduty.excel import functions as f
    from xlduty.excel.options import parse_options
    from xlduty.quote import quote

    args = ("0203.19-025", 4000000, "US", 10000, "2026-11-20")
    assert f.DUTY(*args, "unit=kg; pork_emergency=yes") == 2810800
    assert f.DUTY(*args, "unit=kg; pork_emergency=no") == 1465300
    assert f.DUTY(*args, "unit=kg") == 1465300
    assert parse_options("pork_emergency").declaration == {"pork_emergency": True}
    with pytest.raises(InputError, match=r"options\.pork_emergency"):
        parse_options("pork_emergency=perhaps")
    base = {"date": "2026-11-20", "currency": "JPY", "incoterm": "CIF",
            "lines": [{"description": "豚部分肉", "hs_code": "0203.19-025", "origin": "US", "quantity": 10000,
                       "unit": "kg", "unit_price": 400, "customs_quantity": 10000, "customs_unit": "kg"}]}
    assert quote({**base, "options": {"pork_emergency": True}}).result.totals.duty == 2810800
    assert quote(base).result.totals.duty == 1465300


def test_a_cell_refuses_a_line_outside_its_band() -> None:
    """Issue 16's own case in Excel: 0203.19-022 (4.3 %, for cuts above the 分岐点価格 523.998… yen/kg) at 400 yen/kg.
    On the command line the figure comes with a warning naming 0203.19-025; a cell cannot carry one, so DUTY, DUTY_RATE,
    DUTY_TOTALS (naming the row) and QUOTE_TOTALS (naming the quote's line) show the error instead of 172,000
    (4,000,000 × 4.3 %). At 600 yen/kg the line fits: 6,000,000 × 4.3 % = 258,000. Without a quantity the band cannot
    be checked: the figure stays, as on the command line, with its warning (in the quote's warnings cell first, before
    the long list of unverified rule data, and marked as cut)."""
    from xlduty.excel.functions import DUTY, DUTY_EXPLAIN, DUTY_LINES, DUTY_RATE, DUTY_TOTALS
    from xlduty.excel.quote_functions import QUOTE_TOTALS

    on = "2026-11-20"
    for cell in (DUTY("0203.19-022", 4000000, "US", 10000, on), DUTY_RATE("0203.19-022", 4000000, "US", 10000, on)):
        assert isinstance(cell, str) and cell.startswith("#エラー 品目番号(hs_code)"), cell
        assert "0203.19-025 applies" in cell and "400 yen per kg" in cell
    assert DUTY("0203.19-022", 6000000, "US", 10000, on) == 258000
    assert DUTY("0203.19-025", 4000000, "US", 10000, on) == 1465300
    assert "0203.19-025 applies" in "\n".join(map(str, DUTY_EXPLAIN("0203.19-022", 4000000, "US", 10000, on)))
    total = DUTY_TOTALS([["6109.10-020"], ["0203.19-022"]], [[300000], [4000000]], "US", [[1], [10000]], on, None,
                        "duty")
    assert isinstance(total, str) and "0203.19-025 applies" in total and total.endswith("（2行目）"), total
    lines = DUTY_LINES([["6109.10-020"], ["0203.19-022"]], [[300000], [6000000]], "US", [[1], [10000]], on)
    assert lines == [[22200], [258000]]   # 300,000 × 7.4 % (WTO) and 258,000
    row = ["pork", "0203.19-022", "US", 1000, 4000, 10000, None]
    quote = QUOTE_TOTALS([[*row, 10000, "kg"]], None, None, on, "CIF", "JPY", None, 0.2, None, None, "duty")
    assert isinstance(quote, str) and "0203.19-025 applies" in quote and "明細 1行目" in quote, quote
    assert QUOTE_TOTALS([[*row[:4], 6000, *row[5:], 10000, "kg"]], None, None, on, "CIF", "JPY", None, 0.2, None,
                        None, "duty") == 258000
    warned = QUOTE_TOTALS([row], None, None, on, "CIF", "JPY", None, 0.2, None, None, "warnings")
    assert warned.startswith("明細 1行目: 0203.19-022 covers only goods"), warned
    assert "give customs_quantity above 0 in kg" in warned, warned   # the quote's field, not the engine's quantity
    assert len(warned) == 255 and warned.endswith("…")


def test_a_cell_refuses_a_misfit_only_where_the_code_decides_the_figure() -> None:
    """The refusal above applies where the code's own rate makes the figure. Not for DUTY_RATE without a value (it
    asks the rate at a nominal ¥1,000,000, not the line's value: 0203.19-022's 4.3 % 暫定, 0703.10-011's 8.5 % WTO);
    not for a line exempt as de minimis (0703.10-011 at ¥10,000 for 100 kg: 0 and 少額免税 whichever onion line
    applies), under a relief (reimport: 0) or at a rate the user gave (6,000,000 × 3 % = 180,000, copper at 600
    yen/kg under the ≤485 line). QUOTE_TREATMENTS refuses as QUOTE_TOTALS does, and QUOTE_REVERSE refuses a price at
    which the line leaves its band (0203.19-025 at 6,000 yen per 10 kg carton: 600 yen/kg, a 0203.19-022 price)."""
    from xlduty.excel.functions import CONSUMPTION_TAX, DUTY, DUTY_RATE, EXEMPTION
    from xlduty.excel.quote_functions import QUOTE_REVERSE, QUOTE_TREATMENTS

    on = "2026-11-20"
    assert DUTY_RATE("0203.19-022", None, "US", 10000, on, "unit=kg") == "4.3% (暫定税率)"
    assert DUTY_RATE("0703.10-011", None, "US", 10000, on) == "8.5% (WTO協定税率)"
    assert (DUTY("0703.10-011", 10000, "US", 100, on), CONSUMPTION_TAX("0703.10-011", 10000, "US", 100, on),
            EXEMPTION("0703.10-011", 10000, "US", 100, on)) == (0, 0, "定率法14条18号 少額免税")
    assert DUTY("7403.11-010", 6000000, "US", 10000, on, "relief=reimport; unit=kg") == 0
    assert DUTY("7403.11-010", 6000000, "US", 10000, on, "rate=3%") == 180000
    assert str(DUTY("7403.11-010", 6000000, "US", 10000, on)).startswith("#エラー 品目番号(hs_code): 7403.11-0")
    row = ["pork", "0203.19-022", "US", 1000, 4000, 10000, None, 10000, "kg"]
    spill = QUOTE_TREATMENTS([row], None, None, on, "CIF", "JPY", None, 0.2, None, None)
    assert len(spill) == 1 and "0203.19-025 applies, not 0203.19-022" in spill[0][0], spill
    fits = ["pork", "0203.19-025", "US", 1000, 4000, 10000, None, 10000, "kg"]
    found = QUOTE_REVERSE([fits], None, None, on, "CIF", "JPY", None, 0.2, None, None, 1, 6000, "unit_cost")
    assert "at the unit price found (6000): 0203.19-022 applies, not 0203.19-025" in found, found
