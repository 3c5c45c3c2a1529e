"""Rate plans (the winning rate remembered per line, origin, claim and date) give what a fresh selection gives."""

from __future__ import annotations

from typing import Any

from xlduty.engine import Engine


def _line(value: int) -> dict[str, Any]:
    return {"date": "2026-11-20", "simplified": "never",
            "lines": [{"hs_code": "3304.99-090", "origin": "KR", "value": value}, {"rate": "5%", "value": 50000}]}


def test_a_zero_taxable_value_is_selected_afresh() -> None:
    """At a taxable value of 0 every rate gives 0 yen, so the WTO rate is not lower: the national rate shows, whether
    or not an earlier line left the WTO rate remembered (the result never depends on what was computed before)."""
    fresh = Engine().compute(_line(900)).to_dict()
    engine = Engine()
    assert engine.compute(_line(500000)).lines[0].rate_column == "rate_wto"
    assert engine.compute(_line(900)).to_dict() == fresh
    assert fresh["lines"][0]["rate_column"] == "rate_general"
