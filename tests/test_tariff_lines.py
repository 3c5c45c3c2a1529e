"""Real tariff lines of the 2026_07_09 edition, one per rate kind, worked by hand.

Rates quoted from /work/shared/data/raw/jp_tariff/tariff_lines_2026_07_09.csv. Unless a docstring says
otherwise: value in yen, date 2026-11-01, tv = floor_1000(value), CT per line as in CA 1111
(nat = floor(ct_base × rate), loc = floor(floor_100(nat) × 22/78)), totals floor_100.
Food in chapters 02, 04, 07, 08, 09, 20 takes the reduced 6.24 %.
"""

from __future__ import annotations

from typing import Any

import pytest

from xlduty import compute
from xlduty.core.errors import InputError

DATE = "2026-11-01"


def _one(hs: str, value: int, date: str = DATE, simplified: str = "auto", **kw: Any) -> dict[str, Any]:
    return {"date": date, "simplified": simplified, "lines": [{"hs_code": hs, "value": value, **kw}]}


def _totals(decl: dict[str, Any]) -> tuple[int, int, int, int]:
    t = compute(decl).totals
    return t.duty, t.national_ct, t.local_ct, t.total


def test_edition_is_2026_07_09() -> None:
    """A 2026-11-01 declaration is computed on the newest edition in force (2026-07-09)."""
    assert compute(_one("6109.10-020", 300000, origin="CN")).tariff_edition == "2026_07_09"


def test_ad_valorem_wto() -> None:
    """6109.10-020 (cotton T-shirts, other), CN: general 11.2 %, WTO 7.4 % → WTO.

    duty 300,000 × 7.4% = 22,200. ct_base floor_1000(322,200) = 322,000; nat 25,116 → 25,100;
    loc floor_100(25,116) = 25,100 × 22/78 = 7,079.5 → 7,079 → 7,000. total 54,300.
    """
    r = compute(_one("6109.10-020", 300000, origin="CN"))
    ln = r.lines[0]
    assert (ln.rate, ln.rate_kind, ln.rate_column) == ("7.4%", "ad_valorem", "rate_wto")
    assert (ln.duty, ln.ct_base, ln.national_ct, ln.local_ct) == (22200, 322000, 25116, 7079)
    assert _totals(_one("6109.10-020", 300000, origin="CN")) == (22200, 25100, 7000, 54300)


def test_free_general_rate() -> None:
    """0901.11-000 green coffee, BR: general 無税 (WTO "(無税)" is not applied). Reduced CT (food).

    duty 0. ct_base 300,000; nat 300,000 × 6.24% = 18,720 → 18,700;
    loc 18,700 × 22/78 = 5,274.4 → 5,274 → 5,200. total 23,900.
    """
    decl = _one("0901.11-000", 300000, origin="BR")
    ln = compute(decl).lines[0]
    assert (ln.duty, ln.rate_kind, ln.rate_column, ln.ct_rate) == (0, "free", "rate_general", "6.24%")
    assert _totals(decl) == (0, 18700, 5200, 23900)


def test_specific_per_kg_with_quantity_truncation() -> None:
    """0210.20-000 beef (salted/dried), US, 123.456 kg: general 190円/kg, WTO 161.50円/kg.

    General: 190 has 3 integer digits → 1 decimal: 123.4 × 190 = 23,446.
    WTO: 161.50 has 3 integer digits → 1 decimal: 123.4 × 161.50 = 19,929.1 → 19,929 (lower: WTO).
    duty floor_100(19,929) = 19,900. ct_base floor_1000(300,000 + 19,900) = 319,000;
    nat 319,000 × 6.24% = 19,905.6 → 19,905 → 19,900; loc 19,900 × 22/78 = 5,612.8 → 5,612 → 5,600.
    total 19,900 + 19,900 + 5,600 = 45,400.
    """
    decl = _one("0210.20-000", 300000, origin="US", quantity="123.456", unit="kg")
    ln = compute(decl).lines[0]
    assert (ln.duty, ln.rate_kind, ln.rate_column, ln.rate) == (19929, "specific", "rate_wto", "161.50円/kg")
    assert _totals(decl) == (19900, 19900, 5600, 45400)


def test_specific_rate_needs_quantity() -> None:
    """A per-kg rate without a quantity is an InputError on lines[0].quantity (never a zero duty)."""
    with pytest.raises(InputError) as e:
        compute(_one("0210.20-000", 300000, origin="US"))
    assert e.value.field == "lines[0].quantity"


