import logging

from django.contrib.auth.decorators import login_not_required
from django.db import Error, connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from . import selectors
from .models import Plan


def plan_list(request):
    return render(request, "initiatives/plan_list.html", {"plans": selectors.plans_with_counts()})


def plan_detail(request, plan_code):
    plan = get_object_or_404(Plan.objects.select_related("drafted_from"), code=plan_code)
    tree = selectors.plan_tree(plan)
    context = {"plan": plan, "policies": tree, "national_priorities": selectors.national_priorities(plan, tree)}
    return render(request, "initiatives/plan_detail.html", context)


@login_not_required
def healthz(request):
    """For load balancers and uptime checks: answers without login, 503 while the database is unreachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Error:  # django.db.Error: every database failure, InterfaceError included
        logging.getLogger(__name__).exception("healthz: database unreachable")
        return HttpResponse("データベースに接続できません", content_type="text/plain; charset=utf-8", status=503)
    return HttpResponse("ok", content_type="text/plain")
