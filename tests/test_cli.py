"""The command line: ``python -m xlduty.cli compute FILE|-`` (exit 0 / 2, JSON on stdout, one stderr line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from xlduty import compute

ROOT = Path(__file__).resolve().parents[1]

E2 = {"date": "2026-11-01", "simplified": "never", "lines": [{"rate": "12%", "value": 500000}]}
TSHIRTS = {"date": "2026-11-01", "lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": 300000}]}
SMALL = {"date": "2026-11-01", "simplified": "never", "lines": [{"rate": "10%", "value": 10999}] * 3}


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlduty.cli", "compute", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def _write(tmp_path: Path, data: Any, name: str = "in.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_example_declaration() -> None:
    """examples/declaration.json (fx_rates USD 155.39), worked by hand:

    L0 6109.10-020 CN: (1,800 + 120 + 10) × 155.39 = 299,902.7 → tv 299,000 × 7.4% = 22,126.
    L1 2204.21-020 FR, EU claimed 無税: (2,400 + 200) × 155.39 = 404,014 → duty 0; wine 540 l × 100 = 54,000.
    L2 0901.21-000 BR: (950 + 60) × 155.39 = 156,943.9 → tv 156,000 × 12% = 18,720.
    duty Σ 40,846 → 40,800.
    ct_base L0 floor_1000(299,902.7 + 22,100) = 322,000 → 25,116; L1 floor_1000(404,014 + 54,000) = 458,000
    → 35,724; L2 floor_1000(156,943.9 + 18,700) = 175,000 × 6.24% = 10,920. nat Σ 71,760 → 71,700.
    loc L0 25,100 × 22/78 = 7,079; L1 35,700 × 22/78 = 10,069; L2 10,900 × 22/78 = 3,074; Σ 20,222 → 20,200.
    total 40,800 + 71,700 + 20,200 + 54,000 = 186,700.
    """
    p = _run("examples/declaration.json")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    out = json.loads(p.stdout)
    assert out["totals"] == {"duty": 40800, "national_ct": 71700, "local_ct": 20200, "consumption_tax": 91900,
                             "excise": 54000, "total": 186700}
    assert [ln["duty"] for ln in out["lines"]] == [22126, 0, 18720]
    assert out["tariff_edition"] == "2026_07_09"


def test_batch_keeps_order_and_equals_single_runs(tmp_path: Path) -> None:
    """A JSON array gives an array in the same order; each item equals its own run.

    Totals (hand-worked in test_golden / test_tariff_lines): E2 115,800; T-shirts 54,300; 3 × 10,999 → 6,100.
    """
    batch = [E2, TSHIRTS, SMALL]
    p = _run(_write(tmp_path, batch))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert [item["totals"]["total"] for item in out] == [115800, 54300, 6100]
    for i, decl in enumerate(batch):
        single = _run(_write(tmp_path, decl, f"d{i}.json"))
        assert single.returncode == 0
        assert json.loads(single.stdout) == out[i]
        assert json.loads(json.dumps(compute(decl).to_dict(), ensure_ascii=False)) == out[i]


def test_stdin() -> None:
    """``-`` reads standard input: E2 → total 115,800."""
    p = _run("-", stdin=json.dumps(E2))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["totals"]["total"] == 115800


def test_compact_output_is_one_line() -> None:
    """--compact prints one JSON line."""
    p = _run("--compact", "-", stdin=json.dumps(E2))
    assert p.returncode == 0
    assert p.stdout.count("\n") == 1
    assert json.loads(p.stdout)["totals"]["duty"] == 60000


@pytest.mark.parametrize(("data", "field"), [
    ({"date": "2026-11-01", "lines": [{"rate": "10%", "value": -5}]}, "lines[0].value"),
    ({"date": "2026-11-01", "lines": [{"rate": "10%", "value": 5000, "colour": "red"}]}, "lines[0].colour"),
    ({"date": "2026-11-01", "lines": [{"hs_code": "6109.10", "origin": "CN", "value": 300000}]}, "lines[0].hs_code"),
    ({"lines": [{"rate": "10%", "value": 5000}]}, "date"),
    ([E2, {"date": "2026-11-01", "lines": [{"rate": "10%", "value": "abc"}]}], "[1].lines[0].value"),
    ({"date": "1996-01-01", "lines": [{"rate": "10%", "value": 5000}]}, "date: no consumption-tax rate is bundled"),
    ({"date": "9999-12-31", "lines": [{"rate": "10%", "value": 5000, "currency": "USD"}]},
     "lines[0].currency: no customs exchange rate for USD in the week 9999-12-26–9999-12-31"),
    ({"date": "2026-11-01", "lines": [{"hs_code": "6109.10-020", "origin": "UK", "value": 5000}]},
     "lines[0].origin: UK is not an ISO 3166-1 country code: use GB"),
])
def test_invalid_input_exit_2(tmp_path: Path, data: Any, field: str) -> None:
    """Bad input: exit 2, nothing on stdout, exactly one stderr line naming the field."""
    p = _run(_write(tmp_path, data))
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == 1
    assert field in lines[0]


def test_invalid_json_on_stdin() -> None:
    """Broken JSON: exit 2, one stderr line, empty stdout."""
    p = _run("-", stdin="{not json")
    assert (p.returncode, p.stdout) == (2, "")
    assert len(p.stderr.splitlines()) == 1


def test_missing_file() -> None:
    """An unreadable file: exit 2 with one stderr line."""
    p = _run("does/not/exist.json")
    assert (p.returncode, p.stdout) == (2, "")
    assert len(p.stderr.splitlines()) == 1


def test_python_dash_m_xlduty_runs_the_command() -> None:
    """``python -m xlduty compute -`` is the ``xlduty`` command (E2: 500,000 × 12 % = 60,000 duty)."""
    done = subprocess.run([sys.executable, "-m", "xlduty", "compute", "-"], cwd=ROOT, input=json.dumps(E2),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"]["duty"] == 60000


@pytest.mark.parametrize(("raw", "reason"), [
    (json.dumps(E2, ensure_ascii=False).replace('"12%"', '"１２％"').encode("cp932"), "is not UTF-8 text"),
    (b"[" * 5000 + b"]" * 5000, "is nested too deeply"),
    (b'{"date": "2026-11-01", "lines": [{"rate": "10%", "value": ' + b"9" * 5000 + b"}]}",
     "has a number of more than 4,300 digits"),
    (b'{"date": "2026-11-01", "lines": [{"rate": "10%", "value": 1e9999999999999999999}]}',
     "has a number out of range"),
])
def test_unreadable_bytes_exit_2(tmp_path: Path, raw: bytes, reason: str) -> None:
    """A Shift_JIS file, absurd nesting, an integer beyond Python's digit limit: exit 2 and one line, no traceback."""
    path = tmp_path / "in.json"
    path.write_bytes(raw)
    p = _run(str(path))
    assert (p.returncode, p.stdout) == (2, "")
    assert len(p.stderr.splitlines()) == 1 and reason in p.stderr


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_utf_with_bom_and_utf_16_are_read(tmp_path: Path, encoding: str) -> None:
    """What Windows editors save (a BOM, or UTF-16) is read as JSON allows: E2 gives duty 60,000."""
    path = tmp_path / "in.json"
    path.write_bytes(json.dumps(E2).encode(encoding))
    p = _run(str(path))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["totals"]["duty"] == 60000


