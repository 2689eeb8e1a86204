from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header

from initiatives.models import Plan

from .exports import budget_table_workbook
from .selectors import plan_budget_table

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
    content = budget_table_workbook(plan, plan_budget_table(plan))
    return attachment(content, XLSX, f"図表2-4-1_計画期間における経費_{plan.title}.xlsx")
