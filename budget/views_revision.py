"""計画の見直し: the plan's revisions (when, where decided, why) and, within one, a measure's KPI targets
and LCC changed through kpi.workflow.revise_plan_row (role, lock, the values seen, history with the
revision as its reason). The DX推進部門 revises; everyone signed in reads."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.shortcuts import get_object_or_404, redirect, render

from initiatives import permissions
from initiatives.models import PLAN_ORDER, Measure, Plan, PlanRevision
from kpi import workflow
from kpi.models import KpiTarget

from .forms import MeasureRevisionForm, PlanRevisionForm
from .models import PlannedCost
from .paging import page_of
from .revised import COST_FIELDS, TARGET_FIELDS


def revisions(request, plan_code):
    """The plan's revisions, and a new one (the DX推進部門)."""
    plan = get_object_or_404(Plan, code=plan_code)
    can_revise = request.user.has_perm(permissions.ADMIN)
    form = PlanRevisionForm(request.POST or None) if can_revise else None
    if request.method == "POST":
        permissions.require(can_revise)
        if form.is_valid():
            with transaction.atomic():
                # the plan row is locked while the next number is taken: two new revisions never share one
                Plan.objects.select_for_update().filter(pk=plan.pk).exists()
                number = (PlanRevision.objects.filter(plan=plan).aggregate(n=Max("number"))["n"] or 0) + 1
                revision = form.save(commit=False)
                revision.plan, revision.number, revision.recorded_by = plan, number, request.user
                revision.save()
            messages.success(request, f"{revision}を登録しました。施策を選んで目標・経費を見直してください。")
            return redirect("budget:revisions", plan_code=plan.code)
    listed = PlanRevision.objects.filter(plan=plan).annotate(change_count=Count("changes")).order_by("-number")
    context = {"plan": plan, "revisions": listed, "form": form, "can_revise": can_revise}
    if can_revise:  # the measures to revise, a page at a time (?page=N)
        context["page_obj"] = page_of(request, Measure.objects.filter(plan=plan).order_by(*PLAN_ORDER))
    return render(request, "budget/revisions.html", context)


def _rows(measure):
    targets = {t.fiscal_year: t for t in KpiTarget.objects.filter(measure=measure)}
    costs = {c.fiscal_year: c for c in PlannedCost.objects.filter(measure=measure)}
    return targets, costs


def _seen(targets, costs, years):
    """The rows as this page shows them, in the form kpi.workflow.revise_plan_row compares."""
    snapshot = workflow.plan_row_snapshot
    return json.dumps(
        {
            str(y): {"target": snapshot(targets.get(y), TARGET_FIELDS), "cost": snapshot(costs.get(y), COST_FIELDS)}
            for y in years
        }
    )


def revise_measure(request, plan_code, number, code):
    """Within a revision, change a measure's KPI targets and LCC, all years at once or none."""
    plan = get_object_or_404(Plan, code=plan_code)
    revision = get_object_or_404(PlanRevision, plan=plan, number=number)
    measure = get_object_or_404(Measure.objects.select_related("kgi"), plan=plan, code=code)
    measure.plan = plan
    permissions.require(request.user.has_perm(permissions.ADMIN))
    years = plan.fiscal_years
    targets, costs = _rows(measure)
    seen = request.POST.get("seen") if request.method == "POST" else _seen(targets, costs, years)
    form = MeasureRevisionForm(request.POST or None, years, targets, costs, seen)
    if request.method == "POST" and form.is_valid():
        try:
            changed = _apply(form, request.user, revision, measure, targets, costs)
        except _RowRefused as refused:
            form.add_error(refused.field, refused.messages)
        except ValidationError as error:
            form.add_error(None, error.messages)
        except workflow.WorkflowError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{measure.name}：{revision}で{changed}件を見直しました。")
            return redirect(f"{measure.get_absolute_url()}#revisions")
    context = {"plan": plan, "revision": revision, "measure": measure, "form": form}
    return render(request, "budget/revise_measure.html", context)


@transaction.atomic
def _apply(form, user, revision, measure, targets, costs):
    """Every changed year through the door, or none (a refusal rolls back the whole form)."""
    try:
        seen = json.loads(form.cleaned_data["seen"])
    except (ValueError, TypeError) as error:
        raise workflow.Conflict() from error
    if not isinstance(seen, dict):
        raise workflow.Conflict()  # not what the page sent
    changed = 0
    for year in form.years:
        data = form.cleaned_data
        target = targets.get(year) or KpiTarget(measure=measure, fiscal_year=year)
        if f"target_text_{year}" in data:
            target.text = data[f"target_text_{year}"]
        else:
            target.value = data[f"target_value_{year}"]
        cost = costs.get(year) or PlannedCost(measure=measure, fiscal_year=year)
        cost.amount = data[f"cost_{year}"]
        shown = seen.get(str(year))
        shown = shown if isinstance(shown, dict) else {}
        target_field = f"target_text_{year}" if f"target_text_{year}" in data else f"target_value_{year}"
        for row, fields, key, field in (
            (target, TARGET_FIELDS, "target", target_field),
            (cost, COST_FIELDS, "cost", f"cost_{year}"),
        ):
            if row.pk is None and all(getattr(row, f) in (None, "") for f in fields):
                continue  # no row, and none asked for
            try:
                row.full_clean(validate_unique=False)
            except ValidationError as error:
                raise _RowRefused(field, error.messages) from error
            if workflow.revise_plan_row(row, user, revision, fields, shown.get(key)):
                changed += 1
    return changed


class _RowRefused(Exception):
    """A year's target or cost the model refuses (a percentage over 100, a year outside the plan): shown
    on its field, and nothing of the form is saved."""

    def __init__(self, field, messages):
        super().__init__(field)
        self.field, self.messages = field, messages
