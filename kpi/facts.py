"""One fact per measure and fiscal year: what the dashboard, the measure list and the hearing reports
are computed from.

``year_rows`` is the selector (one query a year, named columns, values not model instances);
``measure_facts`` evaluates each row with kpi.achievement and kpi.attention. The roll-up of facts
is kpi.rollup.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BooleanField, Case, Exists, F, FilteredRelation, Max, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from initiatives.fiscal import fiscal_year_of
from initiatives.models import PLAN_ORDER
from initiatives.notes import KPI_TARGET, LCC, notes_cell

from .achievement import CombinedGrade, CombinedRateTenths, GradeOf, RateTenths, assess, combined, grade_scale
from .attention import ATTENTION, attention_sql, is_overdue, reasons
from .models import (
    BarStatus,
    Direction,
    IndicatorYear,
    MeasureYear,
    actuals_entered,
    has_actuals,
    kpi_text,
    pdca_stage,
    pdca_stage_sql,
)


@dataclass(slots=True)
class Fact:
    measure_id: int
    code: str
    name: str
    url_parts: tuple  # (before, after) the code in the measure page's URL, shared by all facts of a plan
    policy_id: int
    policy_label: str
    initiative_id: int
    initiative_label: str
    department_id: int | None
    department_name: str
    unit: str
    year: int
    direction: str = Direction.HIGHER
    indicator: str = ""  # the KGI's 指標
    target_value: Decimal | None = None
    target_text: str = ""
    target_note: str = ""
    actual: Decimal | None = None
    actual_text: str = ""
    planned_cost: int | None = None
    cost_note: str = ""  # the plan's note on the LCC cell ("※4")
    measure_notes: str = ""  # the measure's footnotes (Measure.notes), for the notes' texts
    actual_cost: int | None = None
    status: str = MeasureYear.Status.DRAFT
    stage: str = "P"
    entered: bool = False
    evaluation_comment: str = ""
    improvement: str = ""
    improvement_text: str = ""
    overdue: bool = False
    delayed: bool = False
    assessment: object = None
    sample: bool = False  # the record is the demo's made-up figures
    group_label: str = ""  # the third level of a plan of four levels (Plan.group_label)

    @property
    def attention(self):
        """The ATTENTION keys that apply (kpi.attention.reasons), worked out where they are shown: the
        dashboard and the measure list show them for a page of facts, the reports never."""
        return reasons(self)

    @property
    def grade(self):
        return self.assessment.grade

    def target_display(self):
        return kpi_text(
            self.target_value, self.target_text, unit=self.unit, direction=self.direction, note=self.target_note
        )

    def actual_display(self):
        return kpi_text(self.actual, self.actual_text, unit=self.unit, direction=self.direction, actual=True)

    @property
    def url(self):
        return f"{self.url_parts[0]}{self.code}{self.url_parts[1]}"

    @property
    def reasons(self):
        return [ATTENTION[key] for key in self.attention]


def default_year(plan, today=None):
    """The latest year with entered actuals, else the current fiscal year within the plan."""
    latest = MeasureYear.objects.filter(actuals_entered(), measure__plan=plan).aggregate(year=Max("fiscal_year"))
    if latest["year"]:
        return latest["year"]
    current = fiscal_year_of(today or timezone.localdate())
    return min(max(current, plan.start_year), plan.end_year)


# The measure's own columns, then row name → column for the rest: its place in the plan (MEASURE_COLUMNS,
# the same every year), then the year's target (t), planned cost (c) and record (y) (YEAR_COLUMNS). Adding
# a column is one line here and one use below.
ROW_FIELDS = ("code", "initiative_id", "department_id")
MEASURE_COLUMNS = {
    "measure_name": F("name"),
    "policy_id": F("initiative__policy_id"),
    "policy_numeral": F("initiative__policy__numeral"),
    "policy_title": F("initiative__policy__title"),
    "initiative_number": F("initiative__number"),
    "initiative_title": F("initiative__title"),
    "group_number": F("group__number"),
    "group_title": F("group__title"),
    "department_name": F("department__name"),
    "department_is_sample": F("department__is_sample"),
    "unit": F("kgi__unit"),
    "indicator": F("kgi__indicator"),
    "direction": F("kgi__direction"),
    "measure_notes": F("notes"),
}
YEAR_COLUMNS = {
    "measure_id": F("pk"),
    "target_value": F("t__value"),
    "target_text": F("t__text"),
    "target_note": F("t__note"),
    "planned_cost": F("c__amount"),
    "cost_note": F("c__note"),
    "record_id": F("y__id"),
    "actual": F("y__kpi_actual"),
    "actual_text": F("y__kpi_actual_text"),
    "judged_grade": F("y__judged_grade"),
    "actual_cost": F("y__actual_cost"),
    "work_done": F("y__work_done"),
    "evaluation_comment": F("y__evaluation_comment"),
    "improvement": F("y__improvement"),
    "improvement_text": F("y__improvement_text"),
    "status": F("y__status"),
    "sample": F("y__is_sample"),
}


def _joined(measures, year):
    """The measures with that year's target (t), planned cost (c) and record (y) joined in."""
    return measures.annotate(
        t=FilteredRelation("kpi_targets", condition=Q(kpi_targets__fiscal_year=year)),
        c=FilteredRelation("planned_costs", condition=Q(planned_costs__fiscal_year=year)),
        y=FilteredRelation("years", condition=Q(years__fiscal_year=year)),
    )


