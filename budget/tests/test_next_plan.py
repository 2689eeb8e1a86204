"""The next plan (次期計画) drafted from this one's 計画期間の総括 (budget.next_plan)."""

import pytest
from django.core import serializers
from django.urls import reverse

from budget import next_plan
from budget.models import BudgetFigure, FinalEvaluation, PlannedCost
from initiatives.models import Initiative, Measure, NationalPriority, Plan, Policy, ScheduleBar
from kpi.models import GradeThreshold, Kgi, KpiTarget, MeasureYear

pytestmark = pytest.mark.django_db

CONTINUE, MERGE, COMPLETE, ABOLISH = FinalEvaluation.CarryOver.values
CARRIED = {"I-1-1": CONTINUE, "I-2-1": CONTINUE, "II-2-1": CONTINUE, "I-1-2": MERGE, "II-1-1": COMPLETE}
CARRIED |= {"II-3-1": ABOLISH}
TITLE = "大野城市DX推進計画（第2期）"


@pytest.fixture
def evaluated(plan, department):
    """The 総括 of six measures: three carried over as 継続, one each 統合, 完了 and 廃止; the rest undecided.
    A year of actuals and a budget figure too, which the draft must leave where they are."""
    for code, carry_over in CARRIED.items():
        measure = Measure.objects.get(plan=plan, code=code)
        FinalEvaluation.objects.create(measure=measure, carry_over=carry_over, comment=f"総括{code}")
    continued = Measure.objects.get(plan=plan, code="I-1-1")
    continued.department = department
    continued.save()
    MeasureYear.objects.create(measure=continued, fiscal_year=2025, kpi_actual=5, work_done="実施")
    scale = [("S", "120.0"), ("A", "100.0"), ("B", "79.9"), ("C", "50.0"), ("D", "0.0")]  # the plan's own scale
    GradeThreshold.objects.bulk_create(GradeThreshold(plan=plan, grade=g, min_rate=r) for g, r in scale)
    BudgetFigure.objects.create(measure=continued, fiscal_year=2025, stage="request", amount=100, general_fund=100)
    return plan


def snapshot(plan):
    """Every row of the plan as serialized JSON, its measures' and the plan's history included."""
    measures = Measure.objects.filter(plan=plan)
    querysets = [
        Plan.objects.filter(pk=plan.pk),
        Plan.history.filter(id=plan.pk),
        Policy.objects.filter(plan=plan),
        Initiative.objects.filter(policy__plan=plan),
        NationalPriority.objects.filter(plan=plan),
        GradeThreshold.objects.filter(plan=plan),
        measures,
        Measure.history.filter(plan_id=plan.pk),
        Kgi.objects.filter(measure__in=measures),
        KpiTarget.objects.filter(measure__in=measures),
        PlannedCost.objects.filter(measure__in=measures),
        ScheduleBar.objects.filter(measure__in=measures),
        MeasureYear.objects.filter(measure__in=measures),
        BudgetFigure.objects.filter(measure__in=measures),
        FinalEvaluation.objects.filter(measure__in=measures),
    ]
    return [serializers.serialize("json", q.order_by("pk")) for q in querysets]


def draft(client, plan, **changes):
    data = {
        "code": "ohnojo-dx-r8",
        "title": "大野城市DX推進計画（第2期）",
        "start_year": "２０２６",
        "end_year": "2030",
    }
    return client.post(reverse("budget:next_plan", args=[plan.code]), {**data, **changes})


