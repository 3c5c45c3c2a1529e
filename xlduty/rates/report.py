"""The change report of a refresh: what moved between the tables in use and the new ones.

Tariff: codes added and removed, lines whose rates changed, counted per rate column (each EPA
column on its own, since staging moves them separately), with examples; rate texts never seen
before (kept as printed and applied as ``manual``: the user gives the rate); editions the site lists
that were fetched besides the newest, or left out (dates they cover are then computed on an older
edition: said in so many words). FX: the week, currencies added or dropped, the move of each against
the previous week, jumps let through, and the archive weeks filled in from the weekly PDFs (or
skipped, and why). Stored as ``report.json`` beside the version; ``str()`` renders it for the CLI and
the Excel ribbon.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from xlduty.rates.tariff_page import LABELS_JA, RATE_COLUMNS, PageLine

SAMPLES = 5


def _hs(code: str) -> str:
    return f"{code[:4]}.{code[4:6]}-{code[6:]}" if len(code) == 9 else code


class CellChange(BaseModel):
    code: str
    old: str | None
    new: str | None


class ColumnChanges(BaseModel):
    column: str
    label: str
    lines: int
    examples: list[CellChange] = Field(default_factory=list)


class ManualText(BaseModel):
    """A rate text the parser does not read (a notation never seen, or a malformed number such as ``3,9%``) in one
    column, with every line that prints it there: stored as printed; a line that needs it is refused, quoting it."""

    text: str
    column: str
    codes: list[str]


class EditionFetched(BaseModel):
    """An edition the site lists between the ones held and its newest, fetched in the same refresh."""

    edition: str
    baseline: str
    lines: int
    lines_rate_changed: int
    added: int
    removed: int
    manual: int = 0


class EditionGap(BaseModel):
    """An edition the site lists that is not stored: its dates are computed on an older edition."""

    edition: str
    until: date | None          # the day before the next edition held (None: open-ended)
    computed_on: str            # the edition those dates fall back to


class TariffChanges(BaseModel):
    edition: str
    version: str | None = None
    baseline: str                      # what it was compared with: "2026_07_09 (bundled)"
    chapters: list[str]
    lines_before: int
    lines_after: int
    codes_before: int = 0
    lines_compared: int = 0            # lines present in both (by code and occurrence)
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    lines_rate_changed: int = 0
    descriptions_changed: int = 0
    columns: list[ColumnChanges] = Field(default_factory=list)
    manual: list[ManualText] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    also_fetched: list[EditionFetched] = Field(default_factory=list)
    gaps: list[EditionGap] = Field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.lines_rate_changed or self.descriptions_changed
                    or self.lines_before != self.lines_after)


class FxMove(BaseModel):
    currency: str
    old: str
    new: str
    percent: float


class FxJump(BaseModel):
    """A currency that moved more than the limit from one week to the next, or changed its quotation unit."""

    currency: str
    week: date
    against: date
    old: str
    new: str
    percent: float | None = None        # None when the unit changed (per 1 ↔ per 100)

    def describe(self) -> str:
        if self.percent is None:
            return (f"{self.currency} changed its quotation unit, {self.old} → {self.new} "
                    f"(week of {self.week} against {self.against})")
        return (f"{self.currency} {self.old} → {self.new} ({self.percent:+.1f}%, week of {self.week} "
                f"against {self.against})")


class ArchiveSkip(BaseModel):
    week: date
    reason: str


class FxChanges(BaseModel):
    week_start: date
    week_end: date
    version: str | None = None
    baseline: str
    currencies: int
    aliases: dict[str, str] = Field(default_factory=dict)
    compared_with: date | None = None   # the previous week, when the table has it
    added: list[str] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)
    changed: int = 0
    moves: list[FxMove] = Field(default_factory=list)   # largest first
    notes: dict[str, str] = Field(default_factory=dict)
    unchanged: bool = False
    jumps_allowed: list[FxJump] = Field(default_factory=list)
    archive_added: list[date] = Field(default_factory=list)       # weeks filled in from the weekly PDFs
    archive_skipped: list[ArchiveSkip] = Field(default_factory=list)
    archive_missing: int = 0            # weeks before this one still without rates after the refresh
    archive_unlisted: int = 0           # of those, weeks the site's archive does not list
    archive_notes: list[str] = Field(default_factory=list)


class RefreshReport(BaseModel):
    """What a refresh did. ``ok`` False: nothing was switched, and ``error`` says why."""

    ok: bool
    error: str | None = None
    source: str = ""
    started_at: str = ""
    finished_at: str = ""
    tariff: TariffChanges | None = None
    fx: FxChanges | None = None
    in_use: dict[str, str] = Field(default_factory=dict)    # kind → version, or "bundled"
    previous: dict[str, str] = Field(default_factory=dict)
    up_to_date: list[str] = Field(default_factory=list)

    def __str__(self) -> str:
        return render(self)


def _key_lines(lines: list[PageLine]) -> dict[tuple[str, int], PageLine]:
    """Lines keyed by (code, n-th occurrence): a few codes appear twice, as seasonal rows."""
    seen: dict[str, int] = {}      # a plain dict: Counter's missing-key path is slow over 9,654 lines
    out = {}
    for line in lines:
        n = seen.get(line.code, 0)
        out[(line.code, n)] = line
        seen[line.code] = n + 1
    return out


def compare_tariff(old: list[PageLine], new: list[PageLine], *, edition: str, baseline: str,
                   chapters: list[str]) -> TariffChanges:
    """Differences between two sets of lines (the same chapters), per rate column."""
    a, b = _key_lines(old), _key_lines(new)
    old_codes, new_codes = {k[0] for k in a}, {k[0] for k in b}
    per_column: dict[str, ColumnChanges] = {}
    rate_changed = desc_changed = 0
    for key in a.keys() & b.keys():
        la, lb = a[key], b[key]
        if la.description != lb.description:
            desc_changed += 1
        if la.cells == lb.cells:
            continue
        rate_changed += 1
        for col, x, y in zip(RATE_COLUMNS, la.cells, lb.cells, strict=True):
            if x != y:
                cc = per_column.setdefault(col, ColumnChanges(column=col, label=LABELS_JA[col], lines=0))
                cc.lines += 1
                if len(cc.examples) < SAMPLES:
                    cc.examples.append(CellChange(code=key[0], old=x or None, new=y or None))
    for cc in per_column.values():
        cc.examples.sort(key=lambda c: c.code)
    return TariffChanges(
        edition=edition, baseline=baseline, chapters=chapters, lines_before=len(old), lines_after=len(new),
        codes_before=len(old_codes), lines_compared=len(a.keys() & b.keys()),
        added=sorted(new_codes - old_codes), removed=sorted(old_codes - new_codes),
        lines_rate_changed=rate_changed, descriptions_changed=desc_changed,
        columns=[per_column[c] for c in RATE_COLUMNS if c in per_column])


def compare_fx(prev: dict[str, str], new: dict[str, str], *, week_start: date, week_end: date, baseline: str,
               compared_with: date | None, aliases: dict[str, str], notes: dict[str, str],
               unchanged: bool) -> FxChanges:
    """The week's figures against the previous week's (per 1 unit, as a percentage)."""
    moves = []
    for iso in sorted(prev.keys() & new.keys()):
        old_v, new_v = per_unit(prev[iso]), per_unit(new[iso])
        if old_v != new_v:
            moves.append(FxMove(currency=iso, old=prev[iso], new=new[iso],
                                percent=float(round((new_v - old_v) / old_v * 100, 2))))
    moves.sort(key=lambda m: -abs(m.percent))
    return FxChanges(week_start=week_start, week_end=week_end, baseline=baseline, currencies=len(new),
                     aliases=aliases, compared_with=compared_with,
                     added=sorted(new.keys() - prev.keys()) if prev else [],
                     dropped=sorted(prev.keys() - new.keys()), changed=len(moves), moves=moves, notes=notes,
                     unchanged=unchanged)


def per_unit(text: str) -> Decimal:
    """Yen per 1 unit of a figure as stored ("11.41/100" → 0.1141)."""
    figure, _, per = text.partition("/")
    return Decimal(figure) / (int(per) if per else 1)


def quotation_unit(text: str) -> int:
    """1 or 100: the column the figure was published in."""
    return int(text.partition("/")[2] or 1)


def fx_jumps(before: dict[str, str], after: dict[str, str], *, week: date, against: date,
             limit: float) -> list[FxJump]:
    """Currencies that moved by more than ``limit`` (a share) per unit, or changed their quotation unit."""
    out = []
    for iso in sorted(before.keys() & after.keys()):
        old, new = before[iso], after[iso]
        if quotation_unit(old) != quotation_unit(new):
            out.append(FxJump(currency=iso, week=week, against=against, old=old, new=new))
            continue
        a, b = per_unit(old), per_unit(new)
        share = (b - a) / a
        if abs(share) > Decimal(str(limit)):
            out.append(FxJump(currency=iso, week=week, against=against, old=old, new=new,
                              percent=float(round(share * 100, 1))))
    return out


def _list(codes: list[str], limit: int = 12) -> str:
    shown = ", ".join(_hs(c) for c in codes[:limit])
    return shown + (f" and {len(codes) - limit} more" if len(codes) > limit else "")


def render_tariff(t: TariffChanges) -> list[str]:
    head = f"実行関税率表 {t.edition}" + (f" → version {t.version}" if t.version else "")
    out = [f"{head} (compared with {t.baseline}; chapters {_chapters(t.chapters)})",
           f"  lines {t.lines_before:,} → {t.lines_after:,}; codes added {len(t.added)}, removed {len(t.removed)}; "
           f"lines with a changed rate {t.lines_rate_changed:,}; descriptions changed {t.descriptions_changed:,}"]
    if t.added:
        out.append(f"  added: {_list(t.added)}")
    if t.removed:
        out.append(f"  removed: {_list(t.removed)}")
    for c in t.columns:
        ex = "; ".join(f"{_hs(e.code)} {e.old or '(empty)'} → {e.new or '(empty)'}" for e in c.examples[:3])
        out.append(f"  {c.label} ({c.column}): {c.lines:,} line{'s' if c.lines != 1 else ''}, e.g. {ex}")
    if t.manual:
        texts = len({m.text for m in t.manual})
        cells = sum(len(m.codes) for m in t.manual)
        out.append(f"  rate texts never seen before or unreadable, stored as printed: {texts} in {cells} "
                   f"cell{'s' if cells != 1 else ''}; a line that needs one is refused (give the rate in `rate`):")
        for m in t.manual:   # every cell: the user must know each line it stops
            codes = ", ".join(_hs(c) for c in m.codes)
            out.append(f"    「{m.text}」 in {LABELS_JA.get(m.column, m.column)} of {codes}")
    for e in t.also_fetched:
        out.append(f"  also fetched edition {e.edition} (listed on the site, not held): {e.lines:,} lines; "
                   f"{e.lines_rate_changed:,} with a changed rate, {e.added} added, {e.removed} removed vs "
                   f"{e.baseline}" + (f"; {e.manual} rate texts never seen before" if e.manual else ""))
    for g in t.gaps:
        span = f"from {g.edition[:4]}-{g.edition[5:7]}-{g.edition[8:]}" + (f" to {g.until}" if g.until else " on")
        out.append(f"  EDITION GAP: the site lists edition {g.edition}, which is not stored: dates {span} are "
                   f"computed on edition {g.computed_on}; refresh again (or pass --gap-editions N) to fetch it")
    out.extend(f"  warning: {w}" for w in t.warnings)
    return out


def _chapters(chapters: list[str]) -> str:
    return f"all {len(chapters)}" if len(chapters) >= 96 else ", ".join(chapters)


def render_fx(f: FxChanges) -> list[str]:
    head = f"税関長公示レート week {f.week_start}–{f.week_end}" + (f" → version {f.version}" if f.version else "")
    out = [f"{head} (merged into {f.baseline}): {f.currencies} currencies"
           + (f", aliases {', '.join(f'{k}={v}' for k, v in f.aliases.items())}" if f.aliases else "")]
    if f.compared_with:
        out.append(f"  against the week of {f.compared_with}: {f.changed} changed, added {len(f.added)}, "
                   f"dropped {len(f.dropped)}"
                   + ("; largest moves " + ", ".join(f"{m.currency} {m.old} → {m.new} ({m.percent:+.2f}%)"
                                                     for m in f.moves[:5]) if f.moves else ""))
    else:
        out.append("  (the table has no figures for the week before: no comparison)")
    if f.notes:
        out.append("  rows without a figure: " + ", ".join(f"{k} {v}" for k, v in f.notes.items()))
    for j in f.jumps_allowed:
        out.append(f"  jump let through as asked: {j.describe()}")
    if f.archive_added:
        weeks = sorted(f.archive_added)
        out.append(f"  archive (weekly PDFs): {len(weeks)} week{'s' if len(weeks) != 1 else ''} added, "
                   + (", ".join(str(w) for w in weeks) if len(weeks) <= 6 else f"{weeks[0]} … {weeks[-1]}"))
    for skip in f.archive_skipped:
        out.append(f"  archive: week {skip.week} skipped: {skip.reason}")
    out.extend(f"  archive: {n}" for n in f.archive_notes)
    if f.archive_missing:
        weeks = f"{f.archive_missing} earlier week{'s' if f.archive_missing != 1 else ''}"
        if f.archive_unlisted >= f.archive_missing:
            out.append(f"  archive: {weeks} still without rates, and the site lists no PDF for them: declarations "
                       "in those weeks need fx_rates")
        else:
            unlisted = f" ({f.archive_unlisted} not listed on the site)" if f.archive_unlisted else ""
            out.append(f"  archive: {weeks} still without rates{unlisted}: the next refresh fetches more")
    return out


def render(r: RefreshReport) -> str:
    lines: list[str] = []
    if r.ok:
        lines.append(f"xlduty rates refresh: done (source {r.source})")
    else:
        lines.append("xlduty rates refresh: FAILED, nothing changed: the previous tables remain in use")
        lines.append(f"  reason: {r.error}")
    if r.tariff is not None:
        lines.extend(render_tariff(r.tariff))
    if r.fx is not None:
        lines.extend(render_fx(r.fx))
    for kind in r.up_to_date:
        lines.append(f"{'tariff' if kind == 'tariff' else 'FX'}: already up to date (no new version)")
    if r.in_use:
        lines.append("in use: " + ", ".join(f"{k} {v}" for k, v in r.in_use.items()))
    if r.ok and r.previous and r.previous != r.in_use:
        lines.append("previous: " + ", ".join(f"{k} {v}" for k, v in r.previous.items())
                     + " (xlduty rates rollback)")
    return "\n".join(lines)
