"""The package's layout, read from its imports with ``ast`` (nothing is imported or run):

- the calculation core (``xlduty/core/``) imports nothing of the adapters above it (the CLI, Excel, headless
  recalculation, quotes, the rates refresh, the PDF export) and no library of theirs (Excel, HTTP, HTML, PDF,
  processes): only the standard library, pydantic, PyYAML and platformdirs, and two leaves of the package:
  ``files.py`` (atomic writes, for the user cache) and ``version.py``;
- inside the core, only the engine reaches the fast path: a step of the law never depends on the shortcuts;
- no two modules of the package import each other, directly or round a longer circle (imports inside functions
  and under ``TYPE_CHECKING`` count).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "xlduty"
CORE = "xlduty.core"
FAST = "xlduty.core.fast"
CORE_MAY_IMPORT = {"xlduty.files", "xlduty.version"}   # outside the core: atomic writes, the version
CORE_LIBRARIES = {"pydantic", "yaml", "platformdirs"}
CORE_NEVER = {"http", "urllib", "socket", "ssl", "email", "ftplib", "smtplib", "xmlrpc", "subprocess",
              "multiprocessing", "concurrent", "asyncio", "zipfile", "xml", "sqlite3", "tkinter"}


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package under ``root`` by dotted name (a package by its ``__init__``)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """What the module imports, anywhere in it: modules of the package by dotted name (``from a import b`` is
    ``a.b`` when that is a module, else ``a``), anything else by its top-level name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(_known(alias.name, known))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base
                                                                                                   else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else _known(base, known))
    found.discard(name)
    return found


def _known(dotted: str, known: dict[str, Path]) -> str:
    """The longest module of the package that ``dotted`` names, else its top-level name."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in known:
            return ".".join(parts[:n])
    return parts[0]


def graph(root: Path) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports(path, name, known) for name, path in known.items()}


def core_faults(g: dict[str, set[str]]) -> list[str]:
    """Each import of a core module that the layout forbids."""
    faults = []
    for name, deps in sorted(g.items()):
        if not name.startswith(CORE):
            continue
        for dep in sorted(deps):
            if dep in g:   # a module of the package
                if not (dep.startswith(CORE) or dep in CORE_MAY_IMPORT):
                    faults.append(f"{name} imports the adapter {dep}")
                elif dep.startswith(FAST) and not (name.startswith(FAST) or name == f"{CORE}.engine"):
                    faults.append(f"{name} imports the fast path {dep}: only the engine may")
            elif dep in CORE_NEVER or (dep not in sys.stdlib_module_names and dep not in CORE_LIBRARIES):
                faults.append(f"{name} imports {dep}")
    return faults


def circles(g: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other (strongly connected components of two or more, Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g.get(v, ())):
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_the_core_imports_no_adapter_and_no_adapter_library() -> None:
    assert core_faults(graph(PACKAGE)) == []


def test_no_two_modules_import_each_other() -> None:
    assert circles(graph(PACKAGE)) == []


def test_the_core_is_found_and_read() -> None:
    """The checks above read what they should: the core's modules and the engine's imports of its steps."""
    g = graph(PACKAGE)
    assert {"xlduty.core.engine", "xlduty.core.de_minimis", "xlduty.core.tables", "xlduty.core.fast.path"} <= g.keys()
    assert {"xlduty.core.de_minimis", "xlduty.core.fast.path", "xlduty.core.tables"} <= g["xlduty.core.engine"]
    assert "xlduty.command" in g["xlduty.cli"] and "xlduty.command" in g["xlduty.quote.cli"]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A package of the same shape to break on purpose."""
    root = tmp_path / "xlduty"
    for rel, text in {"__init__.py": "", "files.py": "", "cli.py": "from xlduty.core import engine\n",
                      "core/__init__.py": "", "core/engine.py": "from xlduty.core.fast import path\n",
                      "core/steps.py": "import json\n", "core/fast/__init__.py": "",
                      "core/fast/path.py": "from xlduty.core import steps\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_the_checks_catch_what_they_forbid(sample: Path) -> None:
    """The sample is clean; then a core module reaching an adapter (inside a function: a circle through the CLI),
    openpyxl, an HTTP library or the fast path is reported, and so is a relative import closing a circle of three."""
    assert core_faults(graph(sample)) == [] and circles(graph(sample)) == []
    steps = sample / "core" / "steps.py"
    steps.write_text("import json\n\n\ndef f():\n    from xlduty import cli\n    import openpyxl\n"
                     "    from urllib.request import urlopen\n    from xlduty.core.fast import path\n",
                     encoding="utf-8")
    assert core_faults(graph(sample)) == [
        "xlduty.core.steps imports openpyxl", "xlduty.core.steps imports urllib",
        "xlduty.core.steps imports the adapter xlduty.cli",
        "xlduty.core.steps imports the fast path xlduty.core.fast.path: only the engine may"]
    assert circles(graph(sample)) == [["xlduty.cli", "xlduty.core.engine", "xlduty.core.fast.path",
                                       "xlduty.core.steps"]]
    steps.write_text("from . import engine\n", encoding="utf-8")
    assert circles(graph(sample)) == [["xlduty.core.engine", "xlduty.core.fast.path", "xlduty.core.steps"]]