def _without_orjson(*args: str) -> subprocess.CompletedProcess[bytes]:
    """``xlduty`` as if orjson were not installed (the standard library's JSON, as before orjson was used)."""
    code = "import sys; sys.modules['orjson'] = None; from xlduty.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, timeout=120,
                          check=False)


def test_indented_output_is_the_standard_library_s_bytes(tmp_path: Path, throughput_bench: Any) -> None:
    """The default output, its items rendered by orjson a few hundred at a time (``cli._write_indented``), is byte for
    byte what ``json.dumps(…, ensure_ascii=False, indent=2)`` wrote before (run without orjson): for a batch of
    several hundred declarations (more than one chunk; one- and many-line, preferences, several currencies, the
    simplified tariff and the exemption, Japanese text), for one declaration, and with --keep-going and --compact
    (which the standard library writes either way)."""
    decls = throughput_bench.batch(300, 3, seed=3) + throughput_bench.broker(300, seed=5) + [E2, TSHIRTS, SMALL]
    batch = str(tmp_path / "batch.json")
    Path(batch).write_text(json.dumps(decls, default=float), encoding="utf-8")   # Decimals as JSON numbers
    one = str(ROOT / "examples" / "declaration.json")
    for args in (["compute", batch], ["compute", one], ["compute", "--keep-going", batch], ["compute", "--compact",
                                                                                              batch]):
        fast = subprocess.run([sys.executable, "-m", "xlduty", *args], cwd=ROOT, capture_output=True, timeout=120,
                              check=False)
        assert fast.returncode == 0, fast.stderr
        assert fast.stdout == _without_orjson(*args).stdout


