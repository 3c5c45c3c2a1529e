"""A saved quote, its reproduction, and its comparison with the import permit (輸入許可通知書).

Why: a quote is made weeks before the goods arrive. To explain later why the permit differs, the saved
quote keeps what decided its figures: the input, the tariff edition, the FX rate of each currency with
the customs week it came from, the rate applied to each line, the xlduty version, and the figures.

``reproduce(saved)`` recomputes with the SAME FX (the saved rates are passed as ``fx_rates``) and checks
that the tariff edition in force for the date is still the saved one. The engine cannot be told which
edition to use (it picks ``edition_on(date)`` from the tables in use), so a changed edition is refused
with an error rather than silently recomputed. The per-line rate texts are compared too, since a refreshed
table can change a rate under the same edition name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date as Date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from xlduty.core.declaration import Amount, Positive
from xlduty.core.errors import InputError
from xlduty.core.fx import week_of
from xlduty.core.numbers import integer_input
from xlduty.core.schedule import LookupError_, edition_on
from xlduty.quote.landed import build
from xlduty.quote.model import QuoteInput, parse_quote
from xlduty.quote.result import Quote, num

FORMAT = "xlduty-quote/1"
_LINE_FIGURES = ("customs_value", "taxable_value", "duty_line", "duty", "national_ct", "local_ct", "excise",
                 "landed_cost", "landed_cost_cash", "unit_cost", "price")
_TOTAL_FIGURES = ("customs_value", "taxable_value", "duty", "national_ct", "local_ct", "consumption_tax", "excise",
                  "taxes_total", "domestic_costs", "domestic_ct", "landed_cost", "landed_cost_cash", "price_total",
                  "sales_ct", "gross_profit")


def figures(qt: Quote) -> dict[str, Any]:
    """The figures a reproduction must give again, as JSON values."""
    totals = qt.totals()
    lines = [ln.to_dict() for ln in qt.lines]
    return {"totals": {k: totals[k] for k in _TOTAL_FIGURES},
            "cash_at_import": {k: num(v) for k, v in qt.cash_at_import().items()},
            "lines": [{k: ln[k] for k in _LINE_FIGURES} for ln in lines]}


def save(qt: Quote, path: str | Path | None = None) -> dict[str, Any]:
    """The record of a quote (JSON-ready); written to ``path`` (UTF-8 JSON) when given."""
    from xlduty import __version__

    q = qt.input
    record = {
        "format": FORMAT,
        "xlduty_version": __version__,
        "date": qt.date,
        "tariff_edition": qt.tariff_edition,
        "fx": qt.fx,
        "options": {"incoterm": qt.incoterm, "personal_use": q.options.personal_use,
                    "simplified": q.options.simplified, "simplified_used": qt.result.simplified.get("used"),
                    "ct_recoverable": qt.ct_recoverable, "price_rounding": q.options.price_rounding,
                    "margin": None if q.margin is None else {"percent": num(q.margin.percent), "on": q.margin.on}},
        "rates": [{"line": ln.index, "hs_code": ln.hs_code, "rate": ln.rate, "rate_column": ln.rate_column,
                   "treatment": ln.treatment} for ln in qt.lines],
        "input": jsonable(q.model_dump(mode="json")),   # defaults too: a later default must not change it
        "figures": figures(qt),
    }
    if path is not None:
        Path(path).write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return record


def jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, Decimal):
        return num(v)
    return v


def load(source: str | Path | dict[str, Any]) -> dict[str, Any]:
    """A saved quote from a file or a dict (the record itself, or ``xlduty quote`` output holding ``record``)."""
    if isinstance(source, dict):
        data = source
    else:
        from xlduty.command import read_json  # within the size limit; a key given twice refused

        data = read_json(str(source))
    if isinstance(data, dict) and "record" in data and "format" not in data:
        data = data["record"]
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError("format", f"not a saved xlduty quote (expected format {FORMAT!r})")
    for key in ("input", "fx", "figures", "rates"):
        if key not in data:
            raise InputError(key, "required in a saved quote")
    return data


def pinned_input(record: dict[str, Any], date: Date | None = None) -> QuoteInput:
    """The saved input with the saved FX rates pinned (and, optionally, another declaration date)."""
    q = parse_quote(record["input"])
    rates = {f["currency"]: Decimal(str(f["yen_per_unit"])) for f in record["fx"]}
    pin = {"tariff_edition": record["tariff_edition"]} if record.get("tariff_edition") and date is None else {}
    return q.model_copy(update={"fx": None, "fx_rates": {**q.fx_rates, **rates}, **pin,
                                **({"date": date} if date else {})})


def _check_edition(record: dict[str, Any], on: Date) -> None:
    """The saved edition is pinned on reproduce; it must still be available (tables in use or bundled)."""
    saved = record.get("tariff_edition")
    if saved is None:
        return
    from xlduty.core.schedule import pinned_edition as _pinned_edition

    _pinned_edition(saved)


@dataclass(slots=True)
class Reproduction:
    quote: Quote
    identical: bool
    differences: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"identical": self.identical, "differences": self.differences, "quote": self.quote.to_dict()}


def reproduce(saved: str | Path | dict[str, Any]) -> Reproduction:
    """Recompute a saved quote with its own FX rates and edition; list any figure or rate that differs."""
    record = load(saved)
    q = pinned_input(record)
    _check_edition(record, q.date)
    qt = build(q)
    qt.fx = record["fx"]                     # keep the customs weeks the rates came from
    diffs = _diff("", record["figures"], figures(qt))
    now_rates = [{"line": ln.index, "hs_code": ln.hs_code, "rate": ln.rate, "rate_column": ln.rate_column,
                  "treatment": ln.treatment} for ln in qt.lines]
    for old, new in zip(record["rates"], now_rates, strict=False):
        if old != new:
            diffs.append({"field": f"rates[{old['line']}]", "saved": old, "now": new,
                          "cause": "the tariff table in use gives another rate for this line"})
    return Reproduction(qt, not diffs, diffs)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except ArithmeticError:
        return a == b


def _diff(at: str, saved: Any, now: Any) -> list[dict[str, Any]]:
    if isinstance(saved, dict) and isinstance(now, dict):
        return [d for k in saved for d in _diff(f"{at}.{k}" if at else k, saved[k], now.get(k))]
    if isinstance(saved, list) and isinstance(now, list):
        if len(saved) != len(now):
            return [{"field": at, "saved": len(saved), "now": len(now)}]
        return [d for i, (s, n) in enumerate(zip(saved, now, strict=True)) for d in _diff(f"{at}[{i}]", s, n)]
    return [] if _same(saved, now) else [{"field": at, "saved": saved, "now": now}]


# --- the import permit ------------------------------------------------------------------------------------

Yen = Annotated[int, BeforeValidator(integer_input)]   # a whole yen figure, as text too (one number grammar)


class Permit(BaseModel):
    """Figures read from the 輸入許可通知書 (all optional but at least one tax)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duty: Yen | None = None                 # 関税
    national_ct: Yen | None = None          # 消費税
    local_ct: Yen | None = None             # 地方消費税
    consumption_tax: Yen | None = None      # national + local, when the two are not read separately
    excise: Yen | None = None               # 酒税等
    taxable_value: Amount | None = None     # 課税価格 total as printed (sum of the 欄, each truncated to ¥1,000)
    date: Date | None = None                # 申告年月日
    fx: dict[str, Positive] = {}            # the rates printed on the permit, yen per unit


