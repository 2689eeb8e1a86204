"""The money chain: LCC (the ceiling) → 実施計画額 → 予算要求額 → 査定額 → 決算額, per measure and year.

Every figure round-trips through the pages, the hearing workbook and its CSV; funding sources that do
not add up are refused with a Japanese message; a request above the LCC is flagged; each stage's table
has 図表2-4-1's layout and adds up the stored figures.
"""

import csv
import io

import pytest
from django.urls import reverse

from budget.models import BudgetFigure, PlannedCost
from initiatives.fiscal import fiscal_year_label
from initiatives.models import Measure
from kpi import workflow
from kpi.models import KpiTarget, MeasureYear
from tests import workbooks

pytestmark = pytest.mark.django_db

YEAR = 2025
STAGES = list(BudgetFigure.Stage)


def amount_for(index, year, stage):
    """A distinct figure per measure, year and stage (some "－")."""
    if (index + year) % 7 == 0:
        return None
    return (index + 1) * 1000 + (year - 2000) * 10 + STAGES.index(stage)


@pytest.fixture
def chain(plan):
    """Every measure-year of the plan with all three stages and a 決算額."""
    measures = list(Measure.objects.filter(plan=plan).order_by("pk"))
    BudgetFigure.objects.bulk_create(
        BudgetFigure(
            measure=m, fiscal_year=year, stage=stage, amount=amount_for(i, year, stage), note=f"{m.code}-{year}"
        )
        for i, m in enumerate(measures)
        for year in plan.fiscal_years
        for stage in STAGES
    )
    MeasureYear.objects.bulk_create(
        MeasureYear(measure=m, fiscal_year=year, actual_cost=(i + 1) * 900 + year % 10, kpi_actual=1)
        for i, m in enumerate(measures)
        for year in plan.fiscal_years
    )
    return measures


def stored(plan):
    """{(code, year, stage label): amount} straight from the tables, with the LCC and 決算額 beside them."""
    out = {}
    for f in BudgetFigure.objects.filter(measure__plan=plan).select_related("measure"):
        out[(f.measure.code, f.fiscal_year, str(f.get_stage_display()))] = f.amount
    for c in PlannedCost.objects.filter(measure__plan=plan).select_related("measure"):
        out[(c.measure.code, c.fiscal_year, "LCC")] = c.amount
    for r in MeasureYear.objects.filter(measure__plan=plan).select_related("measure"):
        out[(r.measure.code, r.fiscal_year, "決算額")] = r.actual_cost
    return out


def test_every_figure_round_trips_through_the_pages_the_workbook_and_the_csv(client, viewer, plan, chain):
    expected = stored(plan)
    assert len([k for k in expected if k[2] in ("実施計画額", "予算要求額", "査定額")]) == 30 * 4 * 3
    client.force_login(viewer)
    labels = {"LCC（上限）": "LCC", "決算額": "決算額"}

    # the chain page of each year
    seen = {}
    for year in plan.fiscal_years:
        page = client.get(reverse("budget:chain", args=[plan.code, year])).context
        names = [labels.get(label, label) for label in page["labels"]]
        for measure, year_chain, _ in page["rows"]:
            for name, value in zip(names, year_chain.amounts, strict=True):
                seen[(measure.code, year, name)] = value
    assert {k: v for k, v in seen.items() if k in expected} == expected
    assert all(v is None for k, v in seen.items() if k not in expected)

    # the hearing workbook (all years) and its CSV: a column per year and stage
    def by_header(year_label, header):
        header = header.replace("（千円）", "")
        if header == "LCC計画":
            header = "LCC"
        year = next(y for y in plan.fiscal_years if fiscal_year_label(y) == year_label)
        return year, header

    url = reverse("budget:report", args=[plan.code, "hearing"])
    book = workbooks.load(client.get(url, {"format": "xlsx"}).content)
    ws = book["予算ヒアリング"]
    header_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "施策コード")
    in_book, group = {}, ""
    columns = {}
    for c in range(1, ws.max_column + 1):
        group = ws.cell(header_row - 1, c).value or group
        header = ws.cell(header_row, c).value
        if group and header.endswith("（千円）"):
            columns[c] = by_header(group, header)
    for r in range(header_row + 1, ws.max_row + 1):
        code = ws.cell(r, 1).value
        if code == "計":
            break
        for c, (year, name) in columns.items():
            in_book[(code, year, name)] = ws.cell(r, c).value
    assert {k: v for k, v in in_book.items() if k in expected} == expected

    content = client.get(url, {"format": "csv"}).content.decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(content)))
    in_csv = {}
    for row in parsed[1:]:
        for header, value in zip(parsed[0], row, strict=True):
            if "年度 " in header and header.endswith("（千円）"):
                year_label, name = header.split(" ", 1)
                key = (row[0], *by_header(year_label, name))
                in_csv[key] = int(value) if value else None
    assert {k: v for k, v in in_csv.items() if k in expected} == expected


