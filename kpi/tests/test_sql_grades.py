"""The database's classification (kpi.facts.classified) agrees with the one evaluation (kpi.achievement.assess
through kpi.facts.measure_facts) on every KPI shape, at every grade boundary, under the plan's own thresholds.

The dashboard counts and the measure list filters by the SQL form; the pages show the Python form. If
the two ever disagreed, a count would lead to a list that does not hold what it counted.
"""

from collections import Counter
from decimal import ROUND_DOWN, Decimal
from itertools import cycle

import pytest
from django.db.models import F

from budget.chain import FLAGS, chain_of, chain_of_facts, chain_years, flag_counts
from budget.models import BudgetFigure, PlannedCost
from initiatives.models import Measure
from kpi.achievement import grade_scale
from kpi.facts import classified, filter_classified, measure_facts
from kpi.models import Direction, GradeThreshold, Kgi, KpiTarget, MeasureYear
from kpi.rollup import summarise

pytestmark = pytest.mark.django_db

YEAR = 2024  # closed: a row without actuals is overdue
CENT = Decimal("0.01")
# Thresholds off the default, with a boundary that is not a whole percent.
THRESHOLDS = {"S": Decimal("120"), "A": Decimal("100"), "B": Decimal("79.9"), "C": Decimal("60.1"), "D": Decimal("0")}


def boundary_actuals(direction, target):
    """Actuals whose 達成度 falls on, just under and just over every threshold after rounding to 0.1."""
    found = {None, Decimal(0), target, target + CENT}
    if target == 0:
        return found | {Decimal(1), Decimal("0.01")}
    for minimum in THRESHOLDS.values():
        edge = minimum - Decimal("0.05")  # the smallest rate that rounds up to the threshold
        if edge <= 0:
            continue
        if direction == Direction.LOWER:
            actual = (target * 100 / edge).quantize(CENT, rounding=ROUND_DOWN)
        else:
            actual = (target * edge / 100).quantize(CENT, rounding=ROUND_DOWN)
        found |= {actual - CENT, actual, actual + CENT}
    return {a for a in found if a is None or a >= 0}


def shapes():
    """(direction, target value, target text, actual, judged grade) for every shape the plan has."""
    for direction in Direction.values:
        for target in (Decimal(0), Decimal("0.35"), Decimal(40), Decimal(112), Decimal("99999.99")):
            for actual in sorted(boundary_actuals(direction, target), key=lambda a: (a is None, a)):
                yield direction, target, "", actual, ""
        yield direction, None, "", None, ""  # the plan's "－"
        yield direction, None, "", Decimal(5), ""  # an actual against no target
        yield direction, None, "システム稼働", None, ""  # a text target, not judged yet
        yield direction, None, "システム稼働", None, "B"  # judged by the department


@pytest.fixture
def shaped_plan(plan):
    for grade, minimum in THRESHOLDS.items():
        GradeThreshold.objects.update_or_create(plan=plan, grade=grade, defaults={"min_rate": minimum})
    initiative = plan.policies.get(number=1).initiatives.get(number=1)
    rows = list(shapes())
    measures = Measure.objects.bulk_create(
        Measure(plan=plan, initiative=initiative, code=f"S-{i}", ordinal=100 + i, name=f"形{i}")
        for i in range(len(rows))
    )
    Kgi.objects.bulk_create(
        Kgi(measure=m, text="指標", indicator="指標", target=10, unit="件", direction=row[0])
        for m, row in zip(measures, rows, strict=True)
    )
    KpiTarget.objects.bulk_create(
        KpiTarget(measure=m, fiscal_year=YEAR, value=row[1], text=row[2])
        for m, row in zip(measures, rows, strict=True)
        if row[1] is not None or row[2]
    )
    PlannedCost.objects.bulk_create(PlannedCost(measure=m, fiscal_year=YEAR, amount=100) for m in measures[::3])
    BudgetFigure.objects.bulk_create(
        BudgetFigure(measure=m, fiscal_year=YEAR, stage=stage, amount=amount, general_fund=amount)
        for i, m in enumerate(measures[::2])
        for stage, amount in (("request", 100 + i % 3), ("assessed", 85 + i % 10))
    )
    states = cycle(
        [
            {"status": "draft"},
            {"status": "submitted", "actual_cost": 90},
            {"status": "returned", "evaluation_comment": "理由"},
            {"status": "approved", "evaluation_comment": "順調", "improvement": "continue"},
            {"status": "draft", "actual_cost": 0},
        ]
    )
    records = []
    for m, (_d, _v, _t, actual, judged), state in zip(measures, rows, states, strict=False):  # states cycle
        if actual is None and not judged and state["status"] == "draft" and "actual_cost" not in state:
            continue  # no record at all: a row the left join finds empty
        state = dict(state)
        if judged:
            state["evaluation_comment"] = state.get("evaluation_comment") or "判定の理由"
        records.append(MeasureYear(measure=m, fiscal_year=YEAR, kpi_actual=actual, judged_grade=judged, **state))
    MeasureYear.objects.bulk_create(records)
    return plan