_TAX_FIELDS = ("duty", "national_ct", "local_ct", "consumption_tax", "excise")


@dataclass(slots=True)
class PermitComparison:
    matches: bool
    differences: list[dict[str, Any]]
    causes: list[str]
    checks: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"matches": self.matches, "differences": self.differences, "causes": self.causes,
                "checks": self.checks}


def _permit(data: Permit | dict[str, Any]) -> Permit:
    if isinstance(data, Permit):
        return data
    try:
        p = Permit.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in err["loc"])
        raise InputError(f"permit.{where}" if where else "permit", err["msg"].removeprefix("Value error, ")) from None
    if all(getattr(p, f) is None for f in _TAX_FIELDS):
        raise InputError("permit", "give at least one tax from the permit: duty, national_ct, local_ct, "
                                   "consumption_tax or excise")
    return p


def _differences(totals: dict[str, Any], p: Permit) -> list[dict[str, Any]]:
    out = []
    for name in (*_TAX_FIELDS, "taxable_value"):
        given = getattr(p, name)
        if given is None:
            continue
        quoted = Decimal(str(totals[name]))
        if quoted != given:
            out.append({"field": name, "quote": num(quoted), "permit": num(Decimal(given)),
                        "difference": num(Decimal(given) - quoted)})
    return out


def _tax_totals(qt: Quote) -> dict[str, Any]:
    t = qt.totals()
    return {k: t[k] for k in (*_TAX_FIELDS, "taxable_value")}


