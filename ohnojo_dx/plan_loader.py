"""Loading a whole plan from its JSON file (fixtures/README.md describes the shape).

The same format serves every municipality's plan. A load is all or nothing:
every row is validated like a form would (full_clean, so the Japanese messages
of the models apply) inside one transaction. Before that, the file's shape is
checked (check_plan_shape): a file that is not a plan gets one line naming
where it first goes wrong, never a Python error.
"""

import datetime
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from budget.models import GeneralFundPlan, PlannedCost
from initiatives.fields import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from initiatives.models import (
    FISCAL_YEAR_MAX,
    FISCAL_YEAR_MIN,
    Initiative,
    Measure,
    MeasureGroup,
    NationalPriority,
    Plan,
    Policy,
    ScheduleBar,
)
from kpi import workflow
from kpi.models import Indicator, IndicatorYear, Kgi, KpiTarget


class PlanImportError(Exception):
    """Raised with every problem found, each prefixed with where it is."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("\n".join(problems))


class PlanFileError(PlanImportError):
    """The file is not a plan file at all (unreadable, not JSON, or the wrong shape): one line."""

    def __init__(self, problem):
        super().__init__([problem])


# The shape of a plan file (fixtures/README.md), checked before anything is read from it.


@dataclass(frozen=True)
class _Value:
    words: str  # what it must be, for the message
    test: object


def _is_date(value):
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_number(value):
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


TEXT = _Value("文字列", lambda v: isinstance(v, str))
FLAG = _Value("真偽値（true か false）", lambda v: isinstance(v, bool))
# bool is an int in Python, so true/false must be refused by name where a number is wanted.
WHOLE = _Value("整数", lambda v: isinstance(v, int) and not isinstance(v, bool))
NUMBER = _Value("数値", lambda v: _is_number(v) and not isinstance(v, bool))
DATE = _Value('日付（例: "2022-08-01"）', lambda v: isinstance(v, str) and _is_date(v))
# Years outside the models' sanity range have no 和暦 name, so they are refused before any message names one.
YEAR = _Value(
    f"年度（{FISCAL_YEAR_MIN}〜{FISCAL_YEAR_MAX} の整数）",
    lambda v: WHOLE.test(v) and FISCAL_YEAR_MIN <= v <= FISCAL_YEAR_MAX,
)
YEAR_KEY = re.compile(r"[0-9]{4}")
# JSON can spell half of a UTF-16 pair ("\ud800"); no database can store it.
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class _OrNull:
    shape: object


@dataclass(frozen=True)
class _Years:
    """{"2022": …, "2023": …}"""

    value: object


@dataclass(frozen=True)
class _Record:
    required: dict
    optional: dict = field(default_factory=dict)


# The plan's own words for its terms and tables (Plan fields of the same names), all optional text.
PLAN_TEXTS = (
    "lcc_definition",
    "kgi_definition",
    "kpi_definition",
    "costs_description",
    "score_note",
    "consideration_heading",
)
# The plan's own names for its levels (Plan fields of the same names); a file leaves out those not named.
LEVEL_NAMES = ("policy_level_name", "initiative_level_name", "group_level_name", "measure_level_name")
# How the plan is graded and reviewed (Plan fields of the same names, with their defaults); a file leaves out
# the defaults.
PLAN_RULES = {"grading_rule": "rate", "overall_rule": "primary", "review_cycle": "year"}
SCHEDULE_BAR = _Record({"label": TEXT, "start_year": YEAR, "end_year": YEAR}, {"inferred": FLAG, "basis": TEXT})
KGI = _Record(
    {"text": TEXT},
    {
        "indicator": TEXT,
        "target": _OrNull(NUMBER),
        "target_text": TEXT,
        "unit": TEXT,
        "direction": TEXT,
        "cumulative": FLAG,
    },
)
KPI_CELL = _Record({}, {"value": _OrNull(NUMBER), "text": TEXT, "note": TEXT})
INDICATOR = _Record(
    {"number": WHOLE, "name": TEXT},
    {
        "unit": TEXT,
        "direction": TEXT,
        "cumulative": FLAG,
        "target": _OrNull(NUMBER),
        "target_text": TEXT,
        "kpi": _Years(_OrNull(KPI_CELL)),
    },
)
MEASURE = _Record(
    {"code": TEXT, "ordinal": WHOLE, "name": TEXT},
    {
        "content": TEXT,
        "goal": TEXT,
        "effects": [TEXT],
        "notes": [TEXT],
        "data_notes": [TEXT],
        "schedule": [SCHEDULE_BAR],
        "kgi": _OrNull(KGI),
        "kpi": _Years(_OrNull(KPI_CELL)),
        "lcc": _Years(_OrNull(WHOLE)),
        "lcc_notes": _Years(TEXT),
        "national_priorities": [WHOLE],
        "group": _OrNull(WHOLE),
        "indicators": [INDICATOR],
    },
)
GROUP = _Record({"number": WHOLE, "title": TEXT})
INITIATIVE = _Record(
    {"number": WHOLE, "title": TEXT},
    {
        "urgency": _OrNull(WHOLE),
        "importance": _OrNull(WHOLE),
        "status": TEXT,
        "consideration": TEXT,
        "future_no": _OrNull(WHOLE),
        "data_notes": [TEXT],
        "groups": [GROUP],
        "measures": [MEASURE],
    },
)
POLICY = _Record({"number": WHOLE, "numeral": TEXT, "title": TEXT, "initiatives": [INITIATIVE]}, {"description": TEXT})
PLAN = _Record(
    {"code": TEXT, "title": TEXT, "municipality": TEXT, "vision": TEXT, "start_year": YEAR, "end_year": YEAR},
    {
        "adopted_on": _OrNull(DATE),
        "vision_description": TEXT,
        "progress_management": TEXT,
        **dict.fromkeys(PLAN_TEXTS, TEXT),
        **dict.fromkeys(LEVEL_NAMES, TEXT),
        **dict.fromkeys(PLAN_RULES, TEXT),
        "source": TEXT,
        "data_notes": [TEXT],
    },
)
NATIONAL_PRIORITY = _Record({"number": WHOLE, "name": TEXT}, {"content": TEXT})
PLAN_FILE = _Record(
    {"plan": PLAN, "policies": [POLICY]},
    {
        "national_priorities": [NATIONAL_PRIORITY],
        "general_fund": [_Record({"policy": WHOLE, "fiscal_year": YEAR, "amount": WHOLE})],
    },
)


def _key(key):
    """A key as it would be written in the file, kept short and on one line."""
    return json.dumps(key[:40], ensure_ascii=False)


def _first_problem(value, shape, path):
    """Where value first differs from shape, in words; None if it fits."""
    where = path or "ファイル全体"
    if isinstance(shape, _OrNull):
        return None if value is None else _first_problem(value, shape.shape, path)
    if isinstance(shape, _Value):
        if not shape.test(value):
            return f"{where} は{shape.words}にしてください。"
        if isinstance(value, str) and has_control_characters(value):
            return f"{where}: {CONTROL_CHARACTERS_MESSAGE}"
        if isinstance(value, str) and LONE_SURROGATE.search(value):
            return f"{where} に壊れた文字（対になっていないサロゲート）があります。"
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where} はリスト [ … ] にしてください。"
        for index, item in enumerate(value):
            if problem := _first_problem(item, shape[0], f"{path}[{index}]"):
                return problem
        return None
    if isinstance(shape, _Years):
        if not isinstance(value, dict):
            return f"{where} は {{年度: …}} の形にしてください。"
        for key, item in value.items():
            if not (YEAR_KEY.fullmatch(key) and YEAR.test(int(key))):
                period = f"{FISCAL_YEAR_MIN}〜{FISCAL_YEAR_MAX}"
                return f'{where} のキー {_key(key)} は {period} の年度にしてください（例: "2022"）。'
            if problem := _first_problem(item, shape.value, f"{path}.{key}"):
                return problem
        return None
    if not isinstance(value, dict):
        return f"{where} は {{…}} の形にしてください。"
    for key in value:
        if key not in shape.required and key not in shape.optional:
            return f"{where} の {_key(key)} は計画ファイルの項目ではありません。"
    for key in shape.required:
        if key not in value:
            return f"{where} に {_key(key)} がありません。"
    for key, item in value.items():
        inner = f"{path}.{key}" if path else key
        if problem := _first_problem(item, shape.required.get(key) or shape.optional[key], inner):
            return problem
    return None


def check_plan_shape(data):
    """Raise PlanFileError naming the first place where data is not shaped like a plan file."""
    if problem := _first_problem(data, PLAN_FILE, ""):
        raise PlanFileError(f"計画ファイルの形式が正しくありません: {problem}")


def read_plan_file(path):
    """The plan file at path, parsed and its shape checked; PlanFileError (one line) if it is not one."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError as error:
        raise PlanFileError(f"計画ファイル {path} がありません。") from error
    except OSError as error:
        raise PlanFileError(f"計画ファイル {path} を開けませんでした。") from error
    try:
        text = raw.decode("utf-8-sig")  # a BOM from Windows Notepad is fine
    except UnicodeDecodeError as error:
        raise PlanFileError(f"計画ファイルが UTF-8 ではありません（{error.start + 1} バイト目）。") from error
    if not text.strip():
        raise PlanFileError("計画ファイルが空です。")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanFileError(
            f"計画ファイルが JSON として読めません（{error.lineno} 行 {error.colno} 文字目）。"
        ) from error
    except RecursionError as error:
        raise PlanFileError("計画ファイルの入れ子が深すぎます。") from error
    except ValueError as error:  # an integer longer than Python will parse
        raise PlanFileError("計画ファイルに桁数の多すぎる数値があります。") from error
    check_plan_shape(data)
    return data


