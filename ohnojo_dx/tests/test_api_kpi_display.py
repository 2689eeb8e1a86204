"""The API reads KPI values as the pages do (kpi.models.kpi_text) and carries the 注記 of the hearing report."""

import pytest

from budget.reports import hearing_report
from initiatives.models import Measure
from kpi.models import MeasureYear
from ohnojo_dx.tests.api_helpers import YEAR, fast_passwords, plan_url, send, token_for, year_url  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def api(client, viewer):
    headers = token_for(viewer)
    return lambda url: send(client, "GET", url, **headers).json()


def test_a_reduction_reads_30_percent_reduction_in_every_answer(api, plan):
    measure = Measure.objects.select_related("plan").get(plan=plan, code="II-1-1")
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=25)
    years = api(year_url(measure).rsplit(f"{YEAR}/", 1)[0])
    assert [y["target_display"] for y in years] == ["30%減"] * 4
    assert years[-1]["kpi_actual_display"] == "25%減" and years[0]["kpi_actual_display"] == "－"
    detail = api(plan_url(plan, "measures", measure.code))
    assert detail["kgi"]["target_display"] == "30%減"
    assert [t["display"] for t in detail["kpi_targets"]] == ["30%減"] * 4
    records = api(plan_url(plan, "records") + f"?measure={measure.code}")["results"]
    assert [(r["target_display"], r["kpi_actual_display"]) for r in records] == [("30%減", "25%減")]
    hearing = api(plan_url(plan, "hearing") + f"?year={YEAR}")["results"]
    row = next(r for r in hearing if r["code"] == measure.code)
    assert (row["years"][0]["target_display"], row["years"][0]["actual_display"]) == ("30%減", "25%減")


def test_the_hearing_answer_carries_the_notes_of_the_report(api, plan):
    """The same 注記 as the report's column, for every measure (notes of all years)."""
    report = hearing_report(plan)
    index = [c.header for c in report.columns].index("注記")
    expected = {row[0]: row[index] for row in report.rows}
    page = plan_url(plan, "hearing") + "?page_size=1000"
    results = api(page)["results"]
    assert {row["code"]: row["notes"] for row in results} == expected
    assert any(expected.values())
    standard = next(r for r in results if r["code"] == "II-2-1")
    assert [y["planned_cost_note"] for y in standard["years"]] == ["※4"] * 4
    assert [y["target_display"] for y in standard["years"]] == ["1業務（※2）"] * 3 + ["20業務（※3）"]
