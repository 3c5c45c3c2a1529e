"""Excel user-defined functions and ribbon macros: the only module that imports xlwings.

The worksheet functions are made here from the table in ``xlduty.excel.catalog``: for each entry a
function of that name and signature that calls the entry's pure callable (the same callables
``xlduty recalc`` uses, so Excel and headless recalculation give the same figures), decorated with
xlwings' ``func`` / ``arg`` from the entry's category and help. The VBA wrappers Excel calls and
the function help it shows are made from the same table by ``workbook/build.py``; change a name or
an argument in the table and rebuild. The functions are non-volatile; results are cached in
``functions`` and the tariff tables load once per UDF-server process.

Ribbon buttons call the ``ribbon_*`` functions through ``RunPython`` with ``Use UDF Server = True``,
so they run in the process whose caches the functions use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import xlwings as xw

from xlduty.excel.catalog import CATEGORY, FUNCTIONS, Function


def _udf(spec: Function) -> Callable[..., Any]:
    """The xlwings function for one catalog entry.

    xlwings reads the name, the signature (``inspect.signature``, so ``__signature__``) and the docstring,
    and calls it with every argument by position (a missing one as None)."""
    call = spec.call

    def udf(*args):  # no annotations: xlwings would take a type hint for a converter
        return call(*args)

    udf.__name__ = udf.__qualname__ = spec.name
    udf.__doc__ = spec.description
    udf.__module__ = __name__
    udf.__signature__ = spec.signature()
    for arg in spec.args:
        # An error cell arrives as its text ("#N/A"), not as a blank; a range always as rows.
        options: dict[str, Any] = {"ndim": 2} if arg.range else {}
        udf = xw.arg(arg.name, doc=arg.help, err_to_str=True, **options)(udf)
    return xw.func(category=CATEGORY)(udf)


for _spec in FUNCTIONS:
    globals()[_spec.name] = _udf(_spec)
del _spec


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
    """New quote: opens a fresh copy of the quote template shipped with xlduty, in the Excel whose button
    was pressed (``xw.Book(path)`` would take whichever Excel instance is active)."""
    from xlduty.excel import macros

    path = macros.new_quote_path()
    xw.Book.caller().app.books.open(str(path))


def ribbon_about() -> None:
    """About: package version, tariff editions and FX weeks in use, and the last refresh's change report."""
    from xlduty.excel import macros

    _message(macros.about_text() + "\n\n" + macros.rates_report())


def _message(text: str) -> None:
    book = xw.Book.caller()
    book.app.alert(text, title="xlduty")
