"""Pydantic models of what a refresh writes: checked before anything is switched into use.

The tariff and FX books are the same compact formats the bundled tables use (``update/tariff.py``,
``update/fx.py``), so ``xlduty.core.schedule`` and ``xlduty.core.fx`` read a refreshed version unchanged.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from xlduty.rates.tariff_page import RATE_COLUMNS

Code9 = Annotated[str, StringConstraints(pattern=r"^\d{9}$")]
Edition = Annotated[str, StringConstraints(pattern=r"^\d{4}_\d{2}_\d{2}$")]
Figure = Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)?(/(1|10|100|1000|10000))?$")]
Iso = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class TariffBook(BaseModel):
    """One edition in the compact format: rate texts and paths stored once, lines pointing at them."""

    model_config = ConfigDict(extra="allow")

    format: Literal[1]
    edition: Edition
    effective_from: date
    source: str
    credit: str
    columns: list[str]
    rates: list[str]
    paths: list[str]
    lines: list[tuple[Code9, str, int, str, str, str, list[int]]] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> TariffBook:
        if tuple(self.columns) != RATE_COLUMNS:
            raise ValueError(f"columns must be the 27 rate columns in page order, not {self.columns}")
        if date(*(int(x) for x in self.edition.split("_"))) != self.effective_from:
            raise ValueError(f"effective_from {self.effective_from} does not match edition {self.edition}")
        if len(set(self.rates)) != len(self.rates) or any(not t.strip() for t in self.rates):
            raise ValueError("rate texts must be distinct and non-empty")
        n_rates, n_paths, n_cols = len(self.rates), len(self.paths), len(self.columns)
        for code, _desc, path, _u1, _u2, _laws, idx in self.lines:
            if not 0 <= path < n_paths:
                raise ValueError(f"{code}: path index {path} out of range")
            if len(idx) != n_cols or any(not -1 <= i < n_rates for i in idx):
                raise ValueError(f"{code}: rate indices out of range or not one per column")
        return self


class EditionEntry(BaseModel):
    edition: Edition
    effective_from: date
    file: str
    lines: int
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class EditionIndex(BaseModel):
    editions: list[EditionEntry] = Field(min_length=1)


class FxBook(BaseModel):
    """Customs weekly rates: one figure per currency per Sunday–Saturday week, as published."""

    model_config = ConfigDict(extra="allow")

    format: Literal[1]
    source: str
    credit: str
    first_week: date
    weeks: int = Field(gt=0)
    rates: dict[Iso, list[Figure | None]]
    aliases: dict[Iso, Iso]

    @model_validator(mode="after")
    def _consistent(self) -> FxBook:
        if self.first_week.weekday() != 6:
            raise ValueError(f"first_week {self.first_week} is not a Sunday")
        for iso, series in self.rates.items():
            if len(series) != self.weeks:
                raise ValueError(f"{iso}: {len(series)} figures for {self.weeks} weeks")
        return self


class Pointer(BaseModel):
    """The versions in use (None: the bundled table)."""

    tariff: str | None = None
    fx: str | None = None
    at: str = ""
    reason: str = ""


class ActiveState(BaseModel):
    """``active.json``: what is in use now, and what was before (newest last) for ``rollback``."""

    format: Literal[1] = 1
    tariff: str | None = None
    fx: str | None = None
    at: str = ""
    reason: str = ""
    history: list[Pointer] = Field(default_factory=list)
    tariff_checked: date | None = None   # the day a refresh last found the site's newest edition held (core/vouch.py)

    def pointer(self) -> Pointer:
        return Pointer(tariff=self.tariff, fx=self.fx, at=self.at, reason=self.reason)


class FileEntry(BaseModel):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class Manifest(BaseModel):
    """Written last into a version: its files and their digests, so ``use`` can verify before switching."""

    kind: Literal["tariff", "fx"]
    version: str
    created_at: str
    source: str
    summary: str
    files: dict[str, FileEntry]


class Limits(BaseModel):
    """How far new tables may differ from the current ones before a refresh is refused as implausible.

    A yearly edition changes many EPA cells (2025→2026: 38 % of lines) but removes few codes (<1 %).
    A currency moves more than 30 % in a week about once a year (2002–2020: 20 times, devaluations
    and redenominations such as VEF → VES); such a week is refused until the currency is let through.
    """

    min_line_ratio: float = 0.9        # new lines / current lines, over the chapters fetched
    max_line_ratio: float = 1.1
    max_removed_share: float = 0.05    # codes vanished / current codes
    max_changed_share: float = 0.6     # lines with any rate changed / lines compared
    max_manual_texts: int = 50         # distinct never-seen rate texts
    min_currencies: int = 20
    min_currency_ratio: float = 0.8    # currencies / the previous week's
    max_currency_move: float = 0.3     # |change per unit| / the previous week's, per currency
