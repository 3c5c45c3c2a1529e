"""Countries of origin: a code that is not a country is refused, never charged the national rate in silence."""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path
from string import ascii_uppercase

import pytest

from update import countries
from xlduty import compute
from xlduty.core.errors import InputError
from xlduty.core.origin import USER_ASSIGNED, codes, origin_problem

TSHIRT = {"hs_code": "6109.10-020", "value": 100000}


def test_the_list_is_iso_3166_1_and_kosovo() -> None:
    """249 ISO 3166-1 entries and XK, which Japan's GSP list names (rules/preference_parties.yaml)."""
    known = codes()
    assert {"GB", "CN", "VN", "TW", "HK", "XK"} <= known
    assert not {"UK", "EU", "EL", "ZZ"} & known
    assert len(known) >= 250


@pytest.mark.parametrize(("origin", "message"), [
    ("UK", "UK is not an ISO 3166-1 country code: use GB (United Kingdom)"),
    ("EU", "EU is not an ISO 3166-1 country code: use the member state of origin, e.g. DE (the EU is not a "
           "country of origin)"),
    ("ZZ", "ZZ is not an ISO 3166-1 country code"),
])
def test_an_unknown_origin_is_an_error_naming_the_line(origin: str, message: str) -> None:
    """Before the check, UK got the national 11.2 % (duty 11,200) where GB gets WTO 7.4 % (duty 7,400)."""
    assert origin_problem(origin) == message
    with pytest.raises(InputError) as err:
        compute({"date": "2026-11-20", "lines": [TSHIRT, {**TSHIRT, "origin": origin}]})
    assert (err.value.field, err.value.message) == ("lines[1].origin", message)


def test_an_unknown_origin_is_refused_on_a_line_with_its_own_rate() -> None:
    """The rate given does not depend on the origin, but a wrong code is never echoed back as if it were one."""
    with pytest.raises(InputError) as err:
        compute({"date": "2026-11-20", "lines": [{"rate": "5%", "value": 50000, "origin": "ZZ"}]})
    assert err.value.field == "lines[0].origin"


def test_country_codes_compute() -> None:
    """GB and XK (a 便益関税 country) get WTO 7.4 %: 100,000 × 7.4 % = 7,400; CT base floor_1000(107,400) =
    107,000; national 107,000 × 7.8 % = 8,346; local floor_100(8,346) = 8,300 × 22/78 = 2,341.0… → 2,341;
    totals 7,400 + 8,300 + 2,300 = 18,000."""
    for origin in ("GB", "XK", "gb"):
        r = compute({"date": "2026-11-20", "lines": [{**TSHIRT, "origin": origin}]})
        assert (r.lines[0].duty, r.totals.total) == (7400, 18000)


def test_the_bundled_list_accepts_exactly_the_codes_pycountry_gave() -> None:
    """The check used to read pycountry's ISO 3166-1 file; it reads the bundled list now (pycountry's 8 MB wheel is
    more than xlwings Lite may download). The reference is pycountry itself (a test dependency): each of the 676
    two-letter codes, in upper and in lower case, is accepted exactly when pycountry's list (or XK) holds it."""
    path, _label = countries.pycountry_source()
    listed = json.loads(path.read_text(encoding="utf-8"))["3166-1"]
    before = frozenset(c["alpha_2"] for c in listed) | USER_ASSIGNED.keys()
    assert codes() == before and len(before) == 250
    for a, b in product(ascii_uppercase, repeat=2):
        for code in (a + b, (a + b).lower()):
            assert (origin_problem(code) is None) == (code in before), code


def test_the_bundled_list_is_what_update_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """rules/countries.json is ``python -m update.countries`` run on the installed pycountry, byte for byte: a
    pycountry that changed a code fails here until the list is rebuilt."""
    monkeypatch.setattr(countries, "OUT", tmp_path / "countries.json")
    monkeypatch.setattr(countries, "RULES", tmp_path)
    countries.main([])
    committed = Path(__file__).parents[1] / "rules" / "countries.json"
    assert (tmp_path / "countries.json").read_bytes() == committed.read_bytes()
