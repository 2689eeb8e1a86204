"""計画の見直し: a revision changes a target or a cost; 当初, 見直し後 and 実績 read side by side; the plan's
own table (図表2-4-1) stays as adopted; the history says who and why."""

import json

import pytest
from django.urls import reverse

from budget.models import PlannedCost
from initiatives.models import Measure, PlanRevision, RevisionChange
from kpi import workflow
from kpi.models import KpiTarget, MeasureYear

pytestmark = pytest.mark.django_db

YEAR = 2025


@pytest.fixture
def revision(client, plan, dx_user):
    client.force_login(dx_user)
    data = {
        "decided_on": "2024-11-20",
        "decided_by": "令和6年度予算ヒアリング",
        "reason": "国の方針変更により目標を引上げ",
    }
    assert client.post(reverse("budget:revisions", args=[plan.code]), data).status_code == 302
    return PlanRevision.objects.get(plan=plan)


def form_data(client, plan, revision, measure, **changes):
    """The revision form as shown, with some fields changed (e.g. target_value_2025="90")."""
    url = reverse("budget:revise_measure", args=[plan.code, revision.number, measure.code])
    form = client.get(url).context["form"]
    data = {"seen": form.initial["seen"]}
    for name in form.fields:
        if name != "seen":
            value = form[name].value()
            data[name] = "" if value is None else str(value)
    data.update(changes)
    return url, data


def test_only_the_dx_office_revises(client, plan, staff_user, viewer, revision):
    measure = Measure.objects.get(plan=plan, code="I-1-2")
    url = reverse("budget:revise_measure", args=[plan.code, revision.number, measure.code])
    for user in (staff_user, viewer):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"seen": "{}", "target_value_2025": "1"}).status_code == 403
        data = {"decided_on": "2025-01-01", "decided_by": "x", "reason": "x"}
        assert client.post(reverse("budget:revisions", args=[plan.code]), data).status_code == 403
    assert PlanRevision.objects.count() == 1


def test_a_revised_target_reads_as_adopted_revised_and_actual(client, plan, dx_user, viewer, revision):
    measure = Measure.objects.get(plan=plan, code="I-1-2")  # キャッシュレス決済による支払い比率
    adopted = KpiTarget.objects.get(measure=measure, fiscal_year=YEAR).value
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=38)
    client.force_login(dx_user)
    url, data = form_data(client, plan, revision, measure, **{f"target_value_{YEAR}": "４５"})
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"].endswith("#revisions")
    target = KpiTarget.objects.get(measure=measure, fiscal_year=YEAR)
    assert target.value == 45
    change = RevisionChange.objects.get()
    assert (change.revision, change.measure, change.fiscal_year, change.kind) == (revision, measure, YEAR, "kpi_target")
    assert change.before["value"] == str(adopted) and change.after["value"] == "45.00"
    history = target.history.order_by("-history_id").first()
    assert history.history_user == dx_user
    assert history.history_change_reason.startswith(
        "見直し: 第1回見直し（2024/11/20）（令和6年度予算ヒアリング）国の方針変更"
    )

    client.force_login(viewer)
    page = client.get(reverse("budget:report", args=[plan.code, "revised"])).context
    headers = [c.header for c in page["report"].columns]
    rows = {(r[0], r[2]): dict(zip(headers, r, strict=True)) for r in page["rows"]}
    row = rows[(measure.code, "R7（2025）年度")]
    assert adopted == 40  # the plan's R7 target
    assert (row["KPI目標（当初）"], row["KPI目標（見直し後）"], row["KPI実績"]) == ("40%", "45%", "38%")
    assert row["見直し"] == "第1回"
    untouched = rows[(measure.code, "R6（2024）年度")]
    assert untouched["KPI目標（当初）"] == untouched["KPI目標（見直し後）"] and untouched["見直し"] == ""
    html = client.get(measure.get_absolute_url()).content.decode()
    section = html.split('id="revisions"', 1)[1].split("</section>", 1)[0]
    assert "第1回見直し（2024/11/20）" in section and "国の方針変更により目標を引上げ" in section and "45%" in section
    assert "見直し: 第1回見直し" in html.split("変更履歴", 1)[1]  # the history says who and why


