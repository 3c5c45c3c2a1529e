"""The columns of a batch: which input column is which field of the ``xlduty compute`` contract (English names, or the
Japanese headers of an import declaration as aliases), how a cell becomes a field's value, and the columns added.

A row is one declaration line. Rows sharing a ``declaration`` value form one declaration, in file order; a row with no
``declaration`` column (or a blank one) is a declaration of one line. The declaration's own fields (``date``,
``simplified``, ``personal_use``, ``fx_rates``, ``tariff_edition``, ``pork_emergency``) come from their columns, or
from the options given for the whole batch (``--date``; ``declared`` checks them) where the column is absent or the
cell blank.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xlduty.core.errors import InputError
from xlduty.core.typed import fx_pairs

LINE_FIELDS = ("hs_code", "origin", "value", "currency", "freight", "insurance", "additions", "quantity", "unit",
               "rate", "claim_preference", "reduced_ct", "excise", "in_quota", "condition")
NESTED_FIELDS = {   # flat columns → the nested objects of a line
    "liquor_category": ("liquor", "category"), "liquor_litres": ("liquor", "litres"), "liquor_abv": ("liquor", "abv"),
    "relief": ("relief", "type"), "relief_export_value": ("relief", "export_value"),
    "relief_japanese_value": ("relief", "japanese_value"), "relief_export_ct_free": ("relief", "export_ct_free"),
}
DECLARATION_FIELDS = ("date", "simplified", "personal_use", "fx_rates", "tariff_edition", "pork_emergency")
GROUP = "declaration"
FIELDS = (GROUP, *LINE_FIELDS, *NESTED_FIELDS, *DECLARATION_FIELDS)

AMOUNTS = frozenset(("value", "freight", "insurance", "additions", "quantity", "excise", "liquor_litres", "liquor_abv",
                     "relief_export_value", "relief_japanese_value"))
BOOLEANS = frozenset(("reduced_ct", "in_quota", "personal_use", "relief_export_ct_free", "claim_preference",
                      "pork_emergency"))

# The headers printed on an import declaration (輸入申告書, and the NACCS 輸入申告 screens brokers export from), read
# as the field beside them. 税率 is left out on purpose: on a declaration it is the rate that was applied, and read as
# ``rate`` it would override the tariff silently.
JAPANESE = {
    "申告番号": GROUP, "輸入申告番号": GROUP, "申告": GROUP,
    "品目番号": "hs_code", "統計品目番号": "hs_code", "関税率表番号": "hs_code", "HSコード": "hs_code",
    "原産地": "origin", "原産国": "origin", "原産地コード": "origin",
    "申告価格": "value", "仕入書価格": "value", "インボイス価格": "value", "価格": "value",
    "通貨": "currency", "通貨コード": "currency", "通貨種別": "currency",
    "運賃": "freight", "保険料": "insurance", "加算額": "additions", "加算要素": "additions",
    "数量": "quantity", "数量1": "quantity", "単位": "unit", "数量単位": "unit", "数量単位1": "unit",
    "特恵適用": "claim_preference", "原産地証明": "claim_preference", "EPA": "claim_preference",
    "軽減税率": "reduced_ct", "関税割当": "in_quota", "内国消費税等": "excise",
    "申告日": "date", "申告年月日": "date", "個人使用": "personal_use", "簡易税率": "simplified",
    "為替レート": "fx_rates", "税表版": "tariff_edition",
}

AMOUNT_COLUMNS = ("duty", "national_ct", "local_ct", "consumption_tax", "excise")
RESULT_COLUMNS = ("duty", "national_ct", "local_ct", "consumption_tax", "excise", "total", "rate", "rate_column",
                  "treatment", "warnings", "error")
TOTAL_COLUMNS = tuple(f"declaration_{c}" for c in ("duty", "national_ct", "local_ct", "consumption_tax", "excise",
                                                   "total"))
TOTALS_FILE_COLUMNS = ("declaration", "row", "lines", "duty", "national_ct", "local_ct", "consumption_tax", "excise",
                       "total", "treatment", "tariff_edition", "warnings", "error")
BLANK_RESULT = (None, None, None, None, None, None, None, None, None, "")   # a failed row's result columns before error
INTEGER_COLUMNS = frozenset((*AMOUNT_COLUMNS, "total", *TOTAL_COLUMNS, "row", "lines"))

_TRUE = frozenset(("true", "yes", "y", "1", "はい", "有", "○", "x"))
_FALSE = frozenset(("false", "no", "n", "0", "いいえ", "無", ""))
_EXACT_BOOLEANS = {**{w: True for w in ("true", "TRUE", "True", "yes", "1")},
                   **{w: False for w in ("false", "FALSE", "False", "no", "0")}}
_INT = re.compile(r"[0-9]+")
_DEC = re.compile(r"[0-9]*\.[0-9]+|[0-9]+\.")


def normalize(header: str) -> str:
    """A header as matched: NFKC (full-width letters and digits), trimmed, lower-case, spaces and hyphens as ``_``."""
    text = unicodedata.normalize("NFKC", str(header)).strip()
    return re.sub(r"[\s\-]+", "_", text).lower()


_BY_NAME = {normalize(k): v for k, v in JAPANESE.items()} | {f: f for f in FIELDS}


def field_of(header: str) -> str | None:
    """The field an input column is read as, or None (the column is carried to the output unread)."""
    return _BY_NAME.get(normalize(header))


@dataclass(frozen=True)
class Layout:
    """Which input column holds which field, and the batch-wide values of the declaration fields. Picklable: it
    travels with each chunk to a worker."""

    columns: tuple[str, ...]                 # the input's headers, in order
    fields: dict[str, int]                   # field → column index
    defaults: dict[str, Any] = field(default_factory=dict)   # declaration field → value for the whole batch
    unread: tuple[str, ...] = ()             # columns carried to the output without being read
    replaced: tuple[str, ...] = ()           # input columns that are results (of an earlier run): not read, dropped
    dropped: tuple[int, ...] = ()            # their positions (a name may also be an input column's: rate, excise)

    @property
    def kept(self) -> list[int]:
        """The input columns written to the output (all but the results the output replaces)."""
        gone = set(self.dropped)
        return [i for i in range(len(self.columns)) if i not in gone]

    def label(self, name: str) -> str:
        """A field as the input names it (``品目番号 (hs_code)``), for error messages."""
        i = self.fields.get(name)
        if i is None:
            return name
        header = self.columns[i]
        return name if normalize(header) == name else f"{header} ({name})"


RESULT_ONLY = frozenset(RESULT_COLUMNS) - {"rate", "excise"}
"""Result columns no input field is named like (``rate`` and ``excise`` are both: an override and the rate applied,
an excise amount given and the excise computed)."""


def earlier_results(columns: list[str]) -> tuple[list[int], str | None]:
    """The positions of an earlier run's results in an input (an output file edited and computed again), and why the
    input cannot be read when they cannot be told apart from its own columns. Results are the 11 result columns
    where they stand together in the order xlduty writes them (``duty`` … ``error``), and every ``declaration_*``
    total; a result column standing elsewhere (``treatment``, ``warnings`` …) is a result too, unless ``rate`` or
    ``excise`` is among the input's columns: whether that one is the override given or the rate applied could then
    not be told, and the input is refused rather than read either way."""
    names = [normalize(c) for c in columns]
    width = len(RESULT_COLUMNS)
    block = next((i for i in range(len(names) - width + 1) if tuple(names[i:i + width]) == RESULT_COLUMNS), None)
    out = [i for i, n in enumerate(names) if n in TOTAL_COLUMNS]
    if block is not None:
        return sorted({*out, *range(block, block + width)}), None
    stray = [i for i, n in enumerate(names) if n in RESULT_ONLY]
    ambiguous = [columns[i] for i, n in enumerate(names) if n in ("rate", "excise")]
    if (stray or out) and ambiguous:
        found = ", ".join(columns[i] for i in [*stray, *out][:4])
        return [], (f"the input holds result columns of an earlier run ({found}) but not the 11 of them in the order "
                    f"xlduty writes them (duty … error), so whether its {' and '.join(ambiguous)} column is an input "
                    "(an override, an excise amount) or the result cannot be told: remove the result columns, or "
                    "keep all of them as they were written")
    return sorted({*out, *stray}), None


def layout(columns: list[str], defaults: dict[str, Any] | None = None) -> Layout:
    """The layout of an input with these headers; an ``InputError`` for a header read twice or a missing field.

    An input that holds the results of an earlier run (an output file, its claims or codes edited, computed again)
    is read for its own columns only: the results (``earlier_results``) are never read as fields (a ``rate`` the
    earlier run applied is no override) and are replaced by the new ones."""
    dropped, why = earlier_results(columns)
    if why is not None:
        raise InputError("", why)
    results = set(dropped)
    fields: dict[str, int] = {}
    unread = []
    seen: dict[str, int] = {}
    for i, header in enumerate(columns):
        if i in results:
            continue
        if header in seen:
            raise InputError("", f"the header names {header} more than once (columns {seen[header] + 1} and {i + 1})")
        seen[header] = i
        name = field_of(header)
        if name is None:
            unread.append(header)
            continue
        if name in fields:
            raise InputError("", f"columns {columns[fields[name]]!r} and {header!r} are both read as {name}: "
                                 "keep one")
        fields[name] = i
    if "value" not in fields:
        raise InputError("", "the input has no value column (value, or 申告価格 / 仕入書価格 / インボイス価格 / 価格)")
    if "hs_code" not in fields and "rate" not in fields:
        raise InputError("", "the input has no hs_code column (hs_code, or 品目番号 / 統計品目番号) nor a rate column")
    defaults = dict(defaults or {})
    if "date" not in fields and "date" not in defaults:
        raise InputError("date", "the input has no date column (date, or 申告日): give --date YYYY-MM-DD")
    return Layout(tuple(columns), fields, defaults, tuple(unread), tuple(columns[i] for i in dropped), tuple(dropped))


def declared(*, date: Any = None, simplified: Any = None, personal_use: Any = None, fx_rates: Any = None,
             tariff_edition: Any = None, pork_emergency: Any = None,
             label: Callable[[str], str] = lambda name: name) -> dict[str, Any]:
    """The declaration fields given for a whole batch (``--date`` …, ``compute_frame(date=…)``), each checked before
    anything is read: a bad one is an ``InputError`` naming it (``label`` gives its name as the caller's user typed
    it: ``--date``), never an error repeated in every row. A date is kept as YYYY-MM-DD text (what the core reads
    fastest)."""
    from xlduty.core.declaration import MAX_AMOUNT, currency_keys
    from xlduty.core.numbers import parse_number
    from xlduty.core.schedule import pinned_edition
    from xlduty.core.typed import read_date, word

    out: dict[str, Any] = {}
    if date is not None:
        if isinstance(date, str):
            try:
                date = read_date(date)
            except ValueError as exc:
                raise InputError(label("date"), str(exc)) from None
        if not hasattr(date, "isoformat"):
            raise InputError(label("date"), f"{date!r} is not a date: use YYYY-MM-DD")
        out["date"] = date.isoformat()[:10]
    if simplified is not None:
        try:
            out["simplified"] = word(str(simplified), ("auto", "always", "never"))
        except ValueError as exc:
            raise InputError(label("simplified"), str(exc)) from None
    for name, value in (("personal_use", personal_use), ("pork_emergency", pork_emergency)):
        if value is not None:
            flag = boolean(value, name)
            if type(flag) is not bool:
                raise InputError(label(name), f"use yes or no, not {value!r}")
            out[name] = flag
    if fx_rates is not None:
        rates = fx_rates_of(fx_rates, label("fx_rates"))
        try:   # a mapping as the declaration reads it (3-letter codes, each once; rates above 0)
            rates = currency_keys({k: parse_number(v) if isinstance(v, str) else Decimal(str(v))
                                   for k, v in rates.items()})
        except (ValueError, ArithmeticError) as exc:
            raise InputError(label("fx_rates"), str(exc)) from None
        if not all(0 < v < MAX_AMOUNT for v in rates.values()):
            raise InputError(label("fx_rates"), "each rate must be above 0 (yen per 1 unit)")
        out["fx_rates"] = rates
    if tariff_edition is not None:
        name = unicodedata.normalize("NFKC", str(tariff_edition)).strip()
        try:
            pinned_edition(name)
        except InputError as exc:
            raise InputError(label("tariff_edition"), exc.message) from None
        out["tariff_edition"] = name
    return out


def distinct_keys(rows: Sequence[Sequence[Any]], g: int) -> tuple[list[str], set[str]] | None:
    """The ``declaration`` cells of ``rows`` (column ``g``) trimmed, and the set of them, where each is text given
    once and not blank: every row is then a declaration of its own (a broker's book, mostly), which the reader and
    the chunk function handle in C loops instead of row by row; None otherwise."""
    keys = [row[g] for row in rows]
    if set(map(type, keys)) != _TEXT:   # CSV cells are text; a typed (Parquet) key goes the general way
        return None
    trimmed = list(map(str.strip, keys))
    distinct = set(trimmed)
    if len(distinct) != len(trimmed) or "" in distinct:
        return None
    return trimmed, distinct


_TEXT = {str}


# --- cells → values ---------------------------------------------------------------------------------------------


def blank(v: Any) -> bool:
    """An empty cell: None, NaN, or text of spaces."""
    if v is None:
        return True
    if type(v) is str:
        return not v.strip()
    return isinstance(v, float) and v != v


def amount(v: Any) -> Any:
    """An amount as the core reads it: an int or a Decimal where the text is plain digits, else as given (the core
    refuses it with its own message: "a number is required (digits and a decimal point, no thousands separators)")."""
    t = type(v)
    if t is str:
        s = v.strip()
        if s.isdigit() and s.isascii():
            return int(s)
        if _DEC.fullmatch(s):
            return Decimal(s)
        if s[:1] == "-" and (_INT.fullmatch(s[1:]) or _DEC.fullmatch(s[1:])):
            return Decimal(s)   # refused by the core as below 0, with the field named
        return s
    if t is float:
        return Decimal(repr(v)) if v == v and v not in (float("inf"), float("-inf")) else v
    if t is int or t is Decimal:
        return v
    if hasattr(v, "item"):   # a numpy scalar
        return amount(v.item())
    return v


def boolean(v: Any, name: str) -> Any:
    """true/false as a spreadsheet writes them (TRUE, yes, 1, はい, ○ …); any other text as given (a preference
    column such as epa_eu for ``claim_preference``; refused by the core elsewhere)."""
    if v is True or v is False:
        return v
    if type(v) is str and (known := _EXACT_BOOLEANS.get(v)) is not None:   # as written most often: no NFKC needed
        return known
    if hasattr(v, "item"):
        v = v.item()
    if type(v) is int and v in (0, 1):
        return bool(v)
    if type(v) is str:
        s = unicodedata.normalize("NFKC", v).strip()
        low = s.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        return s
    return v


def fx_rates(v: Any, label: str) -> dict[str, Any]:
    """``USD:155.39,EUR:162.1`` → ``{"USD": Decimal("155.39"), …}``, read as every currency:rate list is
    (``xlduty.core.typed.fx_pairs``, as Excel's ``fx=``); a mapping (a Parquet struct, a ``compute_frame`` argument)
    as it is, for the declaration's own checks."""
    if isinstance(v, dict):
        return v
    try:
        return fx_pairs(str(v))
    except ValueError as exc:
        raise InputError(label, str(exc)) from None


fx_rates_of = fx_rates


def text(v: Any) -> Any:
    """A text field: strings trimmed; a number of a typed input (Parquet) as its digits; a date as YYYY-MM-DD."""
    if type(v) is str:
        return v.strip()
    if hasattr(v, "isoformat") and not isinstance(v, str):
        return v.isoformat()[:10] if hasattr(v, "hour") else v.isoformat()
    if hasattr(v, "item"):
        return text(v.item())
    if type(v) is float and v.is_integer():
        return str(int(v))
    return str(v) if type(v) in (int, float, Decimal) else v


def value_of(name: str, v: Any, label: str) -> Any:
    """A cell read as field ``name``."""
    if name in AMOUNTS:
        return amount(v)
    if name in BOOLEANS:
        return boolean(v, name)
    if name == "fx_rates":
        return fx_rates(v, label)
    return text(v)   # an hs_code read as a number keeps its digits; the core restores a lost leading zero


def converter(name: str) -> Any:
    """``value_of`` for one field, chosen once per batch (the chunk function converts millions of cells)."""
    if name in AMOUNTS:
        return amount
    if name in BOOLEANS:
        return lambda v: boolean(v, name)
    if name == "fx_rates":
        return lambda v: fx_rates(v, name)
    return text_cell


def text_cell(v: Any) -> Any:
    """``text``, for the fields read as text (``converter`` gives it: a caller may test for it, as the chunk function
    does, to leave out a cell that is empty once trimmed)."""
    return v.strip() if type(v) is str else text(v)
