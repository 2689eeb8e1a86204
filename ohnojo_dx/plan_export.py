"""A plan in the database → the plan-file shape (fixtures/README.md).

The inverse of plan_loader.import_plan: plan_to_data(import_plan(data)) gives data back, so the
same dict serves the JSON download, the plan workbook (plan_workbook.py) and a round trip of both.
"""

import json
from collections import defaultdict
from decimal import Decimal

from budget.models import GeneralFundPlan, PlannedCost
from initiatives.models import (
    Initiative,
    Measure,
    MeasureGroup,
    NationalPriority,
    Policy,
    ScheduleBar,
    lines,
    paragraphs,
)
from kpi.models import Indicator, IndicatorYear, KpiTarget, no_target

from .plan_loader import LEVEL_NAMES, PLAN_RULES, PLAN_TEXTS


class PlanExportError(Exception):
    """The plan holds something the plan-file format cannot say; the message is for the user."""


def json_number(value):
    """A Decimal as the plan file writes it: 112, not 112.00; 72.5 as a float."""
    if value is None:
        return None
    if not isinstance(value, Decimal):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def _grouped(rows, key):
    groups = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


def _measure_data(measure, bars, targets, costs, priorities, indicators=(), indicator_years=None):
    kgi = getattr(measure, "kgi", None)
    data = {
        "code": measure.code,
        "ordinal": measure.ordinal,
        "name": measure.name,
        "content": measure.content,
        "goal": measure.goal,
        "effects": lines(measure.effects),
        "notes": paragraphs(measure.notes),
        "data_notes": paragraphs(measure.data_notes),
        "schedule": [
            {
                "label": bar.label,
                "start_year": bar.start_year,
                "end_year": bar.end_year,
                "inferred": bar.is_inferred,
                "basis": bar.basis,
            }
            for bar in bars
        ],
        "kgi": kgi
        and {
            "text": kgi.text,
            "indicator": kgi.indicator,
            "target": json_number(kgi.target),
            "target_text": kgi.target_text,
            "unit": kgi.unit,
            "direction": kgi.direction,
            "cumulative": kgi.is_cumulative,
        },
        # The plan's "－" (no target that year) is null, as in the file; a target is {value, text, note}.
        "kpi": {
            str(t.fiscal_year): None
            if t.is_none and not t.note
            else {"value": json_number(t.value), "text": t.text, "note": t.note}
            for t in targets
        },
        "lcc": {str(c.fiscal_year): c.amount for c in costs},
    }
    notes = {str(c.fiscal_year): c.note for c in costs if c.note}
    if notes:
        data["lcc_notes"] = notes
    if priorities:
        data["national_priorities"] = sorted(priorities)
    if measure.group_id:
        data["group"] = measure.group.number
    if indicators:
        data["indicators"] = [_indicator_data(i, indicator_years[i.pk]) for i in indicators]
    return data


def _indicator_data(indicator, years):
    return {
        "number": indicator.number,
        "name": indicator.name,
        "unit": indicator.unit,
        "direction": indicator.direction,
        "cumulative": indicator.is_cumulative,
        "target": json_number(indicator.target),
        "target_text": indicator.target_text,
        "kpi": {
            str(y.fiscal_year): None
            if no_target(y.target_value, y.target_text)
            else {"value": json_number(y.target_value), "text": y.target_text}
            for y in years
        },
    }


def plan_to_data(plan):
    """The whole plan as the plan file holds it, in thirteen queries whatever its size.

    Raises PlanExportError if a 基本方針's 一般財源 is recorded per measure: the file holds it per
    基本方針 only (図表2-4-1), and adding the rows up would change what was entered.
    """
    policies = list(Policy.objects.filter(plan=plan).order_by("number"))
    initiatives = _grouped(Initiative.objects.filter(policy__plan=plan).order_by("number", "pk"), lambda i: i.policy_id)
    measures = _grouped(
        Measure.objects.filter(plan=plan).select_related("kgi", "group").order_by("ordinal", "pk"),
        lambda m: m.initiative_id,
    )
    groups = _grouped(
        MeasureGroup.objects.filter(initiative__policy__plan=plan).order_by("number"), lambda g: g.initiative_id
    )
    indicators = _grouped(Indicator.objects.filter(measure__plan=plan).order_by("number"), lambda i: i.measure_id)
    indicator_years = _grouped(
        IndicatorYear.objects.filter(measure__plan=plan).order_by("fiscal_year"), lambda y: y.indicator_id
    )
    bars = _grouped(ScheduleBar.objects.filter(measure__plan=plan).order_by("order", "pk"), lambda b: b.measure_id)
    targets = _grouped(KpiTarget.objects.filter(measure__plan=plan).order_by("fiscal_year"), lambda t: t.measure_id)
    costs = _grouped(PlannedCost.objects.filter(measure__plan=plan).order_by("fiscal_year"), lambda c: c.measure_id)
    priorities = list(NationalPriority.objects.filter(plan=plan).order_by("number"))
    tags = defaultdict(list)
    for measure_id, number in Measure.national_priorities.through.objects.filter(measure__plan=plan).values_list(
        "measure_id", "nationalpriority__number"
    ):
        tags[measure_id].append(number)
    funds = list(
        GeneralFundPlan.objects.filter(policy__plan=plan)
        .select_related("policy")
        .order_by("policy__number", "fiscal_year", "pk")
    )
    if any(f.measure_id for f in funds):
        raise PlanExportError(
            "この計画には施策別の「うち一般財源」があり、計画ファイル（基本方針別）の形式では書き出せません。"
        )

    def initiative_data(ini):
        return {
            "number": ini.number,
            "title": ini.title,
            "urgency": ini.urgency,
            "importance": ini.importance,
            "status": ini.status,
            "consideration": ini.consideration,
            "future_no": ini.future_no,
            "data_notes": paragraphs(ini.data_notes),
            **({"groups": [{"number": g.number, "title": g.title} for g in groups[ini.pk]]} if groups[ini.pk] else {}),
            "measures": [
                _measure_data(m, bars[m.pk], targets[m.pk], costs[m.pk], tags[m.pk], indicators[m.pk], indicator_years)
                for m in measures[ini.pk]
            ],
        }

    data = {
        "plan": {
            "code": plan.code,
            "title": plan.title,
            "municipality": plan.municipality,
            "adopted_on": plan.adopted_on.isoformat() if plan.adopted_on else None,
            "vision": plan.vision,
            "vision_description": plan.vision_description,
            "progress_management": plan.progress_management,
            **{name: getattr(plan, name) for name in PLAN_TEXTS},
            **{name: getattr(plan, name) for name in LEVEL_NAMES if getattr(plan, name)},
            **{name: getattr(plan, name) for name, default in PLAN_RULES.items() if getattr(plan, name) != default},
            "start_year": plan.start_year,
            "end_year": plan.end_year,
            "source": plan.source,
            "data_notes": paragraphs(plan.data_notes),
        }
    }
    if priorities:
        data["national_priorities"] = [{"number": p.number, "name": p.name, "content": p.content} for p in priorities]
    data["policies"] = [
        {
            "number": policy.number,
            "numeral": policy.numeral,
            "title": policy.title,
            "description": policy.description,
            "initiatives": [initiative_data(ini) for ini in initiatives[policy.pk]],
        }
        for policy in policies
    ]
    data["general_fund"] = [
        {"policy": f.policy.number, "fiscal_year": f.fiscal_year, "amount": f.amount} for f in funds
    ]
    return data


def plan_to_json(plan):
    """The plan file as bytes: UTF-8, the characters as they are, indented like the fixture."""
    return (json.dumps(plan_to_data(plan), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
