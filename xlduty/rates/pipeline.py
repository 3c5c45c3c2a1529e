"""The refresh pipeline: fetch everything → parse → validate → compare with the tables in use → write → switch.

Nothing is switched until every page has arrived, parsed, validated (pydantic) and passed the sanity
checks, and the new version is on disk in full (fsynced). Any failure returns a report with ``ok``
False and the reason; the tables in use are untouched. The tariff and the FX table switch together,
in one replacement of ``active.json``.

Besides the newest edition and week: editions the site lists between the stored ones and its newest
are fetched too (bounded; the rest are reported as gaps, with the dates they leave on an older edition),
and weeks the FX table lacks are filled from the weekly PDFs (bounded, newest first; a PDF that does
not parse, or a week that fails the per-currency checks, is skipped whole and reported). Pages are kept
with each version with their validators, so an unchanged site answers 304 and is not downloaded again.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin

from xlduty.core import tables
from xlduty.core.errors import DataError, RateParseError
from xlduty.core.tables import rules_dir
from xlduty.rates import store as store_mod
from xlduty.rates.errors import PageError, RefreshError, SanityError, SourceError
from xlduty.rates.fx_csv import FxWeek, latest_csv_link, merge_week, parse_fx_csv, week_figures
from xlduty.rates.fx_pdf import parse_fx_pdf, pdf_links, year_page_links
from xlduty.rates.models import EditionIndex, FxBook, Limits, TariffBook
from xlduty.rates.pagecache import PAGES_INDEX, PageCache
from xlduty.rates.report import (
    ArchiveSkip,
    EditionFetched,
    EditionGap,
    FxChanges,
    FxJump,
    ManualText,
    RefreshReport,
    TariffChanges,
    compare_fx,
    compare_tariff,
    fx_jumps,
)
from xlduty.rates.sources import DEFAULT_SOURCE, Fetched, FetchSettings, Source
from xlduty.rates.store import Store, now
from xlduty.rates.tariff_page import LABELS_JA, RATE_COLUMNS, PageLine, decode_html, parse_chapter

CHAPTERS: tuple[str, ...] = tuple(f"{n:02d}" for n in range(1, 98) if n != 77)
"""Chapters of the schedule (第77類 is reserved)."""
CREDIT = "出典：税関ホームページ（https://www.customs.go.jp/）を加工して作成"
FX_ARCHIVE_WEEKS = 52
"""Weeks the FX table lacks that one refresh fills from the weekly PDFs, at most (a year; the next run goes on)."""
GAP_EDITIONS = 2
"""Editions listed between those held and the site's newest that one refresh fetches too, at most."""
Progress = Callable[[int, int, str], None]
"""progress(done, total, what): called after each page and step (the CLI draws a bar, Excel the status bar)."""

_EDITION_LINK = re.compile(r"""href\s*=\s*["']?[^"'>\s]*?(\d{4}_\d{2}_\d{2})/""", re.I)


def gz_json(obj: object) -> bytes:
    """Compact JSON, gzipped reproducibly (mtime 0) like ``update/_common.write_json_gz``, at level 6 rather than
    9: half the time for 2 % more bytes, and Excel waits for it."""
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return gzip.compress(raw, compresslevel=6, mtime=0)


def book_lines(book: dict) -> list[PageLine]:
    """The lines of a compact tariff book, cells as texts ("" when empty)."""
    texts, paths = [*book["rates"], ""], book["paths"]      # index -1 (an empty cell) reads the "" at the end
    return [PageLine(code, desc, paths[p], u1, u2, laws, tuple(map(texts.__getitem__, idx)))
            for code, desc, p, u1, u2, laws, idx in book["lines"]]


@lru_cache(maxsize=16384)
def _parses(text: str) -> bool:
    """Whether the rate parser reads ``text`` (cached: an edition repeats ~1,400 texts, and the parser is pure)."""
    from xlduty.core.rate_parser import parse_rate

    try:
        parse_rate(text)
    except (RateParseError, ValueError):
        return False
    return True


