"""vbaProject.bin from VBA source (MS-OVBA, MS-CFB), checked with readers we did not write.

- compression: the MS-OVBA 3.2 worked examples byte for byte; round trips through olevba's decompressor;
- compound file: olefile (strict) lists exactly our streams with exactly our bytes, and a reader of the
  raw directory written here from MS-CFB 2.6 checks name order and the red-black tree;
- project: olevba reads every module from an .xlsm built with XlsxWriter; records, references,
  attribute headers and docstrings compared with the files shipped in the xlwings package, and record
  by record with one Excel saved itself (every difference is one EXCEL_DIFFERENCES explains);
- LibreOffice imports the modules (converted to .ods, its Basic library XML read back);
- the same input gives the same bytes.

Attribute lines: the stored text is the module text with the exported header rewritten as Excel stores
it (``VERSION 1.0 CLASS`` … ``END`` dropped; VB_Name, and for document and class modules VB_Base and
the six flags, then any other module attribute). Below that header every line is compared verbatim.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from datetime import datetime
from pathlib import Path

import olefile
import pytest
import xlsxwriter
import xlwings
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from xlduty.excel.cfb import build_compound_file, name_key
from xlduty.excel.vba_project import REFERENCES, VbaModule, build_vba_project, compress, encrypt, module_text

XLWINGS = Path(xlwings.__file__).parent
# Files Excel opens for every xlwings user. xlwings' release script rewrites them with Aspose.Cells from
# Excel-saved originals (xlwings scripts/build_excel_files.py); EXCEL_SAVED below is one Excel saved itself.
EXCEL_STANDALONE = XLWINGS / "quickstart_standalone.xlsm"  # documents, module, class
EXCEL_RIBBON_ADDIN = XLWINGS / "quickstart_addin_ribbon.xlam"  # no PROJECTCOMPATVERSION
EXCEL_ADDIN = XLWINGS / "addin" / "xlwings.xlam"  # references stdole and Office


def _ribbon_module() -> VbaModule:
    return VbaModule("XlDutyRibbon", "standard", (
        'Attribute VB_Name = "XlDutyRibbon"\n'
        "Option Explicit\n"
        "\n"
        "Public Sub OnRefresh(control As IRibbonControl)\n"
        '    MsgBox "Rates refreshed", vbInformation, "xlduty"\n'
        "End Sub\n"
        "\n"
        "Public Function DutyTwice(ByVal x As Double) As Double\n"
        "    DutyTwice = 2 * x\n"
        "End Function\n"))


def _modules() -> list[VbaModule]:
    return [
        VbaModule("ThisWorkbook", "document",
                  "Private Sub Workbook_Open()\r\n    Application.StatusBar = \"xlduty ready\"\r\nEnd Sub\r\n"),
        VbaModule("Sheet1", "document", "Private Sub Worksheet_Activate()\n    Me.Range(\"A1\").Select\nEnd Sub"),
        _ribbon_module(),
        VbaModule("Counter", "class", (
            "VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\n"
            'Attribute VB_Name = "Counter"\r\n'
            "Attribute VB_PredeclaredId = True\r\n"
            "Private n As Long\r\n\r\nPublic Sub Bump()\r\n    n = n + 1\r\nEnd Sub\r\n\r\n"
            "Public Property Get Value() As Long\r\n    Value = n\r\nEnd Property\r\n")),
        VbaModule("xlwings", "standard", (XLWINGS / "xlwings.bas").read_text(encoding="cp1252")),
        VbaModule("Dictionary", "class", (XLWINGS / "addin" / "Dictionary.cls").read_text(encoding="cp1252")),
    ]


def _xlsm(vba: bytes, path: Path) -> Path:
    """The container the workbook build uses: XlsxWriter with the bin as a stream and code names set."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": datetime(2026, 1, 1)})
    ws = wb.add_worksheet()
    ws.write(0, 0, "xlduty")
    wb.add_vba_project(io.BytesIO(vba), is_stream=True)
    wb.set_vba_name("ThisWorkbook")
    ws.set_vba_name("Sheet1")
    wb.close()
    return path


@pytest.fixture(scope="module")
def vba_bin() -> bytes:
    return build_vba_project(_modules())


