"""Reliefs a line may claim (rules/reliefs.yaml, each with its conditions):

- re-importation of goods exported unchanged: no duty (関税定率法14条10号); the consumption tax is exempt too
  (輸徴法13条1項1号), unless the export was itself free of consumption tax;
- goods repaired abroad: the duty is reduced by the share of the value the goods had when exported (定率法11条);
- outward processing of leather bags and gloves: reduced by the share of the Japanese materials (関税暫定措置法8条,
  「暫八」).

The consumption tax is reduced only where the law exempts it (a duty reduction leaves it whole).
"""

from __future__ import annotations

from decimal import Decimal

from xlduty.core.errors import InputError
from xlduty.core.facts import Prepared
from xlduty.core.result import Step
from xlduty.core.rounding import floor_yen, yen_text
from xlduty.core.rules import Rules, hs_digits


def apply(p: Prepared, duty: int, at: str, rules: Rules, steps: list[Step],
          notes: list[str]) -> tuple[str | None, int, bool]:
    """The line's relief, if it claims one: (its article, the duty after it, consumption tax exempt?)."""
    rel = p.line.relief
    if rel is None:
        return None, duty, False
    info = rules.reliefs.reliefs[rel.type]
    label = f"{info.article} {info.name_ja}"
    if rel.type == "reimport":
        steps.append(Step("relief", f"{label}: duty {duty:,} → 0; consumption tax "
                                    + ("charged (the export was consumption-tax-free)" if rel.export_ct_free
                                       else "exempt (輸徴法13条1項1号)"), 0, info.article, info.verified))
        return label, 0, not rel.export_ct_free
    given = rel.export_value if rel.type == "repair" else rel.japanese_value
    name = "export_value" if rel.type == "repair" else "japanese_value"
    if given is None:
        raise InputError(f"{at}.relief.{name}", f"{info.article} needs {name} (in the line currency)")
    if rel.type == "outward_processing":
        eligible = info.eligible_hs or []
        code = p.tariff.code if p.tariff is not None else ""
        if (not code or not any(code.startswith(hs_digits(e)) for e in eligible)
                or any(code.startswith(hs_digits(e)) for e in info.excluded_hs)):
            but = f" except {', '.join(info.excluded_hs)}" if info.excluded_hs else ""
            raise InputError(f"{at}.relief", f"{info.article} covers only {', '.join(eligible)}{but}")
    part = given * p.fx.yen_per_unit
    if part > p.value:
        raise InputError(f"{at}.relief.{name}", f"{name} exceeds the customs value of the line")
    cut = floor_yen(Decimal(duty) * part / p.value) if p.value else 0
    steps.append(Step("relief", f"{label}: {duty:,} − floor({duty:,} × {yen_text(part)} / {yen_text(p.value)}) = "
                                f"{duty - cut:,}; consumption tax not reduced", duty - cut, info.article,
                      info.verified))
    notes.append(f"{label}: {info.conditions}")
    return label, duty - cut, False
