"""The lock in the database: an approved measure-year's record, targets and costs cannot change.

kpi.workflow refuses these writes with a message; these triggers refuse them again for any path
that forgot the door. Reopening (status approved → draft) stays possible: it is the workflow's step.
"""

from initiatives.db import Trigger, distinct

from .models import BarStatus, InterimReview, MeasureYear

LOCKED = "measure-year is approved (locked)"


def _approved(row, measure_column="measure_id"):
    table = MeasureYear._meta.db_table
    return (
        f"EXISTS (SELECT 1 FROM {table} y WHERE y.measure_id = {row}.{measure_column} "
        f"AND y.fiscal_year = {row}.fiscal_year AND y.status = '{MeasureYear.Status.APPROVED}')"
    )


def plan_row_lock(name, model):
    """A year's target or cost row (measure, fiscal_year) is frozen while its measure-year is approved."""
    column = model._meta.get_field("measure").column
    return Trigger(
        name,
        model,
        {
            "INSERT": _approved("NEW", column),
            "UPDATE": f"({_approved('OLD', column)} OR {_approved('NEW', column)})",
            "DELETE": _approved("OLD", column),
        },
        LOCKED,
    )


def _entries_changed(model, vendor):
    """SQL: the row's measure, year or any of its ENTRY_FIELDS differ between OLD and NEW."""
    columns = [model._meta.get_field(f).column for f in ("measure", "fiscal_year", *model.ENTRY_FIELDS)]
    return " OR ".join(distinct(f"OLD.{c}", f"NEW.{c}", vendor) for c in columns)


def record_lock(vendor):
    """An approved record keeps its figures and stays; only its workflow columns may change (reopen),
    and reopening changes nothing else in the same write."""
    approved = f"'{MeasureYear.Status.APPROVED}'"
    changed = _entries_changed(MeasureYear, vendor)
    return Trigger(
        "measure_year_lock",
        MeasureYear,
        {
            "UPDATE": f"(OLD.status = {approved} AND ({changed}))",
            "DELETE": f"OLD.status = {approved}",
        },
        LOCKED,
    )


def bar_status_lock():
    """The schedule progress reported in an approved record stays as approved."""
    table = MeasureYear._meta.db_table
    column = BarStatus._meta.get_field("measure_year").column

    def approved(row):
        return (
            f"EXISTS (SELECT 1 FROM {table} y WHERE y.id = {row}.{column} "
            f"AND y.status = '{MeasureYear.Status.APPROVED}')"
        )

    return Trigger(
        "bar_status_lock",
        BarStatus,
        {
            "INSERT": approved("NEW"),
            "UPDATE": f"({approved('OLD')} OR {approved('NEW')})",
            "DELETE": approved("OLD"),
        },
        LOCKED,
    )


def interim_lock(vendor):
    """A confirmed 上期 report keeps what it says (only its workflow columns may change: reopening), and no
    report of an approved year is written at all."""
    confirmed = f"'{InterimReview.Status.CONFIRMED}'"
    changed = _entries_changed(InterimReview, vendor)
    return Trigger(
        "interim_review_lock",
        InterimReview,
        {
            "INSERT": _approved("NEW"),
            "UPDATE": f"((OLD.status = {confirmed} AND ({changed})) OR {_approved('OLD')} OR {_approved('NEW')})",
            "DELETE": f"(OLD.status = {confirmed} OR {_approved('OLD')})",
        },
        LOCKED,
    )