def test_specific_quantity_in_grams_is_converted() -> None:
    """123,456 g = 123.456 kg: same duty as the kg case (19,929; see test above)."""
    ln = compute(_one("0210.20-000", 300000, origin="US", quantity=123456, unit="g")).lines[0]
    assert ln.duty == 19929


@pytest.mark.parametrize(
    ("kg", "duty", "totals"),
    [
        # 1,000 kg: WTO max(300,000 × 29.8% = 89,400; 23 × 1,000 = 23,000) = 89,400
        #   (general max(105,000; 27,000) = 105,000, higher). ct_base floor_1000(389,400) = 389,000;
        #   nat × 6.24% = 24,273.6 → 24,273 → 24,200; loc 24,200 × 22/78 = 6,825.6 → 6,825 → 6,800.
        (1000, 89400, (89400, 24200, 6800, 120400)),
        # 5,000 kg: WTO max(89,400; 23 × 5,000 = 115,000) = 115,000 (general max(105,000; 135,000)).
        #   ct_base 415,000; nat 25,896 → 25,800; loc 25,800 × 22/78 = 7,276.9 → 7,276 → 7,200.
        (5000, 115000, (115000, 25800, 7200, 148000)),
    ],
)
def test_higher_of_orange_juice(kg: int, duty: int, totals: tuple[int, int, int, int]) -> None:
    """2009.11-190 frozen orange juice, US: WTO "29.8%又は23円/kgのうちいずれか高い税率"."""
    decl = _one("2009.11-190", 300000, origin="US", quantity=kg, unit="kg")
    ln = compute(decl).lines[0]
    assert (ln.duty, ln.rate_kind, ln.rate_column) == (duty, "higher_of", "rate_wto")
    assert _totals(decl) == totals


def test_higher_of_needs_a_mass_not_litres() -> None:
    """The juice rate is per kg: litres cannot be converted → InputError on lines[0].unit."""
    with pytest.raises(InputError) as e:
        compute(_one("2009.11-190", 300000, origin="US", quantity=1000, unit="l"))
    assert e.value.field == "lines[0].unit"


def test_higher_of_footwear_per_pair() -> None:
    """6403.20-012 leather footwear (out of quota), US, 10 pairs, 50,000 yen, simplified never.

    WTO "30%又は4,300円/足": max(15,000; 43,000) = 43,000 (general "60%又は4,800円/足" gives 48,000).
    ct_base floor_1000(93,000) = 93,000; nat 7,254 → 7,200; loc 7,200 × 22/78 = 2,030.8 → 2,030 → 2,000.
    total 43,000 + 7,200 + 2,000 = 52,200.
    """
    decl = _one("6403.20-012", 50000, simplified="never", origin="US", quantity=10, unit="pair")
    ln = compute(decl).lines[0]
    assert (ln.duty, ln.rate_kind) == (43000, "higher_of")
    assert _totals(decl) == (43000, 7200, 2000, 52200)


@pytest.mark.parametrize(
    ("litres", "duty"),
    [
        # WTO = max(min(15% × 300,000 = 45,000; 125 × l); 67 × l); general = max(min(63,900; 156.80 × l); 93 × l)
        (100, 12500),    # min(45,000; 12,500) = 12,500 ≥ 6,700 (general 15,680)
        (540, 45000),    # min(45,000; 67,500) = 45,000 ≥ 36,180 (general 63,900)
        (2000, 134000),  # min(45,000; 250,000) = 45,000 < 67 × 2,000 = 134,000 → minimum (general 186,000)
    ],
)
def test_lower_of_with_minimum_still_wine(litres: int, duty: int) -> None:
    """2204.21-020 still wine ≤ 2 l, US.

    WTO "15%又は125円/lのうちいずれか低い税率 ただしその税率が67円/lを下回る場合は67円/l".
    """
    ln = compute(_one("2204.21-020", 300000, simplified="never", origin="US", quantity=litres, unit="l")).lines[0]
    assert (ln.duty, ln.rate_kind, ln.rate_column) == (duty, "lower_of", "rate_wto")


