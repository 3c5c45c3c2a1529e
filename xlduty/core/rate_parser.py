"""Parse rate text as the tariff prints it (Japanese or English) into a typed ``Rate``.

The notations are those of 実行関税率表: ``無税``, ``10.9%``, ``361円/kg``, ``25%＋63円/kg``,
``A又はBのうちいずれか高い税率``, ``…いずれか低い税率 ただしその税率が93円/lを下回る場合は93円/l``,
gate-price formulas over ``課税価格``, quota and described-goods branches, per-party treatment,
seasons, ranges with ``〜`` and ``非譲許``, parenthesised (not applied) rates and the marks
``● ◎ ※ * ◆n``. English forms (``Free``, ``15% or 125 yen/l, whichever is the less, subject to a
minimum customs duty of 67 yen/l``) are accepted for user overrides. Text matching none of them
raises ``RateParseError``: the bundled-data build fails rather than guess.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from xlduty.core.errors import RateParseError
from xlduty.core.rate import (
    AdValorem,
    Branch,
    Branches,
    Compound,
    Formula,
    Free,
    GatePrice,
    HigherOf,
    LowerOf,
    Manual,
    NotApplied,
    Noted,
    Range,
    Rate,
    Specific,
    _in_season,
)
from xlduty.core.units import Unit, unit_of

# Parties named in （…に対する待遇）, as the EPA columns print them.
PARTY_NAMES = {
    "オーストラリア": "AU", "豪州": "AU", "カナダ": "CA", "ニュージーランド": "NZ", "チリ": "CL",
    "ベトナム": "VN", "マレーシア": "MY", "メキシコ": "MX", "ペルー": "PE", "シンガポール": "SG",
    "ブルネイ": "BN", "英国": "GB", "中国": "CN", "韓国": "KR", "タイ": "TH", "インドネシア": "ID",
    "フィリピン": "PH", "カンボジア": "KH", "ラオス": "LA", "ミャンマー": "MM",
}

# A number as the tariff prints it: a comma only groups thousands by threes (1,035円/kg, 3,400,000円/頭). Any other
# comma (3,9% — a decimal comma — or 1,0350) is refused (``_RE_BAD_COMMA``), never read as some other number.
_NUM = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_RE_COMMA_NUMBER = re.compile(r"[0-9][0-9,]*,[0-9,]*")
_RE_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
_RE_PERCENT_AFTER = re.compile(r"(?:\.[0-9]+)?%")   # what follows a grouped number that makes it a percentage
_UNIT = r"kg|kl|l|MT|m2|頭|足|個|本|枚"
_RE_PERCENT = re.compile(rf"({_NUM})%")
_RE_SPECIFIC = re.compile(rf"({_NUM})(万)?円/({_NUM})?({_UNIT})")
_RE_UNIT_SUFFIX = re.compile(rf"/({_UNIT})")
_RE_FOOTNOTE = re.compile(r"◆\d+")
_RE_CAP = re.compile(r"^(.+?)\(?ただしその税率が(.+?)を上回る場合は(.+?)とする\)?$")
_RE_FLOOR = re.compile(r"^(.+?)ただしその税率が(.+?)を下回る場合は(.+?)(?:とする)?$")
_RE_ALT = re.compile(r"^(.+)のうちいずれか(高い|低い)税率$")
_RE_PARTY = re.compile(r"\(([^()]+?)に対する待遇\)")
_RE_SEASON = re.compile(r"毎年(\d+)月(\d+)日から(同年|翌年)(\d+)月(\d+|末)日までに輸入されるもの")
_MANUAL_WORDS = ("基準輸入価格", "含有率", "につき")
_LAST_DAY = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}

_ENGLISH = [
    (re.compile(r"\bfree\b", re.I), "無税"),
    (re.compile(r"\s*(?:yen|jpy)\s*/\s*", re.I), "円/"),
    (re.compile(r"\s*(?:yen|jpy)\b", re.I), "円"),
    (re.compile(r"\bcustoms value\b", re.I), "課税価格"),
    (re.compile(r",?\s*whichever is (?:the )?(?:greater|higher)", re.I), "のうちいずれか高い税率"),
    (re.compile(r",?\s*whichever is (?:the )?(?:less|lesser|lower)", re.I), "のうちいずれか低い税率"),
    (re.compile(r",?\s*subject to a minimum (?:customs )?(?:duty )?of\s+(.+)$", re.I),
     r"ただしその税率が\1を下回る場合は\1"),
    (re.compile(r"\s+or\s+", re.I), "又は"),
    (re.compile(r"/\s*(?:pcs?|pieces?|units?|u)\b", re.I), "/個"),
    (re.compile(r"/\s*pairs?\b", re.I), "/足"),
    (re.compile(r"/\s*heads?\b", re.I), "/頭"),
    (re.compile(r"/\s*(?:L|litre|liter)\b"), "/l"),
    (re.compile(r"/\s*(?:sqm|㎡)", re.I), "/m2"),
]


_RE_SPACES = re.compile(r"\s+")
_RE_OPERATOR = re.compile(r"\s*([+~/])\s*")
_RE_PROVISO = re.compile(r"\s+ただし")
_RE_LATIN = re.compile(r"[A-Za-zİı]")
"""Every pattern of ``_ENGLISH`` needs a letter of these (İ and ı fold to i and I in a case-blind match; the other
letters that fold to ASCII ones, ſ and K, NFKC has turned into s and K): a text with none is left as it is."""


def normalize(text: str) -> str:
    """Canonical spelling: NFKC (full-width → ASCII, ㎡ → m2), one minus, one tilde, tight operators."""
    t = unicodedata.normalize("NFKC", text).replace("〜", "~").replace("−", "-").replace("－", "-")
    t = t.replace("ー円", "-円")
    t = _RE_SPACES.sub(" ", t).strip()
    t = _RE_OPERATOR.sub(r"\1", t)
    t = _RE_PROVISO.sub("ただし", t)
    return t


def _english(text: str) -> str:
    if _RE_LATIN.search(text) is None:   # a rate printed in Japanese only (the schedule's): nothing to translate
        return text
    for pattern, repl in _ENGLISH:
        text = pattern.sub(repl, text)
    return text


def _number(s: str) -> Decimal:
    return Decimal(s.replace(",", ""))


def _split_top(s: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses."""
    if "(" not in s and ")" not in s:   # no parentheses: every ``sep`` is outside them
        return s.split(sep)
    return _split_scanning(s, sep)


