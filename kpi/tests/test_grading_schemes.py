"""Grading schemes as data (kpi.models.GradeThreshold, Plan.grading_rule): a plan graded on 浜松市's progress
scale, where the 担当課 chooses the grade with a reason and the approval confirms it; the dashboard, the public
page and the filters use the plan's grades, meanings and colours."""

import json
import re

import pytest
from django.db.models import F
from django.urls import reverse

from initiatives.models import Measure
from kpi import workflow
from kpi.achievement import grade_scale
from kpi.facts import classified, measure_facts
from kpi.models import GradeThreshold, KpiTarget, MeasureYear
from kpi.publishing import publish

pytestmark = pytest.mark.django_db

YEAR = 2025
PROGRESS = (  # letter, meaning, colour, needs a look
    ("A", "目標より進んでいる", "blue", False),
    ("B", "目標どおり", "green", False),
    ("C", "目標より遅れている", "orange", True),
    ("D", "評価できない", "grey", True),
)


@pytest.fixture
def progress_plan(plan):
    plan.grading_rule = "judgement"
    plan.save()
    for position, (letter, label, colour, low) in enumerate(PROGRESS):
        GradeThreshold.objects.create(
            plan=plan, grade=letter, label=label, colour=colour, needs_attention=low, position=position
        )
    return plan


def edit_url(measure):
    return reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, YEAR])


def seen(client, measure):
    return re.search(r'name="seen_version" value="(\d+)"', client.get(edit_url(measure)).content.decode()).group(1)


@pytest.fixture
def numeric_measure(progress_plan, department):
    measure = (
        Measure.objects.filter(plan=progress_plan, kpi_targets__fiscal_year=YEAR, kpi_targets__value__gt=0)
        .select_related("plan")
        .first()
    )
    measure.department = department
    measure.save()
    return measure


def test_the_department_chooses_one_of_the_plans_grades_with_a_reason(client, staff_user, numeric_measure):
    client.force_login(staff_user)
    html = client.get(edit_url(numeric_measure)).content.decode()
    # a numeric target too is judged on this plan, among the plan's own grades
    assert '<option value="B">B：目標どおり</option>' in html
    assert 'value="S"' not in html
    data = {"seen_version": seen(client, numeric_measure), "kpi_actual": "5", "submit": "1"}
    response = client.post(edit_url(numeric_measure), data)
    assert "進捗の判定（評価）を選び、理由を書いてから提出してください。" in response.content.decode()
    response = client.post(edit_url(numeric_measure), {**data, "judged_grade": "S"})
    assert "正しく選択してください" in response.content.decode()
    response = client.post(edit_url(numeric_measure), {**data, "judged_grade": "B"})
    assert "判定の理由を入力してください。" in response.content.decode()
    assert not MeasureYear.objects.filter(measure=numeric_measure, fiscal_year=YEAR).exists()
    response = client.post(edit_url(numeric_measure), {**data, "judged_grade": "B", "evaluation_comment": "予定どおり"})
    assert response.status_code == 302
    record = MeasureYear.objects.get(measure=numeric_measure, fiscal_year=YEAR)
    assert (record.status, record.judged_grade) == ("submitted", "B")