def test_orjson_s_indented_json_is_the_standard_library_s_or_refused() -> None:
    """``command.indented_json`` gives json.dumps's bytes for text of every kind (control characters, DEL, line and
    paragraph separators, emoji, quotes and backslashes), empty arrays and objects, booleans, null and 64-bit ints;
    what it would write otherwise (an int beyond 64 bits, a lone surrogate) it refuses with a TypeError."""
    from xlduty.command import indented_json

    dumps = indented_json()
    assert dumps is not None   # orjson comes with the batch extra, which the test extra installs
    text = "".join(chr(c) for c in range(0, 0x80)) + "\u2028\u2029\u00e9\u65e5\U0001f600\ufeff\uffff"
    obj = {"a": [], "b": {}, "c": [[], {}], "t": text, "n": None, "y": True, "f": False,
           "i": [0, -1, 2**63 - 1, -2**63], "nested": [{"x": [1, {"y": "z"}]}], "日本": "語"}
    assert dumps(obj) == json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8")
    for bad in ({"i": 2**64}, {"s": "\ud800"}):
        with pytest.raises(TypeError):
            dumps(bad)


def test_warnings_are_said_when_some_items_failed(tmp_path: Path) -> None:
    """A run that ends with exit 4 (some items failed, the others computed) says its warnings too: those figures were
    computed under them (here the bundled tables, because the stored pointer is unreadable). Exit 2 keeps its one
    line."""
    import os

    data = tmp_path / "data"
    (data / "rates").mkdir(parents=True)
    (data / "rates" / "active.json").write_text("{not json", encoding="utf-8")
    env = {**os.environ, "XLDUTY_DATA_DIR": str(data)}
    batch = _write(tmp_path, [TSHIRTS, {**TSHIRTS, "lines": [{"hs_code": "9999.99", "value": 1}]}])
    for args, code in ((("--keep-going",), 4), ((), 2)):
        out = subprocess.run([sys.executable, "-m", "xlduty.cli", "compute", *args, batch], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == code, out.stderr
        said = [line for line in out.stderr.splitlines() if "active.json is unreadable" in line]
        assert len(said) == (1 if code == 4 else 0), out.stderr
        if said:
            assert said[0].startswith("xlduty: warning: ")
    rows = tmp_path / "rows.csv"
    rows.write_text("hs_code,origin,value\n6109.10-020,CN,300000\n9999.99,CN,1\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "xlduty.cli", "batch", str(rows), "-o", str(tmp_path / "o.csv"),
                          "--date", "2026-11-01"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 4, out.stderr
    assert "xlduty: warning: " in out.stderr and "active.json is unreadable" in out.stderr


def test_main_in_process_keeps_nothing_of_what_it_computed(tmp_path: Path) -> None:
    """``main()`` called in-process with no argv (a wrapper reading ``sys.argv``) kept every result alive and frozen
    for the rest of the process (2.8 MB more after three more runs of 300 declarations): leaving them to the exit is
    the console script's alone (``console``: the ``xlduty`` script, ``python -m xlduty``)."""
    import tomllib

    code = f"""import gc, json, os, sys, tracemalloc
from xlduty import cli
path = {str(tmp_path / "batch.json")!r}
with open(path, "w") as fh:
    json.dump([{TSHIRTS!r}] * 300, fh)
sys.argv = ["xlduty", "compute", path]
sys.stdout = open(os.devnull, "w")
tracemalloc.start()
assert cli.main() == 0
gc.collect()
first = tracemalloc.get_traced_memory()[0]
for _ in range(3):
    assert cli.main() == 0
gc.collect()
print(tracemalloc.get_traced_memory()[0] - first, gc.get_freeze_count(), file=sys.__stdout__)
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stderr
    grown, frozen = map(int, run.stdout.split())
    assert grown < 200_000 and frozen == 0, run.stdout
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {"xlduty": "xlduty.cli:console"}
    assert "console()" in (ROOT / "xlduty" / "__main__.py").read_text(encoding="utf-8")
