"""The xlwings Lite front end: the module Lite runs (``main.py``) and its ``requirements.txt``, written from the
function table ``xlduty.excel.catalog`` by ``workbook/build.py``.

xlwings Lite (an Office add-in: Excel on Windows, Mac and the web) runs Python in Pyodide and keeps the code and its
requirements in the workbook. Its functions are declared with xlwings' ``@func`` / ``@arg`` — here one function
per catalog entry, of the same name, arguments, defaults and help as the Windows add-in's, calling the same pure
callable, so a cell shows the same figure or the same error text in both. What differs is only how Excel hands
the values over, and the decorators say it: every argument with ``err_to_str`` (an error cell arrives as its text,
``#N/A``, which the functions refuse by name — never as a blank, which would mean "no origin"), a range as rows
(``ndim=2``), and an argument that takes a closed set of words as a ``typing.Literal``, which Lite shows as a
dropdown. The module imports the core and the pure function layer only: nothing that needs Windows, a network or a
compiled library Pyodide lacks.

The text is generated, not imported from the package, so that the workbook shows what it runs; it cannot drift:
``workbook/build.py --check`` and tests/test_lite.py compare it with a fresh build.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid

from xlduty import __version__
from xlduty.excel.catalog import FUNCTIONS, Arg, Function

XLWINGS_VERSION = "0.37.8"    # the Windows add-in's pin; the version the Pyodide test runs
PYDANTIC_VERSION = "2.14.4"   # pinned: PyPI has a Pyodide build of its pydantic-core (2.50.5); CI tests this pair
PYODIDE_VERSION = "314.0.8"   # the Pyodide the test runs (Python 3.14; wheel platform pyemscripten_2026_0_wasm32)
WHEEL = f"xlduty-{__version__}-py3-none-any.whl"
WHEEL_URL = f"https://YOUR-HOST.invalid/{WHEEL}"   # not published yet: replaced by --wheel-url (README)

_WIDTH = 118   # the generated lines stay within the project's 120 columns (a wide character counts two, as in ruff)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _quoted(text: str) -> str:
    """A double-quoted Python literal of ``text`` (the catalog's texts are one line each)."""
    if not text.isprintable():
        raise ValueError(f"not one printable line: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pieces(text: str, room: int) -> list[str]:
    """``text`` cut into pieces whose literals fit ``room`` columns: after a space where one is near, else anywhere."""
    pieces, current = [], ""
    for ch in text:
        if _width(_quoted(current + ch)) > room:
            cut = current.rfind(" ") + 1
            if cut < len(current) // 2:   # no space in the second half: cut here
                cut = len(current)
            pieces.append(current[:cut])
            current = current[cut:]
        current += ch
    return [*pieces, current]


def _literal(text: str, indent: int) -> str:
    """``text`` as a string literal; if too long, adjacent literals in parentheses, one per line."""
    if indent + _width(_quoted(text)) + 2 <= _WIDTH:
        return _quoted(text)
    lines = _pieces(text, _WIDTH - indent - 3)
    return "(" + ("\n" + " " * (indent + 1)).join(_quoted(p) for p in lines) + ")"


def _decorator(arg: Arg) -> str:
    options = ", ndim=2" if arg.range else ""
    head = f'@arg("{arg.name}", doc='
    doc = _literal(arg.help, len(head))
    tail = f", err_to_str=True{options})"
    if _width(doc.rsplit("\n", 1)[-1]) + len(head if "\n" not in doc else "") + len(tail) > _WIDTH:
        tail = f",\n     err_to_str=True{options})"
    return f"{head}{doc}{tail}"


def _parameter(arg: Arg, indent: int = 0) -> str:
    if not arg.choices:
        return f"{arg.name}{'=None' if arg.optional else ''}"
    words = [_quoted(c) for c in arg.choices]
    default = " = None" if arg.optional else ""
    one_line = f"{arg.name}: Literal[{', '.join(words)}]{default}"
    if indent + len(one_line) + 1 <= _WIDTH:
        return one_line
    inner = " " * (indent + 4)
    return f"{arg.name}: Literal[\n{inner}" + f",\n{inner}".join(words) + f",\n{' ' * indent}]{default}"


def _function(fn: Function) -> list[str]:
    signature = f"def {fn.name}({', '.join(_parameter(a) for a in fn.args)}):"
    if len(signature) > _WIDTH or "\n" in signature:
        signature = f"def {fn.name}(\n" + "".join(f"    {_parameter(a, 4)},\n" for a in fn.args) + "):"
    names = ", ".join(a.name for a in fn.args)
    call = f'    return _XLDUTY["{fn.name}"].call({names})'
    if len(call) > _WIDTH:
        call = f'    return _XLDUTY["{fn.name}"].call(\n' + "".join(f"        {a.name},\n" for a in fn.args) + "    )"
    return ["", "", "@func", *(_decorator(a) for a in fn.args), signature, f"    {_literal(fn.description, 4)}",
            call]


def module_source() -> str:
    """The text of ``main.py``."""
    out = [
        '"""xlduty\'s worksheet functions for xlwings Lite: =DUTY(), =CONSUMPTION_TAX() … in Excel on Mac, the web and',
        "Windows, with Python in the browser. The same functions, arguments, help and cell errors as the Windows",
        "add-in: both are made from xlduty/excel/catalog.py.",
        "",
        "Written by `python workbook/build.py` (xlduty.excel.lite): rebuild it rather than edit it. requirements.txt",
        'installs xlduty itself."""',
        "",
        "from typing import Literal",
        "",
        "from xlwings import arg, func",
        "",
        "from xlduty.excel.catalog import BY_NAME as _XLDUTY",
    ]
    for fn in FUNCTIONS:
        out += _function(fn)
    return "\n".join(out) + "\n"


def requirements(wheel_url: str = WHEEL_URL) -> str:
    """The text of ``requirements.txt``: what Lite installs when the workbook opens."""
    return "\n".join([
        f"# xlduty {__version__} for xlwings Lite (written by workbook/build.py; README: Excel on Mac and the web).",
        f"# xlwings and pydantic are pinned to what the project's Pyodide test runs (Pyodide {PYODIDE_VERSION}).",
        f"xlwings=={XLWINGS_VERSION}",
        f"pydantic=={PYDANTIC_VERSION}",
        "# xlduty itself, until it is on PyPI: its wheel (pip wheel --no-deps .) on a host that sends CORS headers.",
        f"xlduty @ {wheel_url}",
        "",
    ])


# --- the workbook: the code and requirements where xlwings Lite keeps them ------------------------------------
# Not documented by xlwings. Read from workbooks Lite saved (six public ones, add-in 1.0.0.0-11 and -18): Lite
# keeps its files as Office add-in settings (Office.js document.settings), which Excel writes into the package as a
# web-extension part (ECMA-376 extensions [MS-OWEXML]): one <we:property> per setting, its value JSON text. The
# task pane part points Excel at the add-in by its Office Store asset id. README "Excel on Mac and the web" says
# what is verified of this and what is not.

LITE_ASSET_ID = "wa200008175"   # xlwings Lite in the Office Store (Microsoft Marketplace)
_WE = "http://schemas.microsoft.com/office/webextensions/webextension/2010/11"
_WETP = "http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_DRAWING = "http://schemas.openxmlformats.org/drawingml/2006/main"
TASKPANES_REL = "http://schemas.microsoft.com/office/2011/relationships/webextensiontaskpanes"
WEBEXTENSION_REL = "http://schemas.microsoft.com/office/2011/relationships/webextension"
CONTENT_TYPES = {"/xl/webextensions/taskpanes.xml": "application/vnd.ms-office.webextensiontaskpanes+xml",
                 "/xl/webextensions/webextension1.xml": "application/vnd.ms-office.webextension+xml"}
_CUSTOM_FUNCTIONS = "{D87F86FE-615C-45B5-9D79-34F1136793EB}"   # extLst: the workbook uses the add-in's functions
_FUNCTION_IDS = "{7C84B067-C214-45C3-A712-C9D94CD141B2}"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'


def setting_value(value: object) -> str:
    """A setting as Excel writes it: JSON text (with ``/`` escaped, as Office's serializer writes it), in an XML
    attribute."""
    from xml.sax.saxutils import escape

    return escape(json.dumps(value, ensure_ascii=False).replace("/", "\\/"), {'"': "&quot;"})


def webextension_parts(main: str, requirements_txt: str, pyodide_version: str = PYODIDE_VERSION) -> dict[str, bytes]:
    """The package parts that hold Lite's files and open its task pane with the workbook, by part name."""
    ident = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "https://xlduty/workbook/xlduty-lite.xlsx")).upper() + "}"
    settings = [("Office.AutoShowTaskpaneWithDocument", "true"), ("main.py", setting_value(main)),
                ("requirements.txt", setting_value(requirements_txt)),
                ("pyodideVersion", setting_value(pyodide_version))]
    properties = "".join(f'<we:property name="{name}" value="{value}"/>' for name, value in settings)
    webextension = (
        f'{_XML}<we:webextension xmlns:we="{_WE}" id="{ident}">'
        f'<we:reference id="{LITE_ASSET_ID}" version="1.0.0.0" store="en-US" storeType="OMEX"/>'
        f'<we:alternateReferences><we:reference id="{LITE_ASSET_ID.upper()}" version="1.0.0.0" '
        f'store="{LITE_ASSET_ID.upper()}" storeType="OMEX"/></we:alternateReferences>'
        f'<we:properties>{properties}</we:properties><we:bindings/><we:snapshot xmlns:r="{_R}"/>'
        f'<we:extLst><a:ext xmlns:a="{_DRAWING}" uri="{_CUSTOM_FUNCTIONS}"><we:containsCustomFunctions/></a:ext>'
        f'<a:ext xmlns:a="{_DRAWING}" uri="{_FUNCTION_IDS}"><we:customFunctionIdList/></a:ext></we:extLst>'
        "</we:webextension>")
    taskpanes = (f'{_XML}<wetp:taskpanes xmlns:wetp="{_WETP}"><wetp:taskpane dockstate="right" visibility="1" '
                 f'width="438" row="4"><wetp:webextensionref xmlns:r="{_R}" r:id="rId1"/></wetp:taskpane>'
                 "</wetp:taskpanes>")
    rels = (f'{_XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{WEBEXTENSION_REL}" Target="webextension1.xml"/></Relationships>')
    return {"xl/webextensions/taskpanes.xml": taskpanes.encode("utf-8"),
            "xl/webextensions/_rels/taskpanes.xml.rels": rels.encode("utf-8"),
            "xl/webextensions/webextension1.xml": webextension.encode("utf-8")}


def with_webextension(content_types: bytes, package_rels: bytes) -> tuple[bytes, bytes]:
    """``[Content_Types].xml`` and ``_rels/.rels`` of a workbook with the web-extension parts declared and the task
    pane related to the package (edited as text, keeping the form the writer gave them)."""
    overrides = "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in CONTENT_TYPES.items())
    ids = set(re.findall(rb'Id="(rId\d+)"', package_rels))
    free = next(f"rId{i}" for i in range(1, 999) if f"rId{i}".encode() not in ids)
    rel = f'<Relationship Id="{free}" Type="{TASKPANES_REL}" Target="xl/webextensions/taskpanes.xml"/>'
    if content_types.count(b"</Types>") != 1 or package_rels.count(b"</Relationships>") != 1:
        raise ValueError("unexpected package parts")
    return (content_types.replace(b"</Types>", overrides.encode() + b"</Types>"),
            package_rels.replace(b"</Relationships>", rel.encode() + b"</Relationships>"))
