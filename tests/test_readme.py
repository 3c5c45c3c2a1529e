"""What the README says where users look holds: the Quick start's two commands and the note on foreign currencies
beside it, the ``--permit`` example (it matches the example quote), the exit codes and limits the code uses, and
``xlduty --version``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from xlduty import command
from xlduty.files import MAX_JSON_BYTES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def test_the_quick_start_is_two_commands_and_says_foreign_currencies_need_a_rate() -> None:
    quick = _section("Quick start")
    block = quick.split("```")[1]
    assert [ln for ln in block.splitlines()[1:] if ln.strip()] == [
        "pip install -e . && xlduty compute examples/declaration.json",
        "pip install -e '.[test]' && python -m pytest"]
    assert "2020-09-26" in quick and "2025-04-01" in quick and "fx_rates" in quick and "xlduty rates refresh" in quick


def test_the_permit_example_matches_the_example_quote(tmp_path: Path) -> None:
    from xlduty.quote import compare_with_permit, quote, save

    permit = json.loads(re.search(r'```json\n(\{"duty".*?\})\n```', README, re.S).group(1))  # type: ignore[union-attr]
    saved = save(quote(json.loads((ROOT / "examples" / "quote.json").read_text(encoding="utf-8"))))
    result = compare_with_permit(saved, permit)
    assert result.matches and result.differences == []


def test_the_exit_codes_table_is_the_code_s() -> None:
    table = _section("Exit codes")
    listed = [int(m) for m in re.findall(r"^\| (\d+) \|", table, re.M)]
    assert listed == [command.EXIT_OK, command.EXIT_BUG, command.EXIT_INPUT, command.EXIT_DATA,
                      command.EXIT_SOME_FAILED, command.EXIT_MISSING, command.EXIT_INTERRUPTED] == [
        0, 1, 2, 3, 4, 5, 130]


def test_the_limits_table_has_the_json_input_limit() -> None:
    assert MAX_JSON_BYTES == 16 * 1024 * 1024
    assert "| a JSON input (`compute`, `quote`, `--permit`, a saved quote)" in _section("Limits")
    assert f"{command.COUNT_MAX:,}" in _section("Limits")


def test_version() -> None:
    from xlduty import __version__

    p = subprocess.run([sys.executable, "-m", "xlduty", "--version"], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, check=False)
    assert (p.returncode, p.stdout, p.stderr) == (0, f"xlduty {__version__}\n", "")
