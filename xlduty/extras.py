"""The optional parts of xlduty: which extra brings which library, and what a command says when one is missing.

``pip install xlduty`` installs what the calculation needs (pydantic, PyYAML, platformdirs): ``xlduty compute``,
``xlduty quote`` of a JSON file, the Python API and the worksheet functions' pure layer, which is also what xlwings
Lite runs in the browser. Each adapter's libraries come with an extra (``pyproject.toml``):

- ``excel``: the Windows add-in and the quote template (xlwings' COM functions and ribbon), with ``refresh`` and
  ``export``, which its buttons run;
- ``recalc``: workbooks without Excel (``xlduty recalc``, ``xlduty quote book.xlsm``);
- ``export``: ``xlduty export-pdf`` (``recalc``, plus LibreOffice from the system);
- ``refresh``: ``xlduty rates …`` (HTTP, HTML, PDF, the store's lock and retries);
- ``batch``: ``xlduty batch`` (Parquet, pandas frames, fast JSONL); ``dask``: ``xlduty batch --engine dask``;
- ``build``: ``workbook/build.py``; ``all``: every part users run; ``test``: all of them and the test tools.

A command that reaches a library its extra did not install stops with one line naming the extra
(``command.run``), never a traceback.
"""

from __future__ import annotations

# Top-level import name -> the extra that brings it (directly or as a dependency of what that extra lists).
# tests/test_extras.py checks this against every import in the package and against pyproject.toml.
EXTRA_OF: dict[str, str] = {
    "xlwings": "excel",
    "formulas": "recalc", "schedula": "recalc", "numpy": "recalc", "openpyxl": "recalc",
    "requests": "refresh", "urllib3": "refresh", "tenacity": "refresh", "lxml": "refresh", "pdfplumber": "refresh",
    "tqdm": "refresh", "filelock": "refresh",
    "pyarrow": "batch", "pandas": "batch", "orjson": "batch",
    "distributed": "dask",
    "xlsxwriter": "build",
}


def needed_by(extra: str, exc: ModuleNotFoundError) -> ModuleNotFoundError:
    """``exc`` marked with the extra the command at hand needs, where that is not the library's usual one (tqdm is
    the ``refresh`` extra's progress bar, and also the ``batch`` extra's)."""
    exc.xlduty_extra = extra   # type: ignore[attr-defined]
    return exc


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """The one line to show for ``exc`` when it is an optional library not installed; None for anything else (a
    missing module of xlduty itself is a broken install, not a choice: it keeps its traceback)."""
    library = (exc.name or "").partition(".")[0]
    extra = EXTRA_OF.get(library)
    if extra is None:
        return None
    extra = getattr(exc, "xlduty_extra", None) or extra
    return (f"this needs the optional part xlduty[{extra}] ({library} is not installed): "
            f"pip install 'xlduty[{extra}]' (in a clone: pip install -e '.[{extra}]')")
