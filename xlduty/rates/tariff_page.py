"""Parse one official chapter page of 実行関税率表 (``/tariff/<edition>/data/j_NN.htm``) into lines.

The page (Shift_JIS) holds ``<table id="datatable">``: two header rows, then one ``<tr>`` per row of
the schedule. Columns are found by their header text, never by position, because older editions
have fewer columns and a new agreement may add one. A row's depth is its description cell's
``padding-left:Nem`` plus its leading ``−`` dashes. A rate is printed once, on the highest row it
applies to: a 9-digit line inherits each empty cell from its nearest ancestor row that has it, and a
row without 番号 takes its parent's. The result is the same as the flattened lines the bundled
build reads (``update/tariff.py``), so a refreshed edition equals a bundled one built from the same pages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from xlduty.rates.errors import PageError

RATE_COLUMNS: tuple[str, ...] = (
    "rate_general", "rate_temporary", "rate_wto", "rate_gsp", "rate_ldc",
    "epa_singapore", "epa_mexico", "epa_malaysia", "epa_chile", "epa_thailand", "epa_indonesia",
    "epa_brunei", "epa_asean", "epa_philippines", "epa_switzerland", "epa_vietnam", "epa_india",
    "epa_peru", "epa_australia", "epa_mongolia", "epa_cptpp", "epa_eu", "epa_uk",
    "epa_rcep_asean_au_nz", "epa_rcep_china", "epa_rcep_korea", "epa_us",
)
"""The 27 rate columns, in the page's order (the same list as ``update/tariff.py``)."""

LABELS_JA: dict[str, str] = {
    "rate_general": "基本", "rate_temporary": "暫定", "rate_wto": "WTO協定", "rate_gsp": "特恵",
    "rate_ldc": "特別特恵", "epa_singapore": "シンガポール", "epa_mexico": "メキシコ", "epa_malaysia": "マレーシア",
    "epa_chile": "チリ", "epa_thailand": "タイ", "epa_indonesia": "インドネシア", "epa_brunei": "ブルネイ",
    "epa_asean": "アセアン", "epa_philippines": "フィリピン", "epa_switzerland": "スイス", "epa_vietnam": "ベトナム",
    "epa_india": "インド", "epa_peru": "ペルー", "epa_australia": "豪州", "epa_mongolia": "モンゴル",
    "epa_cptpp": "TPP11", "epa_eu": "欧州連合", "epa_uk": "英国", "epa_rcep_asean_au_nz": "RCEP（アセアン・豪州・NZ）",
    "epa_rcep_china": "RCEP（中国）", "epa_rcep_korea": "RCEP（韓国）", "epa_us": "日米貿易協定",
}
"""Column names as the page prints them, for messages and the change report."""

_REQUIRED = ("hs_number", "stat_suffix", "description", "rate_general")

# Header text (NFKC, no whitespace) → column. Order matters: 特別特恵 before 特恵, インドネシア before
# インド, RCEP before the single-party names it contains.
_HEADER_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("統計細分", "STAT"), "stat_suffix"),
    (("番号", "H.S."), "hs_number"),
    (("品名", "DESCRIPTION"), "description"),
    (("他法令", "LAW"), "other_laws"),
    (("RCEP(中国", "RCEP(CHINA"), "epa_rcep_china"),
    (("RCEP(韓国", "RCEP(KOREA"), "epa_rcep_korea"),
    (("RCEP",), "epa_rcep_asean_au_nz"),
    (("特別特恵", "LDC"), "rate_ldc"),
    (("特恵", "GSP"), "rate_gsp"),
    (("基本", "GENERAL"), "rate_general"),
    (("暫定", "TEMPORARY"), "rate_temporary"),
    (("WTO",), "rate_wto"),
    (("日米", "US◆", "U.S."), "epa_us"),
    (("日星", "シンガポール", "SINGAPORE"), "epa_singapore"),
    (("メキシコ", "MEXICO"), "epa_mexico"),
    (("マレーシア", "MALAYSIA"), "epa_malaysia"),
    (("チリ", "CHILE"), "epa_chile"),
    (("インドネシア", "INDONESIA"), "epa_indonesia"),
    (("タイ", "THAILAND"), "epa_thailand"),
    (("ブルネイ", "BRUNEI"), "epa_brunei"),
    (("アセアン", "ASEAN", "AJCEP"), "epa_asean"),
    (("フィリピン", "PHILIPPINES"), "epa_philippines"),
    (("スイス", "SWITZERLAND"), "epa_switzerland"),
    (("ベトナム", "VIET"), "epa_vietnam"),
    (("インド", "INDIA"), "epa_india"),
    (("ペルー", "PERU"), "epa_peru"),
    (("豪州", "オーストラリア", "AUSTRALIA"), "epa_australia"),
    (("モンゴル", "MONGOLIA"), "epa_mongolia"),
    (("TPP",), "epa_cptpp"),
    (("欧州", "EU"), "epa_eu"),
    (("英国", "UK"), "epa_uk"),
)

