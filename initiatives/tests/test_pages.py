"""Every page answers a logged-in user; anonymous visitors are sent to the login page."""

import itertools
import re
import uuid

import pytest
from django.contrib import admin
from django.template.defaultfilters import linebreaksbr
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from budget.models import BudgetFigure
from budget.views import REPORTS
from initiatives.models import Measure, NationalPriority, Plan
from kpi.models import BarStatus, MeasureYear

pytestmark = pytest.mark.django_db

PLAN_APPS = ("initiatives", "kpi", "budget")

PUBLIC = {"login", "healthz"}
# The public side (no login) shows published years only: kpi/tests/test_publishing.py
PUBLIC |= {"kpi:public_index", "kpi:open_data_schema", "kpi:public_year", "kpi:public_csv", "kpi:public_json"}
PUBLIC |= {"kpi:public_half", "kpi:public_half_csv", "kpi:public_half_json"}
POST_ONLY = {
    "logout",
    "kpi:approve",
    "kpi:return",
    "kpi:reopen",
    "kpi:bulk_approve",
    "kpi:actuals_confirm",
    "plan_import_confirm",
    "kpi:interim_step",
}
# Entry pages answer only those who may enter; kpi/tests/test_permissions.py covers them.
ENTRY = {"kpi:measure_year_edit", "kpi:department_grid", "kpi:actuals", "kpi:actuals_download", "plan_import"}
ENTRY |= {"budget:figure_edit", "budget:hearing_edit", "budget:decision_edit", "budget:final_edit"}
ENTRY |= {"budget:revise_measure", "budget:next_plan"}  # the next plan: budget/tests/test_next_plan.py
ENTRY |= {"kpi:publish"}  # the DX推進部門 only: kpi/tests/test_publishing.py
# Pages of a plan reviewed every half year (404 for the Ohnojo plan): kpi/tests/test_interim.py
ENTRY |= {"kpi:interim_edit", "kpi:interim_summary"}
# A background download's page and file answer only who asked for it (and the DX推進部門):
# budget/tests/test_exports.py covers them.
OWN = {"budget:export_job", "budget:export_download"}


def named_routes(patterns=None, namespace=""):
    """(name, parameter names) of every named route outside the admin."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            if p.app_name == "admin":
                continue
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from named_routes(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}", list(p.pattern.converters)


def route_urls(plan, names):
    """A URL for every named route (one per report kind), with real parameters."""
    measure = Measure.objects.filter(plan=plan).first()
    values = {
        "plan_code": [plan.code],
        "code": [measure.code],
        "year": [plan.end_year],
        "department_code": ["test-dept"],
        "kind": list(REPORTS),
        "stage": BudgetFigure.Stage.values,
        "number": [1],
        "token": [uuid.UUID(int=1)],
        "step": ["confirm"],
    }
    urls = []
    for name, params in named_routes():
        if name in names:
            for combination in itertools.product(*(values[p] for p in params)):
                urls.append(reverse(name, kwargs=dict(zip(params, combination, strict=True))))
    return urls


ALL_ROUTES = {name for name, _ in named_routes()}


@pytest.fixture
def urls(plan, department):
    """Every page anyone signed in may read (the department has a measure of the plan)."""
    Measure.objects.filter(plan=plan, code="I-1-1").update(department=department)
    return route_urls(plan, ALL_ROUTES - PUBLIC - POST_ONLY - ENTRY - OWN)


def test_anonymous_is_redirected_from_every_route(client, plan, department):
    Measure.objects.filter(plan=plan).update(department=department)
    for url in route_urls(plan, ALL_ROUTES - PUBLIC):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_the_route_list_is_not_empty(urls):
    assert len(urls) >= 5


@pytest.mark.parametrize("role", ["dx_user", "staff_user", "viewer"])
def test_every_page_answers_each_role(client, urls, role, request):
    client.force_login(request.getfixturevalue(role))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        if response["Content-Type"].startswith("text/html"):
            assert b"<h1>" in response.content, url  # a real page, not a login form


def test_admin_pages_answer_the_dx_office(client, dx_user, plan):
    client.force_login(dx_user)
    measure = Measure.objects.filter(plan=plan).first()
    assert client.get(reverse("admin:index")).status_code == 200
    plan_models = [m for m in admin.site._registry if m._meta.app_label in PLAN_APPS]
    assert len(plan_models) >= 9
    for model in plan_models:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200, change
    measure_page = reverse("admin:initiatives_measure_change", args=[measure.pk])
    html = client.get(measure_page).content.decode()
    for inline_title in ("スケジュール", "評価指標（KPI）目標", "年度経費（LCC）", "数値目標（KGI）"):
        assert inline_title in html


def test_viewer_cannot_open_the_admin(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302


def test_login_page_is_japanese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "ログイン" in response.content.decode()


def test_plan_tree_shows_policies_initiatives_and_future_ones(client, viewer, plan, django_assert_num_queries):
    client.force_login(viewer)
    url = reverse("initiatives:plan_detail", args=[plan.code])
    # session, user, the user's groups (role check), plan, policies, initiatives, measures (with KGI and
    # department), their national 重点取組事項, the 重点取組事項 each initiative serves, the plan's national
    # 重点取組事項 and their measures (tests/test_page_queries.py pins the same at 3,000 measures)
    with django_assert_num_queries(11):
        html = client.get(url).content.decode()
    assert "基本方針Ⅰ" in html and "基本方針Ⅱ" in html
    assert html.count('class="initiative future"') == 5
    assert html.count('class="initiative"') == 13
    assert "今後検討" in html and "マイナンバーカードを使って利用できるサービスの構築" in html


def test_the_plan_page_states_the_plan_in_its_own_words(client, viewer, plan):
    """目指す姿, the definitions of LCC, KGI and KPI, 2.4 and 3.2 as the plan states them, from the plan's data."""
    client.force_login(viewer)
    html = client.get(reverse("initiatives:plan_detail", args=[plan.code])).content.decode()
    assert f'<p class="vision">{plan.vision}</p>' in html
    for text in (plan.vision_description, plan.lcc_definition, plan.costs_description, plan.progress_management):
        assert linebreaksbr(text) in html
    assert plan.kgi_definition in html and plan.kpi_definition in html
    assert "計画期間全体における個別施策の達成度を測る指標" in html  # KGI, as the plan words it
    assert "随時本計画の見直しを行います" in html  # 3.2
    # The scores do not rank the projects' worth: said under each 基本方針's priority list, as the plan does.
    assert html.count("事業の優劣を決めるものではありません") == 2
    assert "（推定）" not in html  # the guessed 重点 flags are gone