def test_lower_of_minimum_totals() -> None:
    """Wine 2,000 l (duty 134,000 above): ct_base floor_1000(434,000) = 434,000; standard rate (liquor):
    nat 33,852 → 33,800; loc 33,800 × 22/78 = 9,533.3 → 9,533 → 9,500. total 134,000 + 33,800 + 9,500 = 177,300.
    """
    decl = _one("2204.21-020", 300000, simplified="never", origin="US", quantity=2000, unit="l")
    assert _totals(decl) == (134000, 33800, 9500, 177300)


def test_compound_milk() -> None:
    """0401.10-190 milk, US, 1,000.7 kg: general 25%＋63円/kg, WTO 21.3%＋54円/kg.

    54 and 63 have 2 integer digits → whole kg: 1,000.
    WTO 63,900 + 54,000 = 117,900 (general 75,000 + 63,000 = 138,000).
    ct_base floor_1000(417,900) = 417,000; nat × 6.24% = 26,020.8 → 26,020 → 26,000;
    loc 26,000 × 22/78 = 7,333.3 → 7,333 → 7,300. total 117,900 + 26,000 + 7,300 = 151,200.
    """
    decl = _one("0401.10-190", 300000, origin="US", quantity="1000.7", unit="kg")
    ln = compute(decl).lines[0]
    assert (ln.duty, ln.rate_kind, ln.rate_column) == (117900, "compound", "rate_wto")
    assert _totals(decl) == (117900, 26000, 7300, 151200)


def test_quota_in_and_out() -> None:
    """2009.11-110 orange juice, AU, claim epa_australia = "関税割当数量以内のもの 12.8%" (WTO 25.5%).

    In quota: 300,000 × 12.8% = 38,400; ct_base floor_1000(338,400) = 338,000; nat 21,091.2 → 21,091 → 21,000;
    loc 21,000 × 22/78 = 5,923.1 → 5,923 → 5,900; total 65,300.
    Out of quota: the cell does not cover → WTO 25.5% = 76,500; ct_base 376,000; nat 23,462.4 → 23,462 → 23,400;
    loc 23,400 × 22/78 = 6,600; total 106,500.
    """
    base = {"origin": "AU", "claim_preference": "epa_australia"}
    inside = _one("2009.11-110", 300000, in_quota=True, **base)
    outside = _one("2009.11-110", 300000, in_quota=False, **base)
    a, b = compute(inside).lines[0], compute(outside).lines[0]
    assert (a.duty, a.rate_kind, a.rate_column) == (38400, "quota", "epa_australia")
    assert (b.duty, b.rate_column) == (76500, "rate_wto")
    assert _totals(inside) == (38400, 21000, 5900, 65300)
    assert _totals(outside) == (76500, 23400, 6600, 106500)


@pytest.mark.parametrize(
    ("date", "in_quota", "duty"),
    [
        ("2026-08-03", True, 0),        # row (1) Apr–Sep: 関税割当数量以内 無税
        ("2026-08-03", False, 30000),   # その他のもの 10% × 300,000 (< WTO 20%)
        ("2026-11-02", True, 0),        # row (2) Oct–Mar: 無税
        ("2026-11-02", False, 60000),   # その他のもの 20% × 300,000 (< WTO 25%)
    ],
)
def test_quota_two_tier_banana_thailand(date: str, in_quota: bool, duty: int) -> None:
    """0803.10-100 bananas, TH, epa_thailand: "関税割当数量以内のもの 無税 その他のもの 10% | 20%"."""
    ln = compute(_one("0803.10-100", 300000, date=date, origin="TH", claim_preference="epa_thailand",
                      in_quota=in_quota)).lines[0]
    assert (ln.duty, ln.rate_column) == (duty, "epa_thailand")


def test_conditional_cell_needs_condition() -> None:
    """6207.99-220 WTO "人造繊維製のもの 9.1% その他のもの 10%": without condition → InputError on .condition."""
    with pytest.raises(InputError) as e:
        compute(_one("6207.99-220", 300000, origin="CN"))
    assert e.value.field.endswith("condition")
    assert e.value.field == "lines[0].condition"


def test_conditional_cell_with_condition() -> None:
    """condition 人造繊維 → 9.1%: duty 27,300; ct_base floor_1000(327,300) = 327,000; nat 25,506 → 25,500;
    loc 25,500 × 22/78 = 7,192.3 → 7,192 → 7,100; total 59,900.
    condition other → 10%: 30,000; ct_base 330,000; nat 25,740 → 25,700; loc 25,700 × 22/78 = 7,248.7 → 7,248
    → 7,200; total 62,900.
    """
    man_made = _one("6207.99-220", 300000, origin="CN", condition="人造繊維")
    other = _one("6207.99-220", 300000, origin="CN", condition="other")
    assert compute(man_made).lines[0].rate_kind == "conditional"
    assert _totals(man_made) == (27300, 25500, 7100, 59900)
    assert _totals(other) == (30000, 25700, 7200, 62900)


