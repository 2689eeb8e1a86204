"""Headless Chromium (Debian's, never a downloaded one) against a live server."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from tests import workbooks

pytestmark = pytest.mark.browser


def log_in(page, user):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("ユーザー名").fill(user.username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def test_viewer_browses_the_plan_and_downloads_the_budget_table(page, plan, viewer):
    log_in(page, viewer)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="計画一覧").click()
    expect(page.get_by_role("heading", name="計画一覧")).to_be_visible()
    page.get_by_role("link", name="大野城市DX推進計画").click()
    expect(page.get_by_role("heading", name="基本方針Ⅰ　市民の暮らしを豊かにするスマートシティの実現")).to_be_visible()
    expect(page.locator(".initiative.future")).to_have_count(5)

    page.get_by_role("link", name="② 各種支払いのキャッシュレス化").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("各種支払いのキャッシュレス化")
    expect(page.locator("table.schedule tbody tr")).to_have_count(3)
    expect(page.get_by_text("R7（2025）年度").first).to_be_visible()

    page.get_by_role("link", name="大野城市DX推進計画").click()
    page.get_by_role("link", name="経費（計画値）の集計表").click()
    plan_table = page.get_by_role("table", name="図表2-4-1 計画期間における経費（計画値）（単位：千円）")
    expect(plan_table.locator("tfoot")).to_contain_text("1,240,400")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Excelでダウンロード（.xlsx）").click()
    download = download_info.value
    assert download.suggested_filename.startswith("図表2-4-1")
    with open(download.path(), "rb") as f:
        values = workbooks.evaluate(f.read(), "図表2-4-1")
    # 計 row: 経費 and うち一般財源 over the plan period, as 図表2-4-1 prints them.
    total = next(cell[1:] for cell, value in values.items() if cell.startswith("A") and value == "計")
    assert (values[f"J{total}"], values[f"K{total}"]) == (1240400, 897400)
    assert page.problems == []


def test_wrong_password_gets_a_japanese_message(page, plan, viewer):
    page.goto("/accounts/login/")
    page.get_by_label("ユーザー名").fill(viewer.username)
    page.get_by_label("パスワード").fill("wrong-password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert")).to_contain_text("正しいユーザー名とパスワードを入力してください")
    assert page.problems == []


def test_department_enters_r7_and_dx_office_approves(page, plan, staff_user, dx_user):
    from initiatives.models import Measure

    measure = Measure.objects.get(plan=plan, name="デジタル・デバイド対策")
    measure.department = staff_user.departments.get()
    measure.save()

    log_in(page, staff_user)
    page.goto(measure.get_absolute_url())
    page.locator("#year-2025").get_by_role("link", name="実績・評価を入力").click()
    page.get_by_label("KPI実績値").fill("７６")  # full-width, as typed on a Japanese IME
    page.get_by_label("決算額（千円）").fill("0")
    page.get_by_label("実施内容").fill("スマートフォン講座を24回開催")
    page.get_by_label("評価・要因分析").fill("参加者アンケートで目標に近い結果")
    page.get_by_label("改善方針", exact=True).select_option(label="継続")
    page.get_by_role("button", name="保存して提出").click()
    expect(page.get_by_role("status")).to_contain_text("提出しました")
    expect(page.locator("#year-2025")).to_contain_text("提出済み")
    page.get_by_role("button", name="ログアウト").click()

    log_in(page, dx_user)
    page.goto(measure.get_absolute_url())
    page.locator("#year-2025").get_by_role("button", name="承認する").click()
    expect(page.get_by_role("status")).to_contain_text("承認しました")
    card = page.locator("#year-2025")
    expect(card).to_contain_text("承認済み（ロック）")
    expect(card.get_by_role("link", name="実績・評価を入力")).to_have_count(0)
    # 76 ÷ 80% target = 95.0% → B, computed, on the year row
    row = page.locator("table.years tbody tr").nth(3)
    expect(row).to_contain_text("95.0%")
    expect(row.locator(".grade-badge")).to_have_text("B")
    history = page.locator("section.history")
    expect(history).to_contain_text("承認")
    expect(history).to_contain_text("KPI実績値：－ → 76")
    expect(history).to_contain_text(staff_user.username)
    assert page.problems == []


def serious_violations(page):
    """axe-core (shipped in the axe-playwright-python wheel) run in the page: serious or critical only."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_department_head_filters_opens_charts_and_downloads_the_hearing_workbook(page, plan, viewer, department):
    from initiatives.models import Measure
    from kpi.models import MeasureYear

    measures = list(Measure.objects.filter(plan=plan).order_by("pk")[:3])
    for m in measures:
        m.department = department
        m.save()
        MeasureYear.objects.create(measure=m, fiscal_year=2025, kpi_actual=5, actual_cost=1000, work_done="実施")

    log_in(page, viewer)
    expect(page.get_by_role("heading", level=1)).to_contain_text("R7（2025）年度")
    assert serious_violations(page) == []
    page.get_by_label("担当課").select_option(label=department.name)
    page.get_by_role("button", name="表示").click()
    expect(page.locator(".tiles .tile-value").first).to_have_text("3")
    page.locator(".tiles .tile").first.click()  # the count leads to the three measures
    expect(page.locator("main table tbody tr")).to_have_count(3)
    page.get_by_role("link", name=f"{measures[0].code} {measures[0].name}").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(measures[0].name)
    for chart in ("#chart-kpi", "#chart-cost", "#chart-schedule"):
        expect(page.locator(f"{chart} .main-svg").first).to_be_visible()
    # the KPI chart has its two series drawn: target line and actual bar
    expect(page.locator("#chart-kpi .trace")).to_have_count(2)
    assert serious_violations(page) == []

    page.goto(f"/plans/{plan.code}/reports/hearing/?year=2025")
    expect(page.get_by_role("heading", level=1)).to_contain_text("予算ヒアリング")
    assert serious_violations(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Excelでダウンロード（.xlsx）").click()
    download = download_info.value
    assert download.suggested_filename == "予算ヒアリング_大野城市DX推進計画_R7（2025）年度.xlsx"
    with open(download.path(), "rb") as f:
        content = f.read()
    ws = workbooks.load(content)["予算ヒアリング"]
    total_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "計")
    values = workbooks.evaluate(content, "予算ヒアリング")
    header_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "施策コード")
    letters = {ws.cell(header_row, c).value: ws.cell(header_row, c).column_letter for c in range(1, ws.max_column + 1)}
    assert values[f"{letters['LCC計画（千円）']}{total_row}"] == 665100  # R7 LCC 計, as 図表2-4-1
    assert values[f"{letters['決算額（千円）']}{total_row}"] == 3000
    assert page.problems == []


