"""PDCA views. Each: fetch with a permission check → validate → call kpi.services → redirect or render."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from initiatives import permissions
from initiatives.fiscal import fiscal_year_label
from initiatives.models import Department, Measure, Plan

from . import selectors, services
from .forms import CommentForm, GridRowForm, MeasureYearForm
from .models import MeasureYear


def _plan_year(plan, year):
    if year not in plan.fiscal_years:
        raise Http404(f"{fiscal_year_label(year)} は計画期間（{plan.period_label}）の外です。")
    return year


def _measure_year(plan_code, code, year):
    """The measure and its record for the year (a new unsaved one if none yet)."""
    measure = get_object_or_404(
        Measure.objects.select_related("plan", "initiative__policy", "kgi", "department").prefetch_related(
            "schedule_bars"
        ),
        plan__code=plan_code,
        code=code,
    )
    _plan_year(measure.plan, year)
    record = MeasureYear.objects.filter(measure=measure, fiscal_year=year).prefetch_related("bar_statuses").first()
    return measure, record or MeasureYear(measure=measure, fiscal_year=year)


def _back(record):
    return redirect(f"{record.measure.get_absolute_url()}#year-{record.fiscal_year}")


def measure_year_edit(request, plan_code, code, year):
    measure, record = _measure_year(plan_code, code, year)
    permissions.require(permissions.can_enter(request.user, measure))
    bars = [b for b in measure.schedule_bars.all() if b.covers(year)]
    form = MeasureYearForm(request.POST or None, instance=record, bars=bars)
    if record.is_locked and request.method == "POST":
        form.add_error(None, str(services.Locked()))
    elif request.method == "POST" and form.is_valid():
        try:
            services.save_entry(form, submit="submit" in request.POST)
        except services.WorkflowError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "提出しました。" if "submit" in request.POST else "保存しました。")
            return _back(record)
    target = measure.kpi_targets.filter(fiscal_year=year).first()
    return render(
        request,
        "kpi/measure_year_form.html",
        {
            "plan": measure.plan,
            "measure": measure,
            "record": record,
            "year": year,
            "form": form,
            "target": target,
            "previous": MeasureYear.objects.filter(measure=measure, fiscal_year=year - 1).first(),
        },
    )


def _workflow_step(request, plan_code, code, year, step, needs_comment):
    measure, record = _measure_year(plan_code, code, year)
    permissions.require(permissions.can_approve(request.user))
    form = CommentForm(request.POST)
    if not needs_comment:
        form.fields["comment"].required = False
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"理由：{error}" if needs_comment else error)
        return _back(record)
    if record.pk is None:
        raise Http404("この年度の実績はまだありません。")
    try:
        step(record, request.user, form.cleaned_data["seen_version"], form.cleaned_data["comment"])
    except services.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{fiscal_year_label(year)}「{measure.name}」を{STEP_NAMES[step]}しました。")
    return _back(record)


def _approve(record, user, seen_version, comment):
    return services.approve(record, user, seen_version)


STEP_NAMES = {_approve: "承認", services.return_for_revision: "差し戻", services.reopen: "再開"}


@require_POST
def approve(request, plan_code, code, year):
    return _workflow_step(request, plan_code, code, year, _approve, needs_comment=False)


@require_POST
def return_for_revision(request, plan_code, code, year):
    return _workflow_step(request, plan_code, code, year, services.return_for_revision, needs_comment=True)


@require_POST
def reopen(request, plan_code, code, year):
    return _workflow_step(request, plan_code, code, year, services.reopen, needs_comment=True)


def pdca(request, plan_code, year):
    plan = get_object_or_404(Plan, code=plan_code)
    _plan_year(plan, year)
    can_approve = permissions.can_approve(request.user)
    context = {
        "plan": plan,
        "year": year,
        "rows": selectors.pdca_rollup(plan, year),
        "submitted": selectors.submitted_records(plan, year) if can_approve else [],
        "can_approve": can_approve,
        "departments": list(Department.objects.filter(measures__plan=plan).distinct().order_by("code")),
    }
    return render(request, "kpi/pdca.html", context)


@require_POST
def bulk_approve(request, plan_code, year):
    plan = get_object_or_404(Plan, code=plan_code)
    _plan_year(plan, year)
    permissions.require(permissions.can_approve(request.user))
    ids = [int(i) for i in request.POST.getlist("record") if i.isdigit()]
    records = list(
        MeasureYear.objects.filter(pk__in=ids, measure__plan=plan, fiscal_year=year).select_related("measure")
    )
    if not records:
        messages.error(request, "承認する施策を選んでください。")
    else:
        try:
            count = services.approve_many(records, request.user)
        except services.WorkflowError as error:
            messages.error(request, f"一括承認を中止しました（何も承認していません）。{error}")
        else:
            messages.success(request, f"{count}件を承認しました。")
    return redirect("kpi:pdca", plan_code=plan.code, year=year)


def department_grid(request, plan_code, year, department_code):
    """Every measure of one department in one year on one page; saved all or nothing."""
    plan = get_object_or_404(Plan, code=plan_code)
    _plan_year(plan, year)
    department = get_object_or_404(Department, code=department_code)
    measures = list(
        Measure.objects.filter(plan=plan, department=department)
        .select_related("kgi")
        .prefetch_related("kpi_targets")
        .order_by("initiative__policy__number", "initiative__number", "ordinal")
    )
    if not measures:
        raise Http404("この課が担当する施策はありません。")
    permissions.require(all(permissions.can_enter(request.user, m) for m in measures))
    records = {r.measure_id: r for r in MeasureYear.objects.filter(measure__in=measures, fiscal_year=year)}
    rows = []
    for measure in measures:
        record = records.get(measure.pk) or MeasureYear(measure=measure, fiscal_year=year)
        form = GridRowForm(request.POST or None, instance=record, prefix=f"m{measure.pk}")
        target = next((t for t in measure.kpi_targets.all() if t.fiscal_year == year), None)
        rows.append((measure, target, form))
    if request.method == "POST":
        forms = [form for _, _, form in rows]
        valid = all([form.is_valid() for form in forms])  # validate every row, to show every error
        for form in forms:
            if form.instance.is_locked and form.has_changed():
                form.add_error(None, str(services.Locked()))
                valid = False
        if valid:
            try:
                services.save_grid([f for f in forms if f.has_changed() and not f.instance.is_locked])
            except services.RowError as error:
                error.form.add_error(None, str(error.error))
            else:
                messages.success(request, "保存しました。")
                return redirect("kpi:department_grid", plan_code=plan.code, year=year, department_code=department.code)
        messages.error(request, "入力に誤りがあります。赤字の行を確認してください（何も保存していません）。")
    return render(
        request,
        "kpi/department_grid.html",
        {"plan": plan, "year": year, "department": department, "rows": rows},
    )
