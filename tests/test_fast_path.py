"""The fast path (``xlduty.core.fast``: the one pass over plain declarations, line kinds, rate plans, ordered rates,
results built in integers) gives what the engine's plain route gives (``Engine(fast=False)``: pydantic validation,
every line prepared and selected afresh, Decimal arithmetic): the same results, explanations included, and the same
errors, over random declarations of the real schedule computed by one warm engine.

One difference is kept on purpose, and the dates drawn here avoid it: a declaration dated before any bundled
consumption-tax rate (1997-04-01) that has a second problem in its lines gets the date's error first on the fast
path when its own fields are plain (as xlduty has always answered), the line's first on the plain route, which
validates the lines before it looks the date up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from random import Random
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlduty.core.engine import Engine, engine
from xlduty.core.errors import InputError
from xlduty.core.rate import AdValorem, Free
from xlduty.core.schedule import edition_on

ON = date(2026, 11, 20)


def _varied_codes() -> list[str]:
    """Every 17th line of the edition in force whose cells are more than plain percentages (branches, ranges,
    specific, compound, higher-of, gate prices, marked …), and every 97th of the others."""
    schedule = edition_on(ON)
    varied, plain = [], []
    for code in schedule.codes():
        if len(schedule._index[code]) != 1:
            continue
        line = schedule.line(code, ON)
        rates = [line.rate(c) for c in line.columns]
        (varied if any(r is not None and not isinstance(r, AdValorem | Free) for r in rates) else plain).append(line.hs)
    return varied[::17] + plain[::97]


COMMON = ["6109.10-020", "6204.62-200", "8471.30-000", "0901.21-000", "6403.99-012", "4202.22-200", "9503.00-000",
          "8517.13-000", "3304.99-090", "0406.90-090", "2009.19-190", "6110.20-029"]
BANDED = ["7403.19-011", "7403.19-019", "0703.10-011", "0703.10-012", "7901.11-010", "0203.19-022", "0203.19-025",
          "0203.21-031", "1602.41-011", "0103.92-012", "7403.11-020"]
RELIEF = ["4202.11-100", "4202.21-110", "4203.21-210", "4203.29-110", "6109.10-020"]
CODES = _varied_codes()
RULES = engine().rules
WARM = Engine(RULES)          # one engine for every example: kinds, plans and seen texts pile up as in a batch
PLAIN = Engine(RULES, fast=False)


def _amount(r: Random) -> Any:
    c = r.random()
    if c < 0.3:
        return r.randint(0, 12000)
    if c < 0.5:
        return Decimal(r.randint(0, 30_000_000)) / 100
    if c < 0.53:
        return r.choice([Decimal("1E+3"), Decimal("0.000"), 10**16, Decimal("910999.9999999999999999999999")])
    return r.randint(0, 3_000_000)


def _line(r: Random, on: str, currencies: list[str], odd: bool) -> dict[str, Any]:
    """A line; ``odd`` lets in what the contract refuses or the rules cannot compute (an error, or a warning)."""
    line: dict[str, Any] = {"value": _amount(r)}
    c = r.random()
    if c < 0.1 or on < "2025":
        line["rate"] = r.choice(["10%", "5.8%", "無税", "25%＋63円/kg", "361円/kg", "bogus" if odd else "3%"])
    else:
        line["hs_code"] = r.choice(COMMON if c < 0.6 else BANDED if c < 0.67 else CODES)
    if r.random() < 0.85:
        line["origin"] = r.choice(["CN", "US", "VN", "AU", "MX", "CH", "GB", "KH", "BR", "IT", "NZ", "TH", "KR",
                                   "UK" if odd else "DE"])
    if r.random() < 0.4:
        line["freight"] = _amount(r)
    if r.random() < 0.05:
        line["insurance"] = _amount(r)
    if r.random() < 0.3:
        line["currency"] = r.choice(["USD", "EUR", "KRW"] if odd else currencies)
    if r.random() < (0.4 if line.get("hs_code") in COMMON else 0.9):
        line["quantity"] = r.choice([0, 1, Decimal("0.4"), Decimal("1.5"), 12, 250, Decimal("999.95"), 7000])
        line["unit"] = r.choice(["kg", "kg", "kg", "g", "t", "l", "pair"] if odd else ["kg", "kg", "kg", "g", "t"])
    if r.random() < 0.3 and "origin" in line:
        line["claim_preference"] = r.choice([True, True, "rate_gsp" if line["origin"] in ("KH", "BR") else True,
                                             "epa_cptpp" if line["origin"] in ("AU", "MX", "VN") else True,
                                             "epa_eu" if line["origin"] == "IT" else True, "bogus" if odd else False])
    if r.random() < (0.1 if odd or line.get("hs_code", "99")[:2] > "24" else 0.7):
        line["reduced_ct"] = r.choice([True, False])
    if r.random() < 0.04:
        line["in_quota"] = True
    if r.random() < 0.04:
        line["condition"] = r.choice(["other", "ソフトチーズ"])
    c = r.random()
    if c < 0.04:
        line["liquor"] = {"category": r.choice(["beer", "whisky", "fruit_wine", "sake", "bogus" if odd else "beer"]),
                          "litres": r.choice([1, 10, Decimal("0.75"), 540]), "abv": r.choice([5, 13, 40])}
    elif c < 0.06:
        line["excise"] = _amount(r)
    elif c < 0.1:
        line["hs_code"] = r.choice(RELIEF)
        line["relief"] = r.choice(["reimport", {"type": "reimport", "export_ct_free": True},
                                   {"type": "repair", "export_value": _amount(r)},
                                   {"type": "outward_processing", "japanese_value": _amount(r)}, "repair"])
    return line


@st.composite
def declarations(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly the common case (repeated codes, origins and claims: the fast path's ground), now and then anything
    the contract allows: personal use, the simplified tariff forced or off, given exchange rates, a pinned edition,
    liquor, excise, reliefs, value bands, small totals (de minimis, simplified), errors."""
    r = draw(st.randoms(use_true_random=True))
    on = r.choice(["2026-11-20"] * 6 + ["2026-05-01", "2025-06-15", "2019-12-01", "2010-05-05"])
    n = r.choice([1, 1, 2, 3, 5, 8])
    small = r.random() < 0.3
    odd = r.random() < 0.25
    fx_rates = r.choice([{"USD": Decimal("155.39")}, {"USD": 150, "EUR": Decimal("160.1")},
                         {"USD": Decimal("155.39"), "KRW": Decimal("8.94")}, {}])
    currencies = ["JPY", *fx_rates] if on > "2021" else ["JPY", "USD", "EUR", "KRW"]
    lines = [_line(r, on, currencies, odd) for _ in range(n)]
    if small:
        for line in lines:
            line["value"] = r.randint(0, 60000 // n)
            line.pop("freight", None)
    decl: dict[str, Any] = {"date": on, "lines": lines}
    if fx_rates:
        decl["fx_rates"] = fx_rates
    if r.random() < 0.5:
        decl["simplified"] = r.choice(["auto", "always", "never"] if odd else ["auto", "never"])
    if r.random() < 0.1:
        decl["personal_use"] = True
    if r.random() < 0.05:
        decl["tariff_edition"] = r.choice(["2026_07_09", "2026_04_01", "bogus" if odd else "2026_07_09"])
    if r.random() < 0.05:
        decl["pork_emergency"] = r.choice([True, False])
    return decl


def _outcome(engine: Engine, decl: dict[str, Any]) -> Any:
    try:
        return engine.compute(decl).to_dict()
    except InputError as exc:
        return ("InputError", exc.field, exc.message)


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(declarations())
def test_the_fast_path_gives_what_the_plain_route_gives(decl: dict[str, Any]) -> None:
    """Each declaration twice through the warm engine (the second time its texts are seen: results built in the one
    pass) and once through the plain route: the same results and explanations, or the same error."""
    plain = _outcome(PLAIN, decl)
    assert _outcome(WARM, decl) == plain
    assert _outcome(WARM, decl) == plain


def test_the_benchmark_batch_takes_the_fast_path_and_agrees(throughput_bench: ModuleType) -> None:
    """The declarations bench/throughput.py times (the common case) agree line for line, and their lines are built
    in the one pass once their texts are seen."""
    decls = throughput_bench.batch(600, 20, seed=5) + throughput_bench.batch(100, 1, seed=6)
    warm = Engine(RULES)
    for d in decls[:30]:
        warm.compute(d)
    assert [warm.compute(d).to_dict() for d in decls] == [PLAIN.compute(d).to_dict() for d in decls]
    built = [ln for d in decls[:30] for ln in warm.compute(d).lines]
    assert all(ln.explain.func == warm.fast.explain_done for ln in built)   # type: ignore[union-attr]


ONE_LINE_CODES = [*COMMON, "6109.10-010", "4202.21-120", "6403.99-016", "1006.30-090", "8471.30-000", "0901.11-000",
                  "2103.20-010", "0902.10-000", "8703.23-000", "9018.90-000"]
"""Codes of the one-line route's cases: the simplified tariff's categories, goods it excludes (knitwear, bags, leather
shoes, rice), goods free under the general tariff (computers, green coffee), preferences claimed."""


def _one_line(r: Random, currencies: list[str]) -> dict[str, Any]:
    """A line of the common fields (what ``FastPath.one`` takes), its value anywhere from the exemption's threshold to
    far above the simplified tariff's, and now and then what the route leaves to the engine (a rate of its own, a
    currency without a rate)."""
    value = r.choice([r.randint(0, 12_000), r.randint(8_000, 12_000), r.randint(12_000, 198_000),
                      r.randint(198_000, 202_000), r.randint(0, 3_000_000), Decimal(r.randint(0, 30_000_000)) / 100])
    line: dict[str, Any] = {"hs_code": r.choice(ONE_LINE_CODES + CODES[::7]), "value": value}
    if r.random() < 0.9:
        line["origin"] = r.choice(["CN", "US", "VN", "AU", "GB", "KH", "IT", "TH", "KR", "DE"])
    if r.random() < 0.4:
        line["freight"] = r.choice([0, r.randint(0, 9000), Decimal(r.randint(0, 90000)) / 100])
    if r.random() < 0.35:
        line["currency"] = r.choice([*currencies, "usd" if "USD" in currencies else "JPY", "EUR" if r.random() < 0.1
                                     else "JPY"])
    if r.random() < 0.3 and "origin" in line:
        line["claim_preference"] = r.choice([True, True, "epa_eu" if line["origin"] in ("IT", "DE") else True])
    if r.random() < 0.15:
        line["quantity"], line["unit"] = r.choice([(12, "kg"), (Decimal("2.5"), "kg"), (100, None)])
    if r.random() < 0.03:
        line["rate"] = "5%"
    return line


def _one_line_declaration(r: Random) -> dict[str, Any]:
    """A declaration of one such line, of a date of each bundled edition (rarely one before them all)."""
    fx_rates = r.choice([{"USD": Decimal("155.39")}, {"USD": 150, "EUR": Decimal("160.1")}, {"USD": Decimal("1.5539")},
                         {}])
    decl: dict[str, Any] = {"date": r.choice(["2026-11-20"] * 8 + ["2026-05-01", "2025-06-15"] * 4 + ["2019-12-01"]),
                            "lines": [_one_line(r, ["JPY", *fx_rates])]}
    if fx_rates:
        decl["fx_rates"] = fx_rates
    if r.random() < 0.5:
        decl["simplified"] = r.choice(["auto", "always", "never"])
    if r.random() < 0.05:
        decl["tariff_edition"] = r.choice(["2026_07_09", "2026_04_01"])
    return decl


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=True))
def test_one_line_declarations_take_the_one_line_route_and_agree(r: Random) -> None:
    """A declaration of one line, three times through the warm engine (the third time its line's kind has its plan:
    ``FastPath.one`` builds it whole) and once through the plain route: the same result, or the same error."""
    decl = _one_line_declaration(r)
    plain = _outcome(PLAIN, decl)
    for _ in range(3):
        assert _outcome(WARM, decl) == plain


