"""A second core for custom functions: one forked helper process computes half of each large vectorised call.

DUTY and CONSUMPTION_TAX cost ~0.1 ms a call, most of a 10,000-row recalculation; the engine's own work is
small beside it. The helper is forked when a slow custom function first meets a large group, so it holds
the same loaded functions, tariff and caches without any start-up; only the argument rows and the results
cross the pipe. The split is the same for every call (the second half of each block goes to the helper),
so consecutive calls on one row — DUTY, then CONSUMPTION_TAX — meet in the same process and share its
per-row cache. Functions must be pure, as Excel worksheet functions are.

It is used only where ``fork`` is safe and useful: Linux, two or more CPUs of which one is idle (the
one-minute load average, this run included, is below the CPU count less a half), and no other thread
running (a forked child inherits locks held by other threads).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from typing import Any

MIN_ROWS = 256
"""Calls with fewer rows stay in one process."""
MIN_SECONDS_PER_ROW = 20e-6
"""The helper is engaged once a custom function takes this long a row (timed on its first call); with only
faster functions everything stays in one process: the pipe would cost more than it saves."""

_ERROR = "__xlduty_error__"


def _serve(conn: Connection, run: Callable[[str, list[tuple[Any, ...]], dict[str, str]], list[Any]]) -> None:
    """The helper's loop: (name, rows) in, (results, exceptions) out, until None or a closed pipe."""
    while True:
        try:
            job = conn.recv()
        except EOFError:
            break
        if job is None:
            break
        name, rows = job
        exceptions: dict[str, str] = {}
        try:
            conn.send((run(name, rows, exceptions), exceptions))
        except Exception:  # e.g. a result that does not pickle: the parent computes these rows itself
            conn.send(None)
    conn.close()


def portable(value: Any) -> Any:
    """A result as it crosses the pipe: an engine error becomes a tagged tuple."""
    from xlduty.recalc import _formulas

    if isinstance(value, _formulas.error_type()):
        return (_ERROR, str(value))
    return value


def restored(value: Any) -> Any:
    from xlduty.recalc import _formulas

    if isinstance(value, tuple) and len(value) == 2 and value[0] == _ERROR:
        return _formulas.error(value[1])
    return value


class Helper:
    """The forked process, started on first use; ``close`` ends it."""

    def __init__(self, run: Callable[[str, list[tuple[Any, ...]], dict[str, str]], list[Any]],
                 enabled: bool = True) -> None:
        self._run = run
        self._enabled = enabled and sys.platform.startswith("linux") and (os.cpu_count() or 1) >= 2
        self._conn: Connection | None = None
        self._proc: Any = None
        self.engaged = False   # set once a custom function proves slow enough to share out

    def available(self) -> bool:
        if not self._enabled:
            return False
        if self._proc is None:
            if threading.active_count() > 1 or os.getloadavg()[0] > (os.cpu_count() or 1) - 0.5:
                self._enabled = False  # another thread, or no idle core (this run itself counts 1)
                return False
            ctx = multiprocessing.get_context("fork")
            self._conn, child = ctx.Pipe()
            self._proc = ctx.Process(target=_serve, args=(child, self._run), daemon=True)
            self._proc.start()
            child.close()
        return self._proc.is_alive()

    def submit(self, name: str, rows: list[tuple[Any, ...]]) -> bool:
        """Send rows to the helper; False if it cannot take them (then compute them here)."""
        assert self._conn is not None
        try:
            self._conn.send((name, rows))
        except (OSError, ValueError, TypeError, AttributeError):  # a closed pipe, or rows that do not pickle
            self._enabled = False
            return False
        return True

    def collect(self) -> tuple[list[Any], dict[str, str]] | None:
        """The helper's results for the last submit; None if it died (then compute them here)."""
        assert self._conn is not None
        try:
            got = self._conn.recv()
        except (EOFError, OSError):
            got = None
        if got is None:
            self._enabled = False
        return got

    def close(self) -> None:
        if self._proc is None:
            return
        assert self._conn is not None
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._proc.join(timeout=5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._conn.close()
        self._proc = None


def runner(functions: Mapping[str, Callable[..., Any]],
           call: Callable[[Callable[..., Any], str, tuple[Any, ...], dict[str, str]], Any]
           ) -> Callable[[str, list[tuple[Any, ...]], dict[str, str]], list[Any]]:
    """The helper's work: ``call`` each row with the registry's function of that name."""

    def run(name: str, rows: list[tuple[Any, ...]], exceptions: dict[str, str]) -> list[Any]:
        func = functions[name]
        return [portable(call(func, name, row, exceptions)) for row in rows]

    return run
