"""The same goods under each treatment, side by side: general vs simplified tariff, MFN vs each preference
column that covers an origin of the quote on its date (with the saving), commercial vs personal use.

Why: the choice is the importer's (the simplified tariff can be declined for the whole consignment,
定率法3条の3; a preference must be claimed with proof of origin, 定率法基本通達3-1; personal-use valuation
applies only to goods for the importer's own use, 定率法4条の6②), and the cheapest is not always obvious.
A treatment that cannot apply is listed with the reason, never as 0. Preference rows are computed under the
general tariff (simplified: never), because a preferential rate needs the consignment to opt out of the
simplified tariff (shared reference §5.3, U).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xlduty.core.errors import InputError
from xlduty.core.rules import load_rules
from xlduty.quote.landed import build
from xlduty.quote.model import QuoteInput, parse_quote
from xlduty.quote.result import Quote, num


@dataclass(slots=True)
class Treatment:
    key: str                        # chosen, general, simplified, mfn, claim:<column>, commercial, personal
    label_ja: str
    label_en: str
    feasible: bool
    reason: str | None
    quote: Quote | None
    lines_claiming: list[int] | None = None

    def to_dict(self, chosen: Quote, mfn: Quote | None) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label_ja": self.label_ja, "label_en": self.label_en,
                               "feasible": self.feasible, "reason": self.reason}
        if self.quote is None:
            return out
        qt = self.quote
        t = qt.result.totals
        out.update(taxes=t.to_dict(), landed_cost=num(qt.landed_cost), landed_cost_cash=num(qt.landed_cost_cash),
                   cash_at_import=num(qt.cash_at_import()["total"]),
                   rates=[f"{ln.rate} ({ln.rate_name})" if ln.rate_name else ln.rate for ln in qt.lines],
                   difference_taxes=t.total - chosen.result.totals.total,
                   difference_landed_cost=num(qt.landed_cost - chosen.landed_cost))
        if self.key.startswith("claim:") and mfn is not None:
            out["lines_claiming"] = self.lines_claiming
            out["savings_vs_mfn"] = mfn.result.totals.total - t.total
            # why a claim saves nothing (not lower, GSP blocked by an EPA rate …), from the engine
            out["notes"] = list(dict.fromkeys(n for i in self.lines_claiming or [] for n in qt.lines[i].notes))
        return out


@dataclass(slots=True)
class Comparison:
    rows: list[Treatment]

    def row(self, key: str) -> Treatment:
        return next(r for r in self.rows if r.key == key)

    def to_dict(self) -> dict[str, Any]:
        chosen = self.row("chosen").quote
        assert chosen is not None
        mfn = self.row("mfn").quote
        return {"rows": [r.to_dict(chosen, mfn) for r in self.rows]}


def _try(key: str, ja: str, en: str, q: QuoteInput, claiming: list[int] | None = None) -> Treatment:
    try:
        return Treatment(key, ja, en, True, None, build(q), claiming)
    except InputError as exc:
        return Treatment(key, ja, en, False, exc.message, None, claiming)


def _with_options(q: QuoteInput, **changes: Any) -> QuoteInput:
    return q.model_copy(update={"options": q.options.model_copy(update=changes)})


def _with_claims(q: QuoteInput, claims: list[bool | str]) -> QuoteInput:
    lines = [ln.model_copy(update={"claim_preference": c}) for ln, c in zip(q.lines, claims, strict=True)]
    return _with_options(q.model_copy(update={"lines": lines}), simplified="never")


def compare_treatments(data: QuoteInput | dict[str, Any]) -> Comparison:
    """Every treatment of the quote's goods, the chosen one first; see the module docstring."""
    q = parse_quote(data)
    rules = load_rules()
    chosen = build(q)                                   # its own errors are the input's: let them through
    rows = [Treatment("chosen", "選択した条件", "As quoted", True, None, chosen)]
    rows.append(_try("general", "一般税率", "General tariff", _with_options(q, simplified="never")))
    rows.append(_try("simplified", "簡易税率", "Simplified tariff (定率法3条の3)",
                     _with_options(q, simplified="always")))
    rows.append(_try("mfn", "MFN（特恵・EPA不適用）", "MFN, no preference claimed",
                     _with_claims(q, [False] * len(q.lines))))
    for column, col in rules.parties.columns.items():
        if column == "rate_wto":
            continue
        claiming = [i for i, ln in enumerate(q.lines) if ln.origin and col.covers(ln.origin, q.date)]
        if not claiming:
            continue
        claims: list[bool | str] = [column if i in claiming else False for i in range(len(q.lines))]
        rows.append(_try(f"claim:{column}", col.name_ja, col.name_en, _with_claims(q, claims), claiming))
    rows.append(_try("commercial", "商業用（通常の課税価格）", "Commercial (transaction value)",
                     _with_options(q, personal_use=False)))
    pu = rules.personal_use
    if pu.covers(q.date):
        rows.append(_try("personal", "個人使用（海外小売価格×0.6）", f"Personal use (retail × {pu.factor})",
                         _with_options(q, personal_use=True)))
    else:
        rows.append(Treatment("personal", "個人使用（海外小売価格×0.6）", f"Personal use (retail × {pu.factor})", False,
                              f"the personal-use ×{pu.factor} rule ({pu.basis}) is not in force on {q.date}", None))
    return Comparison(rows)
