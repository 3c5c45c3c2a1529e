"""Short Japanese cell messages for errors, naming the field at fault (never a traceback).

A cell shows ``#エラー 品目番号(hs_code): 税番の形式が違います（例 6109.10-020）``. The core raises
English ``InputError``s with the field path; this module puts the field in Japanese and translates
the reasons users meet most. Anything else keeps the core's English reason after the Japanese field,
so the message is never lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from xlduty.core.errors import DataError, InputError
from xlduty.core.result import UNVERIFIED

PREFIX = "#エラー"

FIELDS_JA = {
    "hs_code": "品目番号", "value": "課税価格", "origin": "原産国", "quantity": "数量", "date": "申告日",
    "options": "オプション", "currency": "通貨", "rate": "税率", "claim_preference": "特恵・EPA",
    "reduced_ct": "軽減税率", "liquor": "酒類", "category": "酒類の区分", "litres": "数量(L)", "abv": "アルコール分",
    "unit": "単位", "fx_rates": "為替レート", "freight": "運賃", "insurance": "保険料", "additions": "加算額",
    "excise": "内国消費税", "relief": "減免税", "export_value": "輸出時の価格", "japanese_value": "本邦製原材料の価格",
    "simplified": "簡易税率", "personal_use": "個人使用", "condition": "条件", "in_quota": "関税割当",
    "currency_code": "通貨", "field": "出力項目", "lines": "明細", "what": "項目", "on_date": "申告日",
    "unit_price": "単価", "weight_kg": "重量(kg)", "kind": "種類", "amount": "金額", "allocate_by": "按分基準",
    "paid_by": "負担者", "ct": "消費税区分", "tax_included": "税込", "at_import": "輸入時払い", "incoterm": "貿易条件",
    "fx": "為替レート", "margin": "利益率", "margin_on": "利益の基準", "target": "目標", "target_kind": "目標の種類",
    "line_no": "行", "charges": "運賃等", "costs": "国内諸掛", "domestic_costs": "国内諸掛", "description": "品名",
    "customs_quantity": "税関数量", "customs_unit": "税関数量の単位", "percent": "利益率",
    "label": "摘要", "tariff_edition": "実行関税率表の版", "edition": "実行関税率表の版",
    "fx_factor": "為替の倍率", "price_rounding": "端数単位", "ct_recoverable": "仕入税額控除",
    "lang": "言語", "part": "表示部分", "claim": "特恵・EPA", "reduced": "軽減税率", "personal": "個人使用",
    "quota": "関税割当",
}

def _widths_ja(m: re.Match[str]) -> str:
    """A range accepted at several widths ("give 7, 9 or 11 columns (the first … of: …), not 5")."""
    return f"範囲は {'・'.join(re.findall(r'[0-9]+', m[1]))} 列（左から {m[2]}）で指定してください: {m[3]} 列あります"


_REASONS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [(re.compile(p), ja) for p, ja in [
    (r"is not an HS code", "税番の形式が違います（例 6109.10-020, 610910020, 6109.10）"),
    (r"^(\S+) is not a line of the (\S+) tariff(.*)", r"\1 は \2 版の実行関税率表にありません\3"),
    (r"^(\S+) is not a subheading of the (\S+) tariff", r"\1 は \2 版の実行関税率表にありません"),
    (r"^(\S+) has (\d+) lines with different rates: give the 9-digit code: (.*)",
     r"\1 には税率の異なる細分が \2 あります。9桁で指定してください: \3"),
    (r"no bundled tariff edition is in force on (\S+)",
     r"\1 に有効な実行関税率表が同梱されていません。rate= で税率を指定してください"),
    (r"no customs exchange rate for (\w+) in the week ([^:]+): type the rate in the FX cell",
     r"\2 の週の \1 の税関公示レートがありません。為替(fx)のセルにレートを入力するか、レートを更新してください"),
    (r"no customs exchange rate for (\w+) in the week ([^:]+): refresh the rates, or type",
     r"\2 の週の \1 の税関公示レートは収録されていません。レートを更新するか（リボンの Refresh rates）、"
     r"その週の税関公示レートをこの式の代わりに入力してください"),
    (r"no customs exchange rate for (\w+) in the week ([^:]+):",
     r"\2 の週の \1 の税関公示レートがありません。options に fx=\1:<円> を指定するかレートを更新してください"),
    (r"^required$", "必須です"),
    (r"^a number is required", "数値を入力してください"),
    (r"greater than or equal to 0", "0 以上の数値を入力してください"),
    (r"greater than 0", "0 より大きい数値を入力してください"),
    (r"finite", "数値を入力してください"),
    (r"3-letter ISO 4217", "通貨は ISO 4217 の3文字で指定してください（例 USD）"),
    (r"no consumption-tax rate is bundled for (\S+): the bundled rates start (\S+)",
     r"\1 の消費税率は収録されていません（\2 以降の日付を指定してください）"),
    (r"2-letter ISO 3166", "原産国は ISO 3166 の2文字で指定してください（例 CN）"),
    (r"^(\w+) is not an ISO 3166-1 country code: use (\w\w) ",
     r"\1 は ISO 3166-1 の国コードではありません。\2 を指定してください"),
    (r"^(\w+) is not an ISO 3166-1 country code: use the member state",
     r"\1 は国ではありません。原産国の加盟国（例 DE）を指定してください"),
    (r"^(\w+) is not an ISO 3166-1 country code", r"\1 は ISO 3166-1 の国コードではありません（例 CN, GB）"),
    (r"cannot be applied automatically", "この税率は自動計算できません。options の rate= で適用税率を指定してください"),
    (r"is per (\S+): give the quantity in (\S+)", r"従量税（\1あたり）のため数量が必要です（quantity、単位 \2）"),
    (r"needs a positive quantity", "従量税のため 0 より大きい数量が必要です"),
    (r"a quantity in (\S+) cannot be converted to (\S+)", r"数量の単位 \1 は税率の単位 \2 に換算できません"),
    (r"^unknown unit", "単位が不明です（kg, g, t, l, ml, kl, m2, pcs, pair, head）"),
    (r"this rate differs by country of origin", "原産国により税率が異なります。原産国を指定してください"),
    (r"no reduced consumption-tax rate on this date", "この日付には軽減税率がありません（2019-10-01 から）"),
    (r"the argument cell holds an error \((.*)\)", r"参照しているセルがエラーです（\1）"),
    (r"the number is out of range", "数値が大きすぎます"),
    (r"^give one column, not (\d+)", r"範囲は1列で指定してください（\1 列あります）"),
    (r"^the range has (\d+) rows; the HS codes have (\d+)", r"範囲の行数（\1）が品目番号の範囲（\2）と違います"),
    (r"^unknown preference column '?([\w]+)'?", r"特恵・EPA の区分 \1 がありません（claim=epa_eu など）"),
    (r"^(\w\w) is not covered by (\w+)", r"\1 は \2 の対象国ではありません"),
    (r"a preference is claimed: give the country of origin", "特恵・EPA を適用するには原産国が必要です"),
    (r"^unknown option", "不明なオプションです"),
    (r"the simplified tariff cannot be used: total customs value (\S+) exceeds (\S+) yen",
     r"課税価格の合計 \1 円が \2 円を超えるため簡易税率は使えません"),
    (r"the simplified tariff cannot be used: (.*)", r"簡易税率は使えません: \1"),
    (r"^use yes or no", "yes か no で指定してください"),
    (r"give hs_code or rate", "品目番号か税率（options の rate=）が必要です"),
    (r"depends on its use",
     "飲食料品（軽減税率）かどうかは用途によります。options に reduced=yes か no を指定してください"),
    (r"^is not a date|^use YYYY-MM-DD", "日付を入力してください（例 2026-11-20）"),
    (r"^unknown (?:domestic cost|charge) kind '([^']*)' \(use one of (.*)\)",
     r"種類 \1 はありません（\2 または日本語名 通関料・運賃 など）"),
    (r"^give the line's weight \(above 0 kg\)", "重量(kg)を入力してください（重量で按分する運賃等・諸掛があります）"),
    (r"^give ([\d, or]+) columns \(the first [\d, or]+ of: (.*)\), not (\d+)", _widths_ja),
    (r"^give (\d+) columns \((.*)\), not (\d+)", r"範囲は \1 列で指定してください（\2）: \3 列あります"),
    (r"^no lines: give HS codes, quantities and unit prices", "明細がありません（品目番号・数量・単価を入力）"),
    (r"^unknown incoterm '([^']*)' \(use one of (.*)\)", r"貿易条件 \1 はありません（\2）"),
    (r"^not reachable: at a unit price of (\S+) (\w+) (?:line \d+|明細 \d+行目) already costs (\S+) yen per unit",
     r"目標に届きません: 単価 \1 \2 でも原価が1個あたり \3 円です"),
    (r"edition '(\S+)' is not available \(available: (.*)\)", r"\1 版はありません（使える版: \2）"),
    (r"^Input should be ('.*)", r"次のいずれかを指定してください: \1"),
    (r"greater than or equal to (\S+)", r"\1 以上の数値を入力してください"),
]]


# A row of a range: DUTY_LINES' rows, or a table of the quote functions (named as the quote sheet does).
_TABLES = {"rows": "", "lines": "明細 ", "charges": "運賃等 ", "costs": "国内諸掛 "}


def field_ja(path: str) -> str:
    """``lines[0].liquor.abv`` → ``アルコール分(abv)``; the last named part is the one at fault."""
    parts = [p for p in re.split(r"[.\[\]]", path) if p and not p.isdigit()]
    if not parts:
        return ""
    last = parts[-1]
    return f"{FIELDS_JA.get(last, last)}({last})" if last in FIELDS_JA else last


def reason_ja(message: str) -> str:
    for pattern, ja in _REASONS:
        m = pattern.search(message)
        if m:
            return ja(m) if callable(ja) else m.expand(ja) if "\\" in ja else ja
    return message


def cell_error(exc: Exception, field: str | None = None) -> str:
    """The text a cell shows for ``exc``: at most 255 characters (a longer text in xlwings' result array shows
    #VALUE! in Excel), cut in the reason so that the row it names is kept."""
    text, suffix = _cell_error(exc, field)
    return text[:255 - len(suffix)] + suffix


def _cell_error(exc: Exception, field: str | None) -> tuple[str, str]:
    if isinstance(exc, InputError):
        path = field or exc.field
        row = re.match(r"(rows|lines|charges|costs)\[(\d+)\]\.?", path)
        suffix = f"（{_TABLES[row.group(1)]}{int(row.group(2)) + 1}行目）" if row else ""
        where = field_ja(path[row.end():] if row else path)
        text = f"{where}: {reason_ja(exc.message)}" if where else reason_ja(exc.message)
        return f"{PREFIX} {text}", suffix
    if isinstance(exc, DataError):
        return f"{PREFIX} データ: {exc}", ""
    return f"{PREFIX} 計算できません: {type(exc).__name__}: {exc}", ""


_LINE_NUMBERS = re.compile(r"\blines? ([0-9]+(?:, [0-9]+)*)\b")   # the engine's "line 2: …", "(line 0, 2)"


def lines_as_rows(text: str, row: Callable[[int], str | None]) -> str:
    """The engine's line numbers in ``text`` (0-based among the lines given: ``line 1``, ``(line 0, 2)``) as the
    sheet's rows, each as ``row`` names it; a group with a number ``row`` does not know (None) is left as written."""
    def named(m: re.Match[str]) -> str:
        rows = [row(int(k)) for k in m.group(1).split(", ")]
        return m.group(0) if None in rows else ", ".join(rows)  # type: ignore[arg-type]

    return _LINE_NUMBERS.sub(named, text)


def warnings_text(warnings: list[str], rows: Callable[[str], str]) -> str:
    """A declaration's or a quote's warnings in one cell (a figure's cell cannot carry them), at most 255 characters
    as ``cell_error``: those that say a figure may be wrong first, the lists of unverified rule data (long, the same
    on many sheets) last, and a cut text ends in "…" so that nobody takes it for the whole. ``rows`` names the lines
    as the sheet counts them."""
    if not warnings:
        return ""
    ordered = sorted(warnings, key=lambda w: UNVERIFIED in w)   # stable: each group keeps its order
    text = rows(" / ".join(ordered))
    return text if len(text) <= 255 else text[:254] + "…"


# --- what the add-in's ribbon says itself ------------------------------------------------------------
# Shown by the VBA in workbook/src/XlDutyRibbon.bas before (or instead of) starting Python, so they live in
# the add-in itself (the build writes them into its VBA, XlDutyFunctions.RibbonText). Japanese first, English
# below; placeholders {conf} (the user config file the add-in reads), {path} (the interpreter set there),
# {console} (python.exe beside it), {dll} (xlwings' DLL).
_CONFIGURE = "%LOCALAPPDATA%\\xlduty\\venv\\Scripts\\xlduty addin config"
RIBBON_MESSAGES: dict[str, str] = {
    "not_configured": (
        "xlduty: 使う Python が設定されていません。xlduty をインストールした環境で次のコマンドを1回実行してから、"
        f"Excel を再起動してください（README「Install」の手順）:\r\n    {_CONFIGURE}\r\n設定ファイル: {{conf}}\r\n\r\n"
        "xlduty: no Python is configured. Run this once in the environment where xlduty is installed, then "
        f"restart Excel (README, Install):\r\n    {_CONFIGURE}\r\nConfig file: {{conf}}"),
    "interpreter_missing": (
        "xlduty: 設定された Python が見つかりません:\r\n    {path}\r\n環境を移動・削除した場合は、xlduty を"
        f"インストールした環境で次を実行し直してください:\r\n    {_CONFIGURE}\r\n設定ファイル: {{conf}}\r\n\r\n"
        "xlduty: the Python set for xlduty was not found (see above). If the environment moved or was removed, run "
        f"this again in the environment where xlduty is installed:\r\n    {_CONFIGURE}"),
    "dll_missing": (
        "xlduty: {path} の環境に xlwings の {dll} がありません（xlduty と同じ版の xlwings が必要です）。"
        "その環境に xlduty をインストールし直してから、次を実行してください:\r\n"
        f"    {_CONFIGURE}\r\n\r\n"
        "xlduty: {dll} is not in the environment of {path}: xlduty needs the xlwings version it was built with. "
        "Install xlduty into that environment again (README, Install), then run the command above."),
    "python_failed": (
        "xlduty: Python を起動できないか、xlduty を読み込めませんでした。コマンドプロンプトで次を実行して"
        "エラーを確認してください:\r\n    \"{console}\" -c \"import xlduty.excel.udfs\"\r\n\r\n"
        "xlduty: Python could not be started or could not import xlduty. Run the command above in a command "
        "prompt to see why. Excel said:"),
    "no_workbook": (
        "xlduty: ブックを開いてからもう一度押してください。\r\n\r\nxlduty: open a workbook first, then press the "
        "button again."),
    "not_a_quote": (
        "xlduty: このブックは xlduty の見積書ではありません（Quote と Lines のシートが必要です）。\r\n\r\n"
        "xlduty: this workbook is not an xlduty quote (sheets Quote and Lines)."),
    "no_customer_sheet": (
        "xlduty: このブックには 見積書 シートがありません。新しい見積はリボンの「新規見積」から作ってください。\r\n\r\n"
        "xlduty: this workbook has no 見積書 sheet: start a new quote from the ribbon (New quote)."),
    "export_failed": (
        "xlduty: PDF を保存できませんでした:\r\n    {path}\r\n同じ名前の PDF をビューアで開いている場合は閉じてから、"
        "もう一度押してください。\r\n\r\n"
        "xlduty: the PDF could not be written (see above). If it is open in a PDF viewer, close it and press the "
        "button again. Excel said:"),
    "save_first": (
        "xlduty: 見積書を先に保存してください。PDF はその隣に保存されます。\r\n\r\n"
        "xlduty: save the quote first: the PDF is written beside it."),
}