def _lines(items):
    return "\n".join(items or [])


def _paragraphs(items):
    return "\n\n".join(items or [])


def _decimal(value):
    return None if value is None else Decimal(str(value))


class _Loader:
    def __init__(self):
        self.problems = []

    def save(self, obj, where):
        try:
            obj.full_clean()
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    self.problems.append(f"{where} {field}: {message}")
            return obj
        if isinstance(obj, (KpiTarget, PlannedCost, IndicatorYear)):
            # A year's target or cost is written through the workflow's door, like every other path.
            # The loader runs on the server (no user; the measure page leaves such rows out of its
            # history); no year of a plan being created can be locked yet.
            return workflow.save_plan_row(obj, workflow.SERVER)
        obj.save()
        return obj

    def load(self, data):
        p = data["plan"]
        plan = self.save(
            Plan(
                code=p["code"],
                title=p["title"],
                municipality=p["municipality"],
                adopted_on=datetime.date.fromisoformat(p["adopted_on"]) if p.get("adopted_on") else None,
                vision=p["vision"],
                vision_description=p.get("vision_description", ""),
                progress_management=p.get("progress_management", ""),
                **{name: p.get(name, "") for name in (*PLAN_TEXTS, *LEVEL_NAMES)},
                **{name: p.get(name) or default for name, default in PLAN_RULES.items()},
                start_year=p["start_year"],
                end_year=p["end_year"],
                source=p.get("source", ""),
                data_notes=_paragraphs(p.get("data_notes")),
            ),
            f"計画 {p['code']}",
        )
        if self.problems:
            return plan
        self.national_priorities = {}
        for row in data.get("national_priorities", []):
            priority = self.save(
                NationalPriority(plan=plan, number=row["number"], name=row["name"], content=row.get("content", "")),
                f"国の重点取組事項 {row['number']}",
            )
            if priority.pk is not None:
                self.national_priorities[priority.number] = priority
        policies = {}
        for pol in data["policies"]:
            policy = self.save(
                Policy(
                    plan=plan,
                    number=pol["number"],
                    numeral=pol["numeral"],
                    title=pol["title"],
                    description=pol.get("description", ""),
                ),
                f"基本方針{pol['numeral']}",
            )
            policies[pol["number"]] = policy
            for ini in pol["initiatives"]:
                self.load_initiative(plan, policy, ini)
        for row in data.get("general_fund", []):
            policy = policies.get(row["policy"])
            if policy is None:
                self.problems.append(f"一般財源: 基本方針 {row['policy']} がありません。")
                continue
            self.save(
                GeneralFundPlan(policy=policy, fiscal_year=row["fiscal_year"], amount=row["amount"]),
                f"一般財源 基本方針{policy.numeral} {row['fiscal_year']}",
            )
        return plan

    def tag(self, measure, numbers, where):
        """The national 重点取組事項 the measure serves, by their numbers in this plan."""
        missing = sorted({n for n in numbers if n not in self.national_priorities})
        repeated = sorted({n for n in numbers if numbers.count(n) > 1})
        if missing:
            listed = "、".join(str(n) for n in missing)
            self.problems.append(f"{where} national_priorities: 国の重点取組事項に番号 {listed} がありません。")
        elif repeated:
            listed = "、".join(str(n) for n in repeated)
            self.problems.append(f"{where} national_priorities: 国の重点取組事項の番号 {listed} が重複しています。")
        else:
            measure.national_priorities.set([self.national_priorities[n] for n in numbers])

    def load_initiative(self, plan, policy, ini):
        where = f"基本方針{policy.numeral} 取組{ini['number']}"
        initiative = self.save(
            Initiative(
                policy=policy,
                number=ini["number"],
                title=ini["title"],
                urgency=ini.get("urgency"),
                importance=ini.get("importance"),
                status=ini.get("status", Initiative.Status.ACTIVE),
                consideration=ini.get("consideration", ""),
                future_no=ini.get("future_no"),
                data_notes=_paragraphs(ini.get("data_notes")),
            ),
            where,
        )
        if initiative.pk is None:
            return
        groups = {}
        for g in ini.get("groups", []):
            if not plan.group_level_name:
                self.problems.append(f"{where} groups: 3階層の計画です（第3階層の名称を入れると4階層になります）。")
                break
            group = self.save(
                MeasureGroup(initiative=initiative, number=g["number"], title=g["title"]),
                f"{where} {plan.group_level}{g['number']}",
            )
            if group.pk is not None:
                groups[g["number"]] = group
        for m in ini.get("measures", []):
            self.load_measure(plan, initiative, m, self.group_of(plan, m, groups, where))

    def group_of(self, plan, m, groups, where):
        """The measure's group, which a plan of four levels requires and one of three has none of."""
        number = m.get("group")
        if not plan.group_level_name:
            if number is not None:
                self.problems.append(f"施策 {m['code']} group: 3階層の計画の施策には第3階層を指定できません。")
            return None
        if number is None:
            self.problems.append(f"施策 {m['code']} group: 4階層の計画です。{plan.group_level}の番号を入れてください。")
        elif number not in groups and not self.problems:
            self.problems.append(f"施策 {m['code']} group: {where}に{plan.group_level} {number} がありません。")
        return groups.get(number)

    def load_measure(self, plan, initiative, m, group=None):
        where = f"施策 {m['code']}"
        measure = self.save(
            Measure(
                plan=plan,
                initiative=initiative,
                group=group,
                code=m["code"],
                ordinal=m["ordinal"],
                name=m["name"],
                content=m.get("content", ""),
                goal=m.get("goal", ""),
                effects=_lines(m.get("effects")),
                notes=_paragraphs(m.get("notes")),
                data_notes=_paragraphs(m.get("data_notes")),
            ),
            where,
        )
        if measure.pk is None:
            return
        self.tag(measure, m.get("national_priorities", []), where)
        for order, bar in enumerate(m.get("schedule", []), start=1):
            self.save(
                ScheduleBar(
                    measure=measure,
                    label=bar["label"],
                    start_year=bar["start_year"],
                    end_year=bar["end_year"],
                    order=order,
                    is_inferred=bar.get("inferred", True),
                    basis=bar.get("basis", ""),
                ),
                f"{where} スケジュール{order}",
            )
        kgi = m.get("kgi")
        if kgi:
            self.save(
                Kgi(
                    measure=measure,
                    text=kgi["text"],
                    indicator=kgi.get("indicator", ""),
                    target=_decimal(kgi.get("target")),
                    target_text=kgi.get("target_text", ""),
                    unit=kgi.get("unit", ""),
                    direction=kgi.get("direction", "higher"),
                    is_cumulative=kgi.get("cumulative", False),
                ),
                f"{where} KGI",
            )
        for year, cell in sorted(m.get("kpi", {}).items()):
            cell = cell or {}
            self.save(
                KpiTarget(
                    measure=measure,
                    fiscal_year=int(year),
                    value=_decimal(cell.get("value")),
                    text=cell.get("text", ""),
                    note=cell.get("note", ""),
                ),
                f"{where} KPI {year}",
            )
        for row in m.get("indicators", []):
            self.load_indicator(measure, row, where)
        lcc_notes = m.get("lcc_notes", {})
        for year, amount in sorted(m.get("lcc", {}).items()):
            self.save(
                PlannedCost(measure=measure, fiscal_year=int(year), amount=amount, note=lcc_notes.get(year, "")),
                f"{where} LCC {year}",
            )

    def load_indicator(self, measure, row, where):
        """An indicator besides the KGI, with its yearly targets (written as KPI targets are)."""
        where = f"{where} 評価指標{row['number']}"
        indicator = self.save(
            Indicator(
                measure=measure,
                number=row["number"],
                name=row["name"],
                unit=row.get("unit", ""),
                direction=row.get("direction", "higher"),
                is_cumulative=row.get("cumulative", False),
                target=_decimal(row.get("target")),
                target_text=row.get("target_text", ""),
            ),
            where,
        )
        if indicator.pk is None:
            return
        for year, cell in sorted(row.get("kpi", {}).items()):
            cell = cell or {}
            self.save(
                IndicatorYear(
                    indicator=indicator,
                    measure=measure,
                    fiscal_year=int(year),
                    target_value=_decimal(cell.get("value")),
                    target_text=cell.get("text", ""),
                ),
                f"{where} {year}",
            )


def import_plan(data):
    """Create a plan and everything under it from parsed JSON; all or nothing.

    Raises PlanFileError (one line) if data is not shaped like a plan file, or
    PlanImportError listing every row that failed validation; the database is
    untouched in both cases.
    """
    check_plan_shape(data)
    loader = _Loader()
    with transaction.atomic():
        plan = loader.load(data)
        if loader.problems:
            raise PlanImportError(loader.problems)  # leaving the block rolls everything back
    return plan
