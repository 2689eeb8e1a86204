"""The money chain of a measure-year: LCC (the plan's ceiling) → 実施計画額 → 予算要求額 → 査定額 → 決算額.

The one place for its rules: who enters each stage, the flags (a request above the ceiling, a 決算
above the 査定, money spent without a KPI result), and the rows the chain page, the measure page,
the hearing report and the stage tables read, in a fixed number of queries.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Count, F, FilteredRelation, Q, Sum
from django.db.models.functions import Coalesce

from kpi.models import KpiTarget, MeasureYear, no_target

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


@dataclass(slots=True)
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


def kpi_expected(target_value, target_text):
    """The plan sets a KPI target for the year (a number or a text, not "－")."""
    return not no_target(target_value, target_text)


def kpi_recorded(actual, actual_text):
    """A KPI actual is entered (a number or a text)."""
    return actual is not None or bool(actual_text)


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
        chain.kpi_recorded = kpi_recorded(kpi, kpi_text)
    return out


def chain_of(measures, years):
    """The same as chain_years, with an empty ChainYear where nothing is recorded."""
    found = chain_years(measures, years)
    return lambda measure_id, year: found.get((measure_id, year)) or ChainYear(measure_id, year)


def chain_of_facts(measures, years):
    """chain_of for measures whose facts (kpi.facts.measure_facts, for the same years) are read anyway: the
    chain year of a fact, its LCC, 決算額 and KPI from the fact, so only the budget figures are read (one
    query)."""
    figures = defaultdict(dict)
    for figure in BudgetFigure.objects.filter(measure__in=measures.values("pk"), fiscal_year__in=list(years)):
        figures[figure.measure_id, figure.fiscal_year][figure.stage] = figure
    none = {}

    def of(fact):
        return ChainYear(
            fact.measure_id,
            fact.year,
            ceiling=fact.planned_cost,
            figures=figures.get((fact.measure_id, fact.year), none),
            settled=fact.actual_cost,
            kpi_recorded=kpi_recorded(fact.actual, fact.actual_text),
            kpi_expected=kpi_expected(fact.target_value, fact.target_text),
        )

    return of


def with_chain(measures, year):
    """The measures (a queryset) with the year's chain as SQL columns, as chain_years reads it: chain_ceiling,
    chain_<stage>, chain_settled (one LEFT JOIN each: at most one row per measure-year), so that a whole
    plan's measures are filtered by flag, counted and added up in the database (the money chain page)."""
    joins = {
        "chain_cost": FilteredRelation("planned_costs", condition=Q(planned_costs__fiscal_year=year)),
        "chain_target": FilteredRelation("kpi_targets", condition=Q(kpi_targets__fiscal_year=year)),
        "chain_record": FilteredRelation("years", condition=Q(years__fiscal_year=year)),
    }
    for stage in STAGES:
        condition = Q(budget_figures__fiscal_year=year, budget_figures__stage=stage.value)
        joins[f"chain_figure_{stage.value}"] = FilteredRelation("budget_figures", condition=condition)
    return measures.alias(**joins).annotate(
        chain_ceiling=F("chain_cost__amount"),
        **{f"chain_{stage.value}": F(f"chain_figure_{stage.value}__amount") for stage in STAGES},
        chain_settled=F("chain_record__actual_cost"),
    )


# ChainYear.flags in SQL, over with_chain's columns (a NULL compares false, as None does there); a test holds
# the two readings equal.
KPI_EXPECTED = Q(chain_target__value__isnull=False) | Q(chain_target__text__gt="")
KPI_NOT_RECORDED = Q(chain_record__kpi_actual__isnull=True) & (
    Q(chain_record__kpi_actual_text__isnull=True) | Q(chain_record__kpi_actual_text="")
)
FLAG_CONDITIONS = {
    OVER_CEILING.code: Q(chain_request__gt=Coalesce(F("chain_ceiling"), 0)),
    SETTLED_OVER_ASSESSED.code: Q(chain_settled__gt=F("chain_assessed")),
    MONEY_WITHOUT_PROGRESS.code: (Q(chain_settled__gt=0) | Q(chain_settled__lt=0)) & KPI_EXPECTED & KPI_NOT_RECORDED,
}
ANY_FLAG = reduce(or_, FLAG_CONDITIONS.values())


def chain_totals(measures):
    """Over measures from with_chain (a whole filter), in one query: how many they are, the chain's totals
    in CHAIN_LABELS order ("－" counts as 0) and {flag code: how many measures have it}."""
    amounts = ["chain_ceiling", *(f"chain_{stage.value}" for stage in STAGES), "chain_settled"]
    found = measures.aggregate(
        count=Count("pk"),
        **{f"total_{i}": Sum(name) for i, name in enumerate(amounts)},
        **{f"flag_{code}": Count("pk", filter=condition) for code, condition in FLAG_CONDITIONS.items()},
    )
    totals = [found[f"total_{i}"] or 0 for i in range(len(amounts))]
    return found["count"], totals, {code: found[f"flag_{code}"] for code in FLAG_CONDITIONS}


def flag_counts(measures, year):
    """[(flag, how many of these measures carry it in the year)], counted in the database: one query."""
    _count, _totals, flags = chain_totals(with_chain(measures, year))
    return [(flag, flags[flag.code]) for flag in FLAGS]
