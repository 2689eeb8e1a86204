"""A year's actuals as a workbook or CSV: download, upload, preview (writes nothing), confirm (all or nothing).

Every refusal names its row and column with a Japanese message and leaves the database as it was;
hostile files (a zip bomb, an entity bomb, a disguised file, a million rows) are refused within
seconds and within bounded memory, measured here.
"""

import csv
import io
import time
import tracemalloc
import zipfile
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from django.utils import timezone

from conftest import grow_plan
from initiatives.models import Measure
from kpi import transfer, workflow
from kpi.models import MeasureYear, PendingUpload

pytestmark = pytest.mark.django_db

YEAR = 2025
HEADER_ROW = 1


@pytest.fixture
def measures(plan, department):
    """The six measures of Ⅰ-取組3 and the text-target measure Ⅰ-6-1, owned by the staff user's department."""
    measures = list(
        Measure.objects.filter(plan=plan, initiative__policy__number=1, initiative__number__in=(3, 6)).order_by(
            "initiative__number", "ordinal"
        )
    )
    Measure.objects.filter(pk__in=[m.pk for m in measures]).update(department=department)
    for measure in measures:
        measure.department = department
    return measures


@pytest.fixture
def other_measure(plan, other_department):
    measure = Measure.objects.get(plan=plan, code="I-1-1")
    measure.department = other_department
    measure.save()
    return measure


@pytest.fixture
def records(measures, staff_user, dx_user):
    """Stored figures of every shape: a decimal KPI, amounts with their funding, texts with a browser's
    CRLF and a leading "=", a 改善方針, a text KPI, and an approved (locked) year."""
    by_code = {m.code: m for m in measures}
    made = {
        "I-3-1": MeasureYear(
            measure=by_code["I-3-1"],
            fiscal_year=YEAR,
            kpi_actual=Decimal("72.50"),
            actual_cost=1200,
            actual_general_fund=800,
            actual_other_funds=400,
            work_done="講座を12回開催\r\nアンケートを実施",
            evaluation_comment="=目標に近い",
            improvement="continue",
            improvement_text="対象を広げる",
        ),
        "I-3-2": MeasureYear(measure=by_code["I-3-2"], fiscal_year=YEAR, actual_cost=0, work_done="準備"),
        "I-6-1": MeasureYear(measure=by_code["I-6-1"], fiscal_year=YEAR, kpi_actual_text="3窓口で導入"),
        "I-3-4": MeasureYear(measure=by_code["I-3-4"], fiscal_year=YEAR, kpi_actual=650, actual_cost=500),
    }
    for record in made.values():
        workflow.save_record(record, staff_user, seen_version=0)
    workflow.save_record(made["I-3-4"], staff_user, made["I-3-4"].version, submit=True)
    workflow.approve(made["I-3-4"], dx_user, made["I-3-4"].version)
    return made


def page_url(plan, name="actuals", year=YEAR):
    return reverse(f"kpi:{name}", args=[plan.code, year])


def download(client, plan, department=None, output="xlsx", year=YEAR):
    query = {"format": output, **({"department": department.code} if department else {})}
    response = client.get(page_url(plan, "actuals_download", year), query)
    assert response.status_code == 200, response
    return response.content


def upload(client, plan, content, name="実績.xlsx", year=YEAR):
    return client.post(page_url(plan, year=year), {"file": SimpleUploadedFile(name, content)})


def confirm(client, plan, preview_response, year=YEAR):
    token = preview_response.context["token"]
    assert token, [vars(i) for i in preview_response.context["preview"].issues]
    return client.post(page_url(plan, "actuals_confirm", year), {"token": token})


def snapshot(plan):
    """Every record of the plan, field by field, and every history row."""
    return (
        list(MeasureYear.objects.filter(measure__plan=plan).order_by("pk").values()),
        MeasureYear.history.count(),
    )


def rows_of(content):
    """{code: {header: value}} of a downloaded workbook, and its header list."""
    ws = openpyxl.load_workbook(io.BytesIO(content))[transfer.SHEET]
    headers = [c.value for c in ws[HEADER_ROW]]
    out = {}
    for row in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        out[row[1]] = dict(zip(headers, row, strict=True))
    return headers, out


def fill(content, changes, extra=()):
    """The downloaded workbook with cells changed as staff would in Excel: {code: {header: value}};
    ``extra``: rows appended as {header: value}."""
    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb[transfer.SHEET]
    headers = {c.value: c.column for c in ws[HEADER_ROW]}
    for row in range(HEADER_ROW + 1, ws.max_row + 1):
        code = ws.cell(row, headers["施策コード"]).value
        for header, value in changes.get(code, {}).items():
            ws.cell(row, headers[header]).value = value
    for values in extra:
        row = ws.max_row + 1
        for header, value in values.items():
            ws.cell(row, headers[header]).value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_rows(content):
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def csv_file(rows, encoding="utf-8-sig"):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def row_number(content, code):
    _, rows = rows_of(content)
    return list(rows).index(code) + HEADER_ROW + 1