@pytest.fixture(scope="module")
def xlsm(vba_bin: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _xlsm(vba_bin, tmp_path_factory.mktemp("xlsm") / "macros.xlsm")


def _excel_bin(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/vbaProject.bin")


def _lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _split_header(lines: list[str]) -> tuple[list[str], list[str]]:
    """(leading ``Attribute VB_`` lines, the rest), after an exported class's VERSION … END block."""
    if lines and lines[0].startswith("VERSION 1.0 CLASS"):
        lines = lines[lines.index("END") + 1:]
    count = 0
    while count < len(lines) and lines[count].startswith("Attribute VB_"):
        count += 1
    return lines[:count], lines[count:]


# --- 1. compression (MS-OVBA 2.4.1, examples 3.2) ----------------------------------------------

SPEC_EXAMPLES = [
    pytest.param(b"abcdefghijklmnopqrstuv.",
                 "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E",
                 id="3.2.1-no-compression"),
    pytest.param(b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",
                 "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 20 6D 6E 6F"
                 " 70 06 71 02 70 04 00 72 73 74 75 76 10 77 78 79 7A 00 2C",
                 id="3.2.2-normal"),
    pytest.param(b"a" * 73, "01 03 B0 02 61 45 00", id="3.2.3-maximum"),
]


@pytest.mark.parametrize(("plain", "spec_hex"), SPEC_EXAMPLES)
def test_compression_reproduces_spec_examples(plain: bytes, spec_hex: str) -> None:
    """MS-OVBA 3.2: our compressor emits the spec's bytes, and olevba decompresses them to the spec's text."""
    spec = bytes.fromhex(spec_hex)
    assert compress(plain) == spec
    assert bytes(decompress_stream(bytearray(spec))) == plain


def _decompressed(container: bytes) -> bytes:
    return bytes(decompress_stream(bytearray(container)))


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 4095, 4096, 4097, 8192, 8195, 20000])
def test_compression_round_trip_chunk_edges(size: int) -> None:
    """Containers of 0, 1 and many chunks, cut at and around the 4,096-byte chunk boundary."""
    text = (b'Public Sub S()\r\n    Debug.Print "x"\r\nEnd Sub\r\n' * 600)[:size]
    assert _decompressed(compress(text)) == text
    spaces = b" " * size  # long overlapping copies (indentation)
    assert _decompressed(compress(spaces)) == spaces


def test_compression_round_trip_real_module() -> None:
    """The 1,200-line xlwings module (12 chunks) survives olevba's decompressor, and shrinks."""
    data = (XLWINGS / "xlwings.bas").read_bytes()
    packed = compress(data)
    assert _decompressed(packed) == data
    assert len(packed) < len(data) / 2


def test_incompressible_chunk_is_stored_raw() -> None:
    """A chunk that does not compress is a raw chunk (flag 0, 4,096 bytes: MS-OVBA 2.4.1.1.4)."""
    data = random.Random(7).randbytes(8192)
    packed = compress(data)
    header = struct.unpack_from("<H", packed, 1)[0]
    assert header >> 15 == 0 and (header >> 12) & 0b111 == 0b011
    assert len(packed) == 1 + 2 * (2 + 4096)
    assert _decompressed(packed) == data


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=9000) | st.text(alphabet="ab \r\nSubEnd()=", max_size=9000).map(str.encode))
def test_compression_round_trip_property(data: bytes) -> None:
    """Any input: olevba gives it back; a raw final chunk may only add the spec's zero padding."""
    out = _decompressed(compress(data))
    assert out[:len(data)] == data
    assert out == data or (len(out) % 4096 == 0 and not any(out[len(data):]))


# --- 2. compound file (MS-CFB) -----------------------------------------------------------------


def _cfb_entries() -> dict[str, bytes]:
    rng = random.Random(3)
    entries = {
        "PROJECT": b"ID=...\r\n" * 40,
        "PROJECTwm": b"",
        "VBA/_VBA_PROJECT": bytes.fromhex("CC61FFFF000100"),
        "VBA/big": rng.randbytes(70_000),  # several FAT chains and more than one FAT sector
        "VBA/cutoff": b"c" * 4096,  # exactly the cutoff: regular sectors
        "VBA/under": b"u" * 4095,  # just under: mini stream
        "Other/Deeper/leaf": b"leaf",
    }
    for i in range(37):  # an incomplete deepest level in the red-black tree
        entries[f"VBA/Module{i}"] = rng.randbytes(rng.randrange(1, 3000))
    return entries


