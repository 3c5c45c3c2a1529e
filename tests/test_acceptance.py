"""The Windows acceptance kit (workbook/acceptance), as far as Linux can check it: the script compiles and
loads without Excel, its cases are the README's examples, and every value it expects is what the worksheet
functions give through `xlduty recalc` and, where a case names one, what `xlduty compute` gives."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl
import pytest
from conftest import script_module

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "workbook" / "acceptance"


@pytest.fixture(scope="module")
def kit() -> ModuleType:
    return script_module(KIT / "acceptance.py", "xlduty_acceptance")


@pytest.fixture(scope="module")
def cases(kit: ModuleType) -> dict[str, Any]:
    return kit.load_cases()


def test_one_script_that_compiles(kit: ModuleType) -> None:
    """One script, plus its data; it refuses to run anywhere but Windows, with a clear message."""
    assert sorted(p.name for p in KIT.iterdir() if p.is_file()) == ["acceptance.py", "cases.yaml"]
    compile((KIT / "acceptance.py").read_text(encoding="utf-8"), "acceptance.py", "exec")
    if sys.platform != "win32":
        assert kit.main([]) == 2


def test_comparison(kit: ModuleType) -> None:
    """Excel returns numbers as floats; texts compare exactly; a version placeholder is this xlduty's."""
    from xlduty import __version__

    assert kit.same(22200, 22200.0) and kit.same(111.97, 111.97) and not kit.same(22200, 22300.0)
    assert kit.same("7.4% (WTO協定税率)", "7.4% (WTO協定税率)") and not kit.same("22200", 22200.0)
    assert not kit.same(True, 1.0)
    assert kit.expected_value({"expected": "{xlduty_version}"}) == __version__


def _readme_examples() -> list[tuple[str, str]]:
    """(formula, shows) of the README's example table (## Excel, Examples)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("#### Examples"):]
    block = block[:block.index("\n#")]
    return re.findall(r"^\| `(=[^`]+)` \| (.+?) \|$", block, re.M)


def test_cases_are_the_readme_examples(cases: dict[str, Any]) -> None:
    examples = _readme_examples()
    assert [f for f, _ in examples] == [c["formula"] for c in cases["formulas"]]
    for (_, shows), case in zip(examples, cases["formulas"], strict=True):
        expected = case["expected"]
        if expected == "{xlduty_version}":
            assert shows == "the installed xlduty's version"
        else:
            assert shows == (f"{expected:,}" if isinstance(expected, int) else str(expected)), case["formula"]


def test_expected_values_are_what_the_functions_give(kit: ModuleType, cases: dict[str, Any], tmp_path: Path) -> None:
    """The kit's sheet, built here as a user would type it, recalculated headless by `xlduty recalc` with the
    same worksheet functions Excel calls: every cell shows the value the kit expects."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for cell, value in cases["inputs"].items():
        ws[cell] = value
    for case in cases["formulas"]:
        ws[case["cell"]] = case["formula"]
    src, dst = tmp_path / "kit.xlsx", tmp_path / "kit_out.xlsx"
    wb.save(src)
    result = subprocess.run([sys.executable, "-m", "xlduty.cli", "recalc", str(src), "-o", str(dst)],
                            capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    values = openpyxl.load_workbook(dst, data_only=True).active
    for case in cases["formulas"]:
        assert kit.same(kit.expected_value(case), values[case["cell"]].value), (case["formula"],
                                                                                values[case["cell"]].value)


def _field(result: dict[str, Any], path: str) -> Any:
    value: Any = result
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def test_expected_values_are_what_xlduty_compute_gives(kit: ModuleType, cases: dict[str, Any]) -> None:
    """For the cases that name a declaration: `xlduty compute` on it gives the kit's expected value."""
    named = [c for c in cases["formulas"] if "compute" in c]
    assert len(named) >= 6
    batch = [c["compute"]["declaration"] for c in named]
    result = subprocess.run([sys.executable, "-m", "xlduty.cli", "compute", "-"], input=json.dumps(batch),
                            capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    for case, computed in zip(named, json.loads(result.stdout), strict=True):
        assert kit.same(kit.expected_value(case), _field(computed, case["compute"]["field"])), case["formula"]


def test_the_kit_presses_both_pdf_buttons() -> None:
    """Each ribbon button that exports a PDF (pure VBA, no dialog when it works) is pressed by the kit as the
    button calls it: Export PDF (the costing sheets) and 見積書PDF (the customer's sheet, customer=True), each
    checked for the path it returns."""
    ui = (ROOT / "workbook" / "src" / "customUI14.xml").read_text(encoding="utf-8")
    ribbon = (ROOT / "workbook" / "src" / "XlDutyRibbon.bas").read_text(encoding="ascii")
    kit = (KIT / "acceptance.py").read_text(encoding="utf-8")
    pressed = set()
    for action in re.findall(r'onAction="XlDutyRibbon\.(\w+)"', ui):
        call = re.search(rf"Public Sub {action}\(control As IRibbonControl\)\n\s+(.+)\n", ribbon).group(1)
        if call.startswith("ExportPdf"):
            customer = call.replace(" ", "") == "ExportPdfTrue,True"
            pressed.add(customer)
            args = ", False, True" if customer else ", False"
            assert f'_run(app, "XlDutyRibbon.ExportPdf"{args})' in kit, action
    assert pressed == {False, True}
    assert 'str(folder / "xlduty_見積書.pdf")' in kit and "見積書PDF" in ui
