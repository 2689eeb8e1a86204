"""PDCA views. Each: fetch with a permission check → validate → call kpi.services → redirect or render."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from initiatives import permissions
from initiatives.fiscal import fiscal_year_label
from initiatives.models import Department, Measure, Plan

from . import facts as facts_module
from . import selectors, services
from .filters import MeasureFilter, PlanYearForm
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
    # No #year anchor: the confirmation message sits at the top of the page.
    return redirect(record.measure.get_absolute_url())


def measure_year_edit(request, plan_code, code, year):
    measure, record = _measure_year(plan_code, code, year)
    permissions.require(permissions.can_enter(request.user, measure))
    bars = [b for b in measure.schedule_bars.all() if b.covers(year)]
    target = measure.kpi_targets.filter(fiscal_year=year).first()
    form = MeasureYearForm(request.POST or None, instance=record, bars=bars, target=target)
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
    facts = facts_module.measure_facts(plan, [year], Measure.objects.filter(plan=plan))
    by_measure = {f.measure_id: f for f in facts}
    context = {
        "plan": plan,
        "year": year,
        "rows": facts_module.summarise(plan, facts),
        "submitted": [(by_measure[r.measure_id], r) for r in selectors.submitted_records(plan, year)]
        if can_approve
        else [],
        "can_approve": can_approve,
        "departments": [
            d
            for d in Department.objects.filter(measures__plan=plan).distinct().order_by("code")
            if permissions.can_enter_department(request.user, d)
        ],
    }
    return render(request, "kpi/pdca.html", context)


@require_POST
def bulk_approve(request, plan_code, year):
    plan = get_object_or_404(Plan, code=plan_code)
    _plan_year(plan, year)
    permissions.require(permissions.can_approve(request.user))
    ids = [int(i) for i in request.POST.getlist("record") if i.isdigit()]
    # each row carries the version shown on screen: a record changed since is not approved unseen
    seen = {pk: int(v) for pk in ids if (v := request.POST.get(f"version-{pk}", "")).isdigit()}
    records = list(
        MeasureYear.objects.filter(pk__in=ids, measure__plan=plan, fiscal_year=year).select_related("measure")
    )
    if not records:
        messages.error(request, "承認する施策を選んでください。")
    else:
        try:
            count = services.approve_many(records, request.user, seen)
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
        target = next((t for t in measure.kpi_targets.all() if t.fiscal_year == year), None)
        form = GridRowForm(request.POST or None, instance=record, prefix=f"m{measure.pk}", target=target)
        rows.append((measure, target, form))
    if request.method == "POST":
        forms = [form for _, _, form in rows]
        valid = all([form.is_valid() for form in forms])  # validate every row, to show every error
        for form in forms:
            if form.instance.is_locked and form.has_changed():
                form.add_error(None, str(services.Locked()))
                valid = False
        if valid:
            changed = [f for f in forms if f.has_changed() and not f.instance.is_locked]
            try:
                services.save_grid(changed)
            except services.RowError as error:
                error.form.add_error(None, str(error.error))
            else:
                messages.success(
                    request, f"{len(changed)}件を保存しました。" if changed else "変更はありませんでした。"
                )
                return redirect("kpi:department_grid", plan_code=plan.code, year=year, department_code=department.code)
        messages.error(request, "入力に誤りがあります。色の付いた行を確認してください（何も保存していません）。")
    return render(
        request,
        "kpi/department_grid.html",
        {"plan": plan, "year": year, "department": department, "rows": rows},
    )


def _facts_for(request):
    """Plan, year, filters and the filtered facts that the dashboard and the measure list share."""
    plans = list(Plan.objects.order_by("-start_year", "code"))
    choice = PlanYearForm(request.GET)
    choice.is_valid()
    code, year = choice.cleaned_data.get("plan"), choice.cleaned_data.get("year")
    plan = get_object_or_404(Plan, code=code) if code else facts_module.default_plan(plans)
    if plan is None:
        return None
    if year not in plan.fiscal_years:
        year = facts_module.default_year(plan)
    measure_filter = MeasureFilter(request.GET or None, Measure.objects.filter(plan=plan), plan)
    facts = facts_module.measure_facts(plan, [year], measure_filter.qs)
    facts = facts_module.filter_facts(facts, **measure_filter.computed_filters())
    return {"plans": plans, "plan": plan, "year": year, "filter": measure_filter, "facts": facts}


ATTENTION_SHOWN = 50


def _link_cells(summaries, request):
    """Each count's link to the measures behind it, built once here rather than per cell in the template."""
    base = {k: v for k, v in request.GET.items() if k not in ("grade", "stage", "attention") and v}
    prefix = reverse("kpi:measure_list")

    def url(row, **extra):
        return f"{prefix}?{urlencode({**base, **row.key, **extra})}"

    for row in summaries:
        row.all_url = url(row)
        row.stage_cells = [(s, n, url(row, stage=s)) for s, n in row.stage_counts]
        row.grade_cells = [(g, n, url(row, grade=g)) for g, n in row.grade_counts]
        row.attention_cells = [
            (label, row.attention[key], url(row, attention=key)) for key, label in facts_module.ATTENTION.items()
        ]
    return summaries


def dashboard(request):
    context = _facts_for(request)
    if context is None:
        return render(request, "kpi/dashboard.html", {"plans": []})
    facts = context["facts"]
    attention = [f for f in facts if f.reasons]
    context.update(
        summaries=_link_cells(facts_module.summarise(context["plan"], facts), request),
        attention=attention[:ATTENTION_SHOWN],
        attention_count=len(attention),
        grades=facts_module.GRADES,
        stages=facts_module.STAGES,
        attention_labels=facts_module.ATTENTION,
    )
    return render(request, "kpi/dashboard.html", context)


def measure_list(request):
    context = _facts_for(request)
    if context is None:
        raise Http404("計画がありません。")
    return render(request, "kpi/measure_list.html", context)
