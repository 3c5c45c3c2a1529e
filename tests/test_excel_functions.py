"""The worksheet functions on Excel-shaped inputs (floats, None, datetimes, serial dates, ranges).

Figures are hand-worked on real 2026_07_09 lines: 6109.10-020 (T-shirts, cotton) WTO 7.4 %;
8471.30-000 (laptops) free; 0406.90-090 (cheese) 29.8 %; CT 7.8 % + 22/78, as in CA 1111.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from xlduty.core.errors import InputError
from xlduty.excel import functions as f
from xlduty.excel import udfs
from xlduty.excel.macros import explain_formula, new_quote_path
from xlduty.excel.options import parse_options

D = "2026-11-01"


def test_duty_and_ct_one_line() -> None:
    """300,000 × 7.4 % = 22,200. CT base floor_1000(322,200) = 322,000 → 25,116 → payable 25,100;
    local floor_100(25,116) × 22/78 = 7,079 → 7,000. CT = 32,100."""
    assert f.DUTY("6109.10-020", 300000.0, "CN", None, D) == 22200
    assert f.CONSUMPTION_TAX("6109.10-020", 300000.0, "CN", None, D) == 32100


def test_excel_shaped_dates_and_codes() -> None:
    """A datetime from a date cell, an Excel serial (46,327 = 2026-11-01) and text give one answer;
    an HS code typed as a number 610910020.0 is the 9-digit line."""
    serial = (date(2026, 11, 1) - date(1899, 12, 30)).days
    assert serial == 46327
    for d in (datetime(2026, 11, 1), float(serial), "2026/11/01", date(2026, 11, 1)):
        assert f.DUTY(610910020.0, 300000.0, "CN", None, d) == 22200


def test_excel_serials_before_march_1900() -> None:
    """Excel's 1900 date system counts a 1900-02-29 that never was (serial 60): serial 1 is 1900-01-01 and 59 is
    1900-02-28, counted from 1899-12-31; 61 is 1900-03-01, counted from 1899-12-30 as every later serial."""
    from xlduty.excel.cells import to_date

    assert (to_date(1.0), to_date(59.0), to_date(61.0)) == (date(1900, 1, 1), date(1900, 2, 28), date(1900, 3, 1))
    assert to_date(46327.0) == date(2026, 11, 1)
    with pytest.raises(InputError, match="1900-02-29"):
        to_date(60.0)


def test_number_typed_hs_of_chapters_01_to_09() -> None:
    """0201.30 typed as a number arrives as 201.3: read as 0201.30 (beef, boneless)."""
    assert f.DUTY(201.3, 300000.0, "AU", None, D) == f.DUTY("0201.30", 300000.0, "AU", None, D)
    assert isinstance(f.DUTY(201.3, 300000.0, "AU", None, D), int)


def test_number_typed_hs_loses_trailing_zero() -> None:
    """6109.10 typed as a number arrives as 6109.1: read as 6109.10, which has two lines with
    different rates — the error lists them instead of guessing."""
    text = f.DUTY(6109.1, 300000.0, "CN", None, D)
    assert text.startswith("#エラー 品目番号(hs_code):")
    assert "6109.10-010" in text and "6109.10-020" in text


@pytest.mark.parametrize(("args", "expected"), [
    (("6109.10-020", "abc", "CN", None, D), "#エラー 課税価格(value): 数値を入力してください"),
    (("6109.10-020", None, "CN", None, D), "#エラー 課税価格(value): 必須です"),
    (("6109.10-020", 1000.0, "CHN", None, D),
     "#エラー 原産国(origin): 原産国は ISO 3166 の2文字で指定してください（例 CN）"),
    (("6109.10-020", 1000.0, "UK", None, D),
     "#エラー 原産国(origin): UK は ISO 3166-1 の国コードではありません。GB を指定してください"),
    (("6109.10-020", 1000.0, "CN", None, D, "colour=red"), "#エラー colour: 不明なオプションです"),
    (("6109.10-020", 30000.0, "CN", None, D, "claim=epa_eu"),
     "#エラー 特恵・EPA(claim_preference): CN は epa_eu の対象国ではありません"),
    (("6109.10-999", 1000.0, "CN", None, D),
     "#エラー 品目番号(hs_code): 6109.10-999 は 2026_07_09 版の実行関税率表にありません; lines of 6109.10: "
     "6109.10-010, 6109.10-020"),
    (("2204.21-020", 100000.0, None, 10.0, D, "unit=kg"),
     "#エラー 単位(unit): 数量の単位 kg は税率の単位 l に換算できません"),
    (("6109.10-020", "1e5000", "CN", None, D), "#エラー 課税価格(value): 数値が大きすぎます"),
    (("6109.10-020", 300000.0, "CN", None, "#N/A"), "#エラー 申告日(date): 参照しているセルがエラーです（#N/A）"),
    (("6109.10-020", 300000.0, "#N/A", None, D), "#エラー 原産国(origin): 参照しているセルがエラーです（#N/A）"),
    (("6109.10-020", 300000.0, "CN", None, D, "#VALUE!"),
     "#エラー オプション(options): 参照しているセルがエラーです（#VALUE!）"),
])
def test_errors_are_short_japanese_and_name_the_field(args: tuple, expected: str) -> None:
    assert f.DUTY(*args) == expected


def test_reduced_before_2019_10_is_the_standard_rate() -> None:
    """reduced=yes on 2019-09-01, before any reduced rate: the one rate of the day (issue 16: no longer an error).
    100,000 × 10 % = 10,000; CT base 110,000 × 6.3 % = 6,930 → 6,900; local floor_100(6,930) × 17/63 = 1,861.9 →
    1,800; CT 8,700."""
    assert f.DUTY(None, 100000.0, None, None, "2019-09-01", "rate=10%; reduced=yes") == 10000
    assert f.CONSUMPTION_TAX(None, 100000.0, None, None, "2019-09-01", "rate=10%; reduced=yes") == 8700


def test_unknown_fx_week_is_an_error_not_zero() -> None:
    """The bundled FX ends in 2020: a 2026 USD value cannot be converted, and the cell says how to fix it."""
    text = f.DUTY("6109.10-020", 1000.0, "CN", None, D, "currency=USD")
    assert text.startswith("#エラー 通貨(currency): 2026-11-01–2026-11-07 の週の USD")
    assert "fx=USD:" in text


def test_currency_with_given_rate() -> None:
    """US origin, USD 1,000 at 155.39 = 155,390 → base 155,000 × 7.4 % = 11,470 → payable 11,400."""
    assert f.DUTY("6109.10-020", 1000, "US", None, D, "currency=USD; fx=155.39; simplified=never") == 11400


def test_exemption_texts() -> None:
    """¥8,000 of laptops: de minimis (定率法14条18号). ¥8,000 of knitted T-shirts: excluded goods, no exemption."""
    assert f.EXEMPTION("8471.30-000", 8000.0, "CN", None, D) == "定率法14条18号 少額免税"
    assert f.DUTY("8471.30-000", 8000.0, "CN", None, D) == 0
    assert f.EXEMPTION("6109.10-020", 8000.0, "CN", None, D) == ""


def test_duty_rate() -> None:
    """Without a value, the general tariff's rate; with ¥50,000 of spectacles the simplified tariff wins."""
    assert f.DUTY_RATE("6109.10-020", None, "CN", None, D) == "7.4% (WTO協定税率)"
    assert f.DUTY_RATE("9004.10-000", None, None, None, D).endswith("(WTO協定税率)")
    assert f.DUTY_RATE("9004.10-000", 50000.0, None, None, D) == "5% (簡易税率 第7号 その他のもの)"
    assert f.DUTY_RATE("8471.30-000", None, "CN", None, D) == "無税 (基本税率)"


