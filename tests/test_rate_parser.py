"""The rate parser: every cell of the three bundled editions parses, and tricky notations evaluate right."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from xlduty.core.errors import RateParseError
from xlduty.core.rate import DutyBase, ManualRate, NeedsInput, NotApplicable, Rate
from xlduty.core.rate_parser import parse_rate
from xlduty.core.schedule import load_edition
from xlduty.core.tables import editions
from xlduty.core.units import unit_of

KINDS = {"free", "ad_valorem", "specific", "compound", "higher_of", "lower_of", "gate_price", "quota",
         "conditional", "party", "seasonal", "range", "not_applied", "manual"}


def _base(tv: int, qty: str | int | None = None, unit: str | None = None, **kw: object) -> DutyBase:
    return DutyBase(tv, Decimal(str(qty)) if qty is not None else None, unit_of(unit) if unit else None, **kw)


@pytest.mark.parametrize("edition", [name for name, _ in editions()])
def test_every_cell_parses(edition: str, record_property: Callable[[str, object], None]) -> None:
    """All rate cells of the edition parse; all 14 kinds occur; manual cells are under 1 %."""
    schedule = load_edition(edition)
    kinds: Counter[str] = Counter()
    failures = []
    for group in schedule.lines.values():
        for line in group:
            for column in schedule.columns:
                text = line.text(column)
                if not text:
                    continue
                try:
                    kinds[parse_rate(text).kind] += 1
                except RateParseError as exc:
                    failures.append(f"{line.hs} {column} {text!r}: {exc}")
    total = sum(kinds.values())
    print(f"{edition}: {total} cells {dict(kinds.most_common())}")
    record_property(f"kinds_{edition}", dict(kinds))
    assert failures == []
    assert set(kinds) == KINDS
    assert total > 200_000
    assert kinds["manual"] / total < 0.01


def test_english_lower_of_with_minimum() -> None:
    """"15% or 125 yen/l, whichever is the less, subject to a minimum customs duty of 67 yen/l" = the Japanese form.

    tv 300,000: 100 l → min(45,000; 12,500) = 12,500 ≥ 6,700; 540 l → 45,000 ≥ 36,180;
    2,000 l → min(45,000; 250,000) = 45,000 < 134,000 → 134,000.
    """
    en = parse_rate("15% or 125 yen/l, whichever is the less, subject to a minimum customs duty of 67 yen/l")
    ja = parse_rate("15%又は125円/lのうちいずれか低い税率 ただしその税率が67円/lを下回る場合は67円/l")
    assert en.kind == "lower_of"
    assert en == ja
    assert en.evaluate(_base(300000, 100, "l")) == 12500
    assert en.evaluate(_base(300000, 540, "l")) == 45000
    assert en.evaluate(_base(300000, 2000, "l")) == 134000


def test_english_higher_of() -> None:
    """"29.8% or 23 yen/kg, whichever is the greater": tv 300,000, 5,000 kg → max(89,400; 115,000) = 115,000."""
    r = parse_rate("29.8% or 23 yen/kg, whichever is the greater")
    assert r.kind == "higher_of"
    assert r.evaluate(_base(300000, 5000, "kg")) == 115000


def test_free_and_parenthesised_free() -> None:
    """"Free" is 無税 (0); "(Free)" is printed in parentheses: not applied."""
    free = parse_rate("Free")
    assert (free.kind, free.is_free, free.evaluate(_base(500000))) == ("free", True, 0)
    assert parse_rate("Free") == parse_rate("無税")
    bracketed = parse_rate("(Free)")
    assert bracketed.kind == "not_applied"
    with pytest.raises(NotApplicable):
        bracketed.evaluate(_base(500000))


@pytest.mark.parametrize("text", ["(393円×1.002-課税価格)/kg又は40.50円/kgのうちいずれか低い税率",
                                  "（393円×1.002-課税価格）/kg又は40.50円/kgのうちいずれか低い税率"])
@pytest.mark.parametrize(("tv", "duty"), [
    (300000, Decimal("40500")),  # unit value 300: 393 × 1.002 − 300 = 93.786 > 40.50 → 40.50 × 1,000 = 40,500
    (360000, Decimal("33786")),  # unit value 360: 393.786 − 360 = 33.786 < 40.50 → 33.786 × 1,000 = 33,786
    (394000, Decimal("0")),      # unit value 394 > 393.786: the differential is negative → 0
])
def test_gate_price_pork(text: str, tv: int, duty: Decimal) -> None:
    """Pork gate price (EU/CPTPP columns) at 1,000 kg, in both spellings of the brackets."""
    r = parse_rate(text)
    assert r.kind == "lower_of"
    assert r.evaluate(_base(tv, 1000, "kg")) == duty


def test_gate_price_alone() -> None:
    """"(73.70円−課税価格)/kg" (onions 0703.10-012): tv 70,000, 1,000 kg → unit 70 → 3.70 × 1,000 = 3,700."""
    r = parse_rate("(73.70円−課税価格)/kg")
    assert r.kind == "gate_price"
    assert r.evaluate(_base(70000, 1000, "kg")) == 3700
    with pytest.raises(NeedsInput):
        r.evaluate(_base(70000))


def test_per_thousand_sticks() -> None:
    """"290.70円/1,000本": 12,345 sticks = 12.345 thousand; 290.70 has 3 integer digits → 12.3;
    12.3 × 290.70 = 3,575.61.  Compound with 8.5 % on 100,000: 8,500 + 3,575.61 = 12,075.61.
    """
    r = parse_rate("290.70円/1,000本")
    assert (r.kind, str(r)) == ("specific", "290.70円/1,000本")
    assert r.evaluate(_base(100000, 12345, "stick")) == Decimal("3575.61")
    c = parse_rate("8.5%＋290.70円/1,000本")
    assert c.kind == "compound"
    assert c.evaluate(_base(100000, 12345, "pcs")) == Decimal("12075.61")


def test_man_yen_per_head() -> None:
    """"170万円/頭" = 1,700,000 yen per head: 2 head → 3,400,000; as a quota branch only within the quota."""
    r = parse_rate("170万円/頭")
    assert r.kind == "specific"
    assert r.evaluate(_base(5000000, 2, "head")) == 3400000
    q = parse_rate("関税割当数量以内のもの 170万円/頭")
    assert q.kind == "quota"
    assert q.evaluate(_base(5000000, 2, "head", in_quota=True)) == 3400000
    with pytest.raises(NotApplicable):
        q.evaluate(_base(5000000, 2, "head", in_quota=False))


def test_higher_of_with_cap() -> None:
    """"9.3%又は7.19円/kgのうちいずれか高い税率（ただしその税率が50%を上回る場合は50%とする）".

    tv 10,000, 1,000 kg: max(930; 7,190) = 7,190 > 50 % = 5,000 → 5,000.  100 kg: max(930; 719) = 930.
    """
    r = parse_rate("9.3%又は7.19円/kgのうちいずれか高い税率（ただしその税率が50%を上回る場合は50%とする）")
    assert r.kind == "higher_of"
    assert r.evaluate(_base(10000, 1000, "kg")) == 5000
    assert r.evaluate(_base(10000, 100, "kg")) == 930


def test_range_needs_a_rate() -> None:
    """"●2.2%〜3.5%" is a range: no computable figure (ManualRate)."""
    r = parse_rate("●2.2%〜3.5%")
    assert r.kind == "range"
    with pytest.raises(ManualRate):
        r.evaluate(_base(100000))


def test_manual_reference_price() -> None:
    """A reference-price text is manual."""
    r = parse_rate("1キログラムにつき枝肉に係る基準輸入価格と課税価格との差額")
    assert r.kind == "manual"
    with pytest.raises(ManualRate):
        r.evaluate(_base(100000, 10, "kg"))


@pytest.mark.parametrize(("text", "on", "covered"), [
    ("毎年4月1日から同年8月31日までに輸入されるもの 無税", date(2026, 5, 1), True),
    ("毎年4月1日から同年8月31日までに輸入されるもの 無税", date(2026, 8, 31), True),
    ("毎年4月1日から同年8月31日までに輸入されるもの 無税", date(2026, 9, 1), False),
    ("毎年11月1日から翌年2月末日までに輸入されるもの 無税", date(2027, 2, 28), True),
    ("毎年11月1日から翌年2月末日までに輸入されるもの 無税", date(2026, 11, 1), True),
    ("毎年11月1日から翌年2月末日までに輸入されるもの 無税", date(2026, 10, 31), False),
])
def test_seasonal(text: str, on: date, covered: bool) -> None:
    """A season covers its days (end inclusive, across the new year); outside it the cell does not apply."""
    r = parse_rate(text)
    assert r.kind == "seasonal"
    if covered:
        assert r.evaluate(_base(100000, date=on)) == 0
    else:
        with pytest.raises(NotApplicable):
            r.evaluate(_base(100000, date=on))


def test_party_treatment() -> None:
    """"（オーストラリア及びニュージーランドに対する待遇） 無税": NZ free; CA not covered; no origin → asks."""
    r = parse_rate("（オーストラリア及びニュージーランドに対する待遇） 無税")
    assert r.kind == "party"
    assert r.evaluate(_base(100000, origin="NZ")) == 0
    with pytest.raises(NotApplicable):
        r.evaluate(_base(100000, origin="CA"))
    with pytest.raises(NeedsInput) as e:
        r.evaluate(_base(100000))
    assert e.value.field == "origin"


def test_conditional_branches() -> None:
    """"人造繊維製のもの 9.1% その他のもの 10%": asks for condition; 人造繊維 → 9,100; other → 10,000 on 100,000."""
    r = parse_rate("人造繊維製のもの 9.1% その他のもの 10%")
    assert r.kind == "conditional"
    with pytest.raises(NeedsInput) as e:
        r.evaluate(_base(100000))
    assert e.value.field == "condition"
    assert r.evaluate(_base(100000, condition="人造繊維")) == 9100
    assert r.evaluate(_base(100000, condition="other")) == 10000


def test_two_tier_quota() -> None:
    """"関税割当数量以内のもの 無税 その他のもの 10%": 0 within the quota, 10,000 on 100,000 outside."""
    r = parse_rate("関税割当数量以内のもの 無税 その他のもの 10%")
    assert r.kind == "quota"
    assert r.evaluate(_base(100000, in_quota=True)) == 0
    assert r.evaluate(_base(100000, in_quota=False)) == 10000


@pytest.mark.parametrize(("text", "kind", "tv", "qty", "unit", "duty"), [
    ("１０．９％", "ad_valorem", 100000, None, None, Decimal("10900")),        # full-width digits
    ("4,000,000円/頭", "specific", 1, 3, "head", Decimal("12000000")),          # thousands separators
    ("25%＋63円/kg", "compound", 100000, "10.9", "kg", Decimal("25630")),       # 25,000 + 10 (whole kg) × 63
    ("*29.8%＋396円/kg", "compound", 100000, "10.96", "kg", Decimal("34116.4")),  # 29,800 + 10.9 × 396 (4,316.4)
    ("60%又は4,800円/足のうちいずれか高い税率", "higher_of", 50000, 10, "pair", Decimal("48000")),
])
def test_notations_evaluate(text: str, kind: str, tv: int, qty: str | None, unit: str | None,
                            duty: Decimal) -> None:
    """Spellings seen in the schedule, evaluated by hand."""
    r: Rate = parse_rate(text)
    assert r.kind == kind
    assert r.evaluate(_base(tv, qty, unit)) == duty


@pytest.mark.parametrize("text", ["", "   ", "abc", "10%%", "円/kg"])
def test_unknown_notation_is_an_error(text: str) -> None:
    """Text that matches no notation raises RateParseError (never silently zero)."""
    with pytest.raises(RateParseError):
        parse_rate(text)


def test_the_parser_shortcuts_give_what_the_long_way_gives() -> None:
    """``_split_top`` splits text without parentheses as scanning it would (overlapping separators, empty parts, a
    lone closing parenthesis included), and a text with no letter ``_english`` reads is matched by none of its
    patterns (so leaving it as it is changes nothing)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from xlduty.core.rate_parser import _ENGLISH, _RE_LATIN, _split_scanning, _split_top

    @settings(max_examples=400, deadline=None, database=None)
    @given(st.text(alphabet="ab~、又は()1%円", max_size=14), st.sampled_from(["~", "、", "又は", "aa", "a"]))
    def split(s: str, sep: str) -> None:
        assert _split_top(s, sep) == _split_scanning(s, sep)

    @settings(max_examples=400, deadline=None, database=None)
    @given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20))
    def english(s: str) -> None:
        if _RE_LATIN.search(s) is None:
            assert not any(pattern.search(s) for pattern, _repl in _ENGLISH), s

    split()
    english()
    # the letters outside ASCII that a case-blind match folds onto ASCII ones
    for letter in ("İ", "ı"):
        assert _RE_LATIN.search(letter) is not None
