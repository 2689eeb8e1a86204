"""The roll-up: counts and sums of a year's measures per plan, 基本方針 and 取組 (dashboard, PDCA page).

The database counts each initiative's measures (kpi.facts.classified); policies and the plan total are
sums of those.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum

from initiatives.fiscal import add_amount, counted

from .achievement import average_of_tenths
from .attention import ATTENTION, GRADES, STAGES
from .facts import needing_attention
from .models import MeasureYear

STATUSES = MeasureYear.Status.values


def execution_rate(actual, planned):
    """執行率 (%): actual ÷ planned; None where nothing was planned or nothing spent is recorded."""
    if not planned or actual is None:
        return None
    return (Decimal(actual) / Decimal(planned) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Summary:
    """Counts and sums over a group of measure-years (a plan, a policy or an initiative)."""

    label: str
    level: str
    key: dict = field(default_factory=dict)  # the filter that lists these measures
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
        return [(g, self.grades[g]) for g in (*GRADES, "none")]


def _count(condition):
    return Count("pk", filter=condition)


def summarise(plan, rows):
    """The plan total, then each policy followed by its initiatives, for one year's classified measures
    (kpi.facts.classified, filtered or not).

    Counted and summed in the database (one query, one row per initiative); policies and the total are
    the sums of their initiatives.
    """
    rows = (
        rows.values(
            "initiative_id",
            "initiative__number",
            "initiative__title",
            "initiative__policy_id",
            "initiative__policy__numeral",
            "initiative__policy__title",
        )
        .annotate(
            n=Count("pk"),
            **{f"stage_{s}": _count(Q(stage=s)) for s in STAGES},
            **{f"status_{s}": _count(Q(status=s)) for s in STATUSES},
            **{f"grade_{g}": _count(Q(grade=g)) for g in GRADES},
            grade_none=_count(Q(grade="")),
            **{f"needing_{k}": _count(needing_attention(k)) for k in ATTENTION},
            needing_any=_count(needing_attention()),
            rate_sum=Sum("rate10"),
            rated=Count("rate10"),
            planned_sum=Sum("c__amount"),
            actual_sum=Sum("y__actual_cost"),
        )
        .order_by("initiative__policy__number", "initiative__number")
    )
    total = Summary(plan.title, "plan")
    out = [total]
    policy = None
    for row in rows:
        if policy is None or policy.key["policy"] != row["initiative__policy_id"]:
            label = f"基本方針{row['initiative__policy__numeral']} {row['initiative__policy__title']}"
            policy = Summary(label, "policy", {"policy": row["initiative__policy_id"]})
            out.append(policy)
        initiative = Summary(
            f"取組{row['initiative__number']}：{row['initiative__title']}",
            "initiative",
            {"initiative": row["initiative_id"]},
            measures=row["n"],
            stages=Counter({s: row[f"stage_{s}"] for s in STAGES}),
            statuses=Counter({s: row[f"status_{s}"] for s in STATUSES}),
            grades=Counter({**{g: row[f"grade_{g}"] for g in GRADES}, "none": row["grade_none"]}),
            attention=Counter({k: row[f"needing_{k}"] for k in ATTENTION}),
            needing_attention=row["needing_any"],
            rate_tenths=int(row["rate_sum"] or 0),
            rated=row["rated"],
            planned=counted(row["planned_sum"]),
            actual=row["actual_sum"],
        )
        policy.merge(initiative)
        out.append(initiative)
    for row in out[1:]:
        if row.level == "policy":
            total.merge(row)
    return out
