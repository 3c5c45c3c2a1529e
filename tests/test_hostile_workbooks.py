"""Workbooks a user gets wrong or an adversary builds, through ``xlduty recalc``, ``xlduty quote`` and
``xlduty export-pdf``: links to other workbooks, the 1904 date system, outputs onto the input or onto what
is not a regular file, zip bombs, and sheets past the limits. Each is computed right or refused in one line
(exit 2, nothing on stdout, no traceback), and no file is lost. Every hostile file is built here.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from hostile import MAIN, SHEET, bomb, repack, with_external_link, workbook_bytes
from openpyxl.workbook.defined_name import DefinedName

from xlduty.recalc import RecalcError, recalc
from xlduty.recalc import reader as reader_module

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbook" / "xlduty.xlsm"


def HALF(x: Any, rate: Any) -> float:
    """A stand-in add-in function: x × rate."""
    return x * rate


def _cli(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``xlduty …`` in a child limited to 2 GB of address space (so a254b06's way with a bomb fails fast
    instead of swapping) and ``timeout`` seconds."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run([sys.executable, "-m", "xlduty.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, preexec_fn=limit)


def _one_line(p: subprocess.CompletedProcess[str], *parts: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr holding ``parts``."""
    assert (p.returncode, p.stdout) == (2, ""), p.stderr[-2000:]
    assert p.stderr.startswith("xlduty: ") and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
    for part in parts:
        assert part in p.stderr, p.stderr


def _values(path: Path) -> Any:
    return openpyxl.load_workbook(path, data_only=True)["Sheet1"]


# --- links to other workbooks -----------------------------------------------------------------------------------

LINKED = {
    "A1": "='[other.xlsx]Sheet1'!B7",                 # as typed, quoted
    "A2": "=[1]Sheet1!C3",                            # as Excel stores it: externalLink 1
    "A3": "='C:\\data\\[other.xlsx]Sheet1'!B7",         # a path
    "A4": "=[1]Sheet1!C3*2",
    "A5": "=SUM([1]Sheet1!C1:C3)",
    "A6": "=ExtRate",                                 # a defined name pointing into [1]
    "A7": "=INDIRECT(\"'[other.xlsx]Sheet1'!B7\")",   # INDIRECT of a literal text naming another workbook
    "A8": "='https://example.com/d/[prices.xlsx]Sheet1'!B7+1",
    "A9": "=[1]!ExtRate",                             # a name of the other workbook
}
OWN = {
    "B1": "=Sheet1!B7+1",                             # this workbook's own: 43
    "B2": "=[0]!Own",                                 # [0] is this workbook: 42
    "B3": "='C:\\addins\\xlduty.xlam'!HALF(B7,0.5)",    # an add-in's function, not a link: 21
    "B4": '="[1]Sheet1!C3"',                          # a text: [1]Sheet1!C3
}


def _linked_book(tmp_path: Path) -> Path:
    """Sheet1!B7 = 42 and C3 = 7: what a254b06 returned for the links; the link's own cached C3 is 99."""
    def fill(wb: openpyxl.Workbook) -> None:
        ws = wb["Sheet1"]
        ws["B7"], ws["C3"] = 42, 7
        for ref, formula in {**LINKED, **OWN}.items():
            ws[ref] = formula
        wb.defined_names["ExtRate"] = DefinedName("ExtRate", attr_text="[1]Sheet1!$C$3")
        wb.defined_names["Own"] = DefinedName("Own", attr_text="Sheet1!$B$7")

    return with_external_link(workbook_bytes(fill), tmp_path / "linked.xlsx", cached={"C3": 99})


def test_references_to_other_workbooks_are_not_read_from_this_one(tmp_path: Path) -> None:
    """Every form of a link gives #NAME? and is listed with the workbook it names: never this workbook's
    own B7 (42) or C3 (7), which a254b06 returned, counting them as computed. This workbook's own references,
    [0]!, an add-in's function and a text that looks like a link compute as before."""
    src = _linked_book(tmp_path)
    report = recalc(src, tmp_path / "out.xlsx", {"HALF": HALF})
    ws = _values(tmp_path / "out.xlsx")
    assert {ref: ws[ref].value for ref in LINKED} == dict.fromkeys(LINKED, "#NAME?")
    assert [ws[ref].value for ref in OWN] == [43, 42, 21, "[1]Sheet1!C3"]
    assert report.external == [
        "Sheet1!A1 (other.xlsx)", "Sheet1!A2 (other.xlsx)", "Sheet1!A3 (C:\\data\\other.xlsx)",
        "Sheet1!A4 (other.xlsx)", "Sheet1!A5 (other.xlsx)", "Sheet1!A6 (other.xlsx)", "Sheet1!A7 (other.xlsx)",
        "Sheet1!A8 (https://example.com/d/prices.xlsx)", "Sheet1!A9 (other.xlsx)"]
    assert (report.cells, report.errors, report.unsupported) == (13, 9, [])
    assert "9 refer to other workbooks, not read (#NAME?): Sheet1!A1 (other.xlsx)" in report.summary()


