"""A plan of another shape: four levels over five years, shaped like 福井市DX推進計画 (3 基本目標 → 15 取組分野 →
48 取組事項 → 78 事業, R4–R8), imported through the plan workbook and shown under its own level names on every
page, report and workbook, with the same queries as a plan of three levels of the same size."""

import hashlib
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budget.models import ExportJob
from budget.views import REPORTS
from conftest import make_user
from initiatives.models import Initiative, Measure, MeasureGroup, Plan, PlanRevision, Policy
from initiatives.roles import Role
from kpi.models import Indicator, IndicatorYear, MeasureYear
from kpi.publishing import publish
from ohnojo_dx.plan_workbook import write_workbook
from tests.test_page_queries import pages

pytestmark = pytest.mark.django_db

START, END = 2022, 2026  # R4–R8
YEAR = 2025
NAMES = {
    "policy_level_name": "基本目標",
    "initiative_level_name": "取組分野",
    "group_level_name": "取組事項",
    "measure_level_name": "事業",
}
# Fukui's counts: 3 → 15 → 48 → 78
POLICIES, INITIATIVES_EACH, GROUPS, MEASURES = 3, 5, 48, 78


def plan_file(code, four_levels=True):
    """The plan file of a Fukui-shaped plan; without ``four_levels`` the same plan with three levels (the
    取組事項 left out, every 事業 directly under its 取組分野)."""
    initiatives = [(p, i) for p in range(1, POLICIES + 1) for i in range(1, INITIATIVES_EACH + 1)]
    group_of = [initiatives[g % len(initiatives)] for g in range(GROUPS)]  # 48 groups over 15 initiatives
    groups = {key: [] for key in initiatives}
    for number, key in enumerate(group_of, start=1):
        groups[key].append(number)
    measures = {key: [] for key in initiatives}
    places = [(key, g) for key in initiatives for g in groups[key]]
    for n in range(MEASURES):
        key, group = places[n % len(places)]
        measures[key].append(group)
    policies = []
    serial = 0
    for p in range(1, POLICIES + 1):
        policy = {"number": p, "numeral": str(p), "title": f"基本目標の名前{p}", "initiatives": []}
        for i in range(1, INITIATIVES_EACH + 1):
            key = (p, i)
            ini = {"number": i, "title": f"取組分野の名前{p}-{i}", "measures": []}
            if four_levels:
                ini["groups"] = [{"number": g, "title": f"取組事項の名前{g}"} for g in groups[key]]
            for ordinal, group in enumerate(sorted(measures[key]), start=1):
                serial += 1
                measure = {
                    "code": f"F-{serial}",
                    "ordinal": ordinal,
                    "name": f"事業の名前{serial}",
                    "kgi": {
                        "text": f"利用件数 {serial * 10}件",
                        "indicator": "利用件数",
                        "target": serial * 10,
                        "unit": "件",
                    },
                    "kpi": {
                        str(y): {"value": serial + y - START, "text": "", "note": ""} for y in range(START, END + 1)
                    },
                    "lcc": {str(y): 1000 + serial for y in range(START, END + 1)},
                    # several indicators per 事業: one more each, two more for every third
                    "indicators": [
                        {
                            "number": number,
                            "name": f"指標{number}",
                            "unit": "%",
                            "direction": "higher",
                            "cumulative": False,
                            "target": 80,
                            "target_text": "",
                            "kpi": {str(y): {"value": 50 + 5 * (y - START), "text": ""} for y in range(START, END + 1)},
                        }
                        for number in range(2, 4 if serial % 3 == 0 else 3)
                    ],
                }
                if four_levels:
                    measure["group"] = group
                ini["measures"].append(measure)
            policy["initiatives"].append(ini)
        policies.append(policy)
    plan = {
        "code": code,
        "title": f"福井市の形の計画（{code}）",
        "municipality": "テスト市",
        "vision": "テストの目指す姿",
        "start_year": START,
        "end_year": END,
        **(NAMES if four_levels else {}),
    }
    return {"plan": plan, "policies": policies, "general_fund": []}


def import_through_the_workbook(client, data):
    content = write_workbook(data)
    response = client.post(reverse("plan_import"), {"file": SimpleUploadedFile("plan.xlsx", content)})
    assert response.status_code == 200, response.content.decode()[:500]
    response = client.post(reverse("plan_import_confirm"), {"digest": hashlib.sha256(content).hexdigest()})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "取り込みました" in client.get(response["Location"]).content.decode()  # the message, shown once
    return Plan.objects.get(code=data["plan"]["code"])


