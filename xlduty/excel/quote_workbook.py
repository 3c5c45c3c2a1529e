"""A quote workbook (the template, or any sheet using ``QUOTE_TOTALS``) read back as the ``xlduty quote`` input.

Why: the template computes through the quote functions, but saving a record (edition, FX week and rates,
options), reproducing it later, and comparing it with the import permit are ``xlduty quote`` features. With
``xlduty quote quote.xlsm --save saved.json`` a template user gets them without retyping the quote.

Where the inputs are: the first cell holding ``=QUOTE_TOTALS(…)`` (the Quote sheet first) names its ten
arguments — the lines, charges and costs ranges and the date … options cells — exactly as Excel keeps them
after rows are inserted or moved, so no layout is assumed. Each argument is read as the quote functions
receive it and turned into the JSON input by the same code (``quote_functions.quote_input``). A cell that
holds a formula gives its last computed value; one never computed is an error (run ``xlduty recalc`` first).
The 見積書's own fields (customer, 見積番号 and 件名 — together the reference —, dates, terms, issuer) come from the
document range of its ``=QUOTE_CUSTOMER(…)`` formulas; a workbook made before the 見積書 sheet gives the customer and
reference from the Quote sheet rows labelled 宛先 and 件名. The supplier comes from the row labelled 仕入先.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from xlduty.core.errors import InputError
from xlduty.excel.cells import split_args

_CALL = re.compile(r"^=\s*(?:_xludf\.)?QUOTE_TOTALS\((.*)\)\s*$", re.S | re.I)
_CUSTOMER = re.compile(r"QUOTE_CUSTOMER\((.*)\)", re.S | re.I)
_REF = re.compile(r"^(?:'?(?P<sheet>[^'!]+)'?!)?(?P<first>\$?[A-Z]{1,3}\$?\d+)(?::(?P<last>\$?[A-Z]{1,3}\$?\d+))?$",
                  re.I)
_LABELS = {"customer": "宛先 ", "reference": "件名", "supplier": "仕入先"}   # "宛先・件名" heads the block


def quote_from_workbook(path: str | Path) -> dict[str, Any]:
    """The ``xlduty quote`` JSON input of the quote in the workbook ``path``."""
    import openpyxl

    from xlduty.excel.quote_functions import quote_input

    source = Path(path)
    try:
        formulas = openpyxl.load_workbook(source, keep_vba=False)
        values = openpyxl.load_workbook(source, data_only=True, keep_vba=False)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError("file", f"{source} is not a readable .xlsx/.xlsm workbook ({exc})") from None
    sheet, args = _quote_call(formulas)
    read = [_argument(arg, sheet, formulas, values) for arg in args[:10]]
    read += [None] * (10 - len(read))
    document = _document(formulas, values, sheet)
    data, extra, _where = quote_input(*read, document=document)
    if extra.get("fx_factor") is not None:
        raise InputError("options.fx_factor", "the quote's options hold fx_factor=: that is for the FX rows only")
    quote_sheet = formulas[sheet]
    for field, label in _LABELS.items():
        if field in data and document is not None:
            continue   # from the 見積書's fields (the Quote sheet only shows them)
        text = _labelled(quote_sheet, values[sheet], label)
        if text:
            data[field] = text
    return data


def _document(formulas: Any, values: Any, sheet: str) -> Any:
    """The 見積書's own fields: the document argument (the 12th) of the first QUOTE_CUSTOMER formula, if any."""
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and (m := _CUSTOMER.search(cell.value)):
                    args = split_args(_balanced(m.group(1)))
                    if len(args) >= 11 and args[10].strip():
                        return _argument(args[10], ws.title, formulas, values)
    return None


def _balanced(text: str) -> str:
    """``text`` up to the parenthesis that closes the call it starts in (a formula may go on after it)."""
    depth, quoted = 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            if depth == 0:
                return text[:i]
            depth -= 1
    return text


def _quote_call(wb: Any) -> tuple[str, list[str]]:
    """(sheet, argument texts) of the first QUOTE_TOTALS formula, the sheet named Quote searched first."""
    order = sorted(wb.worksheets, key=lambda ws: ws.title != "Quote")
    for ws in order:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    m = _CALL.match(cell.value)
                    if m:
                        return ws.title, split_args(m.group(1))
    raise InputError("file", "no =QUOTE_TOTALS(…) formula in the workbook: it is not an xlduty quote")


def _argument(arg: str, sheet: str, formulas: Any, values: Any) -> Any:
    """An argument as the worksheet function receives it: a range as rows, a cell as its value, a literal."""
    arg = arg.strip()
    if not arg:
        return None
    if arg.startswith('"') and arg.endswith('"'):
        return arg[1:-1].replace('""', '"')
    m = _REF.match(arg)
    if not m:
        try:
            return float(arg)
        except ValueError:
            raise InputError("file", f"the QUOTE_TOTALS argument {arg} is not a cell, a range, a number or a "
                                     "text: xlduty quote cannot read it") from None
    name = m.group("sheet") or sheet
    if name not in formulas.sheetnames:
        raise InputError("file", f"the QUOTE_TOTALS argument {arg} names a sheet the workbook lacks")
    span = m.group("first").replace("$", "") + (":" + m.group("last").replace("$", "") if m.group("last") else "")
    cells = formulas[name][span]
    if not isinstance(cells, tuple):
        return _value(cells, values[name])
    return [[_value(c, values[name]) for c in row] for row in cells]


def _value(cell: Any, computed: Any) -> Any:
    v = cell.value
    if isinstance(v, str) and v.startswith("="):
        got = computed[cell.coordinate].value
        if got is None:
            raise InputError("file", f"{cell.parent.title}!{cell.coordinate} holds a formula never computed: "
                                     "recalculate the workbook first (xlduty recalc, or save it in Excel)")
        return got
    return v


def _labelled(ws: Any, computed: Any, label: str) -> str | None:
    """The value in column B of the row whose column-A label starts with ``label`` (text only)."""
    for cell in ws["A"]:
        if isinstance(cell.value, str) and cell.value.startswith(label):
            v = _value(ws[f"B{cell.row}"], computed)
            return str(v).strip() if v not in (None, "") else None
    return None
