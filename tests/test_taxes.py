"""Consumption tax (standard / reduced / history), liquor tax (酒税) and other excises in the CT base.

Rates: 1997-04-01..2014-03-31 4 % + local 25/100; 2014-04-01..2019-09-30 6.3 % + 17/63; from 2019-10-01
7.8 % (reduced 6.24 %) + 22/78. Liquor tax per kL (reference §8): wine 100,000; beer 181,000 until
2026-09-30, 155,000 from 2026-10-01; whisky 370,000 + 10,000 per whole degree over 37.
"""

from __future__ import annotations

from typing import Any

import pytest

from xlduty import compute
from xlduty.core.errors import InputError

DATE = "2026-11-01"


def _one(date: str = DATE, **line: Any) -> dict[str, Any]:
    return {"date": date, "simplified": "never", "lines": [line]}


def _totals(decl: dict[str, Any]) -> tuple[int, int, int, int, int]:
    t = compute(decl).totals
    return t.duty, t.national_ct, t.local_ct, t.excise, t.total


def test_roasted_coffee_is_reduced_rate() -> None:
    """0901.21-000 roasted coffee, BR, 100,000: WTO 12 % → 12,000; reduced 6.24 %.

    ct_base 112,000; nat 112,000 × 6.24% = 6,988.8 → 6,988 → 6,900;
    loc floor_100(6,988) = 6,900 × 22/78 = 1,946.2 → 1,946 → 1,900. total 12,000 + 6,900 + 1,900 = 20,800.
    """
    decl = _one(hs_code="0901.21-000", origin="BR", value=100000)
    ln = compute(decl).lines[0]
    assert (ln.reduced_ct, ln.ct_rate, ln.national_ct, ln.local_ct) == (True, "6.24%", 6988, 1946)
    assert _totals(decl) == (12000, 6900, 1900, 0, 20800)


def test_reduced_rate_can_be_refused() -> None:
    """reduced_ct false (e.g. not for human consumption): 112,000 × 7.8% = 8,736 → 8,700;
    loc 8,700 × 22/78 = 2,453.8 → 2,453 → 2,400. total 12,000 + 8,700 + 2,400 = 23,100.
    """
    decl = _one(hs_code="0901.21-000", origin="BR", value=100000, reduced_ct=False)
    assert compute(decl).lines[0].ct_rate == "7.8%"
    assert _totals(decl) == (12000, 8700, 2400, 0, 23100)


def test_wine_liquor_tax_in_the_ct_base() -> None:
    """2204.21-020, FR, EU EPA claimed (無税), 300,000 yen, 540 l fruit_wine on 2026-11-01.

    liquor tax 540 × 100,000 / 1,000 = 54,000.
    ct_base floor_1000(300,000 + 0 + 54,000) = 354,000; nat 27,612 → 27,600;
    loc floor_100(27,612) = 27,600 × 22/78 = 7,784.6 → 7,784 → 7,700.
    total 0 + 27,600 + 7,700 + 54,000 = 89,300.
    """
    decl = _one(hs_code="2204.21-020", origin="FR", value=300000, claim_preference=True,
                liquor={"category": "fruit_wine", "litres": 540, "abv": 13})
    ln = compute(decl).lines[0]
    assert (ln.duty, ln.excise, ln.ct_base, ln.ct_rate) == (0, 54000, 354000, "7.8%")
    assert _totals(decl) == (0, 27600, 7700, 54000, 89300)


def test_liquor_tax_total_is_cut_to_100_yen() -> None:
    """Two lines of 5.25 l wine: 5.25 × 100 = 525 each; Σ 1,050 → excise payable 1,000."""
    wine = {"rate": "無税", "value": 20000, "liquor": {"category": "fruit_wine", "litres": "5.25", "abv": 12}}
    r = compute({"date": DATE, "simplified": "never", "lines": [wine, wine]})
    assert [ln.excise for ln in r.lines] == [525, 525]
    assert r.totals.excise == 1000


@pytest.mark.parametrize(("abv", "per_kl"), [
    ("40.5", 400000),   # 370,000 + 10,000 × floor(40.5 − 37) = 370,000 + 30,000
    ("40", 400000),     # reference §8: 400,000 at 40 %
    ("37", 370000),     # 370,000 at 37 %
    ("41", 410000),     # 370,000 + 4 × 10,000
])
def test_whisky_rate_counts_whole_degrees(abv: str, per_kl: int) -> None:
    """1,000 l of whisky: the liquor tax equals the per-kL rate."""
    decl = _one(hs_code="2208.30-000", origin="GB", value=5000000,
                liquor={"category": "whisky", "litres": 1000, "abv": abv})
    assert compute(decl).lines[0].excise == per_kl


