"""A plan reviewed every half year on the progress scale (浜松市's A–D): the 担当課 reports each measure's 上期
with a judgement and a reason, the DX推進部門 confirms it, and the dashboard and the published 上期's public
page count the confirmed grades with their shares. The year-end (下期) stays the yearly record."""

import json
import re
from decimal import ROUND_HALF_UP, Decimal

import jsonschema
import pytest
from django.urls import reverse

from conftest import grow_plan
from initiatives.models import Measure
from kpi import workflow
from kpi.models import GradeThreshold, InterimReview, MeasureYear
from kpi.publishing import SCHEMA_PATH, publish

pytestmark = pytest.mark.django_db

YEAR = 2025
LICENCE = ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/deed.ja")


@pytest.fixture
def half_plan(plan):
    """The plan reviewed every half year, graded by judgement on its own A–D."""
    plan.review_cycle, plan.grading_rule = "half", "judgement"
    plan.save()
    for position, (letter, label, low) in enumerate(
        (
            ("A", "目標より進んでいる", False),
            ("B", "目標どおり", False),
            ("C", "目標より遅れている", True),
            ("D", "評価できない", True),
        )
    ):
        GradeThreshold.objects.create(plan=plan, grade=letter, label=label, needs_attention=low, position=position)
    return plan


@pytest.fixture
def mine(half_plan, department):
    measure = Measure.objects.select_related("plan").filter(plan=half_plan).order_by("pk").first()
    measure.department = department
    measure.save()
    return measure


def edit_url(measure, year=YEAR):
    return reverse("kpi:interim_edit", args=[measure.plan.code, measure.code, year])


def step_url(measure, step, year=YEAR):
    return reverse("kpi:interim_step", args=[measure.plan.code, measure.code, year, step])


def seen(client, measure):
    return re.search(r'name="seen_version" value="(\d+)"', client.get(edit_url(measure)).content.decode()).group(1)


