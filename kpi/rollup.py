"""The roll-up: counts and sums of a year's measures per plan, 基本方針 and 取組 (dashboard, PDCA page).

The database counts each initiative's measures (kpi.facts.classified); policies and the plan total are
sums of those.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import F
from django.utils import timezone

from initiatives.fiscal import add_amount, counted

from .achievement import Assessment, average_of_tenths, grade_scale
from .attention import STAGES, is_overdue, reasons


def execution_rate(actual, planned):
    """執行率 (%): actual ÷ planned; None where nothing was planned or nothing spent is recorded."""
    if not planned or actual is None:
        return None
    return (Decimal(actual) / Decimal(planned) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def share(count, total):
    """A count's share of the total (%), one decimal, half up; None of nothing."""
    if not total:
        return None
    return (Decimal(count) * 100 / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Summary:
    """Counts and sums over a group of measure-years (a plan, a policy or an initiative)."""

    label: str
    level: str
    key: dict = field(default_factory=dict)  # the filter that lists these measures
    letters: tuple = ()  # the plan's grades, best first (kpi.achievement.Scale.letters)
    measures: int = 0
    stages: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    grades: Counter = field(default_factory=Counter)
    attention: Counter = field(default_factory=Counter)
    needing_attention: int = 0  # measures with any reason
    rate_tenths: int = 0  # the sum of the rated measures' 達成度, in tenths of a percent
    rated: int = 0
    planned: int = 0
    actual: int | None = None  # None until some actual cost is recorded: "－", not 0

    def merge(self, other):
        """Add another summary's counts and sums into this one."""
        self.measures += other.measures
        self.stages.update(other.stages)
        self.statuses.update(other.statuses)
        self.grades.update(other.grades)
        self.attention.update(other.attention)
        self.needing_attention += other.needing_attention
        self.rate_tenths += other.rate_tenths
        self.rated += other.rated
        self.planned += other.planned
        self.actual = add_amount(self.actual, other.actual)

    @property
    def average_rate(self):
        """Mean 達成度 of the measures with a computed rate."""
        return average_of_tenths(self.rate_tenths, self.rated)

    @property
    def execution_rate(self):
        return execution_rate(self.actual, self.planned)

    @property
    def overdue(self):
        return self.attention["not_entered"]

    @property
    def stage_counts(self):
        return [(s, self.stages[s]) for s in STAGES]

    @property
    def grade_counts(self):
        others = sorted(g for g, n in self.grades.items() if n and g not in self.letters and g != "none")
        return [(g, self.grades[g]) for g in (*self.letters, *others, "none")]  # others: no longer in the scheme

    @property
    def grade_shares(self):
        """(grade, count, share of the measures) for each grade of the scheme and "none"."""
        return [(g, n, share(n, self.measures)) for g, n in self.grade_counts]


@dataclass(slots=True)
class _Group:
    """What kpi.attention.needs reads of a fact, for a group of measures classified alike."""

    delayed: bool
    overdue: bool
    status: str
    assessment: Assessment


# Each measure's classification (kpi.facts.classified), then its initiative and the sums.
CLASS_COLUMNS = {
    "grade": F("grade"),
    "stage": F("stage"),
    "status": F("status"),
    "delayed": F("delayed"),
    "entered": F("entered"),
    "rate10": F("rate10"),
    "planned": F("c__amount"),
    "actual": F("y__actual_cost"),
}
INITIATIVE_COLUMNS = ("initiative_id", "initiative__number", "initiative__title")
POLICY_COLUMNS = ("initiative__policy_id", "initiative__policy__numeral", "initiative__policy__title")
ORDER_COLUMNS = ("initiative__policy__number",)


def _grouped(rows):
    """(initiative and policy columns, grade, stage, status, delayed, entered, count, sum and count of the
    rates in tenths, planned and actual cost sums) per initiative and classification, in plan order.

    The classification is worked out once per measure: the rows are materialised first (a CTE, which
    SQLite and PostgreSQL both compute once), then grouped. Grouping the queryset directly would repeat
    each CASE in the SELECT and the GROUP BY, about 3× the time at 5,000 measures (bench/run.py).
    """
    columns = (*INITIATIVE_COLUMNS, *POLICY_COLUMNS, *ORDER_COLUMNS)
    names = {f"row_{name}": expression for name, expression in CLASS_COLUMNS.items()}
    inner = rows.annotate(**names).values(*columns, *names).order_by()
    sql, params = inner.query.sql_with_params()
    keys = ", ".join(f"c{i}" for i in range(len(columns)))
    aliases = ", ".join([*(f"c{i}" for i in range(len(columns))), *names])
    query = (
        f"WITH classified ({aliases}) AS MATERIALIZED ({sql}) "  # Django's SQL, with its params
        f"SELECT {keys}, row_grade, row_stage, row_status, row_delayed, row_entered, COUNT(*), "
        "SUM(row_rate10), COUNT(row_rate10), SUM(row_planned), SUM(row_actual) FROM classified "
        f"GROUP BY {keys}, row_grade, row_stage, row_status, row_delayed, row_entered "
        f"ORDER BY c{len(columns) - 1}, c1"  # policy number, initiative number
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def summarise(plan, year, rows, today=None, scale=None):
    """The plan total, then each policy followed by its initiatives, for one year's classified measures
    (kpi.facts.classified, filtered or not; ``today`` as given to it).

    The database groups the measures by initiative and classification and counts and sums each group
    (one query, a few rows per initiative); which reasons for attention a group has is decided by
    kpi.attention, as for a single measure. Policies and the total are the sums of their initiatives.
    """
    today = today or timezone.localdate()
    scale = scale or grade_scale(plan)
    letters = scale.letters
    total = Summary(plan.title, "plan", letters=letters)
    out = [total]
    policy = initiative = None
    policy_of = {}
    for row in _grouped(rows):
        (initiative_id, number, title, policy_id, numeral, policy_title, _order, *classes) = row
        grade, stage, status, delayed, entered, n, rate_sum, rated, planned, actual = classes
        if policy is None or policy.key["policy"] != policy_id:
            policy = Summary(plan.policy_label(numeral, policy_title), "policy", {"policy": policy_id}, letters)
            out.append(policy)
        if initiative is None or initiative.key["initiative"] != initiative_id:
            initiative = Summary(
                plan.initiative_label(number, title), "initiative", {"initiative": initiative_id}, letters
            )
            policy_of[initiative_id] = policy
            out.append(initiative)
        assessment = Assessment("", grade=grade, low=grade in scale.low)
        group = _Group(bool(delayed), is_overdue(year, bool(entered), today), status, assessment)
        initiative.measures += n
        initiative.stages[stage] += n
        initiative.statuses[status] += n
        initiative.grades[grade or "none"] += n
        for key in reasons(group):
            initiative.attention[key] += n
        initiative.needing_attention += n if reasons(group) else 0
        initiative.rate_tenths += int(rate_sum or 0)
        initiative.rated += rated
        initiative.planned += counted(planned)
        initiative.actual = add_amount(initiative.actual, actual)
    for row in out[1:]:
        if row.level == "initiative":
            policy_of[row.key["initiative"]].merge(row)
    for row in out[1:]:
        if row.level == "policy":
            total.merge(row)
    return out
