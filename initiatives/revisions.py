"""The plan as adopted (当初) beside the plan as revised (見直し後): one reading of the revisions.

A plan row (a year's KPI target or LCC of a measure) that no revision changed reads the same in both;
one that revisions changed was, as adopted, what its first change found (RevisionChange.before).
"""

from .models import RevisionChange


def first_changes(plan, kind, measures=None):
    """{(measure id, year): the first RevisionChange of that row} for a kind of plan row (one query)."""
    changes = RevisionChange.objects.filter(measure__plan=plan, kind=kind)
    if measures is not None:
        changes = changes.filter(measure__in=measures)
    out = {}
    for change in changes.order_by("revision__number", "pk"):
        out.setdefault((change.measure_id, change.fiscal_year), change)
    return out


def revisions_by_row(plan, measures=None):
    """{(measure id, year): [revision numbers]} of every plan row any revision changed (one query)."""
    changes = RevisionChange.objects.filter(measure__plan=plan)
    if measures is not None:
        changes = changes.filter(measure__in=measures)
    out = {}
    for measure_id, year, number in changes.order_by("revision__number").values_list(
        "measure_id", "fiscal_year", "revision__number"
    ):
        numbers = out.setdefault((measure_id, year), [])
        if number not in numbers:
            numbers.append(number)
    return out
