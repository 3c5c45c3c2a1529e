"""Which line of the tariff schedule (実行関税率表) the goods fall under: the code as the user typed it, the unit of
the quantity given, and the band of customs value per unit that a line's description may set (copper, zinc,
onions, pork …: 課税価格が1キログラムにつき…のもの), checked once the line is valued.

Classification itself (関税率表の解釈に関する通則) is the importer's: a line names its code, or gives its own rate.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

from xlduty.core.errors import InputError
from xlduty.core.facts import AnyLine, Context
from xlduty.core.rounding import yen_text
from xlduty.core.schedule import LookupError_, Schedule, TariffLine, ValueBand
from xlduty.core.units import Unit, convert, unit_of


def tariff_line(ln: AnyLine, schedule: Schedule | None, on: date, i: int) -> TariffLine | None:
    """The schedule's line for line ``i``'s code on ``on``; None for a line that gives its own rate instead."""
    if ln.hs_code:
        try:
            assert schedule is not None
            return schedule.typed_line(ln.hs_code, on)
        except (ValueError, LookupError_) as exc:
            raise InputError(f"lines[{i}].hs_code", str(exc)) from None
    if not ln.rate:
        raise InputError(f"lines[{i}].hs_code", "give hs_code or rate")
    return None


def quantity_unit(ln: AnyLine, i: int) -> Unit | None:
    """The unit of line ``i``'s quantity, if it names one."""
    if not ln.unit:
        return None
    try:
        return unit_of(ln.unit)
    except ValueError as exc:
        raise InputError(f"lines[{i}].unit", str(exc)) from None


def check_band(i: int, ln: AnyLine, tariff: TariffLine, band: ValueBand, value: Decimal, unit: Unit | None,
               notes: list[str], ctx: Context) -> None:
    """A line whose description limits its goods by customs value per unit: say so when the line's value falls
    outside, or cannot be checked (no quantity), since a neighbouring line then applies with another rate (its duty
    would not be what Customs assesses)."""
    target = unit_of(band.unit)
    where = f"{tariff.hs} covers only goods 「{band.text}」"
    if ln.quantity is None or ln.quantity <= 0:
        found = f"{where}: give a quantity above 0 in {target.code} to check that it is the right line"
    else:
        try:
            with localcontext() as exact:   # the customs value per unit, to 60 digits: no boundary is blurred
                exact.prec = 60
                per_unit: Decimal | None = value / convert(ln.quantity, unit or target, target)
        except (ValueError, ArithmeticError):   # another dimension; a quantity of 1E-999999999
            per_unit = None
        if per_unit is None:
            found = f"{where}: the quantity in {ln.unit or target.code} cannot be checked against it"
        elif band.holds(per_unit):
            return
        else:
            found = (f"{where}, and this line's customs value is {yen_text(per_unit)} yen per {target.ja}: "
                     f"another line of {tariff.hs[:7]} applies, with its own rate")
    notes.append(found)
    if ctx.warnings is None:
        ctx.warnings = []
    ctx.warnings.append(f"line {i}: {found}")
