"""Measure a printed sheet: does every text cell's text fit the box it prints in?

Why by measurement: a label that is too long for its column is cut off at the next cell that holds something
(Excel and LibreOffice both clip it there), and a wrapped text taller than its row is cut at the bottom. Whether
that happens depends on the fonts the renderer has, so it is checked on the rendered PDF, not guessed from
character counts.

How: the sheet is printed alone, from a values-only copy (``xlduty.export.print_copy``), by LibreOffice, with
its cell grid printed (``printOptions gridLines``: the only change to the print setup). The grid's lines,
read from the PDF with pdfplumber, give every column's and row's edges on each page; rows are matched to the
grid's bands in print order (a page that repeats title rows starts with them). A text cell's box is its cell
(its merged range), widened over the empty cells its text may run into (to the right for left-aligned text,
as Excel and LibreOffice let it overflow; never for wrapped or merged cells). The text fits when the
characters drawn inside that box, read line by line, spell the cell's whole text: a character drawn across
the box's edge, or clipped away, breaks the spelling. A text that fits only because it was shrunk below
MIN_SIZE points (shrink to fit makes a long text tiny) is reported too: it is there but nobody can read it.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter, range_boundaries

from xlduty.export import _sheet_parts, print_copy

_GRID_TOLERANCE = 0.75   # pt: a cell border and the grid line under it are one edge
MIN_SIZE = 6.0   # pt on the page (after fit-to-width scaling): below it a printed text is not legible


@dataclass(frozen=True)
class Misfit:
    """A text that does not fit: the cell, its text, and what was drawn inside its box."""

    sheet: str
    cell: str
    text: str
    drawn: str
    page: int
    size: float = 0.0   # the smallest character drawn, pt; set when that is what is wrong (below MIN_SIZE)

    def __str__(self) -> str:
        small = f" at {self.size:.1f} pt" if self.size else ""
        return f"{self.sheet}!{self.cell} (page {self.page}): {self.text!r} drawn as {self.drawn!r}{small}"


def _with_grid(src: Path, dst: Path, sheet: str) -> None:
    """``src`` with the grid of ``sheet`` printed (its print setup otherwise unchanged)."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        part = _sheet_parts(z)[sheet]
        for item in z.infolist():
            body = z.read(item.filename)
            if item.filename == part:
                body = re.sub(rb"<printOptions\b[^>]*/>", b"", body)
                body = body.replace(b"<pageMargins", b'<printOptions gridLines="1"/><pageMargins', 1)
            out.writestr(item, body)


def render(calculated: Path, sheet: str, folder: Path) -> tuple[Path, Path]:
    """(the PDF of ``sheet`` printed alone with its grid, the values-only copy it was printed from)."""
    folder.mkdir(parents=True, exist_ok=True)
    values = folder / f"{sheet}-values.xlsx"
    print_copy(calculated, values, [sheet])
    grid = folder / f"{sheet}.xlsx"
    _with_grid(values, grid, sheet)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is needed"
    subprocess.run([soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(folder), str(grid)],
                   capture_output=True, text=True, timeout=180, check=False)
    pdf = folder / f"{sheet}.pdf"
    assert pdf.exists(), f"LibreOffice did not render {sheet}"
    return pdf, values


