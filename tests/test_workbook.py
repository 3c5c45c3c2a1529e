"""The shipped workbooks: built from text sources, reproducible, with the VBA, ribbon and formulas
Excel needs — read back by independent readers (zipfile, openpyxl, oletools' olevba)."""

from __future__ import annotations

import io
import re
import shutil
import sys
import types
import zipfile
from pathlib import Path

import pytest

from xlduty.excel import build

olevba = pytest.importorskip("oletools.olevba")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def xlam() -> bytes:
    return build.build("xlam")


@pytest.fixture(scope="module")
def xlsm() -> bytes:
    return build.build("xlsm")


def _modules(data: bytes, name: str) -> dict[str, str]:
    parser = olevba.VBA_Parser(name, data=data)
    return {vba_filename.rsplit(".", 1)[0]: code for _f, _s, vba_filename, code in parser.extract_macros()}


def test_builds_are_reproducible(xlam: bytes, xlsm: bytes) -> None:
    assert build.build("xlam") == xlam
    assert build.build("xlsm") == xlsm


def test_committed_workbooks_match_a_fresh_build(xlam: bytes, xlsm: bytes) -> None:
    """workbook/xlduty.* are what `python workbook/build.py` makes from workbook/src today."""
    assert (ROOT / "workbook" / "xlduty.xlam").read_bytes() == xlam
    assert (ROOT / "workbook" / "xlduty.xlsm").read_bytes() == xlsm


def test_addin_package(xlam: bytes) -> None:
    z = zipfile.ZipFile(io.BytesIO(xlam))
    types_xml = z.read("[Content_Types].xml").decode()
    assert "application/vnd.ms-excel.addin.macroEnabled.main+xml" in types_xml
    rels = z.read("_rels/.rels").decode()
    assert 'Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"' in rels
    assert 'Target="customUI/customUI14.xml"' in rels
    assert "xl/vbaProject.bin" in z.namelist()
    workbook_xml = z.read("xl/workbook.xml").decode()
    assert 'name="xlduty.conf"' in workbook_xml and 'codeName="ThisWorkbook"' in workbook_xml


def test_every_ribbon_action_has_its_sub(xlam: bytes) -> None:
    """Each onAction="Module.Sub" names a Sub Module.Sub(control As IRibbonControl) in the add-in's VBA."""
    ui = zipfile.ZipFile(io.BytesIO(xlam)).read("customUI/customUI14.xml").decode()
    actions = re.findall(r'onAction="([^"]+)"', ui)
    assert len(actions) == 6   # refresh, about, explain, new quote, export PDF, the customer's 見積書 PDF
    modules = _modules(xlam, "xlduty.xlam")
    for action in actions:
        module, sub = action.split(".")
        assert re.search(rf"^Public Sub {sub}\(control As IRibbonControl\)", modules[module], re.M), action


def test_vba_holds_xlwings_at_the_pinned_version(xlam: bytes, xlsm: bytes) -> None:
    import xlwings

    assert xlwings.__version__ == build.XLWINGS_VERSION
    # Both name the project xlduty: the template reads the xlduty.conf sheet and files as the add-in does
    # (issue 13: with "xlwings" it read ~/.xlwings/xlwings.conf, which `xlduty addin config` does not write).
    for data, name, project in ((xlam, "xlduty.xlam", '"xlduty"'), (xlsm, "xlduty.xlsm", '"xlduty"')):
        code = _modules(data, name)["xlwings"]
        assert f"'Version: {build.XLWINGS_VERSION}" in code
        assert f"Public Const PROJECT_NAME As String = {project}" in code


def test_olevba_lists_every_module_with_its_source(xlam: bytes) -> None:
    """The wrapper module read back by olevba is exactly the text the build generated."""
    modules = _modules(xlam, "xlduty.xlam")
    assert {"ThisWorkbook", "Sheet1", "xlwings", "Dictionary", "xlwings_udfs", "XlDutyRibbon"} <= set(modules)
    expected = build.udf_wrappers("xlam").replace("\r\n", "\n").strip()
    assert modules["xlwings_udfs"].replace("\r\n", "\n").strip() == expected


def test_udf_wrappers_match_what_xlwings_generates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our wrapper text equals xlwings' own generator (the Windows "Import Functions" path), run here
    with the Windows-only modules stubbed and xlwings' real decorators applied to our UDF module."""
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    sys.modules["pythoncom"].CoInitialize = lambda: None  # type: ignore[attr-defined]
    sys.modules["win32com.client"].Dispatch = lambda *a, **k: None  # type: ignore[attr-defined]
    sys.modules["win32com"].client = sys.modules["win32com.client"]  # type: ignore[attr-defined]
    monkeypatch.delitem(sys.modules, "xlwings.udfs", raising=False)
    import xlwings
    from xlwings.udfs import generate_vba_wrapper, xlarg, xlfunc, xlret

    monkeypatch.setattr(xlwings, "func", xlfunc)
    monkeypatch.setattr(xlwings, "arg", xlarg)
    monkeypatch.setattr(xlwings, "ret", xlret)
    monkeypatch.delitem(sys.modules, "xlduty.excel.udfs", raising=False)
    import importlib

    udfs = importlib.import_module("xlduty.excel.udfs")
    for suffix, kind in ((".xlam", "xlam"), (".xlsm", "xlsm")):
        book = types.SimpleNamespace(Name="xlduty" + suffix)
        out = io.StringIO()
        generate_vba_wrapper(build.UDF_MODULE, udfs, out, book)
        theirs = _functions(out.getvalue())
        ours = _functions(build.udf_wrappers(kind))
        assert set(theirs) == set(ours) == set(build.udf_functions_names())
        for name in ours:
            assert _norm(ours[name]) == _norm(theirs[name]), name
    monkeypatch.delitem(sys.modules, "xlduty.excel.udfs", raising=False)


