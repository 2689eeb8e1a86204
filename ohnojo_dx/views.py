from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse

from budget.chain import CHAIN_LABELS, flag_counts
from initiatives import permissions
from kpi.achievement import grade_scale
from kpi.views import dashboard_context

from . import measure_page


def measure_detail(request, plan_code, code):
    measure = measure_page.get_measure(plan_code, code)
    kgi = getattr(measure, "kgi", None)
    years = measure_page.measure_year_rows(measure)
    schedule = measure_page.schedule_rows(measure)
    context = {
        "plan": measure.plan,
        "measure": measure,
        "kgi": kgi,
        "unit": kgi.unit if kgi else "",
        "years": years,
        "indicators": measure_page.indicator_rows(measure, grade_scale(measure.plan)),
        "schedule": schedule,
        "charts": measure_page.chart_data(measure, years, schedule),
        "history": measure_page.measure_history(measure),
        "chain_rows": measure_page.money_chain_rows(measure, request.user),
        "final": measure_page.final_row(measure),
        "predecessor": measure_page.predecessor_row(measure),
        "revisions": measure_page.revision_rows(measure),
        "chain_labels": CHAIN_LABELS,
        "can_enter": request.user.has_perm(permissions.ENTER_MEASURE, measure),
        "can_approve": request.user.has_perm(permissions.APPROVE),
    }
    return render(request, "ohnojo_dx/measure_detail.html", context)


def dashboard(request):
    """Progress (kpi.views.dashboard_context) and, beside it, the year's money-chain flags over the same
    measures (the filter's department, policy and initiative), each linked to the chain page."""
    context = dashboard_context(request)
    if context.get("plan"):
        context["budget_flags"] = flag_counts(context["filter"].qs, context["year"])
        # the chain page filters by department only: the link keeps that much of the dashboard's filter
        form = context["filter"].form
        form.is_valid()  # cleaned_data holds the valid fields even if another one is not (none if unbound)
        department = getattr(form, "cleaned_data", {}).get("department")
        query = {"flagged": "on", **({"department": department.code} if department else {})}
        chain_page = reverse("budget:chain", args=[context["plan"].code, context["year"]])
        context["budget_flags_url"] = f"{chain_page}?{urlencode(query)}"
    return render(request, "ohnojo_dx/dashboard.html", context)
