"""当初計画・見直し後・実績: each measure-year's KPI target and LCC as adopted and as revised, beside the
actuals (initiatives.revisions reads the revisions; kpi.workflow.revise_plan_row writes them)."""

from decimal import Decimal

from django.db.models import Sum

from initiatives.fiscal import counted, fiscal_year_label
from initiatives.models import PLAN_ORDER, Measure, RevisionChange
from initiatives.notes import KPI_TARGET, LCC, notes_cell
from initiatives.revisions import first_changes, revisions_by_row
from kpi.models import KpiTarget, MeasureYear, kgi_shape, kpi_text

from .models import PlannedCost
from .xlsx import Column, Report

TARGET_FIELDS = ("value", "text", "note")
COST_FIELDS = ("amount", "note")


def original_cost_deltas(plan):
    """{(policy id, year): 当初 − 見直し後} of the LCC, for the rows revisions changed (three queries, no
    list of rows in the SQL: a plan may have thousands revised).

    図表2-4-1 is the plan as adopted: its roll-up adds these to the stored (revised) amounts."""
    first = first_changes(plan, RevisionChange.Kind.PLANNED_COST)
    if not first:
        return {}
    revised = PlannedCost.objects.filter(
        measure__plan=plan, measure__revision_changes__kind=RevisionChange.Kind.PLANNED_COST
    ).distinct()
    current = {(m, y): amount for m, y, amount in revised.values_list("measure_id", "fiscal_year", "amount")}
    policies = dict(Measure.objects.filter(pk__in={m for m, _ in first}).values_list("pk", "initiative__policy"))
    deltas = {}
    for (measure_id, year), change in first.items():
        original = snapshot_amount(change.before)
        key = (policies[measure_id], year)
        deltas[key] = deltas.get(key, 0) + counted(original) - counted(current.get((measure_id, year)))
    return deltas


def snapshot_amount(snapshot):
    """The LCC a RevisionChange kept (None: "－", or no row)."""
    return int(snapshot["amount"]) if snapshot and snapshot.get("amount") is not None else None


def snapshot_target_text(snapshot, shape):
    """A KPI target a RevisionChange kept, as kpi_text reads it with the KGI's ``shape``."""
    if not snapshot:
        return kpi_text(None)
    value = Decimal(snapshot["value"]) if snapshot.get("value") is not None else None
    return kpi_text(value, snapshot.get("text") or "", note=snapshot.get("note") or "", **shape)


def revised_totals(plan):
    """The 計 of revised_report (every measure of the plan), by SQL, never from the rows: {(column group,
    header): total}. The LCC as adopted is the revised one plus what revisions changed
    (original_cost_deltas, the rule 図表2-4-1 reads). Three to five queries, whatever the plan's size."""
    mine = {"measure__plan": plan, "fiscal_year__in": plan.fiscal_years}
    revised = counted(PlannedCost.objects.filter(**mine).aggregate(total=Sum("amount"))["total"])
    spent = counted(MeasureYear.objects.filter(**mine).aggregate(total=Sum("actual_cost"))["total"])
    deltas = original_cost_deltas(plan)
    adopted = revised + sum(delta for (_, year), delta in deltas.items() if year in plan.fiscal_years)
    return {("", "LCC（当初、千円）"): adopted, ("", "LCC（見直し後、千円）"): revised, ("", "決算額（千円）"): spent}


def revised_report(plan, only_revised=False, measures=None):
    """当初計画・見直し後・実績 per measure and year (long format: prints in ten columns); ``measures``:
    the rows of only these (a page of the plan's measures). The data is read when the rows are."""
    scope = Measure.objects.filter(plan=plan) if measures is None else measures
    columns = [
        Column("施策コード", width=9),
        Column(plan.measure_level, width=30),
        Column("年度", width=14),
        Column("KPI目標（当初）", width=14),
        Column("KPI目標（見直し後）", width=14),
        Column("KPI実績", width=12),
        Column("LCC（当初、千円）", "amount"),
        Column("LCC（見直し後、千円）", "amount"),
        Column("決算額（千円）", "amount"),
        Column("見直し", width=12),
        Column("注記", width=40),
    ]

    def rows():
        shown = list(scope.select_related("kgi").order_by(*PLAN_ORDER))
        mine = {"measure__plan": plan} if measures is None else {"measure__in": measures.values("pk")}
        targets = {(t.measure_id, t.fiscal_year): t for t in KpiTarget.objects.filter(**mine)}
        costs = {(c.measure_id, c.fiscal_year): c for c in PlannedCost.objects.filter(**mine)}
        records = {(r.measure_id, r.fiscal_year): r for r in MeasureYear.objects.filter(**mine)}
        first_targets = first_changes(plan, RevisionChange.Kind.KPI_TARGET, measures)
        first_costs = first_changes(plan, RevisionChange.Kind.PLANNED_COST, measures)
        revised = revisions_by_row(plan, measures)
        for m in shown:
            shape = kgi_shape(getattr(m, "kgi", None))
            for year in plan.fiscal_years:
                key = (m.pk, year)
                if only_revised and key not in revised:
                    continue
                target, cost, record = targets.get(key), costs.get(key), records.get(key)
                now = kpi_text(target.value, target.text, note=target.note, **shape) if target else kpi_text(None)
                original = snapshot_target_text(first_targets[key].before, shape) if key in first_targets else now
                amount = cost.amount if cost else None
                if key in first_costs:
                    adopted = snapshot_amount(first_costs[key].before)
                else:
                    adopted = amount
                actual = kpi_text(None)
                if record:
                    actual = kpi_text(record.kpi_actual, record.kpi_actual_text, **shape, actual=True)
                yield [
                    m.code,
                    m.name,
                    fiscal_year_label(year),
                    original,
                    now,
                    actual,
                    adopted,
                    amount,
                    record.actual_cost if record else None,
                    "・".join(f"第{n}回" for n in revised.get(key, [])),
                    notes_cell(
                        [(KPI_TARGET, year, target.note if target else ""), (LCC, year, cost.note if cost else "")],
                        m.notes,
                    ),
                ]

    return Report(
        title=f"{plan.title} 当初計画・見直し後・実績",
        sheet="当初・見直し後・実績",
        filename=f"当初計画・見直し後・実績_{plan.title}",
        columns=columns,
        rows=rows(),
        notes=(
            "単位：千円",
            "当初は策定時の計画、見直し後は見直しを反映した現在の計画。「見直し」は変更した見直しの回。",
        ),
    )
