"""The simplified tariff for small consignments (少額輸入貨物の簡易税率: 関税定率法3条の3, its rates in 別表付表第二).

A consignment whose total customs value is at most 200,000 yen may be charged at the simplified rates of a few
broad categories instead of the schedule's rates. Goods the Cabinet Order excludes keep their general rate, goods
free under the general tariff stay free (Customs Answer 1001), and a preference cannot be claimed for part of the
consignment (it needs ``simplified: never``). ``simplified`` chooses: ``auto`` keeps the cheaper treatment for the
whole consignment and reports both totals, ``always`` insists, ``never`` does not compute it. The categories' HS
mapping is rule data (rules/simplified_tariff.yaml), partly unverified; a total within 1,000 yen of the threshold
carries a warning.

Decided here: whether the treatment may apply (``why_not``), a line's simplified rate (``rate``), and which
treatment the declaration gets (``choose``); the engine computes the lines under it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from xlduty.core.cache import remember
from xlduty.core.errors import InputError
from xlduty.core.facts import Prepared, Treated
from xlduty.core.rate import DutyBase, NeedsInput, Rate
from xlduty.core.rate_parser import parse_rate
from xlduty.core.rounding import yen_text
from xlduty.core.rules import Rules, SimplifiedCategory, SimplifiedVersion
from xlduty.core.selection import Applied

Selected = Callable[[Prepared, DutyBase, date, "bool | str"], "tuple[Applied, Decimal]"]


class Simplified:
    """The simplified tariff under the rules given; a code's exclusion and category are looked up once per version."""

    def __init__(self, rules: Rules) -> None:
        self.near = rules.step("thresholds").rule
        self._out: dict[tuple[date | None, str], bool] = {}
        self._category: dict[tuple[date | None, str], tuple[SimplifiedCategory, str, Rate]] = {}
        self._limits: dict[int, str] = {}   # a threshold as printed: a separator costs a third of ``why_not``

    def why_not(self, version: SimplifiedVersion | None, total: Decimal, on: date,
                exemption: dict[str, Any] | None, warnings: list[str]) -> str | None:
        """Why the simplified tariff cannot apply to the declaration (None: it may), given the de minimis
        ``exemption``; a total near the threshold is warned of either way."""
        if version is None:
            return f"no simplified tariff is bundled for {on}"
        reason = None
        limit = version.threshold_jpy
        if total > limit:
            shown = self._limits.get(limit)
            if shown is None:
                shown = remember(self._limits, limit, f"{limit:,}")
            reason = f"total customs value {yen_text(total)} exceeds {shown} yen"
            near = total <= limit + 1000
        else:
            if exemption is not None and not exemption["excluded_lines"]:
                reason = "all goods are exempt (定率法14条18号)"
            near = total >= limit - 1000
        if near:
            warnings.append(f"total customs value {yen_text(total)} is within 1,000 yen of the "
                            f"{limit:,}-yen simplified-tariff threshold: {self.near} [unverified]")
        return reason

    def rate(self, p: Prepared, base: DutyBase, version: SimplifiedVersion, on: date,
             selected: Selected) -> tuple[Applied, Decimal] | None:
        """The line's simplified rate and the exact amount it gives; None for goods excluded from the simplified
        tariff (the general rate applies: ``excluded``). ``selected`` is the rate selection, for the goods free
        under the general tariff."""
        if p.tariff is None:
            raise InputError(f"lines[{p.index}].hs_code", "the simplified tariff needs the HS code of every line")
        ln = p.line
        code = p.tariff.code
        key = (version.valid_from, code)
        out = self._out.get(key)
        if out is None:   # looked up once per version and code: the lists are matched by prefix
            out = remember(self._out, key, version.is_excluded(code))
        if out:
            return None
        # duty-free under the general tariff (national or WTO rate): stays free (CA 1001)
        mfn, mfn_amount = selected(p, base, on, False)
        if ln.rate is None and mfn_amount == 0:
            return Applied("simplified", "簡易税率（無税品）", mfn.text, mfn.rate, mfn_amount,
                           ["free under the general tariff: stays free under the simplified tariff"], []), mfn_amount
        found = self._category.get(key)
        if found is None:
            cat, text, _kind = version.category(code)
            found = remember(self._category, key, (cat, text, parse_rate(text)))
        cat, text, rate = found
        try:
            amount = rate.evaluate(base)
        except NeedsInput as exc:
            raise InputError(f"lines[{p.index}].{exc.field}", f"{exc.message} (simplified tariff {text})") from None
        extra = []
        if ln.claim_preference is not False:
            extra.append("a preferential rate needs the whole consignment to opt out of the simplified tariff "
                         "(simplified: never)")
        return Applied("simplified", f"簡易税率 第{cat.no}号 {cat.name_ja}", text, rate, amount, extra,
                       [f"simplified-tariff category of {p.tariff.hs}"] if version.verified == "U" else []), amount

    @staticmethod
    def excluded(general: Applied, amount: Decimal, version: SimplifiedVersion | None = None,
                 code: str | None = None) -> Applied:
        """The general rate of goods excluded from the simplified tariff, marked so; where the exclusion is inferred
        (``SimplifiedVersion.inferred``), the line says what it relies on."""
        group = version.inferred(code) if version is not None and code is not None else None
        if group is None:
            return replace(general, amount=amount, notes=["excluded from the simplified tariff: general rate",
                                                          *general.notes])
        return replace(general, amount=amount,
                       notes=[f"excluded from the simplified tariff ({group.name_ja}): general rate", *general.notes],
                       unverified=[*general.unverified, f"{group.name_ja} excluded from the simplified tariff: "
                                                        f"{group.why}"])

    @staticmethod
    def choose(mode: str, general: Treated, simplified: Treated | None, reason: str | None,
               version: SimplifiedVersion | None) -> tuple[Treated, dict[str, Any]]:
        """The treatment the declaration gets under ``mode``, and what the result reports of the choice."""
        info: dict[str, Any] = {"mode": mode, "used": False}
        chosen = general
        if mode == "always" and simplified is None:
            raise InputError("simplified", f"the simplified tariff cannot be used: {reason}")
        if simplified is not None:
            g_total, s_total = general.totals.total, simplified.totals.total
            info.update(general_total=g_total, simplified_total=s_total)
            if mode == "always" or s_total <= g_total:
                chosen = simplified
                info["used"] = True
            info["basis"] = version.basis if version else None
            info["verified"] = version.verified if version else None
        if reason:
            info["reason"] = reason
        return chosen, info