def test_a_link_written_by_libreoffice(tmp_path: Path) -> None:
    """An independent producer's link: LibreOffice saves ``='file:///…/other.xlsx'#$Sheet1.B7`` as
    ``[1]Sheet1!B7`` with its own externalLink part. This workbook's B7 holds 999, which a254b06 returned."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: .ci/run installs libreoffice-calc-nogui")
    other = tmp_path / "other.xlsx"
    other.write_bytes(workbook_bytes(lambda wb: wb["Sheet1"].__setitem__("B7", 5)))
    fods = tmp_path / "link.fods"
    fods.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><office:document '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2" '
        'office:mimetype="application/vnd.oasis.opendocument.spreadsheet"><office:body><office:spreadsheet>'
        '<table:table table:name="Sheet1"><table:table-row>'
        f"<table:table-cell table:formula=\"of:=['{other.as_uri()}'#$Sheet1.B7]\" office:value-type=\"float\" "
        'office:value="5"/></table:table-row><table:table-row table:number-rows-repeated="5"><table:table-cell/>'
        '</table:table-row><table:table-row><table:table-cell/><table:table-cell office:value-type="float" '
        'office:value="999"/></table:table-row></table:table></office:spreadsheet></office:body></office:document>',
        encoding="utf-8")
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--norestore", "--convert-to", "xlsx", "--outdir", str(tmp_path), str(fods)],
                   capture_output=True, timeout=180, check=False)
    src = tmp_path / "link.xlsx"
    with zipfile.ZipFile(src) as z:   # LibreOffice wrote the link as Excel does
        assert "[1]Sheet1!B7</f>" in z.read(SHEET).decode()
        assert 'Target="other.xlsx"' in z.read("xl/externalLinks/_rels/externalLink1.xml.rels").decode()
    p = _cli("recalc", str(src), "-o", str(tmp_path / "out.xlsx"))
    assert p.returncode == 0, p.stderr
    assert "1 refer to other workbooks, not read (#NAME?): Sheet1!A1 (other.xlsx)" in p.stderr
    ws = _values(tmp_path / "out.xlsx")
    assert (ws["A1"].value, ws["B7"].value) == ("#NAME?", 999)


# --- the 1904 date system -------------------------------------------------------------------------------------


def _xlsxwriter_1904(path: Path) -> Path:
    """A 2026-11-01 date cell, YEAR() of it and DATE(2026,11,1): a254b06 gave 2022 and wrote a serial that
    Excel shows as 2030-11-02."""
    wb = xlsxwriter.Workbook(str(path), {"date_1904": True})
    ws = wb.add_worksheet("Sheet1")
    ws.write_datetime("A1", dt.datetime(2026, 11, 1), wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_formula("B1", "=YEAR(A1)")
    ws.write_formula("C1", "=DATE(2026,11,1)")
    wb.close()
    return path


def _openpyxl_1904(path: Path) -> Path:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    def fill(wb: openpyxl.Workbook) -> None:
        wb.epoch = CALENDAR_MAC_1904
        wb["Sheet1"]["A1"] = dt.date(2026, 11, 1)
        wb["Sheet1"]["B1"] = "=YEAR(A1)"

    path.write_bytes(workbook_bytes(fill))
    return path


def _flagged(path: Path, value: str) -> Path:
    """A 1900-system workbook whose workbookPr says date1904=``value`` as another writer might spell it."""
    return repack(workbook_bytes(lambda wb: wb["Sheet1"].__setitem__("B1", "=YEAR(45962)")), path, edit={
        "xl/workbook.xml": lambda d: d.replace(b"<workbookPr/>", f'<workbookPr date1904="{value}"/>'.encode())})


@pytest.mark.parametrize("build", [_xlsxwriter_1904, _openpyxl_1904, lambda p: _flagged(p, " true ")],
                         ids=["xlsxwriter", "openpyxl", "true"])
def test_a_1904_workbook_is_refused_in_one_line(tmp_path: Path, build: Any) -> None:
    """Refused rather than converted: which numbers are dates is a matter of formats and of the functions
    reading them, so no shift of the cells can be right in general (README, recalc)."""
    src = build(tmp_path / "mac.xlsx")
    p = _cli("recalc", str(src), "-o", str(tmp_path / "out.xlsx"))
    _one_line(p, "uses the 1904 date system", "1,462 days")
    assert not (tmp_path / "out.xlsx").exists()


def test_a_1900_workbook_saying_so_computes(tmp_path: Path) -> None:
    """date1904="false" (or "0") is the 1900 system: YEAR(45962) = 2025 (45962 = 2025-11-01)."""
    for value in ("false", "0"):
        src = _flagged(tmp_path / f"{value}.xlsx", value)
        recalc(src, tmp_path / f"{value}-out.xlsx", {})
        assert _values(tmp_path / f"{value}-out.xlsx")["B1"].value == 2025


# --- outputs that are not a new or regular file -----------------------------------------------------------------


def _state(path: Path) -> tuple[object, ...]:
    st = os.lstat(path)
    return (st.st_mode, st.st_ino, os.readlink(path) if os.path.islink(path) else None,
            path.read_bytes() if path.is_file() and not path.is_symlink() else None)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """in.xlsm (the template), quote.json, and paths a rename would destroy."""
    shutil.copy(TEMPLATE, tmp_path / "in.xlsm")
    shutil.copy(ROOT / "examples" / "quote.json", tmp_path / "quote.json")
    (tmp_path / "keep.xlsm").write_bytes(b"someone else's")
    (tmp_path / "keep.pdf").write_bytes(b"someone else's")
    os.symlink("keep.xlsm", tmp_path / "link.xlsm")
    os.symlink("keep.pdf", tmp_path / "link.pdf")
    os.symlink("in.xlsm", tmp_path / "soft.xlsm")
    os.link(tmp_path / "in.xlsm", tmp_path / "hard.xlsm")
    os.mkfifo(tmp_path / "fifo.xlsm")
    os.mkfifo(tmp_path / "fifo.pdf")
    os.mkfifo(tmp_path / "fifo.json")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "socket.xlsm"))
    sock.close()
    (tmp_path / "adir").mkdir()
    return tmp_path


CASES = [
    (["recalc", "in.xlsm", "-o", "fifo.xlsm"], "fifo.xlsm is a FIFO (named pipe): xlduty writes only regular files"),
    (["recalc", "in.xlsm", "-o", "socket.xlsm"], "socket.xlsm is a socket"),
    (["recalc", "in.xlsm", "-o", "link.xlsm"], "link.xlsm is a symbolic link (to keep.xlsm)"),
    (["recalc", "in.xlsm", "-o", "hard.xlsm"], "hard.xlsm is the input file"),
    (["recalc", "in.xlsm", "-o", "soft.xlsm"], "soft.xlsm is the input file"),
    (["recalc", "in.xlsm", "-o", "out.xlsx"], "out.xlsx: in.xlsm is a macro-enabled workbook: write it to a .xlsm "
                                              "file (Excel refuses a package whose extension does not match"),
    (["recalc", "in.xlsm", "-o", "adir"], "adir is a folder"),
    (["recalc", "in.xlsm", "-o", "nowhere/out.xlsm"], "cannot write nowhere/out.xlsm: no such folder nowhere"),
    (["quote", "in.xlsm", "--save", "in.xlsm"], "in.xlsm is the input file"),
    (["quote", "in.xlsm", "--save", "hard.xlsm"], "hard.xlsm is the input file"),
    (["quote", "quote.json", "--save", "quote.json"], "quote.json is the input file"),
    (["quote", "quote.json", "--save", "keep.xlsm"], "keep.xlsm: the quote record is JSON: name it .json"),
    (["quote", "quote.json", "--save", "nowhere/saved.json"], "cannot write nowhere/saved.json: no such folder"),
    (["quote", "quote.json", "--save", "adir"], "adir is a folder"),
    (["quote", "quote.json", "--save", "fifo.json"], "fifo.json is a FIFO"),
    (["export-pdf", "in.xlsm", "-o", "link.pdf"], "link.pdf is a symbolic link (to keep.pdf)"),
    (["export-pdf", "in.xlsm", "-o", "fifo.pdf"], "fifo.pdf is a FIFO"),
    (["export-pdf", "in.xlsm", "-o", "quote.txt"], "quote.txt: the output must be a .pdf file"),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_no_command_writes_onto_what_it_must_not(folder: Path, args: list[str], message: str) -> None:
    """One line, exit 2, and every file of the folder as it was. On a254b06 ``quote IN --save IN`` replaced
    the macro-enabled template with JSON (exit 0); ``recalc -o`` and ``export-pdf -o`` replaced a FIFO, a
    socket or a link with a regular file; ``recalc x.xlsm -o y.xlsx`` wrote a package Excel will not open;
    ``quote --save`` into a missing folder or onto a folder ended in a traceback."""
    before = {p.name: _state(p) for p in folder.iterdir()}
    p = _cli(*args, cwd=folder)
    _one_line(p, message)
    assert {p.name: _state(p) for p in folder.iterdir()} == before


def test_quote_save_is_written_whole_and_matches_the_output(folder: Path) -> None:
    p = _cli("quote", "in.xlsm", "--save", "saved.json", "--compact", cwd=folder)
    assert p.returncode == 0, p.stderr
    import json

    assert json.loads((folder / "saved.json").read_text(encoding="utf-8")) == json.loads(p.stdout)["record"]
    assert not [x.name for x in folder.iterdir() if x.name.endswith(".tmp")]


def test_recalc_writes_a_macro_enabled_workbook_under_its_own_extension(folder: Path) -> None:
    p = _cli("recalc", "in.xlsm", "-o", "OUT.XLSM", cwd=folder)
    assert p.returncode == 0, p.stderr
    assert (folder / "OUT.XLSM").stat().st_size > 10_000


# --- zip bombs and limits -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {"honest": bomb(folder / "honest.xlsx", 300),
            "lying": bomb(folder / "lying.xlsx", 300, declared=4096)}


@pytest.mark.parametrize("command", ["recalc", "quote", "export-pdf"])
def test_a_zip_bomb_is_refused_in_one_line_by_every_reader(bombs: dict[str, Path], tmp_path: Path,
                                                           command: str) -> None:
    """300 MiB of sheet in a few hundred KB, honest headers. a254b06 inflated and parsed it all (256 MiB: a
    minute and 3 GB; 2 GiB: 101 s and 12.9 GB); ``quote`` loaded it twice into openpyxl."""
    out = {"recalc": ["-o", str(tmp_path / "out.xlsx")], "quote": [],
           "export-pdf": ["-o", str(tmp_path / "out.pdf"), "--sheets", "Sheet1"]}[command]
    p = _cli(command, str(bombs["honest"]), *out)
    limit = "256 MiB and workbooks of at most 1,024 MiB" if command != "quote" else "workbooks of at most 16 MiB"
    _one_line(p, f"part {SHEET} inflates to 300 MiB: xlduty reads", limit, "(see README, Limits)")
    assert sorted(x.name for x in tmp_path.iterdir()) == []


def test_a_zip_bomb_with_a_lying_header_is_one_line(bombs: dict[str, Path], tmp_path: Path) -> None:
    """a254b06 ended in a traceback (zipfile's CRC error)."""
    p = _cli("recalc", str(bombs["lying"]), "-o", str(tmp_path / "out.xlsx"))
    _one_line(p, f"part {SHEET} is damaged (Bad CRC-32")


def _sheet(tmp_path: Path, rows: str, name: str = "book.xlsx") -> Path:
    """A workbook whose sheet data is ``rows`` (raw XML)."""
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData>'
             "</worksheet>").encode()
    return repack(workbook_bytes(lambda wb: wb["Sheet1"].__setitem__("A1", 1)), tmp_path / name,
                  edit={SHEET: lambda _: sheet})


