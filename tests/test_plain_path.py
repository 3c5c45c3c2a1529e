"""The hand-checked path for plain declarations (``plain_declaration``) agrees with pydantic's.

It accepts only what the models accept, with the same values (type and representation), and a
declaration computed through it gives the same full result, explanations included, as the same
declaration validated by the models; anything it declines goes to the models unchanged.
"""

from __future__ import annotations

import json
from decimal import Decimal
from random import Random
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from xlduty import compute
from xlduty.core.declaration import Declaration, Line, PlainDeclaration, parse_declaration
from xlduty.core.errors import InputError
from xlduty.core.fast.plain import plain_declaration, validate

SETTINGS = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Each field: a value the plain path takes (most of the time), or one it must leave to the models.
_CLEAN: dict[str, st.SearchStrategy[Any]] = {
    "amount": st.one_of(st.integers(min_value=0, max_value=2_000_000),
                        st.decimals(min_value=0, max_value=2_000_000, places=2, allow_nan=False,
                                    allow_infinity=False)),
    "hs_code": st.sampled_from(["6109.10-020", "6204.62-200", "0901.21-000", "6403.99-012", "9503.00-000",
                                "0406.90-090", "2009.19-190", "610910020", "6109.10.020", "4202.22-200",
                                "3304.99-090", "8471.30-000"]),
    "origin": st.sampled_from(["CN", "cn", "Cn", "US", "VN", "IT", "NZ", "TH", "KR", "FR", "BR", None]),
    "currency": st.sampled_from(["JPY", "USD", "usd", "Usd"]),
    "unit": st.sampled_from(["kg", "KG", "pair", "pcs", "l", None]),
    "rate": st.sampled_from(["10%", "5.8%", "無税", "25%＋63円/kg"]),
    "claim_preference": st.sampled_from([False, True, "epa_eu", "epa_cptpp", "rate_gsp"]),
    "flag": st.sampled_from([None, True, False]),
    "condition": st.sampled_from(["other", "ソフトチーズ", None]),
}
_ODD: dict[str, st.SearchStrategy[Any]] = {
    "amount": st.sampled_from([0, Decimal("0.000"), Decimal("-0"), Decimal("1E+3"), Decimal("1E-7"), 10**30, -1,
                               Decimal("-0.01"), True, False, None, "1000", "1,000", 12.5, Decimal("NaN"),
                               Decimal("Infinity"), Decimal("sNaN"), [1]]),
    "hs_code": st.sampled_from(["6109.10", "0000.00-000", "", " 6109.10-020", "6109.10-020\u3000",
                                "\x1c6109.10-020", 610910020, None]),
    "origin": st.sampled_from(["KP", " cn", "cn ", "CHN", "C", "ｃｎ", "ıt", "C1", "", 86]),
    "currency": st.sampled_from(["EUR", "US", "US$", " USD", "ÄÖÜ", "", None, 840]),
    "unit": st.sampled_from([" kg", "bogus", "", "\u3000kg", 1]),
    "rate": st.sampled_from([" 3% ", "3%\t", "bogus", None, 10]),
    "claim_preference": st.sampled_from([" epa_eu", "true", "", None, 1, 0]),
    "flag": st.sampled_from([1, 0, "yes", "true"]),
    "condition": st.sampled_from([" その他 ", "", 3]),
}
_KIND = {"value": "amount", "freight": "amount", "insurance": "amount", "additions": "amount", "quantity": "amount",
         "reduced_ct": "flag", "in_quota": "flag"}
_PRESENT = {"hs_code": 0.9, "origin": 0.8, "value": 0.995, "freight": 0.5, "insurance": 0.1, "additions": 0.1,
            "currency": 0.3, "quantity": 0.3, "unit": 0.3, "rate": 0.1, "claim_preference": 0.4, "reduced_ct": 0.1,
            "in_quota": 0.1, "condition": 0.05}
_RARE = {"excise": 100, "liquor": {"category": "beer", "litres": 10}, "relief": "reimport", "description": "x"}


def _field(draw: st.DrawFn, rnd: Random, name: str) -> Any:
    kind = _KIND.get(name, name)
    return draw(_ODD[kind] if rnd.random() < 0.03 else _CLEAN[kind])


def _line(draw: st.DrawFn, rnd: Random) -> dict[str, Any]:
    line: dict[str, Any] = {}
    for name, p in _PRESENT.items():
        if rnd.random() < p:
            line[name] = _field(draw, rnd, name)
    for name, v in _RARE.items():
        if rnd.random() < 0.01:
            line[name] = v
    return line


