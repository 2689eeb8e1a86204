"""計画期間の総括: the final evaluation of a plan whose period has ended (R8 for the R4–R7 plan).

Per measure: the KGI's achievement over the whole period (kpi.achievement.kgi_result: the one rule
for each KGI shape), the LCC total of the period against the 決算 total (執行率), and the carry-over
decision for the next plan (FinalEvaluation). One builder feeds the page, the .xlsx and the CSV.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum

from initiatives.fiscal import counted, fiscal_year_short
from initiatives.models import PLAN_ORDER, Measure
from initiatives.notes import KPI_TARGET, LCC, notes_cell
from kpi.achievement import grade_scale, kgi_result
from kpi.models import KpiTarget, MeasureYear, kgi_shape, kpi_text
from kpi.rollup import execution_rate

from .models import FinalEvaluation, PlannedCost
from .reports import measure_columns, place_cells
from .xlsx import Column, Report


@dataclass
class FinalRow:
    measure: Measure
    result: object  # kpi.achievement.KgiResult
    planned: int  # LCC total of the period ("－" counts as nothing)
    spent: int | None  # 決算 total (None: nothing recorded)
    evaluation: FinalEvaluation | None
    notes: str = ""  # the 注記 of the measure's noted KPI targets and LCC (initiatives.notes)

    @property
    def execution_rate(self):
        return execution_rate(self.spent, self.planned)

    @property
    def reached(self):
        """What the period reached, as the KGI reads ("15件（R6時点）")."""
        kgi = getattr(self.measure, "kgi", None)
        result = self.result
        if result.basis_year is None:
            return kpi_text(None, "")
        shown = kpi_text(result.value, **kgi_shape(kgi), actual=True) if result.value is not None else "判定"
        basis = f"{fiscal_year_short(result.basis_year)}{'時点・暫定' if result.provisional else ''}"
        return f"{shown}（{basis}）"


def final_rows(plan, measures=None):
    """A FinalRow per measure (a queryset of the plan's; all of them by default), in plan order; six
    queries (seven with the noted KPI targets)."""
    measures = Measure.objects.filter(plan=plan) if measures is None else measures
    scope = measures
    measures = list(measures.select_related("kgi", "department", "initiative__policy", "group").order_by(*PLAN_ORDER))
    years = defaultdict(dict)
    spent = {}
    records = MeasureYear.objects.filter(measure__in=scope, fiscal_year__in=plan.fiscal_years).values_list(
        "measure_id", "fiscal_year", "kpi_actual", "judged_grade", "actual_cost"
    )
    for measure_id, year, value, judged, cost in records:
        years[measure_id][year] = (value, judged)
        if cost is not None:
            spent[measure_id] = spent.get(measure_id, 0) + cost
    planned = defaultdict(int)
    noted = defaultdict(list)  # (what, year, note) of each measure's noted cells, for the 注記
    for measure_id, year, amount, note in PlannedCost.objects.filter(
        measure__in=scope, fiscal_year__in=plan.fiscal_years
    ).values_list("measure_id", "fiscal_year", "amount", "note"):
        planned[measure_id] += counted(amount)
        noted[measure_id].append((LCC, year, note))
    targets = KpiTarget.objects.filter(measure__in=scope, fiscal_year__in=plan.fiscal_years).exclude(note="")
    for measure_id, year, note in targets.values_list("measure_id", "fiscal_year", "note"):
        noted[measure_id].append((KPI_TARGET, year, note))
    evaluations = {e.measure_id: e for e in FinalEvaluation.objects.filter(measure__in=scope)}
    scale = grade_scale(plan)
    rows = []
    for m in measures:
        row = final_row(plan, m, years.get(m.pk, {}), planned[m.pk], spent.get(m.pk), evaluations.get(m.pk), scale)
        row.notes = notes_cell(sorted(noted[m.pk], key=lambda cell: (cell[0] != KPI_TARGET, cell[1])), m.notes)
        rows.append(row)
    return rows


def final_row(plan, measure, years, planned, spent, evaluation, scale):
    """One measure's FinalRow from its recorded years ({year: (KPI actual, judged grade)}), its LCC and
    決算 totals and its evaluation: the one place the row is put together."""
    result = kgi_result(getattr(measure, "kgi", None), years, plan.end_year, scale)
    return FinalRow(measure, result, planned, spent, evaluation)


def measure_final_row(measure, records, planned_costs, evaluation, scale):
    """final_row from a measure page's prefetched records and planned costs (no query)."""
    plan = measure.plan
    records = [r for r in records if plan.covers(r.fiscal_year)]
    years = {r.fiscal_year: (r.kpi_actual, r.judged_grade) for r in records}
    spent = [r.actual_cost for r in records if r.actual_cost is not None]
    planned = sum(counted(c.amount) for c in planned_costs if plan.covers(c.fiscal_year))
    return final_row(plan, measure, years, planned, sum(spent) if spent else None, evaluation, scale)


def final_totals(plan, measures):
    """The 計 of final_report over ``measures`` (the whole filter), by SQL, never from the rows:
    {(column group, header): total}. Two queries, whatever the plan's size."""
    mine = {"measure__in": measures.values("pk"), "fiscal_year__in": plan.fiscal_years}
    planned = PlannedCost.objects.filter(**mine).aggregate(total=Sum("amount"))["total"]
    spent = MeasureYear.objects.filter(**mine).aggregate(total=Sum("actual_cost"))["total"]
    return {
        (plan.period_label, "LCC計（千円）"): counted(planned),
        (plan.period_label, "決算額計（千円）"): counted(spent),
    }


def final_report(plan, department=None, measures=None):
    """計画期間の総括 as a Report (page, .xlsx, CSV); ``measures``: the rows of only these (a page of the
    report's measures)."""
    columns = [
        *measure_columns(plan),
        Column("数値目標（KGI）", width=36),
        Column("期間の実績", width=16),
        Column("達成度（%）", "percent", "KGI", 9),
        Column("評価", "text", "KGI", 8),
        Column("LCC計（千円）", "amount", plan.period_label),
        Column("決算額計（千円）", "amount", plan.period_label),
        Column("執行率（%）", "percent", plan.period_label, 9),
        Column("次期計画への引継ぎ", width=10),
        Column("総括（成果と課題）", width=40),
        Column("注記", width=40),
    ]

    def rows():
        scope = Measure.objects.filter(plan=plan) if measures is None else measures
        if department is not None:
            scope = scope.filter(department=department)
        for row in final_rows(plan, scope):
            m, result, evaluation = row.measure, row.result, row.evaluation
            kgi = getattr(m, "kgi", None)
            rate = result.assessment.rate
            yield [
                m.code,
                m.name,
                *place_cells(
                    plan,
                    plan.policy_label(m.initiative.policy.numeral, m.initiative.policy.title),
                    plan.initiative_label(m.initiative.number, m.initiative.title),
                    plan.group_label(m.group.number, m.group.title) if m.group else "",
                ),
                str(m.department) if m.department else "",
                kgi.text if kgi else "",
                row.reached,
                float(rate) if rate is not None else None,
                result.assessment.grade or result.assessment.label,
                row.planned,
                row.spent,
                float(row.execution_rate) if row.execution_rate is not None else None,
                evaluation.get_carry_over_display() if evaluation else "",
                evaluation.comment if evaluation else "",
                row.notes,
            ]

    who = f"・{department}" if department else ""
    return Report(
        title=f"{plan.title} 計画期間の総括（{plan.period_label}{who}）",
        sheet="計画期間の総括",
        filename=f"計画期間の総括_{plan.title}{'_' + str(department) if department else ''}",
        columns=columns,
        rows=rows(),
        notes=(
            "単位：千円",
            "KGIの達成度：高いほど良い・累計・削減率の指標は計画期間の最終年度の実績（未入力なら入力のある最新年度、暫定）、"
            "低いほど良い指標（件数）は期間中で最も多い年度の実績で計算。文章の目標は担当課の判定。",
            "執行率＝決算額計÷LCC計。LCCの「－」は0として合計。",
        ),
    )
