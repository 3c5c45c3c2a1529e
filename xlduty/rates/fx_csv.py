"""The customs weekly exchange rates (税関長公示レート) as customs publishes the latest week: one CSV.

``/tetsuzuki/kawase/index.htm`` links ``csv/YYMMDD-YYMMDD.csv`` (「最新の外国為替相場のCSVデータは、こちら」).
The CSV is cp932: a preamble (six lines), a header naming 国名符号, 国名, 通貨, ISO and the 1-unit
and 100-unit columns, then one row per currency. Columns are found by header text. A row with no
figure may say the currency equals another (ブルネイ・ドル = シンガポール・ドル): kept as an alias, as
the bundled table does. The week is merged into a copy of the dense weekly table
(``rules/fx/customs_weekly.json.gz`` format): one series per currency, one slot per Sunday.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from xlduty.rates.errors import PageError

ALIAS_NOTES = {"シンガポール・ドルと等価": "SGD", "ベルギー・フランと等価": "BEF"}
_CSV_LINK = re.compile(r"""href\s*=\s*["']?([^"'\s>]*?(\d{6})-(\d{6})\.csv)""", re.I)
_NAME = re.compile(r"(\d{6})-(\d{6})\.csv$")


@dataclass
class FxWeek:
    """One published week: figures as printed, with their quotation unit ("11.41/100")."""

    start: date
    end: date
    rates: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)   # rows with neither a figure nor a known alias


def _yymmdd(s: str) -> date:
    return date(2000 + int(s[:2]), int(s[2:4]), int(s[4:]))


def week_of_name(name: str) -> tuple[date, date]:
    """The Sunday–Saturday week a ``YYMMDD-YYMMDD.csv`` name stands for; ``PageError`` if it is not one."""
    m = _NAME.search(name)
    if not m:
        raise PageError(f"{name}: not a weekly CSV name (YYMMDD-YYMMDD.csv)")
    try:
        start, end = _yymmdd(m.group(1)), _yymmdd(m.group(2))
    except ValueError:
        raise PageError(f"{name}: not a date range") from None
    if start.weekday() != 6 or end != start + timedelta(days=6):
        raise PageError(f"{name}: {start}–{end} is not a Sunday–Saturday week")
    return start, end


def latest_csv_link(index_html: str) -> str:
    """The href of the newest weekly CSV linked from the FX index page."""
    links = [(m.group(2), m.group(1)) for m in _CSV_LINK.finditer(index_html)]
    if not links:
        raise PageError("the exchange-rate index links no weekly CSV (csv/YYMMDD-YYMMDD.csv): its layout changed")
    return max(links)[1]


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raise PageError(f"{name}: wrong encoding: UTF-8 (with BOM), not cp932")
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise PageError(f"{name}: wrong encoding: the bytes are UTF-8, not cp932")
    try:
        return raw.decode("cp932")
    except UnicodeDecodeError as exc:
        raise PageError(f"{name}: wrong encoding: not cp932 (byte {exc.start:,})") from None


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def _figure(cell: str) -> str | None:
    """A published figure ("155.39"), or None when the cell holds none."""
    s = _norm(cell).replace(",", "")
    if not s:
        return None
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    if value <= 0 or not re.fullmatch(r"\d+(\.\d+)?", s):
        raise PageError(f"figure {cell!r} is not a positive decimal")
    return s


def parse_fx_csv(raw: bytes, name: str) -> FxWeek:
    """One week's rates from the official CSV; ``PageError`` on a wrong encoding, layout or figure."""
    start, end = week_of_name(name)
    rows = list(csv.reader(io.StringIO(_decode(raw, name))))
    head_at = next((i for i, r in enumerate(rows) if any(_norm(c).upper() == "ISO" for c in r)), None)
    if head_at is None:
        raise PageError(f"{name}: no header row naming ISO: the CSV layout changed")
    head = [_norm(c) for c in rows[head_at]]
    try:
        iso_col = next(i for i, h in enumerate(head) if h.upper() == "ISO")
        one_col = next(i for i, h in enumerate(head) if "1単位" in h)
        hundred_col = next(i for i, h in enumerate(head) if "100単位" in h)
    except StopIteration:
        raise PageError(f"{name}: the header lacks the ISO, 1-unit or 100-unit column: {rows[head_at]}") from None
    week = FxWeek(start, end, {})
    for n, row in enumerate(rows[head_at + 1:], start=head_at + 2):
        if not any(c.strip() for c in row):
            continue
        if len(row) <= max(iso_col, one_col, hundred_col):
            raise PageError(f"{name}: line {n} has {len(row)} fields: truncated or re-laid out")
        iso = _norm(row[iso_col]).upper()
        if not re.fullmatch(r"[A-Z]{3}", iso):
            raise PageError(f"{name}: line {n}: {row[iso_col]!r} is not an ISO currency code")
        try:
            one, hundred = _figure(row[one_col]), _figure(row[hundred_col])
        except PageError as exc:
            raise PageError(f"{name}: line {n} ({iso}): {exc}") from None
        text = one if one is not None else (f"{hundred}/100" if hundred is not None else None)
        if text is not None:
            if iso in week.rates and week.rates[iso] != text:
                raise PageError(f"{name}: {iso} has two figures, {week.rates[iso]} and {text}")
            week.rates[iso] = text
            continue
        note = " ".join(c.strip() for c in (row[one_col], row[hundred_col]) if c.strip())
        alias = next((a for k, a in ALIAS_NOTES.items() if k in _norm(note)), None)
        if alias:
            week.aliases[iso] = alias
        else:
            week.notes[iso] = note
    if not week.rates:
        raise PageError(f"{name}: no exchange rate in the CSV")
    return week


def merge_week(book: dict, week: FxWeek, source: str) -> dict:
    """A copy of the weekly table with ``week`` set (replacing that week's figures if it was there).

    Weeks between the table's end and ``week`` stay empty: ``rate_for`` then asks for ``fx_rates``.
    """
    first = date.fromisoformat(book["first_week"])
    weeks = int(book["weeks"])
    rates: dict[str, list[str | None]] = {iso: list(series) for iso, series in book["rates"].items()}
    if week.start < first:
        shift = (first - week.start).days // 7
        rates = {iso: [None] * shift + series for iso, series in rates.items()}
        first, weeks = week.start, weeks + shift
    i = (week.start - first).days // 7
    if i >= weeks:
        rates = {iso: series + [None] * (i + 1 - weeks) for iso, series in rates.items()}
        weeks = i + 1
    for iso in set(rates) | set(week.rates):
        series = rates.setdefault(iso, [None] * weeks)
        series[i] = week.rates.get(iso)
    aliases = dict(book.get("aliases", {}))
    aliases.update(week.aliases)
    return {
        "format": 1,
        "source": source,
        "credit": book["credit"],
        "first_week": first.isoformat(),
        "weeks": weeks,
        "rates": {iso: s for iso, s in sorted(rates.items()) if any(v is not None for v in s)},
        "aliases": dict(sorted(aliases.items())),
    }


def week_figures(book: dict, start: date) -> dict[str, str]:
    """The figures of one week of a table ({} when the table has no such week)."""
    i = (start - date.fromisoformat(book["first_week"])).days // 7
    if not 0 <= i < int(book["weeks"]):
        return {}
    return {iso: s[i] for iso, s in book["rates"].items() if s[i] is not None}
