"""The dashboard, the reports and 図表2-4-1 show the same sums of the same money."""

import pytest
from django.core.management import call_command

from budget.reports import execution_rows, hearing_report
from budget.selectors import plan_budget_table
from initiatives.fiscal import fiscal_year_label
from initiatives.models import Measure
from kpi.achievement import grade_scale
from kpi.facts import classified
from kpi.rollup import summarise

pytestmark = pytest.mark.django_db


@pytest.fixture
def entered(plan):
    call_command("load_demo")  # sample actuals for every year, through the workflow
    return plan


def test_policy_sums_agree_everywhere(entered):
    plan = entered
    table = plan_budget_table(plan)
    execution = {(row.label, row.year): (row.planned, row.actual) for row in execution_rows(plan)}
    hearing = hearing_report(plan)
    columns = [c.group + c.header for c in hearing.columns]
    hearing_rows = list(hearing.rows)
    checked = 0
    for year_index, year in enumerate(table.years):
        summaries = summarise(plan, year, classified(Measure.objects.filter(plan=plan), year, grade_scale(plan)))
        dashboard = {row.label.split(" ")[0]: row for row in summaries if row.level == "policy"}
        planned_col = columns.index(f"{fiscal_year_label(year)}LCC計画（千円）")
        actual_col = columns.index(f"{fiscal_year_label(year)}決算額（千円）")
        for row in table.rows:
            cell = row.cells[year_index]
            policy = dashboard[row.label]
            assert policy.planned == cell.cost == execution[row.label, year][0], (row.label, year)
            assert policy.actual == execution[row.label, year][1], (row.label, year)
            mine = [r for r in hearing_rows if r[2].startswith(row.label + " ")]
            assert sum(r[planned_col] or 0 for r in mine) == cell.cost, (row.label, year)
            assert sum(r[actual_col] or 0 for r in mine) == (policy.actual or 0), (row.label, year)
            checked += 1
    assert checked == 8  # 2 policies × 4 years
    assert any(execution[key][1] for key in execution)  # the sample actuals were summed, not only "－"
