"""計画期間の総括: the KGI over the period per measure, the period's totals, the carry-over decision."""

import csv
import io

import pytest
from django.db.models import Sum
from django.urls import reverse

from budget.models import FinalEvaluation, PlannedCost
from initiatives.fiscal import counted
from initiatives.models import Measure
from kpi import workflow
from kpi.models import MeasureYear
from tests import workbooks

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(plan):
    """Every measure-year with a 決算額; KPI actuals for some."""
    out = []
    for i, m in enumerate(Measure.objects.filter(plan=plan).order_by("pk")):
        for year in plan.fiscal_years:
            out.append(
                MeasureYear(
                    measure=m,
                    fiscal_year=year,
                    actual_cost=(i + 1) * 100 + year % 10,
                    kpi_actual=i % 5 if i % 3 else None,
                )
            )
    MeasureYear.objects.bulk_create(out)
    return out


def url(plan, **query):
    return reverse("budget:report", args=[plan.code, "final"]) + (
        "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    )


def test_totals_equal_the_sums_of_the_yearly_figures(client, viewer, plan, records):
    client.force_login(viewer)
    page = client.get(url(plan)).context
    headers = [c.header for c in page["report"].columns]
    lcc, spent = headers.index("LCC計（千円）"), headers.index("決算額計（千円）")
    by_code = {row[0]: row for row in page["rows"]}
    assert len(by_code) == 30
    for m in Measure.objects.filter(plan=plan):
        planned = sum(counted(a) for a in PlannedCost.objects.filter(measure=m).values_list("amount", flat=True))
        assert by_code[m.code][lcc] == planned
        assert by_code[m.code][spent] == MeasureYear.objects.filter(measure=m).aggregate(s=Sum("actual_cost"))["s"]
    assert sum(row[lcc] for row in page["rows"]) == 1240400  # 図表2-4-1's 計
    content = client.get(url(plan, format="xlsx")).content
    ws = workbooks.load(content)["計画期間の総括"]
    total_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "計")
    values = workbooks.evaluate(content, "計画期間の総括")
    letters = {h: ws.cell(total_row, i + 1).column_letter for i, h in enumerate(headers)}
    assert values[f"{letters['LCC計（千円）']}{total_row}"] == PlannedCost.objects.aggregate(s=Sum("amount"))["s"]
    assert (
        values[f"{letters['決算額計（千円）']}{total_row}"] == MeasureYear.objects.aggregate(s=Sum("actual_cost"))["s"]
    )
    rows = list(csv.reader(io.StringIO(client.get(url(plan, format="csv")).content.decode("utf-8-sig"))))
    assert len(rows) == 31 and rows[0][lcc].endswith("LCC計（千円）")
    assert {r[0]: int(r[spent]) for r in rows[1:]} == {code: row[spent] for code, row in by_code.items()}


def test_the_kgi_column_uses_the_final_year_and_marks_a_provisional_one(client, viewer, plan):
    level = Measure.objects.get(plan=plan, code="I-1-2")  # キャッシュレス決済による支払い比率：40%
    lower = Measure.objects.get(plan=plan, code="II-5-2")  # 情報セキュリティ事故の件数：0件
    reduction = Measure.objects.get(plan=plan, code="II-1-1")  # 業務時間削減率：導入前と比べて30%減
    MeasureYear.objects.create(measure=reduction, fiscal_year=2025, kpi_actual=24)
    for year, value in ((2023, 30), (2024, 36), (2025, 44)):
        MeasureYear.objects.create(measure=level, fiscal_year=year, kpi_actual=value)
    for year, value in ((2022, 0), (2023, 1), (2024, 0)):
        MeasureYear.objects.create(measure=lower, fiscal_year=year, kpi_actual=value)
    client.force_login(viewer)
    page = client.get(url(plan)).context
    headers = [c.header for c in page["report"].columns]
    rows = {row[0]: dict(zip(headers, row, strict=True)) for row in page["rows"]}
    assert (rows["I-1-2"]["期間の実績"], rows["I-1-2"]["達成度（%）"], rows["I-1-2"]["評価"]) == (
        "44%（R7）",
        110.0,
        "S",
    )
    # the worst year, R5's 1件, against 0件; R7 not entered yet: provisional
    assert (rows["II-5-2"]["期間の実績"], rows["II-5-2"]["達成度（%）"], rows["II-5-2"]["評価"]) == (
        "1件（R5時点・暫定）",
        0.0,
        "D",
    )
    # 24 ÷ 30 = 80.0% → B, read as the plan prints a reduction
    assert (rows["II-1-1"]["期間の実績"], rows["II-1-1"]["達成度（%）"], rows["II-1-1"]["評価"]) == (
        "24%減（R7）",
        80.0,
        "B",
    )
    # the measure page reads the same row
    final = client.get(level.get_absolute_url()).content.decode().split('id="final"', 1)[1].split("</section>")[0]
    assert "44%（R7）" in final and "110.0%" in final and "grade-S" in final


def test_the_dx_office_records_the_carry_over_and_the_page_shows_who_and_why(client, plan, dx_user, staff_user, viewer):
    measure = Measure.objects.get(plan=plan, code="II-4-2")
    edit = reverse("budget:final_edit", args=[plan.code, measure.code])
    for user in (staff_user, viewer):
        client.force_login(user)
        assert client.get(edit).status_code == 403
        assert client.post(edit, {"seen_version": 0, "carry_over": "continue"}).status_code == 403
    client.force_login(dx_user)
    response = client.post(edit, {"seen_version": 0, "carry_over": "merge"})
    assert "統合・廃止の場合は、その理由を総括に書いてください。" in response.content.decode()
    assert not FinalEvaluation.objects.exists()
    response = client.post(edit, {"seen_version": 0, "carry_over": "merge", "comment": "研修はII-4-1と統合して継続"})
    assert response.status_code == 302
    response = client.post(edit, {"seen_version": 0, "carry_over": "abolish", "comment": "古い画面から"})
    assert str(workflow.Conflict()) in response.content.decode()
    evaluation = FinalEvaluation.objects.get()
    assert (evaluation.carry_over, evaluation.version) == ("merge", 1)
    history = evaluation.history.get()
    assert (history.history_user, history.history_change_reason) == (dx_user, "計画期間の総括")

    client.force_login(viewer)
    page = client.get(measure.get_absolute_url()).content.decode()
    final = page.split('id="final"', 1)[1].split("</section>", 1)[0]
    assert "統合" in final and "研修はII-4-1と統合して継続" in final
    rows = client.get(url(plan)).context["rows"]
    row = next(r for r in rows if r[0] == measure.code)
    assert row[-3:-1] == ["統合", "研修はII-4-1と統合して継続"]