def test_stage_tables_have_the_plans_layout_and_add_up_the_stored_figures(client, viewer, plan, chain):
    client.force_login(viewer)
    page = client.get(reverse("budget:budget_table", args=[plan.code])).context
    plan_table = page["table"]
    assert (plan_table.total.total.cost, plan_table.total.total.general_fund) == (1240400, 897400)
    tables = dict(page["stage_tables"])
    assert list(tables) == ["実施計画額", "予算要求額", "査定額", "決算額"]
    for label, table in tables.items():
        assert table.years == plan_table.years and [r.label for r in table.rows] == [r.label for r in plan_table.rows]
        for row in table.rows:
            for year, cell in zip(table.years, row.cells, strict=True):
                if label == "決算額":
                    amounts = MeasureYear.objects.filter(
                        measure__initiative__policy=row.policy, fiscal_year=year
                    ).values_list("actual_cost", flat=True)
                else:
                    amounts = BudgetFigure.objects.filter(
                        measure__initiative__policy=row.policy,
                        fiscal_year=year,
                        stage__in=[s for s in STAGES if s.label == label],
                    ).values_list("amount", flat=True)
                assert cell.cost == sum(a or 0 for a in amounts), (label, row.label, year)
        grand = sum(cell.cost for row in table.rows for cell in row.cells)
        assert table.total.total.cost == grand


def figure_url(plan, measure, stage, year=YEAR):
    return reverse("budget:figure_edit", args=[plan.code, measure.code, year, stage])


@pytest.fixture
def measure(plan, department):
    measure = Measure.objects.get(plan=plan, code="I-3-1")
    measure.department = department
    measure.save()
    return measure


def test_funding_sources_must_add_up_to_the_amount(client, staff_user, plan, measure):
    client.force_login(staff_user)
    url = figure_url(plan, measure, "request")
    data = {"seen_version": 0, "amount": "１，０００", "national": "500", "fund": "200", "general_fund": "200"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "財源の合計（900千円）が金額（1,000千円）と一致しません。" in response.content.decode()
    assert not BudgetFigure.objects.exists()
    response = client.post(url, {**data, "amount": "－", "national": "", "fund": "", "general_fund": "5"})
    assert "金額が「－」（なし）のときは財源を入力できません。" in response.content.decode()
    assert not BudgetFigure.objects.exists()
    response = client.post(url, {**data, "other": "１００"})
    assert response.status_code == 302
    figure = BudgetFigure.objects.get()
    assert (figure.amount, *figure.funding) == (1000, 500, 200, 200, 100)
    assert (figure.stage, figure.version, figure.is_sample) == ("request", 1, False)
    history = figure.history.get()
    assert (history.history_user, history.history_change_reason) == (staff_user, "予算要求額")
    # a change from the version shown saves; the same page posted again is refused, not applied twice
    assert client.post(url, {"seen_version": 1, "amount": "800", "general_fund": "800"}).status_code == 302
    response = client.post(url, {"seen_version": 1, "amount": "700"})
    assert str(workflow.Conflict()) in response.content.decode()
    figure.refresh_from_db()
    assert (figure.amount, figure.general_fund, figure.national, figure.version) == (800, 800, None, 2)


def test_a_request_above_the_ceiling_needs_a_reason_and_is_flagged(client, staff_user, viewer, plan, measure):
    ceiling = PlannedCost.objects.get(measure=measure, fiscal_year=YEAR).amount
    client.force_login(staff_user)
    url = figure_url(plan, measure, "request")
    response = client.post(url, {"seen_version": 0, "amount": str(ceiling + 1)})
    assert "予算要求額がLCC（投資可能な上限額：" in response.content.decode()
    assert f"{ceiling:,}千円）を超えています。超える理由を書いてください。" in response.content.decode()
    assert not BudgetFigure.objects.exists()
    assert client.post(url, {"seen_version": 0, "amount": str(ceiling + 1), "note": "機器の更新"}).status_code == 302

    client.force_login(viewer)
    page = client.get(reverse("budget:chain", args=[plan.code, YEAR]), {"flagged": "on"})
    assert [m.code for m, _, _ in page.context["rows"]] == [measure.code]
    assert 'data-flag="over_ceiling"' in page.content.decode()
    measure_page = client.get(measure.get_absolute_url()).content.decode()
    assert "予算要求額が計画のLCC（投資可能な上限額）を超えています。" in measure_page
    dashboard = client.get(reverse("home"), {"plan": plan.code, "year": YEAR})
    assert [(flag.code, count) for flag, count in dashboard.context["budget_flags"]] == [
        ("over_ceiling", 1),
        ("settled_over_assessed", 0),
        ("money_without_progress", 0),
    ]
    assert f"{reverse('budget:chain', args=[plan.code, YEAR])}?flagged=on" in dashboard.content.decode()
    filtered = client.get(reverse("home"), {"plan": plan.code, "year": YEAR, "department": measure.department_id})
    link = f"{reverse('budget:chain', args=[plan.code, YEAR])}?flagged=on&amp;department={measure.department.code}"
    assert link in filtered.content.decode()  # the link keeps the dashboard's department
    other_year = client.get(reverse("home"), {"plan": plan.code, "year": YEAR - 1}).context["budget_flags"]
    assert [count for _, count in other_year] == [0, 0, 0]

    url = reverse("budget:report", args=[plan.code, "hearing"])
    ws = workbooks.load(client.get(url, {"format": "xlsx", "year": YEAR}).content)["予算ヒアリング"]
    header_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "施策コード")
    flags = next(c for c in range(1, ws.max_column + 1) if ws.cell(header_row, c).value == "注意")
    flagged = {
        ws.cell(r, 1).value: ws.cell(r, flags).value
        for r in range(header_row + 1, ws.max_row + 1)
        if ws.cell(r, flags).value
    }
    assert flagged == {measure.code: "要求がLCC超過"}


