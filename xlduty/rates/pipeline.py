"""The refresh pipeline: fetch everything → parse → validate → compare with the tables in use → write → switch.

Nothing is switched until every page has arrived, parsed, validated (pydantic) and passed the sanity
checks, and the new version is on disk in full (fsynced). Any failure returns a report with ``ok``
False and the reason; the tables in use are untouched. The tariff and the FX table switch together,
in one replacement of ``active.json``.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urljoin

from xlduty.bundle import rules_dir
from xlduty.errors import DataError, RateParseError
from xlduty.rates import store as store_mod
from xlduty.rates.errors import PageError, RefreshError, SanityError
from xlduty.rates.fx_csv import latest_csv_link, merge_week, parse_fx_csv, week_figures
from xlduty.rates.models import EditionIndex, FxBook, Limits, TariffBook
from xlduty.rates.report import FxChanges, ManualText, RefreshReport, TariffChanges, compare_fx, compare_tariff
from xlduty.rates.sources import DEFAULT_SOURCE, FetchSettings, Source
from xlduty.rates.store import Store, now
from xlduty.rates.tariff_page import LABELS_JA, RATE_COLUMNS, PageLine, decode_html, parse_chapter

CHAPTERS: tuple[str, ...] = tuple(f"{n:02d}" for n in range(1, 98) if n != 77)
"""Chapters of the schedule (第77類 is reserved)."""
CREDIT = "出典：税関ホームページ（https://www.customs.go.jp/）を加工して作成"
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
    rates, paths = book["rates"], book["paths"]
    return [PageLine(code, desc, paths[p], u1, u2, laws, tuple(rates[i] if i >= 0 else "" for i in idx))
            for code, desc, p, u1, u2, laws, idx in book["lines"]]


def build_book(lines: list[PageLine], edition: str, source: str) -> tuple[dict, dict[str, tuple[str, list[str]]]]:
    """The compact book (texts and paths stored once, by first appearance, as ``update/tariff.py`` does) and
    the rate texts the parser does not know: {text: (first column, codes)}."""
    from xlduty.rate_parser import parse_rate

    rates: dict[str, int] = {}
    paths: dict[str, int] = {}
    unknown: dict[str, tuple[str, list[str]]] = {}
    rows = []
    for line in lines:
        idx = []
        for col, text in zip(RATE_COLUMNS, line.cells, strict=True):
            if not text:
                idx.append(-1)
                continue
            if text not in rates:
                rates[text] = len(rates)
                try:
                    parse_rate(text)
                except (RateParseError, ValueError):
                    unknown[text] = (col, [])
            if text in unknown:
                unknown[text][1].append(line.code)
            idx.append(rates[text])
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
        "rates": list(rates),
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


@dataclass
class _Outcome:
    """One kind's result: the files of its new version (none when up to date) and its change report."""

    kind: str
    base_id: str
    changes: TariffChanges | FxChanges
    files: dict[str, bytes] = field(default_factory=dict)
    summary: str = ""


def _current(st: Store, kind: str) -> tuple[Path, str]:
    """The folder holding the ``kind`` table in use (as the refresh process sees the store) and its label."""
    version = getattr(st.state(), kind)
    if version is None:
        return rules_dir(), "bundled"
    d = st.version_dir(kind, version)
    if not (d / store_mod.INDEX_FILE[kind]).is_file():
        return rules_dir(), "bundled"
    return d, f"version {version}"


def _load_gz(path: Path) -> dict:
    try:
        return json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the table in use {path}: {exc}") from exc


def _newest_edition(text: str) -> str:
    found = sorted(set(_EDITION_LINK.findall(text)))
    if not found:
        raise PageError("tariff/index.htm lists no edition (links like 2026_07_09/index.htm): its layout changed")
    return found[-1]


