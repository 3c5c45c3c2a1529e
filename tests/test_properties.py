"""Properties over generated declarations (hypothesis): integer yen, 100-yen totals, monotone duty,
batch = single, total = sum of parts, and agreement with an independent re-implementation of the
reference §0 pipeline for ad valorem lines.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlduty import compute, compute_batch

DATE = "2026-11-01"
SETTINGS = settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

values = st.decimals(min_value=0, max_value=5_000_000, places=2, allow_nan=False, allow_infinity=False)
percents = st.sampled_from(["0", "1.2", "2.7", "3.9", "4.25", "4.6", "7.4", "10", "10.5", "12.6", "14", "21.3",
                            "29.8", "40"])


@st.composite
def rate_lines(draw: st.DrawFn) -> dict[str, Any]:
    return {"rate": draw(percents) + "%", "value": str(draw(values)), "reduced_ct": draw(st.booleans())}


@st.composite
def tariff_lines(draw: st.DrawFn) -> dict[str, Any]:
    """Real lines of several rate kinds, with what each needs."""
    value = str(draw(values))
    qty = str(draw(st.decimals(min_value=1, max_value=20000, places=3, allow_nan=False, allow_infinity=False)))
    return draw(st.sampled_from([
        {"hs_code": "6109.10-020", "origin": "CN", "value": value},
        {"hs_code": "6109.10-020", "origin": "FR", "value": value, "claim_preference": True},
        {"hs_code": "0901.21-000", "origin": "BR", "value": value},
        {"hs_code": "4202.92-000", "origin": "CN", "value": value},
        {"hs_code": "0210.20-000", "origin": "US", "value": value, "quantity": qty, "unit": "kg"},
        {"hs_code": "2009.11-190", "origin": "US", "value": value, "quantity": qty, "unit": "kg"},
        {"hs_code": "0401.10-190", "origin": "US", "value": value, "quantity": qty, "unit": "kg"},
        {"hs_code": "2204.21-020", "origin": "US", "value": value,
         "liquor": {"category": "fruit_wine", "litres": qty, "abv": 12}},
        {"hs_code": "2208.30-000", "origin": "GB", "value": value,
         "liquor": {"category": "whisky", "litres": qty, "abv": "40.5"}},
    ]))


@st.composite
def declarations(draw: st.DrawFn) -> dict[str, Any]:
    lines = draw(st.lists(st.one_of(rate_lines(), tariff_lines()), min_size=1, max_size=5))
    return {"date": DATE, "simplified": draw(st.sampled_from(["auto", "never"])),
            "personal_use": draw(st.booleans()), "lines": lines}


def _f100(x: int) -> int:
    return x // 100 * 100


def _f1000(x: Fraction) -> int:
    return int(x) // 1000 * 1000


def _oracle(lines: list[dict[str, Any]]) -> tuple[int, int, int]:
    """Reference §0 for yen ad valorem lines (independent of xlduty): duty, national, local payable."""
    vals = [Fraction(Decimal(ln["value"])) for ln in lines]
    if sum(vals) <= 10000:                                   # 定率法14条18号: all exempt
        return 0, 0, 0
    duties, nats, locs = [], [], []
    for ln, v in zip(lines, vals, strict=True):
        duty = int(_f1000(v) * Fraction(Decimal(ln["rate"].rstrip("%"))) / 100)
        base = _f1000(v + _f100(duty))
        nat = int(base * Fraction(624 if ln["reduced_ct"] else 780, 10000))
        duties.append(duty)
        nats.append(nat)
        locs.append(_f100(nat) * 22 // 78)
    return _f100(sum(duties)), _f100(sum(nats)), _f100(sum(locs))


@SETTINGS
@given(declarations())
def test_amounts_are_nonnegative_integers_and_totals_are_whole_hundreds(decl: dict[str, Any]) -> None:
    """Every amount is an int ≥ 0; every payable total is a multiple of 100; total = duty + CT + excise."""
    r = compute(decl)
    for ln in r.lines:
        for amount in (ln.taxable_value, ln.duty, ln.ct_base, ln.national_ct, ln.local_ct, ln.excise):
            assert isinstance(amount, int) and amount >= 0
        assert ln.taxable_value % 1000 == 0 and ln.ct_base % 1000 == 0
    t = r.totals
    for amount in (t.duty, t.national_ct, t.local_ct, t.excise, t.total):
        assert isinstance(amount, int) and amount >= 0
        assert amount % 100 == 0
    assert t.total == t.duty + t.national_ct + t.local_ct + t.excise
    assert t.consumption_tax == t.national_ct + t.local_ct
    assert r.to_dict()["totals"]["total"] == t.total


@SETTINGS
@given(st.lists(rate_lines(), min_size=1, max_size=6))
def test_matches_the_reference_pipeline(lines: list[dict[str, Any]]) -> None:
    """Yen lines with a given ad valorem rate reproduce reference §0 step by step."""
    t = compute({"date": DATE, "simplified": "never", "lines": lines}).totals
    assert (t.duty, t.national_ct, t.local_ct) == _oracle(lines)


def _ordered_totals(a: Decimal, b: Decimal, line: dict[str, Any]) -> tuple[Any, Any]:
    """Totals of the same one-line declaration at the lower and the higher of two values."""
    lo, hi = sorted((a, b))
    return tuple(compute({"date": DATE, "simplified": "never", "lines": [{**line, "value": str(v)}]}).totals
                 for v in (lo, hi))


@SETTINGS
@given(percents, values, values)
def test_duty_never_decreases_when_value_rises(percent: str, a: Decimal, b: Decimal) -> None:
    """Under one ad valorem rate, a higher customs value never gives less duty (nor less total)."""
    t_lo, t_hi = _ordered_totals(a, b, {"rate": percent + "%"})
    assert t_lo.duty <= t_hi.duty
    assert t_lo.total <= t_hi.total


@SETTINGS
@given(percents, values, values)
def test_real_ad_valorem_line_is_monotone(percent: str, a: Decimal, b: Decimal) -> None:
    """Same for a real line (6109.10-020 CN, WTO 7.4 %), general treatment."""
    t_lo, t_hi = _ordered_totals(a, b, {"hs_code": "6109.10-020", "origin": "CN"})
    assert t_lo.duty <= t_hi.duty


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(declarations(), min_size=1, max_size=4))
def test_batch_equals_single(decls: list[dict[str, Any]]) -> None:
    """compute_batch gives, item by item, what compute gives alone (no state leaks between declarations)."""
    batch = compute_batch(decls)
    assert [r.to_dict() for r in batch] == [compute(d).to_dict() for d in decls]
    assert [r.to_dict() for r in compute_batch(list(reversed(decls)))] == [r.to_dict() for r in reversed(batch)]


@SETTINGS
@given(st.lists(rate_lines(), min_size=1, max_size=5))
def test_lines_are_independent_of_their_neighbours(lines: list[dict[str, Any]]) -> None:
    """Above the de minimis threshold, each line's figures do not depend on the other lines."""
    lines = [*lines, {"rate": "5%", "value": "20000"}]     # keep the declaration taxable
    together = compute({"date": DATE, "simplified": "never", "lines": lines}).lines
    for ln, alone_line in zip(together, lines, strict=True):
        alone = compute({"date": DATE, "simplified": "never",
                         "lines": [alone_line, {"rate": "無税", "value": "20000"}]}).lines[0]
        assert (ln.duty, ln.ct_base, ln.national_ct, ln.local_ct) == (
            alone.duty, alone.ct_base, alone.national_ct, alone.local_ct)


