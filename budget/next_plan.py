"""The next plan (次期計画), drafted from this one's 計画期間の総括.

At the end of a plan the DX推進部門 records, measure by measure, what it becomes in the next plan
(FinalEvaluation.carry_over: 継続・統合・完了・廃止). ``draft_next_plan`` turns that into a draft: a new plan
with the same 基本方針, 取組, national 重点取組事項 and grading thresholds, and a copy of each measure marked
継続 (its content, goal, effects, department and KGI), linked back to it (Measure.predecessor, and
Plan.drafted_from for the plan). Nothing of the old plan is written. The new period's targets, costs and
schedule are the next plan's own, so none are copied; the new plan's and measures' history names who drafted
them and from which plan.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history

from initiatives.models import Initiative, Measure, MeasureGroup, NationalPriority, Plan
from kpi.models import GradeThreshold, Kgi

from .models import FinalEvaluation


def continuing(plan):
    """The plan's measures whose 総括 carries them over as 継続, in plan order (a queryset)."""
    return Measure.objects.filter(plan=plan, final_evaluation__carry_over=FinalEvaluation.CarryOver.CONTINUE)


def _fields(obj):
    """A row's own stored fields (no key, no links, no generated columns), to create its copy with."""
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if not f.primary_key and not f.generated and not f.is_relation
    }


def _copy(obj, **changes):
    """An unsaved copy of a row, with ``changes`` (its links, mostly)."""
    return type(obj)(**{**_fields(obj), **changes})


def _saved(obj, **changes):
    """A saved copy of a row (a plan's few 基本方針, 取組 and 重点取組事項)."""
    copy = _copy(obj, **changes)
    copy.save()
    return copy


def draft_next_plan(plan, user, *, code, title, start_year, end_year):
    """Draft the next plan from ``plan`` (see the module's text); returns the new Plan. All or nothing:
    a code already in use, a period that does not start after the plan's start, or a plan already drafted
    from raises ValidationError, and nothing is written."""
    reason = f"次期計画の下書き（{plan.title}から）"
    new = _copy(plan, code=code, title=title, start_year=start_year, end_year=end_year, adopted_on=None)
    new.source, new.data_notes, new.drafted_from = "", "", plan
    errors = {}
    if start_year <= plan.start_year:
        errors["start_year"] = ["次期計画の開始年度は、元の計画の開始年度より後にしてください。"]
    drafted = plan.next_plans.order_by("pk").first()
    if drafted is not None:  # one draft per plan: each measure has at most one successor
        errors[NON_FIELD_ERRORS] = [
            f"この計画からは、次期計画の下書き「{drafted.title}」（{drafted.code}）を作成済みです。"
        ]
    try:
        new.full_clean()  # the code's uniqueness and the period's order, in Japanese
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            _draft(plan, new, user, reason)
    except IntegrityError as error:
        if Plan.objects.filter(code=code).exists():  # the same code, taken by someone else a moment ago
            message = "この計画コードは、いま別の計画に使われました。別のコードにしてください。"
            raise ValidationError({"code": [message]}) from error
        raise
    return new


def _draft(plan, new, user, reason):
    """Write the draft's rows (in the caller's transaction): the plan, its tree, the continuing measures."""
    new._history_user, new._change_reason = user, reason
    new.save()
    GradeThreshold.objects.bulk_create(
        _copy(t, plan=new) for t in GradeThreshold.objects.filter(plan=plan).order_by("pk")
    )
    priorities = {p.pk: _saved(p, plan=new) for p in NationalPriority.objects.filter(plan=plan).order_by("number")}
    policies = {p.pk: _saved(p, plan=new) for p in plan.policies.order_by("number")}
    initiatives = {
        i.pk: _saved(i, policy=policies[i.policy_id])
        for i in Initiative.objects.filter(policy__plan=plan).order_by("policy__number", "number")
    }
    groups = {  # the third level of a plan of four levels
        g.pk: _saved(g, initiative=initiatives[g.initiative_id])
        for g in MeasureGroup.objects.filter(initiative__policy__plan=plan).order_by("initiative", "number")
    }
    old_measures = list(continuing(plan).select_related("kgi").prefetch_related("national_priorities"))
    drafts = [
        _copy(
            m,
            plan=new,
            predecessor=m,
            initiative=initiatives[m.initiative_id],
            group=groups.get(m.group_id),
            department_id=m.department_id,
        )
        for m in old_measures
    ]
    bulk_create_with_history(
        drafts,
        Measure,
        default_user=user,
        default_change_reason=reason,
    )
    copies = {m.predecessor_id: m for m in Measure.objects.filter(plan=new)}  # with their keys, on any database
    Measure.national_priorities.through.objects.bulk_create(
        Measure.national_priorities.through(measure=copies[m.pk], nationalpriority=priorities[p.pk])
        for m in old_measures
        for p in m.national_priorities.all()
    )
    kgis = [_copy(m.kgi, measure=copies[m.pk]) for m in old_measures if getattr(m, "kgi", None) is not None]
    bulk_create_with_history(kgis, Kgi, default_user=user, default_change_reason=reason)
