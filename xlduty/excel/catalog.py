"""The worksheet functions as Excel shows them: one table that everything Excel-facing is made from.

Each entry names a function, the pure callable that computes it (``xlduty.excel.functions`` /
``quote_functions``), its description and one help text per argument, in Japanese with the English
beside it, and for an argument that takes a closed set of words, those words. From this table come the
xlwings decorators (``xlduty.excel.udfs``), the VBA wrappers and the ``Application.MacroOptions``
registration in the shipped workbooks (``xlduty.excel.build``), and the xlwings Lite module
(``xlduty.excel.lite``), where the words become a dropdown. No xlwings here, so any adapter can import it.

Excel's limits are checked when the table is built (``check``): a description and each argument's
help at most 255 characters (what ``MacroOptions`` keeps), argument names that VBA accepts as
parameters, and optional arguments only at the end (a VBA ``Optional`` may not precede a required one).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xlduty.excel import functions as f
from xlduty.excel import quote_functions as qf

CATEGORY = "xlduty"   # the Insert Function (fx) category
HELP_LIMIT = 255      # characters Excel keeps of a description or an argument's help

# Names a VBA parameter cannot take (MS-VBAL 3.3.5 reserved identifiers, and the type and statement names the
# VBA editor refuses as parameters): a wrapper with one would stop the whole module from compiling.
_RESERVED_WORDS = """
    and as attribute boolean byref byte byval call case cbool cbyte ccur cdate cdbl cdec cint clng clnglng clngptr
    close const csng cstr currency cvar cverr date debug declare defbool dim do double each else elseif empty end
    enum eqv erase error event exit false for friend function get global gosub goto if imp implements in input
    integer is let like lock long longlong longptr loop lset me mid mod new next not nothing null object on open
    option optional or paramarray preserve print private public put raiseevent redim rem resume return rset seek
    select set single static step stop string sub then to true type typeof unlock until variant wend while with
    withevents write xor decimal len lenb name width line array
"""
VBA_RESERVED = frozenset(_RESERVED_WORDS.split())
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")

# Where the Excel argument name may differ from the callable's parameter: VBA reserves Date and Currency.
RENAMED = {"on_date": "date", "currency_code": "currency"}

INFO_KEYS = ("edition", "fx_week", "fx_weeks", "version", "python", "xlwings")   # XLDUTY_INFO's what


@dataclass(frozen=True)
class Arg:
    """One argument as Excel sees it."""

    name: str
    help: str
    optional: bool = True
    range: bool = False   # a block of cells, always read as rows (xlwings ndim=2)
    choices: tuple[str, ...] = ()   # a closed set of words: xlwings Lite offers them as a dropdown (typing.Literal)


@dataclass(frozen=True)
class Function:
    """One worksheet function: its name in Excel, the callable behind it, and its help."""

    name: str
    call: Callable[..., Any]
    description: str
    args: tuple[Arg, ...]

    def signature(self) -> inspect.Signature:
        """The Python signature Excel's wrapper mirrors: optional arguments default to None."""
        return inspect.Signature([
            inspect.Parameter(a.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=None if a.optional else inspect.Parameter.empty) for a in self.args])


# --- argument help shared by several functions -----------------------------------------------------

HS = Arg("hs_code", "品目番号: 6109.10-020、610910020、または6109.10 / HS code: 9-digit statistical code "
                    "(6 digits when all its lines share one rate)", optional=False)
VALUE = Arg("value", "課税価格 CIF（円。options の currency= で外貨） / customs value CIF in yen "
                     "(or in the currency given as currency= in options)", optional=False)
ORIGIN = Arg("origin", "原産国 ISO 2文字、例 CN（空欄: 特恵なし） / origin country ISO code, e.g. CN "
                       "(blank: no preference claimed)")
QUANTITY = Arg("quantity", "数量: 従量税の計算用（単位は options の unit=、例 unit=kg） / quantity for specific "
                           "duties (unit as unit= in options, e.g. unit=kg)")
