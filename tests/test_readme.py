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


def test_the_ribbon_lists_name_every_button() -> None:
    """Every list of the ribbon's buttons in the README (the install step, the acceptance kit, the Lite limits in
    both languages) names each button of the shipped ribbon by the last words of its label (English, or 見積書PDF):
    the install step all of them; the others may leave out the two that show a dialog (About, Refresh rates)."""
    ui = (ROOT / "workbook" / "src" / "customUI14.xml").read_text(encoding="utf-8")
    labels = re.findall(r'<button id="\w+" label="([^"]+)"', ui)
    names = ["見積書PDF" if label.startswith("見積書PDF") else re.search(r"[A-Z][A-Za-z ]+$", label).group(0)
             for label in labels]
    assert names == ["Refresh rates", "About", "Explain cell", "New quote", "Export PDF", "見積書PDF"]
    lists = [" ".join(found.split()) for found in
             re.findall(r"\((?:Refresh rates|set-up check)[^)]*\)|（Refresh rates[^）]*）", README)]
    assert len(lists) == 4, lists
    dialogs = {"About", "Refresh rates"}   # they show a dialog: the kit cannot press them
    for found in lists:
        assert {n for n in names if n not in dialogs} <= {n for n in names if n in found}, found
    install = README[README.index("### Install (Windows Excel)"):README.index("### The one check only")]
    assert [found for found in lists if found in " ".join(install.split())] == [f"({', '.join(names)})"]


def test_lite_hosts_the_wheel_before_the_workbook_is_opened() -> None:
    """Lite installs requirements.txt when the workbook is opened: the step that points its xlduty line at a hosted
    wheel comes before the step that opens the workbook, in both languages."""
    lite = README[README.index("### Excel on Mac and the web"):]
    lite = lite[:lite.index("\n### ", 10)] if "\n### " in lite[10:] else lite
    for heading in ("#### 日本語", "#### English"):
        part = lite[lite.index(heading):]
        steps = re.findall(r"^(\d)\. \*\*(.+?)\*\*", part, re.M)[:3]
        hosted = next(int(n) for n, _t in steps if "--wheel-url" in _step(part, n))
        opened = next(int(n) for n, _t in steps if "xlduty-lite.xlsx` を開き" in _step(part, n)
                      or "Open `workbook/xlduty-lite.xlsx`" in _step(part, n))
        assert hosted < opened, heading


def _step(text: str, number: str) -> str:
    """The text of the numbered step ``number`` of a list: up to the next step or the end of the list."""
    start = re.search(rf"^{number}\. ", text, re.M)
    end = re.search(r"^\d\. |\n\n", text[start.end():], re.M)
    return text[start.start():start.end() + (end.start() if end else len(text))]
