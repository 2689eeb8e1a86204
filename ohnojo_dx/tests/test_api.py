"""The REST API: what it reads, how it writes through kpi.workflow, and how it refuses.

The permission matrix is in test_api_permissions.py, the query counts in test_api_queries.py, the schema
run in test_api_schemathesis.py and the docs page in test_api_docs.py.
"""

from decimal import Decimal

import pytest
from django.test import Client

from budget.selectors import plan_budget_table
from initiatives.models import Measure
from kpi.models import MeasureYear
from ohnojo_dx.tests.api_helpers import (  # noqa: F401 (fast_passwords: a fixture)
    YEAR,
    approved,
    fast_passwords,
    plan_url,
    send,
    snapshot,
    token_for,
    year_url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

CONFLICT = "他の人が更新しています"


@pytest.fixture
def measure(plan, department):
    """R7's KPI target is 80 (%), its planned cost 0 千円."""
    measure = Measure.objects.select_related("plan").get(plan=plan, code="I-3-3")
    measure.department = department
    measure.save()
    return measure


@pytest.fixture
def api(client, staff_user):
    """A script of the measure's 担当課, with its token."""
    headers = token_for(staff_user)

    def call(method, url, body=None):
        return send(client, method, url, body, **headers)

    return call


@pytest.fixture
def dx_api(client, dx_user):
    headers = token_for(dx_user)

    def call(method, url, body=None):
        return send(client, method, url, body, **headers)

    return call


def stored(measure, year=YEAR):
    return MeasureYear.objects.filter(measure=measure, fiscal_year=year).first()


# --- Reads ---------------------------------------------------------------------------------------------


def test_plan_and_its_structure(api, plan):
    plans = api("GET", "/api/plans/").json()
    assert plans["count"] == 1
    assert plans["results"][0]["code"] == plan.code
    detail = api("GET", plan_url(plan)).json()
    assert (detail["fiscal_years"], detail["period_label"]) == ([2022, 2023, 2024, 2025], plan.period_label)
    policies = api("GET", plan_url(plan, "policies")).json()["results"]
    assert [(p["number"], p["numeral"]) for p in policies] == [(1, "Ⅰ"), (2, "Ⅱ")]
    assert sum(len(p["initiatives"]) for p in policies) == api("GET", plan_url(plan, "initiatives")).json()["count"]
    future = api("GET", plan_url(plan, "initiatives") + "?status=future").json()["results"]
    assert len(future) == 5 and {i["status"] for i in future} == {"future"}
    assert {i["policy"] for i in api("GET", plan_url(plan, "initiatives") + "?policy=2").json()["results"]} == {2}


def test_a_measure_with_its_schedule_kgi_targets_and_costs(api, plan, measure):
    body = api("GET", plan_url(plan, "measures", measure.code)).json()
    assert (body["code"], body["policy"], body["initiative"], body["ordinal"]) == ("I-3-3", 1, 3, 3)
    assert body["department"] == {"code": "test-dept", "name": "テスト課"}
    assert body["kgi"]["unit"] == "%" and body["kgi"]["target"] == "80.00"
    assert [t["value"] for t in body["kpi_targets"]] == ["72.50", "75.00", "77.50", "80.00"]
    assert [c["fiscal_year"] for c in body["planned_costs"]] == [2022, 2023, 2024, 2025]
    assert len(body["schedule_bars"]) == measure.schedule_bars.count() > 0
    assert body["url"] == plan_url(plan, "measures", measure.code)


def test_the_plan_its_own_words_and_the_national_priorities(api, plan):
    detail = api("GET", plan_url(plan)).json()
    for name in ("vision_description", "lcc_definition", "kgi_definition", "kpi_definition", "score_note"):
        assert detail[name] == getattr(plan, name) != "", name
    assert detail["consideration_heading"] == "検討の方向性(想定される一例)"
    assert [(p["number"], p["name"]) for p in detail["national_priorities"]][:2] == [
        (1, "自治体の情報システムの標準化・共通化"),
        (2, "マイナンバーカードの普及促進"),
    ]
    assert len(detail["national_priorities"]) == 6
    assert api("GET", "/api/plans/").json()["results"][0]["national_priorities"] == detail["national_priorities"]
    initiative = api("GET", plan_url(plan, "initiatives")).json()["results"][0]
    assert "is_priority" not in initiative and "priority_inferred" not in initiative
    measures = api("GET", plan_url(plan, "measures")).json()["results"]
    tagged = {m["code"]: m["national_priorities"] for m in measures if m["national_priorities"]}
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
    assert api("GET", plan_url(plan, "measures", "II-2-1")).json()["national_priorities"] == [1]


def test_measures_are_filtered_by_department_and_policy(api, plan, measure, other_department):
    Measure.objects.filter(plan=plan, code="II-1-1").update(department=other_department)
    mine = api("GET", plan_url(plan, "measures") + "?department=test-dept").json()
    assert [m["code"] for m in mine["results"]] == ["I-3-3"]
    second = api("GET", plan_url(plan, "measures") + "?policy=2").json()
    assert second["count"] == Measure.objects.filter(plan=plan, initiative__policy__number=2).count()
    assert {m["code"][:3] for m in second["results"]} == {"II-"}
    assert api("GET", plan_url(plan, "measures") + "?department=nowhere").json()["count"] == 0


def test_pages_of_measures(api, plan):
    first = api("GET", plan_url(plan, "measures") + "?page_size=20").json()
    assert (first["count"], len(first["results"])) == (30, 20)
    second = api("GET", first["next"].replace("http://testserver", "")).json()
    assert len(second["results"]) == 10 and second["next"] is None
    beyond = api("GET", plan_url(plan, "measures") + "?page=9")
    assert beyond.status_code == 404
    assert beyond.json() == {"detail": "不正なページです。", "code": "not_found"}


def test_a_measures_years_with_achievement_grade_status_and_version(api, plan, measure):
    MeasureYear.objects.create(measure=measure, fiscal_year=2024, kpi_actual=62, work_done="講座", status="submitted")
    years = api("GET", plan_url(plan, "measures", measure.code, "years")).json()
    assert [y["fiscal_year"] for y in years] == [2022, 2023, 2024, 2025]
    r6, r7 = years[2], years[3]
    # 達成度 = 62 ÷ 77.5 × 100 = 80.0% → B (80% and above), as kpi.achievement rates it
    assert (r6["target"]["value"], r6["kpi_actual"]) == ("77.50", "62.00")
    assert r6["achievement"] == {"state": "rated", "label": "", "rate": "80.0", "grade": "B"}
    assert (r6["status"], r6["status_label"], r6["version"], r6["locked"]) == ("submitted", "提出済み", 1, False)
    # Nothing entered for R7 yet: version 0, which is what a first write sends.
    assert (r7["version"], r7["kpi_actual"], r7["achievement"]["state"]) == (0, None, "missing")
    assert r7["fiscal_year_label"] == "R7（2025）年度"
    assert api("GET", year_url(measure, 2024)).json() == r6


def test_a_text_target_is_judged_not_rated(api, plan, department):
    measure = Measure.objects.get(plan=plan, code="I-6-1")
    measure.department = department
    measure.save()
    MeasureYear.objects.create(
        measure=measure, fiscal_year=YEAR, kpi_actual_text="全窓口で導入", judged_grade="A", evaluation_comment="完了"
    )
    row = api("GET", year_url(measure)).json()
    assert row["target"] == {"value": None, "text": "導入を決定した全窓口", "note": "※2"}
    assert row["achievement"] == {"state": "judged", "label": "担当課の判定", "rate": None, "grade": "A"}


def test_records_of_the_plan_filtered_by_year_status_and_department(api, plan, measure, other_department):
    other = Measure.objects.get(plan=plan, code="II-1-1")
    other.department = other_department
    other.save()
    MeasureYear.objects.create(measure=measure, fiscal_year=2024, kpi_actual=1, status="submitted")
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=2)
    MeasureYear.objects.create(measure=other, fiscal_year=YEAR, kpi_actual=3, status="submitted")

    def codes(query=""):
        return [
            (r["measure"], r["fiscal_year"]) for r in api("GET", plan_url(plan, "records") + query).json()["results"]
        ]

    assert codes() == [("I-3-3", 2024), ("I-3-3", 2025), ("II-1-1", 2025)]
    assert codes("?status=submitted") == [("I-3-3", 2024), ("II-1-1", 2025)]
    assert codes("?fiscal_year=2025&department=test-dept") == [("I-3-3", 2025)]
    assert codes("?policy=2") == [("II-1-1", 2025)]
    assert codes("?measure=I-3-3&fiscal_year=2024") == [("I-3-3", 2024)]


