"""Why a measure needs a look, and the overdue rule: one function per reason."""

from django.db.models import Q

from initiatives.fiscal import fiscal_year_closed

from .models import MeasureYear

STAGES = ("P", "D", "C", "A")
ATTENTION = {
    "delayed": "スケジュール遅延",
    "low_grade": "低い評価",
    "not_entered": "未入力（期限超過）",
    "returned": "差戻し",
}


def record_state(record, overdue=False):
    """(key, label) of a measure-year's state as every page shows it; ``record`` may be None (nothing yet)."""
    if record is not None and record.is_locked:
        return "approved", "承認済み（ロック）"
    if record is not None and record.status in (MeasureYear.Status.SUBMITTED, MeasureYear.Status.RETURNED):
        return record.status, record.get_status_display()
    if record is not None and record.has_actuals:
        return "draft", MeasureYear.Status.DRAFT.label
    if overdue:
        return "overdue", ATTENTION["not_entered"]
    return "none", "未入力"


def is_overdue(year, entered, today):
    """Overdue: the fiscal year has closed and no actuals were entered."""
    return fiscal_year_closed(year, today) and not entered


def needs(fact, key):
    """Why a measure needs attention; one rule per key of ATTENTION."""
    if key == "delayed":
        return fact.delayed
    if key == "low_grade":
        return fact.assessment.low  # the plan's scheme marks the grade (kpi.achievement.Scale.low)
    if key == "not_entered":
        return fact.overdue
    if key == "returned":
        return fact.status == MeasureYear.Status.RETURNED
    raise ValueError(key)


def reasons(fact):
    """The ATTENTION keys that apply to a fact, in ATTENTION's order."""
    return tuple(key for key in ATTENTION if needs(fact, key))


def attention_sql(overdue_if_not_entered, low_grades):
    """needs() as conditions on kpi.facts.classified() rows, key by key; ``overdue_if_not_entered``:
    whether the year has closed (is_overdue for a row without actuals); ``low_grades``: the scheme's (Scale.low)."""
    return {
        "delayed": Q(delayed=True),
        "low_grade": Q(grade__in=sorted(low_grades)),
        "not_entered": Q(entered=False) if overdue_if_not_entered else Q(pk=None),
        "returned": Q(status=MeasureYear.Status.RETURNED),
    }