def test_range_cell_asks_for_rate() -> None:
    """0403.20-110 yoghurt: temporary 35 %, WTO "●21%〜（35%）" (a range) → InputError on lines[0].rate."""
    with pytest.raises(InputError) as e:
        compute(_one("0403.20-110", 300000, origin="US", quantity=100, unit="kg"))
    assert e.value.field == "lines[0].rate"
    assert "rate" in e.value.message


def test_range_cell_with_rate_given() -> None:
    """rate 25 % given: 75,000; ct_base 375,000 × 6.24% = 23,400; loc 23,400 × 22/78 = 6,600; total 105,000."""
    decl = _one("0403.20-110", 300000, origin="US", rate="25%")
    assert _totals(decl) == (75000, 23400, 6600, 105000)
    assert compute(decl).lines[0].rate_column == "override"


@pytest.mark.parametrize("claim", [True, "epa_eu"])
def test_epa_claimed(claim: bool | str) -> None:
    """6109.10-020, FR, EPA claimed: epa_eu 無税 < WTO 7.4 %.

    duty 0; ct_base 300,000; nat 23,400; loc 23,400 × 22/78 = 6,600. total 30,000.
    """
    decl = _one("6109.10-020", 300000, origin="FR", claim_preference=claim)
    ln = compute(decl).lines[0]
    assert (ln.duty, ln.rate_column) == (0, "epa_eu")
    assert _totals(decl) == (0, 23400, 6600, 30000)


def test_epa_not_claimed_gives_wto() -> None:
    """Same line, FR, claim_preference false: WTO 7.4 % → 22,200; total 54,300 (as for CN)."""
    decl = _one("6109.10-020", 300000, origin="FR", claim_preference=False)
    assert compute(decl).lines[0].rate_column == "rate_wto"
    assert _totals(decl) == (22200, 25100, 7000, 54300)


def test_epa_claim_true_uses_the_origins_own_agreement() -> None:
    """CN, claim true: RCEP (China) 4.6 % → 13,800; ct_base floor_1000(313,800) = 313,000; nat 24,414 → 24,400;
    loc 24,400 × 22/78 = 6,882.1 → 6,882 → 6,800. total 45,000.
    """
    decl = _one("6109.10-020", 300000, origin="CN", claim_preference=True)
    assert compute(decl).lines[0].rate_column == "epa_rcep_china"
    assert _totals(decl) == (13800, 24400, 6800, 45000)


def test_epa_named_column_origin_not_covered() -> None:
    """CN is not a party to the Japan–EU EPA → InputError on lines[0].claim_preference."""
    with pytest.raises(InputError) as e:
        compute(_one("6109.10-020", 300000, origin="CN", claim_preference="epa_eu"))
    assert e.value.field == "lines[0].claim_preference"


def test_epa_unknown_column() -> None:
    """An unknown column name is an InputError on claim_preference."""
    with pytest.raises(InputError) as e:
        compute(_one("6109.10-020", 300000, origin="FR", claim_preference="epa_atlantis"))
    assert e.value.field == "lines[0].claim_preference"


@pytest.mark.parametrize(("origin", "column", "totals"), [
    # LK: GSP 10 % → 30,000; ct_base 330,000 × 6.24% = 20,592 → 20,500; loc 20,500 × 22/78 = 5,782.1 → 5,782
    #   → 5,700; total 56,200.
    ("LK", "rate_gsp", (30000, 20500, 5700, 56200)),
    # ET (LDC): 無税; ct_base 300,000 × 6.24% = 18,720 → 18,700; loc 18,700 × 22/78 = 5,274.4 → 5,274 → 5,200.
    ("ET", "rate_ldc", (0, 18700, 5200, 23900)),
    # PE: GSP 10 % is barred because the Japan–Peru EPA rate (無税) is not higher (暫定法施行令25条4項) → EPA.
    ("PE", "epa_peru", (0, 18700, 5200, 23900)),
])
def test_gsp_ldc_and_epa_priority(origin: str, column: str, totals: tuple[int, int, int, int]) -> None:
    """0901.21-000 roasted coffee, claim true: general 20 %, WTO 12 %, GSP 10 %, LDC 無税, Peru EPA 無税."""
    decl = _one("0901.21-000", 300000, simplified="never", origin=origin, claim_preference=True)
    assert compute(decl).lines[0].rate_column == column
    assert _totals(decl) == totals