def test_olefile_lists_exact_streams_and_contents() -> None:
    """olefile, raising on any defect it would otherwise tolerate, finds our streams with our bytes."""
    entries = _cfb_entries()
    ole = olefile.OleFileIO(io.BytesIO(build_compound_file(entries)), raise_defects=olefile.DEFECT_INCORRECT)
    streams = {"/".join(p) for p in ole.listdir(streams=True, storages=False)}
    storages = {"/".join(p) for p in ole.listdir(streams=False, storages=True)}
    assert streams == set(entries)
    assert storages == {"VBA", "Other", "Other/Deeper"}
    for path, data in entries.items():
        assert ole.get_size(path) == len(data)
        assert ole.openstream(path).read() == data, path
    assert ole.minisectorcutoff == 4096


def _read_directory(data: bytes) -> list[dict[str, int | str]]:
    """Directory entries of a version 3 file, read from the header and FAT (MS-CFB 2.2, 2.3, 2.6)."""
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    major, order, shift, mini_shift = struct.unpack_from("<HHHH", data, 26)
    assert (major, order, shift, mini_shift) == (3, 0xFFFE, 9, 6)
    fat_count, first_dir = struct.unpack_from("<I", data, 44)[0], struct.unpack_from("<I", data, 48)[0]
    difat = struct.unpack_from("<109I", data, 76)
    fat: list[int] = []
    for sector in difat[:fat_count]:
        fat += struct.unpack_from("<128I", data, 512 + sector * 512)
    entries = []
    sector = first_dir
    while sector != 0xFFFFFFFE:
        for k in range(4):
            raw = data[512 + sector * 512 + k * 128:][:128]
            name_len, kind, color, left, right, child = struct.unpack_from("<HBBIII", raw, 64)
            name = raw[:max(name_len - 2, 0)].decode("utf-16-le")
            entries.append({"name": name, "kind": kind, "color": color, "left": left, "right": right,
                            "child": child})
        sector = fat[sector]
    return entries


def _check_red_black(entries: list[dict[str, int | str]], top: int) -> list[str]:
    """In-order names of the tree at ``top``, after checking MS-CFB 2.6.4's red-black rules."""
    names: list[str] = []

    def walk(i: int, parent_red: bool) -> int:
        if i == 0xFFFFFFFF:
            return 1
        e = entries[i]
        red = e["color"] == 0
        assert not (red and parent_red), f"red entry {e['name']} under a red parent"
        left = walk(int(e["left"]), red)
        names.append(str(e["name"]))
        right = walk(int(e["right"]), red)
        assert left == right, f"unequal black height under {e['name']}"
        return left + (0 if red else 1)

    assert top == 0xFFFFFFFF or entries[top]["color"] == 1  # the root of the tree is black
    walk(top, False)
    return names


def test_directory_is_a_sorted_red_black_tree() -> None:
    """Every storage's children: in-order walk follows MS-CFB name order, red-black rules hold."""
    entries = _cfb_entries()
    directory = _read_directory(build_compound_file(entries))
    assert directory[0]["name"] == "Root Entry" and directory[0]["kind"] == 5
    storages = [e for e in directory if e["kind"] in (1, 5)]
    assert len(storages) == 4
    for storage in storages:
        names = _check_red_black(directory, int(storage["child"]))
        assert names == sorted(names, key=name_key)
    root_names = _check_red_black(directory, int(directory[0]["child"]))
    assert root_names == ["VBA", "Other", "PROJECT", "PROJECTwm"]  # length first, then upper-case order
    vba = next(e for e in directory if e["name"] == "VBA")
    assert set(_check_red_black(directory, int(vba["child"]))) == {p[4:] for p in entries if p.startswith("VBA/")}


def test_name_order_is_length_then_upper_case() -> None:
    """MS-CFB 2.6.4: shorter names sort first; equal lengths compare upper-cased code points."""
    assert sorted(["dir", "Sheet1", "_VBA_PROJECT", "ab", "AC", "aB1"], key=name_key) == [
        "ab", "AC", "aB1", "dir", "Sheet1", "_VBA_PROJECT"]


@pytest.mark.parametrize("bad", [{"x" * 32: b""}, {"a:b": b""}, {"VBA": b"", "VBA/x": b""}, {"a": b"", "A": b""}])
def test_compound_file_rejects_bad_names(bad: dict[str, bytes]) -> None:
    with pytest.raises(ValueError, match="compound file"):
        build_compound_file(bad)


# --- 3. the VBA project ------------------------------------------------------------------------


