"""Submit → approve (lock) or return; reopen as a logged step; bulk approval; the grid; the roll-up."""

import datetime

import pytest
from django.urls import reverse

from conftest import grid_data
from initiatives.models import Measure
from kpi.achievement import grade_scale
from kpi.facts import classified
from kpi.models import MeasureYear
from kpi.rollup import summarise

pytestmark = pytest.mark.django_db

YEAR = 2025


def step_url(name, record):
    return reverse(f"kpi:{name}", args=[record.measure.plan.code, record.measure.code, record.fiscal_year])


@pytest.fixture
def draft(measure):
    return MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=78, work_done="講座を実施")


def test_submit_then_approve_locks_the_year(client, staff_user, dx_user, measure, draft):
    client.force_login(staff_user)
    edit = reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, YEAR])
    response = client.post(
        edit, {"seen_version": draft.version, "kpi_actual": "78", "evaluation_comment": "概ね順調", "submit": "1"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == MeasureYear.Status.SUBMITTED and draft.submitted_at

    client.force_login(dx_user)
    assert client.post(step_url("approve", draft), {"seen_version": draft.version}).status_code == 302
    draft.refresh_from_db()
    assert draft.is_locked and draft.approved_by == dx_user
    html = client.get(measure.get_absolute_url()).content.decode()
    assert "承認済み（ロック）" in html
    # 78 ÷ 80 (R7 target 80%) = 97.5% → B
    assert "97.5%" in html and 'grade-badge grade-B grade-colour-blue">B<' in html
    assert "ロックを解除して再開" in html


def test_submit_without_actuals_is_refused(client, staff_user, measure):
    client.force_login(staff_user)
    edit = reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, YEAR])
    response = client.post(edit, {"seen_version": "0", "improvement": "continue", "submit": "1"})
    assert "実績（KPI実績値・決算額・実施内容のいずれか）を入力してから提出してください。" in response.content.decode()
    assert not MeasureYear.objects.exists()


def test_return_needs_a_reason_and_shows_it(client, dx_user, draft):
    draft.status = MeasureYear.Status.SUBMITTED
    draft.save()
    client.force_login(dx_user)
    client.post(step_url("return", draft), {"seen_version": draft.version, "comment": ""})
    draft.refresh_from_db()
    assert draft.status == MeasureYear.Status.SUBMITTED
    client.post(step_url("return", draft), {"seen_version": draft.version, "comment": "根拠資料を添付してください"})
    draft.refresh_from_db()
    assert draft.status == MeasureYear.Status.RETURNED
    assert "根拠資料を添付してください" in client.get(draft.measure.get_absolute_url()).content.decode()


def test_reopen_is_an_explicit_logged_step(client, dx_user, draft):
    draft.status = MeasureYear.Status.APPROVED
    draft.save()
    client.force_login(dx_user)
    client.post(step_url("reopen", draft), {"seen_version": draft.version, "comment": ""})
    draft.refresh_from_db()
    assert draft.is_locked  # no reason, no reopening
    client.post(step_url("reopen", draft), {"seen_version": draft.version, "comment": "決算額の訂正"})
    draft.refresh_from_db()
    assert draft.status == MeasureYear.Status.DRAFT
    last = draft.history.first()
    assert last.history_change_reason == "再開: 決算額の訂正" and last.history_user == dx_user
    html = client.get(draft.measure.get_absolute_url()).content.decode()
    assert "再開: 決算額の訂正" in html and "承認済み → 入力中" in html


def test_history_shows_who_changed_what(client, staff_user, measure, draft):
    client.force_login(staff_user)
    edit = reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, YEAR])
    client.post(edit, {"seen_version": draft.version, "kpi_actual": "79", "work_done": "講座を実施"})
    html = client.get(measure.get_absolute_url()).content.decode()
    assert "KPI実績値：78 → 79" in html
    assert staff_user.username in html


def test_improvement_shows_on_the_next_years_page(client, staff_user, measure):
    MeasureYear.objects.create(
        measure=measure, fiscal_year=2024, kpi_actual=70, improvement="expand", improvement_text="講座を地区ごとに拡大"
    )
    client.force_login(staff_user)
    html = client.get(reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, 2025])).content.decode()
    assert "前年度の改善方針" in html and "拡充" in html and "講座を地区ごとに拡大" in html


