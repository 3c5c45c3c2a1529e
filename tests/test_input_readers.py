"""Properties of the two readers every user input goes through (hypothesis): any input gives a result or ONE error
naming a field (or, for text that is no JSON at all, the input), never another exception.

- the JSON reader (``xlduty.command.loads``) and what reads its result: a declaration or a batch computed as
  ``xlduty compute`` computes it, a quote as ``xlduty quote`` does;
- the ``options`` reader of the worksheet functions (``xlduty.excel.options``) and of the quote functions, and the
  worksheet functions themselves, which turn every error into the text of their cell.

The inputs are drawn near the contract — its field names and the values people type (full-width, separators, keys
given twice, wrong types, absurd sizes) — so that the readers are exercised past their first check."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlduty.command import loads
from xlduty.core.engine import compute_batch
from xlduty.core.errors import InputError
from xlduty.excel import functions as f
from xlduty.excel.options import KEYS, Options, apply_fx, parse_options

SETTINGS = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

LINE_FIELDS = ["hs_code", "origin", "value", "currency", "freight", "insurance", "additions", "quantity", "unit",
               "rate", "claim_preference", "reduced_ct", "liquor", "excise", "relief", "in_quota", "condition",
               "description"]
DECL_FIELDS = ["date", "personal_use", "simplified", "fx_rates", "tariff_edition", "lines"]
WORDS = ["6109.10-020", "６１０９．１０－０２０", "6109.10", "0000.00-000", "2204.21-020", "CN", "ｃｎ", "US", "UK",
         "USD", "ＵＳＤ", "JPY", "kg", "ｌ", "furlong", "10%", "3,9%", "無税", "25%＋63円/kg", "300000", "300,000",
         "300_000",
         "３０００００", "1e3", "NaN", "-1", "", " ", "2026-11-01", "9999-12-31", "2026/11/01", "auto", "never",
         "epa_rcep_china", "ｅｐａ＿ｅｕ", "reimport", "repair", "beer", "other", "2026_07_09", "2025_04_01", "yes"]

scalars = st.one_of(
    st.sampled_from(WORDS), st.text(max_size=12), st.integers(min_value=-10, max_value=10**16),
    st.decimals(min_value=-1, max_value=10**16, allow_nan=False, allow_infinity=False, places=3),
    st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.sampled_from([*LINE_FIELDS, "x"]), inner,
                                                                       max_size=4)), max_leaves=8)


@st.composite
def lines(draw: st.DrawFn) -> dict[str, Any]:
    base: dict[str, Any] = {"hs_code": "6109.10-020", "origin": "CN", "value": 300000}
    for name in draw(st.lists(st.sampled_from(LINE_FIELDS), max_size=4)):
        base[name] = draw(values)
    for name in draw(st.lists(st.sampled_from(list(base)), max_size=1)):
        del base[name]
    return base


@st.composite
def declarations(draw: st.DrawFn) -> Any:
    decl: dict[str, Any] = {"date": "2026-11-01", "lines": draw(st.lists(lines(), min_size=0, max_size=3))}
    for name in draw(st.lists(st.sampled_from(DECL_FIELDS), max_size=2)):
        decl[name] = draw(values)
    return draw(st.sampled_from([decl, [decl], [decl, decl], decl["lines"], draw(values)]))


def _text(data: Any, twice: bool) -> str:
    """JSON text of ``data``, with one key of its first object given twice when ``twice``."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    at = _first_object_key(text) if twice else None
    if at is not None:
        key_end = at + len(json.dumps(json.JSONDecoder().raw_decode(text, at)[0], ensure_ascii=False)) + 1
        text = text[:at] + text[at:key_end] + "1, " + text[at:]
    return text


def _first_object_key(text: str) -> int | None:
    """Where the first key of the first non-empty object of a JSON text starts: a ``{`` outside strings (a value
    such as ``"{"`` holds one inside) followed by a key."""
    in_string = escaped = False
    for i, c in enumerate(text):
        if in_string:
            escaped, in_string = (False, True) if escaped else (c == "\\", c != '"')
        elif c == '"':
            in_string = True
        elif c == "{" and text.startswith('{"', i):
            return i + 1
    return None


