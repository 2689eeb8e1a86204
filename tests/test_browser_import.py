"""In the browser: a 担当課 downloads the department workbook, fills it in, uploads it, checks the preview
and confirms; the measure page then shows the figures and the history says 取込."""

import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.test_browser import log_in, serious_violations

pytestmark = pytest.mark.browser

YEAR = 2025


def test_department_fills_in_the_workbook_and_imports_it(page, plan, staff_user, tmp_path):  # noqa: F811
    from initiatives.models import Measure
    from kpi.models import MeasureYear

    department = staff_user.departments.get()
    measures = list(
        Measure.objects.filter(plan=plan, initiative__policy__number=1, initiative__number=3).order_by("ordinal")
    )
    Measure.objects.filter(pk__in=[m.pk for m in measures]).update(department=department)
    measure = next(m for m in measures if m.name == "デジタル・デバイド対策")

    log_in(page, staff_user)
    page.goto(f"/plans/{plan.code}/years/{YEAR}/pdca/")
    page.get_by_role("link", name="Excel・CSVで実績を一括入力（ダウンロード・取込）").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("実績のExcel・CSV入出力")
    assert serious_violations(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(rf"^Excel（\.xlsx）\s*（{department.name}）$")).click()
    download = download_info.value
    assert download.suggested_filename == f"実績入力_大野城市DX推進計画_R7（2025）年度_{department.name}.xlsx"

    # Filled in as staff would in Excel: full-width digits, a comma, a 改善方針 from the list
    with open(download.path(), "rb") as f:
        wb = openpyxl.load_workbook(io.BytesIO(f.read()))
    ws = wb["実績入力"]
    headers = {cell.value: cell.column for cell in ws[1]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, headers["施策コード"]).value == measure.code)
    ws.cell(row, headers["KPI実績"]).value = "７６"
    ws.cell(row, headers["決算額（千円）"]).value = "１，２００"
    ws.cell(row, headers["実施内容"]).value = "スマートフォン講座を24回開催"
    ws.cell(row, headers["改善方針"]).value = "継続"
    filled = tmp_path / "filled.xlsx"
    out = io.BytesIO()
    wb.save(out)
    filled.write_bytes(out.getvalue())

    page.get_by_label("ファイル（.xlsx または CSV）").set_input_files(str(filled))
    page.get_by_role("button", name="確認する（まだ保存しません）").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("取込の確認")
    expect(page.locator("#change-count")).to_have_text("1")
    changes = page.locator("table.changes")
    expect(changes).to_contain_text(measure.name)
    expect(changes).to_contain_text("1,200")
    assert serious_violations(page) == []
    assert not MeasureYear.objects.filter(measure=measure, fiscal_year=YEAR).exists()  # nothing saved yet

    page.get_by_role("button", name="取り込む（1件を保存）").click()
    expect(page.get_by_role("status")).to_contain_text("1件を取り込みました")

    page.goto(measure.get_absolute_url())
    expect(page.locator(f"#year-{YEAR}")).to_contain_text("スマートフォン講座を24回開催")
    row = page.locator("table.years tbody tr").nth(3)  # R7 (2025): 76 ÷ 80% target = 95.0%
    expect(row).to_contain_text("1,200")
    expect(row).to_contain_text("95.0%")
    history = page.locator("section.history")
    expect(history).to_contain_text("取込")
    expect(history).to_contain_text("KPI実績値：－ → 76")
    expect(history).to_contain_text("決算額（千円）：－ → 1,200")
    expect(history).to_contain_text(staff_user.username)
    assert page.problems == []