def test_the_draft_copies_the_continuing_measures_with_links_and_leaves_the_plan_as_it_was(client, dx_user, evaluated):
    plan = evaluated
    before = snapshot(plan)
    client.force_login(dx_user)
    response = draft(client, plan)
    new = Plan.objects.get(code="ohnojo-dx-r8")
    assert response.status_code == 302 and response["Location"] == new.get_absolute_url()
    assert snapshot(plan) == before  # not one field of the old plan, nor its history, changed

    assert (new.title, new.start_year, new.end_year, new.drafted_from) == (
        "大野城市DX推進計画（第2期）",
        2026,
        2030,
        plan,
    )
    assert new.vision == plan.vision and new.adopted_on is None
    copies = Measure.objects.filter(plan=new).select_related("predecessor", "kgi", "initiative__policy")
    continued = sorted(code for code, carry_over in CARRIED.items() if carry_over == CONTINUE)
    assert sorted(m.code for m in copies) == continued
    for copy in copies:
        old = copy.predecessor
        assert old.plan_id == plan.pk and old.code == copy.code
        assert (copy.name, copy.content, copy.goal, copy.effects, copy.notes) == (
            old.name,
            old.content,
            old.goal,
            old.effects,
            old.notes,
        )
        assert copy.department_id == old.department_id
        assert copy.initiative.policy.plan_id == new.pk
        assert (copy.initiative.number, copy.initiative.policy.number) == (
            old.initiative.number,
            old.initiative.policy.number,
        )
        assert (copy.kgi.text, copy.kgi.target, copy.kgi.unit) == (old.kgi.text, old.kgi.target, old.kgi.unit)
        tags = sorted(p.number for p in copy.national_priorities.all())
        assert tags == sorted(p.number for p in old.national_priorities.all())
        assert all(p.plan_id == new.pk for p in copy.national_priorities.all())
    # the tree and the grading come along; the new period's numbers are the next plan's own
    assert Policy.objects.filter(plan=new).count() == plan.policies.count()
    assert Initiative.objects.filter(policy__plan=new).count() == Initiative.objects.filter(policy__plan=plan).count()
    assert NationalPriority.objects.filter(plan=new).count() == NationalPriority.objects.filter(plan=plan).count()
    scales = [list(GradeThreshold.objects.filter(plan=p).values_list("grade", "min_rate")) for p in (new, plan)]
    assert scales[0] == scales[1] and len(scales[0]) == 5
    for model in (KpiTarget, PlannedCost, ScheduleBar, MeasureYear, BudgetFigure, FinalEvaluation):
        assert not model.objects.filter(measure__plan=new).exists(), model.__name__
    # who drafted it, and from which plan
    reason = f"次期計画の下書き（{plan.title}から）"
    rows = [
        *Plan.history.filter(id=new.pk),
        *Measure.history.filter(plan_id=new.pk),
        *Kgi.history.filter(measure_id__in=[m.pk for m in copies]),
    ]
    assert len(rows) == 1 + 2 * len(continued)
    assert all(h.history_user == dx_user and h.history_change_reason == reason for h in rows)


def test_the_new_measure_page_shows_the_previous_plans_record(client, dx_user, evaluated):
    client.force_login(dx_user)
    draft(client, evaluated)
    old = Measure.objects.get(plan=evaluated, code="I-1-1")
    copy = Measure.objects.get(plan__code="ohnojo-dx-r8", code="I-1-1")
    html = client.get(copy.get_absolute_url()).content.decode()
    record = html.split('<section id="predecessor">', 1)[1].split("</section>", 1)[0]
    assert f'href="{old.get_absolute_url()}"' in record
    assert evaluated.period_label in record and "継続" in record and "総括I-1-1" in record
    assert "前期計画での記録" not in client.get(old.get_absolute_url()).content.decode()
    plan_page = client.get(reverse("initiatives:plan_detail", args=["ohnojo-dx-r8"])).content.decode()
    assert f'href="{evaluated.get_absolute_url()}"' in plan_page  # 元の計画