def test_the_grade_is_the_judgement_whatever_the_rate_and_is_counted_with_its_share(
    client, progress_plan, numeric_measure, dx_user, viewer
):
    target = KpiTarget.objects.get(measure=numeric_measure, fiscal_year=YEAR).value
    # far below the target, yet judged 目標どおり: the judgement decides; the 達成度 is kept for reference
    record = MeasureYear.objects.create(
        measure=numeric_measure, fiscal_year=YEAR, kpi_actual=target / 10, judged_grade="B",
        evaluation_comment="年度後半に集中して実施する計画どおり", status="submitted",
    )  # fmt: skip
    workflow.approve(record, dx_user, record.version)  # confirmed
    (fact,) = measure_facts(progress_plan, [YEAR], Measure.objects.filter(pk=numeric_measure.pk))
    assert (fact.assessment.state, fact.assessment.grade) == ("judged", "B")
    assert fact.assessment.rate == 10
    client.force_login(viewer)
    response = client.get(reverse("home"), {"plan": progress_plan.code, "year": YEAR})
    total = Measure.objects.filter(plan=progress_plan).count()
    rows = {g: (meaning, n, pct) for g, meaning, _colour, n, pct in response.context["grade_rows"]}
    assert list(rows) == ["A", "B", "C", "D", "none"]  # the plan's grades, no S
    assert rows["B"][:2] == ("目標どおり", 1)
    assert str(rows["B"][2]) == f"{round(100 / total, 1)}"
    assert rows["none"][1] == total - 1
    html = response.content.decode()
    assert '<span class="grade-badge grade-B grade-colour-green">B</span>' in html
    assert "評価は担当課の進捗の判定で、DX推進部門の承認で確定します。" in html

    publish(progress_plan, YEAR, dx_user, 0, "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/deed.ja", [])
    client.logout()
    document = json.loads(client.get(reverse("kpi:public_json", args=[progress_plan.code, YEAR])).content)
    counts = {c["grade"]: c for c in document["grade_counts"]}
    assert (counts["B"]["meaning"], counts["B"]["count"], counts["B"]["share"]) == (
        "目標どおり",
        1,
        float(rows["B"][2]),
    )
    assert "S" not in counts
    page = client.get(reverse("kpi:public_year", args=[progress_plan.code, YEAR])).content.decode()
    assert "目標どおり" in page and "grade-colour-green" in page


def test_a_grade_marked_for_attention_is_counted_as_such(client, progress_plan, numeric_measure, viewer):
    MeasureYear.objects.create(
        measure=numeric_measure, fiscal_year=YEAR, kpi_actual=1, judged_grade="C", evaluation_comment="遅れ"
    )
    client.force_login(viewer)
    response = client.get(reverse("home"), {"plan": progress_plan.code, "year": YEAR})
    assert response.context["summaries"][0].attention["low_grade"] == 1
    listed = client.get(
        reverse("kpi:measure_list"), {"plan": progress_plan.code, "year": YEAR, "attention": "low_grade"}
    )
    assert [f.code for f in listed.context["facts"]] == [numeric_measure.code]


def test_the_database_grades_as_the_evaluation_does_on_a_progress_scale(progress_plan, numeric_measure):
    measures = list(Measure.objects.filter(plan=progress_plan).order_by("pk")[:8])
    for measure, judged in zip(measures, ["A", "B", "C", "D", "", "B", "", "A"], strict=True):
        reason = "理由" if judged else ""
        MeasureYear.objects.create(
            measure=measure, fiscal_year=YEAR, kpi_actual=3, judged_grade=judged, evaluation_comment=reason
        )
    scale = grade_scale(progress_plan)
    all_measures = Measure.objects.filter(plan=progress_plan)
    facts = {f.measure_id: f for f in measure_facts(progress_plan, [YEAR], all_measures, scale=scale)}
    shown = classified(all_measures, YEAR, scale).annotate(shown_grade=F("grade"), shown_low=F("attention_low_grade"))
    rows = shown.values_list("pk", "shown_grade", "shown_low")
    for pk, grade, low in rows:
        assert (grade, bool(low)) == (facts[pk].assessment.grade, facts[pk].assessment.low), pk
    assert {f.assessment.grade for f in facts.values()} == {"A", "B", "C", "D", ""}


def test_without_grades_of_its_own_a_judged_plan_uses_the_progress_scale(plan):
    plan.grading_rule = "judgement"
    scale = grade_scale(plan)
    assert scale.letters == ("A", "B", "C", "D") and not scale.by_rate
    assert scale.low == {"C", "D"}


def test_a_threshold_must_fit_the_plans_rule(progress_plan, plan):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        GradeThreshold(plan=progress_plan, grade="S", min_rate=120).full_clean()
    assert "進捗を判定する計画です" in str(raised.value)
    progress_plan.grading_rule = "rate"
    with pytest.raises(ValidationError) as raised:
        GradeThreshold(plan=progress_plan, grade="S").full_clean()
    assert "下限を入力してください" in str(raised.value)