def test_the_budget_table_is_figure_2_4_1(api, plan):
    body = api("GET", plan_url(plan, "budget")).json()
    table = plan_budget_table(plan)
    assert body["years"] == table.years
    assert body["total"]["total"] == {"cost": 1240400, "general_fund": table.total.total.general_fund}
    assert [row["policy"] for row in body["rows"]] == [1, 2] and body["total"]["policy"] is None
    first = body["rows"][0]["cells"][0]
    assert first == {"fiscal_year": 2022, "cost": table.rows[0].cells[0].cost, "general_fund": 2100}


def test_hearing_figures_per_measure_and_year(api, plan, measure):
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=60, actual_cost=10, work_done="講座")
    every_year = api("GET", plan_url(plan, "hearing") + "?department=test-dept").json()
    assert every_year["count"] == 1
    row = every_year["results"][0]
    assert (row["code"], row["department"], row["unit"]) == ("I-3-3", "テスト課", "%")
    assert [y["fiscal_year"] for y in row["years"]] == [2022, 2023, 2024, 2025]
    r7 = row["years"][3]
    assert (r7["actual"], r7["actual_cost"], r7["stage"]) == ("60.00", 10, "D")
    assert r7["achievement"]["rate"] == "75.0" and r7["achievement"]["grade"] == "C"
    one_year = api("GET", plan_url(plan, "hearing") + "?year=2025").json()
    assert one_year["count"] == 30 and {len(m["years"]) for m in one_year["results"]} == {1}