def share(n, total):
    return (Decimal(n) * 100 / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def test_the_department_reports_and_the_dx_office_confirms(client, mine, staff_user, dx_user):
    client.force_login(staff_user)
    html = client.get(edit_url(mine)).content.decode()
    assert '<option value="B">B：目標どおり</option>' in html and 'value="S"' not in html
    data = {"seen_version": seen(client, mine), "progress": "講座を6回開催", "submit": "1"}
    response = client.post(edit_url(mine), data)
    assert "進捗の判定を選び、判定の理由を書いてから提出してください。" in response.content.decode()
    response = client.post(edit_url(mine), {**data, "judged_grade": "B"})
    assert "判定の理由を入力してください。" in response.content.decode()
    assert not InterimReview.objects.exists()
    assert client.post(edit_url(mine), {**data, "judged_grade": "B", "reason": "予定どおり"}).status_code == 302
    report = InterimReview.objects.get()
    assert (report.status, report.judged_grade, report.version) == ("submitted", "B", 1)
    assert client.post(step_url(mine, "confirm"), {"seen_version": 1}).status_code == 403  # not the 担当課's step

    client.force_login(dx_user)
    client.post(step_url(mine, "confirm"), {"seen_version": 0})  # a page older than the report
    assert "他の人が更新しています" in client.get(edit_url(mine)).content.decode()
    assert client.post(step_url(mine, "confirm"), {"seen_version": 1}).status_code == 302
    report.refresh_from_db()
    assert (report.status, report.confirmed_by) == ("confirmed", dx_user)
    reasons = list(report.history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons == ["上期の進捗の提出", "上期の進捗の確定"]

    # confirmed: the 担当課 can no longer change it, until the DX推進部門 reopens it with a reason
    client.force_login(staff_user)
    response = client.post(edit_url(mine), {**data, "judged_grade": "A", "reason": "前倒し", "seen_version": 2})
    assert "この上期の進捗は確定しています" in response.content.decode()
    report.refresh_from_db()
    assert report.judged_grade == "B"
    client.force_login(dx_user)
    client.post(step_url(mine, "reopen"), {"seen_version": 2, "comment": "判定の訂正"})
    report.refresh_from_db()
    assert (report.status, report.history.first().history_change_reason) == ("draft", "再開: 判定の訂正")


def test_a_report_changed_after_submitting_is_submitted_again(mine, staff_user, dx_user):
    report = InterimReview(measure=mine, fiscal_year=YEAR, judged_grade="B", reason="予定どおり")
    workflow.save_interim(report, staff_user, 0, submit=True)
    report.judged_grade, report.reason = "", ""  # emptied and saved, not submitted
    workflow.save_interim(report, staff_user, report.version)
    assert InterimReview.objects.get().status == "draft"
    with pytest.raises(workflow.WorkflowError):
        workflow.confirm_interim(report, dx_user, report.version)
    InterimReview.objects.filter(pk=report.pk).update(status="submitted")  # as if submitted some other way
    with pytest.raises(workflow.WorkflowError):
        workflow.confirm_interim(InterimReview.objects.get(), dx_user, report.version)
    assert InterimReview.objects.get().status == "submitted"


def test_an_approved_year_freezes_its_report(client, mine, staff_user, dx_user):
    workflow_report = InterimReview(measure=mine, fiscal_year=YEAR, judged_grade="B", reason="予定どおり")
    workflow.save_interim(workflow_report, staff_user, 0, submit=True)
    MeasureYear.objects.create(
        measure=mine, fiscal_year=YEAR, kpi_actual=1, judged_grade="B", evaluation_comment="理由"
    )
    record = MeasureYear.objects.get(measure=mine, fiscal_year=YEAR)
    MeasureYear.objects.filter(pk=record.pk).update(status="approved")
    with pytest.raises(workflow.Locked):
        workflow.confirm_interim(InterimReview.objects.get(), dx_user, 1)
    assert InterimReview.objects.get().status == "submitted"


def test_the_dashboard_and_the_published_half_count_the_confirmed_grades(client, half_plan, mine, dx_user, viewer):
    others = list(Measure.objects.filter(plan=half_plan).exclude(pk=mine.pk).order_by("pk")[:3])
    InterimReview.objects.create(
        measure=mine, fiscal_year=YEAR, judged_grade="B", reason="予定どおり", status="confirmed"
    )
    InterimReview.objects.create(
        measure=others[0], fiscal_year=YEAR, judged_grade="C", reason="遅れ", status="confirmed"
    )
    # submitted, not confirmed: neither its grade nor its reason appears anywhere public
    InterimReview.objects.create(
        measure=others[1], fiscal_year=YEAR, judged_grade="A", reason="非公開の理由", status="submitted"
    )
    # the year's record, not approved: its figures stay hidden on the 上期 page too
    MeasureYear.objects.create(measure=others[2], fiscal_year=YEAR, kpi_actual=987654)
    total = Measure.objects.filter(plan=half_plan).count()

    client.force_login(viewer)
    response = client.get(reverse("home"), {"plan": half_plan.code, "year": YEAR})
    counts = {c.grade: (c.count, c.share) for c in response.context["interim_counts"]}
    assert counts["A"] == (0, share(0, total))  # the submitted A is not confirmed yet
    assert counts["B"] == (1, share(1, total)) and counts["C"] == (1, share(1, total))
    assert counts["未確定"] == (total - 2, share(total - 2, total))
    assert 'id="interim-shares"' in response.content.decode()
    summary = client.get(reverse("kpi:interim_summary", args=[half_plan.code, YEAR]))
    assert [(c.grade, c.count) for c in summary.context["counts"]][:2] == [("A", 0), ("B", 1)]

    from kpi.models import ExternalReview

    for period, comment in (("H1", "上期の有識者の意見"), ("H2", "下期の有識者の意見")):
        ExternalReview.objects.create(
            plan=half_plan, fiscal_year=YEAR, period=period, reviewer="有識者", comment=comment, is_public=True
        )
    publish(half_plan, YEAR, dx_user, 0, *LICENCE, improvements=[], period="H1")
    client.logout()
    assert client.get(reverse("kpi:public_year", args=[half_plan.code, YEAR])).status_code == 404  # the year: not yet
    page = client.get(reverse("kpi:public_half", args=[half_plan.code, YEAR]))
    html = page.content.decode()
    assert page.status_code == 200 and "R7（2025）年度 上期" in html
    table = html.split('id="grade-count-table"')[1].split("</table>")[0]
    assert f'<td class="num">1</td><td class="num">{share(1, total)}%</td>' in table
    for hidden in ("非公開の理由", "987,654", "987654", "下期の有識者の意見"):
        assert hidden not in html
    assert "上期の有識者の意見" in html
    document = json.loads(client.get(reverse("kpi:public_half_json", args=[half_plan.code, YEAR])).content)
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))).validate(document)
    assert (document["period"], document["period_label"]) == ("上期", "R7（2025）年度 上期")
    graded = {r["measure_code"]: r["grade"] for r in document["records"] if r["result"] == "公表"}
    assert graded == {mine.code: "B", others[0].code: "C"}
    csv_text = client.get(reverse("kpi:public_half_csv", args=[half_plan.code, YEAR])).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("計画コード,年度,期,")


def test_a_yearly_plan_has_no_half(client, plan, measure, staff_user, dx_user):
    client.force_login(staff_user)
    assert client.get(edit_url(measure)).status_code == 404
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        publish(plan, YEAR, dx_user, 0, *LICENCE, improvements=[], period="H1")


