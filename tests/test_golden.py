"""Golden figures: official examples (CA 1111, 関税法基本通達13の4-2) and hand-worked rounding cases.

Every expected figure is worked by hand in the docstring from the pipeline of the shared reference §0:
tv = floor_1000(CIF); duty = floor(tv × rate) per line, total floor_100(Σ); ct_base =
floor_1000(CIF + floor_100(duty) + excise); nat = floor(ct_base × 7.8% | 6.24%);
loc = floor(floor_100(nat) × 22/78); totals floor_100(Σ).
"""

from __future__ import annotations

from typing import Any

from xlduty import compute

DATE = "2026-11-01"


def _decl(*lines: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"date": DATE, "simplified": "never", "lines": list(lines), **kw}


def test_e1_customs_answer_1111() -> None:
    """E1 = Customs Answer 1111 (official figures).

    A: CIF 534,795, 14 %, standard.  B: CIF 126,258, 14 %, reduced (6.24 %).
    tv: A floor_1000(534,795) = 534,000; B 126,000.
    duty: A 534,000 × 14% = 74,760; B 126,000 × 14% = 17,640; Σ 92,400 → floor_100 = 92,400.
    ct_base: A floor_1000(534,795 + 74,700) = floor_1000(609,495) = 609,000;
             B floor_1000(126,258 + 17,600) = floor_1000(143,858) = 143,000.
    nat: A 609,000 × 7.8% = 47,502; B 143,000 × 6.24% = 8,923.2 → 8,923; Σ 56,425 → 56,400.
    loc: A floor_100(47,502) = 47,500 × 22/78 = 13,397.4 → 13,397;
         B 8,900 × 22/78 = 2,510.2 → 2,510; Σ 15,907 → 15,900.
    total 92,400 + 56,400 + 15,900 = 164,700.
    """
    r = compute(_decl({"rate": "14%", "value": 534795},
                      {"rate": "14%", "value": 126258, "reduced_ct": True}))
    a, b = r.lines
    assert (a.taxable_value, a.duty, a.ct_base, a.national_ct, a.local_ct) == (534000, 74760, 609000, 47502, 13397)
    assert (b.taxable_value, b.duty, b.ct_base, b.national_ct, b.local_ct) == (126000, 17640, 143000, 8923, 2510)
    t = r.totals
    assert (t.duty, t.national_ct, t.local_ct, t.excise, t.total) == (92400, 56400, 15900, 0, 164700)
    assert t.consumption_tax == 72300


def test_e2_single_line_guide_example() -> None:
    """E2: CIF 500,000 at 12 %, standard rate.

    tv 500,000; duty 500,000 × 12% = 60,000 → 60,000.
    ct_base floor_1000(500,000 + 60,000) = 560,000; nat 560,000 × 7.8% = 43,680 → floor_100 43,600.
    loc floor_100(43,680) = 43,600 × 22/78 = 12,297.4 → 12,297 → floor_100 12,200.
    total 60,000 + 43,600 + 12,200 = 115,800.
    """
    r = compute(_decl({"rate": "12%", "value": 500000}))
    ln = r.lines[0]
    assert (ln.taxable_value, ln.duty, ln.ct_base, ln.national_ct, ln.local_ct) == (500000, 60000, 560000, 43680, 12297)
    t = r.totals
    assert (t.duty, t.national_ct, t.local_ct, t.total) == (60000, 43600, 12200, 115800)


def test_e3_tsutatsu_13_4_2_example() -> None:
    """E3: duty = 関税法基本通達13の4-2 official example; CT hand-worked.

    A 253,195 at 10.5 %: tv 253,000 × 0.105 = 26,565.  B 321,283 at 12.6 %: 321,000 × 0.126 = 40,446.
    duty Σ 67,011 → floor_100 67,000 (official).
    ct_base A floor_1000(253,195 + 26,500) = floor_1000(279,695) = 279,000;
            B floor_1000(321,283 + 40,400) = floor_1000(361,683) = 361,000.
    nat A 279,000 × 7.8% = 21,762; B 361,000 × 7.8% = 28,158; Σ 49,920 → 49,900.
    loc A 21,700 × 22/78 = 6,120.5 → 6,120; B 28,100 × 22/78 = 7,925.6 → 7,925; Σ 14,045 → 14,000.
    total 67,000 + 49,900 + 14,000 = 130,900.
    """
    r = compute(_decl({"rate": "10.5%", "value": 253195}, {"rate": "12.6%", "value": 321283}))
    assert [ln.duty for ln in r.lines] == [26565, 40446]
    assert [ln.ct_base for ln in r.lines] == [279000, 361000]
    assert [ln.national_ct for ln in r.lines] == [21762, 28158]
    assert [ln.local_ct for ln in r.lines] == [6120, 7925]
    t = r.totals
    assert (t.duty, t.national_ct, t.local_ct, t.total) == (67000, 49900, 14000, 130900)


