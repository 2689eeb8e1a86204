"""Budget roll-ups: the one place that adds up planned costs and 一般財源."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Sum

from initiatives.fiscal import add_amount, counted
from initiatives.models import Policy
from initiatives.notes import LCC, notes_cell
from kpi.models import MeasureYear

from .models import BudgetFigure, GeneralFundPlan, PlannedCost
from .revised import original_cost_deltas


@dataclass
class BudgetCell:
    cost: int = 0
    general_fund: int | None = None  # None: no 一般財源 figure recorded at all

    def add(self, other):
        self.cost += other.cost
        self.general_fund = add_amount(self.general_fund, other.general_fund)


@dataclass
class BudgetRow:
    label: str
    policy: Policy | None
    cells: list[BudgetCell]
    total: BudgetCell = field(default_factory=BudgetCell)


@dataclass
class BudgetTable:
    """図表2-4-1: 経費 and うち一般財源 per 基本方針 per year, with totals."""

    years: list[int]
    rows: list[BudgetRow]
    total: BudgetRow


def plan_budget_table(plan, revised=False):
    """Roll the plan's costs up per policy and year in four queries (five once a revision changed a cost).

    The plan as adopted (図表2-4-1), or with ``revised`` as the revisions left it. "－" costs (None)
    count as nothing, as the plan's own table does.
    """
    costs = PlannedCost.objects.filter(measure__plan=plan).values("measure__initiative__policy", "fiscal_year")
    funds = GeneralFundPlan.objects.filter(policy__plan=plan).values("policy", "fiscal_year")
    sums = _sums(costs.annotate(total=Sum("amount")), "measure__initiative__policy")
    if not revised:
        for key, delta in original_cost_deltas(plan).items():
            sums[key] = counted(sums.get(key)) + delta
    return _table(plan, _policies(plan), sums, _sums(funds.annotate(total=Sum("amount")), "policy"))


def stage_budget_tables(plan):
    """The same table for each stage of the money chain after the LCC (実施計画額, 予算要求額, 査定額)
    and for the 決算: [(label, BudgetTable)], in three queries. うち一般財源 is the sum of the figures'
    一般財源 where any is entered (else "－")."""
    by_policy = "measure__initiative__policy"
    figures = BudgetFigure.objects.filter(measure__plan=plan).values(by_policy, "fiscal_year")
    tables = []
    policies = _policies(plan)
    stage_sums = figures.values(by_policy, "fiscal_year", "stage").annotate(
        total=Sum("amount"), fund=Sum("general_fund")
    )
    rows = list(stage_sums)
    for stage in BudgetFigure.Stage:
        mine = [r for r in rows if r["stage"] == stage]
        table = _table(plan, policies, _sums(mine, by_policy), _sums(mine, by_policy, "fund"))
        tables.append((str(stage.label), table))
    settled = (
        MeasureYear.objects.filter(measure__plan=plan)
        .values(by_policy, "fiscal_year")
        .annotate(total=Sum("actual_cost"), fund=Sum("actual_general_fund"))
    )
    settled = list(settled)
    tables.append(("決算額", _table(plan, policies, _sums(settled, by_policy), _sums(settled, by_policy, "fund"))))
    return tables


def _sums(rows, policy_key, value="total"):
    return {(r[policy_key], r["fiscal_year"]): r[value] for r in rows}


def _policies(plan):
    return list(Policy.objects.filter(plan=plan).order_by("number"))


def _table(plan, policies, costs, funds):
    years = plan.fiscal_years
    total = BudgetRow("計", None, [BudgetCell() for _ in years])
    rows = []
    for policy in policies:
        cells = [BudgetCell(counted(costs.get((policy.pk, year))), funds.get((policy.pk, year))) for year in years]
        row = BudgetRow(f"{plan.policy_level}{policy.numeral}", policy, cells)
        for cell, total_cell in zip(cells, total.cells, strict=True):
            row.total.add(cell)
            total_cell.add(cell)
        total.total.add(row.total)
        rows.append(row)
    return BudgetTable(years, rows, total)


def cost_notes(plan):
    """The plan's notes on its LCC cells (PlannedCost.note, "※4") for the 注記 of the budget reports, in one
    query: a function (policy id, year or None for every year) → the text, a block per noted measure of
    that 基本方針 (its code and name, then initiatives.notes.notes_cell: the years and marks, each mark's
    footnote)."""
    rows = (
        PlannedCost.objects.filter(measure__plan=plan)
        .exclude(note="")
        .order_by("measure__initiative__policy__number", "measure__initiative__number", "measure__ordinal")
        .values_list(
            "measure__initiative__policy_id",
            "measure_id",
            "measure__code",
            "measure__name",
            "measure__notes",
            "fiscal_year",
            "note",
        )
    )
    by_policy = defaultdict(dict)  # policy id → {measure id: (heading, notes, [(year, note)])}
    for policy, measure, code, name, notes, year, note in rows:
        by_policy[policy].setdefault(measure, (f"{code} {name}", notes, []))[2].append((year, note))

    def notes_of(policy_id, year=None):
        blocks = []
        for heading, notes, cells in by_policy.get(policy_id, {}).values():
            noted = [(LCC, y, note) for y, note in cells if year is None or y == year]
            if noted:
                blocks.append(f"{heading}\n{notes_cell(noted, notes)}")
        return "\n".join(blocks)

    return notes_of
