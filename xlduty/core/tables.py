"""The tables in use, read: the one way the core reaches the tariff schedule and the customs exchange rates on disk.

Each table (``tariff``: the schedule's editions; ``fx``: the customs weekly rates) is read from the bundled
``rules/`` folder, or from the refreshed version that the rates store's pointer (``rates/active.json`` under the
user data directory) names. ``xlduty.rates`` writes that store — download, parse, check, switch — and sits above
the core as an adapter; this module is its reading side and nothing more: a JSON read and a stat, the standard
library only (``xlduty compute`` must start fast). It answers which tariff edition is in force on a date and
reads a stored table, decoded once into the user cache (``cache.py``).

Layout of the store (written by ``xlduty.rates.store``)::

    rates/active.json                      versions in use + history; switched by os.replace
    rates/versions/tariff/<edition>[.n]/   tariff/editions.json, tariff/<edition>.json.gz, manifest.json …
    rates/versions/fx/<week>[.n]/          fx/customs_weekly.json.gz, manifest.json …

After a switch, ``switched()`` makes this process read the tables afresh: what was derived from them (loaded
editions, exchange rates, remembered rate plans, Excel results) is forgotten by the modules that registered with
``on_switch``.
"""

from __future__ import annotations

import gzip
import json
import os
import warnings
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from xlduty.core.errors import DataError

ENV_DATA_DIR = "XLDUTY_DATA_DIR"
KINDS = ("tariff", "fx")
INDEX_FILE = {"tariff": "tariff/editions.json", "fx": "fx/customs_weekly.json.gz"}


@lru_cache(maxsize=1)
def rules_dir() -> Path:
    """The bundled ``rules/`` folder: beside the package in a checkout, inside it in a wheel."""
    package = Path(__file__).resolve().parent.parent   # xlduty/
    for candidate in (package.parent / "rules", package / "_rules"):
        if (candidate / "tariff" / "editions.json").exists():
            return candidate
    raise DataError("the bundled rules/ folder is missing: reinstall xlduty")


def data_root() -> Path:
    """``$XLDUTY_DATA_DIR`` if set, else the per-user data directory (``%LOCALAPPDATA%\\xlduty`` on Windows)."""
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env)
    import platformdirs  # lazy: only when no override is set

    return Path(platformdirs.user_data_dir("xlduty", appauthor=False))


def rates_root() -> Path:
    """The rates store's folder."""
    return data_root() / "rates"


def _read_pointer(root: Path) -> dict:
    path = root / "active.json"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
        warnings.warn(f"xlduty: {path} is unreadable ({why}): the bundled tables are used", RuntimeWarning,
                      stacklevel=3)
        return {}
    return state if isinstance(state, dict) else {}


@lru_cache(maxsize=1)
def tariff_checked() -> date | None:
    """The day a refresh last checked the site's tariff editions and held its newest (``tariff_checked`` in
    ``active.json``, written by ``xlduty rates refresh``); None when none is recorded. Read once per process."""
    value = _read_pointer(rates_root()).get("tariff_checked")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@lru_cache(maxsize=len(KINDS))
def active_dir(kind: str) -> Path | None:
    """The active refreshed version of ``kind`` ("tariff" or "fx"): a folder holding ``tariff/`` or ``fx/``
    laid out like the bundled ``rules/``; None when the bundled table is in use.

    Read once per process (``switched()`` reads it again).
    """
    root = rates_root()
    version = _read_pointer(root).get(kind)
    if not (isinstance(version, str) and version):
        return None
    if not is_version_name(version):
        warnings.warn(f"xlduty: {root / 'active.json'} names the {kind} version {version!r}, which is a path, not a "
                      "stored version: the bundled table is used", RuntimeWarning, stacklevel=2)
        return None
    d = root / "versions" / kind / version
    if (d / INDEX_FILE[kind]).is_file():
        return d
    warnings.warn(f"xlduty: the {kind} version {version} named in {root / 'active.json'} is missing: "
                  "the bundled table is used", RuntimeWarning, stacklevel=2)
    return None


def is_version_name(name: str) -> bool:
    """A stored version is named by one folder name (``2026_07_09``, ``2026-11-15.2``), never by a path: ``..``,
    ``../fx/…`` or an absolute path would reach outside ``versions/<kind>/``."""
    return name not in ("", ".", "..") and not any(sep in name for sep in ("/", "\\", "\0")) and ":" not in name


def clear_cache() -> None:
    """Forget the pointer read (after a switch, or when ``XLDUTY_DATA_DIR`` changes)."""
    active_dir.cache_clear()
    tariff_checked.cache_clear()


def tables_dir(kind: str) -> Path:
    """The folder ``kind``'s table is read from: the refreshed version in use, else the bundled rules/."""
    return active_dir(kind) or rules_dir()


def read_json_gz(path: Path) -> Any:
    """A gzipped JSON table (``OSError`` or ``ValueError`` when it cannot be read: the caller names it)."""
    return json.loads(gzip.decompress(path.read_bytes()))


# --- the tariff schedule: editions by the date they take effect --------------------------------------------

@lru_cache(maxsize=1)
def _index(directory: str) -> list[dict]:
    path = Path(directory) / "tariff" / "editions.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["editions"]
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot read the tariff index {path}: {exc}") from exc


def editions(directory: str | None = None) -> list[tuple[str, date]]:
    """(edition, effective from), oldest first, of the tables in use (or of ``directory``)."""
    d = directory or str(tables_dir("tariff"))
    return [(e["edition"], date.fromisoformat(e["effective_from"])) for e in _index(d)]