def test_whisky_totals() -> None:
    """2208.30-000 whisky (general 無税), GB, 200,000 yen, 70 l at 40.5 %: 70 × 400,000 / 1,000 = 28,000.

    ct_base floor_1000(200,000 + 28,000) = 228,000; nat 17,784 → 17,700;
    loc floor_100(17,784) = 17,700 × 22/78 = 4,992.3 → 4,992 → 4,900. total 28,000 + 17,700 + 4,900 = 50,600.
    """
    decl = _one(hs_code="2208.30-000", origin="GB", value=200000,
                liquor={"category": "whisky", "litres": 70, "abv": "40.5"})
    assert _totals(decl) == (0, 17700, 4900, 28000, 50600)


@pytest.mark.parametrize(("date", "totals"), [
    # 1,000 l × 181,000 / 1,000 = 181,000; ct_base floor_1000(481,000) = 481,000; nat 37,518 → 37,500;
    #   loc 37,500 × 22/78 = 10,576.9 → 10,576 → 10,500; total 229,000.
    ("2026-09-30", (0, 37500, 10500, 181000, 229000)),
    # 1,000 l × 155,000 / 1,000 = 155,000; ct_base 455,000; nat 35,490 → 35,400;
    #   loc 35,400 × 22/78 = 9,984.6 → 9,984 → 9,900; total 200,300.
    ("2026-10-01", (0, 35400, 9900, 155000, 200300)),
])
def test_beer_rate_changes_on_2026_10_01(date: str, totals: tuple[int, int, int, int, int]) -> None:
    """2203.00-000 beer (WTO 無税), DE, 300,000 yen, 1,000 l."""
    decl = _one(date, hs_code="2203.00-000", origin="DE", value=300000,
                liquor={"category": "beer", "litres": 1000, "abv": 5})
    assert _totals(decl) == totals


def test_whisky_needs_abv() -> None:
    """A strength-rated category without abv → InputError on lines[0].liquor.abv."""
    with pytest.raises(InputError) as e:
        compute(_one(hs_code="2208.30-000", origin="GB", value=200000, liquor={"category": "whisky", "litres": 70}))
    assert e.value.field == "lines[0].liquor.abv"


def test_unknown_liquor_category() -> None:
    """An unknown category → InputError on lines[0].liquor.category."""
    with pytest.raises(InputError) as e:
        compute(_one(rate="無税", value=200000, liquor={"category": "mead", "litres": 70, "abv": 12}))
    assert e.value.field == "lines[0].liquor.category"


@pytest.mark.parametrize(("category", "abv", "excise", "name"), [
    # 10 l each, on 2026-11-01. 果実酒 100,000/kL → 1,000.
    ("果実酒", 13, 1000, "果実酒"),
    ("Fruit Wine", 13, 1000, "果実酒"),
    ("ｆｒｕｉｔ＿ｗｉｎｅ", 13, 1000, "果実酒"),   # full-width
    # ウイスキー (and ウィスキー, whiskey, bourbon) 40 度: 370,000 + 3 × 10,000 = 400,000/kL → 4,000.
    ("ウィスキー", 40, 4000, "ウイスキー"),
    ("whiskey", 40, 4000, "ウイスキー"),
    ("Bourbon", 40, 4000, "ウイスキー"),
    # 甘味果実酒 at 12 度: 120,000 → 1,200; 梅酒 is a リキュール (酒税法3条), 12 度: 120,000 → 1,200.
    ("甘味果実酒", 12, 1200, "甘味果実酒"),
    ("梅酒", 12, 1200, "リキュール"),
    # ビール from 2026-10-01: 155,000 → 1,550; 清酒 / 日本酒 100,000 → 1,000.
    ("ビール", 5, 1550, "ビール"),
    ("日本酒", 15, 1000, "清酒"),
    # 焼酎 may be either shochu category; both are 200,000 + 10,000 per degree over 20 (25 度: 250,000 → 2,500),
    # so the tax is the same and it is accepted, saying so.
    ("焼酎", 25, 2500, "連続式蒸留焼酎"),
    # 発泡酒: four categories, all 155,000 from 2026-10-01 → 1,550 (and refused before: next test).
    ("発泡酒", 5, 1550, "発泡酒（麦芽比率50%以上）"),
])
def test_liquor_categories_by_their_legal_names(category: str, abv: int, excise: int, name: str) -> None:
    """The category may be the key, the name of 酒税法3条 (with its spellings) or an English word that means that
    category only (issue 16)."""
    r = compute(_one(rate="無税", value=100000, liquor={"category": category, "litres": 10, "abv": abv}))
    assert r.lines[0].excise == excise
    step = next(s.to_dict()["formula"] for s in r.lines[0].explanation if s.step == "excise_line")
    assert step.startswith(f"liquor tax {name}")


