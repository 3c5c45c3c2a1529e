"""What the steps hand each other: the rules in force on the declaration's date, the declaration's own facts, each
line as prepared (classified, valued in yen, its consumption-tax class and excise known), and the lines under one
treatment with their totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeAlias

from xlduty.core.declaration import CommonLine, PlainDeclaration, PlainLine
from xlduty.core.fx import FxRate
from xlduty.core.gate_price import Gate
from xlduty.core.rate import ZERO
from xlduty.core.result import LineResult, Step, Totals
from xlduty.core.rounding import percent_fraction
from xlduty.core.rules import CTRate, DeMinimisVersion, Rules, SimplifiedVersion
from xlduty.core.schedule import TariffLine, ValueBand
from xlduty.core.units import Unit

if TYPE_CHECKING:   # the models import pydantic, which a plain declaration never needs (declaration.py)
    from xlduty.core.declaration_models import Declaration, Line

AnyDeclaration: TypeAlias = "Declaration | PlainDeclaration"
AnyLine: TypeAlias = "Line | PlainLine | CommonLine"


@dataclass(slots=True)
class Day:
    """The dated rules in force on one date."""

    ct: CTRate                         # the consumption-tax version
    reduced_on: bool                   # it has a reduced rate
    ct_texts: tuple[str, str]          # its standard and reduced national rates as output
    ct_ratios: tuple[tuple[int, int], tuple[int, int]]   # and as fractions of 1
    de_minimis: DeMinimisVersion | None   # the de minimis version (定率法14条18号), if any
    simplified: SimplifiedVersion | None  # the simplified-tariff version (簡易税率), if any
    text: str                          # the date as output (YYYY-MM-DD)


def day_of(rules: Rules, on: date) -> Day:
    """The consumption-tax, de minimis and simplified-tariff versions in force on ``on``."""
    ct = rules.consumption_tax.on(on)
    return Day(ct, ct.national_reduced is not None, (f"{ct.national_standard}%", f"{ct.national_reduced}%"),
               (percent_fraction(ct.national_standard), percent_fraction(ct.national_reduced or ZERO)),
               rules.de_minimis_on(on), rules.simplified_on(on), str(on))


@dataclass(slots=True)
class Context:
    """Per-declaration facts looked up once, not per line."""

    on: date
    fx_supplied: dict[str, Decimal]
    personal: bool                     # personal-use factor in force and asked for
    day: Day                           # the rules in force on ``on``
    personal_off: str | None = None    # note when personal use is asked for but the rule is not in force
    fx: dict[str, FxRate] = field(default_factory=dict)
    plain: bool = True                 # no personal-use factor or note: the fast path may use its line kinds
    warnings: list[str] | None = None  # what preparing the lines found for the declaration's warnings
    pork_emergency: bool | None = None  # the declaration says whether 暫定法7条の6 is in force (None: not said)
    readings: list[tuple[str, int, int, int]] | None = None
    # lines whose duty differs under the other reading of the gate-price unit value: (treatment, line, duty, other)


@dataclass(slots=True)
class BandCheck:
    """What the value-band check of a line found (``classification.check_bands``): its bands in figures, the customs
    value per unit of the bands, whether they hold, and, for a line of the gate-price system, its reference prices
    (``gate_price.Gate``), which its rates are resolved with."""

    bands: tuple[ValueBand | None, ...]   # None: a band in words without a price for the date
    per_unit: Fraction | None          # the unrounded customs value per unit (None: not checked)
    holds: bool | None                 # None: not checked
    gate: Gate | None
    step: Step                         # the explanation step (rendered on output)
    readings: bool = False             # its rates have gate-price formulas and the two readings of the unit value
    # differ (rules/rounding.yaml gate_price_unit_value): the engine compares the duty under both
    misfit: str | None = None          # the value lies outside the line's band: what was found, naming the line that
    # fits (a figure for this line would not be what Customs assesses; the Excel functions refuse it)


@dataclass(slots=True)
class Prepared:
    """What a line is, independent of the treatment chosen."""

    index: int
    line: AnyLine
    tariff: TariffLine | None
    fx: FxRate
    foreign: Decimal                   # the value in the line currency (after the personal-use factor)
    value: Decimal                     # customs value in yen, unrounded
    unit: Unit | None
    ct_rate: Decimal
    reduced: bool
    excise: int
    personal: bool                     # the personal-use factor was applied
    notes: list[str]
    unverified: list[str]
    excise_steps: list[Step] | None = None
    de_minimis_exempt: bool = False
    ct_text: str = ""                  # the consumption-tax rate as output ("7.8%")
    ct_ratio: tuple[int, int] = (0, 1)  # the national rate / 100 as a fraction
    kind: Any = None                   # the fast path's kind of the line (``fast.path.Kind``), if it has one
    band: BandCheck | None = None      # a line limited by customs value per unit: what its check found


@dataclass(slots=True)
class Treated:
    """The lines under one treatment, their totals, and what the declaration reports about them."""

    lines: list[LineResult]
    totals: Totals
    excise: bool                       # some line bears excise (its total may still round to 0)
    flagged: list[LineResult]          # lines relying on unverified rule data
    preference: bool                   # a preferential rate is applied to some line

