"""Hostile and mistaken files for the tests, built here as an adversary would: workbooks with links to other
workbooks (real externalLink parts, as ECMA-376 Part 1 §18.14 lays them out), zip bombs with honest and with
lying headers, parts in compression methods Office never writes, and packages that are not packages.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import openpyxl

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET = "xl/worksheets/sheet1.xml"


def workbook_bytes(fill: Callable[[openpyxl.Workbook], None] | None = None) -> bytes:
    """A plain workbook (openpyxl), Sheet1 filled by ``fill``."""
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    if fill is not None:
        fill(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def repack(source: bytes, path: Path, edit: Mapping[str, Callable[[bytes], bytes]] | None = None,
           add: Mapping[str, bytes] | None = None, **kw: object) -> Path:
    """``source`` (a zip) written to ``path`` with parts edited and added."""
    edit, add = edit or {}, add or {}
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, **kw) as out:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in edit:
                data = edit[info.filename](data)
            out.writestr(info.filename, data)
        for name, data in add.items():
            out.writestr(name, data)
    return path


def with_external_link(source: bytes, path: Path, target: str = "other.xlsx",
                       cached: Mapping[str, float] | None = None) -> Path:
    """``source`` with externalLink1: the workbook ``target`` ([1] in formulas), its Sheet1's cached values
    ``cached`` (cell → number), as Excel stores a link: ``externalReferences`` in workbook.xml, a
    relationship of type externalLink, the part, its externalLinkPath relationship and its content type."""
    rows = "".join(f'<row r="{"".join(ch for ch in ref if ch.isdigit())}"><cell r="{ref}"><v>{v}</v></cell></row>'
                   for ref, v in (cached or {}).items())
    part = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<externalLink xmlns="{MAIN}">'
            f'<externalBook xmlns:r="{REL}" r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
            f'<sheetDataSet><sheetData sheetId="0">{rows}</sheetData></sheetDataSet></externalBook></externalLink>')
    rels = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{REL}/externalLinkPath" Target="{target}" TargetMode="External"/>'
            "</Relationships>")
    return repack(source, path, edit={
        "xl/workbook.xml": lambda d: d.replace(
            b"</sheets>", f'</sheets><externalReferences><externalReference xmlns:r="{REL}" r:id="rIdX1"/>'
                          "</externalReferences>".encode()),
        "xl/_rels/workbook.xml.rels": lambda d: d.replace(
            b"</Relationships>", f'<Relationship Id="rIdX1" Type="{REL}/externalLink" '
                                 'Target="externalLinks/externalLink1.xml"/></Relationships>'.encode()),
        "[Content_Types].xml": lambda d: d.replace(
            b"</Types>", b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
                         b'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>'),
    }, add={"xl/externalLinks/externalLink1.xml": part.encode(),
            "xl/externalLinks/_rels/externalLink1.xml.rels": rels.encode()})


ROW = b"<row>" + b"<c><v>1</v></c>" * 100 + b"</row>"
"""A row of 100 cells without addresses: the bomb's unit, as repetitive as XML gets (deflate ratio ~ 1:300)."""


def bomb(path: Path, mib: int, declared: int | None = None, part: str = SHEET) -> Path:
    """A workbook whose ``part`` inflates to ``mib`` MiB of rows (a few hundred KB on disk). ``declared``: the
    uncompressed size its headers state instead of the true one (a lying header)."""
    source = workbook_bytes()
    chunk = ROW * ((1 << 20) // len(ROW) + 1)
    with zipfile.ZipFile(io.BytesIO(source)) as zin, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info in zin.infolist():
            if info.filename != part:
                out.writestr(info.filename, zin.read(info))
                continue
            zi = zipfile.ZipInfo(part)
            zi.compress_type = zipfile.ZIP_DEFLATED
            with out.open(zi, "w", force_zip64=mib >= 2048) as fh:
                fh.write(f'<worksheet xmlns="{MAIN}"><sheetData>'.encode())
                for _ in range(mib):
                    fh.write(chunk)
                fh.write(b"</sheetData></worksheet>")
    if declared is not None:
        declare(path, part, declared)
    return path


def declare(path: Path, part: str, size: int, flags: int | None = None) -> None:
    """Rewrite the uncompressed size (and general-purpose flags) ``part``'s central directory and local
    headers state; the data stays as it is."""
    data = bytearray(path.read_bytes())
    name = part.encode()
    at = data.rfind(b"PK\x05\x06")
    entries, _, cd_offset = struct.unpack_from("<HLL", data, at + 10)
    i = cd_offset
    for _ in range(entries):
        assert data[i:i + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, i + 28)
        if data[i + 46:i + 46 + name_len] == name:
            local = struct.unpack_from("<L", data, i + 42)[0]
            struct.pack_into("<L", data, i + 24, size)
            struct.pack_into("<L", data, local + 22, size)
            if flags is not None:
                struct.pack_into("<H", data, i + 8, flags)
                struct.pack_into("<H", data, local + 6, flags)
            path.write_bytes(bytes(data))
            return
        i += 46 + name_len + extra_len + comment_len
    raise KeyError(part)
