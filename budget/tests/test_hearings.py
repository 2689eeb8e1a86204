"""The 予算ヒアリング as a step of the year: dates per department, the 確認・評価 and decision per measure,
the 事業シート (page, print, workbook) and a summary that prints at most about 15 columns a page."""

import re

import pytest
from django.urls import reverse
from openpyxl.utils import column_index_from_string

from budget.chain import chain_of
from budget.models import BudgetFigure, Hearing, HearingDecision
from budget.xlsx import COLUMNS_PER_PAGE
from initiatives.models import Department, Measure
from kpi import workflow
from kpi.models import BarStatus, MeasureYear
from tests import workbooks

pytestmark = pytest.mark.django_db

YEAR = 2025


@pytest.fixture
def measures(plan, department):
    """The six measures of Ⅰ-取組3, owned by the staff user's department, with figures and records."""
    measures = list(
        Measure.objects.filter(plan=plan, initiative__policy__number=1, initiative__number=3).order_by("ordinal")
    )
    Measure.objects.filter(pk__in=[m.pk for m in measures]).update(department=department)
    for i, m in enumerate(measures):
        for year in plan.fiscal_years:
            for n, stage in enumerate(BudgetFigure.Stage):
                BudgetFigure.objects.create(measure=m, fiscal_year=year, stage=stage, amount=100 * (i + 1) + n + year)
            MeasureYear.objects.create(
                measure=m,
                fiscal_year=year,
                kpi_actual=i + 1,
                actual_cost=50 * (i + 1) + year,
                evaluation_comment=f"評価{m.code}-{year}",
                improvement="expand",
                improvement_text=f"改善{m.code}-{year}",
            )
    return measures


def sheets_url(plan, department, **query):
    url = reverse("budget:hearing_sheets", args=[plan.code, YEAR, department.code])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_dx_office_sets_a_hearing_date_and_only_it(client, plan, department, measures, dx_user, staff_user, viewer):
    url = reverse("budget:hearing_edit", args=[plan.code, YEAR, department.code])
    for user in (staff_user, viewer):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"seen_version": 0, "held_on": "2025-11-05"}).status_code == 403
    client.force_login(viewer)
    outside = Department.objects.create(code="no-measures", name="施策のない課")
    assert client.get(reverse("budget:hearing_sheets", args=[plan.code, YEAR, outside.code])).status_code == 404
    client.force_login(dx_user)
    response = client.post(url, {"seen_version": 0, "held_on": "2025年11月5日"})
    assert "実施日は 2025-11-05 や 2025/11/05 の形で入力してください。" in response.content.decode()
    response = client.post(url, {"seen_version": 0, "held_on": "２０２５/１１/０５", "note": "第1会議室"})
    assert response.status_code == 302
    hearing = Hearing.objects.get()
    assert (str(hearing.held_on), hearing.department, hearing.version) == ("2025-11-05", department, 1)
    assert hearing.history.get().history_change_reason == "予算ヒアリング"
    # a second page opened before that save is refused, not applied over it
    response = client.post(url, {"seen_version": 0, "held_on": "2025/11/06"})
    assert str(workflow.Conflict()) in response.content.decode()
    client.force_login(staff_user)
    rows = client.get(reverse("budget:hearings", args=[plan.code, YEAR])).context["rows"]
    assert [(d.code, h and str(h.held_on), d.measure_count, n) for d, h, n in rows] == [
        (department.code, "2025-11-05", 6, 0)
    ]


def test_a_decision_is_recorded_by_the_dx_office_and_read_by_the_department(
    client, plan, department, measures, dx_user, staff_user, viewer
):
    measure = measures[1]
    url = reverse("budget:decision_edit", args=[plan.code, measure.code, YEAR])
    for user in (staff_user, viewer):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"seen_version": 0, "decision": "continue"}).status_code == 403
    client.force_login(dx_user)
    response = client.post(url, {"seen_version": 0, "evaluation": "進捗は順調", "decision": "improve"})
    assert "改善・見直しの内容を書いてください。" in response.content.decode()
    assert not HearingDecision.objects.exists()
    data = {"seen_version": 0, "evaluation": "進捗は順調", "decision": "improve", "decision_text": "対象地区を拡大"}
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"].endswith(f"#sheet-{measure.code}")
    decision = HearingDecision.objects.get()
    assert (decision.measure, decision.fiscal_year, decision.decision) == (measure, YEAR, "improve")
    assert decision.version == 1

    client.force_login(staff_user)
    page = client.get(measure.get_absolute_url()).content.decode()
    assert "予算ヒアリングの確認・評価" in page and "進捗は順調" in page and "改善</strong> — 対象地区を拡大" in page
    assert "予算ヒアリングの確認・評価" in page.split("変更履歴", 1)[1]  # and in the history
    html = client.get(sheets_url(plan, department)).content.decode()
    assert html.count('class="business-sheet"') == 6
    sheet = html.split(f'id="sheet-{measure.code}"', 1)[1].split("</article>", 1)[0]
    assert "進捗は順調" in sheet and "改善 — 対象地区を拡大" in sheet
    assert reverse("budget:decision_edit", args=[plan.code, measure.code, YEAR]) not in html  # staff: no link
    rows = client.get(reverse("budget:hearings", args=[plan.code, YEAR])).context["rows"]
    assert [n for _, _, n in rows] == [1]


