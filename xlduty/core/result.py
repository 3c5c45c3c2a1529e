"""The output contract of ``xlduty compute``: integer yen, the rate applied, and every step explained."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

UNVERIFIED = "relies on unverified rule data"   # the words of a line's warning listing its unverified rule data
Rendered = dict[str, Any]
"""A step built as it is output (``{"step", "formula", "amount"?, "basis"?, "verified"?}``, as ``Step.to_dict`` gives
it): the steps every line takes are made so (``Explanation.line``); a list of steps may hold both."""


@dataclass(slots=True)
class Step:
    """One step of the explanation: what was computed, how, and on what legal basis."""

    step: str
    formula: str | Callable[[], str]   # a callable renders on output: formatting is most of a line's cost
    amount: int | str | None = None
    basis: str | None = None
    verified: str | None = None     # V-off / V-sec / U (U: the rule is unverified; see rules/)

    def to_dict(self) -> dict[str, Any]:
        """The step as written: its formula rendered, the amount, basis and mark where it has them."""
        return steps_out([self])[0]

    @classmethod
    def of(cls, step: Step | Rendered) -> Step:
        """A step as a ``Step``, where it was built as it is output."""
        return step if type(step) is not dict else cls(**step)


@dataclass(slots=True)
class LineResult:
    index: int
    hs_code: str | None
    description: str | None
    origin: str | None
    customs_value: Decimal            # unrounded yen value (課税価格 before truncation)
    taxable_value: int                # 課税価格, truncated to 1,000 yen
    rate: str | None                  # the rate applied, as printed
    rate_kind: str | None
    rate_column: str | None
    rate_name: str | None
    duty: int                         # per line, yen fractions dropped
    excise: int
    ct_rate: str
    reduced_ct: bool
    ct_base: int
    national_ct: int
    local_ct: int
    exemption: str | None = None
    relief: str | None = None
    treatment: str = "general"        # general | simplified
    explain: Callable[[], list[Step | Rendered]] | None = None   # renders the steps on demand
    notes: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    misfit: str | None = None         # its customs value per unit lies outside its code's band (BandCheck.misfit)

    @property
    def explanation(self) -> list[Step]:
        return [Step.of(s) for s in self.explain()] if self.explain else []

    def to_dict(self, explain: bool = True) -> dict[str, Any]:
        """The line as ``xlduty compute`` writes it; ``explain=False`` leaves out the explanation (``--no-explain``)."""
        out = {
            "index": self.index,
            "hs_code": self.hs_code,
            "description": self.description,
            "origin": self.origin,
            "customs_value": num(self.customs_value),
            "taxable_value": self.taxable_value,
            "rate": self.rate,
            "rate_kind": self.rate_kind,
            "rate_column": self.rate_column,
            "rate_name": self.rate_name,
            "treatment": self.treatment,
            "duty": self.duty,
            "excise": self.excise,
            "ct_rate": self.ct_rate,
            "reduced_ct": self.reduced_ct,
            "ct_base": self.ct_base,
            "national_ct": self.national_ct,
            "local_ct": self.local_ct,
            "exemption": self.exemption,
            "relief": self.relief,
        }
        if explain:
            out["explanation"] = steps_out(self.explain()) if self.explain else []
        out["notes"] = self.notes
        out["unverified"] = self.unverified
        return out


@dataclass(slots=True)
class Totals:
    duty: int
    national_ct: int
    local_ct: int
    excise: int

    @property
    def consumption_tax(self) -> int:
        return self.national_ct + self.local_ct

    @property
    def total(self) -> int:
        return self.duty + self.national_ct + self.local_ct + self.excise

    def to_dict(self) -> dict[str, int]:
        duty, nat, loc, excise = self.duty, self.national_ct, self.local_ct, self.excise
        return {"duty": duty, "national_ct": nat, "local_ct": loc, "consumption_tax": nat + loc, "excise": excise,
                "total": duty + nat + loc + excise}


@dataclass(slots=True)
class Result:
    date: str
    tariff_edition: str | None
    fx: list[dict[str, Any]]
    personal_use: bool
    simplified: dict[str, Any]
    exemption: dict[str, Any] | None
    totals: Totals
    lines: list[LineResult]
    explanation: list[Step]
    warnings: list[str]
    explain: Callable[[Result], list[Step]] | None = field(default=None, repr=False, compare=False)
    # where the explanation is left unset (``del result.explanation``): builds its steps from the result on first use

    def __getattr__(self, name: str) -> Any:
        """An explanation left to be built (its slot unset) is built on first use, then kept."""
        if name == "explanation" and self.explain is not None:
            steps = self.explain(self)
            self.explanation, self.explain = steps, None
            return steps
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def misfit(self) -> tuple[int, str] | None:
        """The first line whose customs value per unit lies outside its code's band, with what was found (the line
        that fits first): its figures are not what Customs assesses, since another line applies with its own rate. The
        command line gives them with a warning; a cell cannot, so the worksheet functions show this instead. Not where
        the code's rate decides nothing: a line exempt as de minimis (its neighbours in the subheading are exempt
        alike), under a relief, or at a rate the user gave."""
        return next(((i, ln.misfit) for i, ln in enumerate(self.lines)
                     if ln.misfit and not (ln.exemption or ln.relief or ln.rate_column == "override")), None)

    def to_dict(self, explain: bool = True) -> dict[str, Any]:
        """The result as ``xlduty compute`` writes it; ``explain=False`` leaves out every explanation."""
        t = self.totals   # Totals.to_dict, inline (a batch writes a result per declaration)
        duty, nat, loc, excise = t.duty, t.national_ct, t.local_ct, t.excise
        lines = self.lines
        out = {
            "date": self.date,
            "tariff_edition": self.tariff_edition,
            "fx": self.fx,
            "personal_use": self.personal_use,
            "simplified": self.simplified,
            "exemption": self.exemption,
            "totals": {"duty": duty, "national_ct": nat, "local_ct": loc, "consumption_tax": nat + loc,
                       "excise": excise, "total": duty + nat + loc + excise},
            "lines": [lines[0].to_dict(explain)] if len(lines) == 1 else [ln.to_dict(explain) for ln in lines],
        }
        if explain:
            out["explanation"] = steps_out(self.explanation)
        out["warnings"] = self.warnings
        return out


def steps_out(steps: list[Step | Rendered]) -> list[Rendered]:
    """``[s.to_dict() for s in steps]`` in one loop, without a call per step but its formula's (an explained
    one-line declaration has about ten steps: writing them was a third of the explained output's cost); a step built
    as it is output is that already (each is built afresh for its output)."""
    out: list[Rendered] = []
    append = out.append
    for s in steps:
        if type(s) is dict:
            append(s)
            continue
        formula = s.formula
        d = {"step": s.step, "formula": formula if type(formula) is str else formula()}
        if s.amount is not None:
            d["amount"] = s.amount
        if s.basis:
            d["basis"] = s.basis
        if s.verified:
            d["verified"] = s.verified
        append(d)
    return out


def num(d: Decimal | int) -> int | str:
    """Whole numbers as an int; fractions as an exact decimal string (never a float)."""
    if isinstance(d, int):
        return d
    text = str(d)   # a customs value: its digits as they are, where they end in neither 0 nor an exponent
    if text[-1] in "123456789" and "E" not in text:
        return text if "." in text else int(text)
    return int(d) if d == d.to_integral_value() else format(d.normalize(), "f")
