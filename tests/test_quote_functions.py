"""The quote worksheet functions (QUOTE_LINES, QUOTE_TOTALS, QUOTE_REVERSE) on Excel-shaped values: ranges as
lists of rows, numbers as float, blanks as None. They must give what `xlduty quote` gives for the same input,
and name the sheet row of a bad cell."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xlduty.core.errors import InputError
from xlduty.excel import quote_functions as qf
from xlduty.quote import quote

ROOT = Path(__file__).resolve().parents[1]
D = "2026-11-20"


def _lines(*rows: list[Any], blank_after: int = 2) -> list[list[Any]]:
    return [*rows, *([[None] * 7] * blank_after)]


TSHIRTS = ["T-shirts", "6109.10-020", "CN", 200.0, 1500.0, 40.0, None]
LAPTOPS = ["Laptops", "8471.30-000", "CN", 2.0, 100000.0, 5.0, None]


def _args(lines: list[list[Any]], charges: Any = None, costs: Any = None, *, incoterm: str = "CIF",
          currency: str | None = "JPY", fx: float | None = None, margin: float | None = None,
          margin_on: str | None = None, options: str | None = None) -> tuple[Any, ...]:
    return (lines, charges, costs, D, incoterm, currency, fx, margin, margin_on, options)


def test_the_example_quote_through_the_sheet_functions_equals_xlduty_quote() -> None:
    """examples/quote.json (USD at 150.25, FOB, freight by weight, insurance by value, 通関料 and delivery by
    weight, 35 % margin on the price, prices rounded up to 10 yen, preferences claimed) typed as sheet ranges:
    every line field and every total equals `xlduty quote` on the JSON file."""
    data = json.loads((ROOT / "examples" / "quote.json").read_text(encoding="utf-8"))
    lines = [[ln["description"], ln["hs_code"], ln["origin"], float(ln["quantity"]), float(ln["unit_price"]),
              float(ln["weight_kg"]), True] for ln in data["lines"]]
    charges = [[c["kind"], c["label"], float(c["amount"]), None, c["allocate_by"], None] for c in data["charges"]]
    costs = [[c["kind"], c["label"], float(c["amount"]), None, None, None, c.get("allocate_by")]
             for c in data["domestic_costs"]]
    args = _args(_lines(*lines), charges, costs, incoterm="FOB", currency="USD", fx=150.25, margin=0.35,
                 margin_on="price", options="rounding=10")
    expected = quote(data)
    got = qf.QUOTE_LINES(*args, ",".join(qf.QUOTE_LINE_FIELDS))
    assert len(got) == 4 and got[2] == [""] * len(qf.QUOTE_LINE_FIELDS) == got[3]
    for row, line in zip(got, expected.lines, strict=False):
        want = line.to_dict()
        assert row == [qf._excel(want[f]) for f in qf.QUOTE_LINE_FIELDS]
    totals = expected.totals()
    for name in ("duty", "consumption_tax", "taxes_total", "landed_cost", "landed_cost_cash", "price_total",
                 "gross_profit", "margin_percent"):
        assert qf.QUOTE_TOTALS(*args, name) == qf._excel(totals[name]), name
    assert qf.QUOTE_TOTALS(*args, "cash_at_import") == qf._excel(expected.cash_at_import()["total"])
    assert [p % 10 for p in (got[0][qf.QUOTE_LINE_FIELDS.index("price")], got[1][qf.QUOTE_LINE_FIELDS.index(
        "price")])] == [0, 0]


def test_blank_rows_stay_blank_and_rows_keep_their_place() -> None:
    """A blank row between two lines: the figures come back on the rows they were typed on. T-shirts ¥300,000
    CIF: duty 22,200; laptops free. Total 500,000 > 200,000: general tariff."""
    rows = [TSHIRTS, [None] * 7, LAPTOPS]
    got = qf.QUOTE_LINES(*_args(rows), "duty,goods_yen")
    assert got == [[22200, 300000], ["", ""], [0, 200000]]


def test_a_bad_cell_names_its_sheet_row() -> None:
    bad_price = [TSHIRTS, [None] * 7, ["Laptops", "8471.30-000", "CN", 2.0, "abc", 5.0, None]]
    assert qf.QUOTE_TOTALS(*_args(bad_price), "duty") == \
        "#エラー 単価(unit_price): 数値を入力してください（明細 3行目）"
    costs = [["customs_brokerage", None, 11800.0, None, None, None, None], ["foo", None, 1.0, None, None, None, None]]
    text = qf.QUOTE_TOTALS(*_args(_lines(TSHIRTS), None, costs), "duty")
    assert text.startswith("#エラー 種類(kind): 種類 foo はありません") and text.endswith("（国内諸掛 2行目）")
    by_weight = [[None] * 6, ["freight", None, 20000.0, None, "weight", None]]
    no_weight = _lines(TSHIRTS, ["Laptops", "8471.30-000", "CN", 2.0, 100000.0, None, None])
    text = qf.QUOTE_TOTALS(*_args(no_weight, by_weight, incoterm="FOB"), "duty")
    assert text.startswith("#エラー 重量(kg)(weight_kg): 重量(kg)を入力してください")
    assert text.endswith("（明細 2行目）")
    # a lines range is read at 7, 9 or 11 columns (the 見積書's unit and food flag last): all three are named
    assert qf.QUOTE_TOTALS(*_args([TSHIRTS[:5]]), "duty") == (
        "#エラー 明細(lines): 範囲は 7・9・11 列（左から description, hs_code, origin, quantity, unit_price, "
        "weight_kg, claim, customs_quantity, customs_unit, unit, reduced_ct）で指定してください: 5 列あります")
    with pytest.raises(InputError, match=r"^lines: give 7, 9 or 11 columns \(the first 7, 9 or 11 of: "
                                         r"description, .*, unit, reduced_ct\), not 10$"):
        qf.quote_input(*_args([[*TSHIRTS, None, None, None]]))
    costs = [["customs_brokerage", None, 11800.0, None, None, None]]
    assert qf.QUOTE_TOTALS(*_args(_lines(TSHIRTS), None, costs), "duty").startswith(
        "#エラー 国内諸掛(costs): 範囲は 7 列で指定してください（kind,")
    assert qf.QUOTE_TOTALS(*_args(_lines(TSHIRTS)), "bogus").startswith("#エラー 出力項目(field): unknown 'bogus'")
    assert qf.QUOTE_TOTALS(*_args([["#N/A"] * 7]), "duty").startswith("#エラー")


def test_an_unbundled_fx_week_asks_for_the_fx_cell() -> None:
    """2026 is beyond the bundled customs weekly table: the invoice currency's rate must be typed in the FX cell
    (a charge in another currency is given in options as fx=EUR:…)."""
    text = qf.QUOTE_TOTALS(*_args(_lines(TSHIRTS), currency="USD"), "duty")
    assert text == ("#エラー 為替レート(fx): 2026-11-15–2026-11-21 の週の USD の税関公示レートがありません。"
                    "為替(fx)のセルにレートを入力するか、レートを更新してください")
    eur = [["freight", None, 100.0, "EUR", "value", None]]
    assert "options に fx=EUR:<円>" in qf.QUOTE_TOTALS(*_args(_lines(TSHIRTS), eur, incoterm="FOB", currency="USD",
                                                             fx=150.0), "duty")
    assert qf.QUOTE_TOTALS(*_args(_lines(TSHIRTS), eur, incoterm="FOB", currency="USD", fx=150.0,
                                  options="fx=EUR:160"), "charges_yen") == 16000


def test_kinds_by_japanese_name_and_ct_flags() -> None:
    """通関料 = customs_brokerage (exempt by kind); 国内配送 ¥5,500 tax included → 5,000 + CT 500; the same row
    with ct=exempt → 5,500 and no CT. 運賃 = freight. Cash at import (FOB + ¥20,000 freight = CIF 320,000): duty
    320,000 × 7.4 % = 23,680 → 23,600; CT base 343,000 → 26,754 → 26,700, local 26,700 × 22/78 = 7,530 → 7,500;
    + 通関料 11,800 (paid at import; the delivery is paid later) = 69,600."""
    costs = [["通関料", None, 11800.0, None, None, None, None], ["国内配送", None, 5500.0, None, "yes", None, None]]
    args = _args(_lines(TSHIRTS), [["運賃", None, 20000.0, None, None, None]], costs, incoterm="FOB")
    assert [qf.QUOTE_TOTALS(*args, f) for f in ("charges_yen", "domestic_costs", "domestic_ct", "cash_at_import")] \
        == [20000, 16800, 500, 23600 + 26700 + 7500 + 11800]
    costs[1][3] = "exempt"
    args = _args(_lines(TSHIRTS), None, costs)
    assert [qf.QUOTE_TOTALS(*args, f) for f in ("domestic_costs", "domestic_ct")] == [17300, 0]


def test_quote_options() -> None:
    """recoverable=no: the cost view carries the import CT too; claim=yes claims for lines whose claim cell is
    blank, a 'no' cell keeps its line out (T-shirts CN RCEP 4.6 %: 300,000 → 13,800); rounding=100 rounds the
    price up to 100 yen: (300,000 + 22,200) / 200 = 1,611 × 1.3 = 2,094.30 → 2,100; personal use gives the duty
    DUTY() gives for the same retail value with "personal"."""
    from xlduty.excel.functions import DUTY

    one = _lines(TSHIRTS)
    landed = qf.QUOTE_TOTALS(*_args(one, options="recoverable=no"), "landed_cost")
    assert landed == qf.QUOTE_TOTALS(*_args(one), "landed_cost_cash") == 300000 + 22200 + 32100
    assert qf.QUOTE_TOTALS(*_args(one, options="claim=yes"), "duty") == 13800
    refused = [[*TSHIRTS[:6], "no"]]
    assert qf.QUOTE_TOTALS(*_args(refused, options="claim=yes"), "duty") == 22200
    price = qf.QUOTE_LINES(*_args(one, margin=0.3, margin_on="cost", options="rounding=100"), "price")[0][0]
    assert price == 2100
    assert qf.QUOTE_TOTALS(*_args(one, options="personal"), "duty") == DUTY("6109.10-020", 300000.0, "CN", None, D,
                                                                             "personal")
    assert qf.QUOTE_TOTALS(*_args(one, options="bogus"), "duty").startswith("#エラー bogus: 不明なオプションです")
    assert qf.QUOTE_TOTALS(*_args(one, options="fx=150"), "duty").startswith("#エラー 為替レート(fx):")


def test_reverse_round_trips_in_yen() -> None:
    """逆算 on a yen invoice (grid 1 yen): the highest T-shirt price landing at ≤ ¥1,700 per unit, CIF, no charges.
    Hand: landed per unit = (200 p + duty share) / 200 with duty = floor_100(floor_1000(200 p) × 7.4 %) (laptops
    free, the total stays above ¥200,000). p = 1,583: 316,600 → 316,000 × 7.4 % = 23,384 → 23,300;
    (316,600 + 23,300) / 200 = 1,699.50 ≤ 1,700. p = 1,584: 316,800 → 23,384 → 23,300 → 1,700.50 > 1,700."""
    args = _args(_lines(TSHIRTS, LAPTOPS))
    assert qf.QUOTE_REVERSE(*args, 1, 1700, "unit_cost") == 1583
    at = [[*TSHIRTS[:4], p, *TSHIRTS[5:]] for p in (1583.0, 1584.0)]
    assert [qf.QUOTE_LINES(*_args(_lines(row, LAPTOPS)), "unit_cost")[0][0] for row in at] == [1699.5, 1700.5]


def test_reverse_errors_name_the_argument() -> None:
    args = _args(_lines(TSHIRTS))
    assert qf.QUOTE_REVERSE(*args, 3, 1700).startswith("#エラー 行(line_no): row 3 of the lines range is blank")
    assert qf.QUOTE_REVERSE(*args, 0, 1700).startswith("#エラー 行(line_no):")
    assert qf.QUOTE_REVERSE(*args, 1, None).startswith("#エラー 目標(target): 必須です")
    assert qf.QUOTE_REVERSE(*args, 1, 0.5) == \
        "#エラー 目標(target): 目標に届きません: 単価 1 JPY でも原価が1個あたり 1 円です"
    assert qf.QUOTE_REVERSE(*args, 1, 2000, "price").startswith("#エラー 利益率(margin):")   # no margin given


def test_one_quote_is_computed_once_for_all_its_cells() -> None:
    qf.clear_caches()
    args = _args(_lines(TSHIRTS, LAPTOPS))
    for name in ("duty", "consumption_tax", "landed_cost"):
        qf.QUOTE_TOTALS(*args, name)
    qf.QUOTE_LINES(*args, "duty")
    info = qf._computed.cache_info()
    assert (info.misses, info.hits) == (1, 3)


def test_a_refused_comparison_is_compared_once_for_all_its_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pork under 0203.19-022 (above the 分岐点価格 546.53 / 1.043 = 523.998… yen/kg) at ¥4,000 per 10 kg (400
    yen/kg, a 0203.19-025 price) is refused, and the refusal is remembered as figures are: three cells over the same
    sheet compare the treatments once."""
    import xlduty.quote

    calls: list[int] = []
    compare = xlduty.quote.compare_treatments
    monkeypatch.setattr(xlduty.quote, "compare_treatments", lambda data: calls.append(1) or compare(data))
    qf.clear_caches()
    row = ["pork", "0203.19-022", "US", 1000, 4000, 10000, None, 10000, "kg"]
    spills = [qf.QUOTE_TREATMENTS([row, [None] * 9], None, None, D, "CIF", "JPY", None, 0.2, None, None)
              for _ in range(3)]
    assert spills[0] == spills[1] == spills[2] and len(spills[0]) == 1, spills
    assert spills[0][0][0].startswith("#エラー 品目番号(hs_code): 0203.19-025 applies, not 0203.19-022: the customs "
                                      "value is 400 yen per kg"), spills
    assert spills[0][0][0].endswith("(分岐点価格 = 546.53 / 1.043 = 523.998082…)（明細 1行目）"), spills
    assert len(calls) == 1
    assert (qf._compared.cache_info().misses, qf._compared.cache_info().hits) == (1, 2)


