"""公表: what the public page and the open data (CSV, JSON) show of a plan's published year, in one place.

- A year is shown only once the DX推進部門 has published it (kpi.models.Publication).
- Of a published year, a measure's actual, 達成度 and grade appear only when its record is approved;
  the others show the plan's target and 「未公表」. Reopening a record hides it again.
- A 改善方針 appears only when its record is approved and the publication names the measure.
- Nothing of a person is read: no approver, recorder or editor names.

Each record has the fields of the documented schema (kpi/open_data.schema.json), in its order.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from initiatives import permissions
from initiatives.fields import FORMULA_STARTS
from initiatives.fiscal import PERIODS, fiscal_year_label, period_label
from initiatives.models import PLAN_ORDER, Measure

from .achievement import Assessment, assess, grade_meanings, grade_scale
from .facts import measure_facts
from .models import ExternalReview, IndicatorYear, InterimReview, MeasureYear, Publication
from .rollup import share

SCHEMA_PATH = Path(__file__).with_name("open_data.schema.json")
PUBLISHED, NOT_PUBLISHED = "公表", "未公表"
NO_GRADE = "評価なし"


@cache
def schema():
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def record_fields():
    """(name, CSV heading) of a record, in the schema's order."""
    return [(name, spec["title"]) for name, spec in schema()["$defs"]["record"]["properties"].items()]


@dataclass(slots=True)
class GradeCount:
    grade: str
    meaning: str
    count: int
    share: Decimal | None
    colour: str = ""


@dataclass(slots=True)
class PublicRecord:
    data: dict  # the schema's record
    target: str  # the target and the actual as they read on a page ("30件", "25%減", "－")
    actual: str
    sample: bool = False  # the demo's made-up figures (shown as サンプル)
    colour: str = ""  # the grade's colour in the plan's scheme
    others: list = field(default_factory=list)  # its other indicators (as in the JSON's indicators)