def _functions(text: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(r"Function (\w+)\(.*?End Function", text, re.S)}


def _norm(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def test_template_sheets_and_settings(xlsm: bytes) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(xlsm), keep_vba=True)
    assert wb.sheetnames == ["Quote", "Lines", "Costs", "見積書", "Rates", "SelfTest", "xlduty.conf"]
    assert [ws.sheet_properties.codeName for ws in wb] == [f"Sheet{i}" for i in range(1, 8)]
    conf = {row[0]: row[1] for row in wb["xlduty.conf"].iter_rows(min_row=1, max_row=4, values_only=True)}
    assert "Interpreter_Win" not in conf   # a blank key in the sheet would override the user's config file
    assert conf["UDF Modules"] == "xlduty.excel.udfs"
    assert conf["Use UDF Server"] is True
    assert wb["Quote"]["B21"].value == ("=QUOTE_TOTALS(Lines!$B$5:$L$54,Costs!$A$5:$F$14,Costs!$A$19:$G$28,Quote!$B$9,"
                                        "Quote!$B$10,Quote!$B$11,Quote!$B$12,Quote!$B$13,Quote!$B$14,Quote!$B$15,\"duty\")")
    assert wb["Lines"]["A5"].value == '=IF(AND(C5="",E5="",F5=""),"",ROW()-4)'
    z = zipfile.ZipFile(io.BytesIO(xlsm))
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in z.read("[Content_Types].xml").decode()
    sheet2 = z.read("xl/worksheets/sheet2.xml").decode()
    assert re.search(r'<c r="M5"[^>]*cm="1"[^>]*><f t="array" ref="M5:X54"', sheet2)   # spills in Excel 365
    costs = wb["Costs"]
    kinds = [dv for dv in costs.data_validations.dataValidation if str(dv.sqref) == "A19:A28"]
    assert kinds and "customs_brokerage" in kinds[0].formula1 and kinds[0].errorStyle == "warning"


# VBA keywords and type names (MS-VBAL 3.3.5): not usable as parameter names of a wrapper.
_VBA_RESERVED = {
    "and", "as", "attribute", "boolean", "byref", "byte", "byval", "call", "case", "cbool", "cbyte", "ccur",
    "cdate", "cdbl", "cdec", "cint", "clng", "clnglng", "clngptr", "close", "const", "csng", "cstr", "currency",
    "cvar", "cverr", "date", "debug", "declare", "defbool", "dim", "do", "double", "each", "else", "elseif",
    "empty", "end", "enum", "eqv", "erase", "error", "event", "exit", "false", "for", "friend", "function", "get",
    "global", "gosub", "goto", "if", "imp", "implements", "in", "input", "integer", "is", "let", "like", "lock",
    "long", "longlong", "longptr", "loop", "lset", "me", "mid", "mod", "new", "next", "not", "nothing", "null",
    "object", "on", "open", "option", "optional", "or", "paramarray", "preserve", "print", "private", "public",
    "put", "raiseevent", "redim", "rem", "resume", "return", "rset", "seek", "select", "set", "single", "static",
    "step", "stop", "string", "sub", "then", "to", "true", "type", "typeof", "unlock", "until", "variant", "wend",
    "while", "with", "withevents", "write", "xor", "decimal", "len", "lenb", "name", "width", "line", "array",
}


