"""The plan as a workbook: a round trip that keeps every field, the same all-or-nothing rule as the
plan file, problems named by sheet, row and column, and uploads that cannot hurt the server."""

import datetime
import hashlib
import io
import json
import time
import tracemalloc
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from budget.models import GeneralFundPlan, PlannedCost
from conftest import grow_plan, plan_data
from initiatives.fields import CONTROL_CHARACTERS_MESSAGE, NEGATIVE_MESSAGE
from initiatives.models import Initiative, Measure, NationalPriority, Plan, Policy, ScheduleBar
from kpi.models import Kgi, KpiTarget
from ohnojo_dx import plan_workbook, views_plan_import
from ohnojo_dx.plan_export import plan_to_data
from ohnojo_dx.plan_workbook import (
    Problem,
    WorkbookError,
    check_workbook,
    import_workbook,
    parse_workbook,
    template_workbook,
    write_workbook,
)
from ohnojo_dx.views_plan_import import SESSION_KEY

pytestmark = pytest.mark.django_db

MODELS = (
    Plan,
    NationalPriority,
    Policy,
    Initiative,
    Measure,
    ScheduleBar,
    Kgi,
    KpiTarget,
    PlannedCost,
    GeneralFundPlan,
)
NEW_CODE = "ohnojo-dx-copy"
PRIORITY_HEADER = "国の重点取組事項（番号、「、」で区切る）"


# --- Helpers -------------------------------------------------------------------------------------------


def compared_fields(model):
    """Every field that holds the plan's data: all but the id, the links between rows, the plan's code and
    the database's own copies of a value (generated columns)."""
    return [
        f.name
        for f in model._meta.concrete_fields
        if not f.primary_key and not f.is_relation and not f.generated and not (model is Plan and f.name == "code")
    ]


def many_to_many(model, obj):
    """Each many-to-many field's targets by their natural key: a measure's national 重点取組事項 by number."""
    return {f.name: sorted(t.number for t in getattr(obj, f.name).all()) for f in model._meta.many_to_many}


def rows_of(plan):
    """Every row of a plan, by its natural key (the same in a copy of the plan)."""
    under = {"measure__plan": plan}
    return {
        Plan: {(): plan},
        NationalPriority: {(p.number,): p for p in NationalPriority.objects.filter(plan=plan)},
        Policy: {(p.number,): p for p in Policy.objects.filter(plan=plan)},
        Initiative: {
            (i.policy.number, i.number): i
            for i in Initiative.objects.filter(policy__plan=plan).select_related("policy")
        },
        Measure: {(m.code,): m for m in Measure.objects.filter(plan=plan)},
        ScheduleBar: {
            (b.measure.code, b.order): b for b in ScheduleBar.objects.filter(**under).select_related("measure")
        },
        Kgi: {(k.measure.code,): k for k in Kgi.objects.filter(**under).select_related("measure")},
        KpiTarget: {
            (t.measure.code, t.fiscal_year): t for t in KpiTarget.objects.filter(**under).select_related("measure")
        },
        PlannedCost: {
            (c.measure.code, c.fiscal_year): c for c in PlannedCost.objects.filter(**under).select_related("measure")
        },
        GeneralFundPlan: {
            (g.policy.number, g.measure.code if g.measure else None, g.fiscal_year): g
            for g in GeneralFundPlan.objects.filter(policy__plan=plan).select_related("policy", "measure")
        },
    }


def differences(first, second):
    """Every (model, key, field) where two plans differ, rows missing from either included."""
    a, b = rows_of(first), rows_of(second)
    found = []
    for model in MODELS:
        found += [(model.__name__, key, "（行がない）") for key in a[model].keys() ^ b[model].keys()]
        for key in a[model].keys() & b[model].keys():
            found += [
                (model.__name__, key, name)
                for name in compared_fields(model)
                if getattr(a[model][key], name) != getattr(b[model][key], name)
            ]
            links = many_to_many(model, a[model][key]), many_to_many(model, b[model][key])
            found += [(model.__name__, key, name) for name in links[0] if links[0][name] != links[1][name]]
    return found