def test_the_thresholds_scheme_shows_its_own_meanings_and_colours(client, plan, viewer):
    for position, (grade, minimum, label, colour) in enumerate(
        (("A", 100, "達成", "green"), ("B", 50, "一部達成", "yellow"), ("C", 0, "未達成", "red"))
    ):
        GradeThreshold.objects.create(
            plan=plan, grade=grade, min_rate=minimum, label=label, colour=colour, position=position,
            needs_attention=grade == "C",
        )  # fmt: skip
    client.force_login(viewer)
    response = client.get(reverse("home"), {"plan": plan.code, "year": YEAR})
    rows = [(g, meaning, colour) for g, meaning, colour, _n, _pct in response.context["grade_rows"]]
    assert rows[:3] == [("A", "達成", "green"), ("B", "一部達成", "yellow"), ("C", "未達成", "red")]
    filter_choices = [value for value, _ in response.context["filter"].form.fields["grade"].choices]
    assert filter_choices == ["", "A", "B", "C", "none"]


def test_the_display_order_does_not_change_a_grade_by_rate(plan):
    # listed worst first by mistake: grading still goes from the highest bound down
    for position, (grade, minimum) in enumerate((("D", 0), ("B", 50), ("A", 100))):
        GradeThreshold.objects.create(plan=plan, grade=grade, min_rate=minimum, position=position)
    from kpi.achievement import assess

    assert assess("higher", 10, "", 20, scale=grade_scale(plan)).grade == "A"  # 200%
    assert assess("higher", 10, "", 6, scale=grade_scale(plan)).grade == "B"


def test_the_rule_cannot_switch_under_approved_years_or_misfitting_grades(progress_plan, numeric_measure):
    from django.core.exceptions import ValidationError

    progress_plan.grading_rule = "rate"
    with pytest.raises(ValidationError) as raised:
        progress_plan.full_clean()
    assert "評価の区分がこの決め方に合いません" in str(raised.value)
    GradeThreshold.objects.filter(plan=progress_plan).delete()
    progress_plan.full_clean()  # no grades of its own: the default thresholds apply
    MeasureYear.objects.create(
        measure=numeric_measure, fiscal_year=YEAR, kpi_actual=1, judged_grade="B", evaluation_comment="理由",
        status="approved",
    )  # fmt: skip
    with pytest.raises(ValidationError) as raised:
        progress_plan.full_clean()
    assert "承認済みの年度があるため" in str(raised.value)
    progress_plan.refresh_from_db()
    progress_plan.overall_rule = "lowest"  # how indicators combine: a confirmed grade would change too
    with pytest.raises(ValidationError) as raised:
        progress_plan.full_clean()
    assert "overall_rule" in raised.value.message_dict


def test_a_text_target_is_judged_among_the_plans_own_grades(client, plan, staff_user, department):
    for grade, minimum in (("A", 100), ("B", 50), ("C", 0)):
        GradeThreshold.objects.create(plan=plan, grade=grade, min_rate=minimum, label=f"{grade}の意味")
    measure = Measure.objects.filter(plan=plan, kpi_targets__fiscal_year=YEAR, kpi_targets__text__gt="").first()
    measure.department = department
    measure.save()
    client.force_login(staff_user)
    html = client.get(edit_url(measure)).content.decode()
    assert '<option value="A">A：Aの意味</option>' in html
    assert 'value="S"' not in html and 'value="D"' not in html


def test_a_grade_no_longer_in_the_scheme_is_still_counted(client, progress_plan, numeric_measure, dx_user, viewer):
    MeasureYear.objects.create(
        measure=numeric_measure, fiscal_year=YEAR, judged_grade="D", evaluation_comment="理由", status="approved"
    )
    GradeThreshold.objects.filter(plan=progress_plan, grade="D").delete()  # the scheme changed afterwards
    publish(progress_plan, YEAR, dx_user, 0, "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/deed.ja", [])
    document = json.loads(client.get(reverse("kpi:public_json", args=[progress_plan.code, YEAR])).content)
    counts = {c["grade"]: c["count"] for c in document["grade_counts"]}
    assert counts["D"] == 1 and sum(counts.values()) == Measure.objects.filter(plan=progress_plan).count()
    client.force_login(viewer)
    rows = client.get(reverse("home"), {"plan": progress_plan.code, "year": YEAR}).context["grade_rows"]
    assert ("D", 1) in [(g, n) for g, _m, _c, n, _p in rows]
    assert sum(n for *_, n, _p in rows) == Measure.objects.filter(plan=progress_plan).count()
