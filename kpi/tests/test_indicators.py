"""Several indicators per measure (kpi.models.Indicator, IndicatorYear): each evaluated on its own, and the
measure's year result by the plan's rule (Plan.overall_rule): the primary indicator, the lowest or the mean
達成度; the database counts and filters as the evaluation does."""

import itertools
from decimal import Decimal

import pytest
from django.db.models import F

from initiatives.models import Measure
from kpi.achievement import assess, combined, grade_scale
from kpi.facts import classified, measure_facts
from kpi.models import Indicator, IndicatorYear, KpiTarget, MeasureYear
from kpi.rollup import summarise

pytestmark = pytest.mark.django_db

YEAR = 2025
# (direction, target, actual) of an extra indicator; None: no such indicator
SHAPES = [
    None,
    ("higher", Decimal("10"), Decimal("12")),
    ("higher", Decimal("10"), None),
    ("lower", Decimal("0"), Decimal("3")),
    ("lower", Decimal("5"), Decimal("4")),
    ("reduction", Decimal("30"), Decimal("7.5")),
    ("higher", Decimal("3"), Decimal("1")),
]


@pytest.fixture
def several(plan):
    """Every measure of the plan with up to two more indicators in YEAR, in every combination of SHAPES, and
    its primary KPI actual set to a spread of values (or none)."""
    measures = list(Measure.objects.filter(plan=plan).order_by("pk"))
    combos = list(itertools.product(SHAPES, SHAPES))
    targets = {t.measure_id: t for t in KpiTarget.objects.filter(measure__plan=plan, fiscal_year=YEAR)}
    rows = []
    for index, measure in enumerate(measures * 2):  # every measure twice over: 60 combinations
        if index >= len(measures):
            break
        first, second = combos[index % len(combos)]
        for number, shape in ((2, first), (3, second)):
            if shape is None:
                continue
            direction, target, actual = shape
            indicator = Indicator.objects.create(
                measure=measure, number=number, name=f"指標{number}", direction=direction
            )
            rows.append(
                IndicatorYear(
                    indicator=indicator, measure=measure, fiscal_year=YEAR, target_value=target, actual_value=actual
                )
            )
        target = targets.get(measure.pk)
        if target is not None and index % 3:
            value = target.value if target.value is not None else None
            MeasureYear.objects.create(
                measure=measure, fiscal_year=YEAR, kpi_actual=value * (Decimal("0.5"), Decimal("0.9"), Decimal("1.2"))[index % 3] if value else None,
                kpi_actual_text="" if value else "実施", judged_grade="" if value else "B",
                evaluation_comment="" if value else "理由",
            )  # fmt: skip
    IndicatorYear.objects.bulk_create(rows)
    return plan


@pytest.mark.parametrize("rule", ["lowest", "mean", "primary"])
def test_the_database_combines_the_indicators_as_the_evaluation_does(several, rule):
    plan = several
    plan.overall_rule = rule
    scale = grade_scale(plan)
    measures = Measure.objects.filter(plan=plan)
    facts = {f.measure_id: f for f in measure_facts(plan, [YEAR], measures, scale=scale)}
    shown = classified(measures, YEAR, scale).annotate(shown_grade=F("grade"), shown_rate=F("rate10"))
    seen = set()
    for pk, grade, rate10 in shown.values_list("pk", "shown_grade", "shown_rate"):
        assessment = facts[pk].assessment
        expected_rate = None if assessment.rate is None else int(assessment.rate * 10)
        assert (grade, rate10) == (assessment.grade, expected_rate), (rule, pk)
        seen.add(assessment.grade)
    assert len(seen) >= 3  # several grades reached: the comparison covers more than one branch
    total = summarise(plan, YEAR, classified(measures, YEAR, scale), scale=scale)[0]
    assert sum(total.grades.values()) == measures.count()


def test_the_rules_by_hand(plan):
    scale = grade_scale(plan)  # S 110, A 100, B 80, C 60, D below
    primary = assess("higher", Decimal("10"), "", Decimal("12"), scale=scale)  # 120.0% S
    low = assess("higher", Decimal("10"), "", Decimal("5"), scale=scale)  # 50.0% D
    waiting = assess("higher", Decimal("10"), "", None, scale=scale)  # 未入力: not counted
    assert combined(primary, [low, waiting], scale.with_overall("primary")).grade == "S"
    lowest = combined(primary, [low, waiting], scale.with_overall("lowest"))
    assert (lowest.rate, lowest.grade) == (Decimal("50.0"), "D")
    mean = combined(primary, [low, waiting], scale.with_overall("mean"))
    assert (mean.rate, mean.grade) == (Decimal("85.0"), "B")  # (120 + 50) / 2
    text = assess("higher", None, "導入", None, judged_grade="A", scale=scale)
    # no 達成度 anywhere: the primary's own result stands
    assert combined(text, [waiting], scale.with_overall("mean")).grade == "A"
