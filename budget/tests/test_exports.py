"""Report downloads of a large plan, built in the background (budget.exports): the job, its page, its file,
who may see it, the command that builds what a restart left, and a job that runs only once."""

import csv
import datetime
import gc
import io
import threading
import uuid
from urllib.parse import unquote

import openpyxl
import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from budget import exports
from budget.models import ExportJob, PlannedCost
from budget.views import REPORTS
from conftest import grow_plan, make_user
from initiatives.models import Measure
from initiatives.roles import Role
from kpi.models import MeasureYear
from tests import workbooks

pytestmark = pytest.mark.django_db

YEAR = 2025
HEARING_XLSX = "予算ヒアリング_大野城市DX推進計画_全年度.xlsx"


@pytest.fixture
def small_limit(settings, plan):
    """The test plan (30 measures) counts as too large to build within a request."""
    settings.EXPORT_INLINE_MAX_MEASURES = Measure.objects.filter(plan=plan).count() - 1


@pytest.fixture
def actuals(plan):
    for i, m in enumerate(Measure.objects.filter(plan=plan).order_by("pk")[:5]):
        MeasureYear.objects.create(measure=m, fiscal_year=YEAR, kpi_actual=i, actual_cost=1000 * (i + 1))


def report_url(plan, kind="hearing", **params):
    return reverse("budget:report", args=[plan.code, kind]) + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def job_url(job, name="budget:export_job"):
    return reverse(name, args=[job.plan.code, job.token])


def file_name(response):
    return unquote(response["Content-Disposition"].split("''", 1)[1])


