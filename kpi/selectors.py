"""Reads for the PDCA pages; each returns plain data so templates make no queries."""

from .models import MeasureYear


def submitted_records(plan, year):
    """Submitted measure-years awaiting approval, for bulk approval (a queryset, to be paged)."""
    return (
        MeasureYear.objects.filter(measure__plan=plan, fiscal_year=year, status=MeasureYear.Status.SUBMITTED)
        .only("pk", "measure_id", "version", "submitted_at")
        .order_by("measure__code", "pk")
    )