def build_book(lines: list[PageLine], edition: str, source: str) -> tuple[dict, dict[str, dict[str, list[str]]]]:
    """The compact book (texts and paths stored once, by first appearance, as ``update/tariff.py`` does) and
    the rate texts the parser does not read, with every cell that prints them: {text: {column: [codes]}}."""
    rates: dict[str, int] = {}
    paths: dict[str, int] = {}
    unknown: dict[str, dict[str, list[str]]] = {}
    rows = []
    rates[""] = -1     # an empty cell; removed below (dict order keeps the others' indices)
    get = rates.get
    for line in lines:
        if len(line.cells) != len(RATE_COLUMNS):
            raise ValueError(f"{line.code}: {len(line.cells)} cells, not one per rate column")
        idx = list(map(get, line.cells))       # the common case, known texts only, at C speed
        if None in idx:
            for col, text in enumerate(line.cells):
                if idx[col] is None:
                    if text not in rates:
                        rates[text] = len(rates) - 1
                        if not _parses(text):
                            unknown[text] = {}
                    idx[col] = rates[text]
        if unknown:
            for col, text in enumerate(line.cells):
                if text in unknown:
                    unknown[text].setdefault(RATE_COLUMNS[col], []).append(line.code)
        if line.path not in paths:
            paths[line.path] = len(paths)
        rows.append([line.code, line.description, paths[line.path], line.unit_1, line.unit_2, line.other_laws, idx])
    y, m, d = (int(x) for x in edition.split("_"))
    book = {
        "format": 1,
        "edition": edition,
        "effective_from": date(y, m, d).isoformat(),
        "source": f"{source}/tariff/{edition}/index.htm",
        "credit": CREDIT + "（実行関税率表）",
        "columns": list(RATE_COLUMNS),
        "rates": list(rates)[1:],
        "paths": list(paths),
        "lines": rows,
    }
    if unknown:
        book["manual_texts"] = sorted(unknown)
    return book, unknown


@dataclass
class _Ticker:
    progress: Progress | None
    total: int
    done: int = 0

    def __call__(self, what: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total, what)

    def add(self, steps: int) -> None:
        """More steps than foreseen (archive weeks, editions between), or fewer (negative)."""
        self.total += steps


@dataclass
class _Outcome:
    """One kind's result: the files of its new version (none when up to date) and its change report."""

    kind: str
    base_id: str
    changes: TariffChanges | FxChanges
    files: dict[str, bytes] = field(default_factory=dict)
    summary: str = ""
    cache: PageCache | None = None      # the pages to keep with the new version (or the version in use)
    in_use: str | None = None           # the version in use when the refresh started (None: bundled)


def _current(st: Store, kind: str) -> tuple[Path, str, str | None]:
    """The folder holding the ``kind`` table in use (as the refresh process sees the store), its label and
    its version (None: bundled)."""
    version = getattr(st.state(), kind)
    if version is None:
        return rules_dir(), "bundled", None
    d = st.version_dir(kind, version)
    if not (d / tables.INDEX_FILE[kind]).is_file():
        return rules_dir(), "bundled", None
    return d, f"version {version}", version


def _get(src: Source, cache: PageCache | None, path: str) -> Fetched:
    """A page, asked conditionally when the version in use kept it (a 304 gives the kept page back)."""
    got = src.get(path, cache.cached(src.url(path)) if cache is not None else None)
    if cache is not None:
        cache.keep(got)
    return got