@pytest.fixture
def shaped(client, db):
    """The four-level plan and its three-level twin, both imported through the plan workbook, each in the
    same state: a department's measure with a submitted record, a revision, a finished export, a published year."""
    dx = make_user("dx-shapes", Role.DX_OFFICE)
    client.force_login(dx)
    plans = {}
    for code, four in (("fukui-4", True), ("fukui-3", False)):
        plan = import_through_the_workbook(client, plan_file(code, four))
        from initiatives.models import Department

        department = Department.objects.create(code=f"{code}-dept", name=f"{code}の課")
        measure = Measure.objects.get(plan=plan, code="F-7")
        measure.department = department
        measure.save()
        MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=3, status="approved")
        MeasureYear.objects.create(
            measure=Measure.objects.get(plan=plan, code="F-8"), fiscal_year=YEAR, kpi_actual=1, status="submitted"
        )
        PlanRevision.objects.create(plan=plan, number=1, decided_on="2024-11-20", decided_by="会議", reason="理由")
        job = ExportJob.objects.create(
            plan=plan, kind="hearing", output="xlsx", requested_by=dx, status="done", content=b"PK", filename="a.xlsx"
        )
        publish(plan, YEAR, dx, 0, "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/deed.ja", [])
        plans[four] = (plan, measure, job)
    return dx, plans


def test_the_workbook_holds_the_four_levels_and_their_names(client, shaped):
    _, plans = shaped
    plan = plans[True][0]
    assert plan.level_count == 4 and plans[False][0].level_count == 3
    assert (plan.policy_level, plan.initiative_level, plan.group_level, plan.measure_level) == tuple(NAMES.values())
    assert Policy.objects.filter(plan=plan).count() == POLICIES
    assert Initiative.objects.filter(policy__plan=plan).count() == POLICIES * INITIATIVES_EACH
    assert MeasureGroup.objects.filter(initiative__policy__plan=plan).count() == GROUPS
    assert Measure.objects.filter(plan=plan, group__isnull=False).count() == MEASURES
    assert not Measure.objects.filter(plan=plan, group__isnull=True).exists()
    indicators = Indicator.objects.filter(measure__plan=plan)
    assert indicators.count() == MEASURES + MEASURES // 3  # several indicators per 事業
    assert IndicatorYear.objects.filter(measure__plan=plan).count() == indicators.count() * (END - START + 1)
    # each 事業 sits in a 取組事項 of its own 取組分野
    assert not Measure.objects.filter(plan=plan).exclude(group__initiative=F("initiative")).exists()
    # and the plan's file gives the levels back as they were put in
    again, given = client.get(reverse("plan_file", args=[plan.code])).json(), plan_file("fukui-4")
    assert {k: again["plan"][k] for k in NAMES} == NAMES
    assert levels(again) == levels(given)
    assert [m.get("indicators") for m in measures_of(again)] == [m["indicators"] for m in measures_of(given)]
    assert "group_level_name" not in client.get(reverse("plan_file", args=["fukui-3"])).json()["plan"]


def measures_of(data):
    return [m for p in data["policies"] for i in p["initiatives"] for m in i["measures"]]


def levels(data):
    """Each 事業's code with its 基本目標, 取組分野 and 取組事項 (number and title)."""
    out = {}
    for policy in data["policies"]:
        for ini in policy["initiatives"]:
            titles = {g["number"]: g["title"] for g in ini.get("groups", [])}
            for m in ini["measures"]:
                out[m["code"]] = (policy["title"], ini["title"], m.get("group"), titles.get(m.get("group")))
    return out


def every_page(plan, measure, job):
    """(name, URL) of each page, report and workbook of the plan (the signed-in ones)."""
    urls = [(name, url) for name, url, _queries, _what in pages(plan, measure, job)]
    urls += [
        ("dashboard", f"{reverse('home')}?plan={plan.code}&year={YEAR}"),
        ("measure list", f"{reverse('kpi:measure_list')}?plan={plan.code}&year={YEAR}"),
        ("department grid", reverse("kpi:department_grid", args=[plan.code, YEAR, measure.department.code])),
        ("publish form", reverse("kpi:publish", args=[plan.code, YEAR])),
    ]
    for kind in REPORTS:
        url = reverse("budget:report", args=[plan.code, kind])
        urls += [(f"report {kind}", f"{url}?year={YEAR}"), (f"report {kind} xlsx", f"{url}?year={YEAR}&format=xlsx")]
    return urls


