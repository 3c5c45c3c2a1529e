"""Excel values → contract values: what a worksheet function receives, made exact and named.

Excel delivers numbers as float, empty cells as None, dates as datetime or serial numbers, ranges as
lists of rows, and error cells (with xlwings' err_to_str) as text such as ``#N/A``. These converters
turn them into the JSON-contract values of a declaration or a quote, or raise an ``InputError`` naming
the field; the tables watcher lets a long-running Excel process follow a rates switch.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from xlduty.core.errors import InputError
from xlduty.core.numbers import number_text as grammar_text
from xlduty.core.numbers import problem
from xlduty.core.typed import closed, read_date
from xlduty.excel.messages import PREFIX

EXCEL_EPOCH = date(1899, 12, 30)   # serial 1 = 1900-01-01 in the 1900 date system (after 1900-03-01)
EXCEL_ERRORS = frozenset({"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!",
                           "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"})
LIMIT = Decimal(10) ** 15   # 1,000 trillion yen: anything larger is a typing slip, not a customs value


def blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def no_error(v: object, field: str) -> None:
    """An argument cell holding an Excel error (xlwings passes it as text with err_to_str) or another
    xlduty error text is an error here too: never read as blank."""
    if isinstance(v, str):
        t = v.strip()
        if t in EXCEL_ERRORS or t.startswith(PREFIX):
            raise InputError(field, f"the argument cell holds an error ({t[:40]})")


def hs_text(v: object) -> str | None:
    """An HS code typed as a number arrives as a float: 6109.1 was ``6109.10``, 201.3 was ``0201.30``
    (a leading zero is lost too); 610910020.0 is whole."""
    no_error(v, "hs_code")
    if blank(v):
        return None
    if isinstance(v, bool):
        raise InputError("hs_code", "is not an HS code")
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:07.2f}" if v < 1000 else f"{v:.2f}"
    return str(v).strip()


def number_text(v: object, field: str) -> str | int | None:
    """Exact, as Excel shows it: a float to 15 significant digits (Excel's precision: a cell computed as
    0.1 + 0.2 holds 0.30000000000000004 and shows 0.3, which is what the user means), a text cell by the one
    number grammar of every input (``xlduty.core.numbers``: full-width digits read, no thousands separators or
    currency marks; a number cell formatted with them arrives as a number)."""
    no_error(v, field)
    if blank(v):
        return None
    if isinstance(v, bool):
        raise InputError(field, "a number is required")
    if isinstance(v, float):
        text = format(v, ".15g") if v == v and abs(v) != float("inf") else repr(v)
    elif isinstance(v, int):
        text = str(v)
    else:
        found = grammar_text(str(v))
        if found is None:
            raise InputError(field, problem(str(v)))
        text = found
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise InputError(field, "a number is required") from None
    if not d.is_finite() or abs(d) >= LIMIT:
        raise InputError(field, "the number is out of range")
    return v if isinstance(v, int) else text


def to_date(v: object) -> date:
    """Blank → today; a datetime, a date, an Excel serial number, or a date as text, read by the one date grammar
    (``xlduty.core.typed.read_date``: ``2026-11-20``, ``2026/11/20``, ``2026/1/5``, full-width)."""
    no_error(v, "date")
    if blank(v):
        return date.today()
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        if not 1 <= v < 2958466:
            raise InputError("date", "is not a date")
        days = int(v)
        if days < 61:   # before Excel's 1900-02-29 (serial 60, a day that never was) serials count from 1899-12-31
            if days == 60:
                raise InputError("date", "is not a date: serial 60 is Excel's 1900-02-29, a day that never was")
            return EXCEL_EPOCH + timedelta(days=days + 1)
        return EXCEL_EPOCH + timedelta(days=days)
    try:
        return read_date(str(v))
    except ValueError as exc:
        raise InputError("date", str(exc)) from None


def text_of(v: object, field: str = "origin") -> str | None:
    no_error(v, field)
    if blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def code_of(v: object, field: str) -> str | None:
    """A code cell (an origin, a currency): text as ``text_of`` gives it, full-width typing read as NFKC reads it."""
    t = text_of(v, field)
    return None if t is None else unicodedata.normalize("NFKC", t).strip()


def word(v: object, field: str, allowed: Sequence[str], default: str | None = None, message: str = "") -> str | None:
    """One word of a closed set (``lang``, ``what``, ``part`` …), case- and width-insensitive; blank gives
    ``default``. Anything else is an error listing the words allowed (``message``, or ``unknown 'fr' (use ja,
    en)``): never silently the default."""
    t = code_of(v, field)
    if t is None:
        return default
    w = str(closed(t))   # the one normaliser of closed-set words (xlduty.core.typed)
    if w not in allowed:
        raise InputError(field, message or f"unknown {t!r} (use {', '.join(allowed)})")
    return w


def column(v: object, field: str, n: int | None = None, repeat: bool = False) -> list[Any]:
    """A one-column (or one-row) range as one value per line. A single cell stands for every line only
    where ``repeat`` allows it (one origin or one quantity for all lines); a wider range is refused —
    never cut silently to its first column."""
    if isinstance(v, list | tuple):
        rows = [list(r) if isinstance(r, list | tuple) else [r] for r in v]
        width = max((len(r) for r in rows), default=0)
        if len(rows) == 1 and width > 1:
            flat = rows[0]                                   # a row range: one value per line too
        elif width > 1:
            raise InputError(field, f"give one column, not {width}")
        else:
            flat = [r[0] if r else None for r in rows]
    else:
        flat = [v]
    if n is not None and len(flat) != n:
        if len(flat) == 1 and repeat:
            return flat * n
        raise InputError(field, f"the range has {len(flat)} rows; the HS codes have {n}")
    return flat


def field_names(v: object, allowed: Sequence[str], default: Sequence[str], name: str = "field") -> list[str]:
    if blank(v):
        return list(default)
    names = [f.strip().lower() for f in unicodedata.normalize("NFKC", str(v)).split(",") if f.strip()]
    bad = [f for f in names if f not in allowed]
    if bad:
        raise InputError(name, f"unknown {bad[0]!r} (use {', '.join(allowed)})")
    return names


_watch: dict[str, Any] = {"next": 0.0, "stamp": "unread"}


def follow_tables() -> None:
    """Another process (``xlduty rates refresh|use|rollback``) may switch the tables in use: look at the
    pointer's stamp at most once a second and forget every cached table and result when it changed."""
    now = time.monotonic()
    if now < _watch["next"]:
        return
    _watch["next"] = now + 1.0
    from xlduty.core.tables import rates_root

    try:
        st = (rates_root() / "active.json").stat()
        stamp: Any = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    if stamp != _watch["stamp"]:
        if _watch["stamp"] != "unread":
            from xlduty.rates.pipeline import invalidate_caches

            invalidate_caches()
        _watch["stamp"] = stamp


def split_args(text: str) -> list[str]:
    """A formula's argument text split on the commas outside quotes and parentheses."""
    args, depth, quoted, cur = [], 0, False, ""
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "({":
            depth += 1
        elif not quoted and ch in ")}":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            args.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip() or args:
        args.append(cur.strip())
    return args