def _edges(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > _GRID_TOLERANCE:
            out.append(v)
    return out


def _grid(page: Any) -> tuple[list[float], list[float]]:
    """(x of every column edge, y of every row edge) on a page, from its drawn lines and the grid's frame (a
    stroked rectangle; cell fills are unstroked ones)."""
    xs = [ln["x0"] for ln in page.lines if abs(ln["x0"] - ln["x1"]) < 0.01]
    ys = [ln["top"] for ln in page.lines if abs(ln["top"] - ln["bottom"]) < 0.01]
    for rect in page.rects:
        if rect.get("stroke"):
            xs += [rect["x0"], rect["x1"]]
            ys += [rect["top"], rect["bottom"]]
    return _edges(xs), _edges(ys)


def _print_rows(ws: Any) -> tuple[tuple[int, int, int, int], list[int]]:
    """(min col, min row, max col, max row) of the print area, and the title rows repeated on each page."""
    area = ws.print_area
    assert area, f"{ws.title}: no print area"
    bounds = range_boundaries(str(area).split("!")[-1].replace("$", ""))
    titles: list[int] = []
    if ws.print_title_rows:
        first, last = (int(x) for x in str(ws.print_title_rows).replace("$", "").split(":"))
        titles = list(range(first, last + 1))
    return bounds, titles  # type: ignore[return-value]


def _text(v: Any) -> str | None:
    if isinstance(v, str) and v.strip():
        return re.sub(r"\s+", "", v)
    return None


def measure(calculated: Path, sheet: str, folder: Path, min_size: float = MIN_SIZE) -> tuple[list[Misfit], int]:
    """(every text of ``sheet`` that does not fit its box or prints below ``min_size`` pt, how many texts were
    measured)."""
    import openpyxl
    import pdfplumber

    pdf_path, values_path = render(calculated, sheet, folder)
    ws = openpyxl.load_workbook(values_path)[sheet]
    (c0, r0, c1, r1), titles = _print_rows(ws)
    merged = {(m.min_row, m.min_col): m for m in ws.merged_cells.ranges}
    merged_cells = {(r, c) for m in ws.merged_cells.ranges for r in range(m.min_row, m.max_row + 1)
                    for c in range(m.min_col, m.max_col + 1)}
    inside_merge = merged_cells - set(merged)
    misfits: list[Misfit] = []
    measured = 0
    title_cols = _title_columns(ws)
    widths = dict.fromkeys(range(c0, c1 + 1), 8.43)   # Excel's default width; openpyxl keeps a run of equal widths
    for dim in ws.column_dimensions.values():         # as one dimension (min..max)
        for c in range(dim.min or 1, (dim.max or dim.min or 1) + 1):
            if c in widths and dim.width:
                widths[c] = dim.width
    with pdfplumber.open(pdf_path) as pdf:
        row_band: dict[int, list[tuple[int, float, float]]] = {}
        next_row = r0
        cols: list[int] = []
        for number, page in enumerate(pdf.pages, start=1):
            xs, ys = _grid(page)
            if len(xs) - 1 != len(cols) or number == 1 or next_row > r1:   # else the same columns, rows on
                new = _page_columns(xs, widths, c0, c1, title_cols, cols)
                if new != cols:
                    next_row = r0   # pages print down, then over: the next columns start at the top again
                cols = new
            bands = list(itertools.pairwise(ys))
            repeated = [r for r in titles if r < next_row] if next_row > r0 else []
            rows = repeated + list(range(next_row, next_row + len(bands) - len(repeated)))
            for row, (top, bottom) in zip(rows, bands, strict=True):
                row_band.setdefault(row, []).append((number, top, bottom))
            next_row = rows[-1] + 1 if rows else next_row
            page_grid = (xs, page, cols)
            for row in rows:
                for col in cols:
                    if (row, col) in inside_merge:
                        continue
                    cell = ws.cell(row, col)
                    text = _text(cell.value)
                    if text is None:
                        continue
                    measured += 1
                    drawn, size = _drawn(ws, page_grid, row_band, number, row, col, merged, merged_cells)
                    if drawn != text or size < min_size:
                        misfits.append(Misfit(sheet, f"{get_column_letter(col)}{row}", str(cell.value), drawn,
                                              number, size if size < min_size else 0.0))
        assert cols[-1] == c1, f"{sheet}: columns after {get_column_letter(cols[-1])} were not printed"
        assert next_row > r1 or all(ws.cell(r, c).value in (None, "") for r in range(next_row, r1 + 1)
                                    for c in range(c0, c1 + 1)), f"{sheet}: rows from {next_row} were not printed"
    return misfits, measured


def _title_columns(ws: Any) -> list[int]:
    """The columns repeated on every page printed beside the first (``print_title_cols``, e.g. ``$A:$B``)."""
    if not ws.print_title_cols:
        return []
    first, last = (range_boundaries(f"{c}1")[0] for c in str(ws.print_title_cols).replace("$", "").split(":"))
    return list(range(first, last + 1))


def _page_columns(xs: list[float], widths: dict[int, float], c0: int, c1: int, title_cols: list[int],
                  before: list[int]) -> list[int]:
    """The sheet columns a page prints, from its grid: the whole area, the first columns (a sheet printed pages
    wide), or the title columns then those after the previous page's; told apart by the widths drawn."""
    n = len(xs) - 1
    drawn = [b - a for a, b in itertools.pairwise(xs)]
    after = before[-1] + 1 if before and before[-1] < c1 else c0
    candidates = [list(range(c0, c0 + n))]
    if after > c0:
        candidates.append(title_cols + list(range(after, after + n - len(title_cols))))
    fits = []
    for cand in candidates:
        if cand[-1] <= c1 and len(cand) == n:
            ws_ = [widths[c] for c in cand]   # drawn = a × width + b: a column's padding is drawn at any width
            mw, md = sum(ws_) / n, sum(drawn) / n
            var = sum((w - mw) ** 2 for w in ws_)
            a = sum((w - mw) * (d - md) for w, d in zip(ws_, drawn, strict=True)) / var if var else md / mw
            b = md - a * mw
            fits.append((max(abs(d - (a * w + b)) for d, w in zip(drawn, ws_, strict=True)), cand))
    assert fits, f"a page with {n} columns matches no run of the print area's columns"
    error, cand = min(fits)
    assert error < 2.0, f"a page's column widths match no run of the print area's columns (off by {error:.1f} pt)"
    return cand


def _empty(ws: Any, row: int, col: int, merged_cells: set[tuple[int, int]]) -> bool:
    """A cell text may run into: no value at all (an empty text, as a spill writes, stops it) and not merged."""
    return ws.cell(row, col).value is None and (row, col) not in merged_cells


def _drawn(ws: Any, page_grid: tuple[list[float], Any, list[int]], row_band: dict[int, list[tuple[int, float, float]]],
           number: int, row: int, col: int, merged: dict[tuple[int, int], Any],
           merged_cells: set[tuple[int, int]]) -> tuple[str, float]:
    """(the characters drawn inside the box of the text at (row, col) on page ``number``, line by line; the size of
    the smallest, pt). A text runs into empty neighbours printed beside it on the same page, never over its edge."""
    xs, page, cols = page_grid
    top, bottom = next((t, b) for n, t, b in row_band[row] if n == number)
    cell = ws.cell(row, col)
    at = cols.index(col)
    first, last = at, at
    if (row, col) in merged:
        m = merged[(row, col)]
        last = at + m.max_col - col
        if m.max_row > row:   # a block over several rows: down to its last row's bottom edge
            bottom = next(b for n, _t, b in row_band[m.max_row] if n == number)
    elif not (cell.alignment.wrap_text or cell.alignment.shrink_to_fit):
        align = cell.alignment.horizontal or "general"
        if align in ("general", "left", "center", "fill", None):
            while (last + 1 < len(cols) and cols[last + 1] == cols[last] + 1
                   and _empty(ws, row, cols[last + 1], merged_cells)):
                last += 1
        if align in ("right", "center"):
            while first > 0 and cols[first - 1] == cols[first] - 1 and _empty(ws, row, cols[first - 1], merged_cells):
                first -= 1
    left, right = xs[first], xs[last + 1]
    chars = [ch for ch in page.chars
             if left - 0.5 <= (ch["x0"] + ch["x1"]) / 2 <= right + 0.5 and top - 0.5 <= (ch["top"] + ch["bottom"]) / 2
             <= bottom + 0.5 and ch["x0"] >= left - 0.5 and ch["x1"] <= right + 0.5 and ch["bottom"] <= bottom + 1]
    chars.sort(key=lambda ch: (round(ch["top"]), ch["x0"]))
    size = min((ch["size"] for ch in chars if ch["text"].strip()), default=float("inf"))
    return re.sub(r"\s+", "", "".join(ch["text"] for ch in chars)), size


def template_with(folder: Path, edit: Any, name: str = "edited.xlsm") -> Path:
    """The template built (workbook/build.py) from its sources with ``edit`` applied to the sheets of quote.yaml
    ({name: sheet}): a user's quote with other lines or labels, without a writer that would turn its dynamic arrays
    into fixed ones (openpyxl does)."""
    import yaml

    from xlduty.excel import build

    src = folder / "src"
    shutil.copytree(build.SRC, src, dirs_exist_ok=True)
    spec = yaml.safe_load((src / "quote.yaml").read_text(encoding="utf-8"))
    edit({sheet["name"]: sheet for sheet in spec["sheets"]})
    (src / "quote.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    old = build.SRC
    build.SRC = src
    try:
        data = build.build("xlsm")
    finally:
        build.SRC = old
    out = folder / name
    out.write_bytes(data)
    return out
