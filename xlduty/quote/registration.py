"""The registration number of a qualified-invoice issuer (適格請求書発行事業者の登録番号): ``T`` + 13 digits.

What can be checked, and why only that (国税庁 適格請求書発行事業者公表サイト「登録番号とは」):
- a business with a corporate number (法人番号を有する課税事業者): ``T`` + its 法人番号. The first of those 13
  digits is a check digit over the other 12 (the 基礎番号): 9 − (Σ Pn × Qn mod 9), Pn the n-th digit counted
  from the right, Qn = 1 for odd n and 2 for even n (法人番号の指定等に関する省令 (平成26年財務省令第70号) 2条).
  A wrong digit is therefore found, except 0 mistaken for 9 and some swaps;
- anyone else (個人事業者, 人格のない社団等): ``T`` + 13 digits that are neither the My Number nor any 法人番号.
  No rule for those digits is published, so only the form is checked: the number itself can only be confirmed
  on the 公表サイト.

The number is normalised first: full-width characters, a lower-case ``t``, spaces and hyphens, as people type it
(``Ｔ１２３４-５６７８…``), become ``T1234567890123``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from xlduty.core.errors import InputError

IssuerKind = Literal["corporation", "individual"]
# Names a sheet or a JSON file may give the kind by.
KIND_NAMES: dict[str, IssuerKind] = {
    "corporation": "corporation", "corporate": "corporation", "法人": "corporation",
    "individual": "individual", "sole_proprietor": "individual", "個人": "individual", "個人事業者": "individual",
    "個人事業主": "individual", "人格のない社団等": "individual", "other": "individual",
}
_FORM = re.compile(r"T(\d{13})")


def check_digit(base: str) -> int:
    """The 法人番号's first digit for its 12-digit 基礎番号 (省令2条: 9 − (Σ Pn × Qn mod 9))."""
    if not re.fullmatch(r"\d{12}", base):
        raise ValueError("a 基礎番号 has 12 digits")
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base), start=1))
    return 9 - total % 9


def kind_of(text: str | None, field: str = "issuer.kind") -> IssuerKind:
    """The issuer's kind from its name (blank: a corporation, the usual issuer of a 見積書 for imports)."""
    if text is None or not str(text).strip():
        return "corporation"
    key = unicodedata.normalize("NFKC", str(text)).strip().lower().replace(" ", "_")
    if key not in KIND_NAMES:
        raise InputError(field, "use corporation (法人) or individual (個人事業者・人格のない社団等)")
    return KIND_NAMES[key]


def registration_number(text: str, kind: IssuerKind = "corporation", field: str = "issuer.registration_number"
                        ) -> str:
    """``text`` as ``T`` + 13 digits, checked as far as the law lets it be; an InputError naming ``field`` if not."""
    number = re.sub(r"[\s\-‐‑‒–—―ー−]", "", unicodedata.normalize("NFKC", str(text))).upper()
    m = _FORM.fullmatch(number)
    if not m:
        raise InputError(field, f"{text!r} is not a registration number: T and 13 digits (登録番号は T + 数字13桁), "
                                "e.g. T1234567890123")
    digits = m.group(1)
    if kind == "corporation":
        expected = check_digit(digits[1:])
        if int(digits[0]) != expected:
            raise InputError(field, f"T{digits}: the check digit of the corporate number is wrong (法人番号の検査用"
                                    f"数字は {expected}、番号を確認してください; 省令2条). A sole proprietor's number "
                                    "has no check digit: give the issuer's kind as individual")
    return number
