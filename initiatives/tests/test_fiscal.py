from decimal import Decimal

import pytest

from initiatives import fiscal


@pytest.mark.parametrize(
    "year, label",
    [
        (2023, "R5（2023）年度"),
        (2022, "R4（2022）年度"),
        (2026, "R8（2026）年度"),
        (2019, "R1（2019）年度"),
        (2018, "H30（2018）年度"),
        (1989, "H1（1989）年度"),
    ],
)
def test_fiscal_year_label(year, label):
    assert fiscal.fiscal_year_label(year) == label


def test_long_label_uses_gannen_for_the_first_year():
    assert fiscal.fiscal_year_long(2019) == "令和元（2019）年度"
    assert fiscal.fiscal_year_long(2025) == "令和7（2025）年度"


def test_year_before_any_era_is_refused():
    with pytest.raises(ValueError):
        fiscal.fiscal_year_label(1900)


@pytest.mark.parametrize(
    "value, shown",
    [(None, "－"), (0, "0"), (170100, "170,100"), (1240400, "1,240,400"), (Decimal("427000.00"), "427,000")],
)
def test_amounts_keep_dash_apart_from_zero(value, shown):
    assert fiscal.format_amount(value) == shown


@pytest.mark.parametrize(
    "value, shown",
    [(Decimal("72.50"), "72.5"), (Decimal("98500.00"), "98,500"), (Decimal("0.00"), "0"), (None, "－")],
)
def test_kpi_numbers(value, shown):
    assert fiscal.format_number(value) == shown