def public_pages(plan):
    return [
        ("public year", reverse("kpi:public_year", args=[plan.code, YEAR])),
        ("public JSON", reverse("kpi:public_json", args=[plan.code, YEAR])),
        ("public CSV", reverse("kpi:public_csv", args=[plan.code, YEAR])),
    ]


def text_of(response):
    """A page's text, or every cell of a workbook as text."""
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        wb = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c)
    return response.content.decode("utf-8-sig")


def test_every_page_has_the_same_queries_as_for_three_levels(client, shaped):
    dx, plans = shaped
    client.force_login(dx)
    four, three = plans[True], plans[False]
    for (name, url4), (_, url3) in zip(every_page(*four), every_page(*three), strict=True):
        counted = []
        for url in (url4, url3):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, (name, url)
            counted.append(len(queries))
        assert counted[0] == counted[1], name
    client.logout()
    for (name, url4), (_, url3) in zip(public_pages(four[0]), public_pages(three[0]), strict=True):
        counted = []
        for url in (url4, url3):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200, name
            counted.append(len(queries))
        assert counted[0] == counted[1], name


# Where each page shows the plan's levels, it uses the plan's names for them.
SHOWS_LEVELS = {
    "plan tree": ("基本目標1", "取組分野1：", "取組事項1："),
    "measure page": ("基本目標", "取組分野", "取組事項", "評価指標（2つ目以降）", "2. 指標2（%）"),
    "dashboard": ("基本目標1 基本目標の名前1", "取組分野1：取組分野の名前1-1", "基本目標・取組分野ごとの状況"),
    "PDCA page": ("基本目標1 基本目標の名前1", "取組分野1："),
    "measure list": ("事業", "取組分野1："),
    "hearing sheets": ("基本目標", "取組分野", "取組事項"),
    "図表2-4-1": ("基本目標1",),
    "report hearing": ("基本目標1 基本目標の名前1", "取組分野", "取組事項"),
    "report hearing xlsx": ("基本目標", "取組分野", "取組事項", "事業"),
    "report final xlsx": ("基本目標", "取組分野", "取組事項", "事業"),
    "report revised xlsx": ("事業",),
    "public year": ("基本目標1 基本目標の名前1", "取組分野1：", "取組事項", "事業"),
    "public CSV": ("基本目標,取組分野,取組事項", "事業", "基本目標1 基本目標の名前1", "取組分野1：", "取組事項"),
}
OHNOJO_WORDS = re.compile(r"基本方針|個別施策|取組[0-9]+：")


def test_pages_reports_and_workbooks_use_the_plans_level_names(client, shaped):
    dx, plans = shaped
    client.force_login(dx)
    urls = dict(every_page(*plans[True]))
    client_public = dict(public_pages(plans[True][0]))
    wrong = []
    for name, expected in SHOWS_LEVELS.items():
        if name in client_public:
            client.logout()
            response = client.get(client_public[name])
            client.force_login(dx)
        else:
            response = client.get(urls[name])
        text = text_of(response)
        wrong += [(name, "missing", words) for words in expected if words not in text]
        wrong += [(name, "Ohnojo's name", text[m.start() - 60 : m.end() + 20]) for m in OHNOJO_WORDS.finditer(text)]
    assert wrong == []


def test_the_next_plan_keeps_the_plans_shape_and_names(shaped):
    from budget.models import FinalEvaluation
    from budget.next_plan import draft_next_plan

    dx, plans = shaped
    plan = plans[True][0]
    for code in ("F-1", "F-40"):
        FinalEvaluation.objects.create(measure=Measure.objects.get(plan=plan, code=code), carry_over="continue")
    new = draft_next_plan(plan, dx, code="fukui-next", title="次期", start_year=2027, end_year=2031)
    assert (new.policy_level, new.initiative_level, new.group_level, new.measure_level) == tuple(NAMES.values())
    for old in Measure.objects.filter(plan=plan, code__in=["F-1", "F-40"]).select_related("group__initiative"):
        copy = Measure.objects.select_related("group__initiative__policy").get(predecessor=old)
        assert (copy.group.number, copy.group.title) == (old.group.number, old.group.title)
        assert copy.group.initiative_id == copy.initiative_id and copy.group.initiative.policy.plan_id == new.pk
    assert MeasureGroup.objects.filter(initiative__policy__plan=new).count() == GROUPS
