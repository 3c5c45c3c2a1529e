"""What Excel reads in the shipped add-in and template, checked against references we did not write.

- The ``xlwings_udfs`` module equals what xlwings 0.37.8's own ``import_udfs`` writes for our functions
  (run here with the Windows-only modules stubbed and a stand-in workbook that records what it is given).
- The function help ``XlDutyFunctions.RegisterFunctions`` registers equals the ``MacroOptions`` calls that
  same ``import_udfs`` makes, and the Python signatures: read from the shipped VBA text, and run by
  LibreOffice Basic with only the ``Application.MacroOptions`` call pointed at a recorder.
- The config file each shipped xlwings module reads is the file ``xlduty addin config`` writes.
- The ribbon's set-up check (``XlDutyRibbon.SetupProblem``) runs in LibreOffice Basic: what it says with no
  Python configured, a missing interpreter, a missing xlwings DLL, and nothing when all is there.

The VBA text is always the one olevba reads out of the committed workbooks (the files users get).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import types
import zipfile
from collections.abc import Iterator
from pathlib import Path, PureWindowsPath
from typing import Any

import pytest
from lo_basic import needs_lo_basic, run_basic, workbook_with_modules
from oletools.olevba import VBA_Parser

from xlduty.excel import build, catalog
from xlduty.excel.messages import RIBBON_MESSAGES
from xlduty.excel.vba_project import VbaModule

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("xlam", "xlsm")


def shipped_modules(kind: str) -> dict[str, str]:
    """Module name -> source text, as olevba reads them from the committed ``workbook/xlduty.<kind>``."""
    path = ROOT / "workbook" / f"xlduty.{kind}"
    parser = VBA_Parser(str(path))
    try:
        return {stream.split("/")[-1]: code for _f, stream, _n, code in parser.extract_macros()}
    finally:
        parser.close()


def _lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _without_comment(line: str) -> str:
    """A VBA line less its comment: a ' outside a string literal starts one."""
    inside = False
    for i, ch in enumerate(line):
        if ch == '"':
            inside = not inside
        elif ch == "'" and not inside:
            return line[:i].rstrip()
    return line.rstrip()


# --- xlwings' own import, run on Linux --------------------------------------------------------------

class _Components:
    """VBProject.VBComponents: Remove and Import are what import_udfs calls; Import keeps the module text.
    (Method names are the COM ones.)"""

    def __init__(self) -> None:
        self.imported: list[str] = []

    def __call__(self, name: str) -> str:
        return name

    def Remove(self, component: str) -> None:
        assert component == "xlwings_udfs"

    def Import(self, path: str) -> None:
        self.imported.append(Path(path).read_text())


class _Application:
    Version = "16.0"

    def __init__(self) -> None:
        self.macro_options: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def MacroOptions(self, *args: Any, **kwargs: Any) -> None:
        self.macro_options.append((args, kwargs))


class _Workbook:
    """The stand-in for the COM workbook import_udfs is given."""

    def __init__(self, name: str) -> None:
        self.Name = name
        self.Application = _Application()
        self.VBProject = types.SimpleNamespace(VBComponents=_Components())


