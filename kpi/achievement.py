"""達成度 and grades: the one function every page, export and API uses.

Rules (stated in README.md as well):
- 高いほど良い / 削減率（〇%減）/ 累計: 達成度 = 実績 ÷ 目標 × 100. A reduction target
  takes the reduction achieved (25 for "25%減") and a cumulative one the running
  total, so the same ratio applies. A 0 target is met by any actual.
- 低いほど良い (e.g. 0件): meeting the target (実績 ≤ 目標) is 100%; above it,
  目標 ÷ 実績 × 100, and with a 0 target any occurrence is 0%.
- 文章の目標: no ratio; the department judges the grade and gives a reason.
- 目標なし（「－」）: nothing to evaluate. No actual yet: 未入力.
Grades come from the plan's grading scheme (its GradeThresholds, or DEFAULT_THRESHOLDS): the
highest grade whose lower bound the 達成度 reaches. A plan graded by progress judgement
(Plan.grading_rule "judgement", e.g. 浜松市's A 目標より進んでいる … D 評価できない; DEFAULT_PROGRESS if it
lists no grades) takes the grade the 担当課 chose with a reason for every target; the 達成度 is still
worked out where the target is a number, for reference, and the approval confirms the grade.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from string import Formatter

from django.db.models import BigIntegerField, CharField, Count, F, Func, Min, OuterRef, Subquery, Sum
from django.db.models.functions import Cast

from .models import Direction

RATE, JUDGEMENT = "rate", "judgement"  # Plan.grading_rule
PRIMARY, LOWEST, MEAN = "primary", "lowest", "mean"  # Plan.overall_rule


@dataclass(frozen=True, slots=True)
class GradeDef:
    """One grade of a scheme (kpi.models.GradeThreshold)."""

    letter: str
    min_rate: Decimal | None = None
    label: str = ""
    colour: str = ""
    low: bool = False  # counted as needing a look (kpi.attention)


class Scale(tuple):
    """A plan's grading scheme: its grades best first, as the (letter, lower bound) pairs grade_for and GradeOf
    read, with ``grades`` (GradeDef: what each means, its colour, whether it needs a look) and ``rule``."""

    def __new__(cls, grades, rule=RATE, overall=PRIMARY):
        scale = super().__new__(cls, ((g.letter, g.min_rate) for g in grades))
        scale.grades, scale.rule, scale.overall = tuple(grades), rule, overall
        # read for every fact of a report (tens of thousands): worked out once here
        scale.low = frozenset(g.letter for g in grades if g.low)
        scale.colours = {g.letter: g.colour for g in grades}
        return scale

    @property
    def combines_indicators(self):
        """Whether a measure's year result combines all its indicators (Plan.overall_rule), not only the primary."""
        return self.by_rate and self.overall != PRIMARY

    def with_overall(self, overall):
        return Scale(self.grades, self.rule, overall)

    @property
    def by_rate(self):
        return self.rule == RATE

    @property
    def letters(self):
        return tuple(g.letter for g in self.grades)

    def colour(self, letter):
        return self.colours.get(letter, "")