def year_rows(measures, year, measure_columns=True):
    """The measures with that year's target, planned cost and record joined in, as named rows: one query.
    Without ``measure_columns``, only the year's columns (and ``measure_id``): the rest is the same every year."""
    fields = (*ROW_FIELDS, *MEASURE_COLUMNS) if measure_columns else ()
    columns = {**(MEASURE_COLUMNS if measure_columns else {}), **YEAR_COLUMNS}
    return _joined(measures, year).annotate(**columns).values_list(*fields, *YEAR_COLUMNS, named=True)


def classified(measures, year, scale, today=None):
    """The measures of one year, each classified in SQL as measure_facts would (grade, 達成度 in tenths,
    PDCA stage, status, attention), as aliases to filter, count and sum by without a row in Python:
    ``grade`` ("" for none), ``rate10``, ``stage``, ``status``, ``entered``, ``delayed`` and
    ``attention_<key>`` for each key of ATTENTION. The rules are those of kpi.achievement, kpi.models
    and kpi.attention, in their SQL form (kpi/tests/test_sql_grades.py checks that both agree)."""
    today = today or timezone.localdate()
    grade = GradeOf(
        scale, "kgi__direction", "t__value_hundredths", "t__text", "y__kpi_actual_hundredths", "y__judged_grade"
    )
    rate10 = RateTenths("kgi__direction", "t__value_hundredths", "y__kpi_actual_hundredths")
    if scale.combines_indicators:  # the measure's other indicators too (kpi.achievement.combined)
        rate10 = CombinedRateTenths(scale, rate10, year)
        grade = CombinedGrade(scale, rate10, grade)
    rows = _joined(measures, year).alias(
        grade=grade,
        rate10=rate10,
        stage=pdca_stage_sql("y__"),
        status=Coalesce(F("y__status"), Value(MeasureYear.Status.DRAFT)),
        entered=Case(When(actuals_entered("y__"), then=Value(True)), default=Value(False), output_field=BooleanField()),
        delayed=Exists(
            BarStatus.objects.filter(
                measure_year__measure=OuterRef("pk"), measure_year__fiscal_year=year, state=BarStatus.State.DELAYED
            )
        ),
    )
    conditions = attention_sql(is_overdue(year, False, today), scale.low)
    return rows.alias(**{f"attention_{key}": _flag(condition) for key, condition in conditions.items()})


def _flag(condition):
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def needing_attention(key=""):
    """The condition on classified() rows: that reason (a key of ATTENTION), or any reason."""
    if key:
        return Q(**{f"attention_{key}": True})
    return Q(*(Q(**{f"attention_{k}": True}) for k in ATTENTION), _connector=Q.OR)


def filter_classified(rows, grade="", stage="", attention=""):
    """The computed filters (grade, stage, attention) on classified() rows."""
    if grade:
        rows = rows.filter(grade="" if grade == "none" else grade)
    if stage:
        rows = rows.filter(stage=stage)
    if attention:
        rows = rows.filter(needing_attention("" if attention == "any" else attention))
    return rows


