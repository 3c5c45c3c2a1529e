"""Simplified tariff for consignments ≤ 200,000 yen (定率法3条の3, CA 1001): auto / never / always.

Date 2026-11-01, yen. Bundled categories: 62 woven apparel 10 %, wine 70円/l, "other" 5 %; 6403 is excluded.
General rates: 6205.20-000 WTO 7.4 %, 4202.92-000 WTO 8 %, 6403.99-011 general 27 %.
"""

from __future__ import annotations

from typing import Any

import pytest

from xlduty import compute
from xlduty.core.errors import InputError

DATE = "2026-11-01"


def _decl(mode: str, *lines: dict[str, Any]) -> dict[str, Any]:
    return {"date": DATE, "simplified": mode, "lines": list(lines)}


def _shirt(value: int) -> dict[str, Any]:
    return {"hs_code": "6205.20-000", "origin": "CN", "value": value}


def _bag(value: int) -> dict[str, Any]:
    return {"hs_code": "4202.92-000", "origin": "CN", "value": value}


def _totals(decl: dict[str, Any]) -> tuple[int, int, int, int]:
    t = compute(decl).totals
    return t.duty, t.national_ct, t.local_ct, t.total


def test_auto_keeps_general_when_cheaper_and_reports_both() -> None:
    """Woven shirts 100,000.
    General 7.4 %: 7,400; ct_base 107,000; nat 8,346 → 8,300; loc 8,300 × 22/78 = 2,341.0 → 2,341 → 2,300; 18,000.
    Simplified 10 %: 10,000; ct_base 110,000; nat 8,580 → 8,500; loc 8,500 × 22/78 = 2,397.4 → 2,397 → 2,300;
    20,800.  auto → general.
    """
    r = compute(_decl("auto", _shirt(100000)))
    assert r.simplified["used"] is False
    assert (r.simplified["general_total"], r.simplified["simplified_total"]) == (18000, 20800)
    assert r.lines[0].treatment == "general"
    assert _totals(_decl("auto", _shirt(100000))) == (7400, 8300, 2300, 18000)


def test_auto_uses_simplified_when_cheaper() -> None:
    """Textile bag 100,000.
    General 8 %: 8,000; ct_base 108,000; nat 8,424 → 8,400; loc 8,400 × 22/78 = 2,369.2 → 2,369 → 2,300; 18,700.
    Simplified "other" 5 %: 5,000; ct_base 105,000; nat 8,190 → 8,100; loc 8,100 × 22/78 = 2,284.6 → 2,284
    → 2,200; 15,300.  auto → simplified.
    """
    r = compute(_decl("auto", _bag(100000)))
    assert r.simplified["used"] is True
    assert (r.simplified["general_total"], r.simplified["simplified_total"]) == (18700, 15300)
    ln = r.lines[0]
    assert (ln.treatment, ln.rate_column, ln.duty) == ("simplified", "simplified", 5000)
    assert _totals(_decl("auto", _bag(100000))) == (5000, 8100, 2200, 15300)


def test_never() -> None:
    """simplified never: the bag pays the general 8 % (18,700 total, see above) and nothing else is tried."""
    r = compute(_decl("never", _bag(100000)))
    assert r.simplified["used"] is False
    assert "simplified_total" not in r.simplified
    assert _totals(_decl("never", _bag(100000))) == (8000, 8400, 2300, 18700)


def test_always() -> None:
    """simplified always: the shirts pay 10 % although general is cheaper (20,800, see above)."""
    r = compute(_decl("always", _shirt(100000)))
    assert r.simplified["used"] is True
    assert _totals(_decl("always", _shirt(100000))) == (10000, 8500, 2300, 20800)


def test_exactly_200000_may_use_simplified() -> None:
    """Bag 200,000 (≤ 200,000): 5 % = 10,000; ct_base 210,000; nat 16,380 → 16,300;
    loc 16,300 × 22/78 = 4,597.4 → 4,597 → 4,500; total 30,800.
    """
    assert compute(_decl("auto", _bag(200000))).simplified["used"] is True
    assert _totals(_decl("auto", _bag(200000))) == (10000, 16300, 4500, 30800)