def request_download(client, plan, django_capture_on_commit_callbacks, **params):
    """Ask for a download; the job (queued, its thread not started: the callbacks are only captured)."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get(report_url(plan, **params))
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert len(callbacks) == 1  # the thread starts after the commit
    return job


def test_a_plan_up_to_the_limit_downloads_within_the_request(client, viewer, plan, settings):
    settings.EXPORT_INLINE_MAX_MEASURES = Measure.objects.filter(plan=plan).count()
    client.force_login(viewer)
    response = client.get(report_url(plan, format="xlsx"))
    assert response.status_code == 200 and file_name(response) == HEARING_XLSX
    assert not ExportJob.objects.exists()


def test_a_large_plan_gets_a_job_page_then_the_workbook(
    client, viewer, plan, actuals, small_limit, django_capture_on_commit_callbacks
):
    client.force_login(viewer)
    job = request_download(client, plan, django_capture_on_commit_callbacks, format="xlsx")
    assert (job.kind, job.output, job.params, job.requested_by, job.status) == ("hearing", "xlsx", {}, viewer, "queued")

    html = client.get(job_url(job)).content.decode()
    assert "作成中です" in html and '<meta http-equiv="refresh"' in html
    assert job_url(job, "budget:export_download") not in html
    assert client.get(job_url(job, "budget:export_download"))["Location"] == job_url(job)  # not ready yet

    assert exports.run(job.pk, REPORTS)
    html = client.get(job_url(job)).content.decode()
    assert "作成中です" not in html and "http-equiv" not in html
    assert f'href="{job_url(job, "budget:export_download")}"' in html

    response = client.get(job_url(job, "budget:export_download"))
    assert response.status_code == 200 and file_name(response) == HEARING_XLSX
    assert response["Content-Type"] == exports.XLSX
    # totals of the file, as Excel computes them, against the data
    ws = openpyxl.load_workbook(io.BytesIO(response.content))["予算ヒアリング"]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    headers = [ws.cell(rows["施策コード"], c).value for c in range(1, ws.max_column + 1)]
    values = workbooks.evaluate(response.content, "予算ヒアリング")
    lcc = [ws.cell(rows["計"], c).coordinate for c, h in enumerate(headers, 1) if h == "LCC計画（千円）"]
    spent = [ws.cell(rows["計"], c).coordinate for c, h in enumerate(headers, 1) if h == "決算額（千円）"]
    planned = PlannedCost.objects.filter(measure__plan=plan)
    assert [values[c] for c in lcc] == [
        planned.filter(fiscal_year=y).aggregate(s=Sum("amount"))["s"] for y in plan.fiscal_years
    ]
    assert values[spent[plan.fiscal_years.index(YEAR)]] == 15000  # 1,000 + 2,000 + … + 5,000


def test_the_jobs_workbook_is_the_one_built_within_a_request(
    client, viewer, plan, actuals, settings, django_capture_on_commit_callbacks
):
    client.force_login(viewer)
    inline = client.get(report_url(plan, format="xlsx", year=YEAR)).content
    settings.EXPORT_INLINE_MAX_MEASURES = 1
    job = request_download(client, plan, django_capture_on_commit_callbacks, format="xlsx", year=YEAR)
    assert job.params == {"year": str(YEAR)}
    exports.run(job.pk, REPORTS)
    background = client.get(job_url(job, "budget:export_download")).content

    def cells(content):
        ws = openpyxl.load_workbook(io.BytesIO(content))["予算ヒアリング"]
        return [[(c.value, c.number_format) for c in row] for row in ws.iter_rows()]

    assert cells(background) == cells(inline)
    assert len(cells(inline)) > 30


def test_a_csv_job_keeps_the_filters(client, viewer, plan, small_limit, django_capture_on_commit_callbacks):
    client.force_login(viewer)
    job = request_download(client, plan, django_capture_on_commit_callbacks, format="csv", year=YEAR)
    call_command("run_export_jobs", "--once", stdout=io.StringIO())
    response = client.get(job_url(job, "budget:export_download"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert file_name(response).endswith(".csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(lines) == 1 + Measure.objects.filter(plan=plan).count()
    # the year asked only
    assert [h for h in lines[0] if h.endswith("LCC計画（千円）")] == ["R7（2025）年度 LCC計画（千円）"]


def test_only_the_requester_and_the_dx_office_see_a_job(
    client, viewer, staff_user, dx_user, plan, small_limit, django_capture_on_commit_callbacks
):
    client.force_login(viewer)
    job = request_download(client, plan, django_capture_on_commit_callbacks, format="xlsx")
    exports.run(job.pk, REPORTS)
    other_viewer = make_user("other-viewer", Role.VIEWER)
    for user in (staff_user, other_viewer):
        client.force_login(user)
        assert client.get(job_url(job)).status_code == 404
        assert client.get(job_url(job, "budget:export_download")).status_code == 404
    client.force_login(dx_user)
    assert client.get(job_url(job)).status_code == 200
    assert client.get(job_url(job, "budget:export_download")).status_code == 200
    client.force_login(viewer)
    unknown = reverse("budget:export_job", args=[plan.code, uuid.uuid4()])
    assert client.get(unknown).status_code == 404


def test_a_job_is_claimed_once(plan, viewer):
    job = ExportJob.objects.create(plan=plan, kind="hearing", output="xlsx", requested_by=viewer)
    assert exports.claim(job.pk)
    assert not exports.claim(job.pk)  # a second thread, instance or command is refused
    assert not exports.run(job.pk, REPORTS)  # and does not build it
    job.refresh_from_db()
    assert job.status == "running" and job.content is None


def test_the_command_builds_queued_jobs_and_removes_old_ones(plan, viewer):
    queued = ExportJob.objects.create(plan=plan, kind="execution", output="xlsx", requested_by=viewer)
    now = timezone.now()
    old = ExportJob.objects.create(
        plan=plan, kind="hearing", output="csv", requested_by=viewer, created_at=now - datetime.timedelta(days=2)
    )
    stalled = ExportJob.objects.create(
        plan=plan, kind="hearing", output="csv", requested_by=viewer, status="running",
        created_at=now - datetime.timedelta(hours=2),
    )  # fmt: skip
    out = io.StringIO()
    call_command("run_export_jobs", "--once", stdout=out)
    queued.refresh_from_db()
    stalled.refresh_from_db()
    assert queued.status == "done" and queued.filename == "経費の計画と実績_大野城市DX推進計画.xlsx"
    assert openpyxl.load_workbook(io.BytesIO(queued.content)).sheetnames == ["経費の計画と実績"]
    assert stalled.status == "failed"
    assert not ExportJob.objects.filter(pk=old.pk).exists()
    assert "作成 1 件" in out.getvalue()


def test_a_failed_job_says_so(client, viewer, plan):
    job = ExportJob.objects.create(plan=plan, kind="no-such-report", output="xlsx", requested_by=viewer)
    assert exports.run(job.pk, REPORTS)
    job.refresh_from_db()
    assert job.status == "failed" and "KeyError" in job.error
    client.force_login(viewer)
    html = client.get(job_url(job)).content.decode()
    assert "作成できませんでした" in html and "http-equiv" not in html
    assert client.get(job_url(job, "budget:export_download"))["Location"] == job_url(job)


@pytest.mark.django_db(transaction=True)
def test_the_job_is_built_in_a_thread_after_the_commit(client, plan, settings):
    settings.EXPORT_INLINE_MAX_MEASURES = 1
    user = make_user("thread-viewer", Role.VIEWER)
    client.force_login(user)
    response = client.get(report_url(plan, format="xlsx"))
    job = ExportJob.objects.get()
    assert response["Location"] == job_url(job)
    for thread in threading.enumerate():  # none left if it has already finished
        if thread.name == f"export-job-{job.pk}":
            thread.join(timeout=120)
    job.refresh_from_db()
    assert job.status == "done" and job.filename == HEARING_XLSX
    assert openpyxl.load_workbook(io.BytesIO(job.content)).sheetnames == ["予算ヒアリング"]


def test_asking_for_a_job_makes_the_same_queries_at_30_and_3000_measures(
    client, viewer, plan, small_limit, django_capture_on_commit_callbacks, django_assert_num_queries
):
    client.force_login(viewer)
    for grow in (0, 2970):
        grow_plan(plan, grow, YEAR)
        # session, user, the user's roles, plan, whether the plan is over the limit, the job's INSERT
        with django_assert_num_queries(6), django_capture_on_commit_callbacks(execute=False):
            assert client.get(report_url(plan, format="xlsx")).status_code == 302
    assert ExportJob.objects.count() == 2


def test_a_claim_is_asked_again_while_the_database_answers_locked(plan, viewer, monkeypatch):
    """The thread may start while the request that made the job still reads; SQLite's shared cache then
    answers "locked" at once, without waiting: the claim tries again instead of leaving the job queued."""
    from django.db import OperationalError
    from django.db.models import QuerySet

    job = ExportJob.objects.create(plan=plan, kind="hearing", output="xlsx", requested_by=viewer)
    update, calls = QuerySet.update, []

    def locked_once(queryset, **values):
        calls.append(values)
        if len(calls) == 1:
            raise OperationalError("database table is locked: budget_exportjob")
        return update(queryset, **values)

    monkeypatch.setattr(QuerySet, "update", locked_once)
    monkeypatch.setattr(exports.time, "sleep", lambda seconds: None)
    assert exports.claim(job.pk)
    job.refresh_from_db()
    assert job.status == "running" and len(calls) == 2


def test_the_collector_is_back_after_a_build_even_a_failed_one():
    """build_file pauses the cyclic garbage collector while it builds, and restores it however it ends; it does
    not turn on a collector someone else turned off."""
    assert gc.isenabled()
    with exports.cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), exports.cyclic_gc_paused():
        raise RuntimeError("the build failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with exports.cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