def test_personal_use_option() -> None:
    """Retail ¥30,000 × 0.6 = 18,000 × 7.4 % = 1,332 → payable 1,300."""
    assert f.DUTY("6109.10-020", 30000.0, "CN", None, D, "personal; simplified=never") == 1300


def test_explain_lists_the_steps() -> None:
    """One step per row (it spills), each within the 255 characters xlwings can return in an array."""
    rows = f.DUTY_EXPLAIN("6109.10-020", 300000.0, "CN", None, D)
    assert all(len(r) == 1 and len(r[0]) <= 255 for r in rows)
    text = "\n".join(r[0] for r in rows)
    assert "duty_line: WTO協定税率 7.4%: 300,000 × 7.4% = 22,200 → 22,200" in text
    assert "local_ct_line: floor_100(25,116) × 22/78 = 25,100 × 22/78 → 7,079" in text


def test_customs_fx_and_names() -> None:
    """USD for the week of 2019-05-01 (Sunday 2019-04-28 – Saturday 2019-05-04): 111.97 yen."""
    assert f.CUSTOMS_FX("USD", "2019-05-01") == 111.97
    assert f.HS_NAME("6109.10-020").endswith("綿製のもの > 2 その他のもの")
    assert f.HS_NAME("6109.10-020", None, "en") == "Of cotton"