@pytest.mark.parametrize(("category", "date", "listed"), [
    ("wine", DATE, ["fruit_wine (果実酒)", "sweet_fruit_wine (甘味果実酒)", "other_sparkling (その他の発泡性酒類"]),
    ("ワイン", DATE, ["fruit_wine (果実酒)", "sweet_fruit_wine (甘味果実酒)"]),
    # soju at 12 度: shochu 200,000, liqueur 120,000 (rice wine, all three at 100,000, is accepted: taxed alike)
    ("soju", DATE, ["shochu_continuous (連続式蒸留焼酎)", "shochu_single (単式蒸留焼酎)", "liqueur (リキュール)"]),
    ("酒", DATE, ["beer (ビール)", "whisky (ウイスキー)", "mirin (みりん（本みりん）)"]),
    # before 2026-10-01 the 発泡酒 categories are taxed differently (181,000, 155,000, 134,250, 134,250)
    ("発泡酒", "2025-11-01", ["happoshu_malt_50_plus", "happoshu_malt_25_50", "happoshu_malt_under_25", "new_genre"]),
])
def test_an_ambiguous_liquor_word_lists_what_it_may_mean(category: str, date: str, listed: list[str]) -> None:
    with pytest.raises(InputError) as e:
        compute(_one(date, rate="無税", value=100000, liquor={"category": category, "litres": 10, "abv": 12}))
    assert e.value.field == "lines[0].liquor.category"
    assert e.value.message.startswith(f"{category!r} may mean several liquor categories, taxed differently: ")
    assert all(item in e.value.message for item in listed)


def test_liquor_is_never_reduced_rate() -> None:
    """reduced_ct true on liquor → InputError on lines[0].reduced_ct."""
    with pytest.raises(InputError) as e:
        compute(_one(hs_code="2204.21-020", origin="FR", value=300000, reduced_ct=True,
                     liquor={"category": "fruit_wine", "litres": 540, "abv": 13}))
    assert e.value.field == "lines[0].reduced_ct"


def test_other_excise_given_directly() -> None:
    """excise 12,000 given: rate 10 % on 100,000 → 10,000; ct_base floor_1000(100,000 + 10,000 + 12,000)
    = 122,000; nat 9,516 → 9,500; loc floor_100(9,516) = 9,500 × 22/78 = 2,679.5 → 2,679 → 2,600.
    total 10,000 + 9,500 + 2,600 + 12,000 = 34,100.
    """
    assert _totals(_one(rate="10%", value=100000, excise=12000)) == (10000, 9500, 2600, 12000, 34100)


def test_excise_enters_the_ct_base_in_whole_yen() -> None:
    """The line's excise as it is (rules/rounding.yaml excise_in_ct_base, [U]; reference §0 step 5), not cut to
    100 yen: rate 無税 on 100,950, excise 10,050. ct_base floor_1000(100,950 + 0 + 10,050) = 111,000 (cut first,
    it would be floor_1000(110,950) = 110,000); nat 8,658 → 8,600; loc floor_100(8,658) = 8,600 × 22/78 = 2,425.6
    → 2,425 → 2,400; excise payable floor_100(10,050) = 10,000. total 0 + 8,600 + 2,400 + 10,000 = 21,000."""
    decl = _one(rate="無税", value=100950, excise=10050)
    line = compute(decl).lines[0]
    assert (line.ct_base, line.national_ct, line.local_ct) == (111000, 8658, 2425)
    assert "excise added to the consumption-tax base in whole yen, not cut to 100 yen" in line.unverified
    assert _totals(decl) == (0, 8600, 2400, 10000, 21000)