def test_the_sql_grade_rate_stage_and_attention_agree_with_the_evaluation(shaped_plan):
    plan = shaped_plan
    scale = grade_scale(plan)
    measures = Measure.objects.filter(plan=plan)
    facts = {f.measure_id: f for f in measure_facts(plan, [YEAR], measures, scale=scale)}
    keys = ["attention_delayed", "attention_low_grade", "attention_not_entered", "attention_returned"]
    names = ["grade", "rate10", "stage", "status", *keys]
    shown = classified(measures, YEAR, scale).annotate(**{f"shown_{name}": F(name) for name in names})
    rows = shown.values_list("pk", *(f"shown_{name}" for name in names))
    seen = Counter()
    for pk, grade, rate10, stage, status, *attention in rows:
        fact = facts[pk]
        expected_rate = None if fact.assessment.rate is None else int(fact.assessment.rate * 10)
        shape = (fact.direction, fact.target_value, fact.target_text, fact.actual)
        assert (grade, rate10) == (fact.assessment.grade, expected_rate), shape
        assert (stage, status) == (fact.stage, fact.status), shape
        assert tuple(k.removeprefix("attention_") for k, on in zip(keys, attention, strict=True) if on) == (
            fact.attention
        ), shape
        seen[fact.assessment.grade or fact.assessment.state] += 1
    assert len(facts) == len(rows) == measures.count() > 200
    # every grade of the scale and every state without one was reached, so each branch was compared
    assert set(seen) >= {*THRESHOLDS, "no_target", "missing", "unjudged"}


def test_the_roll_up_and_the_filters_count_what_the_evaluation_says(shaped_plan):
    plan = shaped_plan
    scale = grade_scale(plan)
    measures = Measure.objects.filter(plan=plan)
    facts = measure_facts(plan, [YEAR], measures, scale=scale)
    total = summarise(plan, YEAR, classified(measures, YEAR, scale))[0]
    assert total.measures == len(facts)
    assert total.grades == Counter(f.assessment.grade or "none" for f in facts) | Counter(
        dict.fromkeys(total.grades, 0)
    )
    assert +total.stages == Counter(f.stage for f in facts)
    assert +total.attention == Counter(key for f in facts for key in f.attention)
    assert total.needing_attention == sum(bool(f.attention) for f in facts)
    rates = [f.assessment.rate for f in facts if f.assessment.rate is not None]
    assert total.average_rate == (sum(rates) / len(rates)).quantize(Decimal("0.1"))
    assert total.planned == sum(f.planned_cost or 0 for f in facts)
    assert total.actual == sum(f.actual_cost for f in facts if f.actual_cost is not None)
    for grade in [*THRESHOLDS, "none"]:
        listed = filter_classified(classified(measures, YEAR, scale), grade=grade).values_list("pk", flat=True)
        assert set(listed) == {f.measure_id for f in facts if (f.assessment.grade or "none") == grade}, grade
    for key in ["any", "low_grade", "not_entered", "returned"]:
        listed = filter_classified(classified(measures, YEAR, scale), attention=key).values_list("pk", flat=True)
        wanted = {f.measure_id for f in facts if (f.attention if key == "any" else key in f.attention)}
        assert set(listed) == wanted, key


def test_the_money_chain_flags_counted_in_sql_agree_with_each_chain(shaped_plan):
    measures = Measure.objects.filter(plan=shaped_plan)
    chains = chain_years(measures, [YEAR]).values()
    expected = [(flag, sum(flag in chain.flags for chain in chains)) for flag in FLAGS]
    assert flag_counts(measures, YEAR) == expected
    assert all(count for _, count in expected)  # each flag occurs, so each rule was compared


def test_the_chain_built_from_the_facts_is_the_chain_read_alone(shaped_plan):
    """The reports build each chain year from the facts they already read (chain_of_facts): every amount and
    flag is the one chain_of reads from the tables, on every shape (years without a row included)."""
    measures = Measure.objects.filter(plan=shaped_plan)
    years = [YEAR - 1, YEAR]
    facts = measure_facts(shaped_plan, years, measures)
    read, built = chain_of(measures, years), chain_of_facts(measures, years)
    pairs = [(read(f.measure_id, f.year), built(f)) for f in facts]
    assert [(a.amounts, a.flags) for a, _ in pairs] == [(b.amounts, b.flags) for _, b in pairs]
    assert {flag for a, _ in pairs for flag in a.flags} == set(FLAGS)  # every flag was compared
