"""The rate shown is the rate that applies, also below a taxable value of ¥1,000.

A taxable value under ¥1,000 is 0 (国税通則法118条1項), so every rate gives ¥0 and the comparison by amount (定率法基本
通達3-1, selection.py) found nothing lower: ``=DUTY_RATE("6109.10-020",500,"CN")`` showed ``11.2% (基本税率)`` with the
note "WTO 7.4% is not lower". Two rates that both give ¥0 are now told apart where they differ (at ¥1,000:
``selection.tie_base``): a tie at ¥0 never picks the higher rate."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from xlduty import compute
from xlduty.core.rate import AdValorem, Free
from xlduty.core.schedule import edition_on
from xlduty.excel import functions as f

D = "2026-11-01"


@pytest.mark.parametrize("value", [0, 1, 500, 999])
def test_duty_rate_below_1000_yen_shows_the_rate_that_applies(value: int) -> None:
    """6109.10-020 from CN: general 11.2 %, WTO 7.4 %, RCEP China 4.6 % (claimed): as at ¥1,000 and above."""
    assert f.DUTY_RATE("6109.10-020", value, "CN", None, D) == "7.4% (WTO協定税率)"
    assert f.DUTY_RATE("6109.10-020", 1000, "CN", None, D) == "7.4% (WTO協定税率)"
    assert f.DUTY_RATE("6109.10-020", value, "CN", None, D, "claim=yes").startswith("4.6% (")
    line = compute({"date": D, "lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": value}]}).lines[0]
    assert (line.rate, line.rate_column, line.duty) == ("7.4%", "rate_wto", 0)
    assert not any("is not lower" in note for note in line.notes)


def test_a_free_preference_wins_a_tie_at_zero() -> None:
    """6109.10-020 from VN, claimed: the EPA columns covering Viet Nam are free; at ¥500 (taxable value 0) the claim
    shows a free rate, not the MFN 7.4 % (the duty is 0 either way)."""
    line = compute({"date": D, "lines": [{"hs_code": "6109.10-020", "origin": "VN", "value": 500,
                                          "claim_preference": True}]}).lines[0]
    assert line.rate == "無税" and line.rate_column.startswith(("epa_", "rate_ldc", "rate_gsp"))
    assert line.duty == 0


def _proportional_codes(n: int) -> list[str]:
    """Lines of the edition in force whose general, WTO and RCEP China cells are plain percentages or free, with a
    lower WTO or RCEP rate than the general one: where the winner cannot depend on the value (every n-th one)."""
    on = date(2026, 11, 1)
    schedule = edition_on(on)
    out = []
    for code in schedule.codes():
        if len(schedule._index[code]) != 1:
            continue
        line = schedule.line(code, on)
        rates = [line.rate(c) for c in ("rate_general", "rate_wto", "epa_rcep_china")]
        if all(isinstance(r, AdValorem | Free) for r in rates) and line.text("rate_temporary") is None:
            out.append(code)
    return out[::n]


def test_below_1000_yen_the_winner_is_the_winner_at_1000_yen() -> None:
    """Over a few hundred lines of plain percentages, with and without a claim, from CN and US: the rate shown at
    ¥0, ¥400 and ¥999 is the rate shown at ¥1,000 (there every comparison has amounts to compare)."""
    codes = _proportional_codes(20)
    assert len(codes) > 150

    def shown(value: int, origin: str, claim: bool) -> list[tuple[str, str]]:
        lines: list[dict[str, Any]] = [{"hs_code": c, "origin": origin, "value": value, "reduced_ct": False,
                                        "claim_preference": claim} for c in codes]
        result = compute({"date": D, "simplified": "never", "lines": lines})
        return [(ln.rate_column, ln.rate) for ln in result.lines]

    for origin, claim in (("CN", True), ("CN", False), ("US", False)):
        at_1000 = shown(1000, origin, claim)
        for value in (0, 400, 999):
            assert shown(value, origin, claim) == at_1000