ON_DATE = Arg("on_date", "申告日（空欄: 今日） / declaration date (blank: today)")
OPTIONS = Arg("options", "オプション、; 区切り、例 \"personal; claim=epa_eu; simplified=never\" / options text, "
                         "items separated by ;")
LINE_ARGS = (HS, VALUE, ORIGIN, QUANTITY, ON_DATE, OPTIONS)

_COLUMNS = (
    Arg("hs_codes", "品目番号の列（1件の申告の明細） / column of HS codes: the lines of ONE declaration",
        optional=False, range=True),
    Arg("values", "課税価格の列（円） / column of customs values CIF in yen", optional=False, range=True),
    Arg("origins", "原産国の列、または全行に1つ / column of origins, or one origin for every line", range=True),
    Arg("quantities", "数量の列（従量税用） / column of quantities for specific duties", range=True),
    ON_DATE,
    OPTIONS,
)

QUOTE_ARGS = (
    Arg("lines", "明細 7・9・11列: 品名, 品目番号, 原産国, 数量, 単価, 重量kg, 特恵 (+税関数量, その単位 "
                 "+単位, 軽減税率) / lines: description, HS code, origin, quantity, unit price, kg, claim (+customs "
                 "qty, its unit +unit, food)", optional=False, range=True),
    Arg("charges", "運賃等 6列: 種類, 摘要, 金額, 通貨, 按分基準, 負担者 / charges: kind, label, amount, currency, "
                   "allocate by, paid by", range=True),
    Arg("costs", "国内諸掛 7列: 種類, 摘要, 金額(円), 消費税区分, 税込, 輸入時払い, 按分基準 / domestic costs: kind, "
                 "label, yen, CT class, tax included, paid at import, allocate by", range=True),
    ON_DATE,
    Arg("incoterm", "貿易条件 EXW FCA FOB CFR CIF DAP DDP など / Incoterm, e.g. FOB"),
    Arg("invoice_currency", "仕入通貨 ISO コード（空欄: JPY） / invoice currency ISO code (blank: JPY)"),
    Arg("fx", "為替レート 1単位あたり円（空欄: 税関長公示レート） / yen per unit (blank: the customs weekly rate)"),
    Arg("margin", "利益率、小数で（30% = 0.3。空欄: 価格なし） / margin as a fraction (30 % = 0.3; blank: no price)"),
    Arg("margin_on", "price（粗利率）または cost（値入率） / margin on price or on cost", choices=("price", "cost")),
    Arg("options", "オプション、例 \"personal; rounding=10; claim=yes\" / options text, items separated by ;"),
)


def _line_function(name: str, call: Callable[..., Any], description: str, *, value_optional: bool = False) -> Function:
    args = LINE_ARGS if not value_optional else (HS, Arg(VALUE.name, VALUE.help), *LINE_ARGS[2:])
    return Function(name, call, description, args)


