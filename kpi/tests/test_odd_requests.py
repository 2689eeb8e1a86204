"""Requests no form would send: years outside every era, ids too large for the database, a deleted approver."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from kpi.models import MeasureYear

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("year", [1988, 0, 99999])
@pytest.mark.parametrize("route", ["pdca", "edit", "grid"])
def test_years_outside_the_plan_and_every_era_answer_404(client, dx_user, measure, route, year):
    client.force_login(dx_user)
    plan = measure.plan
    url = {
        "pdca": reverse("kpi:pdca", args=[plan.code, year]),
        "edit": reverse("kpi:measure_year_edit", args=[plan.code, measure.code, year]),
        "grid": reverse("kpi:department_grid", args=[plan.code, year, measure.department.code]),
    }[route]
    assert client.get(url).status_code == 404


def test_oversized_record_id_in_bulk_approval_is_a_form_error(client, dx_user, measure):
    record = MeasureYear.objects.create(measure=measure, fiscal_year=2025, kpi_actual=1, status="submitted")
    client.force_login(dx_user)
    url = reverse("kpi:bulk_approve", args=[measure.plan.code, 2025])
    response = client.post(url, {"record": ["9999999999999999999", record.pk], "version-9999999999999999999": "1"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "一括承認を中止しました（何も承認していません）。選んだ施策は承認待ちではありません。" in page
    record.refresh_from_db()
    assert record.status == "submitted"


def test_oversized_version_counts_as_stale(client, dx_user, measure):
    record = MeasureYear.objects.create(measure=measure, fiscal_year=2025, kpi_actual=1, status="submitted")
    client.force_login(dx_user)
    url = reverse("kpi:bulk_approve", args=[measure.plan.code, 2025])
    response = client.post(url, {"record": [record.pk], f"version-{record.pk}": "9" * 30})
    assert "他の人が更新しています" in client.get(response["Location"]).content.decode()
    record.refresh_from_db()
    assert record.status == "submitted"


def test_measure_page_shows_an_approved_year_whose_approver_was_deleted(client, viewer, measure):
    approver = User.objects.create_user("former-dx")
    MeasureYear.objects.create(
        measure=measure, fiscal_year=2024, kpi_actual=70, status="approved", approved_by=approver
    )
    approver.delete()
    client.force_login(viewer)
    response = client.get(measure.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "承認者のアカウントは削除されています" in html and "承認済み（ロック）" in html


@pytest.mark.parametrize("step", ["approve", "return", "reopen"])
def test_oversized_seen_version_is_refused_not_a_500(client, dx_user, measure, step):
    record = MeasureYear.objects.create(measure=measure, fiscal_year=2025, kpi_actual=1, status="submitted")
    client.force_login(dx_user)
    url = reverse(f"kpi:{step}", args=[measure.plan.code, measure.code, 2025])
    response = client.post(url, {"seen_version": "9" * 25, "comment": "理由"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.status, record.version) == ("submitted", 1)


def test_oversized_seen_version_on_the_entry_form_is_a_form_error(client, staff_user, measure):
    client.force_login(staff_user)
    url = reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, 2025])
    response = client.post(url, {"seen_version": "9" * 25, "kpi_actual": "1"})
    assert response.status_code == 200
    assert not MeasureYear.objects.exists()
