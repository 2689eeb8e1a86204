"""Reads for the measure page: its years, history and charts.

The page spans the three apps (targets and records from kpi, costs from budget), so it sits in the
top layer; each function returns plain data so the template makes no queries."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone

from budget.chain import STAGE_PERMISSIONS, STAGES, chain_of
from budget.final import measure_final_row
from budget.models import FUNDING_FIELDS, BudgetFigure, FinalEvaluation, HearingDecision, PlannedCost
from budget.revised import snapshot_amount, snapshot_target_text
from initiatives.fiscal import fiscal_year_label, format_amount, format_number
from initiatives.models import Measure, NationalPriority, RevisionChange, related_or_none
from kpi.achievement import assess, assess_year, combined, grade_scale, kgi_result
from kpi.attention import is_overdue
from kpi.models import BarStatus, Indicator, Kgi, KpiTarget, MeasureYear, kgi_shape, kpi_text


@dataclass
class BarCell:
    year: int
    on: bool  # the bar covers this year
    state: str = ""  # reported progress (BarStatus.State), if any
    state_label: str = ""


@dataclass
class BarRow:
    bar: object
    cells: list


def get_measure(plan_code, code):
    return get_object_or_404(
        Measure.objects.select_related(
            "plan", "initiative__policy", "kgi", "department", "final_evaluation", "group"
        ).prefetch_related(
            "schedule_bars",
            Prefetch("national_priorities", queryset=NationalPriority.objects.order_by("number")),
            "kpi_targets",
            "planned_costs",
            "years__bar_statuses",
            "years__approved_by",
            "plan__grade_thresholds",
            "hearing_decisions",
            Prefetch("indicators", queryset=Indicator.objects.order_by("number").prefetch_related("years")),
            Prefetch(
                "revision_changes",
                queryset=RevisionChange.objects.select_related("revision").order_by("revision__number", "pk"),
            ),
        ),
        plan__code=plan_code,
        code=code,
    )


def schedule_rows(measure):
    """Schedule bars across the plan's years, with the progress reported for each year."""
    reported = {
        (status.bar_id, record.fiscal_year): status
        for record in measure.years.all()
        for status in record.bar_statuses.all()
    }
    rows = []
    for bar in measure.schedule_bars.all():
        cells = []
        for year in measure.plan.fiscal_years:
            status = reported.get((bar.pk, year))
            cells.append(
                BarCell(
                    year, bar.covers(year), status.state if status else "", status.get_state_display() if status else ""
                )
            )
        rows.append(BarRow(bar, cells))
    return rows


@dataclass
class YearRow:
    year: int
    target: KpiTarget | None
    record: MeasureYear | None
    assessment: object
    planned_cost: PlannedCost | None
    previous: MeasureYear | None  # last year's record, for its 改善方針
    overdue: bool = False
    kgi: Kgi | None = None  # the unit and shape its KPI values read in
    decision: object = None  # the 予算ヒアリング's 確認・評価 and decision (budget.HearingDecision)

    @property
    def label(self):
        return fiscal_year_label(self.year)

    @property
    def target_display(self):
        return self.target.display(self.kgi) if self.target else kpi_text(None)

    @property
    def actual_display(self):
        return self.record.actual_display(self.kgi) if self.record else kpi_text(None)


def measure_year_rows(measure, today=None):
    """Per plan year: target, actual, 達成度/grade, planned cost and last year's 改善方針."""
    today = today or timezone.localdate()
    kgi = getattr(measure, "kgi", None)
    scale = grade_scale(measure.plan)
    targets = {t.fiscal_year: t for t in measure.kpi_targets.all()}
    costs = {c.fiscal_year: c for c in measure.planned_costs.all()}
    records = {r.fiscal_year: r for r in measure.years.all()}
    decisions = {d.fiscal_year: d for d in measure.hearing_decisions.all()}
    others = {}  # year → the other indicators' assessments, for the plan's overall rule
    for row in indicator_rows(measure, scale):
        for cell in row.years:
            others.setdefault(cell.year, []).append(cell.assessment)
    rows = []
    for year in measure.plan.fiscal_years:
        record = records.get(year)
        rows.append(
            YearRow(
                year,
                targets.get(year),
                record,
                combined(assess_year(kgi, targets.get(year), record, scale), others.get(year, ()), scale),
                costs.get(year),
                records.get(year - 1),
                overdue=is_overdue(year, bool(record and record.has_actuals), today),
                kgi=kgi,
                decision=decisions.get(year),
            )
        )
    return rows