def _one_error(exc: InputError) -> None:
    text = str(exc)
    assert "\n" not in text and text.strip() == text and exc.message
    assert exc.field or any(w in exc.message for w in ("in.json", "declaration", "batch", "quote", "JSON"))


@SETTINGS
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_the_json_reader_on_any_bytes(raw: bytes) -> None:
    try:
        loads(raw, "in.json")
    except InputError as exc:
        _one_error(exc)


def _compute(data: Any) -> None:
    """What ``xlduty compute`` does with a JSON value."""
    if isinstance(data, list):
        if data:
            compute_batch(data)
    elif isinstance(data, dict):
        compute_batch([data])
    else:
        raise InputError("", "the input must be a declaration (JSON object) or a batch (JSON array)")


@SETTINGS
@given(declarations(), st.booleans())
def test_any_declaration_text_gives_a_result_or_one_error_naming_a_field(data: Any, twice: bool) -> None:
    """… and a key given twice anywhere is always that error, never the last value kept."""
    text = _text(data, twice)
    try:
        _compute(loads(text.encode("utf-8"), "in.json"))
    except InputError as exc:
        _one_error(exc)
        assert exc.message.startswith("given twice") == (text != _text(data, False))
    else:
        assert text == _text(data, False)


@SETTINGS
@given(st.dictionaries(st.sampled_from(["date", "currency", "fx", "incoterm", "lines", "charges", "domestic_costs",
                                        "margin", "options", "document", "fx_rates", "x"]), values, max_size=6),
       st.booleans())
def test_any_quote_text_gives_a_result_or_one_error_naming_a_field(extra: dict[str, Any], twice: bool) -> None:
    from xlduty.quote import quote

    data = {"date": "2026-11-01", "lines": [{"hs_code": "6109.10-020", "origin": "CN", "quantity": 10,
                                             "unit_price": 1000}], **extra}
    try:
        quote(loads(_text(data, twice).encode("utf-8"), "in.json"))
    except InputError as exc:
        _one_error(exc)


OPTION_WORDS = [*KEYS, "personal_use", "個人使用", "税率", "claim_preference", "epa", "FX", "ｒａｔｅ", "bogus", ""]
OPTION_VALUES = ["yes", "no", "auto", "maybe", "14%", "3,9%", "0%", "epa_eu", "ｅｐａ＿ｅｕ", "USD", "ＵＳＤ", "155.39",
                 "155,39", "USD:155.39,EUR:162.1", "USD:1,USD:2", "1,200", "１２００", "1_200", "nan", "kg", "beer",
                 "reimport", "", "=", ";"]


@st.composite
def options_texts(draw: st.DrawFn) -> str:
    items = []
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        key = draw(st.sampled_from(OPTION_WORDS))
        value = draw(st.one_of(st.none(), st.sampled_from(OPTION_VALUES), st.text(max_size=6)))
        items.append(key if value is None else f"{key}{draw(st.sampled_from(['=', '＝', ' = ']))}{value}")
    return draw(st.sampled_from(["; ", ";", "\n", "；"])).join(items)


@SETTINGS
@given(st.one_of(options_texts(), st.text(max_size=40)))
def test_any_options_text_gives_options_or_one_error_naming_the_option(text: str) -> None:
    from xlduty.excel.quote_functions import _options

    try:
        opts = parse_options(text)
        apply_fx(opts)
        assert isinstance(opts, Options)
    except InputError as exc:
        _one_error(exc)
        assert exc.field.startswith("options")
    try:
        _options(text)
    except InputError as exc:
        _one_error(exc)
        assert exc.field.startswith("options")


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(options_texts(), st.sampled_from([300000, 500, 0.5, "３００００", "1,5", None]))
def test_the_worksheet_functions_never_raise(text: str, value: Any) -> None:
    """Whatever the options and value, a cell shows a number or one line of error text naming the field."""
    for result in (f.DUTY("6109.10-020", value, "CN", None, "2026-11-01", text),
                   f.DUTY_RATE("6109.10-020", value, "CN", None, "2026-11-01", text),
                   f.DUTY_TOTALS(["6109.10-020"], [value], "CN", None, "2026-11-01", text, "total")):
        assert isinstance(result, int | float | Decimal) or (isinstance(result, str) and "\n" not in result), result
        if isinstance(result, str) and result.startswith("#エラー"):
            assert ":" in result