def _load_gz(path: Path) -> dict:
    try:
        return tables.read_json_gz(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the table in use {path}: {exc}") from exc


def _listed_editions(text: str) -> list[str]:
    """The editions tariff/index.htm links, oldest first."""
    found = sorted(set(_EDITION_LINK.findall(text)))
    if not found:
        raise PageError("tariff/index.htm lists no edition (links like 2026_07_09/index.htm): its layout changed")
    return found


def _edition_date(edition: str) -> date:
    return date(*(int(x) for x in edition.split("_")))


def _chapter_path(edition: str, chapter: str) -> str:
    return f"tariff/{edition}/data/j_{chapter}.htm"


def _fetch_chapters(src: Source, cache: PageCache | None, edition: str, wanted: list[str], used: set[str],
                    tick: _Ticker) -> tuple[dict[str, list[PageLine]], list[str]]:
    """The chapters of ``edition``, parsed; refused if a page lost a rate column the tables in use have."""
    fetched: dict[str, list[PageLine]] = {}
    warnings: list[str] = []
    for ch in wanted:
        name = f"j_{ch}.htm"
        got = _get(src, cache, _chapter_path(edition, ch))
        parsed = parse_chapter(got.content, name=name, content_type=got.content_type)
        lost = [c for c in RATE_COLUMNS if c not in parsed.columns and c in used]
        if lost:
            raise SanityError(f"{name}: the table lost column{'s' if len(lost) > 1 else ''} "
                              + ", ".join(f"{LABELS_JA[c]} ({c})" for c in lost)
                              + f" that the tables in use have: refused (edition {edition})")
        lines = parsed.lines()
        if not lines:
            raise PageError(f"{name}: no 9-digit line in the table")
        stray = next((ln.code for ln in lines if ln.code[:2] != ch), None)
        if stray:
            raise PageError(f"{name}: line {stray} does not belong to chapter {ch}")
        warnings.extend(f"{name}: column {h!r} is not known to xlduty: ignored" for h in parsed.ignored)
        fetched[ch] = lines
        tick(name)
    return fetched, warnings


def _used_columns(lines: list[PageLine]) -> set[str]:
    """The rate columns with at least one cell (transposed in C: 9,654 lines × 27 columns)."""
    columns = zip(*(ln.cells for ln in lines), strict=True)
    return {c for c, cells in zip(RATE_COLUMNS, columns, strict=False) if any(cells)}


def _tariff(src: Source, st: Store, *, chapters: Iterable[str] | None, allow_older: bool, limits: Limits,
            tick: _Ticker, gap_editions: int) -> _Outcome:
    cur_dir, cur_label, cur_version = _current(st, "tariff")
    cache = PageCache(st.version_dir("tariff", cur_version) if cur_version else None)
    page = _get(src, cache, "tariff/index.htm")
    listed = _listed_editions(decode_html(page.content, page.content_type, "tariff/index.htm"))
    edition = listed[-1]
    tick("tariff/index.htm")
    index = json.loads((cur_dir / "tariff" / "editions.json").read_text(encoding="utf-8"))["editions"]
    newest = max(index, key=lambda e: e["effective_from"])
    if edition < newest["edition"] and not allow_older:
        raise SanityError(f"the site's newest edition {edition} is older than the newest in use "
                          f"({newest['edition']}, {cur_label}): refused; pass --allow-older (allow_older=True) "
                          "to store it anyway")
    held = {e["edition"]: e for e in index}
    same = held.get(edition)
    wanted = sorted(set(chapters)) if chapters else list(CHAPTERS)
    partial = set(wanted) != set(CHAPTERS)
    if partial and same is None:
        raise RefreshError(f"a refresh of some chapters ({', '.join(wanted)}) needs edition {edition} to be in "
                           f"use already; it is not ({cur_label})")

    # editions the site lists between the oldest held and its newest that are not held: dates in them would
    # silently fall back to an older edition, so the newest few are fetched too (the rest are reported)
    gaps = [e for e in listed if e not in held and min(held) < e < edition]
    fill = [] if partial else gaps[max(0, len(gaps) - max(0, gap_editions)):]
    tick.add(len(fill) * len(wanted))
    books: dict[str, dict] = {}          # editions fetched in this refresh, besides the newest

    def book_of(name: str) -> dict:
        return books[name] if name in books else _load_gz(cur_dir / "tariff" / held[name]["file"])

    def older_than(name: str) -> str:
        return max(e for e in [*held, *books] if e < name)

    warnings: list[str] = []
    also: list[EditionFetched] = []
    for gap in fill:
        base_name = older_than(gap)
        base_lines = book_lines(book_of(base_name))
        try:
            fetched, more = _fetch_chapters(src, None, gap, wanted, _used_columns(base_lines), tick)
            lines = [ln for ch in sorted(fetched) for ln in fetched[ch]]
            book, unknown = _checked_book(lines, gap, src.base, [ln for ln in base_lines if ln.code[:2] in wanted],
                                          wanted, limits)
        except (PageError, SanityError) as exc:
            raise type(exc)(f"{exc} (edition {gap} is listed between the stored editions and the site's newest; "
                            "--gap-editions 0 (gap_editions=0) leaves it out and only reports it)") from None
        c = compare_tariff(base_lines, lines, edition=gap, baseline=base_name, chapters=wanted)
        also.append(EditionFetched(edition=gap, baseline=base_name, lines=len(lines),
                                   lines_rate_changed=c.lines_rate_changed, added=len(c.added),
                                   removed=len(c.removed), manual=len(unknown)))
        warnings.extend(f"edition {gap}: {w}" for w in more)
        books[gap] = book

    start = _edition_date(edition)
    if same is not None:
        base_name = edition
    else:
        earlier = [e for e in [*held, *books] if _edition_date(e) <= start]
        base_name = max(earlier) if earlier else min(held)
    base_book = book_of(base_name)
    base_lines = book_lines(base_book)
    base_label = f"{base_name} ({cur_label})" if base_name in held else f"{base_name} (fetched in this refresh)"
    base_by_ch: dict[str, list[PageLine]] = {}
    for line in base_lines:
        base_by_ch.setdefault(line.code[:2], []).append(line)
    fetched, more = _fetch_chapters(src, cache, edition, wanted, _used_columns(base_lines), tick)
    warnings.extend(more)
    if partial:   # the chapters not asked for keep their pages (and validators) too
        for ch in CHAPTERS:
            if ch not in fetched:
                cache.carry(src.url(_chapter_path(edition, ch)))

    old_part = [ln for ch in wanted for ln in base_by_ch.get(ch, [])]
    new_lines = [ln for ch in sorted(set(base_by_ch) | set(fetched)) for ln in
                 (fetched[ch] if ch in fetched else base_by_ch[ch] if partial else [])]
    book, unknown = _checked_book(new_lines, edition, src.base, old_part, wanted, limits,
                                  new_part=[ln for ch in wanted for ln in fetched[ch]])

    changes = compare_tariff(base_lines, new_lines, edition=edition, baseline=base_label, chapters=wanted)
    changes.warnings = warnings
    changes.manual = [ManualText(text=text, column=col, codes=codes)   # every cell, named in the report
                      for text, cells in sorted(unknown.items()) for col, codes in cells.items()]
    changes.also_fetched = also
    stored = sorted([*held, *books, edition])
    for gap in (g for g in gaps if g not in books):
        after = [e for e in stored if e > gap]
        changes.gaps.append(EditionGap(edition=gap, computed_on=max(e for e in stored if e < gap),
                                       until=_edition_date(after[0]) - timedelta(days=1) if after else None))
    out = _Outcome("tariff", edition, changes=changes, cache=cache, in_use=cur_version)
    if same is not None and not books and changes.unchanged and not unknown and _same_book(base_book, book):
        return out  # up to date: no files, no version
    entries = []
    for e in index:
        if e["edition"] == edition:
            continue
        blob = (cur_dir / "tariff" / e["file"]).read_bytes()
        if store_mod.sha256(blob) != e["sha256"]:
            raise DataError(f"the table in use {cur_dir / 'tariff' / e['file']} is damaged (digest differs)")
        out.files[f"tariff/{e['file']}"] = blob
        entries.append(e)
    for name, b in [*books.items(), (edition, book)]:
        data = gz_json(b)
        entries.append({"edition": name, "effective_from": b["effective_from"], "file": f"{name}.json.gz",
                        "lines": len(b["lines"]), "sha256": store_mod.sha256(data)})
        out.files[f"tariff/{name}.json.gz"] = data
    entries.sort(key=lambda e: e["effective_from"])
    EditionIndex.model_validate({"editions": entries})
    out.files["tariff/editions.json"] = (json.dumps({"editions": entries}, ensure_ascii=False, indent=1)
                                         + "\n").encode()
    out.summary = (f"実行関税率表 {edition}: {len(book['lines']):,} lines; {changes.lines_rate_changed:,} with a "
                   f"changed rate, {len(changes.added)} added, {len(changes.removed)} removed vs {changes.baseline}"
                   + (f"; also edition{'s' if len(books) > 1 else ''} {', '.join(books)}" if books else ""))
    return out


def _checked_book(lines: list[PageLine], edition: str, source: str, old_part: list[PageLine], wanted: list[str],
                  limits: Limits, new_part: list[PageLine] | None = None) -> tuple[dict, dict]:
    """The compact book of ``lines``, validated, and passed through the sanity checks against ``old_part``
    (the same chapters of the edition it replaces or follows)."""
    book, unknown = build_book(lines, edition, source)
    try:
        TariffBook.model_validate(book)
    except ValueError as exc:
        raise PageError(f"edition {edition}: the parsed table is not valid: {_first(exc)}") from None
    _sanity_tariff(compare_tariff(old_part, lines if new_part is None else new_part, edition=edition, baseline="",
                                  chapters=wanted), unknown, limits, edition)
    return book, unknown


def _first(exc: Exception) -> str:
    """The first lines of a pydantic error, on one line."""
    return "; ".join(line.strip() for line in str(exc).splitlines()[:3])


def _same_book(a: dict, b: dict) -> bool:
    return all(a.get(k) == b.get(k) for k in ("edition", "columns", "rates", "paths", "lines"))


def _sanity_tariff(c: TariffChanges, unknown: dict, limits: Limits, edition: str) -> None:
    """Refuse tables that differ from the ones in use more than a real edition does."""
    if c.lines_before:
        ratio = c.lines_after / c.lines_before
        if not limits.min_line_ratio <= ratio <= limits.max_line_ratio:
            raise SanityError(f"edition {edition}: {c.lines_after:,} lines against {c.lines_before:,} in use "
                              f"({ratio:.0%}): refused as implausible (pages incomplete or misread?)")
        removed = len(c.removed) / max(1, c.codes_before)
        if removed > limits.max_removed_share:
            raise SanityError(f"edition {edition}: {len(c.removed):,} codes vanished ({removed:.1%} of those in "
                              f"use, limit {limits.max_removed_share:.0%}): refused; e.g. {', '.join(c.removed[:5])}")
        changed = c.lines_rate_changed / max(1, c.lines_compared)
        if changed > limits.max_changed_share:
            raise SanityError(f"edition {edition}: rates changed on {changed:.0%} of the lines (limit "
                              f"{limits.max_changed_share:.0%}): refused as implausible (columns shifted?)")
    if len(unknown) > limits.max_manual_texts:
        raise SanityError(f"edition {edition}: {len(unknown)} rate texts of a notation never seen before (limit "
                          f"{limits.max_manual_texts}): the page format probably changed; e.g. {sorted(unknown)[:3]}")


# --- FX ------------------------------------------------------------------------------------------------

FX_INDEX = "tetsuzuki/kawase/index.htm"
FX_ARCHIVE = "tetsuzuki/kawase/list.htm"
_FAILURES_IN_A_ROW = 3      # archive downloads that may fail one after another before the archive is left


def missing_weeks(book: dict, until: date) -> list[date]:
    """Weeks from the table's first up to (not including) ``until`` for which it has no figure at all."""
    first = date.fromisoformat(book["first_week"])
    n = int(book["weeks"])
    have = [any(v is not None for v in week) for week in zip(*book["rates"].values(), strict=True)] or [False] * n
    return [first + timedelta(weeks=i) for i in range(max(0, (until - first).days // 7)) if i >= n or not have[i]]


@dataclass
class _Archive:
    weeks: list[FxWeek] = field(default_factory=list)
    skipped: list[ArchiveSkip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unlisted: int = 0


def _relative(src: Source, url: str) -> str | None:
    return url[len(src.base) + 1:] if url.startswith(src.base + "/") else None


def _archive(src: Source, cache: PageCache, missing: list[date], index_html: str, index_url: str, *, limit: int,
             tick: _Ticker) -> _Archive:
    """The weekly PDFs of up to ``limit`` missing weeks (newest first), each parsed whole or skipped with why.

    Links come from index.htm (recent weeks), list.htm (the archive) and the per-year pages list.htm links
    for the years still needed. A week the site does not list is counted, never guessed at.
    """
    arc = _Archive()
    if not missing or limit <= 0:
        return arc
    want = set(missing)
    links = pdf_links(index_html, index_url)
    tick.add(1)
    years: dict[int, str] = {}
    try:
        got = _get(src, cache, FX_ARCHIVE)
        html = decode_html(got.content, got.content_type, FX_ARCHIVE)
        links = pdf_links(html, got.url) | links
        years = year_page_links(html, got.url)
    except (SourceError, PageError) as exc:
        arc.notes.append(f"the archive index could not be read ({exc}); only the weeks index.htm links are known")
    tick("list.htm")
    for year in sorted({w.year for w in want if w not in links} & years.keys(), reverse=True):
        path = _relative(src, years[year])
        if path is None:
            continue
        tick.add(1)
        try:
            got = _get(src, cache, path)
            links = pdf_links(decode_html(got.content, got.content_type, path), got.url) | links
        except (SourceError, PageError) as exc:
            arc.notes.append(f"the archive page of {year} could not be read ({exc})")
        tick(path.rsplit("/", 1)[-1])
    listed = sorted((w for w in want if w in links), reverse=True)
    arc.unlisted = len(want) - len(listed)
    take = listed[:limit]
    tick.add(len(take))
    failures = 0
    for n, start in enumerate(take):
        url = links[start]
        name = url.rsplit("/", 1)[-1]
        path = _relative(src, url)
        if path is None:
            arc.skipped.append(ArchiveSkip(week=start, reason=f"{name}: the link leaves {src.base}"))
            tick(name)
            continue
        try:
            got = src.get(path)
        except SourceError as exc:
            arc.skipped.append(ArchiveSkip(week=start, reason=str(exc)))
            tick(name)
            failures += 1
            if failures >= _FAILURES_IN_A_ROW:
                rest = len(take) - n - 1
                arc.notes.append(f"left the archive after {failures} failed downloads in a row"
                                 + (f"; {rest} listed week{'s' if rest != 1 else ''} not tried" if rest else ""))
                tick.add(-rest)
                break
            continue
        failures = 0
        try:
            week = parse_fx_pdf(got.content, name)
        except PageError as exc:
            arc.skipped.append(ArchiveSkip(week=start, reason=str(exc)))
        else:
            arc.weeks.append(week)
        tick(name)
    return arc


def _allowed(allow: frozenset[str], currency: str) -> bool:
    return "ALL" in allow or currency in allow


def _check_week(book: dict, week: FxWeek, later: dict[date, dict[str, str]], limits: Limits,
                allow: frozenset[str]) -> tuple[str | None, list[FxJump]]:
    """Why an archive week must not be merged (None: it may), and the jumps let through.

    Compared with the week before as the table has it, else with the week after (filled newest first, an
    archive week often has only its successor)."""
    if len(week.rates) < limits.min_currencies or "USD" not in week.rates:
        return f"{len(week.rates)} currencies{'' if 'USD' in week.rates else ', no USD'}: incomplete", []
    before = week_figures(book, week.start - timedelta(weeks=1))
    after_start = week.start + timedelta(weeks=1)
    after = later.get(after_start) or week_figures(book, after_start)
    if before:
        jumps = fx_jumps(before, week.rates, week=week.start, against=week.start - timedelta(weeks=1),
                         limit=limits.max_currency_move)
        reference = before
    elif after:
        jumps = fx_jumps(week.rates, after, week=after_start, against=week.start, limit=limits.max_currency_move)
        reference = after
    else:
        return None, []
    if len(week.rates) < limits.min_currency_ratio * len(reference):
        return f"{len(week.rates)} currencies against {len(reference)} in the week beside it: incomplete", []
    refused = [j for j in jumps if not _allowed(allow, j.currency)]
    if refused:
        return _jump_message(refused, limits), []
    return None, jumps


def _jump_message(jumps: list[FxJump], limits: Limits) -> str:
    names = ",".join(sorted({j.currency for j in jumps}))
    return ("; ".join(j.describe() for j in jumps) + f": more than {limits.max_currency_move:.0%} or a change of "
            f"quotation unit, refused as implausible; pass --allow-fx-jump {names} (allow_fx_jumps) if it is real")


def _fx(src: Source, st: Store, *, allow_older: bool, limits: Limits, tick: _Ticker, archive_weeks: int,
        allow_jumps: frozenset[str]) -> _Outcome:
    cur_dir, cur_label, cur_version = _current(st, "fx")
    cache = PageCache(st.version_dir("fx", cur_version) if cur_version else None)
    page = _get(src, cache, FX_INDEX)
    index_html = decode_html(page.content, page.content_type, FX_INDEX)
    href = latest_csv_link(index_html)
    tick(FX_INDEX)
    url = urljoin(page.url, href)
    path = _relative(src, url)
    if path is None:
        raise PageError(f"{FX_INDEX}: the CSV link {href} leaves {src.base}")
    name = url.rsplit("/", 1)[-1]
    got = _get(src, cache, path)
    week = parse_fx_csv(got.content, name)
    tick(name)
    book = _load_gz(cur_dir / "fx" / "customs_weekly.json.gz")
    last = date.fromisoformat(book["first_week"]) + timedelta(weeks=int(book["weeks"]) - 1)
    if week.start < last and not allow_older:
        raise SanityError(f"the latest CSV is for the week of {week.start}, older than the newest week in use "
                          f"({last}, {cur_label}): refused; pass --allow-older to store it anyway")
    if len(week.rates) < limits.min_currencies or "USD" not in week.rates:
        raise SanityError(f"{name}: {len(week.rates)} currencies{'' if 'USD' in week.rates else ', no USD'}: "
                          "refused as incomplete")
    source = f"{src.base}/tetsuzuki/kawase/ (weekly PDFs kouji-rateYYYYMMDD-YYYYMMDD.pdf; weekly CSV csv/{name})"

    # the weeks the table lacks before this one, from the weekly PDFs: each merged whole, or skipped with why
    arc = _archive(src, cache, missing_weeks(book, week.start), index_html, page.url, limit=archive_weeks,
                   tick=tick)
    merged = book
    later = {w.start: w.rates for w in arc.weeks} | {week.start: week.rates}
    added: list[date] = []
    allowed: list[FxJump] = []
    skipped = list(arc.skipped)
    for w in sorted(arc.weeks, key=lambda w: w.start):
        problem, jumps = _check_week(merged, w, later, limits, allow_jumps)
        if problem:
            skipped.append(ArchiveSkip(week=w.start, reason=problem))
            later.pop(w.start, None)
            continue
        merged = merge_week(merged, w, source)
        added.append(w.start)
        allowed.extend(jumps)

    existing = week_figures(book, week.start)
    unchanged = (existing == week.rates and all(book["aliases"].get(k) == v for k, v in week.aliases.items())
                 and not added)
    prev_start = week.start - timedelta(weeks=1)
    prev = week_figures(merged, prev_start)
    if prev and len(week.rates) < limits.min_currency_ratio * len(prev):
        raise SanityError(f"{name}: {len(week.rates)} currencies against {len(prev)} the week before: refused as "
                          "incomplete")
    jumps = fx_jumps(prev, week.rates, week=week.start, against=prev_start, limit=limits.max_currency_move)
    refused = [j for j in jumps if not _allowed(allow_jumps, j.currency)]
    if refused:
        raise SanityError(f"{name}: {_jump_message(refused, limits)}")
    allowed.extend(jumps)
    merged = merge_week(merged, week, source)
    try:
        FxBook.model_validate(merged)
    except ValueError as exc:
        raise PageError(f"{name}: the merged table is not valid: {_first(exc)}") from None
    changes = compare_fx(prev, week.rates, week_start=week.start, week_end=week.end, baseline=cur_label,
                         compared_with=prev_start if prev else None, aliases=week.aliases, notes=week.notes,
                         unchanged=unchanged)
    changes.jumps_allowed = allowed
    changes.archive_added = added
    changes.archive_skipped = skipped
    changes.archive_notes = arc.notes
    changes.archive_missing = len(missing_weeks(merged, week.start))
    changes.archive_unlisted = min(arc.unlisted, changes.archive_missing)
    out = _Outcome("fx", week.start.isoformat(), changes=changes, cache=cache, in_use=cur_version)
    if unchanged:
        return out
    out.files["fx/customs_weekly.json.gz"] = gz_json(merged)
    usd = week.rates["USD"]
    out.summary = (f"税関長公示レート week {week.start}–{week.end}: {len(week.rates)} currencies, USD {usd}"
                   + (f"; {len(added)} archive week{'s' if len(added) != 1 else ''} added" if added else ""))
    return out


def _in_use(st: Store) -> dict[str, str]:
    try:
        state = st.state()
    except DataError:
        return {}
    return {k: getattr(state, k) or "bundled" for k in tables.KINDS}


def invalidate_caches() -> None:
    """Make this process read the tables in use afresh: the pointer, editions, FX, rate plans, Excel results (each
    module that keeps something derived from the tables registered with ``tables.on_switch``).

    Called after every switch made here; the Excel add-in's UDF server keeps running between refreshes.
    """
    tables.switched()


def refresh(source: str | None = None, *, progress: Progress | None = None, allow_older: bool = False,
            insecure_host: bool = False, what: Iterable[str] = ("tariff", "fx"),
            chapters: Iterable[str] | None = None, settings: FetchSettings | None = None,
            limits: Limits | None = None, fx_archive_weeks: int = FX_ARCHIVE_WEEKS,
            allow_fx_jumps: Iterable[str] = (), gap_editions: int = GAP_EDITIONS) -> RefreshReport:
    """Bring the newest official tariff edition and FX week into the user data directory, or change nothing.

    ``source``: base URL (default https://www.customs.go.jp); another host, or plain HTTP, needs
    ``insecure_host=True``. ``allow_older``: accept an edition or week older than the one in use.
    ``what``: "tariff", "fx" or both. ``chapters``: refresh only these chapters of the edition in use
    (the others are kept). ``fx_archive_weeks``: at most this many weeks the FX table lacks are filled
    from the weekly PDFs per run (newest first; 0: none). ``allow_fx_jumps``: currencies (or "ALL") let
    through a week-to-week move over ``limits.max_currency_move`` or a change of quotation unit.
    ``gap_editions``: at most this many editions the site lists between those held and its newest are
    fetched too (0: only reported). The report's ``ok`` is False, with the reason, when nothing was switched.
    """
    kinds = [k for k in tables.KINDS if k in set(what)]
    report = RefreshReport(ok=False, source=source or DEFAULT_SOURCE, started_at=now())
    st = Store()
    written: list[tuple[str, str]] = []
    src: Source | None = None
    switched = False
    try:
        src = Source(source, insecure_host=insecure_host, settings=settings)
        report.source = src.base
        limits = limits or Limits()
        n_chapters = len(set(chapters)) if chapters else len(CHAPTERS)
        tick = _Ticker(progress, ("tariff" in kinds) * (1 + n_chapters) + ("fx" in kinds) * 2 + 1)
        allow = frozenset(c.strip().upper() for c in allow_fx_jumps if c.strip())
        with st.lock():
            st.clean_staging()
            report.previous = _in_use(st)
            outcomes = []
            if "tariff" in kinds:
                outcomes.append(_tariff(src, st, chapters=chapters, allow_older=allow_older, limits=limits, tick=tick,
                                        gap_editions=gap_editions))
            if "fx" in kinds:
                outcomes.append(_fx(src, st, allow_older=allow_older, limits=limits, tick=tick,
                                    archive_weeks=fx_archive_weeks, allow_jumps=allow))
            changes: dict[str, str | None] = {}
            for out in outcomes:
                setattr(report, out.kind, out.changes)
                if not out.files:
                    report.up_to_date.append(out.kind)
                    continue
                vid = st.new_version_id(out.kind, out.base_id)
                out.changes.version = vid
                written.append((out.kind, vid))
                st.write_version(out.kind, vid, out.files, source=src.base, summary=out.summary,
                                 report=out.changes.model_dump_json(indent=1).encode(),
                                 extras=out.cache.files() if out.cache is not None and out.cache.kept else None)
                changes[out.kind] = vid
            tick("switch")
            if changes:
                st.switch(changes, f"refresh from {src.base}")
                switched = True
            report.ok = True
            if "tariff" in kinds and not chapters:   # the site's newest edition is held as of today
                with contextlib.suppress(OSError, DataError):
                    st.record_check(date.today())
            for out in outcomes:   # an up-to-date version in use keeps the validators the site gave this time
                if not out.files and out.in_use and out.cache is not None and out.cache.kept and out.cache.changed():
                    with contextlib.suppress(OSError, DataError):  # then the next refresh downloads in full
                        st.replace_pages(out.kind, out.in_use, out.cache.files(), PAGES_INDEX)
            with contextlib.suppress(OSError, DataError):  # old versions then stay; they do no harm
                st.prune()
    except (RefreshError, DataError, OSError) as exc:
        report.error = str(exc) if not isinstance(exc, OSError) else (
            f"cannot write the new tables: {exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}")
        if not switched:
            for kind, vid in written:
                with contextlib.suppress(OSError, DataError):  # an unused complete version does no harm
                    st.remove_unused(kind, vid)
    finally:
        if src is not None:
            src.close()
    if switched:
        invalidate_caches()
    report.in_use = _in_use(st)
    report.finished_at = now()
    return report
