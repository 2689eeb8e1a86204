"""図表2-4-1 computed from the data, on the page and in the workbook.

The expected figures are the plan's own (図表2-4-1, 千円), typed from its text.
"""

from io import BytesIO
from urllib.parse import unquote

import pytest
from django.urls import reverse

from budget.models import GeneralFundPlan, PlannedCost
from budget.selectors import plan_budget_table
from initiatives.models import Measure
from tests import workbooks

pytestmark = pytest.mark.django_db

PUBLISHED = {
    # row: [(経費, うち一般財源) for R4, R5, R6, R7, 計]
    "基本方針Ⅰ": [(19100, 2100), (170100, 107100), (222100, 152100), (215100, 157100), (626400, 418400)],
    "基本方針Ⅱ": [(29000, 4000), (108000, 106000), (27000, 26000), (450000, 343000), (614000, 479000)],
    "計": [(48100, 6100), (278100, 213100), (249100, 178100), (665100, 500100), (1240400, 897400)],
}


def as_published(row):
    return [(c.cost, c.general_fund) for c in row.cells] + [(row.total.cost, row.total.general_fund)]


def test_table_equals_figure_2_4_1_in_every_cell(plan, django_assert_num_queries):
    # 1 costs grouped by policy and year, 2 the revisions' first LCC changes (none: the plan as adopted),
    # 3 policies, 4 general fund grouped by policy and year
    with django_assert_num_queries(4):
        table = plan_budget_table(plan)
    assert table.years == [2022, 2023, 2024, 2025]
    computed = {row.label: as_published(row) for row in table.rows}
    computed[table.total.label] = as_published(table.total)
    assert computed == PUBLISHED


def test_table_follows_the_data(plan):
    """Change one measure's cost and one general fund row: the roll-up moves with them."""
    m = Measure.objects.get(plan=plan, name="テレワークの推進")  # 基本方針Ⅱ, R4 is "－"
    PlannedCost.objects.filter(measure=m, fiscal_year=2022).update(amount=500)
    GeneralFundPlan.objects.filter(policy__number=2, fiscal_year=2022).update(amount=4300)
    table = plan_budget_table(plan)
    policy_two = table.rows[1]
    assert (policy_two.cells[0].cost, policy_two.cells[0].general_fund) == (29500, 4300)
    assert table.total.total.cost == 1240900
    assert table.total.total.general_fund == 897700


def test_page_shows_the_figures_with_separators(client, viewer, plan):
    client.force_login(viewer)
    response = client.get(reverse("budget:budget_table", args=[plan.code]))
    assert response.status_code == 200
    html = response.content.decode()
    for figure in ("170,100", "107,100", "1,240,400", "897,400", "R5（2023）年度"):
        assert figure in html


def test_xlsx_download_recomputes_to_the_published_figures(client, viewer, plan):
    client.force_login(viewer)
    response = client.get(reverse("budget:budget_table_xlsx", args=[plan.code]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert "図表2-4-1" in unquote(disposition.split("''", 1)[1])

    book = workbooks.load(response.content)
    ws = book["図表2-4-1"]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    header = rows["区分"] - 1  # the fiscal years stand over their two columns
    assert [ws.cell(header, col).value for col in range(2, 11, 2)] == [
        "R4（2022）年度",
        "R5（2023）年度",
        "R6（2024）年度",
        "R7（2025）年度",
        "計",
    ]
    assert ws["A2"].value == "単位：千円"
    first, total = rows["基本方針Ⅰ"], rows["計"]
    # Typed figures are numbers with #,##0; every total is a formula.
    assert ws.cell(first, 4).value == 170100 and ws.cell(first, 4).number_format == "#,##0"
    assert str(ws.cell(first, 10).value).startswith("=SUM(")
    assert str(ws.cell(total, 2).value).startswith("=SUM(")
    assert ws.freeze_panes and ws.print_title_rows

    values = workbooks.evaluate(response.content, "図表2-4-1")
    for label, expected in PUBLISHED.items():
        r = rows[label]
        got = [(values[f"{a}{r}"], values[f"{b}{r}"]) for a, b in ("BC", "DE", "FG", "HI", "JK")]
        assert got == expected, label


def test_xlsx_totals_recompute_after_an_edit(client, viewer, plan):
    """Totals are formulas, so a figure corrected in Excel moves the 計 row."""
    client.force_login(viewer)
    content = client.get(reverse("budget:budget_table_xlsx", args=[plan.code])).content
    book = workbooks.load(content)
    ws = book["図表2-4-1"]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    ws.cell(rows["基本方針Ⅰ"], 2).value = 20100  # 基本方針Ⅰ R4 経費 +1,000
    out = BytesIO()
    book.save(out)
    values = workbooks.evaluate(out.getvalue(), "図表2-4-1")
    assert values[f"B{rows['計']}"] == 49100
    assert values[f"J{rows['計']}"] == 1241400