def test_the_plan_page_shows_what_the_plan_texts_hold_not_fixed_words(client, viewer, plan):
    """Change the data, and the page says the new words: nothing of the plan is typed into the template."""
    Plan.objects.filter(pk=plan.pk).update(
        vision="別のビジョン",
        vision_description="別の説明",
        lcc_definition="別のLCCの定義",
        kgi_definition="別のKGIの定義",
        kpi_definition="別のKPIの定義",
        costs_description="別の経費の説明",
        score_note="別の注記",
        consideration_heading="別の見出し",
        progress_management="別の進行管理",
    )
    client.force_login(viewer)
    html = client.get(reverse("initiatives:plan_detail", args=[plan.code])).content.decode()
    for text in (
        "別のビジョン",
        "別の説明",
        "別のLCCの定義",
        "別のKGIの定義",
        "別のKPIの定義",
        "別の経費の説明",
        "別の進行管理",
    ):
        assert text in html, text
    assert html.count("別の注記") == 2 and html.count("別の見出し") == 5
    for text in ("見える化するもの", "到達目標", "中間的な目標", "事業の優劣", "想定される一例", "随時本計画"):
        assert text not in html, text


def test_the_future_initiatives_show_their_printed_no_and_heading(client, viewer, plan):
    client.force_login(viewer)
    html = client.get(reverse("initiatives:plan_detail", args=[plan.code])).content.decode()
    future = [item for item in html.split('<li class="initiative')[1:] if item.startswith(' future"')]
    assert len(future) == 5
    for no, item in enumerate(future, start=1):
        assert f'<span class="future-no">No {no}</span>' in item
        assert "<strong>検討の方向性(想定される一例)：</strong>" in item
    assert "マイナンバーカードの普及促進" in future[0] and "ICTを活用した上下水道サービスの提供" in future[4]


def test_the_plan_page_shows_the_national_priorities_and_who_serves_them(client, viewer, plan):
    client.force_login(viewer)
    html = client.get(reverse("initiatives:plan_detail", args=[plan.code])).content.decode()
    table = html.split('<section class="national-priorities">', 1)[1].split("</section>", 1)[0]
    rows = table.split("<tbody>", 1)[1].split("</tr>")[:-1]
    priorities = list(NationalPriority.objects.filter(plan=plan).order_by("number"))
    assert len(rows) == len(priorities) == 6
    for priority, row in zip(priorities, rows, strict=True):
        assert f'<th scope="row">{priority}</th>' in row
        served = sorted(m.code for m in priority.measures.all())
        assert sorted(re.findall(r"/measures/([^/]+)/", row)) == served
        if not served:
            assert "なし" in row
    # Each 取組 heading names what its measures serve; the others name nothing.
    items = html.split('<li class="initiative')[1:]
    headings = [item.split("</h3>", 1)[0] for item in items]
    marked = [h for h in headings if "国の重点取組事項" in h]
    assert len(marked) == 7
    online = next(h for h in headings if "行政手続のオンライン化" in h)
    assert "国の重点取組事項 ③自治体の行政手続のオンライン化" in online
    telework = next(h for h in headings if "テレワークの推進" in h and "取組" in h)
    assert "⑤テレワークの推進" in telework


