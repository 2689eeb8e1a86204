"""The plan fixture holds what 大野城市DX推進計画 (令和4年8月) says, read back from the database.

Expected figures are typed from the plan's text, not from the code.
"""

import pytest

from budget.models import GeneralFundPlan, PlannedCost
from initiatives.models import Initiative, Measure, Plan, Policy, ScheduleBar
from kpi.models import Kgi, KpiTarget

pytestmark = pytest.mark.django_db


def test_counts(plan):
    assert Plan.objects.count() == 1
    assert Policy.objects.filter(plan=plan).count() == 2
    initiatives = Initiative.objects.filter(policy__plan=plan)
    assert initiatives.count() == 18
    assert initiatives.filter(measures__isnull=False).distinct().count() == 13
    future = initiatives.filter(status=Initiative.Status.FUTURE)
    assert future.count() == 5
    assert not future.filter(measures__isnull=False).exists()
    assert Measure.objects.filter(plan=plan).count() == 30
    assert KpiTarget.objects.filter(measure__plan=plan).count() == 120
    assert PlannedCost.objects.filter(measure__plan=plan).count() == 120
    assert Kgi.objects.filter(measure__plan=plan).count() == 30
    assert GeneralFundPlan.objects.filter(policy__plan=plan).count() == 8


def test_every_measure_has_four_years_of_targets_and_costs(plan):
    for measure in Measure.objects.filter(plan=plan).prefetch_related("kpi_targets", "planned_costs"):
        assert [t.fiscal_year for t in measure.kpi_targets.all()] == [2022, 2023, 2024, 2025], measure.code
        assert [c.fiscal_year for c in measure.planned_costs.all()] == [2022, 2023, 2024, 2025], measure.code
        assert measure.schedule_bars.exists(), measure.code


def test_plan_header(plan):
    assert plan.vision == "誰もがデジタル化の恩恵を受けられる都市"
    assert (plan.start_year, plan.end_year) == (2022, 2025)
    assert plan.period_label == "R4（2022）年度～R7（2025）年度"
    assert [p.numeral for p in plan.policies.order_by("number")] == ["Ⅰ", "Ⅱ"]


@pytest.mark.parametrize(
    "policy, count_active, count_future",
    [(1, 7, 3), (2, 6, 2)],
)
def test_initiatives_per_policy(plan, policy, count_active, count_future):
    initiatives = Initiative.objects.filter(policy__plan=plan, policy__number=policy)
    assert initiatives.filter(status=Initiative.Status.ACTIVE).count() == count_active
    assert initiatives.filter(status=Initiative.Status.FUTURE).count() == count_future


def test_priority_scores_from_the_priority_tables(plan):
    def scores(policy, title):
        i = Initiative.objects.get(policy__plan=plan, policy__number=policy, title=title)
        return i.urgency, i.importance

    assert scores(1, "行政手続のオンライン化") == (100, 100)
    assert scores(1, "マイナンバーカードの普及促進") == (40, 85)
    assert scores(2, "情報システムの標準化・共通化") == (70, 90)
    assert scores(2, "ICTを活用した上下水道サービスの提供") == (10, 10)


def test_future_initiatives_carry_their_direction(plan):
    future = Initiative.objects.filter(policy__plan=plan, status=Initiative.Status.FUTURE).order_by("future_no")
    assert [i.future_no for i in future] == [1, 2, 3, 4, 5]
    assert all(i.consideration for i in future)
    assert not any(i.is_priority for i in future)
    health = future.get(future_no=4)
    # The plan words it two ways; one is kept, the other noted.
    assert health.title == "健康管理に関するデータ活用"
    assert "健康増進に関するデータ活用" in health.data_notes


def test_dash_is_kept_as_none_and_zero_as_zero(plan):
    telework = Measure.objects.get(plan=plan, name="テレワークの推進")
    amounts = dict(telework.planned_costs.values_list("fiscal_year", "amount"))
    assert amounts == {2022: None, 2023: 0, 2024: 0, 2025: 0}
    cashless = Measure.objects.get(plan=plan, name="各種支払いのキャッシュレス化")
    assert cashless.kpi_targets.get(fiscal_year=2022).is_none
    assert cashless.kpi_targets.get(fiscal_year=2023).value == 5


def test_schedule_bars_are_marked_inferred_with_a_basis(plan):
    bars = ScheduleBar.objects.filter(measure__plan=plan)
    assert bars.count() > 30
    assert not bars.filter(is_inferred=False).exists()
    assert not bars.filter(basis="").exists()
    # 公共施設予約システムの更新: 仕様の検討 R4 → 更新 R5 → 運用 R6 onwards.
    reservation = Measure.objects.get(plan=plan, name="公共施設予約システムの更新")
    spans = [(b.label, b.start_year, b.end_year) for b in reservation.schedule_bars.all()]
    assert spans == [("システム仕様の検討", 2022, 2022), ("システム更新", 2023, 2023), ("運用", 2024, 2025)]
