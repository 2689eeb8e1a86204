"""Loading a whole plan from its JSON file (fixtures/README.md describes the shape).

The same format serves every municipality's plan. A load is all or nothing:
every row is validated like a form would (full_clean, so the Japanese messages
of the models apply) inside one transaction.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from budget.models import GeneralFundPlan, PlannedCost
from kpi.models import Kgi, KpiTarget

from .models import Initiative, Measure, Plan, Policy, ScheduleBar


class PlanImportError(Exception):
    """Raised with every problem found, each prefixed with where it is."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("\n".join(problems))


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
                start_year=p["start_year"],
                end_year=p["end_year"],
                source=p.get("source", ""),
                data_notes=_paragraphs(p.get("data_notes")),
            ),
            f"計画 {p['code']}",
        )
        if self.problems:
            return plan
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

    def load_initiative(self, plan, policy, ini):
        where = f"基本方針{policy.numeral} 取組{ini['number']}"
        initiative = self.save(
            Initiative(
                policy=policy,
                number=ini["number"],
                title=ini["title"],
                urgency=ini.get("urgency"),
                importance=ini.get("importance"),
                is_priority=ini.get("is_priority", False),
                priority_inferred=ini.get("priority_inferred", False),
                status=ini.get("status", Initiative.Status.ACTIVE),
                consideration=ini.get("consideration", ""),
                future_no=ini.get("future_no"),
                data_notes=_paragraphs(ini.get("data_notes")),
            ),
            where,
        )
        if initiative.pk is None:
            return
        for m in ini.get("measures", []):
            self.load_measure(plan, initiative, m)

    def load_measure(self, plan, initiative, m):
        where = f"施策 {m['code']}"
        measure = self.save(
            Measure(
                plan=plan,
                initiative=initiative,
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
        lcc_notes = m.get("lcc_notes", {})
        for year, amount in sorted(m.get("lcc", {}).items()):
            self.save(
                PlannedCost(measure=measure, fiscal_year=int(year), amount=amount, note=lcc_notes.get(year, "")),
                f"{where} LCC {year}",
            )


def import_plan(data):
    """Create a plan and everything under it from parsed JSON; all or nothing.

    Raises PlanImportError listing every row that failed validation, and
    leaves the database untouched in that case.
    """
    loader = _Loader()
    with transaction.atomic():
        plan = loader.load(data)
        if loader.problems:
            raise PlanImportError(loader.problems)  # leaving the block rolls everything back
    return plan