@dataclass
class IndicatorCell:
    year: int
    target: str
    actual: str
    assessment: object


@dataclass
class IndicatorRow:
    """One of the measure's indicators besides the primary: each plan year, and the period (as the KGI)."""

    indicator: object
    years: list
    period: object  # kpi.achievement.KgiResult


def indicator_rows(measure, scale):
    """The measure's other indicators (prefetched by get_measure), each evaluated year by year and over the
    period (kpi.achievement.assess and kgi_result, as for the primary indicator)."""
    out = []
    for indicator in measure.indicators.all():
        shape = {"unit": indicator.unit, "direction": indicator.direction}
        by_year = {y.fiscal_year: y for y in indicator.years.all()}
        cells = []
        for year in measure.plan.fiscal_years:
            row = by_year.get(year)
            value, text = (row.target_value, row.target_text) if row else (None, "")
            actual = row.actual_value if row else None
            cells.append(
                IndicatorCell(
                    year,
                    kpi_text(value, text, **shape),
                    kpi_text(actual, row.actual_text if row else "", **shape, actual=True),
                    assess(indicator.direction, value, text, actual, "", scale),
                )
            )
        recorded = {y: (row.actual_value, "") for y, row in by_year.items()}
        out.append(IndicatorRow(indicator, cells, kgi_result(indicator, recorded, measure.plan.end_year, scale)))
    return out


@dataclass
class Change:
    when: object
    who: str
    what: str
    reason: str
    changes: list = field(default_factory=list)  # (field label, old, new)


def _shown(model, name, value):
    f = model._meta.get_field(name)
    if value in (None, ""):
        return "－"
    if f.choices:
        return dict(f.flatchoices).get(value, value)
    if name in ("amount", "actual_cost", "actual_general_fund", "actual_other_funds"):
        return format_amount(value)
    if f.get_internal_type() == "DecimalField":
        return format_number(value)
    return str(value)


def _changes(history_rows, model, fields, title):
    """Each row's diff against its object's previous row (``previous_<field>`` from _newest); returns the
    changes and the history's count of shown rows."""
    out, total = [], 0
    for h in history_rows:
        total = h.shown_total or 0
        first = h.previous_history_id is None
        diffs = []
        for f in fields:
            before, after = getattr(h, f"previous_{f}"), getattr(h, f)
            if (first and after not in (None, "")) or (not first and before != after):
                diffs.append(
                    (
                        str(model._meta.get_field(f).verbose_name),
                        "－" if first else _shown(model, f, before),
                        _shown(model, f, after),
                    )
                )
        if diffs or h.history_type == "-":
            who = _full_name(h.user_first_name, h.user_last_name) or h.user_username or "（システム）"
            out.append(Change(h.history_date, who, title(h), h.history_change_reason or "", diffs))
    return out, total


def _full_name(first, last):
    """User.get_full_name() from the joined columns."""
    return f"{first or ''} {last or ''}".strip()


# what people enter, plus the workflow's own changes
ENTRY_HISTORY_FIELDS = [*MeasureYear.ENTRY_FIELDS, "status", "return_comment"]


class History(list):
    """The newest changes, newest first; ``older``: how many older records of changes are not shown."""

    older = 0