def _split_scanning(s: str, sep: str) -> list[str]:
    """``_split_top`` by scanning: depth counted through the parentheses (one closing without an opening included)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(s):
        c = s[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            parts.append(s[start:i])
            start = i + len(sep)
            i = start
            continue
        i += 1
    parts.append(s[start:])
    return parts


def _wrapped(s: str) -> bool:
    """True if ``s`` is one parenthesised group: ``(…)``."""
    if not (s.startswith("(") and s.endswith(")")):
        return False
    depth = 0
    for i, c in enumerate(s):
        depth += c == "("
        depth -= c == ")"
        if depth == 0 and i < len(s) - 1:
            return False
    return True


# --- gate-price formula ----------------------------------------------------------------------------

_RE_FTOKEN = re.compile(rf"\s*(?:({_NUM})円?|(課税価格)|([-+×*/()]))")


def _parse_formula(s: str) -> Formula:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(s):
        m = _RE_FTOKEN.match(s, pos)
        if not m:
            raise RateParseError(f"cannot read the formula {s!r} at {s[pos:]!r}")
        num, var, op = m.groups()
        tokens.append(("num", num) if num else ("var", var) if var else ("op", "×" if op == "*" else op))
        pos = m.end()
    at = 0

    def peek() -> tuple[str, str] | None:
        return tokens[at] if at < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal at
        at += 1
        return tokens[at - 1]

    def expr() -> Formula:
        node = term()
        while (t := peek()) and t[1] in "+-":
            node = Formula(take()[1], left=node, right=term())
        return node

    def term() -> Formula:
        node = factor()
        while (t := peek()) and t[1] in "×/":
            node = Formula(take()[1], left=node, right=factor())
        return node

    def factor() -> Formula:
        kind, val = take()
        if kind == "num":
            return Formula("num", value=Fraction(val.replace(",", "")))
        if kind == "var":
            return Formula("var")
        if val == "(":
            node = expr()
            if take() != ("op", ")"):
                raise RateParseError(f"unbalanced parentheses in {s!r}")
            return node
        raise RateParseError(f"unexpected {val!r} in formula {s!r}")

    try:
        node = expr()
    except IndexError:
        raise RateParseError(f"incomplete formula {s!r}") from None
    if at != len(tokens):
        raise RateParseError(f"trailing text in formula {s!r}")
    return node


def _gate_price(s: str) -> GatePrice:
    units = _RE_UNIT_SUFFIX.findall(s)
    if not units or len(set(units)) != 1:
        raise RateParseError(f"gate-price formula without one unit: {s!r}")
    body = _RE_UNIT_SUFFIX.sub("", s)
    return GatePrice(_parse_formula(body), unit_of(units[0]))


# --- rates ------------------------------------------------------------------------------------------

def _component(s: str) -> Rate:
    if s in ("無税", "免税"):
        return Free()
    if m := _RE_PERCENT.fullmatch(s):
        return AdValorem(_number(m.group(1)))
    if m := _RE_SPECIFIC.fullmatch(s):
        yen = _number(m.group(1)) * (10000 if m.group(2) else 1)
        per = _number(m.group(3)) if m.group(3) else Decimal(1)
        return Specific(yen, unit_of(m.group(4)), per)
    if "課税価格" in s and not any(w in s for w in _MANUAL_WORDS):
        return _gate_price(s)
    if _wrapped(s):
        return _alternative(s[1:-1])
    if any(w in s for w in _MANUAL_WORDS):
        return Manual(s, "the duty depends on a reference price or the composition of the goods")
    raise RateParseError(f"unknown rate notation {s!r}")


def _sum(s: str) -> Rate:
    parts = _split_top(s, "+")
    if len(parts) == 1:
        return _component(s)
    return Compound(tuple(_component(p) for p in parts))


def _alternative(s: str) -> Rate:
    if m := _RE_CAP.fullmatch(s):
        inner = _alternative(m.group(1))
        if not isinstance(inner, HigherOf) or m.group(2) != m.group(3):
            raise RateParseError(f"unexpected cap in {s!r}")
        return HigherOf(inner.options, cap=_sum(m.group(3)))
    if m := _RE_FLOOR.fullmatch(s):
        inner = _alternative(m.group(1))
        if not isinstance(inner, LowerOf) or m.group(2) != m.group(3):
            raise RateParseError(f"unexpected minimum in {s!r}")
        return LowerOf(inner.options, floor=_sum(m.group(3)))
    if m := _RE_ALT.fullmatch(s):
        options = tuple(_sum(p) for p in _split_top(m.group(1), "又は"))
        if len(options) < 2:
            raise RateParseError(f"one option in {s!r}")
        return HigherOf(options) if m.group(2) == "高い" else LowerOf(options)
    if "課税価格" in s and not _wrapped(s) and "又は" not in s:
        return _gate_price(s)
    return _sum(s)


def _bound(s: str) -> Rate:
    """One end of a range: parentheses only say the end is not applied, the figure still bounds."""
    s = s.replace("※", "")
    while _wrapped(s):
        s = s[1:-1]
    return _alternative(s)


def _range_end(s: str) -> Rate:
    """A range end may itself list choices: ``25%又は119円/kg``."""
    try:
        return _bound(s)
    except RateParseError:
        return Range(tuple(_bound(p) for p in _split_top(s, "又は")), text=s)


def _token_rate(tok: str) -> Rate:
    """One whitespace-free rate with its marks."""
    marks: list[str] = []
    partial = tok.startswith("●")
    tok = tok.lstrip("●")
    while tok[:1] in ("◎", "※", "*"):
        marks.append(tok[0])
        tok = tok[1:]
    if not tok:
        raise RateParseError("a mark without a rate")
    rate = _unmarked(tok)
    if partial and not isinstance(rate, Range):
        rate = Range((rate,), unbound=True, text="●" + tok)
    return Noted(rate, tuple(marks)) if marks else rate


def _unmarked(tok: str) -> Rate:
    text = tok
    if any(w in tok for w in _MANUAL_WORDS):
        return Manual(tok, "the duty depends on a reference price or the composition of the goods")
    if _wrapped(tok):
        inner = tok[1:-1]
        if inner.startswith("一部"):
            return NotApplied(Manual(inner, "applies to part of the line only"))
        return NotApplied(_unmarked(inner))
    unbound = tok.endswith("又は非譲許")
    if unbound:
        tok = tok[: -len("又は非譲許")]
    if "、" in tok or len(_split_top(tok, "~")) > 1:
        options: list[Rate] = []
        for item in _split_top(tok, "、"):
            for alt in (_split_top(item, "又は") if "、" in tok else [item]):
                options.extend(_range_end(end) for end in _split_top(alt, "~"))
        return Range(tuple(options), unbound=unbound, text=text)
    if unbound:
        return Range((_bound(tok),), unbound=True, text=text)
    return _alternative(tok.replace("※", ""))


def _try_rate_token(tok: str) -> Rate | None:
    """The rate a token spells, or None if it is (part of) a condition's wording."""
    try:
        return _token_rate(tok)
    except (RateParseError, ValueError):
        return None


