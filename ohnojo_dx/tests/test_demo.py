"""Demo data is labelled サンプル and kept apart from the plan."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from initiatives.models import Department, Measure
from initiatives.roles import Role
from ohnojo_dx.demo import ACCOUNTS, DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_plan_fixture_has_no_departments(plan):
    assert not Department.objects.exists()
    assert not Measure.objects.filter(department__isnull=False).exists()


def test_demo_adds_sample_departments_and_one_account_per_role(plan, client):
    call_command("load_demo")
    call_command("load_demo")  # running it again changes nothing
    assert Department.objects.count() > 0
    assert not Department.objects.filter(is_sample=False).exists()
    assert not Measure.objects.filter(plan=plan, department__isnull=True).exists()
    roles = {}
    for username, *_ in ACCOUNTS:
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD)
        assert "サンプル" in user.first_name
        roles[user.groups.get().portal_role.role] = user
    assert set(roles) == {role.value for role in Role}
    # The admin admits by role: the DX推進部門 account, not the viewer (neither is marked is_staff).
    assert client.get("/admin/").status_code == 302
    client.force_login(roles[Role.DX_OFFICE.value])
    assert client.get("/admin/").status_code == 200
    client.force_login(roles[Role.VIEWER.value])
    assert client.get("/admin/").status_code == 302
    assert str(Department.objects.first()).endswith("（サンプル）")