def issues(response):
    return [(i.row, i.column, i.message) for i in response.context["preview"].issues]


# --- Round trip, preview, confirm ------------------------------------------------------------------


@pytest.mark.parametrize("output", ["xlsx", "csv"])
@pytest.mark.parametrize("who", ["staff", "dx"])
def test_a_workbook_uploaded_unchanged_writes_nothing(
    client, plan, department, records, staff_user, dx_user, who, output
):
    user = staff_user if who == "staff" else dx_user
    client.force_login(user)
    content = download(client, plan, department if who == "staff" else None, output)
    before = snapshot(plan)
    response = upload(client, plan, content, f"実績.{output}")
    assert response.status_code == 200
    preview = response.context["preview"]
    assert issues(response) == []
    assert preview.changes == []
    assert preview.rows == (7 if who == "staff" else 30)
    assert preview.unchanged == preview.rows
    assert response.context["token"] is None  # nothing to confirm
    assert "変更はありません" in response.content.decode()
    assert snapshot(plan) == before


def test_preview_writes_nothing_and_confirm_writes_every_row(client, plan, department, measures, records, staff_user):
    client.force_login(staff_user)
    content = download(client, plan, department)
    filled = fill(
        content,
        {
            "I-3-1": {"KPI実績": 76, "決算額（千円）": 1300},
            "I-3-3": {
                "KPI実績": "８０．５",
                "決算額（千円）": "１，２３４",
                "実施内容": "スマホ講座\n24回",
                "改善方針": "拡充",
            },
            "I-6-1": {"KPI実績": "全窓口で導入", "評価・要因分析": "予定どおり"},
        },
    )
    before = snapshot(plan)
    response = upload(client, plan, filled)
    assert issues(response) == []
    changes = {c.measure.code: c.cells for c in response.context["preview"].changes}
    assert changes == {
        "I-3-1": [("KPI実績", "72.5", "76"), ("決算額（千円）", "1,200", "1,300")],
        "I-3-3": [
            ("KPI実績", "（空欄）", "80.5"),
            ("決算額（千円）", "（空欄）", "1,234"),
            ("実施内容", "（空欄）", "スマホ講座\n24回"),
            ("改善方針", "（空欄）", "拡充"),
        ],
        "I-6-1": [("KPI実績", "3窓口で導入", "全窓口で導入"), ("評価・要因分析", "（空欄）", "予定どおり")],
    }
    html = response.content.decode()
    assert "取り込む（3件を保存）" in html and "72.5" in html
    assert snapshot(plan) == before  # the dry run wrote nothing
    assert PendingUpload.objects.count() == 1  # the changes wait in the database, not in the page

    response = confirm(client, plan, response)
    assert not PendingUpload.objects.exists()
    assert response.status_code == 302
    assert "3件を取り込みました" in client.get(response["Location"]).content.decode()
    saved = {r.measure.code: r for r in MeasureYear.objects.filter(measure__in=measures, fiscal_year=YEAR)}
    assert (saved["I-3-1"].kpi_actual, saved["I-3-1"].actual_cost, saved["I-3-1"].version) == (76, 1300, 2)
    assert (saved["I-3-3"].kpi_actual, saved["I-3-3"].actual_cost, saved["I-3-3"].improvement) == (
        Decimal("80.5"),
        1234,
        "expand",
    )
    assert saved["I-3-3"].work_done == "スマホ講座\n24回" and saved["I-3-3"].version == 1
    assert saved["I-6-1"].kpi_actual_text == "全窓口で導入"
    # untouched: the CRLF text, the funding breakdown, the other rows
    assert saved["I-3-1"].work_done == "講座を12回開催\r\nアンケートを実施"
    assert saved["I-3-1"].actual_general_fund == 800
    for code in ("I-3-1", "I-3-3", "I-6-1"):
        last = saved[code].history.first()
        assert (last.history_change_reason, last.history_user) == ("取込", staff_user)
    assert MeasureYear.history.count() == before[1] + 3