@pytest.mark.parametrize("query", ["?year=2026", "?year=1900", "?year=99999999999999999999", "?policy=x"])
def test_hearing_refuses_a_year_outside_the_plan_or_a_bad_filter(api, plan, query):
    response = api("GET", plan_url(plan, "hearing") + query)
    assert response.status_code == 400
    [(field, [message])] = response.json().items()
    assert field in ("year", "policy") and message.endswith("。"), message


@pytest.mark.parametrize("year", [1988, 0, 2021, 2026, 2100, 10**25])
def test_a_year_outside_the_plan_is_not_found(api, measure, year):
    for url in (year_url(measure, year), year_url(measure, year, "approve")):
        response = api("GET" if url.endswith(f"/{year}/") else "POST", url, {"version": 0})
        assert response.status_code == 404, url
        assert response.json()["detail"] == "その年度は計画期間（R4（2022）年度～R7（2025）年度）の外です。"


def test_unknown_codes_and_urls_answer_json_404(api, plan, measure):
    assert api("GET", "/api/plans/no-such-plan/").json() == {"detail": "その計画はありません。", "code": "not_found"}
    assert api("GET", plan_url(plan, "measures", "X-9"))["Content-Type"] == "application/json"
    assert api("GET", plan_url(plan, "measures", "X-9", "years", YEAR)).json()["detail"] == "その施策はありません。"
    for url in ("/api/nothing-here", "/api/plans/a b/", f"{year_url(measure)}delete/", "/api/plans"):
        response = api("GET", url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": "このURLのAPIはありません。", "code": "not_found"}


def test_a_bad_filter_is_a_400_in_japanese(api, plan):
    response = api("GET", plan_url(plan, "records") + "?fiscal_year=abc&status=done&policy=99999")
    assert response.status_code == 400
    body = response.json()
    assert body["fiscal_year"] == ["整数を入力してください。"]
    assert body["status"][0].startswith("正しく選択してください。")
    assert body["policy"] == ["この値は 32767 以下でなければなりません。"]


# --- Writes ------------------------------------------------------------------------------------------


def test_the_api_takes_the_entry_fields_of_the_page():
    from ohnojo_dx.api.serializers import EntrySerializer

    assert set(EntrySerializer().fields) == {"version", *MeasureYear.ENTRY_FIELDS}


def test_a_first_write_creates_the_record_through_the_workflow(api, measure, staff_user):
    response = api("PATCH", year_url(measure), {"version": 0, "kpi_actual": "６０", "actual_cost": 1200})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["kpi_actual"], body["actual_cost"], body["version"], body["status"]) == ("60.00", 1200, 1, "draft")
    assert body["achievement"]["rate"] == "75.0"
    record = stored(measure)
    assert (record.kpi_actual, record.actual_cost, record.version) == (60, 1200, 1)
    history = record.history.first()
    assert (history.history_user, history.history_change_reason) == (staff_user, "入力")


