"""xlduty's worksheet functions for xlwings Lite: =DUTY(), =CONSUMPTION_TAX() … in Excel on Mac, the web and
Windows, with Python in the browser. The same functions, arguments, help and cell errors as the Windows
add-in: both are made from xlduty/excel/catalog.py.

Written by `python workbook/build.py` (xlduty.excel.lite): rebuild it rather than edit it. requirements.txt
installs xlduty itself."""

from typing import Literal

from xlwings import arg, func

from xlduty.excel.catalog import BY_NAME as _XLDUTY


@func
@arg("hs_code", doc=("品目番号: 6109.10-020、610910020、または6109.10 / HS code: 9-digit statistical code (6 "
                     "digits when all its lines share one rate)"), err_to_str=True)
@arg("value", doc=("課税価格 CIF（円。options の currency= で外貨） / customs value CIF in yen (or in the currency "
                   "given as currency= in options)"), err_to_str=True)
@arg("origin", doc=("原産国 ISO 2文字、例 CN（空欄: 特恵なし） / origin country ISO code, e.g. CN (blank: no "
                    "preference claimed)"), err_to_str=True)
@arg("quantity", doc=("数量: 従量税の計算用（単位は options の unit=、例 unit=kg） / quantity for specific duties "
                      "(unit as unit= in options, e.g. unit=kg)"), err_to_str=True)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("options", doc=("オプション、; 区切り、例 \"personal; claim=epa_eu; simplified=never\" / options text, items "
                     "separated by ;"), err_to_str=True)
def DUTY(hs_code, value, origin=None, quantity=None, on_date=None, options=None):
    ("関税額（円）: 1行の申告で納付する関税、法定の端数処理済み / Duty payable in yen for a one-line declaration, "
     "every legal rounding applied")
    return _XLDUTY["DUTY"].call(hs_code, value, origin, quantity, on_date, options)


@func
@arg("hs_code", doc=("品目番号: 6109.10-020、610910020、または6109.10 / HS code: 9-digit statistical code (6 "
                     "digits when all its lines share one rate)"), err_to_str=True)
@arg("value", doc=("課税価格 CIF（円。options の currency= で外貨） / customs value CIF in yen (or in the currency "
                   "given as currency= in options)"), err_to_str=True)
@arg("origin", doc=("原産国 ISO 2文字、例 CN（空欄: 特恵なし） / origin country ISO code, e.g. CN (blank: no "
                    "preference claimed)"), err_to_str=True)
@arg("quantity", doc=("数量: 従量税の計算用（単位は options の unit=、例 unit=kg） / quantity for specific duties "
                      "(unit as unit= in options, e.g. unit=kg)"), err_to_str=True)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("options", doc=("オプション、; 区切り、例 \"personal; claim=epa_eu; simplified=never\" / options text, items "
                     "separated by ;"), err_to_str=True)
def CONSUMPTION_TAX(hs_code, value, origin=None, quantity=None, on_date=None, options=None):
    ("輸入消費税額（国税＋地方消費税、円）: 1行の申告 / Import consumption tax payable in yen (national + local) "
     "for a one-line declaration")
    return _XLDUTY["CONSUMPTION_TAX"].call(hs_code, value, origin, quantity, on_date, options)


@func
@arg("hs_code", doc=("品目番号: 6109.10-020、610910020、または6109.10 / HS code: 9-digit statistical code (6 "
                     "digits when all its lines share one rate)"), err_to_str=True)
@arg("value", doc=("課税価格 CIF（円。options の currency= で外貨） / customs value CIF in yen (or in the currency "
                   "given as currency= in options)"), err_to_str=True)
@arg("origin", doc=("原産国 ISO 2文字、例 CN（空欄: 特恵なし） / origin country ISO code, e.g. CN (blank: no "
                    "preference claimed)"), err_to_str=True)
