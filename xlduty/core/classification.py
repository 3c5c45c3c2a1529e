"""Which line of the tariff schedule (実行関税率表) the goods fall under: the code as the user typed it, the unit of
the quantity given, and the band of customs value per unit that a line's description may set (copper, zinc,
onions, pork …: 課税価格が1キログラムにつき…のもの), checked once the line is valued.

Classification itself (関税率表の解釈に関する通則) is the importer's: a line names its code, or gives its own rate.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache, partial

from xlduty.core.errors import InputError
from xlduty.core.facts import AnyLine, BandCheck, Context
from xlduty.core.gate_price import Gate, gate_for
from xlduty.core.rate import GatePrice, Manual
from xlduty.core.result import Step
from xlduty.core.rounding import exact_text, truncate_tax_base, yen_text
from xlduty.core.rules import GatePrices
from xlduty.core.schedule import (
    LookupError_,
    Schedule,
    TariffLine,
    ValueBand,
    WordBand,
    line_bands,
    value_band,
    word_band,
)
from xlduty.core.units import Unit, unit_of


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


def check_bands(i: int, ln: AnyLine, tariff: TariffLine, bands: tuple[ValueBand | WordBand, ...], value: Decimal,
                unit: Unit | None, notes: list[str], unverified: list[str], ctx: Context, schedule: Schedule | None,
                rules: GatePrices) -> BandCheck:
    """A line whose description, or a heading above it, limits its goods by customs value per unit: check every such
    band (in figures, or in the words of the gate-price system, by the reference prices of the date), and say so when
    the line's value falls outside, naming the line that fits, or when it cannot be checked (no quantity, or one in
    another unit): a neighbouring line then applies with another rate, and the duty would not be what Customs
    assesses. The check takes the unrounded customs value per unit, exactly (rules/rounding.yaml
    gate_price_unit_value); where the 課税価格 cut to 1,000 yen would fall in another band, that is said too."""
    word = next((b for b in bands if isinstance(b, WordBand)), None)
    gate = gate_for(rules, word.goods, ctx.on, ctx.pork_emergency) if word is not None else None
    if gate is not None:
        unverified.extend(gate.unverified)
    resolved = tuple(_figures(b, gate) for b in bands)
    target = unit_of(bands[0].unit)
    texts = " and ".join(f"「{b.text}」" for b in bands)
    where = f"{tariff.hs} covers only goods {texts}"
    per_unit = checked = tv_unit = None
    found = misfit = None
    gate_rates = _gate_rates(tariff)
    quantity = _band_quantity(ln, unit, tariff, target)
    if isinstance(quantity, str):
        found = f"{where}: {quantity}"
    elif gate is not None and any(b is None for b in resolved):
        found = f"{where}: it cannot be checked on {ctx.on}, for which no 基準輸入価格 is bundled ({gate.describe()})"
    else:
        per_unit = Fraction(value) / quantity
        tv_unit = Fraction(truncate_tax_base(value)) / quantity
        failed = next((b for b in resolved if b is not None and not b.holds(per_unit)), None)
        checked = failed is None
        if failed is not None:
            fits = fitting_lines(tariff, schedule, gate, per_unit)
            fit = fits[0] if len(fits) == 1 else (f"one of {', '.join(fits)}" if fits else
                                                  f"another line of {tariff.hs[:7]}")
            found = (f"{_where(tariff, failed)}, and this line's customs value is {exact_text(per_unit)} yen per "
                     f"{target.ja}: {fit} applies, with its own rate")
            misfit = (f"{fit} applies, not {tariff.hs}: the customs value is {exact_text(per_unit)} yen per {target.ja}"
                      f", and {_where(tariff, failed)}")   # the same, the line that fits first (a cell cuts at 255)
        elif not all(b.holds(tv_unit) for b in resolved if b is not None):
            found = (f"{where}: its customs value per {target.ja} ({exact_text(per_unit)}) is inside, but its "
                     f"課税価格 cut to 1,000 yen per {target.ja} ({exact_text(tv_unit)}) is not: whether Customs "
                     "takes the one or the other is not verified (rules/rounding.yaml gate_price_unit_value); another "
                     "line may apply")
    if found is not None:
        notes.append(found)
        if ctx.warnings is None:
            ctx.warnings = []
        ctx.warnings.append(quantity.after(f"line {i}: {where}: ") if isinstance(quantity, AskField)
                            else f"line {i}: {found}")
    step = Step("value_band", partial(_band_step, tariff, bands, resolved, gate, value, quantity, per_unit, tv_unit,
                                      checked, found), exact_text(per_unit) if per_unit is not None else None,
                _BAND_BASIS if gate is None else f"{gate.rules.basis}; {_BAND_BASIS}",
                gate.normal.verified if gate is not None and gate.normal is not None else "V-off")
    readings = gate_rates and per_unit is not None and per_unit != tv_unit
    return BandCheck(resolved, per_unit, checked, gate, step, readings, misfit)


_BAND_BASIS = "the line's description (関税定率法 別表, 実行関税率表): 課税価格が1キログラムにつき…のもの"


def _figures(band: ValueBand | WordBand, gate: Gate | None) -> ValueBand | None:
    """A band with its limits in figures (a band in words by the date's reference prices; None without one)."""
    if isinstance(band, ValueBand):
        return band
    assert gate is not None
    return gate.band(band)


class AskField(str):
    """A warning that asks for a value of the declaration's ``field`` (its text says ``give a quantity above 0``),
    carrying the field beside its text: an adapter whose users type that value in a field of its own (a quote's
    ``customs_quantity``) names theirs with ``naming``, not by editing the text. Everywhere else it is the text."""

    field: str

    def __new__(cls, field: str, before: str, after: str) -> AskField:
        self = super().__new__(cls, f"{before}give a {field} above 0{after}")
        self.field, self._before, self._after = field, before, after
        return self

    def naming(self, name: str) -> str:
        """The same warning asking for the adapter's field ``name``."""
        return f"{self._before}give {name} above 0{self._after}"

    def after(self, prefix: str) -> AskField:
        """This warning after ``prefix`` (which line, which band), still asking for its field."""
        return AskField(self.field, prefix + self._before, self._after)

    def __reduce__(self) -> tuple[type[AskField], tuple[str, str, str]]:   # pickled (a batch's workers) as itself
        return AskField, (self.field, self._before, self._after)


def _where(tariff: TariffLine, band: ValueBand) -> str:
    figures = f" ({band.why})" if band.why else ""
    return f"{tariff.hs} covers only goods 「{band.text}」{figures}"


def _band_quantity(ln: AnyLine, unit: Unit | None, tariff: TariffLine, target: Unit) -> Fraction | str:
    """The line's quantity in the bands' unit, exactly, or why it cannot be had: no quantity; a quantity without a
    unit where the tariff counts the line in another unit of the same kind than its band (MT against kg, dozens against
    pieces: which one was meant is not known); a unit of another kind."""
    if ln.quantity is None or ln.quantity <= 0:
        return AskField("quantity", "", f" in {target.code} to check that it is the right line")
    if unit is None:
        printed = tariff.unit_1 or tariff.unit_2   # the first unit of the line's statistics
        try:
            counted = unit_of(printed) if printed else None
        except ValueError:
            counted = None
        if counted is not None and counted.dimension == target.dimension and counted is not target:
            return (f"the tariff counts {tariff.hs} in {printed} and its band is per {target.ja}: give the unit "
                    f"of the quantity (unit: {counted.code} or {target.code})")
        unit = target
    if unit.dimension != target.dimension or ln.quantity.adjusted() < -30:   # another kind; 1E-999999999 kg
        return f"the quantity in {ln.unit or unit.code} cannot be checked against it"
    return Fraction(ln.quantity) * Fraction(unit.factor) / Fraction(target.factor)


@lru_cache(maxsize=256)
def _gate_rates(tariff: TariffLine) -> bool:
    """True if some cell of the line has a gate-price formula, or is worded by a reference price."""
    stack: list[object] = [tariff.rate(c) for c in tariff.columns]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if isinstance(node, GatePrice) or (isinstance(node, Manual) and "基準輸入価格" in node.text):
            return True
        for attr in ("parts", "options"):
            stack.extend(getattr(node, attr, ()) or ())
        for attr in ("inner", "cap", "floor"):
            stack.append(getattr(node, attr, None))
        stack.extend(br.rate for br in getattr(node, "branches", ()))
    return False


def _goods_path(line: TariffLine) -> tuple[str, ...]:
    """What a line's description and headings say of the goods, the value bands left out."""
    parts = (*(line.path.split(" > ") if line.path else ()), line.description)
    return tuple(p for p in parts if value_band(p) is None and word_band(p) is None)


def fitting_lines(tariff: TariffLine, schedule: Schedule | None, gate: Gate | None, per_unit: Fraction) -> list[str]:
    """The lines of the same subheading, for the same goods but for their value bands, whose bands all hold at the
    customs value per unit ``per_unit``."""
    if schedule is None:
        return []
    goods = _goods_path(tariff)
    fits = []
    for other in schedule.by_hs6.get(tariff.code[:6], ()):
        bands = line_bands(other.path, other.description)
        if other.code == tariff.code or not bands or _goods_path(other) != goods:
            continue
        if any(isinstance(b, WordBand) and (gate is None or b.goods != gate.key) for b in bands):
            continue
        resolved = [_figures(b, gate) for b in bands]
        if all(b is not None and b.holds(per_unit) for b in resolved):
            fits.append(other.hs)
    return fits


def _band_step(tariff: TariffLine, bands: tuple[ValueBand | WordBand, ...], resolved: tuple[ValueBand | None, ...],
               gate: Gate | None, value: Decimal, quantity: Fraction | str, per_unit: Fraction | None,
               tv_unit: Fraction | None, holds: bool | None, found: str | None) -> str:
    """The explanation of the band check: the unit value, each band with its limits and why, the reference price with
    its article for a line of the gate-price system, its band and the national duty per unit there."""
    target = unit_of(bands[0].unit)
    parts = []
    if per_unit is not None and not isinstance(quantity, str):
        parts.append(f"customs value per {target.ja} = {yen_text(value)} / {exact_text(quantity)} = "
                     f"{exact_text(per_unit)}")
        if tv_unit != per_unit and tv_unit is not None:
            parts.append(f"課税価格 per {target.ja} = {yen_text(truncate_tax_base(value))} / {exact_text(quantity)} = "
                         f"{exact_text(tv_unit)} (the gate-price formulas' reading: rules/rounding.yaml "
                         "gate_price_unit_value)")
    if gate is not None:
        parts.append(gate.describe())
        if per_unit is not None and gate.normal is not None:
            parts.append(_system_band(gate, per_unit if tv_unit is None else tv_unit))
    for band, figures in zip(bands, resolved, strict=True):
        if figures is None:
            parts.append(f"「{band.text}」: no figures on this date")
            continue
        limits = f" ({figures.why})" if figures.why else ""
        verdict = "" if per_unit is None else (": holds" if figures.holds(per_unit) else ": does not hold")
        parts.append(f"{tariff.hs}: 「{figures.text}」{limits}{verdict}")
    if holds:
        parts.append("the declared line is the line of this value")
    if found is not None:
        parts.append(found)
    return "; ".join(parts)


def _system_band(gate: Gate, v: Fraction) -> str:
    """Which band of the gate-price system the value per unit is in, and the national duty per unit there."""
    g = gate.goods
    price = gate.price
    if price is None:
        return "the national rate cannot be computed: no price for the date"
    p = Fraction(str(price.yen))
    limit, gate_price = gate.limit(p), gate.gate(p)
    unit = gate.unit.ja
    if g.shape == "preparations":
        if v <= gate_price:
            duty = p * Fraction(3, 2) - Fraction(3, 5) * v
            return (f"{exact_text(v)} ≤ 分岐点価格 {exact_text(gate_price)}: 〔1〕, national duty per {unit} = "
                    f"{price.yen:,} × 1.5 − 0.6 × {exact_text(v)} = {exact_text(duty)}")
        return f"{exact_text(v)} > 分岐点価格 {exact_text(gate_price)}: 〔2〕, national duty {g.ad_valorem}%"
    if limit is not None and v <= limit:
        return (f"{exact_text(v)} ≤ 従量税適用限度価格 {exact_text(limit)}: 〔1〕, national duty {g.specific:,} yen "
                f"per {unit}")
    if v <= gate_price:
        return (f"{exact_text(limit) if limit is not None else 0} < {exact_text(v)} ≤ 分岐点価格 "
                f"{exact_text(gate_price)}: 〔2〕, national duty per {unit} = {price.yen:,} − {exact_text(v)} = "
                f"{exact_text(p - v)}")
    return f"{exact_text(v)} > 分岐点価格 {exact_text(gate_price)}: 〔3〕, national duty {g.ad_valorem}%"