@dataclass
class PublicYear:
    """A published year as the public page, the CSV and the JSON show it."""

    publication: Publication
    records: list
    grade_counts: list
    indicators: list = field(default_factory=list)  # the measures' other indicators (schema: indicators)

    @property
    def plan(self):
        return self.publication.plan

    @property
    def has_samples(self):
        return any(r.sample for r in self.records)

    def tree(self):
        """[(policy, [(initiative, [record, …]), …]), …] in plan order, for the page."""
        policies = []
        for record in self.records:
            policy, initiative = record.data["policy"], record.data["initiative"]
            if not policies or policies[-1][0] != policy:
                policies.append((policy, []))
            initiatives = policies[-1][1]
            if not initiatives or initiatives[-1][0] != initiative:
                initiatives.append((initiative, []))
            initiatives[-1][1].append(record)
        return policies

    def document(self):
        """The JSON document (the schema's top level)."""
        plan, publication = self.plan, self.publication
        return {
            "license": {"name": publication.licence, "url": publication.licence_url},
            "plan": {
                "code": plan.code,
                "title": plan.title,
                "municipality": plan.municipality,
                "start_year": plan.start_year,
                "end_year": plan.end_year,
            },
            "fiscal_year": publication.fiscal_year,
            "fiscal_year_label": fiscal_year_label(publication.fiscal_year),
            "period": PERIODS[publication.period],
            "period_label": period_label(publication.fiscal_year, publication.period),
            "published_on": publication.published_on.isoformat(),
            "grade_counts": [
                {"grade": g.grade, "meaning": g.meaning, "count": g.count, "share": _number(g.share)}
                for g in self.grade_counts
            ],
            "records": [{name: _number(value) for name, value in r.data.items()} for r in self.records],
            "indicators": [{name: _number(value) for name, value in i.items()} for i in self.indicators],
        }

    def to_json(self):
        return json.dumps(self.document(), ensure_ascii=False, indent=1).encode("utf-8")

    def heading(self, name, title):
        """A CSV column's heading: the schema's title, or for the plan's levels the plan's own name for them."""
        plan = self.plan
        levels = {
            "policy": plan.policy_level,
            "initiative": plan.initiative_level,
            "group": plan.group_level or title,
            "measure_name": plan.measure_level,
        }
        return levels.get(name, title)

    def to_csv(self):
        """The records as CSV, UTF-8 with a BOM (Excel opens the Japanese text), headed by the schema's titles."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        fields = record_fields()
        writer.writerow([self.heading(name, title) for name, title in fields])
        for record in self.records:
            writer.writerow([_csv_cell(record.data[name]) for name, _ in fields])
        return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value):
    """A record's value as a CSV cell: text a spreadsheet would run as a formula gets a leading "'"
    (initiatives.fields.FORMULA_STARTS; the schema says so). Not defusedcsv, which also marks "%" and "|":
    open data keeps a unit "%" as it is."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _number(value):
    """A Decimal as a JSON number (an int when whole)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _interim_assessments(publication, scale):
    """{measure id: Assessment} of the confirmed 上期 reports of a published 上期 (one query)."""
    confirmed = InterimReview.objects.filter(
        measure__plan=publication.plan, fiscal_year=publication.fiscal_year, status=InterimReview.Status.CONFIRMED
    ).values_list("measure_id", "judged_grade")
    return {
        measure_id: Assessment("judged", grade=grade, low=grade in scale.low, colour=scale.colour(grade))
        for measure_id, grade in confirmed
    }


def public_year(publication):
    """The published period's records and grade counts. A year: the approved records' actuals, 達成度 and
    grades; a 上期 (publication.period "H1"): the confirmed 上期 reports' grades, beside the year's targets.
    Queries: thresholds, the named 改善方針, the facts (2), for a 上期 its reports."""
    plan, year = publication.plan, publication.fiscal_year
    scale = grade_scale(plan)
    improvements = set(publication.public_improvements.values_list("pk", flat=True))
    interim = _interim_assessments(publication, scale) if publication.period else None
    records = []
    counts = dict.fromkeys([grade for grade, _ in scale], 0) | {NO_GRADE: 0, NOT_PUBLISHED: 0}
    for fact in measure_facts(plan, [year], Measure.objects.filter(plan=plan), scale=scale):
        if interim is None:
            approved = fact.status == MeasureYear.Status.APPROVED
            assessment = fact.assessment if approved else None
        else:  # the 上期: its confirmed judgement, and no year-end figures
            assessment = interim.get(fact.measure_id)
            approved = False
        shown_improvement = approved and fact.measure_id in improvements and bool(fact.improvement)
        data = {
            "plan_code": plan.code,
            "fiscal_year": year,
            "period": PERIODS[publication.period],
            "policy": fact.policy_label,
            "initiative": fact.initiative_label,
            "group": fact.group_label,
            "measure_code": fact.code,
            "measure_name": fact.name,
            "department": fact.department_name,
            "indicator": fact.indicator,
            "unit": fact.unit,
            "target_value": fact.target_value,
            "target_text": fact.target_text,
            "result": PUBLISHED if assessment is not None else NOT_PUBLISHED,
            "actual_value": fact.actual if approved else None,
            "actual_text": fact.actual_text if approved else "",
            "achievement_rate": assessment.rate if assessment else None,
            "grade": assessment.grade if assessment else "",
            "improvement": str(MeasureYear.Improvement(fact.improvement).label) if shown_improvement else "",
            "improvement_text": fact.improvement_text if shown_improvement else "",
        }
        actual = str(fact.actual_display()) if approved else ""
        colour = scale.colour(data["grade"])
        records.append(PublicRecord(data, str(fact.target_display()), actual, approved and fact.sample, colour))
        key = (assessment.grade or NO_GRADE) if assessment else NOT_PUBLISHED
        counts[key] = counts.get(key, 0) + 1  # a grade the scheme no longer lists is still counted
    waiting = "上期の進捗が未確定" if publication.period else "承認前"
    meanings = grade_meanings(scale) | {NO_GRADE: "目標なし・実績なし・判定待ち", NOT_PUBLISHED: waiting}
    meanings |= {key: "評価の区分にない評価" for key in counts if key not in meanings}
    total = len(records)
    grade_counts = [GradeCount(key, meanings[key], n, share(n, total), scale.colour(key)) for key, n in counts.items()]
    shown = {r.data["measure_code"] for r in records if r.data["result"] == PUBLISHED and not publication.period}
    indicators = _public_indicators(plan, year, shown, scale)
    by_code = {r.data["measure_code"]: r for r in records}
    for indicator in indicators:
        by_code[indicator["measure_code"]].others.append(indicator)
    return PublicYear(publication, records, grade_counts, indicators)


def _public_indicators(plan, year, shown, scale):
    """The plan's other indicators in the year, each measure's in order: the target always, the actual, 達成度 and
    grade where the measure's result is published (``shown``: their codes; a 上期 shows none). One query."""
    rows = (
        IndicatorYear.objects.filter(measure__plan=plan, fiscal_year=year)
        .select_related("indicator", "measure")
        .order_by("measure__code", "indicator__number")
    )
    out = []
    for row in rows:
        indicator, public = row.indicator, row.measure.code in shown
        assessment = assess(indicator.direction, row.target_value, row.target_text, row.actual_value, "", scale)
        out.append(
            {
                "measure_code": row.measure.code,
                "number": indicator.number,
                "name": indicator.name,
                "unit": indicator.unit,
                "target_value": row.target_value,
                "target_text": row.target_text,
                "result": PUBLISHED if public else NOT_PUBLISHED,
                "actual_value": row.actual_value if public else None,
                "actual_text": row.actual_text if public else "",
                "achievement_rate": assessment.rate if public else None,
                "grade": assessment.grade if public else "",
            }
        )
    return out