def edited(content, cells):
    """The workbook with cells changed: {(sheet, "D5"): value}; a string starting with "=" is a formula."""
    wb = openpyxl.load_workbook(io.BytesIO(content))
    for (sheet, ref), value in cells.items():
        wb[sheet][ref] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def row_number(content, sheet, *values):
    """The row of a sheet whose first cells are these values."""
    ws = openpyxl.load_workbook(io.BytesIO(content), read_only=True)[sheet]
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if tuple(row[: len(values)]) == values:
            return number
    raise AssertionError(f"{sheet}: {values} がありません")


def counts():
    """Rows of every kind, and their history rows."""
    return [model.objects.count() for model in MODELS] + [
        model.history.count() for model in MODELS if hasattr(model, "history")
    ]


def copy_of(plan, code=NEW_CODE):
    """The plan's workbook with another plan code typed into the 計画 sheet."""
    return edited(write_workbook(plan_to_data(plan)), {("計画", "A2"): code})


def upload(client, content, name="plan.xlsx"):
    return client.post(reverse("plan_import"), {"file": SimpleUploadedFile(name, content)})


def confirm(client, content):
    return client.post(reverse("plan_import_confirm"), {"digest": hashlib.sha256(content).hexdigest()})


# --- Round trips ---------------------------------------------------------------------------------------


def test_the_json_export_gives_back_the_file_the_plan_was_loaded_from(plan):
    assert plan_to_data(plan) == plan_data()


def test_the_workbook_reads_back_as_the_plan_file(plan):
    data = plan_to_data(plan)
    parsed = parse_workbook(write_workbook(data))
    assert parsed.problems == []
    assert parsed.data == data
    assert dict(parsed.counts) == {
        "計画": 1,
        "国の重点取組事項": 6,
        "基本方針": 2,
        "取組": 18,
        "個別施策": 30,
        "スケジュールの項目": 89,
        "KGI": 30,
        "KPI目標": 120,
        "年度経費": 120,
        "一般財源": 8,
    }


def test_the_plan_exported_and_imported_under_a_new_code_is_identical_field_by_field(client, dx_user, plan):
    client.force_login(dx_user)
    response = client.get(reverse("plan_workbook", args=[plan.code]))
    content = edited(response.content, {("計画", "A2"): NEW_CODE})

    copy = import_workbook(content)

    assert copy.code == NEW_CODE and copy.pk != plan.pk
    assert differences(plan, copy) == []
    # Every row of every kind was compared, on every field but the ids, the links and the code.
    sizes = {model.__name__: len(rows) for model, rows in rows_of(copy).items()}
    assert sizes == {
        "Plan": 1,
        "NationalPriority": 6,
        "Policy": 2,
        "Initiative": 18,
        "Measure": 30,
        "ScheduleBar": 89,
        "Kgi": 30,
        "KpiTarget": 120,
        "PlannedCost": 120,
        "GeneralFundPlan": 8,
    }
    for model in MODELS:
        skipped = {f.name for f in model._meta.concrete_fields} - set(compared_fields(model))
        assert all(
            model._meta.get_field(name).is_relation or model._meta.get_field(name).generated or name in ("id", "code")
            for name in skipped
        )
    # The measures' tags were compared too, and there were tags to compare.
    tags = {key: many_to_many(Measure, m)["national_priorities"] for key, m in rows_of(copy)[Measure].items()}
    assert sum(len(numbers) for numbers in tags.values()) == 8 and tags[("II-2-1",)] == [1]


def test_the_comparison_notices_a_changed_field(plan):
    copy = import_workbook(copy_of(plan))
    bar = ScheduleBar.objects.filter(measure__plan=copy).order_by("pk")[3]
    ScheduleBar.objects.filter(pk=bar.pk).update(is_inferred=not bar.is_inferred)
    KpiTarget.objects.filter(measure__plan=copy, measure__code="I-1-1", fiscal_year=2023).update(value=Decimal("65"))
    Measure.objects.get(plan=copy, code="II-3-1").national_priorities.clear()
    NationalPriority.objects.filter(plan=copy, number=2).update(content="")
    assert sorted(differences(plan, copy)) == [
        ("KpiTarget", ("I-1-1", 2023), "value"),
        ("Measure", ("II-3-1",), "national_priorities"),
        ("NationalPriority", (2,), "content"),
        ("ScheduleBar", (bar.measure.code, bar.order), "is_inferred"),
    ]


