"""The one display of a KPI value (kpi.models.kpi_text): as the plan prints it, on every page and in the API.

The plan's KPI rows (seed: 大野城市DX推進計画) print "30%減" (II-1-1), "0件" (I-5-3, II-1-3, II-5-2),
"1 業務※2" (II-2-1), "1(試行)" and "導入を決定した全窓口*2" (I-6-1), "－" for no target.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from initiatives.models import Measure
from kpi.models import Direction, KpiTarget, MeasureYear, kpi_text
from kpi.tests.test_actuals_workbook import download, rows_of

YEAR = 2025


@pytest.mark.parametrize(
    "args, kwargs, text, number, number_format",
    [
        # a number with its unit; the workbook's format reads the same
        ((40, "", "手続"), {}, "40手続", 40, '#,##0"手続"'),
        ((Decimal("72.50"), "", "%"), {}, "72.5%", 72.5, '#,##0.0"%"'),
        ((98500, "", "件"), {}, "98,500件", 98500, '#,##0"件"'),
        ((Decimal("0.25"), "", ""), {}, "0.25", 0.25, "#,##0.00"),
        # 削減率: the reduction, for a target and an actual alike
        ((30, "", "%"), {"direction": Direction.REDUCTION}, "30%減", 30, '#,##0"%減"'),
        ((25, "", "%"), {"direction": Direction.REDUCTION, "actual": True}, "25%減", 25, '#,##0"%減"'),
        # 低いほど良い: 0件 as printed (nothing is below 0); a target above 0 is a ceiling; an actual is a count
        ((0, "", "件"), {"direction": Direction.LOWER}, "0件", 0, '#,##0"件"'),
        ((5, "", "件"), {"direction": Direction.LOWER}, "5件以下", 5, '#,##0"件以下"'),
        ((2, "", "件"), {"direction": Direction.LOWER, "actual": True}, "2件", 2, '#,##0"件"'),
        # the plan's note in brackets
        ((1, "", "業務", "※2"), {}, "1業務（※2）", 1, '#,##0"業務（※2）"'),
        ((1, "", "窓口", "試行"), {}, "1窓口（試行）", 1, '#,##0"窓口（試行）"'),
        # a quote in a note stays a literal of the format (closed, escaped, reopened)
        ((1, "", "件", 'a"b'), {}, '1件（a"b）', 1, '#,##0"件（a"\\""b）"'),
        # text as written, with its note; none is "－"
        ((None, "導入を決定した全窓口", "窓口", "※2"), {}, "導入を決定した全窓口（※2）", None, ""),
        ((None, ""), {"direction": Direction.REDUCTION}, "－", None, ""),
    ],
)
def test_kpi_text_reads_as_the_plan_prints(args, kwargs, text, number, number_format):
    shown = kpi_text(*args, **kwargs)
    assert shown == text
    assert shown.number == number and type(shown.number) is type(number)
    assert shown.number_format == number_format
    assert shown.is_none == (text == "－")


def test_a_note_too_long_for_a_number_format_is_written_as_text():
    shown = kpi_text(1, "", "件", "※" * 250)
    assert shown == f"1件（{'※' * 250}）"
    assert shown.number is None  # Excel refuses a number format over 255 characters


def measure(plan, code):
    return Measure.objects.select_related("kgi").get(plan=plan, code=code)


def test_the_fixture_reads_as_the_plan(plan):
    """Each shape of the plan's KPI rows, from the data (targets by KpiTarget.display, the KGI by its own)."""
    expected = {
        "II-1-1": ["30%減"] * 4,  # 削減率
        "II-1-3": ["0件"] * 4,  # 低いほど良い, 0件 as printed
        "II-5-2": ["－", "－", "0件", "0件"],
        "II-2-1": ["1業務（※2）"] * 3 + ["20業務（※3）"],  # 累計, with the plan's footnote marks
        "I-6-1": ["－", "1窓口（試行）", "導入を決定した全窓口（※2）", "導入を決定した全窓口（※2）"],
        "I-3-3": ["72.5%", "75%", "77.5%", "80%"],
    }
    for code, shown in expected.items():
        m = measure(plan, code)
        targets = {t.fiscal_year: t for t in KpiTarget.objects.filter(measure=m)}
        assert [targets[y].display(m.kgi) for y in plan.fiscal_years] == shown, code
    assert measure(plan, "II-1-1").kgi.target_display() == "30%減"
    assert measure(plan, "II-1-3").kgi.target_display() == "0件"
    assert measure(plan, "I-6-1").kgi.target_display() == "導入を決定した全窓口"


@pytest.fixture
def reduction(plan, department):
    """II-1-1 (target 30%減 every year) with an actual of 25 (a 25% reduction) in R7."""
    m = measure(plan, "II-1-1")
    m.department = department
    m.save()
    MeasureYear.objects.create(
        measure=m,
        fiscal_year=YEAR,
        kpi_actual=25,
        work_done="RPAを5業務に拡大",
        status=MeasureYear.Status.SUBMITTED,  # so the PDCA page lists it for approval
    )
    return m


def test_measure_page_entry_form_and_lists_show_30_percent_reduction(client, dx_user, plan, reduction):
    client.force_login(dx_user)
    response = client.get(reduction.get_absolute_url())
    html = response.content.decode()
    assert html.count('<td class="num">30%減</td>') == 4  # the target of every year
    assert '<td class="num">25%減</td>' in html  # the R7 actual
    kpi_chart = response.context["charts"]["kpi"]  # the chart's hover text
    assert kpi_chart["target_labels"] == ["30%減"] * 4 and kpi_chart["actual_labels"][-1] == "25%減"
    form = client.get(reverse("kpi:measure_year_edit", args=[plan.code, reduction.code, YEAR])).content.decode()
    assert "<dd>30%減（" in form
    listing = client.get(reverse("kpi:measure_list"), {"plan": plan.code, "year": YEAR}).content.decode()
    assert '<td class="num">30%減</td>' in listing and '<td class="num">25%減</td>' in listing
    grid = client.get(
        reverse("kpi:department_grid", args=[plan.code, YEAR, reduction.department.code])
    ).content.decode()
    assert '<td class="num">30%減</td>' in grid
    pdca = client.get(reverse("kpi:pdca", args=[plan.code, YEAR])).content.decode()
    assert '<td class="num">30%減</td>' in pdca and '<td class="num">25%減</td>' in pdca


def test_the_actuals_workbook_shows_the_target_as_the_plan(client, dx_user, plan, reduction):
    client.force_login(dx_user)
    _, rows = rows_of(download(client, plan, reduction.department))
    assert rows[reduction.code]["KPI目標"] == "30%減"