@lru_cache(maxsize=4096)
def edition_in_force(on: date, directory: str) -> str | None:
    """The newest edition of ``directory`` in force on ``on``, None before the oldest. Keyed by the folder: a rates
    switch points at another folder, so a stale answer cannot be reused."""
    chosen = None
    for name, start in editions(directory):
        if start <= on:
            chosen = name
    return chosen


def read_edition(edition: str, directory: str | None = None) -> dict:
    """One edition's compact book (``update/tariff.py`` writes it), decoded once into the user cache (marshal reads
    back in a third of JSON's time; with each repeated value held once, in a sixth)."""
    from xlduty.core.cache import cached

    path = (Path(directory) if directory else tables_dir("tariff")) / "tariff" / f"{edition}.json.gz"
    try:
        return cached(f"edition-{edition}", [path], lambda: _book(path), codec="marshal")
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read tariff edition {path}: {exc}") from exc


def _book(path: Path) -> dict:
    """An edition as read from its file: checked where it is not bundled (a rates store is the user's to edit; every
    bundled book is checked by tests/test_cache.py), its repeats held once only where the cache
    stores it (under Pyodide the cache is off, and this runs on every start)."""
    from xlduty.core.cache import cache_dir

    book = read_json_gz(path)
    if not path.resolve().is_relative_to(rules_dir().resolve()):
        checked_book(book)
    return held_once(book, {}) if cache_dir() is not None else book


_BOOK_TEXTS = ("edition", "effective_from", "source", "credit")


def checked_book(book: Any) -> dict:
    """``book`` once its shape is the one ``update/tariff.py`` writes (``ValueError`` naming the first fault): the
    lines are decoded lazily (``schedule.Schedule``), so a damaged edition in the rates store (the user's to edit)
    would otherwise surface later as an internal error or as a fault blamed on the declaration. Checked when the
    cache misses, and only for a book that is not bundled (``_book``)."""
    def fault(where: str, what: str) -> ValueError:
        return ValueError(f"{where} {what} (the edition is damaged: `xlduty rates use bundled` puts the bundled "
                          "tables back in use)")

    if not isinstance(book, dict):
        raise fault("the book", "is not an object")
    for key in (*_BOOK_TEXTS, "columns", "rates", "paths", "lines"):
        if key not in book:
            raise fault("the book", f"has no {key!r}")
    for key in _BOOK_TEXTS:
        if not isinstance(book[key], str):
            raise fault(key, "is not a text")
    try:
        date.fromisoformat(book["effective_from"])
    except ValueError:
        raise fault("effective_from", f"{book['effective_from']!r} is not a date") from None
    for key in ("columns", "rates", "paths"):
        if not isinstance(book[key], list) or not all(isinstance(x, str) for x in book[key]):
            raise fault(key, "is not a list of texts")
    columns, rates, paths, lines = len(book["columns"]), len(book["rates"]), len(book["paths"]), book["lines"]
    if not isinstance(lines, list) or not lines:
        raise fault("lines", "is not a list of lines")
    for i, row in enumerate(lines):
        if not (isinstance(row, list) and len(row) == 7):
            raise fault(f"lines[{i}]", "is not a row of 7 fields")
        code, desc, path_i, u1, u2, laws, cells = row
        if not (isinstance(code, str) and len(code) == 9 and code.isdigit()):
            raise fault(f"lines[{i}] code", f"{code!r} is not a 9-digit code")
        if not all(isinstance(x, str) for x in (desc, u1, u2, laws)):
            raise fault(f"lines[{i}]", "has a description, unit or law that is not a text")
        if type(path_i) is not int or not 0 <= path_i < paths:
            raise fault(f"lines[{i}] path", "points at no heading path")
        if not (isinstance(cells, list) and len(cells) == columns
                and all(type(j) is int and -1 <= j < rates for j in cells)):
            raise fault(f"lines[{i}] cells", f"are not {columns} rate references")
    return book


HELD_DEPTH = 8
"""How deep ``held_once`` looks: a book is 4 deep (the book, its lines, a line, its rate-column row). A value deeper
(no refresh writes one; a rates store is the user's to edit) is kept as read, not walked into the recursion limit."""


def held_once(v: Any, seen: dict[Any, Any], depth: int = 0) -> Any:
    """``v`` with equal texts, and equal lists of integers, made one object each (equal to ``v``): marshal writes an
    object it meets again as a reference to the first, and reads it back once. An edition repeats most of its
    descriptions, units and rate-column rows (9,654 lines, 2,388 distinct rows): read back in half the time. The
    book is read-only (``schedule.Schedule``), so the shared lists are never changed."""
    t = type(v)
    if t is str:
        return seen.setdefault(v, v)
    if depth >= HELD_DEPTH:
        return v
    if t is dict:
        return {k: held_once(x, seen, depth + 1) for k, x in v.items()}
    if t is list:
        items = [held_once(x, seen, depth + 1) for x in v]
        if items and all(type(x) is int for x in items):
            return seen.setdefault(("ints", *items), items)
        return items
    return v


# --- the customs weekly exchange rates ----------------------------------------------------------------------

def fx_table_path() -> Path:
    """The customs weekly table in use: the refreshed version, else the bundled one."""
    return tables_dir("fx") / "fx" / "customs_weekly.json.gz"


# --- a switch of the tables in use ----------------------------------------------------------------------------

_forgetters: list[Callable[[], None]] = []


def on_switch(forget: Callable[[], None]) -> Callable[[], None]:
    """Register ``forget`` to be called by ``switched()``: a module that keeps what it derived from the tables."""
    _forgetters.append(forget)
    return forget


def switched() -> None:
    """Make this process read the tables in use afresh: the pointer, the index, and whatever was registered."""
    clear_cache()
    _index.cache_clear()
    edition_in_force.cache_clear()
    for forget in _forgetters:
        forget()