DEFAULT_THRESHOLDS = Scale(
    (
        GradeDef("S", Decimal("110"), colour="teal"),
        GradeDef("A", Decimal("100"), colour="green"),
        GradeDef("B", Decimal("80"), colour="blue"),
        GradeDef("C", Decimal("60"), colour="orange", low=True),
        GradeDef("D", Decimal("0"), colour="red", low=True),
    )
)
# 浜松市DX推進計画 KPI進捗's progress scale, for a plan graded by judgement that lists no grades of its own.
DEFAULT_PROGRESS = Scale(
    (
        GradeDef("A", label="目標より進んでいる", colour="blue"),
        GradeDef("B", label="目標どおり", colour="green"),
        GradeDef("C", label="目標より遅れている", colour="orange", low=True),
        GradeDef("D", label="評価できない", colour="grey", low=True),
    ),
    JUDGEMENT,
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
    low: bool = False  # a grade the scheme counts as needing a look
    colour: str = ""  # the grade's colour in the scheme (kpi.models.GradeColour)

    @property
    def label(self):
        return LABELS[self.state]

    @property
    def rate_display(self):
        return "－" if self.rate is None else f"{self.rate}%"


def grade_scale(plan):
    """The plan's grading scheme, best grade first (one query, none if prefetched)."""
    rows = list(plan.grade_thresholds.all())
    if plan.grades_by_rate:  # best first is highest bound first, whatever the display order says
        rows = sorted((t for t in rows if t.min_rate is not None), key=lambda t: -t.min_rate)
    else:
        rows = sorted(rows, key=lambda t: (t.position, t.grade))
    grades = [GradeDef(t.grade, t.min_rate, t.label, t.colour, t.needs_attention) for t in rows]
    if plan.grades_by_rate:
        scale = Scale(grades) if grades else DEFAULT_THRESHOLDS
    else:
        scale = Scale(grades, JUDGEMENT) if grades else DEFAULT_PROGRESS
    return scale.with_overall(plan.overall_rule) if plan.overall_rule != PRIMARY else scale


def scale_of(plan):
    """grade_scale(plan), read once per Plan object: the forms of one page or file share their plan."""
    if "_scale" not in plan.__dict__:
        plan.__dict__["_scale"] = grade_scale(plan)
    return plan.__dict__["_scale"]


def grade_meanings(scale):
    """What each grade of a scale means: its label, else its range ({"S": "達成度110%以上", …, "D": "60%未満"})."""
    meanings = {}
    for index, (grade, minimum) in enumerate(scale):
        last = index == len(scale) - 1
        if scale.grades[index].label or minimum is None:
            meanings[grade] = scale.grades[index].label
        elif last and minimum == 0 and index:
            meanings[grade] = f"達成度{_percent(scale[index - 1][1])}未満"
        else:
            meanings[grade] = f"達成度{_percent(minimum)}以上"
    return meanings


def _percent(value):
    return f"{Decimal(value).normalize():f}%"


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
    if scale.rule != RATE:  # the 担当課's progress judgement, whatever the target; the 達成度 for reference
        rate = None if target_value is None or actual is None else achievement_rate(direction, target_value, actual)
        if judged_grade:
            return Assessment("judged", rate, judged_grade, judged_grade in scale.low, scale.colour(judged_grade))
        return Assessment("unjudged", rate)
    if target_value is None and not target_text:
        return Assessment("no_target")
    if target_value is None:
        if judged_grade:
            low, colour = judged_grade in scale.low, scale.colour(judged_grade)
            return Assessment("judged", grade=judged_grade, low=low, colour=colour)
        return Assessment("unjudged")
    if actual is None:
        return Assessment("missing")
    rate = achievement_rate(direction, target_value, actual)
    grade = grade_for(rate, scale)
    return Assessment("rated", rate, grade, grade in scale.low, scale.colour(grade))


# --- The same rule in SQL, for counting and filtering a whole plan in the database -------------------
#
# The dashboard and the measure list count and filter by grade without evaluating each row in Python.
# The 達成度 above is rounded to 0.1 and compared with thresholds of one decimal place, so in tenths of
# a percent everything is a whole number: with A and T the actual and target in hundredths (values have
# two decimal places and are never negative; the database keeps them so, kpi.models.in_hundredths),
# round_half_up(100·A/T, 1) in tenths is floor((2000·A + T) / 2T), integer division, exact on SQLite and
# PostgreSQL alike. kpi/tests/test_sql_grades.py checks that this and assess() agree on every shape and
# boundary.


class _Template(Func):
    """An SQL expression written as one template over a few operands (``{name}`` holes, each compiled
    once) and literal values (passed as parameters): a long CASE costs one compile, not one per node."""

    names = ()

    def __init__(self, template, *expressions, output_field, **literals):
        super().__init__(*expressions, output_field=output_field)
        self.sql_template, self.literals = template, literals

    def as_sql(self, compiler, connection, **extra_context):
        parts = dict(zip(self.names, map(compiler.compile, self.get_source_expressions()), strict=True))
        parts.update((name, ("%s", [value])) for name, value in self.literals.items())
        sql, params = [], []
        for text, name, _spec, _conversion in Formatter().parse(self.sql_template):
            sql.append(text)
            if name is not None:
                part, part_params = parts[name]
                sql.append(f"({part})")
                params.extend(part_params)
        return "".join(sql), params


class RateTenths(_Template):
    """achievement_rate × 10 over columns (names relative to the queryset; target and actual in hundredths);
    NULL where there is no numeric target or no actual."""

    names = ("direction", "target", "actual")
    TEMPLATE = (
        "CASE WHEN {target} IS NULL OR {actual} IS NULL THEN NULL "
        "WHEN {direction} = {lower} AND {actual} <= {target} THEN 1000 "
        "WHEN {direction} = {lower} AND {target} = 0 THEN 0 "
        "WHEN {direction} = {lower} THEN (2000 * {target} + {actual}) / (2 * {actual}) "
        "WHEN {target} = 0 THEN 1000 "
        "ELSE (2000 * {actual} + {target}) / (2 * {target}) END"
    )

    def __init__(self, direction, target, actual):
        operands = F(direction), F(target), F(actual)
        super().__init__(self.TEMPLATE, *operands, output_field=BigIntegerField(), lower=Direction.LOWER.value)


class GradeOf(_Template):
    """assess(...).grade ("" where assess gives none): the same states in the same order, then grade_for
    over the scale in tenths (target value and actual in hundredths, as RateTenths)."""

    names = ("value", "text", "actual", "judged", "rate")

    def __init__(self, scale, direction, target_value, target_text, actual, judged_grade):
        if not scale.by_rate:  # the judged grade, whatever the target (assess)
            operands = F(target_value), F(target_text), F(actual), F(judged_grade)
            rate = RateTenths(direction, target_value, actual)
            super().__init__("COALESCE({judged}, '')", *operands, rate, output_field=CharField())
            return
        thresholds, grades = _thresholds(scale)
        template = (
            "CASE WHEN {value} IS NULL AND ({text} IS NULL OR {text} = '') THEN '' "
            "WHEN {value} IS NULL THEN COALESCE({judged}, '') "
            f"WHEN {{actual}} IS NULL THEN '' {thresholds}"
        )
        operands = F(target_value), F(target_text), F(actual), F(judged_grade)
        rate = RateTenths(direction, target_value, actual)
        super().__init__(template, *operands, rate, output_field=CharField(), **grades)


def _thresholds(scale):
    """grade_for() in SQL over a ``{rate}`` operand in tenths: the CASE's closing branches (WHEN … ELSE the
    lowest END), and the grades as literal parameters."""
    branches = "".join(
        f"WHEN {{rate}} >= {int(minimum * 10)} THEN {{grade{i}}} " for i, (_, minimum) in enumerate(scale)
    )
    grades = {f"grade{i}": grade for i, (grade, _) in enumerate(scale)}
    return f"{branches}ELSE {{lowest}} END", {**grades, "lowest": scale[-1][0]}


def combined(primary, others, scale):
    """A measure's year result from its indicators' (Plan.overall_rule): the primary indicator's, or, in a plan
    graded by 達成度, the lowest or the mean 達成度 of those with one (the mean in tenths, half up, as
    average_of_tenths), graded by the scale. Without any 達成度: the primary's (judged, 目標なし, 未入力)."""
    if not scale.combines_indicators:
        return primary
    rates = [a.rate for a in (primary, *others) if a.rate is not None]
    if not rates:
        return primary
    rate = min(rates) if scale.overall == LOWEST else average_of_tenths(sum(int(r * 10) for r in rates), len(rates))
    grade = grade_for(rate, scale)
    return Assessment("rated", rate, grade, grade in scale.low, scale.colour(grade))


class CombinedRateTenths(_Template):
    """combined()'s 達成度 × 10 in SQL: the primary rate (RateTenths) with the measure's other indicators' rates
    in ``year`` (kpi.models.IndicatorYear, correlated subqueries): the lowest, or the mean in tenths half up."""

    names = ("primary", "low", "total", "count")
    LOWEST = (
        "CASE WHEN {primary} IS NULL THEN {low} WHEN {low} IS NULL OR {primary} <= {low} THEN {primary} ELSE {low} END"
    )
    N = "(COALESCE({count}, 0) + CASE WHEN {primary} IS NULL THEN 0 ELSE 1 END)"
    SUM = "(COALESCE({total}, 0) + COALESCE({primary}, 0))"
    MEAN = f"CASE WHEN {N} = 0 THEN NULL ELSE (2 * {SUM} + {N}) / (2 * {N}) END"

    def __init__(self, scale, primary, year):
        from .models import IndicatorYear

        rates = (
            IndicatorYear.objects.filter(measure=OuterRef("pk"), fiscal_year=year)
            .annotate(r=RateTenths("indicator__direction", "target_hundredths", "actual_hundredths"))
            .order_by()  # no default ordering's joins
            .values("measure")
        )
        low = Subquery(rates.annotate(v=Min("r")).values("v")[:1])
        # PostgreSQL sums a bigint as numeric: cast back, so that the mean below divides as integers
        total = Subquery(rates.annotate(v=Cast(Sum("r"), BigIntegerField())).values("v")[:1])
        count = Subquery(rates.annotate(v=Count("r")).values("v")[:1])
        template = self.LOWEST if scale.overall == LOWEST else self.MEAN
        super().__init__(template, primary, low, total, count, output_field=BigIntegerField())


class CombinedGrade(_Template):
    """combined()'s grade in SQL: by the scale from the combined rate, else the primary indicator's grade."""

    names = ("rate", "primary")

    def __init__(self, scale, rate, primary_grade):
        thresholds, grades = _thresholds(scale)
        template = f"CASE WHEN {{rate}} IS NULL THEN {{primary}} {thresholds}"
        super().__init__(template, rate, primary_grade, output_field=CharField(), **grades)


def average_of_tenths(total, count):
    """The mean 達成度 (as Summary.average_rate) from a sum of rates in tenths and their count."""
    if not count:
        return None
    return (Decimal(total) / 10 / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


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
    if scale.by_rate and (kgi is None or (kgi.target is None and not kgi.target_text)):
        return KgiResult(Assessment("no_target"))
    if kgi is None or kgi.target is None or not scale.by_rate:  # judged: a text KGI, or a plan graded so
        judged = {y: grade for y, (_, grade) in years.items() if grade}
        if not judged:
            return KgiResult(Assessment("unjudged"))
        year = max(judged)
        grade = judged[year]
        assessment = Assessment("judged", grade=grade, low=grade in scale.low, colour=scale.colour(grade))
        return KgiResult(assessment, None, year, year != end_year)
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
    grade = grade_for(rate, scale)
    assessment = Assessment("rated", rate, grade, grade in scale.low, scale.colour(grade))
    return KgiResult(assessment, value, year, provisional)
