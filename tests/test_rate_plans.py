"""Rate plans (the winning rate remembered per line, origin, claim and date) give what a fresh selection gives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlduty.core.engine import Engine, engine
from xlduty.core.errors import InputError
from xlduty.core.schedule import edition_on


def _line(value: int) -> dict[str, Any]:
    return {"date": "2026-11-20", "simplified": "never",
            "lines": [{"hs_code": "3304.99-090", "origin": "KR", "value": value}, {"rate": "5%", "value": 50000}]}


def test_a_zero_taxable_value_is_selected_afresh() -> None:
    """At a taxable value of 0 every rate gives 0 yen; the rates are then told apart where they differ (at ¥1,000:
    selection.tie_base), so the WTO rate, the lower, shows (issue 18: the general rate showed, with a false "WTO … is
    not lower"), selected afresh whether or not an earlier line left it remembered (the result never depends on what
    was computed before)."""
    fresh = Engine().compute(_line(900)).to_dict()
    engine = Engine()
    assert engine.compute(_line(500000)).lines[0].rate_column == "rate_wto"
    assert engine.compute(_line(900)).to_dict() == fresh
    assert fresh["lines"][0]["rate_column"] == "rate_wto"
    assert not any("is not lower" in note for note in fresh["lines"][0]["notes"])


def _varied_codes() -> list[str]:
    """Lines of the edition in force whose cells are more than plain percentages (branches, ranges, higher-of,
    compound, marked, specific), a few hundred of them."""
    from datetime import date

    from xlduty.core.rate import AdValorem, Free
    from xlduty.core.schedule import edition_on

    schedule = edition_on(date(2026, 11, 20))
    out = []
    for code in schedule.codes():
        line = schedule.line(code, date(2026, 11, 20)) if len(schedule._index[code]) == 1 else None
        if line is not None and any(r is not None and not isinstance(r, AdValorem | Free)
                                    for r in (line.rate(c) for c in line.columns)):
            out.append(line.hs)
    return out[::7]


_CODES = _varied_codes()
_VALUE_DEPENDENT = ["0402.10-217", "0402.21-139", "0405.20-090", "3902.10-010", "7403.12-010", "7403.19-019",
                    "2009.19-190"]   # the winner differs with value and quantity (found by trying both extremes)
_QUANTITIES = [None, 0, Decimal("0.4"), 1, Decimal("1.5"), 250, Decimal("999.95"), 7000]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.sampled_from(_VALUE_DEPENDENT), st.sampled_from(_CODES)),
       st.sampled_from(["CN", "US", "VN", "AU", "MX", "CH", "GB", "KH", "BR", None]),
       st.sampled_from([False, True, "rate_gsp", "epa_cptpp"]), st.integers(0, 300_000), st.integers(0, 3_000_000),
       st.sampled_from(_QUANTITIES), st.sampled_from(_QUANTITIES), st.sampled_from(["kg", "kg", "g", "t", "l", "pair"]),
       st.booleans(), st.sampled_from([None, "other"]), st.sampled_from(["never", "auto"]), st.booleans())
def test_remembered_plans_agree_with_fresh_selection(code: str, origin: str | None, claim: bool | str, first: int,
                                                     second: int, quantity: int | None, quantity2: int | None,
                                                     unit: str, in_quota: bool, condition: str | None,
                                                     simplified: str, sparse: bool) -> None:
    """The second of two declarations of one line computes as it would in a process that never saw the first
    (the simplified tariff selects the same line without its claim: a plan of one claim never serves the other;
    a winner remembered for value-dependent rates (``plans.ordered``) serves any other value and quantity; ``sparse``
    leaves out fields at their defaults, so that a line of seen texts gets its result in ``FastPath.declare``)."""
    def decl(value: int, quantity: Any) -> dict[str, Any]:
        line: dict[str, Any] = {"hs_code": code, "origin": origin, "value": value, "claim_preference": claim,
                                "in_quota": in_quota, "condition": condition}
        if quantity is not None:
            line.update(quantity=quantity, unit=unit)
        if sparse:
            line = {k: v for k, v in line.items() if not (k in ("in_quota", "condition") and not v)}
        return {"date": "2026-11-20", "simplified": simplified, "lines": [line, line]}

    def outcome(engine: Engine, value: int, quantity: Any) -> Any:
        try:
            return engine.compute(decl(value, quantity)).to_dict()
        except InputError as exc:
            return str(exc)

    rules = engine().rules
    warm = Engine(rules)
    outcome(warm, first, quantity)
    assert outcome(warm, second, quantity2) == outcome(Engine(rules), second, quantity2)


def test_value_dependent_winners_remembered_only_where_ordered() -> None:
    """2009.19-190 from the US (WTO 29.8% or 23 yen/kg, general 35% or 27 yen/kg: the WTO rate is below at every
    value and quantity) keeps its winner; with a preference claimed the EPA offers are not ordered against it."""
    from xlduty.core.fast.plans import ordered as _ordered
    from xlduty.core.selection import coverage

    rules = engine().rules
    on = date(2026, 11, 20)
    line = edition_on(on).typed_line("2009.19-190", on)
    assert _ordered(line, coverage(rules, "US", False, on))
    for code in _VALUE_DEPENDENT[:-1]:
        typed = edition_on(on).typed_line(code, on)
        assert not all(_ordered(typed, coverage(rules, o, c, on)) for o in ("US", "AU", "CN") for c in (False, True))


def test_a_warm_engine_computes_what_fresh_ones_do(throughput_bench: ModuleType) -> None:
    """The benchmark's declarations through one engine (plans, line kinds and per-date facts remembered) give,
    explanations included, what an engine that has seen nothing else gives for each."""
    bench = throughput_bench
    decls = bench.batch(1200, 20, seed=11) + bench.batch(300, 1, seed=12)
    for d in decls[::7]:
        d["simplified"] = "auto"
    rules = engine().rules
    warm = Engine(rules)
    assert [warm.compute(d).to_dict() for d in decls] == [Engine(rules).compute(d).to_dict() for d in decls]


def test_ordered_lines_select_the_same_at_every_value_and_quantity() -> None:
    """Wherever ``plans.ordered`` holds, select_rate gives the same column, notes and unverified notes over a grid of
    values and quantities (tiny quantities truncated to 0 included)."""
    from xlduty.core.fast.plans import ordered as _ordered
    from xlduty.core.rate import DutyBase
    from xlduty.core.selection import coverage, select_rate
    from xlduty.core.units import unit_of

    rules = engine().rules
    on = date(2026, 11, 20)
    schedule = edition_on(on)
    checked = 0
    for code in _VALUE_DEPENDENT + _CODES:
        line = schedule.typed_line(code, on)
        for origin in ("US", "AU", "CN", "VN", "MX", "KH", None):
            for claim in (False, True, "rate_gsp"):
                try:
                    cover = coverage(rules, origin, claim, on)
                except InputError:
                    continue
                if not _ordered(line, cover):
                    continue
                seen = set()
                for tv in (1000, 7000, 123000, 10**7):
                    for q in ("0.4", "1", "3.3", "250", "100000"):
                        base = DutyBase(tv, Decimal(q), unit_of("kg"), on, origin, False, None, True)
                        try:
                            a = select_rate(line, base, claim, rules, on, cover)
                        except InputError:
                            continue
                        seen.add((a.column, tuple(a.notes), tuple(a.unverified)))
                assert len(seen) <= 1, (code, origin, claim, seen)
                checked += len(seen)
    assert checked > 5


_ORIGINS = ["CN", "US", "VN", "AU", "MX", "CH", "GB", "KH", "BR", "IT", "NZ", "TH", "KR", "DE", "FR", "BD", "XK", "TW",
            "KP", "PE", "CL", "SG", "IN", None]


def _party_codes() -> list[str]:
    """Lines whose cells branch by country of origin (「…に対する待遇」), every 5th of them."""
    from xlduty.core.fast.plans import _reads_origin

    on = date(2026, 11, 20)
    schedule = edition_on(on)
    out = []
    for code in schedule.codes():
        line = schedule.line(code, on) if len(schedule._index[code]) == 1 else None
        if line is not None and any(_reads_origin(line.rate(c)) for c in line.columns if line.text(c)):
            out.append(line.hs)
    return out[::5]


_PARTY = _party_codes()


def test_origin_free_plans_select_the_same_for_every_origin_of_one_coverage() -> None:
    """Wherever ``plans.origin_free`` holds, select_rate gives every origin of one coverage (the same columns, notes and
    marks: ``selection.coverage``) the same rate, amount, notes and unverified notes, at several values; it does not
    hold for a line whose rates branch by party, nor where GSP is claimed or a coverage is unverified."""
    from xlduty.core.fast.plans import origin_free
    from xlduty.core.rate import DutyBase
    from xlduty.core.selection import coverage, select_rate
    from xlduty.core.units import unit_of

    rules = engine().rules
    on = date(2026, 11, 20)
    schedule = edition_on(on)
    shared = party_held = 0
    assert _PARTY
    for code in _CODES + _VALUE_DEPENDENT + _PARTY:
        line = schedule.typed_line(code, on)
        for claim in (False, True, "rate_gsp", "epa_cptpp"):
            groups: dict[Any, list[str | None]] = {}
            for origin in _ORIGINS:
                try:
                    groups.setdefault(coverage(rules, origin, claim, on), []).append(origin)
                except InputError:
                    continue
            for cover, origins in groups.items():
                free = origin_free(line, cover)
                if code in _PARTY and not free:
                    party_held += 1
                if claim == "rate_gsp" and cover.columns:
                    assert not free
                if not free or len(origins) < 2:
                    continue
                for tv in (1000, 123000, 10**7):
                    for q in (None, Decimal("2.5")):
                        seen = set()
                        for origin in origins:
                            base = DutyBase(tv, q, unit_of("kg") if q else None, on, origin, False, None, True)
                            try:
                                a = select_rate(line, base, claim, rules, on, cover)
                                seen.add((a.column, a.text, a.amount, tuple(a.notes), tuple(a.unverified)))
                            except InputError as exc:
                                seen.add(str(exc))
                        assert len(seen) == 1, (code, claim, origins, seen)
                        shared += 1
    assert shared > 100 and party_held > len(_PARTY)   # each party line held apart where its party cells are read


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_CODES + _PARTY + ["6109.10-020", "8471.30-000", "0406.90-090", "6403.99-012"]),
       st.lists(st.sampled_from(_ORIGINS[:-1]), min_size=2, max_size=4), st.sampled_from([False, True, "epa_cptpp"]),
       st.integers(1000, 3_000_000), st.sampled_from([None, Decimal("2.5"), 40]))
def test_a_plan_found_for_one_origin_serves_another_as_a_fresh_engine_computes(code: str, origins: list[str],
                                                                               claim: bool | str, value: int,
                                                                               quantity: Any) -> None:
    """One-line declarations of one code under several origins, in turn through one warm engine (the line's class and,
    where ``plans.origin_free`` holds, its plan found for the first origin serve the next), each as an engine that has
    seen nothing else computes it."""
    rules = engine().rules
    warm = Engine(rules)

    def outcome(eng: Engine, origin: str) -> Any:
        line: dict[str, Any] = {"hs_code": code, "origin": origin, "value": value, "claim_preference": claim}
        if quantity is not None:
            line.update(quantity=quantity, unit="kg")
        try:
            return eng.compute({"date": "2026-11-20", "lines": [line]}).to_dict()
        except InputError as exc:
            return str(exc)

    for origin in origins:
        assert outcome(warm, origin) == outcome(Engine(rules), origin)


def test_kinds_shared_by_origins_of_one_coverage_compute_as_fresh_engines() -> None:
    """The one-line route shares a kind (plan, face, simplified-tariff outcome) between origins whose coverage is one
    object (``FastPath.cover_of``) where the plan is origin-free; an origin whose coverage differs, if only by one
    column (EPA claimed from AU and from NZ, from VN and from TH), gets its own. Each declaration, in turn through one
    warm engine at values under and over the simplified tariff's threshold, computes as an engine that has seen
    nothing else computes it, explanations included."""
    rules = engine().rules
    warm = Engine(rules)
    fast = warm.fast
    assert fast is not None
    codes = ["6109.10-020", "8471.30-000", "0406.90-090", "6403.99-012", "3304.99-090", "2921.21-000", *_CODES[::9]]
    origins = ["AU", "NZ", "VN", "TH", "US", "DE", "GB", "KR", "CN"]
    shared = apart = 0
    for code in codes:
        for claim in (False, True):
            for value in (60_000, 900_000):
                seen: dict[int, Any] = {}
                for origin in origins:
                    d = {"date": "2026-11-20", "lines": [{"hs_code": code, "origin": origin, "value": value,
                                                         "claim_preference": claim}]}
                    try:
                        got = warm.compute(d).to_dict()
                    except InputError as exc:
                        got = str(exc)
                    try:
                        want: Any = Engine(rules).compute(d).to_dict()
                    except InputError as exc:
                        want = str(exc)
                    assert got == want, (code, origin, claim, value)
                    found = [k for key, k in fast.kinds.items() if (key[2], key[5], key[6]) == (code, origin, claim)]
                    if found and value == 60_000:
                        cover = fast.cover_of(origin, claim, date(2026, 11, 20))
                        kind = found[0]
                        for other_cover, other in seen.items():
                            if other is kind:
                                assert other_cover == id(cover)   # shared only within one coverage
                                shared += 1
                            elif other_cover != id(cover):
                                apart += 1
                        seen.setdefault(id(cover), kind)
    assert shared > 100 and apart > 100


def _twin_codes(alike: Any = lambda line: line.cells, step: int = 40) -> list[tuple[str, str]]:
    """Pairs of lines of the edition in force, not banded by value, that print the same cells (most are in one
    heading): a plan found for one serves the other (``FastPath._select``); every ``step``-th pair. ``alike``: what of
    a line the pair has in common instead (the pair then differs in its cells)."""
    from xlduty.core.schedule import line_bands

    on = date(2026, 11, 20)
    schedule = edition_on(on)
    first: dict[tuple, Any] = {}
    pairs = []
    for code in schedule.codes():
        if len(schedule._index[code]) != 1:
            continue
        line = schedule.line(code, on)
        if line_bands(line.path, line.description):
            continue
        twin = first.setdefault(alike(line), line)
        if twin is not line and (twin.cells == line.cells) == (alike(line) == line.cells):
            pairs.append((twin.hs, line.hs))
    return pairs[::step]


_TWINS = _twin_codes()


@settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_TWINS), st.lists(st.sampled_from(_ORIGINS[:-1]), min_size=1, max_size=3),
       st.sampled_from([False, True, "epa_cptpp"]), st.sampled_from([60_000, 3_000_000]),
       st.sampled_from([None, Decimal("2.5")]))
def test_a_plan_found_for_one_line_serves_a_line_printing_the_same_cells(twins: tuple[str, str], origins: list[str],
                                                                          claim: bool | str, value: int,
                                                                          quantity: Any) -> None:
    """Two lines printing the same cells, each declared alone from the same origins in turn through one warm engine
    (the second line's plans come from the first's, by cells and coverage), compute as engines that have seen
    nothing else compute them, explanations included; and in one declaration together."""
    rules = engine().rules
    warm = Engine(rules)

    def decl(codes: tuple[str, ...], origin: str) -> dict[str, Any]:
        lines = []
        for code in codes:
            line: dict[str, Any] = {"hs_code": code, "origin": origin, "value": value, "claim_preference": claim}
            if quantity is not None:
                line.update(quantity=quantity, unit="kg")
            lines.append(line)
        return {"date": "2026-11-20", "lines": lines}

    def outcome(eng: Engine, d: dict[str, Any]) -> Any:
        try:
            return eng.compute(d).to_dict()
        except InputError as exc:
            return str(exc)

    for origin in origins:
        for codes in ((twins[0],), (twins[1],), twins):
            d = decl(codes, origin)
            assert outcome(warm, d) == outcome(Engine(rules), d)


def test_lines_printing_the_same_cells_share_plans(monkeypatch: Any) -> None:
    """The twins above exist (hundreds of pairs in the edition), and where the first of a pair leaves its plan to share,
    the second selects nothing afresh."""
    from xlduty.core.fast import path

    calls: list[str] = []

    def counted(line: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(line.hs)
        return select_rate(line, *args, **kwargs)

    select_rate = path.select_rate
    monkeypatch.setattr(path, "select_rate", counted)
    assert len(_TWINS) > 20
    warm = Engine(engine().rules)
    fast = warm.fast
    assert fast is not None
    served = 0
    for a, b in _TWINS:
        try:
            before = len(fast.shared)
            warm.compute({"date": "2026-11-20", "lines": [{"hs_code": a, "origin": "US", "value": 500_000}]})
            if len(fast.shared) > before:
                warm.compute({"date": "2026-11-20", "lines": [{"hs_code": b, "origin": "US", "value": 500_000}]})
                assert b not in calls, b
                served += 1
        except InputError:
            continue
    assert served > 10


def test_cells_known_without_parsing_have_the_facts_their_rates_have() -> None:
    """``plans._line_facts`` takes a cell printing a plain percentage or 無税 as proportional and free of the origin
    without parsing it: so it is, for every such cell of every edition; and a line's facts agree with its columns'
    (``value_free``/``origin_free`` over the columns a coverage reads) for lines of all kinds of cells."""
    from xlduty.core import tables
    from xlduty.core.fast import plans
    from xlduty.core.rate import proportional
    from xlduty.core.rate_parser import parse_rate
    from xlduty.core.schedule import load_edition
    from xlduty.core.selection import coverage

    plain = 0
    for name, _start in tables.editions(None):
        for text in load_edition(name)._rates:
            if plans._PLAIN.fullmatch(text):
                rate = parse_rate(text)
                assert (proportional(rate), plans._reads_origin(rate)) == plans._PLAIN_FACTS, text
                plain += 1
    assert plain > 200
    rules = engine().rules
    on = date(2026, 11, 20)
    schedule = edition_on(on)
    for code in _CODES + _PARTY + _VALUE_DEPENDENT + ["6109.10-020", "0406.90-090"]:
        line = schedule.typed_line(code, on)
        for origin, claim in (("US", False), ("AU", True), ("VN", True), ("CN", "rate_gsp"), ("KH", True)):
            try:
                cover = coverage(rules, origin, claim, on)
            except InputError:
                continue
            facts = plans._facts(line, cover)
            assert plans.value_free(line, cover) == all(f[0] for f in facts), code
            marked = any(u or c == "rate_gsp" for c, _n, u in cover.columns)
            assert plans.origin_free(line, cover) == (not marked and not any(f[1] for f in facts)), code


def test_a_coverage_keeps_its_hash_right_when_unpickled_in_another_process() -> None:
    """A coverage hashes its fields once (``selection.Coverage``); unpickled where strings hash otherwise, it is made
    again from its fields, so that it finds what an equal coverage made there is the key of."""
    import os
    import pickle
    import subprocess
    import sys

    from xlduty.core.selection import coverage

    cover = coverage(engine().rules, "AU", True, date(2026, 11, 20))
    script = ("import pickle, sys; from datetime import date; from xlduty.core.engine import engine; "
              "from xlduty.core.selection import coverage; c = pickle.loads(sys.stdin.buffer.read()); "
              "d = {coverage(engine().rules, 'AU', True, date(2026, 11, 20)): 1}; print(d.get(c))")
    out = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(cover), capture_output=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert out.stdout.strip() == b"1"


def _told_apart_twins() -> list[tuple[str, ...]]:
    """Groups of lines of the edition in force that print the same cells (so share plans by cells) but that the
    simplified tariff or the consumption tax tells apart: one excluded from the simplified tariff and one not, lines of
    different categories, food and not (chapters up to 24 and above), knitwear and its woven twin …; not banded."""
    from random import Random

    from xlduty.core.schedule import line_bands

    on = date(2026, 11, 20)
    schedule = edition_on(on)
    version = engine().rules.simplified_on(on)
    assert version is not None
    by_cells: dict[tuple, list[Any]] = {}
    for code in schedule.codes():
        if len(schedule._index[code]) == 1:
            line = schedule.line(code, on)
            if not line_bands(line.path, line.description):
                by_cells.setdefault(line.cells, []).append(line)
    groups = []
    for lines in by_cells.values():
        told = {(version.is_excluded(ln.code), version.category(ln.code)[0].no,
                 ln.code[:2] <= "24") for ln in lines}
        if len(told) > 1:
            groups.append(tuple(ln.hs for ln in lines[:4]))
    Random(23).shuffle(groups)
    return groups


_TOLD_APART = _told_apart_twins()
_ONE_COVERAGE = [(("FR", "DE", "IT", "AT"), (True, "epa_eu")), (("LA", "PH", "SG", "VN"), ("epa_asean",)),
                 (("US", "BR", "CN", "KH"), (False,)), (("BD", "NP", "SB"), ("rate_ldc",)),
                 (("AU", "MX", "GB", "CA"), ("epa_cptpp",)), (("ID", "KH", "IN"), ("rate_gsp",)),
                 (("MN", "BO", "PE", "VN"), ("rate_gsp",)), (("BN", "ID", "KH", "MY", "TH"), ("epa_asean",))]
"""Origins whose coverage is one (``selection.coverage``) under these claims on the dates below: the EU's states
claiming, ASEAN's members claiming the ASEAN agreement where its coverage is verified, WTO members not claiming,
least developed countries claiming LDC rates, CPTPP parties claiming it; and coverages a plan may not be shared by
(``plans.origin_free``): GSP claimed (its exclusion reads the origin's EPAs), whether its coverage is verified or not,
and the ASEAN agreement where its coverage is not verified (the mark names the origin)."""


def test_twins_and_origins_of_one_coverage_compute_as_the_plain_route_in_any_order() -> None:
    """Declarations of one, two or three lines drawn from a group of twins told apart by the simplified tariff or the
    consumption tax (``_told_apart_twins``) and a line of other cells, and from origins of one coverage
    (``_ONE_COVERAGE``), with an origin of another coverage now and then, at values under the simplified tariff's
    threshold (it is computed, and kept or not) and over it, on two dates and a pinned edition: each set in two
    shuffled orders, every declaration twice, through a new warm engine (plans shared by cells, kinds and simplified
    outcomes shared by coverage, first lines prepared by the one-line route), compute as the plain route does,
    explanations and errors included; and kinds are shared between origins of one coverage in this run (so that the
    sharing is what is tested: a plan shared by columns without the cells, or a kind shared where GSP is claimed or a
    coverage is unverified, fails here)."""
    from random import Random

    rules = engine().rules
    plain = Engine(rules, fast=False)
    r = Random(2323)
    assert len(_TOLD_APART) > 30

    def outcome(eng: Engine, d: dict[str, Any]) -> Any:
        try:
            return eng.compute(d).to_dict()
        except InputError as exc:
            return ("InputError", exc.field, exc.message)

    shared = 0
    for n in range(300):
        codes = (*_TOLD_APART[n % len(_TOLD_APART)], _TOLD_APART[(n + 1) % len(_TOLD_APART)][0])   # and an outsider
        origins, claims = r.choice(_ONE_COVERAGE)
        on = r.choice(["2026-11-20", "2026-11-20", "2026-05-01"])
        decls = []
        for _ in range(6):
            lines = []
            for _ in range(r.choice([1, 1, 1, 2, 3])):
                origin = r.choice(origins) if r.random() < 0.85 else r.choice(["TH", "NZ", "CH", "KR", "IN"])
                line: dict[str, Any] = {"hs_code": r.choice(codes), "origin": origin,
                                        "value": r.choice([r.randint(12_000, 190_000), r.randint(200_000, 3_000_000),
                                                           r.randint(0, 12_000)])}
                if (claim := r.choice(claims)) is not False:
                    line["claim_preference"] = claim
                if r.random() < 0.2:
                    line.update(quantity=r.choice([1, Decimal("2.5"), 40]), unit="kg")
                if r.random() < 0.2:
                    line["currency"] = "USD"
                lines.append(line)
            d: dict[str, Any] = {"date": on, "lines": lines, "fx_rates": {"USD": Decimal("155.39")}}
            if r.random() < 0.1:
                d["tariff_edition"] = "2026_04_01"
            if r.random() < 0.3:
                d["simplified"] = r.choice(["auto", "always", "never"])
            decls.append(d)
        want = [outcome(plain, d) for d in decls]
        for _ in range(2):
            warm = Engine(rules)
            order = list(range(len(decls))) * 2
            r.shuffle(order)
            for i in order:
                assert outcome(warm, decls[i]) == want[i], (decls[i], [decls[j] for j in order])
            fast = warm.fast
            assert fast is not None
            by_kind: dict[int, set[str]] = {}
            for key, kind in fast.kinds.items():
                by_kind.setdefault(id(kind), set()).add(key[5])
            shared += sum(1 for found in by_kind.values() if len(found) > 1)
    assert shared > 50


_READ_TWINS = _twin_codes(lambda line: tuple(line.text(c) for c in ("rate_temporary", "rate_general", "rate_wto")),
                          20)
# pairs that print the same temporary, general and WTO rates but not the same cells (their preferential columns
# differ): a winner found for one serves the other under a coverage that reads none of the columns they differ in
# (``plans.read_cells``)


def test_lines_printing_the_same_cells_read_share_plans_and_compute_as_the_plain_route(monkeypatch: Any) -> None:
    """Lines that print the same in the columns a coverage reads and differ elsewhere: the second of a pair selects
    nothing afresh once the first left a plan, unclaimed (every origin of the coverage), and claimed where GSP is among
    the claims (only for the same origin: the exclusion of GSP reads the origin's EPAs); and one-, two- and three-line
    declarations of them, from origins of one coverage and others, claimed or not, in shuffled order through a new warm
    engine, compute as the plain route does, explanations and errors included."""
    from random import Random

    from xlduty.core.fast import path

    calls: list[tuple[str, str | None]] = []

    def counted(line: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append((line.hs, b.origin))
        return select_rate(line, b, *args, **kwargs)

    select_rate = path.select_rate
    monkeypatch.setattr(path, "select_rate", counted)
    assert len(_READ_TWINS) > 20
    rules = engine().rules
    served = {False: 0, True: 0}
    for claim, origins in ((False, ("US", "DE")), (True, ("IN", "IN", "KH"))):
        warm = Engine(rules)
        for a, b in _READ_TWINS:
            try:
                warm.compute({"date": "2026-11-20", "lines": [{"hs_code": a, "origin": origins[0], "value": 500_000,
                                                               "claim_preference": claim}]})
            except InputError:
                continue
            for origin in origins[1:]:
                del calls[:]
                d = {"date": "2026-11-20", "lines": [{"hs_code": b, "origin": origin, "value": 500_000,
                                                      "claim_preference": claim}]}
                try:
                    got: Any = warm.compute(d).to_dict()
                except InputError as exc:
                    got = str(exc)
                try:
                    want: Any = Engine(rules, fast=False).compute(d).to_dict()
                except InputError as exc:
                    want = str(exc)
                assert got == want, (a, b, origin, claim)
                if origin == origins[0] or not claim:
                    served[claim] += not calls
        fast = warm.fast
        assert fast is not None
        gsp = [key for key in fast.shared if any(c == "rate_gsp" for c, _name, _u in key[1].columns)]
        assert all(key[2] is not None for key in gsp)   # shared by origin where GSP is claimed, never across origins
        assert len(gsp) > (5 if claim else -1)
    assert served[False] > 10 and served[True] > 5, served

    plain = Engine(rules, fast=False)
    r = Random(2424)

    def outcome(eng: Engine, d: dict[str, Any]) -> Any:
        try:
            return eng.compute(d).to_dict()
        except InputError as exc:
            return ("InputError", exc.field, exc.message)

    for n in range(60):
        codes = (*_READ_TWINS[n % len(_READ_TWINS)], _READ_TWINS[(n + 7) % len(_READ_TWINS)][0])
        decls = []
        for _ in range(6):
            lines = []
            for _ in range(r.choice([1, 1, 1, 2, 3])):
                line: dict[str, Any] = {"hs_code": r.choice(codes), "origin": r.choice(["US", "DE", "IN", "KH", "AU",
                                                                                        "VN", "TH", "CN"]),
                                        "value": r.choice([r.randint(12_000, 190_000), r.randint(200_000, 3_000_000)])}
                if (claim := r.choice([False, False, True, "rate_gsp", "epa_rcep"])) is not False:
                    line["claim_preference"] = claim
                if r.random() < 0.2:
                    line.update(quantity=r.choice([1, Decimal("2.5"), 40]), unit="kg")
                lines.append(line)
            decls.append({"date": "2026-11-20", "lines": lines})
        want = [outcome(plain, d) for d in decls]
        warm = Engine(rules)
        order = list(range(len(decls))) * 2
        r.shuffle(order)
        for i in order:
            assert outcome(warm, decls[i]) == want[i], (decls[i], [decls[j] for j in order])


def test_value_and_origin_facts_shared_by_the_cells_read_are_each_lines_own() -> None:
    """``plans.under`` takes a line's ``value_free`` and ``origin_free`` from another line printing the same in the
    columns the coverage reads (``read_cells``): for every line of the edition in force under coverages unclaimed,
    claimed with GSP and with EPAs of unverified coverage, they are the line's own, worked out for it alone."""
    from xlduty.core.fast import plans
    from xlduty.core.selection import coverage

    on = date(2026, 11, 20)
    rules = engine().rules
    covers = []
    for origin, claim in (("US", False), ("IN", True), ("AU", True), ("VN", True), ("KH", "rate_gsp"), (None, False)):
        try:
            covers.append(coverage(rules, origin, claim, on))
        except InputError:   # not covered on the date
            continue
    assert len(covers) >= 5
    schedule = edition_on(on)
    plans._FREE.clear()
    shared = 0
    for code in schedule.codes():
        line = schedule.line(code, on) if len(schedule._index[code]) == 1 else None
        if line is None:
            continue
        for cover in covers:
            before = len(plans._FREE)
            _read, value_free, origin_free = plans.under(line, cover)
            shared += len(plans._FREE) == before
            assert (value_free, origin_free) == plans._free(line, cover), (code, cover)
    assert shared > 1000
