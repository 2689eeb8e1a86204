"""The 予算ヒアリング as a step of the year: the hearings per department with their dates, the 事業シート of
a department's measures (page, print, workbook), and the hearing's 確認・評価 and decision per measure.

Everyone signed in reads; the DX推進部門 sets the dates and records the decisions, through
kpi.workflow.save_review (role, the version seen, history).
"""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from initiatives import permissions
from initiatives.fiscal import fiscal_year_label
from initiatives.models import Department, Measure
from kpi import workflow

from .forms import HearingDecisionForm, HearingForm
from .hearing import YEAR_HEADERS, business_sheets, hearings_of, sheets_to_xlsx
from .models import Hearing, HearingDecision
from .reports import hearing_report
from .views import XLSX, _plan_year, attachment


def hearings(request, plan_code, year):
    """The departments of the plan-year: each one's hearing date and how many measures have a decision."""
    plan = _plan_year(plan_code, year)
    departments = (
        Department.objects.filter(measures__plan=plan).annotate(measure_count=Count("measures")).order_by("code")
    )
    decided = dict(
        HearingDecision.objects.filter(measure__plan=plan, fiscal_year=year)
        .exclude(decision="")
        .values("measure__department")
        .annotate(n=Count("pk"))
        .values_list("measure__department", "n")
    )
    held = hearings_of(plan, year)
    rows = [(d, held.get(d.pk), decided.get(d.pk, 0)) for d in departments]
    context = {"plan": plan, "year": year, "rows": rows, "can_edit": request.user.has_perm(permissions.APPROVE)}
    return render(request, "budget/hearings.html", context)


def hearing_edit(request, plan_code, year, department_code):
    """Set a department's hearing date (the DX推進部門)."""
    plan = _plan_year(plan_code, year)
    department = _department_of(plan, department_code)
    permissions.require(request.user.has_perm(permissions.APPROVE))
    hearing = hearings_of(plan, year).get(department.pk) or Hearing(plan=plan, fiscal_year=year)
    hearing.department = department
    form = HearingForm(request.POST or None, instance=hearing)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.save_review(form.instance, request.user, form.cleaned_data["seen_version"], "予算ヒアリング")
        except workflow.WorkflowError as error:
            form.add_error(None, str(error))
        else:
            held_on = f"{hearing.held_on:%Y/%m/%d}"
            messages.success(request, f"{department.name}の予算ヒアリング（{held_on}）を保存しました。")
            return redirect("budget:hearings", plan_code=plan.code, year=year)
    context = {"plan": plan, "year": year, "department": department, "form": form}
    return render(request, "budget/hearing_form.html", context)


def hearing_sheets(request, plan_code, year, department_code):
    """The department's 事業シート, one per measure (printable one to an A4 page); ?format=xlsx for the
    workbook (a summary sheet and a sheet per measure)."""
    plan = _plan_year(plan_code, year)
    department = _department_of(plan, department_code)
    measures = Measure.objects.filter(plan=plan, department=department)
    sheets = business_sheets(plan, year, measures)
    if request.GET.get("format") == "xlsx":
        summary = hearing_report(plan, year=year, department=department)
        name = f"事業シート_{plan.title}_{fiscal_year_label(year)}_{department.name}.xlsx"
        return attachment(sheets_to_xlsx(summary, sheets, year), XLSX, name)
    context = {
        "plan": plan,
        "year": year,
        "department": department,
        "hearing": hearings_of(plan, year).get(department.pk),
        "sheets": sheets,
        "year_headers": YEAR_HEADERS,
        "can_edit": request.user.has_perm(permissions.APPROVE),
    }
    return render(request, "budget/hearing_sheets.html", context)


def decision_edit(request, plan_code, year, code):
    """The hearing's 確認・評価 and decision for one measure (the DX推進部門)."""
    plan = _plan_year(plan_code, year)
    measure = get_object_or_404(Measure.objects.select_related("department", "kgi"), plan=plan, code=code)
    measure.plan = plan
    permissions.require(request.user.has_perm(permissions.APPROVE))
    decision = HearingDecision.objects.filter(measure=measure, fiscal_year=year).first()
    decision = decision or HearingDecision(fiscal_year=year)
    decision.measure = measure
    form = HearingDecisionForm(request.POST or None, instance=decision)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.save_review(form.instance, request.user, form.cleaned_data["seen_version"], "予算ヒアリング")
        except workflow.WorkflowError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{measure.name}の予算ヒアリングの確認・評価を保存しました。")
            if measure.department:
                url = reverse("budget:hearing_sheets", args=[plan.code, year, measure.department.code])
                return redirect(f"{url}#sheet-{measure.code}")
            return redirect(measure.get_absolute_url())
    sheet = business_sheets(plan, year, Measure.objects.filter(pk=measure.pk))[0]
    context = {"plan": plan, "year": year, "measure": measure, "form": form, "sheet": sheet}
    context["year_headers"] = YEAR_HEADERS
    return render(request, "budget/decision_form.html", context)


def _department_of(plan, code):
    """A department with measures in the plan (404 otherwise: it has no hearing in this plan)."""
    return get_object_or_404(Department.objects.filter(measures__plan=plan).distinct(), code=code)