def test_a_revised_cost_leaves_figure_2_4_1_as_adopted(client, plan, dx_user, viewer, revision):
    measure = Measure.objects.get(plan=plan, code="II-2-1")  # 427,000 in R7
    client.force_login(dx_user)
    url, data = form_data(client, plan, revision, measure, **{f"cost_{YEAR}": "400,000"})
    assert client.post(url, data).status_code == 302
    assert PlannedCost.objects.get(measure=measure, fiscal_year=YEAR).amount == 400000
    client.force_login(viewer)
    table = client.get(reverse("budget:budget_table", args=[plan.code])).context["table"]
    assert (table.total.total.cost, table.total.total.general_fund) == (1240400, 897400)  # the plan as adopted
    page = client.get(reverse("budget:report", args=[plan.code, "revised"])).context
    headers = [c.header for c in page["report"].columns]
    row = next(
        dict(zip(headers, r, strict=True)) for r in page["rows"] if r[0] == "II-2-1" and r[2] == "R7（2025）年度"
    )
    assert (row["LCC（当初、千円）"], row["LCC（見直し後、千円）"]) == (427000, 400000)
    # the execution report plans with the revised figures (the plan in force), as the dashboard does
    page = client.get(reverse("budget:report", args=[plan.code, "execution"])).context
    headers = [c.header for c in page["report"].columns]
    policy_ii = next(
        dict(zip(headers, r, strict=True)) for r in page["rows"] if r[0] == "基本方針Ⅱ" and r[1] == "R7（2025）年度"
    )
    in_force = PlannedCost.objects.filter(measure__initiative__policy__number=2, fiscal_year=YEAR)
    assert policy_ii["経費（計画）"] == sum(c.amount or 0 for c in in_force)


def test_a_locked_year_and_a_stale_page_are_refused(client, plan, dx_user, revision):
    measure = Measure.objects.get(plan=plan, code="I-1-2")
    client.force_login(dx_user)
    url, stale = form_data(client, plan, revision, measure, **{f"target_value_{YEAR}": "50"})
    url, data = form_data(client, plan, revision, measure, **{f"target_value_{YEAR}": "45"})
    assert client.post(url, data).status_code == 302
    response = client.post(url, stale)  # a page opened before that revision
    assert str(workflow.Conflict()) in response.content.decode()
    assert KpiTarget.objects.get(measure=measure, fiscal_year=YEAR).value == 45
    MeasureYear.objects.create(measure=measure, fiscal_year=2024, kpi_actual=1, status="approved")
    url, data = form_data(client, plan, revision, measure, **{"target_value_2024": "1", f"target_value_{YEAR}": "60"})
    response = client.post(url, data)
    assert "承認済み" in response.content.decode()
    assert KpiTarget.objects.get(measure=measure, fiscal_year=YEAR).value == 45  # nothing of the form was saved
    assert RevisionChange.objects.count() == 1
    seen = json.loads(data["seen"])
    assert set(seen) == {str(y) for y in plan.fiscal_years}


def test_figure_2_4_1_reads_as_adopted_with_thousands_of_revised_rows(plan):
    """The roll-up undoes every revised LCC without naming the rows in its SQL (SQLite allows an expression
    tree only 1,000 deep)."""
    from budget.selectors import plan_budget_table
    from conftest import grow_plan

    measures = grow_plan(plan, 1100, YEAR)  # each with an LCC of 100 in R7
    revision = PlanRevision.objects.create(
        plan=plan, number=1, decided_on="2024-11-20", decided_by="会議", reason="増額"
    )
    RevisionChange.objects.bulk_create(
        RevisionChange(
            revision=revision,
            measure=m,
            fiscal_year=YEAR,
            kind="planned_cost",
            before={"amount": "100", "note": ""},
            after={"amount": "150", "note": ""},
        )
        for m in measures
    )
    PlannedCost.objects.filter(measure__in=measures).update(amount=150)
    adopted, revised = plan_budget_table(plan), plan_budget_table(plan, revised=True)
    assert adopted.total.total.cost == 1240400 + 1100 * 100
    assert revised.total.total.cost == 1240400 + 1100 * 150


def test_refused_values_and_a_tampered_page_get_a_message_not_an_error(client, plan, dx_user, revision):
    measure = Measure.objects.get(plan=plan, code="I-1-2")  # unit %
    client.force_login(dx_user)
    url, data = form_data(client, plan, revision, measure, **{f"target_value_{YEAR}": "120"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "単位が%の値は100以下で入力してください。" in response.content.decode()
    for seen in ("[]", "1", "null", "{"):
        response = client.post(url, {**data, f"target_value_{YEAR}": "45", "seen": seen})
        assert response.status_code == 200 and str(workflow.Conflict()) in response.content.decode(), seen
    assert not RevisionChange.objects.exists()
    assert KpiTarget.objects.get(measure=measure, fiscal_year=YEAR).value == 40
