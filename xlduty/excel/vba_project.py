"""Build an Excel ``vbaProject.bin`` from VBA source text (MS-OVBA), deterministically.

The project carries source only: ``_VBA_PROJECT`` is the 7-byte header with version 0xFFFF and no
performance cache (MS-OVBA 2.3.4.1), every module stream is compressed source at MODULEOFFSET 0
(2.3.4.3), so Office compiles the modules from source when it opens the file. Records are written in
the order and form Excel writes them; where they differ from a file Excel saved, EXCEL_DIFFERENCES says
why Excel reads ours the same (tests/test_vba_project.py checks that list is complete).
Same modules in, same bytes out: no clock, no randomness (the project ID and the encryption seed of
the protection fields are fixed functions of the input).
"""

from __future__ import annotations

import codecs
import re
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from xlduty.excel.cfb import build_compound_file

ModuleKind = Literal["standard", "document", "class"]

# VB_Base of the host classes a module extends (values as Excel writes them).
WORKBOOK_BASE = '"0{00020819-0000-0000-C000-000000000046}"'
WORKSHEET_BASE = '"0{00020820-0000-0000-C000-000000000046}"'
CLASS_BASE = '"0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"'

# Registered type libraries referenced by the project (REFERENCEREGISTERED, MS-OVBA 2.3.4.2.2.5), in
# the Libid form Excel writes (MS-OVBA 2.1.1.8). Office resolves them by GUID and version through the
# registry; the path is only a hint. The Office library is needed for ``control As IRibbonControl``.
REFERENCES: tuple[tuple[str, str], ...] = (
    ("stdole", r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation"),
    ("Office", r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files"
               r"\Microsoft Shared\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library"),
)

# The fixed part of a document / class module header, in Excel's order, with Excel's defaults.
_DOCUMENT_ATTRIBUTES = (
    ("VB_GlobalNameSpace", "False"), ("VB_Creatable", "False"), ("VB_PredeclaredId", "True"),
    ("VB_Exposed", "True"), ("VB_TemplateDerived", "False"), ("VB_Customizable", "True"),
)
_CLASS_ATTRIBUTES = (
    ("VB_GlobalNameSpace", "False"), ("VB_Creatable", "False"), ("VB_PredeclaredId", "False"),
    ("VB_Exposed", "False"), ("VB_TemplateDerived", "False"), ("VB_Customizable", "False"),
)

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")  # module names: at most 31 characters
_PROJECT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")  # PROJECTNAME: 1 to 128 bytes (2.3.4.2.1.6)
_ATTRIBUTE = re.compile(r"Attribute\s+(VB_\w+)\s*=\s*(.*?)\s*", re.IGNORECASE)
_CLASS_HEADER_START = re.compile(r"VERSION\s+\d+\.\d+\s+CLASS\s*", re.IGNORECASE)

# MS-OVBA 2.3.4.2.1: PROJECTINFORMATION values. SysKind 3 = 64-bit Windows, as current Excel writes;
# with no compiled code in the file it only names the platform that last saved the project.
_SYSKIND_WIN64 = 0x00000003
_LCID_EN_US = 0x00000409
_PROJECT_VERSION = (0x00000001, 0x0000)  # VersionMajor, VersionMinor (2.3.4.2.1.11): any fixed value
_ENCRYPTION_SEED = 0x36  # 2.4.3.2 allows any seed; a fixed one keeps the output reproducible
_HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"  # 2.3.1.18, as Excel


# Where our project differs from one Excel saves, and why Excel reads it all the same. The reference is
# quickstart.xlsm in xlwings' wheel, the one file there last saved by Excel (it has Excel's performance
# cache; xlwings' other files are rewritten by Aspose.Cells, xlwings scripts/build_excel_files.py).
# tests/test_vba_project.py compares record by record and fails on any difference not named here; every
# other record, and the PROJECT stream's keys and their order, are as Excel writes them.
EXCEL_DIFFERENCES: dict[str, str] = {
    "_VBA_PROJECT": "Excel writes the version of the VBA that saved the file (0x00B5) and its performance "
                    "cache. MS-OVBA 2.3.4.1: Version MUST be 0xFFFF on write and the cache MUST NOT be "
                    "written; 1.6: with 0xFFFF every cache is ignored and Office compiles the source. The "
                    "xlwings files Aspose writes, which Excel opens, hold these same seven bytes.",
    "PROJECTCOMPATVERSION": "Excel 2010 and later add this record (value 5). It is optional in MS-OVBA "
                            "2.3.4.2.1 (olevba reads projects without it) and absent from the xlwings add-ins "
                            "Excel opens every day.",
    "PROJECTVERSION": "Excel stores a version number of its own choosing; MS-OVBA 2.3.4.2.1.11 gives it no "
                      "meaning on read. A fixed 1.0 keeps the bytes reproducible.",
    "references": "Excel's file references MSForms and the xlwings add-in project besides Office; ours "
                  "reference stdole and Office, what a new Excel project references and what the code "
                  "uses (IRibbonControl). Both records are byte for byte Excel's (see REFERENCES).",
    "PROJECTCOOKIE": "Excel writes a value of its own; MS-OVBA 2.3.4.2.3.1: MUST be ignored on read, MUST be "
                     "0xFFFF on write.",
    "MODULECOOKIE": "As PROJECTCOOKIE (MS-OVBA 2.3.4.2.3.2.7).",
    "MODULEOFFSET": "Excel's module streams start with its p-code cache, so the source starts further in. "
                    "Ours hold the source only (offset 0): the cache MUST be ignored on read (2.3.4.3), and "
                    "xlwings' quickstart_standalone.xlsm, which Excel opens, has its xlwings module so.",
    "PROJECT ID": "A project's own CLSID; ours is derived from the project, stable across builds.",
    "PROJECT protection": "CMG, DPB and GC hold the same values (not protected, no password, visible) "
                          "encrypted with another seed: Excel picks a random one, MS-OVBA 2.4.3.2 allows any.",
}


@dataclass(frozen=True)
class VbaModule:
    """One VBA module: ``code`` is the module text as exported to a .bas / .cls file."""

    name: str
    kind: ModuleKind
    code: str


# --- MS-OVBA 2.4.1 compression ------------------------------------------------------------------


def _copy_token_help(difference: int) -> tuple[int, int]:
    """Bit count of the offset and maximum match length at ``difference`` bytes into a chunk (2.4.1.3.19.1)."""
    bit_count = max((difference - 1).bit_length(), 4)
    return bit_count, (0xFFFF >> bit_count) + 3


def _compress_chunk(data: bytes, start: int, end: int) -> bytes:
    """Token sequences for ``data[start:end]`` (one decompressed chunk, 2.4.1.3.7).

    The match is the one the spec's backward search picks (2.4.1.3.19.4): the longest up to the chunk
    end, of equal lengths the nearest, then cut to the maximum a copy token holds. Only earlier
    positions sharing the first three bytes can give a match of three or more, so the candidates come
    from an index of three-byte prefixes, nearest first.
    """
    out = bytearray()
    prefixes: dict[bytes, list[int]] = {}
    current = start
    while current < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if current >= end:
                break
            best_len, best_pos = 0, 0
            available = end - current
            candidates = prefixes.get(data[current:current + 3], ()) if available >= 3 else ()
            for candidate in reversed(candidates):
                if best_len and data[candidate + best_len] != data[current + best_len]:
                    continue  # cannot be longer than the best so far
                length = 3
                while length < available and data[candidate + length] == data[current + length]:
                    length += 1
                if length > best_len:
                    best_len, best_pos = length, candidate
                    if length == available:
                        break
            step = 1
            if best_len >= 3:
                bit_count, maximum = _copy_token_help(current - start)
                step = min(best_len, maximum)
                out += struct.pack("<H", ((current - best_pos - 1) << (16 - bit_count)) | (step - 3))
                flags |= 1 << bit
            else:
                out.append(data[current])
            for position in range(current, min(current + step, end - 2)):
                prefixes.setdefault(data[position:position + 3], []).append(position)
            current += step
        out[flag_at] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """A CompressedContainer (MS-OVBA 2.4.1.1.1) holding ``data``, chunk by 4,096-byte chunk.

    A chunk whose tokens would exceed 4,096 bytes is stored raw (2.4.1.3.10), padded to 4,096 bytes
    as the spec says; VBA source text always compresses well below that.
    """
    out = bytearray(b"\x01")  # SignatureByte
    for start in range(0, len(data), 4096):
        end = min(start + 4096, len(data))
        tokens = _compress_chunk(data, start, end)
        if len(tokens) <= 4096:
            out += struct.pack("<H", (len(tokens) + 2 - 3) | 0xB000)  # size-3, signature 0b011, flag 1
            out += tokens
        else:
            out += struct.pack("<H", 0x3000 | (4098 - 3))  # size 4098 - 3, signature 0b011, flag 0
            out += data[start:end].ljust(4096, b"\x00")
    return bytes(out)


# --- MS-OVBA 2.4.3 data encryption (the PROJECT stream's CMG, DPB and GC) ------------------------


def encrypt(data: bytes, project_id: str, seed: int = _ENCRYPTION_SEED) -> str:
    """Data Encryption (2.4.3.2) of ``data``, as the upper-case hex text the PROJECT stream holds.

    ProjKey is the byte sum of the ``{...}`` project CLSID; the (Seed & 6) / 2 ignored bytes are zero
    before encryption, which the spec allows ("any value").
    """
    version = 2
    proj_key = sum(project_id.encode("ascii")) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ proj_key])
    unencrypted_1, encrypted_1, encrypted_2 = proj_key, out[2], out[1]
    plain = bytes((seed & 6) // 2) + struct.pack("<I", len(data)) + data
    for byte in plain:
        enc = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(enc)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, enc, byte
    return out.hex().upper()


# --- module text ----------------------------------------------------------------------------------


def _check_encodable(module: VbaModule, lines: Sequence[str], codec: str, codepage: int) -> None:
    """Module text is stored in the project code page (2.3.4.3); refuse what it cannot hold."""
    for number, line in enumerate(lines, start=1):
        try:
            line.encode(codec)
        except UnicodeEncodeError as exc:
            char = line[exc.start]
            raise ValueError(
                f"module {module.name!r} line {number}: {char!r} (U+{ord(char):04X}) is not in code page {codepage}"
            ) from None


def _unquote(value: str) -> str:
    """The text of a VBA string literal (``""`` inside stands for one quote)."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('""', '"')
    return value


def module_text(module: VbaModule) -> tuple[str, str]:
    """The module text as Excel stores it, with CRLF line ends, and the module's docstring.

    An exported .cls starts with ``VERSION 1.0 CLASS`` / ``BEGIN`` … ``END``: Excel does not keep that
    block in the module stream. The ``Attribute VB_*`` lines at the top become Excel's header: the
    module name, then for document and class modules VB_Base and the six flags in Excel's order with
    Excel's defaults unless the text sets them, then any other module attribute as given. Everything
    after the header (procedure attributes included) is kept line for line. The docstring
    (MODULEDOCSTRING, 2.3.4.2.3.2.4) is VB_Description's text, its ``\\r`` and ``\\n`` made real
    line breaks as in Excel's own dir stream.
    """
    lines = module.code.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if lines and _CLASS_HEADER_START.fullmatch(lines[0]):
        try:
            end = next(i for i, line in enumerate(lines) if line.strip().upper() == "END")
        except StopIteration:
            raise ValueError(f"module {module.name!r}: VERSION … CLASS header without END") from None
        lines = lines[end + 1:]
    given: dict[str, tuple[str, str]] = {}  # lower-cased name -> (name as written, value)
    while lines and (m := _ATTRIBUTE.fullmatch(lines[0])):
        given[m.group(1).lower()] = (m.group(1), m.group(2))
        lines = lines[1:]

    name_value = given.pop("vb_name", ("VB_Name", f'"{module.name}"'))[1]
    if _unquote(name_value) != module.name:
        raise ValueError(f"module {module.name!r}: its code says Attribute VB_Name = {name_value}")
    header = [("VB_Name", f'"{module.name}"')]
    if module.kind == "document":
        base = WORKBOOK_BASE if module.name == "ThisWorkbook" else WORKSHEET_BASE
        fixed = (("VB_Base", base), *_DOCUMENT_ATTRIBUTES)
    elif module.kind == "class":
        fixed = (("VB_Base", CLASS_BASE), *_CLASS_ATTRIBUTES)
    else:
        fixed = ()
    for key, default in fixed:
        header.append((key, given.pop(key.lower(), (key, default))[1]))
    header += list(given.values())

    description = next((_unquote(v) for k, v in header if k.lower() == "vb_description"), "")
    docstring = description.replace("\\r", "\r").replace("\\n", "\n")
    text = [f"Attribute {key} = {value}" for key, value in header] + lines
    return "".join(line + "\r\n" for line in text), docstring


# --- streams --------------------------------------------------------------------------------------


def _record(record_id: int, payload: bytes) -> bytes:
    """A dir stream record: Id (2 bytes), Size (4 bytes), then the payload (2.3.4.2)."""
    return struct.pack("<HI", record_id, len(payload)) + payload


def _text_record(record_id: int, text: str, codec: str, unicode_id: int | None) -> bytes:
    """An MBCS text record, followed by its UTF-16 twin when the record has one."""
    out = _record(record_id, text.encode(codec))
    if unicode_id is not None:
        out += _record(unicode_id, text.encode("utf-16-le"))
    return out


def _dir_stream(
    modules: Sequence[VbaModule], docstrings: Sequence[str], project_name: str, codec: str, codepage: int
) -> bytes:
    """The decompressed ``dir`` stream (2.3.4.2): PROJECTINFORMATION, PROJECTREFERENCES, PROJECTMODULES."""
    info = (
        _record(0x0001, struct.pack("<I", _SYSKIND_WIN64))  # PROJECTSYSKIND
        + _record(0x0002, struct.pack("<I", _LCID_EN_US))  # PROJECTLCID
        + _record(0x0014, struct.pack("<I", _LCID_EN_US))  # PROJECTLCIDINVOKE
        + _record(0x0003, struct.pack("<H", codepage))  # PROJECTCODEPAGE
        + _text_record(0x0004, project_name, codec, None)  # PROJECTNAME
        + _text_record(0x0005, "", codec, 0x0040)  # PROJECTDOCSTRING
        + _text_record(0x0006, "", codec, 0x003D)  # PROJECTHELPFILEPATH (both copies MBCS, empty)
        + _record(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
        + _record(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
        # PROJECTVERSION: its Reserved field sits where a Size would and is 4; 6 bytes follow.
        + struct.pack("<HIIH", 0x0009, 4, *_PROJECT_VERSION)
        + _text_record(0x000C, "", codec, 0x003C)  # PROJECTCONSTANTS
    )
    references = b""
    for name, libid in REFERENCES:
        references += _text_record(0x0016, name, codec, 0x003E)  # REFERENCENAME
        encoded = libid.encode(codec)
        body = struct.pack("<I", len(encoded)) + encoded + struct.pack("<IH", 0, 0)  # Reserved1, Reserved2
        references += _record(0x000D, body)  # REFERENCEREGISTERED
    records = (
        _record(0x000F, struct.pack("<H", len(modules)))  # PROJECTMODULES count
        + _record(0x0013, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE
    )
    for module, docstring in zip(modules, docstrings, strict=True):
        records += (
            _text_record(0x0019, module.name, codec, 0x0047)  # MODULENAME, MODULENAMEUNICODE
            + _text_record(0x001A, module.name, codec, 0x0032)  # MODULESTREAMNAME
            + _text_record(0x001C, docstring, codec, 0x0048)  # MODULEDOCSTRING
            + _record(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: source only, no p-code
            + _record(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
            + _record(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
            + struct.pack("<HI", 0x0021 if module.kind == "standard" else 0x0022, 0)  # MODULETYPE
            + struct.pack("<HI", 0x002B, 0)  # module Terminator
        )
    return info + references + records + struct.pack("<HI", 0x0010, 0)  # dir Terminator


def project_id(modules: Sequence[VbaModule], project_name: str) -> str:
    """The ProjectCLSID of the PROJECT stream (2.3.1.2): a name-based UUID, stable across builds."""
    key = "\n".join([project_name, *(f"{m.kind}:{m.name}" for m in modules)])
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "urn:xlduty:vba-project:" + key)).upper() + "}"


def _project_stream(modules: Sequence[VbaModule], project_name: str, clsid: str, codec: str) -> bytes:
    """The PROJECT stream (2.3.1): module list, name, unprotected CMG/DPB/GC, host extenders, workspace."""
    lines = [f'ID="{clsid}"']
    for m in modules:
        if m.kind == "document":
            lines.append(f"Document={m.name}/&H00000000")
        elif m.kind == "class":
            lines.append(f"Class={m.name}")
        else:
            lines.append(f"Module={m.name}")
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{encrypt(bytes(4), clsid)}"',  # ProjectProtectionState: not protected (2.3.1.15)
        f'DPB="{encrypt(bytes(1), clsid)}"',  # ProjectPassword: none (2.3.1.16)
        f'GC="{encrypt(bytes([0xFF]), clsid)}"',  # ProjectVisibilityState: visible (2.3.1.17)
        "",
        "[Host Extender Info]",
        _HOST_EXTENDER,
        "",
        "[Workspace]",
        *(f"{m.name}=0, 0, 0, 0, C" for m in modules),
    ]
    return "".join(line + "\r\n" for line in lines).encode(codec)


def _project_wm_stream(modules: Sequence[VbaModule], codec: str) -> bytes:
    """PROJECTwm (2.3.3): each module name in MBCS and UTF-16, both NUL-terminated, then a 0x0000 terminator."""
    out = b""
    for m in modules:
        out += m.name.encode(codec) + b"\x00" + m.name.encode("utf-16-le") + b"\x00\x00"
    return out + b"\x00\x00"


def _codec(codepage: int) -> str:
    name = f"cp{codepage}"
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(f"code page {codepage} is not known to Python") from None
    return name


def build_vba_project(modules: Sequence[VbaModule], project_name: str = "VBAProject", codepage: int = 1252) -> bytes:
    """The bytes of a ``vbaProject.bin`` holding ``modules`` in the given order.

    Raises ValueError for a name VBA would not accept, a module name used twice (or ``dir``, which
    would collide with the dir stream), an unknown code page, or text the code page cannot encode.
    """
    codec = _codec(codepage)
    if not _PROJECT_NAME.fullmatch(project_name):
        raise ValueError(f"project name {project_name!r} is not a VBA identifier")
    seen: set[str] = set()
    for m in modules:
        if not _IDENTIFIER.fullmatch(m.name):
            raise ValueError(f"module name {m.name!r} is not a VBA identifier of at most 31 characters")
        if m.kind not in ("standard", "document", "class"):
            raise ValueError(f"module {m.name!r}: unknown kind {m.kind!r}")
        if m.name.upper() in seen or m.name.upper() == "DIR":  # "dir" would collide with the dir stream
            raise ValueError(f"module name {m.name!r} is used twice or is reserved")
        seen.add(m.name.upper())
        _check_encodable(m, m.code.replace("\r\n", "\n").replace("\r", "\n").split("\n"), codec, codepage)

    texts = [module_text(m) for m in modules]
    clsid = project_id(modules, project_name)
    entries = {
        "PROJECT": _project_stream(modules, project_name, clsid, codec),
        "PROJECTwm": _project_wm_stream(modules, codec),
        # 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF (cache absent), Reserved2 0x00, Reserved3 as Excel.
        "VBA/_VBA_PROJECT": bytes.fromhex("CC61FFFF000100"),
        "VBA/dir": compress(_dir_stream(modules, [d for _, d in texts], project_name, codec, codepage)),
    }
    for m, (text, _) in zip(modules, texts, strict=True):
        entries[f"VBA/{m.name}"] = compress(text.encode(codec))
    return build_compound_file(entries)
