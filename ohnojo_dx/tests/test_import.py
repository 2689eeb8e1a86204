"""Loading a plan file is all or nothing, and another city's plan fits the same format."""

import copy
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from budget.selectors import plan_budget_table
from conftest import PLAN_FILE, plan_data
from initiatives.models import Measure, Plan
from ohnojo_dx.plan_loader import PlanImportError, import_plan

pytestmark = pytest.mark.django_db


def another_city():
    """A small plan of a made-up city, R8–R12, in the same format."""
    return {
        "plan": {
            "code": "sample-city-r8",
            "title": "サンプル市DX計画",
            "municipality": "サンプル市",
            "vision": "テスト",
            "start_year": 2026,
            "end_year": 2030,
        },
        "policies": [
            {
                "number": 1,
                "numeral": "Ⅰ",
                "title": "方針",
                "initiatives": [
                    {
                        "number": 1,
                        "title": "取組",
                        "urgency": 50,
                        "importance": 60,
                        "measures": [
                            {
                                "code": "I-1-1",
                                "ordinal": 1,
                                "name": "施策",
                                "schedule": [{"label": "運用", "start_year": 2026, "end_year": 2030}],
                                "kgi": {"text": "件数：5件", "indicator": "件数", "target": 5, "unit": "件"},
                                "kpi": {"2026": {"value": 1}, "2030": {"value": 5}},
                                "lcc": {"2026": 100, "2027": None, "2030": 50},
                            },
                        ],
                    },
                ],
            }
        ],
        "general_fund": [{"policy": 1, "fiscal_year": 2026, "amount": 80}],
    }


def test_another_plan_fits_the_same_model(plan):
    other = import_plan(another_city())
    assert Plan.objects.count() == 2
    table = plan_budget_table(other)
    assert table.years == [2026, 2027, 2028, 2029, 2030]
    assert (table.total.total.cost, table.total.total.general_fund) == (150, 80)
    # The same measure code lives in both plans.
    assert Measure.objects.filter(code="I-1-1").count() == 2


def test_a_bad_row_leaves_nothing_behind(plan):
    data = another_city()
    measure = data["policies"][0]["initiatives"][0]["measures"][0]
    measure["lcc"]["2029"] = -10
    measure["kpi"]["2031"] = {"value": 1}
    with pytest.raises(PlanImportError) as raised:
        import_plan(data)
    text = str(raised.value)
    assert "施策 I-1-1 LCC 2029" in text and "以上" in text
    assert "R13（2031）年度 は計画期間" in text
    assert not Plan.objects.filter(code="sample-city-r8").exists()
    assert Measure.objects.filter(code="I-1-1").count() == 1


def test_command_skips_a_plan_already_loaded(plan, capsys):
    Measure.objects.filter(plan=plan, code="I-1-1").update(name="職員が直した名前")
    call_command("import_plan", str(PLAN_FILE))
    assert "読み飛ばしました" in capsys.readouterr().out
    assert Measure.objects.get(plan=plan, code="I-1-1").name == "職員が直した名前"


def test_command_reports_problems_in_japanese(tmp_path, db):
    data = copy.deepcopy(plan_data())
    data["plan"]["code"] = "broken"
    data["plan"]["end_year"] = 2020
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="何も保存していません"):
        call_command("import_plan", str(path))
    assert not Plan.objects.filter(code="broken").exists()


@pytest.mark.parametrize("content", ["{not json", '{"plan": {}}', '{"plan": {"code": "x"}, "policies": [{}]}'])
def test_command_reports_a_malformed_file(tmp_path, db, content):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    before = Plan.objects.count()
    with pytest.raises(CommandError, match="計画ファイル"):
        call_command("import_plan", str(path))
    assert Plan.objects.count() == before