_PADDING = re.compile(r"padding-left\s*:\s*([\d.]+)\s*em", re.I)
_DATATABLE = re.compile(r"""<table[^>]*\bid\s*=\s*["']?datatable\b""", re.I)
_TABLE_END = re.compile(r"</table\s*>", re.I)
_WS = re.compile(r"\s+")
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_HS_NUMBER = re.compile(r"\d{2}\.\d{2}|\d{4}\.\d{2}")
_DASHES = "−"  # U+2212, as the Shift_JIS pages decode

_SJIS_NAMES = frozenset({"shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j",
                         "cp932", "ms932", "shift_jisx0213", "shift_jis_2004"})
# cp932 decodes a few Shift_JIS bytes to other code points than JIS does; the bundled tables use JIS's.
_CP932_TO_JIS = str.maketrans({"－": "−", "～": "〜", "∥": "‖", "￠": "¢", "￡": "£", "￢": "¬"})


@dataclass(frozen=True)
class PageRow:
    """One ``<tr>`` of the data table, cells as printed (whitespace collapsed)."""

    level: int
    hs_number: str        # 番号, copied from the parent row when the page leaves it blank
    stat_suffix: str      # 統計細分: 3 digits on a 9-digit line, else ""
    description: str
    cells: dict[str, str]
    unit_1: str
    unit_2: str
    other_laws: str       # 2-letter codes separated by spaces


@dataclass(frozen=True)
class PageLine:
    """A 9-digit statistical line with every rate cell inherited (the compact format's row)."""

    code: str
    description: str
    path: str
    unit_1: str
    unit_2: str
    other_laws: str
    cells: tuple[str, ...]   # one text per RATE_COLUMNS, "" when empty


@dataclass
class ChapterPage:
    name: str
    columns: frozenset[str]                            # rate columns the page has
    ignored: list[str] = field(default_factory=list)   # header texts no column is known for
    rows: list[PageRow] = field(default_factory=list)

    def lines(self) -> list[PageLine]:
        return list(inherit(self.rows))


def decode_html(raw: bytes, content_type: str = "", name: str = "page") -> str:
    """The page text. Shift_JIS (the default, and what the site declares) decodes as JIS X 0213, then cp932.

    A page that is valid UTF-8 while declaring Shift_JIS was re-encoded on the way: refused, since
    guessing would store mojibake as descriptions and rates.
    """
    declared = _charset_of(content_type.encode("ascii", "ignore")) or _charset_of(raw[:4096]) or "shift_jis"
    if declared.lower() in _SJIS_NAMES:
        if _is_utf8(raw):
            raise PageError(f"{name}: wrong encoding: the bytes are UTF-8 but the page declares {declared}")
        try:
            return raw.decode("shift_jisx0213")
        except UnicodeDecodeError:
            pass
        try:
            return raw.decode("cp932").translate(_CP932_TO_JIS)
        except UnicodeDecodeError as exc:
            raise PageError(f"{name}: wrong encoding: not Shift_JIS (byte {exc.start:,})") from None
    try:
        return raw.decode(declared)
    except (LookupError, UnicodeDecodeError) as exc:
        raise PageError(f"{name}: cannot decode the page as {declared}: {exc}") from None


def _charset_of(head: bytes) -> str | None:
    m = _CHARSET.search(head)
    return m.group(1).decode("ascii") if m else None


def _is_utf8(raw: bytes) -> bool:
    if raw.isascii():
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(cell: Any) -> str:
    """A cell's text with ``<br>`` as a space and every whitespace run (incl. U+3000) as one space."""
    if len(cell):
        for br in cell.iter("br"):
            br.tail = " " + (br.tail or "")
        return " ".join("".join(cell.itertext()).split())
    text = cell.text
    return " ".join(text.split()) if text else ""    # most cells are empty: no split/join for them


def _span(cell: Any, attr: str) -> int:
    value = (cell.get(attr) or "1").strip()
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _column_key(leaf: str, group: str) -> str | None:
    t = _WS.sub("", unicodedata.normalize("NFKC", leaf)).upper()
    if t in ("I", "単位I") or (t == "1" and "単位" in group):
        return "unit_1"
    if t in ("II", "単位II") or (t == "2" and "単位" in group):
        return "unit_2"
    for words, key in _HEADER_RULES:
        if any(w in t for w in words):
            return key
    return None


def _cells(tr: Any) -> list[Any]:
    return [c for c in tr if c.tag in ("td", "th")]


