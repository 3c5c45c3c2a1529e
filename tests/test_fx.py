"""Customs weekly exchange rates (関税定率法4条の7, 施行規則1条): Sunday–Saturday weeks, per-100 units, overrides.

Official figures for the week 2014-12-28 – 2015-01-03 (expydoc copy of the customs PDF, reference §7):
USD 118.20, EUR 146.65, KRW 10.80 per 100 units. Dates in 2014-2015 use CT 6.3 % and local 17/63.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from xlduty import compute
from xlduty.core.errors import InputError
from xlduty.core.fx import customs_rates, rate_for, week_of


def _decl(day: str, value: Any, currency: str, **kw: Any) -> dict[str, Any]:
    return {"date": day, "simplified": "never",
            "lines": [{"rate": "10%", "value": value, "currency": currency, **kw.pop("line", {})}], **kw}


def test_week_runs_sunday_to_saturday() -> None:
    """2015-01-03 is a Saturday (week from Sunday 2014-12-28); 2015-01-04 is a Sunday (a new week)."""
    assert date(2015, 1, 3).weekday() == 5
    assert week_of(date(2015, 1, 3)) == (date(2014, 12, 28), date(2015, 1, 3))
    assert week_of(date(2014, 12, 28)) == (date(2014, 12, 28), date(2015, 1, 3))
    assert week_of(date(2015, 1, 4)) == (date(2015, 1, 4), date(2015, 1, 10))


@pytest.mark.parametrize("day", ["2014-12-28", "2015-01-03"])
def test_declaration_in_the_official_week_uses_118_20(day: str) -> None:
    """USD 1,000 on Sunday 2014-12-28 or Saturday 2015-01-03 → 1,000 × 118.20 = 118,200 yen.

    rate 10 %: tv 118,000 → duty 11,800. ct_base floor_1000(118,200 + 11,800) = 130,000;
    nat 130,000 × 6.3% = 8,190 → 8,100; loc floor_100(8,190) = 8,100 × 17/63 = 2,185.7 → 2,185 → 2,100.
    total 11,800 + 8,100 + 2,100 = 22,000.
    """
    r = compute(_decl(day, 1000, "USD"))
    ln = r.lines[0]
    assert ln.customs_value == Decimal("118200")
    assert (ln.taxable_value, ln.duty, ln.ct_base, ln.national_ct, ln.local_ct) == (118000, 11800, 130000, 8190, 2185)
    t = r.totals
    assert (t.duty, t.national_ct, t.local_ct, t.total) == (11800, 8100, 2100, 22000)
    assert r.fx == [{"currency": "USD", "yen": "118.20", "per_units": 1, "week_start": "2014-12-28",
                     "week_end": "2015-01-03", "source": "customs"}]


@pytest.mark.parametrize(("day", "start"), [("2014-12-27", "2014-12-21"), ("2015-01-04", "2015-01-04")])
def test_days_either_side_use_other_weeks(day: str, start: str) -> None:
    """Saturday 2014-12-27 still belongs to the previous week; Sunday 2015-01-04 starts the next one."""
    r = compute(_decl(day, 1000, "USD"))
    assert r.fx[0]["week_start"] == start
    assert r.fx[0]["yen"] != "118.20"
    assert r.lines[0].customs_value != Decimal("118200")


def test_saturday_and_next_sunday_differ() -> None:
    """The Saturday uses week 2014-12-28 (118.20); the next day (Sunday 2015-01-04) uses the next week."""
    sat = compute(_decl("2015-01-03", 1000, "USD")).fx[0]
    sun = compute(_decl("2015-01-04", 1000, "USD")).fx[0]
    assert (sat["week_start"], sat["yen"]) == ("2014-12-28", "118.20")
    assert sun["week_start"] == "2015-01-04" and sun["week_end"] == "2015-01-10"


def test_krw_is_quoted_per_100_units() -> None:
    """KRW 10.80 per 100 → 0.108 yen/KRW. KRW 1,000,000 → 108,000 yen.

    rate 10 %: tv 108,000 → 10,800; ct_base floor_1000(118,800) = 118,000; nat × 6.3% = 7,434 → 7,400;
    loc floor_100(7,434) = 7,400 × 17/63 = 1,996.8 → 1,996 → 1,900. total 10,800 + 7,400 + 1,900 = 20,100.
    """
    r = compute(_decl("2014-12-28", 1000000, "KRW"))
    assert r.lines[0].customs_value == Decimal("108000")
    assert r.fx[0]["yen"] == "10.80" and r.fx[0]["per_units"] == 100
    t = r.totals
    assert (t.duty, t.national_ct, t.local_ct, t.total) == (10800, 7400, 1900, 20100)


def test_bundled_table_holds_the_official_figures() -> None:
    """rate_for on 2014-12-30: USD 118.20, EUR 146.65, KRW 10.80/100 = 0.108 per unit."""
    on = date(2014, 12, 30)
    usd, eur, krw = (rate_for(c, on, {}, "x") for c in ("USD", "EUR", "KRW"))
    assert usd.yen_per_unit == Decimal("118.20")
    assert eur.yen_per_unit == Decimal("146.65")
    assert krw.yen_per_unit == Decimal("0.108")
    assert (krw.published, krw.per_units) == ("10.80", 100)


def test_freight_and_insurance_are_converted_with_the_goods() -> None:
    """USD 900 + freight 80 + insurance 20 = USD 1,000 CIF × 118.20 = 118,200 yen (tv 118,000)."""
    r = compute(_decl("2015-01-02", 900, "USD", line={"freight": 80, "insurance": 20}))
    assert r.lines[0].customs_value == Decimal("118200")
    assert r.lines[0].taxable_value == 118000


def test_conversion_is_exact_before_truncation() -> None:
    """USD 123.45 × 118.20 = 14,591.79 yen exactly; tv floor_1000 = 14,000; duty 10 % = 1,400."""
    ln = compute(_decl("2015-01-02", "123.45", "USD")).lines[0]
    assert ln.customs_value == Decimal("14591.79")
    assert (ln.taxable_value, ln.duty) == (14000, 1400)


def test_fx_rates_override_outside_the_table() -> None:
    """2026-11-01, fx_rates USD 150: USD 1,000 → 150,000 yen.

    rate 10 %: 15,000; ct_base 165,000 × 7.8% = 12,870 → 12,800; loc 12,800 × 22/78 = 3,610.3 → 3,610 → 3,600.
    total 15,000 + 12,800 + 3,600 = 31,400.
    """
    r = compute(_decl("2026-11-01", 1000, "USD", fx_rates={"USD": 150}))
    assert r.lines[0].customs_value == Decimal("150000")
    t = r.totals
    assert (t.duty, t.national_ct, t.local_ct, t.total) == (15000, 12800, 3600, 31400)
    assert r.fx[0]["source"] == "declaration"


def test_fx_rates_override_wins_over_the_bundled_week() -> None:
    """Inside the bundled range, fx_rates USD 100 replaces 118.20: USD 1,000 → 100,000 yen."""
    r = compute(_decl("2015-01-02", 1000, "USD", fx_rates={"USD": 100}))
    assert r.lines[0].customs_value == Decimal("100000")


def test_week_outside_the_bundled_range() -> None:
    """2026-11-01 is after the bundled table: InputError on lines[0].currency that mentions fx_rates."""
    first, last = customs_rates().first_week, customs_rates().last_week
    assert not first <= date(2026, 11, 1) <= last
    with pytest.raises(InputError) as e:
        compute(_decl("2026-11-01", 1000, "USD"))
    assert e.value.field.endswith(".currency")
    assert e.value.field == "lines[0].currency"
    assert "fx_rates" in e.value.message


def test_missing_rate_names_the_right_line() -> None:
    """A yen line 0 and a USD line 1: the error names lines[1].currency."""
    decl = {"date": "2026-11-01", "simplified": "never",
            "lines": [{"rate": "10%", "value": 50000}, {"rate": "10%", "value": 10, "currency": "USD"}]}
    with pytest.raises(InputError) as e:
        compute(decl)
    assert e.value.field == "lines[1].currency"


def test_yen_lines_need_no_rate() -> None:
    """JPY is never converted: no fx entry is reported."""
    r = compute({"date": "2026-11-01", "simplified": "never", "lines": [{"rate": "10%", "value": 50000}]})
    assert r.fx == []
    assert r.lines[0].customs_value == Decimal("50000")


def test_week_of_is_cut_at_the_ends_of_the_calendar() -> None:
    """Years 1 and 9999 have partial weeks: no OverflowError (the lookup then says no rate is bundled)."""
    assert week_of(date(1, 1, 1)) == (date.min, date(1, 1, 6))          # a Monday: its Sunday is before year 1
    assert week_of(date(9999, 12, 31)) == (date(9999, 12, 26), date.max)   # a Friday in the last week
    assert week_of(date(2026, 11, 21)) == (date(2026, 11, 15), date(2026, 11, 21))


def test_a_per_100_figure_given_as_a_per_unit_rate_is_warned_about() -> None:
    """Customs quotes KRW per 100 units (8.94 yen per 100 KRW in the last bundled week, 2020-09-20). 8.94 given in
    fx_rates is read as yen per 1 KRW, as the contract says: 1,000,000 KRW → 8,940,000 yen (not 89,400), and a
    warning says so. 0.0894 (the per-unit rate) and USD (quoted per 1) draw none."""
    def run(currency: str, rate: str) -> Any:
        return compute({"date": "2026-11-20", "simplified": "never", "fx_rates": {currency: rate},
                        "lines": [{"rate": "10%", "value": 1000000, "currency": currency}]})

    r = run("KRW", "8.94")
    assert r.lines[0].customs_value == Decimal("8940000.00")
    assert r.warnings == ["fx_rates KRW 8.94 is read as yen per 1 KRW, about 100 times the customs rate (8.94 yen "
                          "per 100 KRW in the week of 2020-09-20, the latest bundled): if 8.94 is a per-100 figure, "
                          "give 0.0894"]
    assert run("KRW", "0.0894").warnings == [] and run("USD", "155.39").warnings == []


def test_an_unreadable_customs_table_does_not_stop_a_declaration_with_its_own_rates(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-100 check reads the customs table; when it cannot, the check is skipped, not the declaration."""
    import xlduty.core.fx as fx
    from xlduty.core.errors import DataError

    def unreadable() -> dict[str, tuple[str, str]]:
        raise DataError("cannot read the exchange rates")

    fx.given_rate_warning.cache_clear()
    monkeypatch.setattr(fx, "_per_100", unreadable)
    try:
        r = compute({"date": "2026-11-20", "fx_rates": {"KRW": "8.94"},
                     "lines": [{"rate": "10%", "value": 1000, "currency": "KRW"}]})
        assert r.lines[0].customs_value == Decimal("8940.00") and r.warnings == []
    finally:
        fx.given_rate_warning.cache_clear()