def test_hearing_sheets_print_one_measure_to_an_a4_page(page, plan, viewer, department):
    from initiatives.models import Measure

    codes = ["I-3-1", "I-3-2", "I-3-3"]
    Measure.objects.filter(plan=plan, code__in=codes).update(department=department)
    log_in(page, viewer)
    page.goto(f"/plans/{plan.code}/years/2025/hearings/")
    page.get_by_role("link", name="表示・印刷").click()
    expect(page.locator("article.business-sheet")).to_have_count(3)
    expect(page.get_by_role("button", name="印刷（1施策1ページ）")).to_be_visible()
    assert serious_violations(page) == []
    page.emulate_media(media="print")
    styles = page.eval_on_selector_all(
        "article.business-sheet", "els => els.map(e => [getComputedStyle(e).breakAfter, getComputedStyle(e).page])"
    )
    assert styles == [["page", "sheet"], ["page", "sheet"], ["auto", "sheet"]]
    expect(page.locator(".breadcrumbs")).to_be_hidden()
    assert page.problems == []


def test_dx_office_publishes_a_year_and_anyone_reads_it_without_logging_in(page, plan, dx_user):
    from initiatives.models import Measure
    from kpi.models import KpiTarget, MeasureYear

    measure = Measure.objects.filter(plan=plan, kpi_targets__fiscal_year=2024, kpi_targets__value__gt=0).first()
    target = KpiTarget.objects.get(measure=measure, fiscal_year=2024).value
    MeasureYear.objects.create(
        measure=measure, fiscal_year=2024, kpi_actual=target, status="approved", improvement="continue",
        improvement_text="公開する改善方針の内容",
    )  # fmt: skip

    log_in(page, dx_user)
    page.goto(f"/plans/{plan.code}/years/2024/pdca/")
    page.get_by_role("link", name="この年度の結果を公表する（公開ページ・オープンデータ）").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("結果の公表")
    assert serious_violations(page) == []
    page.get_by_label(f"{measure.code} {measure.name}").check()
    page.get_by_role("button", name="公表する").click()
    expect(page.get_by_role("status")).to_contain_text("公表しました")
    page.get_by_role("button", name="ログアウト").click()

    page.goto("/open/")
    page.get_by_role("link", name="R6（2024）年度").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(plan.title)
    counts = page.get_by_role("table", name=re.compile("個別施策 30件の内訳"))
    expect(counts.locator('tr[data-grade="A"] td').nth(1)).to_have_text("1")
    expect(counts.locator('tr[data-grade="A"] td').nth(2)).to_have_text("3.3%")
    row = page.locator(f'tr[data-code="{measure.code}"]')
    expect(row.locator(".grade-badge")).to_have_text("A")
    expect(row).to_contain_text("公開する改善方針の内容")
    assert serious_violations(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV（UTF-8・BOM付き）").click()
    with open(download_info.value.path(), "rb") as f:
        assert f.read(3) == b"\xef\xbb\xbf"
    assert page.problems == []


def test_a_half_year_plan_reports_its_first_half_and_publishes_it(page, plan, staff_user, dx_user):
    from initiatives.models import Measure
    from kpi.models import InterimReview

    plan.review_cycle, plan.grading_rule = "half", "judgement"  # 浜松市's A–D by default
    plan.save()
    measure = Measure.objects.get(plan=plan, name="デジタル・デバイド対策")
    measure.department = staff_user.departments.get()
    measure.save()

    log_in(page, staff_user)
    page.goto(measure.get_absolute_url())
    page.locator("#year-2025").get_by_role("link", name="上期の進捗").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("R7（2025）年度 上期の進捗")
    assert serious_violations(page) == []
    page.get_by_label("上期の取組状況").fill("スマートフォン講座を12回開催")
    page.get_by_label("進捗の判定").select_option(label="B：目標どおり")
    page.get_by_label("判定の理由").fill("計画どおりの回数を開催")
    page.get_by_role("button", name="保存して提出").click()
    expect(page.locator(".messages").get_by_role("status")).to_contain_text("上期の進捗を提出しました")
    page.get_by_role("button", name="ログアウト").click()

    log_in(page, dx_user)
    page.goto(f"/plans/{plan.code}/measures/{measure.code}/years/2025/interim/")
    page.get_by_role("button", name="確定する").click()
    expect(page.locator(".messages").get_by_role("status")).to_contain_text("上期の進捗を確定しました")
    assert InterimReview.objects.get().status == "confirmed"
    page.goto(f"/?plan={plan.code}&year=2025")
    expect(page.locator('#interim-shares tr[data-grade="B"] td').nth(1)).to_have_text("1")
    assert serious_violations(page) == []
    page.goto(f"/plans/{plan.code}/years/2025/publish/?period=H1")
    page.get_by_role("button", name="公表する").click()
    expect(page.locator(".messages").get_by_role("status")).to_contain_text("上期の結果を公表しました")
    page.get_by_role("button", name="ログアウト").click()

    page.goto("/open/")
    page.get_by_role("link", name="R7（2025）年度 上期").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("上期")
    expect(page.locator('#grade-count-table tr[data-grade="B"] td').nth(1)).to_have_text("1")
    expect(page.locator(f'tr[data-code="{measure.code}"] .grade-badge')).to_have_text("B")
    assert serious_violations(page) == []
    assert page.problems == []
