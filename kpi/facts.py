"""One row of facts per measure and fiscal year: what the dashboard, the measure
list and the hearing reports are computed from.

Fetched with a fixed number of queries (values, not model instances) whatever
the number of measures, then evaluated with kpi.achievement.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import FilteredRelation, Max, Q
from django.urls import reverse
from django.utils import timezone

from initiatives.fiscal import fiscal_year_closed, fiscal_year_of

from .achievement import assess, grade_scale
from .models import BarStatus, Direction, MeasureYear, has_actuals, kpi_text, pdca_stage

GRADES = ("S", "A", "B", "C", "D")
STAGES = ("P", "D", "C", "A")
LOW_GRADES = ("C", "D")
ATTENTION = {
    "delayed": "スケジュール遅延",
    "low_grade": "評価C・D",
    "not_entered": "未入力（期限超過）",
    "returned": "差戻し",
}


@dataclass(slots=True)
class Fact:
    measure_id: int
    code: str
    name: str
    url_parts: tuple  # (before, after) the code in the measure page's URL, shared by all facts of a plan
    policy_id: int
    policy_label: str
    initiative_id: int
    initiative_label: str
    department_id: int | None
    department_name: str
    unit: str
    year: int
    target_value: Decimal | None = None
    target_text: str = ""
    target_note: str = ""
    actual: Decimal | None = None
    actual_text: str = ""
    planned_cost: int | None = None
    actual_cost: int | None = None
    status: str = MeasureYear.Status.DRAFT
    stage: str = "P"
    entered: bool = False
    evaluation_comment: str = ""
    improvement: str = ""
    improvement_text: str = ""
    overdue: bool = False
    delayed: bool = False
    assessment: object = None
    attention: tuple = ()  # the ATTENTION keys that apply, worked out once

    @property
    def grade(self):
        return self.assessment.grade

    def target_display(self):
        return kpi_text(self.target_value, self.target_text, self.unit, self.target_note)

    def actual_display(self):
        return kpi_text(self.actual, self.actual_text, self.unit)

    @property
    def url(self):
        return f"{self.url_parts[0]}{self.code}{self.url_parts[1]}"

    @property
    def reasons(self):
        return [ATTENTION[key] for key in self.attention]


def is_overdue(year, entered, today):
    """Overdue: the fiscal year has closed and no actuals were entered."""
    return fiscal_year_closed(year, today) and not entered


def needs(fact, key):
    """Why a measure needs attention; one rule per key of ATTENTION."""
    if key == "delayed":
        return fact.delayed
    if key == "low_grade":
        return fact.assessment.grade in LOW_GRADES
    if key == "not_entered":
        return fact.overdue
    if key == "returned":
        return fact.status == MeasureYear.Status.RETURNED
    raise ValueError(key)


def default_year(plan, today=None):
    """The latest year with entered actuals, else the current fiscal year within the plan."""
    entered = (
        Q(kpi_actual__isnull=False) | ~Q(kpi_actual_text="") | Q(actual_cost__isnull=False) | ~Q(work_done="")
    )  # the has_actuals() rule, as a filter
    latest = MeasureYear.objects.filter(entered, measure__plan=plan).aggregate(year=Max("fiscal_year"))["year"]
    if latest:
        return latest
    current = fiscal_year_of(today or timezone.localdate())
    return min(max(current, plan.start_year), plan.end_year)


MEASURE_COLUMNS = (
    "pk",
    "code",
    "name",
    "initiative__policy_id",
    "initiative__policy__numeral",
    "initiative__policy__title",
    "initiative_id",
    "initiative__number",
    "initiative__title",
    "department_id",
    "department__name",
    "department__is_sample",
    "kgi__unit",
    "kgi__direction",
)
YEAR_COLUMNS = (
    "t__value",
    "t__text",
    "t__note",
    "c__amount",
    "y__kpi_actual",
    "y__kpi_actual_text",
    "y__judged_grade",
    "y__actual_cost",
    "y__work_done",
    "y__evaluation_comment",
    "y__improvement",
    "y__improvement_text",
    "y__status",
    "y__id",
)


def _year_rows(measures, year):
    """The measures with that year's target, planned cost and record joined in: one query a year."""
    return measures.annotate(
        t=FilteredRelation("kpi_targets", condition=Q(kpi_targets__fiscal_year=year)),
        c=FilteredRelation("planned_costs", condition=Q(planned_costs__fiscal_year=year)),
        y=FilteredRelation("years", condition=Q(years__fiscal_year=year)),
    ).values_list(*MEASURE_COLUMNS, *YEAR_COLUMNS)