def test_one_bad_row_among_many_writes_none_and_is_named(client, plan, dx_user):
    client.force_login(dx_user)
    content = download(client, plan)  # every measure of the plan
    _, rows = rows_of(content)
    changes = {code: {"KPI実績": 5, "決算額（千円）": 100, "実施内容": "実施"} for code in rows}
    changes["II-2-1"]["決算額（千円）"] = "たくさん"
    filled = fill(content, changes)
    before = snapshot(plan)
    response = upload(client, plan, filled)
    assert issues(response) == [(row_number(content, "II-2-1"), "決算額（千円）", "整数を入力してください。")]
    assert response.context["token"] is None
    html = response.content.decode()
    assert "誤りがあるため取り込めません" in html and f"{row_number(content, 'II-2-1')}行目" in html
    # a confirm posted anyway (no file kept for it) writes nothing either
    response = client.post(page_url(plan, "actuals_confirm"), {"token": "x"})
    assert snapshot(plan) == before
    # the row corrected, the same file is taken whole: every row written, each with its history
    changes["II-2-1"]["決算額（千円）"] = "１００"
    response = confirm(client, plan, upload(client, plan, fill(content, changes)))
    assert response.status_code == 302
    written = MeasureYear.objects.filter(measure__plan=plan, fiscal_year=YEAR)
    assert written.count() == 30 and set(written.values_list("actual_cost", flat=True)) == {100}
    assert MeasureYear.history.filter(history_change_reason="取込").count() == 30


def test_confirm_checks_again_and_writes_none_if_a_row_changed_meanwhile(
    client, plan, department, measures, records, staff_user, dx_user
):
    client.force_login(staff_user)
    content = download(client, plan, department)
    filled = fill(content, {"I-3-2": {"決算額（千円）": 10}, "I-3-5": {"決算額（千円）": 20}, "I-3-6": {"KPI実績": 1}})
    response = upload(client, plan, filled)
    assert len(response.context["preview"].changes) == 3
    # the DX推進部門 corrects I-3-5 after the preview: its row is now stale
    other = MeasureYear(measure=measures[4], fiscal_year=YEAR, work_done="DXで入力")
    workflow.save_record(other, dx_user, seen_version=0)
    before = snapshot(plan)
    response = confirm(client, plan, response)
    assert response.status_code == 200
    assert issues(response) == [(row_number(content, "I-3-5"), "版", str(workflow.Conflict()))]
    assert "取り込みを中止しました（何も保存していません）" in response.content.decode()
    assert snapshot(plan) == before
    # the kept file is gone with the confirm: posting it again finds nothing
    response = client.post(page_url(plan, "actuals_confirm"), {"token": response.context["token"] or ""})
    assert snapshot(plan) == before


def meanwhile(monkeypatch, change):
    """Run ``change`` inside the confirm, after it has read the stored records and before the door
    claims them: the narrowest race there is."""
    save_many = workflow.save_many

    def racing(changes, user, reason):
        change()
        return save_many(changes, user, reason)

    monkeypatch.setattr(workflow, "save_many", racing)


@pytest.mark.parametrize("race", ["saved", "created", "approved", "moved to another department"])
def test_a_row_changed_during_the_confirm_is_refused_by_the_door_and_nothing_is_written(
    client, plan, department, other_department, measures, records, staff_user, dx_user, monkeypatch, race
):
    """Someone writes between the confirm's read and its write: kpi.workflow.save_many's claim refuses
    that row, no other row is written, and the row is named. A measure given to another department
    after the preview is refused by the door's role check."""
    client.force_login(staff_user)
    content = download(client, plan, department)
    codes = ("I-3-1", "I-3-2", "I-3-3", "I-3-5")
    response = upload(client, plan, fill(content, {code: {"実施内容": "取込で更新"} for code in codes}))
    assert len(response.context["preview"].changes) == 4
    before = snapshot(plan)
    code, column, error = {
        "saved": ("I-3-2", "版", workflow.Conflict()),
        "created": ("I-3-3", "版", workflow.Conflict()),
        "approved": ("I-3-1", "状態", workflow.Locked()),
        "moved to another department": ("I-3-5", "施策コード", workflow.NotAllowed()),
    }[race]
    measure = next(m for m in measures if m.code == code)

    def change():
        nonlocal before
        if race == "moved to another department":
            Measure.objects.filter(pk=measure.pk).update(department=other_department)
            return
        record = MeasureYear.objects.filter(measure=measure, fiscal_year=YEAR).first()
        record = record or MeasureYear(measure=measure, fiscal_year=YEAR)
        workflow.save_record(record, dx_user, record.version if record.pk else 0, submit=race == "approved")
        if race == "approved":
            workflow.approve(record, dx_user, record.version)
        before = snapshot(plan)

    if race == "moved to another department":
        change()  # between the preview and the confirm: the confirm reads the measure as it is now
    else:
        meanwhile(monkeypatch, change)
    response = confirm(client, plan, response)
    assert response.status_code == 200
    assert issues(response) == [(row_number(content, code), column, str(error))]
    assert snapshot(plan) == before  # the rows claimed before the refused one are rolled back


