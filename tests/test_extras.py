"""A slim core install: ``pip install xlduty`` brings what the calculation needs; each adapter's libraries come
with an extra, and a command that needs a missing one says which extra to install, in one line.

Checked from three sides: every library the package imports (read with ``ast``, as tests/test_architecture.py
reads them) is a core dependency or named in ``xlduty.extras.EXTRA_OF``; each extra of ``pyproject.toml``
really brings the libraries that table gives it (the installed packages' own requirements, followed); and the
commands run in a subprocess where those libraries cannot be imported.
"""

from __future__ import annotations

import json
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from slim import run_cli_slim
from test_architecture import PACKAGE, graph

from xlduty.extras import EXTRA_OF

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
CORE = {"pydantic", "yaml", "platformdirs"}   # import names of the three core dependencies
RUNTIME = {"pyodide"}   # Pyodide's own module, imported only under it (xlwings Lite): nothing to install


def _brought(requirements: list[str], extras: dict[str, list[str]]) -> set[str]:
    """Every distribution these requirements install (the project's own extras expanded, dependencies followed
    through the installed packages' metadata; environment markers evaluated for this machine)."""
    todo = [Requirement(r) for r in requirements]
    seen: set[str] = set()
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = req.name.lower().replace("_", "-")
        if name == PROJECT["name"]:
            for extra in req.extras:
                todo += [Requirement(r) for r in extras[extra]]
            continue
        if name in seen:
            continue
        seen.add(name)
        for extra in [*req.extras, ""]:
            for r in metadata.requires(name) or []:
                sub = Requirement(r)
                if sub.marker is None or sub.marker.evaluate({"extra": extra}):
                    todo.append(Requirement(str(sub).split(";")[0]))
    return seen


def test_core_dependencies_are_the_calculations_only() -> None:
    assert sorted(Requirement(r).name for r in PROJECT["dependencies"]) == ["PyYAML", "platformdirs", "pydantic"]


def test_every_library_the_package_imports_is_core_or_has_an_extra() -> None:
    """Whatever a module of xlduty imports outside the standard library: a core dependency, or a library whose
    extra the table names (and nothing in the table that the package never imports)."""
    imported = {dep for deps in graph(PACKAGE).values() for dep in deps
                if not dep.startswith("xlduty") and dep not in sys.stdlib_module_names}
    assert imported - CORE - RUNTIME == set(EXTRA_OF)


def test_each_extra_brings_the_libraries_the_table_gives_it() -> None:
    """EXTRA_OF's library → extra is true of pyproject.toml: installing the extra installs the library. ``all``
    holds every extra users run, ``test`` all of them and ``build``."""
    extras: dict[str, list[str]] = PROJECT["optional-dependencies"]
    owner = metadata.packages_distributions()
    for library, extra in EXTRA_OF.items():
        dists = {d.lower().replace("_", "-") for d in owner[library]}
        assert dists & _brought([f"xlduty[{extra}]"], extras), (library, extra)
    assert _brought(["xlduty[all]"], extras) >= _brought([f"xlduty[{e}]" for e in ("excel", "recalc", "export",
                                                                                   "refresh", "batch", "dask")],
                                                                  extras)
    assert _brought(["xlduty[test]"], extras) >= _brought(["xlduty[all,build]"], extras)
    assert "xlwings" not in _brought(["xlduty[recalc,refresh,export]"], extras)


def test_a_slim_install_computes() -> None:
    """``xlduty compute`` and ``xlduty quote`` of JSON need none of the extras: the README's example figures."""
    out = run_cli_slim("compute", "examples/declaration.json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["totals"] == {"duty": 40800, "national_ct": 71700, "local_ct": 20200,
                                                "consumption_tax": 91900, "excise": 54000, "total": 186700}
    out = run_cli_slim("quote", "examples/quote.json")
    assert out.returncode == 0 and json.loads(out.stdout)["tariff_edition"] == "2026_07_09", out.stderr


@pytest.mark.parametrize(("args", "extra"), [
    (("recalc", "workbook/xlduty.xlsm", "-o", "{out}.xlsm"), "recalc"),
    (("export-pdf", "workbook/xlduty.xlsm", "-o", "{out}.pdf"), "recalc"),
    (("quote", "workbook/xlduty.xlsm"), "recalc"),
    (("rates", "refresh"), "refresh"),
])
def test_a_missing_extra_is_named_in_one_line(args: tuple[str, ...], extra: str, tmp_path: Path) -> None:
    """Exit code 5, one line naming the extra and how to install it, nothing on stdout, no file written."""
    out = run_cli_slim(*[a.format(out=tmp_path / "out") for a in args])
    assert (out.returncode, out.stdout) == (5, "")
    line, = out.stderr.splitlines()
    assert line.startswith(f"xlduty: this needs the optional part xlduty[{extra}] (")
    assert line.endswith(f"pip install 'xlduty[{extra}]' (in a clone: pip install -e '.[{extra}]')")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_module_of_xlduty_itself_keeps_its_traceback() -> None:
    from xlduty.extras import missing_extra

    assert missing_extra(ModuleNotFoundError("No module named 'xlduty.nothing'", name="xlduty.nothing")) is None
    assert "xlduty[excel]" in (missing_extra(ModuleNotFoundError("x", name="xlwings.pro")) or "")
