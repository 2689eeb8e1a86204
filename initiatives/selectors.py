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
class BarCell:
    year: int
    on: bool  # the bar covers this year
    state: str = ""  # reported progress (BarStatus.State), if any
    state_label: str = ""


@dataclass
class BarRow:
    bar: object
    cells: list


def get_measure(plan_code, code):
    return get_object_or_404(
        Measure.objects.select_related("plan", "initiative__policy", "kgi", "department").prefetch_related(
            "schedule_bars",
            "kpi_targets",
            "planned_costs",
            "years__bar_statuses",
            "years__approved_by",
            "plan__grade_thresholds",
        ),
        plan__code=plan_code,
        code=code,
    )


def schedule_rows(measure):
    """Schedule bars across the plan's years, with the progress reported for each year."""
    reported = {
        (status.bar_id, record.fiscal_year): status
        for record in measure.years.all()
        for status in record.bar_statuses.all()
    }
    rows = []
    for bar in measure.schedule_bars.all():
        cells = []
        for year in measure.plan.fiscal_years:
            status = reported.get((bar.pk, year))
            cells.append(
                BarCell(
                    year, bar.covers(year), status.state if status else "", status.get_state_display() if status else ""
                )
            )
        rows.append(BarRow(bar, cells))
    return rows
