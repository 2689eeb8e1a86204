"""The 上期 of a plan reviewed every half year: each measure's mid-year report (kpi.models.InterimReview) and
their counts. A report's grade counts once the DX推進部門 has confirmed it; the shares are of all the measures."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count

from .achievement import grade_meanings
from .models import InterimReview
from .rollup import share

NOT_CONFIRMED = "未確定"


@dataclass(slots=True)
class InterimCount:
    grade: str
    meaning: str
    colour: str
    count: int
    share: Decimal | None


def summarise_interim(year, measures, scale):
    """(counts, statuses) of the year's 上期 over ``measures`` (a queryset of one plan's): an InterimCount for
    each grade of the scheme (confirmed reports), any grade the scheme no longer lists, and the measures without
    a confirmed report; and the reports counted by state ("none": no report). Queries: two."""
    rows = (
        InterimReview.objects.filter(measure__in=measures, fiscal_year=year)
        .values("status", "judged_grade")
        .annotate(n=Count("pk"))
        .order_by()
    )
    total = measures.count()
    by_grade, statuses = {}, {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + row["n"]
        if row["status"] == InterimReview.Status.CONFIRMED and row["judged_grade"]:
            by_grade[row["judged_grade"]] = by_grade.get(row["judged_grade"], 0) + row["n"]
    statuses["none"] = total - sum(statuses.values())
    meanings = grade_meanings(scale) | {NOT_CONFIRMED: "上期の進捗が未提出・未確定"}
    others = sorted(g for g in by_grade if g not in scale.letters)
    by_grade[NOT_CONFIRMED] = total - sum(by_grade.values())
    return [
        InterimCount(
            g,
            meanings.get(g, "評価の区分にない評価"),
            scale.colour(g),
            by_grade.get(g, 0),
            share(by_grade.get(g, 0), total),
        )
        for g in (*scale.letters, *others, NOT_CONFIRMED)
    ], statuses
