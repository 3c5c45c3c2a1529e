"""Run VBA procedures in LibreOffice Basic: an interpreter we did not write, for VBA Excel cannot run here.

LibreOffice imports a workbook's VBA project as a Basic library (VBA-compatibility mode) and runs it.
Two limits found while writing these tests: it cannot compile xlwings' runtime module or its Dictionary
class (an .xlsm holding them runs nothing), and it compiles every branch of ``#If`` (so a procedure
whose branches assign the same variable returns the last branch's value). Tests therefore run our own
modules, as shipped, beside a small stand-in for the few xlwings procedures they call.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

RUNNER = Path(__file__).with_name("lo_basic_runner.py")


def uno_python() -> str | None:
    """A Python that can import LibreOffice's ``uno`` (Debian's python3-uno installs it for /usr/bin/python3)."""
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        return None
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if candidate and Path(candidate).exists() and Path(candidate).resolve() != Path(sys.executable).resolve():
            ok = subprocess.run([candidate, "-c", "import uno"], capture_output=True, timeout=60, check=False)
            if ok.returncode == 0:
                return candidate
    return None


needs_lo_basic = pytest.mark.skipif(
    uno_python() is None,
    reason="LibreOffice with its Python bridge is not installed: apt-get install libreoffice-calc-nogui python3-uno "
           "(.ci/run installs them)")


def workbook_with_modules(modules: list[Any], project: str, path: Path) -> Path:
    """An .xlsm holding ``modules`` (VbaModule) in a project written by xlduty's own VBA writer."""
    import xlsxwriter

    from xlduty.excel.vba_project import build_vba_project

    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": datetime(2026, 1, 1)})
    ws = wb.add_worksheet()
    wb.set_vba_name("ThisWorkbook")
    ws.set_vba_name("Sheet1")
    wb.add_vba_project(io.BytesIO(build_vba_project(modules, project)), is_stream=True)
    wb.close()
    return path


def run_basic(doc: Path, library: str, calls: list[tuple[str, list[Any]]], profile: Path) -> list[Any]:
    """The results of ``calls`` ([("Module.Procedure", [args])]) run in ``doc`` by LibreOffice."""
    python = uno_python()
    assert python is not None
    result = subprocess.run([python, str(RUNNER), str(doc), library, str(profile), json.dumps(calls)],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return list(json.loads(result.stdout.strip().splitlines()[-1]))
