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


def test_an_abv_given_as_null_is_an_abv_not_given() -> None:
    """``"abv": null`` is the optional strength left out, as ``null`` is for every other optional field: it crashed
    pydantic's bound (``TypeError: Unable to apply constraint 'ge' to supplied value None``: an internal error that
    stopped a whole ``compute --keep-going`` batch). Beer is taxed by volume alone: 350 l × ¥155,000/kl (酒税法23条,
    from 2026-10-01) = ¥54,250, the total to the 100 yen ¥54,200. Whisky is taxed by strength: abv is asked for, by
    name, as when it is left out. The bounds still hold."""
    from xlduty import compute

    beer = {"date": "2026-11-20", "lines": [{"hs_code": "2203.00-000", "origin": "US", "value": 100000,
                                              "liquor": {"category": "beer", "litres": 350, "abv": None}}]}
    assert parse_declaration(beer).lines[0].liquor.abv is None
    result = compute(beer)
    assert (result.lines[0].excise, result.totals.excise) == (54250, 54200)
    whisky = {"date": "2026-11-20", "lines": [{"hs_code": "2208.30-000", "origin": "GB", "value": 200000,
                                                "liquor": {"category": "whisky", "litres": 70, "abv": None}}]}
    with pytest.raises(InputError) as e:
        compute(whisky)
    assert e.value.field == "lines[0].liquor.abv" and "give abv" in e.value.message
    for abv, words in ((101, "less than or equal to 100"), (-1, "greater than or equal to 0"), ("x", "a number")):
        with pytest.raises(InputError) as e:
            parse_declaration({**beer, "lines": [{**beer["lines"][0], "liquor": {"category": "beer", "litres": 1,
                                                                                   "abv": abv}}]})
        assert e.value.field == "lines[0].liquor.abv" and words in e.value.message
