from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from kpi import selectors as kpi_selectors

from . import permissions, selectors
from .models import Plan


def plan_list(request):
    return render(request, "initiatives/plan_list.html", {"plans": selectors.plans_with_counts()})


def plan_detail(request, plan_code):
    plan = get_object_or_404(Plan, code=plan_code)
    return render(request, "initiatives/plan_detail.html", {"plan": plan, "policies": selectors.plan_tree(plan)})


def measure_detail(request, plan_code, code):
    measure = selectors.get_measure(plan_code, code)
    kgi = getattr(measure, "kgi", None)
    years = kpi_selectors.measure_year_rows(measure)
    schedule = selectors.schedule_rows(measure)
    context = {
        "plan": measure.plan,
        "measure": measure,
        "kgi": kgi,
        "unit": kgi.unit if kgi else "",
        "years": years,
        "schedule": schedule,
        "charts": kpi_selectors.chart_data(measure, years, schedule),
        "history": kpi_selectors.measure_history(measure),
        "can_enter": permissions.can_enter(request.user, measure),
        "can_approve": permissions.can_approve(request.user),
    }
    return render(request, "initiatives/measure_detail.html", context)


@login_not_required
def healthz(request):
    """For load balancers and uptime checks: answers without login."""
    return HttpResponse("ok", content_type="text/plain")
