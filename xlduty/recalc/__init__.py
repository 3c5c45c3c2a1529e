"""Recalculate a workbook without Excel: ``recalc(IN, OUT)`` (the ``xlduty recalc`` command).

Every formula is computed — the custom functions (DUTY, CONSUMPTION_TAX, …) from a registry, the standard
Excel functions from the ``formulas`` engine — and its value written into the cell as the cached value
Excel and readers such as openpyxl (``data_only=True``) show. Formulas, formats, styles, defined names,
VBA (``xl/vbaProject.bin``), the ribbon (``customUI/…``) and every other part are kept; ``workbook.xml``
gets ``fullCalcOnLoad="1"`` so Excel recalculates on opening. It is how Linux/Mac users, servers and
tests use the workbooks.

The registry maps an Excel name to a Python callable. Arguments are Excel-shaped: ``float``/``int``,
``str``, ``bool``, ``None`` for an empty cell or a missing argument, and a list of rows for a range of
more than one cell. The result is a scalar, or a list of rows that spills from the formula's cell right
and down (or fills its array-formula range). An exception is ``#VALUE!`` in the cell; a string is written
as it is (the functions return readable error texts).

Module map: ``reader`` (cells from the XML), ``refs`` (references in formula text), ``compiler`` (one
compiled function per formula shape), ``graph`` (evaluation order, cycles), ``evaluate`` (running it),
``writer`` (cached values back into the XML).

Limits: Excel functions the engine lacks (OFFSET, INDIRECT of a computed text, CELL, …) give ``#NAME?``
and are reported; whole-column references (``A:A``) are clipped to the used rows; structured (table)
references are not supported; what-if data tables keep their cached values. A reference to another
workbook (``[1]Sheet1!A1``, ``'C:\\data\\[other.xlsx]Sheet1'!A1``, a defined name defined by one, an
INDIRECT of such a literal text) is never read — its cell gets ``#NAME?`` and is listed in the report —
because the only data at hand would be this workbook's own sheet of that name. A workbook in the 1904
date system is refused (``reader``), as are OUT = IN and an OUT that is not a regular file or whose
extension does not match the package (``xlduty.files.check_output``), and workbooks beyond the size
limits (``xlduty.files.Package``, ``reader.MAX_CELLS``, ``evaluate.MAX_AREA``).

A plain formula's spilled values are written as values, so a later recalc finds them in its way
(``#SPILL!``); dynamic-array formulas (``t="array"`` with ``cm``, as Excel 365 and XlsxWriter's
``write_dynamic_array_formula`` store them) are refilled in place on every run, their ``ref`` set to the
area the result now spills over (cells it no longer reaches emptied), so a second run gives the same
values; a legacy (CSE) array formula keeps its range's size.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlduty.core.errors import InputError

if TYPE_CHECKING:
    from xlduty.files import Package

__all__ = ["RecalcError", "RecalcReport", "recalc"]


class RecalcError(InputError):
    """The input cannot be recalculated (missing, not a workbook, OUT == IN, a circular reference)."""

    def __init__(self, message: str) -> None:
        super().__init__("", message)


@dataclass(frozen=True)
class RecalcReport:
    """What ``recalc`` did.

    ``cells``: formula cells computed. ``errors``: of them, cells whose value is an Excel error (#N/A,
    #VALUE!, …) or the error text of an xlduty function (``#エラー …``). ``unsupported``: cells calling a
    function neither the engine nor the registry has (``#NAME?`` where it is called, as in Excel), and
    ``unknown_functions`` their names. ``exceptions``: the first exception each custom function raised (its cells
    show #VALUE!). ``external``: cells that refer to another workbook, each with the workbooks it names
    (``Sheet1!A2 (other.xlsx)``): not read, ``#NAME?``.
    """

    cells: int
    errors: int
    unsupported: list[str] = field(default_factory=list)
    unknown_functions: list[str] = field(default_factory=list)
    exceptions: dict[str, str] = field(default_factory=dict)
    vectorised: int = 0
    seconds: float = 0.0
    external: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for stderr."""
        text = f"{self.cells} formula cells recalculated in {self.seconds:.2f} s, {self.errors} errors"
        if self.external:
            shown = ", ".join(self.external[:5]) + (" …" if len(self.external) > 5 else "")
            text += f"; {len(self.external)} refer to other workbooks, not read (#NAME?): {shown}"
        if self.unsupported:
            shown = ", ".join(self.unsupported[:5]) + (" …" if len(self.unsupported) > 5 else "")
            text += f"; {len(self.unsupported)} unsupported ({', '.join(self.unknown_functions)}: {shown})"
        if self.exceptions:
            text += "; " + "; ".join(f"{k} raised {v}" for k, v in sorted(self.exceptions.items()))
        return " ".join(text.split())  # one line, whatever the exception texts hold


def _default_functions() -> Mapping[str, Callable[..., Any]]:
    """``xlduty.excel.functions.EXCEL_FUNCTIONS``, imported on first need."""
    try:
        from xlduty.excel.functions import EXCEL_FUNCTIONS
    except ModuleNotFoundError as exc:
        if exc.name not in ("xlduty.excel", "xlduty.excel.functions"):
            raise
        return {}
    return EXCEL_FUNCTIONS


def output_suffix(src: Path) -> tuple[str, ...]:
    """The extension OUT must have for the package ``src`` (as its content type says; Excel will not open a
    macro-enabled workbook named .xlsx, nor the reverse), or () when the type is not one Excel names."""
    from xlduty.files import FileError, Package

    try:
        with Package(src) as zf:
            return _suffixes(zf)
    except FileError as exc:
        raise RecalcError(str(exc)) from None


def _suffixes(zf: Package) -> tuple[str, ...]:
    from xlduty.files import workbook_suffix

    suffix = workbook_suffix(zf)
    return (suffix,) if suffix else ()


def _why(src: Path, suffixes: tuple[str, ...]) -> str:
    from xlduty.files import workbook_kind

    return (f"{src.name} is {workbook_kind(suffixes[0])}: write it to a {suffixes[0]} file (Excel refuses a "
            "package whose extension does not match its content)") if suffixes else ""


def _check_paths(src: Path, dst: Path) -> None:
    """IN is a file and OUT a path ``xlduty.files.check_output`` accepts (its extension: once IN is open)."""
    from xlduty.files import FileError, check_output

    try:
        check_output(dst, inputs=[src])
    except FileError as exc:
        raise RecalcError(str(exc)) from None
    if not src.is_file():
        raise RecalcError(f"{src}: no such file" if not src.exists() else f"{src} is not a regular file")


def _check_suffix(zf: Package, src: Path, dst: Path) -> tuple[str, ...]:
    """OUT's required extension (the one IN's content type names), refused before anything is computed."""
    from xlduty.files import check_output

    suffixes = _suffixes(zf)
    check_output(dst, inputs=[src], suffixes=suffixes, why=_why(src, suffixes))
    return suffixes


def _write_atomic(zf: Package, src: Path, dst: Path, parts: Mapping[str, bytes], suffixes: tuple[str, ...] = ()
                  ) -> None:
    """IN (open as ``zf``) with ``parts`` replaced, written beside ``dst`` and renamed over it: ``dst`` is never a
    partial file, also on failure."""
    from xlduty.files import output_file
    from xlduty.recalc.writer import copy_zip

    with output_file(dst, inputs=[src], suffixes=suffixes, why=_why(src, suffixes),
                     mode=src.stat().st_mode & 0o777) as fh:
        copy_zip(zf, fh, parts)


def recalc(src: str | os.PathLike[str], dst: str | os.PathLike[str],
           functions: Mapping[str, Callable[..., Any]] | None = None) -> RecalcReport:
    """Recalculate workbook ``src`` into ``dst`` (never ``src`` itself) and report what was computed.

    ``functions``: the custom functions by Excel name; default ``xlduty.excel.functions.EXCEL_FUNCTIONS``.
    Raises RecalcError for input that cannot be recalculated.
    """

    started = time.perf_counter()
    # A run makes hundreds of thousands of objects that live until it ends (cells, values, keys); the
    # cyclic garbage collector would walk them again and again (a quarter of the run on a 10,000-row
    # sheet) and find almost nothing to free. So it is paused during the run and restored after.
    from xlduty.core.engine import CollectionPaused

    with CollectionPaused():
        return _recalc(Path(src), Path(dst), functions, started)


def _recalc(src: Path, dst: Path, functions: Mapping[str, Callable[..., Any]] | None,
            started: float) -> RecalcReport:
    from xlduty.files import FileError, Package
    from xlduty.recalc.compiler import Registry
    from xlduty.recalc.evaluate import AreaTooLarge, evaluate
    from xlduty.recalc.graph import CycleError
    from xlduty.recalc.reader import BookError, read_package
    from xlduty.recalc.writer import patch_sheet, patch_workbook

    _check_paths(src, dst)
    try:
        # IN is opened once, its limits checked once, and what is read, patched and copied is the same file even if
        # another process replaces it meanwhile
        with Package(src) as zf:
            suffixes = _check_suffix(zf, src, dst)
            book = read_package(zf)
            registry = Registry(functions if functions is not None else _default_functions)
            try:
                outcome = evaluate(book, registry)
            except (CycleError, AreaTooLarge) as exc:
                raise RecalcError(f"{src}: {exc}") from None
            # the limit on what the package inflates holds per pass over its parts (each is within its declared
            # size): the sheets read above are read again below to be patched, and the rest copied once
            zf.inflated = 0
            parts: dict[str, bytes] = {}
            for index, writes in outcome.writes.items():
                part = book.sheets[index].part
                assert part is not None
                parts[part] = patch_sheet(zf.read(part), writes, outcome.refs.get(index))
            parts[book.workbook_part] = patch_workbook(zf.read(book.workbook_part))
            _write_atomic(zf, src, dst, parts, suffixes)
    except (BookError, FileError) as exc:
        raise RecalcError(str(exc)) from None
    return RecalcReport(outcome.cells, outcome.errors, outcome.unsupported, outcome.unknown_functions,
                        outcome.exceptions, outcome.vectorised, time.perf_counter() - started, outcome.external)
