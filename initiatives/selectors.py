"""Reads for the plan pages: each returns plain data, so templates make no queries."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404

from .models import Initiative, Measure, Plan, Policy


def plan_tree(plan):
    """Policies → initiatives → measures (with KGI), in three queries."""
    measures = Measure.objects.select_related("kgi", "department").order_by("ordinal")
    initiatives = Initiative.objects.prefetch_related(Prefetch("measures", queryset=measures)).order_by("number")
    return list(
        Policy.objects.filter(plan=plan)
        .prefetch_related(Prefetch("initiatives", queryset=initiatives))
        .order_by("number")
    )


def plans_with_counts():
    return list(
        Plan.objects.annotate(
            measure_count=Count("measures", distinct=True),
            future_count=Count(
                "policies__initiatives",
                filter=Q(policies__initiatives__status=Initiative.Status.FUTURE),
                distinct=True,
            ),
        )
    )


@dataclass
class YearColumn:
    year: int
    kpi: object  # KpiTarget or None when no row exists
    cost: object  # PlannedCost or None


@dataclass
class BarRow:
    bar: object
    years: list  # booleans, one per plan year


def get_measure(plan_code, code):
    return get_object_or_404(
        Measure.objects.select_related("plan", "initiative__policy", "kgi", "department").prefetch_related(
            "schedule_bars", "kpi_targets", "planned_costs"
        ),
        plan__code=plan_code,
        code=code,
    )


def measure_years(measure):
    """The measure table's year columns: KPI target and LCC side by side."""
    targets = {t.fiscal_year: t for t in measure.kpi_targets.all()}
    costs = {c.fiscal_year: c for c in measure.planned_costs.all()}
    return [YearColumn(year, targets.get(year), costs.get(year)) for year in measure.plan.fiscal_years]


def schedule_rows(measure):
    years = measure.plan.fiscal_years
    return [BarRow(bar, [bar.covers(year) for year in years]) for bar in measure.schedule_bars.all()]
