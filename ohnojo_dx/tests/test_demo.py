"""Demo data is labelled サンプル and kept apart from the plan."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from initiatives.models import Department, Measure
from initiatives.roles import Role
from kpi.models import MeasureYear
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


def test_sample_actuals_are_entered_through_the_workflow(plan):
    call_command("load_demo")
    records = MeasureYear.objects.filter(measure__plan=plan)
    assert records.exists() and not records.filter(is_sample=False).exists()
    earlier = set(records.exclude(fiscal_year=plan.end_year).values_list("status", flat=True))
    assert earlier == {MeasureYear.Status.APPROVED}
    last = set(records.filter(fiscal_year=plan.end_year).values_list("status", flat=True))
    assert last == set(MeasureYear.Status.values)  # the hearing season: some of every state
    approved = records.filter(status=MeasureYear.Status.APPROVED).select_related("approved_by")
    assert {r.approved_by.username for r in approved} == {"dx_office"}
    # entered and submitted in one step, then approved: each step a row of the history, with its reason
    reasons = list(approved.first().history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons == ["サンプルデータ", "承認"]
    returned = records.filter(fiscal_year=plan.end_year, status=MeasureYear.Status.RETURNED).first()
    assert "（サンプル）" in returned.return_comment


def test_sample_budget_chain_is_labelled_and_flags_some_requests(plan):
    from budget.chain import chain_years
    from budget.models import BudgetFigure, PlannedCost

    call_command("load_demo")
    figures = BudgetFigure.objects.filter(measure__plan=plan)
    assert figures.exists() and not figures.filter(is_sample=False).exists()
    assert set(figures.values_list("stage", flat=True)) == set(BudgetFigure.Stage.values)
    # the stages exist exactly where the plan has money, and every funding split adds up
    with_money = set(
        PlannedCost.objects.filter(measure__plan=plan, amount__isnull=False).values_list("measure_id", "fiscal_year")
    )
    assert set(figures.values_list("measure_id", "fiscal_year")) == with_money
    for figure in figures:
        assert sum(figure.funding) == figure.amount
    chains = chain_years(plan.measures.all(), plan.fiscal_years).values()
    over = [c for c in chains if any(f.code == "over_ceiling" for f in c.flags)]
    assert over and all(c.figure("request").note.startswith("（サンプル）") for c in over)
    assert all(c.amount("assessed") <= c.ceiling for c in chains if c.ceiling is not None)


def test_demo_publishes_its_first_year_marked_as_sample(plan, client):
    call_command("load_demo")
    call_command("load_demo")  # publishing again changes nothing
    from kpi.models import Publication

    (publication,) = Publication.objects.all()
    assert publication.fiscal_year == plan.start_year
    html = client.get(publication.get_absolute_url()).content.decode()
    assert "デモ用の架空の実績（サンプル）が含まれます" in html
    approved = MeasureYear.objects.filter(measure__plan=plan, fiscal_year=plan.start_year, status="approved").count()
    assert html.count('<span class="badge sample">サンプル</span>') == approved + 1  # each actual, and the notice