def test_each_measure_has_its_a4_portrait_sheet_with_the_figures_of_the_data(
    client, plan, department, measures, viewer, dx_user
):
    measure = measures[0]
    record = MeasureYear.objects.get(measure=measure, fiscal_year=YEAR)
    bar = measure.schedule_bars.first()
    BarStatus.objects.create(measure_year=record, bar=bar, state=BarStatus.State.DELAYED)
    decision = HearingDecision(measure=measure, fiscal_year=YEAR, evaluation="確認済み", decision="revise")
    decision.decision_text = "統合"
    workflow.save_review(decision, dx_user, 0, "予算ヒアリング")
    client.force_login(viewer)
    response = client.get(sheets_url(plan, department, format="xlsx"))
    assert response.status_code == 200
    book = workbooks.load(response.content)
    assert book.sheetnames == ["予算ヒアリング", *(m.code for m in measures)]
    chain = chain_of(Measure.objects.filter(pk__in=[m.pk for m in measures]), plan.fiscal_years)
    for m in measures:
        ws = book[m.code]
        assert ws.page_setup.orientation == "portrait" and int(ws.page_setup.paperSize) == 9
        # fitToWidth left out reads as 1, its default in the file format (ECMA-376 CT_PageSetup); XlsxWriter omits it
        assert ws.sheet_properties.pageSetUpPr.fitToPage and int(ws.page_setup.fitToWidth or 1) == 1
        assert int(ws.page_setup.fitToHeight) == 0
        cells = [[c.value for c in row] for row in ws.iter_rows()]
        texts = [str(v) for row in cells for v in row if v is not None]
        assert f"{m.code}　{m.name}" in texts and m.kgi.text in texts
        header = next(i for i, row in enumerate(cells) if row[0] == "年度" and row[5] == "LCC")
        for offset, year in enumerate(plan.fiscal_years, start=1):
            amounts = cells[header + offset][5:10]
            assert amounts == chain(m.pk, year).amounts, (m.code, year)
        assert f"評価{m.code}-{YEAR}" in texts  # the year's self-evaluation
        assert f"拡充 — 改善{m.code}-{YEAR - 1}" in texts  # last year's 改善方針
    sheet = [str(c.value) for row in book[measure.code].iter_rows() for c in row if c.value is not None]
    assert "確認済み" in sheet and "見直し — 統合" in sheet
    schedule = {row[0].value: row[1].value for row in book[measure.code].iter_rows() if row[0].value}
    assert schedule[bar.label].endswith("進捗：遅延")  # the year's reported progress of that bar

    # the summary sheet: its totals recompute to the stored 決算額 of the department's measures
    summary = book["予算ヒアリング"]
    total_row = next(r for r in range(1, summary.max_row + 1) if summary.cell(r, 1).value == "計")
    header_row = next(r for r in range(1, summary.max_row + 1) if summary.cell(r, 1).value == "施策コード")
    column = next(c for c in range(1, summary.max_column + 1) if summary.cell(header_row, c).value == "決算額（千円）")
    values = workbooks.evaluate(response.content, "予算ヒアリング")
    letter = summary.cell(header_row, column).column_letter
    assert values[f"{letter}{total_row}"] == sum(m.years.get(fiscal_year=YEAR).actual_cost for m in measures)


def printed_pages(ws):
    """[(first, last)] columns of each printed page, from the sheet's manual column breaks."""
    breaks = sorted(b.id for b in ws.col_breaks.brk)
    edges = [0, *breaks, ws.max_column]
    return [(a + 1, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def test_the_all_years_summary_prints_at_most_about_15_columns_a_page(client, viewer, plan):
    client.force_login(viewer)
    response = client.get(reverse("budget:report", args=[plan.code, "hearing"]), {"format": "xlsx"})
    ws = workbooks.load(response.content)["予算ヒアリング"]
    assert ws.max_column > 40  # four years of chain and KPI columns: several pages wide
    titles = re.fullmatch(r"\$?([A-Z]+):\$?([A-Z]+)", ws.print_title_cols)
    first, last = (column_index_from_string(c) for c in titles.groups())
    assert (first, last) == (1, 2)  # 施策コード and 個別施策 on every page
    pages = printed_pages(ws)
    assert len(pages) >= 3
    for number, (a, b) in enumerate(pages):
        repeated = 0 if number == 0 else last - first + 1
        assert b - a + 1 + repeated <= COLUMNS_PER_PAGE, (a, b)
    assert not ws.sheet_properties.pageSetUpPr.fitToPage  # Excel ignores manual breaks under "fit to"
    assert 10 <= ws.page_setup.scale <= 100
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows
