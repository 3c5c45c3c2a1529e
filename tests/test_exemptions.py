"""De minimis (定率法14条18号), personal-use valuation (×0.6) and reliefs (14条10号, 11条, 暫定法8条).

Date 2026-11-01, yen values, simplified never unless stated. 4202.92-000 (textile bags) is WTO 8 %,
6109.10-020 (knitted T-shirts) WTO 7.4 %, 6205.20-000 (woven cotton shirts) WTO 7.4 %.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from xlduty import compute
from xlduty.core.errors import InputError

DATE = "2026-11-01"
DE_MINIMIS = "定率法14条18号"


def _decl(*lines: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"date": DATE, "simplified": "never", "lines": list(lines), **kw}


def _bag(value: Any, **kw: Any) -> dict[str, Any]:
    return {"hs_code": "4202.92-000", "origin": "CN", "value": value, **kw}


def _totals(decl: dict[str, Any]) -> tuple[int, int, int, int, int]:
    t = compute(decl).totals
    return t.duty, t.national_ct, t.local_ct, t.excise, t.total


def test_total_of_10000_is_exempt() -> None:
    """Total customs value 10,000 ≤ 10,000 → duty and consumption tax exempt."""
    r = compute(_decl(_bag(10000)))
    assert r.exemption is not None and r.exemption["text"].startswith(DE_MINIMIS)
    ln = r.lines[0]
    assert ln.exemption is not None and ln.exemption.startswith(DE_MINIMIS)
    assert (ln.duty, ln.ct_base, ln.national_ct, ln.local_ct) == (0, 0, 0, 0)
    assert _totals(_decl(_bag(10000))) == (0, 0, 0, 0, 0)


def test_total_of_10001_is_not_exempt() -> None:
    """10,001: tv floor_1000 = 10,000 × 8% = 800; ct_base floor_1000(10,001 + 800) = 10,000; nat 780 → 700;
    loc floor_100(780) = 700 × 22/78 = 197.4 → 197 → 100. total 800 + 700 + 100 = 1,600.
    """
    r = compute(_decl(_bag(10001)))
    assert r.exemption is None and r.lines[0].exemption is None
    assert _totals(_decl(_bag(10001))) == (800, 700, 100, 0, 1600)


def test_freight_counts_toward_the_total() -> None:
    """5,000 + freight 4,000 = 9,000 → exempt. 5,000 + freight 6,000 = 11,000 → taxable:
    tv 11,000 × 8% = 880 → 800; ct_base floor_1000(11,000 + 800) = 11,000; nat 858 → 800;
    loc floor_100(858) = 800 × 22/78 = 225.6 → 225 → 200. total 800 + 800 + 200 = 1,800.
    """
    assert compute(_decl(_bag(5000, freight=4000))).exemption is not None
    assert _totals(_decl(_bag(5000, freight=4000))) == (0, 0, 0, 0, 0)
    assert compute(_decl(_bag(5000, freight=6000))).exemption is None
    assert _totals(_decl(_bag(5000, freight=6000))) == (800, 800, 200, 0, 1800)


def test_knitted_garments_are_excluded_other_lines_exempt() -> None:
    """施行令16条の3: knitted 6109 is not exempt; the woven shirt (6205) in the same 9,000-yen declaration is.

    Line 0 (6109.10-020, 5,000): 5,000 × 7.4% = 370; ct_base floor_1000(5,000 + floor_100(370) = 300) = 5,000;
    nat 390; loc floor_100(390) = 300 × 22/78 = 84.6 → 84.  Line 1 (6205.20-000, 4,000): exempt, all 0.
    Totals: duty 370 → 300; nat 390 → 300; loc 84 → 0; total 600.
    """
    decl = _decl({"hs_code": "6109.10-020", "origin": "CN", "value": 5000},
                 {"hs_code": "6205.20-000", "origin": "CN", "value": 4000})
    r = compute(decl)
    knit, woven = r.lines
    assert knit.exemption is None
    assert (knit.duty, knit.ct_base, knit.national_ct, knit.local_ct) == (370, 5000, 390, 84)
    assert woven.exemption is not None and woven.exemption.startswith(DE_MINIMIS)
    assert (woven.duty, woven.national_ct, woven.local_ct) == (0, 0, 0)
    assert r.exemption is not None
    assert (r.exemption["lines"], r.exemption["excluded_lines"]) == ([1], [0])
    assert _totals(decl) == (300, 300, 0, 0, 600)


def test_liquor_tax_is_charged_under_de_minimis() -> None:
    """CA 1006: wine worth 8,000 yen is duty- and CT-free, but liquor tax is due.

    fruit_wine on 2026-11-01 = 100,000 yen/kL; 6 l × 100,000 / 1,000 = 600 → excise 600. total 600.
    """
    decl = _decl({"hs_code": "2204.21-020", "origin": "FR", "value": 8000,
                  "liquor": {"category": "fruit_wine", "litres": 6, "abv": 13}})
    r = compute(decl)
    assert r.exemption is not None
    assert (r.lines[0].duty, r.lines[0].national_ct, r.lines[0].excise) == (0, 0, 600)
    assert _totals(decl) == (0, 0, 0, 600, 600)


def test_personal_use_16666_is_exempt() -> None:
    """Personal use: 16,666 × 0.6 = 9,999.6 ≤ 10,000 → exempt."""
    r = compute(_decl(_bag(16666), personal_use=True))
    assert r.lines[0].customs_value == Decimal("9999.6")
    assert r.exemption is not None
    assert r.totals.total == 0


def test_personal_use_16667_is_not_exempt() -> None:
    """16,667 × 0.6 = 10,000.2 > 10,000 → taxable: tv 10,000 × 8% = 800; ct_base floor_1000(10,000.2 + 800)
    = 10,000; nat 780 → 700; loc 700 × 22/78 = 197.4 → 197 → 100. total 1,600.
    """
    r = compute(_decl(_bag(16667), personal_use=True))
    assert r.lines[0].customs_value == Decimal("10000.2")
    assert r.exemption is None
    assert _totals(_decl(_bag(16667), personal_use=True)) == (800, 700, 100, 0, 1600)


def test_personal_use_separately_stated_freight_is_not_added() -> None:
    """Personal use, 16,000 + freight 3,000: value 16,000 × 0.6 = 9,600 (freight not added) → exempt.

    Not personal use: CIF 19,000 → tv 19,000 × 8% = 1,520 → 1,500; ct_base floor_1000(19,000 + 1,500) = 20,000;
    nat 1,560 → 1,500; loc floor_100(1,560) = 1,500 × 22/78 = 423.1 → 423 → 400. total 3,400.
    """
    pu = compute(_decl(_bag(16000, freight=3000), personal_use=True))
    assert pu.lines[0].customs_value == Decimal("9600.0")
    assert pu.exemption is not None and pu.totals.total == 0
    assert _totals(_decl(_bag(16000, freight=3000))) == (1500, 1500, 400, 0, 3400)


def test_reimport_exempts_duty_and_ct() -> None:
    """定率法14条10号 + 輸徴法13条: 6109.10-020 worth 300,000 re-imported unchanged → duty 0, CT 0."""
    r = compute(_decl({"hs_code": "6109.10-020", "origin": "CN", "value": 300000, "relief": "reimport"}))
    ln = r.lines[0]
    assert ln.relief is not None and ln.relief.startswith("定率法14条10号")
    assert (ln.duty, ln.national_ct, ln.local_ct) == (0, 0, 0)
    assert r.totals.total == 0


def test_reimport_after_ct_free_export_pays_ct() -> None:
    """Export was CT-free (消費税法7条): duty 0 but CT on 300,000: nat 23,400; loc 23,400 × 22/78 = 6,600.
    total 30,000.
    """
    decl = _decl({"hs_code": "6109.10-020", "origin": "CN", "value": 300000,
                  "relief": {"type": "reimport", "export_ct_free": True}})
    assert compute(decl).lines[0].duty == 0
    assert _totals(decl) == (0, 23400, 6600, 0, 30000)


@pytest.mark.parametrize("kind", ["repair", "定率法11条"])
def test_repair_relief_article_11(kind: str) -> None:
    """定率法11条: 4202.92-000 re-imported at 300,000 after repair; exported goods worth 200,000.

    full duty 300,000 × 8% = 24,000; reduction floor(24,000 × 200,000 / 300,000) = 16,000 → duty 8,000.
    CT not reduced: ct_base floor_1000(300,000 + 8,000) = 308,000; nat 24,024 → 24,000;
    loc floor_100(24,024) = 24,000 × 22/78 = 6,769.2 → 6,769 → 6,700. total 8,000 + 24,000 + 6,700 = 38,700.
    """
    decl = _decl(_bag(300000, relief={"type": kind, "export_value": 200000}))
    ln = compute(decl).lines[0]
    assert ln.relief is not None and ln.relief.startswith("定率法11条")
    assert (ln.duty, ln.ct_base) == (8000, 308000)
    assert _totals(decl) == (8000, 24000, 6700, 0, 38700)


def test_repair_needs_export_value() -> None:
    """定率法11条 without export_value → InputError on lines[0].relief.export_value."""
    with pytest.raises(InputError) as e:
        compute(_decl(_bag(300000, relief={"type": "repair"})))
    assert e.value.field == "lines[0].relief.export_value"


def test_repair_export_value_above_the_customs_value() -> None:
    """An export value above the re-import value cannot be right → InputError on the export_value."""
    with pytest.raises(InputError) as e:
        compute(_decl(_bag(300000, relief={"type": "repair", "export_value": 300001})))
    assert e.value.field == "lines[0].relief.export_value"


def test_outward_processing_eligible() -> None:
    """暫定法8条 (暫八), 6109.10-020 (chapter 61 is listed), 300,000 with Japanese materials worth 100,000.

    full 300,000 × 7.4% = 22,200; reduction floor(22,200 × 100,000 / 300,000) = 7,400 → 14,800.
    ct_base floor_1000(314,800) = 314,000; nat 24,492 → 24,400; loc floor_100(24,492) = 24,400 × 22/78 = 6,882.1
    → 6,882 → 6,800. total 14,800 + 24,400 + 6,800 = 46,000.
    """
    decl = _decl({"hs_code": "6109.10-020", "origin": "CN", "value": 300000,
                  "relief": {"type": "outward_processing", "japanese_value": 100000}})
    ln = compute(decl).lines[0]
    assert ln.relief is not None and ln.relief.startswith("暫定法8条")
    assert _totals(decl) == (14800, 24400, 6800, 0, 46000)


def test_outward_processing_ineligible_hs() -> None:
    """Roasted coffee (0901.21) is not a 暫八 product → InputError on lines[0].relief."""
    with pytest.raises(InputError) as e:
        compute(_decl({"hs_code": "0901.21-000", "origin": "CN", "value": 300000,
                       "relief": {"type": "outward_processing", "japanese_value": 100000}}))
    assert e.value.field == "lines[0].relief"


def test_outward_processing_leather_handbag() -> None:
    """暫八 on a handbag with an outer surface of leather (4202.21-110, WTO 14 %), 300,000 with Japanese materials
    worth 100,000: full 42,000; reduction floor(42,000 × 100,000 / 300,000) = 14,000 → 28,000. CT base
    floor_1000(328,000) = 328,000; nat 25,584 → 25,500; loc 25,500 × 22/78 = 7,192.3 → 7,192 → 7,100.
    Total 28,000 + 25,500 + 7,100 = 60,600."""
    decl = _decl({"hs_code": "4202.21-110", "origin": "CN", "value": 300000,
                  "relief": {"type": "outward_processing", "japanese_value": 100000}})
    assert _totals(decl) == (28000, 25500, 7100, 0, 60600)


@pytest.mark.parametrize("code", ["4203.21-210", "4202.22-200", "4202.92-000"])
def test_outward_processing_is_not_for_baseball_gloves_or_other_bags(code: str) -> None:
    """Only leather-surfaced bags and leather gloves other than baseball gloves (rules/reliefs.yaml): a baseball
    glove, a handbag of textile or plastic, a textile travel bag → InputError on lines[0].relief."""
    with pytest.raises(InputError) as e:
        compute(_decl({"hs_code": code, "origin": "CN", "value": 300000,
                       "relief": {"type": "outward_processing", "japanese_value": 100000}}))
    assert e.value.field == "lines[0].relief"
