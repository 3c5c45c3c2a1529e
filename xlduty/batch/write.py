"""Writing a batch's results a chunk at a time: CSV (UTF-8 with a BOM, so Excel opens it right), Parquet or JSONL,
chosen by the file's extension. The file is one the user named: it is written through ``xlduty.files.output_file``
(atomic, never onto the input, never through a link or onto a non-regular file) by the caller.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from xlduty.batch.columns import INTEGER_COLUMNS
from xlduty.core.errors import InputError

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
WHY = "the output's extension says its format: .csv (UTF-8 with BOM), .parquet or .jsonl"


def kind_of(path: str) -> str:
    from pathlib import Path

    kind = SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        raise InputError("", f"{path}: {WHY}")
    return kind


def _cell(v: Any) -> str:
    t = type(v)
    if t is int or t is Decimal:
        return str(v)
    if v is None:
        return ""
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if t is float:
        return "" if v != v else repr(v)
    if isinstance(v, _DATES):
        return v.isoformat()
    if t is bytes:   # a Parquet binary cell: its text where it is UTF-8 (else the writer refuses it, naming it)
        return v.decode("utf-8")
    return str(v)


_DATES = (datetime, date)
_JSON_CELLS = (str, int, float, Decimal, datetime, date, list, dict)


def _default(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, bytes):   # a Parquet binary cell: its text where it is UTF-8, never a character replaced
        return v.decode("utf-8")   # (UnicodeDecodeError: the writer refuses the cell, naming its column)
    raise TypeError(f"{type(v).__name__} is not written to JSON")


def _unwritable(columns: Sequence[str], rows: Sequence[Sequence[Any]], first: int,
                kind: str = "JSONL") -> InputError | None:
    """The error naming the first cell of ``rows`` a JSONL or CSV output (``kind``) cannot hold as it is (row numbers
    from ``first``), or None. A binary cell that is not UTF-8 text is refused rather than written with its bytes
    replaced (or, in CSV, as Python's b'…'): the output would differ from the input without a word."""
    for n, r in enumerate(rows, first):
        for name, v in zip(columns, r, strict=True):
            if isinstance(v, bytes):
                try:
                    v.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return InputError(name, f"row {n} holds binary data that is not UTF-8 text (byte "
                                            f"0x{v[exc.start]:02x} at {exc.start}): {kind} holds text, so it cannot be "
                                            "written as it is; write the output as .parquet, which keeps it")
            elif kind == "JSONL" and not (v is None or isinstance(v, _JSON_CELLS)):
                return InputError(name, f"row {n} holds a {type(v).__name__}, which JSONL does not hold: write the "
                                        "output as .parquet or .csv")
    return None


def jsonl_dumps() -> Any:
    """One JSON object per line as bytes: orjson where installed (the ``batch`` extra; ×5 faster), else the standard
    library with the same separators and escapes (the same bytes for what xlduty writes)."""
    try:
        import orjson
    except ImportError:
        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default).encode

        def dumps(obj: Any) -> bytes:
            return encode(obj).encode("utf-8")

        return dumps
    dumps, opt = orjson.dumps, orjson.OPT_NON_STR_KEYS

    def fast(obj: Any) -> bytes:
        # keys are text in all xlduty writes (results, a batch's columns): without OPT_NON_STR_KEYS, which makes orjson
        # look at every key (an explained result: 16 µs → 10 µs); an object with another key, which orjson then
        # refuses, is written with it, as the standard library writes it
        try:
            return dumps(obj, default=_default)
        except TypeError:
            return dumps(obj, default=_default, option=opt)

    return fast


class Writer:
    """Rows of ``columns`` to a binary file, a chunk at a time."""

    def __init__(self, fh: BinaryIO, columns: Sequence[str], kind: str, types: Any = None) -> None:
        self.fh, self.columns, self.kind = fh, list(columns), kind
        self.written = 0   # rows written so far (an error names a row as the input counts them, from 1)
        if kind == "csv":
            self.text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="", write_through=False)
            self.csv = csv.writer(self.text, lineterminator="\r\n")
            self.csv.writerow(self.columns)
        elif kind == "jsonl":
            self.dumps = jsonl_dumps()
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            fields = []
            for name in self.columns:
                if types is not None and name in types:
                    fields.append(pa.field(name, types[name]))
                elif name in INTEGER_COLUMNS:
                    fields.append(pa.field(name, pa.int64()))
                else:
                    fields.append(pa.field(name, pa.string()))
            self.schema = pa.schema(fields)
            self.parquet = pq.ParquetWriter(fh, self.schema, compression="zstd")

    def write(self, rows: Sequence[Sequence[Any]], native: bool = False) -> None:
        """``native``: every cell is text, an int or None, which the csv module writes as ``_cell`` would (None empty,
        an int its digits): written as they are."""
        if self.kind == "csv":
            # a chunk's rows made into text in memory and written at once: through the file's TextIOWrapper, each row
            # was encoded and queued by a call of its own
            buf = io.StringIO()
            out = csv.writer(buf, lineterminator="\r\n")
            if native:
                out.writerows(rows)
            else:
                cell = _cell
                try:
                    out.writerows([[v if type(v) is str else cell(v) for v in r] for r in rows])
                except UnicodeDecodeError as exc:
                    found = _unwritable(self.columns, rows, self.written + 1, "CSV")
                    if found is None:
                        raise
                    raise found from exc
            self.text.write(buf.getvalue())
        elif self.kind == "jsonl":
            cols, dumps = self.columns, self.dumps
            try:
                data = b"".join([dumps(dict(zip(cols, r, strict=True))) + b"\n" for r in rows])
            except (TypeError, ValueError) as exc:   # orjson's JSONEncodeError is a TypeError
                found = _unwritable(cols, rows, self.written + 1)
                if found is None:
                    raise
                raise found from exc
            self.fh.write(data)
        else:
            import pyarrow as pa

            arrays = []
            for j, f in enumerate(self.schema):
                values = [r[j] for r in rows]
                if pa.types.is_string(f.type):
                    values = [None if v is None else v if type(v) is str else _cell(v) for v in values]
                arrays.append(pa.array(values, type=f.type))
            self.parquet.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        self.written += len(rows)

    def close(self) -> None:
        if self.kind == "csv":
            self.text.flush()
            self.text.detach()
        elif self.kind == "parquet":
            self.parquet.close()