def test_settled_above_assessed_and_money_without_a_kpi_result_are_flagged(client, viewer, plan, measure):
    BudgetFigure.objects.create(measure=measure, fiscal_year=YEAR, stage="assessed", amount=100)
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, actual_cost=120)
    client.force_login(viewer)
    rows = client.get(reverse("budget:chain", args=[plan.code, YEAR])).context["rows"]
    flags = {m.code: [f.code for f in c.flags] for m, c, _ in rows if c.flags}
    assert flags == {measure.code: ["settled_over_assessed", "money_without_progress"]}

    # a year whose KPI the plan leaves "－" (a build year) is not flagged for spending without a KPI result
    build = Measure.objects.get(plan=plan, code="II-3-2")
    target = KpiTarget.objects.filter(measure=build, fiscal_year=2024).first()
    assert target is None or (target.value is None and not target.text)
    MeasureYear.objects.create(measure=build, fiscal_year=2024, actual_cost=2000)
    rows = client.get(reverse("budget:chain", args=[plan.code, 2024])).context["rows"]
    assert [c.flags for m, c, _ in rows if m.code == "II-3-2"] == [[]]


@pytest.mark.parametrize(
    "stage, allowed",
    [("request", {"dx", "staff"}), ("assessed", {"dx"}), ("implementation", {"dx"})],
)
def test_who_enters_each_stage(client, plan, measure, other_department, dx_user, staff_user, viewer, stage, allowed):
    """The 担当課 requests for its own measures; the DX推進部門 plans, assesses (and may request)."""
    other = Measure.objects.get(plan=plan, code="I-1-1")
    other.department = other_department
    other.save()
    for who, user in (("dx", dx_user), ("staff", staff_user), ("viewer", viewer)):
        client.force_login(user)
        for target in (measure, other):
            may = who in allowed and (who == "dx" or target == measure)
            assert client.get(figure_url(plan, target, stage)).status_code == (200 if may else 403), (who, target)
            response = client.post(figure_url(plan, target, stage), {"seen_version": 0, "amount": "10"})
            assert response.status_code == (302 if may else 403), (who, target)
            BudgetFigure.objects.filter(stage=stage).delete()
    # the door asks the row's own rule: a 担当課 cannot write another department's figure, nor a 査定額
    with pytest.raises(workflow.NotAllowed):
        figure = BudgetFigure(measure=other, fiscal_year=YEAR, stage=stage, amount=1)
        workflow.save_year_figure(figure, staff_user, 0, "x")
    if stage != "request":
        with pytest.raises(workflow.NotAllowed):
            workflow.save_year_figure(BudgetFigure(measure=measure, fiscal_year=YEAR, stage=stage), staff_user, 0, "x")


def test_chain_page_links_to_the_stages_the_user_enters(client, staff_user, plan, measure):
    client.force_login(staff_user)
    html = client.get(reverse("budget:chain", args=[plan.code, YEAR])).content.decode()
    assert figure_url(plan, measure, "request") in html
    assert figure_url(plan, measure, "assessed") not in html
    assert client.get(reverse("budget:chain", args=[plan.code, 2030])).status_code == 404
    assert client.get(figure_url(plan, measure, "nonsense")).status_code == 404
