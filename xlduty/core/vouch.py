"""Dates the tables cannot speak for: a warning, never a silent figure.

The tariff tables held (bundled or refreshed) know the editions of the 実行関税率表 up to the newest one fetched.
Customs publishes a new edition every 1 April and at other times (rules/tariff_cycle.yaml), so the newest edition
held vouches for dates up to the day before the next 1 April after it took effect, or up to the day a refresh last
checked the site and held its newest edition (``tables.tariff_checked``), whichever is later. A date past that
(``9999-12-31``) is still computed, on the newest edition and the rules as far as they are known (the consumption
tax of today), with a warning that says so. A pinned ``tariff_edition`` that was not in force on the date (not yet,
or superseded) is computed as asked, with a warning.
"""

from __future__ import annotations

from datetime import date, timedelta

from xlduty.core import tables
from xlduty.core.rules import AnnualEdition


def next_annual(after: date, annual: AnnualEdition) -> date:
    """The first 1 April (``annual``'s day) strictly after ``after``."""
    day = date(after.year, annual.month, annual.day)
    return day if day > after else date(after.year + 1, annual.month, annual.day)


def vouched_until(newest: date, checked: date | None, annual: AnnualEdition) -> date:
    """The last date the tables vouch for, the newest edition having taken effect on ``newest``."""
    until = next_annual(newest, annual) - timedelta(days=1)
    return max(until, checked) if checked is not None else until


_held: dict[int, tuple[AnnualEdition, tuple[str, str, date, date | None, date]]] = {}


def _tables(annual: AnnualEdition) -> tuple[str, str, date, date | None, date]:
    """(folder of the tariff tables in use, their newest edition, its first day, the last refresh check, the last
    date vouched for): worked out once per switch of the tables (a declaration only compares its date)."""
    held = _held.get(id(annual))
    if held is None or held[0] is not annual:   # the rule object is held with it: its id cannot be reused
        directory = str(tables.tables_dir("tariff"))
        checked = tables.tariff_checked()
        name, start = max(tables.editions(directory), key=lambda e: e[1])
        held = _held[id(annual)] = (annual, (directory, name, start, checked, vouched_until(start, checked, annual)))
    return held[1]


def date_warnings(on: date, pinned: str | None, annual: AnnualEdition) -> list[str]:
    """The warnings a declaration of date ``on`` (computed on the edition ``pinned``, if it names one) needs."""
    directory, newest, start, checked, until = _tables(annual)
    if on <= until and pinned is None:
        return []
    out = []
    if on > until:
        why = f"; the last refresh checked the site on {checked}" if checked is not None and checked >= start else ""
        out.append(f"the date {on} is past what the tariff tables held can vouch for (through {until}): the newest "
                   f"edition held, {newest}, took effect {start}, and Customs publishes a new schedule every "
                   f"{annual.day} {_MONTHS[annual.month]}{why}. It is computed on {newest} and the rules known today; "
                   "a newer schedule, consumption-tax rate or rule may apply: refresh the rates (xlduty rates refresh) "
                   "or check the figures")
    if pinned is not None:
        in_force = tables.edition_in_force(on, directory)
        if in_force != pinned:   # the pinned edition may be a bundled one the refreshed tables no longer hold
            starts = {**dict(tables.editions(str(tables.rules_dir()))), **dict(tables.editions(directory))}
            first = starts.get(pinned)
            same = f"the figures are those of {pinned}, not of the schedule in force on the date"
            if first is not None and first > on:
                out.append(f"tariff_edition {pinned} was not yet in force on {on} (it took effect {first}): {same}")
            elif in_force is not None:
                out.append(f"tariff_edition {pinned} was no longer in force on {on} ({in_force} took effect "
                           f"{starts[in_force]}): {same}")
    return out


_MONTHS = {1: "January", 2: "February", 3: "March", 4: "April", 5: "May", 6: "June", 7: "July", 8: "August",
           9: "September", 10: "October", 11: "November", 12: "December"}


@tables.on_switch
def _forget() -> None:
    _held.clear()
