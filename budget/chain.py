"""The money chain of a measure-year: LCC (the plan's ceiling) → 実施計画額 → 予算要求額 → 査定額 → 決算額.

The one place for its rules: who enters each stage, the flags (a request above the ceiling, a 決算
above the 査定, money spent without a KPI result), and the rows the chain page, the measure page,
the hearing report and the stage tables read, in a fixed number of queries.
"""

from dataclasses import dataclass, field

from django.db.models import Count, F, FilteredRelation, Q, Value
from django.db.models.functions import Coalesce

from kpi.models import KpiTarget, MeasureYear

from .models import BudgetFigure, PlannedCost

Stage = BudgetFigure.Stage
STAGES = list(Stage)

# Who enters each stage: the rule lives on the model, which the door asks (BudgetFigure.entry_permission).
STAGE_PERMISSIONS = BudgetFigure.ENTRY_PERMISSIONS


@dataclass(frozen=True)
class Flag:
    code: str
    label: str  # short, for tables
    message: str  # a sentence, for the measure page and the entry form


OVER_CEILING = Flag(
    "over_ceiling",
    "要求がLCC超過",
    "予算要求額が計画のLCC（投資可能な上限額）を超えています。",
)
SETTLED_OVER_ASSESSED = Flag("settled_over_assessed", "決算が査定超過", "決算額が査定額を超えています。")
MONEY_WITHOUT_PROGRESS = Flag(
    "money_without_progress",
    "KPI実績なし",
    "決算額があるのに、KPI目標のあるこの年度のKPI実績が入力されていません。",
)
FLAGS = (OVER_CEILING, SETTLED_OVER_ASSESSED, MONEY_WITHOUT_PROGRESS)


def over_ceiling(request, ceiling):
    """A request above the LCC; a request of money where the plan prints "－" (none) is above it too."""
    return request is not None and request > (ceiling or 0)


@dataclass
class ChainYear:
    """One measure-year's money, stage by stage (None: not entered, or "－")."""

    measure_id: int
    year: int
    ceiling: int | None = None  # LCC (PlannedCost.amount)
    figures: dict = field(default_factory=dict)  # {stage: BudgetFigure}
    settled: int | None = None  # 決算額 (MeasureYear.actual_cost)
    kpi_recorded: bool = False
    kpi_expected: bool = False  # the plan sets a KPI target for the year (not "－")

    def figure(self, stage):
        return self.figures.get(stage)

    def amount(self, stage):
        figure = self.figures.get(stage)
        return figure.amount if figure else None

    @property
    def amounts(self):
        """[LCC, 実施計画額, 予算要求額, 査定額, 決算額]: the chain in order."""
        return [self.ceiling, *(self.amount(stage) for stage in STAGES), self.settled]

    @property
    def flags(self):
        assessed = self.amount(Stage.ASSESSED)
        out = []
        if over_ceiling(self.amount(Stage.REQUEST), self.ceiling):
            out.append(OVER_CEILING)
        if self.settled is not None and assessed is not None and self.settled > assessed:
            out.append(SETTLED_OVER_ASSESSED)
        if self.settled and self.kpi_expected and not self.kpi_recorded:
            out.append(MONEY_WITHOUT_PROGRESS)
        return out


CHAIN_LABELS = ["LCC（上限）", *(str(stage.label) for stage in STAGES), "決算額"]


def chain_years(measures, years):
    """{(measure id, year): ChainYear} for these measures (a queryset) and years, in four queries."""
    years = list(years)
    ids = measures.values("pk")
    out = {}

    def cell(measure_id, year):
        key = (measure_id, year)
        if key not in out:
            out[key] = ChainYear(measure_id, year)
        return out[key]

    for measure_id, year, amount in PlannedCost.objects.filter(measure__in=ids, fiscal_year__in=years).values_list(
        "measure_id", "fiscal_year", "amount"
    ):
        cell(measure_id, year).ceiling = amount
    for figure in BudgetFigure.objects.filter(measure__in=ids, fiscal_year__in=years):
        cell(figure.measure_id, figure.fiscal_year).figures[figure.stage] = figure
    targets = KpiTarget.objects.filter(measure__in=ids, fiscal_year__in=years).exclude(value=None, text="")
    for measure_id, year in targets.values_list("measure_id", "fiscal_year"):
        cell(measure_id, year).kpi_expected = True
    records = MeasureYear.objects.filter(measure__in=ids, fiscal_year__in=years).values_list(
        "measure_id", "fiscal_year", "actual_cost", "kpi_actual", "kpi_actual_text"
    )
    for measure_id, year, cost, kpi, kpi_text in records:
        chain = cell(measure_id, year)
        chain.settled = cost
        chain.kpi_recorded = kpi is not None or bool(kpi_text)
    return out


def chain_of(measures, years):
    """The same as chain_years, with an empty ChainYear where nothing is recorded."""
    found = chain_years(measures, years)
    return lambda measure_id, year: found.get((measure_id, year)) or ChainYear(measure_id, year)


def flag_conditions():
    """ChainYear.flags as conditions on flag_counts' joined rows (c: LCC, r: request, a: 査定, t: KPI
    target, y: record); budget/tests/test_money_chain.py checks both agree."""
    settled = Q(y__actual_cost__isnull=False)
    return {
        OVER_CEILING: Q(r__amount__isnull=False, r__amount__gt=Coalesce(F("c__amount"), Value(0))),
        SETTLED_OVER_ASSESSED: settled & Q(a__amount__isnull=False, y__actual_cost__gt=F("a__amount")),
        MONEY_WITHOUT_PROGRESS: (Q(y__actual_cost__gt=0) | Q(y__actual_cost__lt=0))
        & (Q(t__value__isnull=False) | Q(t__text__gt=""))
        & Q(y__kpi_actual__isnull=True)
        & ~Q(y__kpi_actual_text__gt=""),
    }


def flag_counts(measures, year):
    """[(flag, how many of these measures carry it in the year)], counted in the database: one query."""

    def figure(stage):
        condition = Q(budget_figures__fiscal_year=year, budget_figures__stage=stage)
        return FilteredRelation("budget_figures", condition=condition)

    rows = measures.annotate(
        c=FilteredRelation("planned_costs", condition=Q(planned_costs__fiscal_year=year)),
        r=figure(Stage.REQUEST),
        a=figure(Stage.ASSESSED),
        t=FilteredRelation("kpi_targets", condition=Q(kpi_targets__fiscal_year=year)),
        y=FilteredRelation("years", condition=Q(years__fiscal_year=year)),
    )
    conditions = flag_conditions()
    counts = rows.aggregate(**{flag.code: Count("pk", filter=conditions[flag]) for flag in FLAGS})
    return [(flag, counts[flag.code]) for flag in FLAGS]