def test_a_template_filled_in_by_hand_is_imported(db):
    """Another city's plan typed into the empty template, the way staff type: full-width digits, ○, labels."""
    wb = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    wb["計画"].append(
        ["sample-r8", "サンプル市DX計画", "サンプル市", datetime.date(2026, 4, 1), "ビジョン", "", "", 2026, 2030]
    )
    wb["重点取組事項"].append([1, "重点の一", "内容"])
    wb["重点取組事項"].append(["２", "重点の二"])
    wb["基本方針"].append([1, "Ⅰ", "方針", ""])
    wb["取組"].append([1, 1, "取組", "８０", "－", "実施", "", "", ""])
    wb["施策"].append([1, 1, "I-1-1", 1, "施策", "内容", "", "効果1\n効果2", "", "", "２、１"])
    wb["スケジュール"].append(["I-1-1", "運用", 2026, 2030, "", ""])
    wb["KGI"].append(["I-1-1", "件数：5件", "件数", 5, "", "件", "低いほど良い", "○"])
    wb["KPI目標"].append(["I-1-1", 2026, "", "１"])
    wb["KPI目標"].append(["I-1-1", 2027, "", "", "全窓口"])
    wb["年度経費"].append(["I-1-1", 2026, "", "１，２００", "※1"])
    wb["年度経費"].append(["I-1-1", 2027, "", "－"])
    wb["一般財源"].append([1, 2026, "", 800])
    out = io.BytesIO()
    wb.save(out)

    plan = import_workbook(out.getvalue())

    assert (plan.start_year, plan.adopted_on) == (2026, datetime.date(2026, 4, 1))
    initiative = Initiative.objects.get(policy__plan=plan)
    assert (initiative.urgency, initiative.importance) == (80, None)
    measure = Measure.objects.get(plan=plan)
    assert [str(p) for p in measure.national_priorities.order_by("number")] == ["①重点の一", "②重点の二"]
    assert measure.effect_lines() == ["効果1", "効果2"]
    assert (measure.kgi.direction, measure.kgi.is_cumulative) == ("lower", True)
    targets = {t.fiscal_year: (t.value, t.text) for t in measure.kpi_targets.all()}
    assert targets == {2026: (Decimal("1"), ""), 2027: (None, "全窓口")}
    costs = {c.fiscal_year: (c.amount, c.note) for c in measure.planned_costs.all()}
    assert costs == {2026: (1200, "※1"), 2027: (None, "")}
    assert measure.schedule_bars.get().is_inferred is False


def test_the_empty_template_names_what_is_missing(db):
    parsed = check_workbook(template_workbook())
    assert [str(p) for p in parsed.problems] == [
        "「計画」シート 2行目: 計画の行がありません（2行目に書いてください）。"
    ]


# --- The command ---------------------------------------------------------------------------------------


def test_the_command_imports_a_workbook(plan, tmp_path, capsys):
    path = tmp_path / "計画.xlsx"
    path.write_bytes(copy_of(plan))
    call_command("import_plan", str(path))
    assert "個別施策 30 件" in capsys.readouterr().out
    assert differences(plan, Plan.objects.get(code=NEW_CODE)) == []


def test_the_command_skips_a_workbook_of_a_plan_already_loaded(plan, tmp_path, capsys):
    path = tmp_path / "plan.bin"  # the name says nothing: the content decides
    path.write_bytes(write_workbook(plan_to_data(plan)))
    before = counts()
    call_command("import_plan", str(path))
    assert "読み飛ばしました" in capsys.readouterr().out
    assert counts() == before