def season_of(cond: str) -> tuple[int, int, int, int] | None:
    m = _RE_SEASON.search(cond)
    if not m:
        return None
    m1, d1, _, m2, d2 = m.groups()
    end_day = _LAST_DAY[int(m2)] if d2 == "末" else int(d2)
    return int(m1), int(d1), int(m2), end_day


def _in_season_text(text: str, d: date) -> bool:
    """True if the season named in ``text`` (毎年…までに輸入されるもの) covers ``d``."""
    season = season_of(text)
    return season is not None and _in_season(d, season)


def _branch(cond: str, rate: Rate) -> Branch:
    parties: set[str] = set()
    other_parties = False
    for group in _RE_PARTY.findall(cond):
        for name in re.split(r"、|及び", group):
            if name == "他の締約国":
                other_parties = True
            elif name in PARTY_NAMES:
                parties.add(PARTY_NAMES[name])
            else:
                raise RateParseError(f"unknown party {name!r} in {cond!r}")
    quota: bool | None = None
    wto_quota = "世界貿易機関設立協定の日本国の譲許表における関税割当て"
    if "関税割当数量以内" in cond or (cond.startswith(wto_quota) and not cond.startswith(wto_quota + "以外")):
        quota = True
    elif "関税割当数量以外" in cond:
        quota = False
    season = season_of(cond)
    rest = _RE_PARTY.sub("", _RE_SEASON.sub("", cond))
    for phrase in ("関税割当数量以内のもの", "関税割当数量以外のもの", "その他のもの", "であって、", "で、", "、"):
        rest = rest.replace(phrase, "")
    described = bool(rest.strip())
    return Branch(
        condition=cond, rate=rate, quota=quota, parties=frozenset(parties) or None,
        other_parties=other_parties, season=season, described=described,
        otherwise=cond.startswith("その他のもの") and not described,
    )


