"""The odd shapes of the plan's KGI/KPI rows, read back from the data."""

from decimal import Decimal

import pytest

from initiatives.models import Measure
from kpi.models import Direction

pytestmark = pytest.mark.django_db


def measure(plan, name):
    return Measure.objects.select_related("kgi").get(plan=plan, name=name)


def targets(m):
    return {t.fiscal_year: t for t in m.kpi_targets.all()}


def test_digital_divide_starts_at_72_5_percent(plan):
    m = measure(plan, "デジタル・デバイド対策")
    assert m.kgi.unit == "%"
    assert targets(m)[2022].value == Decimal("72.5")
    assert targets(m)[2022].display(m.kgi) == "72.5%"
    assert [targets(m)[y].value for y in (2023, 2024, 2025)] == [75, Decimal("77.5"), 80]


def test_nursery_target_is_zero_incidents_lower_is_better(plan):
    m = measure(plan, "保育事務のデジタル化")
    assert m.kgi.direction == Direction.LOWER
    assert m.kgi.target == 0
    assert m.kgi.unit == "件"
    assert all(t.value == 0 and not t.is_none for t in targets(m).values())


def test_ai_rpa_is_a_30_percent_reduction(plan):
    m = measure(plan, "AI・RPAの利活用拡大")
    assert m.kgi.direction == Direction.REDUCTION
    assert m.kgi.target == 30
    assert m.kgi.unit == "%"
    assert [t.value for t in targets(m).values()] == [30, 30, 30, 30]


def test_standard_systems_cumulative_one_to_twenty(plan):
    m = measure(plan, "標準システム導入")
    assert m.kgi.is_cumulative
    assert m.kgi.target == 20
    assert m.kgi.unit == "業務"
    assert [targets(m)[y].value for y in (2022, 2023, 2024, 2025)] == [1, 1, 1, 20]
    costs = dict(m.planned_costs.values_list("fiscal_year", "amount"))
    assert costs == {2022: 0, 2023: 0, 2024: 0, 2025: 427000}


def test_counter_windows_have_text_targets(plan):
    m = measure(plan, "書かない・待たない窓口の導入")
    t = targets(m)
    assert t[2022].is_none
    assert t[2023].value == 1 and t[2023].note == "試行"
    for year in (2024, 2025):
        assert t[year].value is None
        assert t[year].text == "導入を決定した全窓口"
    assert m.kgi.target is None
    assert m.kgi.target_text == "導入を決定した全窓口"


def test_telework_costs_zero_from_r5_but_none_in_r4(plan):
    m = measure(plan, "テレワークの推進")
    costs = dict(m.planned_costs.values_list("fiscal_year", "amount"))
    assert costs[2022] is None
    assert [costs[y] for y in (2023, 2024, 2025)] == [0, 0, 0]