@arg("quantity", doc=("数量: 従量税の計算用（単位は options の unit=、例 unit=kg） / quantity for specific duties "
                      "(unit as unit= in options, e.g. unit=kg)"), err_to_str=True)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("options", doc=("オプション、; 区切り、例 \"personal; claim=epa_eu; simplified=never\" / options text, items "
                     "separated by ;"), err_to_str=True)
def EXEMPTION(hs_code, value, origin=None, quantity=None, on_date=None, options=None):
    ("適用される減免税（条文から）、なければ空欄 / The relief that applies, article first, e.g. 定率法14条18号 "
     "少額免税, or empty text")
    return _XLDUTY["EXEMPTION"].call(hs_code, value, origin, quantity, on_date, options)


@func
@arg("hs_code", doc=("品目番号: 6109.10-020、610910020、または6109.10 / HS code: 9-digit statistical code (6 "
                     "digits when all its lines share one rate)"), err_to_str=True)
@arg("value", doc=("課税価格 CIF（円。options の currency= で外貨） / customs value CIF in yen (or in the currency "
                   "given as currency= in options)"), err_to_str=True)
@arg("origin", doc=("原産国 ISO 2文字、例 CN（空欄: 特恵なし） / origin country ISO code, e.g. CN (blank: no "
                    "preference claimed)"), err_to_str=True)
@arg("quantity", doc=("数量: 従量税の計算用（単位は options の unit=、例 unit=kg） / quantity for specific duties "
                      "(unit as unit= in options, e.g. unit=kg)"), err_to_str=True)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("options", doc=("オプション、; 区切り、例 \"personal; claim=epa_eu; simplified=never\" / options text, items "
                     "separated by ;"), err_to_str=True)
def DUTY_RATE(hs_code, value=None, origin=None, quantity=None, on_date=None, options=None):
    "適用税率とその種類、例 7.4% (WTO協定税率) / The rate applied and its column, e.g. 7.4% (WTO協定税率)"
    return _XLDUTY["DUTY_RATE"].call(hs_code, value, origin, quantity, on_date, options)


@func
@arg("hs_code", doc=("品目番号: 6109.10-020、610910020、または6109.10 / HS code: 9-digit statistical code (6 "
                     "digits when all its lines share one rate)"), err_to_str=True)
@arg("value", doc=("課税価格 CIF（円。options の currency= で外貨） / customs value CIF in yen (or in the currency "
                   "given as currency= in options)"), err_to_str=True)
@arg("origin", doc=("原産国 ISO 2文字、例 CN（空欄: 特恵なし） / origin country ISO code, e.g. CN (blank: no "
                    "preference claimed)"), err_to_str=True)
@arg("quantity", doc=("数量: 従量税の計算用（単位は options の unit=、例 unit=kg） / quantity for specific duties "
                      "(unit as unit= in options, e.g. unit=kg)"), err_to_str=True)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("options", doc=("オプション、; 区切り、例 \"personal; claim=epa_eu; simplified=never\" / options text, items "
                     "separated by ;"), err_to_str=True)
def DUTY_EXPLAIN(hs_code, value, origin=None, quantity=None, on_date=None, options=None):
    ("計算過程: 各段階の計算式と法的根拠（1段階1行でスピル） / Every step with its formula and legal basis, "
     "spilled one step per row")
    return _XLDUTY["DUTY_EXPLAIN"].call(hs_code, value, origin, quantity, on_date, options)


@func
@arg("currency_code", doc="通貨 ISO コード、例 USD / currency ISO code, e.g. USD", err_to_str=True)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
def CUSTOMS_FX(currency_code, on_date=None):
    ("税関長公示レート: 日付の週（日曜〜土曜）の1単位あたり円 / Customs weekly exchange rate: yen per unit for the "
     "Sunday-Saturday week of the date")
    return _XLDUTY["CUSTOMS_FX"].call(currency_code, on_date)