def compare_with_permit(saved: str | Path | dict[str, Any], permit: Permit | dict[str, Any]) -> PermitComparison:
    """The permit's figures against the saved quote's, with the likely causes of each difference.

    Causes are found by recomputing: with the permit's FX rates, on the permit's date (FX week, tariff
    edition), under each other treatment (simplified/general, preference claimed or not, personal use); what
    remains within the truncation steps is put down to rounding (lines split or merged differently).
    """
    record = load(saved)
    p = _permit(permit)
    totals = record["figures"]["totals"]
    diffs = _differences(totals, p)
    if not diffs:
        return PermitComparison(True, [], [], [])
    causes: list[str] = []
    checks: list[dict[str, Any]] = []
    saved_fx = {f["currency"]: f for f in record["fx"]}
    base = pinned_input(record)

    def trial(what: str, q: QuoteInput) -> bool:
        try:
            got = _tax_totals(build(q))
        except InputError as exc:
            checks.append({"check": what, "matches": False, "error": str(exc)})
            return False
        found = not _differences(got, p)
        checks.append({"check": what, "matches": found, "figures": got})
        return found

    changed_fx = {cur: rate for cur, rate in p.fx.items()
                  if cur in saved_fx and Decimal(str(saved_fx[cur]["yen_per_unit"])) != rate}
    for cur, rate in changed_fx.items():
        f = saved_fx[cur]
        week = f" (customs week {f['week_start']}–{f['week_end']})" if f.get("week_start") else ""
        causes.append(f"FX: the permit converts {cur} at {num(rate)}, the quote at {f['yen_per_unit']}{week}")
    fx_q = base.model_copy(update={"fx_rates": {**base.fx_rates, **changed_fx}}) if changed_fx else base
    if changed_fx and trial("the permit's FX rates", fx_q):
        causes.append("recomputed with the permit's FX rates, the quote gives the permit's figures")
    if p.date is not None and p.date != base.date:
        on_date = fx_q.model_copy(update={"date": p.date})
        for f in record["fx"]:
            if f.get("week_start") and str(week_of(p.date)[0]) != f["week_start"]:
                causes.append(f"FX week: declared on {p.date} (week from {week_of(p.date)[0]}), the quote used the "
                              f"{f['currency']} rate of the week from {f['week_start']}: give the permit's rate (fx)")
        try:
            edition = edition_on(p.date).edition
        except LookupError_:
            edition = None
        if edition and record.get("tariff_edition") and edition != record["tariff_edition"]:
            causes.append(f"tariff edition: {edition} is in force on {p.date}, the quote used "
                          f"{record['tariff_edition']}")
        if trial(f"declaration date {p.date}", on_date):
            causes.append(f"recomputed on the permit's date {p.date}, the quote gives the permit's figures")
    from xlduty.quote.compare import compare_treatments

    try:
        rows = compare_treatments(fx_q).rows
    except InputError:
        rows = []
    for row in rows:
        if row.key == "chosen" or row.quote is None:
            continue
        got = _tax_totals(row.quote)
        ok = not _differences(got, p)
        checks.append({"check": f"treatment {row.key}", "matches": ok, "figures": got})
        if ok:
            causes.append(f"treatment: the permit's figures are those of '{row.label_en}' ({row.label_ja}, "
                          f"{row.key}) rather than the quoted treatment")
    n = len(record["figures"]["lines"])
    tax_diffs = [abs(Decimal(str(d["difference"]))) for d in diffs if d["field"] in _TAX_FIELDS]
    value_diff = next((abs(Decimal(str(d["difference"]))) for d in diffs if d["field"] == "taxable_value"), None)
    if (tax_diffs and all(x <= 100 * n for x in tax_diffs)) or (value_diff is not None and value_diff <= 1000 * n):
        causes.append(f"rounding: differences within the truncation steps (¥1,000 per line for the base, ¥100 per "
                      f"total; {n} line(s) quoted): the declaration may split or merge lines (欄) or allocate freight "
                      "differently")
    if value_diff is not None and value_diff > 1000 * n:
        causes.append(f"valuation: the permit's customs value differs by {num(value_diff)} yen: freight, insurance or "
                      "other additions (関税定率法4条1項), or the FX rate")
    if not causes:
        causes.append("unexplained: check the HS code and the rate column on the permit against the quote's rates")
    return PermitComparison(False, diffs, causes, checks)
