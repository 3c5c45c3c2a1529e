"""Customs weekly exchange rates (税関長公示レート): 関税定率法4条の7, 関税定率法施行規則1条.

The rate for a declaration is the one published for the Sunday–Saturday week containing the
declaration date. Figures are kept exactly as published, per 1 or per 100 units.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from xlduty.bundle import rules_dir
from xlduty.errors import DataError, InputError

FX_INDEX_URL = "https://www.customs.go.jp/tetsuzuki/kawase/index.htm"


def week_of(d: date) -> tuple[date, date]:
    """The Sunday–Saturday week containing ``d`` (cut at the ends of the calendar Python knows: years 1–9999)."""
    back = (d.weekday() + 1) % 7   # days since Sunday
    ahead = timedelta(days=6 - back)
    return (d - timedelta(days=back) if d.toordinal() > back else date.min,
            d + ahead if d <= date.max - ahead else date.max)


@dataclass(frozen=True, slots=True)
class FxRate:
    currency: str
    yen_per_unit: Decimal
    published: str            # as printed, e.g. "10.03" (per 100 units) or "155.39"
    per_units: int
    week_start: date | None   # None for a rate the declaration supplied
    week_end: date | None
    source: str               # "customs" (bundled table), "declaration" (fx_rates), "yen"
    alias_of: str | None = None

    def describe(self) -> str:
        if self.source == "yen":
            return "JPY"
        per = f" per {self.per_units}" if self.per_units != 1 else ""
        if self.source == "declaration":
            return f"{self.currency} {self.published} yen{per} (fx_rates of the declaration)"
        alias = f" (= {self.alias_of}, as published)" if self.alias_of else ""
        return (f"{self.currency}{alias} {self.published} yen{per}, customs rate for the week "
                f"{self.week_start}–{self.week_end}")


YEN = FxRate("JPY", Decimal(1), "1", 1, None, None, "yen")


@dataclass(frozen=True)
class CustomsRates:
    first_week: date
    weeks: int
    rates: dict[str, list[str | None]]
    aliases: dict[str, str]

    @property
    def last_week(self) -> date:
        return self.first_week + timedelta(weeks=self.weeks - 1)

    def lookup(self, currency: str, on: date) -> FxRate | None:
        start, end = week_of(on)
        i = (start - self.first_week).days // 7
        if not 0 <= i < self.weeks:
            return None
        alias = None
        series = self.rates.get(currency)
        text = series[i] if series else None
        if text is None and currency in self.aliases:
            alias = self.aliases[currency]
            series = self.rates.get(alias)
            text = series[i] if series else None
        if text is None:
            return None
        figure, _, per = text.partition("/")
        per_units = int(per) if per else 1
        return FxRate(currency, Decimal(figure) / per_units, figure, per_units, start, end, "customs", alias)


@lru_cache(maxsize=1)
def customs_rates() -> CustomsRates:
    from xlduty.rates.store import active_dir  # the refreshed table in use (xlduty rates), else the bundled one

    path = (active_dir("fx") or rules_dir()) / "fx" / "customs_weekly.json.gz"
    try:
        book = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the exchange rates {path}: {exc}") from exc
    return CustomsRates(date.fromisoformat(book["first_week"]), book["weeks"], book["rates"], book["aliases"])


_given: dict[tuple[str, str], FxRate] = {}   # the rates declarations supply (fx_rates), by currency and text
_GIVEN_LIMIT = 4096   # emptied when full: a process may run for days (Excel)


def rate_for(currency: str, on: date, supplied: dict[str, Decimal], field: str) -> FxRate:
    """The yen rate for ``currency`` on ``on``: the declaration's own ``fx_rates`` first, then customs'.

    A week with no rate is an ``InputError`` naming ``field`` and saying how to supply one.
    """
    if currency == "JPY":
        return YEN
    if currency in supplied:
        v = supplied[currency]
        text = str(v)   # as given: 155.39 and 155.390 are printed as given
        found = _given.get((currency, text))
        if found is None:   # FxRate is frozen: one per rate text is shared by the declarations giving it
            if len(_given) >= _GIVEN_LIMIT:
                _given.clear()
            found = _given[currency, text] = FxRate(currency, v, text, 1, None, None, "declaration")
        return found
    found = customs_rates().lookup(currency, on)
    if found is None:
        start, end = week_of(on)
        table = customs_rates()
        raise InputError(field, (
            f"no customs exchange rate for {currency} in the week {start}–{end}: the bundled table covers "
            f"{table.first_week}–{table.last_week + timedelta(days=6)}. Give fx_rates {{\"{currency}\": yen per 1 "
            f"{currency}}} from the customs weekly table ({FX_INDEX_URL}), or refresh the rates"))
    return found
