"""Build ``workbook/xlduty.xlsm`` (quote template) and ``workbook/xlduty.xlam`` (add-in) from text sources.

Sources (``workbook/src``): the sheet definitions (``quote.yaml``), the ribbon (``customUI14.xml``),
our VBA modules (``*.bas``, ``ThisWorkbook.cls``), and two modules generated here from the function
table ``xlduty.excel.catalog``: ``xlwings_udfs``, the wrappers Excel calls, written as xlwings' own
"Import Functions" (``xlwings.udfs.import_udfs``) writes them, and ``XlDutyFunctions``, which
registers each function's help with ``Application.MacroOptions`` when the workbook opens (what
``import_udfs`` does once on the developer's machine; done on every open here, as nothing is imported
on the user's). xlwings' runtime VBA module is taken from the installed, exactly pinned xlwings (its
version is checked), so the workbooks call the xlwings DLL of the user's environment; both files name
their project ``xlduty`` in it, so both read the same ``xlduty.conf`` settings (sheet, file beside the
workbook, ``%USERPROFILE%\\.xlduty\\xlduty.conf``). ``vbaProject.bin`` is written by
``xlduty.excel.vba_project`` (MS-OVBA / MS-CFB). Same inputs → same bytes: fixed document dates,
fixed zip timestamps, stable part order.

The xlwings Lite files (``workbook/lite/main.py`` and ``requirements.txt``: ``xlduty.excel.lite``) are written
from the same table, and ``workbook/xlduty-lite.xlsx`` carries both where xlwings Lite keeps them.

    python workbook/build.py            # write the workbooks and the Lite files
    python workbook/build.py --check    # exit 1 if the committed files differ from a fresh build
    python workbook/build.py --wheel-url https://…/xlduty-0.1.0-py3-none-any.whl   # the Lite files naming a
                                        # wheel you host (a host that sends CORS headers)
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import yaml

from xlduty.files import write_atomic

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "workbook" / "src"
OUT = ROOT / "workbook"
XLWINGS_VERSION = "0.37.8"                      # = the pin in pyproject.toml
UDF_MODULE = "xlduty.excel.udfs"
FIXED_TIME = datetime(2026, 1, 1)               # document dates: reproducible bytes
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

_UI14 = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
_SHEET_MACRO = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_ADDIN_MACRO = "application/vnd.ms-excel.addin.macroEnabled.main+xml"

# xlwings' runtime module reads its settings by PROJECT_NAME: the sheet "<name>.conf", then "<name>.conf"
# beside the workbook, then %USERPROFILE%\.<name>\<name>.conf (GetConfig in xlwings.bas). Both files use
# "xlduty" (xlwings' own quickstart renames a custom add-in the same way), so the template reads the file
# `xlduty addin config` writes, as the add-in does, and never xlwings' own ~/.xlwings/xlwings.conf, which
# other xlwings workbooks on the machine use.
PROJECT_NAME = "xlduty"
CONF_SHEET = PROJECT_NAME + ".conf"
# Settings in that sheet (keys from A1 down). A key in the sheet wins over every config file, even when
# blank — so the interpreter keys are left out: the user's own file (written by `xlduty addin config`) sets them.
CONF = [("UDF Modules", UDF_MODULE), ("Use UDF Server", True), ("Debug UDFs", False), ("Show Console", False)]
CONF_HELP = [
    "xlduty settings for xlwings (keys start in A1; a key here overrides the config files).",
    "UDF Modules must stay xlduty.excel.udfs; Use UDF Server must stay TRUE: the ribbon and the "
    "functions share one Python process and its caches.",
    "The Python interpreter comes from %USERPROFILE%\\.xlduty\\xlduty.conf: run `xlduty addin config` once.",
]


# --- VBA sources ---------------------------------------------------------------------------------

def _xlwings_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        raise SystemExit("xlwings is not installed: pip install xlwings==" + XLWINGS_VERSION)
    return Path(spec.origin).parent


_PROJECT_NAME_LINE = re.compile(r'^Public Const PROJECT_NAME As String = "\w+"$', re.M)


def xlwings_module(kind: str) -> str:
    """xlwings' runtime VBA at the pinned version: standalone for the template, custom add-in for the .xlam,
    with its PROJECT_NAME set to ``xlduty`` (the one line xlwings' quickstart changes for a custom add-in)."""
    d = _xlwings_dir()
    text = (d / ("xlwings_custom_addin.bas" if kind == "xlam" else "xlwings.bas")).read_text(encoding="ascii")
    found = re.search(r"'Version: (\S+)", text)
    if not found or found.group(1) != XLWINGS_VERSION:
        raise SystemExit(f"xlwings VBA is {found.group(1) if found else 'unversioned'}, the pin is "
                         f"{XLWINGS_VERSION}: pip install xlwings=={XLWINGS_VERSION}")
    text, count = _PROJECT_NAME_LINE.subn(f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"', text)
    if count != 1:
        raise SystemExit(f"xlwings {XLWINGS_VERSION}: expected one PROJECT_NAME constant, found {count}")
    return text


def udf_functions() -> list[tuple[str, list[tuple[str, bool]]]]:
    """(name, [(argument, optional)]) for each worksheet function, in the order users see them."""
    from xlduty.excel.catalog import FUNCTIONS

    return [(fn.name, [(a.name, a.optional) for a in fn.args]) for fn in FUNCTIONS]


def udf_functions_names() -> list[str]:
    return [name for name, _args in udf_functions()]


_VBA_MAX_LINE = 1023   # characters VBA allows on one physical line


def udf_wrappers(kind: str) -> str:
    """The ``xlwings_udfs`` module as ``xlwings.udfs.import_udfs`` writes it: the module name, a comment, the
    ``#Const App`` line its wrappers test, then one wrapper per function calling ``XLPy.CallUDF``, in
    ``dir()`` order (an add-in passes ``ActiveWorkbook``, a workbook ``ThisWorkbook``). Only the comments
    are ours; tests/test_workbook.py compares every other line with xlwings' own output."""
    book = "ActiveWorkbook" if kind == "xlam" else "ThisWorkbook"
    out = ['Attribute VB_Name = "xlwings_udfs"',
           "' Made by the xlduty build from xlduty/excel/catalog.py, in the form of xlwings' Import Functions.",
           '#Const App = "Microsoft Excel"']
    for name, args in sorted(udf_functions()):
        sig = ", ".join(("Optional " if optional else "") + arg for arg, optional in args)
        call = f'XLPy.CallUDF("{UDF_MODULE}", "{name}", Array({", ".join(arg for arg, _ in args)})'
        out += [
            f"Function {name}({sig})",
            '    #If App = "Microsoft Excel" Then',
            "        If TypeOf Application.Caller Is Range Then On Error GoTo failed",
            f"        {name} = {call}, {book}, Application.Caller)",
            "        Exit Function",
            "    #Else",
            f"        {name} = {call})",
            "        Exit Function",
            "    #End If",
            "failed:",
            f"    {name} = Err.Description",
            "End Function",
            "",
        ]
    too_long = [line for line in out if len(line) > _VBA_MAX_LINE]
    if too_long:
        raise ValueError(f"a VBA line of {len(too_long[0])} characters: {too_long[0][:60]}…")
    return "\r\n".join(out)


# --- the function help and the add-in's own messages (module XlDutyFunctions) ---------------------

_CHUNK = 200   # characters of escaped text per Unicode("...") literal: lines stay far below VBA's limit


def vba_escape(text: str) -> list[str]:
    """``text`` as VBA string literal bodies for ``Unicode()``: printable ASCII as it is (a quote doubled),
    every other UTF-16 code unit, and the backslash, as ``\\uXXXX``. The module text stays ASCII, which any
    code page reads the same; the string is Unicode again at run time. Cut into chunks of at most
    ``_CHUNK`` characters, never inside an escape."""
    tokens: list[str] = []
    for ch in text:
        if ch == '"':
            tokens.append('""')
        elif " " <= ch <= "~" and ch != "\\":
            tokens.append(ch)
        else:
            units = ch.encode("utf-16-le")
            tokens += [f"\\u{int.from_bytes(units[i:i + 2], 'little'):04X}" for i in range(0, len(units), 2)]
    chunks, current = [], ""
    for token in tokens:
        if len(current) + len(token) > _CHUNK:
            chunks.append(current)
            current = ""
        current += token
    return [*chunks, current]


def _assign(target: str, text: str, indent: str = "    ") -> list[str]:
    """VBA statements that set ``target`` to ``text``: one per literal chunk, never a long line."""
    chunks = vba_escape(text)
    lines = [f'{indent}{target} = Unicode("{chunks[0]}")']
    lines += [f'{indent}{target} = {target} & Unicode("{chunk}")' for chunk in chunks[1:]]
    return lines


_UNICODE_FUNCTION = """\
Public Function Unicode(ByVal s As String) As String
    ' s with each \\uXXXX (four upper-case hex digits) replaced by the UTF-16 code unit it names.
    Dim i As Long, k As Long, code As Long, out As String
    i = InStr(1, s, "\\u", vbBinaryCompare)
    Do While i > 0
        code = 0
        For k = i + 2 To i + 5
            code = code * 16 + InStr(1, "0123456789ABCDEF", Mid$(s, k, 1), vbBinaryCompare) - 1
        Next k
        out = out & Left$(s, i - 1) & ChrW$(code)
        s = Mid$(s, i + 6)
        i = InStr(1, s, "\\u", vbBinaryCompare)
    Loop
    Unicode = out & s
End Function"""


def help_module() -> str:
    """``XlDutyFunctions``: ``RegisterFunctions`` gives every function of the catalog its Insert Function help
    (``Application.MacroOptions``: description, category, one help per argument — what xlwings' import_udfs
    registers), ``RibbonText`` the add-in's own messages (xlduty.excel.messages.RIBBON_MESSAGES), ``Unicode``
    decodes both. ``Option Private Module``: none of it is a worksheet function or a macro users see."""
    from xlduty.excel.catalog import CATEGORY, FUNCTIONS
    from xlduty.excel.messages import RIBBON_MESSAGES

    out = ['Attribute VB_Name = "XlDutyFunctions"',
           "Option Explicit",
           "Option Private Module",
           "' Made by the xlduty build from xlduty/excel/catalog.py and messages.py: rebuild, do not edit.",
           "' Text is written as Unicode(\"...\"): the module stays ASCII, the strings are Unicode at run time.",
           "",
           "Public Sub RegisterFunctions(ByVal book As Workbook)",
           "    ' Each function's help for the Insert Function dialog (fx), as xlwings' Import Functions registers it.",
           "    ' On error, the next function: a refusal must never stop the workbook from opening.",
           "    Dim wasSaved As Boolean",
           "    Dim text As String",
           "    Dim args() As Variant",
           "    On Error Resume Next",
           "    wasSaved = book.Saved",
           ]
    for fn in FUNCTIONS:
        if not fn.args:
            raise ValueError(f"{fn.name}: MacroOptions needs at least one argument description")
        out += ["", f"    ReDim args(0 To {len(fn.args) - 1})"]
        for i, arg in enumerate(fn.args):
            out += _assign(f"args({i})", arg.help)
        out += _assign("text", fn.description)
        out.append(f'    Register book, "{fn.name}", text, args')
    out += [
        "",
        "    book.Saved = wasSaved   ' registering is not an edit the user should be asked to save",
        "End Sub",
        "",
        "Private Sub Register(ByVal book As Workbook, ByVal fn As String, ByVal description As String, _",
        "                     args As Variant)",
        "    Application.MacroOptions Macro:=\"'\" & Replace(book.Name, \"'\", \"''\") & \"'!\" & fn, "
        "Description:=description, _",
        f'        Category:="{CATEGORY}", ArgumentDescriptions:=args',
        "End Sub",
        "",
        "Public Function RibbonText(ByVal key As String) As String",
        "    Select Case key",
    ]
    for key, text in RIBBON_MESSAGES.items():
        out.append(f'    Case "{key}"')
        out += _assign("RibbonText", text, indent="        ")
    out += ["    End Select", "End Function", "", *_UNICODE_FUNCTION.split("\n"), ""]
    too_long = [line for line in out if len(line) > _VBA_MAX_LINE]
    if too_long:
        raise ValueError(f"a VBA line of {len(too_long[0])} characters: {too_long[0][:60]}…")
    return "\r\n".join(out)


def vba_modules(kind: str, sheet_code_names: list[str]) -> list[Any]:
    from xlduty.excel.vba_project import VbaModule

    dictionary = (_xlwings_dir() / "addin" / "Dictionary.cls").read_text(encoding="ascii")
    modules = [VbaModule("ThisWorkbook", "document", (SRC / "ThisWorkbook.cls").read_text(encoding="ascii"))]
    modules += [VbaModule(code, "document", "") for code in sheet_code_names]
    modules += [
        VbaModule("xlwings", "standard", xlwings_module(kind)),
        VbaModule("Dictionary", "class", dictionary),
        VbaModule("xlwings_udfs", "standard", udf_wrappers(kind)),
        VbaModule("XlDutyFunctions", "standard", help_module()),
    ]
    if kind == "xlam":
        modules.append(VbaModule("XlDutyRibbon", "standard", (SRC / "XlDutyRibbon.bas").read_text(encoding="ascii")))
    return modules


# --- sheets --------------------------------------------------------------------------------------

_STYLES: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 14},
    "note": {"italic": True, "font_color": "#595959"},
    "label": {},
    "header": {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"},
    "input_text": {"bg_color": "#FFF2CC", "num_format": "@"},
    "input_date": {"bg_color": "#FFF2CC", "num_format": "yyyy-mm-dd"},
    "input_yen": {"bg_color": "#FFF2CC", "num_format": "#,##0"},
    "input_number": {"bg_color": "#FFF2CC", "num_format": "#,##0.###"},
    "input_percent": {"bg_color": "#FFF2CC", "num_format": "0.0%"},
    "input": {"bg_color": "#FFF2CC"},
    "yen": {"num_format": "#,##0"},
    "yen2": {"num_format": "#,##0.00"},
    "yen_bold": {"num_format": "#,##0", "bold": True},
    "yen_wrap": {"num_format": "#,##0", "text_wrap": True, "valign": "top"},
    "number": {"num_format": "0"},
    "number4": {"num_format": "#,##0.00##"},
    "wrap": {"text_wrap": True, "valign": "top"},
    "note_wrap": {"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"},
    "number4_wrap": {"num_format": "#,##0.00##", "text_wrap": True, "valign": "top"},
    "input_wrap": {"bg_color": "#FFF2CC", "num_format": "@", "text_wrap": True, "valign": "top"},
    # the 見積書 (customer print): no input shading, no internal colours
    "doc_title": {"bold": True, "font_size": 20, "align": "center", "valign": "vcenter"},
    "doc_addressee": {"font_size": 14, "bottom": 1, "valign": "bottom", "text_wrap": True},
    "doc_text": {"valign": "vcenter"},
    "doc_subject": {"bottom": 1, "valign": "vcenter", "text_wrap": True},
    "doc_label": {"align": "right", "valign": "vcenter"},
    "doc_value": {"align": "left", "valign": "vcenter", "bottom": 4, "indent": 1},
    "doc_issuer": {"valign": "vcenter"},
    "doc_amount_label": {"bold": True, "font_size": 13, "bottom": 2, "valign": "vcenter"},
    "doc_amount": {"bold": True, "font_size": 13, "bottom": 2, "num_format": "¥#,##0\\-", "align": "right",
                   "valign": "vcenter"},
    "doc_head": {"bold": True, "align": "center", "valign": "vcenter", "border": 1, "bg_color": "#F2F2F2"},
    "doc_no": {"align": "center", "valign": "vcenter"},
    "doc_item": {"valign": "vcenter", "text_wrap": True},
    "doc_qty": {"align": "right", "valign": "vcenter"},
    "doc_unit": {"align": "center", "valign": "vcenter"},
    "doc_yen": {"num_format": "#,##0;-#,##0;0;@", "align": "right", "valign": "vcenter"},
    "doc_rate": {"align": "center", "valign": "vcenter"},
    "doc_remark_label": {"bold": True, "valign": "top"},
    "doc_remark": {"valign": "top"},
    "doc_rule": {"bottom": 1},
    "doc_bold": {"bold": True},
}
# Conditional styles (differential formats): only what they change.
_CONDITIONAL: dict[str, dict[str, Any]] = {
    "row_rule": {"bottom": 1, "bottom_color": "#7F7F7F"},
    "total_box": {"border": 1},
    "total_bold": {"bold": True, "border": 1, "bottom": 6},
    "qty_whole": {"num_format": "#,##0"},
}


def _build_value(key: str) -> Any:
    from xlduty import __version__
    from xlduty.core.fx import customs_rates
    from xlduty.core.tables import editions

    if key == "tariff_edition":
        name, start = editions()[-1]
        return f"{name} (in force from {start})"
    if key == "fx_weeks":
        fx = customs_rates()
        return f"{fx.first_week} – {fx.last_week}"
    if key == "version":
        return __version__
    raise ValueError(f"unknown build value {key!r}")


def _write_cell(ws: Any, ref: str, spec: dict[str, Any], formats: dict[str, Any]) -> None:
    fmt = formats.get(spec.get("style", "label"))
    if "build" in spec:
        ws.write_string(ref, str(_build_value(spec["build"])), fmt)
    elif "formula" in spec:
        ws.write_formula(ref, spec["formula"], fmt)
    else:
        value = spec.get("value")
        if isinstance(value, date):
            ws.write_datetime(ref, datetime(value.year, value.month, value.day), fmt)
        elif isinstance(value, bool):
            ws.write_boolean(ref, value, fmt)
        elif isinstance(value, int | float):
            ws.write_number(ref, value, fmt)
        elif value in (None, ""):
            ws.write_blank(ref, None, fmt)
        else:
            ws.write_string(ref, str(value), fmt)


def _validation_list(spec: dict[str, Any]) -> list[str]:
    """The choices of a drop-down: given, or the keys of a rule table (so the list follows rules/)."""
    if "list" in spec:
        return [str(x) for x in spec["list"]]
    from xlduty.quote.domestic import domestic_rules
    from xlduty.quote.incoterms import incoterm_rules

    return {"incoterms": lambda: list(incoterm_rules().terms), "charge_kinds": lambda: list(incoterm_rules().elements),
            "cost_kinds": lambda: list(domestic_rules().kinds)}[spec["rules"]]()


def _validations(ws: Any, specs: dict[str, dict[str, Any]]) -> None:
    """Drop-downs on input cells. A warning, not a stop: a Japanese name (通関料) is accepted too."""
    for ref, spec in specs.items():
        ws.data_validation(ref, {"validate": "list", "source": _validation_list(spec), "error_type": "warning",
                                 "error_title": "xlduty", "error_message": "not in the list: check the spelling"})


def _expand(formula: str, define: dict[str, str]) -> str:
    for key in sorted(define, key=len, reverse=True):   # {Q9} before {Q}
        formula = formula.replace("{" + key + "}", define[key])
    return formula


def _write_sheets(wb: Any, sheets: list[dict[str, Any]], define: dict[str, str] | None = None) -> None:
    from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

    define = define or {}
    formats = {name: wb.add_format(props) for name, props in _STYLES.items()}
    conditional = {name: wb.add_format(props) for name, props in _CONDITIONAL.items()}
    for sheet in sheets:
        ws = wb.add_worksheet(sheet["name"])
        ws.set_vba_name(sheet["code_name"])
        for col, width in sheet.get("columns", {}).items():
            ws.set_column(f"{col}:{col}", width)
        if "freeze" in sheet:
            ws.freeze_panes(sheet["freeze"])
        for row, height in sheet.get("rows", {}).items():
            ws.set_row(int(row) - 1, height)
        if "print" in sheet:
            _print_setup(ws, sheet["print"])
        rep = sheet.get("repeat")
        if rep:
            first, last = rep["rows"]
            for r in range(first, last + 1):
                for col, spec in rep["cells"].items():
                    _write_cell(ws, f"{col}{r}", {**spec, "formula": spec["formula"].replace("{r}", str(r))},
                                formats)
        cells = {ref: ({**spec, "formula": _expand(spec["formula"], define)} if "formula" in (spec or {}) else
                       spec or {}) for ref, spec in sheet.get("cells", {}).items()}
        for block in sheet.get("inputs", []):   # empty input cells, shaded as inputs (later blocks win)
            first, last = block["range"].split(":")
            (r0, c0), (r1, c1) = xl_cell_to_rowcol(first), xl_cell_to_rowcol(last)
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    ref = xl_rowcol_to_cell(r, c)
                    if ref not in sheet.get("cells", {}):
                        cells[ref] = {"value": None, "style": block["style"]}
        for ref, spec in cells.items():
            _write_cell(ws, ref, spec, formats)
        for ref, spec in sheet.get("merge", {}).items():   # merged cells: the value or formula in the first
            fmt = formats.get(spec.get("style", "label"))
            ws.merge_range(ref, "", fmt)
            first = ref.split(":")[0]
            if "formula" in spec:
                ws.write_formula(first, _expand(spec["formula"], define), fmt)
            elif spec.get("value") not in (None, ""):
                _write_cell(ws, first, spec, formats)
        for ref, spec in sheet.get("arrays", {}).items():
            ws.write_dynamic_array_formula(ref, _expand(spec["formula"], define),
                                           formats.get(spec.get("style", "label")))
        for block in sheet.get("spill_formats", []):   # the cells an array fills, formatted per column
            first, last = block["range"].split(":")
            (r0, c0), (r1, c1) = xl_cell_to_rowcol(first), xl_cell_to_rowcol(last)
            anchors = {xl_cell_to_rowcol(ref.split(":")[0]) for ref in sheet.get("arrays", {})}
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    if (r, c) not in anchors:
                        ws.write_blank(r, c, None, formats[block["style"]])
        for spec in sheet.get("conditional", []):
            ws.conditional_format(spec["range"], {"type": "formula", "criteria": spec["formula"],
                                                  "format": conditional[spec["style"]]})
        _validations(ws, sheet.get("validations", {}))


_PAPER = {"A4": 9, "A3": 8, "Letter": 1}


def _print_setup(ws: Any, spec: dict[str, Any]) -> None:
    """The printable layout of a sheet: A4, orientation, print area, fit to pages wide (one; two for a wide list),
    title rows and columns repeated on every page, header and footer. Excel's PDF export and the headless export
    (LibreOffice) both use it."""
    ws.set_paper(_PAPER[spec.get("paper", "A4")])
    if spec.get("landscape"):
        ws.set_landscape()
    else:
        ws.set_portrait()
    if "area" in spec:
        ws.print_area(spec["area"])
    if "fit_width" in spec:
        ws.fit_to_pages(spec["fit_width"], 0)
    if "repeat_rows" in spec:
        first, last = (int(x) - 1 for x in spec["repeat_rows"].split(":"))
        ws.repeat_rows(first, last)
    if "repeat_columns" in spec:   # a sheet printed pages wide names its rows on every page
        ws.repeat_columns(spec["repeat_columns"])
    if "header" in spec:
        ws.set_header(spec["header"])
    if "footer" in spec:
        ws.set_footer(spec["footer"])
    if spec.get("center"):
        ws.center_horizontally()
    ws.set_margins(**{"left": 0.5, "right": 0.5, "top": 0.75, "bottom": 0.75, **spec.get("margins", {})})


def _conf_sheet(wb: Any, name: str, code_name: str) -> None:
    ws = wb.add_worksheet(name)
    ws.set_vba_name(code_name)
    ws.set_column("A:A", 18)
    ws.set_column("B:B", 40)
    for i, (key, value) in enumerate(CONF):
        ws.write_string(i, 0, key)
        if isinstance(value, bool):
            ws.write_boolean(i, 1, value)
        elif value:
            ws.write_string(i, 1, value)
    for j, text in enumerate(CONF_HELP):
        ws.write_string(len(CONF) + 3 + j, 0, text)


def template_sheets() -> list[dict[str, Any]]:
    return yaml.safe_load((SRC / "quote.yaml").read_text(encoding="utf-8"))["sheets"]


def _workbook_bytes(kind: str) -> bytes:
    import xlsxwriter

    from xlduty.excel.vba_project import build_vba_project

    spec = yaml.safe_load((SRC / "quote.yaml").read_text(encoding="utf-8"))
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({**spec["properties"], "created": FIXED_TIME})
    wb.set_vba_name("ThisWorkbook")
    if kind == "xlsm":
        sheets = spec["sheets"]
        _write_sheets(wb, sheets, spec.get("define"))
        code_names = [s["code_name"] for s in sheets] + [f"Sheet{len(sheets) + 1}"]
        _conf_sheet(wb, CONF_SHEET, code_names[-1])
        project = "xlduty_quote"
    else:
        code_names = ["Sheet1"]
        _conf_sheet(wb, CONF_SHEET, "Sheet1")
        project = "xlduty"
    wb.add_vba_project(io.BytesIO(build_vba_project(vba_modules(kind, code_names), project)), is_stream=True)
    wb.close()
    return _package(buf.getvalue(), kind)


def _package(data: bytes, kind: str) -> bytes:
    """Add the ribbon (add-in only), mark an add-in as such, and fix every zip timestamp."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if kind == "xlam" and item.filename == "[Content_Types].xml":
                body = _replace_once(body, _SHEET_MACRO.encode(), _ADDIN_MACRO.encode())
            if kind == "xlam" and item.filename == "_rels/.rels":
                body = _add_ribbon_rel(body)
            if kind == "xlam" and item.filename == "xl/workbook.xml":
                # As in add-ins Excel saves, the workbook window is hidden (seen only if IsAddin is turned off):
                # "hidden" in xlwings' add-ins (first saved by Excel), "veryHidden" in XLRisk.xlam (Excel 365,
                # github.com/pyscripter/XLRisk). That add-in also pairs the 2007 ui/extensibility relationship
                # with customUI/customUI14.xml and declares no content type for it, as _add_ribbon_rel does.
                body = _replace_once(body, b"<workbookView ", b'<workbookView visibility="hidden" ')
            _write(zout, item.filename, body)
        if kind == "xlam":
            _write(zout, "customUI/customUI14.xml", (SRC / "customUI14.xml").read_bytes())
    return out.getvalue()


def _replace_once(body: bytes, old: bytes, new: bytes) -> bytes:
    if body.count(old) != 1:
        raise ValueError(f"expected {old!r} once in a part XlsxWriter wrote")
    return body.replace(old, new)


def _write(zout: zipfile.ZipFile, name: str, body: bytes) -> None:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    zout.writestr(info, body)


def _add_ribbon_rel(body: bytes) -> bytes:
    """The package relationships with the ribbon's (customUI14.xml, Office 2010+) added under a free Id,
    as text, so the part keeps the XML declaration and form XlsxWriter and Excel write."""
    root = ET.fromstring(body)
    if any(rel.get("Type") == _UI14 for rel in root):
        raise ValueError("the package already has a ribbon relationship")
    ids = {rel.get("Id") for rel in root}
    n = next(i for i in range(1, 999) if f"rId{i}" not in ids)
    rel = f'<Relationship Id="rId{n}" Type="{_UI14}" Target="customUI/customUI14.xml"/>'.encode()
    return _replace_once(body, b"</Relationships>", rel + b"</Relationships>")


# --- the xlwings Lite workbook ------------------------------------------------------------------------------

LITE_NOTES = [
    ("xlduty — 関税・輸入消費税 / Japanese import duty and consumption tax (xlwings Lite: Excel on Mac and the web)",
     "title"),
    ("このブックには xlduty の関数（main.py）と requirements.txt が保存されています。xlwings Lite アドイン"
     "（Microsoft Marketplace、無料）で開くと、=DUTY() などが使えます。下の式を B 列に入力してください"
     "（C 列は期待値）。", "note"),
    ("This workbook carries xlduty's functions (main.py) and requirements.txt. Open it with the xlwings Lite add-in "
     "(Microsoft Marketplace, free) and =DUTY() and the others work. Type the formulas below into column B "
     "(column C: the expected value).", "note"),
]
LITE_PLACEHOLDER_NOTE = (
    "requirements.txt の xlduty の行を、CORS ヘッダを返すホストに置いた xlduty の wheel の URL にしてください / Point "
    "the xlduty line of requirements.txt at the xlduty wheel on a host that sends CORS headers (README: Excel on Mac "
    "and the web).")


def lite_workbook(wheel_url: str) -> bytes:
    """``workbook/xlduty-lite.xlsx``: a sheet with the README's example formulas as text beside the cells to type
    them into (workbook/acceptance/cases.yaml: the same cells and inputs as the Windows acceptance kit), and
    xlwings Lite's main.py and requirements.txt where Lite keeps them (``xlduty.excel.lite``). The formulas are
    not entered: a workbook file names an add-in's function in a form only Excel writes, once the add-in runs."""
    import xlsxwriter
    from xlsxwriter.utility import xl_cell_to_rowcol

    from xlduty import __version__
    from xlduty.excel import lite

    cases = yaml.safe_load((OUT / "acceptance" / "cases.yaml").read_text(encoding="utf-8"))
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"title": "xlduty (xlwings Lite)", "author": "xlduty", "created": FIXED_TIME})
    formats = {name: wb.add_format(spec) for name, spec in _STYLES.items()}
    ws = wb.add_worksheet("xlduty")
    ws.set_column(0, 0, 62)
    ws.set_column(1, 2, 24)
    ws.set_column(4, 4, 90)   # column E: what this workbook is (the examples fill A:C from row 1)
    notes = [*LITE_NOTES, *([(LITE_PLACEHOLDER_NOTE, "note")] if wheel_url == lite.WHEEL_URL else [])]
    for row, (text, style) in enumerate(notes):
        ws.write_string(row, 4, text, formats["title" if style == "title" else "note_wrap"])
    first = min(xl_cell_to_rowcol(c["cell"])[0] for c in cases["formulas"])
    if first < 1:
        raise ValueError("the examples start in row 2: row 1 holds their headers")
    ws.write_row(first - 1, 0, ["式 / formula", "入力してください / type it here", "期待値 / expected"],
                 formats["header"])
    for case in cases["formulas"]:
        row, col = xl_cell_to_rowcol(case["cell"])
        if col != 1:
            raise ValueError(f"{case['cell']}: the examples go into column B")
        ws.write_string(row, 0, case["formula"])
        expected = case["expected"]
        if isinstance(expected, str):
            ws.write_string(row, 2, expected.replace("{xlduty_version}", __version__))
        else:
            ws.write_number(row, 2, expected)
    for ref, value in cases["inputs"].items():
        row, col = xl_cell_to_rowcol(ref)
        ws.write_string(row, col, value) if isinstance(value, str) else ws.write_number(row, col, value)
    wb.close()
    parts = lite.webextension_parts(lite.module_source(), lite.requirements(wheel_url))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        types, rels = lite.with_webextension(zin.read("[Content_Types].xml"), zin.read("_rels/.rels"))
        for item in zin.infolist():
            body = {"[Content_Types].xml": types, "_rels/.rels": rels}.get(item.filename) or zin.read(item.filename)
            _write(zout, item.filename, body)
        for name, body in parts.items():
            _write(zout, name, body)
    return out.getvalue()