def test_lines_and_totals_are_one_declaration() -> None:
    """Two lines (CIF 312,000 T-shirts, 208,000 laptops): duty 23,088 and 0; CT per line 33,491 and
    20,793; payable duty floor_100(23,088) = 23,000, CT 42,300 + 11,900 = 54,200, total 77,200.
    A SUM of one-line DUTY() cells would give 23,000 too here, but CT would be 33,400 + 20,700."""
    hs = [["6109.10-020"], ["8471.30-000"], [None]]
    cif = [[312000.0], [208000.0], [None]]
    lines = f.DUTY_LINES(hs, cif, "CN", None, "2026-11-20", None, "duty,consumption_tax")
    assert lines == [[23088, 33491], [0, 20793], ["", ""]]
    assert f.DUTY_TOTALS(hs, cif, "CN", None, "2026-11-20") == [[23000, 42300, 11900, 54200, 0, 77200]]
    assert f.DUTY_TOTALS(hs, cif, "CN", None, "2026-11-20", None, "total") == 77200


@pytest.mark.parametrize(("on", "past"), [("2026-11-01", False), ("2027-05-01", True)])
def test_a_date_past_the_tables_keeps_its_figure_and_its_warning_has_a_cell(on: str, past: bool) -> None:
    """2027-05-01 is past what the bundled tables vouch for (2026_07_09, through 2027-03-31): the figure is still the
    newest edition's (300,000 × 7.4 % = 22,200), as the command line gives it, and DUTY_TOTALS' ``warnings`` shows
    the warning the command line prints beside it (cut at 255 characters, ending in …); a date inside: no warning.
    The default figures stay numbers: national floor_1000(322,200) × 7.8 % = 25,116 → 25,100, local 25,100 × 22/78
    = 7,079 → 7,000."""
    assert f.DUTY("6109.10-020", 300000, "CN", None, on) == 22200
    figure, text = f.DUTY_TOTALS([["6109.10-020"]], [[300000]], "CN", None, on, None, "duty,warnings")[0]
    assert figure == 22200 and f.DUTY_TOTALS([["6109.10-020"]], [[300000]], "CN", None, on, None, "warnings") == text
    if past:
        assert text.startswith("the date 2027-05-01 is past what the tariff tables held can vouch for (through "
                               "2027-03-31): the newest edition held, 2026_07_09, took effect 2026-07-09"), text
        assert len(text) == 255 and text.endswith("…")
    else:
        assert text == ""
    assert f.DUTY_TOTALS([["6109.10-020"]], [[300000]], "CN", None, on) == [[22200, 25100, 7000, 32100, 0, 54300]]


def test_the_warnings_of_totals_name_the_rows_as_the_sheet_counts_them() -> None:
    """Copper 7402.00-030 (free, banded per kg) without a quantity, in the third row after a blank one: the band is
    not checked, and the warning names 3行目, not the engine's line 1."""
    hs = [["6109.10-020"], [None], ["7402.00-030"]]
    assert f.DUTY_TOTALS(hs, [[300000], [None], [600000]], "CL", None, "2026-11-20", None, "duty,warnings") == [[
        22200, "3行目: 7402.00-030 covers only goods 「課税価格が1キログラムにつき490円を超えるもの」: give a quantity "
               "above 0 in kg to check that it is the right line"]]


def test_de_minimis_follows_the_whole_declaration() -> None:
    """¥6,000 + ¥6,000 of laptops: each alone is under ¥10,000, together 12,000 is not: no exemption."""
    assert f.DUTY_LINES([["8471.30-000"], ["8471.30-000"]], [[6000.0], [6000.0]], "CN", None, D, None,
                        "exemption") == [[""], [""]]
    assert f.EXEMPTION("8471.30-000", 6000.0, "CN", None, D) == "定率法14条18号 少額免税"