def _tariff(src: Source, st: Store, *, chapters: Iterable[str] | None, allow_older: bool, limits: Limits,
            tick: _Ticker) -> _Outcome:
    page = src.get("tariff/index.htm")
    edition = _newest_edition(decode_html(page.content, page.content_type, "tariff/index.htm"))
    tick("tariff/index.htm")
    cur_dir, cur_label = _current(st, "tariff")
    index = json.loads((cur_dir / "tariff" / "editions.json").read_text(encoding="utf-8"))["editions"]
    newest = max(index, key=lambda e: e["effective_from"])
    if edition < newest["edition"] and not allow_older:
        raise SanityError(f"the site's newest edition {edition} is older than the newest in use "
                          f"({newest['edition']}, {cur_label}): refused; pass --allow-older (allow_older=True) "
                          "to store it anyway")
    same = next((e for e in index if e["edition"] == edition), None)
    start = date(*(int(x) for x in edition.split("_")))
    base = same or max((e for e in index if date.fromisoformat(e["effective_from"]) <= start),
                       key=lambda e: e["effective_from"], default=index[0])
    base_book = _load_gz(cur_dir / "tariff" / base["file"])
    base_lines = book_lines(base_book)
    base_by_ch: dict[str, list[PageLine]] = {}
    for line in base_lines:
        base_by_ch.setdefault(line.code[:2], []).append(line)
    used = {c for line in base_lines for c, t in zip(RATE_COLUMNS, line.cells, strict=True) if t}
    wanted = sorted(set(chapters)) if chapters else list(CHAPTERS)
    partial = set(wanted) != set(CHAPTERS)
    if partial and same is None:
        raise RefreshError(f"a refresh of some chapters ({', '.join(wanted)}) needs edition {edition} to be in "
                           f"use already; it is not ({cur_label})")

    fetched: dict[str, list[PageLine]] = {}
    warnings: list[str] = []
    for ch in wanted:
        name = f"j_{ch}.htm"
        got = src.get(f"tariff/{edition}/data/{name}")
        parsed = parse_chapter(got.content, name=name, content_type=got.content_type)
        lost = [c for c in RATE_COLUMNS if c not in parsed.columns and c in used]
        if lost:
            raise SanityError(f"{name}: the table lost column{'s' if len(lost) > 1 else ''} "
                              + ", ".join(f"{LABELS_JA[c]} ({c})" for c in lost)
                              + " that the tables in use have: refused")
        lines = parsed.lines()
        if not lines:
            raise PageError(f"{name}: no 9-digit line in the table")
        stray = next((ln.code for ln in lines if ln.code[:2] != ch), None)
        if stray:
            raise PageError(f"{name}: line {stray} does not belong to chapter {ch}")
        warnings.extend(f"{name}: column {h!r} is not known to xlduty: ignored" for h in parsed.ignored)
        fetched[ch] = lines
        tick(name)

    old_part = [ln for ch in wanted for ln in base_by_ch.get(ch, [])]
    new_part = [ln for ch in wanted for ln in fetched[ch]]
    new_lines = [ln for ch in sorted(set(base_by_ch) | set(fetched)) for ln in
                 (fetched[ch] if ch in fetched else base_by_ch[ch] if partial else [])]
    book, unknown = build_book(new_lines, edition, src.base)
    try:
        TariffBook.model_validate(book)
    except ValueError as exc:
        raise PageError(f"edition {edition}: the parsed table is not valid: {_first(exc)}") from None
    _sanity_tariff(compare_tariff(old_part, new_part, edition=edition, baseline="", chapters=wanted), unknown,
                   limits, edition)

    changes = compare_tariff(base_lines, new_lines, edition=edition, baseline=f"{base['edition']} ({cur_label})",
                             chapters=wanted)
    changes.warnings = warnings
    changes.manual = [ManualText(text=text, column=col, codes=codes[:20])
                      for text, (col, codes) in sorted(unknown.items())]
    out = _Outcome("tariff", edition, changes=changes)
    if same is not None and changes.unchanged and not unknown and _same_book(base_book, book):
        return out  # up to date: no files, no version
    data = gz_json(book)
    entries = []
    for e in index:
        if e["edition"] == edition:
            continue
        blob = (cur_dir / "tariff" / e["file"]).read_bytes()
        if store_mod.sha256(blob) != e["sha256"]:
            raise DataError(f"the table in use {cur_dir / 'tariff' / e['file']} is damaged (digest differs)")
        out.files[f"tariff/{e['file']}"] = blob
        entries.append(e)
    entries.append({"edition": edition, "effective_from": book["effective_from"], "file": f"{edition}.json.gz",
                    "lines": len(book["lines"]), "sha256": store_mod.sha256(data)})
    entries.sort(key=lambda e: e["effective_from"])
    EditionIndex.model_validate({"editions": entries})
    out.files[f"tariff/{edition}.json.gz"] = data
    out.files["tariff/editions.json"] = (json.dumps({"editions": entries}, ensure_ascii=False, indent=1)
                                         + "\n").encode()
    out.summary = (f"実行関税率表 {edition}: {len(book['lines']):,} lines; {changes.lines_rate_changed:,} with a "
                   f"changed rate, {len(changes.added)} added, {len(changes.removed)} removed vs {changes.baseline}")
    return out


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


