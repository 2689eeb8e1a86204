"""Reports: the page, the workbook and the CSV carry the figures computed from the data."""

import csv
import io
from urllib.parse import unquote

import pytest
from django.db.models import Sum
from django.urls import reverse

from budget.models import PlannedCost
from conftest import grow_plan
from initiatives.models import Measure
from kpi.models import MeasureYear
from tests import workbooks

pytestmark = pytest.mark.django_db

YEAR = 2025
DOWNLOAD = 1  # a download asks first whether the plan is small enough to build it within the request (budget.exports)


@pytest.fixture
def actuals(plan, department):
    rows = []
    for i, m in enumerate(Measure.objects.filter(plan=plan).order_by("pk")[:6]):
        m.department = department if i % 2 else None
        m.save()
        rows.append(
            MeasureYear.objects.create(
                measure=m,
                fiscal_year=YEAR,
                kpi_actual=i + 1,
                actual_cost=1000 * (i + 1),
                actual_general_fund=500,
                evaluation_comment=f"評価{i}",
                improvement="expand",
            )
        )
    return rows


def url(plan, kind, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("budget:report", args=[plan.code, kind]) + (f"?{query}" if query else "")


def sheet_rows(ws):
    return {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}


def test_hearing_workbook_totals_equal_the_data(client, viewer, plan, actuals):
    client.force_login(viewer)
    response = client.get(url(plan, "hearing", format="xlsx"))
    assert response.status_code == 200
    name = unquote(response["Content-Disposition"].split("''", 1)[1])
    assert name == "予算ヒアリング_大野城市DX推進計画_全年度.xlsx"

    book = workbooks.load(response.content)
    ws = book["予算ヒアリング"]
    rows = sheet_rows(ws)
    header = rows["施策コード"]
    headers = [ws.cell(header, c).value for c in range(1, ws.max_column + 1)]
    assert "LCC計画（千円）" in headers and "決算額（千円）" in headers
    assert ws.freeze_panes == f"C{header + 1}"
    assert ws.print_title_rows == f"${header - 1}:${header}" or ws.print_title_rows == f"{header - 1}:{header}"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.col_breaks.brk  # pages of at most 15 columns (test_hearings.py checks them)
    assert len([r for r in rows if r and str(r).startswith(("I-", "II-"))]) == 30

    values = workbooks.evaluate(response.content, "予算ヒアリング")
    total = rows["計"]
    lcc_columns = [c for c, h in enumerate(headers, start=1) if h == "LCC計画（千円）"]
    actual_columns = [c for c, h in enumerate(headers, start=1) if h == "決算額（千円）"]
    from openpyxl.utils import get_column_letter as letter

    planned = [values[f"{letter(c)}{total}"] for c in lcc_columns]
    assert planned == [48100, 278100, 249100, 665100]  # 図表2-4-1 計 per year
    spent = values[f"{letter(actual_columns[-1])}{total}"]
    assert spent == MeasureYear.objects.filter(fiscal_year=YEAR).aggregate(s=Sum("actual_cost"))["s"] == 21000
    cell = ws.cell(rows[actuals[0].measure.code], lcc_columns[-1])
    assert cell.number_format == "#,##0" and isinstance(cell.value, int)


def test_hearing_filters_by_department_and_year(client, viewer, plan, actuals, department):
    client.force_login(viewer)
    response = client.get(url(plan, "hearing", year=YEAR, department=department.code))
    rows = response.context["rows"]
    assert [r[0] for r in rows] == [a.measure.code for a in actuals if a.measure.department_id]
    columns = [c.header for c in response.context["report"].columns]
    assert columns.count("LCC計画（千円）") == 1
    first = rows[0]
    record = actuals[1]
    assert first[columns.index("決算額（千円）")] == record.actual_cost
    assert first[columns.index("R7 評価・要因分析")] == record.evaluation_comment
    assert first[columns.index("R7 改善方針")] == "拡充"


def test_csv_has_a_bom_and_the_same_rows(client, viewer, plan, actuals):
    client.force_login(viewer)
    page = client.get(url(plan, "hearing", year=YEAR)).context["rows"]
    response = client.get(url(plan, "hearing", year=YEAR, format="csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(parsed) == 1 + len(page) == 31
    assert parsed[0][0] == "施策コード"
    assert [row[0] for row in parsed[1:]] == [row[0] for row in page]


def test_execution_report_puts_actuals_beside_the_plan(client, viewer, plan, actuals):
    client.force_login(viewer)
    response = client.get(url(plan, "execution"))
    rows = response.context["rows"]
    r7 = {row[0]: row for row in rows if row[1] == "R7（2025）年度"}
    for label, policy_number in (("基本方針Ⅰ", 1), ("基本方針Ⅱ", 2)):
        planned = PlannedCost.objects.filter(
            measure__initiative__policy__number=policy_number, fiscal_year=YEAR
        ).aggregate(s=Sum("amount"))["s"]
        spent = MeasureYear.objects.filter(
            measure__initiative__policy__number=policy_number, fiscal_year=YEAR
        ).aggregate(s=Sum("actual_cost"))["s"]
        row = r7[label]
        assert row[2] == planned
        assert row[4] == spent
        assert row[6] == (round(spent / planned * 100, 1) if spent else None)
    values = workbooks.evaluate(client.get(url(plan, "execution", format="xlsx")).content, "経費の計画と実績")
    total = next(k[1:] for k, v in values.items() if k.startswith("A") and v == "計")
    assert values[f"C{total}"] == 1240400 and values[f"D{total}"] == 897400


@pytest.mark.parametrize(
    "kind, params, queries",
    [
        # session, user, groups, plan; facts: grade thresholds, delayed bars, one joined query per plan year (4);
        # the money chain's budget figures (the rest of the chain from the facts); the filter's departments (drawn
        # on the page only). The page reads those for its page of measures, after the pager's count and the page's
        # measures, and adds the whole filter's totals: planned costs, budget figures and records per year (+5)
        ("hearing", {}, 17),
        ("hearing", {"format": "xlsx"}, 11 + DOWNLOAD),
        ("hearing", {"format": "csv"}, 11 + DOWNLOAD),
        # session, user, groups, plan; measures (with KGI), KPI targets, planned costs, records, the revisions'
        # first KPI target and LCC changes, the revised rows. The page: those for its page of measures, after the
        # pager's count and the page's measures; the plan's totals: planned costs, records, the first LCC
        # changes (no more when no revision changed an LCC: budget.revised.original_cost_deltas) (+5)
        ("revised", {}, 16),
        ("revised", {"format": "xlsx"}, 11 + DOWNLOAD),
        ("revised", {"format": "csv"}, 11 + DOWNLOAD),
        # session, user, groups, plan, policies, planned costs (as revised: the plan in force), general fund,
        # actuals; the noted LCC cells with their measures' footnotes, for the 注記 column
        # (budget.selectors.cost_notes)
        ("execution", {}, 9),
        ("execution", {"format": "xlsx"}, 9 + DOWNLOAD),
        ("execution", {"format": "csv"}, 9 + DOWNLOAD),
        # session, user, groups, plan; measures (with KGI, department, initiative, policy), records, planned
        # costs, noted KPI targets, final evaluations, grade thresholds. The page: those for its page of
        # measures, after the pager's count and the page's measures; the totals of planned costs and records (+4)
        ("final", {}, 14),
        ("final", {"format": "xlsx"}, 10 + DOWNLOAD),
        ("final", {"format": "csv"}, 10 + DOWNLOAD),
        # session, user, groups, plan, policies, planned costs, the revisions' first LCC changes, general fund;
        # the noted LCC cells (as above)
        ("budget", {}, 9),
        ("budget", {"format": "xlsx"}, 9 + DOWNLOAD),
        ("budget", {"format": "csv"}, 9 + DOWNLOAD),
    ],
)
def test_report_queries_do_not_grow_with_measures(
    client, viewer, plan, kind, params, queries, django_assert_num_queries, settings
):
    settings.EXPORT_INLINE_MAX_MEASURES = 10_000  # built within the request at 3,000 measures too
    client.force_login(viewer)
    with django_assert_num_queries(queries):
        assert client.get(url(plan, kind, **params)).status_code == 200
    grow_plan(plan, 2970, YEAR)
    with django_assert_num_queries(queries):
        assert client.get(url(plan, kind, **params)).status_code == 200


def test_staff_text_is_exported_as_text_never_as_a_formula(client, viewer, plan, department):
    m = Measure.objects.get(plan=plan, name="デジタル・デバイド対策")
    MeasureYear.objects.create(
        measure=m,
        fiscal_year=YEAR,
        kpi_actual=70,
        evaluation_comment='=HYPERLINK("http://x","y")\x0b改行',
        improvement="continue",
        improvement_text="+1 拡大",
    )
    client.force_login(viewer)
    content = client.get(url(plan, "hearing", year=YEAR, format="xlsx")).content
    ws = workbooks.load(content)["予算ヒアリング"]
    rows = sheet_rows(ws)
    headers = [ws.cell(rows["施策コード"], c).value for c in range(1, ws.max_column + 1)]
    cell = ws.cell(rows[m.code], headers.index("R7 評価・要因分析") + 1)
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://x","y")改行'  # kept as typed, minus the control character
    parsed = list(
        csv.reader(io.StringIO(client.get(url(plan, "hearing", year=YEAR, format="csv")).content.decode("utf-8-sig")))
    )
    row = next(r for r in parsed if r[0] == m.code)
    assert row[parsed[0].index("R7 評価・要因分析")].startswith("'=HYPERLINK")
    assert row[parsed[0].index("R7 改善方針の内容")] == "'+1 拡大"
