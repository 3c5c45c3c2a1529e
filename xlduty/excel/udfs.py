"""Excel user-defined functions and ribbon macros: the only module that imports xlwings.

Each UDF is a thin wrapper over ``xlduty.excel.functions`` (the same callables ``xlduty recalc``
uses), so Excel and headless recalculation give the same figures. The VBA wrappers that Excel calls
(``workbook/src/xlwings_udfs.bas``) are generated from these signatures by ``workbook/build.py``;
change a name or an argument here and rebuild. UDFs are non-volatile; results are cached in
``functions`` and the tariff tables load once per UDF-server process.

Ribbon buttons call the ``ribbon_*`` functions through ``RunPython`` with ``Use UDF Server = True``,
so they run in the process whose caches the UDFs use.
"""

from __future__ import annotations

from typing import Any

import xlwings as xw

from xlduty.excel import functions as f
from xlduty.excel import quote_functions as qf

_CATEGORY = "xlduty"
_HS = "品目番号 HS code: 6109.10-020, 610910020 or 6109.10"
_VALUE = "課税価格 CIF in yen (or in options currency=)"
_ORIGIN = "原産国 ISO 2 letters, e.g. CN (blank: no preference)"
_QTY = "数量 for specific duties (unit in options unit=kg)"
_DATE = "申告日 declaration date (blank: today)"
# Parameter names become the VBA wrapper's: never a VBA reserved word (Date, Currency… would not compile).
_OPTIONS = "options text, e.g. \"personal; claim=epa_eu; simplified=never\""


def _scalar_docs(func: Any) -> Any:
    for name, doc in (("hs_code", _HS), ("value", _VALUE), ("origin", _ORIGIN), ("quantity", _QTY),
                      ("on_date", _DATE), ("options", _OPTIONS)):
        func = xw.arg(name, doc=doc, err_to_str=True)(func)   # an error cell arrives as "#N/A", not as blank
    return xw.func(category=_CATEGORY)(func)


def _array_docs(func: Any) -> Any:
    for name, doc in (("hs_codes", "品目番号の列 HS codes (one declaration)"), ("values", "課税価格の列 CIF yen"),
                      ("origins", "原産国の列 or one country"), ("quantities", "数量の列"), ("on_date", _DATE),
                      ("options", _OPTIONS), ("fields", "出力項目 comma-separated, e.g. duty,consumption_tax")):
        func = xw.arg(name, ndim=2 if name in ("hs_codes", "values", "origins", "quantities") else None,
                      doc=doc, err_to_str=True)(func)
    return xw.func(category=_CATEGORY)(func)


@_scalar_docs
def DUTY(hs_code: Any, value: Any, origin: Any = None, quantity: Any = None, on_date: Any = None,
         options: Any = None) -> Any:
    """関税額（円）: duty payable for one line, every legal rounding applied."""
    return f.DUTY(hs_code, value, origin, quantity, on_date, options)


@_scalar_docs
def CONSUMPTION_TAX(hs_code: Any, value: Any, origin: Any = None, quantity: Any = None, on_date: Any = None,
                    options: Any = None) -> Any:
    """輸入消費税（国税＋地方, 円）for one line."""
    return f.CONSUMPTION_TAX(hs_code, value, origin, quantity, on_date, options)


@_scalar_docs
def EXEMPTION(hs_code: Any, value: Any, origin: Any = None, quantity: Any = None, on_date: Any = None,
              options: Any = None) -> Any:
    """適用される減免税（条文から）or empty."""
    return f.EXEMPTION(hs_code, value, origin, quantity, on_date, options)


@_scalar_docs
def DUTY_RATE(hs_code: Any, value: Any = None, origin: Any = None, quantity: Any = None, on_date: Any = None,
              options: Any = None) -> Any:
    """適用税率と根拠, e.g. 5.3% (WTO協定税率)."""
    return f.DUTY_RATE(hs_code, value, origin, quantity, on_date, options)