def test_over_200000_is_general() -> None:
    """Bag 200,001: general only. tv 200,000 × 8% = 16,000; ct_base floor_1000(216,001) = 216,000; nat 16,848
    → 16,800; loc 16,800 × 22/78 = 4,738.5 → 4,738 → 4,700; total 37,500.
    """
    r = compute(_decl("auto", _bag(200001)))
    assert r.simplified["used"] is False
    assert "200,000" in r.simplified["reason"]
    assert _totals(_decl("auto", _bag(200001))) == (16000, 16800, 4700, 37500)


def test_over_200000_always_is_an_error() -> None:
    """simplified always above the threshold → InputError on `simplified`."""
    with pytest.raises(InputError) as e:
        compute(_decl("always", _bag(200001)))
    assert e.value.field == "simplified"


def test_general_duty_free_line_stays_free() -> None:
    """Books 4901.99-000 (general 無税) 50,000 + bag 50,000, always.

    Books: duty 0; ct_base 50,000; nat 3,900; loc 3,900 × 22/78 = 1,100.
    Bag: 5 % = 2,500; ct_base floor_1000(52,500) = 52,000; nat 4,056; loc 4,000 × 22/78 = 1,128.2 → 1,128.
    Totals: duty 2,500; nat 7,956 → 7,900; loc 2,228 → 2,200; total 12,600.
    """
    r = compute(_decl("always", {"hs_code": "4901.99-000", "origin": "US", "value": 50000}, _bag(50000)))
    assert [ln.duty for ln in r.lines] == [0, 2500]
    assert _totals(_decl("always", {"hs_code": "4901.99-000", "origin": "US", "value": 50000},
                         _bag(50000))) == (2500, 7900, 2200, 12600)


@pytest.mark.parametrize("line", [
    # coral: general 20 %, WTO 無税
    {"hs_code": "0508.00-100", "origin": "US", "value": 100000},
    # beer: general 6.40円/l, WTO 無税
    {"hs_code": "2203.00-000", "origin": "DE", "value": 100000, "quantity": 100, "unit": "l"},
])
def test_wto_free_line_stays_free(line: dict[str, Any]) -> None:
    """Goods free at their applicable (WTO) rate pay no duty under the simplified tariff either.

    duty 0; ct_base 100,000; nat 7,800; loc 7,800 × 22/78 = 2,200; total 10,000.
    """
    r = compute(_decl("always", line))
    assert r.lines[0].duty == 0
    assert _totals(_decl("always", line)) == (0, 7800, 2200, 10000)


def test_excluded_hs_uses_general_rate() -> None:
    """Sports footwear 6403.99-011 (general 27 %, excluded) 50,000 + bag 50,000, always.

    Footwear (general): 13,500; ct_base floor_1000(63,500) = 63,000; nat 4,914; loc 4,900 × 22/78 = 1,382.1 → 1,382.
    Bag (simplified 5 %): 2,500; ct_base 52,000; nat 4,056; loc 1,128.
    Totals: duty 16,000; nat 8,970 → 8,900; loc 2,510 → 2,500; total 27,400.
    """
    decl = _decl("always", {"hs_code": "6403.99-011", "origin": "CN", "value": 50000}, _bag(50000))
    r = compute(decl)
    shoes, bag = r.lines
    assert (shoes.treatment, shoes.duty, shoes.rate) == ("general", 13500, "27%")
    assert (bag.treatment, bag.duty) == ("simplified", 2500)
    assert _totals(decl) == (16000, 8900, 2500, 27400)