def measure_history(measure, limit=100):
    """The newest ``limit`` changes to the measure's targets, costs, KGI, actuals and evaluations: who, when,
    old → new. One query per history model, each reading at most ``limit`` rows (newest first, each with
    its object's previous values from the database), however long the history grows."""

    def year_title(kind):
        return lambda h: f"{fiscal_year_label(h.fiscal_year)} {kind}"

    bars = {b.pk: b.label for b in measure.schedule_bars.all()}
    records = {r.pk: r.fiscal_year for r in measure.years.all()}
    stages = dict(BudgetFigure.Stage.choices)
    mine = ("measure_id", [measure.pk])
    sources = [
        (MeasureYear, mine, ENTRY_HISTORY_FIELDS, year_title("実績・評価")),
        (KpiTarget, mine, ["value", "text", "note"], year_title("KPI目標")),
        (PlannedCost, mine, ["amount"], year_title("年度経費（LCC）")),
        (
            BudgetFigure,
            mine,
            ["amount", *FUNDING_FIELDS, "note"],
            lambda h: f"{fiscal_year_label(h.fiscal_year)} {stages.get(h.stage, '')}",
        ),
        (
            HearingDecision,
            mine,
            ["evaluation", "decision", "decision_text"],
            year_title("予算ヒアリングの確認・評価"),
        ),
        (FinalEvaluation, mine, ["carry_over", "comment"], lambda h: "計画期間の総括"),
        (
            Kgi,
            mine,
            ["text", "target", "target_text", "unit", "direction", "is_cumulative"],
            lambda h: "数値目標（KGI）",
        ),
        (
            BarStatus,
            ("measure_year_id", list(records)),
            ["state"],
            lambda h: (
                f"{fiscal_year_label(records[h.measure_year_id]) if h.measure_year_id in records else ''} "
                f"{bars.get(h.bar_id, '')} の進捗"
            ),
        ),
    ]
    changes, unread = [], 0
    for model, (column, ids), fields, title in sources:
        if not ids:
            continue
        found, total = _changes(_newest(model, column, ids, fields, limit), model, fields, title)
        changes += found
        unread += total - len(found)
    changes.sort(key=lambda c: c.when, reverse=True)
    shown = History(changes[:limit])
    shown.older = unread + len(changes) - len(shown)
    return shown


def _newest(model, column, ids, fields, limit):
    """The newest ``limit`` shown rows of ``model``'s history whose ``column`` is one of ``ids``, each with
    ``previous_<field>`` (its object's row before it, by LAG over all of the object's rows),
    ``previous_history_id`` (None for the first), ``shown_total`` (how many shown rows that history has in
    all) and its user's ``user_username``, ``user_first_name`` and ``user_last_name``.

    Shown rows are those with a user or a reason: the plan's own loading is not news to anyone. The SQL is
    written out rather than built by the ORM, which spent about 3 ms per history compiling the windows and
    the filter over them (the measure page reads eight histories); it is plain SQL that SQLite and
    PostgreSQL both run, and the previous values pass through the same converters as the row's own."""
    history = model.history.model
    quote = connection.ops.quote_name
    table = quote(history._meta.db_table)
    user = get_user_model()._meta
    columns = {name: quote(history._meta.get_field(name).column) for name in (*fields, "history_id")}
    shown = (
        "CASE WHEN h.history_user_id IS NOT NULL OR "
        "(h.history_change_reason IS NOT NULL AND h.history_change_reason <> '') THEN 1 ELSE 0 END"
    )
    window = f"OVER (PARTITION BY h.{quote('id')} ORDER BY h.history_id)"
    previous = ", ".join(f"LAG(h.{col}) {window} AS {quote('previous_' + name)}" for name, col in columns.items())
    sql = (
        f"SELECT * FROM (SELECT h.*, {previous}, {shown} AS shown, SUM({shown}) OVER () AS shown_total, "
        f"u.{quote(user.get_field('username').column)} AS user_username, "
        f"u.{quote(user.get_field('first_name').column)} AS user_first_name, "
        f"u.{quote(user.get_field('last_name').column)} AS user_last_name "
        f"FROM {table} h LEFT JOIN {quote(user.db_table)} u ON u.{quote(user.pk.column)} = h.history_user_id "
        f"WHERE h.{quote(column)} IN ({', '.join(['%s'] * len(ids))})) shown_rows "
        "WHERE shown = 1 ORDER BY history_date DESC, history_id DESC LIMIT %s"
    )
    rows = list(history.objects.raw(sql, [*ids, limit]))
    convert = {name: _converters(history, name) for name in fields}
    for row in rows:
        for name, (column, converters) in convert.items():
            value = getattr(row, f"previous_{name}")
            for converter in converters:
                value = converter(value, column, connection)
            setattr(row, f"previous_{name}", value)
    return rows