def test_excise_and_liquor_together_is_an_error() -> None:
    """Give either liquor or excise: InputError on lines[0].excise."""
    with pytest.raises(InputError) as e:
        compute(_one(rate="無税", value=100000, excise=100, liquor={"category": "fruit_wine", "litres": 1}))
    assert e.value.field == "lines[0].excise"


@pytest.mark.parametrize(("date", "ct_rate", "totals"), [
    # 500,000 at 10 %: duty 50,000; ct_base 550,000 in every case.
    # 2010: nat 550,000 × 4% = 22,000; loc 22,000 × 25/100 = 5,500. total 77,500.
    ("2010-06-01", "4%", (50000, 22000, 5500, 77500)),
    ("2014-03-31", "4%", (50000, 22000, 5500, 77500)),
    # 2015: nat 550,000 × 6.3% = 34,650 → 34,600; loc floor_100(34,650) = 34,600 × 17/63 = 9,336.5 → 9,336 → 9,300.
    ("2014-04-01", "6.3%", (50000, 34600, 9300, 93900)),
    ("2015-06-01", "6.3%", (50000, 34600, 9300, 93900)),
    ("2019-09-30", "6.3%", (50000, 34600, 9300, 93900)),
    # 2019-10-01: nat 550,000 × 7.8% = 42,900; loc 42,900 × 22/78 = 12,100. total 105,000.
    ("2019-10-01", "7.8%", (50000, 42900, 12100, 105000)),
])
def test_consumption_tax_history(date: str, ct_rate: str, totals: tuple[int, int, int, int]) -> None:
    """The CT rate and local ratio in force on the declaration date."""
    decl = _one(date, rate="10%", value=500000)
    r = compute(decl)
    assert r.lines[0].ct_rate == ct_rate
    assert (r.totals.duty, r.totals.national_ct, r.totals.local_ct, r.totals.total) == totals


def test_no_reduced_rate_before_2019_10() -> None:
    """reduced_ct true in 2015: no reduced rate existed (it starts 2019-10-01), every good paid the one rate of the
    day, 6.3 % + 17/63 (issue 16: computed with a warning, no longer refused). 500,000 × 10 % = 50,000 duty;
    CT base floor_1000(550,000) = 550,000 × 6.3 % = 34,650 → 34,600; local floor_100(34,650) = 34,600 × 17/63 =
    9,336.5 → 9,336 → 9,300. On 2019-10-01 the same line takes the reduced 6.24 % + 22/78: 550,000 × 6.24 % = 34,320
    → 34,300; 34,300 × 22/78 = 9,674.3 → 9,600; and no warning."""
    r = compute(_one("2015-06-01", rate="10%", value=500000, reduced_ct=True))
    assert (r.totals.duty, r.totals.national_ct, r.totals.local_ct) == (50000, 34600, 9300)
    assert (r.lines[0].ct_rate, r.lines[0].reduced_ct) == ("6.3%", False)
    assert r.warnings == ["line 0: reduced_ct: no reduced consumption-tax rate existed on this date (it starts "
                          "2019-10-01): every good paid the standard rate, which is applied"]
    later = compute(_one("2019-10-01", rate="10%", value=500000, reduced_ct=True))
    assert (later.totals.national_ct, later.totals.local_ct, later.lines[0].ct_rate) == (34300, 9600, "6.24%")
    assert not later.warnings


def test_olive_oil_depends_on_use() -> None:
    """1509.20-000 extra-virgin olive oil (chapter 15: edible or industrial) without reduced_ct → InputError."""
    with pytest.raises(InputError) as e:
        compute(_one(hs_code="1509.20-000", origin="ES", value=300000))
    assert e.value.field == "lines[0].reduced_ct"


@pytest.mark.parametrize(("reduced", "totals"), [
    # duty 無税; reduced: 300,000 × 6.24% = 18,720 → 18,700; loc 18,700 × 22/78 = 5,274.4 → 5,274 → 5,200.
    (True, (0, 18700, 5200, 23900)),
    # standard: 300,000 × 7.8% = 23,400; loc 23,400 × 22/78 = 6,600.
    (False, (0, 23400, 6600, 30000)),
])
def test_olive_oil_with_reduced_ct(reduced: bool, totals: tuple[int, int, int, int]) -> None:
    """With reduced_ct stated, the olive oil computes at 6.24 % or 7.8 %."""
    t = compute(_one(hs_code="1509.20-000", origin="ES", value=300000, reduced_ct=reduced)).totals
    assert (t.duty, t.national_ct, t.local_ct, t.total) == totals