def test_bulk_approval_is_all_or_nothing(client, dx_user, plan, measure, other_measure):
    a = MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=1, status="submitted")
    b = MeasureYear.objects.create(measure=other_measure, fiscal_year=YEAR, kpi_actual=1, status="submitted")
    client.force_login(dx_user)
    url = reverse("kpi:bulk_approve", args=[plan.code, YEAR])
    html = client.get(reverse("kpi:pdca", args=[plan.code, YEAR])).content.decode()
    assert f'name="version-{a.pk}" value="1"' in html and "checked" not in html.split("一括承認", 1)[0][-3000:]
    seen = {"record": [a.pk, b.pk], f"version-{a.pk}": 1, f"version-{b.pk}": 1}
    # b was returned by someone else meanwhile: nothing is approved.
    MeasureYear.objects.filter(pk=b.pk).update(status="returned")
    client.post(url, seen)
    assert set(MeasureYear.objects.values_list("status", flat=True)) == {"submitted", "returned"}
    # b was resubmitted with new figures after the approver opened the list: still nothing.
    MeasureYear.objects.filter(pk=b.pk).update(status="submitted", kpi_actual=2, version=2)
    client.post(url, seen)
    assert set(MeasureYear.objects.values_list("status", flat=True)) == {"submitted"}
    # Approving what is on screen now works.
    client.post(url, {**seen, f"version-{b.pk}": 2})
    assert set(MeasureYear.objects.values_list("status", flat=True)) == {"approved"}


def test_saving_a_submitted_record_takes_it_back_to_draft(client, staff_user, measure):
    record = MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=70, status="submitted")
    client.force_login(staff_user)
    edit = reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, YEAR])
    client.post(edit, {"seen_version": record.version, "kpi_actual": "72"})
    record.refresh_from_db()
    assert (record.status, record.kpi_actual) == (MeasureYear.Status.DRAFT, 72)


def test_grid_saves_all_rows_or_none(client, staff_user, plan, department):
    measures = list(Measure.objects.filter(plan=plan, initiative__policy__number=1, initiative__number=3))
    Measure.objects.filter(pk__in=[m.pk for m in measures]).update(department=department)
    client.force_login(staff_user)
    url = reverse("kpi:department_grid", args=[plan.code, YEAR, department.code])
    html = client.get(url).content.decode()
    assert all(m.name in html for m in measures)

    rows = [(m, {"seen_version": "0", "kpi_actual": "10", "work_done": "実施"}) for m in measures]
    bad = measures[2]  # デジタル・デバイド対策, unit %
    rows[2][1]["kpi_actual"] = "150"
    data = grid_data(rows)
    response = client.post(url, data)
    assert response.status_code == 200
    assert not MeasureYear.objects.exists()
    html = response.content.decode()
    assert "何も保存していません" in html
    assert f'id="row-{bad.code}"' in html.split("row-error", 1)[1][:80]
    assert "単位が%の値は100以下で入力してください。" in html

    data["grid-2-kpi_actual"] = "７５"
    assert client.post(url, data).status_code == 302
    assert MeasureYear.objects.filter(fiscal_year=YEAR).count() == len(measures)


def rollup(plan, today):
    """What the PDCA page shows: the facts of the year summed per plan, policy and initiative."""
    return summarise(plan, YEAR, classified(Measure.objects.filter(plan=plan), YEAR, grade_scale(plan), today), today)


