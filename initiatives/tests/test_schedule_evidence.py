"""Every schedule bar of the plan fixture, checked against its measure's LCC and KPI years.

The extraction of the plan lost the length of every arrow, so each bar's span is inferred
(fixtures/README.md, スケジュール期間の推定規則). What the plan does print for each measure are the years
with money (年度経費（LCC）) and the years with a KPI target; a span must not contradict them:

- a stage that needs money (導入, 構築, 更新, 移行, 整備, 実施 …) lies in years with money and overlaps them;
- a stage that produces the KPI (運用, 実施 …) overlaps the KPI years, and each of its years has a KPI target
  or money (nothing happens in a year the plan gives neither);
- a preparation stage (検討, 調査・研究, 協議, 設計 …) ends by the first year with money (or, for a measure
  without any money, by the first KPI year);
- a build stage running beside 運用 ends before 運用 does (it does not run on beside it to the end).

"Money" is a planned cost above 0: the plan's "－" and 0 both budget nothing that year (II-3-1's money is R5
only: －, 24,000, 0, 0). The years are read from the fixture itself; the exceptions the plan's own text
explains are listed below, each with its reason, and an exception that no longer applies fails the test.
"""

import copy

import pytest

from conftest import plan_data

PREPARATION = ("検討", "調査", "研究", "協議", "調整", "検証", "設計", "仕様", "選定", "選書")
NEEDS_MONEY = (
    "導入",
    "構築",
    "更新",
    "刷新",
    "移行",
    "整備",
    "強化",
    "無線化",
    "電子化",
    "オンライン化",
    "拡大",
    "拡充",
    "支援",
    "実施",
)
PRODUCES_KPI = ("運用", "実施", "研修", "サポート", "支援", "活用", "拡大", "拡充", "オンライン化")
# A label naming preparation is a preparation stage, unless it also carries the work out ("テレワークの実施・検証").
CARRIES_OUT = ("運用", "実施")

# Measures whose LCC is 0 or "－" in every year: the plan budgets nothing, so no stage can be held to money years.
WITHOUT_MONEY = {
    "I-3-3": "計画はLCCを全年度「0」と記載（「－」ではない）。講座などのサポートは経費を計上せずに行う。",
    "II-1-5": "計画はLCCを全年度「0」と記載。システム更新にも経費を計上していない。",
    "II-4-2": "計画はLCCを全年度「0」と記載。研修会と外部人材の活用に経費を計上していない。",
    "II-5-1": "計画はLCCを全年度「0」と記載。ポリシーの運用と研修に経費を計上していない。",
    "II-6-1": "※1「その他事業（庁内ネットワークの無線化等）と連携して実施するため経費は計上していない。」",
}

# (measure code, bar label, rule, start, end): why the plan's own text allows that bar, with that span, to break
# that rule. Any other span of the bar is checked like every other bar.
EXCEPTIONS = {
    ("I-5-1", "拡充する分野の選定", "preparation", 2022, 2025): (
        "LINEの機能を毎年拡充する施策。3項目の矢印がすべてR4にあり、LCC（2,000千円）とKPI（登録者数）が毎年続くため、"
        "分野の選定→データ整備→運用を毎年繰り返すと読める。"
    ),
    ("II-2-1", "庁内体制の整備", "money", 2022, 2022): (
        "庁内の体制づくりで、購入を伴わない。※4：LCCは標準システムへ移行するための導入経費だけを計上している。"
    ),
    ("II-2-1", "標準システム移行（契約・導入作業・移行テスト等）", "money", 2024, 2025): (
        "矢印はR6（2024）にあり、契約・導入作業・移行テストは2024年に始まる。※4：移行の導入経費は427,000千円として2025年に計上。"
    ),
    ("II-2-1", "標準システム移行（契約・導入作業・移行テスト等）", "beside", 2024, 2025): (
        "※3「令和7（2025）年度に20業務すべてを標準システムへ移行完了する」：移行は2025年に終わり、移行した業務から運用に入る。"
    ),
    ("II-3-1", "庁内ネットワークの無線化実施", "kpi", 2023, 2023): (
        "この「実施」は無線化の工事の実施。KPI（ネットワークの正常稼働率）を生むのは工事の後の運用（2024年〜）。"
    ),
    ("II-3-2", "運用", "kpi", 2024, 2025): (
        "KPI（更新を行う施設数27箇所）は更新の成果で、2023年だけに設定されている。運用の年度（2024〜2025年）には"
        "LCC（各2,000千円）がある。"
    ),
}


def has_any(label, words):
    return any(word in label for word in words)


def kinds(label):
    """A bar's stage, from its label: preparation, or needs money and/or produces the KPI."""
    if has_any(label, PREPARATION) and not has_any(label, CARRIES_OUT):
        return {"preparation"}
    found = set()
    if has_any(label, NEEDS_MONEY):
        found.add("money")
    if has_any(label, PRODUCES_KPI):
        found.add("kpi")
    return found


def money_years(measure):
    return {int(year) for year, amount in measure.get("lcc", {}).items() if amount}


def kpi_years(measure):
    return {
        int(year)
        for year, cell in measure.get("kpi", {}).items()
        if cell and (cell.get("value") is not None or cell.get("text"))
    }


def span(bar):
    return set(range(bar["start_year"], bar["end_year"] + 1))