def test_project_streams(vba_bin: bytes) -> None:
    """The streams Excel writes, and a source-only _VBA_PROJECT (version 0xFFFF: MS-OVBA 2.3.4.1)."""
    ole = olefile.OleFileIO(io.BytesIO(vba_bin), raise_defects=olefile.DEFECT_INCORRECT)
    streams = {"/".join(p) for p in ole.listdir()}
    names = [m.name for m in _modules()]
    assert streams == {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir", *(f"VBA/{n}" for n in names)}
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")
    project = ole.openstream("PROJECT").read().decode("cp1252")
    assert project.startswith('ID="{') and project.endswith("\r\n")
    for line in ("Document=ThisWorkbook/&H00000000", "Document=Sheet1/&H00000000", "Module=XlDutyRibbon",
                 "Class=Counter", "Module=xlwings", "Class=Dictionary", 'Name="VBAProject"', 'HelpContextID="0"',
                 'VersionCompatible32="393222000"', "[Host Extender Info]",
                 "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000", "[Workspace]",
                 "ThisWorkbook=0, 0, 0, 0, C", "Dictionary=0, 0, 0, 0, C"):
        assert line in project.split("\r\n"), line
    wm = ole.openstream("PROJECTwm").read()
    assert wm == b"".join(n.encode() + b"\0" + n.encode("utf-16-le") + b"\0\0" for n in names) + b"\0\0"


def _decrypt(hex_text: str) -> tuple[int, bytes]:
    """MS-OVBA 2.4.3.3 Data Decryption: (ProjKey, Data)."""
    enc = bytes.fromhex(hex_text)
    seed, version_enc, proj_key_enc = enc[:3]
    assert seed ^ version_enc == 2
    proj_key = seed ^ proj_key_enc
    unencrypted_1, encrypted_1, encrypted_2 = proj_key, proj_key_enc, version_enc
    plain = bytearray()
    for byte_enc in enc[3:]:
        byte = byte_enc ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        plain.append(byte)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte_enc, byte
    ignored = (seed & 6) // 2
    length = int.from_bytes(plain[ignored:ignored + 4], "little")
    data = bytes(plain[ignored + 4:])
    assert length == len(data)
    return proj_key, data


def _protection(project: str) -> dict[str, str]:
    return dict(re.findall(r'^(ID|CMG|DPB|GC)="([^"]*)"', project, re.M))


@pytest.mark.parametrize("source", ["ours", EXCEL_STANDALONE, EXCEL_RIBBON_ADDIN])
def test_protection_fields_say_unprotected(source: str | Path, vba_bin: bytes) -> None:
    """CMG 0x00000000, DPB 0x00, GC 0xFF, keyed by the project ID (MS-OVBA 2.3.1.15-17, 2.4.3): the same
    decryption reads Excel's own files, so it is the spec's, not a mirror of our encryption."""
    data = vba_bin if source == "ours" else _excel_bin(Path(source))
    ole = olefile.OleFileIO(io.BytesIO(data))
    fields = _protection(ole.openstream("PROJECT").read().decode("cp1252"))
    proj_key = sum(fields["ID"].encode()) & 0xFF
    assert _decrypt(fields["CMG"]) == (proj_key, bytes(4))
    assert _decrypt(fields["DPB"]) == (proj_key, b"\x00")
    assert _decrypt(fields["GC"]) == (proj_key, b"\xff")
    assert 22 <= len(fields["CMG"]) <= 28 and 16 <= len(fields["GC"]) <= 22  # ABNF lengths


def test_encryption_round_trips_for_every_seed() -> None:
    for seed in range(256):
        assert _decrypt(encrypt(b"\x01\x02\x03\x04", "{00000000-0000-0000-0000-000000000000}", seed))[1] == (
            b"\x01\x02\x03\x04")


def _dir_records(vba: bytes) -> list[tuple[int, bytes]]:
    """The decompressed dir stream as (Id, payload) records (MS-OVBA 2.3.4.2)."""
    ole = olefile.OleFileIO(io.BytesIO(vba))
    data = _decompressed(ole.openstream("VBA/dir").read())
    records, i = [], 0
    while i < len(data):
        rid, size = struct.unpack_from("<HI", data, i)
        if rid == 0x0009:  # PROJECTVERSION: Reserved (4) where Size would be, then 6 bytes
            size = 6
        records.append((rid, data[i + 6:i + 6 + size]))
        i += 6 + size
    return records


def _shape(records: list[tuple[int, bytes]]) -> tuple[list[int], list[list[int]]]:
    """(Ids of PROJECTINFORMATION, Ids of each module record), references left out."""
    ids = [r for r, _ in records]
    info = ids[:ids.index(0x0016)] if 0x0016 in ids else ids[:ids.index(0x000F)]
    modules, current = [], []
    for rid in ids[ids.index(0x0013) + 1:]:
        current.append(rid)
        if rid == 0x002B:
            modules.append(current)
            current = []
    return info, modules


def test_dir_records_have_excel_shape(vba_bin: bytes) -> None:
    """Record by record, the dir stream has the layout of an Excel-saved one; the module records are those
    of the same kind of module in Excel's file (MODULETYPE 0x21 procedural, 0x22 document / class)."""
    ours_info, ours_modules = _shape(_dir_records(vba_bin))
    excel_info, excel_modules = _shape(_dir_records(_excel_bin(EXCEL_RIBBON_ADDIN)))
    assert ours_info == excel_info
    procedural = next(m for m in excel_modules if 0x0021 in m)
    other = next(m for m in excel_modules if 0x0022 in m)
    for module, shape in zip(_modules(), ours_modules, strict=True):
        assert shape == (procedural if module.kind == "standard" else other), module.name
    records = _dir_records(vba_bin)
    assert (0x0003, struct.pack("<H", 1252)) in records
    assert [p for r, p in records if r == 0x0031] == [bytes(4)] * len(_modules())  # MODULEOFFSET 0


def test_references_are_byte_for_byte_excels(vba_bin: bytes) -> None:
    """stdole and the Office library as REFERENCENAME + REFERENCEREGISTERED, exactly as Excel wrote them."""
    def references(vba: bytes) -> dict[str, bytes]:
        records = _dir_records(vba)
        found = {}
        for k, (rid, _) in enumerate(records):
            if rid == 0x000D:
                name = records[k - 2][1].decode("cp1252")
                found[name] = b"".join(struct.pack("<HI", r, len(p)) + p for r, p in records[k - 2:k + 1])
        return found

    ours = references(vba_bin)
    assert list(ours) == [name for name, _ in REFERENCES] == ["stdole", "Office"]
    assert ours == references(_excel_bin(EXCEL_ADDIN))


def _olevba_modules(path: Path) -> dict[str, tuple[str, str]]:
    """module name -> (file name olevba gives it, source text) from olevba's VBA_Parser."""
    parser = VBA_Parser(str(path))
    try:
        return {stream.split("/")[-1]: (filename, code) for _, stream, filename, code in parser.extract_macros()}
    finally:
        parser.close()


def test_olevba_reads_every_module_verbatim(xlsm: Path) -> None:
    """olevba, reading the .xlsm, finds each module (.bas for standard, .cls otherwise) and its text:
    every line below the attribute header is the input line, in order; the header is Excel's."""
    found = _olevba_modules(xlsm)
    modules = _modules()
    assert set(found) == {m.name for m in modules}
    for module in modules:
        filename, code = found[module.name]
        assert filename == module.name + (".bas" if module.kind == "standard" else ".cls")
        assert "\r\n" in code and "\n" not in code.replace("\r\n", "")  # CRLF throughout
        got_header, got_body = _split_header(_lines(code))
        assert got_body == _split_header(_lines(module.code))[1], module.name
        assert got_header[0] == f'Attribute VB_Name = "{module.name}"'
    assert _split_header(_lines(found["XlDutyRibbon"][1]))[0] == ['Attribute VB_Name = "XlDutyRibbon"']
    assert _split_header(_lines(found["xlwings"][1]))[0] == ['Attribute VB_Name = "xlwings"']
    assert len(_lines(found["xlwings"][1])) == len(_lines(modules[4].code)) > 1000
    counter = _split_header(_lines(found["Counter"][1]))[0]
    assert counter == ['Attribute VB_Name = "Counter"',
                       'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"',
                       "Attribute VB_GlobalNameSpace = False", "Attribute VB_Creatable = False",
                       "Attribute VB_PredeclaredId = True", "Attribute VB_Exposed = False",
                       "Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False"]


def test_headers_and_docstring_match_excels(xlsm: Path, vba_bin: bytes) -> None:
    """For ThisWorkbook, Sheet1 and the imported Dictionary.cls, the attribute header we store is the one
    Excel stored in xlwings' quickstart workbook, and Dictionary's MODULEDOCSTRING is Excel's too."""
    ours = _olevba_modules(xlsm)
    excel = _olevba_modules(EXCEL_STANDALONE)
    for name in ("ThisWorkbook", "Sheet1", "Dictionary"):
        assert _split_header(_lines(ours[name][1]))[0] == _split_header(_lines(excel[name][1]))[0], name

    def docstrings(vba: bytes) -> dict[str, bytes]:
        records = _dir_records(vba)
        names = [p.decode("cp1252") for r, p in records if r == 0x0019]
        return dict(zip(names, [p for r, p in records if r == 0x001C], strict=True))

    assert docstrings(vba_bin)["Dictionary"] == docstrings(_excel_bin(EXCEL_STANDALONE))["Dictionary"]
    assert docstrings(vba_bin)["Dictionary"].startswith(b"Drop-in replacement for Scripting.Dictionary on Mac\r\n")


def test_line_endings_are_normalised() -> None:
    """LF, CR and CRLF input store the same CRLF text; a missing final newline is added."""
    body = ["Sub A()", "    Debug.Print 1", "End Sub"]
    texts = {module_text(VbaModule("M", "standard", sep.join(body) + end))[0]
             for sep in ("\n", "\r", "\r\n") for end in ("", "\n")}
    assert texts == {'Attribute VB_Name = "M"\r\n' + "".join(line + "\r\n" for line in body)}


def test_wrong_vb_name_is_refused() -> None:
    with pytest.raises(ValueError, match="VB_Name"):
        build_vba_project([VbaModule("Right", "standard", 'Attribute VB_Name = "Wrong"\nSub A()\nEnd Sub\n')])


@pytest.mark.parametrize("name", ["1abc", "with space", "x" * 32, "dir", "Été"])
def test_bad_module_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="module name"):
        build_vba_project([VbaModule(name, "standard", "")])