@func
@arg("hs_code", doc=("品目番号: 6109.10-020、610910020、または6109.10 / HS code: 9-digit statistical code (6 "
                     "digits when all its lines share one rate)"), err_to_str=True)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("lang", doc="ja（既定）または en / ja (default) or en", err_to_str=True)
def HS_NAME(hs_code, on_date=None, lang: Literal["ja", "en"] = None):
    ("品名: 実行関税率表の記述（lang=\"en\": 英語の HS 品名） / The tariff description of the line (lang=\"en\": "
     "the HS text in English)")
    return _XLDUTY["HS_NAME"].call(hs_code, on_date, lang)


@func
@arg("what", doc=("edition, fx_week, fx_weeks, version, python, xlwings（空欄: 全部の版） / one of these (blank: "
                  "xlduty, Python and xlwings versions)"), err_to_str=True)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
def XLDUTY_INFO(what: Literal["edition", "fx_week", "fx_weeks", "version", "python", "xlwings"] = None, on_date=None):
    ("計算の根拠と環境: 実行関税率表の版、為替の週、xlduty・Python・xlwings の版 / What figures are computed on: "
     "tariff edition, FX week, and the xlduty, Python and xlwings reached")
    return _XLDUTY["XLDUTY_INFO"].call(what, on_date)


@func
@arg("hs_codes", doc="品目番号の列（1件の申告の明細） / column of HS codes: the lines of ONE declaration",
     err_to_str=True, ndim=2)
@arg("values", doc="課税価格の列（円） / column of customs values CIF in yen", err_to_str=True, ndim=2)
@arg("origins", doc="原産国の列、または全行に1つ / column of origins, or one origin for every line",
     err_to_str=True, ndim=2)
@arg("quantities", doc="数量の列（従量税用） / column of quantities for specific duties", err_to_str=True, ndim=2)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("options", doc=("オプション、; 区切り、例 \"personal; claim=epa_eu; simplified=never\" / options text, items "
                     "separated by ;"), err_to_str=True)
@arg("fields", doc=("出力項目、カンマ区切り、例 duty,consumption_tax / fields to show, comma-separated, e.g. "
                    "duty,consumption_tax"), err_to_str=True)
def DUTY_LINES(hs_codes, values, origins=None, quantities=None, on_date=None, options=None, fields=None):
    ("明細ごとの税額（スピル）: 列全体で1件の申告 / Per-line figures, one row per input row (spills); the columns "
     "form ONE declaration")
    return _XLDUTY["DUTY_LINES"].call(hs_codes, values, origins, quantities, on_date, options, fields)


@func
@arg("hs_codes", doc="品目番号の列（1件の申告の明細） / column of HS codes: the lines of ONE declaration",
     err_to_str=True, ndim=2)
@arg("values", doc="課税価格の列（円） / column of customs values CIF in yen", err_to_str=True, ndim=2)
@arg("origins", doc="原産国の列、または全行に1つ / column of origins, or one origin for every line",
     err_to_str=True, ndim=2)
@arg("quantities", doc="数量の列（従量税用） / column of quantities for specific duties", err_to_str=True, ndim=2)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("options", doc=("オプション、; 区切り、例 \"personal; claim=epa_eu; simplified=never\" / options text, items "
                     "separated by ;"), err_to_str=True)
@arg("fields", doc="出力項目、例 total（空欄: 全部を1行で） / fields, e.g. total (blank: all, as one row)",
     err_to_str=True)
def DUTY_TOTALS(hs_codes, values, origins=None, quantities=None, on_date=None, options=None, fields=None):
    ("申告全体の納付税額: 明細の合計を税目ごとに100円未満切捨て / The declaration's payable totals: lines summed, "
     "each tax truncated to 100 yen")
    return _XLDUTY["DUTY_TOTALS"].call(hs_codes, values, origins, quantities, on_date, options, fields)


