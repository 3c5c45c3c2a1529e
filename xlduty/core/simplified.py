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
from typing import Any, TypeVar

from xlduty.core.cache import remember
from xlduty.core.errors import InputError
from xlduty.core.facts import Prepared, Treated
from xlduty.core.rate import DutyBase, NeedsInput, Rate
from xlduty.core.rate_parser import parse_rate
from xlduty.core.rounding import yen_text
from xlduty.core.rules import InferredExclusion, Rules, SimplifiedCategory, SimplifiedVersion, hs_digits
from xlduty.core.selection import Applied

Selected = Callable[[Prepared, DutyBase, date, "bool | str"], "tuple[Applied, Decimal]"]
_Index = TypeVar("_Index", "_Exclusions", "_Categories")


class _Exclusions:
    """A version's exclusion lists by digit prefix (``SimplifiedVersion.is_excluded`` and ``inferred``, the same
    answers): a new code is looked up once per prefix length, not matched against every prefix of every list (a
    broker's book brings thousands of codes)."""

    def __init__(self, version: SimplifiedVersion) -> None:
        self.version = version
        self.listed = frozenset(hs_digits(p) for p in version.excluded.hs)
        self.groups: dict[str, int] = {}   # a prefix → the first inferred group listing it
        for n, group in enumerate(version.excluded.inferred):
            for p in group.hs:
                self.groups.setdefault(hs_digits(p), n)
        self.lengths = tuple(sorted({len(p) for p in self.listed} | {len(p) for p in self.groups}))

    def inferred(self, code: str) -> InferredExclusion | None:
        """The first inferred group with a prefix of ``code``, as ``SimplifiedVersion.inferred`` finds it."""
        found = [n for k in self.lengths if (n := self.groups.get(code[:k])) is not None]
        return self.version.excluded.inferred[min(found)] if found else None

    def excluded(self, code: str) -> bool:
        return any(code[:k] in self.listed for k in self.lengths) or self.inferred(code) is not None


class _Categories:
    """A version's categories by digit prefix (``SimplifiedVersion.category``, the same answer): the longest prefix of
    a category not excepting the code, the first listed of equal length, else the last catch-all (``*``) of a category
    not excepting it; looked up once per prefix length instead of matched against every prefix of every category."""

    def __init__(self, version: SimplifiedVersion) -> None:
        self.version = version
        self.excepts = [tuple(hs_digits(p) for p in cat.hs_except) for cat in version.categories]
        self.by_prefix: dict[str, list[tuple[int, int, tuple[SimplifiedCategory, str, str | None]]]] = {}
        self.rest: list[tuple[int, tuple[SimplifiedCategory, str, str | None]]] = []   # the catch-alls, in order
        order = 0
        for n, cat in enumerate(version.categories):
            for sub in cat.rates or []:
                for p in sub.hs:
                    self.by_prefix.setdefault(hs_digits(p), []).append((order, n, (cat, sub.rate, sub.kind)))
                    order += 1
            for p in cat.hs:
                if p == "*":
                    self.rest.append((n, (cat, cat.rate or "", None)))
                else:
                    self.by_prefix.setdefault(hs_digits(p), []).append((order, n, (cat, cat.rate or "", None)))
                    order += 1
        self.lengths = sorted({len(p) for p in self.by_prefix}, reverse=True)

    def category(self, code: str) -> tuple[SimplifiedCategory, str, str | None]:
        """(category, rate text, liquor kind) of the code, as ``SimplifiedVersion.category`` finds them."""
        excepts = self.excepts
        for k in self.lengths:
            entries = self.by_prefix.get(code[:k])
            if entries:
                found = [e for e in entries if not any(code.startswith(x) for x in excepts[e[1]])]
                if found:
                    return min(found)[2]   # the first listed (orders are distinct)
        for n, result in reversed(self.rest):
            if not any(code.startswith(x) for x in excepts[n]):
                return result
        return self.version.category(code)   # says what is wrong (no catch-all)


_INDEXES: dict[tuple[type, int], _Exclusions | _Categories] = {}


def _indexed(made: type[_Index], version: SimplifiedVersion) -> _Index:
    """The index ``made`` (``_Exclusions``, ``_Categories``) of a version, made once per version object (rule data
    only)."""
    key = (made, id(version))
    found = _INDEXES.get(key)
    if found is None or found.version is not version:
        if len(_INDEXES) >= 64:
            _INDEXES.clear()
        found = _INDEXES[key] = made(version)
    return found  # type: ignore[return-value]


def _categories(version: SimplifiedVersion) -> _Categories:
    return _indexed(_Categories, version)


def _exclusions(version: SimplifiedVersion) -> _Exclusions:
    return _indexed(_Exclusions, version)


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
            out = remember(self._out, key, _exclusions(version).excluded(code))
        if out:
            return None
        # duty-free under the general tariff (national or WTO rate): stays free (CA 1001)
        mfn, mfn_amount = selected(p, base, on, False)
        if ln.rate is None and mfn_amount == 0:
            return Applied("simplified", "簡易税率（無税品）", mfn.text, mfn.rate, mfn_amount,
                           ["free under the general tariff: stays free under the simplified tariff"], []), mfn_amount
        found = self._category.get(key)
        if found is None:
            cat, text, _kind = _categories(version).category(code)
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
        group = _exclusions(version).inferred(code) if version is not None and code is not None else None
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
