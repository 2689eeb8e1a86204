"""Every path that writes a PDCA record or a year's plan figures, against a locked year and a stale version.

Each path must be refused and leave the measure's rows exactly as they were. When a new write path
is added (an import, an API endpoint, an admin action), it is added to WRITE_PATHS here.
"""

import datetime
import hashlib
import io
import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse

from budget.models import BudgetFigure, FinalEvaluation, Hearing, HearingDecision, PlannedCost
from conftest import PLAN_FILE, grid_data, make_user, plan_data
from initiatives.models import Plan, PlanRevision, RevisionChange, ScheduleBar
from initiatives.roles import Role
from kpi.models import BarStatus, Indicator, IndicatorYear, InterimReview, KpiTarget, MeasureYear
from ohnojo_dx.plan_loader import PlanImportError, import_plan

pytestmark = pytest.mark.django_db

LOCKED_YEAR, OPEN_YEAR = 2024, 2025


@pytest.fixture
def locked(measure, dx_user):
    """R6 approved: the record, its schedule progress, its KPI target and its planned cost are frozen."""
    record = MeasureYear.objects.create(
        measure=measure,
        fiscal_year=LOCKED_YEAR,
        kpi_actual=70,
        actual_cost=100,
        work_done="講座を実施",
        status=MeasureYear.Status.DRAFT,
        version=3,
    )
    BarStatus.objects.create(measure_year=record, bar=measure.schedule_bars.first(), state=BarStatus.State.DONE)
    figures(measure, LOCKED_YEAR, record.version)
    interim_report(measure, LOCKED_YEAR, "confirmed", record.version)
    second_indicator(measure, LOCKED_YEAR)
    # approved last: the database refuses progress added to an approved record
    MeasureYear.objects.filter(pk=record.pk).update(status=MeasureYear.Status.APPROVED, approved_by=dx_user)
    record.refresh_from_db()
    return record


@pytest.fixture
def submitted(measure):
    """R7 submitted at version 2; a page opened at version 1 is stale. Its budget figures too."""
    figures(measure, OPEN_YEAR, 2)
    Hearing.objects.create(
        plan=measure.plan, fiscal_year=OPEN_YEAR, department=measure.department, held_on="2025-11-05", version=2
    )
    HearingDecision.objects.create(measure=measure, fiscal_year=OPEN_YEAR, evaluation="確認済み", version=2)
    FinalEvaluation.objects.create(measure=measure, carry_over="continue", version=2)
    interim_report(measure, OPEN_YEAR, "submitted", 2)
    second_indicator(measure, OPEN_YEAR)
    return MeasureYear.objects.create(
        measure=measure, fiscal_year=OPEN_YEAR, kpi_actual=60, work_done="x", status="submitted", version=2
    )


def second_indicator(measure, year):
    """A second indicator of the measure (kpi.Indicator), with its target and actual of ``year``."""
    indicator, _ = Indicator.objects.get_or_create(
        measure=measure, number=2, defaults={"name": "相談件数", "unit": "件"}
    )
    IndicatorYear.objects.create(
        indicator=indicator, measure=measure, fiscal_year=year, target_value=10, actual_value=8
    )


def interim_report(measure, year, status, version):
    """The 上期 report of a plan reviewed every half year (kpi.InterimReview), at ``version``."""
    InterimReview.objects.create(
        measure=measure, fiscal_year=year, progress="講座を開催", judged_grade="B", reason="予定どおり",
        status=status, version=version,
    )  # fmt: skip


def figures(measure, year, version):
    """The year's 実施計画額, 予算要求額 and 査定額, each at ``version``."""
    for stage in BudgetFigure.Stage:
        BudgetFigure.objects.create(
            measure=measure, fiscal_year=year, stage=stage, amount=50, general_fund=50, version=version
        )