def test_wrapper_parameters_are_not_vba_reserved_words() -> None:
    """`date` or `currency` as a parameter would stop the whole module from compiling in Excel."""
    for name, args in build.udf_functions():
        for arg, _optional in args:
            assert arg.lower() not in _VBA_RESERVED, f"{name}({arg})"
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,30}", arg), f"{name}({arg})"


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                    reason="LibreOffice (soffice) is not installed: .ci/run installs libreoffice-calc-nogui")
@pytest.mark.parametrize("name", ["xlduty.xlsm", "xlduty.xlam"])
def test_libreoffice_sees_the_shipped_modules(name: str, tmp_path: Path) -> None:
    """The shipped files themselves, opened by LibreOffice (converted to .ods on a copy): its Basic library
    lists every VBA module, and the wrapper of DUTY and the ribbon callbacks are there as text.
    LibreOffice has no import for the add-in format, so the .xlam is given to it with the workbook
    content type (the only byte that differs from an .xlsm): its vbaProject.bin is read unchanged."""
    import subprocess
    from xml.etree import ElementTree as ET

    data = (ROOT / "workbook" / name).read_bytes()
    if name.endswith("xlam"):
        out_zip = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out_zip, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                body = zin.read(item.filename)
                if item.filename == "[Content_Types].xml":
                    body = body.replace(b"ms-excel.addin.macroEnabled", b"ms-excel.sheet.macroEnabled")
                zout.writestr(item, body)
        data = out_zip.getvalue()
    source = tmp_path / name.replace(".xlam", "_addin.xlsm")
    source.write_bytes(data)
    out = tmp_path / "out"
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    ods = out / (source.stem + ".ods")
    for attempt in range(2):   # a first start that builds the profile can fail to load: once more
        result = subprocess.run([str(soffice), f"-env:UserInstallation={(tmp_path / f'profile{attempt}').as_uri()}",
                                 "--headless", "--norestore", "--convert-to", "ods", "--outdir", str(out), str(source)],
                                capture_output=True, text=True, timeout=300, check=False)
        if ods.exists():
            break
    assert ods.exists(), result.stdout + result.stderr
    ns = {"library": "http://openoffice.org/2000/library"}
    project = "xlduty" if name.endswith("xlam") else "xlduty_quote"   # LibreOffice names the library after it
    with zipfile.ZipFile(ods) as z:
        library = ET.fromstring(z.read(f"Basic/{project}/script-lb.xml"))
        listed = {e.get(f"{{{ns['library']}}}name") for e in library.findall("library:element", ns)}
        expected = {"ThisWorkbook", "xlwings", "Dictionary", "xlwings_udfs", "XlDutyFunctions"}
        expected |= {"Sheet1", "XlDutyRibbon"} if name.endswith("xlam") else {f"Sheet{i}" for i in range(1, 8)}
        assert listed == expected
        udfs = ET.fromstring(z.read(f"Basic/{project}/xlwings_udfs.xml")).text or ""
        assert 'DUTY = XLPy.CallUDF("xlduty.excel.udfs", "DUTY", Array(hs_code, value, origin, quantity, ' \
               "on_date, options)" in udfs
        if name.endswith("xlam"):
            assert "Public Sub OnAbout(control As IRibbonControl)" in (ET.fromstring(
                z.read(f"Basic/{project}/XlDutyRibbon.xml")).text or "")


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _workbook_facts(data: bytes) -> dict[str, object]:
    """What makes a package an add-in to Excel, read from its parts."""
    from xml.etree import ElementTree as ET

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    types_ns = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    rels_ns = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    parts = _parts(data)
    book = ET.fromstring(parts["xl/workbook.xml"])
    types_xml = ET.fromstring(parts["[Content_Types].xml"])
    overrides = {e.get("PartName"): e.get("ContentType") for e in types_xml.iter(f"{types_ns}Override")}
    defaults = {e.get("Extension"): e.get("ContentType") for e in types_xml.iter(f"{types_ns}Default")}
    book_rels = ET.fromstring(parts["xl/_rels/workbook.xml.rels"])
    return {
        "main": overrides["/xl/workbook.xml"],
        # the part's content type, declared by extension (as Excel does) or for the part (as Aspose does)
        "vba_type": overrides.get("/xl/vbaProject.bin", defaults.get("bin")),
        "codeName": book.find(f"{main}workbookPr").get("codeName"),  # type: ignore[union-attr]
        "visibility": [v.get("visibility") for v in book.iter(f"{main}workbookView")],
        "vba_rel": [r.get("Target") for r in book_rels.iter(f"{rels_ns}Relationship")
                    if r.get("Type", "").endswith("/vbaProject")],
    }


def test_addin_workbook_part_is_an_add_ins(xlam: bytes, xlsm: bytes) -> None:
    """The add-in's package beside the add-ins xlwings ships (which Excel opens as add-ins): the add-in main
    content type, the VBA project part and its relationship, workbookPr's codeName, and the workbook window
    hidden as Excel saves add-ins (Excel hides an add-in anyway; the window stays hidden if IsAddin is turned
    off). The template is an ordinary, visible macro workbook. Package declarations as Excel writes them."""
    import xlwings

    shipped = Path(xlwings.__file__).parent
    ours = _workbook_facts(xlam)
    for theirs_path in (shipped / "quickstart_addin.xlam", shipped / "addin" / "xlwings.xlam"):
        theirs = _workbook_facts(theirs_path.read_bytes())
        assert ours == theirs | {"vba_rel": ours["vba_rel"]}, theirs_path.name
    assert ours["main"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    excel_saved = _parts((shipped / "quickstart.xlsm").read_bytes())["[Content_Types].xml"]
    assert b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' in excel_saved
    assert b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' in _parts(xlam)[
        "[Content_Types].xml"]
    assert ours["visibility"] == ["hidden"] and ours["vba_rel"] == ["vbaProject.bin"]
    template = _workbook_facts(xlsm)
    assert template["main"] == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    assert template["visibility"] == [None] and template["codeName"] == "ThisWorkbook"
    for name in ("_rels/.rels", "[Content_Types].xml", "xl/workbook.xml"):
        assert _parts(xlam)[name].startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'), name