def test_the_one_line_route_covers_its_cases() -> None:
    """Seeded one-line declarations agree with the plain route, and the one-line route builds most of them once seen,
    in each of its cases: general tariff only, the simplified tariff computed and kept or not, goods it excludes,
    goods free under the general tariff, a preference with its proof of origin waived or required, a given rate."""
    r = Random(15)
    decls = [_one_line_declaration(r) for _ in range(1500)]
    warm = Engine(RULES)
    built: list[Any] = []
    one = warm.fast.one   # type: ignore[union-attr]

    def spy(*args: Any) -> Any:
        out = one(*args)
        if out is not None:
            built.append(out)
        return out

    warm.fast.one = spy   # type: ignore[union-attr, method-assign]
    for _ in range(2):
        for d in decls:
            _outcome(warm, d)
    built.clear()
    outcomes = [_outcome(warm, d) for d in decls]
    assert outcomes == [_outcome(PLAIN, d) for d in decls]
    assert len(built) > len(decls) // 2   # the others: errors, the exemption, a rate given, rates needing more
    seen = {(b.simplified.get("used"), b.lines[0].treatment, b.lines[0].rate_column, bool(b.fx)) for b in built}
    assert (True, "simplified", "simplified", False) in seen and (False, "general", "rate_wto", True) in seen
    names = {b.lines[0].rate_name for b in built}
    assert "簡易税率（無税品）" in names   # free under the general tariff: stays free
    assert any(n.startswith("簡易税率 第") for n in names)
    assert any("excluded from the simplified tariff: general rate" in b.lines[0].notes for b in built)
    assert any("reason" in b.simplified and "exceeds" in b.simplified["reason"] for b in built)
    steps = [s.step for b in built for s in b.explanation]
    assert "origin_proof" in steps   # a preference, the total at most 200,000: its proof waived
    assert any(w.startswith("a preferential rate is applied") for b in built for w in b.warnings)


