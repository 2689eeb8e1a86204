"""計画期間の総括 of one measure: the DX推進部門 records its conclusion and the carry-over to the next plan."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from initiatives import permissions
from initiatives.models import Measure, Plan
from kpi import workflow

from .final import final_rows
from .forms import FinalEvaluationForm
from .models import FinalEvaluation


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
