"""Countries of origin: ISO 3166-1 alpha-2 codes (the list pycountry ships), plus Kosovo's user-assigned XK.

Why a check: an origin the rules do not know is covered by neither the WTO rate nor any EPA, so a mistyped
code (UK for GB) would silently get the higher national rate (関税定率法基本通達3-1: the rate depends on the origin).
"""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path

from xlduty.core.errors import DataError

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