def test_ranges_are_one_column_and_never_cut() -> None:
    """A row range is read as one value per line; a two-column range, or values shorter than the HS
    codes, is an error (never the first column only, never one value repeated for every line)."""
    hs_row = [["6109.10-020", "8471.30-000"]]
    assert f.DUTY_TOTALS(hs_row, [[300000.0, 400000.0]], "CN", None, D, None, "total") == 94300
    wide = f.DUTY_TOTALS([["6109.10-020", "x"], ["8471.30-000", "y"]], [[1.0], [2.0]], "CN", None, D)
    assert wide == "#エラー 品目番号(hs_code): 範囲は1列で指定してください（2 列あります）"
    short = f.DUTY_TOTALS([["6109.10-020"], ["8471.30-000"]], [[300000.0]], "CN", None, D)
    assert short == "#エラー 課税価格(value): 範囲の行数（1）が品目番号の範囲（2）と違います"
    missing = f.DUTY_LINES([["6109.10-020"], ["8471.30-000"]], [[300000.0], [None]], "CN", None, D)
    assert missing == [["#エラー 課税価格(value): 必須です（2行目）"]]
    errored = f.DUTY_TOTALS([["6109.10-020"], ["#N/A"]], [[300000.0], ["#N/A"]], "CN", None, D)
    assert errored == "#エラー 品目番号(hs_code): 参照しているセルがエラーです（#N/A）（2行目）"


def test_array_error_names_the_row() -> None:
    out = f.DUTY_LINES([["6109.10-020"], ["9999.99-999"]], [[1000.0], [2000.0]], "CN", None, D)
    assert len(out) == 1 and out[0][0].startswith("#エラー 品目番号(hs_code):")
    assert out[0][0].endswith("（2行目）")


def test_results_are_cached() -> None:
    f.clear_caches()
    f.DUTY("6109.10-020", 300000.0, "CN", None, D)
    f.CONSUMPTION_TAX("6109.10-020", 300000.0, "CN", None, D)
    info = f._one.cache_info()
    assert (info.hits, info.misses) == (1, 1)


def test_udfs_wrap_the_same_functions() -> None:
    """On Linux xlwings' decorators are identities: the UDF module is directly callable."""
    assert udfs.DUTY("6109.10-020", 300000.0, "CN", None, D) == 22200
    assert udfs.DUTY_TOTALS([["6109.10-020"]], [[300000.0]], "CN", None, D, None, "total") == 54300


def test_options_syntax() -> None:
    o = parse_options("personal; simplified=NEVER; claim=epa_eu; rate=14%; reduced=yes; currency=usd; "
                      "liquor=beer; litres=12; abv=5; relief=reimport; quota")
    assert o.declaration == {"personal_use": True, "simplified": "never"}
    assert o.line == {"claim_preference": "epa_eu", "rate": "14%", "reduced_ct": True, "currency": "usd",
                      "liquor": {"category": "beer", "litres": "12", "abv": "5"}, "relief": {"type": "reimport"},
                      "in_quota": True}
    assert parse_options("個人使用；特恵＝yes").declaration == {"personal_use": True}   # full-width from an IME


def test_explain_formula_for_the_ribbon() -> None:
    cells = {"A2": "6109.10-020", "B2": 300000.0}
    text = explain_formula('=DUTY(A2,$B$2,"CN",,"2026-11-01")', cells.__getitem__)
    assert "300,000 × 7.4% = 22,200" in text
    assert explain_formula("=SUM(A1:A3)", cells.__getitem__).startswith("選択したセルは")


def test_new_quote_never_overwrites(tmp_path: Path) -> None:
    stamp = datetime(2026, 11, 21, 9, 30)
    first = new_quote_path(tmp_path, stamp)
    second = new_quote_path(tmp_path, stamp)
    assert first.name == "見積_20261121_093000.xlsm" and second.name == "見積_20261121_093000_1.xlsm"
    assert first.read_bytes() == second.read_bytes()