def test_consumption_tax_base_is_exact_beyond_decimal_precision() -> None:
    """The CT base adds whole yen to the floored customs value, never in 28-digit Decimal, which would round
    910,999.9999999999999999999999 + 91,000 up to 1,002,000 (関税法基本通達13の4-1: drop what is below 1,000 yen).

    By hand: customs value 910,999.99… → taxable value 910,000; duty 10 % = 91,000; CT base
    floor_1000(910,999.99… + 91,000) = floor_1000(1,001,999.99…) = 1,001,000; national 7.8 % = 78,078."""
    r = compute({"date": "2026-11-20", "lines": [{"rate": "10%", "value": Decimal("910999.9999999999999999999999")}]})
    line = r.lines[0]
    assert (line.taxable_value, line.duty, line.ct_base, line.national_ct) == (910000, 91000, 1001000, 78078)
    assert "floor_1000(910,999.999999 + 91,000 + 0) = 1,001,000" in [s.to_dict()["formula"] for s in line.explanation]


def test_compute_batch_of_nothing_and_rules_errors_leave_collection_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty batch is an empty result; a batch whose rules fail to load leaves garbage collection as it was (the
    Excel server runs for days)."""
    import gc

    import xlduty.core.engine as eng
    from xlduty.core.errors import DataError

    assert compute_batch([]) == []
    monkeypatch.setattr(eng, "_ENGINE", None)

    def broken() -> None:
        raise DataError("rules missing")

    monkeypatch.setattr(eng, "load_rules", broken)
    assert gc.isenabled()
    with pytest.raises(DataError):
        compute_batch([{"date": "2026-11-20", "lines": [{"rate": "10%", "value": 1000}]}])
    assert gc.isenabled()
