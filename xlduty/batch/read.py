"""Reading a batch in chunks: CSV (UTF-8 with or without a BOM, UTF-16 with a BOM, or cp932; the delimiter given or
read from the header) or Parquet, one row per declaration line, a chunk at a time, cut only between declarations.

The encoding of a CSV without a BOM is found by reading the whole file once as UTF-8 (in blocks, nothing kept): if
it is not UTF-8 it is read as cp932 (Shift_JIS as Excel saves it in Japan), and if it is not that either the run
stops before anything is written, naming the byte at fault.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xlduty.batch.columns import GROUP, Layout, blank
from xlduty.core.errors import InputError

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_BLOCK = 1 << 20
_DELIMITERS = (",", "\t", ";", "|")


def _file(path: str) -> Path:
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError("", f"{path}: no such file") from None
    except OSError as exc:
        raise InputError("", f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError("", f"{path} is not a regular file: give the batch as a .csv or .parquet file")
    return p


def encoding_of(path: Path) -> str:
    """utf-8-sig (a UTF-8 BOM), utf-16 (a UTF-16 BOM), utf-8, or cp932; an ``InputError`` for none of them."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
    failures = []
    for enc in ("utf-8", "cp932"):
        decoder = codecs.getincrementaldecoder(enc)()
        offset = 0
        try:
            with path.open("rb") as fh:
                while block := fh.read(_BLOCK):
                    decoder.decode(block)
                    offset += len(block)
                decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError as exc:
            failures.append(f"{enc} at byte {offset + exc.start:,}")
    raise InputError("", f"{path} is neither UTF-8 nor cp932 (Shift_JIS) text ({'; '.join(failures)}): "
                         "save it as CSV UTF-8")


def delimiter_of(header: str) -> str:
    """The delimiter of a CSV from its header line: the one of , tab ; | it holds most (a comma if none)."""
    counts = [(header.count(d), -n) for n, d in enumerate(_DELIMITERS)]
    best = max(counts)
    return _DELIMITERS[-best[1]] if best[0] else ","


class Source:
    """An input batch: its headers, its row count where known, and its rows in chunks of about ``size``."""

    columns: list[str]
    total: int | None = None
    kind: str = "csv"
    types: Any = None   # the Arrow schema of a Parquet input (its columns keep their types in a Parquet output)

    def chunks(self, size: int) -> Iterator[list[list[Any]]]:
        raise NotImplementedError


class CsvSource(Source):
    def __init__(self, path: str, *, encoding: str | None = None, delimiter: str | None = None) -> None:
        self.path = _file(path)
        self.encoding = encoding or encoding_of(self.path)
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise InputError("encoding", f"{self.encoding!r} is not an encoding Python knows") from None
        with self._open() as fh:
            first = fh.readline()
        self.delimiter = delimiter or delimiter_of(first)
        if delimiter is not None and len(delimiter) != 1:
            raise InputError("delimiter", f"{delimiter!r}: give one character (\\t: write it as $'\\t')")
        reader = csv.reader(io.StringIO(first), delimiter=self.delimiter)
        self.columns = [c.strip() for c in next(reader, [])]
        if not any(self.columns):
            raise InputError("", f"{path} has no header row (the first line names the columns)")

    def _open(self) -> io.TextIOWrapper:
        return self.path.open("r", encoding=self.encoding, newline="")

    def chunks(self, size: int) -> Iterator[list[list[Any]]]:
        width = len(self.columns)
        with self._open() as fh:
            reader = csv.reader(fh, delimiter=self.delimiter)
            try:
                next(reader)
                chunk: list[list[Any]] = []
                for row in reader:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue   # a blank line
                    if len(row) < width:
                        row += [""] * (width - len(row))
                    elif len(row) > width and any(c.strip() for c in row[width:]):
                        row = [*row[:width], _Overflow(len(row), width)]
                    elif len(row) > width:
                        del row[width:]
                    chunk.append(row)
                    if len(chunk) >= size:
                        yield chunk
                        chunk = []
                if chunk:
                    yield chunk
            except csv.Error as exc:
                raise InputError("", f"{self.path}, line {reader.line_num}: {exc}") from None
            except UnicodeDecodeError as exc:
                raise InputError("", f"{self.path} is not {self.encoding} text after line {reader.line_num}: "
                                     f"{exc.reason}") from None


