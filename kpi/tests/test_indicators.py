"""Several indicators per measure (kpi.models.Indicator, IndicatorYear): each evaluated on its own, and the
measure's year result by the plan's rule (Plan.overall_rule): the primary indicator, the lowest or the mean
達成度; the database counts and filters as the evaluation does."""

import itertools
from decimal import Decimal

import pytest
from django.db.models import F

from initiatives.models import Measure
from kpi.achievement import assess, average_of_tenths, combined, grade_scale
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
            factor = (Decimal("0.5"), Decimal("0.9"), Decimal("1.2"))[index % 3]
            MeasureYear.objects.create(
                measure=measure, fiscal_year=YEAR, kpi_actual=value * factor if value else None,
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
    # the roll-up's mean 達成度 (summed in the database, a group of several measures per 取組) is the facts' mean
    rates = [f.assessment.rate for f in facts.values() if f.assessment.rate is not None]
    assert total.average_rate == average_of_tenths(sum(int(r * 10) for r in rates), len(rates))


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


@pytest.fixture
def second(measure):
    """A second indicator of the staff user's measure, with targets in 2024 and 2025 and a period target."""
    indicator = Indicator.objects.create(measure=measure, number=2, name="相談件数", unit="件", target=100)
    for year, target in ((2024, 40), (2025, 60)):
        IndicatorYear.objects.create(indicator=indicator, measure=measure, fiscal_year=year, target_value=target)
    return indicator


def entry_url(measure, year=YEAR):
    from django.urls import reverse

    return reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, year])


def test_an_indicators_actual_is_entered_with_the_record(client, staff_user, measure, second):
    client.force_login(staff_user)
    html = client.get(entry_url(measure)).content.decode()
    field = f"indicator_{second.pk}"
    assert f'name="{field}"' in html and "相談件数の実績（件）" in html and "目標：60件" in html
    response = client.post(entry_url(measure), {"seen_version": "0", field: "-3"})
    assert "負の数は入力できません" in response.content.decode()
    assert not MeasureYear.objects.filter(measure=measure, fiscal_year=YEAR).exists()
    response = client.post(entry_url(measure), {"seen_version": "0", "kpi_actual": "70", field: "４５"})  # full-width
    assert response.status_code == 302
    row = IndicatorYear.objects.get(indicator=second, fiscal_year=YEAR)
    assert row.actual_value == 45
    assert row.history.first().history_change_reason == "入力"
    # a stale page writes neither the record nor the indicator
    client.post(entry_url(measure), {"seen_version": "0", "kpi_actual": "71", field: "50"})
    row.refresh_from_db()
    assert row.actual_value == 45


def test_the_measure_page_shows_each_indicator_and_its_period(client, viewer, measure, second):
    IndicatorYear.objects.filter(indicator=second, fiscal_year=2024).update(actual_value=44)
    IndicatorYear.objects.filter(indicator=second, fiscal_year=2025).update(actual_value=90)
    client.force_login(viewer)
    html = client.get(measure.get_absolute_url()).content.decode()
    section = html.split('id="indicators"')[1].split("</section>")[0]
    assert "2. 相談件数（件）" in section
    assert "110.0%" in section  # 2024: 44 ÷ 40
    assert "150.0%" in section  # 2025: 90 ÷ 60
    # over the period, as the KGI: the latest year's actual against the period target (R7 is the plan's last)
    period = section.split('class="period"')[1].split("</tr>")[0]
    assert "90件" in period and "90.0%" in period


def test_the_open_data_lists_each_indicator_with_the_measures_result_only(client, dx_user, plan, measure, second):
    import json

    from django.urls import reverse

    from kpi.publishing import publish

    IndicatorYear.objects.filter(indicator=second, fiscal_year=YEAR).update(actual_value=30)
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=70, status="submitted")
    publish(plan, YEAR, dx_user, 0, "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/deed.ja", [])
    url = reverse("kpi:public_json", args=[plan.code, YEAR])
    (row,) = json.loads(client.get(url).content)["indicators"]
    assert (row["measure_code"], row["number"], row["target_value"], row["result"]) == (measure.code, 2, 60, "未公表")
    assert row["actual_value"] is None and row["grade"] == ""
    MeasureYear.objects.filter(measure=measure, fiscal_year=YEAR).update(status="approved")
    (row,) = json.loads(client.get(url).content)["indicators"]
    assert (row["actual_value"], row["achievement_rate"], row["grade"]) == (30, 50.0, "D")
    html = client.get(reverse("kpi:public_year", args=[plan.code, YEAR])).content.decode()
    assert "相談件数（件）" in html


def test_the_api_grades_by_the_plans_overall_rule_too(client, viewer, plan, measure, second):
    from ohnojo_dx.tests.api_helpers import plan_url, token_for, year_url

    plan.overall_rule = "lowest"
    plan.save()
    target = KpiTarget.objects.get(measure=measure, fiscal_year=YEAR).value
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=target)  # 100%: A alone
    IndicatorYear.objects.filter(indicator=second, fiscal_year=YEAR).update(actual_value=30)  # 50%: D
    (fact,) = measure_facts(plan, [YEAR], Measure.objects.filter(pk=measure.pk))
    assert (fact.assessment.rate, fact.assessment.grade) == (Decimal("50.0"), "D")
    headers = token_for(viewer)
    one = client.get(year_url(measure), **headers).json()
    assert (one["achievement"]["rate"], one["achievement"]["grade"]) == ("50.0", "D")
    records = client.get(plan_url(plan, "records"), **headers).json()["results"]
    (row,) = [r for r in records if r["measure"] == measure.code and r["fiscal_year"] == YEAR]
    assert row["achievement"]["grade"] == "D"


def test_the_mean_is_summed_as_whole_tenths_in_every_database(plan):
    """Two measures of one 取組, each at 100% and 90%: each 95.0%, and so the 取組's and the plan's mean. (A
    database that sums whole numbers as decimals, PostgreSQL, must not carry the half tenths along.)"""
    plan.overall_rule = "mean"
    plan.save()
    targets = KpiTarget.objects.filter(
        measure__plan=plan, fiscal_year=YEAR, value__gt=0, measure__kgi__direction="higher"
    )
    by_initiative = {}
    for target in targets.select_related("measure"):
        by_initiative.setdefault(target.measure.initiative_id, []).append(target)
    pair = next(group[:2] for group in by_initiative.values() if len(group) >= 2)
    for target in pair:
        MeasureYear.objects.create(measure=target.measure, fiscal_year=YEAR, kpi_actual=target.value)  # 100%
        indicator = Indicator.objects.create(measure=target.measure, number=2, name="指標2")
        IndicatorYear.objects.create(
            indicator=indicator, measure=target.measure, fiscal_year=YEAR, target_value=10, actual_value=9
        )  # 90%
    scale = grade_scale(plan)
    measures = Measure.objects.filter(pk__in=[t.measure_id for t in pair])
    rows = summarise(plan, YEAR, classified(measures, YEAR, scale), scale=scale)
    assert [row.average_rate for row in rows] == [Decimal("95.0")] * len(rows)
