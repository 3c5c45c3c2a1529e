"""The customs weekly exchange rates as customs archives them: one PDF per week (税関長公示レート).

The index ``/tetsuzuki/kawase/index.htm`` links the latest weeks, ``list.htm`` the archive back to 2002
(per-year pages, where the site splits it, are followed too); each week is
``kawaseYYYY/kouji-rateYYYYMMDD-YYYYMMDD.pdf``. A page of the PDF is a table: 国名符号, 国名, 通貨, ISO,
then the figure in one of two columns, 「当該通貨1単位につき(円)」 or 「当該通貨100単位につき(円)」.
Nothing in the text says which column a figure sits in, so each figure is placed by its x-coordinate:
the column whose header is nearest. The fonts are not embedded (MS Gothic, Identity-H) and the files
are encrypted with an empty password; pdfplumber (pdfminer.six) reads both and gives each word its box.
The printed 適用期間 must be the week the file name says, so a misfiled PDF is refused, not merged.
"""

from __future__ import annotations

import io
import itertools
import re
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from xlduty.rates.errors import PageError
from xlduty.rates.fx_csv import ALIAS_NOTES, FxWeek

if TYPE_CHECKING:
    from pdfplumber.pdf import PDF

_PDF_NAME = re.compile(r"(?:kouji-rate)?(\d{8})-(\d{8})\.pdf$")
_PDF_LINK = re.compile(r"""href\s*=\s*["']?([^"'\s>]*?kouji-rate(\d{8})-(\d{8})\.pdf)""", re.I)
_PAGE_LINK = re.compile(r"""href\s*=\s*["']?([^"'\s>#?]+\.html?)""", re.I)
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_ISO = re.compile(r"[A-Z]{3}")
_FIGURE = re.compile(r"\d[\d,]*(\.\d+)?")
# 「平成24年4月22日」, 「令和元年5月12日」, 「平成31年（2019年）5月4日」 (printed in the weeks of the era change)
_DATE = r"(?:(平成|令和)(元|\d+)年)?(?:\(?(\d{4})年\)?)?(\d+)月(\d+)日"
_PERIOD = re.compile(f"適用期間:?{_DATE}から{_DATE}まで")
_ERAS = {"平成": 1988, "令和": 2018}
_ROW_TOLERANCE = 5.0   # points: an ISO code and its figure sit on one baseline (rows are ~16 points apart)


def _yyyymmdd(s: str) -> date:
    return date(int(s[:4]), int(s[4:6]), int(s[6:]))


def week_of_pdf_name(name: str) -> tuple[date, date]:
    """The Sunday–Saturday week a ``kouji-rateYYYYMMDD-YYYYMMDD.pdf`` name stands for; ``PageError`` if not one.

    The start must be a Sunday; the end may be misprinted (the archive has ``20120422-20120427``):
    the PDF's own 適用期間 is checked against the week when it is parsed.
    """
    m = _PDF_NAME.search(name)
    if not m:
        raise PageError(f"{name}: not a weekly PDF name (kouji-rateYYYYMMDD-YYYYMMDD.pdf)")
    try:
        start, end = _yyyymmdd(m.group(1)), _yyyymmdd(m.group(2))
    except ValueError:
        raise PageError(f"{name}: not a date range") from None
    if start.weekday() != 6 or not start < end <= start + timedelta(days=7):
        raise PageError(f"{name}: {start}–{end} is not a Sunday–Saturday week")
    return start, start + timedelta(days=6)


def pdf_links(html: str, page_url: str) -> dict[date, str]:
    """{week start: absolute URL} of the weekly PDFs (Japanese edition) an index page links."""
    out: dict[date, str] = {}
    for m in _PDF_LINK.finditer(html):
        try:
            start, _end = week_of_pdf_name(m.group(1))
        except PageError:
            continue
        out.setdefault(start, urljoin(page_url, m.group(1)))
    return out


def year_page_links(html: str, page_url: str) -> dict[int, str]:
    """{year: absolute URL} of the per-year archive pages an index links (``kawase2019/index.htm``,
    ``list2019.htm``…), if the site splits the archive that way; only pages below the index's folder."""
    folder = page_url.rsplit("/", 1)[0] + "/"
    out: dict[int, str] = {}
    for m in _PAGE_LINK.finditer(html):
        url = urljoin(page_url, m.group(1))
        rest = url[len(folder):] if url.startswith(folder) else ""
        years = _YEAR.findall(rest)
        if len(years) == 1 and url != page_url:
            out.setdefault(int(years[0]), url)
    return out


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def _printed_date(era: str | None, year: str | None, western: str | None, month: str, day: str) -> date:
    """A printed date; the Western year wins where both are printed (平成31年（2019年）5月: after the era ended)."""
    if western:
        return date(int(western), int(month), int(day))
    if era is None or year is None:
        raise ValueError("no year")
    return date(_ERAS[era] + (1 if year == "元" else int(year)), int(month), int(day))


