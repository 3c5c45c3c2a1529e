"""`xlduty compute --format jsonl` reads its input a line at a time: each line goes through the one JSON reader
(`command.loads`: a key given twice is refused) and no line may grow without end (`/dev/zero` has no newline)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _compute(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlduty", "compute", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_an_endless_line_is_one_error_not_memory(tmp_path: Path) -> None:
    """/dev/zero is one endless line: refused once 16 MiB are read, in one line, nothing on stdout."""
    run = _compute("--format", "jsonl", "/dev/zero")
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.strip().splitlines() == ["xlduty: /dev/zero: line 1 is longer than 16 MiB"]


def test_a_key_given_twice_in_a_jsonl_line_is_that_line_s_error(tmp_path: Path) -> None:
    """Line 2 gives `value` twice (300000, then 1: last-wins would charge nothing). With --keep-going it is that
    item's error, naming the field; line 1 (CIF 300,000 yen, 6109.10-020 from CN at WTO 7.4 %: duty 22,200) is
    computed."""
    good = '{"date":"2026-11-01","lines":[{"hs_code":"6109.10-020","origin":"CN","value":300000}]}'
    twice = '{"date":"2026-11-01","lines":[{"hs_code":"6109.10-020","origin":"CN","value":300000,"value":1}]}'
    src = tmp_path / "book.jsonl"
    src.write_text(good + "\n\n" + twice + "\n", encoding="utf-8")
    run = _compute("--format", "jsonl", "--keep-going", "--no-explain", str(src))
    assert run.returncode == 4, run.stderr
    first, second = run.stdout.splitlines()
    assert '"duty":22200' in first.replace(" ", "")
    assert second.startswith('{"index":1,"error":"lines[0].value: given twice')
    stopped = _compute("--format", "jsonl", str(src))
    assert stopped.returncode == 2
    assert stopped.stderr.startswith("xlduty: [1].lines[0].value: given twice")


GOOD = '{"date":"2026-11-01","lines":[{"hs_code":"6109.10-020","origin":"CN","value":300000}]}'


def _results(out: str) -> list[dict]:
    import json

    return [json.loads(line) for line in out.splitlines()]


def test_keep_going_makes_each_bad_item_of_an_array_its_own_error(tmp_path: Path) -> None:
    """Inside a JSON array, a declaration with a key given twice or a number that cannot be held stopped the whole
    run even with --keep-going (exit 2, nothing computed). Each is now its own error, its index and field named, and
    the others computed (6109.10-020 CN ¥300,000: WTO 7.4 % = 22,200); without --keep-going the first error still
    stops the run as before, nothing on stdout."""
    import json

    twice = GOOD.replace('"value":300000', '"value":300000,"value":1')
    huge = GOOD.replace('"value":300000', '"value":1e99999999999999999999')
    digits = GOOD.replace('"value":300000', '"value":1' + "0" * 5000)
    src = tmp_path / "batch.json"
    src.write_text(f"[{GOOD},{twice},{huge},{digits},{GOOD}]", encoding="utf-8")
    for fmt in ("json", "jsonl"):
        run = _compute("--keep-going", "--no-explain", "--format", fmt, str(src))
        assert run.returncode == 4, run.stderr
        out = json.loads(run.stdout) if fmt == "json" else _results(run.stdout)
        assert [o.get("totals", {}).get("duty") for o in out] == [22200, None, None, None, 22200]
        assert [(o["index"], o["field"]) for o in out[1:4]] == [(1, "lines[0].value"), (2, "lines[0].value"),
                                                               (3, "lines[0].value")]
        assert out[1]["message"].startswith("given twice") and out[2]["message"] == "a number out of range"
        assert out[3]["message"] == "a number of more than 4,300 digits"
    stopped = _compute(str(src))   # the document refused as before, in one line
    assert (stopped.returncode, stopped.stdout) == (2, "")
    assert stopped.stderr == f"xlduty: {src} has a number out of range\n"
    src.write_text(f"[{GOOD},{twice},{GOOD}]", encoding="utf-8")
    stopped = _compute(str(src))
    assert (stopped.returncode, stopped.stdout) == (2, "")
    assert stopped.stderr.startswith("xlduty: [1].lines[0].value: given twice")
    one = tmp_path / "one.json"
    one.write_text(twice, encoding="utf-8")
    run = _compute("--keep-going", "--no-explain", str(one))
    assert run.returncode == 4 and json.loads(run.stdout)["field"] == "lines[0].value"


def test_jsonl_whose_first_line_is_broken_is_still_jsonl(tmp_path: Path) -> None:
    """A JSONL file whose first line is broken was read as one JSON document ("not valid JSON" for the whole, exit
    2); beyond 16 MiB it was told to use JSONL though it was JSONL. Its first line is now its own error and the
    other lines are computed; an object over several lines is still read as one document."""
    src = tmp_path / "badfirst.jsonl"
    src.write_text(GOOD[:-10] + "\n" + GOOD + "\n" + GOOD + "\n", encoding="utf-8")
    run = _compute("--format", "jsonl", "--keep-going", "--no-explain", str(src))
    assert run.returncode == 4, run.stderr
    out = _results(run.stdout)
    assert out[0]["index"] == 0 and "not valid JSON" in out[0]["error"]
    assert [o["totals"]["duty"] for o in out[1:]] == [22200, 22200]
    big = tmp_path / "big.jsonl"   # 17 MiB of JSONL, its first line broken
    with big.open("w", encoding="utf-8") as fh:
        fh.write(GOOD[:-10] + "\n")
        for _ in range(17 * (1 << 20) // (len(GOOD) + 1) + 1):
            fh.write(GOOD + "\n")
    run = _compute("--format", "jsonl", "--keep-going", "--no-explain", str(big))
    assert run.returncode == 4, run.stderr[:300]
    lines = run.stdout.splitlines()
    assert '"index":0' in lines[0] and len(lines) > 190_000 and "larger than" not in run.stderr
    pretty = tmp_path / "pretty.jsonl"   # one object, indented over several lines: a document
    pretty.write_text('{\n  "date": "2026-11-01",\n  "lines": [{"hs_code": "6109.10-020", "origin": "CN", '
                      '"value": 300000}]\n}\n', encoding="utf-8")
    run = _compute("--format", "jsonl", "--no-explain", str(pretty))
    assert run.returncode == 0 and _results(run.stdout)[0]["totals"]["duty"] == 22200


def _parses(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The texts ``command`` parses from now on, one entry per parse (its scan without a hook, and ``json.loads``)."""
    import json

    from xlduty import command

    calls: list[str] = []
    scan, loads = command._SCAN, json.loads

    def counted_scan(text: str, at: int):  # type: ignore[no-untyped-def]
        calls.append(text)
        return scan(text, at)

    def counted_loads(raw, **kw):  # type: ignore[no-untyped-def]
        calls.append(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)
        return loads(raw, **kw)

    monkeypatch.setattr(command, "_SCAN", counted_scan)
    monkeypatch.setattr(command.json, "loads", counted_loads)
    return calls