@func
@arg("lines", doc=("明細 7・9・11列: 品名, 品目番号, 原産国, 数量, 単価, 重量kg, 特恵 (+税関数量, その単位 +単位, "
                   "軽減税率) / lines: description, HS code, origin, quantity, unit price, kg, claim (+customs "
                   "qty, its unit +unit, food)"), err_to_str=True, ndim=2)
@arg("charges", doc=("運賃等 6列: 種類, 摘要, 金額, 通貨, 按分基準, 負担者 / charges: kind, label, amount, "
                     "currency, allocate by, paid by"), err_to_str=True, ndim=2)
@arg("costs", doc=("国内諸掛 7列: 種類, 摘要, 金額(円), 消費税区分, 税込, 輸入時払い, 按分基準 / domestic costs: "
                   "kind, label, yen, CT class, tax included, paid at import, allocate by"), err_to_str=True, ndim=2)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("incoterm", doc="貿易条件 EXW FCA FOB CFR CIF DAP DDP など / Incoterm, e.g. FOB", err_to_str=True)
@arg("invoice_currency", doc="仕入通貨 ISO コード（空欄: JPY） / invoice currency ISO code (blank: JPY)",
     err_to_str=True)
@arg("fx", doc="為替レート 1単位あたり円（空欄: 税関長公示レート） / yen per unit (blank: the customs weekly rate)",
     err_to_str=True)
@arg("margin", doc=("利益率、小数で（30% = 0.3。空欄: 価格なし） / margin as a fraction (30 % = 0.3; blank: no "
                    "price)"), err_to_str=True)
@arg("margin_on", doc="price（粗利率）または cost（値入率） / margin on price or on cost", err_to_str=True)
@arg("options", doc="オプション、例 \"personal; rounding=10; claim=yes\" / options text, items separated by ;",
     err_to_str=True)
@arg("fields", doc=("出力項目、カンマ区切り、例 landed_cost,unit_cost,price / fields, comma-separated, e.g. "
                    "landed_cost,unit_cost,price"), err_to_str=True)
def QUOTE_LINES(
    lines,
    charges=None,
    costs=None,
    on_date=None,
    incoterm=None,
    invoice_currency=None,
    fx=None,
    margin=None,
    margin_on: Literal["price", "cost"] = None,
    options=None,
    fields=None,
):
    ("見積明細（スピル）: 明細ごとの仕入原価・原価単価・見積価格 / A quote per line (spills): landed cost, cost "
     "per unit and price")
    return _XLDUTY["QUOTE_LINES"].call(
        lines,
        charges,
        costs,
        on_date,
        incoterm,
        invoice_currency,
        fx,
        margin,
        margin_on,
        options,
        fields,
    )


@func
@arg("lines", doc=("明細 7・9・11列: 品名, 品目番号, 原産国, 数量, 単価, 重量kg, 特恵 (+税関数量, その単位 +単位, "
                   "軽減税率) / lines: description, HS code, origin, quantity, unit price, kg, claim (+customs "
                   "qty, its unit +unit, food)"), err_to_str=True, ndim=2)
@arg("charges", doc=("運賃等 6列: 種類, 摘要, 金額, 通貨, 按分基準, 負担者 / charges: kind, label, amount, "
                     "currency, allocate by, paid by"), err_to_str=True, ndim=2)
@arg("costs", doc=("国内諸掛 7列: 種類, 摘要, 金額(円), 消費税区分, 税込, 輸入時払い, 按分基準 / domestic costs: "
                   "kind, label, yen, CT class, tax included, paid at import, allocate by"), err_to_str=True, ndim=2)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("incoterm", doc="貿易条件 EXW FCA FOB CFR CIF DAP DDP など / Incoterm, e.g. FOB", err_to_str=True)
@arg("invoice_currency", doc="仕入通貨 ISO コード（空欄: JPY） / invoice currency ISO code (blank: JPY)",
     err_to_str=True)
@arg("fx", doc="為替レート 1単位あたり円（空欄: 税関長公示レート） / yen per unit (blank: the customs weekly rate)",
     err_to_str=True)