def test_confirm_needs_this_sessions_token(client, plan, department, measures, staff_user):
    client.force_login(staff_user)
    filled = fill(download(client, plan, department), {"I-3-1": {"決算額（千円）": 10}})
    token = upload(client, plan, filled).context["token"]
    before = snapshot(plan)
    response = client.post(page_url(plan, "actuals_confirm"), {"token": token + "x"})
    assert response.status_code == 302
    assert "取り込むファイルが見つかりません" in client.get(response["Location"]).content.decode()
    assert snapshot(plan) == before
    client.logout()
    client.force_login(staff_user)  # a new session does not hold the token
    client.post(page_url(plan, "actuals_confirm"), {"token": token})
    assert snapshot(plan) == before


def test_a_preview_left_longer_than_a_session_is_removed_by_the_next(client, plan, department, measures, staff_user):
    client.force_login(staff_user)
    content = download(client, plan, department)
    upload(client, plan, fill(content, {"I-3-1": {"決算額（千円）": 10}}))
    abandoned = PendingUpload.objects.get()
    session_age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    PendingUpload.objects.filter(pk=abandoned.pk).update(created_at=timezone.now() - session_age - timedelta(minutes=1))
    other = Client()
    other.force_login(staff_user)
    upload(other, plan, fill(content, {"I-3-1": {"決算額（千円）": 20}}))
    assert not PendingUpload.objects.filter(pk=abandoned.pk).exists()
    assert PendingUpload.objects.count() == 1  # the new one waits


# --- Each refusal, with its row, column and Japanese message ------------------------------------------


NEGATIVE = "負の数は入力できません（0 以上の値を入力してください）。"


@pytest.mark.parametrize(
    "column, typed, message",
    [
        ("決算額（千円）", -100, NEGATIVE),
        ("決算額（千円）", "△100", NEGATIVE),
        ("決算額（千円）", "▲1,000", NEGATIVE),
        ("うち一般財源（千円）", "－１００", NEGATIVE),
        ("KPI実績", "△5", NEGATIVE),
        ("KPI実績", -1.5, NEGATIVE),
        ("決算額（千円）", "未定", "整数を入力してください。"),
        ("KPI実績", "多数", "数値を入力してください。"),
        ("決算額（千円）", "=1+1", transfer.FORMULA_MESSAGE),
        ("個別施策", '=HYPERLINK("http://example.com")', transfer.FORMULA_MESSAGE),
        ("改善方針", "やめる", "改善方針は「継続・拡充・見直し・完了・廃止」のいずれかを選んでください。"),
        ("年度", 2024, "年度が違います（この画面は R7（2025）年度 の取込です。ファイルの年度：2024）。"),
        ("版", "abc", "版の値が正しくありません。ダウンロードした様式の「版」は変更しないでください。"),
    ],
)
def test_a_bad_cell_is_refused_with_its_row_column_and_message(
    client, plan, department, measures, staff_user, column, typed, message
):
    client.force_login(staff_user)
    content = download(client, plan, department)
    changes = {"I-3-2": {"実施内容": "正しい行"}, "I-3-3": {column: typed}}
    if column in ("うち一般財源（千円）",):
        changes["I-3-3"]["決算額（千円）"] = 500
    filled = fill(content, changes)
    if isinstance(typed, str) and typed.startswith("="):
        filled = _as_formula(filled, "I-3-3", column, typed)
    before = snapshot(plan)
    response = upload(client, plan, filled)
    assert issues(response) == [(row_number(content, "I-3-3"), column, message)]
    assert response.context["token"] is None
    assert snapshot(plan) == before


def _as_formula(content, code, header, formula):
    """openpyxl already stores a string that starts with "=" as a formula; make sure it did."""
    ws = openpyxl.load_workbook(io.BytesIO(content))[transfer.SHEET]
    headers = {c.value: c.column for c in ws[HEADER_ROW]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 2).value == code)
    assert ws.cell(row, headers[header]).data_type == "f"
    return content


def test_a_row_of_another_department_is_refused_for_a_department(
    client, plan, department, measures, other_measure, staff_user
):
    client.force_login(staff_user)
    content = download(client, plan, department)
    extra = {"年度": YEAR, "施策コード": other_measure.code, "決算額（千円）": 5, "版": 0}
    filled = fill(content, {"I-3-1": {"決算額（千円）": 1}}, extra=[extra])
    before = snapshot(plan)
    response = upload(client, plan, filled)
    assert issues(response) == [
        (
            9,
            "施策コード",
            "施策コード「I-1-1」は別のテスト課の施策です。自分の課の施策だけを取り込めます（権限がありません）。",
        )
    ]
    assert snapshot(plan) == before


def test_an_approved_year_is_refused_when_changed(client, plan, department, records, staff_user):
    client.force_login(staff_user)
    content = download(client, plan, department)
    before = snapshot(plan)
    response = upload(client, plan, fill(content, {"I-3-4": {"KPI実績": 700}}))
    assert issues(response) == [(row_number(content, "I-3-4"), "状態", str(workflow.Locked()))]
    assert snapshot(plan) == before