def test_duplicate_module_names_are_refused() -> None:
    with pytest.raises(ValueError, match="used twice"):
        build_vba_project([VbaModule("Same", "standard", ""), VbaModule("SAME", "class", "")])


JAPANESE = "Public Sub Hello()\n    MsgBox \"関税の計算\"\nEnd Sub\n"


def test_characters_outside_the_code_page_are_refused() -> None:
    """Module text is MBCS in the project code page: 1252 cannot hold 関, and the error says where."""
    with pytest.raises(ValueError, match=r"module 'Greeting' line 2: '関' \(U\+95A2\) is not in code page 1252"):
        build_vba_project([VbaModule("Greeting", "standard", JAPANESE)])


def test_japanese_code_page_keeps_the_text(tmp_path: Path) -> None:
    """With code page 932 the same module is stored, and olevba decodes it back with PROJECTCODEPAGE."""
    vba = build_vba_project([VbaModule("ThisWorkbook", "document", ""), VbaModule("Greeting", "standard", JAPANESE)],
                            codepage=932)
    found = _olevba_modules(_xlsm(vba, tmp_path / "jp.xlsm"))
    assert _split_header(_lines(found["Greeting"][1]))[1] == _lines(JAPANESE)
    assert (0x0003, struct.pack("<H", 932)) in _dir_records(vba)


