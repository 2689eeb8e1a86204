"""The roll-up: counts and sums of a year's facts per plan, 基本方針 and 取組 (dashboard, PDCA page).

Each fact is added once, to its initiative; policies and the plan total are sums of those.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from initiatives.fiscal import add_amount, counted

from .attention import GRADES, STAGES


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
        self.planned += counted(fact.planned_cost)
        self.actual = add_amount(self.actual, fact.actual_cost)

    def merge(self, other):
        """Add another summary's counts and sums into this one."""
        self.measures += other.measures
        self.stages.update(other.stages)
        self.statuses.update(other.statuses)
        self.grades.update(other.grades)
        self.attention.update(other.attention)
        self.rates.extend(other.rates)
        self.planned += other.planned
        self.actual = add_amount(self.actual, other.actual)

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
