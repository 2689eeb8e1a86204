"""The plan fixture holds what 大野城市DX推進計画 (令和4年8月) says, read back from the database.

Expected figures are typed from the plan's text, not from the code.
"""

import pytest

from budget.models import GeneralFundPlan, PlannedCost
from initiatives.models import Initiative, Measure, NationalPriority, Plan, Policy, ScheduleBar
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
    assert [i.title for i in future] == [
        "マイナンバーカードの普及促進",
        "持続可能な公共交通ネットワークの構築",
        "拠点施設のデジタル化",
        "健康管理に関するデータ活用",
        "ICTを活用した上下水道サービスの提供",
    ]
    # 図表2-5-1 prints the column as 「検討の方向性<br>(想定される一例)」.
    assert plan.consideration_heading == "検討の方向性(想定される一例)"
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


def test_the_plan_states_its_vision_definitions_and_progress_management(plan):
    # 2.1 目指す姿: both paragraphs, the first naming the 総合計画's 都市将来像 that the second calls 「この将来像」.
    first, second = plan.vision_description.split("\n")
    assert first.startswith(
        "平成31（2019）年3月に策定された総合計画では、「未来をひらくにぎわいとやすらぎのコミュニティ都市」"
    )
    assert second.startswith("この将来像をデジタルの側面から具現化すべく")
    # ページの見方 (2.3)
    assert plan.lcc_definition == (
        "検討・構築から運用までに想定される投資コスト（計画値）をトータルで見える化するもの\n"
        "※金額は実施計画において精査し決定する"
    )
    assert (
        plan.kgi_definition
        == "取組における最終的な到達目標を示すもので、計画期間全体における個別施策の達成度を測る指標"
    )
    assert plan.kpi_definition == (
        "数値目標の達成に向けて到達すべき中間的な目標を示すもので、計画期間の途中段階における個別施策の達成度を測る指標"
    )
    # 2.4: the LCC figures are the ceiling, fixed as 事業費 in the 実施計画 and the 予算ヒアリング.
    assert plan.costs_description.count("\n") == 2
    assert "投資可能な上限額" in plan.costs_description and "大野城市自治体デジタル化推進基金" in plan.costs_description
    # Under 図表2-3-2 and 2-3-4.
    assert plan.score_note == (
        "この数値はDXPTからの提言や市長マニフェスト等を基に設定したものであり、事業の優劣を決めるものではありません。"
    )
    # 3.2 計画の進行管理: two paragraphs.
    assert plan.progress_management.startswith("本計画の具体的な取組は実施計画・IT推進計画に沿って実施します。")
    assert plan.progress_management.split("\n")[1].startswith("「計画(Plan)」「実行(Do)」「確認(Check)」「改善(Act)」")


def test_the_six_national_priorities_of_figure_1_4_2(plan):
    priorities = list(NationalPriority.objects.filter(plan=plan).order_by("number"))
    assert [(p.number, p.name) for p in priorities] == [
        (1, "自治体の情報システムの標準化・共通化"),
        (2, "マイナンバーカードの普及促進"),
        (3, "自治体の行政手続のオンライン化"),
        (4, "自治体のAI・RPAの利用推進"),
        (5, "テレワークの推進"),
        (6, "セキュリティ対策の徹底"),
    ]
    assert priorities[0].content.endswith("3業務が追加され、計20業務となった。")
    assert priorities[2].content.endswith(
        "※子育て(15手続)、介護(11手続)、被災者支援(罹災証明書)、自動車保有(4手続)の計31手続"
    )
    assert priorities[5].content == (
        "改定セキュリティポリシーガイドラインを踏まえ、適切にセキュリティポリシーの見直しを行い、セキュリティ対策を徹底"
    )