def test_a_version_changed_since_the_download_is_refused(client, plan, department, records, staff_user, dx_user):
    client.force_login(staff_user)
    content = download(client, plan, department)
    record = records["I-3-2"]
    record.work_done = "DX推進部門が修正"
    workflow.save_record(record, dx_user, record.version)
    before = snapshot(plan)
    response = upload(client, plan, fill(content, {"I-3-2": {"決算額（千円）": 99}}))
    assert issues(response) == [(row_number(content, "I-3-2"), "版", str(workflow.Conflict()))]
    assert "他の人が更新しています" in response.content.decode()
    assert snapshot(plan) == before


def test_unknown_code_and_duplicate_row_are_refused(client, plan, department, measures, staff_user):
    client.force_login(staff_user)
    content = download(client, plan, department)
    extra = [
        {"年度": YEAR, "施策コード": "Z-9-9", "決算額（千円）": 5, "版": 0},
        {"年度": YEAR, "施策コード": "I-3-1", "決算額（千円）": 6, "版": 0},
    ]
    filled = fill(content, {"I-3-1": {"決算額（千円）": 5}}, extra=extra)
    before = snapshot(plan)
    response = upload(client, plan, filled)
    first = row_number(content, "I-3-1")
    assert issues(response) == [
        (9, "施策コード", "施策コード「Z-9-9」はこの計画（大野城市DX推進計画）にありません。"),
        (10, "施策コード", f"施策コード「I-3-1」の行が重複しています（{first}行目と同じ施策です）。"),
    ]
    assert snapshot(plan) == before


def test_a_funding_breakdown_over_the_cost_is_named_on_its_column(client, plan, department, records, staff_user):
    client.force_login(staff_user)
    content = download(client, plan, department)
    response = upload(client, plan, fill(content, {"I-3-1": {"うち一般財源（千円）": 5000}}))
    assert issues(response) == [
        (row_number(content, "I-3-1"), "うち一般財源（千円）", "財源の内訳が決算額を超えています。")
    ]


@pytest.mark.parametrize("typed", ["=SUM(1,2)", "+1+1", "@SUM(A1)", "-A1", "＝1+1"])
def test_a_formula_in_a_csv_cell_is_refused(client, plan, department, measures, staff_user, typed):
    client.force_login(staff_user)
    rows = csv_rows(download(client, plan, department, "csv"))
    rows[3][10] = typed  # 実施内容
    before = snapshot(plan)
    response = upload(client, plan, csv_file(rows), "実績.csv")
    assert issues(response) == [(4, "実施内容", transfer.FORMULA_MESSAGE)]
    assert snapshot(plan) == before


def test_a_control_character_in_a_csv_cell_is_refused(client, plan, department, measures, staff_user):
    """A workbook cannot hold one (openpyxl refuses to write it); a CSV can."""
    client.force_login(staff_user)
    rows = csv_rows(download(client, plan, department, "csv"))
    rows[2][10] = "ベル\x07"
    before = snapshot(plan)
    response = upload(client, plan, csv_file(rows), "実績.csv")
    assert issues(response) == [(3, "実施内容", "制御文字（改行・タブ以外）は入力できません。")]
    assert snapshot(plan) == before


# --- What is accepted --------------------------------------------------------------------------------


def test_full_width_digits_commas_blank_and_dash_are_accepted(client, plan, department, records, staff_user):
    client.force_login(staff_user)
    content = download(client, plan, department)
    filled = fill(
        content,
        {
            "I-3-1": {
                "KPI実績": None,
                "決算額（千円）": "２，５００",
                "うち一般財源（千円）": "－",
                "うちその他財源（千円）": None,
            },
            "I-3-2": {"決算額（千円）": "－", "KPI実績": "１２"},
        },
    )
    response = confirm(client, plan, upload(client, plan, filled))
    assert response.status_code == 302
    first, second = (MeasureYear.objects.get(measure__code=c, fiscal_year=YEAR) for c in ("I-3-1", "I-3-2"))
    assert (first.kpi_actual, first.actual_cost, first.actual_general_fund, first.actual_other_funds) == (
        None,
        2500,
        None,
        None,
    )
    assert (second.actual_cost, second.kpi_actual) == (None, 12)


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-8"])
def test_csv_in_shift_jis_and_utf8_with_or_without_bom_is_accepted(
    client, plan, department, records, staff_user, encoding
):
    client.force_login(staff_user)
    rows = csv_rows(download(client, plan, department, "csv"))
    headers = rows[0]
    target = next(r for r in rows if r[1] == "I-3-3")
    target[headers.index("決算額（千円）")] = "１，０００"
    target[headers.index("実施内容")] = "ｽﾏﾎ教室を開催（髙橋）"  # half-width kana; 髙 is cp932-only (NEC)
    target[headers.index("改善方針")] = "見直し"
    response = upload(client, plan, csv_file(rows, encoding), "実績.csv")
    assert issues(response) == []
    assert [c.measure.code for c in response.context["preview"].changes] == ["I-3-3"]
    assert confirm(client, plan, response).status_code == 302
    saved = MeasureYear.objects.get(measure__code="I-3-3", fiscal_year=YEAR)
    assert (saved.actual_cost, saved.work_done, saved.improvement) == (1000, "ｽﾏﾎ教室を開催（髙橋）", "revise")


