"""The 上期 of a plan reviewed every half year: the 担当課's report of a measure, the DX推進部門's confirmation,
and the year's 上期 at a glance. Each view: fetch with a permission check → validate → kpi.workflow."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from initiatives import permissions
from initiatives.fiscal import period_label
from initiatives.models import PLAN_ORDER, Measure, Plan

from . import workflow
from .achievement import grade_scale
from .forms import CommentForm, InterimReviewForm
from .interim import summarise_interim
from .models import InterimReview
from .views import _plan_year

ROWS_SHOWN = 100


def _half_year(plan, year):
    _plan_year(plan, year)
    if not plan.half_yearly:
        raise Http404("この計画は半期ごとに進捗を確認する計画ではありません。")


def _report(plan_code, code, year):
    measure = get_object_or_404(
        Measure.objects.select_related("plan", "initiative__policy", "kgi", "department"),
        plan__code=plan_code,
        code=code,
    )
    _half_year(measure.plan, year)
    review = InterimReview.objects.filter(measure=measure, fiscal_year=year).first()
    review = review or InterimReview(fiscal_year=year)
    review.measure = measure
    return measure, review


def interim_edit(request, plan_code, code, year):
    """The 上期 report of one measure: the 担当課 enters and submits it; the DX推進部門 sees confirm/reopen.
    Queries (GET): measure (with plan, initiative, policy, KGI, department), its report, the plan's grades."""
    measure, review = _report(plan_code, code, year)
    permissions.require(request.user.has_perm(permissions.ENTER_MEASURE, measure))
    form = InterimReviewForm(request.POST or None, instance=review)
    if request.method == "POST" and form.is_valid():
        submit = "submit" in request.POST
        try:
            workflow.save_interim(form.instance, request.user, form.cleaned_data["seen_version"], submit=submit)
        except workflow.WorkflowError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "上期の進捗を提出しました。" if submit else "上期の進捗を保存しました。")
            return redirect(reverse("kpi:interim_edit", args=[measure.plan.code, measure.code, year]))
    context = {
        "plan": measure.plan,
        "measure": measure,
        "year": year,
        "period": period_label(year, "H1"),
        "review": review,
        "form": form,
        "step_form": CommentForm(initial={"seen_version": review.version if review.pk else 0}),
        "can_confirm": request.user.has_perm(permissions.APPROVE),
    }
    return render(request, "kpi/interim_form.html", context)


@require_POST
def interim_step(request, plan_code, code, year, step):
    """confirm or reopen a 上期 report (the DX推進部門), with the version the page showed."""
    measure, review = _report(plan_code, code, year)
    permissions.require(request.user.has_perm(permissions.APPROVE))
    if review.pk is None or step not in ("confirm", "reopen"):
        raise Http404("上期の進捗がありません。")
    form = CommentForm(request.POST)
    if step == "confirm":
        form.fields["comment"].required = False
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        seen = form.cleaned_data["seen_version"]
        try:
            if step == "confirm":
                workflow.confirm_interim(review, request.user, seen)
                messages.success(request, "上期の進捗を確定しました。")
            else:
                workflow.reopen_interim(review, request.user, seen, form.cleaned_data["comment"])
                messages.success(request, "上期の進捗を再開しました。")
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
    return redirect(reverse("kpi:interim_edit", args=[measure.plan.code, measure.code, year]))


def interim_summary(request, plan_code, year):
    """The year's 上期: the confirmed grades counted with their shares, the reports by state, and the
    measures a page at a time. Queries: plan, its grades, the counts (2), the page's count and rows, their
    reports."""
    plan = get_object_or_404(Plan, code=plan_code)
    _half_year(plan, year)
    scale = grade_scale(plan)
    measures = Measure.objects.filter(plan=plan)
    counts, statuses = summarise_interim(year, measures, scale)
    page = Paginator(measures.select_related("department").order_by(*PLAN_ORDER), ROWS_SHOWN)
    page = page.get_page(request.GET.get("page"))
    shown = list(page.object_list)
    reports = {r.measure_id: r for r in InterimReview.objects.filter(measure__in=shown, fiscal_year=year)}
    context = {
        "plan": plan,
        "year": year,
        "period": period_label(year, "H1"),
        "counts": counts,
        "statuses": [
            (label, statuses.get(key, 0)) for key, label in (*InterimReview.Status.choices, ("none", "未入力"))
        ],
        "rows": [(m, reports.get(m.pk)) for m in shown],
        "page_obj": page,
        "total": sum(c.count for c in counts),
        "scale": scale,
    }
    return render(request, "kpi/interim_summary.html", context)
