"""Every view that writes, for each role and for anonymous visitors.

Denied requests get 403 (or the login page) and leave the database unchanged.
"""

import pytest
from django.urls import reverse

from conftest import grid_data, make_user
from initiatives.roles import Role
from kpi.models import MeasureYear

pytestmark = pytest.mark.django_db

YEAR = 2025


def entry_data(value="70"):
    return {"seen_version": "0", "kpi_actual": value, "actual_cost": "", "work_done": "講座を実施"}


def snapshot():
    return sorted(MeasureYear.objects.values_list("measure_id", "fiscal_year", "status", "kpi_actual", "version"))


@pytest.fixture
def submitted(measure):
    return MeasureYear.objects.create(
        measure=measure, fiscal_year=YEAR, kpi_actual=70, work_done="x", status=MeasureYear.Status.SUBMITTED
    )


@pytest.fixture
def approved(measure):
    return MeasureYear.objects.create(
        measure=measure, fiscal_year=YEAR - 1, kpi_actual=70, work_done="x", status=MeasureYear.Status.APPROVED
    )


@pytest.fixture
def other_staff(db, other_department):
    return make_user("other-tantou", Role.DEPARTMENT, other_department)


USERS = ["dx_user", "staff_user", "other_staff", "viewer", "outsider", None]


def writes(measure, submitted, approved):
    """(name, url, data, users allowed) for every writing view."""
    p, c = measure.plan.code, measure.code
    return [
        ("edit", reverse("kpi:measure_year_edit", args=[p, c, YEAR - 2]), entry_data(), {"dx_user", "staff_user"}),
        (
            "grid",
            reverse("kpi:department_grid", args=[p, YEAR - 2, measure.department.code]),
            grid_data([(measure, entry_data())]),
            {"dx_user", "staff_user"},
        ),
        ("approve", reverse("kpi:approve", args=[p, c, YEAR]), {"seen_version": submitted.version}, {"dx_user"}),
        (
            "return",
            reverse("kpi:return", args=[p, c, YEAR]),
            {"seen_version": submitted.version, "comment": "根拠を添えて"},
            {"dx_user"},
        ),
        (
            "reopen",
            reverse("kpi:reopen", args=[p, c, YEAR - 1]),
            {"seen_version": approved.version, "comment": "数値の訂正"},
            {"dx_user"},
        ),
        (
            "bulk",
            reverse("kpi:bulk_approve", args=[p, YEAR]),
            {"record": [submitted.pk], f"version-{submitted.pk}": submitted.version},
            {"dx_user"},
        ),
    ]


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("view", ["edit", "grid", "approve", "return", "reopen", "bulk"])
def test_permission_matrix(client, request, measure, submitted, approved, who, view):
    name, url, data, allowed = next(w for w in writes(measure, submitted, approved) if w[0] == view)
    if who:
        client.force_login(request.getfixturevalue(who))
    before = snapshot()
    response = client.post(url, data)
    if who is None:
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert snapshot() == before
    elif who in allowed:
        assert response.status_code == 302, response.content.decode()[:500]
        assert snapshot() != before
    else:
        assert response.status_code in (403, 404)
        assert snapshot() == before


def test_staff_cannot_even_open_another_departments_form(client, staff_user, other_measure):
    client.force_login(staff_user)
    url = reverse("kpi:measure_year_edit", args=[other_measure.plan.code, other_measure.code, YEAR])
    assert client.get(url).status_code == 403


def test_measure_page_offers_entry_only_to_those_who_may(client, measure, staff_user, viewer):
    url = reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, YEAR])
    client.force_login(staff_user)
    assert url in client.get(measure.get_absolute_url()).content.decode()
    client.force_login(viewer)
    assert url not in client.get(measure.get_absolute_url()).content.decode()


def test_account_without_a_role_sees_no_page(client, outsider, measure):
    from initiatives.tests.test_pages import ALL_ROUTES, PUBLIC, route_urls

    client.force_login(outsider)
    urls = route_urls(measure.plan, ALL_ROUTES - PUBLIC - {"logout"})
    assert len(urls) > 10
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "役割" in response.content.decode()