@pytest.mark.parametrize(("value", "shown"), [(Decimal("1767.76"), 1767.76), (Decimal("300000"), 300000),
                                              ("23.10", 23.1), ("2026_07_09", "2026_07_09"), ("7.4%", "7.4%"),
                                              (None, "")])
def test_figures_reach_the_cell_as_numbers_and_names_as_text(value: Any, shown: Any) -> None:
    """An exact decimal in the quote JSON becomes a number; an edition name (which Decimal would read as
    20260709) and a rate text stay text."""
    assert qf._excel(value) == shown and type(qf._excel(value)) is type(shown)


def test_treatments_list_each_preference_for_the_origins() -> None:
    """T-shirts from VN ¥300,000 CIF: MFN 7.4 % = 22,200; VN is covered by several preference columns (the
    Japan–Vietnam EPA, AJCEP, CPTPP, RCEP …): each is a row, with the taxes and the difference from the quote as
    given (no claim). A preference row is never above MFN: the engine applies it only when lower."""
    vn = [[*TSHIRTS[:2], "VN", *TSHIRTS[3:]]]
    rows = qf.QUOTE_TREATMENTS(*_args(vn))
    labels = [r[0] for r in rows]
    assert labels[:4] == ["選択した条件 As quoted", "一般税率 General tariff",
                          "簡易税率 Simplified tariff (定率法3条の3)",
                          "MFN（特恵・EPA不適用） MFN, no preference claimed"]
    mfn = rows[3][1]
    claims = rows[4:-2]
    assert len(claims) >= 3 and all(isinstance(r[1], int) and r[1] <= mfn and r[3] == r[1] - rows[0][1]
                                    for r in claims)
    assert any(r[1] < mfn for r in claims)
    claimed = qf.QUOTE_TREATMENTS(*_args(vn, options="claim=yes"))   # as quoted = with the best claim
    assert claimed[0][1] == min(r[1] for r in claims) and claimed[3][1] == mfn
    assert qf.QUOTE_TREATMENTS(*_args(vn, options="fx_factor=0.95"))[0][0].startswith("#エラー 為替の倍率(fx_factor)")
    rows[0][1] = "changed"
    assert qf.QUOTE_TREATMENTS(*_args(vn))[0][1] != "changed"   # the cached rows are not handed out