def _printed_period(text: str, name: str) -> tuple[date, date]:
    m = _PERIOD.search(_norm(text))
    if not m:
        raise PageError(f"{name}: no 適用期間 (application period) on the first page: not a weekly rate table")
    try:
        return _printed_date(*m.group(1, 2, 3, 4, 5)), _printed_date(*m.group(6, 7, 8, 9, 10))
    except ValueError:
        raise PageError(f"{name}: the printed 適用期間 {m.group(0)} is not a date range") from None


def _figure(text: str) -> str:
    s = _norm(text).replace(",", "")
    if not re.fullmatch(r"\d+(\.\d+)?", s) or float(s) <= 0:
        raise PageError(f"figure {text!r} is not a positive decimal")
    return s


def _centre(word: dict) -> float:
    return (word["x0"] + word["x1"]) / 2


def _middle(word: dict) -> float:
    return (word["top"] + word["bottom"]) / 2


def _open(raw: bytes, name: str) -> PDF:
    """The PDF, opened by pdfplumber, or ``PageError`` for a file that is no readable PDF."""
    if not raw.startswith(b"%PDF-"):
        raise PageError(f"{name}: not a PDF (the file does not start with %PDF-)")
    import pdfplumber  # lazy: only an archive refresh needs it

    try:
        return pdfplumber.open(io.BytesIO(raw))
    except Exception as exc:
        raise _unreadable(name, exc) from None


def _unreadable(name: str, exc: Exception) -> PageError:
    reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
    return PageError(f"{name}: the PDF cannot be read ({type(exc).__name__}{': ' + reason if reason else ''})")


def _words(pdf: PDF, name: str) -> Iterator[list[dict]]:
    """Each page's words with their boxes, page by page (a misfiled PDF is refused after its first page)."""
    try:
        for page in pdf.pages:
            yield page.extract_words()
    except PageError:
        raise
    except Exception as exc:  # pdfminer raises many kinds (PSSyntaxError, KeyError, TypeError…) on a broken file
        raise _unreadable(name, exc) from None


def parse_fx_pdf(raw: bytes, name: str) -> FxWeek:
    """One week's rates from the official weekly PDF; ``PageError`` on a broken file, layout or figure."""
    start, end = week_of_pdf_name(name)
    with _open(raw, name) as pdf:
        return _parse(_words(pdf, name), name, start, end)


def _parse(pages: Iterator[list[dict]], name: str, start: date, end: date) -> FxWeek:
    first = next(pages, None)
    if not first:
        raise PageError(f"{name}: the PDF has no text")
    printed = _printed_period(" ".join(w["text"] for w in first[:12]), name)
    if printed != (start, end):
        raise PageError(f"{name}: the PDF is for {printed[0]}–{printed[1]}, not the week its name says")
    week = FxWeek(start, end, {})
    columns: tuple[float, float, float] | None = None   # x-centres of the 1-unit and 100-unit headers; left edge
    for number, words in enumerate(itertools.chain([first], pages), start=1):
        one = next((w for w in words if "1単位" in _norm(w["text"]) and "100単位" not in _norm(w["text"])), None)
        hundred = next((w for w in words if "100単位" in _norm(w["text"])), None)
        if one is not None and hundred is not None:
            columns = (_centre(one), _centre(hundred), min(one["x0"], hundred["x0"]))
        elif one is not None or hundred is not None:
            raise PageError(f"{name}: page {number} heads only one of the 1-unit and 100-unit columns")
        for iso_word in words:   # ISO codes stand left of the figure columns; "ISO" itself heads them
            iso = iso_word["text"]
            if columns is None or iso == "ISO" or not _ISO.fullmatch(iso) or iso_word["x1"] > columns[2]:
                continue
            row = [w for w in words if w["x0"] >= iso_word["x1"] - 1 and w is not iso_word
                   and abs(_middle(w) - _middle(iso_word)) <= _ROW_TOLERANCE]
            figures = [w for w in row if _FIGURE.fullmatch(_norm(w["text"]))]
            if len(figures) > 1:
                raise PageError(f"{name}: page {number}, {iso}: more than one figure "
                                f"({', '.join(w['text'] for w in figures)})")
            if figures:
                w = figures[0]
                try:
                    figure = _figure(w["text"])
                except PageError as exc:
                    raise PageError(f"{name}: page {number}, {iso}: {exc}") from None
                per_hundred = abs(_centre(w) - columns[1]) < abs(_centre(w) - columns[0])
                text = f"{figure}/100" if per_hundred else figure
                if iso in week.rates and week.rates[iso] != text:
                    raise PageError(f"{name}: {iso} has two figures, {week.rates[iso]} and {text}")
                week.rates[iso] = text
                continue
            note = " ".join(w["text"] for w in sorted(row, key=lambda w: w["x0"]))
            alias = next((a for k, a in ALIAS_NOTES.items() if k in _norm(note)), None)
            if alias:
                week.aliases[iso] = alias
            else:
                week.notes[iso] = note
    if columns is None:
        raise PageError(f"{name}: no page heads the 1-unit and 100-unit columns: the PDF layout changed")
    if not week.rates:
        raise PageError(f"{name}: no exchange rate in the PDF")
    return week
