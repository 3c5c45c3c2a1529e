"""A key given twice is an error naming the field ("given twice"), never the last one silently kept.

Before, ``"value": 300000, "value": 1`` computed a tax of 0, ``rate=14%; rate=0%`` gave DUTY 0 and
``claim=no; claim=yes`` applied the claim. Every JSON xlduty reads from a user (compute, quote, --permit, a saved
quote) is read by one reader (xlduty/command.py ``loads``), which refuses a key given twice at any depth; the options
texts of the worksheet and quote functions are read by one reader (xlduty/excel/options.py ``items``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from xlduty.command import loads
from xlduty.core.declaration import parse_declaration
from xlduty.core.errors import InputError
from xlduty.excel import functions as f
from xlduty.excel.options import parse_options

ROOT = Path(__file__).resolve().parents[1]
D = "2026-11-01"
LINE = '{"hs_code": "6109.10-020", "origin": "CN", "value": 300000}'


@pytest.mark.parametrize(("text", "field"), [
    ('{"date": "2026-11-01", "lines": [{"hs_code": "6109.10-020", "value": 300000, "value": 1}]}', "lines[0].value"),
    ('{"date": "2026-11-01", "date": "2099-01-01", "lines": [' + LINE + "]}", "date"),
    ('{"date": "2026-11-01", "lines": [' + LINE + ', {"rate": "5%", "value": 9, "liquor": {"category": "beer", '
     '"litres": 1, "litres": 2}}]}', "lines[1].liquor.litres"),
    ('[{"date": "2026-11-01", "lines": [' + LINE + ']}, {"date": "2026-11-01", "lines": [{"origin": "CN", '
     '"origin": "VN", "value": 1, "rate": "1%"}]}]', "[1].lines[0].origin"),
    ('{"date": "2026-11-01", "fx_rates": {"USD": 150, "EUR": 160, "USD": 1}, "lines": [' + LINE + "]}",
     "fx_rates.USD"),
])
def test_a_json_key_given_twice_is_named_at_any_depth(text: str, field: str) -> None:
    with pytest.raises(InputError) as e:
        loads(text.encode(), "in.json")
    assert e.value.field == field and e.value.message.startswith("given twice")


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlduty", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=120, check=False)


def test_compute_refuses_a_value_given_twice() -> None:
    """The issue's case: ``"value": 300000, "value": 1`` computed 0 (the last value, ¥1). Now exit 2, one line."""
    text = '{"date": "2026-11-01", "lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": 300000, "value": 1}]}'
    p = _cli("compute", "-", stdin=text)
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.splitlines() == ["xlduty: lines[0].value: given twice: give each field once (JSON keeps only one "
                                     "of the two)"]


def test_quote_permit_and_saved_quote_refuse_a_key_given_twice(tmp_path: Path) -> None:
    """The quote input, the permit compared with a saved quote and the saved quote itself: the same reader."""
    quote = (ROOT / "examples" / "quote.json").read_text(encoding="utf-8")
    twice = quote.replace('"margin": {"percent": 35,', '"margin": {"percent": 35, "percent": 90,')
    assert twice != quote
    p = _cli("quote", "-", stdin=twice)
    assert (p.returncode, p.stdout) == (2, "") and "margin.percent: given twice" in p.stderr
    saved = tmp_path / "saved.json"
    assert _cli("quote", "examples/quote.json", "--save", str(saved)).returncode == 0
    permit = tmp_path / "permit.json"
    permit.write_text('{"duty": 23900, "national_ct": 27000, "duty": 0}', encoding="utf-8")
    p = _cli("quote", str(saved), "--permit", str(permit))
    assert (p.returncode, p.stdout) == (2, "") and p.stderr.splitlines() == [
        "xlduty: duty: given twice: give each field once (JSON keeps only one of the two)"]
    record = saved.read_text(encoding="utf-8")
    saved.write_text(record.replace('"format": "xlduty-quote/1",', '"format": "xlduty-quote/1", "date": "2099-01-01",'
                                    , 1), encoding="utf-8")
    p = _cli("quote", str(saved), "--reproduce")
    assert (p.returncode, p.stdout) == (2, "") and "date: given twice" in p.stderr


