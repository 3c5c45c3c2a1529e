"""The law as dated data: ``rules/*.yaml`` loaded and validated by pydantic, once per process.

Each class below is a plain record (``_Model``): its annotations are the schema, read by pydantic only where the
rule files are validated (``_validate_rules``: a first run, or a changed file); a calculation reads the records back
from the user cache (``cache.py``) and never imports pydantic, which alone cost more than half of ``xlduty compute``'s
start-up.

Each parameter carries its legal basis and a verification mark (V-off, V-sec, U, C). Entries marked
U are used, and every result that depends on one says so in its explanation.

A wheel also carries the rule files parsed at build time (``prebuilt.json``, written by ``hatch_build.py``):
``rule_file`` reads that document where the folder has one, else the YAML (a checkout, an editable install).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache
from importlib.util import find_spec
from inspect import get_annotations
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from xlduty.core.errors import DataError, InputError
from xlduty.core.tables import rules_dir

if TYPE_CHECKING:   # names the annotations use, given to them where pydantic reads them (``_models``)
    from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

Verified = Literal["V-off", "V-sec", "U", "C"]


@lru_cache(maxsize=4096)
def hs_digits(code: str) -> str:
    """``"6115.10.1"`` → ``"6115101"``: prefixes in rules compare on digits only (remembered: the simplified tariff's
    and de minimis' lists are scanned for every new code of a batch)."""
    return re.sub(r"\D", "", code)


class _Model:
    """Validated rule data, read-only. The annotations of a subclass are its pydantic schema (fields, aliases,
    bounds, validators), turned into a model by ``_models`` when the rule files are validated; the validated values
    are then kept as plain attributes of the record (``_record``), which the user cache pickles without pydantic."""

    _fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """A record is made only from validated data (the rule files, ``validated``), never from unchecked fields."""
        name = type(self).__name__
        raise TypeError(f"{name} is rule data, validated as the rule files are: make one with {name}.validated(...)")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields = cls._fields + tuple(get_annotations(cls))   # the base's fields first
        _RECORDS.append(cls)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is rule data: read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is rule data: read-only")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = self.__dict__, other.__dict__
        return all(mine[f] == theirs[f] for f in self._fields)

    def __hash__(self) -> int:
        return hash((type(self), *(self.__dict__[f] for f in self._fields)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{f}={self.__dict__[f]!r}' for f in self._fields)})"

    def model_dump(self) -> dict[str, Any]:
        """The fields as plain data, records as dicts (as pydantic's ``model_dump`` gives them)."""
        return {f: _dump(self.__dict__[f]) for f in self._fields}

    @classmethod
    def validated(cls, **fields: Any) -> Any:
        """A record of ``fields`` validated as the rule files are (rule data made in code: tests, what-ifs)."""
        models = _models()
        data = {k: _dump(v) for k, v in fields.items()}   # a record given as a field: validated again, as data
        return _record(models[cls].model_validate(data), {model: record for record, model in models.items()})

    def model_copy(self, *, update: dict[str, Any]) -> Any:
        """The same record with the fields in ``update`` replaced (as pydantic's ``model_copy`` does: unvalidated).
        Only the fields are copied: what a ``cached_property`` worked out from the old ones (``CTRate.local_fraction``,
        ``FoodRules``' and ``SimplifiedVersion``'s prefix indexes) is worked out again from the new."""
        unknown = set(update) - set(self._fields)
        if unknown:
            raise AttributeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        out = object.__new__(type(self))
        out.__dict__.update({f: self.__dict__[f] for f in self._fields})
        out.__dict__.update(update)
        return out


_RECORDS: list[type[_Model]] = []   # every record class, in the order defined (a class before those naming it)


def _dump(v: object) -> object:
    if isinstance(v, _Model):
        return v.model_dump()
    if type(v) is list:
        return [_dump(x) for x in v]
    if type(v) is dict:
        return {k: _dump(x) for k, x in v.items()}
    return v


def _in_force(start: date | None, end: date | None, d: date) -> bool:
    """``d`` within ``start``–``end``, both days included; None: open on that side."""
    return (start is None or start <= d) and (end is None or d <= end)


class Period(_Model):
    start: Annotated[date | None, Field(alias="from")] = None
    end: Annotated[date | None, Field(alias="to")] = None

    def covers(self, d: date) -> bool:
        return _in_force(self.start, self.end, d)


class Version(_Model):
    """A dated version of a whole rule (de minimis, the simplified tariff): ``valid_from``–``valid_to``."""

    valid_from: date | None
    valid_to: date | None

    def covers(self, d: date) -> bool:
        return _in_force(self.valid_from, self.valid_to, d)


def _percent(v: str | None) -> Decimal | None:
    if v is None:
        return None
    try:
        percent = Decimal(str(v).rstrip("%"))
    except ArithmeticError:   # decimal.InvalidOperation: not a number (pydantic passes on a ValueError only)
        raise ValueError(f"{v!r} is not a percentage (a number, with or without %)") from None
    if not percent.is_finite() or not 0 <= percent <= 100:   # a tax rate: -5% or 1E+30 % is a slip in the data
        raise ValueError(f"{v!r} is not a percentage from 0 to 100")
    return percent


# --- consumption tax --------------------------------------------------------------------------------

def _ratio(v: str) -> str:
    """A ratio as the law writes it (``22/78``): two whole numbers, the second not 0 (``CTRate.local_fraction``)."""
    try:
        Fraction(v)   # not a number at all: Fraction's own words
    except ZeroDivisionError:
        raise ValueError(f"{v!r} divides by zero") from None
    if not re.fullmatch(r"[0-9]+/[0-9]+", v):
        raise ValueError(f"{v!r} is not a ratio of two whole numbers, such as 22/78")
    return v


class CTRate(Period):
    national_standard: Annotated[Decimal, BeforeValidator(_percent)]
    national_reduced: Annotated[Decimal | None, BeforeValidator(_percent)] = None
    local_ratio: Annotated[str, AfterValidator(_ratio)]   # as the law writes it, e.g. "22/78"
    total_standard: str | None = None
    total_reduced: str | None = None
    basis: str
    source: str
    verified: Verified

    @cached_property
    def local_fraction(self) -> tuple[int, int]:
        num, den = self.local_ratio.split("/")
        return int(num), int(den)


class ConsumptionTaxRules(_Model):
    rates: list[CTRate]
    pending: str | None = None

    def on(self, d: date) -> CTRate:
        """The rate in force on ``d``; a date no bundled rate covers is an error in the input's ``date``."""
        for r in self.rates:
            if r.covers(d):
                return r
        starts = [r.start for r in self.rates if r.start is not None]
        since = f": the bundled rates start {min(starts)}" if starts else ""
        raise InputError("date", f"no consumption-tax rate is bundled for {d}{since}")


class PersonalUse(Period):
    factor: Decimal
    basis: str
    abolition: str | None = None
    source: str
    verified: Verified


# --- preference columns -------------------------------------------------------------------------------

class PartyPeriod(Period):
    verified: Verified | None = None
    source: str | None = None
    note: str | None = None


class Party(PartyPeriod):
    exclusions: Annotated[list[PartyPeriod], Field(default_factory=list)]

    def active_on(self, d: date) -> bool:
        """Covered on ``d``: inside the period and in none of its exclusions."""
        return self.covers(d) and not any(x.covers(d) for x in self.exclusions)


class Column(_Model):
    name_ja: str
    name_en: str
    basis: str
    source: str
    verified: Verified
    note: str | None = None
    parties: dict[str, Party]

    def covers(self, origin: str, d: date) -> bool:
        party = self.parties.get(origin)
        return party is not None and party.active_on(d)

    def unverified(self, origin: str) -> bool:
        party = self.parties.get(origin)
        return (party.verified if party and party.verified else self.verified) == "U"


class PreferenceParties(_Model):
    columns: dict[str, Column]


# --- de minimis, simplified tariff, food ------------------------------------------------------------

class Excluded(_Model):
    item: int | None = None
    name_ja: str
    name_en: str
    hs: list[str]
    verified: Verified
    source: str


class DeMinimisVersion(Version):
    threshold_jpy: int
    threshold_basis: Literal["unrounded", "truncated"]
    basis: str
    source: str
    verified: Verified
    note: str | None = None
    excluded: list[Excluded]

    def excluded_item(self, code9: str) -> Excluded | None:
        for ex in self.excluded:
            if any(code9.startswith(hs_digits(p)) for p in ex.hs):
                return ex
        return None


class LiquorSubRate(_Model):
    kind: str
    name_ja: str
    rate: str
    hs: list[str]


class SimplifiedCategory(_Model):
    no: Annotated[int, Field(alias="no")]
    name_ja: str
    name_en: str
    rate: str | None = None
    rates: list[LiquorSubRate] | None = None
    hs: Annotated[list[str], Field(default_factory=list)]
    hs_except: Annotated[list[str], Field(default_factory=list)]


class InferredExclusion(_Model):
    """Goods left out of the simplified tariff by inference, not by a list that was read: every line of them says
    so (``why`` is what it relies on)."""

    name_ja: str
    hs: list[str]
    why: str
    source: str
    checked: date
    verified: Verified


class SimplifiedExcluded(_Model):
    basis: str
    hs: list[str]
    note: str | None = None
    inferred: Annotated[list[InferredExclusion], Field(default_factory=list)]


class SimplifiedVersion(Version):
    threshold_jpy: int
    basis: str
    source: str
    verified: Verified
    note: str | None = None
    categories: list[SimplifiedCategory]
    excluded: SimplifiedExcluded

    def is_excluded(self, code9: str) -> bool:
        """Whether the goods of a tariff line are left out of the simplified tariff: listed, or inferred."""
        listed, _groups, lengths = self._exclusions
        return any(code9[:k] in listed for k in lengths) or self.inferred(code9) is not None

    def inferred(self, code9: str) -> InferredExclusion | None:
        """The inferred exclusion covering the code, if any: the first group listing a prefix of it."""
        _listed, groups, lengths = self._exclusions
        found = [n for k in lengths if (n := groups.get(code9[:k])) is not None]
        return self.excluded.inferred[min(found)] if found else None

    def category(self, code9: str) -> tuple[SimplifiedCategory, str, str | None]:
        """(category, rate text, liquor kind) by the longest matching HS prefix of a category not excepting the code,
        the first listed of equal length; else the last catch-all (``*``) of a category not excepting it."""
        excepts, by_prefix, rest, lengths = self._categories
        for k in lengths:
            entries = by_prefix.get(code9[:k])
            if entries:
                found = [e for e in entries if not any(code9.startswith(x) for x in excepts[e[1]])]
                if found:
                    return min(found)[2]   # the first listed (orders are distinct)
        for n, result in reversed(rest):
            if not any(code9.startswith(x) for x in excepts[n]):
                return result
        raise DataError("the simplified tariff has no catch-all category")

    @cached_property
    def _exclusions(self) -> tuple[frozenset[str], dict[str, int], tuple[int, ...]]:
        """The exclusion lists by digit prefix: the listed prefixes, the first inferred group listing each prefix,
        and every prefix length; a new code is looked up once per length, not matched against every prefix of every
        list (a broker's book brings thousands of codes)."""
        listed = frozenset(hs_digits(p) for p in self.excluded.hs)
        groups: dict[str, int] = {}
        for n, group in enumerate(self.excluded.inferred):
            for p in group.hs:
                groups.setdefault(hs_digits(p), n)
        return listed, groups, tuple(sorted({len(p) for p in listed} | {len(p) for p in groups}))

    @cached_property
    def _categories(self) -> tuple[list[tuple[str, ...]], dict[str, list[tuple[int, int, tuple]]], list[tuple],
                                   list[int]]:
        """The categories by digit prefix: each category's excepted prefixes; per prefix, (order listed, category,
        (category, rate text, liquor kind)) of the categories listing it; the catch-alls in order; every prefix
        length, longest first."""
        excepts = [tuple(hs_digits(p) for p in cat.hs_except) for cat in self.categories]
        by_prefix: dict[str, list[tuple[int, int, tuple]]] = {}
        rest: list[tuple] = []
        order = 0
        for n, cat in enumerate(self.categories):
            for sub in cat.rates or []:
                for p in sub.hs:
                    by_prefix.setdefault(hs_digits(p), []).append((order, n, (cat, sub.rate, sub.kind)))
                    order += 1
            for p in cat.hs:
                if p == "*":
                    rest.append((n, (cat, cat.rate or "", None)))
                else:
                    by_prefix.setdefault(hs_digits(p), []).append((order, n, (cat, cat.rate or "", None)))
                    order += 1
        return excepts, by_prefix, rest, sorted({len(p) for p in by_prefix}, reverse=True)


class DependsOnUse(_Model):
    hs: str
    why: str


class FoodRules(_Model):
    basis: str
    source: str
    verified: Verified
    note: str | None = None
    reduced: list[str]
    standard: list[str]
    depends_on_use: list[DependsOnUse]
    default_outside_lists: Literal["standard", "reduced"]

    @cached_property
    def _prefixes(self) -> list[tuple[str, str, str | None]]:
        rows = [(hs_digits(p), "reduced", None) for p in self.reduced]
        rows += [(hs_digits(p), "standard", None) for p in self.standard]
        rows += [(hs_digits(d.hs), "depends", d.why) for d in self.depends_on_use]
        return sorted(rows, key=lambda r: -len(r[0]))

    @cached_property
    def _by_prefix(self) -> tuple[tuple[int, ...], dict[str, tuple[str, str | None]]]:
        """The lists as one lookup: each prefix length (longest first) and, per prefix, the entry of the first list
        that names it (reduced, standard, depends: the order ``_prefixes`` keeps for equal lengths)."""
        found: dict[str, tuple[str, str | None]] = {}
        for prefix, status, why in self._prefixes:
            found.setdefault(prefix, (status, why))
        return tuple(sorted({len(p) for p in found}, reverse=True)), found

    def status(self, code9: str) -> tuple[str, str | None]:
        """("reduced" | "standard" | "depends", why) for a tariff line, by the longest prefix (a lookup per prefix
        length, not a scan of the lists: the first line of each code pays it)."""
        lengths, found = self._by_prefix
        for n in lengths:
            hit = found.get(code9[:n])
            if hit is not None:
                return hit
        return self.default_outside_lists, None


# --- liquor tax -----------------------------------------------------------------------------------

class LiquorRate(Period):
    per_kl: int
    abv_base: Decimal | None = None
    per_degree: int | None = None
    below_base: int | None = None
    source: str
    verified: Verified

    def per_kl_at(self, abv: Decimal | None) -> int:
        """Rate per kL at ``abv`` % (酒税法23条: whole degrees above the base count, fractions do not)."""
        if self.abv_base is None:
            return self.per_kl
        if abv is None:
            raise ValueError("this category is taxed by alcohol strength: give abv")
        if abv < self.abv_base:
            return self.below_base if self.below_base is not None else self.per_kl
        return self.per_kl + (self.per_degree or 0) * int(abv - self.abv_base)


class LiquorCategory(_Model):
    name_ja: str
    name_en: str
    # what people type for it: the legal name and its spellings, unambiguous words
    names: Annotated[list[str], Field(default_factory=list)]
    note: str | None = None
    applies_to: str | None = None
    rates: list[LiquorRate]

    def on(self, d: date) -> LiquorRate | None:
        return next((r for r in self.rates if r.covers(d)), None)


class LiquorRounding(_Model):
    quantity: str
    amount: str
    abv: str
    verified: Verified
    verified_detail: Annotated[dict[str, Verified], Field(default_factory=dict)]
    source: str


class LiquorTaxRules(_Model):
    basis: str
    rounding: LiquorRounding
    categories: dict[str, LiquorCategory]
    special_rates: Annotated[dict[str, LiquorCategory], Field(default_factory=dict)]
    # a word that may mean several categories ([all]: any of them)
    ambiguous: Annotated[dict[str, list[str]], Field(default_factory=dict)]


# --- rounding steps and reliefs ---------------------------------------------------------------------

class Step(_Model):
    rule: str
    basis: str
    verified: Verified
    note: str | None = None


class RoundingRules(_Model):
    steps: dict[str, Step]


class Relief(_Model):
    article: str
    name_ja: str
    name_en: str
    duty: str
    consumption_tax: str
    excise: str | None = None
    conditions: str | None = None
    eligible_hs: list[str] | None = None
    excluded_hs: Annotated[list[str], Field(default_factory=list)]        # within eligible_hs but not covered
    verified: Verified
    source: str | None = None


class OriginProofWaiver(_Model):
    threshold_jpy: int
    basis: str
    rule: str
    verified: Verified


class ReliefRules(_Model):
    reliefs: dict[str, Relief]
    origin_proof_waiver: OriginProofWaiver


# --- the gate-price system for pork (差額関税): reference prices -------------------------------------------

class DatedPrice(Period):
    """A reference price (基準輸入価格) in yen per unit, for the imports of a period."""

    yen: Decimal
    verified: Verified
    source: str


class GateGoods(_Model):
    """One item of 関税暫定措置法 別表第1の3の2: the goods, the rates its bands use and its dated prices."""

    name_ja: str
    name_en: str
    paragraph: str                   # 別表第1の3の2 第n項
    unit: Literal["kg", "head"]
    shape: Literal["difference", "preparations"]   # B − v, or 1.5 B − 0.6 v (豚肉加工品)
    specific: Decimal | None = None  # the 〔1〕 lines' rate per unit (従量税適用限度価格 = B − this)
    ad_valorem: Decimal              # percent, of the lines above the 分岐点価格
    rates_source: str
    reference: list[DatedPrice]      # 第1号: the normal prices
    emergency: Annotated[list[DatedPrice], Field(default_factory=list)]  # 第2号: the prices while 7条の6 is in force

    def price(self, d: date, emergency: bool = False) -> DatedPrice | None:
        return next((p for p in (self.emergency if emergency else self.reference) if p.covers(d)), None)


class EmergencyPeriod(Period):
    verified: Verified
    source: str


class GateEmergency(_Model):
    """暫定法7条の6: when the raised prices apply, as far as the record goes."""

    basis: str
    rule: str
    source: str
    verified: Verified
    periods: list[EmergencyPeriod]
    complete_through: date            # the record of periods is complete up to this day
    unknown_after: str
    epa_note: str

    def period(self, d: date) -> EmergencyPeriod | None:
        return next((p for p in self.periods if p.covers(d)), None)


class GateCorrection(_Model):
    """A cell read otherwise than printed (the reason in ``why``)."""

    lines: list[str]
    column: str
    printed: list[str]
    find: str
    replace: str
    verified: Verified
    why: str


class GatePrices(_Model):
    basis: str
    confirmed_to: date
    confirmed_note: str
    goods: dict[str, GateGoods]
    emergency: GateEmergency
    corrections: Annotated[list[GateCorrection], Field(default_factory=list)]


# --- how far the tariff tables held can vouch for a date ---------------------------------------------------------

class AnnualEdition(_Model):
    """The day of the year a new 実行関税率表 takes effect (1 April), with its basis (rules/tariff_cycle.yaml)."""

    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=28)]
    rule: str
    basis: str
    source: str
    verified: Verified


class TariffCycle(_Model):
    annual_edition: AnnualEdition


# --- the whole book ---------------------------------------------------------------------------------

class Rules(_Model):
    consumption_tax: ConsumptionTaxRules
    personal_use: PersonalUse
    parties: PreferenceParties
    de_minimis: list[DeMinimisVersion]
    simplified: list[SimplifiedVersion]
    food: FoodRules
    liquor: LiquorTaxRules
    rounding: RoundingRules
    reliefs: ReliefRules
    gate: GatePrices
    tariff_cycle: TariffCycle

    def de_minimis_on(self, d: date) -> DeMinimisVersion | None:
        return next((v for v in self.de_minimis if v.covers(d)), None)

    def simplified_on(self, d: date) -> SimplifiedVersion | None:
        return next((v for v in self.simplified if v.covers(d)), None)

    def step(self, key: str) -> Step:
        return self.rounding.steps[key]


PREBUILT = "prebuilt.json"
"""Every rule file of the folder parsed at build time, by file name (hatch_build.py). Why: with no user cache to
help, parsing the YAML is most of a first calculation's cost where PyYAML has no C parser (xlwings Lite)."""


def rule_file(path: Path) -> object:
    """The data of one rule file: from its folder's prebuilt document when there is one, else parsed from the YAML."""
    prebuilt = _prebuilt(str(path.parent))
    if prebuilt is None:
        return _load_yaml(path)
    try:
        return prebuilt[path.name]
    except KeyError:
        raise DataError(f"cannot read {path}: not in {path.parent / PREBUILT}") from None


@lru_cache(maxsize=4)
def _prebuilt(directory: str) -> dict[str, object] | None:
    path = Path(directory) / PREBUILT
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc


def _load_yaml(path: Path) -> object:
    import yaml  # lazy: with the rules cached or prebuilt, start-up never parses YAML

    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc


_FILES = {
    "consumption_tax": "consumption_tax.yaml", "personal_use": "personal_use.yaml",
    "parties": "preference_parties.yaml", "de_minimis": "de_minimis.yaml", "simplified": "simplified_tariff.yaml",
    "food": "reduced_rate_food.yaml", "liquor": "liquor_tax.yaml", "rounding": "rounding.yaml",
    "reliefs": "reliefs.yaml", "gate": "reference_prices.yaml", "tariff_cycle": "tariff_cycle.yaml",
}


@lru_cache(maxsize=4)
def load_rules(directory: str | None = None) -> Rules:
    """Load and validate every rule file once; ``directory`` defaults to the bundled ``rules/``.

    The validated object is kept in the user cache (``xlduty.core.cache``), keyed by the files' stamps."""
    from xlduty.core.cache import cached

    d = Path(directory) if directory else rules_dir()
    paths = [d / PREBUILT] if (d / PREBUILT).is_file() else [d / name for name in _FILES.values()]
    paths += _pydantic_stamp()
    try:
        return cached("rules", paths, lambda: _validate_rules(d))
    except OSError as exc:
        raise DataError(f"cannot read the rule files in {d}: {exc}") from exc


def _pydantic_stamp() -> list[Path]:
    """The installed pydantic's version file, a source of the cached rules as the rule files are (what it accepts
    may change with it), found without importing it (that would cost what the cache saves)."""
    spec = find_spec("pydantic")
    return [Path(spec.origin).parent / "version.py"] if spec is not None and spec.origin else []


def _validate_rules(d: Path) -> Rules:
    """Every rule file validated; bad data is a ``DataError`` naming the file and the field (pydantic's path)."""
    from pydantic import ValidationError

    raw = {key: rule_file(d / name) for key, name in _FILES.items()}
    for key in ("de_minimis", "simplified"):
        versions = raw[key].get("versions") if isinstance(raw[key], dict) else None  # type: ignore[union-attr]
        if not isinstance(versions, list):
            raise DataError(f"invalid rule data in {d / _FILES[key]}: versions: give the list of its versions")
        raw[key] = versions
    models = _models()
    try:
        validated = models[Rules].model_validate(raw)
    except ValueError as exc:   # pydantic's ValidationError: each error's path starts with the key of its file
        errors = exc.errors() if isinstance(exc, ValidationError) else []
        files = sorted({_FILES[e["loc"][0]] for e in errors if e["loc"] and e["loc"][0] in _FILES})
        where = ", ".join(str(d / name) for name in files) or str(d)
        raise DataError(f"invalid rule data in {where}: {exc}") from exc
    return _record(validated, {model: record for record, model in models.items()})  # type: ignore[return-value]


@lru_cache(maxsize=1)
def _models() -> dict[type[_Model], type[BaseModel]]:
    """A pydantic model for each record class, of the same name, fields and bases, from its annotations."""
    from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

    class Base(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    names = {**globals(), "AfterValidator": AfterValidator, "BeforeValidator": BeforeValidator, "Field": Field}
    models: dict[type[_Model], type[BaseModel]] = {}
    for record in _RECORDS:
        fields: dict[str, Any] = {   # a field with no default given is required, unless its Field has a factory
            name: (eval(hint, names), record.__dict__[name]) if name in record.__dict__ else eval(hint, names)
            for name, hint in get_annotations(record).items()}
        parent = record.__bases__[0]
        models[record] = names[record.__name__] = create_model(  # type: ignore[call-overload]
            record.__name__, __base__=models.get(parent, Base), __module__=__name__, **fields)
    return models


def _record(v: object, records: dict[type, type[_Model]]) -> object:
    """The validated model as records (lists and dicts as they are, their items as records)."""
    cls = records.get(type(v))
    if cls is not None:
        out = object.__new__(cls)
        out.__dict__.update({f: _record(getattr(v, f), records) for f in cls._fields})
        return out
    if type(v) is list:
        return [_record(x, records) for x in v]
    if type(v) is dict:
        return {k: _record(x, records) for k, x in v.items()}
    return v