def test_patch_keeps_what_was_not_sent_and_put_clears_it(api, measure):
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=60, actual_cost=100, work_done="講座")
    api("PATCH", year_url(measure), {"version": 1, "evaluation_comment": "順調"})
    record = stored(measure)
    assert (record.kpi_actual, record.actual_cost, record.work_done, record.evaluation_comment) == (
        60,
        100,
        "講座",
        "順調",
    )
    api("PUT", year_url(measure), {"version": 2, "kpi_actual": 65})
    record = stored(measure)
    assert (record.kpi_actual, record.actual_cost, record.work_done, record.evaluation_comment) == (65, None, "", "")
    assert record.version == 3


@pytest.mark.parametrize(
    "sent, kept",
    [
        ({"actual_cost": "１２，３４５"}, 12345),
        ({"actual_cost": 12345}, 12345),
        ({"actual_cost": "－"}, None),
        ({"actual_cost": None}, None),
        ({"actual_cost": ""}, None),
    ],
    ids=["full-width with comma", "JSON number", "the plan's dash", "null", "blank"],
)
def test_numbers_as_people_write_them(api, measure, sent, kept):
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, actual_cost=1)
    response = api("PATCH", year_url(measure), {"version": 1, **sent})
    assert response.status_code == 200, response.json()
    assert stored(measure).actual_cost == kept


def test_a_get_answer_sent_back_unchanged_is_accepted(api, measure):
    """Read, change one figure, PUT it back: the answer's read-only keys are ignored, not refused."""
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=60, work_done="講座")
    body = api("GET", year_url(measure)).json()
    body["actual_cost"] = 300
    response = api("PUT", year_url(measure), body)
    assert response.status_code == 200, response.json()
    record = stored(measure)
    assert (record.kpi_actual, record.work_done, record.actual_cost, record.version) == (60, "講座", 300, 2)


@pytest.mark.parametrize(
    "sent, field, message",
    [
        ({"kpi_actual": -1}, "kpi_actual", "負の数は入力できません（0 以上の値を入力してください）。"),
        ({"actual_cost": "△100"}, "actual_cost", "整数を入力してください。"),
        ({"kpi_actual": "百"}, "kpi_actual", "数値を入力してください。"),
        ({"kpi_actual": 120}, "kpi_actual", "単位が%の値は100以下で入力してください。"),
        ({"actual_cost": 10, "actual_general_fund": 20}, "actual_general_fund", "財源の内訳が決算額を超えています。"),
        ({"work_done": "講座\x00"}, "work_done", "制御文字（改行・タブ以外）は入力できません。"),
        ({"improvement": "stop"}, "improvement", "正しく選択してください。 stop は候補にありません。"),
        ({"kpi_actual": True}, "kpi_actual", "文字列・数値・null のいずれかを入力してください。"),
        ({"work_done": ["講座"]}, "work_done", "文字列・数値・null のいずれかを入力してください。"),
        ({"kpi_actul": 1}, "kpi_actul", "この項目はありません。"),
        ({"kpi_actual_text": "全員"}, "kpi_actual_text", "この施策・年度の目標では入力できない項目です"),
        ({"version": None}, "version", "この項目はnullにできません。"),
        ({"version": "x"}, "version", "有効な整数を入力してください。"),
    ],
)
def test_validation_errors_are_400_with_the_forms_japanese_messages(api, measure, sent, field, message):
    before = snapshot(measure)
    response = api("PATCH", year_url(measure), {"version": 0, **sent})
    assert response.status_code == 400
    assert response.json()[field][0].startswith(message), response.json()
    assert snapshot(measure) == before


def test_the_version_is_required_and_the_body_must_be_json(api, measure):
    assert api("PATCH", year_url(measure), {"kpi_actual": 1}).json() == {"version": ["この項目は必須です。"]}
    response = api("PATCH", year_url(measure), ["version", 0])
    assert response.json() == {"non_field_errors": ["不正なデータです。list 型ではなく辞書を入力してください。"]}
    response = send(Client(), "PATCH", year_url(measure), None, **token_for(measure.department.members.get()))
    assert response.status_code == 400
    broken = Client().patch(
        year_url(measure), "{", content_type="application/json", **token_for(measure.department.members.get())
    )
    assert broken.json() == {"non_field_errors": ["送信された内容をJSONとして読めません。"]}
    assert stored(measure) is None