def test_non_wto_origin_gets_national_rate() -> None:
    """KP (not a WTO member, no 便益関税): general 11.2 % → 33,600. ct_base floor_1000(333,600) = 333,000;
    nat 25,974 → 25,900; loc 25,900 × 22/78 = 7,305.1 → 7,305 → 7,300. total 66,800.
    """
    decl = _one("6109.10-020", 300000, origin="KP")
    assert compute(decl).lines[0].rate_column == "rate_general"
    assert _totals(decl) == (33600, 25900, 7300, 66800)


@pytest.mark.parametrize(
    ("date", "rate", "totals"),
    [
        # row (1) Apr–Sep, WTO 20 %: 60,000; ct_base 360,000 × 6.24% = 22,464 → 22,400;
        #   loc 22,400 × 22/78 = 6,317.9 → 6,317 → 6,300.
        ("2026-09-30", "20%", (60000, 22400, 6300, 88700)),
        # row (2) Oct–Mar, WTO 25 %: 75,000; ct_base 375,000 × 6.24% = 23,400; loc 6,600.
        ("2026-10-01", "25%", (75000, 23400, 6600, 105000)),
        ("2027-03-31", "25%", (75000, 23400, 6600, 105000)),
        ("2026-08-03", "20%", (60000, 22400, 6300, 88700)),
    ],
)
def test_seasonal_banana_rows(date: str, rate: str, totals: tuple[int, int, int, int]) -> None:
    """0803.10-100 fresh bananas, EC, not claimed: two rows of the same code chosen by the date."""
    decl = _one("0803.10-100", 300000, date=date, origin="EC")
    ln = compute(decl).lines[0]
    assert (ln.rate, ln.rate_column) == (rate, "rate_wto")
    assert _totals(decl) == totals


def test_six_digit_code_whose_lines_share_rates() -> None:
    """0704.10 (cauliflower / broccoli: both lines general 5 %, WTO 3 %) resolves.

    3% × 300,000 = 9,000; ct_base 309,000 × 6.24% = 19,281.6 → 19,281 → 19,200;
    loc 19,200 × 22/78 = 5,415.4 → 5,415 → 5,400. total 33,600.
    """
    decl = _one("0704.10", 300000, origin="US")
    assert compute(decl).lines[0].hs_code.startswith("0704.10-")
    assert _totals(decl) == (9000, 19200, 5400, 33600)


@pytest.mark.parametrize(("code", "candidates"), [("6109.10", ["6109.10-010", "6109.10-020"]),
                                                   ("0803.10", ["0803.10-100", "0803.10-200"])])
def test_six_digit_code_with_different_rates_lists_candidates(code: str, candidates: list[str]) -> None:
    """A subheading whose lines differ is an InputError on hs_code naming the 9-digit lines."""
    with pytest.raises(InputError) as e:
        compute(_one(code, 300000, origin="CN"))
    assert e.value.field == "lines[0].hs_code"
    for c in candidates:
        assert c in e.value.message


def test_unknown_line_hints_at_the_subheading() -> None:
    """6109.10-999 does not exist: the error lists the lines of 6109.10."""
    with pytest.raises(InputError) as e:
        compute(_one("6109.10-999", 300000, origin="CN"))
    assert e.value.field == "lines[0].hs_code"
    assert "6109.10-020" in e.value.message


@pytest.mark.parametrize("code", ["6109.10-020", "6109.10.020", "610910020", " 6109.10-020 "])
def test_hs_code_formats(code: str) -> None:
    """All spellings name 6109.10-020: WTO 7.4 % → 22,200 (see test_ad_valorem_wto)."""
    ln = compute(_one(code, 300000, origin="CN")).lines[0]
    assert (ln.hs_code, ln.duty) == ("6109.10-020", 22200)


def test_hs_code_that_lost_its_leading_zero() -> None:
    """"90121000" (Excel dropped the zero of 0901.21-000) → roasted coffee, WTO 12 %: 36,000."""
    ln = compute(_one("90121000", 300000, origin="US")).lines[0]
    assert (ln.hs_code, ln.duty) == ("0901.21-000", 36000)