def test_the_command_answers_a_malformed_workbook_with_one_japanese_line(plan, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(copy_of(plan)[:5000])  # cut short, as by a failed copy
    before = counts()
    with pytest.raises(CommandError) as raised:
        call_command("import_plan", str(path))
    assert str(raised.value) == plan_workbook.BROKEN
    assert counts() == before


def test_the_command_lists_cell_problems_with_sheet_row_and_column(plan, tmp_path):
    content = copy_of(plan)
    row = row_number(content, "年度経費", "I-1-1", 2023)
    path = tmp_path / "plan.xlsx"
    path.write_bytes(edited(content, {("年度経費", f"D{row}"): -5}))
    before = counts()
    with pytest.raises(CommandError) as raised:
        call_command("import_plan", str(path))
    assert str(raised.value) == (
        "読み込めませんでした（何も保存していません）: "
        f"「年度経費」シート {row}行目 D列（経費（千円））: {NEGATIVE_MESSAGE}"
    )
    assert counts() == before


# --- Problems, each with its sheet, row and column -------------------------------------------------------


def test_one_bad_row_among_many_writes_nothing_and_is_named(plan):
    content = copy_of(plan)
    row = row_number(content, "年度経費", "II-2-1", 2024)
    bad = edited(content, {("年度経費", f"D{row}"): "たくさん"})
    before = counts()
    with pytest.raises(WorkbookError) as raised:
        import_workbook(bad)
    assert raised.value.details == [
        Problem("年度経費", row, "D", "経費（千円）", "数値で入力してください（なしは「－」）。")
    ]
    assert counts() == before


def test_the_loaders_own_problems_are_named_by_sheet_row_and_column(plan):
    content = copy_of(plan)
    kpi_row = row_number(content, "KPI目標", "I-1-1", 2023)
    kgi_row = row_number(content, "KGI", "I-2-1")
    bad = edited(content, {("KPI目標", f"B{kpi_row}"): 2031, ("KGI", f"D{kgi_row}"): 150, ("KGI", f"F{kgi_row}"): "%"})
    parsed = check_workbook(bad)
    assert sorted(parsed.problems, key=lambda p: p.sheet) == [
        Problem("KGI", kgi_row, "D", "目標値", "単位が%の値は100以下で入力してください。"),
        Problem(
            "KPI目標",
            kpi_row,
            "B",
            "年度（西暦）",
            "R13（2031）年度 は計画期間（R4（2022）年度～R7（2025）年度）の外です。",
        ),
    ]


def test_a_plan_code_already_taken_is_named_in_the_plan_sheet(plan):
    parsed = check_workbook(write_workbook(plan_to_data(plan)))
    assert [(p.sheet, p.row, p.column, p.header) for p in parsed.problems] == [("計画", 2, "A", "計画コード")]
    assert "既に存在します" in parsed.problems[0].message


@pytest.mark.parametrize(
    "cells, expected",
    [
        ({("KPI目標", "D3"): "=1+1"}, ("KPI目標", 3, "D", "目標値", "数式は使えません。値を入力してください。")),
        ({("計画", "B2"): "計画\x9f"}, ("計画", 2, "B", "計画名", str(CONTROL_CHARACTERS_MESSAGE))),
        (
            {("年度経費", "D2"): None},
            ("年度経費", 2, "D", "経費（千円）", "経費を入力してください（計上しない年度は「－」）。"),
        ),
        (
            {("年度経費", "B2"): "R4"},
            ("年度経費", 2, "B", "年度（西暦）", "年度は西暦の整数で入力してください（1989〜2100、例: 2022）。"),
        ),
        ({("取組", "F2"): "中止"}, ("取組", 2, "F", "状態", "「実施」「今後検討」のどれかにしてください。")),
        (
            {("施策", "K2"): "一と三"},
            ("施策", 2, "K", PRIORITY_HEADER, "番号を「、」で区切って入力してください（例：1、3）。"),
        ),
        ({("施策", "K2"): "3、9"}, ("施策", 2, "K", PRIORITY_HEADER, "国の重点取組事項に番号 9 がありません。")),
        (
            {("重点取組事項", "A3"): 1},
            ("重点取組事項", 3, "A", "番号", "重点取組事項の番号 1が重複しています（2行目と同じ）。"),
        ),
        (
            {("一般財源", "D2"): "－"},
            (
                "一般財源",
                2,
                "D",
                "うち一般財源（千円）",
                "うち一般財源（千円）を入力してください（「－」は使えません）。",
            ),
        ),
        (
            {("スケジュール", "A2"): "Z-9-9"},
            ("スケジュール", 2, "A", "施策コード", "「施策」シートに施策コード Z-9-9 がありません。"),
        ),
        ({("施策", "B2"): 99}, ("施策", 2, "B", "取組番号", "「取組」シートに基本方針Ⅰの取組 99 がありません。")),
        (
            {("年度経費", "F1"): "備考"},
            ("年度経費", 1, "F", "備考", "「備考」は「年度経費」シートの列ではありません。"),
        ),
        ({("計画", "Z2"): "メモ"}, ("計画", 2, "Z", "", "見出しのない列に値があります。")),
    ],
)
def test_each_cell_problem_is_named(plan, cells, expected):
    parsed = check_workbook(edited(copy_of(plan), cells))
    assert [(p.sheet, p.row, p.column, p.header, p.message) for p in parsed.problems] == [expected]


def test_a_duplicate_row_is_named_with_the_row_it_repeats(plan):
    content = copy_of(plan)
    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb["KPI目標"]
    ws.append([ws["A2"].value, ws["B2"].value, "", 1])
    out = io.BytesIO()
    wb.save(out)
    parsed = check_workbook(out.getvalue())
    assert [str(p) for p in parsed.problems] == [
        f"「KPI目標」シート {ws.max_row}行目 B列（年度（西暦））: "
        "この施策のこの年度のKPI目標が重複しています（2行目と同じ）。"
    ]


def test_a_missing_sheet_and_an_unknown_sheet_are_named(plan):
    wb = openpyxl.load_workbook(io.BytesIO(copy_of(plan)))
    del wb["一般財源"]
    wb.create_sheet("メモ")
    out = io.BytesIO()
    wb.save(out)
    parsed = check_workbook(out.getvalue())
    assert [str(p) for p in parsed.problems] == [
        "「メモ」シート: 計画ブックのシートではありません。削除してください。",
        "「一般財源」シート: 「一般財源」シートがありません。",
    ]


# --- Uploads that must not hurt ------------------------------------------------------------------------


def bounded(function):
    """Run function; return its result (or exception), the seconds it took and its peak memory in MB."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = function()
    except Exception as error:  # noqa: BLE001 — the refusal is the result being measured
        result = error
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def with_part(content, name, data):
    """The workbook with one part replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item, source.read(item))
        target.writestr(name, data)
    return out.getvalue()


