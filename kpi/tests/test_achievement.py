"""達成度 and grades for every KPI shape the plan uses."""

from decimal import Decimal

import pytest

from initiatives.models import Measure
from kpi.achievement import DEFAULT_THRESHOLDS, assess, assess_year, grade_for, grade_scale
from kpi.models import Direction, GradeThreshold, MeasureYear

D = Decimal


@pytest.mark.parametrize(
    "direction, target, actual, rate, grade",
    [
        # 高いほど良い: 40手続 target (オンライン申請の拡充 R4)
        (Direction.HIGHER, D(40), D(36), D("90.0"), "B"),
        (Direction.HIGHER, D(40), D(40), D("100.0"), "A"),
        (Direction.HIGHER, D(40), D(44), D("110.0"), "S"),
        (Direction.HIGHER, D(40), D(20), D("50.0"), "D"),
        # a decimal percentage target: 72.5% (デジタル・デバイド対策 R4)
        (Direction.HIGHER, D("72.5"), D(70), D("96.6"), "B"),
        # 低いほど良い with a 0 target: 0件 met, any occurrence fails
        (Direction.LOWER, D(0), D(0), D("100.0"), "A"),
        (Direction.LOWER, D(0), D(1), D("0.0"), "D"),
        # 低いほど良い with a positive target: 5 allowed, 10 happened
        (Direction.LOWER, D(5), D(10), D("50.0"), "D"),
        (Direction.LOWER, D(5), D(4), D("100.0"), "A"),
        # 削減率 30%減: 25% achieved
        (Direction.REDUCTION, D(30), D(25), D("83.3"), "B"),
        (Direction.REDUCTION, D(30), D(30), D("100.0"), "A"),
        # 累計 20業務: 18 migrated by R7
        (Direction.HIGHER, D(20), D(18), D("90.0"), "B"),
        # 0 target on a higher-is-better row is met by any actual
        (Direction.HIGHER, D(0), D(3), D("100.0"), "A"),
        (Direction.HIGHER, D(100), D("59.9"), D("59.9"), "D"),
        (Direction.HIGHER, D(100), D(60), D("60.0"), "C"),
    ],
)
def test_numeric_targets(direction, target, actual, rate, grade):
    result = assess(direction, target, "", actual)
    assert (result.state, result.rate, result.grade) == ("rated", rate, grade)


def test_no_target_that_year_is_not_evaluated():
    result = assess(Direction.HIGHER, None, "", D(5))
    assert (result.state, result.rate, result.grade, result.label) == ("no_target", None, "", "目標なし")


def test_missing_actual_is_not_zero():
    result = assess(Direction.HIGHER, D(40), "", None)
    assert (result.state, result.rate, result.grade, result.label) == ("missing", None, "", "未入力")
    assert result.rate_display == "－"


def test_text_target_is_judged_by_staff():
    waiting = assess(Direction.HIGHER, None, "導入を決定した全窓口", None)
    assert (waiting.state, waiting.grade) == ("unjudged", "")
    judged = assess(Direction.HIGHER, None, "導入を決定した全窓口", None, judged_grade="B")
    assert (judged.state, judged.rate, judged.grade, judged.label) == ("judged", None, "B", "担当課の判定")


def test_thresholds_are_editable_per_plan(plan):
    assert grade_scale(plan) == DEFAULT_THRESHOLDS
    for grade, minimum in (("S", 120), ("A", 95), ("B", 75), ("C", 50), ("D", 0)):
        GradeThreshold.objects.create(plan=plan, grade=grade, min_rate=minimum)
    scale = grade_scale(plan)
    assert grade_for(D("96.0"), scale) == "A"  # B under the defaults
    assert grade_for(D("110.0"), scale) == "A"  # S under the defaults
    assert grade_for(D("49.9"), scale) == "D"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, year, actual, judged, expected",
    [
        ("保育事務のデジタル化", 2025, D(0), "", ("rated", D("100.0"), "A")),  # 0件 target, lower is better
        ("保育事務のデジタル化", 2025, D(2), "", ("rated", D("0.0"), "D")),
        ("AI・RPAの利活用拡大", 2024, D(27), "", ("rated", D("90.0"), "B")),  # 30%減
        ("標準システム導入", 2025, D(20), "", ("rated", D("100.0"), "A")),  # 累計 20業務
        ("各種支払いのキャッシュレス化", 2022, D(3), "", ("no_target", None, "")),  # "－"
        ("書かない・待たない窓口の導入", 2025, None, "C", ("judged", None, "C")),  # text target
        ("デジタル・デバイド対策", 2022, None, "", ("missing", None, "")),
    ],
)
def test_the_plans_own_rows(plan, name, year, actual, judged, expected):
    measure = Measure.objects.select_related("kgi").get(plan=plan, name=name)
    target = measure.kpi_targets.get(fiscal_year=year)
    record = MeasureYear(measure=measure, fiscal_year=year, kpi_actual=actual, judged_grade=judged)
    result = assess_year(measure.kgi, target, record)
    assert (result.state, result.rate, result.grade) == expected