def test_the_input_is_parsed_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``compute --format jsonl`` parsed the first line of JSONL twice (once to tell JSONL from a document) and a
    declaration written over several lines two or three times (once to tell, once to read, once more for a key given
    twice): the text that holds each item is parsed once, and the items are the same."""
    import json

    from xlduty import command

    loads = json.loads
    calls = _parses(monkeypatch)
    first = '{"date":"2026-11-01","lines":[{"hs_code":"6109.10-020","origin":"CN","value":300000}]}'
    second = '{"date":"2026-11-01","lines":[{"hs_code":"0901.21-000","origin":"BR","value":50000}]}'
    book = tmp_path / "book.jsonl"
    book.write_text(first + "\n" + second + "\n", encoding="utf-8")
    items = list(command.read_declarations(str(book)))
    assert [i["lines"][0]["hs_code"] for i in items] == ["6109.10-020", "0901.21-000"]
    assert sum("6109.10-020" in c for c in calls) == 1 and sum("0901.21-000" in c for c in calls) == 1
    calls.clear()
    one = tmp_path / "one.json"
    one.write_text(json.dumps(json.loads(second), indent=2), encoding="utf-8")
    for keep_going in (False, True):
        calls.clear()
        assert list(command.read_declarations(str(one), keep_going=keep_going)) == [loads(second)]
        assert sum("0901.21-000" in c for c in calls) == 1


def test_a_key_given_twice_is_found_by_the_one_reading(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A declaration over several lines with ``value`` given twice was parsed five times (read, refused; read again
    to tell JSON from JSONL; read twice more to word the error), and a first JSONL line with a key given twice five
    times too: each is now read once by each of ``loads``' two routes (the scan without a hook, which cannot see a key
    given twice, and the exact one, which finds it), with the same outcome: the document refused naming the field,
    or with --keep-going that item's error; the JSONL line that item's error, the next line computed."""

    from xlduty import command
    from xlduty.core.errors import InputError

    calls = _parses(monkeypatch)
    doc = tmp_path / "twice.json"
    doc.write_text('{\n  "date": "2026-11-01",\n  "lines": [{"hs_code": "6109.10-020", "origin": "CN",\n'
                   '             "value": 300000, "value": 1}]\n}\n', encoding="utf-8")
    try:
        list(command.read_declarations(str(doc)))
    except InputError as exc:
        assert (exc.field, exc.message[:11]) == ("lines[0].value", "given twice")
    else:
        raise AssertionError("a key given twice was read")
    assert sum("6109.10-020" in c for c in calls) == 2
    calls.clear()
    (item,) = command.read_declarations(str(doc), keep_going=True)
    assert isinstance(item, InputError) and (item.field, item.message[:11]) == ("[0].lines[0].value", "given twice")
    assert sum("6109.10-020" in c for c in calls) == 2
    calls.clear()
    book = tmp_path / "book.jsonl"
    book.write_text(GOOD.replace('"value":300000', '"value":300000,"value":1') + "\n"
                    + GOOD.replace("6109.10-020", "0901.21-000") + "\n", encoding="utf-8")
    first, second = command.read_declarations(str(book))
    assert isinstance(first, InputError) and (first.field, first.message[:11]) == ("[0].lines[0].value", "given twice")
    assert second["lines"][0]["hs_code"] == "0901.21-000"
    assert sum("6109.10-020" in c for c in calls) == 2
