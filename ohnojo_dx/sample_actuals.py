"""Sample actuals for R4–R7 (and the budget chain's amounts) so that every page shows something
real-looking.

Everything written here has is_sample=True and says （サンプル） in its texts, and is written
through kpi.workflow like any entry (entered, submitted, then approved or returned).
The figures are made up from the plan's targets with fixed factors, so the
same demo comes out on every machine.
"""

from decimal import ROUND_HALF_UP, Decimal

from budget.models import BudgetFigure
from kpi import workflow
from kpi.models import BarStatus, Direction, MeasureYear

FACTORS = [Decimal(f) for f in ("0.72", "0.88", "0.95", "1.00", "1.04", "1.12", "0.65", "1.00")]
COST_FACTORS = [Decimal(f) for f in ("0.82", "0.91", "0.97", "1.00")]
IMPROVEMENTS = ["continue", "expand", "continue", "revise"]
# The last year of the plan, as the budget hearings find it: some approved, some waiting, some late.
LAST_YEAR_STATES = ["submitted", "approved", "submitted", "returned", "draft", None, "submitted", None]
REASON = "サンプルデータ"
RETURN_COMMENT = "（サンプル）実績値の根拠資料を添えて再提出してください。"


def _actual(kgi, target, factor):
    if target is None or target.value is None:
        return None
    if kgi.direction == Direction.LOWER:
        return target.value if factor >= Decimal("0.8") else target.value + 1
    value = (target.value * factor).quantize(Decimal("1") if target.value >= 100 else Decimal("0.1"), ROUND_HALF_UP)
    return min(value, Decimal(100)) if kgi.unit == "%" else value


def load_sample_actuals(plan, approver):
    """Enter, submit, approve or return each sample record through kpi.workflow, as the approver."""
    if MeasureYear.objects.filter(measure__plan=plan).exists():
        return  # never overwrite entries, sample or real
    measures = plan.measures.select_related("kgi").prefetch_related("kpi_targets", "planned_costs", "schedule_bars")
    for index, measure in enumerate(measures.order_by("pk")):
        targets = {t.fiscal_year: t for t in measure.kpi_targets.all()}
        costs = {c.fiscal_year: c.amount for c in measure.planned_costs.all()}
        for offset, year in enumerate(plan.fiscal_years):
            last = year == plan.end_year
            state = LAST_YEAR_STATES[index % len(LAST_YEAR_STATES)] if last else "approved"
            _sample_chain(measure, year, costs.get(year), index, approver)  # decided before the year
            if state is None:
                continue  # not entered: shows as overdue
            factor = FACTORS[(index + offset) % len(FACTORS)]
            target = targets.get(year)
            planned = costs.get(year)
            bars = [b for b in measure.schedule_bars.all() if b.covers(year)]
            labels = "、".join(b.label for b in bars) or "準備"
            evaluated = state != "draft"
            record = MeasureYear(
                measure=measure,
                fiscal_year=year,
                kpi_actual=_actual(measure.kgi, target, factor),
                kpi_actual_text="一部の窓口で導入（サンプル）" if target and target.text else "",
                judged_grade="B" if target and target.text else "",
                actual_cost=None if planned is None else int(planned * COST_FACTORS[(index + offset) % 4]),
                work_done=f"（サンプル）{labels}を進めた。",
                evaluation_comment="（サンプル）目標に対する進み具合と要因を記載します。" if evaluated else "",
                improvement=IMPROVEMENTS[(index + offset) % 4] if evaluated else "",
                improvement_text="（サンプル）次年度も対象を広げて実施する。" if evaluated else "",
            )
            record.full_clean()
            bar_states = {bar: _bar_state(bar, year, factor) for bar in bars}
            workflow.save_record(record, approver, 0, bar_states, submit=evaluated, reason=REASON, sample=True)
            if state == "approved":
                workflow.approve(record, approver, record.version)
            elif state == "returned":
                workflow.return_for_revision(record, approver, record.version, RETURN_COMMENT)


def _bar_state(bar, year, factor):
    if bar.end_year == year:
        return BarStatus.State.DONE
    return BarStatus.State.DELAYED if factor < Decimal("0.8") else BarStatus.State.IN_PROGRESS


def _sample_chain(measure, year, planned, index, approver):
    """実施計画額, 予算要求額 and 査定額 where the plan has money: the plan's LCC; one request in nine
    above it (with its reason), trimmed back to the LCC in the hearing; some funded by 国・県 or the 基金."""
    if planned is None:
        return
    over = index % 9 == 0 and planned > 0
    request = int(planned * Decimal("1.08")) if over else planned
    amounts = {
        BudgetFigure.Stage.IMPLEMENTATION: planned,
        BudgetFigure.Stage.REQUEST: request,
        BudgetFigure.Stage.ASSESSED: min(request, planned),
    }
    for stage, amount in amounts.items():
        national = amount // 4 if index % 3 == 0 else 0
        fund = amount // 5 if index % 5 == 0 else 0
        figure = BudgetFigure(
            measure=measure,
            fiscal_year=year,
            stage=stage,
            amount=amount,
            national=national,
            fund=fund,
            general_fund=amount - national - fund,
            other=0,
            note="（サンプル）機器の更新を前倒しするため" if over and stage == BudgetFigure.Stage.REQUEST else "",
        )
        figure.full_clean()
        workflow.save_year_figure(figure, approver, 0, REASON, sample=True)