def measure_facts(plan, years, measures, today=None):
    """Facts for the given Measure queryset in each of `years`, measure by measure in plan order.

    Queries: one per year (measures with that year's target, cost and record
    joined), one for delayed schedule bars, one for the grade thresholds.
    """
    today = today or timezone.localdate()
    years = list(years)
    scale = grade_scale(plan)
    measures = measures.order_by("initiative__policy__number", "initiative__number", "ordinal")
    delayed = set(
        BarStatus.objects.filter(
            measure_year__measure__plan=plan, measure_year__fiscal_year__in=years, state=BarStatus.State.DELAYED
        ).values_list("measure_year__measure_id", "measure_year__fiscal_year")
    )
    # the measure code is the URL's last part, so split there (a plan code may contain anything)
    url_parts = tuple(reverse("measure_detail", args=[plan.code, "CODE"]).rsplit("CODE", 1))
    labels = {}  # policy/initiative/department labels, formatted once each

    def label(key, make):
        if key not in labels:
            labels[key] = make()
        return labels[key]

    by_year = {}
    for year in years:
        facts = by_year[year] = []
        for row in _year_rows(measures, year):
            (
                pk,
                code,
                name,
                pol_id,
                numeral,
                pol_title,
                ini_id,
                ini_no,
                ini_title,
                dep_id,
                dep,
                sample,
                unit,
                dire,
                value,
                text,
                note,
                planned,
                actual,
                actual_text,
                judged,
                cost,
                work,
                comment,
                improvement,
                improvement_text,
                status,
                record_id,
            ) = row
            entered = record_id is not None and has_actuals(actual, actual_text, cost, work)
            overdue = is_overdue(year, entered, today)
            fact = Fact(
                pk,
                code,
                name,
                url_parts,
                pol_id,
                label(("p", pol_id), lambda: f"基本方針{numeral} {pol_title}"),  # noqa: B023 (called at once)
                ini_id,
                label(("i", ini_id), lambda: f"取組{ini_no}：{ini_title}"),  # noqa: B023
                dep_id,
                label(("d", dep_id), lambda: f"{dep}（サンプル）" if sample else (dep or "")),  # noqa: B023
                unit or "",
                year,
                value,
                text or "",
                note or "",
                actual,
                actual_text or "",
                planned,
                cost,
                status or MeasureYear.Status.DRAFT,
                pdca_stage(entered, comment, improvement),
                entered,
                comment or "",
                improvement or "",
                improvement_text or "",
                overdue,
                (pk, year) in delayed,
                assess(dire or Direction.HIGHER, value, text, actual, judged or "", scale),
            )
            fact.attention = tuple(key for key in ATTENTION if needs(fact, key))
            facts.append(fact)
    # measure by measure, its years in order (the hearing sheet's rows)
    return [fact for group in zip(*(by_year[y] for y in years), strict=True) for fact in group]


def filter_facts(facts, grade="", stage="", attention=""):
    """The computed filters (grade, stage, attention); SQL-side ones narrow the measures first."""
    if grade:
        facts = [f for f in facts if (f.assessment.grade or "none") == grade]
    if stage:
        facts = [f for f in facts if f.stage == stage]
    if attention == "any":
        facts = [f for f in facts if f.attention]
    elif attention:
        facts = [f for f in facts if attention in f.attention]
    return facts


def execution_rate(actual, planned):
    """執行率 (%): actual ÷ planned; None where nothing was planned or nothing spent is recorded."""
    if not planned or actual is None:
        return None
    return (Decimal(actual) / Decimal(planned) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Summary:
    """Counts and sums over a group of facts (a plan, a policy or an initiative)."""

    label: str
    level: str
    key: dict = field(default_factory=dict)  # the filter that lists these measures
    measures: int = 0
    stages: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    grades: Counter = field(default_factory=Counter)
    attention: Counter = field(default_factory=Counter)
    rates: list = field(default_factory=list)
    planned: int = 0
    actual: int | None = None  # None until some actual cost is recorded: "－", not 0

    def add(self, fact):
        self.measures += 1
        self.stages[fact.stage] += 1
        self.statuses[fact.status] += 1
        self.grades[fact.assessment.grade or "none"] += 1
        for key in fact.attention:
            self.attention[key] += 1
        if fact.assessment.rate is not None:
            self.rates.append(fact.assessment.rate)
        self.planned += fact.planned_cost or 0
        if fact.actual_cost is not None:
            self.actual = (self.actual or 0) + fact.actual_cost

    def merge(self, other):
        """Add another summary's counts and sums into this one."""
        self.measures += other.measures
        self.stages.update(other.stages)
        self.statuses.update(other.statuses)
        self.grades.update(other.grades)
        self.attention.update(other.attention)
        self.rates.extend(other.rates)
        self.planned += other.planned
        if other.actual is not None:
            self.actual = (self.actual or 0) + other.actual

    @property
    def average_rate(self):
        """Mean 達成度 of the measures with a computed rate."""
        if not self.rates:
            return None
        return (sum(self.rates) / len(self.rates)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

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
        return [(g, self.grades[g]) for g in (*GRADES, "none")]


def summarise(plan, facts):
    """The plan total, then each policy followed by its initiatives.

    Facts are added once, to their initiative; policies and the total are
    the sums of those (three times fewer additions on a large plan).
    """
    initiatives, order, policy_labels = {}, defaultdict(list), {}
    for fact in facts:
        if fact.initiative_id not in initiatives:
            initiatives[fact.initiative_id] = Summary(
                fact.initiative_label, "initiative", {"initiative": fact.initiative_id}
            )
            order[fact.policy_id].append(fact.initiative_id)
            policy_labels[fact.policy_id] = fact.policy_label
        initiatives[fact.initiative_id].add(fact)
    total = Summary(plan.title, "plan")
    rows = [total]
    for policy_id, members in order.items():
        policy = Summary(policy_labels[policy_id], "policy", {"policy": policy_id})
        for initiative_id in members:
            policy.merge(initiatives[initiative_id])
        total.merge(policy)
        rows.append(policy)
        rows.extend(initiatives[i] for i in members)
    return rows


def default_plan(plans):
    """The plan whose records were entered last, else the newest plan."""
    latest = MeasureYear.objects.order_by("-fiscal_year", "-pk").values_list("measure__plan_id", flat=True).first()
    return next((p for p in plans if p.pk == latest), plans[0] if plans else None)
