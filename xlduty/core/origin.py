"""The country of origin (原産地): a code the rules know, and the proof a preferential rate needs.

A line's origin must be an ISO 3166-1 alpha-2 code (the list pycountry ships) or Kosovo's user-assigned XK. Why a
check: an origin the rules do not know is covered by neither the WTO rate nor any EPA, so a mistyped code (UK for
GB) would silently get the higher national rate (関税定率法基本通達3-1: the rate depends on the origin).

A preferential rate (EPA, GSP, LDC) needs proof of origin, waived for a consignment whose total customs value is at
most 200,000 yen (関税法施行令61条1項2号; 関税暫定措置法施行令27条1項1号: rules/reliefs.yaml).
"""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from xlduty.core.errors import DataError, InputError
from xlduty.core.result import Step
from xlduty.core.rounding import yen_text
from xlduty.core.rules import OriginProofWaiver

USER_ASSIGNED = {"XK": "Kosovo"}   # not in ISO 3166-1; Japan's GSP list names it (rules/preference_parties.yaml)
_HINTS = {   # codes people write for a country whose ISO code differs
    "UK": "GB (United Kingdom)",
    "EL": "GR (Greece; EL is the EU's own code)",
    "EU": "the member state of origin, e.g. DE (the EU is not a country of origin)",
}


@lru_cache(maxsize=1)
def codes() -> frozenset[str]:
    """Every alpha-2 code of ISO 3166-1 and ``USER_ASSIGNED``, read once (the per-user cache keeps it)."""
    from xlduty.core.cache import cached

    spec = importlib.util.find_spec("pycountry")   # its data file only: importing pycountry costs 20 ms
    if spec is None or not spec.submodule_search_locations:
        raise DataError("pycountry is missing: reinstall xlduty")
    path = Path(spec.submodule_search_locations[0]) / "databases" / "iso3166-1.json"
    try:
        listed = cached("iso3166-1", [path], lambda: sorted(c["alpha_2"] for c in
                                                            json.loads(path.read_bytes())["3166-1"]), codec="marshal")
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot read the ISO 3166-1 list {path}: {exc}") from exc
    return frozenset(listed) | USER_ASSIGNED.keys()


def origin_problem(code: str) -> str | None:
    """None for a country code; else why it is not one, with the code most likely meant."""
    if code in codes():
        return None
    hint = _HINTS.get(code)
    return f"{code} is not an ISO 3166-1 country code" + (f": use {hint}" if hint else "")


def check(code: str | None, i: int) -> None:
    """An ``InputError`` on line ``i``'s origin when it is not a country code (``origin_problem``); also on a line
    with its own rate: an origin is never echoed unchecked."""
    if code is not None and (problem := origin_problem(code)) is not None:
        raise InputError(f"lines[{i}].origin", problem)


PREFERENCES = ("epa_", "rate_gsp", "rate_ldc")   # columns whose rate needs proof of origin


def proof(waiver: OriginProofWaiver, total: Decimal, warnings: list[str], explanation: list[Step]) -> None:
    """A preferential rate is applied: the proof of origin is waived (an explanation step) or required (a warning)."""
    if total <= waiver.threshold_jpy:
        explanation.append(Step("origin_proof", f"total {yen_text(total)} ≤ {waiver.threshold_jpy:,}: {waiver.rule}",
                                None, waiver.basis, waiver.verified))
    else:
        warnings.append("a preferential rate is applied: proof of origin is required "
                        f"(total customs value over {waiver.threshold_jpy:,} yen)")
