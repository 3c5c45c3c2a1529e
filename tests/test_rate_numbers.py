"""Numbers inside rate texts: the tariff groups thousands with a comma by threes (``1,035円/kg``), and nothing else.

The parser read any comma inside a number as nothing: ``3,9%`` (a decimal comma) was 39 %, whether given in ``rate``
or brought by a refresh (tests/test_rates_refresh.py: the refresh names such cells and compute refuses them). It now
refuses a comma that is not a thousands separator, and every cell of every bundled edition still parses, to the same
expression as before (checked here against the same text without its separators; against the parser of 92e444f, all
1,791 distinct texts of the 616,894 non-empty cells of the three editions give identical expressions).
"""

from __future__ import annotations

import gzip
import json
import re
from decimal import Decimal

import pytest

from xlduty import compute
from xlduty.core.errors import InputError, RateParseError
from xlduty.core.rate import Specific
from xlduty.core.rate_parser import normalize, parse_rate
from xlduty.core.tables import rules_dir
from xlduty.excel import functions as f


@pytest.mark.parametrize("text", ["3,9%", "1,5円/kg", "10,00%", "12,3456円/kg", "25%＋1,0350円/kg", "3,9% or 5%",
                                  "(20,40.55円×1.042-課税価格)/頭", "1,035,12円/kg", "３，９％"])
def test_a_comma_that_groups_no_thousands_is_refused(text: str) -> None:
    with pytest.raises(RateParseError, match="comma"):
        parse_rate(text)


@pytest.mark.parametrize(("text", "yen"), [("1,035円/kg", "1035"), ("3,400,000円/頭", "3400000"),
                                           ("2,376.60円/kg", "2376.60"), ("1035円/kg", "1035"),
                                           ("１，０３５円／ｋｇ", "1035")])
def test_thousands_separators_are_read(text: str, yen: str) -> None:
    rate = parse_rate(text)
    assert isinstance(rate, Specific) and rate.yen == Decimal(yen)


def _bundled_texts() -> set[str]:
    texts: set[str] = set()
    for entry in json.loads((rules_dir() / "tariff" / "editions.json").read_text(encoding="utf-8"))["editions"]:
        book = json.loads(gzip.decompress((rules_dir() / "tariff" / entry["file"]).read_bytes()))
        texts.update(book["rates"])
    return texts


def test_every_bundled_cell_parses_and_reads_its_separators_as_thousands() -> None:
    """Each distinct rate text of the three bundled editions parses, and a text with grouped thousands parses to the
    same expression as the text with the separators taken out: the digits are read, the commas only group them (a
    range or a manual rate keeps its text as printed, so the texts it keeps are compared without separators too)."""
    def plain(text: str) -> str:
        return re.sub(r"(?<=[0-9]),(?=[0-9]{3})", "", text)

    texts = _bundled_texts()
    assert len(texts) == 1791
    grouped = 0
    for text in texts:
        rate = parse_rate(text)
        if plain(normalize(text)) != normalize(text):
            grouped += 1
            assert plain(repr(parse_rate(plain(normalize(text))))) == plain(repr(rate)), text
    assert grouped == 70


def test_a_user_rate_with_a_decimal_comma_is_refused() -> None:
    """``rate: "3,9%"`` computed 300,000 × 39 % = 117,000; now an error naming the field and the number."""
    line = {"hs_code": "6109.10-020", "origin": "CN", "value": 300000, "rate": "3,9%"}
    with pytest.raises(InputError) as e:
        compute({"date": "2026-11-01", "lines": [line]})
    assert e.value.field == "lines[0].rate" and "'3,9'" in e.value.message
    assert compute({"date": "2026-11-01", "lines": [{**line, "rate": "3.9%"}]}).totals.duty == 11700
    cell = f.DUTY("6109.10-020", 300000, "CN", None, "2026-11-01", "rate=3,9%")
    assert cell.startswith("#エラー 税率(rate)")


@pytest.mark.parametrize("text", ["3,900%", "1,000%", "1,000.5%", "３，９００％", "5% or 3,900%"])
def test_a_grouped_percentage_is_refused(text: str) -> None:
    """``3,900%`` was read as 3900 % (300,000 yen → 11,700,000 duty): with a decimal comma it means 3.9 %, and the
    tariff never groups the digits of a percentage, so it cannot be read one way."""
    with pytest.raises(RateParseError, match="cannot be read one way"):
        parse_rate(text)
