"""Excise collected at import with the duty (内国消費税, 輸徴法): liquor tax computed from its category, volume and
strength (酒税法22条・23条; rules/liquor_tax.yaml, dated), or another excise the declaration states. A line's excise
goes into its consumption-tax base (消費税法28条4項) and is charged even on goods the de minimis rule exempts.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from xlduty.core.errors import DataError, InputError
from xlduty.core.facts import AnyLine
from xlduty.core.result import Step
from xlduty.core.rounding import floor_yen, yen_text
from xlduty.core.rules import LiquorTaxRules, Rules


def line_excise(ln: AnyLine, on: date, at: str, rules: Rules, steps: list[Step], unverified: list[str]) -> int:
    """The excise of the line at ``at`` (``lines[2]``), its explanation appended to ``steps``."""
    if ln.excise is not None and ln.liquor is not None:
        raise InputError(f"{at}.excise", "give either liquor or excise, not both")
    if ln.excise is not None:
        amount = floor_yen(ln.excise)
        steps.append(Step("excise_line", f"excise given: {amount:,}", amount, "輸徴法 (内国消費税)", None))
        return amount
    if ln.liquor is None:
        return 0
    lq = ln.liquor
    cats = {**rules.liquor.categories, **rules.liquor.special_rates}
    key, said = category(lq.category, on, lq.abv, rules.liquor, f"{at}.liquor.category")
    cat = cats[key]
    rate = cat.on(on)
    if rate is None:
        raise InputError(f"{at}.liquor.category", f"no liquor-tax rate for {key} is bundled for {on}")
    try:
        per_kl = rate.per_kl_at(lq.abv)
    except ValueError as exc:
        raise InputError(f"{at}.liquor.abv", str(exc)) from None
    amount = floor_yen(lq.litres * per_kl / 1000)
    strength = f" at {lq.abv}%" if rate.abv_base is not None else ""
    s = rules.step("excise_line")
    steps.append(Step("excise_line", f"liquor tax {cat.name_ja}{strength}{said}: {yen_text(lq.litres)} l × "
                                     f"{per_kl:,} yen/kL ÷ 1,000 = {amount:,}", amount, s.basis, rate.verified))
    if rate.verified == "U":
        unverified.append(f"liquor-tax rate for {key}")
    if rules.liquor.rounding.verified_detail.get("quantity") == "U":
        unverified.append("liquor-tax quantity rounding (litres kept exact)")
    return amount


def _folded(text: str) -> str:
    """A category name as compared: NFKC, case-folded, without spaces, "-" or "_" (Fruit-Wine = fruit_wine = ｆｒｕｉｔ
    ｗｉｎｅ)."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", text)).casefold()


_NAMES: dict[int, tuple[LiquorTaxRules, dict[str, str], dict[str, tuple[str, ...]]]] = {}


def _names(liquor: LiquorTaxRules) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Every name of a category (its key, its names) → its key; every ambiguous word → the keys it may mean (once per
    rules object)."""
    memo = _NAMES.get(id(liquor))
    if memo is not None and memo[0] is liquor:
        return memo[1], memo[2]
    cats = {**liquor.categories, **liquor.special_rates}
    known: dict[str, str] = {}
    for key, cat in cats.items():
        for name in (key, *cat.names):
            if known.setdefault(_folded(name), key) != key:
                raise DataError(f"rules/liquor_tax.yaml: {name!r} names both {known[_folded(name)]} and {key}")
    words = {_folded(w): tuple(liquor.categories if keys == ["all"] else keys)
             for w, keys in liquor.ambiguous.items()}
    if len(_NAMES) > 8:
        _NAMES.clear()
    _NAMES[id(liquor)] = (liquor, known, words)
    return known, words


def category(text: str, on: date, abv: Decimal | None, liquor: LiquorTaxRules, field: str) -> tuple[str, str]:
    """The category key a liquor's category names (酒税法3条: the key, the legal name, an unambiguous word), and what
    to say of it in the explanation. A word that may mean several categories (wine: 果実酒, 甘味果実酒 or
    その他の発泡性酒類) is an error listing them, unless all of them give the same tax on ``on`` at ``abv``."""
    known, words = _names(liquor)
    folded = _folded(text)
    key = known.get(folded)
    cats = {**liquor.categories, **liquor.special_rates}
    if key is not None:
        return key, "" if text in (key, cats[key].name_ja) else f" (「{text}」)"
    keys = words.get(folded)
    if keys is None:
        raise InputError(field, f"unknown liquor category {text!r} (use one of {', '.join(cats)}, or the name in "
                                "酒税法3条 such as 果実酒, ウイスキー, ビール)")
    rates = set()
    for k in keys:
        rate = cats[k].on(on)
        try:
            rates.add(rate.per_kl_at(abv) if rate is not None else None)
        except ValueError:
            rates.add(None)
    if len(rates) == 1 and None not in rates:
        names = " or ".join(cats[k].name_ja for k in keys)
        return keys[0], f" (「{text}」 may be {names}: all taxed alike on {on})"
    listing = "; ".join(f"{k} ({cats[k].name_ja})" for k in keys)
    raise InputError(field, f"{text!r} may mean several liquor categories, taxed differently: {listing}. Give the "
                            "one that applies")
