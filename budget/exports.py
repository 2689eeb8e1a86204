"""Report downloads too large to build within a request, built in the background (budget.models.ExportJob).

A plan of more than settings.EXPORT_INLINE_MAX_MEASURES measures (default 1,000) gets its .xlsx or CSV
from a job: the request stores what was asked and answers at once with the job's page; after the commit a
daemon thread builds the file and stores it in the database, where any server instance can serve it.
``manage.py run_export_jobs`` builds the jobs a restart left queued and removes jobs older than a day.
A job is built once: ``claim`` moves it from queued to running with one conditional UPDATE, so a thread
and the command (or two instances) never both build it.

The report builders are budget.views.REPORTS, passed in (``reports``) by the caller: the views and the
command import this module, not the other way round.
"""

import datetime
import gc
import logging
import threading
import time
from contextlib import contextmanager
from types import SimpleNamespace

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.http import Http404, QueryDict
from django.utils import timezone

from initiatives import permissions
from initiatives.models import Measure

from .models import ExportJob
from .xlsx import to_csv, to_xlsx

logger = logging.getLogger(__name__)

INLINE_MAX_MEASURES = 1000
KEEP = datetime.timedelta(days=1)
STALLED = datetime.timedelta(hours=1)  # far longer than any report takes
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
CONTENT_TYPES = {ExportJob.Output.XLSX: XLSX, ExportJob.Output.CSV: CSV}
WRITERS = {ExportJob.Output.XLSX: to_xlsx, ExportJob.Output.CSV: to_csv}


def inline_max():
    return getattr(settings, "EXPORT_INLINE_MAX_MEASURES", INLINE_MAX_MEASURES)


def too_large(plan):
    """Whether the plan's reports are built in the background. One query."""
    return Measure.objects.filter(plan=plan).order_by()[inline_max() :].exists()


def report_query(request):
    """What a report's builder reads of the request (its filters), as stored with a job."""
    return {key: value for key, value in request.GET.items() if key != "format"}


@contextmanager
def cyclic_gc_paused():
    """A whole plan's workbook makes a few hundred thousand objects that live until it is written, and the
    cyclic garbage collector would go through them again and again (about 8 % of the build at 5,000 measures,
    docs/benchmark.md). Reference counting still frees everything; the collector is back afterwards. The pause
    is the process's: in a threaded worker the other requests' collections wait for it too (a few seconds at
    most; nothing is left unfreed but reference cycles, collected when it ends)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_file(plan, kind, output, params, reports, user=None):
    """(content, file name) of a report as .xlsx or CSV; ``params`` are its filters (report_query)."""
    _, build = reports[kind]
    query = QueryDict(mutable=True)
    query.update(params)
    with cyclic_gc_paused():
        built, _ = build(SimpleNamespace(GET=query, user=user), plan)
        return WRITERS[output](built), f"{built.filename}.{output}"


def request_job(plan, kind, output, params, user, reports):
    """A queued job, built after the commit in a daemon thread (start_thread)."""
    job = ExportJob.objects.create(plan=plan, kind=kind, output=output, params=params, requested_by=user)
    transaction.on_commit(lambda: start_thread(job.pk, reports))
    return job


def start_thread(pk, reports):
    threading.Thread(target=run_in_thread, args=(pk, reports), name=f"export-job-{pk}", daemon=True).start()


def run_in_thread(pk, reports):
    try:
        run(pk, reports)
    finally:
        connection.close()  # the thread's own connection, not left for the database to time out


CLAIM_ATTEMPTS = 5


def claim(pk):
    """Move a queued job to running; False if it is not queued (another thread or instance has it).

    The thread starts as the request that made the job commits, while that request may still be reading:
    a database that answers "locked" at once (SQLite's shared cache, as in the tests) is asked again."""
    queued = ExportJob.objects.filter(pk=pk, status=ExportJob.Status.QUEUED)
    for attempt in range(1, CLAIM_ATTEMPTS + 1):
        try:
            return queued.update(status=ExportJob.Status.RUNNING) == 1
        except OperationalError:
            if attempt == CLAIM_ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)


def run(pk, reports):
    """Build a queued job's file and store it; False if the job was not there to claim."""
    if not claim(pk):
        return False
    job = ExportJob.objects.select_related("plan", "requested_by").defer("content").get(pk=pk)
    try:
        content, filename = build_file(job.plan, job.kind, job.output, job.params, reports, job.requested_by)
    except Exception as error:  # whatever went wrong, the job says so instead of staying 作成中 for ever
        logger.exception("export job %s failed", job.token)
        ExportJob.objects.filter(pk=pk).update(
            status=ExportJob.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000], finished_at=timezone.now()
        )
        return True
    ExportJob.objects.filter(pk=pk).update(
        status=ExportJob.Status.DONE, content=content, filename=filename, finished_at=timezone.now()
    )
    return True


def run_queued(reports):
    """Build every queued job, oldest first; the number built."""
    pks = list(
        ExportJob.objects.filter(status=ExportJob.Status.QUEUED).order_by("created_at").values_list("pk", flat=True)
    )
    return sum(run(pk, reports) for pk in pks)


def fail_stalled(now=None):
    """Mark as failed the jobs running for longer than STALLED (their server stopped mid-way); the number."""
    before = (now or timezone.now()) - STALLED
    return ExportJob.objects.filter(status=ExportJob.Status.RUNNING, created_at__lt=before).update(
        status=ExportJob.Status.FAILED, error="中断されました（サーバーの再起動など）。", finished_at=timezone.now()
    )


def remove_old(now=None):
    """Delete the jobs requested more than a day ago; the number deleted."""
    deleted, _ = ExportJob.objects.filter(created_at__lt=(now or timezone.now()) - KEEP).delete()
    return deleted


def job_of(user, plan, token, with_content=False):
    """The plan's job of that token, if the user requested it or is in the DX推進部門; else 404 (whether a job
    exists is not told). One query."""
    jobs = ExportJob.objects.filter(plan=plan, token=token)
    if not with_content:
        jobs = jobs.defer("content")
    job = jobs.first()
    if job is None or not (job.requested_by_id == user.pk or permissions.is_dx_office(user)):
        raise Http404("その帳票の作成依頼はありません。")
    return job
