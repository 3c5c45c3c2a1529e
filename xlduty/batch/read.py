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

from xlduty.batch.columns import GROUP, Layout, blank, distinct_keys
from xlduty.core.errors import InputError

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_BLOCK = 1 << 20
_DELIMITERS = (",", "\t", ";", "|")

# What one row may hold (README, Limits): a broken file (a quote left open, a delimiter run wild, a cell inflated from
# a few bytes of Parquet) is refused in one line instead of being held in memory whole.
MAX_ROW_CHARS = 1 << 20
"""A CSV row, all its lines, in characters (the header too): 1,048,576. A 24 MB row of 8 million empty cells took
657 MB before it could be refused as a row with more cells than the header."""
MAX_COLUMNS = 16_384
"""Columns of a batch: Excel's own (A–XFD)."""
MAX_CELL_BYTES = 1 << 20
"""One Parquet cell, as stored (a text's UTF-8 bytes): 1 MiB, as a CSV row."""
MAX_PARQUET_CHUNK_BYTES = 256 << 20
"""One column of one Parquet row group, uncompressed, as its metadata declares it before anything is read: 256 MiB
(a million rows of 250-byte descriptions). A 4 KB file whose one cell inflated to 100 MB took 1.3 GB before."""


def _file(path: str) -> Path:
    """The batch's file, a regular one; missing or unreadable, it is refused as every command refuses an input."""
    from xlduty.files import cannot_read

    if path == "-":
        raise InputError("", "xlduty batch reads a file, not standard input (-): it reads the file more than once "
                             "(its encoding, then its rows a chunk at a time); save the rows to a .csv file first")
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise cannot_read(path, exc) from None
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
        _text_encoding(self.encoding)
        try:
            with self._open() as fh:
                first = fh.readline(MAX_ROW_CHARS + 1)
        except UnicodeError as exc:   # an --encoding the file is not written in (ascii on cp932, utf-16 on UTF-8)
            why = getattr(exc, "reason", None) or str(exc)
            raise InputError("encoding", f"{self.path} is not {self.encoding} text (in its first lines): {why}"
                             ) from None
        if len(first) > MAX_ROW_CHARS:
            raise InputError("", f"{path}: the header line is longer than {MAX_ROW_CHARS:,} characters: is it a "
                                 "CSV file?")
        self.delimiter = delimiter or delimiter_of(first)
        if delimiter is not None and len(delimiter) != 1:
            raise InputError("delimiter", f"{delimiter!r}: give one character (\\t: write it as $'\\t')")
        reader = csv.reader(io.StringIO(first), delimiter=self.delimiter)
        self.columns = [c.strip() for c in next(reader, [])]
        if not any(self.columns):
            raise InputError("", f"{path} has no header row (the first line names the columns)")
        if len(self.columns) > MAX_COLUMNS:
            raise InputError("", f"{path}: the header has {len(self.columns):,} columns, more than {MAX_COLUMNS:,}")

    def _open(self) -> io.TextIOWrapper:
        return self.path.open("r", encoding=self.encoding, newline="")

    def chunks(self, size: int) -> Iterator[list[list[Any]]]:
        width = len(self.columns)
        with self._open() as fh:
            lines = _Lines(fh, self.path)
            reader = csv.reader(lines, delimiter=self.delimiter)
            try:
                next(reader)
                lines.row_done()
                chunk: list[list[Any]] = []
                for row in reader:
                    lines.row_done()
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
            except UnicodeError as exc:
                why = getattr(exc, "reason", None) or str(exc)
                raise InputError("encoding", f"{self.path} is not {self.encoding} text after line "
                                             f"{reader.line_num}: {why}") from None


def _text_encoding(name: str) -> None:
    """``name`` must be a text encoding Python knows (``base64``, ``rot13``, ``zlib`` are codecs of bytes or of
    text to text: refused, never an internal error)."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise InputError("encoding", f"{name!r} is not an encoding Python knows (e.g. utf-8, cp932, utf-16)") from None
    if not getattr(info, "_is_text_encoding", True):   # what open() itself checks, and refuses with a LookupError
        raise InputError("encoding", f"{name!r} is not a text encoding (e.g. utf-8, cp932, utf-16)")


class _Lines:
    """The lines of a CSV file for ``csv.reader``, each read within ``MAX_ROW_CHARS`` and counted until the row they
    make is done (``row_done``): an endless line or a quote left open is refused before it fills memory."""

    __slots__ = ("chars", "fh", "path")

    def __init__(self, fh: io.TextIOWrapper, path: Path) -> None:
        self.fh, self.path, self.chars = fh, path, 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.fh.readline(MAX_ROW_CHARS + 1)
        if not line:
            raise StopIteration
        self.chars += len(line)
        if self.chars > MAX_ROW_CHARS:
            raise InputError("", f"{self.path}: a row longer than {MAX_ROW_CHARS:,} characters (a quote left open, or "
                                 "not a CSV file?)")
        return line

    def row_done(self) -> None:
        self.chars = 0


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
        if len(self.columns) > MAX_COLUMNS:
            raise InputError("", f"{path} has {len(self.columns):,} columns, more than {MAX_COLUMNS:,}")
        self.total = self.file.metadata.num_rows
        self._check_sizes()

    def _check_sizes(self) -> None:
        """The uncompressed sizes the file's metadata declares, checked before any data is read: a column of a row
        group within ``MAX_PARQUET_CHUNK_BYTES``, and a row group's rows within ``MAX_CELL_BYTES`` each on average
        (a few bytes of Parquet may inflate to gigabytes)."""
        meta = self.file.metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                size = group.column(c).total_uncompressed_size
                if size > MAX_PARQUET_CHUNK_BYTES:
                    raise InputError("", f"{self.path}: column {self.columns[c]!r} holds {size:,} bytes uncompressed "
                                         f"in row group {g}, more than {MAX_PARQUET_CHUNK_BYTES:,} (README, Limits)")
            rows = max(group.num_rows, 1)
            if group.total_byte_size > MAX_CELL_BYTES * rows:
                raise InputError("", f"{self.path}: row group {g} holds {group.total_byte_size:,} bytes uncompressed "
                                     f"in {group.num_rows:,} rows, more than {MAX_CELL_BYTES:,} a row (README, "
                                     "Limits)")

    def chunks(self, size: int) -> Iterator[list[list[Any]]]:
        for batch in self.file.iter_batches(batch_size=size):
            _check_cells(batch, self.path)
            cols = [c.to_pylist() for c in batch.columns]
            yield [list(r) for r in zip(*cols, strict=True)] if cols else []


def _check_cells(batch: Any, path: Path) -> None:
    """No text or bytes cell of ``batch`` above ``MAX_CELL_BYTES``, checked on the Arrow arrays before they become
    Python objects (a text of 100 MB of ASCII is 100 MB more as a Python string)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        t = column.type
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
            longest = pc.max(pc.binary_length(column)).as_py()
            if longest is not None and longest > MAX_CELL_BYTES:
                raise InputError("", f"{path}: a cell of column {name!r} holds {longest:,} bytes, more than "
                                     f"{MAX_CELL_BYTES:,} (README, Limits)")


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
        # most often: every row a declaration of its own, never seen before (C loops)
        if g is not None and rows and max(map(len, rows)) <= width and (keys := distinct_keys(rows, g)) is not None:
            trimmed, distinct = keys
            if current not in distinct and closed.isdisjoint(distinct):   # what the loop below finds: nothing refused
                if current is not _NONE and current is not None:
                    closed.add(current)
                closed.update(trimmed[:-1])
                current = trimmed[-1]
                return {}
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
