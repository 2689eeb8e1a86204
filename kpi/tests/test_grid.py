"""The department grid: errors on their row (never a 500), nothing saved on any error, fixed queries."""

import pytest
from django.urls import reverse

from conftest import grid_data, grow_plan
from initiatives.models import Measure
from kpi.models import MeasureYear

pytestmark = pytest.mark.django_db

YEAR = 2025


@pytest.fixture
def measures(plan, department):
    """The three measures of Ⅰ-取組3, owned by the staff user's department, in grid order."""
    measures = list(Measure.objects.filter(plan=plan, initiative__policy__number=1, initiative__number=3))
    Measure.objects.filter(pk__in=[m.pk for m in measures]).update(department=department)
    return measures


def grid_url(plan, department, year=YEAR):
    return reverse("kpi:department_grid", args=[plan.code, year, department.code])


def test_funding_breakdown_error_is_shown_on_its_row(client, staff_user, plan, department, measures):
    """一般財源 is entered on the measure's page; a smaller 決算額 in the grid is refused on that row."""
    record = MeasureYear.objects.create(
        measure=measures[0], fiscal_year=YEAR, actual_cost=500, actual_general_fund=400, actual_other_funds=100
    )
    client.force_login(staff_user)
    rows = [(m, {"seen_version": "0"}) for m in measures]
    rows[0] = (measures[0], {"seen_version": str(record.version), "actual_cost": "300"})
    rows[1][1]["kpi_actual"] = "5"
    response = client.post(grid_url(plan, department), grid_data(rows))
    assert response.status_code == 200
    html = response.content.decode()
    row = html.split(f'id="row-{measures[0].code}"', 1)[1].split("</tr>", 1)[0]
    assert "財源の内訳が決算額を超えています。" in row
    assert "row-error" in html.split(f'id="row-{measures[0].code}"', 1)[0].rsplit("<tr", 1)[1]
    record.refresh_from_db()
    assert record.actual_cost == 500
    assert MeasureYear.objects.count() == 1  # the valid second row was not saved either


@pytest.mark.parametrize("typed", ["-1", "－１"])
def test_negative_number_is_shown_on_its_row(client, staff_user, plan, department, measures, typed):
    client.force_login(staff_user)
    rows = [(m, {"seen_version": "0", "work_done": "実施"}) for m in measures]
    rows[1][1]["actual_cost"] = typed
    response = client.post(grid_url(plan, department), grid_data(rows))
    assert response.status_code == 200
    row = response.content.decode().split(f'id="row-{measures[1].code}"', 1)[1].split("</tr>", 1)[0]
    assert "負の数は入力できません" in row
    assert not MeasureYear.objects.exists()


def test_rows_posted_for_other_measures_are_refused(client, staff_user, plan, department, measures):
    """A grid opened before the department's measures changed cannot write one measure's figures onto another."""
    client.force_login(staff_user)
    rows = [(m, {"seen_version": "0", "kpi_actual": "5"}) for m in reversed(measures)]
    response = client.post(grid_url(plan, department), grid_data(rows))
    assert response.status_code == 200
    assert "画面を開き直してから入力してください" in response.content.decode()
    assert not MeasureYear.objects.exists()


def test_tampered_management_form_is_an_error_not_a_500(client, staff_user, plan, department, measures):
    client.force_login(staff_user)
    data = grid_data([(m, {"seen_version": "0", "kpi_actual": "5"}) for m in measures])
    del data["grid-TOTAL_FORMS"]
    response = client.post(grid_url(plan, department), data)
    assert response.status_code == 200
    assert not MeasureYear.objects.exists()


def test_grid_queries_do_not_grow_with_the_plan(client, dx_user, plan, department, django_assert_num_queries):
    """The department owns every measure of the plan: 30 rows, then 3,000."""
    client.force_login(dx_user)
    Measure.objects.filter(plan=plan).update(department=department)
    # session, user; the user's roles (the DX推進部門 may enter every row); plan, department; the
    # department's measures: their count and the page's, with their KGI; their records of the year; their
    # targets of the year
    with django_assert_num_queries(9):
        small = client.get(grid_url(plan, department))
    grow_plan(plan, 2970, YEAR)
    Measure.objects.filter(plan=plan).update(department=department)
    with django_assert_num_queries(9):
        large = client.get(grid_url(plan, department))
    assert len(small.context["rows"]) == 30
    assert (len(large.context["rows"]), large.context["page_obj"].paginator.count) == (100, 3000)


def test_a_page_of_the_grid_saves_its_own_rows(client, staff_user, plan, department):
    """With more measures than a page holds, each page shows and saves its own rows, then comes back to itself."""
    grow_plan(plan, 120, YEAR)
    Measure.objects.filter(plan=plan).update(department=department)
    MeasureYear.objects.filter(measure__plan=plan).delete()
    client.force_login(staff_user)
    first = client.get(grid_url(plan, department)).context
    second = client.get(grid_url(plan, department), {"page": 2}).context
    on_first = [m for m, _, _ in first["rows"]]
    on_second = [m for m, _, _ in second["rows"]]
    assert len(on_first) + len(on_second) == Measure.objects.filter(plan=plan).count() == 150
    assert not {m.pk for m in on_first} & {m.pk for m in on_second}
    rows = [(m, {"seen_version": "0", "kpi_actual": "3"}) for m in on_second]
    response = client.post(f"{grid_url(plan, department)}?page=2", grid_data(rows))
    assert response.status_code == 302 and response["Location"].endswith("?page=2")
    saved = set(MeasureYear.objects.filter(fiscal_year=YEAR, kpi_actual=3).values_list("measure_id", flat=True))
    assert saved == {m.pk for m in on_second}