@pytest.mark.parametrize("off", [-1, +1], ids=["seen an older version", "claims a newer version"])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_stale_version_is_409_with_the_current_version_and_writes_nothing(api, measure, method, off):
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=60, version=4)
    before = snapshot(measure)
    response = api(method, year_url(measure), {"version": 4 + off, "kpi_actual": 99})
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["version"]) == ("conflict", 4)
    assert CONFLICT in body["detail"]
    assert snapshot(measure) == before


def test_a_first_write_that_lost_the_race_is_409(api, measure):
    """The client read "no record" (version 0), but someone created it meanwhile."""
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=60)
    before = snapshot(measure)
    response = api("PATCH", year_url(measure), {"version": 0, "kpi_actual": 99})
    assert (response.status_code, response.json()["version"]) == (409, 1)
    assert snapshot(measure) == before


@pytest.mark.parametrize(
    "method, step, body",
    [
        ("PATCH", "", {"kpi_actual": 1}),
        ("PUT", "", {"kpi_actual": 1}),
        ("POST", "submit", {}),
        ("POST", "approve", {}),
        ("POST", "return", {"comment": "確認"}),
    ],
    ids=["PATCH", "PUT", "submit", "approve", "return"],
)
def test_a_locked_year_is_409_and_stays_as_approved(dx_api, measure, method, step, body):
    record = approved(measure, kpi_actual=60, work_done="講座", version=3)
    before = snapshot(measure)
    response = dx_api(method, year_url(measure, step=step), {"version": 3, **body})
    assert response.status_code == 409
    assert response.json()["version"] == 3
    assert response.json()["code"] in ("locked", "state")
    assert snapshot(measure) == before
    record.refresh_from_db()
    assert record.is_locked


def test_the_whole_cycle_submit_return_submit_approve_reopen(api, dx_api, measure):
    url = year_url(measure)
    assert api("PATCH", url, {"version": 0, "kpi_actual": 60, "work_done": "講座"}).status_code == 200
    assert api("POST", year_url(measure, step="submit"), {"version": 1}).json()["status"] == "submitted"
    assert api("POST", year_url(measure, step="approve"), {"version": 2}).status_code == 403  # 担当課
    returned = dx_api("POST", year_url(measure, step="return"), {"version": 2, "comment": "決算額が未入力です。"})
    assert (returned.json()["status"], returned.json()["return_comment"]) == ("returned", "決算額が未入力です。")
    assert api("PATCH", url, {"version": 3, "actual_cost": 1200}).json()["status"] == "returned"
    assert api("POST", year_url(measure, step="submit"), {"version": 4}).json()["status"] == "submitted"
    approval = dx_api("POST", year_url(measure, step="approve"), {"version": 5}).json()
    assert (approval["status"], approval["locked"], approval["version"]) == ("approved", True, 6)
    assert api("PATCH", url, {"version": 6, "actual_cost": 1}).json()["code"] == "locked"
    reopened = dx_api("POST", year_url(measure, step="reopen"), {"version": 6, "comment": "決算額の訂正"}).json()
    assert (reopened["status"], reopened["locked"], reopened["version"]) == ("draft", False, 7)
    reasons = list(stored(measure).history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons == ["入力", "提出", "差戻し: 決算額が未入力です。", "入力", "提出", "承認", "再開: 決算額の訂正"]


def test_return_and_reopen_need_a_reason(dx_api, measure):
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=1, status="submitted")
    before = snapshot(measure)
    for body in ({"version": 1}, {"version": 1, "comment": ""}, {"version": 1, "comment": None}):
        response = dx_api("POST", year_url(measure, step="return"), body)
        assert response.status_code == 400
        assert response.json() == {"comment": ["この項目は必須です。"]}
    assert snapshot(measure) == before


def test_a_step_that_does_not_fit_the_state_is_409(api, dx_api, measure):
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, evaluation_comment="まだ")
    response = api("POST", year_url(measure, step="submit"), {"version": 1})
    assert (response.status_code, response.json()["code"]) == (409, "state")
    assert response.json()["detail"] == "実績（KPI実績値・決算額・実施内容のいずれか）を入力してから提出してください。"
    response = dx_api("POST", year_url(measure, step="approve"), {"version": 1})
    assert response.json()["detail"] == "提出済みの実績だけを承認できます。"
    assert stored(measure).status == "draft"