def public_reviews(publication):
    """The 外部評価 of the published period marked public (the reviewer as recorded: an outside expert, not staff)."""
    reviews = ExternalReview.objects.filter(plan=publication.plan, fiscal_year=publication.fiscal_year, is_public=True)
    if publication.period:  # a published 上期 shows that half's comments only, not the year-end's
        reviews = reviews.filter(period=publication.period)
    return list(reviews.select_related("measure"))


def publishable_improvements(plan, year):
    """The measures whose approved record of the year has a 改善方針: what a publication may name."""
    return (
        Measure.objects.filter(
            plan=plan,
            years__fiscal_year=year,
            years__status=MeasureYear.Status.APPROVED,
            years__improvement__gt="",
        )
        .select_related("initiative__policy")
        .order_by(*PLAN_ORDER)
    )


CHANGED_MEANWHILE = (
    "この年度の公表は、画面を開いた後に他の人が変更しています。画面を開き直してから、もう一度操作してください。"
)


def _check_seen(publication, seen_version):
    """The publication as the page showed it (0: none yet), else nothing is written."""
    if (publication.version if publication else 0) != seen_version:
        raise ValidationError(CHANGED_MEANWHILE, code="changed_meanwhile")


def publishable_periods(plan):
    """What of a year may be published: the year, and the 上期 of a plan reviewed every half year."""
    return ["", "H1"] if plan.half_yearly else [""]


@transaction.atomic
def publish(plan, year, user, seen_version, licence, licence_url, improvements, today=None, period=""):
    """Publish (or publish again, with other choices) a plan's year, or its 上期 (``period`` "H1").
    ``improvements``: measures whose 改善方針 is public; only those publishable_improvements allows are kept
    (none for a 上期)."""
    permissions.require(user.has_perm(permissions.APPROVE))
    plan.check_fiscal_year(year)
    if period not in publishable_periods(plan):
        raise ValidationError("この計画は上期を公表できません（半期ごとに確認する計画ではありません）。")
    publication = Publication.objects.select_for_update().filter(plan=plan, fiscal_year=year, period=period).first()
    _check_seen(publication, seen_version)
    if publication is None:
        publication = Publication(
            plan=plan, fiscal_year=year, period=period, published_on=today or timezone.localdate()
        )
    else:
        publication.version += 1  # on, never back to 1: a page that saw an earlier publication stays stale
        if publication.withdrawn:
            publication.withdrawn, publication.published_on = False, today or timezone.localdate()
    publication.licence, publication.licence_url, publication.published_by = licence, licence_url, user
    publication._history_user, publication._change_reason = user, "公表"
    publication.full_clean()
    try:
        with transaction.atomic():
            publication.save()
    except IntegrityError:  # published by someone else between the check and the write
        raise ValidationError(CHANGED_MEANWHILE, code="changed_meanwhile") from None
    allowed = publishable_improvements(plan, year).filter(pk__in=[m.pk for m in improvements])
    publication.public_improvements.set(allowed if not period else [])
    return publication


@transaction.atomic
def withdraw(plan, year, user, seen_version, period=""):
    """Take a published year (or 上期) off the public page and the open data."""
    permissions.require(user.has_perm(permissions.APPROVE))
    publication = Publication.objects.select_for_update().filter(plan=plan, fiscal_year=year, period=period).first()
    _check_seen(publication, seen_version)
    if publication is None or publication.withdrawn:
        return
    publication._history_user, publication._change_reason = user, "公表の取り下げ"
    publication.withdrawn, publication.published_by = True, user
    publication.version += 1
    publication.save()
    publication.public_improvements.clear()