def test_a_zip_bomb_is_refused_quickly_without_unpacking_it(plan):
    bomb = with_part(copy_of(plan), "xl/media/padding.bin", b"\0" * (60 * 2**20))
    assert len(bomb) < 200_000
    result, seconds, peak = bounded(lambda: check_workbook(bomb))
    assert str(result) == "圧縮率が異常に高いファイルです（zip 爆弾のおそれ）。読み込みません。"
    assert seconds < 2 and peak < 20


def test_the_unpacked_size_is_capped(plan, monkeypatch):
    monkeypatch.setattr(plan_workbook, "MAX_UNPACKED", 100_000)  # the real cap, 100 MB, scaled down
    result, _, _ = bounded(lambda: check_workbook(copy_of(plan)))
    assert str(result) == "展開後のサイズが大きすぎます（上限 0 MB）。"


def test_an_entity_bomb_is_refused_before_any_xml_is_parsed(plan):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "&lol;" * 10}">'.encode() for i in range(9))
        + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        + b"<si><t>&lol8;</t></si></sst>"
    )
    bomb = with_part(copy_of(plan), "xl/sharedStrings.xml", laughs)
    result, seconds, peak = bounded(lambda: check_workbook(bomb))
    assert str(result) == "DOCTYPE や ENTITY の宣言を含むブックは読み込めません。"
    assert seconds < 2 and peak < 20