@arg("margin", doc=("利益率、小数で（30% = 0.3。空欄: 価格なし） / margin as a fraction (30 % = 0.3; blank: no "
                    "price)"), err_to_str=True)
@arg("margin_on", doc="price（粗利率）または cost（値入率） / margin on price or on cost", err_to_str=True)
@arg("options", doc="オプション、例 \"personal; rounding=10; claim=yes\" / options text, items separated by ;",
     err_to_str=True)
@arg("field", doc="出力項目、例 taxes_total / the figure, e.g. taxes_total", err_to_str=True)
def QUOTE_TOTALS(
    lines,
    charges=None,
    costs=None,
    on_date=None,
    incoterm=None,
    invoice_currency=None,
    fx=None,
    margin=None,
    margin_on: Literal["price", "cost"] = None,
    options=None,
    field: Literal[
        "goods",
        "goods_yen",
        "charges_yen",
        "customs_value",
        "taxable_value",
        "duty",
        "national_ct",
        "local_ct",
        "consumption_tax",
        "excise",
        "taxes_total",
        "domestic_costs",
        "domestic_ct",
        "recoverable_ct",
        "landed_cost",
        "landed_cost_cash",
        "price_total",
        "sales_ct",
        "price_total_with_ct",
        "gross_profit",
        "margin_percent",
        "markup_percent",
        "cash_at_import",
        "tariff_edition",
        "fx",
        "simplified",
        "warnings",
    ] = None,
):
    ("見積の合計の1項目、例 landed_cost, taxes_total / One figure of the quote, e.g. landed_cost, taxes_total, "
     "cash_at_import")
    return _XLDUTY["QUOTE_TOTALS"].call(
        lines,
        charges,
        costs,
        on_date,
        incoterm,
        invoice_currency,
        fx,
        margin,
        margin_on,
        options,
        field,
    )


@func
@arg("lines", doc=("明細 7・9・11列: 品名, 品目番号, 原産国, 数量, 単価, 重量kg, 特恵 (+税関数量, その単位 +単位, "
                   "軽減税率) / lines: description, HS code, origin, quantity, unit price, kg, claim (+customs "
                   "qty, its unit +unit, food)"), err_to_str=True, ndim=2)
@arg("charges", doc=("運賃等 6列: 種類, 摘要, 金額, 通貨, 按分基準, 負担者 / charges: kind, label, amount, "
                     "currency, allocate by, paid by"), err_to_str=True, ndim=2)
@arg("costs", doc=("国内諸掛 7列: 種類, 摘要, 金額(円), 消費税区分, 税込, 輸入時払い, 按分基準 / domestic costs: "
                   "kind, label, yen, CT class, tax included, paid at import, allocate by"), err_to_str=True, ndim=2)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("incoterm", doc="貿易条件 EXW FCA FOB CFR CIF DAP DDP など / Incoterm, e.g. FOB", err_to_str=True)
@arg("invoice_currency", doc="仕入通貨 ISO コード（空欄: JPY） / invoice currency ISO code (blank: JPY)",
     err_to_str=True)
@arg("fx", doc="為替レート 1単位あたり円（空欄: 税関長公示レート） / yen per unit (blank: the customs weekly rate)",
     err_to_str=True)
@arg("margin", doc=("利益率、小数で（30% = 0.3。空欄: 価格なし） / margin as a fraction (30 % = 0.3; blank: no "
                    "price)"), err_to_str=True)
@arg("margin_on", doc="price（粗利率）または cost（値入率） / margin on price or on cost", err_to_str=True)
@arg("options", doc="オプション、例 \"personal; rounding=10; claim=yes\" / options text, items separated by ;",
     err_to_str=True)