@pytest.mark.parametrize(("text", "field"), [
    ("rate=14%; rate=0%", "options.rate"), ("claim=no; claim=yes", "options.claim"),
    ("claim=no; epa=yes", "options.claim"), ("personal; 個人使用", "options.personal"),
    ("currency=USD; fx=155; FX=1", "options.fx"), ("fx=USD:155.39,USD:1", "options.fx"),
    ("fx=155,39", "options.fx"),
])
def test_options_given_twice_are_named(text: str, field: str) -> None:
    with pytest.raises(InputError) as e:
        parse_options(text)
    assert e.value.field == field


def test_the_worksheet_functions_refuse_an_option_given_twice() -> None:
    """``rate=14%; rate=0%`` gave DUTY 0 and ``claim=no; claim=yes`` applied the claim (RCEP 4.6 %: 13,800).
    Each alone: 300,000 × 14 % = 42,000; MFN 7.4 % = 22,200."""
    assert f.DUTY("6109.10-020", 300000, "CN", None, D, "rate=14%") == 42000
    assert f.DUTY("6109.10-020", 300000, "CN", None, D, "claim=no") == 22200
    for text in ("rate=14%; rate=0%", "claim=no; claim=yes"):
        assert f.DUTY("6109.10-020", 300000, "CN", None, D, text).startswith("#エラー ")
        assert "given twice" in f.DUTY("6109.10-020", 300000, "CN", None, D, text)


def test_quote_options_given_twice_are_named() -> None:
    from xlduty.excel.quote_functions import _options

    with pytest.raises(InputError) as e:
        _options("rounding=10; 端数=100")
    assert e.value.field == "options.rounding"


def test_a_currency_given_twice_in_other_case_is_named() -> None:
    """``{"usd": 150, "USD": 1}`` is one currency given twice (upper-cased, the last won)."""
    decl = json.loads('{"date": "2026-11-01", "fx_rates": {"usd": 150, "USD": 1}, "lines": [{"rate": "1%", "value": 1,'
                      ' "currency": "USD"}]}')
    with pytest.raises(InputError) as e:
        parse_declaration(decl)
    assert e.value.field == "fx_rates" and "USD given twice" in e.value.message
    from xlduty import compute

    with pytest.raises(InputError):
        compute(decl)


@pytest.mark.parametrize("text", [
    b'{"a": 1, "b": {"c": [1, 2, {"d": 3}]}}', b' \t\r\n{"a": 1.50}\n', b'\xef\xbb\xbf{"a": 1}', '\ufeff{"a": 1}',
    b'{"a": 1, "a": 2}', b'{"k": {"a": 1, "a": 1}}', b'[{"a": 1}, {"b": 1, "b": 1}]', b'{"a": "x:y", "a": 2}',
    b'{"a": "x:y"}', b'{"u:v": 1}', b'[1, 2', b'', b'   ', b'1 2', b'"s"', b'5', b'{"a": 1}\x0c', b'\x0c{"a": 1}',
    '{"a": 1}'.encode("utf-16"), '{"a": 1}'.encode("utf-32"), b'{"a": 1e999999999999999999}', b"[" * 100000,
    b'{"a": "\\ud800"}', b"NaN", b'{"a": NaN}', b"\xff", b'{"a": 1}\x00', "{\"a\": 1}\u00a0".encode(),
    b'{"a": 1} ', b'{"a":1}{"b":2}', b'{"a": 1,}', b'{"a": ' + b"9" * 5000 + b"}", '{"日本": "値:1"}'.encode(),
])
def test_the_json_reader_reads_as_the_exact_route(text: bytes | str) -> None:
    """``loads`` reads a text without a hook when its colons and its objects' pairs agree (no key given twice can
    hide there), else by the exact route: either way the same value, or the same error, as the exact route alone
    (a key given twice, a colon in a string, BOMs and UTF-16/32, JSON's own whitespace only, bad bytes, limits)."""
    from xlduty.command import _loads_exactly

    def outcome(read: Any) -> Any:
        try:
            return "value", read(text, "in.json")
        except InputError as exc:
            return "error", exc.field, exc.message

    assert outcome(loads) == outcome(_loads_exactly)
