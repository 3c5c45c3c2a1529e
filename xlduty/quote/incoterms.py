"""Incoterms and the Japanese customs value: what the invoice price already includes, what the buyer adds.

Japan values imports on a CIF basis (関税定率法4条1項): the price paid plus the costs of carriage and
insurance up to arrival at the port of import. So under FOB the buyer's freight and insurance are added,
under CIF nothing is, under EXW the pre-carriage too; under DAP/DDP a separately stated leg after arrival
(and, for DDP, the Japanese duties and taxes the seller pays) is taken out (同法施行令1条の4). Which
elements each term puts on whom, and which elements belong in the customs value, is data with its legal
basis and verification mark in ``rules/incoterms.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from xlduty.core.errors import DataError
from xlduty.core.rules import Verified, rule_file
from xlduty.core.tables import rules_dir

Payer = Literal["seller", "buyer", "either"]
Role = Literal["add", "landed_only", "deduct", "in_price"]

# What each role does to a charge, for people (quote output and warnings).
ROLE_TEXT: dict[str, str] = {
    "add": "paid by the buyer, added to the customs value",
    "landed_only": "paid by the buyer, not part of the customs value (after arrival)",
    "deduct": "inside the invoice price, taken out of the customs value (after arrival or Japanese taxes)",
    "in_price": "inside the invoice price and part of the customs value: no change",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Element(_Model):
    name_ja: str
    name_en: str
    in_customs_value: bool | None          # None: the charge must say (``other``)
    engine_field: Literal["freight", "insurance", "additions"] | None
    basis: str
    verified: Verified
    note: str | None = None


class Term(_Model):
    name_ja: str
    name_en: str
    transport: Literal["any", "sea"]
    pays: dict[str, Payer]
    must_add: list[str] = []
    verified: Verified
    note: str | None = None


class CustomsValueRule(_Model):
    rule: str
    basis: str
    verified: Verified
    note: str | None = None


class IncotermRules(_Model):
    customs_value: CustomsValueRule
    elements: dict[str, Element]
    terms: dict[str, Term]

    @model_validator(mode="after")
    def _complete(self) -> IncotermRules:
        named = set(self.elements) - {"other"}
        for code, term in self.terms.items():
            if set(term.pays) != named:
                raise ValueError(f"{code}: pays must name exactly {sorted(named)}")
            if not set(term.must_add) <= named:
                raise ValueError(f"{code}: must_add names an unknown element")
        return self


@lru_cache(maxsize=1)
def incoterm_rules() -> IncotermRules:
    """``rules/incoterms.yaml``, validated once per process."""
    path = rules_dir() / "incoterms.yaml"
    raw = rule_file(path)
    try:
        return IncotermRules.model_validate(raw)
    except ValueError as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc


def terms() -> list[str]:
    return list(incoterm_rules().terms)


@dataclass(frozen=True, slots=True)
class ChargeRole:
    """How one charge enters the quote: its role, whether it is in the customs value, and why."""

    role: Role
    in_customs_value: bool
    element: Element
    warning: str | None = None


def role_of(term_code: str, kind: str, paid_by: Literal["buyer", "seller"], in_customs_value: bool | None,
            at: str) -> ChargeRole:
    """The role of a charge of ``kind`` under ``term_code``; ``at`` names the charge in warnings and errors.

    buyer + in the customs value → ``add``; buyer + after arrival → ``landed_only``; seller (inside the
    price, stated separately) + not in the customs value → ``deduct``; seller + in it → ``in_price``.
    A charge that contradicts the term (the buyer paying what the price already includes) is kept and warned
    about: the buyer may really pay extra (more insurance cover), but it may be counted twice.
    """
    from xlduty.core.errors import InputError

    rules = incoterm_rules()
    element = rules.elements.get(kind)
    if element is None:
        raise InputError(f"{at}.kind", f"unknown charge kind {kind!r} (use one of {', '.join(rules.elements)})")
    included = element.in_customs_value if in_customs_value is None else in_customs_value
    if included is None:
        raise InputError(f"{at}.in_customs_value", f"a charge of kind {kind!r} must say whether it is part of the "
                                                   "customs value (関税定率法4条1項1号〜6号)")
    payer = rules.terms[term_code].pays.get(kind, "either")
    warning = None
    if paid_by == "buyer" and payer == "seller":
        warning = (f"{at}: {term_code} already includes {element.name_en.lower()} in the invoice price; paid again "
                   "by the buyer it is counted twice (set paid_by: seller to state the included amount)")
    elif paid_by == "seller" and payer == "buyer":
        warning = (f"{at}: under {term_code} {element.name_en.lower()} is the buyer's, yet it is stated as inside "
                   "the invoice price")
    if paid_by == "buyer":
        role: Role = "add" if included else "landed_only"
    else:
        role = "in_price" if included else "deduct"
    return ChargeRole(role, included, element, warning)


def missing_additions(term_code: str, buyer_kinds: set[str]) -> list[str]:
    """Warnings for elements the buyer pays under the term and must add, but no charge gives."""
    rules = incoterm_rules()
    term = rules.terms[term_code]
    out = []
    for kind in term.must_add:
        if kind not in buyer_kinds:
            el = rules.elements[kind]
            out.append(f"{term_code}: the buyer pays {el.name_en.lower()} ({el.name_ja}), which belongs in the "
                       f"customs value ({el.basis}): no charge of kind {kind!r} is given, so the quote is short")
    return out


def unstated_in_price(term_code: str, seller_kinds: set[str]) -> list[str]:
    """A warning when the price includes Japanese duty and taxes (DDP) that no seller-paid charge states: the whole
    price is then taken as the customs value, so the taxes shown (the seller's, not in the landed cost) are too
    high. 関税定率法施行令1条の4 leaves them out of the value only when they can be told apart."""
    if not seller_pays_taxes(term_code) or "import_duties_taxes" in seller_kinds:
        return []
    el = incoterm_rules().elements["import_duties_taxes"]
    return [f"{term_code}: the price includes {el.name_en} ({el.name_ja}) and the seller's costs after arrival, "
            "but no charge states them (kind 'import_duties_taxes' / 'post_arrival', paid_by seller): the whole price "
            "is taken as the customs value, so the duty and taxes shown (paid by the seller, not in your landed "
            "cost) are overstated"]


def seller_pays_taxes(term_code: str) -> bool:
    """True when the seller pays the Japanese duty and taxes (DDP): they are not the buyer's landed cost."""
    return incoterm_rules().terms[term_code].pays["import_duties_taxes"] == "seller"