@arg("line_no", doc="行: lines の何行目か（1 = 先頭） / row number in the lines range (1 = first)", err_to_str=True)
@arg("target", doc="目標（円） / target in yen", err_to_str=True)
@arg("target_kind", doc="unit_cost, unit_cost_cash または price / unit_cost, unit_cost_cash or price",
     err_to_str=True)
def QUOTE_REVERSE(
    lines,
    charges=None,
    costs=None,
    on_date=None,
    incoterm=None,
    invoice_currency=None,
    fx=None,
    margin=None,
    margin_on: Literal["price", "cost"] = None,
    options=None,
    line_no=None,
    target=None,
    target_kind: Literal["unit_cost", "unit_cost_cash", "price"] = None,
):
    ("逆算: 目標の原価または見積価格に収まる最高の仕入単価 / Reverse: the highest supplier unit price meeting a "
     "target landed cost or quote price")
    return _XLDUTY["QUOTE_REVERSE"].call(
        lines,
        charges,
        costs,
        on_date,
        incoterm,
        invoice_currency,
        fx,
        margin,
        margin_on,
        options,
        line_no,
        target,
        target_kind,
    )


@func
@arg("lines", doc=("明細 7・9・11列: 品名, 品目番号, 原産国, 数量, 単価, 重量kg, 特恵 (+税関数量, その単位 +単位, "
                   "軽減税率) / lines: description, HS code, origin, quantity, unit price, kg, claim (+customs "
                   "qty, its unit +unit, food)"), err_to_str=True, ndim=2)
@arg("charges", doc=("運賃等 6列: 種類, 摘要, 金額, 通貨, 按分基準, 負担者 / charges: kind, label, amount, "
                     "currency, allocate by, paid by"), err_to_str=True, ndim=2)
@arg("costs", doc=("国内諸掛 7列: 種類, 摘要, 金額(円), 消費税区分, 税込, 輸入時払い, 按分基準 / domestic costs: "
                   "kind, label, yen, CT class, tax included, paid at import, allocate by"), err_to_str=True, ndim=2)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("incoterm", doc="貿易条件 EXW FCA FOB CFR CIF DAP DDP など / Incoterm, e.g. FOB", err_to_str=True)
@arg("invoice_currency", doc="仕入通貨 ISO コード（空欄: JPY） / invoice currency ISO code (blank: JPY)",
     err_to_str=True)
@arg("fx", doc="為替レート 1単位あたり円（空欄: 税関長公示レート） / yen per unit (blank: the customs weekly rate)",
     err_to_str=True)
@arg("margin", doc=("利益率、小数で（30% = 0.3。空欄: 価格なし） / margin as a fraction (30 % = 0.3; blank: no "
                    "price)"), err_to_str=True)
@arg("margin_on", doc="price（粗利率）または cost（値入率） / margin on price or on cost", err_to_str=True)
@arg("options", doc="オプション、例 \"personal; rounding=10; claim=yes\" / options text, items separated by ;",
     err_to_str=True)
def QUOTE_TREATMENTS(
    lines,
    charges=None,
    costs=None,
    on_date=None,
    incoterm=None,
    invoice_currency=None,
    fx=None,
    margin=None,
    margin_on: Literal["price", "cost"] = None,
    options=None,
):
    ("取扱いの比較（スピル）: 一般・簡易・特恵・個人使用ごとの納付税額と原価 / Treatments compared (spills): taxes "
     "at import and landed cost of each")
    return _XLDUTY["QUOTE_TREATMENTS"].call(
        lines,
        charges,
        costs,
        on_date,
        incoterm,
        invoice_currency,
        fx,
        margin,
        margin_on,
        options,
    )


@func
@arg("lines", doc=("明細 7・9・11列: 品名, 品目番号, 原産国, 数量, 単価, 重量kg, 特恵 (+税関数量, その単位 +単位, "
                   "軽減税率) / lines: description, HS code, origin, quantity, unit price, kg, claim (+customs "
                   "qty, its unit +unit, food)"), err_to_str=True, ndim=2)