def _converters(model, name):
    """The column and what the database backend and the field apply to its raw value (as the ORM does for
    the row's own columns)."""
    field = model._meta.get_field(name)
    column = field.get_col(model._meta.db_table)
    return column, connection.ops.get_db_converters(column) + field.get_db_converters(connection)


def _number(value):
    return None if value is None else float(value)


def chart_data(measure, year_rows, schedule):
    """What the measure page's charts draw, as plain JSON-ready data."""
    kgi = getattr(measure, "kgi", None)
    return {
        "years": [row.label for row in year_rows],
        "unit": kgi.unit if kgi else "",
        "kpi": {
            "targets": [_number(row.target.value) if row.target else None for row in year_rows],
            "actuals": [_number(row.record.kpi_actual) if row.record else None for row in year_rows],
            # the hover text: each value as the tables read it ("30%減")
            "target_labels": [row.target_display for row in year_rows],
            "actual_labels": [row.actual_display for row in year_rows],
        },
        "cost": {
            "planned": [row.planned_cost.amount if row.planned_cost else None for row in year_rows],
            "actual": [row.record.actual_cost if row.record else None for row in year_rows],
        },
        "schedule": [
            {
                "label": row.bar.label,
                "start": row.bar.start_year,
                "end": row.bar.end_year,
                "inferred": row.bar.is_inferred,
                "states": [cell.state_label for cell in row.cells],
            }
            for row in schedule
        ],
        "first_year": measure.plan.start_year,
    }


def money_chain_rows(measure, user):
    """Per year of the plan: the year, its ChainYear (LCC → … → 決算額, flags), and the stages this user
    may enter (three queries)."""
    chain = chain_of(Measure.objects.filter(pk=measure.pk), measure.plan.fiscal_years)
    editable = [stage for stage in STAGES if user.has_perm(STAGE_PERMISSIONS[stage], measure)]
    return [(year, chain(measure.pk, year), editable) for year in measure.plan.fiscal_years]


def final_row(measure):
    """The measure's 計画期間の総括 (budget.final): its KGI over the period, totals and carry-over, from
    what get_measure fetched."""
    evaluation = related_or_none(measure, "final_evaluation")
    records, costs = measure.years.all(), measure.planned_costs.all()
    return measure_final_row(measure, records, costs, evaluation, grade_scale(measure.plan))


def predecessor_row(measure):
    """The 計画期間の総括 of the measure this one continues from the previous plan (Measure.predecessor), as
    final_row reads it: its KGI over that period, totals, carry-over and comment. None without one (no query)."""
    if measure.predecessor_id is None:
        return None
    before = (
        Measure.objects.select_related("plan", "kgi", "final_evaluation")
        .prefetch_related("years", "planned_costs", "plan__grade_thresholds")
        .get(pk=measure.predecessor_id)
    )
    return final_row(before)


def revision_rows(measure):
    """The revisions that changed this measure: (revision, [(year, what, before, after)]), oldest first."""
    shape = kgi_shape(getattr(measure, "kgi", None))
    out = {}
    for change in measure.revision_changes.all():
        rows = out.setdefault(change.revision, [])
        rows.append(
            (
                change.fiscal_year,
                change.get_kind_display(),
                _revised_value(change.kind, change.before, shape),
                _revised_value(change.kind, change.after, shape),
            )
        )
    return list(out.items())


def _revised_value(kind, snapshot, shape):
    if kind == RevisionChange.Kind.PLANNED_COST:
        return format_amount(snapshot_amount(snapshot))
    return snapshot_target_text(snapshot, shape)