def test_simplified_liquor_rate() -> None:
    """Wine 2204.21-020, FR (not claimed), 100 l, 100,000 yen.

    Simplified wine 70円/l × 100 = 7,000; ct_base 107,000; nat 8,346 → 8,300; loc 2,341 → 2,300; total 17,600.
    General WTO max(min(15,000; 12,500); 6,700) = 12,500; ct_base 112,000; nat 8,736 → 8,700;
    loc 8,700 × 22/78 = 2,453.8 → 2,453 → 2,400; total 23,600.  auto → simplified.
    """
    decl = _decl("auto", {"hs_code": "2204.21-020", "origin": "FR", "value": 100000, "quantity": 100, "unit": "l"})
    r = compute(decl)
    assert (r.simplified["general_total"], r.simplified["simplified_total"]) == (23600, 17600)
    assert r.lines[0].duty == 7000
    assert _totals(decl) == (7000, 8300, 2300, 17600)


def test_all_exempt_needs_no_simplified() -> None:
    """A 9,000-yen bag is de minimis: the simplified tariff is not used and the reason says so."""
    r = compute(_decl("auto", _bag(9000)))
    assert r.simplified["used"] is False
    assert "14条18号" in r.simplified["reason"]
    assert r.totals.total == 0


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_gate_price_pork_is_left_out_of_the_simplified_tariff(mode: str) -> None:
    """The simplified tariff's 5 % was applied to gate-price pork: 0203.19-025, ¥100,000 for 250 kg (400 yen/kg), is
    5,000 at 5 % against the gate-price duty (546.53 − 400) × 250 = 36,632.5 → 36,632. 関税定率法3条の3第2項 leaves out
    goods the Cabinet Order names for their impact on domestic industry; its list was not read, and the gate-price
    system is that impact's plainest case: the line takes the general rate, says why, and lists the inference among its
    unverified data. A line of other goods beside it keeps its simplified rate (3924.10-000 ¥50,000 × 3 % = 1,500)."""
    pork = {"hs_code": "0203.19-025", "origin": "US", "value": 100000, "quantity": 250}
    r = compute(_decl(mode, pork, {"hs_code": "3924.10-000", "origin": "CN", "value": 50000}))
    line, other = r.lines
    assert (line.duty, line.rate_column) == (36632, "rate_temporary")
    goods = "差額関税制度の豚・豚肉等 (関税暫定措置法別表第1の3)"
    assert line.notes[0] == f"excluded from the simplified tariff ({goods}): general rate"
    assert any(u.startswith(f"{goods} excluded from the simplified tariff: taken as excluded by 関税定率法施行令1条の3")
               for u in line.unverified)
    assert (other.duty, other.rate_column) == (1500, "simplified")
    assert r.simplified["used"] is True


def test_every_gate_price_line_is_in_the_inferred_exclusion() -> None:
    """The 49 lines banded by the gate-price words in each bundled edition, and no other, are the inferred exclusion."""
    from datetime import date

    from xlduty.core.rules import load_rules
    from xlduty.core.schedule import WordBand, edition_on, line_bands

    version = next(v for v in load_rules().simplified if v.covers(date(2026, 11, 1)))
    for on in (date(2025, 6, 1), date(2026, 5, 1), date(2026, 11, 1)):
        schedule = edition_on(on)
        for code in schedule.codes():
            line = schedule._lookup(code, on)
            gated = any(isinstance(band, WordBand) for band in line_bands(line.path, line.description))
            assert (version.inferred(code) is not None) == gated, code


def _scan_inferred(version: Any, code9: str) -> Any:
    """The first inferred exclusion group with a prefix of the code, by scanning the lists as they read (the
    reference the version's prefix index is held to)."""
    from xlduty.core.rules import hs_digits

    for group in version.excluded.inferred:
        if any(code9.startswith(hs_digits(p)) for p in group.hs):
            return group
    return None


def _scan_excluded(version: Any, code9: str) -> bool:
    from xlduty.core.rules import hs_digits

    return (any(code9.startswith(hs_digits(p)) for p in version.excluded.hs)
            or _scan_inferred(version, code9) is not None)