def test_the_measures_serving_each_national_priority(plan):
    """The tags and their reasons are in fixtures/README.md (国の重点取組事項)."""
    tagged = {
        m.code: sorted(p.number for p in m.national_priorities.all())
        for m in Measure.objects.filter(plan=plan).prefetch_related("national_priorities")
        if m.national_priorities.all()
    }
    assert tagged == {
        "I-1-1": [3],
        "I-6-1": [3],
        "II-1-1": [4],
        "II-2-1": [1],
        "II-3-1": [5],
        "II-5-1": [6],
        "II-5-2": [6],
        "II-6-1": [5],
    }


def test_the_initiatives_show_the_national_priorities_of_their_measures(plan):
    """What replaced the guessed 重点 flags: an 取組 serves what its measures serve."""
    initiatives = Initiative.objects.filter(policy__plan=plan).prefetch_related("measures__national_priorities")
    served = {(i.policy.number, i.title): [p.number for p in i.national_priorities] for i in initiatives}
    assert {key: numbers for key, numbers in served.items() if numbers} == {
        (1, "行政手続のオンライン化"): [3],
        (1, "窓口のデジタル化"): [3],
        (2, "先端技術による業務効率化"): [4],
        (2, "情報システムの標準化・共通化"): [1],
        (2, "庁内ネットワークの高度化・強靱化"): [5],
        (2, "情報セキュリティ対策の徹底"): [6],
        (2, "テレワークの推進"): [5],
    }
    # The 今後検討 取組 of the same name as ② has no measures yet, so it serves nothing on record.
    assert served[(1, "マイナンバーカードの普及促進")] == []


# fixtures/README.md「規則5で訂正したバー」: the spans re-derived from the plan's LCC, KPI and notes.
CORRECTED_SPANS = {
    ("II-3-1", "無線化を行う範囲の検討"): (2022, 2022),
    ("II-3-1", "ネットワークの設計"): (2022, 2022),
    ("II-3-1", "庁内ネットワークの無線化実施"): (2023, 2023),
    ("II-3-1", "運用"): (2024, 2025),
    ("II-3-2", "現在の通信環境の検証"): (2022, 2022),
    ("II-3-2", "ネットワークの更新"): (2023, 2023),
    ("II-3-2", "運用"): (2024, 2025),
    ("II-4-1", "機能の検討"): (2022, 2022),
    ("II-4-1", "システム更新"): (2023, 2023),
    ("II-4-1", "運用"): (2024, 2025),
    ("II-5-2", "セキュリティ認証の新たな方法について検討"): (2022, 2022),
    ("II-5-2", "システム更新"): (2023, 2023),
    ("II-5-2", "運用"): (2024, 2025),
    ("I-4-1", "先進事例の調査・研究、商工会との協議"): (2022, 2023),
    ("I-4-1", "キャッシュレス決済の導入支援"): (2024, 2025),
    ("II-2-1", "標準システム移行（契約・導入作業・移行テスト等）"): (2024, 2025),
    ("I-1-2", "構築・導入作業"): (2023, 2024),
    ("I-3-6", "システム導入"): (2023, 2023),
    ("II-1-5", "システム更新"): (2023, 2023),
    ("I-5-2", "情報発信手段の構築"): (2024, 2024),
    ("I-2-1", "災害時におけるWi-Fiの強化"): (2023, 2023),
    ("I-2-1", "平常時におけるWi-Fiの強化"): (2023, 2023),
}


def test_the_corrected_bars_hold_their_re_derived_spans_still_inferred(plan):
    bars = ScheduleBar.objects.filter(measure__plan=plan).select_related("measure")
    by_key = {(b.measure.code, b.label): b for b in bars}
    assert {key: (by_key[key].start_year, by_key[key].end_year) for key in CORRECTED_SPANS} == CORRECTED_SPANS
    for key in CORRECTED_SPANS:
        assert by_key[key].is_inferred and "規則5" in by_key[key].basis, key
    assert sum("規則5" in b.basis for b in bars) == len(CORRECTED_SPANS)
