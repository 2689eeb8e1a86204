"""達成度 and grades: the one function every page, export and API uses.

Rules (stated in README.md as well):
- 高いほど良い / 削減率（〇%減）/ 累計: 達成度 = 実績 ÷ 目標 × 100. A reduction target
  takes the reduction achieved (25 for "25%減") and a cumulative one the running
  total, so the same ratio applies. A 0 target is met by any actual.
- 低いほど良い (e.g. 0件): meeting the target (実績 ≤ 目標) is 100%; above it,
  目標 ÷ 実績 × 100, and with a 0 target any occurrence is 0%.
- 文章の目標: no ratio; the department judges the grade and gives a reason.
- 目標なし（「－」）: nothing to evaluate. No actual yet: 未入力.
Grades come from the plan's GradeThresholds (or DEFAULT_THRESHOLDS): the
highest grade whose lower bound the 達成度 reaches.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .models import Direction

DEFAULT_THRESHOLDS = (
    ("S", Decimal("110")),
    ("A", Decimal("100")),
    ("B", Decimal("80")),
    ("C", Decimal("60")),
    ("D", Decimal("0")),
)
HUNDRED = Decimal(100)


LABELS = {
    "rated": "",
    "judged": "担当課の判定",
    "unjudged": "判定待ち",
    "missing": "未入力",
    "no_target": "目標なし",
}


@dataclass(slots=True)
class Assessment:
    state: str  # "rated", "judged", "unjudged", "missing", "no_target"
    rate: Decimal | None = None  # 達成度 in %, one decimal
    grade: str = ""

    @property
    def label(self):
        return LABELS[self.state]

    @property
    def rate_display(self):
        return "－" if self.rate is None else f"{self.rate}%"


def grade_scale(plan):
    """The plan's thresholds, highest first (one query, none if prefetched)."""
    rows = sorted(((t.grade, t.min_rate) for t in plan.grade_thresholds.all()), key=lambda r: -r[1])
    return tuple(rows) or DEFAULT_THRESHOLDS


def achievement_rate(direction, target, actual):
    target, actual = Decimal(target), Decimal(actual)
    if direction == Direction.LOWER:
        if actual <= target:
            rate = HUNDRED
        elif target == 0:
            rate = Decimal(0)
        else:
            rate = target / actual * HUNDRED
    elif target == 0:
        rate = HUNDRED
    else:
        rate = actual / target * HUNDRED
    return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def grade_for(rate, scale=DEFAULT_THRESHOLDS):
    for grade, minimum in scale:
        if rate >= minimum:
            return grade
    return scale[-1][0]


def assess(direction, target_value, target_text, actual, judged_grade="", scale=DEFAULT_THRESHOLDS):
    """Evaluate one year (or the KGI) of one measure.

    target_value/target_text: the target (both empty for the plan's "－").
    actual: the numeric actual or None. judged_grade: the department's grade
    for a text target.
    """
    if target_value is None and not target_text:
        return Assessment("no_target")
    if target_value is None:
        return Assessment("judged", grade=judged_grade) if judged_grade else Assessment("unjudged")
    if actual is None:
        return Assessment("missing")
    rate = achievement_rate(direction, target_value, actual)
    return Assessment("rated", rate, grade_for(rate, scale))


def assess_year(kgi, target, record, scale=DEFAULT_THRESHOLDS):
    """assess() for a KpiTarget and MeasureYear (either may be None)."""
    return assess(
        kgi.direction if kgi else Direction.HIGHER,
        target.value if target else None,
        target.text if target else "",
        record.kpi_actual if record else None,
        record.judged_grade if record else "",
        scale,
    )


# --- The KGI over the whole plan period (the final evaluation, 総括) ---------------------------------
#
# The KGI is 「計画期間全体における個別施策の達成度を測る指標」. What the period reached, by shape:
# - 高いほど良い, 累計, 削減率: the value at the end of the period, i.e. the final year's actual (a
#   cumulative KGI's running total, a reduction KGI's reduction achieved). If the final year has no
#   actual yet, the latest year that has one, marked provisional (暫定, "R6時点").
# - 低いほど良い (件数 such as 事故 0件): the worst year of the period, i.e. the largest yearly actual,
#   since one year over the target means the period did not keep it.
# - 文章の目標: the department's judgement of the final year (or the latest judged year, provisional).
# The 達成度 and grade then come from achievement_rate and grade_for, as for any year.


@dataclass(slots=True)
class KgiResult:
    assessment: Assessment
    value: Decimal | None = None  # what the period reached (None for a text KGI)
    basis_year: int | None = None  # the year that value (or judgement) comes from
    provisional: bool = False  # the final year is not recorded yet


def kgi_result(kgi, years, end_year, scale=DEFAULT_THRESHOLDS):
    """The KGI's achievement over the period. ``years``: {fiscal year: (kpi_actual, judged_grade)} of the
    recorded years of the period (a record without a KPI actual may be left out)."""
    if kgi is None or (kgi.target is None and not kgi.target_text):
        return KgiResult(Assessment("no_target"))
    if kgi.target is None:  # a text KGI, judged
        judged = {y: grade for y, (_, grade) in years.items() if grade}
        if not judged:
            return KgiResult(Assessment("unjudged"))
        year = max(judged)
        return KgiResult(Assessment("judged", grade=judged[year]), None, year, year != end_year)
    recorded = {y: value for y, (value, _) in years.items() if value is not None}
    if not recorded:
        return KgiResult(Assessment("missing"))
    if kgi.direction == Direction.LOWER:
        year = max(recorded, key=lambda y: (recorded[y], y))  # the worst year (the latest of equals)
        provisional = end_year not in recorded
    else:
        year = max(recorded)
        provisional = year != end_year
    value = recorded[year]
    rate = achievement_rate(kgi.direction, kgi.target, value)
    return KgiResult(Assessment("rated", rate, grade_for(rate, scale)), value, year, provisional)