def test_csv_download_is_utf8_with_bom_and_neutralises_formulas(client, plan, department, records, staff_user):
    client.force_login(staff_user)
    response = client.get(page_url(plan, "actuals_download"), {"department": department.code, "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = csv_rows(response.content)
    row = next(r for r in rows if r[1] == "I-3-1")
    assert row[11] == "'=目標に近い"  # a text that Excel would run, written as text
    assert row[6] == "72.5" and row[7] == "1200"


def test_the_workbook_protects_all_but_the_entry_cells(client, plan, department, records, staff_user):
    client.force_login(staff_user)
    response = client.get(page_url(plan, "actuals_download"), {"department": department.code, "format": "xlsx"})
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert "%E5%AE%9F%E7%B8%BE%E5%85%A5%E5%8A%9B" in response["Content-Disposition"]  # 実績入力
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb[transfer.SHEET]
    headers = [c.value for c in ws[1]]
    assert headers == list(transfer.HEADERS.values())
    assert ws.protection.sheet and not ws.protection.password
    by_code = {ws.cell(r, 2).value: r for r in range(2, ws.max_row + 1)}
    open_row, approved_row = by_code["I-3-1"], by_code["I-3-4"]
    for column, header in enumerate(headers, start=1):
        entry = header in [transfer.HEADERS[n] for n in transfer.ENTRY_COLUMNS]
        assert ws.cell(open_row, column).protection.locked is not entry, header
        assert ws.cell(approved_row, column).protection.locked, header  # an approved year is closed
    cost = ws.cell(open_row, headers.index("決算額（千円）") + 1)
    assert (cost.value, cost.number_format) == (1200, "#,##0")
    assert ws.cell(open_row, headers.index("実施内容") + 1).number_format == "@"
    assert ws.cell(open_row, headers.index("版") + 1).value == 1
    assert ws.cell(by_code["I-3-3"], headers.index("版") + 1).value == 0  # nothing entered yet
    assert ws.cell(open_row, headers.index("評価・要因分析") + 1).data_type == "s"  # "=…" stays text
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists[0].formula1 == '"継続,拡充,見直し,完了,廃止"'
    assert str(lists[0].sqref) == f"M2:M{ws.max_row}"
    assert ws.column_dimensions["K"].width == 40
    assert "記入方法" in wb.sheetnames


# --- Hostile files: refused quickly, in bounded memory ------------------------------------------------

SECONDS = 5
PEAK_MB = 50


def refused(client, plan, content, name):
    """Post the file; return the refusal message, the seconds and the peak memory (tracemalloc) of the
    request as the server handles it (the test client's encoding of the body is done before)."""
    before = snapshot(plan)
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile(name, content)})
    tracemalloc.start()
    started = time.perf_counter()
    response = client.generic("POST", page_url(plan), body, MULTIPART_CONTENT)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert response.status_code == 200
    assert snapshot(plan) == before
    found = issues(response)
    assert len(found) == 1 and found[0][0] is None, found
    return found[0][2], seconds, peak / 2**20


