"""xlduty acceptance in Windows Excel: the one check Linux cannot make. Run before a release.

On Windows with desktop Excel, from a clone of the repository, with the Python environment xlduty is
installed in (README, Install):

    %LOCALAPPDATA%\\xlduty\\venv\\Scripts\\python workbook\\acceptance\\acceptance.py

It installs nothing and changes no setting: it starts its own hidden Excel, opens the add-in from the
repository (workbook/xlduty.xlam) and a byte-identical copy of the template in a temporary folder, and
points both at this Python with an ``xlduty.conf`` in that folder (xlwings reads the file beside the
workbook before the user's own). Then it

1. recalculates the template alone and reads every SelfTest check;
2. opens the add-in, types the README's example formulas (cases.yaml) into a new blank workbook and reads
   the values back, and the Python, xlduty and xlwings the workbook reached;
3. presses the ribbon actions that show no dialog: the set-up check (also with a Python that is not there),
   Explain cell, New quote (the copy it makes in Documents is deleted again), Export PDF, 見積書PDF;

and prints one PASS or FAIL line per check, with the expected and the actual value, then lists what only
a person can check (Refresh rates and About show dialogs; the function help in the fx dialog). Exit code
0 when every check passed. ``--visible`` shows Excel while it works; ``--keep`` keeps the folder.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ADDIN = ROOT / "workbook" / "xlduty.xlam"
TEMPLATE = ROOT / "workbook" / "xlduty.xlsm"
CASES = HERE / "cases.yaml"


# --- the cases and their comparison (also used by tests/test_acceptance.py on Linux) ---------------

def load_cases(path: Path = CASES) -> dict[str, Any]:
    import yaml

    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    if set(cases) != {"inputs", "formulas"}:
        raise ValueError(f"{path.name}: expected the keys inputs and formulas")
    cells = [c["cell"] for c in cases["formulas"]]
    if len(set(cells)) != len(cells) or set(cells) & set(cases["inputs"]):
        raise ValueError(f"{path.name}: a cell is used twice")
    return cases


def expected_value(case: dict[str, Any]) -> Any:
    """The value a case's cell must show; "{xlduty_version}" is the version this Python runs."""
    expected = case["expected"]
    if expected == "{xlduty_version}":
        from xlduty import __version__

        return __version__
    return expected


