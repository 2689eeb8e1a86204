"""The dashboard's figures equal what the data says, its counts lead to the measures behind them,
and it makes as many queries for 3,000 measures as for 30."""

import re
from collections import Counter
from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import grow_plan
from initiatives.models import Measure, NationalPriority, Plan
from kpi.models import BarStatus, MeasureYear

pytestmark = pytest.mark.django_db

YEAR = 2025


@pytest.fixture
def entered(plan, department, other_department):
    """A few R7 records of different shapes and states."""
    measures = {m.name: m for m in Measure.objects.filter(plan=plan).select_related("kgi")}
    rows = [
        (
            "オンライン申請の拡充",
            department,
            dict(kpi_actual=100, actual_cost=5000, status="approved", improvement="continue"),
        ),
        ("各種支払いのキャッシュレス化", department, dict(kpi_actual=20, actual_cost=3000, status="returned")),
        ("保育事務のデジタル化", other_department, dict(kpi_actual=1, actual_cost=3000, status="submitted")),
        ("AI・RPAの利活用拡大", other_department, dict(kpi_actual=33, actual_cost=4100, evaluation_comment="順調")),
    ]
    records = []
    for name, dept, values in rows:
        m = measures[name]
        m.department = dept
        m.save()
        records.append(MeasureYear.objects.create(measure=m, fiscal_year=YEAR, **values))
    bar = measures["AI・RPAの利活用拡大"].schedule_bars.first()
    BarStatus.objects.create(measure_year=records[3], bar=bar, state=BarStatus.State.DELAYED)
    return records


def test_dashboard_figures_equal_the_data(client, viewer, plan, entered):
    client.force_login(viewer)
    response = client.get(reverse("home"), {"plan": plan.code, "year": YEAR})
    assert response.status_code == 200
    total = response.context["summaries"][0]
    measures = list(Measure.objects.filter(plan=plan).select_related("kgi"))
    assert total.measures == len(measures) == 30
    # オンライン申請 100 of 112手続 = 89.3% B; キャッシュレス 20 of 40% = 50% D; 保育事務 1件 against 0件 = D;
    # AI・RPA 33 of 30%減 = 110% S; the other 26 have no actual (or no target) and no grade.
    assert total.grades == Counter({"S": 1, "B": 1, "D": 2, "none": 26})
    planned = sum(c.amount or 0 for m in measures for c in m.planned_costs.filter(fiscal_year=YEAR))
    assert total.planned == planned == 665100  # 図表2-4-1 R7 計
    assert total.actual == sum(r.actual_cost for r in entered)
    assert total.execution_rate == (Decimal(total.actual) / planned * 100).quantize(Decimal("0.1"))
    assert total.stages["A"] == 1 and total.stages["C"] == 1 and total.stages["D"] == 2
    assert total.attention["returned"] == 1
    assert total.attention["delayed"] == 1
    assert total.attention["not_entered"] == 26  # R7 closed on 31 March 2026
    # 保育事務 1件 against 0件 → D; キャッシュレス 20% of 40% → D; オンライン申請 100 of 112 手続 → B
    assert total.attention["low_grade"] == 2
    html = response.content.decode()
    assert "665,100" in html and f"{total.actual:,}" in html

    policy_rows = [s for s in response.context["summaries"] if s.level == "policy"]
    assert [s.planned for s in policy_rows] == [215100, 450000]  # 図表2-4-1 R7 per policy


def test_every_count_links_to_the_measures_behind_it(client, viewer, plan, entered):
    client.force_login(viewer)
    html = client.get(reverse("home"), {"plan": plan.code, "year": YEAR}).content.decode()
    links = re.findall(r'href="(/measures/\?[^"]+)"[^>]*>(\d+)</a>', html)
    assert len(links) > 20
    for href, count in links:
        listed = client.get(href.replace("&amp;", "&"))
        assert listed.status_code == 200
        assert len(listed.context["facts"]) == int(count), href


def test_filters_narrow_the_dashboard(client, viewer, plan, entered, department):
    client.force_login(viewer)
    response = client.get(reverse("home"), {"plan": plan.code, "year": YEAR, "department": department.pk})
    total = response.context["summaries"][0]
    assert total.measures == 2
    expected = [
        ({"grade": "D"}, ["各種支払いのキャッシュレス化", "保育事務のデジタル化"]),
        ({"grade": "B"}, ["オンライン申請の拡充"]),
        ({"stage": "A"}, ["オンライン申請の拡充"]),
    ]
    for narrowed, names in expected:
        params = {"plan": plan.code, "year": YEAR, **narrowed}
        listed = client.get(reverse("kpi:measure_list"), params)
        assert [f.name for f in listed.context["facts"]] == names, narrowed
        assert client.get(reverse("home"), params).context["summaries"][0].measures == len(names), narrowed
    response = client.get(reverse("kpi:measure_list"), {"plan": plan.code, "year": YEAR, "attention": "delayed"})
    assert [f.name for f in response.context["facts"]] == ["AI・RPAの利活用拡大"]