def test_one_line_with_its_header_checked_once_is_compute() -> None:
    """``Engine.one_line(header)(line)`` (a batch's declarations of one line sharing the batch's own fields) gives
    what ``compute({**header, "lines": [line]})`` gives, result or error, through the warm engine and the plain route:
    over seeded one-line declarations, and over headers the fast path does not take (personal use, a date that is
    not a date, an fx rate given as a float, a mode that does not exist), each with the same lines."""
    r = Random(24)
    decls = [_one_line_declaration(r) for _ in range(600)]
    odd = [{"date": "2026-11-20", "personal_use": True}, {"date": "2026-13-01"}, {"date": "2026-11-20",
           "fx_rates": {"USD": 155.39}}, {"date": "2026-11-20", "simplified": "sometimes"}]
    cases = [({k: v for k, v in d.items() if k != "lines"}, d["lines"][0]) for d in decls]
    cases += [(h, d["lines"][0]) for h in odd for d in decls[:40]]
    warm = Engine(RULES)

    def outcome(run: Any, line: dict[str, Any]) -> Any:
        try:
            return run(line).to_dict()
        except InputError as exc:
            return ("InputError", exc.field, exc.message)

    for _ in range(2):   # the second time the kinds are known: the one-line route builds most of them
        assert [outcome(warm.one_line(h), ln) for h, ln in cases] == [
            _outcome(PLAIN, {**h, "lines": [ln]}) for h, ln in cases]
    errors = [type(outcome(warm.one_line(h), ln)) is tuple for h, ln in cases]
    # 151 of the seeded lines are refused (a currency without a rate, a value out of range…); of the odd headers'
    # 160, the impossible date's and mode's 80, and 13 refused lines of the others
    assert sum(errors[:600]) == 151 and sum(errors[600:]) == 93
