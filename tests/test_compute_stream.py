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
