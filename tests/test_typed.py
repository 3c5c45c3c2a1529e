"""Text as people type it (``xlduty.core.typed``), read one way wherever it is typed: currency:rate pairs (the JSON
rules, Excel's ``fx=``, the batch's ``fx_rates`` column and ``--fx-rates``), dates (JSON, Excel, a batch's CSV as
Japanese Excel saves it) and the words of closed sets (``NEVER`` is ``never`` everywhere)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from xlduty import compute
from xlduty.core.errors import InputError
from xlduty.core.typed import closed, fx_pairs, read_date, word
from xlduty.excel import functions as f
from xlduty.excel.options import parse_options

# --- currency:rate pairs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "rates"), [
    ("USD:155.39,EUR:162.1", {"USD": Decimal("155.39"), "EUR": Decimal("162.1")}),
    ("usd:155.39; eur:162.1", {"USD": Decimal("155.39"), "EUR": Decimal("162.1")}),
    (" USD : 155.39 ", {"USD": Decimal("155.39")}),
    ("USD:155.39 EUR:162.1", {"USD": Decimal("155.39"), "EUR": Decimal("162.1")}),
    ("ＵＳＤ：１５５．３９", {"USD": Decimal("155.39")}),
    ("USD:1.5539e2", {"USD": Decimal("155.39")}),
])
def test_fx_pairs_read(text: str, rates: dict[str, Decimal]) -> None:
    assert fx_pairs(text) == rates


@pytest.mark.parametrize(("text", "why"), [
    ("USD:155_39", "a number is required"),         # not 15,539 (Decimal reads underscores)
    ("USD:1_5539e2", "a number is required"),
    ("USD:155.39,USD:1", "USD given twice"),        # not "the last one wins" (rate 1)
    ("usd:155.39,USD:1", "USD given twice"),
    ("USD:NaN", "a finite number is required"),
    ("USD:0", "above 0"),
    ("USD:-1", "above 0"),
    ("USD:155,39", "decimal point, not a comma"),
    ("US:155.39", "not a 3-letter currency code"),
    ("155.39", "give each rate with its currency"),
    ("", "give yen per unit"),
])
def test_fx_pairs_refused(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        fx_pairs(text)


def test_excel_fx_reads_the_same_pairs() -> None:
    """Excel's ``fx=`` is the same reader (a bare rate is the line currency's)."""
    assert parse_options("fx=USD:155.39,eur:1.621e2").declaration["fx_rates"] == {"USD": "155.39", "EUR": "162.1"}
    assert parse_options("fx=155.39").declaration["fx_rates"] == {"": "155.39"}
    for bad in ("fx=USD:155_39", "fx=USD:155.39,USD:1", "fx=USD:NaN"):
        with pytest.raises(InputError) as e:
            parse_options(bad)
        assert e.value.field == "options.fx"


# --- dates --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2026-11-20", "2026/11/20", "２０２６／１１／２０", "２０２６－１１－２０",
                                  "2026年11月20日", " 2026/11/20 "])
def test_dates_as_japanese_excel_writes_them(text: str) -> None:
    assert read_date(text) == date(2026, 11, 20)


def test_a_date_with_one_digit_month_and_day() -> None:
    assert read_date("2026/1/5") == read_date("2026-1-5") == date(2026, 1, 5)


@pytest.mark.parametrize(("text", "why"), [
    ("20261120", "is not a date"), ("46346", "is not a date"), ("11/20/2026", "is not a date"),
    ("2026/11-20", "is not a date"), ("2026-02-30", "is not a day of the calendar"), ("2026-13-01", "calendar"),
])
def test_other_dates_are_refused(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        read_date(text)


def test_the_declaration_and_excel_read_dates_alike() -> None:
    """A declaration's ``date`` and a worksheet function's date cell (text) are read by the same grammar: the same
    figures as 2026-11-20 (6109.10-020 CN ¥300,000: WTO 7.4 % = 22,200)."""
    base = {"lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": 300000}], "simplified": "never"}
    for text in ("2026/11/20", "２０２６年１１月２０日"):
        assert compute({**base, "date": text}).totals.duty == 22200
        assert f.DUTY("6109.10-020", 300000, "CN", None, text) == 22200
    with pytest.raises(InputError) as e:
        compute({**base, "date": "2026-02-30"})
    assert e.value.field == "date" and "calendar" in e.value.message


# --- words of closed sets -----------------------------------------------------------------------------------------


def test_closed_words() -> None:
    assert closed(" NEVER ") == closed("Ｎｅｖｅｒ") == "never"
    assert word("EPA_EU", ("epa_eu", "epa_uk")) == "epa_eu"
    with pytest.raises(ValueError, match=r"unknown 'sometimes' \(use auto, always, never\)"):
        word("sometimes", ("auto", "always", "never"))
