"""Costs in Japan beyond the import taxes (通関料, 郵便通関料, 立替手数料, delivery, inspection) and their
consumption tax.

Why separate from the import taxes: these are domestic purchases. Each bears domestic consumption tax
(10 % standard, 8 % reduced: national + local on the price, rates from ``rules/consumption_tax.yaml``) or
none (services on foreign goods such as import clearance are 輸出免税, 消費税法施行令17条2項4号), and that
tax is recoverable (仕入税額控除, 消費税法30条) like the import consumption tax. Defaults per kind, with
their basis, are in ``rules/domestic_costs.yaml``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from xlduty.core.errors import DataError, InputError
from xlduty.core.rounding import floor_yen
from xlduty.core.rules import Verified, load_rules, rule_file
from xlduty.core.tables import rules_dir

CtClass = Literal["standard", "reduced", "exempt"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CostKind(_Model):
    name_ja: str
    name_en: str
    ct: CtClass
    at_import: bool
    basis: str
    verified: Verified
    note: str | None = None


class Rule(_Model):
    rule: str
    basis: str
    conditions: str | None = None
    verified: Verified


class DomesticRules(_Model):
    kinds: dict[str, CostKind]
    ct_recovery: Rule
    ct_rounding: Rule
    sales_ct_rounding: Rule


@lru_cache(maxsize=1)
def domestic_rules() -> DomesticRules:
    """``rules/domestic_costs.yaml``, validated once per process."""
    path = rules_dir() / "domestic_costs.yaml"
    raw = rule_file(path)
    try:
        return DomesticRules.model_validate(raw)
    except ValueError as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc


def ct_percent(ct: CtClass, on: date, at: str) -> Decimal:
    """Domestic consumption tax (national + local) on a price, in percent: 10, 8 or 0 on ``on``."""
    if ct == "exempt":
        return Decimal(0)
    rate = load_rules().consumption_tax.on(on)
    text = rate.total_standard if ct == "standard" else rate.total_reduced
    if text is None:
        raise InputError(f"{at}.ct", f"no {ct} consumption-tax rate on {on}")
    return Decimal(text.rstrip("%"))


def split_ct(amount: Decimal, percent: Decimal, tax_included: bool) -> tuple[Decimal, int]:
    """(amount before tax, tax) of one cost row; the tax is floored to the yen (施行令70条の10: the
    supplier rounds once per rate; dropping fractions is the common choice, U).

    Tax included: tax = floor(amount × p / (100 + p)), net = amount − tax.
    """
    if percent == 0:
        return amount, 0
    if tax_included:
        tax = floor_yen(amount * percent / (100 + percent))
        return amount - tax, tax
    return amount, floor_yen(amount * percent / 100)
