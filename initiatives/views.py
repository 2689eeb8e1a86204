from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from . import selectors
from .models import Plan


def plan_list(request):
    return render(request, "initiatives/plan_list.html", {"plans": selectors.plans_with_counts()})


def plan_detail(request, plan_code):
    plan = get_object_or_404(Plan, code=plan_code)
    return render(request, "initiatives/plan_detail.html", {"plan": plan, "policies": selectors.plan_tree(plan)})


@login_not_required
def healthz(request):
    """For load balancers and uptime checks: answers without login."""
    return HttpResponse("ok", content_type="text/plain")