def snapshot(measure):
    """Everything the paths could change: the measure's records, their schedule progress, its schedule,
    targets and costs, field by field."""
    return (
        list(MeasureYear.objects.filter(measure=measure).order_by("fiscal_year").values()),
        list(BarStatus.objects.filter(measure_year__measure=measure).order_by("pk").values()),
        list(ScheduleBar.objects.filter(measure=measure).order_by("pk").values()),
        list(KpiTarget.objects.filter(measure=measure).order_by("fiscal_year").values()),
        list(PlannedCost.objects.filter(measure=measure).order_by("fiscal_year").values()),
        list(BudgetFigure.objects.filter(measure=measure).order_by("fiscal_year", "stage").values()),
        list(Hearing.objects.filter(department=measure.department).order_by("pk").values()),
        list(HearingDecision.objects.filter(measure=measure).order_by("pk").values()),
        list(FinalEvaluation.objects.filter(measure=measure).values()),
        list(RevisionChange.objects.filter(measure=measure).values()),
        list(InterimReview.objects.filter(measure=measure).order_by("fiscal_year").values()),
        list(IndicatorYear.objects.filter(measure=measure).order_by("fiscal_year").values()),
    )


def entry(client, measure, record, seen):
    url = reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, record.fiscal_year])
    indicator = Indicator.objects.get(measure=measure)  # the measure's second indicator's actual too
    data = {"seen_version": seen, "kpi_actual": "99", "work_done": "改ざん", "submit": "1"}
    return client.post(url, {**data, f"indicator_{indicator.pk}": "77"})


def grid(client, measure, record, seen):
    url = reverse("kpi:department_grid", args=[measure.plan.code, record.fiscal_year, measure.department.code])
    return client.post(url, grid_data([(measure, {"seen_version": seen, "kpi_actual": "99", "work_done": "改ざん"})]))


def step(name, comment="理由"):
    def post(client, measure, record, seen):
        url = reverse(f"kpi:{name}", args=[measure.plan.code, measure.code, record.fiscal_year])
        return client.post(url, {"seen_version": seen, "comment": comment})

    return post


def bulk(client, measure, record, seen):
    url = reverse("kpi:bulk_approve", args=[measure.plan.code, record.fiscal_year])
    return client.post(url, {"record": [record.pk], f"version-{record.pk}": seen})


def admin_record_change(client, measure, record, seen):
    url = reverse("admin:kpi_measureyear_change", args=[record.pk])
    return client.post(url, {"kpi_actual": "1", "actual_cost": "999999", "status": "draft", "_save": "1"})


def admin_record_delete(client, measure, record, seen):
    return client.post(reverse("admin:kpi_measureyear_delete", args=[record.pk]), {"post": "yes"})


def admin_record_history(client, measure, record, seen):
    """django-simple-history's "revert" form, posted with changed figures and an unlocking status."""
    history_id = record.history.earliest().history_id
    url = reverse("admin:kpi_measureyear_simple_history", args=[record.pk, history_id])
    data = {"measure": measure.pk, "fiscal_year": record.fiscal_year, "kpi_actual": "1", "actual_cost": "999999"}
    return client.post(url, {**data, "status": "draft", "version": record.version, "_save": "1"})


def admin_row(model, action):
    def post(client, measure, record, seen):
        row = model.objects.get(measure=measure, fiscal_year=record.fiscal_year)
        opts = model._meta
        if action == "delete":
            return client.post(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[row.pk]), {"post": "yes"}
            )
        if action == "history":
            history_id = row.history.earliest().history_id
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[row.pk, history_id])
        else:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
        data = {"measure": measure.pk, "fiscal_year": record.fiscal_year, "value": "1", "amount": "1", "_save": "1"}
        return client.post(url, data)

    return post


