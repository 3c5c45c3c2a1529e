"""The gate-price system for pork (差額関税制度): the reference prices (基準輸入価格) of 関税暫定措置法
別表第1の3の2, the bands they set, and the national (暫定) rates measured from them (別表第1の3, by 暫定法2条2項).

The schedule words these lines by prices it does not print (「…部分肉に係る分岐点価格を超えるもの」,
「1キログラムにつき部分肉に係る基準輸入価格と課税価格との差額」); rules/reference_prices.yaml gives them by date, each
with its source and verification mark:

    従量税適用限度価格 = 基準輸入価格 − the specific rate of the 〔1〕 lines           (live pigs, carcasses, cuts)
    分岐点価格       = 基準輸入価格 / (1 + the ad valorem rate above it)
    分岐点価格       = 基準輸入価格 × 1.5 / (0.6 + the ad valorem rate above it)   (豚肉加工品)

Under the emergency measure of 暫定法7条の6 the 基準輸入価格 is raised (第2号); the lines stay those of the normal
prices (第1号), and the national duty of every line of the goods follows the raised prices. Whether the measure is
in force is what the declaration says (``pork_emergency``), else the record in the rule data; on a date after that
record it is not known, and every line of the system says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from xlduty.core.rate import AdValorem, ByUnitValue, Formula, GatePrice, Manual, Noted, Rate, Specific
from xlduty.core.rate_parser import normalize, parse_rate
from xlduty.core.rounding import exact_text
from xlduty.core.rules import DatedPrice, GateGoods, GatePrices
from xlduty.core.schedule import GATE_GOODS, TariffLine, ValueBand, WordBand
from xlduty.core.units import Unit, unit_of

NATIONAL = "rate_temporary"   # the column of 別表第1の3's rates in the schedule
_REFERENCE_CELL = re.compile(r"1(キログラム|頭)につき、?(生きている豚|枝肉|部分肉|豚肉加工品)に係る基準輸入価格"
                             r"(?:に(\d+(?:\.\d+)?)を乗じて得た額)?と課税価格(?:に(\d+(?:\.\d+)?)を乗じて得た額)?との差額")
_PRICE_NAMES = {"limit": "従量税適用限度価格", "gate": "分岐点価格"}


def _fraction(x: object) -> Fraction:
    return Fraction(str(x))


@dataclass(frozen=True, slots=True)
class Gate:
    """The gate-price system as it applies to one item of goods on one date (one declaration's lines of it)."""

    key: str                          # live_pigs, carcasses, cuts, pork_preparations
    goods: GateGoods
    on: date
    normal: DatedPrice | None         # 第1号 on the date: it sets the lines' bands
    emergency: bool                   # 7条の6 in force
    raised: DatedPrice | None         # 第2号 on the date, while it is
    status: str                       # how the emergency status was decided, for the explanation
    unverified: tuple[str, ...]       # what the line relies on that is not verified
    rules: GatePrices

    @property
    def unit(self) -> Unit:
        return unit_of(self.goods.unit)

    @property
    def price(self) -> DatedPrice | None:
        """The 基準輸入価格 the duty is measured from: the raised one under the emergency measure."""
        return self.raised if self.emergency else self.normal

    def limit(self, price: Fraction) -> Fraction | None:
        """従量税適用限度価格: the price less the specific rate of the 〔1〕 lines (None for 豚肉加工品: it has
        none)."""
        return None if self.goods.specific is None else price - _fraction(self.goods.specific)

    def gate(self, price: Fraction) -> Fraction:
        """分岐点価格: where the difference meets the ad valorem rate (the exact quotient: the schedule rounds
        nothing)."""
        r = _fraction(self.goods.ad_valorem) / 100
        if self.goods.shape == "preparations":
            return price * Fraction(3, 2) / (Fraction(3, 5) + r)
        return price / (1 + r)

    def _threshold(self, which: str, price: Fraction) -> Fraction | None:
        return self.limit(price) if which == "limit" else self.gate(price)

    def how(self, which: str, price: DatedPrice) -> str:
        """How a threshold comes about, in figures: 「分岐点価格 = 546.53 / 1.043 = 523.998082…」."""
        p = _fraction(price.yen)
        name = _PRICE_NAMES[which]
        value = self._threshold(which, p)
        assert value is not None
        if which == "limit":
            return f"{name} = {price.yen:,} − {self.goods.specific:,} = {exact_text(value)}"
        r = _fraction(self.goods.ad_valorem) / 100
        if self.goods.shape == "preparations":
            return f"{name} = {price.yen:,} × 1.5 / (0.6 + {exact_text(r)}) = {exact_text(value)}"
        return f"{name} = {price.yen:,} / {exact_text(1 + r)} = {exact_text(value)}"

    def band(self, word: WordBand) -> ValueBand | None:
        """A band in words in figures, by the normal prices (第1号: the lines are theirs even under the emergency
        measure); None when no price is bundled for the date."""
        if self.normal is None:
            return None
        p = _fraction(self.normal.yen)
        low = self._threshold(word.low, p) if word.low else None
        high = self._threshold(word.high, p) if word.high else None
        why = "; ".join(self.how(w, self.normal) for w in (word.low, word.high) if w)
        return ValueBand(low, False, high, True, word.unit, word.text, why)  # type: ignore[arg-type]

    def describe(self) -> str:
        """The reference price with its article and mark, and the emergency status: for the explanation."""
        g = self.goods
        price = self.normal
        text = (f"{g.name_ja}: 基準輸入価格 {price.yen:,} yen per {self.unit.ja} ({g.paragraph}第1号, in force from "
                f"{price.start}; {price.verified})" if price else
                f"{g.name_ja}: no 基準輸入価格 ({g.paragraph}第1号) is bundled for {self.on}")
        if self.emergency:
            raised = self.raised
            text += (f"; 暫定法7条の6 in force ({self.status}): raised to {raised.yen:,} ({g.paragraph}第2号; "
                     f"{raised.verified})" if raised else
                     f"; 暫定法7条の6 in force ({self.status}), but no raised price ({g.paragraph}第2号) is bundled")
        else:
            text += f"; 暫定法7条の6: {self.status}"
        return text

    # --- the rates --------------------------------------------------------------------------------------------

    def rate(self, line: TariffLine, column: str) -> tuple[Rate | None, str | None]:
        """The column's rate as the law applies it on the date, and what it relies on that is unverified: a cell worded
        by the reference price gets the price's figure; under the emergency measure the national rate follows the
        raised prices; a cell the rule data corrects is read so. The cell as printed otherwise."""
        text = line.text(column)
        rate = line.rate(column)
        if rate is None or text is None:
            return rate, None
        if column == NATIONAL and self.emergency:
            return self.emergency_rate(text), None
        if self.emergency and column.startswith("epa_"):
            note = f"EPA rate under 暫定法7条の6: {self.rules.emergency.epa_note}"
        else:
            note = None
        for fix in self.rules.corrections:
            if column == fix.column and line.hs in fix.lines and text in fix.printed:
                return parse_rate(text.replace(fix.find, fix.replace)), (
                    f"{line.hs} {column} printed 「{text}」, read 「{text.replace(fix.find, fix.replace)}」: {fix.why}")
        return self.resolve(rate), note

    def resolve(self, rate: Rate) -> Rate:
        """A cell worded by the reference price (Manual to the parser, which knows no date) in figures; other rates as
        they are. A cell of other goods, or a date without a price, stays Manual: the user is asked for the rate."""
        inner = rate.inner if isinstance(rate, Noted) else rate
        if not isinstance(inner, Manual):
            return rate
        m = _REFERENCE_CELL.fullmatch(normalize(inner.text))
        price = self.price
        if m is None or GATE_GOODS[m.group(2)] != self.key or price is None:
            return rate
        unit, _goods, times_price, times_value = m.groups()
        if (times_price is not None) != (self.goods.shape == "preparations"):
            return rate
        b = _fraction(price.yen) * (_fraction(times_price) if times_price else 1)
        var = Formula("var")
        value = Formula("×", left=Formula("num", value=_fraction(times_value)), right=var) if times_value else var
        resolved: Rate = GatePrice(Formula("-", left=Formula("num", value=b), right=value),
                                   unit_of("kg" if unit == "キログラム" else "head"))
        return Noted(resolved, rate.marks) if isinstance(rate, Noted) else resolved

    def emergency_rate(self, text: str) -> Rate:
        """The national rate of any line of the goods under 7条の6: the law's bands at the raised price (the specific
        rate up to the raised 従量税適用限度価格, the difference up to the raised 分岐点価格, the ad valorem rate
        above). Manual where no raised price is bundled."""
        raised = self.raised
        g = self.goods
        if raised is None:
            return Manual(text, f"the 暫定法7条の6 price of {g.name_ja} ({g.paragraph}第2号) is not bundled")
        return self.bands_at(raised, f"暫定法7条の6: {g.name_ja} at the raised 基準輸入価格 {raised.yen}")

    def normal_rate(self) -> ByUnitValue | None:
        """The national rate of the goods by the law's bands at the normal 基準輸入価格 (第1号), whatever line
        declares them; None where no price is bundled. Where the raised price of 7条の6 is not bundled it bounds the
        national rate from below: each band's duty (the specific rate, the price less the unit value, the ad valorem
        rate) does not fall as the price rises, and the bands meet where their duties are equal."""
        normal = self.normal
        if normal is None:
            return None
        return self.bands_at(normal, f"{self.goods.name_ja} at the normal 基準輸入価格 {normal.yen}")

    def bands_at(self, price: DatedPrice, text: str) -> ByUnitValue:
        """The law's bands at ``price``: the specific rate up to its 従量税適用限度価格, the difference up to its
        分岐点価格, the ad valorem rate above."""
        g = self.goods
        p = _fraction(price.yen)
        unit = self.unit
        var = Formula("var")
        bands: list[tuple[Fraction | None, Rate]] = []
        if g.shape == "preparations":
            gap = Formula("-", left=Formula("num", value=p * Fraction(3, 2)),
                          right=Formula("×", left=Formula("num", value=Fraction(3, 5)), right=var))
        else:
            gap = Formula("-", left=Formula("num", value=p), right=var)
            limit = self.limit(p)
            if limit is not None and g.specific is not None:
                bands.append((limit, Specific(g.specific, unit)))
        bands.append((self.gate(p), GatePrice(gap, unit)))
        bands.append((None, AdValorem(g.ad_valorem)))
        return ByUnitValue(tuple(bands), unit, text)


def gate_for(rules: GatePrices, key: str, on: date, declared: bool | None) -> Gate:
    """The system for goods ``key`` on ``on``; ``declared``: the declaration's ``pork_emergency`` (None: not said)."""
    goods = rules.goods[key]
    em = rules.emergency
    unverified: list[str] = []
    if declared is not None:
        emergency = declared
        status = f"declared: pork_emergency {'true' if declared else 'false'}"
        if not declared:
            status = f"not in force ({status})"
    elif (period := em.period(on)) is not None:
        emergency = True
        status = f"from {period.start} to {period.end} on the record ({period.source})"
        if period.verified == "U":
            unverified.append(f"暫定法7条の6 in force on {on}: {period.source}")
    elif on <= em.complete_through:
        emergency = False
        status = f"not in force on {on} (the record is complete to {em.complete_through})"
    else:
        emergency = False
        status = (f"not known to be in force on {on}: computed at the normal prices (the record of the measure ends "
                  f"{em.complete_through}); a declaration may say so with pork_emergency: true or false")
        unverified.append(f"暫定法7条の6 (pork emergency measure) not known to be in force on {on}: the normal "
                          "基準輸入価格 is used; set pork_emergency to say whether it is")
    normal = goods.price(on)
    raised = goods.price(on, emergency=True) if emergency else None
    for price in (normal, raised):
        if price is not None and price.verified == "U":
            unverified.append(f"{goods.name_ja} 基準輸入価格 {price.yen:,} ({goods.paragraph}): {price.source}")
    if normal is not None and on > rules.confirmed_to:
        unverified.append(f"{goods.name_ja} 基準輸入価格 after {rules.confirmed_to}: {goods.paragraph} sets the prices "
                          f"by period of importation; the bundled figures were confirmed to {rules.confirmed_to}")
    return Gate(key, goods, on, normal, emergency, raised, status, tuple(unverified), rules)