def same(expected: Any, actual: Any) -> bool:
    """Excel gives numbers as floats: 22200 and 22200.0 are the same; texts must be equal."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return abs(expected - actual) < 1e-9
    return expected == actual


class Report:
    """One line per check: PASS or FAIL, what it is, the expected and the actual value."""

    def __init__(self) -> None:
        self.failed = 0
        self.passed = 0

    def check(self, name: str, expected: Any, actual: Any, ok: bool | None = None) -> bool:
        ok = same(expected, actual) if ok is None else ok
        self.passed += ok
        self.failed += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {name}: expected {expected!r} | actual {actual!r}", flush=True)
        return ok

    def attempt(self, name: str, expected: Any, action: Callable[[], Any], ok: Callable[[Any], bool] | None = None
                ) -> Any:
        """Run ``action``; an exception is a FAIL that names it, and the run goes on."""
        try:
            actual = action()
        except Exception as exc:  # a failing step must not hide the next ones
            self.check(name, expected, f"{type(exc).__name__}: {exc}", ok=False)
            return None
        self.check(name, expected, actual, ok=None if ok is None else ok(actual))
        return actual


# --- Windows Excel ------------------------------------------------------------------------------

def _blocked(path: Path) -> bool:
    """The Mark of the Web: an NTFS stream Zone.Identifier, set on files downloaded from the internet."""
    return Path(f"{path}:Zone.Identifier").exists()


def _project_version() -> str:
    found = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    return found.group(1) if found else "?"


def _configure(folder: Path, python: Path) -> Path:
    """``xlduty.conf`` beside the workbooks, written as ``xlduty addin config`` writes the user's; xlwings'
    error pop-ups off (SHOW_ERROR_POPUPS: a Python error goes to a sheet "Error", which is checked), as a
    dialog in a hidden Excel would stop the run."""
    from xlduty.excel.install import update_conf

    path = folder / "xlduty.conf"
    update_conf(path, {"INTERPRETER_WIN": str(python), "INTERPRETER_MAC": str(python), "SHOW_ERROR_POPUPS": "False"})
    return path


def _python_error(book: Any) -> str | None:
    """What xlwings wrote to the sheet "Error" of ``book`` (SHOW_ERROR_POPUPS off), if anything."""
    if "Error" not in [s.name for s in book.sheets]:
        return None
    return str(book.sheets["Error"].range("A1").value)


def _run(app: Any, macro: str, *args: Any) -> Any:
    """A public procedure of the add-in, by name, through Application.Run (how a ribbon button runs it)."""
    return app.api.Run(f"'{ADDIN.name}'!{macro}", *args)


def self_test(app: Any, folder: Path, report: Report) -> None:
    """The template alone: every SelfTest row, and its ALL OK."""
    copy = folder / TEMPLATE.name
    book = app.books.open(str(copy))
    try:
        app.api.CalculateFull()
        sheet = book.sheets["SelfTest"]
        row = 5
        while sheet.range(f"A{row}").value:
            name, computed, expected = (sheet.range(f"{c}{row}").value for c in "ABC")
            report.check(f"SelfTest row {row}: {name}", expected, computed)
            row += 1
        report.check("SelfTest B2", "ALL OK", sheet.range("B2").value)
        print(f"      template reached: {sheet.range('B19').value} / xlwings {sheet.range('B20').value}")
    finally:
        book.close()


def addin_checks(app: Any, folder: Path, python: Path, cases: dict[str, Any], report: Report) -> None:
    """The add-in from the repository, a new blank workbook with the README's formulas, and the ribbon."""
    from xlduty import __version__
    from xlduty.excel.install import update_conf

    app.api.Workbooks.Open(str(ADDIN))
    book = app.books.add()
    book.save(str(folder / "acceptance.xlsx"))   # the xlduty.conf beside it is the one the add-in reads
    sheet = book.sheets[0]
    for cell, value in cases["inputs"].items():
        sheet.range(cell).value = value
    setup = report.attempt("set-up check (ribbon SetupProblem)", "", lambda: _run(app, "XlDutyRibbon.SetupProblem"))
    for case in cases["formulas"]:
        sheet.range(case["cell"]).formula = case["formula"]
    app.calculate()
    for case in cases["formulas"]:
        report.check(f"{case['cell']} {case['formula']}", expected_value(case), sheet.range(case["cell"]).value)
    sheet.range("D2").formula = '=XLDUTY_INFO("python")'
    reached = str(sheet.range("D2").value)
    report.check("Python reached (XLDUTY_INFO)", str(python), reached,
                 ok=reached.lower().endswith(f"({str(python).lower()})"))
    sheet.range("D3").formula = '=XLDUTY_INFO("version")'
    report.check("xlduty reached = this checkout", _project_version(), sheet.range("D3").value)
    report.check("xlduty imported here = this checkout", _project_version(), __version__)

    if setup == "":   # else each button below would show the set-up message: a dialog, which would hang here
        # Explain cell, on the DUTY cell: a new sheet lists the steps.
        book.activate()
        sheet.activate()
        sheet.range(cases["formulas"][0]["cell"]).select()
        report.attempt("ribbon Explain cell: runs", True, lambda: _run(app, "XlDutyRibbon.ExplainSelection") or True)
        report.check("ribbon Explain cell: no Python error", None, _python_error(book))
        names = [s.name for s in book.sheets]
        if report.check("ribbon Explain cell: sheet 'xlduty explain'", True, "xlduty explain" in names):
            steps = book.sheets["xlduty explain"].range("A2:A40").value
            report.check("ribbon Explain cell: lists the taxable value step", True,
                         any(str(s or "").startswith("taxable_value:") for s in steps))

        # New quote: opens a copy of the template in Documents, removed again.
        before = {b.name for b in app.books}
        report.attempt("ribbon New quote: runs", True, lambda: _run(app, "XlDutyRibbon.NewQuote") or True)
        new = [b for b in app.books if b.name not in before]
        if report.check("ribbon New quote: one new 見積_ workbook", ["見積_…xlsm"], [b.name for b in new],
                        ok=len(new) == 1 and new[0].name.startswith("見積_")):
            path = Path(new[0].fullname)
            report.check("ribbon New quote: has the Quote sheet", True, "Quote" in [s.name for s in new[0].sheets])
            new[0].close()
            path.unlink(missing_ok=True)
    else:
        report.check("ribbon Explain cell and New quote", "run", "not run: the set-up check failed", ok=False)

    # Export PDF (pure VBA), on the saved template copy: the PDF beside it, no viewer opened.
    quote = app.books.open(str(folder / TEMPLATE.name))
    quote.activate()
    pdf = report.attempt("ribbon Export PDF: returns the PDF path", str(folder / "xlduty.pdf"),
                         lambda: _run(app, "XlDutyRibbon.ExportPdf", False))
    if pdf:
        report.check("ribbon Export PDF: a PDF file", True, Path(pdf).read_bytes()[:5] == b"%PDF-")
    customer = report.attempt("ribbon 見積書PDF: returns the PDF path", str(folder / "xlduty_見積書.pdf"),
                              lambda: _run(app, "XlDutyRibbon.ExportPdf", False, True))
    if customer:
        report.check("ribbon 見積書PDF: a PDF file", True, Path(customer).read_bytes()[:5] == b"%PDF-")
    quote.close()

    # The set-up check with a Python that is not there: the message, not a VBA error box.
    missing = folder / "gone" / "Scripts" / "pythonw.exe"
    conf = folder / "xlduty.conf"
    saved = conf.read_bytes()
    update_conf(conf, {"INTERPRETER_WIN": str(missing)})
    try:
        book.activate()
        text = report.attempt("set-up check, Python missing: says which and how to fix",
                              f"a message naming {missing} and `xlduty addin config`",
                              lambda: _run(app, "XlDutyRibbon.SetupProblem"),
                              ok=lambda t: str(missing) in str(t) and "xlduty addin config" in str(t))
        if text:
            print("      " + str(text).replace("\r\n", "\n      "))
    finally:
        conf.write_bytes(saved)
    book.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--visible", action="store_true", help="show Excel while the checks run")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (and print where it is)")
    args = ap.parse_args(argv)
    if sys.platform != "win32":
        print("acceptance.py needs Windows with desktop Excel (on Linux, run the test suite instead)")
        return 2
    import xlwings as xw

    from xlduty.excel.install import interpreter

    report = Report()
    cases = load_cases()
    for path in (ADDIN, TEMPLATE):
        report.check(f"{path.name} not blocked by the Mark of the Web (else: Properties > Unblock)", False,
                     _blocked(path))
    python = interpreter()
    folder = Path(tempfile.mkdtemp(prefix="xlduty-acceptance-"))
    shutil.copyfile(TEMPLATE, folder / TEMPLATE.name)
    report.check("template copy has the repository's bytes", hashlib.sha256(TEMPLATE.read_bytes()).hexdigest(),
                 hashlib.sha256((folder / TEMPLATE.name).read_bytes()).hexdigest())
    _configure(folder, python)
    print(f"      folder {folder}; Python {python}; Excel starting (its own, hidden instance)", flush=True)
    app = xw.App(visible=args.visible, add_book=False)
    try:
        app.display_alerts = False
        print(f"      Excel {app.version}", flush=True)
        try:
            self_test(app, folder, report)
        except Exception as exc:
            report.check("template SelfTest", "ran", f"{type(exc).__name__}: {exc}", ok=False)
        try:
            addin_checks(app, folder, python, cases, report)
        except Exception as exc:
            report.check("add-in checks", "ran", f"{type(exc).__name__}: {exc}", ok=False)
    finally:
        app.quit()
        time.sleep(1)
        if args.keep:
            print(f"      kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{report.passed} passed, {report.failed} failed.")
    print("Check by hand (they show dialogs): install the add-in as in the README, open Excel, then\n"
          "  - the xlduty tab: About shows the versions; Refresh rates downloads and reports (takes a minute);\n"
          "  - Insert Function (fx), category xlduty: every function with its Japanese/English help;\n"
          "  - with the interpreter in %USERPROFILE%\\.xlduty\\xlduty.conf renamed, a button shows the set-up\n"
          "    message (Japanese and English), never a VBA error box;\n"
          "  - with a quote's PDF open in a viewer that locks it, Export PDF and 見積書PDF show one message naming\n"
          "    the PDF (close it and press again), never a VBA error box.")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