def admin_page_data(page):
    """What a browser posts back from an admin change page as shown: every field of the form and its inlines."""
    data = {}
    for form in [page["adminform"].form, *(f for formset in page["inline_admin_formsets"] for f in formset.formset)]:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue  # an empty box or an unticked checkbox sends nothing
            data[bound.html_name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    for formset in page["inline_admin_formsets"]:
        fs = formset.formset
        data.update({f"{fs.prefix}-{k}": v for k, v in fs.management_form.initial.items()})
    return data


def admin_measure_inlines(client, measure, record, seen):
    """The admin's measure page, posted with the locked year's target and cost changed and marked for deletion."""
    url = reverse("admin:initiatives_measure_change", args=[measure.pk])
    page = client.get(url).context
    data = admin_page_data(page)
    for formset in page["inline_admin_formsets"]:
        for form in formset.formset.forms:
            if form.instance.pk and getattr(form.instance, "fiscal_year", None) == record.fiscal_year:
                data[f"{form.prefix}-value"] = "1"
                data[f"{form.prefix}-amount"] = "1"
                data[f"{form.prefix}-DELETE"] = "on"
    return client.post(url, data)


def plan_file(client, measure, record, seen):
    """Loading the plan again from its file: the command skips a plan that exists, and the loader
    refuses to create a second one with the same code."""
    call_command("import_plan", str(PLAN_FILE))
    with pytest.raises(PlanImportError):
        import_plan(plan_data())


def actuals_import(client, measure, record, seen):
    """The actuals workbook: a one-row .xlsx for the measure with a changed KPI実績 and `seen` as its 版,
    uploaded (the preview), then confirmed. A preview that refuses the row keeps nothing to confirm;
    its page, with the refusal, is then the answer."""
    from kpi.transfer import HEADERS

    args = [measure.plan.code, record.fiscal_year]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "実績入力"
    values = {"年度": record.fiscal_year, "施策コード": measure.code, "KPI実績": 99, "版": seen}
    sheet.append(list(HEADERS.values()))
    sheet.append([values.get(h) for h in HEADERS.values()])
    out = io.BytesIO()
    workbook.save(out)
    upload = SimpleUploadedFile("実績.xlsx", out.getvalue())
    preview = client.post(reverse("kpi:actuals", args=args), {"file": upload})
    token = preview.context["token"] if preview.context else None
    if not token:
        return preview
    return client.post(reverse("kpi:actuals_confirm", args=args), {"token": token})


def plan_workbook(client, measure, record, seen):
    """The plan workbook uploaded in the browser: the plan exists, so the preview keeps nothing to confirm."""
    content = client.get(reverse("plan_workbook", args=[measure.plan.code])).content
    page = client.post(reverse("plan_import"), {"file": SimpleUploadedFile("plan.xlsx", content)})
    assert page.context["digest"] is None
    return client.post(reverse("plan_import_confirm"), {"digest": hashlib.sha256(content).hexdigest()})


def budget_figure(stage):
    """A stage of the money chain entered on its form (budget:figure_edit)."""

    def post(client, measure, record, seen):
        url = reverse("budget:figure_edit", args=[measure.plan.code, measure.code, record.fiscal_year, stage])
        return client.post(url, {"seen_version": seen, "amount": "5", "general_fund": "5", "note": "改ざん"})

    return post


def admin_figure(action):
    """The admin's pages for a budget figure (read-only: the stages are entered on their pages)."""

    def post(client, measure, record, seen):
        row = BudgetFigure.objects.get(measure=measure, fiscal_year=record.fiscal_year, stage="assessed")
        data = {"amount": "1", "general_fund": "1", "version": seen, "post": "yes", "_save": "1"}
        if action == "history":
            history_id = row.history.earliest().history_id
            return client.post(reverse("admin:budget_budgetfigure_simple_history", args=[row.pk, history_id]), data)
        return client.post(reverse(f"admin:budget_budgetfigure_{action}", args=[row.pk]), data)

    return post


def hearing_date(client, measure, record, seen):
    url = reverse("budget:hearing_edit", args=[measure.plan.code, record.fiscal_year, measure.department.code])
    return client.post(url, {"seen_version": seen, "held_on": "2025-12-24"})


def hearing_decision(client, measure, record, seen):
    url = reverse("budget:decision_edit", args=[measure.plan.code, measure.code, record.fiscal_year])
    return client.post(url, {"seen_version": seen, "evaluation": "改ざん", "decision": "continue"})


def final_evaluation(client, measure, record, seen):
    url = reverse("budget:final_edit", args=[measure.plan.code, measure.code])
    return client.post(url, {"seen_version": seen, "carry_over": "complete", "comment": "改ざん"})


def plan_revision(client, measure, record, seen):
    """The year's KPI target changed in a plan revision; a page shown before a change (a stale ``seen``)
    carries other values than those stored."""
    revision, _ = PlanRevision.objects.get_or_create(
        plan=measure.plan, number=1, defaults={"decided_on": "2025-11-20", "decided_by": "会議", "reason": "理由"}
    )
    url = reverse("budget:revise_measure", args=[measure.plan.code, revision.number, measure.code])
    form = client.get(url).context["form"]
    data = {name: "" if form[name].value() is None else str(form[name].value()) for name in form.fields}
    data["seen"] = form.initial["seen"]
    if seen != record.version:
        shown = json.loads(data["seen"])
        shown[str(record.fiscal_year)]["target"]["value"] = "999.00"
        data["seen"] = json.dumps(shown)
    data[f"target_value_{record.fiscal_year}"] = "1"
    return client.post(url, data)


def orm(model, operation, **change):
    """Writes that skip every form and the workflow: the database itself refuses them."""

    def run(client, measure, record, seen):
        if model is BarStatus:
            rows = BarStatus.objects.filter(measure_year=record)
        else:
            rows = model.objects.filter(measure=measure, fiscal_year=record.fiscal_year)
        with pytest.raises(IntegrityError), transaction.atomic():
            if operation == "delete":
                rows.delete()
            elif operation == "insert":
                BarStatus.objects.create(measure_year=record, bar=measure.schedule_bars.last(), state="done")
            else:
                rows.update(**change)

    return run


def api_entry(method):
    """The REST API's PATCH or PUT of a measure-year's actuals."""

    def send(client, measure, record, seen):
        url = f"/api/plans/{measure.plan.code}/measures/{measure.code}/years/{record.fiscal_year}/"
        body = {"version": seen, "kpi_actual": 99, "work_done": "改ざん"}
        return getattr(client, method)(url, body, content_type="application/json")

    return send


def api_step(name, comment=None):
    """The REST API's workflow actions."""

    def send(client, measure, record, seen):
        url = f"/api/plans/{measure.plan.code}/measures/{measure.code}/years/{record.fiscal_year}/{name}/"
        body = {"version": seen} if comment is None else {"version": seen, "comment": comment}
        return client.post(url, body, content_type="application/json")

    return send


def half_yearly(measure):
    """The measure's plan reviewed every half year, as the 上期 paths need (not a guarded row)."""
    Plan.objects.filter(pk=measure.plan_id).update(review_cycle="half")


def interim_entry(client, measure, record, seen):
    half_yearly(measure)
    url = reverse("kpi:interim_edit", args=[measure.plan.code, measure.code, record.fiscal_year])
    data = {"seen_version": seen, "progress": "上期に変更", "judged_grade": "A", "reason": "前倒し", "submit": "1"}
    return client.post(url, data)


def interim_step(name, comment=""):
    def post(client, measure, record, seen):
        half_yearly(measure)
        url = reverse("kpi:interim_step", args=[measure.plan.code, measure.code, record.fiscal_year, name])
        return client.post(url, {"seen_version": seen, "comment": comment})

    return post


def admin_bar_delete(client, measure, record, seen):
    """Deleting a schedule bar would take the approved year's progress with it."""
    bar = measure.schedule_bars.first()
    return client.post(reverse("admin:initiatives_schedulebar_delete", args=[bar.pk]), {"post": "yes"})


# (name, path, who may otherwise use it, applies to a locked year, applies to a stale version)
WRITE_PATHS = [
    ("entry form", entry, "staff", True, True),
    ("department grid", grid, "staff", True, True),
    ("actuals import", actuals_import, "staff", True, True),
    ("approve", step("approve"), "dx", True, True),
    ("return", step("return"), "dx", True, True),
    ("reopen", step("reopen", "数値の訂正"), "dx", False, True),  # reopening is the door's own unlock
    ("bulk approval", bulk, "dx", True, True),
    ("API PATCH", api_entry("patch"), "staff", True, True),
    ("API PUT", api_entry("put"), "staff", True, True),
    ("API submit", api_step("submit"), "staff", True, True),
    ("API approve", api_step("approve"), "dx", True, True),
    ("API return", api_step("return", "理由"), "dx", True, True),
    ("API reopen", api_step("reopen", "数値の訂正"), "dx", False, True),
    ("admin record change", admin_record_change, "dx", True, False),
    ("admin record delete", admin_record_delete, "dx", True, False),
    ("admin record history", admin_record_history, "dx", True, False),
    ("admin target change", admin_row(KpiTarget, "change"), "dx", True, False),
    ("admin target delete", admin_row(KpiTarget, "delete"), "dx", True, False),
    ("admin target history", admin_row(KpiTarget, "history"), "dx", True, False),
    ("admin cost change", admin_row(PlannedCost, "change"), "dx", True, False),
    ("admin cost delete", admin_row(PlannedCost, "delete"), "dx", True, False),
    ("admin cost history", admin_row(PlannedCost, "history"), "dx", True, False),
    ("admin measure page", admin_measure_inlines, "dx", True, False),
    ("import_plan", plan_file, "dx", True, False),
    ("plan workbook import", plan_workbook, "dx", True, False),
    ("admin schedule bar delete", admin_bar_delete, "dx", True, False),
    ("ORM record update", orm(MeasureYear, "update", kpi_actual=1), "dx", True, False),
    ("ORM record unlock and update", orm(MeasureYear, "update", status="draft", kpi_actual=1), "dx", True, False),
    ("ORM record delete", orm(MeasureYear, "delete"), "dx", True, False),
    ("ORM progress insert", orm(BarStatus, "insert"), "dx", True, False),
    ("ORM progress update", orm(BarStatus, "update", state="delayed"), "dx", True, False),
    ("ORM progress delete", orm(BarStatus, "delete"), "dx", True, False),
    ("ORM target update", orm(KpiTarget, "update", value=1), "dx", True, False),
    ("ORM target delete", orm(KpiTarget, "delete"), "dx", True, False),
    ("ORM cost update", orm(PlannedCost, "update", amount=1), "dx", True, False),
    ("ORM cost delete", orm(PlannedCost, "delete"), "dx", True, False),
    ("implementation plan amount form", budget_figure("implementation"), "dx", True, True),
    ("budget request form", budget_figure("request"), "staff", True, True),
    ("assessed amount form", budget_figure("assessed"), "dx", True, True),
    ("admin budget figure change", admin_figure("change"), "dx", True, False),
    ("admin budget figure delete", admin_figure("delete"), "dx", True, False),
    ("admin budget figure history", admin_figure("history"), "dx", True, False),
    ("hearing date form", hearing_date, "dx", False, True),  # not locked with the year: reviews go on
    ("hearing decision form", hearing_decision, "dx", False, True),
    ("final evaluation form", final_evaluation, "dx", False, True),
    ("plan revision form", plan_revision, "dx", True, True),
    ("上期 report form", interim_entry, "staff", True, True),
    ("上期 confirm", interim_step("confirm"), "dx", True, True),
    ("上期 reopen", interim_step("reopen", "判定の訂正"), "dx", True, False),  # the year's lock holds it
    ("ORM 上期 report update", orm(InterimReview, "update", judged_grade="D"), "dx", True, False),
    ("ORM indicator actual update", orm(IndicatorYear, "update", actual_value=1), "dx", True, False),
    ("ORM indicator target update", orm(IndicatorYear, "update", target_value=1), "dx", True, False),
    ("ORM indicator year delete", orm(IndicatorYear, "delete"), "dx", True, False),
    ("ORM 上期 report delete", orm(InterimReview, "delete"), "dx", True, False),
    ("ORM budget figure update", orm(BudgetFigure, "update", amount=1), "dx", True, False),
    ("ORM budget figure delete", orm(BudgetFigure, "delete"), "dx", True, False),
]


@pytest.fixture
def as_(client, dx_user, staff_user):
    def login(who):
        client.force_login({"dx": dx_user, "staff": staff_user}[who])
        return client

    return login


@pytest.mark.parametrize(
    "name, path, who", [(n, p, w) for n, p, w, on_locked, _ in WRITE_PATHS if on_locked], ids=lambda v: v
)
def test_every_write_path_is_refused_on_a_locked_year(as_, measure, locked, name, path, who):
    before = snapshot(measure)
    response = path(as_(who), measure, locked, locked.version)
    assert snapshot(measure) == before, name
    if response is not None:
        assert response.status_code in (200, 302, 403, 409), name  # the API answers 409 for a locked year
    locked.refresh_from_db()
    assert locked.is_locked and locked.approved_by is not None


@pytest.mark.parametrize("off", [-1, +1], ids=["seen an older version", "claims a newer version"])
@pytest.mark.parametrize(
    "name, path, who", [(n, p, w) for n, p, w, _, on_stale in WRITE_PATHS if on_stale], ids=lambda v: v
)
def test_every_write_path_is_refused_on_a_stale_version(as_, measure, submitted, locked, name, path, who, off):
    record = locked if name.endswith("reopen") else submitted
    before = snapshot(measure)
    response = path(as_(who), measure, record, record.version + off)
    assert snapshot(measure) == before, name
    assert response.status_code in (200, 302, 409)  # a page shows the conflict; the API answers 409
    follow = response.content.decode() if response.status_code in (200, 409) else ""
    if response.status_code == 302:
        follow = as_(who).get(response["Location"]).content.decode()
    assert "他の人が更新しています" in follow, name


def test_the_same_writes_go_through_when_the_year_is_open(as_, measure, submitted):
    """The refusals above are the lock's and the version's doing: with the right version, the door opens."""
    response = entry(as_("staff"), measure, submitted, submitted.version)
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert (submitted.kpi_actual, submitted.version) == (99, 3)
    assert IndicatorYear.objects.get(measure=measure, fiscal_year=OPEN_YEAR).actual_value == 77
    response = step("approve")(as_("dx"), measure, submitted, submitted.version)
    submitted.refresh_from_db()
    assert submitted.is_locked


def test_admin_history_form_is_refused_for_every_role(client, measure, locked, dx_user, staff_user, viewer):
    viewer.is_staff = True  # given staff status by mistake: the role still decides
    viewer.save()
    superuser = make_user("root")
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    before = snapshot(measure)
    for user in (dx_user, staff_user, viewer, superuser):
        client.force_login(user)
        response = admin_record_history(client, measure, locked, locked.version)
        assert response.status_code in (302, 403), user
        assert snapshot(measure) == before, user


def test_admin_measure_page_saves_an_edit_with_approved_years(as_, measure, locked):
    client = as_("dx")
    url = reverse("admin:initiatives_measure_change", args=[measure.pk])
    page = client.get(url).context
    data = admin_page_data(page)
    data["content"] = "内容を更新しました。"
    open_target = next(
        f
        for fs in page["inline_admin_formsets"]
        for f in fs.formset.forms
        if isinstance(f.instance, KpiTarget) and f.instance.fiscal_year == OPEN_YEAR
    )
    data[f"{open_target.prefix}-value"] = "85"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    measure.refresh_from_db()
    assert measure.content == "内容を更新しました。"
    assert KpiTarget.objects.get(measure=measure, fiscal_year=OPEN_YEAR).value == 85
    assert KpiTarget.objects.get(measure=measure, fiscal_year=LOCKED_YEAR).value != 1
    assert (
        KpiTarget.objects.get(measure=measure, fiscal_year=OPEN_YEAR).history.first().history_change_reason
        == "管理画面"
    )


def test_viewer_with_staff_status_cannot_use_the_admin(client, viewer, measure):
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    target = KpiTarget.objects.filter(measure=measure).first()
    assert client.get(reverse("admin:index")).status_code == 302
    response = client.post(reverse("admin:kpi_kpitarget_change", args=[target.pk]), {"value": "1"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.value != 1


def test_role_follows_its_code_when_the_group_is_renamed(client, staff_user, measure):
    from initiatives.roles import role_group

    group = role_group(Role.DEPARTMENT)
    group.name = "担当課（改称）"
    group.save()
    client.force_login(staff_user)
    url = reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, OPEN_YEAR])
    assert client.get(url).status_code == 200


def test_plan_file_json_is_the_one_loaded():
    assert json.loads(PLAN_FILE.read_text(encoding="utf-8"))["plan"]["code"] == plan_data()["plan"]["code"]
    with pytest.raises(CommandError):
        call_command("import_plan", "/nonexistent/plan.json")


def test_dx_office_edits_the_plan_but_not_accounts_roles_or_whole_plans(client, dx_user, plan):
    from initiatives.models import RoleGroup

    client.force_login(dx_user)
    assert client.get(reverse("admin:initiatives_plan_change", args=[plan.pk])).status_code == 200
    assert client.get(reverse("admin:initiatives_plan_delete", args=[plan.pk])).status_code == 403
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    role = RoleGroup.objects.first()
    response = client.post(reverse("admin:initiatives_rolegroup_change", args=[role.pk]), {"role": "dx_office"})
    assert response.status_code == 403


def test_admin_forms_refuse_control_characters(client, dx_user, measure):
    client.force_login(dx_user)
    department = measure.department
    url = reverse("admin:initiatives_department_change", args=[department.pk])
    response = client.post(url, {"code": department.code, "name": "課\x07名", "is_sample": ""})
    assert response.status_code == 200
    assert "制御文字（改行・タブ以外）は入力できません。" in response.content.decode()
    department.refresh_from_db()
    assert department.name == "テスト課"


def test_admin_link_follows_the_role(client, dx_user, viewer):
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    assert reverse("admin:index") not in client.get(reverse("initiatives:plan_list")).content.decode()
    client.force_login(dx_user)
    assert reverse("admin:index") in client.get(reverse("initiatives:plan_list")).content.decode()


def test_admin_cannot_move_a_target_into_a_locked_year(as_, measure, locked):
    open_target = KpiTarget.objects.get(measure=measure, fiscal_year=OPEN_YEAR)
    url = reverse("admin:kpi_kpitarget_change", args=[open_target.pk])
    seen = as_("dx").get(url).context["adminform"].form["seen"].value()  # the row as the page showed it
    data = {"measure": measure.pk, "fiscal_year": LOCKED_YEAR, "value": "1", "seen": seen, "_save": "1"}
    response = as_("dx").post(url, data)
    assert response.status_code == 200
    assert "R6（2024）年度 は承認済みのため、目標・経費を変更できません" in response.content.decode()
    open_target.refresh_from_db()
    assert open_target.fiscal_year == OPEN_YEAR


def test_a_copy_read_before_another_save_never_overwrites_it(measure, submitted, dx_user, staff_user):
    """Two requests read the same record; the second to write is refused even if it posts the newer version."""
    from kpi import workflow

    departments_copy = MeasureYear.objects.get(pk=submitted.pk)
    approvers_copy = MeasureYear.objects.get(pk=submitted.pk)
    workflow.approve(approvers_copy, dx_user, approvers_copy.version)  # commits first: locked at version 3
    departments_copy.kpi_actual = 99
    with pytest.raises(workflow.Conflict):
        workflow.save_record(departments_copy, staff_user, seen_version=3)
    submitted.refresh_from_db()
    assert (submitted.status, submitted.kpi_actual, submitted.version) == ("approved", 60, 3)


def test_an_approval_read_before_a_resubmission_never_approves_the_old_figures(measure, submitted, dx_user, staff_user):
    from kpi import workflow

    approvers_copy = MeasureYear.objects.get(pk=submitted.pk)
    departments_copy = MeasureYear.objects.get(pk=submitted.pk)
    departments_copy.kpi_actual = 10
    workflow.save_record(departments_copy, staff_user, departments_copy.version, submit=True)  # version 3
    with pytest.raises(workflow.Conflict):
        workflow.approve(approvers_copy, dx_user, seen_version=3)
    submitted.refresh_from_db()
    assert (submitted.status, submitted.kpi_actual) == ("submitted", 10)


def test_the_plan_file_loader_writes_targets_and_costs_through_the_door(monkeypatch):
    from kpi import workflow

    calls = []
    real = workflow.save_plan_row
    monkeypatch.setattr(workflow, "save_plan_row", lambda row, user, reason="": calls.append(row) or real(row, user))
    data = plan_data()
    data["plan"]["code"] = "second-copy"
    import_plan(data)
    assert (
        len(calls)
        == KpiTarget.objects.filter(measure__plan__code="second-copy").count()
        + PlannedCost.objects.filter(measure__plan__code="second-copy").count()
    )
    assert len(calls) == 240  # 30 measures × 4 years × (KPI target, LCC)


def test_a_stale_admin_measure_page_never_undoes_a_change_made_after_it_was_opened(as_, measure, dx_user):
    """The admin page was opened; then a plan revision changed the R7 LCC; the page, posted with only
    the 内容 edited, must not put the old LCC back (nor save anything)."""
    client = as_("dx")
    url = reverse("admin:initiatives_measure_change", args=[measure.pk])
    data = admin_page_data(client.get(url).context)
    data["content"] = "内容を更新しました。"
    revision = PlanRevision.objects.create(
        plan=measure.plan, number=1, decided_on=datetime.date(2025, 11, 20), decided_by="会議", reason="増額"
    )
    cost = PlannedCost.objects.get(measure=measure, fiscal_year=OPEN_YEAR)
    seen = {"amount": None if cost.amount is None else str(cost.amount), "note": cost.note}
    cost.amount = (cost.amount or 0) + 1000
    from kpi import workflow

    workflow.revise_plan_row(cost, dx_user, revision, ("amount", "note"), seen)
    before = snapshot(measure)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "他の人が更新しています" in response.content.decode()
    assert snapshot(measure) == before
    measure.refresh_from_db()
    assert measure.content != "内容を更新しました。"
    # the page opened again saves
    data = admin_page_data(client.get(url).context)
    data["content"] = "内容を更新しました。"
    assert client.post(url, data).status_code == 302
    assert PlannedCost.objects.get(measure=measure, fiscal_year=OPEN_YEAR).amount == cost.amount