FUNCTIONS: tuple[Function, ...] = (
    _line_function("DUTY", f.DUTY, "関税額（円）: 1行の申告で納付する関税、法定の端数処理済み / Duty payable in yen "
                                   "for a one-line declaration, every legal rounding applied"),
    _line_function("CONSUMPTION_TAX", f.CONSUMPTION_TAX, "輸入消費税額（国税＋地方消費税、円）: 1行の申告 / Import "
                   "consumption tax payable in yen (national + local) for a one-line declaration"),
    _line_function("EXEMPTION", f.EXEMPTION, "適用される減免税（条文から）、なければ空欄 / The relief that applies, "
                   "article first, e.g. 定率法14条18号 少額免税, or empty text"),
    _line_function("DUTY_RATE", f.DUTY_RATE, "適用税率とその種類、例 7.4% (WTO協定税率) / The rate applied and its "
                   "column, e.g. 7.4% (WTO協定税率)", value_optional=True),
    _line_function("DUTY_EXPLAIN", f.DUTY_EXPLAIN, "計算過程: 各段階の計算式と法的根拠（1段階1行でスピル） / Every "
                   "step with its formula and legal basis, spilled one step per row"),
    Function("CUSTOMS_FX", f.CUSTOMS_FX, "税関長公示レート: 日付の週（日曜〜土曜）の1単位あたり円 / Customs weekly "
             "exchange rate: yen per unit for the Sunday-Saturday week of the date", (
                 Arg("currency_code", "通貨 ISO コード、例 USD / currency ISO code, e.g. USD", optional=False),
                 ON_DATE)),
    Function("HS_NAME", f.HS_NAME, "品名: 実行関税率表の記述（lang=\"en\": 英語の HS 品名） / The tariff "
             "description of the line (lang=\"en\": the HS text in English)", (
                 HS, ON_DATE, Arg("lang", "ja（既定）または en / ja (default) or en", choices=("ja", "en")))),
    Function("XLDUTY_INFO", f.XLDUTY_INFO, "計算の根拠と環境: 実行関税率表の版、為替の週、xlduty・Python・xlwings の版"
             " / What figures are computed on: tariff edition, FX week, and the xlduty, Python and xlwings reached", (
                 Arg("what", "edition, fx_week, fx_weeks, version, python, xlwings（空欄: 全部の版） / one of these "
                             "(blank: xlduty, Python and xlwings versions)", choices=INFO_KEYS),
                 ON_DATE)),
    Function("DUTY_LINES", f.DUTY_LINES, "明細ごとの税額（スピル）: 列全体で1件の申告 / Per-line figures, one row per "
             "input row (spills); the columns form ONE declaration", (
                 *_COLUMNS, Arg("fields", "出力項目、カンマ区切り、例 duty,consumption_tax / fields to show, "
                                          "comma-separated, e.g. duty,consumption_tax"))),
    Function("DUTY_TOTALS", f.DUTY_TOTALS, "申告全体の納付税額: 明細の合計を税目ごとに100円未満切捨て / The "
             "declaration's payable totals: lines summed, each tax truncated to 100 yen", (
                 *_COLUMNS, Arg("fields", "出力項目、例 total（空欄: 全部を1行で） / fields, e.g. total "
                                          "(blank: all, as one row)"))),
    Function("QUOTE_LINES", qf.QUOTE_LINES, "見積明細（スピル）: 明細ごとの仕入原価・原価単価・見積価格 / A quote per "
             "line (spills): landed cost, cost per unit and price", (
                 *QUOTE_ARGS, Arg("fields", "出力項目、カンマ区切り、例 landed_cost,unit_cost,price / fields, "
                                            "comma-separated, e.g. landed_cost,unit_cost,price"))),
    Function("QUOTE_TOTALS", qf.QUOTE_TOTALS, "見積の合計の1項目、例 landed_cost, taxes_total / One figure of the "
             "quote, e.g. landed_cost, taxes_total, cash_at_import", (
                 *QUOTE_ARGS, Arg("field", "出力項目、例 taxes_total / the figure, e.g. taxes_total",
                                  choices=qf.QUOTE_TOTAL_FIELDS))),
    Function("QUOTE_REVERSE", qf.QUOTE_REVERSE, "逆算: 目標の原価または見積価格に収まる最高の仕入単価 / Reverse: the "
             "highest supplier unit price meeting a target landed cost or quote price", (
                 *QUOTE_ARGS,
                 Arg("line_no", "行: lines の何行目か（1 = 先頭） / row number in the lines range (1 = first)"),
                 Arg("target", "目標（円） / target in yen"),
                 Arg("target_kind", "unit_cost, unit_cost_cash または price / unit_cost, unit_cost_cash or "
                                    "price", choices=qf.REVERSE_TARGETS))),
    Function("QUOTE_TREATMENTS", qf.QUOTE_TREATMENTS, "取扱いの比較（スピル）: 一般・簡易・特恵・個人使用ごとの"
             "納付税額と原価 / Treatments compared (spills): taxes at import and landed cost of each", QUOTE_ARGS),
    Function("QUOTE_CUSTOMER", qf.QUOTE_CUSTOMER, "見積書（顧客向け）: 明細・小計・税率ごとの消費税・合計・備考。"
             "原価・関税・利益は出さない / The customer's 見積書: lines, subtotal, tax per rate, total, remarks; "
             "never costs, duty or margin", (
                 *QUOTE_ARGS,
                 Arg("document", "見積書の記載 14セル（1列）: 宛先, 敬称, 見積番号, 発行日, 有効期限, 件名, 受渡条件, "
                                 "支払条件, 備考, 発行者名, 住所, 連絡先, 区分, 登録番号 / the 見積書's own fields, "
                                 "one cell each", range=True),
                 Arg("part", "table（既定）, lines, issuer, remarks, addressee, quote_no, issued, valid_until, "
                             "subject, registration_number, subtotal, tax, total, fx / what to show",
                     choices=qf.CUSTOMER_PARTS))),
    Function("REGISTRATION_NUMBER", qf.REGISTRATION_NUMBER, "適格請求書発行事業者の登録番号（T+13桁）を検証して返す。"
             "法人は法人番号の検査用数字も確認 / A qualified-invoice registration number, checked (a corporation's "
             "check digit too) and written as T + 13 digits", (
                 Arg("number", "登録番号、例 T1234567890123（全角・ハイフン可） / the number, e.g. T1234567890123",
                     optional=False),
                 Arg("kind", "法人 corporation（既定）または 個人 individual（個人事業者: 検査用数字なし） / "
                             "corporation (default) or individual", choices=("corporation", "individual")))),
)