def test_rollup_counts_stages_and_overdue(plan):
    measures = list(Measure.objects.filter(plan=plan).order_by("pk"))
    MeasureYear.objects.create(measure=measures[0], fiscal_year=YEAR, kpi_actual=1, status="submitted")
    MeasureYear.objects.create(
        measure=measures[1],
        fiscal_year=YEAR,
        kpi_actual=1,
        evaluation_comment="x",
        improvement="continue",
        status="approved",
    )
    MeasureYear.objects.create(
        measure=measures[2], fiscal_year=YEAR, kpi_actual=1, evaluation_comment="x", status="returned"
    )
    rows = rollup(plan, datetime.date(2026, 11, 27))
    total = rows[0]
    assert total.measures == 30
    assert total.stage_counts == [("P", 27), ("D", 1), ("C", 1), ("A", 1)]
    assert (total.statuses["submitted"], total.statuses["approved"], total.statuses["returned"]) == (1, 1, 1)
    assert total.overdue == 27
    # Before the year closes (31 March 2026) nothing is overdue.
    assert rollup(plan, datetime.date(2026, 3, 31))[0].overdue == 0
    policy_rows = [r for r in rows if r.level == "policy"]
    assert sum(r.measures for r in policy_rows) == 30
    initiative_rows = [r for r in rows if r.level == "initiative"]
    assert len(initiative_rows) == 13 and sum(r.measures for r in initiative_rows) == 30


def test_pdca_page_shows_the_rollup_in_fixed_queries(client, dx_user, plan, measure, django_assert_num_queries):
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=1, status="submitted")
    client.force_login(dx_user)
    url = reverse("kpi:pdca", args=[plan.code, YEAR])
    # session, user, the user's groups (role check), plan, grade thresholds, the roll-up counted per
    # initiative, departments; the submitted records (bulk approval): their count, the page, and its facts
    # (delayed bars, the joined rows)
    with django_assert_num_queries(11):
        html = client.get(url).content.decode()
    assert "選んだ施策を一括承認" in html and measure.name in html


def test_grid_keeps_what_it_does_not_show(client, staff_user, plan, department):
    """A text actual entered on the measure's page survives a grid save of other rows."""
    measures = list(Measure.objects.filter(plan=plan, initiative__policy__number=1, initiative__number=1))
    Measure.objects.filter(pk__in=[m.pk for m in measures]).update(department=department)
    kept = MeasureYear.objects.create(
        measure=measures[0],
        fiscal_year=YEAR,
        kpi_actual=100,
        kpi_actual_text="",
        work_done="窓口で受付",
        evaluation_comment="概ね順調",
        improvement="expand",
        improvement_text="対象手続を拡大",
    )
    client.force_login(staff_user)
    url = reverse("kpi:department_grid", args=[plan.code, YEAR, department.code])
    # what the browser sends back: every field of every row as the page showed it
    page = client.get(url).context
    data = {
        bound.html_name: "" if bound.value() is None else str(bound.value())
        for form in [page["formset"].management_form, *(form for _, _, form in page["rows"])]
        for bound in form
    }
    prefix = {measure.pk: form.prefix for measure, _, form in page["rows"]}
    data.update(
        {f"{prefix[measures[0].pk]}-seen_version": str(kept.version), f"{prefix[measures[1].pk]}-kpi_actual": "5"}
    )
    assert client.post(url, data).status_code == 302
    kept.refresh_from_db()
    assert (kept.improvement_text, kept.version) == ("対象手続を拡大", 1)  # not shown in the grid, not touched
    assert MeasureYear.objects.get(measure=measures[1]).kpi_actual == 5


def test_targets_and_costs_of_an_approved_year_are_frozen(plan, measure):
    from django.core.exceptions import ValidationError

    from kpi import workflow

    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=70, status="approved")
    target = measure.kpi_targets.get(fiscal_year=YEAR)
    target.value = 50
    with pytest.raises(ValidationError, match="承認済み"):
        workflow.save_plan_row(target, workflow.SERVER)
    cost = measure.planned_costs.get(fiscal_year=YEAR)
    cost.amount = 1
    with pytest.raises(ValidationError, match="承認済み"):
        workflow.save_plan_row(cost, workflow.SERVER)
    open_year = measure.kpi_targets.get(fiscal_year=YEAR - 1)
    open_year.value = 1
    workflow.save_plan_row(open_year, workflow.SERVER)  # an open year can still be corrected
    assert measure.kpi_targets.get(fiscal_year=YEAR - 1).value == 1


def test_a_measure_with_records_cannot_be_deleted(measure):
    from django.db.models import ProtectedError

    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=70, status="approved")
    with pytest.raises(ProtectedError):
        measure.delete()


