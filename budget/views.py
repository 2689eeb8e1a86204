from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header

from initiatives.fiscal import counted
from initiatives.models import Plan

from .forms import ReportFilterForm
from .reports import budget_table_report, execution_report, hearing_report
from .selectors import plan_budget_table
from .xlsx import column_groups, shown, to_csv, to_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(content, content_type, filename):
    """A download whose Japanese file name survives every browser (RFC 6266 / 5987)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def budget_table(request, plan_code):
    plan = get_object_or_404(Plan, code=plan_code)
    table = plan_budget_table(plan)
    return render(request, "budget/budget_table.html", {"plan": plan, "table": table})


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
}


def reports(request, plan_code):
    plan = get_object_or_404(Plan, code=plan_code)
    return render(request, "budget/reports.html", {"plan": plan, "reports": REPORTS})


def report(request, plan_code, kind):
    plan = get_object_or_404(Plan, code=plan_code)
    if kind not in REPORTS:
        raise Http404("その帳票はありません。")
    title, build = REPORTS[kind]
    built, form = build(request, plan)
    output = request.GET.get("format")
    if output == "xlsx":
        return attachment(to_xlsx(built), XLSX, f"{built.filename}.xlsx")
    if output == "csv":
        return attachment(to_csv(built), CSV, f"{built.filename}.csv")
    rows = list(built.rows)
    columns = built.columns
    totals = [sum(counted(r[i]) for r in rows) if column.summed else None for i, column in enumerate(columns)]
    context = {
        "plan": plan,
        "kind": kind,
        "title": title,
        "report": built,
        "rows": rows,
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