def _fx(src: Source, st: Store, *, allow_older: bool, limits: Limits, tick: _Ticker) -> _Outcome:
    index_path = "tetsuzuki/kawase/index.htm"
    page = src.get(index_path)
    href = latest_csv_link(decode_html(page.content, page.content_type, index_path))
    tick(index_path)
    url = urljoin(page.url, href)
    if not url.startswith(src.base + "/"):
        raise PageError(f"{index_path}: the CSV link {href} leaves {src.base}")
    name = url.rsplit("/", 1)[-1]
    got = src.get(url[len(src.base) + 1:])
    week = parse_fx_csv(got.content, name)
    tick(name)
    cur_dir, cur_label = _current(st, "fx")
    book = _load_gz(cur_dir / "fx" / "customs_weekly.json.gz")
    last = date.fromisoformat(book["first_week"]) + timedelta(weeks=int(book["weeks"]) - 1)
    if week.start < last and not allow_older:
        raise SanityError(f"the latest CSV is for the week of {week.start}, older than the newest week in use "
                          f"({last}, {cur_label}): refused; pass --allow-older to store it anyway")
    existing = week_figures(book, week.start)
    unchanged = existing == week.rates and all(book["aliases"].get(k) == v for k, v in week.aliases.items())
    prev_start = week.start - timedelta(weeks=1)
    prev = week_figures(book, prev_start)
    if len(week.rates) < limits.min_currencies or "USD" not in week.rates:
        raise SanityError(f"{name}: {len(week.rates)} currencies{'' if 'USD' in week.rates else ', no USD'}: "
                          "refused as incomplete")
    if prev and len(week.rates) < limits.min_currency_ratio * len(prev):
        raise SanityError(f"{name}: {len(week.rates)} currencies against {len(prev)} the week before: refused as "
                          "incomplete")
    source = f"{src.base}/tetsuzuki/kawase/ (weekly PDFs kouji-rateYYYYMMDD-YYYYMMDD.pdf; weekly CSV csv/{name})"
    merged = merge_week(book, week, source)
    try:
        FxBook.model_validate(merged)
    except ValueError as exc:
        raise PageError(f"{name}: the merged table is not valid: {_first(exc)}") from None
    changes = compare_fx(prev, week.rates, week_start=week.start, week_end=week.end, baseline=cur_label,
                         compared_with=prev_start if prev else None, aliases=week.aliases, notes=week.notes,
                         unchanged=unchanged)
    out = _Outcome("fx", week.start.isoformat(), changes=changes)
    if unchanged:
        return out
    out.files["fx/customs_weekly.json.gz"] = gz_json(merged)
    usd = week.rates["USD"]
    out.summary = f"税関長公示レート week {week.start}–{week.end}: {len(week.rates)} currencies, USD {usd}"
    return out


def _in_use(st: Store) -> dict[str, str]:
    try:
        state = st.state()
    except DataError:
        return {}
    return {k: getattr(state, k) or "bundled" for k in store_mod.KINDS}


def invalidate_caches() -> None:
    """Make this process read the tables in use afresh: the pointer, editions, FX, rate plans, Excel results.

    Called after every switch made here; the Excel add-in's UDF server keeps running between refreshes.
    """
    store_mod.clear_cache()
    mods = sys.modules
    if (schedule := mods.get("xlduty.schedule")) is not None:
        schedule.load_edition.cache_clear()
        schedule._index.cache_clear()
    if (fx := mods.get("xlduty.fx")) is not None:
        fx.customs_rates.cache_clear()
    if (engine := mods.get("xlduty.engine")) is not None and engine._ENGINE is not None:
        engine._ENGINE._plans.clear()  # rate plans are keyed by edition name, which a refresh may keep
    if (functions := mods.get("xlduty.excel.functions")) is not None:
        functions.clear_caches()


def refresh(source: str | None = None, *, progress: Progress | None = None, allow_older: bool = False,
            insecure_host: bool = False, what: Iterable[str] = ("tariff", "fx"),
            chapters: Iterable[str] | None = None, settings: FetchSettings | None = None,
            limits: Limits | None = None) -> RefreshReport:
    """Bring the newest official tariff edition and FX week into the user data directory, or change nothing.

    ``source``: base URL (default https://www.customs.go.jp); another host, or plain HTTP, needs
    ``insecure_host=True``. ``allow_older``: accept an edition or week older than the one in use.
    ``what``: "tariff", "fx" or both. ``chapters``: refresh only these chapters of the edition in use
    (the others are kept). The report's ``ok`` is False, with the reason, when nothing was switched.
    """
    kinds = [k for k in store_mod.KINDS if k in set(what)]
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
        with st.lock():
            st.clean_staging()
            report.previous = _in_use(st)
            outcomes = []
            if "tariff" in kinds:
                outcomes.append(_tariff(src, st, chapters=chapters, allow_older=allow_older, limits=limits, tick=tick))
            if "fx" in kinds:
                outcomes.append(_fx(src, st, allow_older=allow_older, limits=limits, tick=tick))
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
                                 report=out.changes.model_dump_json(indent=1).encode())
                changes[out.kind] = vid
            tick("switch")
            if changes:
                st.switch(changes, f"refresh from {src.base}")
                switched = True
            report.ok = True
            with contextlib.suppress(OSError, DataError):  # old versions then stay; they do no harm
                st.prune()
    except (RefreshError, DataError, OSError) as exc:
        report.error = str(exc) if not isinstance(exc, OSError) else f"cannot write the new tables: {exc}"
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