def test_the_measure_page_shows_its_national_priorities(client, viewer, plan):
    client.force_login(viewer)
    tagged = Measure.objects.get(plan=plan, code="II-3-1")
    html = client.get(tagged.get_absolute_url()).content.decode()
    cell = html.split('<dd class="national-priorities">', 1)[1].split("</dd>", 1)[0]
    assert "⑤テレワークの推進" in cell and f"{plan.get_absolute_url()}#national-priority-5" in cell
    untagged = Measure.objects.get(plan=plan, code="I-1-2")
    html = client.get(untagged.get_absolute_url()).content.decode()
    assert html.split('<dd class="national-priorities">', 1)[1].split("</dd>", 1)[0] == "なし"


def test_measure_page_shows_the_measure_table(client, viewer, plan, django_assert_num_queries):
    client.force_login(viewer)
    measure = Measure.objects.get(plan=plan, name="標準システム導入")
    bars = list(measure.schedule_bars.all())
    record = MeasureYear.objects.create(measure=measure, fiscal_year=2024, kpi_actual=1, work_done="移行テスト")
    BarStatus.objects.create(measure_year=record, bar=bars[2], state=BarStatus.State.DELAYED)
    url = measure.get_absolute_url()
    # session, user, measure (with plan, initiative, policy, KGI, department, final evaluation), schedule
    # bars, national 重点取組事項, KPI targets, planned costs, measure-years, their bar statuses, grade
    # thresholds, hearing decisions, the viewer's groups, history of measure-years, KPI targets, planned
    # costs, budget figures, hearing decisions, final evaluation, KGI and bar statuses; the money chain's
    # planned costs, KPI targets, budget figures and records; the revisions' changes; the other indicators
    with django_assert_num_queries(26):
        html = client.get(url).content.decode()
    for text in (
        "標準システム導入",
        "行政運営の効率化・運用コストの削減",  # 目指す姿／目標
        "事務の効率化",  # 期待される効果
        "標準システムへ移行した業務数（累計）：20業務",  # KGI
        "20業務（※3）",  # KPI R7
        "427,000",  # LCC R7
        "R7（2025）年度",
        "期間は推定",
        "庁内体制の整備",  # a schedule bar
        "移行テスト",  # R6 実施内容
        "遅延",  # R6 progress of the third bar
    ):
        assert text in html, text
    # Each bar is drawn in exactly the years it covers.
    table = html.split('class="data schedule"', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tbody>", 1)[1].split("</tr>")[:-1]
    assert len(rows) == len(bars)
    for bar, row in zip(bars, rows, strict=True):
        assert bar.label in row
        drawn = [cell.startswith(" on") for cell in row.split('class="bar-cell')[1:]]
        assert drawn == [bar.covers(year) for year in plan.fiscal_years], bar.label


def test_logout_is_a_post(client, viewer):
    client.force_login(viewer)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("initiatives:plan_list")).status_code == 302


def test_a_large_initiative_lists_its_first_measures_and_links_to_all(client, viewer, plan):
    """At 3,000 measures the plan page stays a page: each 取組 lists its first TREE_MEASURES measures and links
    to the measure list of all of them; its national 重点取組事項 still counts every measure."""
    from conftest import grow_plan
    from initiatives.selectors import TREE_MEASURES

    grow_plan(plan, 2970)
    client.force_login(viewer)
    html = client.get(reverse("initiatives:plan_detail", args=[plan.code])).content.decode()
    initiative = plan.policies.get(number=2).initiatives.get(number=1)
    total = initiative.measures.count()
    assert total > 2970
    listed = re.findall(r'<li><a href="[^"]+/measures/X-\d+/">', html)
    assert len(listed) == TREE_MEASURES - (total - 2970)  # its own measures come first (ordinal)
    link = f"/measures/?plan={plan.code}&amp;initiative={initiative.pk}"
    assert link in html and f"この取組の施策をすべて表示（{total}件）" in html
    response = client.get(link.replace("&amp;", "&"))
    assert response.context["page_obj"].paginator.count == total
