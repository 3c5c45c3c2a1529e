"""HS codes as users type them: ``6109.10-020``, ``6109.10.020``, ``610910020`` or 6-digit ``6109.10``."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_RE_9 = re.compile(r"^(\d{4})\.?(\d{2})[-.]?(\d{3})$")
_RE_6 = re.compile(r"^(\d{4})\.?(\d{2})$")


def normalize_hs(text: object) -> str:
    """Digits of an HS code: 9 for a statistical line, 6 for a subheading. ``ValueError`` otherwise."""
    if type(text) is str and len(text) == 11 and text[4] == "." and text[7] == "-":
        # as printed (6109.10-020), the form of most codes given: its digits without the NFKC and patterns below
        digits = text[:4] + text[5:7] + text[8:]
        if digits.isascii() and digits.isdigit():
            return digits
    if isinstance(text, float) and text.is_integer():
        text = int(text)  # Excel delivers a code typed as a number as a float
    return _normalize(str(text))


@lru_cache(maxsize=65536)
def _normalize(text: str) -> str:
    """
    A number typed into Excel without text format loses its leading zero (``10121100``), so an
    8- or 5-digit all-digit code is taken as having lost one leading zero. A code typed in a Japanese IME's
    full-width mode (``６１０９．１０－０２０``) is read as NFKC reads it; other digits than 0-9 are not digits.
    """
    s = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    if not s.isascii():
        raise ValueError(f"{text!r} is not an HS code (use 6109.10-020, 610910020 or 6109.10)")
    if re.fullmatch(r"\d{8}|\d{5}", s):
        s = "0" + s
    if m := _RE_9.match(s):
        return "".join(m.groups())
    if m := _RE_6.match(s):
        return "".join(m.groups())
    raise ValueError(f"{text!r} is not an HS code (use 6109.10-020, 610910020 or 6109.10)")


def format_hs(code: str) -> str:
    """``610910020`` → ``6109.10-020``; ``610910`` → ``6109.10``."""
    return f"{code[:4]}.{code[4:6]}-{code[6:]}" if len(code) == 9 else f"{code[:4]}.{code[4:6]}"