def parse_chapter(raw: bytes | str, *, name: str = "page", content_type: str = "") -> ChapterPage:
    """Rows of one chapter page; ``PageError`` says what is wrong with the page."""
    from lxml import etree  # lazy: only a refresh needs it

    text = raw if isinstance(raw, str) else decode_html(raw, content_type, name)
    start = _DATATABLE.search(text)
    if start is None:
        raise PageError(f"{name}: no table id=\"datatable\" (not a tariff chapter page)")
    if _TABLE_END.search(text, start.end()) is None:
        raise PageError(f"{name}: truncated: the data table is not closed")
    doc = etree.fromstring(text, etree.HTMLParser())
    table = doc.xpath('//table[@id="datatable"]')[0]
    trs = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    n_header = next((i for i, tr in enumerate(trs) if not any(c.tag == "th" for c in tr)), len(trs)) or 2
    if len(trs) <= n_header:
        raise PageError(f"{name}: the data table has no rows")
    keys, ignored = _header(trs[:n_header], name)
    page = ChapterPage(name, frozenset(k for k in keys if k in RATE_COLUMNS), ignored)
    idx = {k: i for i, k in enumerate(keys) if k}
    desc_at = idx["description"]
    stack: list[PageRow] = []
    for n, tr in enumerate(trs[n_header:], start=n_header + 1):
        cells = _cells(tr)
        values: list[str] = []
        desc_cell = None
        for cell in cells:
            if len(values) == desc_at:
                desc_cell = cell
            values.append(_text(cell))
            if cell.get("colspan"):
                values.extend([""] * (_span(cell, "colspan") - 1))
        if not any(values):
            continue
        if len(values) != len(keys):
            raise PageError(f"{name}: row {n} has {len(values)} cells but the header has {len(keys)}: "
                            "the table layout changed")
        row = _row(values, idx, desc_cell, stack, name, n)
        while stack and stack[-1].level >= row.level:
            stack.pop()
        stack.append(row)
        page.rows.append(row)
    return page


def _header(rows: list[Any], name: str) -> tuple[list[str | None], list[str]]:
    """Column key per grid column (None for one no rule knows), from the header rows' rowspan/colspan grid."""
    grid: dict[tuple[int, int], str] = {}
    width = 0
    for r, tr in enumerate(rows):
        c = 0
        for cell in _cells(tr):
            while (r, c) in grid:
                c += 1
            text = _text(cell)
            for dr in range(_span(cell, "rowspan")):
                for dc in range(_span(cell, "colspan")):
                    if r + dr < len(rows):
                        grid[(r + dr, c + dc)] = text
            c += _span(cell, "colspan")
        width = max(width, c, *(k[1] + 1 for k in grid if k[0] == r))
    last = len(rows) - 1
    keys: list[str | None] = []
    ignored: list[str] = []
    for c in range(width):
        leaf, group = grid.get((last, c), ""), grid.get((0, c), "")
        key = _column_key(leaf, group)
        if key is not None and key in keys:
            raise PageError(f"{name}: two columns read as {key} ({leaf!r})")
        if key is None and leaf:
            ignored.append(leaf)   # a column xlduty does not know (a new agreement?): reported, not guessed
        keys.append(key)
    missing = [k for k in _REQUIRED if k not in keys]
    if missing:
        raise PageError(f"{name}: the table headers were not recognised (missing {', '.join(missing)}): "
                        "the page layout or its encoding changed")
    return keys, ignored


def _row(values: list[str], idx: dict[str, int], desc_cell: Any, stack: list[PageRow], name: str,
         n: int) -> PageRow:
    def get(key: str) -> str:
        return values[idx[key]] if key in idx else ""

    desc = get("description")
    m = _PADDING.search(desc_cell.get("style") or "") if desc_cell is not None else None
    level = (int(float(m.group(1))) if m else 0) + (len(desc) - len(desc.lstrip(_DASHES)))
    parents = [r for r in stack if r.level < level]
    hs_number = get("hs_number") or (parents[-1].hs_number if parents else "")
    suffix = get("stat_suffix")
    if hs_number and not _HS_NUMBER.fullmatch(hs_number):
        raise PageError(f"{name}: row {n}: 番号 {hs_number!r} is not an HS number")
    if suffix and not (suffix.isdigit() and len(suffix) == 3 and len(hs_number) == 7):
        raise PageError(f"{name}: row {n}: 統計細分 {suffix!r} under {hs_number!r} does not make a 9-digit code")
    laws = _WS.sub("", get("other_laws"))
    return PageRow(level, hs_number, suffix, desc, {c: values[idx[c]] for c in RATE_COLUMNS if c in idx and
                                                    values[idx[c]]},
                   get("unit_1"), get("unit_2"), " ".join(laws[i:i + 2] for i in range(0, len(laws), 2)))


def inherit(rows: list[PageRow]) -> Iterator[PageLine]:
    """9-digit lines in page order; an empty cell takes the nearest ancestor row's value."""
    stack: list[PageRow] = []
    for row in rows:
        while stack and stack[-1].level >= row.level:
            stack.pop()
        if row.stat_suffix:
            cells = tuple(row.cells.get(c) or next((a.cells[c] for a in reversed(stack) if c in a.cells), "")
                          for c in RATE_COLUMNS)
            yield PageLine(row.hs_number.replace(".", "") + row.stat_suffix, row.description,
                           " > ".join(a.description[:200] for a in stack), row.unit_1, row.unit_2, row.other_laws,
                           cells)
        stack.append(row)
