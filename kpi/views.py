"""PDCA views. Each: fetch with a permission check → validate → call kpi.workflow → redirect or render."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from initiatives import permissions
from initiatives.fiscal import fiscal_year_label
from initiatives.models import PLAN_ORDER, Department, Measure, Plan

from . import facts as facts_module
from . import selectors, workflow
from .achievement import grade_meanings, grade_scale
from .attention import ATTENTION, STAGES
from .filters import MeasureFilter, PlanYearForm
from .forms import BulkApproveForm, CommentForm, GridFormSet, MeasureYearForm
from .interim import summarise_interim
from .models import Indicator, IndicatorYear, InterimReview, KpiTarget, MeasureYear
from .reminders import deadline_of
from .rollup import summarise


def _plan_year(plan, year):
    if not plan.covers(year):  # any integer may come in the URL, 0 included: never format it
        raise Http404(f"その年度は計画期間（{plan.period_label}）の外です。")
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
    record = record or MeasureYear(fiscal_year=year)
    record.measure = measure  # the one fetched above, with its plan and KGI
    return measure, record


def _back(record):
    # No #year anchor: the confirmation message sits at the top of the page.
    return redirect(record.measure.get_absolute_url())


def _other_indicators(measure, year):
    """The measure's indicators besides the primary, each with ``this_year``: its row of the year (two queries)."""
    this_year = Prefetch("years", queryset=IndicatorYear.objects.filter(fiscal_year=year), to_attr="this_year")
    return list(Indicator.objects.filter(measure=measure).prefetch_related(this_year))


def measure_year_edit(request, plan_code, code, year):
    measure, record = _measure_year(plan_code, code, year)
    permissions.require(request.user.has_perm(permissions.ENTER_MEASURE, measure))
    bars = [b for b in measure.schedule_bars.all() if b.covers(year)]
    target = measure.kpi_targets.filter(fiscal_year=year).first()
    indicators = [(i, next(iter(i.this_year), None)) for i in _other_indicators(measure, year)]
    form = MeasureYearForm(request.POST or None, instance=record, bars=bars, target=target, indicators=indicators)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.save_entry(form, request.user, submit="submit" in request.POST)
        except workflow.WorkflowError as error:
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
    permissions.require(request.user.has_perm(permissions.APPROVE))
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
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{fiscal_year_label(year)}「{measure.name}」を{STEP_NAMES[step]}しました。")
    return _back(record)


STEP_NAMES = {workflow.approve: "承認", workflow.return_for_revision: "差し戻", workflow.reopen: "再開"}


@require_POST
def approve(request, plan_code, code, year):
    return _workflow_step(request, plan_code, code, year, workflow.approve, needs_comment=False)


@require_POST
def return_for_revision(request, plan_code, code, year):
    return _workflow_step(request, plan_code, code, year, workflow.return_for_revision, needs_comment=True)


@require_POST
def reopen(request, plan_code, code, year):
    return _workflow_step(request, plan_code, code, year, workflow.reopen, needs_comment=True)


SUBMITTED_SHOWN = 100  # submitted records per page of the PDCA page's approval list


def pdca(request, plan_code, year):
    """The year's PDCA roll-up (counted in the database) and a page of the records awaiting approval.

    Queries: plan, grade thresholds, the roll-up; departments; for the approver, the submitted records'
    count and page, and their facts (delayed bars, the joined rows).
    """
    plan = get_object_or_404(Plan, code=plan_code)
    _plan_year(plan, year)
    can_approve = request.user.has_perm(permissions.APPROVE)
    scale = grade_scale(plan)
    measures = Measure.objects.filter(plan=plan)
    context = {
        "plan": plan,
        "year": year,
        "rows": summarise(plan, year, facts_module.classified(measures, year, scale), scale=scale),
        "can_approve": can_approve,
        "departments": [
            d
            for d in Department.objects.filter(measures__plan=plan).distinct().order_by("code")
            if request.user.has_perm(permissions.ENTER_DEPARTMENT, d)
        ],
        "submitted": [],
    }
    if can_approve:
        page = Paginator(selectors.submitted_records(plan, year), SUBMITTED_SHOWN).get_page(request.GET.get("page"))
        records = list(page.object_list)
        facts = facts_module.measure_facts(
            plan, [year], measures.filter(pk__in=[r.measure_id for r in records]), scale=scale
        )
        by_measure = {f.measure_id: f for f in facts}
        context.update(submitted=[(by_measure[r.measure_id], r) for r in records], page_obj=page)
    return render(request, "kpi/pdca.html", context)


