"""Customs weekly exchange rates (税関長公示レート): 関税定率法4条の7, 関税定率法施行規則1条.

The rate for a declaration is the one published for the Sunday–Saturday week containing the
declaration date. Figures are kept exactly as published, per 1 or per 100 units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from xlduty.core import tables
from xlduty.core.errors import DataError, InputError

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
    path = tables.fx_table_path()
    try:
        book = tables.read_json_gz(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the exchange rates {path}: {exc}") from exc
    return CustomsRates(date.fromisoformat(book["first_week"]), book["weeks"], book["rates"], book["aliases"])


@lru_cache(maxsize=1)
def _per_100() -> dict[str, tuple[str, str]]:
    """Each currency whose latest bundled week is quoted per 100 units: (that figure, the week's Sunday). Kept in the
    user cache: reading the whole table costs 40 ms, which a declaration giving its own rates should not pay."""
    from xlduty.core.cache import cached

    def build() -> dict[str, tuple[str, str]]:
        table = customs_rates()
        latest = {}
        for currency, series in table.rates.items():
            i = next((i for i in range(len(series) - 1, -1, -1) if series[i] is not None), None)
            if i is not None and series[i].endswith("/100"):   # type: ignore[union-attr]
                latest[currency] = (series[i].partition("/")[0],   # type: ignore[union-attr]
                                    str(table.first_week + timedelta(weeks=i)))
        return latest

    return cached("fx-per-100", [tables.fx_table_path()], build, codec="marshal")


@lru_cache(maxsize=4096)
def given_rate_warning(currency: str, text: str) -> str | None:
    """A warning for an ``fx_rates`` figure that looks like Customs' per-100-units quote (KRW 8.94 given as yen
    per 1 KRW): 30–300 times the latest bundled per-unit rate of a currency Customs quotes per 100."""
    try:
        found = _per_100().get(currency)
    except DataError:   # the customs table is unreadable: a declaration giving its own rates still computes
        return None
    if found is None or not Decimal(found[0]):
        return None
    figure, week = found
    ratio = Decimal(text) * 100 / Decimal(figure)
    if not 30 <= ratio <= 300:
        return None
    return (f"fx_rates {currency} {text} is read as yen per 1 {currency}, about {ratio:.0f} times the customs rate "
            f"({figure} yen per 100 {currency} in the week of {week}, the latest bundled): if {text} is a per-100 "
            f"figure, give {Decimal(text) / 100}")


@tables.on_switch
def _forget() -> None:
    customs_rates.cache_clear()
    _per_100.cache_clear()
    given_rate_warning.cache_clear()


_given: dict[tuple[str, str], FxRate] = {}   # the rates declarations supply (fx_rates), by currency and text
_GIVEN_LIMIT = 4096   # emptied when full: a process may run for days (Excel)


class NoCustomsRate(InputError):
    """No customs weekly rate (税関長公示レート, 関税定率法施行規則1条) for a currency in a week. The message advises
    a declaration (give ``fx_rates`` or refresh); an adapter whose user supplies the rate elsewhere (an FX cell, or
    nowhere) words its own advice with ``advise`` rather than by matching this text."""

    def __init__(self, field: str, message: str, reason: str = "") -> None:
        super().__init__(field, message)
        self.reason = reason or message

    def within(self, prefix: str) -> NoCustomsRate:
        err = super().within(prefix)
        assert isinstance(err, NoCustomsRate)
        err.reason = self.reason
        return err

    def advise(self, field: str, advice: str) -> NoCustomsRate:
        """The same missing rate named at ``field`` with ``advice`` in place of the declaration's."""
        return NoCustomsRate(field, f"{self.reason}: {advice}", self.reason)


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
        reason = f"no customs exchange rate for {currency} in the week {start}–{end}"
        raise NoCustomsRate(field, (
            f"{reason}: the bundled table covers "
            f"{table.first_week}–{table.last_week + timedelta(days=6)}. Give fx_rates {{\"{currency}\": yen per 1 "
            f"{currency}}} from the customs weekly table ({FX_INDEX_URL}), or refresh the rates"), reason)
    return found
