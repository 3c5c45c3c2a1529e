"""The tariff schedule (実行関税率表): editions keyed by the date they take effect, lines by HS code.

Editions load lazily through ``tables`` (``rules/tariff/<edition>.json.gz``, built by ``update/tariff.py``, or a
refreshed version); a declaration date picks the newest edition in force on that date. Rate texts parse on first
use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import NamedTuple

from xlduty.core import tables
from xlduty.core.errors import InputError, RateParseError
from xlduty.core.hs import format_hs, normalize_hs
from xlduty.core.rate import Manual, Rate
from xlduty.core.rate_parser import _in_season_text, parse_rate, season_of

COLUMN_NAMES_JA = {
    "rate_general": "基本税率", "rate_temporary": "暫定税率", "rate_wto": "WTO協定税率",
    "rate_gsp": "特恵税率", "rate_ldc": "特別特恵税率",
}


class LookupError_(LookupError):
    """An HS code that names no line, or a 6-digit code whose lines differ."""


class ValueBand(NamedTuple):
    """The customs values per unit a line is limited to by its description (課税価格が1キログラムにつき…のもの):
    copper, lead, zinc, onions, pork … are split into neighbouring lines by value."""

    low: Decimal | None        # None: no lower limit (a Fraction for a band in words, resolved: gate_price.py)
    low_included: bool         # 以上 (included) or を超え (excluded)
    high: Decimal | None
    high_included: bool        # 以下 (included) or 未満 (excluded)
    unit: str                  # a units.py code: kg, piece, head
    text: str                  # as the description words it
    why: str = ""              # how the limits of a band in words come about, in figures

    def holds(self, per_unit: Decimal | Fraction) -> bool:
        low, high = self.low, self.high
        return ((low is None or per_unit > low or (self.low_included and per_unit == low))
                and (high is None or per_unit < high or (self.high_included and per_unit == high)))


_YEN = r"([\d,]+)円(?:(\d+)銭)?"
_BAND = re.compile(rf"課税価格が1(キログラム|個|頭)につき、?{_YEN}(以下|未満|以上|を超えるもの|を超え)"
                   rf"(?:{_YEN}(以下|未満))?")
_BAND_UNITS = {"キログラム": "kg", "個": "piece", "頭": "head"}
_EXCEPT = re.compile(r"[^（）]*を除く")   # 「（…課税価格が…を超えるものを除く。）」: the band is what the line is not


def _amount(yen: str, sen: str | None) -> Decimal:
    return Decimal(yen.replace(",", "")) + (Decimal(sen) / 100 if sen else 0)


@lru_cache(maxsize=1024)
def value_band(description: str) -> ValueBand | None:
    """The band of customs value per unit a description sets in figures, else None (a band in words, such as
    分岐点価格, is not read). A band the description excludes (…を除く) is turned round where one-sided."""
    m = _BAND.search(description)
    if m is None:
        return None
    unit, yen, sen, how, yen2, sen2, how2 = m.groups()
    first, code, text = _amount(yen, sen), _BAND_UNITS[unit], m.group(0)
    if yen2 is not None and how in ("を超え", "以上"):
        band = ValueBand(first, how == "以上", _amount(yen2, sen2), how2 == "以下", code, text)
    elif how in ("以下", "未満"):
        band = ValueBand(None, False, first, how == "以下", code, text)
    else:   # 以上, を超えるもの, を超え
        band = ValueBand(first, how == "以上", None, False, code, text)
    if _EXCEPT.match(description, m.end()):
        if band.low is not None and band.high is not None:
            return None   # the goods outside a two-sided band: not one band
        band = (ValueBand(None, False, band.low, not band.low_included, code, f"{text}を除く") if band.high is None
                else ValueBand(band.high, not band.high_included, None, False, code, f"{text}を除く"))
    return band


class WordBand(NamedTuple):
    """A band written in words, by the prices of the gate-price system (差額関税): 「課税価格が1キログラムにつき、
    部分肉に係る従量税適用限度価格を超え、部分肉に係る分岐点価格以下のもの」. Its figures depend on the date
    (rules/reference_prices.yaml: ``gate_price``)."""

    goods: str                 # an item of rules/reference_prices.yaml: live_pigs, carcasses, cuts, pork_preparations
    low: str | None            # the band is above this price (を超え): "limit" (従量税適用限度価格) or "gate"
    #                            (分岐点価格)
    high: str | None           # and at or below this one (以下)
    unit: str                  # a units.py code: kg, head
    text: str                  # as the description words it, its definitions in brackets left out


GATE_GOODS = {"生きている豚": "live_pigs", "枝肉": "carcasses", "部分肉": "cuts", "豚肉加工品": "pork_preparations"}
_PRICE_WORDS = {"従量税適用限度価格": "limit", "分岐点価格": "gate"}
_G = "(生きている豚|枝肉|部分肉|豚肉加工品)に係る(従量税適用限度価格|分岐点価格)"
_WORDS = re.compile(rf"(1頭の)?課税価格が(?:1キログラムにつき、?)?{_G}(以下|を超え)(?:るもの)?(?:、?{_G}(?:以下)?)?")


def _unbracketed(text: str) -> str:
    """``text`` without its （…） notes, nested or left open (a path component may be cut short)."""
    out, depth = [], 0
    for c in text:
        if c == "（":
            depth += 1
        elif c == "）" and depth:
            depth -= 1
        elif not depth:
            out.append(c)
    return "".join(out)


@lru_cache(maxsize=1024)
def word_band(description: str) -> WordBand | None:
    """The band a description sets by the prices of the gate-price system, else None."""
    if "に係る" not in description:
        return None
    text = _unbracketed(description)
    m = _WORDS.search(text)
    if m is None:
        return None
    head, goods, price, how, goods2, price2 = m.groups()
    unit = "head" if head else "kg"
    label = re.search(r"〔\d〕", text)
    text = (label.group(0) if label else "") + m.group(0)
    if how == "以下":
        return WordBand(GATE_GOODS[goods], None, _PRICE_WORDS[price], unit, text)
    if goods2 is not None and goods2 != goods:
        return None   # two goods in one band: no line of the schedule says so
    return WordBand(GATE_GOODS[goods], _PRICE_WORDS[price], _PRICE_WORDS[price2] if price2 else None, unit, text)


@lru_cache(maxsize=1 << 15)   # a line each of a few editions (a broker's book has thousands of codes)
def line_bands(path: str, description: str) -> tuple[ValueBand | WordBand, ...]:
    """Every band a line's goods are limited to: its own description's and each heading's above it, nearest first
    (「1 課税価格が1キログラムにつき485円以下のもの」 over 7403.19-011 and -019; the 〔2〕 band of the gate-price
    system over 「課税価格が1キログラムにつき、399円未満のもの」, a statistical split within it)."""
    if not any(word in text for word in ("課税価格", "に係る") for text in (description, path)):
        return ()   # a band in figures names 課税価格, one in words a price に係る: a line naming neither has none
    bands: list[ValueBand | WordBand] = []
    for text in (description, *reversed(path.split(" > ") if path else [])):
        band = value_band(text) or word_band(text)
        if band is not None:
            bands.append(band)
    return tuple(bands)


def cell_rate(text: str) -> Rate:
    """The rate a cell prints (not empty)."""
    try:
        return parse_rate(text)
    except RateParseError:  # a refreshed table may print a notation never seen before: the user gives the rate
        return Manual(text, "the schedule prints a rate notation xlduty cannot read yet")


@dataclass(frozen=True, slots=True)
class TariffLine:
    code: str                      # 9 digits
    description: str
    path: str                      # ancestors' descriptions joined with " > "
    unit_1: str
    unit_2: str
    other_laws: str
    cells: tuple[str | None, ...]  # rate text per column, as printed (inherited), None if empty
    columns: tuple[str, ...]
    edition: str
    hs: str                        # the code as printed: 6109.10-020

    def text(self, column: str) -> str | None:
        return self.cells[self.columns.index(column)]

    def rate(self, column: str) -> Rate | None:
        text = self.text(column)
        return cell_rate(text) if text else None

    @property
    def full_description(self) -> str:
        return f"{self.path} > {self.description}" if self.path else self.description


class Schedule:
    """One edition. Lines are built from the compact rows on first use (start-up time matters)."""

    def __init__(self, book: dict) -> None:
        self.edition: str = book["edition"]
        self.effective_from = date.fromisoformat(book["effective_from"])
        self.source: str = book["source"]
        self.credit: str = book["credit"]
        self.columns: tuple[str, ...] = tuple(book["columns"])
        self._rates: list[str] = book["rates"]
        self._texts = [*self._rates, None]   # a row's index -1 (an empty cell) reads None: cells built at C speed
        self._paths: list[str] = book["paths"]
        self._rows: list[list] = book["lines"]
        self._index: dict[str, list[int]] = {}
        for i, row in enumerate(self._rows):
            self._index.setdefault(row[0], []).append(i)
        self._built: dict[int, TariffLine] = {}
        self._found: dict[tuple[str, date], TariffLine] = {}
        self._typed: dict[tuple[str, date], TariffLine] = {}

    def _line(self, i: int) -> TariffLine:
        line = self._built.get(i)
        if line is None:
            code, desc, path_i, u1, u2, laws, idx = self._rows[i]
            cells = tuple(map(self._texts.__getitem__, idx))
            line = TariffLine(code, desc, self._paths[path_i], u1, u2, laws, cells, self.columns, self.edition,
                               format_hs(code))
            self._built[i] = line
        return line

    @property
    def lines(self) -> dict[str, list[TariffLine]]:
        """Every line by code (builds them all: for tools and tests, not the per-call path)."""
        return {code: [self._line(i) for i in idx] for code, idx in self._index.items()}

    def codes(self) -> list[str]:
        return list(self._index)

    @cached_property
    def by_hs6(self) -> dict[str, list[TariffLine]]:
        out: dict[str, list[TariffLine]] = {}
        for code, idx in self._index.items():
            out.setdefault(code[:6], []).extend(self._line(i) for i in idx)
        return out

    def line(self, code: str, on: date) -> TariffLine:
        """The line for a 9- or 6-digit code on date ``on``; ``LookupError_`` says why not."""
        found = self._found.get((code, on))
        if found is None:
            if len(self._found) >= 65536:  # bounded: one Excel process may see many dates
                self._found.clear()
            found = self._found[(code, on)] = self._lookup(code, on)
        return found

    def typed_line(self, text: str, on: date) -> TariffLine:
        """``line`` for a code as the user typed it (``6109.10-020``): a batch repeats the same few texts."""
        found = self._typed.get((text, on))
        if found is None:
            found = self.line(normalize_hs(text), on)
            if len(self._typed) >= 65536:
                self._typed.clear()
            self._typed[(text, on)] = found
        return found

    def _lookup(self, code: str, on: date) -> TariffLine:
        if len(code) == 6:
            return self._by_subheading(code, on)
        group = [self._line(i) for i in self._index.get(code, ())]
        if not group:
            near = self.by_hs6.get(code[:6], [])
            hint = ("; lines of " + format_hs(code[:6]) + ": " + ", ".join(ln.hs for ln in near[:12])) if near else ""
            raise LookupError_(f"{format_hs(code)} is not a line of the {self.edition} tariff{hint}")
        if len(group) == 1:
            return group[0]
        for line in group:
            if season_of(line.description) and _in_season_text(line.description, on):
                return line
        raise LookupError_(f"{format_hs(code)} has several lines and none covers {on}")

    def _by_subheading(self, code: str, on: date) -> TariffLine:
        lines = self.by_hs6.get(code)
        if not lines:
            raise LookupError_(f"{format_hs(code)} is not a subheading of the {self.edition} tariff")
        if len({ln.cells for ln in lines}) > 1:
            listing = "; ".join(f"{ln.hs} {ln.description[:30]} ({ln.text('rate_wto') or ln.text('rate_general')})"
                                for ln in lines[:10])
            more = f" and {len(lines) - 10} more" if len(lines) > 10 else ""
            raise LookupError_(f"{format_hs(code)} has {len(lines)} lines with different rates: give the "
                               f"9-digit code: {listing}{more}")
        return self.line(lines[0].code, on)


@tables.on_switch
def _forget() -> None:
    load_edition.cache_clear()


@lru_cache(maxsize=8)
def load_edition(edition: str, directory: str | None = None) -> Schedule:
    """An edition of the tables in use (or of ``directory``), read once per process."""
    return Schedule(tables.read_edition(edition, directory))


def edition_on(on: date, directory: str | None = None) -> Schedule:
    """The newest edition in force on ``on`` (among the bundled or refreshed tables in use)."""
    d = directory or str(tables.tables_dir("tariff"))
    name = tables.edition_in_force(on, d)
    if name is None:
        first = tables.editions(d)[0]
        raise LookupError_(f"no bundled tariff edition is in force on {on} (the oldest starts {first[1]}): "
                           "give the rate in `rate`")
    return load_edition(name, directory)


def pinned_edition(name: str) -> Schedule:
    """The edition a declaration names (``tariff_edition``): from the tables in use, else the bundled ones."""
    bundled = str(tables.rules_dir())
    for directory in (None, bundled):
        if name in [e for e, _start in tables.editions(directory)]:
            return load_edition(name, directory)
    known = sorted({e for d in (None, bundled) for e, _ in tables.editions(d)})
    raise InputError("tariff_edition", f"edition {name!r} is not available (available: {', '.join(known)})")


@lru_cache(maxsize=1)
def english_descriptions() -> dict[str, str]:
    return tables.read_json_gz(tables.rules_dir() / "tariff" / "hs_en.json.gz")["descriptions"]
