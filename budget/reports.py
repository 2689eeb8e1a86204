"""The reports: each builds a budget.xlsx.Report (columns + rows) from the data.

The same rows feed the page, the workbook and the CSV, so the three always agree.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum

from initiatives.fiscal import counted, fiscal_year_label, fiscal_year_short
from initiatives.models import Measure
from kpi.facts import measure_facts, notes_of
from kpi.models import MeasureYear
from kpi.rollup import execution_rate

from .chain import STAGES, chain_of_facts
from .models import BudgetFigure, PlannedCost
from .selectors import cost_notes, plan_budget_table
from .xlsx import Column, Report

IMPROVEMENTS = dict(MeasureYear.Improvement.choices)  # 改善方針: value → label

UNIT_NOTE = "単位：千円"
NOTES_HEADER = "注記"
NOTES_WIDTH = 44
LCC_NOTES = "注記：計画書の年度経費（LCC）の注記（※）を、施策ごとに年度と本文で示します。"


def measure_columns(plan):
    """The first columns of a report with a row per measure: where the measure stands in the plan (in the
    plan's names for its levels)."""
    return [
        Column("施策コード", width=9),
        Column(plan.measure_level, width=30),
        Column(plan.policy_level, width=14),
        Column(plan.initiative_level, width=24),
        *([Column(plan.group_level, width=24)] if plan.group_level else []),
        Column("担当課", width=14),
    ]


def place_cells(plan, policy, initiative, group):
    """A measure's place in the plan as the cells under measure_columns(plan)'s level headers."""
    return [policy, initiative, group] if plan.group_level else [policy, initiative]


def _kpi_cell(shown):
    """A KPI value as kpi.models.kpi_text reads it ("30%減"; the workbook keeps the number with a number format
    that reads the same); "－" is an empty cell, as the other "－" figures of the reports."""
    return None if shown.is_none else shown


def _rate(rate):
    return None if rate is None else float(rate)


def hearing_measures(plan, department=None):
    """The measures of the hearing report's filter (a queryset)."""
    measures = Measure.objects.filter(plan=plan)
    return measures.filter(department=department) if department else measures


def hearing_report(plan, year=None, department=None, today=None, measures=None):
    """予算ヒアリング用: per measure, LCC plan/actual and KPI target/actual/達成度/評価 per year.

    With a year, only that year; the grade, comment and 改善方針 are those of
    the chosen year (or the plan's last year). ``measures``: the rows of only these (a page of the
    filter's measures); the data is read when the rows are, so a Report made for its columns costs nothing.
    """
    years = [year] if year else plan.fiscal_years
    focus = year or plan.end_year
    measures = hearing_measures(plan, department) if measures is None else measures
    columns = measure_columns(plan)
    for y in years:
        label = fiscal_year_label(y)
        columns += [
            Column("LCC計画（千円）", "amount", label),
            *(Column(f"{stage.label}（千円）", "amount", label) for stage in STAGES),
            Column("決算額（千円）", "amount", label),
            Column("KPI目標", "number", label, 10),
            Column("KPI実績", "number", label, 10),
            Column("達成度（%）", "percent", label, 9),
            Column("評価", "text", label, 6),
            Column("注意", "text", label, 14),
        ]
    focus_label = fiscal_year_short(focus)
    columns += [
        Column("単位", width=6),
        Column(NOTES_HEADER, width=NOTES_WIDTH, wrap=True),
        Column(f"{focus_label} 評価・要因分析", width=40),
        Column(f"{focus_label} 改善方針", width=10),
        Column(f"{focus_label} 改善方針の内容", width=40),
    ]

    def rows():
        chain = chain_of_facts(measures, years)
        by_measure = defaultdict(list)
        for fact in measure_facts(plan, years, measures, today):
            by_measure[fact.measure_id].append(fact)
        for measure_facts_ in by_measure.values():
            first = measure_facts_[0]
            place = place_cells(plan, first.policy_label, first.initiative_label, first.group_label)
            row = [first.code, first.name, *place, first.department_name]
            last = first
            for fact in measure_facts_:
                year_chain = chain(fact)
                row += [
                    *year_chain.amounts,  # LCC, the stages, 決算額
                    _kpi_cell(fact.target_display()),
                    _kpi_cell(fact.actual_display()),
                    _rate(fact.assessment.rate),
                    fact.assessment.grade or fact.assessment.label,
                    "・".join(flag.label for flag in year_chain.flags),
                ]
                if fact.year == focus:
                    last = fact
            row += [
                first.unit,
                notes_of(measure_facts_),
                last.evaluation_comment,
                str(IMPROVEMENTS.get(last.improvement, "")),
                last.improvement_text,
            ]
            yield row

    scope = fiscal_year_label(year) if year else plan.period_label
    who = f"_{department}" if department else ""
    return Report(
        title=f"{plan.title} 予算ヒアリング資料（{scope}{'・' + str(department) if department else ''}）",
        sheet="予算ヒアリング",
        filename=f"予算ヒアリング_{plan.title}_{fiscal_year_label(year) if year else '全年度'}{who}",
        columns=columns,
        rows=rows(),
        notes=(
            UNIT_NOTE,
            "達成度・評価はKPIの目標と実績から自動計算（文章の目標は担当課の判定）。「－」の目標・経費は空欄。",
            "KPIは計画書の表記（削減率は「30%減」、注記は「1業務（※2）」）。注記の列に計画書の注記（※）の年度と本文。",
            "注意：要求がLCC超過＝予算要求額が計画のLCC（投資可能な上限額）を超える／決算が査定超過＝決算額が査定額を超える"
            "／KPI実績なし＝決算額があるのにKPI実績が未入力。",
        ),
    )


def hearing_totals(plan, year, measures):
    """The 計 of hearing_report over ``measures`` (the whole filter), by SQL, never from the rows:
    {(column group, header): total} of its amount columns. Three queries, whatever the plan's size."""
    years = [year] if year else plan.fiscal_years
    mine = {"measure__in": measures.values("pk"), "fiscal_year__in": years}

    def per_year(rows, *keys):
        # order_by(): the models' default order would join the measure, plan and policy for nothing
        return {tuple(row[k] for k in keys): row["total"] for row in rows.order_by()}

    planned = per_year(
        PlannedCost.objects.filter(**mine).values("fiscal_year").annotate(total=Sum("amount")), "fiscal_year"
    )
    figures = per_year(
        BudgetFigure.objects.filter(**mine).values("fiscal_year", "stage").annotate(total=Sum("amount")),
        "fiscal_year",
        "stage",
    )
    settled = per_year(
        MeasureYear.objects.filter(**mine).values("fiscal_year").annotate(total=Sum("actual_cost")), "fiscal_year"
    )
    totals = {}
    for y in years:
        label = fiscal_year_label(y)
        totals[label, "LCC計画（千円）"] = counted(planned.get((y,)))
        for stage in STAGES:
            totals[label, f"{stage.label}（千円）"] = counted(figures.get((y, stage.value)))
        totals[label, "決算額（千円）"] = counted(settled.get((y,)))
    return totals


def budget_table_report(plan):
    """図表2-4-1 計画期間における経費（計画値）, one row per 基本方針."""
    table = plan_budget_table(plan)
    columns = [Column("区分", width=14)]
    for y in table.years:
        label = fiscal_year_label(y)
        columns += [Column("経費", "amount", label), Column("うち一般財源", "amount", label)]
    years = range(len(table.years))
    columns += [
        Column("経費", "amount", "計", sum_of=tuple(1 + 2 * i for i in years)),
        Column("うち一般財源", "amount", "計", sum_of=tuple(2 + 2 * i for i in years)),
        Column(NOTES_HEADER, width=NOTES_WIDTH, wrap=True),
    ]
    notes = cost_notes(plan)

    def rows():
        for row in table.rows:
            values = [row.label]
            for cell in row.cells:
                values += [cell.cost, cell.general_fund]
            yield values + [row.total.cost, row.total.general_fund, notes(row.policy.pk)]

    return Report(
        title=f"{plan.title} 計画期間における経費（計画値）",
        sheet="図表2-4-1",
        filename=f"図表2-4-1_計画期間における経費_{plan.title}",
        columns=columns,
        rows=rows(),
        notes=(UNIT_NOTE, LCC_NOTES),
    )


@dataclass
class ExecutionRow:
    label: str  # 基本方針
    policy_id: int
    year: int
    planned: int | None
    planned_fund: int | None
    actual: int | None
    actual_fund: int | None
    rate: object  # 執行率 (Decimal) or None


def execution_rows(plan):
    """Per 基本方針 and year: planned cost and 一般財源 beside actual cost, 一般財源 and 執行率. The plan in
    force is the revised one (見直し後), as on the dashboard; 図表2-4-1 alone keeps the plan as adopted."""
    table = plan_budget_table(plan, revised=True)
    actual = {
        (r["measure__initiative__policy"], r["fiscal_year"]): (r["cost"], r["fund"])
        for r in MeasureYear.objects.filter(measure__plan=plan)
        .values("measure__initiative__policy", "fiscal_year")
        .annotate(cost=Sum("actual_cost"), fund=Sum("actual_general_fund"))
    }
    out = []
    for row in table.rows:
        for year, cell in zip(table.years, row.cells, strict=True):
            cost, fund = actual.get((row.policy.pk, year), (None, None))
            out.append(
                ExecutionRow(
                    row.label,
                    row.policy.pk,
                    year,
                    cell.cost,
                    cell.general_fund,
                    cost,
                    fund,
                    execution_rate(cost, cell.cost),
                )
            )
    return out


def execution_report(plan):
    columns = [
        Column("区分", width=14),
        Column("年度", width=16),
        Column("経費（計画）", "amount", "計画（千円）"),
        Column("うち一般財源（計画）", "amount", "計画（千円）"),
        Column("決算額", "amount", "実績（千円）"),
        Column("うち一般財源（決算）", "amount", "実績（千円）"),
        Column("執行率（%）", "percent", "", 10),
        Column(NOTES_HEADER, width=NOTES_WIDTH, wrap=True),
    ]
    notes = cost_notes(plan)
    rows = (
        [
            row.label,
            fiscal_year_label(row.year),
            row.planned,
            row.planned_fund,
            row.actual,
            row.actual_fund,
            _rate(row.rate),
            notes(row.policy_id, row.year),
        ]
        for row in execution_rows(plan)
    )
    return Report(
        title=f"{plan.title} 経費の計画と実績（執行率）",
        sheet="経費の計画と実績",
        filename=f"経費の計画と実績_{plan.title}",
        columns=columns,
        rows=rows,
        notes=(
            UNIT_NOTE,
            "経費（計画）は見直し後の計画。執行率＝決算額÷経費（計画）。計画が0または「－」の年度は空欄。",
            LCC_NOTES,
        ),
    )
