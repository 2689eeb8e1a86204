"""計画期間の総括 of one measure: the DX推進部門 records its conclusion and the carry-over to the next plan."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from initiatives import permissions
from initiatives.models import Measure, Plan
from kpi import workflow

from .final import final_rows
from .forms import FinalEvaluationForm, NextPlanForm
from .models import FinalEvaluation
from .next_plan import draft_next_plan


def final_edit(request, plan_code, code):
    plan = get_object_or_404(Plan, code=plan_code)
    measure = get_object_or_404(Measure, plan=plan, code=code)
    measure.plan = plan
    permissions.require(request.user.has_perm(permissions.APPROVE))
    evaluation = FinalEvaluation.objects.filter(measure=measure).first() or FinalEvaluation()
    evaluation.measure = measure
    form = FinalEvaluationForm(request.POST or None, instance=evaluation)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.save_review(form.instance, request.user, form.cleaned_data["seen_version"], "計画期間の総括")
        except workflow.WorkflowError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{measure.name}の計画期間の総括を保存しました。")
            return redirect(f"{measure.get_absolute_url()}#final")
    (row,) = final_rows(plan, Measure.objects.filter(pk=measure.pk))
    return render(request, "budget/final_form.html", {"plan": plan, "measure": measure, "form": form, "row": row})


def next_plan(request, plan_code):
    """The DX推進部門 drafts the next plan from this one's 総括 (budget.next_plan): the form, then the new plan.

    Queries (GET): plan, its measures counted by carry-over."""
    plan = get_object_or_404(Plan, code=plan_code)
    permissions.require(request.user.has_perm(permissions.APPROVE))
    length = plan.end_year - plan.start_year
    initial = {
        "code": f"{plan.code}-next"[:40],
        "title": f"{plan.title}（次期）",
        "start_year": plan.end_year + 1,
        "end_year": plan.end_year + 1 + length,
    }
    form = NextPlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            new = draft_next_plan(plan, request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                for message in messages_:
                    form.add_error(field if field in form.fields else None, message)
        else:
            copied = new.measures.count()
            messages.success(
                request, f"{plan.title}の総括から次期計画の下書きを作りました（継続の個別施策 {copied} 件）。"
            )
            return redirect(new.get_absolute_url())
    counts = dict(
        Measure.objects.filter(plan=plan).values_list("final_evaluation__carry_over").annotate(n=Count("pk")).order_by()
    )
    context = {
        "plan": plan,
        "form": form,
        "carry_over": [(label, counts.get(value, 0)) for value, label in FinalEvaluation.CarryOver.choices],
        "undecided": counts.get(None, 0) + counts.get("", 0),  # no 総括 yet, or one without a carry-over
    }
    return render(request, "budget/next_plan_form.html", context)
