"""One number grammar for every number typed as text (xlduty/core/numbers.py): the JSON reader, the ``options`` text
of the worksheet functions and of the quote functions, Excel text cells and the command line's number arguments read
the same texts the same way. Full-width digits (a Japanese IME) are read as their ASCII (NFKC); a separator of any
kind is refused, never read: ``1,5`` was 15 yen of freight in an options text and in a cell, ``300_000`` was read in
JSON although the message for ``300,000`` said separators are not."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xlduty import compute
from xlduty.core.declaration import parse_declaration
from xlduty.core.errors import InputError
from xlduty.core.numbers import number_text, parse_number
from xlduty.excel import functions as f
from xlduty.excel.cells import number_text as cell_number
from xlduty.excel.options import parse_options

ROOT = Path(__file__).resolve().parents[1]
D = "2026-11-01"

READ = [("300000", "300000"), ("300000.5", "300000.5"), (" 12 ", "12"), ("+5", "+5"), (".5", ".5"), ("5.", "5."),
        ("1e3", "1e3"), ("1E-2", "1E-2"), ("３００００", "30000"), ("３００．５", "300.5"), ("\u3000７\u3000", "7")]
REFUSED = ["300,000", "1,5", "3,9", "300_000", "300 000", "300'000", "¥300", "300円", "$5", "1.2.3", "", " ",
           "nan", "NaN", "inf", "-Infinity", "0x10", "١٢٣", "1e", "e5", "--1", "1,000.5", "３，９"]


@pytest.mark.parametrize(("text", "canonical"), READ)
def test_the_grammar_reads(text: str, canonical: str) -> None:
    assert number_text(text) == canonical
    assert parse_number(text) == Decimal(canonical)


@pytest.mark.parametrize("text", REFUSED)
def test_the_grammar_refuses(text: str) -> None:
    assert number_text(text) is None
    with pytest.raises(ValueError):
        parse_number(text)


def _value(v: Any, **line: Any) -> dict[str, Any]:
    return {"date": D, "simplified": "never", "lines": [{"rate": "10%", "value": v, **line}]}


@pytest.mark.parametrize("text", REFUSED)
def test_json_strings_follow_the_grammar(text: str) -> None:
    """A JSON string that is no number is an error naming the field (``300_000`` and ``١٢٣`` were read before)."""
    with pytest.raises(InputError) as e:
        parse_declaration(_value(text))
    assert e.value.field == "lines[0].value"
    assert "number" in e.value.message


@pytest.mark.parametrize(("text", "canonical"), READ[:-1])
def test_json_strings_read_as_the_grammar_reads(text: str, canonical: str) -> None:
    """Full-width digits and the full-width point (``３００．５``, refused before) are read, as NFKC reads them."""
    assert parse_declaration(_value(text)).lines[0].value == Decimal(canonical)


def test_a_decimal_comma_is_named() -> None:
    """``3,9`` is refused with what it looks like: a decimal comma, to be written 3.9."""
    with pytest.raises(InputError) as e:
        parse_declaration(_value("1000", freight="3,9"))
    assert e.value.field == "lines[0].freight" and "decimal comma" in e.value.message and "3.9" in e.value.message


def test_every_number_field_of_every_input_follows_it() -> None:
    """Not only ``value``: liquor's strength, fx rates, a quote's margin and price rounding, a permit's yen."""
    from xlduty.quote.model import parse_quote
    from xlduty.quote.record import _permit

    for line in ({"liquor": {"category": "beer", "litres": 10, "abv": "5_0"}}, {"quantity": "1,000"}):
        with pytest.raises(InputError):
            parse_declaration(_value(1000, **line))
    with pytest.raises(InputError) as e:
        parse_declaration({**_value(1000), "fx_rates": {"USD": "155,39"}})
    assert e.value.field == "fx_rates.USD"
    quote = {"date": D, "lines": [{"hs_code": "6109.10-020", "origin": "CN", "quantity": 10, "unit_price": 1000}]}
    for extra, field in (({"margin": {"percent": "3_0"}}, "margin.percent"),
                         ({"options": {"price_rounding": "1_0"}}, "options.price_rounding")):
        with pytest.raises(InputError) as e:
            parse_quote({**quote, **extra})
        assert e.value.field == field
    assert parse_quote({**quote, "options": {"price_rounding": "１０"}}).options.price_rounding == 10
    with pytest.raises(InputError) as e:
        _permit({"duty": "22_200"})
    assert e.value.field == "permit.duty"
    with pytest.raises(InputError):
        _permit({"duty": True})
    assert _permit({"duty": "２２２００"}).duty == 22200


@pytest.mark.parametrize("text", ["1,5", "300,000", "300_000", "¥300"])
def test_options_numbers_follow_it(text: str) -> None:
    """``freight=1,5`` was freight 15 (the comma dropped); now it is an error naming options.freight."""
    with pytest.raises(InputError) as e:
        parse_options(f"freight={text}")
    assert e.value.field == "options.freight"


def test_options_and_cells_read_full_width_numbers() -> None:
    assert parse_options("freight=１２００").line["freight"] == "1200"
    assert cell_number("３００００", "value") == "30000"


@pytest.mark.parametrize("text", ["1,5", "300,000", "300_000", "¥300", "300円"])
def test_excel_text_cells_follow_it(text: str) -> None:
    """A text cell ``1,5`` was read as 15 (commas, ¥ and 円 dropped); a number cell formatted with a separator
    arrives as a number and is unaffected."""
    with pytest.raises(InputError):
        cell_number(text, "value")
    assert f.DUTY("6109.10-020", text, "CN", None, D).startswith("#エラー 課税価格(value)")
    assert f.DUTY("6109.10-020", 300000.0, "CN", None, D) == 22200


def test_quote_options_follow_it() -> None:
    from xlduty.excel.quote_functions import _options

    with pytest.raises(InputError) as e:
        _options("rounding=1,0")
    assert e.value.field == "options.rounding"
    assert _options("rounding=１０")[0]["options"]["price_rounding"] == "10"


@pytest.mark.parametrize(("flag", "text"), [("--target-cost", "1_500"), ("--target-cost", "1,500"),
                                            ("--target-cost", "nan"), ("--target-cost", "inf"),
                                            ("--step", "0,01"), ("--line", "1.5"), ("--line", "-1")])
def test_command_line_numbers_follow_it(flag: str, text: str) -> None:
    """``--target-cost nan`` and ``inf`` ended in a traceback; ``1_500`` was read. Now one line, exit 2."""
    p = subprocess.run([sys.executable, "-m", "xlduty", "quote", "examples/quote.json", "--reverse", flag, text,
                        *(["--target-cost", "1500"] if flag != "--target-cost" else [])],
                       cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert (p.returncode, p.stdout) == (2, "")
    assert len(p.stderr.splitlines()) == 1 and flag in p.stderr and "Traceback" not in p.stderr


def test_valid_numbers_compute_as_before() -> None:
    """The same figures from a JSON number, its text and its full-width text: 300,000 × 7.4 % = 22,200."""
    for v in (300000, "300000", "３０００００", "300000.0"):
        r = compute({"date": D, "lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": v}]})
        assert r.totals.duty == 22200