# --- 4. LibreOffice ----------------------------------------------------------------------------


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice (soffice) is not installed: apt-get install "
                    "libreoffice-calc-nogui; .ci/run installs it")
def test_libreoffice_imports_the_modules(xlsm: Path, tmp_path: Path) -> None:
    """LibreOffice opens the .xlsm and imports the VBA project: converted to .ods, its Basic library
    ``Basic/VBAProject`` lists every module with the right type (normal / document / class) and each
    module's code line for line (less the procedure Attribute lines LibreOffice drops on import)."""
    source = tmp_path / "in.xlsm"
    shutil.copyfile(xlsm, source)
    out = tmp_path / "out"
    profile = (tmp_path / "profile").as_uri()
    result = subprocess.run(
        [str(_soffice()), f"-env:UserInstallation={profile}", "--headless", "--norestore",
         "--convert-to", "ods", "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=300, check=False)
    ods = out / "in.ods"
    assert ods.exists(), result.stdout + result.stderr

    ns = {"library": "http://openoffice.org/2000/library", "script": "http://openoffice.org/2000/script"}
    expected_type = {"standard": "normal", "document": "document", "class": "class"}
    with zipfile.ZipFile(ods) as z:
        library = ET.fromstring(z.read("Basic/VBAProject/script-lb.xml"))
        listed = {e.get(f"{{{ns['library']}}}name") for e in library.findall("library:element", ns)}
        assert listed == {m.name for m in _modules()}
        for module in _modules():
            root = ET.fromstring(z.read(f"Basic/VBAProject/{module.name}.xml"))
            assert root.get(f"{{{ns['script']}}}name") == module.name
            assert root.get(f"{{{ns['script']}}}moduleType") == expected_type[module.kind]
            assert _libre_body(root.text or "") == _strip_blank_tail(
                [line for line in _split_header(_lines(module.code))[1] if not line.startswith("Attribute ")]
            ), module.name
        ribbon = ET.fromstring(z.read("Basic/VBAProject/XlDutyRibbon.xml")).text or ""
        assert "Public Sub OnRefresh(control As IRibbonControl)" in _lines(ribbon)


def _strip_blank_tail(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _libre_body(text: str) -> list[str]:
    """LibreOffice's module text without the lines it adds on import (module type, VBA support, class)
    and without procedure ``Attribute`` lines, which it drops."""
    lines = _lines(text)
    while lines and (lines[0].startswith("Rem Attribute VBA_ModuleType=")
                     or lines[0] in ("Option VBASupport 1", "Option ClassModule")):
        lines = lines[1:]
    return _strip_blank_tail(lines)


# --- 5. determinism ----------------------------------------------------------------------------


def test_same_input_same_bytes(vba_bin: bytes) -> None:
    """No clock and no randomness: two builds are byte-identical; a changed module changes the bytes."""
    first, second = build_vba_project(_modules()), build_vba_project(_modules())
    assert first == second == vba_bin
    changed = [*_modules()[:2], VbaModule("XlDutyRibbon", "standard", _ribbon_module().code + "' changed\n"),
               *_modules()[3:]]
    assert build_vba_project(changed) != vba_bin


# --- 6. record by record beside a project Excel saved ------------------------------------------

EXCEL_SAVED = XLWINGS / "quickstart.xlsm"   # saved by Excel itself: _VBA_PROJECT has Excel's version and cache
_FIXED_INFO = {0x0001: "PROJECTSYSKIND", 0x0002: "PROJECTLCID", 0x0014: "PROJECTLCIDINVOKE",
               0x0003: "PROJECTCODEPAGE", 0x0005: "PROJECTDOCSTRING", 0x0040: "PROJECTDOCSTRING",
               0x0006: "PROJECTHELPFILEPATH", 0x003D: "PROJECTHELPFILEPATH", 0x0007: "PROJECTHELPCONTEXT",
               0x0008: "PROJECTLIBFLAGS", 0x000C: "PROJECTCONSTANTS", 0x003C: "PROJECTCONSTANTS"}


def _project_text(vba: bytes) -> tuple[list[tuple[str, str]], list[str], list[tuple[str, str]]]:
    """The PROJECT stream as (properties, [Host Extender Info] lines, [Workspace] entries)."""
    text = olefile.OleFileIO(io.BytesIO(vba)).openstream("PROJECT").read().decode("cp1252")
    head, _, rest = text.partition("\r\n\r\n[Host Extender Info]\r\n")
    hosts, _, workspace = rest.partition("\r\n\r\n[Workspace]\r\n")
    props = [tuple(line.split("=", 1)) for line in head.split("\r\n")]
    spaces = [tuple(line.split("=", 1)) for line in workspace.split("\r\n") if line]
    return props, hosts.split("\r\n"), spaces  # type: ignore[return-value]


def excel_differences(ours: bytes, excel: bytes) -> set[str]:
    """The names (EXCEL_DIFFERENCES) of what differs between two vbaProject.bin, record by record."""
    found: set[str] = set()
    ole = {name: olefile.OleFileIO(io.BytesIO(data)) for name, data in (("ours", ours), ("excel", excel))}
    if ole["ours"].openstream("VBA/_VBA_PROJECT").read() != ole["excel"].openstream("VBA/_VBA_PROJECT").read():
        assert ole["ours"].openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")
        found.add("_VBA_PROJECT")
    assert not [p for p in ole["ours"].listdir() if p[-1].startswith("__SRP_")]
    records = {"ours": _dir_records(ours), "excel": _dir_records(excel)}
    info = {k: r[:next(i for i, (rid, _) in enumerate(r) if rid in (0x0016, 0x000F))] for k, r in records.items()}
    if [rid for rid, _ in info["ours"]] != [rid for rid, _ in info["excel"]]:
        assert [rid for rid, _ in info["excel"] if rid != 0x004A] == [rid for rid, _ in info["ours"]]
        found.add("PROJECTCOMPATVERSION")
    for (rid, mine), (_, theirs) in zip(info["ours"], [r for r in info["excel"] if r[0] != 0x004A], strict=True):
        if rid in _FIXED_INFO:
            assert mine == theirs, _FIXED_INFO[rid]     # never a difference: these must be Excel's values
        elif rid == 0x0009 and mine != theirs:
            found.add("PROJECTVERSION")

    def names(rs: list[tuple[int, bytes]]) -> list[str]:
        return [p.decode("cp1252") for rid, p in rs if rid == 0x0016]

    if names(records["ours"]) != names(records["excel"]):
        found.add("references")
    cookies = {k: [p for rid, p in r if rid == 0x0013] for k, r in records.items()}
    if cookies["ours"] != cookies["excel"]:
        assert cookies["ours"] == [b"\xff\xff"]
        found.add("PROJECTCOOKIE")
    for rid, label in ((0x002C, "MODULECOOKIE"), (0x0031, "MODULEOFFSET")):
        mine = {p for r, p in records["ours"] if r == rid}
        if mine != {p for r, p in records["excel"] if r == rid}:
            assert mine == {b"\xff\xff" if rid == 0x002C else bytes(4)}
            found.add(label)
    ours_shape, excel_shape = _shape(records["ours"]), _shape(records["excel"])
    excel_kinds = {0x0021 in m: m for m in excel_shape[1]}   # a procedural and a document module
    for module in ours_shape[1]:
        assert module == excel_kinds[0x0021 in module]       # the same records, in Excel's order
    props = {"ours": _project_text(ours), "excel": _project_text(excel)}
    kinds = ("Document", "Module", "Class", "Package", "BaseClass")
    keys = {k: [key for key, _ in p[0] if key not in kinds] for k, p in props.items()}
    assert keys["ours"] == keys["excel"] == ["ID", "Name", "HelpContextID", "VersionCompatible32", "CMG", "DPB", "GC"]
    first_module = {k: next(i for i, (key, _) in enumerate(p[0]) if key in kinds) for k, p in props.items()}
    assert first_module["ours"] == first_module["excel"] == 1          # ID, then the modules, then Name
    values = {k: dict(p[0]) for k, p in props.items()}
    assert values["ours"]["HelpContextID"] == values["excel"]["HelpContextID"]
    assert values["ours"]["VersionCompatible32"] == values["excel"]["VersionCompatible32"]
    if values["ours"]["ID"] != values["excel"]["ID"]:
        found.add("PROJECT ID")
    if any(values["ours"][k] != values["excel"][k] for k in ("CMG", "DPB", "GC")):
        found.add("PROJECT protection")
    assert props["ours"][1] == props["excel"][1]                      # [Host Extender Info]
    documents = {k: {name: where for name, where in p[2] if name in ("ThisWorkbook", "Sheet1")}
                 for k, p in props.items()}
    assert documents["ours"] == documents["excel"] == {"ThisWorkbook": "0, 0, 0, 0, C", "Sheet1": "0, 0, 0, 0, C"}
    return found


@pytest.mark.parametrize("name", ["xlduty.xlam", "xlduty.xlsm"])
def test_shipped_project_differs_from_excels_only_as_documented(name: str) -> None:
    """The shipped project beside Excel's own save: every difference, record by record, is one that
    EXCEL_DIFFERENCES explains; all other records hold Excel's values in Excel's order."""
    from xlduty.excel.vba_project import EXCEL_DIFFERENCES

    ours = _excel_bin(Path(__file__).resolve().parents[1] / "workbook" / name)
    excel = _excel_bin(EXCEL_SAVED)
    header = olefile.OleFileIO(io.BytesIO(excel)).openstream("VBA/_VBA_PROJECT").read()
    assert header[2:4] != b"\xff\xff" and len(header) > 7   # really Excel's save: its VBA version and cache
    assert excel_differences(ours, excel) == set(EXCEL_DIFFERENCES)


def test_office_reference_is_excels_in_the_excel_saved_file(vba_bin: bytes) -> None:
    """The Office library reference, byte for byte as in the file Excel saved (not only in xlwings' add-in)."""
    def office(vba: bytes) -> bytes:
        records = _dir_records(vba)
        k = next(i for i, (rid, p) in enumerate(records) if rid == 0x0016 and p == b"Office")
        return b"".join(struct.pack("<HI", r, len(p)) + p for r, p in records[k:k + 3])

    assert office(vba_bin) == office(_excel_bin(EXCEL_SAVED))