@require_POST
def bulk_approve(request, plan_code, year):
    plan = get_object_or_404(Plan, code=plan_code)
    _plan_year(plan, year)
    permissions.require(request.user.has_perm(permissions.APPROVE))
    submitted = MeasureYear.objects.filter(measure__plan=plan, fiscal_year=year, status=MeasureYear.Status.SUBMITTED)
    form = BulkApproveForm(request.POST, submitted.order_by("pk"))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"一括承認を中止しました（何も承認していません）。{error}")
    else:
        try:
            count = workflow.approve_many(form.cleaned_data["records"], request.user, form.seen_versions())
        except workflow.WorkflowError as error:
            messages.error(request, f"一括承認を中止しました（何も承認していません）。{error}")
        else:
            messages.success(request, f"{count}件を承認しました。")
    return redirect("kpi:pdca", plan_code=plan.code, year=year)


GRID_ROWS = 100  # measures per page of the department grid


def department_grid(request, plan_code, year, department_code):
    """One department's measures of one year, GRID_ROWS to a page; each page saved all or nothing."""
    plan = get_object_or_404(Plan, code=plan_code)
    _plan_year(plan, year)
    department = get_object_or_404(Department, code=department_code)
    mine = Measure.objects.filter(plan=plan, department=department).select_related("kgi").order_by(*PLAN_ORDER, "pk")
    page = Paginator(mine, GRID_ROWS).get_page(request.GET.get("page"))
    measures = list(page.object_list)
    if not measures:
        raise Http404("この課が担当する施策はありません。")
    permissions.require(request.user.has_perm(permissions.ENTER_DEPARTMENT, department))
    existing = {r.measure_id: r for r in MeasureYear.objects.filter(measure__in=measures, fiscal_year=year)}
    records = []
    for measure in measures:
        measure.plan = plan  # its page link needs the plan's code: no query per row
        record = existing.get(measure.pk) or MeasureYear(fiscal_year=year)
        record.measure = measure
        records.append(record)
    targets = {t.measure_id: t for t in KpiTarget.objects.filter(measure__in=measures, fiscal_year=year)}
    formset = GridFormSet(request.POST or None, records=records, targets=targets, prefix="grid")
    if request.method == "POST":
        if formset.is_valid():
            changed = formset.changed_forms()
            try:
                workflow.save_rows(changed, request.user)
            except workflow.RowError as error:
                error.form.add_error(None, str(error.error))
            else:
                messages.success(
                    request, f"{len(changed)}件を保存しました。" if changed else "変更はありませんでした。"
                )
                return redirect(request.get_full_path())  # the same page of the grid
        messages.error(request, "入力に誤りがあります。色の付いた行を確認してください（何も保存していません）。")
    rows = [(m, targets.get(m.pk), form) for m, form in zip(measures, formset.forms, strict=True)]
    context = {"plan": plan, "year": year, "department": department, "formset": formset, "rows": rows, "page_obj": page}
    return render(request, "kpi/department_grid.html", context)


def _plan_filter(request):
    """Plan, year and filters that the dashboard and the measure list share (None if there is no plan)."""
    plans = list(Plan.objects.order_by("-start_year", "code"))
    choice = PlanYearForm(request.GET)
    choice.is_valid()
    code, year = choice.cleaned_data.get("plan"), choice.cleaned_data.get("year")
    plan = get_object_or_404(Plan, code=code) if code else facts_module.default_plan(plans)
    if plan is None:
        return None
    if year is None or not plan.covers(year):
        year = facts_module.default_year(plan)
    scale = grade_scale(plan)
    measure_filter = MeasureFilter(request.GET or None, Measure.objects.filter(plan=plan), plan, scale)
    return {"plans": plans, "plan": plan, "year": year, "filter": measure_filter, "scale": scale}


ATTENTION_SHOWN = 50
MEASURES_SHOWN = 100  # rows per page of the measure list


def _link_cells(summaries, request):
    """Each count's link to the measures behind it, built once here rather than per cell in the template."""
    base = {k: v for k, v in request.GET.items() if k not in ("grade", "stage", "attention", "page") and v}
    prefix = reverse("kpi:measure_list")

    def url(row, **extra):
        return f"{prefix}?{urlencode({**base, **row.key, **extra})}"

    for row in summaries:
        row.all_url = url(row)
        row.stage_cells = [(s, n, url(row, stage=s)) for s, n in row.stage_counts]
        row.grade_cells = [(g, n, url(row, grade=g)) for g, n in row.grade_counts]
        row.attention_cells = [(label, row.attention[key], url(row, attention=key)) for key, label in ATTENTION.items()]
    return summaries