@_scalar_docs
def DUTY_EXPLAIN(hs_code: Any, value: Any, origin: Any = None, quantity: Any = None, on_date: Any = None,
                 options: Any = None) -> Any:
    """計算過程: each step with its formula and legal basis."""
    return f.DUTY_EXPLAIN(hs_code, value, origin, quantity, on_date, options)


@xw.func(category=_CATEGORY)
@xw.arg("currency_code", doc="通貨 ISO code, e.g. USD", err_to_str=True)
@xw.arg("on_date", doc=_DATE, err_to_str=True)
def CUSTOMS_FX(currency_code: Any, on_date: Any = None) -> Any:
    """税関長公示レート: yen per unit for the week of the date."""
    return f.CUSTOMS_FX(currency_code, on_date)


@xw.func(category=_CATEGORY)
@xw.arg("hs_code", doc=_HS, err_to_str=True)
@xw.arg("on_date", doc=_DATE, err_to_str=True)
@xw.arg("lang", doc="ja (default) or en", err_to_str=True)
def HS_NAME(hs_code: Any, on_date: Any = None, lang: Any = None) -> Any:
    """品名: the tariff description of the line."""
    return f.HS_NAME(hs_code, on_date, lang)


@xw.func(category=_CATEGORY)
@xw.arg("what", doc="edition, fx_week, fx_weeks or version", err_to_str=True)
@xw.arg("on_date", doc=_DATE, err_to_str=True)
def XLDUTY_INFO(what: Any, on_date: Any = None) -> Any:
    """計算根拠: the tariff edition and FX week a date is computed on, or the xlduty version."""
    return f.XLDUTY_INFO(what, on_date)


@_array_docs
def DUTY_LINES(hs_codes: Any, values: Any, origins: Any = None, quantities: Any = None, on_date: Any = None,
               options: Any = None, fields: Any = None) -> Any:
    """明細ごとの税額 (spills): the columns form one declaration."""
    return f.DUTY_LINES(hs_codes, values, origins, quantities, on_date, options, fields)


@_array_docs
def DUTY_TOTALS(hs_codes: Any, values: Any, origins: Any = None, quantities: Any = None, on_date: Any = None,
                options: Any = None, fields: Any = None) -> Any:
    """申告全体の納付税額: per-line figures summed, then truncated to 100 yen."""
    return f.DUTY_TOTALS(hs_codes, values, origins, quantities, on_date, options, fields)


_QUOTE_ARGS = (
    ("lines", "明細 7列: 品名, 品目番号, 原産国, 数量, 単価, 重量kg, 特恵"),
    ("charges", "運賃等 6列: 種類, 摘要, 金額, 通貨, 按分基準, 負担者"),
    ("costs", "国内諸掛 7列: 種類, 摘要, 金額(円), 消費税区分, 税込, 輸入時払い, 按分基準"),
    ("on_date", _DATE),
    ("incoterm", "貿易条件 EXW FCA FOB CFR CIF DAP DDP …"),
    ("invoice_currency", "仕入通貨 ISO code (blank: JPY)"),
    ("fx", "為替 yen per unit (blank: the customs weekly rate)"),
    ("margin", "利益率 as a fraction (30 % = 0.3; blank: no price)"),
    ("margin_on", "price (粗利率) or cost (値入率)"),
    ("options", "e.g. \"personal; rounding=10; claim=yes\""),
)


def _quote_docs(func: Any) -> Any:
    extra = {"fields": "出力項目 comma-separated, e.g. landed_cost,unit_cost,price",
             "field": "出力項目, e.g. taxes_total",
             "line_no": "行 row number in the lines range (1 = first)", "target": "目標 yen",
             "target_kind": "unit_cost, unit_cost_cash or price"}
    for name, doc in (*_QUOTE_ARGS, *extra.items()):
        if name in func.__code__.co_varnames:
            func = xw.arg(name, ndim=2 if name in ("lines", "charges", "costs") else None, doc=doc,
                          err_to_str=True)(func)
    return xw.func(category=_CATEGORY)(func)