def test_save_many_writes_every_row_with_its_history_or_names_every_refused_row(
    plan, staff_user, measure, other_measure, monkeypatch
):
    """The door's batched path (imports): the same role, lock and version checks as save_record, row by
    row; one claim per batch; every refused row named; nothing written unless every row passes."""
    from kpi import workflow

    monkeypatch.setattr(workflow, "BATCH", 2)  # several batches out of a few rows
    own = list(Measure.objects.filter(plan=plan, initiative__policy__number=1, initiative__number=3))
    Measure.objects.filter(pk__in=[m.pk for m in own]).update(department=measure.department)
    stored = {m.pk: MeasureYear.objects.create(measure=m, fiscal_year=YEAR, kpi_actual=1, version=4) for m in own[:3]}
    MeasureYear.objects.filter(pk=stored[own[0].pk].pk).update(status="submitted")

    def edits(seen=None):
        """Every own measure's record as read now, each with a new 決算額, and the version seen."""
        rows = []
        for m in Measure.objects.filter(pk__in=[m.pk for m in own]).order_by("pk"):
            record = MeasureYear.objects.filter(measure=m, fiscal_year=YEAR).first() or MeasureYear(
                measure=m, fiscal_year=YEAR
            )
            record.actual_cost = 300
            rows.append((record, (seen or {}).get(m.pk, record.version if record.pk else 0)))
        return rows

    def state():
        return list(MeasureYear.objects.order_by("pk").values()), MeasureYear.history.count()

    imported = MeasureYear.history.filter(history_change_reason="取込")

    # refused: a stale version, a locked year, another department's measure (all named at once)
    MeasureYear.objects.filter(pk=stored[own[1].pk].pk).update(status="approved")
    before = state()
    rows = edits(seen={own[2].pk: 3})
    intruder = MeasureYear(measure=other_measure, fiscal_year=YEAR, actual_cost=1)
    with pytest.raises(workflow.RowsRefused) as refused:
        workflow.save_many([*rows, (intruder, 0)], staff_user, "取込")
    assert {(r.measure_id, type(e)) for r, e in refused.value.refused} == {
        (own[1].pk, workflow.Locked),
        (own[2].pk, workflow.Conflict),
        (other_measure.pk, workflow.NotAllowed),
    }
    assert state() == before
    MeasureYear.objects.filter(pk=stored[own[1].pk].pk).update(status="draft")
    # a row saved by someone else after it was read (the claim sees it), in the last batch
    rows = edits()
    MeasureYear.objects.filter(pk=stored[own[2].pk].pk).update(version=5)
    with pytest.raises(workflow.RowsRefused) as refused:
        workflow.save_many(rows, staff_user, "取込")
    assert [(r.measure_id, type(e)) for r, e in refused.value.refused] == [(own[2].pk, workflow.Conflict)]
    assert not imported.exists() and MeasureYear.objects.get(pk=stored[own[0].pk].pk).version == 4  # rolled back
    # a new record someone created after it was read
    rows = edits()
    late = MeasureYear.objects.create(measure=own[3], fiscal_year=YEAR, work_done="先に入力")
    with pytest.raises(workflow.RowsRefused) as refused:
        workflow.save_many(rows, staff_user, "取込")
    assert [(r.measure_id, type(e)) for r, e in refused.value.refused] == [(own[3].pk, workflow.Conflict)]
    late.delete()
    # every row passes: all written, versions claimed, history "取込" by the user, submitted back to draft
    rows = edits()
    assert workflow.save_many(rows, staff_user, "取込") == len(own)
    written = {r.measure_id: r for r in MeasureYear.objects.filter(measure__in=own, fiscal_year=YEAR)}
    assert {r.actual_cost for r in written.values()} == {300} and len(written) == len(own)
    assert [written[m.pk].version for m in own[:4]] == [5, 5, 6, 1]  # each stored one's next version
    assert written[own[0].pk].status == "draft"
    history = imported
    assert history.count() == len(own)
    assert set(history.values_list("history_user", flat=True)) == {staff_user.pk}
    assert {(h.id, h.version, h.actual_cost) for h in history} == {(r.pk, r.version, 300) for r in written.values()}