def test_addin_config_keeps_the_users_other_settings(tmp_path: Path) -> None:
    """The interpreter keys are (re)written in the code page VBA reads (cp932 on Japanese Windows); a
    line the user made with the xlwings ribbon stays byte for byte; xlwings.conf only with template."""
    from xlduty.excel.install import addin_path, configure

    conf = tmp_path / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir()
    user_line = '"PYTHONPATH","C:\\Users\\田中\\lib"'.encode("cp932")
    conf.write_bytes(b'"INTERPRETER_WIN","C:\\old\\python.exe"\r\n' + user_line + b"\r\n")
    python = Path("C:/Users/田中/env/Scripts/pythonw.exe")
    assert configure(tmp_path, python, encoding="cp932") == [tmp_path / ".xlduty" / "xlduty.conf"]
    assert conf.read_bytes().startswith(b'"INTERPRETER_WIN","C:\\old')   # untouched without template
    written = configure(tmp_path, python, template=True, encoding="cp932")
    assert written[1] == conf
    assert conf.read_bytes().split(b"\r\n") == [
        user_line, '"INTERPRETER_WIN","C:/Users/田中/env/Scripts/pythonw.exe"'.encode("cp932"),
        '"INTERPRETER_MAC","C:/Users/田中/env/Scripts/pythonw.exe"'.encode("cp932"), b""]
    with pytest.raises(ValueError, match="code page cp1252"):
        configure(tmp_path, python, encoding="cp1252")
    assert addin_path().name == "xlduty.xlam"


def test_xlduty_info() -> None:
    """The basis of a figure: the edition in force on 2026-11-20, its FX week (Sunday 15 – Saturday 21 Nov)."""
    assert f.XLDUTY_INFO("edition", "2026-11-20") == "2026_07_09"
    assert f.XLDUTY_INFO("edition", "2025-05-01") == "2025_04_01"
    assert f.XLDUTY_INFO("fx_week", 46346.0) == "2026-11-15–2026-11-21"
    assert f.XLDUTY_INFO("bogus") == ("#エラー 項目(what): use edition, fx_week, fx_weeks, version, python or xlwings "
                                      "(blank: the versions)")


def test_xlduty_info_reports_what_it_reached() -> None:
    """What a workbook reached, for the SelfTest sheet and the acceptance kit: the xlduty version, the Python
    (version and interpreter) and xlwings of the process computing; blank gives all three in one line."""
    import platform
    import sys

    import xlwings

    from xlduty import __version__

    python = f"{platform.python_version()} ({sys.executable})"
    assert f.XLDUTY_INFO("version") == __version__
    assert f.XLDUTY_INFO("Python") == python
    assert f.XLDUTY_INFO("xlwings") == xlwings.__version__ == "0.37.8"
    assert f.XLDUTY_INFO() == f.XLDUTY_INFO("") == f"xlduty {__version__}; Python {python}; xlwings 0.37.8"
    assert udfs.XLDUTY_INFO(None, None) == f.XLDUTY_INFO()


def test_customs_fx_of_a_week_not_bundled_says_what_this_function_can_do() -> None:
    """CUSTOMS_FX has no options argument, so its error must not send the user to ``options に fx=…`` (the advice of
    the functions that take options): it says to refresh the rates or type the week's rate in its place."""
    text = f.CUSTOMS_FX("USD", "2026-11-01")
    assert text == ("#エラー 通貨(currency): 2026-11-01–2026-11-07 の週の USD の税関公示レートは収録されていません。"
                    "レートを更新するか（リボンの Refresh rates）、"
                    "その週の税関公示レートをこの式の代わりに入力してください")
    assert "options" not in text and "fx=" not in text
    assert "options に fx=USD:<円>" in f.DUTY("6109.10-020", 1000.0, "CN", None, "2026-11-01", "currency=USD")


def test_line_numbers_in_a_warning_become_rows_all_of_them_and_only_lines() -> None:
    """The engine counts a declaration's lines from 0 and lists several as ``(line 0, 2)`` (the gate-price readings
    warning): each number becomes its row, not only the first (it printed "(1行目, 2)"); a number the range has no
    line for is left as written (a ValueError from list.index used to escape as a traceback into the cell)."""
    from xlduty.excel.messages import lines_as_rows

    rows = {0: "1行目", 1: "3行目", 2: "4行目"}   # the range's rows 1, 3 and 4 hold lines 0, 1 and 2
    assert lines_as_rows("line 1: give a quantity", rows.get) == "3行目: give a quantity"
    assert lines_as_rows("if Customs takes the unrounded value (line 0, 2): not verified", rows.get) == (
        "if Customs takes the unrounded value (1行目, 4行目): not verified")
    assert lines_as_rows("line 8471: tariff line 7 (lines 0, 9)", rows.get) == "line 8471: tariff line 7 (lines 0, 9)"