@_quote_docs
def QUOTE_LINES(lines: Any, charges: Any = None, costs: Any = None, on_date: Any = None, incoterm: Any = None,
                invoice_currency: Any = None, fx: Any = None, margin: Any = None, margin_on: Any = None,
                options: Any = None, fields: Any = None) -> Any:
    """見積明細 (spills): landed cost, cost per unit and quote price of each line."""
    return qf.QUOTE_LINES(lines, charges, costs, on_date, incoterm, invoice_currency, fx, margin, margin_on, options,
                         fields)


@_quote_docs
def QUOTE_TOTALS(lines: Any, charges: Any = None, costs: Any = None, on_date: Any = None, incoterm: Any = None,
                 invoice_currency: Any = None, fx: Any = None, margin: Any = None, margin_on: Any = None,
                 options: Any = None, field: Any = None) -> Any:
    """見積の合計: landed cost, taxes paid at import, quote total …"""
    return qf.QUOTE_TOTALS(lines, charges, costs, on_date, incoterm, invoice_currency, fx, margin, margin_on, options,
                          field)


@_quote_docs
def QUOTE_REVERSE(lines: Any, charges: Any = None, costs: Any = None, on_date: Any = None, incoterm: Any = None,
                  invoice_currency: Any = None, fx: Any = None, margin: Any = None, margin_on: Any = None,
                  options: Any = None, line_no: Any = None, target: Any = None, target_kind: Any = None) -> Any:
    """逆算: the highest supplier unit price meeting a target landed cost or quote price."""
    return qf.QUOTE_REVERSE(lines, charges, costs, on_date, incoterm, invoice_currency, fx, margin, margin_on,
                           options, line_no, target, target_kind)


@_quote_docs
def QUOTE_TREATMENTS(lines: Any, charges: Any = None, costs: Any = None, on_date: Any = None, incoterm: Any = None,
                     invoice_currency: Any = None, fx: Any = None, margin: Any = None, margin_on: Any = None,
                     options: Any = None) -> Any:
    """取扱いの比較 (spills): each treatment's taxes, landed cost and difference; every eligible EPA."""
    return qf.QUOTE_TREATMENTS(lines, charges, costs, on_date, incoterm, invoice_currency, fx, margin, margin_on,
                               options)


# --- ribbon macros (RunPython in the UDF server) ----------------------------------------------------

def ribbon_refresh() -> None:
    """Refresh rates with progress in the status bar; the VBA then recalculates fully (the functions
    are non-volatile, and the refresh has already forgotten every cached result)."""
    from xlduty.excel import macros

    app = xw.Book.caller().app
    try:
        text = macros.refresh_rates(lambda done, total, what: setattr(
            app, "status_bar", f"xlduty: {what} {done}/{total}"))
    finally:
        app.status_bar = False
    _message(text)


def ribbon_explain() -> None:
    """Explain the selected cell: the calculation steps of its xlduty formula, on a new sheet."""
    from xlduty.excel import macros

    book = xw.Book.caller()
    cell = book.app.selection
    text = macros.explain_formula(cell.formula, lambda ref: book.sheets.active.range(ref).value
                                  if "!" not in ref else book.sheets[ref.split("!")[0].strip("'")]
                                  .range(ref.split("!")[1]).value)
    sheet = book.sheets.add("xlduty explain", after=book.sheets.active) if "xlduty explain" not in [
        s.name for s in book.sheets] else book.sheets["xlduty explain"]
    sheet.clear_contents()
    sheet.range("A1").value = f"{cell.sheet.name}!{cell.address}: {cell.formula}"
    sheet.range("A2").options(transpose=True).value = text.split("\n")
    sheet.activate()


def ribbon_new_quote() -> None:
    """New quote: opens a fresh copy of the quote template shipped beside the add-in."""
    from xlduty.excel import macros

    path = macros.new_quote_path()
    xw.Book(str(path))


def ribbon_about() -> None:
    """About: package version, tariff editions and FX weeks in use, and the last refresh's change report."""
    from xlduty.excel import macros

    _message(macros.about_text() + "\n\n" + macros.rates_report())


def _message(text: str) -> None:
    book = xw.Book.caller()
    book.app.alert(text, title="xlduty")