def build(kind: str) -> bytes:
    """The bytes of ``xlduty.<kind>`` (``xlsm`` or ``xlam``)."""
    if kind not in ("xlsm", "xlam"):
        raise ValueError(kind)
    return _workbook_bytes(kind)


def main(argv: list[str] | None = None) -> int:
    # The workbooks describe the bundled tables, whatever this machine has refreshed: reproducible bytes.
    os.environ["XLDUTY_DATA_DIR"] = tempfile.mkdtemp(prefix="xlduty-build-")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed workbooks; write nothing")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--wheel-url", help="the URL the Lite requirements install xlduty from (default: a placeholder "
                                        "until xlduty is published)")
    args = ap.parse_args(argv)
    from xlduty.excel import lite

    url = args.wheel_url or lite.WHEEL_URL
    if args.check and args.wheel_url:
        ap.error("--check compares with the committed files, which name the default URL")
    outputs: list[tuple[str, Callable[[], bytes]]] = [
        ("xlduty.xlsm", lambda: build("xlsm")), ("xlduty.xlam", lambda: build("xlam")),
        ("lite/main.py", lambda: lite.module_source().encode("utf-8")),
        ("lite/requirements.txt", lambda: lite.requirements(url).encode("utf-8")),
        ("xlduty-lite.xlsx", lambda: lite_workbook(url)),
    ]
    stale = []
    for name, make in outputs:
        data = make()
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
            print(f"wrote {path} ({len(data):,} bytes)", file=sys.stderr)
    if stale:
        print(f"out of date: {', '.join(stale)}: run python workbook/build.py", file=sys.stderr)
        return 1
    return 0
