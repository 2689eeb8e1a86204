"""The pages' permission matrix, repeated on the API: every role × every write endpoint, and the reads.

Who may write is the pages' predicate: entering and submitting (portal.enter_measure) for the DX推進部門 and
the 担当課 of the measure's department; approving, returning and reopening (portal.approve) for the
DX推進部門. Everyone else is refused, and the record stays exactly as it was.
"""

import pytest

from conftest import make_user
from initiatives.models import Measure
from initiatives.roles import Role
from kpi.models import MeasureYear
from ohnojo_dx.tests.api_helpers import (  # noqa: F401 (fast_passwords: a fixture)
    YEAR,
    approved,
    fast_passwords,
    plan_url,
    send,
    snapshot,
    token_for,
    year_url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

ROLES = ["dx", "staff", "other_staff", "viewer", "outsider", "anonymous"]
ENTERS = {"dx", "staff"}
APPROVES = {"dx"}

ENTRY = {"kpi_actual": 70, "actual_cost": 1200, "work_done": "講座を12回開催"}


def draft(measure):
    return MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=60, work_done="講座")


def submitted(measure):
    return MeasureYear.objects.create(
        measure=measure, fiscal_year=YEAR, kpi_actual=60, work_done="講座", status="submitted"
    )


# (endpoint, method, step, body, the record it acts on, who may)
WRITES = [
    ("PUT", "PUT", "", ENTRY, draft, ENTERS),
    ("PATCH", "PATCH", "", ENTRY, draft, ENTERS),
    ("submit", "POST", "submit", {}, draft, ENTERS),
    ("approve", "POST", "approve", {}, submitted, APPROVES),
    ("return", "POST", "return", {"comment": "決算額を確認してください。"}, submitted, APPROVES),
    ("reopen", "POST", "reopen", {"comment": "決算額の訂正"}, lambda m: approved(m, kpi_actual=60), APPROVES),
]


@pytest.fixture
def measure(plan, department):
    measure = Measure.objects.select_related("plan").get(plan=plan, code="I-3-3")
    measure.department = department
    measure.save()
    return measure


@pytest.fixture
def other_staff(other_department):
    """A 担当課 of another department than the measure's."""
    return make_user("tantou-other", Role.DEPARTMENT, other_department)


@pytest.fixture
def as_role(client, request):
    """A client signed in as the role: by token (a script) or by session (the browser), or anonymous."""
    fixtures = {"dx": "dx_user", "staff": "staff_user", "other_staff": "other_staff"}

    def sign_in(role, by="token"):
        if role == "anonymous":
            return client, {}
        user = request.getfixturevalue(fixtures.get(role, role))
        if by == "session":
            client.force_login(user)
            return client, {}
        return client, token_for(user)

    return sign_in


@pytest.mark.parametrize("by", ["token", "session"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name, method, step, body, record, allowed", WRITES, ids=[w[0] for w in WRITES])
def test_every_role_on_every_write(as_role, measure, role, by, name, method, step, body, record, allowed):
    record = record(measure)
    before = snapshot(measure)
    client, headers = as_role(role, by)
    response = send(client, method, year_url(measure, step=step), {"version": record.version, **body}, **headers)
    if role in allowed:
        assert response.status_code == 200, response.json()
        assert response.json()["version"] == record.version + 1
        assert snapshot(measure) != before
        return
    assert snapshot(measure) == before, "a refused write changed the record"
    assert response["Content-Type"] == "application/json"
    if role == "anonymous":
        assert response.status_code == 401
        assert response.json() == {"detail": "認証情報が含まれていません。", "code": "not_authenticated"}
    elif role == "outsider":
        assert response.status_code == 403
        assert "役割" in response.json()["detail"]
    else:
        assert response.status_code == 403
        assert response.json() == {"detail": "この操作を行う権限がありません。", "code": "permission_denied"}


READS = ["", "policies", "initiatives", "measures", "measures/I-3-3", "measures/I-3-3/years", "records", "budget"]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_on_the_reads(as_role, plan, measure, role):
    """Every page is open to every role (viewer included); the API's reads likewise."""
    client, headers = as_role(role)
    urls = ["/api/plans/", "/api/schema/", year_url(measure), plan_url(plan, "hearing") + "?year=2025"]
    urls += [plan_url(plan, *filter(None, [part])) for part in READS]
    for url in urls:
        response = client.get(url, **headers)
        expected = {"anonymous": 401, "outsider": 403}.get(role, 200)
        assert response.status_code == expected, (url, response.content[:200])
        if expected != 200:
            assert response.json()["detail"], url


def test_an_anonymous_request_is_never_sent_to_the_login_page(client, plan):
    """LoginRequiredMiddleware would redirect a page; the API answers JSON 401 with the scheme to use."""
    for method in ("GET", "PATCH", "POST"):
        response = send(client, method, plan_url(plan, "measures", "I-3-3", "years", YEAR, "submit"), {})
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert response.json()["code"] == "not_authenticated"