@pytest.fixture(scope="module")
def xlwings_import() -> Iterator[dict[str, _Workbook]]:
    """xlwings 0.37.8's ``import_udfs("xlduty.excel.udfs", workbook)`` for the add-in and the template: the
    Windows-only modules stubbed, xlwings' Windows decorators applied to our UDF module (as on Windows)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
            mp.setitem(sys.modules, name, types.ModuleType(name))
        sys.modules["pythoncom"].CoInitialize = lambda: None  # type: ignore[attr-defined]
        sys.modules["pywintypes"].com_error = type("com_error", (Exception,), {})  # type: ignore[attr-defined]
        sys.modules["win32com.client"].Dispatch = lambda *a, **k: None  # type: ignore[attr-defined]
        sys.modules["win32com"].client = sys.modules["win32com.client"]  # type: ignore[attr-defined]
        mp.delitem(sys.modules, "xlwings.udfs", raising=False)
        import xlwings
        import xlwings.udfs as xlwings_udfs

        mp.setattr(xlwings, "func", xlwings_udfs.xlfunc)
        mp.setattr(xlwings, "arg", xlwings_udfs.xlarg)
        mp.setattr(xlwings, "ret", xlwings_udfs.xlret)
        mp.setattr(xlwings_udfs, "__pro__", False)
        mp.delitem(sys.modules, build.UDF_MODULE, raising=False)
        import importlib

        udfs = importlib.import_module(build.UDF_MODULE)
        # What get_udf_module keeps after a first import (so it does not open the workbook through COM).
        mp.setitem(xlwings_udfs.udf_modules, build.UDF_MODULE, {"filename": udfs.__file__, "filetime": None,
                                                                "module": udfs})
        books = {}
        for kind in KINDS:
            book = _Workbook(f"xlduty.{kind}")
            xlwings_udfs.import_udfs(build.UDF_MODULE, book)
            books[kind] = book
        yield books
        mp.delitem(sys.modules, build.UDF_MODULE, raising=False)


@pytest.mark.parametrize("kind", KINDS)
def test_xlwings_udfs_is_the_module_xlwings_imports(kind: str, xlwings_import: dict[str, _Workbook]) -> None:
    """Line for line, comments aside, the shipped ``xlwings_udfs`` is what xlwings' import writes: its
    ``#Const App = "Microsoft Excel"`` line first (without it every wrapper compiles its ``#Else`` branch:
    no workbook, no caller, no error handler), then each wrapper passing ``ActiveWorkbook`` (add-in) or
    ``ThisWorkbook`` (template)."""
    theirs = _lines(xlwings_import[kind].VBProject.VBComponents.imported[0])
    ours = _lines(shipped_modules(kind)["xlwings_udfs"])
    assert [_without_comment(x) for x in ours] == [_without_comment(x) for x in theirs]
    assert ours[:3] == ['Attribute VB_Name = "xlwings_udfs"', ours[1], '#Const App = "Microsoft Excel"']
    assert ours[1].startswith("'") and theirs[1].startswith("'")   # the comment line: ours is our own text
    book = "ActiveWorkbook" if kind == "xlam" else "ThisWorkbook"
    calls = [x for x in ours if "XLPy.CallUDF(" in x and "Application.Caller)" in x]
    assert len(calls) == len(catalog.FUNCTIONS) and all(f", {book}, Application.Caller)" in x for x in calls)


def _vba_string(literal: str) -> str:
    """The value of a VBA string literal body (``""`` is one quote) passed through ``Unicode()``: every
    ``\\uXXXX`` is the UTF-16 code unit XXXX (LibreOffice runs the VBA decoder itself below)."""
    text = literal.replace('""', '"')
    units = re.sub(r"\\u([0-9A-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le")


_STATEMENT = re.compile(r'^\s*(\w+(?:\(\d+\))?) = (?:\1 & )?Unicode\("((?:[^"]|"")*)"\)$')


def registrations(module_text: str) -> dict[str, tuple[str, list[str]]]:
    """What ``RegisterFunctions`` in the shipped text registers: {name: (description, argument help)}.
    Read statement by statement; any statement this reading does not know fails the test."""
    lines = _lines(module_text)
    start = lines.index("Public Sub RegisterFunctions(ByVal book As Workbook)")
    end = lines.index("End Sub", start)
    out: dict[str, tuple[str, list[str]]] = {}
    values: dict[str, str] = {}
    args: list[str] = []
    for line in lines[start + 1:end]:
        code = _without_comment(line).strip()
        if code in ("", "Dim wasSaved As Boolean", "Dim text As String", "Dim args() As Variant",
                    "On Error Resume Next", "wasSaved = book.Saved", "book.Saved = wasSaved"):
            continue
        if m := re.fullmatch(r"ReDim args\(0 To (\d+)\)", code):
            args = [""] * (int(m.group(1)) + 1)
            values = {}
        elif m := _STATEMENT.match(code):
            target, value = m.group(1), _vba_string(m.group(2))
            appended = " & " in code.split("Unicode(")[0]
            values[target] = values.get(target, "") + value if appended else value
        elif m := re.fullmatch(r'Register book, "(\w+)", text, args', code):
            args = [values[f"args({i})"] for i in range(len(args))]
            out[m.group(1)] = (values["text"], args)
        else:
            raise AssertionError(f"unexpected statement in RegisterFunctions: {code}")
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_function_help_is_what_xlwings_registers(kind: str, xlwings_import: dict[str, _Workbook]) -> None:
    """For every function, the description, category and argument help the shipped VBA registers on open
    are the ``MacroOptions`` xlwings' import makes from our Python functions: same text, same order, one
    help per argument of the Python signature; the call names the function in this workbook."""
    book = xlwings_import[kind]
    theirs = {}
    for args, kwargs in book.Application.macro_options:
        assert args[0].startswith(f"'xlduty.{kind}'!")
        theirs[args[0].split("!")[1]] = (kwargs["Description"], list(kwargs["ArgumentDescriptions"]),
                                         kwargs["Category"])
    ours = registrations(shipped_modules(kind)["XlDutyFunctions"])
    assert set(ours) == set(theirs) == {fn.name for fn in catalog.FUNCTIONS}
    for name, (description, helps) in ours.items():
        assert (description, helps, catalog.CATEGORY) == theirs[name], name
    module = shipped_modules(kind)["XlDutyFunctions"]
    assert ("Application.MacroOptions Macro:=\"'\" & Replace(book.Name, \"'\", \"''\") & \"'!\" & fn, "
            "Description:=description, _") in module
    assert f'Category:="{catalog.CATEGORY}", ArgumentDescriptions:=args' in module


def test_function_help_follows_the_python_signatures() -> None:
    """Each registered function has one help text per parameter of the function Excel calls (the VBA
    wrapper's parameters, the Python signature xlwings reads, the callable behind it), each at most 255
    characters, Japanese with English beside it."""
    import inspect

    from xlduty.excel import functions, udfs

    ours = registrations(shipped_modules("xlam")["XlDutyFunctions"])
    wrappers = dict(re.findall(r"^Function (\w+)\((.*)\)$", "\n".join(_lines(shipped_modules("xlam")["xlwings_udfs"])),
                               re.M))
    assert set(ours) == set(functions.EXCEL_FUNCTIONS) == set(wrappers)
    for name, (description, helps) in ours.items():
        params = list(inspect.signature(getattr(udfs, name)).parameters)
        assert [w.replace("Optional ", "") for w in wrappers[name].split(", ")] == params, name
        assert len(helps) == len(params) == len(inspect.signature(functions.EXCEL_FUNCTIONS[name]).parameters)
        assert catalog.BY_NAME[name].call is functions.EXCEL_FUNCTIONS[name]
        for text in (description, *helps):
            assert 0 < len(text) <= 255
            japanese, _, english = text.partition(" / ")
            assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", japanese), text
            assert re.search(r"[A-Za-z]{3}", english), text


# --- LibreOffice Basic runs the shipped VBA -------------------------------------------------------

_STAND_IN = '''Attribute VB_Name = "xlwings"
Option Explicit
' Stand-in for the few procedures of xlwings' runtime module the xlduty modules call (LibreOffice cannot
' compile the real one), and entry points for the test.
Public Const XLWINGS_VERSION As String = "0.37.8"
Public TestInterpreter As String
Public TestConda As String
Public Recorded As String

Public Function GetConfig(configKey As String, Optional default As String = "", Optional source As String = "")
    If UCase(configKey) = "INTERPRETER_WIN" Then
        GetConfig = TestInterpreter
    ElseIf UCase(configKey) = "CONDA PATH" Then
        GetConfig = TestConda
    Else
        GetConfig = default
    End If
End Function

Public Function GetConfigFilePath() As String
    GetConfigFilePath = "C:\\Users\\tanaka\\.xlduty\\xlduty.conf"
End Function

Public Sub RecordMacroOptions(Optional Macro, Optional Description, Optional Category, Optional ArgumentDescriptions)
    Recorded = Recorded & Macro & Chr(30) & Description & Chr(30) & Category & Chr(30) & _
        Join(ArgumentDescriptions, Chr(31)) & Chr(29)
End Sub

Public Function Registered() As String
    Recorded = ""
    RegisterFunctions ThisWorkbook
    Registered = Recorded
End Function

Public Function Probe(ByVal python As String, ByVal conda As String) As String
    TestInterpreter = python
    TestConda = conda
    Probe = SetupProblem()
End Function
'''


@pytest.fixture(scope="module")
def lo_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One LibreOffice run over the shipped XlDutyFunctions and XlDutyRibbon (from the add-in), with the
    stand-in above; the only change to shipped text: ``Application.MacroOptions`` calls the recorder."""
    folder = tmp_path_factory.mktemp("lo-basic")
    shipped = shipped_modules("xlam")
    functions = shipped["XlDutyFunctions"]
    assert functions.count("Application.MacroOptions ") == 1
    modules = [VbaModule("ThisWorkbook", "document", ""), VbaModule("Sheet1", "document", ""),
               VbaModule("xlwings", "standard", _STAND_IN),
               VbaModule("XlDutyFunctions", "standard", functions.replace("Application.MacroOptions ",
                                                                          "RecordMacroOptions ")),
               VbaModule("XlDutyRibbon", "standard", shipped["XlDutyRibbon"])]
    doc = workbook_with_modules(modules, "probe", folder / "probe.xlsm")
    env = folder / "venv"
    (env / "Scripts").mkdir(parents=True)
    (env / "Scripts" / "pythonw.exe").write_bytes(b"")
    python = (env / "Scripts" / "pythonw.exe").as_posix()
    calls: list[tuple[str, list[Any]]] = [("xlwings.Registered", [])]
    calls += [("XlDutyFunctions.RibbonText", [key]) for key in RIBBON_MESSAGES]
    calls += [("xlwings.Probe", ["", ""]), ("xlwings.Probe", ["C:\\nowhere\\venv\\Scripts\\pythonw.exe", ""]),
              ("xlwings.Probe", ["pythonw", ""]), ("xlwings.Probe", ["", "C:\\conda"]), ("xlwings.Probe", [python, ""])]
    first = run_basic(doc, "probe", calls, folder / "profile")
    # The DLL the check asked for (its name depends on #If Win64, which LibreOffice does not evaluate):
    dll = re.search(r"(xlwings(?:32|64)-[\d.]+\.dll)", first[-1])
    assert dll, first[-1]
    (env / dll.group(1)).write_bytes(b"")            # a virtual environment keeps it one folder up
    second = run_basic(doc, "probe", [("xlwings.Probe", [python, ""])], folder / "profile2")
    return {"registered": first[0], "messages": dict(zip(RIBBON_MESSAGES, first[1:-5], strict=True)),
            "probes": first[-5:], "dll": dll.group(1), "python": python, "with_dll": second[0]}


@needs_lo_basic
def test_libreoffice_runs_the_registration(lo_results: dict[str, Any]) -> None:
    """Run by LibreOffice Basic, ``RegisterFunctions`` passes MacroOptions exactly the catalog's texts
    (decoded from their ASCII escapes by the shipped ``Unicode`` function), category xlduty, and the
    workbook-qualified name of every function."""
    records = [r.split("\x1e") for r in lo_results["registered"].split("\x1d") if r]
    got = {macro.split("!")[1]: (macro, description, category, helps.split("\x1f"))
           for macro, description, category, helps in records}
    assert set(got) == {fn.name for fn in catalog.FUNCTIONS}
    for fn in catalog.FUNCTIONS:
        macro, description, category, helps = got[fn.name]
        assert macro == f"'probe.xlsm'!{fn.name}"
        assert (description, category, helps) == (fn.description, catalog.CATEGORY, [a.help for a in fn.args])


@needs_lo_basic
def test_libreoffice_reads_the_messages(lo_results: dict[str, Any]) -> None:
    assert lo_results["messages"] == RIBBON_MESSAGES


@needs_lo_basic
def test_setup_check_says_how_to_fix_python(lo_results: dict[str, Any]) -> None:
    """No interpreter set: the not-configured text, naming the config file and the command. A set
    interpreter that is not there: its path. A bare name or a conda setting: nothing to check (xlwings finds
    those itself). No xlwings DLL beside the interpreter or one folder up: which DLL. Everything there: no
    message."""
    none, missing, bare, conda, no_dll = lo_results["probes"]
    conf = "C:\\Users\\tanaka\\.xlduty\\xlduty.conf"
    assert none == RIBBON_MESSAGES["not_configured"].replace("{conf}", conf)
    assert missing == RIBBON_MESSAGES["interpreter_missing"].replace(
        "{path}", "C:\\nowhere\\venv\\Scripts\\pythonw.exe").replace("{conf}", conf)
    assert bare == conda == ""
    assert no_dll == RIBBON_MESSAGES["dll_missing"].replace("{path}", lo_results["python"]).replace(
        "{dll}", lo_results["dll"])
    assert lo_results["dll"] in ("xlwings64-0.37.8.dll", "xlwings32-0.37.8.dll")
    assert lo_results["with_dll"] == ""
    for text in (none, missing, no_dll):
        assert "xlduty addin config" in text and re.search(r"[\u3040-\u30ff]", text), text


# --- the ribbon loads and explains itself without Python ------------------------------------------

def _procedure(text: str, header: str) -> list[str]:
    lines = _lines(text)
    start = next(i for i, x in enumerate(lines) if x.startswith(header))
    kind = "Sub" if " Sub " in f" {header} " else "Function"
    end = lines.index(f"End {kind}", start)
    return [_without_comment(x).strip() for x in lines[start:end + 1]]


_PYTHON = re.compile(r"\b(RunPython|XLPy|CallUDF)\b")


@pytest.mark.parametrize("kind", KINDS)
def test_opening_never_needs_python(kind: str) -> None:
    """Workbook_Open only registers the function help: no Python is called on open (so a missing or broken
    Python cannot stop the add-in, and with it the ribbon, from loading), and the registration runs under
    ``On Error Resume Next``."""
    modules = shipped_modules(kind)
    on_open = _procedure(modules["ThisWorkbook"], "Private Sub Workbook_Open()")
    assert [x for x in on_open[1:-1] if x] == ["XlDutyFunctions.RegisterFunctions ThisWorkbook"]
    register = _procedure(modules["XlDutyFunctions"], "Public Sub RegisterFunctions(")
    assert "On Error Resume Next" in register[:register.index("wasSaved = book.Saved")]
    assert not _PYTHON.search(modules["XlDutyFunctions"]) and not _PYTHON.search(modules["ThisWorkbook"])


def test_every_ribbon_button_checks_python_first() -> None:
    """Each callback runs either pure VBA or RunXlduty, which traps every error (a message, never Excel's
    VBA error box) and runs Python only after SetupProblem found nothing; the customUI has no callback
    that Excel calls while loading the ribbon."""
    modules = shipped_modules("xlam")
    ribbon = modules["XlDutyRibbon"]
    ui = zipfile.ZipFile(ROOT / "workbook" / "xlduty.xlam").read("customUI/customUI14.xml").decode()
    assert not re.search(r"\b(onLoad|get\w+)=", ui)
    for action in re.findall(r'onAction="XlDutyRibbon\.(\w+)"', ui):
        body = _procedure(ribbon, f"Public Sub {action}(control As IRibbonControl)")
        (call,) = [x for x in body[1:-1] if x]
        target = call.split()[0]
        inner = _procedure(ribbon, f"Public Sub {target}(") if f"Public Sub {target}(" in ribbon else \
            _procedure(ribbon, f"Public Function {target}(")
        if _PYTHON.search("\n".join(inner)) or "RunXlduty" in "\n".join(inner):
            assert any(x.startswith("RunXlduty ") or "RunXlduty(" in x for x in inner), action
        else:
            assert target == "ExportPdf", action
    run = _procedure(ribbon, "Public Function RunXlduty(")
    assert run.index("On Error GoTo failed") < run.index("problem = SetupProblem()") < next(
        i for i, x in enumerate(run) if "RunPython(" in x)
    assert "Resume report" in run and "On Error Resume Next" in run[run.index("report:"):]
    assert not re.search(r"\bMsgBox\b", "\n".join(_procedure(ribbon, "Public Function ExportPdf(")))


# --- the config file each shipped module reads is the one the documented command writes --------------

def _evaluate(expression: str, constants: dict[str, str], environ: dict[str, str]) -> str:
    """A VBA string expression of literals, constants and Environ("X") joined by &."""
    out = []
    for part in (p.strip() for p in expression.split("&")):
        if m := re.fullmatch(r'"((?:[^"]|"")*)"', part):
            out.append(m.group(1).replace('""', '"'))
        elif m := re.fullmatch(r'Environ\("(\w+)"\)', part):
            out.append(environ[m.group(1)])
        else:
            out.append(constants[part])
    return "".join(out)


def config_locations(kind: str, userprofile: str, book_dir: str) -> dict[str, str]:
    """Where the shipped xlwings module of ``xlduty.<kind>`` looks for settings on Windows, read out of its text:
    the sheet, the file beside the workbook, the user's file."""
    text = "\n".join(_lines(shipped_modules(kind)["xlwings"]))
    constants = dict(re.findall(r'^Public Const (\w+) As String = "([^"]*)"$', text, re.M))
    user = re.search(r"#Else\s*\n\s*GetConfigFilePath = (.+?)\s*\n\s*#End If", text)
    beside = re.search(r"GetDirectoryConfigFilePath = GetDirectoryPath\((\w+)\) & pathSeparator & (.+)", text)
    sheet = re.findall(r"SheetExists\((\w+), (PROJECT_NAME & \"\.conf\")\)", text)
    assert user and beside and sheet
    environ = {"USERPROFILE": userprofile}
    return {"user": _evaluate(user.group(1), constants, environ),
            "beside": book_dir + "\\" + _evaluate(beside.group(2).strip(), constants, environ),
            "beside_of": beside.group(1),
            "sheet": _evaluate(sheet[0][1], constants, environ)}


def _read_like_vba(data: bytes, encoding: str) -> dict[str, str]:
    """``Input #f, name, value`` over a "KEY","value" file, keys compared as xlwings does (LCase)."""
    out = {}
    for line in data.decode(encoding).split("\r\n"):
        if line:
            m = re.fullmatch(r'"([^"]*)","([^"]*)"', line)
            assert m, line
            out.setdefault(m.group(1).lower(), m.group(2))
    return out


def test_both_files_read_the_file_the_documented_command_writes(tmp_path: Path) -> None:
    """`xlduty addin config` (README step 3), run as a user runs it, writes %USERPROFILE%\\.xlduty\\xlduty.conf;
    the path the shipped VBA of the add-in AND of the template computes is that file, its sheet layer is the
    xlduty.conf sheet each file has, and the file holds this interpreter. xlwings' own config, which
    other xlwings workbooks read, is left byte for byte as it was."""
    home = tmp_path / "Users" / "tanaka"
    theirs = home / ".xlwings" / "xlwings.conf"
    theirs.parent.mkdir(parents=True)
    theirs.write_bytes(b'"INTERPRETER_WIN","C:\\other\\pythonw.exe"\r\n')
    env = {**os.environ, "USERPROFILE": str(home), "HOME": str(home)}
    result = subprocess.run([sys.executable, "-m", "xlduty.cli", "addin", "config"], capture_output=True,
                            text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stderr
    written = home / ".xlduty" / "xlduty.conf"
    assert str(written) in result.stderr
    assert theirs.read_bytes() == b'"INTERPRETER_WIN","C:\\other\\pythonw.exe"\r\n'
    from xlduty.excel.install import conf_encoding, interpreter

    values = _read_like_vba(written.read_bytes(), conf_encoding())
    assert values["interpreter_win"] == str(interpreter())
    windows_home = "C:\\Users\\tanaka"
    for kind in KINDS:
        where = config_locations(kind, windows_home, "C:\\Quotes")
        assert PureWindowsPath(where["user"]).relative_to(windows_home).parts == written.relative_to(home).parts
        assert where["sheet"] == "xlduty.conf"
        assert where["beside"] == "C:\\Quotes\\xlduty.conf"
        assert where["beside_of"] == ("ActiveWorkbook" if kind == "xlam" else "ThisWorkbook")
        sheets = re.findall(r'<sheet name="([^"]+)"',
                            zipfile.ZipFile(ROOT / "workbook" / f"xlduty.{kind}").read("xl/workbook.xml").decode())
        assert where["sheet"] in sheets, kind


def _as_workbook(data: bytes) -> bytes:
    """An add-in's package with the workbook content type, which openpyxl reads (the only part that differs)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                body = body.replace(b"ms-excel.addin.macroEnabled", b"ms-excel.sheet.macroEnabled")
            zout.writestr(item, body)
    return out.getvalue()


def test_the_sheet_settings_start_the_udf_server_with_our_module() -> None:
    """The xlduty.conf sheet both files carry: the keys xlwings' VBA asks for (upper-cased, GetConfigFromSheet),
    from A1 down to the first blank row; no interpreter key (a key in the sheet would win over the user file)."""
    import openpyxl

    for kind in KINDS:
        wb = openpyxl.load_workbook(io.BytesIO(_as_workbook((ROOT / "workbook" / f"xlduty.{kind}").read_bytes())))
        ws = wb["xlduty.conf"]
        keys = {}
        for row in ws.iter_rows(min_row=1, values_only=True):
            if row[0] in (None, ""):
                break
            keys[str(row[0]).upper()] = row[1]
        assert keys == {"UDF MODULES": "xlduty.excel.udfs", "USE UDF SERVER": True, "DEBUG UDFS": False,
                        "SHOW CONSOLE": False}
        text = shipped_modules(kind)["xlwings"]
        for key in keys:
            assert f'GetConfig("{key}"' in text, key


def test_vba_reads_the_config_file_as_written(tmp_path: Path) -> None:
    """The file is read by VBA's Input # in the system code page: a Japanese user folder survives in cp932."""
    from xlduty.excel.install import configure

    python = Path("C:/Users/田中/AppData/Local/xlduty/venv/Scripts/pythonw.exe")
    (written,) = configure(tmp_path, python, encoding="cp932")
    assert _read_like_vba(written.read_bytes(), "cp932")["interpreter_win"] == str(python)
    assert written.read_bytes().endswith(b"\r\n")
    assert not (tmp_path / ".xlwings").exists()


def _code_words(text: str) -> set[str]:
    """The identifiers of VBA code, upper-cased, comments and string literals left out."""
    words: set[str] = set()
    for line in _lines(text):
        code = re.sub(r'"(?:[^"]|"")*"', '""', _without_comment(line))
        words |= {w.upper() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code)}
    return words


@pytest.mark.parametrize("kind", KINDS)
def test_our_names_do_not_meet_xlwings_names(kind: str) -> None:
    """A public procedure of ours is a name in the whole project: in xlwings' module, which has no Option
    Explicit, an undeclared variable of the same name would then be a compile error. None of the names our
    modules declare occurs in xlwings' module or Dictionary class, nor is a worksheet function's name."""
    modules = shipped_modules(kind)
    ours = {"XlDutyFunctions", "ThisWorkbook"} | ({"XlDutyRibbon"} if kind == "xlam" else set())
    declared = set()
    for name in ours:
        for line in _lines(modules[name]):
            m = re.match(r"^(?:(?:Public|Private)\s+)?(?:Sub|Function|Declare PtrSafe Function|Declare Function"
                         r"|Const)\s+(\w+)", line.strip())
            if m:
                declared.add(m.group(1).upper())
    assert {"REGISTERFUNCTIONS", "RIBBONTEXT", "UNICODE"} <= declared
    theirs = _code_words(modules["xlwings"]) | _code_words(modules["Dictionary"])
    assert not declared & theirs
    assert not declared & {fn.name.upper() for fn in catalog.FUNCTIONS}
    assert not declared & {w.upper() for w in catalog.VBA_RESERVED}


def test_the_function_table_imports_without_xlwings() -> None:
    """catalog (the one table the COM add-in, the template and an xlwings Lite module are made from) and the
    callables it names import without xlwings."""
    code = ("import sys; import xlduty.excel.catalog as c; "
            "assert 'xlwings' not in sys.modules, sorted(m for m in sys.modules if 'xlwings' in m); "
            "print(len(c.FUNCTIONS))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(catalog.FUNCTIONS) == 16   # + QUOTE_CUSTOMER, REGISTRATION_NUMBER (issue 20)


@pytest.mark.parametrize(("change", "message"), [
    ({"description": "x" * 256}, "description of 256 characters"),
    ({"args": (catalog.Arg("date", "日付 / date"),)}, "not usable as a VBA parameter name"),
    ({"args": (catalog.Arg("value", "課税価格 / value"), catalog.Arg("hs_code", "品目 / HS", optional=False))},
     "a required argument after an optional one"),
    ({"args": (catalog.HS,)}, "the callable takes"),
])
def test_the_table_refuses_what_excel_or_vba_would_not_take(change: dict[str, Any], message: str) -> None:
    import dataclasses

    bad = dataclasses.replace(catalog.BY_NAME["DUTY"], **change)
    with pytest.raises(ValueError, match=message):
        catalog.check((bad,))


def test_the_config_is_written_in_the_code_page_even_in_utf8_mode(tmp_path: Path) -> None:
    """VBA's ``Input #`` reads the config in the system's ANSI code page, whatever Python's UTF-8 mode says
    (``-X utf8``, PYTHONUTF8=1, the default from Python 3.15). Under the C locale (code set ASCII, standing in for
    cp932 here) a path outside the code page is refused naming it, not written in UTF-8 for VBA to misread; a path
    inside it is written in it."""
    script = ("import codecs, sys\nfrom pathlib import Path\nfrom xlduty.excel.install import conf_encoding, "
              "update_conf\nprint(codecs.lookup(conf_encoding()).name)\n"
              "update_conf(Path(sys.argv[1]), {'INTERPRETER_WIN': 'C:\\\\Python\\\\pythonw.exe'})\n"
              "try:\n    update_conf(Path(sys.argv[2]), {'INTERPRETER_WIN': 'C:\\\\Users\\\\田中\\\\pythonw.exe'})\n"
              "except ValueError as exc:\n    print(exc)\n")
    env = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "1"}
    result = subprocess.run([sys.executable, "-X", "utf8", "-c", script, str(tmp_path / "a.conf"),
                             str(tmp_path / "b.conf")], capture_output=True, text=True, encoding="utf-8",
                            env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    name, refused = result.stdout.splitlines()
    assert name == "ascii"
    assert "田中" in refused and "cannot be written in the code page" in refused
    assert (tmp_path / "a.conf").read_bytes() == b'"INTERPRETER_WIN","C:\\Python\\pythonw.exe"\r\n'
    assert not (tmp_path / "b.conf").exists()


def test_export_pdf_traps_every_error() -> None:
    """ExportPdf (Export PDF and 見積書PDF) is pure VBA, so RunXlduty's handler does not cover it: a PDF open in a
    viewer made ExportAsFixedFormat raise Excel's runtime-error box. It traps errors from its first statement,
    leaves the handler before saying anything (Resume), ungroups the sheets it selected, and shows one message
    through ShowMessage (MessageBoxW): the export_failed text with the PDF's path, then Excel's description."""
    ribbon = shipped_modules("xlam")["XlDutyRibbon"]
    body = _procedure(ribbon, "Public Function ExportPdf(")
    code = [x for x in body[1:-1] if x and not x.startswith(("Dim ", "As "))]   # "As String": the header's end
    assert code[0] == "On Error GoTo failed"
    export = next(i for i, x in enumerate(body) if "ExportAsFixedFormat" in x)
    assert body.index("On Error GoTo failed") < export < body.index("failed:") < body.index("report:")
    handler = body[body.index("failed:"):]
    assert handler[1:3] == ["problem = Err.Description", "Resume report"]
    after = body[body.index("report:"):]
    assert after[1] == "On Error Resume Next"
    said = " ".join(after)
    assert 'ShowMessage Replace(XlDutyFunctions.RibbonText("export_failed"), "{path}", target) & vbCrLf & problem' \
        in said and not re.search(r"\bMsgBox\b", said)
    assert body[body.index("failed:") - 1] == "Exit Function"
    assert "{path}" in RIBBON_MESSAGES["export_failed"] and "close it" in RIBBON_MESSAGES["export_failed"]
