"""Legal rounding (関税法13条の4; 国税通則法118条・119条; 関税法基本通達13の4-1, 13の4-2)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xlduty.core.rounding import (
    floor_yen,
    quantity_decimals,
    truncate_quantity,
    truncate_tax_amount,
    truncate_tax_base,
    yen_text,
)


@pytest.mark.parametrize(("amount", "base"), [
    (0, 0),
    (999, 0),                          # a whole base under 1,000 yen is 0
    (Decimal("999.99"), 0),
    (1000, 1000),
    (1999, 1000),
    (Decimal("10000.2"), 10000),
    (534795, 534000),                  # CA 1111 line A
    (Decimal("609495"), 609000),       # CA 1111 line A CT base
    (Decimal("299902.7"), 299000),
])
def test_truncate_tax_base(amount: int | Decimal, base: int) -> None:
    """Tax base: fractions below 1,000 yen dropped (通則法118条1項)."""
    assert truncate_tax_base(amount) == base
    assert isinstance(truncate_tax_base(amount), int)


@pytest.mark.parametrize(("amount", "payable"), [
    (0, 0),
    (98, 0),                           # a whole amount under 100 yen is 0
    (99, 0),
    (100, 100),
    (250, 200),                        # reference §1.1
    (67011, 67000),                    # 通達13の4-2 example
    (56425, 56400),                    # CA 1111 national CT
    (Decimal("8923.2"), 8900),
])
def test_truncate_tax_amount(amount: int | Decimal, payable: int) -> None:
    """Tax amount: fractions below 100 yen dropped (通則法119条1項)."""
    assert truncate_tax_amount(amount) == payable


@pytest.mark.parametrize(("amount", "yen"), [(0, 0), (Decimal("8923.2"), 8923), (Decimal("0.99"), 0), (74760, 74760)])
def test_floor_yen(amount: int | Decimal, yen: int) -> None:
    """Fractions of a yen dropped (per-line duty and CT, CA 1111)."""
    assert floor_yen(amount) == yen


@pytest.mark.parametrize(("rate", "kept"), [
    (Decimal("50"), Decimal("12")),        # 2 integer digits → whole units
    (Decimal("361"), Decimal("12.3")),     # 3 integer digits → 1 decimal
    (Decimal("4800"), Decimal("12.34")),   # 4 integer digits → 2 decimals
    (Decimal("5"), Decimal("12")),         # 1 digit → whole units
    (Decimal("99.99"), Decimal("12")),     # the integer part counts: 99 → 2 digits
    (Decimal("161.50"), Decimal("12.3")),
    (Decimal("12000"), Decimal("12.345")),  # 5 digits → 3 decimals
])
def test_truncate_quantity_digit_rule(rate: Decimal, kept: Decimal) -> None:
    """通達13の4-2(2): 12.345 kg at 50円 → 12; at 361円 → 12.3; at 4,800円 → 12.34 (n digits → n−2 decimals)."""
    assert truncate_quantity(Decimal("12.345"), rate) == kept


@pytest.mark.parametrize(("rate", "decimals"), [
    (Decimal("1"), 0), (Decimal("99"), 0), (Decimal("100"), 1), (Decimal("999.99"), 1),
    (Decimal("1000"), 2), (Decimal("1700000"), 5),
])
def test_quantity_decimals(rate: Decimal, decimals: int) -> None:
    """Decimal places kept for a yen rate with n integer digits: max(n − 2, 0)."""
    assert quantity_decimals(rate) == decimals


def test_truncate_quantity_never_rounds_up() -> None:
    """12.999 at 50円 → 12 (truncation, not rounding); an exact quantity is unchanged."""
    assert truncate_quantity(Decimal("12.999"), Decimal("50")) == 12
    assert truncate_quantity(Decimal("12.3"), Decimal("361")) == Decimal("12.3")


@pytest.mark.parametrize(("amount", "text"), [
    (1234567, "1,234,567"),
    (Decimal("1234.5"), "1,234.5"),
    (Decimal("1E+3"), "1,000"),
    (Decimal("0.000"), "0"),
    (Decimal("-0"), "0"),
    (Decimal("12.00001"), "12.00001"),
    (Decimal("155390.1234567"), "155,390.123456"),          # cut after six places, not rounded
    (Decimal("910999.9999999999999999999999"), "910,999.999999"),   # never rounded up to 911,000
    (Decimal("-12.5"), "-12.5"),
])
def test_yen_text_cuts_and_never_rounds_up(amount: int | Decimal, text: str) -> None:
    """An explanation's figure agrees with the floor printed beside it: floor_1000(910,999.999999…) = 910,000."""
    assert yen_text(amount) == text
