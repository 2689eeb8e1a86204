from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header

from initiatives import permissions
from initiatives.fiscal import counted, fiscal_year_label
from initiatives.models import PLAN_ORDER, Measure, Plan
from kpi import workflow

from . import exports
from .chain import ANY_FLAG, CHAIN_LABELS, FLAGS, STAGE_PERMISSIONS, STAGES, chain_of, chain_totals, with_chain
from .final import final_report, final_totals
from .forms import BudgetFigureForm, ChainFilterForm, ReportFilterForm
from .models import BudgetFigure, ExportJob
from .paging import page_number, page_of
from .reports import budget_table_report, execution_report, hearing_measures, hearing_report, hearing_totals
from .revised import revised_report, revised_totals
from .selectors import plan_budget_table, stage_budget_tables
from .xlsx import column_groups, shown, to_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(content, content_type, filename):
    """A download whose Japanese file name survives every browser (RFC 6266 / 5987)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def budget_table(request, plan_code):
    plan = get_object_or_404(Plan, code=plan_code)
    table = plan_budget_table(plan)
    context = {"plan": plan, "table": table, "stage_tables": stage_budget_tables(plan)}
    return render(request, "budget/budget_table.html", context)


def budget_table_xlsx(request, plan_code):
    plan = get_object_or_404(Plan, code=plan_code)
    report = budget_table_report(plan)
    return attachment(to_xlsx(report), XLSX, f"{report.filename}.xlsx")


CSV = "text/csv; charset=utf-8"


def _hearing(request, plan):
    form = ReportFilterForm(request.GET, plan=plan)
    form.is_valid()
    data = form.cleaned_data
    return hearing_report(plan, year=data.get("year"), department=data.get("department")), form


REPORTS = {
    "budget": ("計画期間における経費（計画値）", lambda request, plan: (budget_table_report(plan), None)),
    "execution": ("経費の計画と実績（執行率）", lambda request, plan: (execution_report(plan), None)),
    "hearing": ("予算ヒアリング資料", _hearing),
    "final": ("計画期間の総括", lambda request, plan: (final_report(plan), None)),
    "revised": ("当初計画・見直し後・実績", lambda request, plan: (revised_report(plan), None)),
}


def reports(request, plan_code):
    plan = get_object_or_404(Plan, code=plan_code)
    return render(request, "budget/reports.html", {"plan": plan, "reports": REPORTS})


def report(request, plan_code, kind):
    plan = get_object_or_404(Plan, code=plan_code)
    if kind not in REPORTS:
        raise Http404("その帳票はありません。")
    title, build = REPORTS[kind]
    output = request.GET.get("format")
    if output in ExportJob.Output.values:
        return _download(request, plan, kind, output)
    built, form = build(request, plan)
    return report_page(request, plan, kind, title, built, form)


# The reports with a row per measure, shown a page of measures at a time: kind → (the filter's measures, its
# report for some of them, its totals over them all by SQL). The others have a row per 基本方針 (and year): one page.
MEASURE_REPORTS = {
    "hearing": (
        lambda plan, data: hearing_measures(plan, data.get("department")),
        lambda plan, data, measures: hearing_report(
            plan, year=data.get("year"), department=data.get("department"), measures=measures
        ),
        lambda plan, data, measures: hearing_totals(plan, data.get("year"), measures),
    ),
    "final": (
        lambda plan, data: Measure.objects.filter(plan=plan),
        lambda plan, data, measures: final_report(plan, measures=measures),
        lambda plan, data, measures: final_totals(plan, measures),
    ),
    "revised": (
        lambda plan, data: Measure.objects.filter(plan=plan),
        lambda plan, data, measures: revised_report(plan, measures=measures),
        lambda plan, data, measures: revised_totals(plan),
    ),
}


def report_page(request, plan, kind, title, built, form):
    """A report as a page. A report with a row per measure shows one page of measures (?page=N, the
    filter kept); its 計 stays that of the whole filter, computed by SQL (the .xlsx's, whatever the page)."""
    columns = built.columns
    page = None
    if kind in MEASURE_REPORTS:
        measures_of, report_of, totals_of = MEASURE_REPORTS[kind]
        data = form.cleaned_data if form else {}
        measures = measures_of(plan, data)
        page = page_of(request, measures.order_by(*PLAN_ORDER).values_list("pk", flat=True))
        rows = list(report_of(plan, data, Measure.objects.filter(pk__in=list(page))).rows)
        by_column = totals_of(plan, data, measures)
        totals = [by_column[column.group, column.header] if column.summed else None for column in columns]
    else:
        rows = list(built.rows)
        totals = [sum(counted(r[i]) for r in rows) if column.summed else None for i, column in enumerate(columns)]
    context = {
        "plan": plan,
        "kind": kind,
        "title": title,
        "report": built,
        "rows": rows,
        "page_obj": page,
        # page text per cell, formatted once here (budget.xlsx.shown) rather than per cell in the template
        "cells": [[shown(column, value) for column, value in zip(columns, row, strict=True)] for row in rows],
        "totals": [
            shown(column, total) if column.summed else "" for column, total in zip(columns, totals, strict=True)
        ],
        "has_totals": any(column.summed for column in columns),
        "numeric": [column.kind != "text" for column in columns],
        "form": form,
        "groups": column_groups(columns),
    }
    return render(request, "budget/report.html", context)


def _download(request, plan, kind, output):
    """The report as .xlsx or CSV: built here for a plan of up to settings.EXPORT_INLINE_MAX_MEASURES
    measures, else by a background job (budget.exports) whose page the user is sent to."""
    params = exports.report_query(request)
    if exports.too_large(plan):
        job = exports.request_job(plan, kind, output, params, request.user, REPORTS)
        return redirect("budget:export_job", plan.code, job.token)
    content, filename = exports.build_file(plan, kind, output, params, REPORTS, request.user)
    return attachment(content, exports.CONTENT_TYPES[output], filename)


def export_job(request, plan_code, token):
    """A background download's page: 作成中 (the page reloads itself) until the file is ready, then its link.

    Queries: the plan, the job (without its file)."""
    plan = get_object_or_404(Plan, code=plan_code)
    job = exports.job_of(request.user, plan, token)
    title = REPORTS[job.kind][0] if job.kind in REPORTS else job.kind
    context = {"plan": plan, "job": job, "title": title, "refresh_seconds": 3}
    return render(request, "budget/export_job.html", context)


def export_download(request, plan_code, token):
    """The file of a finished background download. Queries: the plan, the job with its file."""
    plan = get_object_or_404(Plan, code=plan_code)
    job = exports.job_of(request.user, plan, token, with_content=True)
    if job.status != ExportJob.Status.DONE:
        return redirect("budget:export_job", plan.code, job.token)
    return attachment(bytes(job.content), exports.CONTENT_TYPES[job.output], job.filename)


def _plan_year(plan_code, year):
    plan = get_object_or_404(Plan, code=plan_code)
    if not plan.covers(year):
        raise Http404(f"その年度は計画期間（{plan.period_label}）の外です。")
    return plan


def money_chain(request, plan_code, year):
    """予算の流れ: per measure of the year, LCC → 実施計画額 → 予算要求額 → 査定額 → 決算額, with flags; a page
    of measures at a time (?page=N), the totals and flag counts over the whole filter (budget.chain.chain_totals).

    Queries: the plan, the departments of the filter, the filter's count, totals and flag counts (one
    aggregate), the page's measure ids, the measures, and chain.chain_years' four for them.
    """
    plan = _plan_year(plan_code, year)
    form = ChainFilterForm(request.GET, plan=plan)
    form.is_valid()
    measures = Measure.objects.filter(plan=plan)
    department = form.cleaned_data.get("department")
    if department:
        measures = measures.filter(department=department)
    chained = with_chain(measures, year)
    if form.cleaned_data.get("flagged"):
        chained = chained.filter(ANY_FLAG)
        measures = measures.filter(pk__in=chained.values("pk"))
    count, totals, flag_counts = chain_totals(chained)
    # the page's ids first: a far page sorts the filter's narrow rows, not whole measures
    page = page_of(request, measures.order_by(*PLAN_ORDER).values_list("pk", flat=True), count=count)
    shown = Measure.objects.filter(pk__in=list(page))
    chain = chain_of(shown, [year])
    user = request.user
    rows = []
    for measure in shown.select_related("department", "initiative__policy").order_by(*PLAN_ORDER):
        measure.plan = plan  # its page's URL: no query per row
        editable = [stage for stage in STAGES if user.has_perm(STAGE_PERMISSIONS[stage], measure)]
        rows.append((measure, chain(measure.pk, year), editable))
    context = {
        "plan": plan,
        "year": year,
        "form": form,
        "rows": rows,
        "page_obj": page,
        "labels": CHAIN_LABELS,
        "stages": STAGES,
        "totals": totals,
        "flag_counts_pairs": [(flag, flag_counts[flag.code]) for flag in FLAGS],
    }
    return render(request, "budget/money_chain.html", context)


def figure_edit(request, plan_code, code, year, stage):
    """Enter one stage's amount of a measure-year, through kpi.workflow (role, lock, version)."""
    plan = _plan_year(plan_code, year)
    if stage not in BudgetFigure.Stage.values:
        raise Http404("その段階はありません。")
    stage = BudgetFigure.Stage(stage)
    measure = get_object_or_404(
        Measure.objects.select_related("department", "kgi", "initiative__policy"), plan=plan, code=code
    )
    measure.plan = plan
    permissions.require(request.user.has_perm(STAGE_PERMISSIONS[stage], measure))
    figure = BudgetFigure.objects.filter(measure=measure, fiscal_year=year, stage=stage).first()
    figure = figure or BudgetFigure(fiscal_year=year, stage=stage)
    figure.measure = measure
    year_chain = chain_of(Measure.objects.filter(pk=measure.pk), [year])(measure.pk, year)
    form = BudgetFigureForm(request.POST or None, instance=figure, ceiling=year_chain.ceiling)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.save_year_figure(form.instance, request.user, form.cleaned_data["seen_version"], str(stage.label))
        except workflow.WorkflowError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{measure.name}の{fiscal_year_label(year)}{stage.label}を保存しました。")
            page = page_number(measure, Measure.objects.filter(plan=plan))  # the chain page that shows it
            return redirect(f"{reverse('budget:chain', args=[plan.code, year])}?page={page}#m-{measure.code}")
    context = {
        "plan": plan,
        "measure": measure,
        "year": year,
        "stage": stage,
        "form": form,
        "chain": year_chain,
        "labels": CHAIN_LABELS,
        "locked": bool(workflow.locked_years({measure.pk}, {year})),
    }
    return render(request, "budget/figure_form.html", context)