def measure_facts(plan, years, measures, today=None, scale=None):
    """Facts for the given Measure queryset in each of `years`, measure by measure in plan order.

    Queries: one per year (year_rows; the measure's own columns with the first year only), one for delayed
    schedule bars, one for the grade thresholds (none if ``scale`` is given), and where the plan combines a
    measure's indicators (Plan.overall_rule), one for the other indicators.
    """
    today = today or timezone.localdate()
    years = list(years)
    scale = scale or grade_scale(plan)
    measures = measures.order_by(*PLAN_ORDER)
    delayed = set(
        BarStatus.objects.filter(
            measure_year__measure__in=measures.values("pk"),
            measure_year__fiscal_year__in=years,
            state=BarStatus.State.DELAYED,
        ).values_list("measure_year__measure_id", "measure_year__fiscal_year")
    )
    # the measure code is the URL's last part, so split there (a plan code may contain anything)
    url_parts = tuple(reverse("measure_detail", args=[plan.code, "CODE"]).rsplit("CODE", 1))
    labels = {}  # policy/initiative/department labels, formatted once each

    others = other_indicators(measures, years, scale) if scale.combines_indicators else {}
    by_year, common = {}, {}  # common: each measure's own fields, from the first year's rows
    for index, year in enumerate(years):
        facts = by_year[year] = []
        overdue = {entered: is_overdue(year, entered, today) for entered in (True, False)}  # the same all year
        for row in year_rows(measures, year, measure_columns=index == 0):
            if index == 0:
                common[row.measure_id] = _measure_fields(row, url_parts, labels, plan)
            entered = row.record_id is not None and has_actuals(
                row.actual, row.actual_text, row.actual_cost, row.work_done
            )
            own = common[row.measure_id]
            fact = Fact(
                **own,
                year=year,
                target_value=row.target_value,
                target_text=row.target_text or "",
                target_note=row.target_note or "",
                actual=row.actual,
                actual_text=row.actual_text or "",
                planned_cost=row.planned_cost,
                cost_note=row.cost_note or "",
                actual_cost=row.actual_cost,
                status=row.status or MeasureYear.Status.DRAFT,
                sample=bool(row.sample),
                stage=pdca_stage(entered, row.evaluation_comment, row.improvement),
                entered=entered,
                evaluation_comment=row.evaluation_comment or "",
                improvement=row.improvement or "",
                improvement_text=row.improvement_text or "",
                overdue=overdue[entered],
                delayed=(row.measure_id, year) in delayed,
                assessment=assess(
                    own["direction"], row.target_value, row.target_text, row.actual, row.judged_grade or "", scale
                ),
            )
            if others:  # the plan combines a measure's indicators (kpi.achievement.combined)
                fact.assessment = combined(fact.assessment, others.get((row.measure_id, year), ()), scale)
            facts.append(fact)
    # measure by measure, its years in order (the hearing sheet's rows)
    return [fact for group in zip(*(by_year[y] for y in years), strict=True) for fact in group]


def other_indicators(measures, years, scale):
    """{(measure id, year): [Assessment]} of the measures' indicators besides the primary (one query)."""
    rows = IndicatorYear.objects.filter(measure__in=measures.values("pk"), fiscal_year__in=years).values_list(
        "measure_id", "fiscal_year", "indicator__direction", "target_value", "target_text", "actual_value"
    )
    out = {}
    for measure_id, year, direction, target_value, target_text, actual in rows:
        out.setdefault((measure_id, year), []).append(assess(direction, target_value, target_text, actual, "", scale))
    return out


def _measure_fields(row, url_parts, labels, plan):
    """A Fact's fields that are the measure's own (the same every year), from a year_rows row; ``labels``
    holds each policy, initiative and department label, formatted once (in the plan's names for its levels)."""
    policy_label = labels.get(("p", row.policy_id)) or labels.setdefault(
        ("p", row.policy_id), plan.policy_label(row.policy_numeral, row.policy_title)
    )
    initiative_label = labels.get(("i", row.initiative_id)) or labels.setdefault(
        ("i", row.initiative_id), plan.initiative_label(row.initiative_number, row.initiative_title)
    )
    department_label = labels.get(("d", row.department_id))
    if department_label is None:
        department = row.department_name or ""
        department_label = f"{department}（サンプル）" if row.department_is_sample else department
        labels["d", row.department_id] = department_label
    return {
        "measure_id": row.measure_id,
        "code": row.code,
        "name": row.measure_name,
        "url_parts": url_parts,
        "policy_id": row.policy_id,
        "policy_label": policy_label,
        "initiative_id": row.initiative_id,
        "initiative_label": initiative_label,
        "group_label": plan.group_label(row.group_number, row.group_title),
        "department_id": row.department_id,
        "department_name": department_label,
        "unit": row.unit or "",
        "indicator": row.indicator or "",
        "direction": row.direction or Direction.HIGHER,
        "measure_notes": row.measure_notes,
    }


def notes_of(facts):
    """The 注記 of one measure's facts (initiatives.notes): its noted KPI targets and LCC, and their footnotes."""
    if not facts:
        return ""
    cells = [(KPI_TARGET, f.year, f.target_note) for f in facts] + [(LCC, f.year, f.cost_note) for f in facts]
    return notes_cell(cells, facts[0].measure_notes)


def default_plan(plans):
    """The plan whose records were entered last, else the newest plan."""
    latest = MeasureYear.objects.order_by("-fiscal_year", "-pk").values_list("measure__plan_id", flat=True).first()
    return next((p for p in plans if p.pk == latest), plans[0] if plans else None)