def _classified(context):
    """The year's measures under every filter: the SQL ones, then grade, stage and attention."""
    rows = facts_module.classified(context["filter"].qs, context["year"], context["scale"])
    return facts_module.filter_classified(rows, **context["filter"].computed_filters())


def _first_needing_attention(rows, summaries):
    """The rows needing attention, narrowed to the first initiatives (in plan order) that hold the first
    ATTENTION_SHOWN of them, as the roll-up counted: the database need not classify the whole plan again."""
    initiatives, found = [], 0
    for row in summaries:
        if row.level == "initiative" and row.needing_attention and found < ATTENTION_SHOWN:
            initiatives.append(row.key["initiative"])
            found += row.needing_attention
    return rows.filter(facts_module.needing_attention(), initiative__in=initiatives)


def _facts_of(context, rows, limit):
    """The facts (kpi.facts.measure_facts, the one evaluation) of the first ``limit`` classified rows, in plan
    order."""
    ids = list(rows.order_by(*PLAN_ORDER).values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    measures = Measure.objects.filter(pk__in=ids)
    return facts_module.measure_facts(context["plan"], [context["year"]], measures, scale=context["scale"])


def _grade_rows(scale, total):
    """(grade, what it means, its colour, count, share) of the filter's measures, each grade of the plan's
    scheme and then those without one."""
    meanings = grade_meanings(scale) | {"none": "目標なし・未入力・判定待ち"}
    return [(g, meanings.get(g, "評価の区分にない評価"), scale.colour(g), n, pct) for g, n, pct in total.grade_shares]


def dashboard_context(request):
    """What the dashboard shows of progress ({"plans": []} when there is no plan). The page itself is
    ohnojo_dx.views.dashboard, which adds the budget's flags (kpi does not read budget).

    The counts and sums are the database's (kpi.rollup.summarise); only the first ATTENTION_SHOWN measures
    that need attention are evaluated row by row, to be listed.
    """
    context = _plan_filter(request)
    if context is None:
        return {"plans": []}
    rows = _classified(context)
    summaries = summarise(context["plan"], context["year"], rows, scale=context["scale"])
    today = timezone.localdate()
    deadline = deadline_of(context["plan"], context["year"], today)
    total = summaries[0]
    # the filter's measures whose record is not yet submitted or approved
    left_to_do = (
        total.measures - total.statuses[MeasureYear.Status.SUBMITTED] - total.statuses[MeasureYear.Status.APPROVED]
    )
    interim_counts = None
    if context["plan"].half_yearly:  # its 上期 counted too (two queries, for such a plan only)
        interim_counts, interim_statuses = summarise_interim(context["year"], context["filter"].qs, context["scale"])
        if deadline is not None and deadline.period:  # the 上期 deadline: the reports not yet submitted
            left_to_do = interim_statuses["none"] + interim_statuses.get(InterimReview.Status.DRAFT, 0)
    context.update(
        deadline=deadline,
        deadline_passed=deadline is not None and deadline.days_left(today) < 0,
        deadline_when=deadline.when(today) if deadline else "",
        left_to_do=left_to_do,
        summaries=_link_cells(summaries, request),
        attention=_facts_of(context, _first_needing_attention(rows, summaries), ATTENTION_SHOWN),
        attention_count=summaries[0].needing_attention,
        grades=context["scale"].letters,
        grade_rows=_grade_rows(context["scale"], total),
        interim_counts=interim_counts,
        stages=STAGES,
        attention_labels=ATTENTION,
    )
    return context


def measure_list(request):
    """The measures of the filter (grade, stage and attention classified in the database), a page at a time."""
    context = _plan_filter(request)
    if context is None:
        raise Http404("計画がありません。")
    rows = _classified(context)
    page = Paginator(rows.order_by(*PLAN_ORDER).values_list("pk", flat=True), MEASURES_SHOWN)
    page = page.get_page(request.GET.get("page"))
    measures = Measure.objects.filter(pk__in=list(page.object_list))
    facts = facts_module.measure_facts(context["plan"], [context["year"]], measures, scale=context["scale"])
    context.update(facts=facts, page_obj=page)
    return render(request, "kpi/measure_list.html", context)