def test_a_step_on_a_year_with_no_record_is_404(dx_api, measure):
    for step in ("submit", "approve", "return", "reopen"):
        response = dx_api("POST", year_url(measure, step=step), {"version": 0, "comment": "理由"})
        assert response.status_code == 404
        assert response.json()["detail"] == "この年度の実績はまだありません。"
    assert stored(measure) is None


def test_a_text_target_takes_a_text_actual_and_a_judged_grade(api, plan, department):
    measure = Measure.objects.get(plan=plan, code="I-6-1")
    measure.department = department
    measure.save()
    refused = api("PATCH", year_url(measure), {"version": 0, "kpi_actual": 3})
    assert refused.status_code == 400 and "kpi_actual" in refused.json()
    body = {"version": 0, "kpi_actual_text": "全窓口で導入", "judged_grade": "S", "evaluation_comment": "前倒し"}
    row = api("PATCH", year_url(measure), body).json()
    assert row["achievement"] == {"state": "judged", "label": "担当課の判定", "rate": None, "grade": "S"}


def test_the_api_never_saves_a_model_itself(monkeypatch, api, dx_api, measure):
    """Every write goes through kpi.workflow: with the door shut, nothing is written."""
    from kpi import workflow

    calls = []
    for name in ("save_entry", "save_record", "approve", "return_for_revision", "reopen"):
        monkeypatch.setattr(workflow, name, lambda *args, name=name, **kwargs: calls.append(name))
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=1, work_done="講座", status="submitted")
    before = snapshot(measure)
    api("PATCH", year_url(measure), {"version": 1, "kpi_actual": 2})
    api("PUT", year_url(measure), {"version": 1, "kpi_actual": 2})
    api("POST", year_url(measure, step="submit"), {"version": 1})
    dx_api("POST", year_url(measure, step="approve"), {"version": 1})
    dx_api("POST", year_url(measure, step="return"), {"version": 1, "comment": "確認"})
    dx_api("POST", year_url(measure, step="reopen"), {"version": 1, "comment": "確認"})
    assert calls == ["save_entry", "save_entry", "save_record", "approve", "return_for_revision", "reopen"]
    assert snapshot(measure) == before


# --- Authentication ----------------------------------------------------------------------------------


def test_a_token_signs_a_script_in_and_a_wrong_one_is_401(client, plan, staff_user):
    assert client.get("/api/plans/", **token_for(staff_user)).status_code == 200
    response = client.get("/api/plans/", HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert response.status_code == 401
    assert response.json() == {"detail": "不正なトークンです。", "code": "authentication_failed"}


def test_the_browser_session_needs_the_csrf_token_to_write(plan, measure, staff_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    assert browser.get(year_url(measure)).status_code == 200  # reading needs no CSRF token
    refused = send(browser, "PATCH", year_url(measure), {"version": 0, "kpi_actual": 1})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF")
    assert stored(measure) is None
    browser.get("/api/docs/")  # the docs page sets the CSRF cookie that Swagger UI sends back
    token = browser.cookies["csrftoken"].value
    allowed = send(browser, "PATCH", year_url(measure), {"version": 0, "kpi_actual": 1}, HTTP_X_CSRFTOKEN=token)
    assert allowed.status_code == 200
    assert stored(measure).kpi_actual == Decimal(1)


def test_the_dx_office_issues_a_token_in_the_admin(client, dx_user, staff_user):
    from rest_framework.authtoken.models import Token

    client.force_login(dx_user)
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 200
    assert client.get("/admin/authtoken/tokenproxy/add/").status_code == 200
    response = client.post("/admin/authtoken/tokenproxy/add/", {"user": staff_user.pk, "_save": "1"})
    assert response.status_code == 302, response.context["errors"] if response.context else response
    token = Token.objects.get(user=staff_user)
    assert token.key in client.get("/admin/authtoken/tokenproxy/").content.decode()
    assert Client().get("/api/plans/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
    # and revokes it
    client.post(f"/admin/authtoken/tokenproxy/{staff_user.pk}/delete/", {"post": "yes"})
    assert not Token.objects.filter(user=staff_user).exists()


@pytest.mark.parametrize("role", ["staff_user", "viewer", "outsider"])
def test_no_one_else_sees_the_tokens(client, request, role, dx_user):
    user = request.getfixturevalue(role)
    user.is_staff = True  # staff status by mistake: the role still decides
    user.save()
    token_for(dx_user)
    client.force_login(user)
    response = client.get("/admin/authtoken/tokenproxy/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