def test_an_array_formula_over_the_whole_grid_is_refused_at_once(tmp_path: Path) -> None:
    """One cell claiming A1:XFD1048576 (17 billion cells) as its array: a254b06 looped over every one of them
    (hours). It counts against MAX_CELLS (2,000,000) like any cell."""
    src = _sheet(tmp_path, '<row r="1"><c r="A1"><f t="array" ref="A1:XFD1048576">1</f></c></row>')
    p = _cli("recalc", str(src), "-o", str(tmp_path / "out.xlsx"), timeout=60)
    _one_line(p, "has more than 2,000,000 cells (values, formulas and array areas)",
              "for large batches use xlduty compute with a JSON array")


def test_a_range_over_the_whole_grid_is_refused_at_once(tmp_path: Path) -> None:
    """A value in XFD1048576 makes the used area the whole grid; SUM(A:XFD) would then build 17 billion
    cells (a254b06: until memory ran out). One range reads at most MAX_AREA (20,000,000) cells."""
    src = _sheet(tmp_path, '<row r="1"><c r="A1"><f>SUM(B:XFD)</f></c></row>'
                           '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    p = _cli("recalc", str(src), "-o", str(tmp_path / "out.xlsx"), timeout=60)
    _one_line(p, "a formula reads Sheet1!B1:XFD1048576, 17,178,820,608 cells: xlduty recalc reads at most "
                 "20,000,000 cells in one range")


@pytest.mark.parametrize(("rows", "message"), [
    ('<row r="1048577"><c r="A1048577"><v>1</v></c></row>', "row 1,048,577 is beyond Excel's grid"),
    ('<row r="1"><c r="XFE1"><v>1</v></c></row>', "column 16,385 is beyond Excel's grid"),
    ('<row r="x"><c><v>1</v></c></row>', "holds a malformed cell (invalid literal for int()"),
    ('<row r="1"><c r="A1" t="s"><v>7</v></c></row>', "holds a malformed cell (list index out of range)"),
])
def test_cells_outside_the_grid_or_malformed_are_one_line(tmp_path: Path, rows: str, message: str) -> None:
    """a254b06: a traceback for the malformed ones; the grid is Excel's (1,048,576 rows, XFD columns)."""
    with pytest.raises(RecalcError, match=message.replace("(", r"\(").replace(")", r"\)")):
        recalc(_sheet(tmp_path, rows), tmp_path / "out.xlsx", {})


def test_limits_on_cells_strings_and_elements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The counts, with the limits made small: cells (values and formulas, all sheets), shared strings, XML
    elements in all and outside rows (junk a sheet may hold by the million: it stays in memory until the part
    ends, so it is bounded too)."""
    monkeypatch.setattr(reader_module, "MAX_CELLS", 100)
    monkeypatch.setattr(reader_module, "MAX_ELEMENTS", 1_000)
    monkeypatch.setattr(reader_module, "_LOOSE", 50)
    monkeypatch.setattr(reader_module, "_ROW_ELEMENTS", 10)
    cells = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><f>A{r}*2</f></c></row>' for r in range(1, 51))
    recalc(_sheet(tmp_path, cells), tmp_path / "ok.xlsx", {})   # 100 cells: at the limit
    assert _values(tmp_path / "ok.xlsx")["B50"].value == 100
    more = cells + '<row r="51"><c r="A51"><v>1</v></c></row>'
    with pytest.raises(RecalcError, match="has more than 100 cells"):
        recalc(_sheet(tmp_path, more, "more.xlsx"), tmp_path / "out.xlsx", {})
    junk = '<row r="1"><c r="A1"><v>1</v></c></row>' + "<x/>" * 70
    with pytest.raises(RecalcError, match="or more than 50 outside their rows"):
        recalc(_sheet(tmp_path, junk, "junk.xlsx"), tmp_path / "out.xlsx", {})
    wide = '<row r="1">' + "<c><v>1</v></c>" * 600 + "</row>"
    with pytest.raises(RecalcError, match="more than 1,000 XML elements"):
        recalc(_sheet(tmp_path, wide, "wide.xlsx"), tmp_path / "out.xlsx", {})
    wb = xlsxwriter.Workbook(str(tmp_path / "strings.xlsx"))   # XlsxWriter keeps strings in sharedStrings.xml
    wb.add_worksheet("Sheet1").write_column("A1", [f"s{i}" for i in range(120)])
    wb.close()
    with pytest.raises(RecalcError, match="has more than 100 shared strings"):
        recalc(tmp_path / "strings.xlsx", tmp_path / "out.xlsx", {})
    assert not (tmp_path / "out.xlsx").exists()


def test_two_sheets_on_one_part_are_refused(tmp_path: Path) -> None:
    """Listing one sheet part many times would read it many times over."""
    src = repack(workbook_bytes(lambda wb: wb["Sheet1"].__setitem__("A1", "=1")), tmp_path / "twice.xlsx", edit={
        "xl/workbook.xml": lambda d: d.replace(
            b"</sheets>", b'<sheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
                          b'name="Again" sheetId="2" r:id="rId1"/></sheets>')})
    with pytest.raises(RecalcError, match="sheets 'Sheet1' and 'Again' are the same part"):
        recalc(src, tmp_path / "out.xlsx", {})