def _branches(tokens: list[str]) -> Rate:
    pairs: list[tuple[str, Rate]] = []
    cond: list[str] = []
    for tok in tokens:
        if _RE_FOOTNOTE.fullmatch(tok):
            if not pairs or cond:
                raise RateParseError(f"footnote {tok} without a rate")
            c, r = pairs[-1]
            pairs[-1] = (c, _with_mark(r, tok))
        elif cond and (rate := _try_rate_token(tok)) is not None:
            pairs.append((" ".join(cond), rate))
            cond = []
        else:
            cond.append(tok)
    if cond or not pairs:
        raise RateParseError(f"condition without a rate: {' '.join(cond)!r}")
    branches = tuple(_branch(c, r) for c, r in pairs)
    if all(b.quota is not None or (b.otherwise and not b.described) for b in branches) and any(
            b.quota is not None for b in branches) and not any(b.parties for b in branches):
        kind = "quota"
    elif any(b.parties or b.other_parties for b in branches):
        kind = "party"
    elif any(b.season for b in branches):
        kind = "seasonal"
    else:
        kind = "conditional"
    return Branches(branches, kind)


def _with_mark(rate: Rate, mark: str) -> Rate:
    if isinstance(rate, Noted):
        return Noted(rate.inner, (*rate.marks, mark))
    return Noted(rate, (mark,))


def _check_commas(t: str) -> None:
    """A number with a comma that is not a thousands separator (``3,9%``, ``1,5円/kg``) cannot be read one way."""
    for m in _RE_COMMA_NUMBER.finditer(t):
        if not _RE_GROUPED.fullmatch(m.group(0)):
            raise RateParseError(f"{m.group(0)!r} in {t!r} is not a number: in a rate a comma only groups thousands "
                                 "by threes (1,035円/kg); write a decimal point (3.9%), not a comma")
        if after := _RE_PERCENT_AFTER.match(t, m.end()):   # 3,900%: 3900 % grouped, or 3.9 % with a decimal comma?
            number = m.group(0) + after.group(0).removesuffix("%")
            raise RateParseError(f"{number}% in {t!r} cannot be read one way: the tariff never groups the digits of a "
                                 "percentage, so its comma may be a decimal comma; write "
                                 f"{number.replace(',', '')}% or use a decimal point")


@lru_cache(maxsize=8192)
def parse_rate(text: str) -> Rate:
    """Parse one rate cell or user-given rate. Empty text is an error: callers skip empty cells."""
    t = normalize(_english(normalize(text)))
    if not t:
        raise RateParseError("empty rate")
    _check_commas(t)
    tokens = t.split(" ")
    marks = [tok for tok in tokens if _RE_FOOTNOTE.fullmatch(tok)]
    body = [tok for tok in tokens if not _RE_FOOTNOTE.fullmatch(tok)]
    if not body:
        return Manual(t, "the rate is given only in a footnote of the schedule")
    if len(body) == 1:
        rate = _token_rate(body[0])
        for mark in marks:
            rate = _with_mark(rate, mark)
        return rate
    return _branches(tokens)


def rate_units(rate: Rate) -> set[Unit]:
    """Units of the specific parts of ``rate`` (for reporting what quantity a line needs)."""
    found: set[Unit] = set()
    stack: list[object] = [rate]
    while stack:
        node = stack.pop()
        if isinstance(node, Specific | GatePrice):
            found.add(node.unit)
        for attr in ("parts", "options"):
            stack.extend(getattr(node, attr, ()) or ())
        for attr in ("inner", "cap", "floor"):
            if (child := getattr(node, attr, None)) is not None:
                stack.append(child)
        stack.extend(br.rate for br in getattr(node, "branches", ()))
    return found
