from django.shortcuts import render

from initiatives import permissions

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
        "schedule": schedule,
        "charts": measure_page.chart_data(measure, years, schedule),
        "history": measure_page.measure_history(measure),
        "can_enter": request.user.has_perm(permissions.ENTER_MEASURE, measure),
        "can_approve": request.user.has_perm(permissions.APPROVE),
    }
    return render(request, "ohnojo_dx/measure_detail.html", context)