def test_hs_code_before_the_oldest_edition() -> None:
    """No bundled edition before 2025-04-01: an HS code is an InputError asking for `rate`."""
    with pytest.raises(InputError) as e:
        compute(_one("6109.10-020", 300000, date="2024-06-03", origin="CN"))
    assert e.value.field == "lines[0].hs_code"


def test_gate_price_onions_general_rate_is_lower_than_wto() -> None:
    """0703.10-012 onions of 67–73.70 yen/kg: general (73.70円−課税価格)/kg, WTO 8.5 %. 1,000 kg at 70,000 yen
    (70.00 yen/kg), CN: general (73.70 − 70.00) × 1,000 = 3,700 against WTO 70,000 × 8.5 % = 5,950: the WTO rate
    applies only if lower (通達3-1), so 3,700. Onions are food: CT base floor_1000(73,700) = 73,000 × 6.24 % =
    4,555.2 → 4,555 → 4,500; loc floor_100(4,555) = 4,500 × 22/78 = 1,269.2 → 1,269 → 1,200. Total 9,400."""
    decl = _one("0703.10-012", 70000, simplified="never", origin="CN", quantity=1000, unit="kg")
    ln = compute(decl).lines[0]
    assert (ln.rate_kind, ln.rate_column, ln.duty, ln.ct_rate) == ("gate_price", "rate_general", 3700, "6.24%")
    assert any(u.startswith("gate-price unit value: ") for u in ln.unverified)   # rules/rounding.yaml, U
    assert _totals(decl) == (3700, 4500, 1200, 9400)


@pytest.mark.parametrize(("origin", "kind", "column", "totals"), [
    # NZ is named in the CPTPP cell's branch: free. CT base 100,000 × 6.24 % = 6,240 → 6,200;
    #   loc 6,200 × 22/78 = 1,748.7 → 1,748 → 1,700; total 7,900.
    ("NZ", "party", "epa_cptpp", (0, 6200, 1700, 7900)),
    # CA is a CPTPP party the branch does not name: the claim fails, temporary 35 % + 120円/kg applies:
    #   35,000 + 100 × 120 = 47,000; base 147,000 × 6.24 % = 9,172.8 → 9,172 → 9,100;
    #   loc 9,100 × 22/78 = 2,566.6 → 2,566 → 2,500; total 58,600.
    ("CA", "compound", "rate_temporary", (47000, 9100, 2500, 58600)),
])
def test_party_branch_of_a_cptpp_cell(origin: str, kind: str, column: str, totals: tuple[int, int, int, int]) -> None:
    """0404.10-125 whey, CPTPP cell （オーストラリア及びニュージーランドに対する待遇） 無税: 100 kg, 100,000 yen."""
    decl = _one("0404.10-125", 100000, simplified="never", origin=origin, quantity=100, unit="kg",
                claim_preference="epa_cptpp")
    ln = compute(decl).lines[0]
    assert (ln.rate_kind, ln.rate_column) == (kind, column)
    assert _totals(decl) == totals


def test_reference_price_rate_is_computed_and_a_given_rate_still_wins() -> None:
    """0203.11-031 pork carcasses under 299.25 yen/kg: the temporary rate is the gap to a reference price in words
    (差額関税). Until issue 16 it was refused (lines[0].rate); it is now computed from the 枝肉 基準輸入価格 409.90 of
    rules/reference_prices.yaml: 100 kg at 20,000 yen (200 yen/kg, inside the line's bands: 48.90 < 200 < 299.25) →
    (409.90 − 200) × 100 = 20,990. Given as 482円/kg the user's rate applies → 48,200; no band warning. (A date with no
    reference price still asks for the rate: tests/test_gate_prices.py.)"""
    line = compute(_one("0203.11-031", 20000, simplified="never", origin="US", quantity=100, unit="kg")).lines[0]
    assert (line.duty, line.rate_kind, line.rate_column) == (20990, "gate_price", "rate_temporary")
    given = compute(_one("0203.11-031", 20000, simplified="never", origin="US", quantity=100, unit="kg",
                         rate="482円/kg"))
    assert given.lines[0].duty == 48200
    assert not [w for w in given.warnings if "covers only" in w]


