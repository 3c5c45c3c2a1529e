"""Dates the tables cannot speak for (xlduty/core/vouch.py, rules/tariff_cycle.yaml).

``date: 9999-12-31`` computed silently on the 2026_07_09 edition and today's consumption tax, and a ``tariff_edition``
not yet in force on the date gave no warning. Customs publishes a new 実行関税率表 every 1 April (and at other times),
so the newest bundled edition (2026_07_09, from 2026-07-09) vouches for dates through 2027-03-31, or through the day a
refresh last checked the site; past that, and for a pinned edition not in force on the date, the result warns."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from xlduty import compute
from xlduty.core import tables
from xlduty.core.rules import load_rules
from xlduty.core.vouch import next_annual, vouched_until

ANNUAL = load_rules().tariff_cycle.annual_edition


def _decl(on: str, **extra: Any) -> dict[str, Any]:
    return {"date": on, **extra, "lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": 300000}]}


def _past(result: Any) -> list[str]:
    return [w for w in result.warnings if "past what the tariff tables held can vouch for" in w]


def test_the_rule_is_dated_data() -> None:
    """1 April, from rules/tariff_cycle.yaml with its basis; the day before the next one after an edition's start."""
    assert (ANNUAL.month, ANNUAL.day) == (4, 1) and "関税暫定措置法" in ANNUAL.basis
    assert next_annual(date(2026, 7, 9), ANNUAL) == date(2027, 4, 1)
    assert next_annual(date(2026, 4, 1), ANNUAL) == date(2027, 4, 1)
    assert next_annual(date(2026, 3, 31), ANNUAL) == date(2026, 4, 1)
    assert vouched_until(date(2026, 7, 9), None, ANNUAL) == date(2027, 3, 31)
    assert vouched_until(date(2026, 7, 9), date(2027, 5, 10), ANNUAL) == date(2027, 5, 10)
    assert vouched_until(date(2026, 7, 9), date(2026, 12, 1), ANNUAL) == date(2027, 3, 31)


@pytest.mark.parametrize(("on", "warned"), [("2026-11-01", False), ("2027-03-31", False), ("2027-04-01", True),
                                            ("9999-12-31", True)])
def test_a_date_past_what_the_tables_vouch_for_warns(on: str, warned: bool) -> None:
    """The figures are still those of the newest edition (300,000 × 7.4 % = 22,200), with a warning that says which
    edition, through when, and what to do."""
    r = compute(_decl(on))
    assert r.totals.duty == 22200 and r.tariff_edition == "2026_07_09"
    past = _past(r)
    assert bool(past) == warned
    if warned:
        assert f"the date {on} is past" in past[0] and "through 2027-03-31" in past[0]
        assert "2026_07_09" in past[0] and "xlduty rates refresh" in past[0]


@pytest.mark.parametrize(("on", "edition", "words"), [
    ("2026-05-01", "2026_07_09", "tariff_edition 2026_07_09 was not yet in force on 2026-05-01 (it took effect "
                                 "2026-07-09)"),
    ("2026-11-01", "2025_04_01", "tariff_edition 2025_04_01 was no longer in force on 2026-11-01 (2026_07_09 took "
                                 "effect 2026-07-09)"),
    ("2026-11-01", "2026_07_09", None),
    ("2025-06-01", "2025_04_01", None),
])
def test_a_pinned_edition_not_in_force_on_the_date_warns(on: str, edition: str, words: str | None) -> None:
    r = compute(_decl(on, tariff_edition=edition))
    assert r.tariff_edition == edition
    pinned = [w for w in r.warnings if w.startswith("tariff_edition")]
    assert pinned == ([] if words is None else [pinned[0]])
    if words is not None:
        assert pinned[0].startswith(words)


def test_a_recorded_refresh_check_extends_what_is_vouched_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """A refresh that checked the site on 2027-06-01 and found 2026_07_09 still the newest: dates through that day are
    vouched for; the day after is not."""
    from xlduty.rates.store import Store

    monkeypatch.setenv(tables.ENV_DATA_DIR, str(tmp_path))
    tables.switched()
    try:
        Store().record_check(date(2027, 6, 1))
        assert tables.tariff_checked() == date(2027, 6, 1)
        assert not _past(compute(_decl("2027-06-01")))
        past = _past(compute(_decl("2027-06-02")))
        assert past and "through 2027-06-01" in past[0] and "last refresh checked the site on 2027-06-01" in past[0]
        Store().record_check(date(2027, 5, 1))   # an older check never moves it back
        assert tables.tariff_checked() == date(2027, 6, 1)
    finally:
        monkeypatch.undo()
        tables.switched()
