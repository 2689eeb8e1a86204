"""Malformed plan files: each is answered with one Japanese line, and nothing is written.

Every case is a small valid plan with one thing broken (or raw bytes that are not a plan at all), run
through the real import_plan command.
"""

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from budget.models import GeneralFundPlan, PlannedCost
from initiatives.models import Initiative, Measure, NationalPriority, Plan, Policy, ScheduleBar
from kpi.models import Kgi, KpiTarget

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
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
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# What leaks when an exception reaches the user: a traceback, or an exception's repr such as KeyError('x').
PYTHON_LEAKS = re.compile(r"Traceback|Error\(|Exception|File \"|line \d+|\\x[0-9a-f]{2}|\\u[0-9a-f]{4}")


def valid_plan():
    return {
        "plan": {
            "code": "corpus-city-r8",
            "title": "コーパス市DX計画",
            "municipality": "コーパス市",
            "adopted_on": "2026-04-01",
            "vision": "テスト",
            "start_year": 2026,
            "end_year": 2027,
            "data_notes": ["注記"],
            "kgi_definition": "計画期間全体の達成度を測る指標",
        },
        "national_priorities": [{"number": 1, "name": "重点1", "content": "内容"}, {"number": 2, "name": "重点2"}],
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
                        "measures": [
                            {
                                "code": "I-1-1",
                                "ordinal": 1,
                                "name": "施策",
                                "effects": ["効果"],
                                "schedule": [{"label": "運用", "start_year": 2026, "end_year": 2027}],
                                "kgi": {"text": "件数：5件", "indicator": "件数", "target": 5, "unit": "件"},
                                "kpi": {"2026": {"value": 1}, "2027": {"value": 5.5}},
                                "lcc": {"2026": 100, "2027": None},
                                "national_priorities": [1],
                            },
                        ],
                    },
                ],
            }
        ],
        "general_fund": [{"policy": 1, "fiscal_year": 2026, "amount": 80}],
    }


def measure_of(data):
    return data["policies"][0]["initiatives"][0]["measures"][0]


def broken(change):
    """The valid plan with one change, as the bytes of a file."""
    data = copy.deepcopy(valid_plan())
    change(data)
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


RAW = "<raw>"


def spelled(change, json_text):
    """broken(change), with the RAW it placed spelled as json_text: JSON that json.dumps would not write."""
    return broken(change).replace(json.dumps(RAW).encode(), json_text)


def setting(path, value):
    """A change that sets data[path...] = value; path items are keys or indexes."""

    def change(data):
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def on_measure(key, value):
    return lambda data: measure_of(data).__setitem__(key, value)


def without(path):
    def change(data):
        target = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


VALID_TEXT = json.dumps(valid_plan(), ensure_ascii=False)