def _scan_category(version: Any, code9: str) -> tuple[Any, str, str | None]:
    """(category, rate text, liquor kind) by the longest matching prefix of a category not excepting the code, the
    first of equal length, else the last catch-all: every prefix of every category scanned."""
    from xlduty.core.rules import hs_digits

    best: tuple[int, Any, str, str | None] | None = None
    fallback = None
    for cat in version.categories:
        if any(code9.startswith(hs_digits(p)) for p in cat.hs_except):
            continue
        for sub in cat.rates or []:
            for p in sub.hs:
                if code9.startswith(hs_digits(p)) and (best is None or len(hs_digits(p)) > best[0]):
                    best = (len(hs_digits(p)), cat, sub.rate, sub.kind)
        for p in cat.hs:
            if p == "*":
                fallback = (cat, cat.rate or "", None)
            elif code9.startswith(hs_digits(p)) and (best is None or len(hs_digits(p)) > best[0]):
                best = (len(hs_digits(p)), cat, cat.rate or "", None)
    if best is not None:
        return best[1], best[2], best[3]
    assert fallback is not None
    return fallback


def test_the_exclusions_by_prefix_agree_with_the_lists_for_every_code() -> None:
    """``SimplifiedVersion.is_excluded`` and ``inferred`` (the lists indexed by prefix, looked up once per length)
    answer as a scan of the lists does, for every code of the edition in force and for codes made to hit several
    lists at once."""
    from datetime import date

    from xlduty.core.rules import InferredExclusion, load_rules
    from xlduty.core.schedule import edition_on

    version = next(v for v in load_rules().simplified if v.covers(date(2026, 11, 1)))
    codes = edition_on(date(2026, 11, 1)).codes()
    for code in codes:
        assert version.is_excluded(code) == _scan_excluded(version, code), code
        assert version.inferred(code) is _scan_inferred(version, code), code
    # two inferred groups over one prefix, the longer listed first: the first group in order is the one named
    common = {"why": "w", "source": "s", "checked": date(2026, 1, 1), "verified": "U"}
    first = InferredExclusion.validated(name_ja="甲", hs=["0203.11"], **common)
    second = InferredExclusion.validated(name_ja="乙", hs=["0203"], **common)
    for groups in ([first, second], [second, first]):
        excluded = version.excluded.model_copy(update={"basis": "b", "hs": ["6101"], "inferred": groups})
        made = version.model_copy(update={"excluded": excluded})
        for code in ("020311000", "020312000", "610110000", "010110000"):
            assert made.is_excluded(code) == _scan_excluded(made, code)
            assert made.inferred(code) is _scan_inferred(made, code)
        assert made.inferred("020311000") is groups[0]


def test_the_categories_by_prefix_agree_with_the_lists_for_every_code() -> None:
    """``SimplifiedVersion.category`` (the categories indexed by prefix) gives every code of the editions the
    category, rate text and liquor kind a scan of the lists gives, and so for codes of prefixes listed twice,
    excepted or caught by ``*`` only, in rule data made for it; rule data with no catch-all says so."""
    from datetime import date

    from xlduty.core.errors import DataError
    from xlduty.core.rules import load_rules
    from xlduty.core.schedule import edition_on

    for version in load_rules().simplified:
        for on in (date(2025, 6, 1), date(2026, 11, 1)):
            for code in edition_on(on).codes():
                assert version.category(code) == _scan_category(version, code), code
        cats = version.categories
        # a prefix listed by two categories (the first wins), a longer one in a later category (it wins), a category
        # excepting a code, and every other code caught by the last catch-all
        made = version.model_copy(update={"categories": [
            cats[0].model_copy(update={"hs": ["0101", "*"], "hs_except": ["010121"], "rates": None, "rate": "1%"}),
            cats[1].model_copy(update={"hs": ["0101", "010129", "*"], "hs_except": [], "rates": None, "rate": "2%"}),
            cats[2].model_copy(update={"hs": ["01"], "hs_except": ["0101299"], "rates": None, "rate": "3%"}),
        ]})
        for code in ("010121000", "010129000", "010129900", "010130000", "020110000", "010210000"):
            assert made.category(code) == _scan_category(made, code), code
        bare = version.model_copy(update={"categories": [cats[2].model_copy(update={"hs": ["01"], "hs_except": []})]})
        with pytest.raises(DataError, match="no catch-all"):
            bare.category("020110000")
