"""Budget roll-ups: the one place that adds up planned costs and 一般財源."""

from dataclasses import dataclass, field

from django.db.models import Sum

from initiatives.fiscal import add_amount, counted
from initiatives.models import Policy

from .models import GeneralFundPlan, PlannedCost


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


def plan_budget_table(plan):
    """Roll the plan's costs up per policy and year in three queries.

    "－" costs (None) count as nothing, as the plan's own table does.
    """
    years = plan.fiscal_years
    policies = list(Policy.objects.filter(plan=plan).order_by("number"))
    costs = {
        (r["measure__initiative__policy"], r["fiscal_year"]): counted(r["total"])
        for r in PlannedCost.objects.filter(measure__plan=plan)
        .values("measure__initiative__policy", "fiscal_year")
        .annotate(total=Sum("amount"))
    }
    funds = {
        (r["policy"], r["fiscal_year"]): r["total"]
        for r in GeneralFundPlan.objects.filter(policy__plan=plan)
        .values("policy", "fiscal_year")
        .annotate(total=Sum("amount"))
    }

    total = BudgetRow("計", None, [BudgetCell() for _ in years])
    rows = []
    for policy in policies:
        cells = [BudgetCell(costs.get((policy.pk, year), 0), funds.get((policy.pk, year))) for year in years]
        row = BudgetRow(f"基本方針{policy.numeral}", policy, cells)
        for cell, total_cell in zip(cells, total.cells, strict=True):
            row.total.add(cell)
            total_cell.add(cell)
        total.total.add(row.total)
        rows.append(row)
    return BudgetTable(years, rows, total)