@pytest.mark.parametrize(
    "name, queries",
    [
        # session, user, roles; measure (with plan, initiative, policy, KGI, department), its report, the grades
        ("report form", 3 + 3),
        # session, user, roles; plan, grades, the reports counted, the measures counted, the page's count and rows,
        # their reports
        ("summary", 3 + 7),
        # the publication with its plan, its periods, grades, named 改善方針, facts (2), confirmed reports, other
        # indicators' rows, reviews
        ("public half", 9),
        ("public half CSV", 7),
    ],
)
def test_half_year_pages_do_not_grow_with_the_plan(
    client, half_plan, mine, dx_user, name, queries, django_assert_num_queries
):
    publish(half_plan, YEAR, dx_user, 0, *LICENCE, improvements=[], period="H1")
    InterimReview.objects.create(measure=mine, fiscal_year=YEAR, judged_grade="B", reason="理由", status="confirmed")
    url = {
        "report form": edit_url(mine),
        "summary": reverse("kpi:interim_summary", args=[half_plan.code, YEAR]),
        "public half": reverse("kpi:public_half", args=[half_plan.code, YEAR]),
        "public half CSV": reverse("kpi:public_half_csv", args=[half_plan.code, YEAR]),
    }[name]
    if not name.startswith("public"):
        client.force_login(dx_user)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
    measures = grow_plan(half_plan, 2970, YEAR)
    InterimReview.objects.bulk_create(
        InterimReview(measure=m, fiscal_year=YEAR, judged_grade="ABCD"[i % 4], reason="理由", status="confirmed")
        for i, m in enumerate(measures)
    )
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


def test_each_half_has_its_own_deadline_for_the_dashboard_and_the_reminders(
    client, half_plan, mine, staff_user, viewer, department
):
    import datetime

    from django.core import mail

    from kpi.models import EntryDeadline
    from kpi.reminders import send_reminders

    first_half, year_end = datetime.date(2025, 10, 31), datetime.date(2026, 5, 29)
    EntryDeadline.objects.create(plan=half_plan, fiscal_year=YEAR, period="H1", due_on=first_half)
    EntryDeadline.objects.create(plan=half_plan, fiscal_year=YEAR, due_on=year_end)
    other = Measure.objects.filter(plan=half_plan).exclude(pk=mine.pk).order_by("pk").first()
    other.department = department
    other.save()
    InterimReview.objects.create(measure=other, fiscal_year=YEAR, judged_grade="B", reason="理由", status="submitted")
    staff_user.email = "tantou@example.jp"
    staff_user.save()

    # in October: the 上期 deadline, about the 上期 reports (the one not entered yet)
    send_reminders(datetime.date(2025, 10, 25))
    (sent,) = mail.outbox
    assert "R7（2025）年度 上期の進捗（入力期限 2025年10月31日、あと6日）" in sent.body
    assert f"・{mine.code} {mine.name}：未入力" in sent.body and other.code not in sent.body
    assert reverse("kpi:interim_edit", args=[half_plan.code, mine.code, YEAR]) in sent.body

    from unittest import mock

    client.force_login(viewer)
    with mock.patch("django.utils.timezone.localdate", return_value=datetime.date(2025, 10, 25)):
        html = client.get(reverse("home"), {"plan": half_plan.code, "year": YEAR}).content.decode()
    assert "上期の進捗の入力期限：2025年10月31日（あと6日）" in html
    # after it: the year's own deadline, about the yearly records
    with mock.patch("django.utils.timezone.localdate", return_value=datetime.date(2026, 5, 20)):
        html = client.get(reverse("home"), {"plan": half_plan.code, "year": YEAR}).content.decode()
    assert "入力期限：2026年5月29日（あと9日）" in html and "上期の進捗の入力期限" not in html


def test_a_yearly_plan_has_no_half_deadline(plan):
    import datetime

    from django.core.exceptions import ValidationError

    from kpi.models import EntryDeadline

    with pytest.raises(ValidationError) as raised:
        EntryDeadline(plan=plan, fiscal_year=YEAR, period="H1", due_on=datetime.date(2025, 10, 31)).full_clean()
    assert "半期ごとに進捗を確認する計画ではありません" in str(raised.value)


def test_who_may_report_the_first_half(client, mine, dx_user, viewer, other_department):
    from conftest import make_user
    from initiatives.roles import Role

    other_staff = make_user("tantou-other", Role.DEPARTMENT, other_department)
    for user, status in ((viewer, 403), (other_staff, 403), (dx_user, 200)):
        client.force_login(user)
        assert client.get(edit_url(mine)).status_code == status, user.username
    client.force_login(other_staff)
    data = {"seen_version": "0", "judged_grade": "B", "reason": "理由", "submit": "1"}
    assert client.post(edit_url(mine), data).status_code == 403
    assert not InterimReview.objects.exists()
    client.force_login(dx_user)  # the DX推進部門 may enter any measure's, as for the yearly record
    assert client.post(edit_url(mine), data).status_code == 302
    assert InterimReview.objects.get().status == "submitted"