def test_three_lines_of_10999_yen_are_rounded_per_line() -> None:
    """Reference §11.5: three lines of 10,999 yen at 10 % give 6,100 per line (6,700 on totals would be wrong).

    Per line: tv floor_1000(10,999) = 10,000; duty 1,000.
    ct_base floor_1000(10,999 + 1,000) = floor_1000(11,999) = 11,000; nat 11,000 × 7.8% = 858.
    loc floor_100(858) = 800 × 22/78 = 225.6 → 225.
    Totals: duty 3 × 1,000 = 3,000; nat 3 × 858 = 2,574 → 2,500; loc 3 × 225 = 675 → 600.
    total 3,000 + 2,500 + 600 = 6,100.
    (Declaration-level: tv 32,000 → duty 3,200; base floor_1000(32,997 + 3,200) = 36,000 → nat 2,808 → 2,800;
    loc 2,800 × 22/78 = 789 → 700; 6,700 — not what Customs charges.)
    """
    line = {"rate": "10%", "value": 10999}
    r = compute(_decl(line, line, line))
    for ln in r.lines:
        assert (ln.taxable_value, ln.duty, ln.ct_base, ln.national_ct, ln.local_ct) == (10000, 1000, 11000, 858, 225)
    t = r.totals
    assert (t.duty, t.national_ct, t.local_ct, t.total) == (3000, 2500, 600, 6100)
    assert t.total != 6700


def test_national_ct_under_100_per_line_gives_no_local_ct() -> None:
    """§1.4 consequence: tiny lines each with national CT < 100 have local CT 0, yet national CT is due.

    Six lines of 1,999 yen (total 11,994 > 10,000: no de minimis), rate 無税:
    per line tv floor_1000(1,999) = 1,000; duty 0; ct_base floor_1000(1,999 + 0) = 1,000;
    nat 1,000 × 7.8% = 78; loc floor_100(78) = 0 × 22/78 = 0.
    Totals: nat 6 × 78 = 468 → 400; loc 0; duty 0; total 400.
    """
    line = {"rate": "無税", "value": 1999}
    r = compute(_decl(*[line] * 6))
    assert r.exemption is None
    assert [(ln.national_ct, ln.local_ct) for ln in r.lines] == [(78, 0)] * 6
    t = r.totals
    assert (t.duty, t.national_ct, t.local_ct, t.total) == (0, 400, 0, 400)


def test_whole_duty_under_100_yen_is_zero() -> None:
    """通則法119条: a duty total under 100 yen is not collected.

    Value 12,000 at 0.5 %: tv 12,000; duty 12,000 × 0.5% = 60 (line) → floor_100(60) = 0 payable.
    ct_base floor_1000(12,000 + floor_100(60) = 0) = 12,000; nat 936 → 900;
    loc floor_100(936) = 900 × 22/78 = 253.8 → 253 → 200.  total 0 + 900 + 200 = 1,100.
    """
    r = compute(_decl({"rate": "0.5%", "value": 12000}))
    ln = r.lines[0]
    assert (ln.duty, ln.ct_base, ln.national_ct, ln.local_ct) == (60, 12000, 936, 253)
    t = r.totals
    assert (t.duty, t.national_ct, t.local_ct, t.total) == (0, 900, 200, 1100)


def test_duty_lines_summed_before_the_100_yen_cut() -> None:
    """Duty is truncated once on the sum (通達13の4-2(1)), not per line.

    Two lines of 1,500 yen at 5 % (plus a free 10,000-yen line so the total 13,000 is not de minimis):
    each tv 1,000 × 5% = 50; Σ 50 + 50 + 0 = 100 → floor_100 = 100 (per-line cutting would give 0).
    """
    r = compute(_decl({"rate": "5%", "value": 1500}, {"rate": "5%", "value": 1500},
                      {"rate": "無税", "value": 10000}))
    assert [ln.duty for ln in r.lines] == [50, 50, 0]
    assert r.totals.duty == 100
