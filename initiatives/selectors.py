"""Reads for the plan pages: each returns plain data, so templates make no queries."""

from collections import defaultdict

from django.db.models import Count, F, Func, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce

from .models import PLAN_ORDER, Initiative, Measure, NationalPriority, Plan, Policy

TREE_MEASURES = 20  # measures listed per 取組 and per 重点取組事項 on the plan page; the rest via the measure list


def plan_tree(plan):
    """Policies → initiatives → their first TREE_MEASURES measures (with KGI, department and national
    重点取組事項), each initiative with its measure count and the national 重点取組事項 its measures serve:
    five queries, and as many rows at any plan size."""
    measures = (
        Measure.objects.select_related("kgi", "department", "group")
        .prefetch_related(Prefetch("national_priorities", queryset=NationalPriority.objects.order_by("number")))
        .order_by("ordinal", "pk")
    )
    initiatives = (
        Initiative.objects.annotate(measure_count=Count("measures"))
        .prefetch_related(Prefetch("measures", queryset=measures[:TREE_MEASURES], to_attr="shown_measures"))
        .order_by("number")
    )
    tree = list(
        Policy.objects.filter(plan=plan)
        .prefetch_related(Prefetch("initiatives", queryset=initiatives))
        .order_by("number")
    )
    # An 取組 serves what its measures serve (Initiative.national_priorities), all of them, not only those shown.
    tags = Measure.national_priorities.through.objects.filter(measure__plan=plan)
    served = defaultdict(set)
    for initiative_id, priority_id in tags.values_list("measure__initiative_id", "nationalpriority_id").distinct():
        served[initiative_id].add(priority_id)
    for policy in tree:
        for initiative in policy.initiatives.all():
            initiative.served_priority_ids = served[initiative.pk]
    return tree


def national_priorities(plan, tree):
    """The national 重点取組事項 the plan cites, each with its measure count, its first TREE_MEASURES measures
    (served_by), and on the tree's initiatives, those their measures serve (served_priorities): two queries."""
    shown = Measure.objects.order_by(*PLAN_ORDER, "pk")
    priorities = list(
        NationalPriority.objects.filter(plan=plan)
        .annotate(measure_count=Count("measures"))
        .prefetch_related(Prefetch("measures", queryset=shown[:TREE_MEASURES], to_attr="served_by"))
        .order_by("number")
    )
    for policy in tree:
        for initiative in policy.initiatives.all():
            initiative.served_priorities = [p for p in priorities if p.pk in initiative.served_priority_ids]
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