@pytest.mark.parametrize(
    "content, message",
    [
        ("計画コード,計画名\nx,y\n".encode("cp932"), "Excel ブック（.xlsx）ではありません"),
        (b'\xef\xbb\xbf{"plan": {}}', "JSON のファイルです"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Excel 97-2003 形式（.xls）か、パスワード付き"),
    ],
)
def test_a_disguised_file_is_told_by_its_content(client, dx_user, plan, content, message):
    client.force_login(dx_user)
    before = counts()
    response = upload(client, content, name="計画.xlsx")
    assert response.status_code == 200
    assert message in response.context["form"].errors["file"][0]
    assert counts() == before


def test_the_rows_of_a_sheet_are_capped(plan, monkeypatch):
    monkeypatch.setattr(plan_workbook, "MAX_ROWS", 100)  # the real cap, 100,000, scaled down: KPI目標 has 120
    result, _, _ = bounded(lambda: check_workbook(copy_of(plan)))
    assert str(result) == "「KPI目標」シートの行が多すぎます（上限 100 行）。"


def test_a_zip_that_is_not_a_workbook_is_refused(db):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    result, _, _ = bounded(lambda: check_workbook(out.getvalue()))
    assert str(result) == "Excel ブック（.xlsx）ではありません（zip ですが、ブックの部品がありません）。"


def test_an_upload_over_the_size_cap_is_refused(client, dx_user, plan, monkeypatch):
    # The real cap, 5 MB, scaled down, in the form and in the reader.
    monkeypatch.setattr(views_plan_import, "MAX_BYTES", 1000)
    monkeypatch.setattr(plan_workbook, "MAX_BYTES", 1000)
    client.force_login(dx_user)
    response = upload(client, copy_of(plan))
    assert response.context["form"].errors["file"] == ["ファイルが大きすぎます（上限 0 MB）。"]
    result, _, _ = bounded(lambda: check_workbook(copy_of(plan)))
    assert str(result) == "ファイルが大きすぎます（上限 0 MB）。"


# --- The browser: download, preview, confirm ------------------------------------------------------------


@pytest.mark.parametrize("who", ["dx_user", "staff_user", "viewer"])
def test_every_role_downloads_the_plan_workbook_with_a_japanese_name(client, plan, who, request):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("plan_workbook", args=[plan.code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=utf-8''%E5%A4%A7%E9%87%8E%E5%9F%8E%E5%B8%82" in response["Content-Disposition"]
    assert parse_workbook(response.content).data == plan_to_data(plan)


def test_the_json_download_is_the_plan_file(client, viewer, plan):
    client.force_login(viewer)
    response = client.get(reverse("plan_file", args=[plan.code]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert json.loads(response.content) == plan_data()


def test_the_template_downloads_for_a_signed_in_role(client, viewer, db):
    client.force_login(viewer)
    response = client.get(reverse("plan_workbook_template"))
    assert response.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames == [
        *(s.name for s in plan_workbook.SHEETS),
        plan_workbook.GUIDE,
    ]


def test_no_role_no_download(client, outsider, plan):
    client.force_login(outsider)
    assert client.get(reverse("plan_workbook", args=[plan.code])).status_code == 403
    client.logout()
    assert client.get(reverse("plan_workbook", args=[plan.code])).status_code == 302  # to the login page


def test_a_plan_with_general_fund_per_measure_is_not_exported_half(client, viewer, plan):
    measure = Measure.objects.select_related("initiative__policy").get(plan=plan, code="II-2-1")
    GeneralFundPlan.objects.filter(policy=measure.initiative.policy, fiscal_year=2022).delete()
    GeneralFundPlan.objects.create(policy=measure.initiative.policy, measure=measure, fiscal_year=2022, amount=1)
    client.force_login(viewer)
    response = client.get(reverse("plan_workbook", args=[plan.code]), follow=True)
    assert response.redirect_chain == [(plan.get_absolute_url(), 302)]
    assert "施策別の「うち一般財源」" in response.content.decode()


@pytest.mark.parametrize("who", ["staff_user", "viewer", "outsider"])
def test_only_the_dx_office_imports(client, plan, who, request):
    client.force_login(request.getfixturevalue(who))
    content = copy_of(plan)
    before = counts()
    assert client.get(reverse("plan_import")).status_code == 403
    assert upload(client, content).status_code == 403
    assert confirm(client, content).status_code == 403
    assert counts() == before


def test_the_import_links_show_for_the_dx_office_only(client, dx_user, viewer, plan):
    import_url = reverse("plan_import")
    for user, shown in ((dx_user, True), (viewer, False)):
        client.force_login(user)
        for page in (reverse("initiatives:plan_list"), plan.get_absolute_url()):
            assert (import_url in client.get(page).content.decode()) is shown
        assert reverse("plan_workbook", args=[plan.code]) in client.get(plan.get_absolute_url()).content.decode()


def test_the_preview_writes_nothing_and_the_confirm_writes_everything(client, dx_user, plan):
    client.force_login(dx_user)
    content = copy_of(plan)
    before = counts()

    page = upload(client, content)

    assert page.status_code == 200
    assert counts() == before  # the dry run ran every check, the database's too, and kept nothing
    assert page.context["parsed"].problems == []
    html = page.content.decode()
    assert "問題は見つかりませんでした" in html and '<td class="num">89</td>' in html
    assert page.context["digest"] == hashlib.sha256(content).hexdigest()

    response = confirm(client, content)

    copy = Plan.objects.get(code=NEW_CODE)
    assert response.status_code == 302 and response["Location"] == copy.get_absolute_url()
    assert differences(plan, copy) == []
    assert SESSION_KEY not in client.session
    assert confirm(client, content).status_code == 302  # a second confirm finds nothing to write
    assert Plan.objects.filter(code=NEW_CODE).count() == 1


def test_the_preview_names_the_bad_row_and_offers_no_confirm(client, dx_user, plan):
    client.force_login(dx_user)
    content = copy_of(plan)
    row = row_number(content, "年度経費", "I-3-1", 2025)
    bad = edited(content, {("年度経費", f"D{row}"): -100})
    before = counts()

    page = upload(client, bad)

    html = page.content.decode()
    assert f'<td>年度経費</td><td class="num">{row}</td><td>D（経費（千円））</td>' in html
    assert str(NEGATIVE_MESSAGE) in html and reverse("plan_import_confirm") not in html
    assert page.context["digest"] is None
    assert SESSION_KEY not in client.session
    assert confirm(client, bad).status_code == 302
    assert counts() == before


def test_the_confirm_checks_again(client, dx_user, plan):
    """Between the preview and the confirm someone else imported a plan under the same code."""
    client.force_login(dx_user)
    content = copy_of(plan)
    upload(client, content)
    import_workbook(content)
    before = counts()

    response = confirm(client, content)

    assert response.status_code == 409
    assert [(p.sheet, p.row, p.column) for p in response.context["parsed"].problems] == [("計画", 2, "A")]
    assert counts() == before


def test_a_confirm_must_match_the_preview(client, dx_user, plan):
    client.force_login(dx_user)
    upload(client, copy_of(plan))
    before = counts()
    response = confirm(client, copy_of(plan, code="another-code"))
    assert response.status_code == 302 and response["Location"] == reverse("plan_import")
    assert counts() == before


SIGNED_IN = 3  # session, user, the user's roles


@pytest.mark.parametrize("measures", [30, 3000])
@pytest.mark.parametrize(
    "route, queries",
    [
        # the plan; policies, initiatives, the third level's groups, measures with their KGI and group, their
        # other indicators and those indicators' yearly targets,
        # schedule bars, KPI targets, planned costs, national 重点取組事項, the measures' tags, 一般財源
        ("plan_workbook", 13),
        ("plan_file", 13),
        ("plan_workbook_template", 0),
        ("plan_import", 0),
    ],
)
def test_download_queries_do_not_grow_with_measures(
    client, dx_user, plan, measures, route, queries, django_assert_num_queries
):
    if measures > 30:
        grow_plan(plan, measures - 30, 2025)
    url = reverse(route, args=[plan.code]) if route in ("plan_workbook", "plan_file") else reverse(route)
    client.force_login(dx_user)
    with django_assert_num_queries(SIGNED_IN + queries):
        response = client.get(url)
    assert response.status_code == 200
