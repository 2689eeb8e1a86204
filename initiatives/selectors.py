"""Reads for the plan pages: each returns plain data, so templates make no queries."""

from django.db.models import F, Func, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce

from .models import Initiative, Measure, NationalPriority, Plan, Policy


def plan_tree(plan):
    """Policies → initiatives → measures (with KGI and their national 重点取組事項), in four queries."""
    measures = (
        Measure.objects.select_related("kgi", "department")
        .prefetch_related(Prefetch("national_priorities", queryset=NationalPriority.objects.order_by("number")))
        .order_by("ordinal")
    )
    initiatives = Initiative.objects.prefetch_related(Prefetch("measures", queryset=measures)).order_by("number")
    return list(
        Policy.objects.filter(plan=plan)
        .prefetch_related(Prefetch("initiatives", queryset=initiatives))
        .order_by("number")
    )


def national_priorities(plan, tree):
    """The national 重点取組事項 the plan cites, each with the measures of the tree that serve it: one query."""
    priorities = list(NationalPriority.objects.filter(plan=plan).order_by("number"))
    for priority in priorities:
        priority.served_by = [
            measure
            for policy in tree
            for initiative in policy.initiatives.all()
            for measure in initiative.measures.all()
            if priority in measure.national_priorities.all()
        ]
    return priorities


def _count(queryset):
    """A correlated subquery counting ``queryset``'s rows (0 when none): no join multiplying the plan's rows."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def plans_with_counts():
    """Every plan with its measure count and its count of 取組 marked 今後の取組, in one query."""
    return list(
        Plan.objects.annotate(
            measure_count=_count(Measure.objects.filter(plan=OuterRef("pk"))),
            future_count=_count(
                Initiative.objects.filter(policy__plan=OuterRef("pk"), status=Initiative.Status.FUTURE)
            ),
        )
    )