@pytest.mark.parametrize(("description", "band"), [
    ("(2)課税価格が1キログラムにつき67円を超え73円70銭以下のもの", ("67", False, "73.70", True, "kg")),
    ("− 課税価格が1キログラムにつき、299円25銭未満のもの", (None, False, "299.25", False, "kg")),
    ("− 課税価格が1キログラムにつき3,600円以上のもの", ("3600", True, None, False, "kg")),
    ("3 課税価格が1キログラムにつき490円を超えるもの", ("490", False, None, False, "kg")),
    ("1 財布（…のうち、課税価格が1個につき6,000円を超えるもの）", ("6000", False, None, False, "piece")),
    ("X 課税価格が1キログラムにつき100円以上200円未満のもの", ("100", True, "200", False, "kg")),
    # 2106.90-282: the line is the goods NOT over 257 yen/kg
    ("II しよ糖の含有量が全重量の85％以上のもの（…及び課税価格が1キログラムにつき257円を超えるものを除く。）",
     (None, False, "257", True, "kg")),
])
def test_value_band_read_from_the_description(description: str, band: tuple[Any, ...]) -> None:
    """The customs value per unit a line is limited to, in figures (銭 are hundredths of a yen)."""
    from decimal import Decimal

    from xlduty.core.schedule import value_band

    found = value_band(description)
    assert found is not None
    expected = tuple(Decimal(v) if isinstance(v, str) and v[0].isdigit() else v for v in band)
    assert (found.low, found.low_included, found.high, found.high_included, found.unit) == expected


def test_value_band_in_words_is_not_read() -> None:
    from xlduty.core.schedule import value_band

    assert value_band("*〔3〕課税価格が1キログラムにつき、枝肉に係る分岐点価格を超えるもの") is None
    assert value_band("Tシャツ") is None


def test_a_line_banded_by_value_warns_when_the_value_is_outside() -> None:
    """0703.10-012 covers onions of 67–73.70 yen/kg. At 80,000 yen for 1,000 kg (80 yen/kg) the gate price gives
    0, but 0703.10-013 applies: both lines of the declaration say so, every time (no remembered kind skips it).
    At 70 yen/kg nothing is said. 7402.00-030 (copper over 490 yen/kg) without a quantity asks for one."""
    onions = {"hs_code": "0703.10-012", "origin": "CN", "quantity": 1000, "unit": "kg"}
    outside = compute({"date": DATE, "simplified": "never", "lines": [{**onions, "value": 80000}] * 2})
    said = ("0703.10-012 covers only goods 「課税価格が1キログラムにつき67円を超え73円70銭以下」, and this line's "
            "customs value is 80 yen per kg: 0703.10-013 applies, with its own rate")   # the line named: issue 16
    assert [w for w in outside.warnings if "covers only" in w] == [f"line 0: {said}", f"line 1: {said}"]
    assert said in outside.lines[1].notes
    inside = compute({"date": DATE, "simplified": "never", "lines": [{**onions, "value": 70000}]})
    assert not [w for w in inside.warnings if "covers only" in w]
    copper = compute(_one("7402.00-030", 600000, simplified="never", origin="CL"))
    assert any("give a quantity above 0 in kg to check that it is the right line" in w for w in copper.warnings)


@pytest.mark.parametrize(("code", "value", "warned"), [
    ("7403.19-011", 60000, True),    # the band is on its heading: 「1 課税価格が1キログラムにつき485円以下のもの」
    ("7403.19-011", 40000, False),   # 400 yen/kg
    ("2106.90-282", 30000, True),    # 300 yen/kg: the line excludes goods over 257 yen/kg
    ("2106.90-282", 20000, False),
])
def test_bands_on_headings_and_exclusions(code: str, value: int, warned: bool) -> None:
    """100 kg at ``value`` yen: a band written on the heading above a line, or as an exclusion (…を除く), is checked
    as the line's own."""
    r = compute(_one(code, value, simplified="never", origin="CN", quantity=100, unit="kg", reduced_ct=False))
    assert bool([w for w in r.warnings if "covers only" in w]) is warned


def test_a_quantity_too_small_to_divide_is_not_a_crash() -> None:
    """1E-999999999 kg: the value per kg overflows Decimal; the band cannot be checked, and the line says so."""
    from decimal import Decimal

    r = compute(_one("7403.11-030", 1000, simplified="never", origin="CN", quantity=Decimal("1E-999999999"),
                     unit="kg"))
    assert any("cannot be checked against it" in w for w in r.warnings)