CORPUS = {
    # Not a plan file at all
    "empty file": b"",
    "only whitespace": b" \n\t\n",
    "shift_jis, not utf-8": VALID_TEXT.encode("cp932"),
    "not json": b"{not json",
    "cut off half way": VALID_TEXT[:200].encode("utf-8"),
    "deeply nested": b"[" * 200_000 + b"]" * 200_000,
    "an integer of 5000 digits": b'{"plan": ' + b"9" * 5000 + b"}",
    "top-level list": b"[]",
    "top-level string": b'"plan"',
    "top-level null": b"null",
    # The right syntax, the wrong shape
    "plan missing": broken(without(["plan"])),
    "policies missing": broken(without(["policies"])),
    "plan code missing": broken(without(["plan", "code"])),
    "measure name missing": broken(lambda d: measure_of(d).pop("name")),
    "unknown key (a typo)": broken(on_measure("efects", ["効果"])),
    "plan is a list": broken(setting(["plan"], [])),
    "policies is a dict": broken(setting(["policies"], {})),
    "a policy is a string": broken(setting(["policies", 0], "方針")),
    "year as a string": broken(setting(["plan", "start_year"], "2026")),
    "year as a float": broken(setting(["plan", "end_year"], 2027.0)),
    "year as true": broken(setting(["plan", "start_year"], True)),
    "title as a number": broken(setting(["plan", "title"], 1)),
    "title as null": broken(setting(["plan", "title"], None)),
    "adopted_on not a date": broken(setting(["plan", "adopted_on"], "2026-13-01")),
    "adopted_on a number": broken(setting(["plan", "adopted_on"], 20260401)),
    "data_notes a string": broken(setting(["plan", "data_notes"], "注記")),
    "urgency true": broken(lambda d: d["policies"][0]["initiatives"][0].__setitem__("urgency", True)),
    "is_priority (no longer a plan file key)": broken(
        lambda d: d["policies"][0]["initiatives"][0].__setitem__("is_priority", True)
    ),
    "national_priorities a dict": broken(setting(["national_priorities"], {"number": 1})),
    "national priority without a name": broken(lambda d: d["national_priorities"][0].pop("name")),
    "a measure's national priority a string": broken(on_measure("national_priorities", ["1"])),
    "a measure's national priority as a number": broken(on_measure("national_priorities", 1)),
    "measures a dict": broken(lambda d: d["policies"][0]["initiatives"][0].__setitem__("measures", {})),
    "kpi a list": broken(on_measure("kpi", [1, 2])),
    "kpi value true": broken(on_measure("kpi", {"2026": {"value": True}})),
    "kpi value a string": broken(on_measure("kpi", {"2026": {"value": "5"}})),
    "kpi value infinite": broken(on_measure("kpi", {"2026": {"value": float("inf")}})),
    "kpi value NaN": broken(on_measure("kpi", {"2026": {"value": float("nan")}})),
    "kpi value 1e400": spelled(on_measure("kpi", {"2026": {"value": RAW}}), b"1e400"),
    "kpi cell a number": broken(on_measure("kpi", {"2026": 5})),
    "kpi year not a year": broken(on_measure("kpi", {"R8": {"value": 1}})),
    "lcc amount true": broken(on_measure("lcc", {"2026": True})),
    "lcc amount with decimals": broken(on_measure("lcc", {"2026": 1.5})),
    "lcc amount a string": broken(on_measure("lcc", {"2026": "100"})),
    "effects a string": broken(on_measure("effects", "abc")),
    "effects of numbers": broken(on_measure("effects", [1, 2])),
    "schedule a dict": broken(on_measure("schedule", {"label": "運用"})),
    "schedule bar without years": broken(on_measure("schedule", [{"label": "運用"}])),
    "kgi a list": broken(on_measure("kgi", ["件数"])),
    "kgi target a string": broken(on_measure("kgi", {"text": "件数", "target": "5"})),
    "general_fund amount a string": broken(setting(["general_fund", 0, "amount"], "80")),
    "general_fund a dict": broken(setting(["general_fund"], {"policy": 1})),
    "NUL in a title": broken(setting(["plan", "title"], "計画\x00")),
    "escape in a measure name": broken(on_measure("name", "施策\x1b[31m")),
    "DEL in an effect": broken(on_measure("effects", ["効果\x7f"])),
    "C1 control in a kpi note": broken(on_measure("kpi", {"2026": {"value": 1, "note": "試行\x85"}})),
    "form feed in a note list": broken(on_measure("notes", ["※1\x0c"])),
    "a key with a newline": broken(on_measure("bad\nkey", 1)),
    "a lone surrogate in a title": spelled(setting(["plan", "title"], RAW), rb'"\ud800"'),
    # Years outside every era (the models could not even name them in a message)
    "plan starting in 1988": broken(setting(["plan", "start_year"], 1988)),
    "plan ending in year 10**30": broken(setting(["plan", "end_year"], 10**30)),
    "kpi year 1900": broken(on_measure("kpi", {"1900": {"value": 1}})),
    "lcc year 0000": broken(on_measure("lcc", {"0000": 1})),
    "schedule bar in 1900": broken(on_measure("schedule", [{"label": "運用", "start_year": 1900, "end_year": 2026}])),
    "general_fund year 1900": broken(setting(["general_fund", 0, "fiscal_year"], 1900)),
}


def row_counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def write(tmp_path, content):
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    return str(path)


def test_the_unbroken_plan_loads(tmp_path, capsys):
    """The corpus breaks a plan that loads, so each refusal below is about what was broken."""
    before = row_counts()
    call_command("import_plan", write(tmp_path, VALID_TEXT.encode("utf-8")))
    assert "corpus-city-r8" in capsys.readouterr().out
    after = row_counts()
    assert after["Plan"] == before["Plan"] + 1
    assert after["KpiTarget"] == before["KpiTarget"] + 2
    measure = Measure.objects.get(plan__code="corpus-city-r8")
    assert measure.effects == "効果"
    assert [p.name for p in measure.national_priorities.all()] == ["重点1"]
    assert Plan.objects.get(code="corpus-city-r8").kgi_definition == "計画期間全体の達成度を測る指標"


