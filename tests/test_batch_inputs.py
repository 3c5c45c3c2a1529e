"""What ``xlduty batch`` and ``compute_frame`` read, beyond tests/test_batch.py: the same grammars as every other
input (currency:rate pairs, dates as Japanese Excel writes them), the batch-wide options checked before anything is
read, ``pork_emergency``, an earlier output read again, encodings, stdin, and the limits of what a file may hold."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xlduty.batch.run import run_batch
from xlduty.command import EXIT_INPUT
from xlduty.core.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def batch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlduty", "batch", *args], capture_output=True, text=True, env=ENV,
                          cwd=ROOT, timeout=300)


# --- currency:rate pairs: the one reader ---------------------------------------------------------------------------


def test_fx_rates_cells_and_option_read_as_everywhere(tmp_path: Path) -> None:
    """``USD:155_39`` was read as 15,539 yen per dollar and ``USD:155.39;USD:1`` as 1 (the last won): the column and
    ``--fx-rates`` now read pairs as Excel's ``fx=`` and the JSON do. 6109.10-020, USD 1,800 at 155.39 = 279,702 →
    tv 279,000 × 7.4 % (WTO) = 20,646; the same at ``usd:1.5539e2`` and full-width ``ＵＳＤ：１５５．３９``."""
    src = write(tmp_path / "fx.csv", "hs_code,value,currency,fx_rates\n"
                "6109.10-020,1800,USD,USD:155_39\n"
                "6109.10-020,1800,USD,USD:1_5539e2\n"
                "6109.10-020,1800,USD,USD:155.39;USD:1\n"
                "6109.10-020,1800,USD,usd:1.5539e2\n"
                "6109.10-020,1800,USD,ＵＳＤ：１５５．３９\n"
                "6109.10-020,1800,USD,USD:NaN\n")
    out = tmp_path / "out.csv"
    summary = run_batch(str(src), str(out), defaults={"date": "2026-11-20", "simplified": "never"})
    got = rows_of(out)
    assert [r["error"] for r in got[:3]] == [
        "fx_rates: 'USD:155_39': a number is required (digits and a decimal point, no thousands separators)",
        "fx_rates: 'USD:1_5539e2': a number is required (digits and a decimal point, no thousands separators)",
        "fx_rates: USD given twice: give each currency once"]
    assert [r["duty"] for r in got[3:5]] == ["20646", "20646"]
    assert got[5]["error"] == "fx_rates: 'USD:NaN': a finite number is required"
    assert summary.failed_rows == 4
    for bad, why in (("USD:155_39", "a number is required"), ("USD:155.39,USD:1", "USD given twice"),
                     ("USD:NaN", "a finite number")):
        p = batch(str(src), "-o", str(tmp_path / "o.csv"), "--date", "2026-11-20", "--fx-rates", bad)
        assert (p.returncode, p.stdout) == (EXIT_INPUT, ""), p.stderr
        assert p.stderr.startswith("xlduty: --fx-rates: ") and why in p.stderr and len(p.stderr.splitlines()) == 1
        assert not (tmp_path / "o.csv").exists()


# --- dates as Japanese Excel writes them -----------------------------------------------------------------------------


def test_dates_as_japanese_excel_saves_them(tmp_path: Path) -> None:
    """A CSV saved by Japanese Excel writes a date cell as ``2026/11/20`` (or ``2026/1/5``): every row was refused.
    Now read as the worksheet functions read a date (the core's one date grammar); a serial number or ``20261120`` in
    a text cell is still refused, naming the forms read. 6109.10-020 CN ¥300,000: 7.4 % = 22,200 on 2026-11-20."""
    src = write(tmp_path / "dates.csv", "申告日,品目番号,原産地,申告価格\n"
                "2026/11/20,6109.10-020,CN,300000\n"
                "2026/1/5,6109.10-020,CN,300000\n"
                "２０２６／１１／２０,6109.10-020,CN,300000\n"
                "2026年11月20日,6109.10-020,CN,300000\n"
                "20261120,6109.10-020,CN,300000\n"
                "46346,6109.10-020,CN,300000\n", encoding="cp932")
    out = tmp_path / "out.csv"
    summary = run_batch(str(src), str(out), defaults={"simplified": "never"})
    got = rows_of(out)
    assert [r["duty"] for r in got[:4]] == ["22200"] * 4 and all(r["error"] == "" for r in got[:4])
    assert got[4]["error"] == ("申告日 (date): '20261120' is not a date: use YYYY-MM-DD (or 2026/11/20 as Excel "
                               "writes it)")
    assert got[5]["error"].startswith("申告日 (date): '46346' is not a date")
    assert summary.failed_rows == 2


# --- options for the whole batch: checked before anything is read ----------------------------------------------------


@pytest.mark.parametrize(("option", "said"), [
    (("--date", "2026-13-01"), "xlduty: --date: '2026-13-01' is not a day of the calendar"),
    (("--date", "2026-11-20", "--tariff-edition", "bogus"),
     "xlduty: --tariff-edition: edition 'bogus' is not available (available: 2025_04_01, 2026_04_01, 2026_07_09)"),
    (("--date", "2026-11-20", "--fx-rates", "USD:NaN"), "xlduty: --fx-rates: 'USD:NaN': a finite number is required"),
])
def test_a_bad_batch_option_is_refused_before_reading(tmp_path: Path, option: tuple[str, ...], said: str) -> None:
    """A bad option for the whole batch became every row's error and exit 4; it is the run's one error (exit 2),
    naming the option, and no output is written."""
    src = write(tmp_path / "in.csv", "hs_code,origin,value\n6109.10-020,CN,300000\n6109.10-020,CN,1000\n")
    p = batch(str(src), "-o", str(tmp_path / "out.csv"), *option)
    assert (p.returncode, p.stdout, p.stderr) == (EXIT_INPUT, "", said + "\n")
    assert not (tmp_path / "out.csv").exists()


def test_worker_and_chunk_counts_are_whole_numbers(tmp_path: Path) -> None:
    """``--workers -1`` reached Dask's LocalCluster, which gave up after its timeout with the one line
    ``xlduty: TimeoutError``; ``--chunk-size`` and ``--workers`` are read as every count on the command line is
    (``command.count_arg``): refused at once, naming the option, nothing written."""
    src = write(tmp_path / "in.csv", "hs_code,origin,value\n6109.10-020,CN,300000\n")
    for option, value in (("--workers", "-1"), ("--workers", "2.5"), ("--chunk-size", "-5")):
        p = batch(str(src), "-o", str(tmp_path / "out.csv"), "--date", "2026-11-20", "--engine", "dask", option, value)
        assert (p.returncode, p.stdout) == (EXIT_INPUT, "")
        assert p.stderr == (f"xlduty batch: argument {option}: '{value}': a whole number from 0 to 1,000,000 is "
                            "required (see xlduty batch --help)\n")
        assert not (tmp_path / "out.csv").exists()


def test_options_checked_by_the_command_are_named_as_typed(tmp_path: Path) -> None:
    """``--chunk-size 0`` (a count, so argparse lets it through) was refused as ``xlduty: chunk-size: …``, and
    ``--scheduler`` without ``--engine dask`` as ``xlduty: scheduler: --scheduler is …``: each option is named as the
    user typed it, as every other batch option is (``--date: …``); exit 2, nothing written."""
    src = write(tmp_path / "in.csv", "hs_code,origin,value\n6109.10-020,CN,300000\n")
    for args, said in ((("--chunk-size", "0"), "xlduty: --chunk-size: give a number of rows of 1 or more\n"),
                       (("--scheduler", "tcp://127.0.0.1:1"), "xlduty: --scheduler: it is for --engine dask\n")):
        p = batch(str(src), "-o", str(tmp_path / "out.csv"), "--date", "2026-11-20", *args)
        assert (p.returncode, p.stdout, p.stderr) == (EXIT_INPUT, "", said)
        assert not (tmp_path / "out.csv").exists()


def test_a_closed_standard_error_does_not_fail_a_batch_written(tmp_path: Path) -> None:
    """With standard error closed (``2>&-``) the batch wrote its output, then failed on its summary line and exited
    2, which the exit codes say means nothing was written. The summary is lost; the run is what it was: exit 0."""
    src = write(tmp_path / "in.csv", "hs_code,origin,value\n6109.10-020,CN,300000\n")
    out = tmp_path / "out.csv"
    p = subprocess.run([sys.executable, "-m", "xlduty", "batch", str(src), "-o", str(out), "--date", "2026-11-20"],
                       stdout=subprocess.PIPE, env=ENV, cwd=ROOT, timeout=300, preexec_fn=lambda: os.close(2))
    assert p.returncode == 0
    assert rows_of(out)[0]["duty"] == "22200"   # 300,000 × 7.4 % (WTO)


def test_compute_frame_checks_its_keywords() -> None:
    import pandas as pd

    from xlduty.batch import compute_frame

    frame = pd.DataFrame({"hs_code": ["6109.10-020"], "origin": ["CN"], "value": [300000]})
    for kwargs, field in (({"date": "2026-13-01"}, "date"), ({"date": "2026-11-20", "simplified": "sometimes"},
                                                              "simplified"),
                          ({"date": "2026-11-20", "fx_rates": {"USD": 0}}, "fx_rates"),
                          ({"date": "2026-11-20", "tariff_edition": "bogus"}, "tariff_edition"),
                          ({"date": "2026-11-20", "pork_emergency": "maybe"}, "pork_emergency")):
        with pytest.raises(InputError) as e:
            compute_frame(frame, **kwargs)
        assert e.value.field == field
    got = compute_frame(frame, date="2026/11/20", simplified="NEVER")
    assert got.loc[0, "duty"] == 22200   # 300,000 × 7.4 % (WTO)


# --- pork_emergency: a column, an option, a keyword ------------------------------------------------------------------


def test_pork_emergency_column_option_and_keyword(tmp_path: Path) -> None:
    """``pork_emergency`` (issue 16's declaration field) could not be set from a batch: its column was carried
    unread. Worked by hand, 0203.19-025 (部分肉 〔2〕) at 400 yen/kg × 10,000 kg (¥4,000,000):

    - normal 基準輸入価格 546.53: (546.53 − 400) × 10,000 = 1,465,300;
    - under 暫定法7条の6 (raised to 681.08): (681.08 − 400) × 10,000 = 2,810,800."""
    import pandas as pd

    from xlduty.batch import compute_frame

    src = write(tmp_path / "pe.csv", "declaration,hs_code,origin,value,quantity,pork_emergency\n"
                "P1,0203.19-025,US,4000000,10000,true\n"
                "P2,0203.19-025,US,4000000,10000,いいえ\n"
                "P3,0203.19-025,US,4000000,10000,\n")
    out = tmp_path / "out.csv"
    summary = run_batch(str(src), str(out), defaults={"date": "2026-11-20", "simplified": "never"})
    assert summary.unread == ()
    assert [r["duty"] for r in rows_of(out)] == ["2810800", "1465300", "1465300"]
    p = batch(str(src), "-o", str(out), "--date", "2026-11-20", "--pork-emergency", "YES")
    assert p.returncode == 0, p.stderr
    assert [r["duty"] for r in rows_of(out)] == ["2810800", "1465300", "2810800"]   # the option fills blank cells
    frame = pd.DataFrame({"hs_code": ["0203.19-025"], "origin": ["US"], "value": [4000000], "quantity": [10000]})
    assert compute_frame(frame, date="2026-11-20", pork_emergency=True).loc[0, "duty"] == 2810800
    assert compute_frame(frame, date="2026-11-20", pork_emergency=False).loc[0, "duty"] == 1465300


# --- a slim install -----------------------------------------------------------------------------------------------


def test_a_slim_batch_in_a_terminal_runs_without_a_bar(tmp_path: Path) -> None:
    """On a slim install (no extras) ``xlduty batch`` of a CSV in a terminal exited 5 asking for xlduty[refresh]:
    the progress bar, on by default in a terminal, needs tqdm. The bar is a comfort: without tqdm the batch runs
    without it (6109.10-020 CN ¥300,000: 22,200). Asked for (``--progress``), its absence is the missing-extra line
    naming xlduty[batch], the extra that brings it to batches; so are Parquet in or out (pyarrow) and ``--engine
    dask`` (distributed): exit 5, one line, nothing written (Parquet input and dask exited 2 before)."""
    from slim import run_slim

    src = write(tmp_path / "in.csv", "hs_code,origin,value\n6109.10-020,CN,300000\n")
    pq_in = tmp_path / "in.parquet"
    pq_in.write_bytes(b"PAR1")   # never read: pyarrow is missing
    tty = "import sys\nsys.stderr.isatty = lambda: True\nfrom xlduty.cli import main\nsys.exit(main(sys.argv[1:]))"
    out = tmp_path / "out.csv"
    p = run_slim(tty, "batch", str(src), "-o", str(out), "--date", "2026-11-20", "--simplified", "never")
    assert p.returncode == 0, p.stderr
    assert rows_of(out)[0]["duty"] == "22200"
    out.unlink()
    for args, extra in ((("--progress",), "batch"), (("-o", str(tmp_path / "o.parquet")), "batch"),
                        (("--engine", "dask"), "dask"), ((str(pq_in),), "batch")):
        cmd = ["batch", str(src), "-o", str(out), "--date", "2026-11-20", *args]
        if args == (str(pq_in),):
            cmd = ["batch", str(pq_in), "-o", str(out), "--date", "2026-11-20"]
        p = run_slim(tty, *cmd)
        assert (p.returncode, p.stdout) == (5, ""), (args, p.stderr)
        line, = p.stderr.splitlines()
        assert line.startswith(f"xlduty: this needs the optional part xlduty[{extra}] ("), line
        assert sorted(f.name for f in tmp_path.iterdir()) == ["in.csv", "in.parquet"]


# --- an earlier output, edited and computed again ---------------------------------------------------------------------

ORDERS = ("declaration,hs_code,origin,value,claim_preference,liquor_category,liquor_litres,liquor_abv\n"
          "D1,6204.62-200,VN,300000,,,,\n"
          "D2,2204.21-020,FR,300000,,果実酒,100,13\n")


def test_an_output_edited_and_computed_again(tmp_path: Path) -> None:
    """A broker re-costs an output file after setting the claims: the output's own ``rate`` and ``excise`` columns
    were read as inputs (the rate applied became an override, so the claim was ignored; the wine row failed "give
    either liquor or excise"). The results of an earlier run are now never read, and are replaced. Worked by hand:

    - D1 6204.62-200 VN ¥300,000: WTO 9.1 % = 27,300; claimed, the ASEAN/Viet Nam EPA rate 無税 = 0.
    - D2 2204.21-020 FR ¥300,000, 果実酒 100 l: WTO the lower of 15 % (45,000) and 125 yen/l (12,500), at least
      67 yen/l (6,700) = 12,500; claimed, EU 無税 = 0; liquor tax 100 l × 100 yen = 10,000 either way."""
    src = write(tmp_path / "orders.csv", ORDERS)
    first = tmp_path / "first.csv"
    run_batch(str(src), str(first), defaults={"date": "2026-11-20", "simplified": "never"})
    got = rows_of(first)
    assert [(r["duty"], r["excise"], r["rate_column"]) for r in got] == [("27300", "0", "rate_wto"),
                                                                          ("12500", "10000", "rate_wto")]
    again = tmp_path / "again.csv"   # the output as it is, computed again: the same figures, no column twice
    summary = run_batch(str(first), str(again), defaults={"date": "2026-11-20", "simplified": "never"})
    assert again.read_bytes() == first.read_bytes()
    assert summary.replaced[:11] == ("duty", "national_ct", "local_ct", "consumption_tax", "excise", "total", "rate",
                                     "rate_column", "treatment", "warnings", "error")
    edited = tmp_path / "edited.csv"   # the claims set in the output, as a broker edits it in Excel
    text = first.read_bytes().decode("utf-8-sig")
    edited.write_bytes(text.replace("D1,6204.62-200,VN,300000,,", "D1,6204.62-200,VN,300000,yes,")
                       .replace("D2,2204.21-020,FR,300000,,", "D2,2204.21-020,FR,300000,はい,").encode("utf-8-sig"))
    out = tmp_path / "out.csv"
    summary = run_batch(str(edited), str(out), defaults={"date": "2026-11-20", "simplified": "never"})
    got = rows_of(out)
    assert summary.failed_rows == 0
    assert [(r["claim_preference"], r["duty"], r["excise"], r["rate_column"]) for r in got] == [
        ("yes", "0", "0", "epa_asean"), ("はい", "0", "10000", "epa_eu")]
    assert list(got[0]).count("rate") == 1 and list(got[0]).count("excise") == 1


def test_an_override_column_survives_a_second_run(tmp_path: Path) -> None:
    """An input with its own ``rate`` (an override) gives an output with ``rate`` twice, the override and the rate
    applied; computed again, the first is read (the override, 14 %: 300,000 × 14 % = 42,000), the second replaced."""
    src = write(tmp_path / "in.csv", "hs_code,origin,value,rate\n6109.10-020,CN,300000,14%\n")
    first, again = tmp_path / "first.csv", tmp_path / "again.csv"
    run_batch(str(src), str(first), defaults={"date": "2026-11-20", "simplified": "never"})
    run_batch(str(first), str(again), defaults={"date": "2026-11-20", "simplified": "never"})
    assert again.read_bytes() == first.read_bytes()
    header = next(csv.reader(io.StringIO(again.read_bytes().decode("utf-8-sig"))))
    assert header.count("rate") == 2
    assert rows_of(again)[0]["duty"] == "42000"


def test_stray_result_columns_beside_a_rate_column_are_refused(tmp_path: Path) -> None:
    """Result columns that are not the 11 as written (some deleted) beside a ``rate`` column: whether that ``rate`` is
    the override or the rate an earlier run applied cannot be told, so the input is refused (exit 2), never read
    either way. Without ``rate`` or ``excise`` such columns are replaced, as before."""
    src = write(tmp_path / "in.csv", "hs_code,origin,value,duty,rate,treatment\n6109.10-020,CN,300000,1,14%,general\n")
    with pytest.raises(InputError, match="whether its rate column is an input"):
        run_batch(str(src), str(tmp_path / "o.csv"), defaults={"date": "2026-11-20"})
    src = write(tmp_path / "in2.csv", "hs_code,origin,value,duty,treatment\n6109.10-020,CN,300000,1,general\n")
    summary = run_batch(str(src), str(tmp_path / "o.csv"), defaults={"date": "2026-11-20", "simplified": "never"})
    assert summary.replaced == ("duty", "treatment") and rows_of(tmp_path / "o.csv")[0]["duty"] == "22200"


# --- encodings, standard input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "said"), [
    ("ascii", "is not ascii text (in its first lines)"),      # a cp932 file read as ASCII
    ("utf-16", "is not utf-16 text (in its first lines)"),    # a cp932 file as UTF-16 without a BOM
    ("base64", "'base64' is not a text encoding"),     # a codec of bytes, not of text
    ("rot13", "'rot13' is not a text encoding"),
    ("klingon", "'klingon' is not an encoding Python knows"),
])
def test_a_wrong_encoding_is_one_line(tmp_path: Path, encoding: str, said: str) -> None:
    """A wrong ``--encoding`` ended as exit 1, "internal error" (UnicodeDecodeError, LookupError): it is one line
    naming the encoding, exit 2, nothing written."""
    src = write(tmp_path / "jp.csv", "申告番号,品目番号,原産地,仕入書価格\nA,6109.10-020,CN,300000\n", encoding="cp932")
    p = batch(str(src), "-o", str(tmp_path / "out.csv"), "--date", "2026-11-20", "--encoding", encoding)
    assert (p.returncode, p.stdout) == (EXIT_INPUT, ""), p.stderr
    line, = p.stderr.splitlines()
    assert line.startswith("xlduty: encoding: ") and said in line
    assert not (tmp_path / "out.csv").exists()


def test_a_decoding_error_after_the_header_is_one_line(tmp_path: Path) -> None:
    src = write(tmp_path / "mixed.csv", "hs_code,origin,value,note\n" + "6109.10-020,CN,300000,ok\n" * 2000,
                encoding="ascii")
    with src.open("ab") as fh:
        fh.write("6109.10-020,CN,300000,日本\n".encode("cp932"))
    with pytest.raises(InputError, match=r"is not ascii text after line \d+: ordinal not in range"):
        run_batch(str(src), str(tmp_path / "out.csv"), encoding="ascii", defaults={"date": "2026-11-20"})


def test_standard_input_is_said_to_be_unsupported(tmp_path: Path) -> None:
    """``xlduty batch - -o x.csv`` said "-: no such file": it now says standard input is not read, and why."""
    p = subprocess.run([sys.executable, "-m", "xlduty", "batch", "-", "-o", str(tmp_path / "x.csv"), "--date",
                        "2026-11-20"], input="hs_code,value\n6109.10-020,1000\n", capture_output=True, text=True,
                       env=ENV, timeout=120)
    assert (p.returncode, p.stdout) == (EXIT_INPUT, "")
    assert p.stderr.startswith("xlduty: xlduty batch reads a file, not standard input (-)")


def test_a_missing_input_is_refused_as_every_command_refuses_one(tmp_path: Path) -> None:
    """A batch that is not there, or a folder, is said in the words ``xlduty compute`` uses for its input (one message,
    ``files.cannot_read``), and nothing is written."""
    out = tmp_path / "out.csv"
    with pytest.raises(InputError, match=r"^cannot read \S*nothing\.csv: no such file$"):
        run_batch(str(tmp_path / "nothing.csv"), str(out), defaults={"date": "2026-11-20"})
    compute = subprocess.run([sys.executable, "-m", "xlduty", "compute", str(tmp_path / "nothing.json")],
                             capture_output=True, text=True, env=ENV, timeout=120)
    assert compute.stderr == f"xlduty: cannot read {tmp_path / 'nothing.json'}: no such file\n"
    with pytest.raises(InputError, match=r"is not a regular file: give the batch as a \.csv or \.parquet file"):
        run_batch(str(tmp_path), str(out), defaults={"date": "2026-11-20"})
    assert not out.exists()


# --- what a file may hold -------------------------------------------------------------------------------------------

_MEASURED = """
import sys
from xlduty.batch.run import run_batch
from xlduty.core.errors import InputError
try:
    run_batch(sys.argv[1], sys.argv[2], defaults={"date": "2026-11-20"})
    print("computed")
except InputError as exc:
    print("refused:", exc)
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) // 1024)
"""


def _measured(src: Path, out: Path) -> tuple[str, int]:
    """The outcome of a batch run in a process of its own, and that process's peak resident memory in MB (VmHWM:
    ru_maxrss would carry the test process's own peak across fork and exec)."""
    p = subprocess.run([sys.executable, "-c", _MEASURED, str(src), str(out)], capture_output=True, text=True,
                       env=ENV, timeout=300)
    said, mb = p.stdout.splitlines()
    return said, int(mb)


def test_a_row_of_millions_of_cells_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    """One row of 24 million delimiters (24 MB) took 657 MB before it was refused as a row with more cells than the
    header. A row (all its lines) is now at most 1,048,576 characters, refused in one line as it is read: the run
    stays near Python's own size (the bound: 250 MB, where it was 657 MB)."""
    src = tmp_path / "big.csv"
    src.write_text("hs_code,value\n6109.10-020,1000" + "," * 24_000_000 + "\n", encoding="ascii")
    said, mb = _measured(src, tmp_path / "out.csv")
    assert said == f"refused: {src}: a row longer than 1,048,576 characters (a quote left open, or not a CSV file?)"
    assert mb < 250, mb
    src.write_text('hs_code,value,note\n6109.10-020,1000,"' + "x\n" * 600_000, encoding="ascii")   # a quote left open
    assert _measured(src, tmp_path / "out.csv")[0].startswith("refused: ")
    assert not (tmp_path / "out.csv").exists()


def test_headers_are_bounded_and_checked_in_one_pass(tmp_path: Path) -> None:
    """A header line is read within the row limit (it was read whole, however long), holds at most 16,384 columns
    (Excel's), and is checked for a name given twice in one pass (it counted each name across all the others:
    quadratic). 10,000 distinct columns are read; a name given twice among them is named."""
    import time

    names = [f"c{i}" for i in range(10_000)]
    src = write(tmp_path / "wide.csv", ",".join([*names, "hs_code", "value"]) + "\n" + "," * 10_000
                + "6109.10-020,300000\n")
    started = time.perf_counter()
    summary = run_batch(str(src), str(tmp_path / "out.csv"), defaults={"date": "2026-11-20", "simplified": "never"})
    assert summary.rows == 1 and summary.failed_rows == 0 and len(summary.unread) == 10_000
    assert time.perf_counter() - started < 30
    write(tmp_path / "twice.csv", ",".join([*names, "c17", "hs_code", "value"]) + "\n")
    with pytest.raises(InputError, match=r"the header names c17 more than once \(columns 18 and 10001\)"):
        run_batch(str(tmp_path / "twice.csv"), str(tmp_path / "o.csv"), defaults={"date": "2026-11-20"})
    write(tmp_path / "wider.csv", ",".join(f"c{i}" for i in range(16_385)) + ",hs_code,value\n")
    with pytest.raises(InputError, match="the header has 16,387 columns, more than 16,384"):
        run_batch(str(tmp_path / "wider.csv"), str(tmp_path / "o.csv"), defaults={"date": "2026-11-20"})
    write(tmp_path / "long.csv", "a" * 2_000_000 + "\n")
    with pytest.raises(InputError, match="the header line is longer than 1,048,576 characters"):
        run_batch(str(tmp_path / "long.csv"), str(tmp_path / "o.csv"), defaults={"date": "2026-11-20"})


def test_parquet_sizes_are_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4 KB Parquet file whose one cell inflates to 100 MB took 1.3 GB. Its metadata declares the uncompressed
    sizes: a row group of more than 1 MiB a row on average, or a column of a row group above 256 MiB, is refused
    before any data is read; a cell above 1 MiB among small ones is refused on the Arrow arrays, before it becomes a
    Python string."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from xlduty.batch import read

    bomb = tmp_path / "bomb.parquet"
    pq.write_table(pa.table({"hs_code": ["6109.10-020"], "value": [1000], "note": ["a" * 100_000_000]}), bomb,
                   compression="zstd")
    assert bomb.stat().st_size < 10_000
    said, mb = _measured(bomb, tmp_path / "out.csv")
    assert said.startswith(f"refused: {bomb}: row group 0 holds 100,000,") and "in 1 rows, more than 1,048,576" in said
    assert mb < 400, mb   # pyarrow loaded, nothing inflated (1.3 GB before)
    one = tmp_path / "one.parquet"
    pq.write_table(pa.table({"hs_code": ["6109.10-020"] * 2000, "value": [1000] * 2000,
                             "note": ["a"] * 1999 + ["b" * 5_000_000]}), one, compression="zstd")
    with pytest.raises(InputError, match="a cell of column 'note' holds 5,000,000 bytes, more than 1,048,576"):
        run_batch(str(one), str(tmp_path / "out.csv"), defaults={"date": "2026-11-20"})
    monkeypatch.setattr(read, "MAX_PARQUET_CHUNK_BYTES", 1000)
    with pytest.raises(InputError, match=r"column .note. holds .* bytes uncompressed in row group 0, more than 1,000"):
        run_batch(str(one), str(tmp_path / "out.csv"), defaults={"date": "2026-11-20"})
    assert not (tmp_path / "out.csv").exists()


# --- the two outputs ------------------------------------------------------------------------------------------------


def test_totals_onto_the_output_is_named_as_such(tmp_path: Path) -> None:
    """``--totals t.csv -o t.csv`` said "t.csv is the input file"; it says the two outputs are one file."""
    src = write(tmp_path / "in.csv", "hs_code,origin,value\n6109.10-020,CN,300000\n")
    t = tmp_path / "t.csv"
    with pytest.raises(InputError) as e:
        run_batch(str(src), str(t), totals=str(t), defaults={"date": "2026-11-20"})
    assert e.value.message == f"{t} is also the file {t} is written to: name two different files"
    with pytest.raises(InputError, match="is the input file"):
        run_batch(str(src), str(tmp_path / "o.csv"), totals=str(src), defaults={"date": "2026-11-20"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_outputs_that_differ_only_in_case_where_case_is_ignored(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows and macOS ``-o out.csv --totals OUT.csv`` name one file: the totals would be written over the
    output. Refused there (the platform set to macOS here); on Linux they are two files and both are written."""
    src = write(tmp_path / "in.csv", "hs_code,origin,value\n6109.10-020,CN,300000\n")
    out, other = tmp_path / "out.csv", tmp_path / "OUT.csv"
    run_batch(str(src), str(out), totals=str(other), defaults={"date": "2026-11-20"})
    assert out.exists() and other.exists()
    out.unlink()
    other.unlink()
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(InputError, match=r"is also the file .*out\.csv is written to"):
        run_batch(str(src), str(out), totals=str(other), defaults={"date": "2026-11-20"})
    with pytest.raises(InputError, match="is the input file"):
        run_batch(str(src), str(tmp_path / "IN.csv"), defaults={"date": "2026-11-20"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


# --- warnings on their rows ----------------------------------------------------------------------------------------


def test_a_lines_warning_is_on_its_row_with_the_files_row_number(tmp_path: Path) -> None:
    """A declaration's warning about one of its lines landed on the declaration's first row, and its ``line N`` label
    counted from 0 within the declaration while batch errors count the file's rows from 1. Declaration D1 is rows 2-4
    here (D0 is row 1): the two readings of the gate-price unit value differ for its second line (0203.19-025, 300 kg
    at ¥149,900: 課税価格 149,000 → 496.67 yen/kg, (546.53 − 496.666…) × 300 = 14,959; unrounded 499.67 yen/kg →
    14,059; payable 14,900 against 14,000): that warning is on row 3, naming row 3; the band warning of the third
    line (0203.19-024 at 600 yen/kg, above its 399-yen band) is on row 4, once; the first row keeps only its own."""
    src = write(tmp_path / "w.csv", "declaration,hs_code,origin,value,quantity\n"
                "D0,8471.30-000,US,50000,\n"
                "D1,8471.30-000,US,50000,\n"
                "D1,0203.19-025,US,149900,300\n"
                "D1,0203.19-024,US,60000,100\n"
                "D2,8471.30-000,US,50000,\n")   # D0 and D1 in one chunk (the last declaration waits for the next)
    out, totals = tmp_path / "out.csv", tmp_path / "totals.csv"
    run_batch(str(src), str(out), totals=str(totals), defaults={"date": "2026-11-20", "simplified": "never"})
    rows = rows_of(out)
    assert "duty payable" not in rows[1]["warnings"] and "line " not in rows[1]["warnings"]
    assert rows[2]["duty"] == "14959"
    assert ("the duty payable is 14,900 with the gate-price unit value taken from the 課税価格 cut to 1,000 yen, "
            "14,000 if Customs takes the unrounded customs value per unit (row 3)") in rows[2]["warnings"]
    assert rows[3]["warnings"].count("0203.19-024 covers only goods") == 1
    assert all("line " not in r["warnings"] for r in rows)
    d1 = rows_of(totals)[1]["warnings"]
    assert "row 3: relies on unverified rule data" in d1 and "row 4: 0203.19-024 covers only goods" in d1
    assert "(row 3)" in d1 and "line " not in d1


def test_one_line_declarations_alike_name_each_its_own_row(tmp_path: Path) -> None:
    """The warnings cell of a one-line declaration is worked out once for the rows after it with the same warnings
    and notes (most rows of a broker's book), but only where no row is named in it: two declarations of the same pork
    line (0203.19-025, 300 kg at ¥149,900, whose two readings of the gate-price unit value differ: see the test above)
    each name their own row, and the rows between them keep their own warnings."""
    line = "0203.19-025,US,149900,300\n"
    src = write(tmp_path / "w.csv", "declaration,hs_code,origin,value,quantity\n"
                f"D0,{line}D1,8471.30-000,US,50000,\nD2,{line}D3,{line}")
    out = tmp_path / "out.csv"
    run_batch(str(src), str(out), defaults={"date": "2026-11-20", "simplified": "never"})
    rows = rows_of(out)
    for n in (1, 3, 4):
        assert rows[n - 1]["duty"] == "14959"
        assert rows[n - 1]["warnings"].count("(row ") == 1 and f"(row {n})" in rows[n - 1]["warnings"]
    assert "(row" not in rows[1]["warnings"]