def _rezip(content, replace):
    """The workbook with some members replaced: {name: bytes or an iterable of chunks}."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename not in replace:
                target.writestr(item, source.read(item.filename))
        for name, data in replace.items():
            with target.open(name, "w", force_zip64=True) as member:
                for chunk in [data] if isinstance(data, bytes) else data:
                    member.write(chunk)
    return out.getvalue()


@pytest.fixture
def workbook(client, plan, department, measures, staff_user):
    client.force_login(staff_user)
    return download(client, plan, department)


@pytest.mark.parametrize("megabytes", [300, 30], ids=["over the unpacked cap", "over the compression ratio"])
def test_a_zip_bomb_is_refused_before_it_is_unpacked(client, plan, workbook, megabytes):
    sheet = b'<?xml version="1.0"?><worksheet>' + b" " * 2**20
    bomb = _rezip(workbook, {"xl/worksheets/sheet1.xml": (sheet for _ in range(megabytes))})
    assert len(bomb) < 1 * 2**20
    message, seconds, peak = refused(client, plan, bomb, "実績.xlsx")
    assert message.startswith("このブックは大きすぎるか、不自然に圧縮されているため取り込めません")
    assert seconds < SECONDS and peak < PEAK_MB, (seconds, peak)


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "[Content_Types].xml"])
def test_an_xml_entity_bomb_is_refused_before_it_is_parsed(client, plan, workbook, part):
    laughs = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    xml = '<?xml version="1.0"?><!DOCTYPE sst [' + "".join(laughs) + ']><sst count="1"><si><t>&lol9;</t></si></sst>'
    message, seconds, peak = refused(client, plan, _rezip(workbook, {part: xml.encode()}), "実績.xlsx")
    assert message == "ブックの中に取り込めない定義（DOCTYPE・ENTITY）があります。様式を保存し直してください。"
    assert seconds < SECONDS and peak < PEAK_MB, (seconds, peak)


def test_xml_in_utf16_is_refused(client, plan, workbook):
    xml = '<?xml version="1.0" encoding="UTF-16"?><sst/>'.encode("utf-16")
    message, _, _ = refused(client, plan, _rezip(workbook, {"xl/sharedStrings.xml": xml}), "実績.xlsx")
    assert "DOCTYPE・ENTITY" in message


def test_a_csv_renamed_xlsx_is_refused_with_a_clear_message(client, plan, department, workbook):
    content = download(client, plan, department, "csv")
    message, seconds, peak = refused(client, plan, content, "実績.xlsx")
    assert message == (
        "ファイル名は .xlsx ですが、中身はExcelブックではありません（CSVなどのテキストファイルです）。"
        "拡張子を .csv にするか、ダウンロードした様式をExcelで開いて"
        "「Excel ブック（.xlsx）」として保存し直してください。"
    )
    assert seconds < SECONDS and peak < PEAK_MB


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "実績.xls", "Excel 97-2003 形式（.xls）"),
        (b"PK\x03\x04not really a zip", "実績.xlsx", "Excelブック（.xlsx）として読めません"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "実績.png", "テキスト（CSV）としても Excelブックとしても読めない"),
        ("年度,施策コード".encode("utf-16"), "実績.csv", "テキスト（CSV）としても Excelブックとしても読めない"),
        (b"\x81\x39 broken", "実績.csv", "文字コードを判別できません"),
    ],
)
def test_other_files_are_refused_by_their_content(client, plan, workbook, content, name, message):
    found, seconds, _ = refused(client, plan, content, name)
    assert message in found
    assert seconds < SECONDS


def test_a_zip_that_is_not_a_workbook_is_refused(client, plan, workbook):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    message, _, _ = refused(client, plan, out.getvalue(), "実績.xlsx")
    assert message.startswith("Excelブック（.xlsx）ではない zip ファイルです")


def test_a_million_row_csv_is_refused_quickly(client, plan, workbook):
    header = ",".join(transfer.HEADERS.values()) + "\r\n"
    content = (header + f"{YEAR},I-3-1,,,,,,1,,,,,,,,0\r\n" * 1_000_000).encode()
    assert len(content) < transfer.MAX_UPLOAD_BYTES * 3
    message, seconds, peak = refused(client, plan, content[: transfer.MAX_UPLOAD_BYTES], "実績.csv")
    assert message == "行数が上限（20,000行）を超えています。課ごとに分けて取り込んでください。"
    assert seconds < SECONDS and peak < PEAK_MB, (seconds, peak)
    # the whole million: over the size cap, refused on the upload form before it is read
    before = snapshot(plan)
    started = time.perf_counter()
    response = upload(client, plan, content, "実績.csv")
    assert time.perf_counter() - started < SECONDS
    assert response.context["form"].errors["file"] == [
        "ファイルが大きすぎます（上限 10 MB）。課ごとに分けて取り込んでください。"
    ]
    assert snapshot(plan) == before


def test_a_csv_over_the_row_cap_is_refused(client, plan, workbook):
    header = ",".join(transfer.HEADERS.values()) + "\r\n"
    content = (header + f"{YEAR},I-3-1,,,,,,1,,,,,,,,0\r\n" * (transfer.MAX_ROWS + 1)).encode()
    message, seconds, peak = refused(client, plan, content, "実績.csv")
    assert message == "行数が上限（20,000行）を超えています。課ごとに分けて取り込んでください。"
    assert seconds < SECONDS and peak < PEAK_MB, (seconds, peak)


def test_a_workbook_with_too_many_rows_is_refused(client, plan, workbook):
    rows = "".join(f'<row r="{r}"><c r="B{r}" t="inlineStr"><is><t>X</t></is></c></row>' for r in range(2, 20_100))
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    assert wb  # the download is a real workbook; only its sheet is replaced
    header = "".join(
        f'<c r="{openpyxl.utils.get_column_letter(i)}1" t="inlineStr"><is><t>{h}</t></is></c>'
        for i, h in enumerate(transfer.HEADERS.values(), start=1)
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData><row r="1">{header}</row>{rows}</sheetData></worksheet>'
    )
    message, seconds, peak = refused(
        client, plan, _rezip(workbook, {"xl/worksheets/sheet1.xml": sheet.encode()}), "a.xlsx"
    )
    assert message == "行数が上限（20,000行）を超えています。課ごとに分けて取り込んでください。"
    assert seconds < SECONDS * 2 and peak < PEAK_MB * 2, (seconds, peak)


def test_renamed_or_missing_columns_are_refused(client, plan, workbook):
    rows = [list(transfer.HEADERS.values())]
    rows[0][7] = "決算額"
    message, _, _ = refused(client, plan, csv_file(rows), "a.csv")
    assert message == "列「決算額」はこの様式にありません。ダウンロードした様式の見出しを変えずに使ってください。"
    rows = [[h for h in transfer.HEADERS.values() if h != "版"], [str(YEAR), "I-3-1"]]
    message, _, _ = refused(client, plan, csv_file(rows), "a.csv")
    assert message == "「版」の列がありません。ダウンロードした様式の列を消さずに使ってください。"


# --- Who may use it, and what it costs ------------------------------------------------------------------


def test_roles(client, plan, department, other_department, measures, other_measure, staff_user, viewer, outsider):
    page, download_url = page_url(plan), page_url(plan, "actuals_download")
    confirm_url = page_url(plan, "actuals_confirm")
    for user in (viewer, outsider):
        client.force_login(user)
        assert client.get(page).status_code == 403
        assert client.get(download_url, {"department": department.code}).status_code == 403
        assert client.post(page, {"file": SimpleUploadedFile("a.csv", b"x")}).status_code == 403
        assert client.post(confirm_url, {"token": "x"}).status_code == 403
    client.force_login(staff_user)
    assert client.get(page).status_code == 200
    assert client.get(download_url, {"department": department.code}).status_code == 200
    assert client.get(download_url, {"department": other_department.code}).status_code == 403
    assert client.get(download_url).status_code == 403  # every department: the DX推進部門 only
    assert client.get(download_url, {"department": "nope"}).status_code == 404
    assert client.get(download_url, {"department": department.code, "format": "pdf"}).status_code == 404
    assert client.get(page_url(plan, year=2030)).status_code == 404
    client.logout()
    assert client.get(page).status_code == 302


def test_page_lists_the_users_departments_and_links_from_pdca_and_grid(client, plan, department, measures, staff_user):
    client.force_login(staff_user)
    html = client.get(page_url(plan)).content.decode()
    assert f"?department={department.code}&amp;format=xlsx" in html
    assert "全課" not in html
    link = page_url(plan)
    assert link in client.get(reverse("kpi:pdca", args=[plan.code, YEAR])).content.decode()
    grid = client.get(reverse("kpi:department_grid", args=[plan.code, YEAR, department.code])).content.decode()
    assert link in grid


def test_page_queries_do_not_grow_with_the_plan(client, plan, department, staff_user, django_assert_num_queries):
    """The department owns every measure of the plan: 30, then 3,000."""
    client.force_login(staff_user)
    Measure.objects.filter(plan=plan).update(department=department)
    # session, user; plan; the user's roles; the departments with measures in the plan; the user's departments
    with django_assert_num_queries(6):
        assert client.get(page_url(plan)).status_code == 200
    grow_plan(plan, 2970, YEAR)
    Measure.objects.filter(plan=plan).update(department=department)
    with django_assert_num_queries(6):
        assert client.get(page_url(plan)).status_code == 200


def test_download_queries_do_not_grow_with_the_plan(client, plan, dx_user, django_assert_num_queries):
    client.force_login(dx_user)
    url = page_url(plan, "actuals_download")
    # session, user; plan; the user's roles (the DX推進部門 may download every department); the plan's
    # measures with KGI and department; its records of the year; its targets of the year
    with django_assert_num_queries(7):
        small = client.get(url, {"format": "xlsx"})
    grow_plan(plan, 2970, YEAR)
    with django_assert_num_queries(7):
        large = client.get(url, {"format": "xlsx"})
    assert len(rows_of(small.content)[1]) == 30
    assert len(rows_of(large.content)[1]) == 3000


def test_preview_queries_do_not_grow_with_the_rows(client, plan, dx_user, django_assert_num_queries):
    """A round trip of 30 rows, then of 3,000: the same queries (no form, no query per row)."""
    client.force_login(dx_user)
    small = download(client, plan, output="csv")
    # session, user; plan; the user's roles; departments with measures (page scope); the plan's measures;
    # records of the year; targets of the year
    with django_assert_num_queries(8):
        response = upload(client, plan, small, "a.csv")
    assert response.context["preview"].unchanged == 30
    grow_plan(plan, 2970, YEAR)
    large = download(client, plan, output="csv")
    with django_assert_num_queries(8):
        response = upload(client, plan, large, "a.csv")
    assert response.context["preview"].unchanged == 3000