def test_specific_duty_needs_the_customs_quantity_columns() -> None:
    """Wine 2204.21-020 from the US, 12 bottles × ¥4,000 = 48,000 yen CIF, 9 litres: WTO rate 15 % or 125 yen/l,
    whichever is lower, not below 67 yen/l: 7,200 vs 9 × 125 = 1,125 → 1,125, payable 1,100. Without the
    customs quantity (a 7-column range) the cell says what is missing, never 0."""
    wine = ["Wine", "2204.21-020", "US", 12.0, 4000.0, None, None]
    nine = _args([[*wine, 9.0, "l"]], options="simplified=never")
    assert qf.QUOTE_LINES(*nine, "duty,customs_value") == [[1100, 48000]]
    short = qf.QUOTE_LINES(*_args([wine], options="simplified=never"), "duty")[0][0]
    assert short.startswith("#エラー 税関数量(customs_quantity): 従量税（lあたり）のため数量が必要です")


def test_flags_as_numbers_and_full_width_text() -> None:
    """A claim cell holding 1 (a number: 1.0 from Excel) or ｙｅｓ (typed with a Japanese IME) claims; a
    tax-included cell holding 1 means yes (¥5,500 → 5,000 + 500)."""
    for claim in (1.0, "ｙｅｓ", True):
        assert qf.QUOTE_TOTALS(*_args([[*TSHIRTS[:6], claim]]), "duty") == 13800, claim
    costs = [["delivery", None, 5500.0, None, 1.0, None, None]]
    assert qf.QUOTE_TOTALS(*_args(_lines(TSHIRTS), None, costs), "domestic_ct") == 500


