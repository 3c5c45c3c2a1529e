"""What people type: codes typed in a Japanese IME's full-width mode, and words of a closed set.

A code typed in full-width mode is read as NFKC reads it, the way numbers are (tests/test_numbers.py), in the CLI
and in Excel: the HS code ``６１０９．１０－０２０``, the origin ``ＣＮ``, the currency ``ＵＳＤ``, a preference
column ``ｅｐａ＿ｒｃｅｐ＿ｃｈｉｎａ``, the unit ``ｋｇ``. Before, each was an error (or, for a currency, a missing
rate). A word outside a closed set (``HS_NAME(…, "fr")``) is an error listing the words allowed; before, ``fr``
silently gave the Japanese text."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from xlduty import compute
from xlduty.excel import functions as f
from xlduty.excel import quote_functions as qf

ROOT = Path(__file__).resolve().parents[1]
D = "2026-11-01"


def _decl(**line: Any) -> dict[str, Any]:
    return {"date": D, "fx_rates": {"USD": 150}, "lines": [{"value": 2000, **line}]}


# T-shirts from CN, USD 2,000 × 150 = 300,000: RCEP China 4.6 % = 13,800 claimed; 7.4 % = 22,200 otherwise.
ASCII = {"hs_code": "6109.10-020", "origin": "CN", "currency": "USD", "claim_preference": "epa_rcep_china"}
WIDE = {"hs_code": "６１０９．１０－０２０", "origin": "ＣＮ", "currency": "ｕｓｄ",
        "claim_preference": "ｅｐａ＿ｒｃｅｐ＿ｃｈｉｎａ"}


def test_full_width_codes_compute_as_ascii() -> None:
    ascii_result = compute(_decl(**ASCII)).to_dict()
    assert ascii_result["totals"]["duty"] == 13800
    assert compute(_decl(**WIDE)).to_dict() == ascii_result


@pytest.mark.parametrize("name", list(WIDE))
def test_each_full_width_code_alone(name: str) -> None:
    assert compute(_decl(**{**ASCII, name: WIDE[name]})).totals.duty == 13800


def test_full_width_unit_and_currency_keys() -> None:
    """Wine 2204.21-020 FR, WTO 15 % or 125 yen/l whichever is less, minimum 67 yen/l: 9 l, ¥48,000 → 15 % = 7,200
    against 125 × 9 = 1,125: 1,125 (above the minimum 603; general tariff: the simplified one would give 70 × 9 = 630).
    The unit ｌ and the fx key ＵＳＤ read as l and USD."""
    line = {"hs_code": "2204.21-020", "origin": "US", "value": 320, "currency": "USD", "quantity": 9, "unit": "ｌ"}
    r = compute({"date": D, "simplified": "never", "fx_rates": {"ＵＳＤ": 150}, "lines": [line]})
    assert r.lines[0].duty == 1125


def test_the_command_line_reads_full_width_codes() -> None:
    p = subprocess.run([sys.executable, "-m", "xlduty", "compute", "-"], cwd=ROOT, input=json.dumps(_decl(**WIDE)),
                       capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["totals"]["duty"] == 13800


def test_excel_reads_full_width_codes() -> None:
    """DUTY (300,000 × 7.4 % = 22,200), CUSTOMS_FX (USD, week of 2019-05-01: 111.97), HS_NAME, XLDUTY_INFO, the
    options' claim column and a quote line's code and origin, each typed in full width."""
    assert f.DUTY("６１０９．１０－０２０", 300000, "ＣＮ", None, D) == 22200
    assert f.DUTY("６１０９１００２０", 300000, "ｃｎ", None, D, "claim=ｅｐａ＿ｒｃｅｐ＿ｃｈｉｎａ") == 13800
    assert f.CUSTOMS_FX("ＵＳＤ", "2019-05-01") == 111.97
    assert f.HS_NAME("６１０９．１０－０２０", D, "ＥＮ") == "Of cotton"
    assert f.XLDUTY_INFO("ｅｄｉｔｉｏｎ", D) == "2026_07_09"
    assert f.DUTY_LINES(["６１０９．１０－０２０"], [300000], "ＣＮ", None, D, None, "ｄｕｔｙ") == [[22200]]
    lines = [["T-shirts", "６１０９．１０－０２０", "ＣＮ", 100, 3000, None, None]]
    assert qf.QUOTE_TOTALS(lines, None, None, D, "ＣＩＦ", "ＪＰＹ", None, None, None, None, "duty") == 22200


def test_digits_of_other_scripts_are_not_an_hs_code() -> None:
    """NFKC leaves Arabic-Indic digits as they are: not digits of a code (Python's ``\\d`` would take them)."""
    assert f.DUTY("٦١٠٩١٠٠٢٠", 300000, "CN", None, D).startswith("#エラー 品目番号(hs_code)")


def test_codes_in_the_printed_form_read_as_every_other_form_reads() -> None:
    """``normalize_hs`` takes a code in the printed form (6109.10-020) straight to its digits: the same digits, or the
    same error, as the general reading (NFKC, then the patterns) gives, for texts of that shape made of digits of
    several scripts, separators and spaces."""
    from random import Random

    from xlduty.core.hs import _normalize, normalize_hs

    r = Random(15)
    pieces = "0123456789" * 4 + "０１٦²" + " .-a\n"
    for _ in range(20_000):
        text = "".join(r.choice(pieces) for _ in range(11))
        text = text[:4] + r.choice(".-") + text[5:7] + r.choice("-.") + text[8:]
        try:
            got: Any = normalize_hs(text)
        except ValueError as exc:
            got = str(exc)
        try:
            want: Any = _normalize(text)
        except ValueError as exc:
            want = str(exc)
        assert got == want, text
    assert normalize_hs("6109.10-020") == "610910020"


@pytest.mark.parametrize(("call", "field", "words"), [
    (lambda: f.HS_NAME("6109.10-020", D, "fr"), "lang", "ja, en"),
    (lambda: f.HS_NAME("6109.10-020", D, "english"), "lang", "ja, en"),
    (lambda: f.XLDUTY_INFO("bogus"), "what", "edition, fx_week"),
    (lambda: f.DUTY_LINES(["6109.10-020"], [1], "CN", None, D, None, "bogus")[0][0], "field", "duty, national_ct"),
    (lambda: f.DUTY_TOTALS(["6109.10-020"], [1], "CN", None, D, None, "bogus"), "field", "duty, national_ct"),
    (lambda: f.DUTY("6109.10-020", 1, "CN", None, D, "simplified=sometimes"), "simplified", "auto, always, never"),
    (lambda: f.DUTY("6109.10-020", 1, "CN", None, D, "reduced=perhaps"), "reduced", "yes, no or auto"),
    (lambda: f.DUTY("6109.10-020", 1, "CN", None, D, "claim=maybe"), "claim_preference", "claim=epa_eu"),
    (lambda: f.DUTY("6109.10-020", 1, "CN", None, D, "relief=gift"), "type", "'reimport', 'repair'"),
    (lambda: f.DUTY("6109.10-020", 1, "CN", None, D, "liquor=soda; litres=1"), "category", "beer"),
    (lambda: f.DUTY("6109.10-020", 1, "CN", None, D, "unit=furlong"), "unit", "kg, g"),
    (lambda: qf.QUOTE_CUSTOMER([["T", "6109.10-020", "CN", 1, 1000, None, None]], None, None, D, None, None, None,
                               0.3, None, None, None, "bogus"), "part", "table, lines"),
    (lambda: qf.QUOTE_REVERSE([["T", "6109.10-020", "CN", 1, 1000, None, None]], None, None, D, None, None, None,
                              None, None, None, 1, 100, "bogus"), "target_kind", "unit_cost, unit_cost_cash, price"),
])
def test_an_unknown_word_is_an_error_listing_the_allowed_ones(call: Any, field: str, words: str) -> None:
    text = call()
    assert isinstance(text, str) and text.startswith("#エラー ") and field in text.split(":")[0], text
    assert words in text, text