def contradictions(measure):
    """(bar, rule, why) for every bar of the measure whose span contradicts its LCC and KPI years."""
    money, kpi = money_years(measure), kpi_years(measure)
    bars = measure["schedule"]
    found = []
    for bar in bars:
        years, stage = span(bar), kinds(bar["label"])
        if "money" in stage and money:
            if not years & money:
                found.append((bar, "money", f"経費のある年度 {sorted(money)} と重ならない"))
            elif years - money:
                found.append((bar, "money", f"経費のない年度 {sorted(years - money)} に及ぶ"))
        if "kpi" in stage:
            if kpi and not years & kpi:
                found.append((bar, "kpi", f"KPIのある年度 {sorted(kpi)} と重ならない"))
            elif years - kpi - money:
                found.append((bar, "kpi", f"KPIも経費もない年度 {sorted(years - kpi - money)} に及ぶ"))
        if stage == {"preparation"}:
            first = min(money or kpi)
            if bar["end_year"] > first:
                found.append((bar, "preparation", f"経費・KPIの始まる {first} 年より後まで続く"))
        if stage == {"money"}:
            for run in bars:
                beside = "kpi" in kinds(run["label"]) and run["start_year"] <= bar["end_year"]
                if beside and bar["end_year"] >= run["end_year"]:
                    found.append((bar, "beside", f"「{run['label']}」と並んで {run['end_year']} 年まで続く"))
                    break
    return found


def measures(data):
    for policy in data["policies"]:
        for initiative in policy["initiatives"]:
            yield from initiative.get("measures", [])


def unexplained(data):
    """Every contradiction not listed in EXCEPTIONS, and the exceptions that were used."""
    found, used = [], set()
    for measure in measures(data):
        money_free = measure["code"] in WITHOUT_MONEY
        for bar, rule, why in contradictions(measure):
            key = (measure["code"], bar["label"], rule, bar["start_year"], bar["end_year"])
            if key in EXCEPTIONS:
                used.add(key)
            elif not (money_free and rule == "money"):
                found.append((*key, why))
    return found, used


def test_every_bar_agrees_with_its_lcc_and_kpi_years():
    found, _ = unexplained(plan_data())
    assert found == []


def test_every_exception_is_still_needed():
    _, used = unexplained(plan_data())
    assert set(EXCEPTIONS) - used == set()


def test_the_measures_without_money_are_exactly_those_listed():
    assert {m["code"] for m in measures(plan_data()) if not money_years(m)} == set(WITHOUT_MONEY)


def test_every_bar_is_read_and_kept_inferred_with_its_basis():
    bars = [bar for m in measures(plan_data()) for bar in m["schedule"]]
    assert len(bars) == 89
    assert all(bar["inferred"] is True and bar["basis"] for bar in bars)
    # Every bar is of a kind the checks know, or names an activity the KPI and money years bound anyway.
    unknown = [bar["label"] for bar in bars if not kinds(bar["label"])]
    assert unknown == []


def test_every_corrected_bar_names_its_evidence():
    corrected = [(m["code"], bar) for m in measures(plan_data()) for bar in m["schedule"] if "規則5" in bar["basis"]]
    assert len(corrected) == 22
    for code, bar in corrected:
        assert "以前は" in bar["basis"] and ("LCC" in bar["basis"] or "KPI" in bar["basis"]), (code, bar["label"])


# The spans the fixture held before they were re-derived (issue 9): each must be caught by the checks above.
EARLIER = {
    "II-3-1": {
        "無線化を行う範囲の検討": (2022, 2025),
        "ネットワークの設計": (2022, 2025),
        "庁内ネットワークの無線化実施": (2022, 2025),
        "運用": (2022, 2025),
    },
    "II-2-1": {"標準システム移行（契約・導入作業・移行テスト等）": (2024, 2024)},
    "II-3-2": {"現在の通信環境の検証": (2022, 2025), "ネットワークの更新": (2022, 2025), "運用": (2022, 2025)},
    "II-4-1": {"機能の検討": (2022, 2025), "システム更新": (2022, 2025), "運用": (2022, 2025)},
    "II-5-2": {
        "セキュリティ認証の新たな方法について検討": (2022, 2025),
        "システム更新": (2022, 2025),
        "運用": (2022, 2025),
    },
    "I-4-1": {"先進事例の調査・研究、商工会との協議": (2022, 2025), "キャッシュレス決済の導入支援": (2022, 2025)},
    "I-1-2": {"構築・導入作業": (2023, 2025)},
    "I-3-6": {"システム導入": (2023, 2025)},
    "II-1-5": {"システム更新": (2023, 2025)},
    "I-5-2": {"情報発信手段の構築": (2024, 2025)},
    "I-2-1": {"災害時におけるWi-Fiの強化": (2023, 2025), "平常時におけるWi-Fiの強化": (2023, 2025)},
}


@pytest.mark.parametrize("code", list(EARLIER))
def test_the_earlier_spans_are_caught(code):
    data = copy.deepcopy(plan_data())
    measure = next(m for m in measures(data) if m["code"] == code)
    for bar in measure["schedule"]:
        if bar["label"] in EARLIER[code]:
            bar["start_year"], bar["end_year"] = EARLIER[code][bar["label"]]
    found, _ = unexplained(data)
    caught = {label for found_code, label, *_ in found if found_code == code}
    assert caught == set(EARLIER[code])