def test_float_noise_is_read_as_excel_shows_it() -> None:
    """A margin cell computed as 0.1 + 0.2 holds 0.30000000000000004 and shows 30 %: one laptop at ¥1,000 (de
    minimis: no duty, no CT) costs 1,000 and is priced 1,000 × 1.3 = 1,300 — 1,301 if the noise were kept and
    rounded up. A unit price of 0.1 + 0.2 yen is 0.3 yen: 200 × 0.3 = 60."""
    laptop = [["Laptop", "8471.30-000", "CN", 1.0, 1000.0, None, None]]
    assert qf.QUOTE_LINES(*_args(laptop, margin=0.1 + 0.2, margin_on="cost"), "landed_cost,price") == [[1000, 1300]]
    row = [[*TSHIRTS[:4], 0.1 + 0.2, *TSHIRTS[5:]]]
    assert qf.QUOTE_LINES(*_args(row), "goods_yen")[0][0] == 60


def test_rows_and_texts_the_sheet_shows() -> None:
    """A row with only a description is a note, not a line; warnings name the sheet's rows; a long error keeps its
    row; a negative margin and rounding=0 are named by their cells."""
    rows = [TSHIRTS, ["(note)", None, None, None, None, None, None], LAPTOPS]
    assert qf.QUOTE_LINES(*_args(rows), "duty") == [[22200], [""], [0]]
    charges = [[None] * 6, [None] * 6, ["freight", None, 20000.0, None, None, None]]
    warning = qf.QUOTE_TOTALS(*_args(_lines(TSHIRTS), charges, incoterm="DAP"), "warnings")
    assert "運賃等 3行目" in warning and "charges[" not in warning
    long_hs = [TSHIRTS, LAPTOPS, ["Fish", "0303.89", "NO", 1.0, 1000.0, None, None]]
    text = qf.QUOTE_TOTALS(*_args(long_hs), "duty")
    assert len(text) <= 255 and text.endswith("（明細 3行目）")
    assert qf.QUOTE_TOTALS(*_args(_lines(TSHIRTS), margin=-0.1), "price_total").startswith("#エラー 利益率(margin):")
    assert qf.QUOTE_TOTALS(*_args(_lines(TSHIRTS), options="rounding=0"), "duty") == \
        "#エラー 端数単位(price_rounding): 1 以上の数値を入力してください"


def test_a_saved_quote_pins_its_tariff_edition() -> None:
    """edition= in the options recomputes on the edition a saved quote used (xlduty quote's tariff_edition); an
    edition the tables do not hold is named, never replaced silently by another."""
    one = _lines(TSHIRTS)
    assert qf.QUOTE_TOTALS(*_args(one, options="edition=2026_07_09"), "tariff_edition") == "2026_07_09"
    text = qf.QUOTE_TOTALS(*_args(one, options="edition=2020_01_01"), "duty")
    assert text.startswith("#エラー 実行関税率表の版(tariff_edition): 2020_01_01 版はありません（使える版: ")
