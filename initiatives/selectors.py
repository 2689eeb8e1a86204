"""Reads for the plan pages: each returns plain data, so templates make no queries."""

from django.db.models import Count, Prefetch, Q

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
