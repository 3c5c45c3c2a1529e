"""Text as people type it (``xlduty.core.typed``), read one way wherever it is typed: currency:rate pairs (the JSON
rules, Excel's ``fx=``, the batch's ``fx_rates`` column and ``--fx-rates``), dates (JSON, Excel, a batch's CSV as
Japanese Excel saves it) and the words of closed sets (``NEVER`` is ``never`` everywhere)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

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
    ("USD:1e20", r"below 10\^15"),                 # too large, not "must be above 0"
    ("ＵＳＤ：１e15", r"below 10\^15"),             # full-width, read by NFKC, then refused for its size
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


@pytest.mark.parametrize("fast", [True, False])
def test_closed_set_words_in_a_declaration(fast: bool) -> None:
    """``"simplified": "NEVER"``, ``"claim_preference": "EPA_EU"`` and ``"relief": "REIMPORT"`` were refused as
    unknown words (the README says closed sets are case- and width-insensitive). Worked by hand:

    - 3924.10-000 CN ¥100,000: simplified 3 % = 3,000 (auto: cheaper than WTO 3.9 % = 3,900, so used); with
      ``NEVER`` the general tariff, 3,900.
    - 6109.10-020 FR ¥300,000, claim EPA_EU: the EU column 無税 → 0 (WTO 7.4 % would be 22,200).
    - 6109.10-020 CN ¥300,000, relief REIMPORT (定率法14条10号) → duty 0."""
    from xlduty.core.engine import Engine

    run = Engine(fast=fast).compute
    day = {"date": "2026-11-20"}
    toys = [{"hs_code": "3924.10-000", "origin": "CN", "value": 100000}]
    assert run({**day, "lines": toys}).totals.duty == 3000
    for word_ in ("NEVER", "Never", "ｎｅｖｅｒ", " never "):
        assert run({**day, "simplified": word_, "lines": toys}).totals.duty == 3900
    for claim in ("EPA_EU", "ｅｐａ＿ｅｕ", "Epa_Eu"):
        r = run({**day, "simplified": "never",
                 "lines": [{"hs_code": "6109.10-020", "origin": "FR", "value": 300000, "claim_preference": claim}]})
        assert (r.totals.duty, r.lines[0].rate_column) == (0, "epa_eu")
    for relief in ("REIMPORT", {"type": "Reimport"}, "ｒｅｉｍｐｏｒｔ"):
        r = run({**day, "simplified": "never",
                 "lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": 300000, "relief": relief}]})
        assert r.totals.duty == 0 and r.lines[0].relief is not None


def test_closed_set_words_in_excel_and_on_the_command_line(tmp_path: Path) -> None:
    """Excel's ``relief=REIMPORT`` (the field ``type``) and ``batch --simplified NEVER`` are the same words.
    6109.10-020 CN ¥300,000: WTO 7.4 % = 22,200; re-imported, 0."""
    assert f.DUTY("6109.10-020", 300000, "CN", None, "2026-11-20", "simplified=never") == 22200
    assert f.DUTY("6109.10-020", 300000, "CN", None, "2026-11-20", "relief=REIMPORT; simplified=NEVER") == 0
    src = tmp_path / "in.csv"
    src.write_text("hs_code,origin,value\n3924.10-000,CN,100000\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    p = subprocess.run([sys.executable, "-m", "xlduty", "batch", str(src), "-o", str(out), "--date", "2026-11-20",
                        "--simplified", "NEVER"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert (row["duty"], row["treatment"]) == ("3900", "general")
    p = subprocess.run([sys.executable, "-m", "xlduty", "compute", "--format", "JSONL", "-"], input="",
                       capture_output=True, text=True, timeout=120)
    assert "invalid choice" not in p.stderr and "the batch is empty" in p.stderr
