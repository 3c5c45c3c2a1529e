"""``xlduty batch`` and ``xlduty.batch.compute_frame``: CSV in cp932 and UTF-8 with a BOM, Japanese headers, bad rows
among good ones (each good row equal to ``xlduty compute`` of the same declaration), declarations across chunk
boundaries, Parquet and JSONL, the output-file checks, and Dask equal to local on a real LocalCluster of two
processes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xlduty import compute
from xlduty.batch import RESULT_COLUMNS, TOTAL_COLUMNS, compute_frame
from xlduty.batch.run import run_batch
from xlduty.command import EXIT_INPUT, EXIT_SOME_FAILED
from xlduty.core.errors import InputError

# Rows of a broker's order book: declaration A has three lines, B a bad code, C an amount with a thousands separator
# in a quoted cell, D a value below zero on its second line (so D's first line is not computed either), E a line
# alone (no declaration), F an origin that is no country.
HEADER_JA = ["申告番号", "品目番号", "原産地", "仕入書価格", "通貨", "運賃", "数量", "単位", "特恵適用", "備考"]
ROWS = [
    ["A", "6109.10-020", "CN", "1800", "USD", "120", "", "", "", "Tシャツ"],
    ["A", "0901.21-000", "BR", "950", "USD", "60", "", "", "", "コーヒー"],
    ["A", "6403.99-012", "IT", "2400", "USD", "100", "12", "pair", "はい", "靴"],
    ["B", "9999.99", "CN", "100", "USD", "", "", "", "", "存在しない番号"],
    ["C", "8471.30-000", "CN", "1,800", "USD", "", "", "", "", "桁区切り"],
    ["D", "6204.62-200", "VN", "500", "USD", "", "", "", "true", ""],
    ["D", "6204.62-200", "VN", "-5", "USD", "", "", "", "true", "負の価格"],
    ["", "8517.13-000", "US", "210000", "JPY", "", "", "", "", "単独"],
    ["F", "6109.10-020", "ZZ", "1000", "USD", "", "", "", "", "国でない"],
]
DECLARED = {"date": "2026-11-20", "fx_rates": {"USD": Decimal("155.39")}}
FIELDS = ["declaration", "hs_code", "origin", "value", "currency", "freight", "quantity", "unit", "claim_preference"]


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, encoding: str, delimiter: str = ",") -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV output starts with a UTF-8 BOM (Excel reads it as UTF-8)"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def declaration_of(rows: list[list[str]]) -> dict:
    """The JSON declaration ``xlduty compute`` would be given for these rows (as a broker would type it)."""
    lines = []
    for r in rows:
        ln: dict = {"hs_code": r[1], "origin": r[2], "value": Decimal(r[3]), "currency": r[4]}
        if r[5]:
            ln["freight"] = Decimal(r[5])
        if r[6]:
            ln.update(quantity=Decimal(r[6]), unit=r[7])
        if r[8]:
            ln["claim_preference"] = True
        lines.append(ln)
    return {**DECLARED, "lines": lines}


def check_against_compute(out: list[dict[str, str]], rows: list[list[str]], key: str) -> None:
    """Each computed row equals ``xlduty compute`` of its declaration, line by line, and its totals."""
    result = compute(declaration_of(rows))
    for k, (row, ln) in enumerate(zip(out, result.lines, strict=True)):
        assert row["error"] == ""
        assert int(row["duty"]) == ln.duty and int(row["national_ct"]) == ln.national_ct
        assert int(row["local_ct"]) == ln.local_ct and int(row["excise"]) == ln.excise
        assert int(row["consumption_tax"]) == ln.national_ct + ln.local_ct
        assert int(row["total"]) == ln.duty + ln.national_ct + ln.local_ct + ln.excise
        assert row["rate"] == ln.rate and row["rate_column"] == ln.rate_column
        assert row["treatment"] == ("exempt" if ln.exemption else ln.treatment)
        if k == 0:
            t = result.totals
            assert [int(row[c]) for c in TOTAL_COLUMNS] == [t.duty, t.national_ct, t.local_ct, t.consumption_tax,
                                                            t.excise, t.total], key
        else:
            assert all(row[c] == "" for c in TOTAL_COLUMNS)


@pytest.mark.parametrize(("encoding", "delimiter"), [("cp932", ","), ("utf-8-sig", ";"), ("utf-8", "\t")])
def test_japanese_headers_bad_rows_among_good(tmp_path: Path, encoding: str, delimiter: str) -> None:
    """cp932 (Excel's CSV in Japan), UTF-8 with a BOM and plain UTF-8, the delimiter read from the header: every good
    declaration is computed as ``xlduty compute`` computes it, every bad one says why in its rows' error cell, naming
    the field by the input's own header, and the rest goes on."""
    src = write_csv(tmp_path / "book.csv", HEADER_JA, ROWS, encoding=encoding, delimiter=delimiter)
    out = tmp_path / "out.csv"
    summary = run_batch(str(src), str(out), defaults={"date": "2026-11-20", "fx_rates": DECLARED["fx_rates"]})
    got = read_csv(out)
    assert list(got[0]) == [*HEADER_JA, *RESULT_COLUMNS, *TOTAL_COLUMNS]
    assert [r["備考"] for r in got] == [r[9] for r in ROWS]        # the input's columns carried, in order
    check_against_compute(got[0:3], ROWS[0:3], "A")
    assert got[3]["error"] == "品目番号 (hs_code): 9999.99 is not a subheading of the 2026_07_09 tariff"
    assert got[4]["error"] == ("仕入書価格 (value): a number is required (digits and a decimal point, no thousands "
                               "separators)")
    assert got[6]["error"] == "仕入書価格 (value): Input should be greater than or equal to 0"
    assert got[5]["error"] == f"not computed: row 7 of this declaration: {got[6]['error']}"
    assert all(got[i][c] == "" for i in (3, 4, 5, 6) for c in ("duty", "total", *TOTAL_COLUMNS))
    check_against_compute(got[7:8], ROWS[7:8], "a row alone")
    assert got[8]["error"].startswith("原産地 (origin): ")
    assert summary.rows == 9 and summary.failed_rows == 5 and summary.declarations == 6
    assert summary.failed_declarations == 4 and summary.unread == ("備考",)
    # with a totals file the chunks build each declaration's record, without one they only count them: the same sums
    with_totals = run_batch(str(src), str(tmp_path / "out2.csv"), totals=str(tmp_path / "totals.csv"),
                            defaults={"date": "2026-11-20", "fx_rates": DECLARED["fx_rates"]})
    assert (with_totals.rows, with_totals.failed_rows, with_totals.declarations,
            with_totals.failed_declarations) == (9, 5, 6, 4)
    assert len(read_csv(tmp_path / "totals.csv")) == 6
    # the errors are the ones xlduty compute gives for the same declarations, the field named its own way
    with pytest.raises(InputError) as exc:
        compute(declaration_of(ROWS[3:4]))
    assert exc.value.field == "lines[0].hs_code" and got[3]["error"].endswith(exc.value.message)


def test_the_cli_exit_codes_and_what_it_writes(tmp_path: Path) -> None:
    """Exit 4 when some rows failed (the output written whole), 0 when none did, 2 when the input as a whole is
    refused (no output); the summary on stderr, nothing on stdout."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    src = write_csv(tmp_path / "book.csv", HEADER_JA, ROWS, encoding="cp932")
    out = tmp_path / "out.csv"
    run = [sys.executable, "-m", "xlduty", "batch", str(src), "-o", str(out), "--date", "2026-11-20",
           "--fx-rates", "USD:155.39"]
    p = subprocess.run(run, capture_output=True, text=True, env=env)
    assert p.returncode == EXIT_SOME_FAILED and p.stdout == ""
    assert "9 rows in 6 declarations; 5 rows in error (4 declarations)" in p.stderr
    assert len(read_csv(out)) == 9
    good = write_csv(tmp_path / "good.csv", HEADER_JA, ROWS[:3], encoding="cp932")
    p = subprocess.run([*run[:4], str(good), *run[5:]], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([*run[:6], str(src), "--date", "2026-11-20"], capture_output=True, text=True, env=env)
    assert p.returncode == EXIT_INPUT and "is the input file" in p.stderr


def test_output_files_are_checked_and_atomic(tmp_path: Path) -> None:
    """OUT onto IN, through a link, onto a folder or a FIFO, or with an unknown extension: refused before anything is
    read; a failed run leaves no file behind."""
    src = write_csv(tmp_path / "book.csv", HEADER_JA, ROWS[:3], encoding="utf-8-sig")
    opts = {"defaults": {"date": "2026-11-20", "fx_rates": DECLARED["fx_rates"]}}
    with pytest.raises(InputError, match="is the input file"):
        run_batch(str(src), str(src), **opts)
    (tmp_path / "link.csv").symlink_to(tmp_path / "elsewhere.csv")
    with pytest.raises(InputError, match="symbolic link"):
        run_batch(str(src), str(tmp_path / "link.csv"), **opts)
    os.mkfifo(tmp_path / "fifo.csv")
    with pytest.raises(InputError, match="FIFO"):
        run_batch(str(src), str(tmp_path / "fifo.csv"), **opts)
    with pytest.raises(InputError, match=r"\.csv \(UTF-8 with BOM\), \.parquet or \.jsonl"):
        run_batch(str(src), str(tmp_path / "out.xlsx"), **opts)
    with pytest.raises(InputError, match="is the input file"):
        run_batch(str(src), str(tmp_path / "out.csv"), totals=str(src), **opts)
    with pytest.raises(InputError, match="no date column"):
        run_batch(str(src), str(tmp_path / "out.csv"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.csv", "fifo.csv", "link.csv"]


def test_a_declaration_is_never_cut_between_chunks(tmp_path: Path) -> None:
    """Chunks of 2 rows over declarations of 3, 1, 2 and 3 rows give the same output as one chunk; a declaration
    whose rows are not together is refused in its later rows, never computed in two halves."""
    rows = [["X1", "6109.10-020", "CN", "30000", "JPY", "", "", "", "", ""],
            ["X1", "6204.62-200", "VN", "90000", "JPY", "", "", "", "1", ""],
            ["X1", "0901.21-000", "BR", "50000", "JPY", "", "", "", "", ""],
            ["X2", "8471.30-000", "CN", "8000", "JPY", "", "", "", "", ""],
            ["X3", "8471.30-000", "CN", "4000", "JPY", "", "", "", "", ""],
            ["X3", "9503.00-000", "CN", "5000", "JPY", "", "", "", "", ""],
            ["X4", "6110.20-029", "TH", "3000", "USD", "", "", "", "yes", ""],
            ["X4", "6110.20-029", "TH", "3000", "USD", "", "", "", "yes", ""],
            ["X4", "6110.20-029", "TH", "3000", "USD", "", "", "", "yes", ""]]
    src = write_csv(tmp_path / "in.csv", HEADER_JA, rows, encoding="utf-8")
    outs = []
    for size in (2, 1, 100):
        out = tmp_path / f"out{size}.csv"
        run_batch(str(src), str(out), defaults=DECLARED, chunk=size)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    got = read_csv(tmp_path / "out2.csv")
    check_against_compute(got[0:3], rows[0:3], "X1")
    check_against_compute(got[4:6], rows[4:6], "X3")
    check_against_compute(got[6:9], rows[6:9], "X4")
    # X3 totals: 4,000 + 5,000 yen is under the ¥10,000 de minimis only as a declaration of two lines together
    assert got[4]["declaration_total"] == "0" and got[4]["treatment"] == "exempt"
    apart = write_csv(tmp_path / "apart.csv", HEADER_JA, [rows[4], rows[3], rows[5]], encoding="utf-8")
    run_batch(str(apart), str(tmp_path / "apart_out.csv"), defaults=DECLARED, chunk=1)
    got = read_csv(tmp_path / "apart_out.csv")
    assert got[2]["error"] == ("申告番号 (declaration) X3: its rows must be together (it appeared before row 3): "
                               "sort the file by declaration")
    assert got[0]["error"] == "" and got[0]["declaration_total"] != ""


def test_declarations_of_one_row_each_and_one_repeated_later(tmp_path: Path) -> None:
    """A chunk whose rows are each a declaration of their own (a broker's book, mostly) is read by a shorter route
    (``read.declarations``, ``chunk.groups``): a declaration number repeated later, in the same chunk or another, or
    with blanks or spaces around it, is still refused in its later row, at every chunk size, and the rows left are
    computed alike."""
    keys = ["A", "B", "C", " A", "D", "E", "B ", "F", "", "", "G"]
    rows = [[k, "8471.30-000", "CN", str(20000 + 1000 * n), "JPY", "", "", "", "", ""] for n, k in enumerate(keys)]
    src = write_csv(tmp_path / "in.csv", HEADER_JA, rows, encoding="utf-8")
    outs = []
    for size in (1, 2, 3, 4, 100):
        out = tmp_path / f"out{size}.csv"
        run_batch(str(src), str(out), defaults=DECLARED, chunk=size)
        outs.append(out.read_bytes())
    assert len(set(outs)) == 1
    got = read_csv(tmp_path / "out1.csv")
    refused = {n + 1: r["error"] for n, r in enumerate(got) if r["error"]}
    said = ("申告番号 (declaration) {}: its rows must be together (it appeared before row {}): sort the file by "
            "declaration")
    assert refused == {4: said.format("A", 4), 7: said.format("B", 7)}
    assert [r["duty"] for r in got] == ["0" if n + 1 not in refused else "" for n in range(len(keys))]   # 無税


def test_parquet_in_and_out_jsonl_and_a_totals_file(tmp_path: Path) -> None:
    """Parquet keeps the input's types and gives integer yen; JSONL gives one object per row; ``totals`` moves the
    declarations' totals into a file of their own."""
    frame = pd.DataFrame([dict(zip(FIELDS, r[:9], strict=True)) for r in ROWS[:4]])
    frame["value"] = frame["value"].astype(int)
    frame["freight"] = pd.to_numeric(frame["freight"]).fillna(0).astype(int)
    frame["date"] = pd.to_datetime("2026-11-20")
    src = tmp_path / "book.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), src)
    out, totals = tmp_path / "out.parquet", tmp_path / "totals.jsonl"
    summary = run_batch(str(src), str(out), totals=str(totals), defaults={"fx_rates": DECLARED["fx_rates"]})
    assert summary.failed_rows == 1
    table = pq.read_table(out)
    assert table.schema.field("value").type == pa.int64() and table.schema.field("duty").type == pa.int64()
    assert table.column_names == [*frame.columns, *RESULT_COLUMNS]
    a = compute(declaration_of(ROWS[:3]))
    assert table.column("duty").to_pylist()[:3] == [ln.duty for ln in a.lines]
    assert table.column("error").to_pylist()[3].startswith("hs_code: 9999.99")
    records = [json.loads(line) for line in totals.read_text(encoding="utf-8").splitlines()]
    assert [r["declaration"] for r in records] == ["A", "B"]
    assert records[0]["total"] == a.totals.total and records[0]["lines"] == 3 and records[0]["error"] == ""
    assert records[1]["error"].startswith("row 4: hs_code: 9999.99") and records[1]["total"] is None
    jl = tmp_path / "out.jsonl"
    run_batch(str(src), str(jl), defaults={"fx_rates": DECLARED["fx_rates"]})
    rows = [json.loads(line) for line in jl.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["declaration_total"] == a.totals.total and rows[0]["value"] == 1800


def test_a_binary_cell_is_written_as_its_text_or_refused(tmp_path: Path) -> None:
    """A Parquet binary column carried to a JSONL output was decoded with its bad bytes replaced (U+FFFD): the output
    differed from the input without a word. A cell that is UTF-8 text is written as that text; one that is not is
    refused, naming its column and row, and nothing is written (exit 2); Parquet out keeps both as they are."""
    def book(notes: list[bytes]) -> Path:
        src = tmp_path / "book.parquet"
        pq.write_table(pa.table({"hs_code": ["6109.10-020"] * len(notes), "origin": ["CN"] * len(notes),
                                 "value": [300000] * len(notes), "memo": pa.array(notes, type=pa.binary())}), src)
        return src

    out = tmp_path / "out.jsonl"
    run_batch(str(book([b"caf\xc3\xa9", b"ok"])), str(out), defaults={"date": "2026-11-20"})
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["memo"] for r in rows] == ["café", "ok"] and rows[0]["duty"] == 22200   # 300,000 × 7.4 % (WTO)
    out.unlink()
    src = book([b"ok", b"\x93\xfa\x96\x7b"])   # 日本 in cp932: not UTF-8
    with pytest.raises(InputError) as caught:
        run_batch(str(src), str(out), defaults={"date": "2026-11-20"})
    assert str(caught.value) == ("memo: row 2 holds binary data that is not UTF-8 text (byte 0x93 at 0): JSONL holds "
                                 "text, so it cannot be written as it is; write the output as .parquet, which keeps it")
    assert not out.exists()
    pq_out = tmp_path / "out.parquet"
    run_batch(str(src), str(pq_out), defaults={"date": "2026-11-20"})
    assert pq.read_table(pq_out).column("memo").to_pylist() == [b"ok", b"\x93\xfa\x96\x7b"]
    # CSV out the same: it wrote Python's b'caf\xc3\xa9' for the first
    csv_out = tmp_path / "out.csv"
    run_batch(str(book([b"caf\xc3\xa9", b"ok"])), str(csv_out), defaults={"date": "2026-11-20"})
    rows = list(csv.DictReader(csv_out.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["memo"] for r in rows] == ["café", "ok"] and rows[0]["duty"] == "22200"
    csv_out.unlink()
    with pytest.raises(InputError, match=r"^memo: row 2 holds binary data that is not UTF-8 text \(byte 0x93 at 0\): "
                                         r"CSV holds text"):
        run_batch(str(book([b"ok", b"\x93\xfa\x96\x7b"])), str(csv_out), defaults={"date": "2026-11-20"})
    assert not csv_out.exists()


def test_compute_frame_pandas_and_arrow() -> None:
    """The public chunk function: a frame in, the same frame with the result columns out, rows of one declaration
    grouped wherever they are in the frame; the same figures from pandas and from Arrow."""
    frame = pd.DataFrame([dict(zip(FIELDS, r[:9], strict=True)) for r in ROWS[:4]])
    frame = frame.iloc[[0, 3, 1, 2]]   # declaration A's rows apart: grouped all the same
    got = compute_frame(frame, date="2026-11-20", fx_rates="USD:155.39")
    assert list(got.index) == list(frame.index) and list(got.columns) == [*FIELDS, *RESULT_COLUMNS, *TOTAL_COLUMNS]
    a = compute(declaration_of(ROWS[:3]))
    assert list(got.loc[[0, 1, 2], "duty"]) == [ln.duty for ln in a.lines]
    assert got.loc[0, "declaration_total"] == a.totals.total and pd.isna(got.loc[1, "declaration_total"])
    assert got.loc[3, "error"].startswith("hs_code: ")
    arrow = compute_frame(pa.Table.from_pandas(frame, preserve_index=False), date="2026-11-20",
                          fx_rates={"USD": Decimal("155.39")}, totals=False)
    assert arrow.column("duty").to_pylist() == [int(x) if not pd.isna(x) else None for x in got["duty"]]
    assert arrow.column_names == [*FIELDS, *RESULT_COLUMNS]


def test_dask_equals_local(tmp_path: Path) -> None:
    """``xlduty batch --engine dask`` on a real LocalCluster of two worker processes, chunks of 3 rows: the same
    bytes as ``--engine local``, row for row, errors included. (Run as the command, in a process of its own: the
    cluster's threads and processes end with it, not in the test process.)"""
    rows = [[f"K{i // 3}", *r[1:]] for i, r in enumerate(ROWS * 4)]
    src = write_csv(tmp_path / "in.csv", HEADER_JA, rows, encoding="cp932")
    local, dask = tmp_path / "local.csv", tmp_path / "dask.csv"
    a = run_batch(str(src), str(local), defaults=DECLARED, chunk=3)
    cmd = [sys.executable, "-m", "xlduty", "batch", str(src), "-o", str(dask), "--date", "2026-11-20",
           "--fx-rates", "USD:155.39", "--chunk-size", "3", "--engine", "dask", "--workers", "2"]
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                       timeout=300)
    assert p.returncode == EXIT_SOME_FAILED, p.stderr
    assert local.read_bytes() == dask.read_bytes()
    assert f"36 rows in 12 declarations; {a.failed_rows} rows in error" in p.stderr
    assert (a.rows, a.declarations) == (36, 12) and 0 < a.failed_rows < 36


def test_compute_keep_going_jsonl_no_explain(tmp_path: Path) -> None:
    """``compute --keep-going`` puts an error object where a declaration fails and exits 4; ``--format jsonl`` reads
    JSONL and writes a result per line; ``--no-explain`` leaves out only the explanations; the default output is
    the one it always was."""
    good = {"date": "2026-11-20", "lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": 300000}]}
    bad = {"date": "2026-11-20", "lines": [{"hs_code": "9999.99", "value": 1}]}
    batch = tmp_path / "b.json"
    batch.write_text(json.dumps([good, bad, good]), encoding="utf-8")
    cmd = [sys.executable, "-m", "xlduty", "compute"]
    p = subprocess.run([*cmd, str(batch)], capture_output=True, text=True)
    assert p.returncode == EXIT_INPUT and p.stdout == ""
    p = subprocess.run([*cmd, "--keep-going", str(batch)], capture_output=True, text=True)
    assert p.returncode == EXIT_SOME_FAILED
    out = json.loads(p.stdout)
    assert out[1] == {"index": 1, "error": "lines[0].hs_code: 9999.99 is not a subheading of the 2026_07_09 tariff",
                      "field": "lines[0].hs_code", "message": "9999.99 is not a subheading of the 2026_07_09 tariff"}
    assert out[0]["totals"]["total"] == 54300 and out[0] == out[2]
    one = tmp_path / "one.json"
    one.write_text(json.dumps(good), encoding="utf-8")
    plain = subprocess.run([*cmd, str(one)], capture_output=True).stdout
    assert subprocess.run([*cmd, "--keep-going", str(one)], capture_output=True).stdout == plain
    jl = tmp_path / "b.jsonl"
    jl.write_text("\n".join(json.dumps(d) for d in (good, bad, good)) + "\n{oops\n", encoding="utf-8")
    p = subprocess.run([*cmd, "--format", "jsonl", "--no-explain", "--keep-going", str(jl)], capture_output=True,
                       text=True)
    lines = [json.loads(s) for s in p.stdout.splitlines()]
    assert p.returncode == EXIT_SOME_FAILED and len(lines) == 4
    full = json.loads(plain)
    del full["explanation"]
    for ln in full["lines"]:
        del ln["explanation"]
    assert lines[0] == full and lines[2] == full
    assert lines[1]["index"] == 1 and lines[3]["index"] == 3 and "not valid JSON" in lines[3]["error"]
    p = subprocess.run([*cmd, "--format", "jsonl", str(jl)], capture_output=True, text=True)
    assert p.returncode == EXIT_INPUT and len(p.stdout.splitlines()) == 1   # streamed up to the failing one
    assert "[1].lines[0].hs_code" in p.stderr
