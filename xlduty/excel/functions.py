"""The worksheet functions, on Excel-shaped values: what ``=DUTY()`` and friends compute.

Pure Python (no xlwings): ``xlduty.excel.udfs`` wraps these for Excel, and ``xlduty recalc``
registers the same callables in its formula engine, so a workbook computes the same figures in
Excel and headless. Inputs arrive as Excel delivers them — numbers as float, empty cells as None,
dates as datetime or as serial numbers, ranges as lists of rows — and every function returns a
number, a text, or a list of rows. An error is a short Japanese text starting with ``#エラー`` that
names the field at fault; unknown is never 0.

Results are cached per argument set: the functions are non-volatile, and a sheet with thousands
of identical lookups computes each once. ``clear_caches()`` forgets them after a rate refresh.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any

from xlduty.core.errors import InputError, XlDutyError
from xlduty.core.tables import on_switch
from xlduty.excel.cells import (
    blank,
    code_of,
    column,
    field_names,
    follow_tables,
    hs_text,
    no_error,
    number_text,
    text_of,
    to_date,
    word,
)
from xlduty.excel.messages import PREFIX, cell_error, lines_as_rows, warnings_text
from xlduty.excel.options import Options, apply_fx, parse_options
from xlduty.excel.quote_functions import QUOTE_FUNCTIONS
from xlduty.excel.quote_functions import clear_caches as clear_quote_caches

Scalar = float | int | str | bool | None
Rows = list[list[Any]]

LINE_FIELDS = ("duty", "national_ct", "local_ct", "consumption_tax", "excise", "taxable_value", "ct_base", "rate",
               "rate_name", "exemption", "treatment", "duty_paid", "national_ct_paid", "local_ct_paid",
               "consumption_tax_paid", "excise_paid")
# *_paid: the line's share of the amount actually payable (totals are truncated to ¥100), split by each
# line's own figure with the largest remainder, so the column sums exactly to DUTY_TOTALS — what a landed
# cost per unit should carry (the same split as `xlduty quote`).
TOTAL_FIELDS = ("duty", "national_ct", "local_ct", "consumption_tax", "excise", "total")
# and, asked for by name (not among the default figures), ``warnings``: what the command line prints beside the
# figures (a date the tables do not vouch for …) in one text, as QUOTE_TOTALS gives a quote's
TOTAL_WARNINGS = "warnings"


def _options(v: object) -> tuple[str, ...]:
    """The options text, normalised into a hashable key for the cache."""
    no_error(v, "options")
    return () if blank(v) else (str(v).strip(),)


def _declaration(lines: list[dict[str, Any]], on: date, opts: Options) -> dict[str, Any]:
    decl: dict[str, Any] = {"date": on.isoformat(), **opts.declaration, "lines": lines}
    if "fx_rates" in decl:
        decl["fx_rates"] = dict(decl["fx_rates"])
    return decl


def _line(hs: str | None, value: str | int | None, origin: str | None, quantity: str | int | None,
          opts: Options) -> dict[str, Any]:
    if value is None:
        raise InputError("value", "required")
    line: dict[str, Any] = {"value": value, **{k: (dict(v) if isinstance(v, dict) else v)
                                               for k, v in opts.line.items()}}
    if hs is not None:
        line["hs_code"] = hs
    if origin is not None:
        line["origin"] = origin
    if quantity is not None:
        line["quantity"] = quantity
    return line


@lru_cache(maxsize=256)
def _parse_opts(text: tuple[str, ...]) -> Options:
    """Parsed once per distinct options text (a sheet repeats one text on every row). Shared: callers copy
    the nested dicts they put into a declaration (``_declaration``, ``_line``)."""
    opts = parse_options(text[0] if text else None)
    apply_fx(opts)
    return opts


# --- one-line declarations (scalar functions) -----------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Summary:
    """What the one-line functions show: kept small, as thousands of these stay cached in Excel."""

    duty: int
    consumption_tax: int
    exemption: str
    rate: str | None
    rate_name: str | None
    rate_kind: str | None
    misfit: str | None       # the line's value lies outside its code's band (``Result.misfit``): the cell's error


def _compute_one(hs: str | None, value: str | int | None, origin: str | None, quantity: str | int | None,
                 on: date, options: tuple[str, ...]) -> Any:
    """The full result of a one-line declaration, or the error text for its cell."""
    from xlduty.core.engine import compute

    try:
        opts = _parse_opts(options)
        return compute(_declaration([_line(hs, value, origin, quantity, opts)], on, opts))
    except InputError as exc:
        return cell_error(exc, exc.field.removeprefix("lines[0]."))
    except Exception as exc:  # never a traceback in a cell: DataError and anything unforeseen, named
        return cell_error(exc)


_tables_frozen = False


@lru_cache(maxsize=16384)
def _one(hs: str | None, value: str | int | None, origin: str | None, quantity: str | int | None, on: date,
         options: tuple[str, ...]) -> _Summary | str:
    """The summary of a one-line declaration, or its error text (errors are cached too)."""
    global _tables_frozen
    result = _compute_one(hs, value, origin, quantity, on, options)
    if isinstance(result, str):
        return result
    if not _tables_frozen:
        # The tariff and rule tables are loaded now and live as long as the process: move them out of
        # the collector's sight, or every collection rescans them between worksheet calls.
        gc.freeze()
        _tables_frozen = True
    line = result.lines[0]
    misfit = result.misfit()
    return _Summary(result.totals.duty, result.totals.consumption_tax, line.exemption or line.relief or "",
                    line.rate, line.rate_name, line.rate_kind, misfit[1] if misfit else None)


def _key(hs_code: object, value: object, origin: object, quantity: object, on: object,
         options: object) -> tuple[Any, ...]:
    return (hs_text(hs_code), number_text(value, "value"), text_of(origin), number_text(quantity, "quantity"),
            to_date(on), _options(options))


def _result(hs_code: object, value: object, origin: object, quantity: object, on: object, options: object) -> Any:
    follow_tables()
    try:
        return _one(*_key(hs_code, value, origin, quantity, on, options))
    except InputError as exc:
        return cell_error(exc)


def _scalar(pick: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(hs_code: object = None, value: object = None, origin: object = None, quantity: object = None,
            date: object = None, options: object = None) -> Any:
        result = _result(hs_code, value, origin, quantity, date, options)
        if isinstance(result, str):
            return result
        return pick(result) if result.misfit is None else cell_error(InputError("hs_code", result.misfit))

    return run


DUTY = _scalar(lambda r: r.duty)
DUTY.__doc__ = "関税額（円）: duty payable for a one-line declaration, every legal rounding applied."
CONSUMPTION_TAX = _scalar(lambda r: r.consumption_tax)
CONSUMPTION_TAX.__doc__ = "輸入消費税額（国税＋地方消費税, 円）for a one-line declaration."
EXEMPTION = _scalar(lambda r: r.exemption)
EXEMPTION.__doc__ = "適用される減免税（条文から）, e.g. 定率法14条18号 少額免税, or empty text."


def DUTY_RATE(hs_code: object = None, value: object = None, origin: object = None, quantity: object = None,
              date: object = None, options: object = None) -> Any:
    """適用税率とその根拠: e.g. ``5.3% (WTO協定税率)``. Without a value: the general tariff's rate (the
    simplified tariff depends on the consignment's value), found for a nominal ¥1,000,000 line, which
    decides nothing for ad valorem and free lines; for specific or compound rates the value matters,
    so it is then required."""
    nominal = blank(value)
    if nominal:
        if isinstance(options, str) and options.strip().startswith(PREFIX):
            return options.strip()
        options = f"{options}; simplified=never" if isinstance(options, str) and options.strip() else \
            "simplified=never"
    result = _result(hs_code, 1_000_000 if nominal else value, origin, quantity, date, options)
    if isinstance(result, str):
        return result
    if nominal and result.rate_kind not in ("ad_valorem", "free"):
        return f"{PREFIX} 課税価格(value): {result.rate} は価格・数量で適用税率が変わります。value を指定してください"
    if result.misfit is not None and not nominal:   # the nominal value is not the line's: its band is not asked
        return cell_error(InputError("hs_code", result.misfit))
    return f"{result.rate} ({result.rate_name})"


def DUTY_EXPLAIN(hs_code: object = None, value: object = None, origin: object = None, quantity: object = None,
                 date: object = None, options: object = None) -> Any:
    """計算過程: every step with its formula and legal basis, spilled one step per row (a text of more than
    255 characters inside xlwings' result array would show #VALUE! in Excel). Computed afresh: the full
    result is not cached."""
    follow_tables()
    try:
        result = _compute_one(*_key(hs_code, value, origin, quantity, date, options))
    except InputError as exc:
        return cell_error(exc)
    if isinstance(result, str):
        return result
    return [[line[:255]] for line in explain_text(result).split("\n")]


def explain_text(result: Any) -> str:
    out = []
    for step in [*result.lines[0].explanation, *result.explanation]:
        d = step.to_dict()
        basis = f" [{d['basis']}]" if d.get("basis") else ""
        flag = " (unverified)" if d.get("verified") == "U" else ""
        out.append(f"{d['step']}: {d['formula']}{basis}{flag}")
    out += [f"note: {n}" for n in result.lines[0].notes] + [f"warning: {w}" for w in result.warnings]
    return "\n".join(out)[:32767]   # Excel's limit for one cell


def CUSTOMS_FX(currency: object = None, date: object = None) -> Any:
    """税関長公示レート: yen per one unit of ``currency`` for the week of ``date`` (default today)."""
    from xlduty.core.fx import NoCustomsRate, rate_for

    try:
        ccy = code_of(currency, "currency")
        if ccy is None:
            raise InputError("currency", "required")
        return float(rate_for(ccy.upper(), to_date(date), {}, "currency").yen_per_unit)
    except NoCustomsRate as exc:   # the core's advice (fx_rates, options fx=) is for the functions that take them
        return cell_error(exc.advise(exc.field, "refresh the rates, or type the week's customs rate in place of "
                                                "this formula"))
    except XlDutyError as exc:
        return cell_error(exc)


HS_NAME_LANGS = ("ja", "en")


def HS_NAME(hs_code: object = None, date: object = None, lang: object = None) -> Any:
    """品名: the tariff description of a line (``lang="en"``: the HS heading text in English; ``ja`` or blank: the
    Japanese schedule's; any other word is an error listing these)."""
    from xlduty.core.hs import normalize_hs
    from xlduty.core.schedule import LookupError_, edition_on, english_descriptions

    try:
        language = word(lang, "lang", HS_NAME_LANGS, "ja")
        hs = hs_text(hs_code)
        if hs is None:
            raise InputError("hs_code", "required")
        on = to_date(date)
        try:
            code = normalize_hs(hs)
            schedule = edition_on(on)
            if len(code) == 6:   # a subheading: its heading path, shared by its lines
                lines = schedule.by_hs6.get(code)
                if not lines:
                    raise LookupError_(f"{hs} is not a subheading of the {schedule.edition} tariff")
                name = lines[0].path or lines[0].description
            else:
                name = schedule.line(code, on).full_description
        except (ValueError, LookupError_) as exc:
            raise InputError("hs_code", str(exc)) from None
        if language == "en":
            names = english_descriptions()
            for n in (6, 4):
                if code[:n] in names:
                    return names[code[:n]]
        return name
    except XlDutyError as exc:
        return cell_error(exc)


INFO_WHAT = ("edition", "fx_week", "fx_weeks", "version", "python", "xlwings")
_INFO_USE = "use edition, fx_week, fx_weeks, version, python or xlwings (blank: the versions)"


def XLDUTY_INFO(what: object = None, on_date: object = None) -> Any:
    """What a figure was computed on, for the quote's record: ``edition`` (the 実行関税率表 in force on the
    date, from the tables in use), ``fx_week`` (its Sunday–Saturday customs FX week), ``fx_weeks`` (the
    weeks the FX table holds); and what the workbook reached: ``version`` (xlduty), ``python`` (its version
    and interpreter), ``xlwings``; blank: the three versions in one text."""
    follow_tables()
    try:
        key = word(what, "what", INFO_WHAT, "", _INFO_USE) or ""
        if key in ("", "version", "python", "xlwings"):
            return _reached(key)
        on = to_date(on_date)
        if key == "edition":
            from xlduty.core.schedule import LookupError_, edition_on

            try:
                return edition_on(on).edition
            except LookupError_ as exc:
                raise InputError("on_date", str(exc)) from None
        if key == "fx_week":
            from xlduty.core.fx import week_of

            start, end = week_of(on)
            return f"{start}–{end}"
        from datetime import timedelta

        from xlduty.core.fx import customs_rates

        fx = customs_rates()   # key == "fx_weeks": ``word`` let no other word through
        return f"{fx.first_week}–{fx.last_week + timedelta(days=6)}"
    except Exception as exc:  # never a traceback in a cell
        return cell_error(exc)


@cache
def _reached(key: str) -> str:
    """The versions of what this process runs: xlduty, Python (with its interpreter: under xlwings Lite, the Pyodide
    in the browser) and xlwings (read from its installed metadata: this module does not import xlwings). Fixed for
    the process: read once, not on every recalculation of every cell that shows them (a metadata look-up walks
    sys.path)."""
    import platform
    import sys
    from importlib import metadata

    from xlduty import __version__

    try:
        xlwings = metadata.version("xlwings")
    except metadata.PackageNotFoundError:
        xlwings = "not installed"
    interpreter = sys.executable
    if sys.platform == "emscripten":
        import pyodide  # type: ignore[import-not-found]  # Pyodide's own module

        interpreter = f"Pyodide {pyodide.__version__}"
    parts = {"version": __version__, "python": f"{platform.python_version()} ({interpreter})", "xlwings": xlwings}
    if key:
        return parts[key]
    return f"xlduty {parts['version']}; Python {parts['python']}; xlwings {parts['xlwings']}"


# --- whole columns: one multi-line declaration (array functions) ----------------------------------

@lru_cache(maxsize=256)
def _many(rows: tuple[tuple[Any, ...], ...], on: date, options: tuple[str, ...]) -> Any:
    from xlduty.core.engine import compute

    opts = _parse_opts(options)
    lines = [_line(hs, value, origin, qty, opts) for hs, value, origin, qty in rows]
    return compute(_declaration(lines, on, opts))


def _declaration_of(hs_codes: object, values: object, origins: object, quantities: object, on: object,
                    options: object) -> tuple[Any, list[int | None]]:
    """(result, result line index per input row or None for a blank row)."""
    follow_tables()
    hs_col = column(hs_codes, "hs_code")
    n = len(hs_col)
    value_col = column(values, "value", n)
    origin_col = column(origins, "origin", n, repeat=True)
    qty_col = column(quantities, "quantity", n, repeat=True)
    rows, where = [], []
    for i in range(n):
        if blank(hs_col[i]) and blank(value_col[i]):
            where.append(None)
            continue
        try:
            row = (hs_text(hs_col[i]), number_text(value_col[i], "value"), text_of(origin_col[i]),
                   number_text(qty_col[i], "quantity"))
            if row[1] is None:
                raise InputError("value", "required")
            rows.append(row)
        except InputError as exc:
            raise _at_row(exc, i) from None
        where.append(len(rows) - 1)
    if not rows:
        raise InputError("lines", "no lines: give HS codes and values")
    try:
        result = _many(tuple(rows), to_date(on), _options(options))
    except InputError as exc:
        if exc.field.startswith("lines["):
            index = int(exc.field[6:exc.field.index("]")])
            raise _at_row(InputError(exc.field.split(".", 1)[-1], exc.message), where.index(index)) from None
        raise
    misfit = result.misfit()   # a cell cannot carry the warning the command line gives beside the figure
    if misfit is not None:
        raise _at_row(InputError("hs_code", misfit[1]), where.index(misfit[0]))
    return result, where


def _at_row(exc: InputError, row: int) -> InputError:
    """The error of the ``row``-th input row (0-based): the cell names the row as users count it."""
    return InputError(f"rows[{row}].{exc.field}", exc.message)


def _paid(result: Any, name: str) -> list[int]:
    """Each line's share of the payable total ``name`` (duty, national_ct, local_ct, excise)."""
    from xlduty.quote.allocation import allocate_yen

    own = [getattr(ln, name) for ln in result.lines]
    total = getattr(result.totals, name)
    return [0] * len(own) if total == 0 else allocate_yen(total, own, field=name)


def _line_value(result: Any, i: int, name: str, paid: dict[str, list[int]]) -> Any:
    line = result.lines[i]
    if name.endswith("_paid"):
        base = name.removesuffix("_paid")
        parts = ("national_ct", "local_ct") if base == "consumption_tax" else (base,)
        for part in parts:
            if part not in paid:
                paid[part] = _paid(result, part)
        return sum(paid[part][i] for part in parts)
    if name == "consumption_tax":
        return line.national_ct + line.local_ct
    if name in ("exemption",):
        return line.exemption or line.relief or ""
    return getattr(line, name)


def DUTY_LINES(hs_codes: object = None, values: object = None, origins: object = None, quantities: object = None,
               date: object = None, options: object = None, fields: object = None) -> Any:
    """明細ごとの税額 (spills one row per input row): the columns form ONE declaration, so de minimis,
    the simplified tariff and the per-line rounding follow the whole consignment. ``fields``:
    comma-separated from LINE_FIELDS (default ``duty``). A blank row gives blank cells."""
    try:
        names = field_names(fields, LINE_FIELDS, ("duty",))
        result, where = _declaration_of(hs_codes, values, origins, quantities, date, options)
    except Exception as exc:  # never a traceback in a cell
        return [[cell_error(exc)]]
    paid: dict[str, list[int]] = {}
    return [[""] * len(names) if i is None else [_line_value(result, i, f, paid) for f in names] for i in where]


def DUTY_TOTALS(hs_codes: object = None, values: object = None, origins: object = None, quantities: object = None,
                date: object = None, options: object = None, fields: object = None) -> Any:
    """申告全体の納付税額: per-line figures summed, then each tax truncated to 100 yen (CA 1111) — not a
    SUM of per-cell DUTY(), which would round every line to 100 yen. ``fields`` from TOTAL_FIELDS and
    ``warnings`` (the declaration's warnings, which no figure's cell can carry); one field gives one value,
    several (default: all the figures) spill as one row."""
    try:
        names = field_names(fields, (*TOTAL_FIELDS, TOTAL_WARNINGS), TOTAL_FIELDS)
        result, where = _declaration_of(hs_codes, values, origins, quantities, date, options)
        totals = result.totals.to_dict()
        # the engine's line 1 (its second) as the row of the range it came from (3行目: blank rows are not lines)
        rows = {k: f"{n + 1}行目" for n, k in enumerate(where) if k is not None}
        row = [warnings_text(result.warnings, lambda text: lines_as_rows(text, rows.get)) if f == TOTAL_WARNINGS
               else totals[f] for f in names]
    except Exception as exc:  # never a traceback in a cell
        return cell_error(exc)
    return row[0] if len(row) == 1 else [row]


@on_switch
def clear_caches() -> None:
    """Forget cached results (after rates are refreshed: ``tables.switched()`` calls this)."""
    _one.cache_clear()
    _many.cache_clear()
    _parse_opts.cache_clear()
    clear_quote_caches()


EXCEL_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "DUTY": DUTY, "CONSUMPTION_TAX": CONSUMPTION_TAX, "EXEMPTION": EXEMPTION, "DUTY_RATE": DUTY_RATE,
    "DUTY_EXPLAIN": DUTY_EXPLAIN, "CUSTOMS_FX": CUSTOMS_FX, "HS_NAME": HS_NAME, "DUTY_LINES": DUTY_LINES,
    "DUTY_TOTALS": DUTY_TOTALS, "XLDUTY_INFO": XLDUTY_INFO, **QUOTE_FUNCTIONS,
}