@pytest.mark.parametrize("content", CORPUS.values(), ids=CORPUS.keys())
def test_malformed_file_gets_one_japanese_line_and_nothing_is_written(tmp_path, content):
    before = row_counts()
    with pytest.raises(CommandError) as raised:
        call_command("import_plan", write(tmp_path, content))
    message = str(raised.value)
    assert message.strip(), "an empty message says nothing"
    assert "\n" not in message and "\r" not in message, message
    assert JAPANESE.search(message), message
    assert not PYTHON_LEAKS.search(message), message
    assert "計画ファイル" in message, message
    assert row_counts() == before


@pytest.mark.parametrize(
    "case, place",
    [
        ("kpi a list", "policies[0].initiatives[0].measures[0].kpi "),
        ("kpi value true", "policies[0].initiatives[0].measures[0].kpi.2026.value "),
        ("effects a string", "policies[0].initiatives[0].measures[0].effects "),
        ("year as a string", "plan.start_year "),
        ("plan code missing", 'plan に "code"'),
        ("unknown key (a typo)", '"efects"'),
        ("top-level list", "ファイル全体"),
        ("general_fund amount a string", "general_fund[0].amount "),
        ("NUL in a title", "plan.title"),
        ("a measure's national priority a string", "policies[0].initiatives[0].measures[0].national_priorities[0] "),
        ("national priority without a name", 'national_priorities[0] に "name"'),
    ],
)
def test_the_line_names_where_the_problem_is(tmp_path, case, place):
    with pytest.raises(CommandError) as raised:
        call_command("import_plan", write(tmp_path, CORPUS[case]))
    assert place in str(raised.value)


def test_effects_as_a_string_is_not_split_into_letters(tmp_path):
    """It used to be stored as the three lines a, b and c."""
    with pytest.raises(CommandError, match="effects"):
        call_command("import_plan", write(tmp_path, CORPUS["effects a string"]))
    assert not Measure.objects.filter(plan__code="corpus-city-r8").exists()


@pytest.mark.parametrize(
    "change, place",
    [
        (on_measure("lcc", {"2026": 10**30}), "施策 I-1-1 LCC 2026"),
        (on_measure("lcc", {"2026": -1}), "施策 I-1-1 LCC 2026"),
        (on_measure("kpi", {"2026": {"value": 10**400}}), "施策 I-1-1 KPI 2026"),
        (on_measure("ordinal", 10**30), "施策 I-1-1 ordinal"),
        (lambda d: d["policies"][0]["initiatives"][0].__setitem__("status", "zzz"), "基本方針Ⅰ 取組1 status"),
        (
            on_measure("national_priorities", [3]),
            "施策 I-1-1 national_priorities: 国の重点取組事項に番号 3 がありません。",
        ),
        (on_measure("national_priorities", [1, 1]), "施策 I-1-1 national_priorities: 国の重点取組事項の番号 1 が重複"),
        (lambda d: d["national_priorities"][1].update(number=1, name="重点1"), "国の重点取組事項 1"),
    ],
    ids=[
        "amount 10**30",
        "negative amount",
        "400-digit KPI",
        "ordinal 10**30",
        "unknown status",
        "a national priority the plan does not list",
        "a national priority twice",
        "two national priorities with one number",
    ],
)
def test_a_value_the_models_refuse_is_one_line_too(tmp_path, change, place):
    """A well-shaped file with one bad value: the models' Japanese message, still one line, still nothing written."""
    before = row_counts()
    with pytest.raises(CommandError) as raised:
        call_command("import_plan", write(tmp_path, broken(change)))
    message = str(raised.value)
    assert "\n" not in message, message
    assert "何も保存していません" in message and place in message, message
    assert not PYTHON_LEAKS.search(message), message
    assert row_counts() == before


def test_the_command_line_exits_non_zero_without_a_traceback(tmp_path):
    """The real command in a subprocess, against a throwaway database."""
    database = tmp_path / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "test-only", "SECURE_COOKIES": "0"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    result = subprocess.run(
        [*manage, "import_plan", write(tmp_path, CORPUS["kpi value true"])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "kpi.2026.value は数値にしてください" in lines[0]
    assert "Traceback" not in result.stderr