def test_the_form_counts_the_carry_overs(client, dx_user, evaluated):
    client.force_login(dx_user)
    html = client.get(reverse("budget:next_plan", args=[evaluated.code])).content.decode()
    cells = html.split("<tbody><tr>", 1)[1].split("</tr>", 1)[0]
    undecided = evaluated.measures.count() - len(CARRIED)
    assert cells.count("<td") == 5
    assert [int(c.split(">", 1)[1].split("<", 1)[0]) for c in cells.split("<td")[1:]] == [3, 1, 1, 1, undecided]


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"code": "ohnojo-dx-r4"}, "code", "既に存在します"),  # the plan's own code
        ({"end_year": "2025"}, "end_year", "終了年度は開始年度以降"),
        ({"start_year": "2022", "end_year": "2025"}, "start_year", "元の計画の開始年度より後に"),
        ({"code": "次期"}, "code", "半角"),
    ],
)
def test_bad_input_is_refused_in_japanese_and_nothing_is_written(client, dx_user, evaluated, changes, field, message):
    before = snapshot(evaluated), Plan.objects.count(), Measure.objects.count(), Kgi.history.count()
    client.force_login(dx_user)
    response = draft(client, evaluated, **changes)
    assert response.status_code == 200
    assert message in "".join(response.context["form"].errors.get(field, []))
    assert 'id="error-summary"' in response.content.decode()
    assert (snapshot(evaluated), Plan.objects.count(), Measure.objects.count(), Kgi.history.count()) == before


def test_a_code_taken_at_the_same_moment_is_refused_on_the_form(client, dx_user, evaluated, monkeypatch):
    """Two drafts with one code at once: the check before saving passes for both, the database's unique
    constraint stops the second, which gets a message on the code field and writes nothing."""
    monkeypatch.setattr(Plan, "validate_unique", lambda self, exclude=None: None)  # as if checked a moment before
    before = Plan.objects.count(), Measure.objects.count(), NationalPriority.objects.count()
    client.force_login(dx_user)
    response = draft(client, evaluated, code=evaluated.code)
    assert response.status_code == 200
    assert "別のコードにしてください" in response.context["form"].errors["code"][0]
    assert (Plan.objects.count(), Measure.objects.count(), NationalPriority.objects.count()) == before


def test_a_plan_is_drafted_from_once(client, dx_user, evaluated):
    """Each measure has at most one successor: a second draft from the same plan is refused, naming the first."""
    client.force_login(dx_user)
    draft(client, evaluated)
    before = Plan.objects.count(), Measure.objects.count()
    response = draft(client, evaluated, code="ohnojo-dx-r8-2")
    assert response.status_code == 200
    assert "作成済みです" in response.context["form"].non_field_errors()[0] and TITLE in response.content.decode()
    assert (Plan.objects.count(), Measure.objects.count()) == before


def test_a_failure_part_way_leaves_nothing(client, dx_user, evaluated, monkeypatch):
    """The KGIs are written last: when that fails, the plan, its tree and its measures are not left behind."""
    real = next_plan.bulk_create_with_history

    def fail_on_kgis(objs, model, *args, **kwargs):
        if model is Kgi:
            raise RuntimeError("disk full")
        return real(objs, model, *args, **kwargs)

    monkeypatch.setattr(next_plan, "bulk_create_with_history", fail_on_kgis)
    before = snapshot(evaluated), Plan.objects.count(), Measure.objects.count(), Policy.objects.count()
    client.force_login(dx_user)
    with pytest.raises(RuntimeError):
        draft(client, evaluated)
    assert (snapshot(evaluated), Plan.objects.count(), Measure.objects.count(), Policy.objects.count()) == before
    assert not NationalPriority.objects.exclude(plan=evaluated).exists()


@pytest.mark.parametrize("role", ["staff_user", "viewer", "outsider"])
def test_only_the_dx_office_drafts_the_next_plan(client, evaluated, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("budget:next_plan", args=[evaluated.code])).status_code == 403
    assert draft(client, evaluated).status_code == 403
    assert not Plan.objects.filter(code="ohnojo-dx-r8").exists()
    plan_page = client.get(evaluated.get_absolute_url()).content.decode()
    assert reverse("budget:next_plan", args=[evaluated.code]) not in plan_page
