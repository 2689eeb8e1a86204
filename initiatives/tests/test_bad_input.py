"""Bad input is refused with a Japanese message and nothing saved — by the forms and by the database."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from budget.models import GeneralFundPlan, PlannedCost
from initiatives.models import Measure, NationalPriority, Plan, ScheduleBar
from kpi.models import KpiTarget

pytestmark = pytest.mark.django_db


@pytest.fixture
def measure(plan):
    return Measure.objects.get(plan=plan, name="テレワークの推進")


@pytest.fixture
def dx_client(client, dx_user):
    client.force_login(dx_user)
    return client


def post_admin_add(client, model, data):
    opts = model._meta
    return client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), data)


def errors_of(response):
    assert response.status_code == 200, "the form should be shown again, not saved"
    return response.context["adminform"].form.errors


def test_negative_cost_is_refused(dx_client, measure):
    before = PlannedCost.objects.count()
    PlannedCost.objects.filter(measure=measure, fiscal_year=2022).delete()
    response = post_admin_add(dx_client, PlannedCost, {"measure": measure.pk, "fiscal_year": 2022, "amount": -1})
    assert "以上" in errors_of(response)["amount"][0]
    assert PlannedCost.objects.count() == before - 1


@pytest.mark.parametrize("model", [PlannedCost, KpiTarget])
def test_year_outside_the_plan_is_refused(dx_client, measure, model):
    before = model.objects.count()
    response = post_admin_add(dx_client, model, {"measure": measure.pk, "fiscal_year": 2026, "amount": 10, "value": 1})
    assert errors_of(response)["fiscal_year"] == [
        "R8（2026）年度 は計画期間（R4（2022）年度～R7（2025）年度）の外です。"
    ]
    assert model.objects.count() == before


@pytest.mark.parametrize("model", [PlannedCost, KpiTarget])
def test_duplicate_measure_year_is_refused(dx_client, measure, model):
    before = model.objects.count()
    response = post_admin_add(dx_client, model, {"measure": measure.pk, "fiscal_year": 2023, "amount": 10, "value": 1})
    messages = errors_of(response)["__all__"]
    assert any("既にあります" in m for m in messages), messages
    assert model.objects.count() == before


def test_schedule_bar_ending_before_it_starts_is_refused(dx_client, measure):
    before = ScheduleBar.objects.count()
    response = post_admin_add(
        dx_client,
        ScheduleBar,
        {"measure": measure.pk, "label": "逆順", "start_year": 2024, "end_year": 2023, "order": 9, "basis": ""},
    )
    assert errors_of(response)["end_year"] == ["終了年度は開始年度以降にしてください。"]
    assert ScheduleBar.objects.count() == before


def test_percent_target_over_100_is_refused(dx_client, plan):
    cashless = Measure.objects.get(plan=plan, name="各種支払いのキャッシュレス化")  # unit %
    KpiTarget.objects.filter(measure=cashless, fiscal_year=2022).delete()
    response = post_admin_add(dx_client, KpiTarget, {"measure": cashless.pk, "fiscal_year": 2022, "value": "120"})
    assert errors_of(response)["value"] == ["単位が%の値は100以下で入力してください。"]
    assert not KpiTarget.objects.filter(measure=cashless, fiscal_year=2022).exists()


def test_a_good_row_is_saved(dx_client, measure):
    """The same form accepts valid input, so the refusals above are about the input."""
    PlannedCost.objects.filter(measure=measure, fiscal_year=2022).delete()
    response = post_admin_add(dx_client, PlannedCost, {"measure": measure.pk, "fiscal_year": 2022, "amount": 1200})
    assert response.status_code == 302
    assert PlannedCost.objects.get(measure=measure, fiscal_year=2022).amount == 1200


# The database refuses the same rows when validation is bypassed.


def refused_by_database(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_database_refuses_negative_amounts(measure, plan):
    PlannedCost.objects.filter(measure=measure, fiscal_year=2022).delete()
    refused_by_database(lambda: PlannedCost.objects.create(measure=measure, fiscal_year=2022, amount=-5))
    refused_by_database(lambda: GeneralFundPlan.objects.filter(policy__plan=plan, fiscal_year=2022).update(amount=-1))


def test_database_refuses_duplicates(measure):
    refused_by_database(lambda: PlannedCost.objects.create(measure=measure, fiscal_year=2023, amount=1))
    refused_by_database(lambda: KpiTarget.objects.create(measure=measure, fiscal_year=2023, value=1))


def test_database_refuses_bar_ending_before_start(measure):
    refused_by_database(lambda: ScheduleBar.objects.create(measure=measure, label="x", start_year=2024, end_year=2023))


def test_database_refuses_years_outside_the_plan(measure):
    refused_by_database(lambda: PlannedCost.objects.create(measure=measure, fiscal_year=2026, amount=1))
    refused_by_database(lambda: KpiTarget.objects.create(measure=measure, fiscal_year=2021, value=1))
    refused_by_database(lambda: ScheduleBar.objects.create(measure=measure, label="x", start_year=2023, end_year=2026))
    refused_by_database(lambda: KpiTarget.objects.filter(measure=measure, fiscal_year=2025).update(fiscal_year=2030))
    refused_by_database(
        lambda: GeneralFundPlan.objects.create(policy=measure.initiative.policy, fiscal_year=2026, amount=1)
    )


def test_database_accepts_years_inside_the_plan(measure):
    PlannedCost.objects.filter(measure=measure, fiscal_year=2022).delete()
    PlannedCost.objects.create(measure=measure, fiscal_year=2022, amount=1)
    assert PlannedCost.objects.filter(measure=measure, fiscal_year=2022, amount=1).exists()


def inline_management(prefix, total):
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": 0,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def test_new_measure_with_an_inline_year_outside_the_plan_is_refused(dx_client, plan):
    initiative = plan.policies.get(number=1).initiatives.get(number=1)
    data = {
        "plan": plan.pk,
        "initiative": initiative.pk,
        "code": "I-1-9",
        "ordinal": 9,
        "name": "新しい施策",
        **inline_management("kgi", 0),
        **inline_management("schedule_bars", 0),
        **inline_management("kpi_targets", 1),
        **inline_management("planned_costs", 1),
        "kpi_targets-0-fiscal_year": 2030,
        "kpi_targets-0-value": "5",
        "planned_costs-0-fiscal_year": 2025,
        "planned_costs-0-amount": "-3",
    }
    response = dx_client.post(reverse("admin:initiatives_measure_add"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "R12（2030）年度 は計画期間（R4（2022）年度～R7（2025）年度）の外です。" in html
    assert "0 以上" in html
    assert not Measure.objects.filter(code="I-1-9").exists()


def test_general_fund_is_recorded_per_policy_or_per_measure_never_both(plan, measure):
    row = GeneralFundPlan(policy=measure.initiative.policy, measure=measure, fiscal_year=2025, amount=100)
    with pytest.raises(ValidationError) as raised:
        row.full_clean()
    assert "既に基本方針全体で登録されています" in str(raised.value)


def test_plan_period_cannot_shrink_past_its_rows(plan):
    plan.end_year = 2024
    with pytest.raises(ValidationError) as raised:
        plan.full_clean()
    assert "計画期間の外になるKPI目標・スケジュール・一般財源・年度経費のデータがあります" in str(raised.value)
    plan.refresh_from_db()
    plan.end_year = 2026  # growing is fine
    plan.full_clean()


def test_a_new_measure_cannot_serve_another_plans_national_priority(dx_client, plan):
    other = Plan.objects.create(
        code="other", title="別の計画", municipality="別市", vision="v", start_year=2022, end_year=2025
    )
    foreign = NationalPriority.objects.create(plan=other, number=1, name="別の計画の重点")
    own = NationalPriority.objects.get(plan=plan, number=3)
    initiative = plan.policies.get(number=1).initiatives.get(number=1)
    data = {
        "plan": plan.pk,
        "initiative": initiative.pk,
        "code": "I-1-9",
        "ordinal": 9,
        "name": "新しい施策",
        "national_priorities": [own.pk, foreign.pk],
        **inline_management("kgi", 0),
        **inline_management("schedule_bars", 0),
        **inline_management("kpi_targets", 0),
        **inline_management("planned_costs", 0),
    }
    response = dx_client.post(reverse("admin:initiatives_measure_add"), data)
    assert errors_of(response)["national_priorities"] == ["別の計画の重点取組事項は選べません。"]
    assert not Measure.objects.filter(code="I-1-9").exists()
    data["national_priorities"] = [own.pk]
    assert dx_client.post(reverse("admin:initiatives_measure_add"), data).status_code == 302
    assert [str(p) for p in Measure.objects.get(plan=plan, code="I-1-9").national_priorities.all()] == [
        "③自治体の行政手続のオンライン化"
    ]


def test_the_measure_editor_offers_only_its_own_plans_national_priorities(dx_client, plan, measure):
    other = Plan.objects.create(
        code="other", title="別の計画", municipality="別市", vision="v", start_year=2022, end_year=2025
    )
    NationalPriority.objects.create(plan=other, number=1, name="別の計画の重点")
    response = dx_client.get(reverse("admin:initiatives_measure_change", args=[measure.pk]))
    choices = response.context["adminform"].form.fields["national_priorities"].queryset
    assert {p.plan_id for p in choices} == {plan.pk} and len(choices) == 6
