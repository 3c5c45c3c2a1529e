"""The input contract: values and codes validated natively, errors naming the field in plain words."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from xlduty.core.declaration import parse_declaration
from xlduty.core.errors import InputError


def _line(**kw: Any) -> dict[str, Any]:
    return {"date": "2026-11-01", "lines": [{"rate": "10%", "value": 5000, **kw}]}


def test_float_becomes_its_shortest_decimal() -> None:
    """0.1 typed in JSON is 0.1 yen, not 0.1000000000000000055…: exact money from the first step."""
    d = parse_declaration(_line(value=0.1, freight=1234.5))
    assert d.lines[0].value == Decimal("0.1")
    assert d.lines[0].freight == Decimal("1234.5")


def test_codes_are_upper_cased_and_stripped() -> None:
    d = parse_declaration(_line(origin=" cn ", currency="usd"))
    assert (d.lines[0].origin, d.lines[0].currency) == ("CN", "USD")


@pytest.mark.parametrize(("kw", "field", "words"), [
    ({"value": True}, "lines[0].value", "a number is required"),
    ({"value": "1,000"}, "lines[0].value", "no thousands separators"),
    ({"value": "NaN"}, "lines[0].value", "finite"),
    ({"value": -1}, "lines[0].value", "greater than or equal to 0"),
    ({"currency": "US"}, "lines[0].currency", "3-letter ISO 4217"),
    ({"currency": "US$"}, "lines[0].currency", "3-letter ISO 4217"),
    ({"origin": "CHN"}, "lines[0].origin", "2-letter ISO 3166"),
    ({"liquor": {"category": "beer", "litres": 0}}, "lines[0].liquor.litres", "greater than 0"),
])
def test_bad_values_name_the_field(kw: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InputError) as err:
        parse_declaration(_line(**kw))
    assert err.value.field == field
    assert words in str(err.value)


@pytest.mark.parametrize("path", ["models", "plain"])
def test_an_absurd_amount_is_refused_not_a_crash(path: str) -> None:
    """10^30 kg on a specific duty (2009.19-190: 29.8 % or 23 yen/kg, the higher) crashed in Decimal's 28 digits
    (DivisionImpossible). Amounts and quantities of 10^15 or more are refused with the field named, by the
    hand-checked path as by the models; 10^15 − 1 kg still computes: 23 × 999,999,999,999,999 → floor_100."""
    from xlduty import compute

    line = {"hs_code": "2009.19-190", "origin": "US", "value": 300000, "unit": "kg",
            "quantity": 10**30 if path == "plain" else "1E+30"}   # a text goes to the models
    with pytest.raises(InputError) as e:
        compute({"date": "2026-11-20", "lines": [line]})
    assert e.value.field == "lines[0].quantity" and "10^15" in e.value.message
    line["quantity"] = 10**15 - 1
    assert compute({"date": "2026-11-20", "lines": [line]}).totals.duty == 22_999_999_999_999_900
