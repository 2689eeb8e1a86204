"""Every page answers a logged-in user; anonymous visitors are sent to the login page."""

import itertools

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from budget.models import BudgetFigure
from budget.views import REPORTS
from initiatives.models import Measure
from kpi.models import BarStatus, MeasureYear

pytestmark = pytest.mark.django_db

PLAN_APPS = ("initiatives", "kpi", "budget")

PUBLIC = {"login", "healthz"}
POST_ONLY = {
    "logout",
    "kpi:approve",
    "kpi:return",
    "kpi:reopen",
    "kpi:bulk_approve",
    "kpi:actuals_confirm",
    "plan_import_confirm",
}
# Entry pages answer only those who may enter; kpi/tests/test_permissions.py covers them.
ENTRY = {"kpi:measure_year_edit", "kpi:department_grid", "kpi:actuals", "kpi:actuals_download", "plan_import"}
ENTRY |= {"budget:figure_edit", "budget:hearing_edit", "budget:decision_edit"}


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
    """Every page anyone signed in may read."""
    return route_urls(plan, ALL_ROUTES - PUBLIC - POST_ONLY - ENTRY)


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
    # session, user, the user's groups (role check), plan, policies, initiatives, measures (with KGI and department)
    with django_assert_num_queries(7):
        html = client.get(url).content.decode()
    assert "基本方針Ⅰ" in html and "基本方針Ⅱ" in html
    assert html.count('class="initiative future"') == 5
    assert html.count('class="initiative"') == 13
    assert "今後検討" in html and "マイナンバーカードを使って利用できるサービスの構築" in html


def test_measure_page_shows_the_measure_table(client, viewer, plan, django_assert_num_queries):
    client.force_login(viewer)
    measure = Measure.objects.get(plan=plan, name="標準システム導入")
    bars = list(measure.schedule_bars.all())
    record = MeasureYear.objects.create(measure=measure, fiscal_year=2024, kpi_actual=1, work_done="移行テスト")
    BarStatus.objects.create(measure_year=record, bar=bars[2], state=BarStatus.State.DELAYED)
    url = measure.get_absolute_url()
    # session, user, measure (with plan, initiative, policy, KGI, department), schedule bars, KPI targets,
    # planned costs, measure-years, their bar statuses, grade thresholds, hearing decisions, the viewer's
    # groups, history of measure-years, KPI targets, planned costs, budget figures, hearing decisions, KGI and
    # bar statuses; the money chain's planned costs, budget figures and records
    with django_assert_num_queries(21):
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