class _Overflow:
    """A row with more cells than the header: it is refused (its cells do not say which column they belong to)."""

    __slots__ = ("cells", "width")

    def __init__(self, cells: int, width: int) -> None:
        self.cells, self.width = cells, width

    def message(self) -> str:
        return f"the row has {self.cells} cells and the header {self.width}: a delimiter inside an unquoted cell?"


class ParquetSource(Source):
    kind = "parquet"

    def __init__(self, path: str) -> None:
        self.path = _file(path)
        import pyarrow.parquet as pq  # not installed: the missing-extra line naming xlduty[batch] (exit 5)
        try:
            self.file = pq.ParquetFile(self.path)
        except Exception as exc:   # pyarrow's errors (ArrowInvalid …) are not OSErrors
            raise InputError("", f"{path} is not a Parquet file: {exc}") from None
        self.types = self.file.schema_arrow
        self.columns = list(self.types.names)
        self.total = self.file.metadata.num_rows

    def chunks(self, size: int) -> Iterator[list[list[Any]]]:
        for batch in self.file.iter_batches(batch_size=size):
            cols = [c.to_pylist() for c in batch.columns]
            yield [list(r) for r in zip(*cols, strict=True)] if cols else []


def open_source(path: str, *, encoding: str | None = None, delimiter: str | None = None) -> Source:
    """The batch at ``path``, by its extension (.parquet/.pq: Parquet; anything else: CSV)."""
    if os.fspath(path).lower().endswith(PARQUET_SUFFIXES):
        return ParquetSource(path)
    return CsvSource(path, encoding=encoding, delimiter=delimiter)


def declarations(source: Source, layout: Layout, size: int) -> Iterator[tuple[int, list[list[Any]], dict[int, str]]]:
    """The rows in chunks of whole declarations, about ``size`` rows each: (number of the chunk's first row, rows,
    rows refused with their error). A declaration is never cut: the rows of the last declaration of a chunk wait for
    the next. Its rows must be together: a row of a declaration that closed earlier is refused (the declaration was
    computed without it), as is a row with more cells than the header."""
    g = layout.fields.get(GROUP)
    width = len(layout.columns)
    closed: set[Any] = set()
    pending: list[list[Any]] = []
    start = 1
    current: Any = _NONE

    def refusals(rows: list[list[Any]], first: int) -> dict[int, str]:
        nonlocal current
        out: dict[int, str] = {}
        for i, row in enumerate(rows):
            if len(row) > width:
                out[i] = row.pop().message()
                continue
            if g is None:
                continue
            key = row[g]
            key = None if blank(key) else (key.strip() if type(key) is str else key)
            if key != current:
                if current is not _NONE and current is not None:
                    closed.add(current)
                current = key
                if key is not None and key in closed:
                    out[i] = (f"{layout.label(GROUP)} {key}: its rows must be together (it appeared before row "
                              f"{first + i}): sort the file by declaration")
            elif key is not None and key in closed:
                out[i] = (f"{layout.label(GROUP)} {key}: its rows must be together (it appeared before row "
                          f"{first + i}): sort the file by declaration")
        return out

    for chunk in source.chunks(size):
        rows = pending + chunk
        cut = len(rows)
        if g is not None:   # hold back the last declaration: it may go on in the next chunk
            last = rows[-1][g]
            if not blank(last):
                key = last.strip() if type(last) is str else last
                cut = len(rows) - 1
                while cut > 0 and _same(rows[cut - 1][g], key):
                    cut -= 1
        if cut == 0:
            pending = rows
            continue
        pending = rows[cut:]
        done = rows[:cut]
        refused = refusals(done, start)
        yield start, done, refused
        start += len(done)
    if pending:
        yield start, pending, refusals(pending, start)


def _same(cell: Any, key: Any) -> bool:
    if blank(cell):
        return False
    return (cell.strip() if type(cell) is str else cell) == key


_NONE = object()