@arg("charges", doc=("運賃等 6列: 種類, 摘要, 金額, 通貨, 按分基準, 負担者 / charges: kind, label, amount, "
                     "currency, allocate by, paid by"), err_to_str=True, ndim=2)
@arg("costs", doc=("国内諸掛 7列: 種類, 摘要, 金額(円), 消費税区分, 税込, 輸入時払い, 按分基準 / domestic costs: "
                   "kind, label, yen, CT class, tax included, paid at import, allocate by"), err_to_str=True, ndim=2)
@arg("on_date", doc="申告日（空欄: 今日） / declaration date (blank: today)", err_to_str=True)
@arg("incoterm", doc="貿易条件 EXW FCA FOB CFR CIF DAP DDP など / Incoterm, e.g. FOB", err_to_str=True)
@arg("invoice_currency", doc="仕入通貨 ISO コード（空欄: JPY） / invoice currency ISO code (blank: JPY)",
     err_to_str=True)
@arg("fx", doc="為替レート 1単位あたり円（空欄: 税関長公示レート） / yen per unit (blank: the customs weekly rate)",
     err_to_str=True)
@arg("margin", doc=("利益率、小数で（30% = 0.3。空欄: 価格なし） / margin as a fraction (30 % = 0.3; blank: no "
                    "price)"), err_to_str=True)
@arg("margin_on", doc="price（粗利率）または cost（値入率） / margin on price or on cost", err_to_str=True)
@arg("options", doc="オプション、例 \"personal; rounding=10; claim=yes\" / options text, items separated by ;",
     err_to_str=True)
@arg("document", doc=("見積書の記載 14セル（1列）: 宛先, 敬称, 見積番号, 発行日, 有効期限, 件名, 受渡条件, "
                      "支払条件, 備考, 発行者名, 住所, 連絡先, 区分, 登録番号 / the 見積書's own fields, one cell "
                      "each"), err_to_str=True, ndim=2)
@arg("part", doc=("table（既定）, lines, issuer, remarks, addressee, quote_no, issued, valid_until, subject, "
                  "registration_number, subtotal, tax, total, fx / what to show"), err_to_str=True)
def QUOTE_CUSTOMER(
    lines,
    charges=None,
    costs=None,
    on_date=None,
    incoterm=None,
    invoice_currency=None,
    fx=None,
    margin=None,
    margin_on: Literal["price", "cost"] = None,
    options=None,
    document=None,
    part: Literal[
        "table",
        "lines",
        "addressee",
        "quote_no",
        "issued",
        "valid_until",
        "subject",
        "issuer",
        "registration_number",
        "subtotal",
        "tax",
        "total",
        "remarks",
        "fx",
    ] = None,
):
    ("見積書（顧客向け）: 明細・小計・税率ごとの消費税・合計・備考。原価・関税・利益は出さない / The customer's "
     "見積書: lines, subtotal, tax per rate, total, remarks; never costs, duty or margin")
    return _XLDUTY["QUOTE_CUSTOMER"].call(
        lines,
        charges,
        costs,
        on_date,
        incoterm,
        invoice_currency,
        fx,
        margin,
        margin_on,
        options,
        document,
        part,
    )


@func
@arg("number", doc="登録番号、例 T1234567890123（全角・ハイフン可） / the number, e.g. T1234567890123",
     err_to_str=True)
@arg("kind", doc=("法人 corporation（既定）または 個人 individual（個人事業者: 検査用数字なし） / corporation "
                  "(default) or individual"), err_to_str=True)
def REGISTRATION_NUMBER(number, kind: Literal["corporation", "individual"] = None):
    ("適格請求書発行事業者の登録番号（T+13桁）を検証して返す。法人は法人番号の検査用数字も確認 / A "
     "qualified-invoice registration number, checked (a corporation's check digit too) and written as T + 13 digits")
    return _XLDUTY["REGISTRATION_NUMBER"].call(number, kind)
