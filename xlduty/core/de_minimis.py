"""The ¥10,000 exemption (少額免税): duty and consumption tax are not charged on a consignment whose total customs
value is at most 10,000 yen (関税定率法14条18号; 輸徴法13条1項1号 for the consumption tax), except on the goods the
Cabinet Order excludes (leather goods, knitwear, footwear …: 関税定率法施行令16条の3). Liquor tax and other excises
are still charged. The threshold and the excluded goods are dated rule data (rules/de_minimis.yaml), partly
unverified; a total within 1,000 yen of the threshold carries a warning (whether Customs compares the unrounded
total is not confirmed).

Decided here for the whole declaration, once its lines are valued; each exempt line then shows it (``exempt``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from xlduty.core.cache import remember
from xlduty.core.facts import Prepared
from xlduty.core.result import Step
from xlduty.core.rounding import yen_text
from xlduty.core.rules import DeMinimisVersion, Excluded, Rules


class DeMinimis:
    """The exemption under the rules given; the goods excluded are looked up once per version and code."""

    def __init__(self, rules: Rules) -> None:
        self.relief = rules.reliefs.reliefs["de_minimis"]
        self.near = rules.step("thresholds").rule
        self._excluded: dict[tuple[Any, str], Excluded | None] = {}

    def excluded_item(self, version: DeMinimisVersion, code: str) -> Excluded | None:
        """The 施行令16条の3 item that excludes a 9-digit code, if any."""
        key = (version.valid_from, code)
        if key in self._excluded:
            return self._excluded[key]
        return remember(self._excluded, key, version.excluded_item(code))

    def apply(self, lines: list[Prepared], total: Decimal, version: DeMinimisVersion | None, warnings: list[str],
              explanation: list[Step]) -> dict[str, Any] | None:
        """Check the total customs value against ``version`` (the one in force, if any): mark each exempt line,
        note each excluded one, and return the exemption as the result reports it (None: no line is exempt)."""
        if version is None or total > version.threshold_jpy + 1000:   # neither exempt nor near the threshold
            return None
        if abs(total - version.threshold_jpy) <= 1000:
            warnings.append(f"total customs value {yen_text(total)} is within 1,000 yen of the "
                            f"{version.threshold_jpy:,}-yen de minimis threshold: {self.near} [unverified]")
        if total > version.threshold_jpy:
            return None
        relief = self.relief
        exempt, excluded = [], []
        for p in lines:
            item = self.excluded_item(version, p.tariff.code) if p.tariff is not None else None
            if item is not None:
                excluded.append(p.index)
                p.notes.append(f"not exempt under {relief.article}: {item.name_ja} (関税定率法施行令16条の3) — a gift "
                               "for private use may still be exempted at Customs' discretion")
                if item.verified == "U":
                    # a new list: a line of a known kind shares its kind's
                    p.unverified = [*p.unverified, f"de minimis exclusion of {p.tariff.hs if p.tariff else ''} "
                                                   f"({item.name_ja})"]
            else:
                p.de_minimis_exempt = True
                exempt.append(p.index)
        if not exempt:
            return None
        but = f" except lines {excluded}" if excluded else ""
        explanation.append(Step("exemption", f"total customs value {yen_text(total)} ≤ {version.threshold_jpy:,}: "
                                             f"duty and consumption tax exempt{but}; liquor tax and other excises are "
                                             "still charged", None, version.basis, version.verified))
        return {"article": relief.article, "name": relief.name_ja, "name_en": relief.name_en,
                "text": f"{relief.article} {relief.name_ja}", "lines": exempt, "excluded_lines": excluded,
                "threshold": version.threshold_jpy, "verified": version.verified}

    def exempt(self, duty: int, steps: list[Step]) -> str:
        """An exempt line: its duty and consumption tax are not charged (the step says what was waived); the
        exemption as the line reports it."""
        relief = self.relief
        steps.append(Step("exemption", f"duty {duty:,} and consumption tax exempt", 0, relief.article,
                          relief.verified))
        return f"{relief.article} {relief.name_ja}"
