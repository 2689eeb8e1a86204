"""The queries behind the API's endpoints. Each list makes the same number of queries for 30 measures as
for 3,000 (ohnojo_dx/tests/test_api_queries.py names them)."""

from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404

from budget.models import PlannedCost
from initiatives.models import PLAN_ORDER, Initiative, Measure, NationalPriority, Plan, Policy
from kpi.achievement import Assessment, assess_year, combined, grade_scale
from kpi.facts import other_indicators
from kpi.models import KpiTarget, MeasureYear, kgi_shape, kpi_text


def get_plan(code):
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise Http404("その計画はありません。")
    return plan


def check_year(plan, year):
    """A year outside the plan (any integer may come in a URL) is not found, before any query uses it."""
    if not plan.covers(year):
        raise Http404(f"その年度は計画期間（{plan.period_label}）の外です。")


def plans():
    """Plans with the national 重点取組事項 they cite: two queries for a page of them."""
    return Plan.objects.prefetch_related(national_priorities()).order_by("-start_year", "code")


def national_priorities():
    return Prefetch("national_priorities", queryset=NationalPriority.objects.order_by("number"))


def policies(plan):
    """Policies with their initiatives: two queries (the page, its initiatives)."""
    return Policy.objects.filter(plan=plan).prefetch_related("initiatives").order_by("number")


def initiatives(plan):
    return Initiative.objects.filter(policy__plan=plan).select_related("policy").order_by("policy__number", "number")


def measures(plan):
    """Measures with their place, department and KGI joined, and national 重点取組事項, schedule bars, KPI
    targets and planned costs prefetched: five queries for a page of them."""
    return (
        Measure.objects.filter(plan=plan)
        .select_related("initiative__policy", "department", "kgi")
        .prefetch_related("national_priorities", "schedule_bars", "kpi_targets", "planned_costs")
        .order_by(*PLAN_ORDER)
    )


def get_measure(plan_code, code):
    """The measure with what its years need: plan, place, KGI and department in one query."""
    measure = (
        Measure.objects.select_related("plan", "initiative__policy", "kgi", "department")
        .filter(plan__code=plan_code, code=code)
        .first()
    )
    if measure is None:
        raise Http404("その施策はありません。")
    return measure


@dataclass
class Target:
    value: object
    text: str
    note: str


@dataclass
class YearRow:
    """One measure in one fiscal year, as MeasureYearSerializer answers it."""

    plan_code: str
    measure: Measure
    fiscal_year: int
    target: Target | None
    planned_cost: int | None
    record: MeasureYear
    achievement: Assessment

    @property
    def unit(self):
        kgi = getattr(self.measure, "kgi", None)
        return kgi.unit if kgi else ""

    @property
    def target_display(self):
        kgi = getattr(self.measure, "kgi", None)
        return (
            kpi_text(self.target.value, self.target.text, note=self.target.note, **kgi_shape(kgi))
            if self.target
            else kpi_text(None)
        )

    @property
    def kpi_actual_display(self):
        return self.record.actual_display(getattr(self.measure, "kgi", None))


def year_row(measure, year, target, planned_cost, record, scale, others=()):
    """The row for a measure-year; ``record`` None means nothing entered yet (answered as version 0); ``others``:
    its other indicators' assessments, for the plan's overall rule (kpi.achievement.combined)."""
    kgi = getattr(measure, "kgi", None)
    shown = record or MeasureYear(measure=measure, fiscal_year=year, version=0)
    return YearRow(
        plan_code=measure.plan.code,
        measure=measure,
        fiscal_year=year,
        target=Target(target.value, target.text, target.note) if target else None,
        planned_cost=planned_cost,
        record=shown,
        achievement=combined(assess_year(kgi, target, record, scale), others, scale),
    )


def measure_years(measure, years=None):
    """Rows of one measure for the plan's years (or the given ones): targets, costs, records and the plan's grade
    scale, four queries (and its other indicators where the plan combines them)."""
    plan = measure.plan
    years = plan.fiscal_years if years is None else years
    targets = {t.fiscal_year: t for t in KpiTarget.objects.filter(measure=measure, fiscal_year__in=years)}
    costs = dict(
        PlannedCost.objects.filter(measure=measure, fiscal_year__in=years).values_list("fiscal_year", "amount")
    )
    records = {r.fiscal_year: r for r in MeasureYear.objects.filter(measure=measure, fiscal_year__in=years)}
    scale = grade_scale(plan)
    for record in records.values():
        record.measure = measure
    others = _others(Measure.objects.filter(pk=measure.pk), years, scale)
    return [
        year_row(measure, y, targets.get(y), costs.get(y), records.get(y), scale, others.get((measure.pk, y), ()))
        for y in years
    ]


def _others(measures, years, scale):
    """The other indicators' assessments where the plan combines them (one query), else none."""
    return other_indicators(measures, years, scale) if scale.combines_indicators else {}


def records(plan):
    """The plan's PDCA records (existing ones only), each with its measure and KGI joined and the year's target
    and planned cost as subqueries: one query for a page."""
    same_year = {"measure": OuterRef("measure"), "fiscal_year": OuterRef("fiscal_year")}
    target = KpiTarget.objects.filter(**same_year)
    cost = PlannedCost.objects.filter(**same_year)
    return (
        MeasureYear.objects.filter(measure__plan=plan)
        .select_related("measure__kgi")
        .annotate(
            target_id=Subquery(target.values("pk")[:1]),
            target_value=Subquery(target.values("value")[:1]),
            target_text=Subquery(target.values("text")[:1]),
            target_note=Subquery(target.values("note")[:1]),
            planned_cost=Subquery(cost.values("amount")[:1]),
        )
        .order_by("fiscal_year", *(f"measure__{f}" for f in PLAN_ORDER))
    )


def record_rows(plan, page):
    """YearRows for a page of records(plan); one more query, for the grade scale (and one for the other
    indicators where the plan combines them)."""
    scale = grade_scale(plan)
    page = list(page)
    ids, years = {r.measure_id for r in page}, {r.fiscal_year for r in page}
    others = _others(Measure.objects.filter(pk__in=ids), years, scale)
    rows = []
    for record in page:
        measure = record.measure
        measure.plan = plan
        target = (
            KpiTarget(value=record.target_value, text=record.target_text, note=record.target_note)
            if record.target_id
            else None
        )
        extra = others.get((measure.pk, record.fiscal_year), ())
        rows.append(year_row(measure, record.fiscal_year, target, record.planned_cost, record, scale, extra))
    return rows