BY_NAME: dict[str, Function] = {fn.name: fn for fn in FUNCTIONS}


def check(functions: tuple[Function, ...] = FUNCTIONS) -> None:
    """Raise ValueError for an entry Excel or VBA would not take, or whose callable does not fit its arguments."""
    seen: set[str] = set()
    for fn in functions:
        if not _IDENTIFIER.fullmatch(fn.name) or fn.name.upper() in seen:
            raise ValueError(f"{fn.name}: not a VBA identifier, or listed twice")
        seen.add(fn.name.upper())
        if not fn.description or len(fn.description) > HELP_LIMIT:
            raise ValueError(f"{fn.name}: description of {len(fn.description)} characters (1 to {HELP_LIMIT})")
        optional = False
        for arg in fn.args:
            if not _IDENTIFIER.fullmatch(arg.name) or arg.name.lower() in VBA_RESERVED:
                raise ValueError(f"{fn.name}({arg.name}): not usable as a VBA parameter name")
            if not arg.help or len(arg.help) > HELP_LIMIT:
                raise ValueError(f"{fn.name}({arg.name}): help of {len(arg.help)} characters (1 to {HELP_LIMIT})")
            if optional and not arg.optional:
                raise ValueError(f"{fn.name}({arg.name}): a required argument after an optional one")
            if arg.choices and (arg.range or len(set(arg.choices)) != len(arg.choices)
                                or not all(isinstance(c, str) and c for c in arg.choices)):
                raise ValueError(f"{fn.name}({arg.name}): choices must be distinct words, for a single cell")
            optional = optional or arg.optional
        params = [p for p in inspect.signature(fn.call).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(params) != len(fn.args) or any(p.name not in (a.name, RENAMED.get(a.name))
                                              for p, a in zip(params, fn.args, strict=False)):
            raise ValueError(f"{fn.name}: the callable takes ({', '.join(p.name for p in params)}), "
                             f"the table gives ({', '.join(a.name for a in fn.args)})")


check()
