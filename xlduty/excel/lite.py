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

import unicodedata

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