def test_the_national_priorities_filter_the_dashboard_and_its_links(client, viewer, plan, entered):
    """Each of the six national 重点取組事項 narrows the dashboard to the measures tagged with it."""
    client.force_login(viewer)
    priorities = {p.number: p for p in NationalPriority.objects.filter(plan=plan)}
    assert [str(priorities[n]) for n in sorted(priorities)] == [
        "①自治体の情報システムの標準化・共通化",
        "②マイナンバーカードの普及促進",
        "③自治体の行政手続のオンライン化",
        "④自治体のAI・RPAの利用推進",
        "⑤テレワークの推進",
        "⑥セキュリティ対策の徹底",
    ]
    expected = {
        1: ["II-2-1"],
        2: [],
        3: ["I-1-1", "I-6-1"],
        4: ["II-1-1"],
        5: ["II-3-1", "II-6-1"],
        6: ["II-5-1", "II-5-2"],
    }
    for number, codes in expected.items():
        params = {"plan": plan.code, "year": YEAR, "national_priority": priorities[number].pk}
        response = client.get(reverse("home"), params)
        assert response.context["summaries"][0].measures == len(codes), number
        html = response.content.decode()
        assert f'<option value="{priorities[number].pk}" selected>{priorities[number]}</option>' in html
        # The counts link to the measure list under the same filter.
        links = re.findall(r'href="(/measures/\?[^"]+)"[^>]*>(\d+)</a>', html)
        assert links and all(f"national_priority={priorities[number].pk}" in href for href, _ in links)
        listed = client.get(reverse("kpi:measure_list"), params)
        assert [f.code for f in listed.context["facts"]] == codes
    # AI・RPAの利活用拡大 (④) was graded S in R7: the grade filter and this one combine.
    both = {"plan": plan.code, "year": YEAR, "national_priority": priorities[4].pk, "grade": "S"}
    assert [f.name for f in client.get(reverse("kpi:measure_list"), both).context["facts"]] == ["AI・RPAの利活用拡大"]
    assert client.get(reverse("home"), both).context["summaries"][0].measures == 1
    both["grade"] = "D"
    assert client.get(reverse("kpi:measure_list"), both).context["facts"] == []
    assert client.get(reverse("home"), both).context["summaries"][0].measures == 0


def test_a_national_priority_of_another_plan_is_refused_as_a_filter(client, viewer, plan):
    other = Plan.objects.create(
        code="other", title="別の計画", municipality="別市", vision="v", start_year=2022, end_year=2025
    )
    foreign = NationalPriority.objects.create(plan=other, number=1, name="別の計画の重点")
    client.force_login(viewer)
    params = {"plan": plan.code, "year": YEAR, "national_priority": foreign.pk}
    response = client.get(reverse("home"), params)
    assert response.status_code == 200
    assert "national_priority" in response.context["filter"].form.errors
    assert response.context["summaries"][0].measures == 30  # an invalid choice narrows nothing


def test_default_year_is_the_latest_with_data(client, viewer, plan):
    client.force_login(viewer)
    m = Measure.objects.filter(plan=plan).first()
    MeasureYear.objects.create(measure=m, fiscal_year=2023, kpi_actual=1)
    MeasureYear.objects.create(measure=m, fiscal_year=2025)  # opened, nothing entered
    assert client.get(reverse("home")).context["year"] == 2023


def test_nothing_spent_reads_as_a_dash_not_zero(client, viewer, plan):
    client.force_login(viewer)
    response = client.get(reverse("home"), {"plan": plan.code, "year": YEAR})
    total = response.context["summaries"][0]
    assert (total.actual, total.execution_rate) == (None, None)
    html = response.content.decode()
    shares = html.index('id="grade-shares"'), html.index("</table>", html.index('id="grade-shares"'))
    assert "0.0%" not in html[: shares[0]] + html[shares[1] :]  # a grade's share of 0 measures is 0.0%


def test_an_invalid_filter_does_not_switch_off_the_others(client, viewer, plan, entered):
    client.force_login(viewer)
    response = client.get(
        reverse("kpi:measure_list"), {"plan": plan.code, "year": YEAR, "grade": "D", "department": "x"}
    )
    assert {f.assessment.grade for f in response.context["facts"]} == {"D"}


@pytest.mark.parametrize("url_name", ["home", "kpi:measure_list"])
def test_query_count_does_not_grow_with_measures(client, viewer, plan, entered, url_name, django_assert_num_queries):
    client.force_login(viewer)
    params = {"plan": plan.code, "year": YEAR}
    # session, user, groups (role check), plans, plan, grade thresholds; the filter's department, policy,
    # initiative and national 重点取組事項 choices; on the dashboard, the roll-up counted per initiative, the
    # first 50 measures needing attention and their facts (delayed bars, the joined rows), the year's 入力期限,
    # the money chain's flags counted; on the measure list, the page's count, its measures and their facts
    # (delayed bars, the joined rows)
    queries = 16 if url_name == "home" else 14
    with django_assert_num_queries(queries):
        small = client.get(reverse(url_name), params)
    grow_plan(plan, 2970, YEAR)
    with django_assert_num_queries(queries):
        large = client.get(reverse(url_name), params)
    if url_name == "home":
        assert (small.context["summaries"][0].measures, large.context["summaries"][0].measures) == (30, 3000)
        assert len(large.context["attention"]) == 50  # the first 50 of the measures needing attention
    else:
        assert len(small.context["facts"]) == 30
        assert (len(large.context["facts"]), large.context["page_obj"].paginator.count) == (100, 3000)