@st.composite
def declarations(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly plain declarations, each field odd now and then (hypothesis alone draws edge cases far too often
    for a declaration of a dozen fields to stay plain: the odds come from a Random it seeds)."""
    rnd = draw(st.randoms(use_true_random=True))
    odd_date = draw(st.sampled_from(["2026-04-01", "2025-06-15", "2019-10-01", "2026-02-30", "2026/11/20", "20261120",
                                     "2026-W47-5", " 2026-11-20", "２０２６-11-20", None]))
    n = 0 if rnd.random() < 0.01 else rnd.choice([1, 1, 2, 3, 4])
    decl: dict[str, Any] = {"date": odd_date if rnd.random() < 0.1 else "2026-11-20",
                            "lines": [_line(draw, rnd) for _ in range(n)]}
    optional = {"simplified": st.sampled_from(["never", "auto", "always", "never", "auto", " never", "NEVER", None]),
                "personal_use": st.sampled_from([False, True, False, 1, None]),
                "fx_rates": st.sampled_from([{"USD": Decimal("155.39")}, {"usd": 150}, {"EUR": Decimal("160.1")},
                                             {"USD": Decimal("150.25"), "eur": 160}, {}, {"USD": 0}, {"US": 1},
                                             {"USD": "150.5"}, {"ÄÖÜ": 2}, {" USD": 1}, None, [], {1: 2}]),
                "tariff_edition": st.sampled_from(["2026_07_09", "2026_07_09", "bogus", " 2026_07_09", None]),
                "extra": st.just(1)}
    for name, strategy in optional.items():
        if rnd.random() < (0.01 if name == "extra" else 0.1 if name == "tariff_edition" else 0.5):
            decl[name] = draw(strategy)
    return decl


def _same_value(a: object, b: object) -> bool:
    return type(a) is type(b) and repr(a) == repr(b)


def _outcome(data: Declaration | dict[str, Any]) -> Any:
    try:
        return json.loads(json.dumps(compute(data).to_dict(), ensure_ascii=False, default=str))
    except InputError as exc:
        return f"InputError: {exc}"


def _check(decl: dict[str, Any]) -> bool:
    """The plain path's values equal the models' where it accepts, and the results agree; True if it accepted."""
    plain = plain_declaration(decl)
    try:
        model = Declaration.model_validate(decl)
    except ValidationError:
        model = None
    if plain is not None:
        assert model is not None, "the plain path accepted what the models refuse"
        for name in ("date", "personal_use", "simplified", "fx_rates", "tariff_edition"):
            assert getattr(plain, name) == getattr(model, name), name
        assert {k: repr(v) for k, v in plain.fx_rates.items()} == {k: repr(v) for k, v in model.fx_rates.items()}
        assert len(plain.lines) == len(model.lines)
        for pl, ml in zip(plain.lines, model.lines, strict=True):
            for name in Line.model_fields:
                assert _same_value(getattr(pl, name), getattr(ml, name)), name
    if model is None:
        with pytest.raises(InputError) as err:
            parse_declaration(decl)
        assert _outcome(decl) == f"InputError: {err.value}"
    else:
        assert _outcome(decl) == _outcome(model)
    return plain is not None


@SETTINGS
@given(declarations())
def test_plain_path_agrees_with_the_models(decl: dict[str, Any]) -> None:
    _check(decl)


def test_plain_path_takes_the_common_case(throughput_bench: ModuleType) -> None:
    """The benchmark's declarations (ints, Decimals, clean codes) all take the plain path, and agree."""
    bench = throughput_bench
    decls = bench.batch(600, 3) + bench.batch(240, 20, seed=3)
    assert all(_check(d) for d in decls)
    assert isinstance(validate(decls[0]), PlainDeclaration)


@pytest.mark.parametrize("decl", [
    {"date": "2026-11-20", "lines": [{"hs_code": " 6109.10-020 ", "origin": " cn ", "value": 1000}]},
    {"date": "2026-11-20", "lines": [{"hs_code": "6109.10-020", "value": 12.5}]},
    {"date": "2026-11-20", "lines": [{"hs_code": "6109.10-020", "value": "1000"}]},
    {"date": "2026-11-20", "fx_rates": None, "lines": [{"rate": "5%", "value": 1}]},
    {"date": "2026-11-20", "lines": [{"rate": "5%", "value": 1, "excise": 100}]},
])
def test_what_pydantic_converts_goes_to_pydantic(decl: dict[str, Any]) -> None:
    """Padded codes, floats, numeric strings, an explicit null and the rarer fields are left to the models."""
    assert plain_declaration(decl) is None
    _check(decl)


_BENCH_TEXTS = [("6109.10-020", "CN", None, False), ("6204.62-200", "vn", None, True),
                ("6403.99-012", "IT", "pair", True), ("0406.90-090", "NZ", "kg", False),
                ("2009.19-190", "US", "kg", False), ("9503.00-000", None, None, False),
                ("4202.22-200", "FR", None, "epa_eu"), ("6109.10-020", "cn", None, False)]


@st.composite
def common_declarations(draw: st.DrawFn) -> dict[str, Any]:
    """Declarations of lines with only the common fields and texts seen before, their amounts, currency and quantity
    now and then odd: what ``FastPath.declare`` checks itself once it has seen a line's texts."""
    rnd = draw(st.randoms(use_true_random=True))
    lines = []
    for _ in range(rnd.choice([1, 2, 5, 12])):
        code, origin, unit, claim = rnd.choice(_BENCH_TEXTS)
        line: dict[str, Any] = {"hs_code": code, "value": _field(draw, rnd, "value")}
        if origin is not None:
            line["origin"] = origin
        if claim is not False or rnd.random() < 0.3:
            line["claim_preference"] = claim
        if rnd.random() < 0.6:
            line["freight"] = _field(draw, rnd, "freight")
        if unit is not None or rnd.random() < 0.05:
            line["quantity"] = _field(draw, rnd, "quantity")
            line["unit"] = unit or "kg"
            if type(line["quantity"]) is int and line["quantity"] == 10**30:   # a specific duty on it raises
                # decimal.InvalidOperation on both paths (a known limit, not of the one pass)
                line["quantity"] = 10**12
        if rnd.random() < 0.3:
            line["currency"] = _field(draw, rnd, "currency")
        lines.append(line)
    decl: dict[str, Any] = {"date": "2026-11-20", "lines": lines, "fx_rates": {"USD": Decimal("155.39")}}
    if rnd.random() < 0.7:
        decl["simplified"] = rnd.choice(["never", "auto", "always"])
    return decl


def _warm() -> None:
    """Every text of ``_BENCH_TEXTS`` computed once, so that ``FastPath.declare`` has seen them."""
    from xlduty.core.engine import engine

    for code, origin, unit, claim in _BENCH_TEXTS:
        line = {"hs_code": code, "origin": origin, "value": 500000, "claim_preference": claim}
        if unit:
            line.update(quantity=10, unit=unit)
        compute({"date": "2026-11-20", "simplified": "never", "lines": [line]})
    assert engine().fast.seen


@SETTINGS
@given(common_declarations())
def test_lines_of_texts_seen_agree_with_the_models(decl: dict[str, Any]) -> None:
    """The one-pass check of a line whose texts were seen gives what pydantic gives: values, results, errors."""
    _warm()
    _check(decl)


def test_one_pass_reports_the_first_error_in_line_order() -> None:
    """A line prepared after the others (unknown currency, unknown code) still has its error reported first, and a
    later non-plain line sends the whole declaration to the models."""
    _warm()
    good = {"hs_code": "6109.10-020", "origin": "CN", "value": 1000}
    for bad in ({"hs_code": "6109.10-020", "value": 1000, "currency": "EUR"},
                {"hs_code": "0000.00-000", "value": 1000}, {"hs_code": "6109.10-020", "value": "1000"}):
        for lines in ([good, bad, good], [bad, good], [good, good, bad], [good, bad, {**good, "value": -1}]):
            _check({"date": "2026-11-20", "lines": lines})


@pytest.mark.parametrize("simplified", ["never", "auto", "always"])
@pytest.mark.parametrize("value", [0, 500, 1500, 3000, 9000, 60000, 500000])
def test_results_built_in_the_one_pass_agree_under_every_treatment(simplified: str, value: int) -> None:
    """Common lines whose general result ``FastPath.declare`` builds at once agree with the models when the de minimis
    check exempts them (small totals), when the simplified tariff is computed or chosen, and otherwise."""
    from xlduty.core.engine import engine

    _warm()
    assert any(k.plan is not None and k.plan[1] is not None for k in engine().fast.kinds.values())
    lines = [{"hs_code": code, "origin": origin, "value": value, "freight": 300, "claim_preference": claim,
              **({"quantity": 3, "unit": unit} if unit else {})} for code, origin, unit, claim in _BENCH_TEXTS[:4]]
    lines.append({"hs_code": "6109.10-020", "origin": "CN", "value": value // 150, "currency": "USD"})
    _check({"date": "2026-11-20", "simplified": simplified, "fx_rates": {"USD": Decimal("155.39")}, "lines": lines})


def test_common_line_reads_its_amounts_as_decimal() -> None:
    """``CommonLine`` keeps value and freight as given (the one pass converts only their sum) and reads them as
    Decimal, as a validated ``Line`` has them: an int exactly, a Decimal as the same object."""
    from xlduty.core.declaration import CommonLine

    given = Decimal("12.50")
    ln = CommonLine("6109.10-020", "CN", 1000, "JPY", given, None, None, False)
    assert type(ln.value) is Decimal and ln.value == 1000 and ln.value.as_tuple().exponent == 0
    assert ln.freight is given
    assert (ln.insurance, ln.additions, ln.rate, ln.relief) == (Decimal(0), Decimal(0), None, None)
