"""The one door for every write of a PDCA record and of an approved year's plan figures.

States: 入力中 → 提出済み → 承認済み (the year locks) or 差戻し; a locked year opens again only by
``reopen`` with a reason. Every function here checks, in this order, the role (initiatives.permissions),
the lock, and the version the user saw, then writes with a history reason. The entry form, the
department grid, bulk approval, the admin, the plan-file loader, the actuals import (save_many), the
API, the budget chain's stages (save_year_figure), the hearings and the 総括 (save_review) and the plan
revisions (revise_plan_row) call these functions; nothing else writes these rows. The database refuses
the same writes too (kpi/db.py, budget/apps.py: triggers), so a path that forgets the door fails loudly.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from initiatives.fiscal import fiscal_year_label
from initiatives.models import RevisionChange
from initiatives.permissions import ADMIN, APPROVE, ENTER_MEASURE

from .models import BarStatus, IndicatorYear, InterimReview, MeasureYear

Status = MeasureYear.Status


class WorkflowError(Exception):
    """A step that cannot be taken now; the message is for the user."""


class NotAllowed(WorkflowError):
    def __init__(self):
        super().__init__("この操作を行う権限がありません。")


class Conflict(WorkflowError):
    def __init__(self):
        super().__init__(
            "保存できませんでした。この施策・年度は、あなたが画面を開いた後に他の人が更新しています。"
            "画面を開き直して最新の内容を確認してから、もう一度入力してください。"
        )


class Locked(WorkflowError):
    def __init__(self, interim=False):
        if interim:
            super().__init__("この上期の進捗は確定しています。変更するにはDX推進部門が再開してください。")
        else:
            super().__init__("この年度は承認済みでロックされています。変更するにはDX推進部門が再開してください。")


# --- The lock -------------------------------------------------------------------------------------


def locked_years(measure_ids, years=None):
    """{(measure id, year)} of the approved, hence locked, measure-years among these measures."""
    rows = MeasureYear.objects.filter(measure_id__in=measure_ids, status=Status.APPROVED)
    if years is not None:
        rows = rows.filter(fiscal_year__in=years)
    return set(rows.values_list("measure_id", "fiscal_year"))


def check_years_open(places):
    """Raise the locked-year error if any (measure id, year) of ``places`` is locked."""
    places = {(m, y) for m, y in places if m is not None and y is not None}
    locked = locked_years({m for m, _ in places}, {y for _, y in places}) & places if places else set()
    if locked:
        raise year_locked_error(min(year for _, year in locked))


def year_locked_error(year):
    """The message shown where a locked year's target or cost was changed."""
    return ValidationError(
        "%(year)s は承認済みのため、目標・経費を変更できません（DX推進部門が再開してから変更してください）。",
        code="year_locked",
        params={"year": fiscal_year_label(year)},
    )


# --- Plan figures of a year (KPI targets, planned costs) -------------------------------------------


def _check_plan_row_open(row):
    """A target or cost row may change only while neither where it was nor where it goes is a locked year.

    The measure-years involved are locked (SELECT … FOR UPDATE where the database has it) until the
    transaction ends, so an approval cannot slip in between this check and the write.
    """
    places = {(row.measure_id, row.fiscal_year)}
    if row.pk:
        places.update(type(row).objects.filter(pk=row.pk).values_list("measure_id", "fiscal_year"))
    records = MeasureYear.objects.select_for_update().filter(measure_id__in={m for m, _ in places})
    list(records.filter(fiscal_year__in={y for _, y in places}).values_list("pk"))
    check_years_open(places)


def _require(user, perm, obj=None):
    if user is None or not user.has_perm(perm, obj):
        raise NotAllowed()


class _Server:
    """Who writes when nobody signs in: the plan-file loader, run by an operator on the server."""

    def __repr__(self):
        return "SERVER"


SERVER = _Server()


def _require_admin(user):
    if user is not SERVER:
        _require(user, ADMIN)


@transaction.atomic
def save_plan_row(row, user, reason=""):
    """Save a year's KPI target or planned cost unless its year is locked (ValidationError if so)."""
    _require_admin(user)
    _check_plan_row_open(row)
    row._change_reason = reason
    row.save()
    return row


@transaction.atomic
def delete_plan_row(row, user, reason=""):
    _require_admin(user)
    _check_plan_row_open(row)
    row._change_reason = reason
    row.delete()


def plan_row_snapshot(row, fields):
    """A plan row's fields as a revision keeps them (and a revision page shows them): {field: text or
    None}, a decimal at its field's places (45 typed reads "45.00" as stored), so that an unchanged value
    is never a change. None for no row."""
    if row is None:
        return None
    out = {}
    for name in fields:
        value = getattr(row, name)
        places = getattr(row._meta.get_field(name), "decimal_places", None)
        if isinstance(value, Decimal) and places is not None:
            value = value.quantize(Decimal(1).scaleb(-places))
        out[name] = None if value is None else str(value)
    return out


@transaction.atomic
def revise_plan_row(row, user, revision, fields, seen):
    """Change a year's KPI target or LCC (edited in memory, validated by the caller) as part of a plan
    revision: the role (ADMIN), the lock of its year, and the values the user saw (``seen``: the
    row's ``fields`` as the form showed them, None for a row that was not there); then the row is saved
    with the revision as its history reason and the change is kept as a RevisionChange (before/after).
    A row left as the page showed it is not written (and needs no open year). Returns the
    RevisionChange, or None when nothing changed."""
    _require_admin(user)
    after = plan_row_snapshot(row, fields)
    if after == seen:
        return None  # not changed on this page (whatever is stored stays as it is)
    _check_plan_row_open(row)
    rows = type(row)._default_manager.select_for_update()  # held to the end: no change slips in between
    stored = rows.filter(pk=row.pk).first() if row.pk else None
    before = plan_row_snapshot(stored, fields)
    if before != seen:
        raise Conflict()
    row._change_reason = f"見直し: {revision}（{revision.decided_by}）{revision.reason}"[:100]
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as error:  # the same year's row created by someone else meanwhile
        raise Conflict() from error
    return RevisionChange.objects.create(
        revision=revision,
        measure_id=row.measure_id,
        fiscal_year=row.fiscal_year,
        kind=REVISION_KINDS[type(row)._meta.label],
        before=before,
        after=after,
    )


REVISION_KINDS = {"kpi.KpiTarget": "kpi_target", "budget.PlannedCost": "planned_cost"}


# --- A measure-year's figures of a higher app (the budget's 実施計画額, 予算要求額, 査定額) ------------


@transaction.atomic
def save_year_figure(row, user, seen_version, reason, sample=False):
    """Save a versioned row of a measure-year (``row.measure``, ``row.fiscal_year``) as edited in memory
    and validated by the caller: the row's own ``entry_permission`` on the measure (the row says who may
    write it, not the caller), then the lock of its year (held until the transaction ends, as for targets
    and costs), then the version seen; history with ``reason``.
    ``sample``: the demo's made-up figures; anything a person enters is real data."""
    _require(user, row.entry_permission, row.measure)
    try:
        _check_plan_row_open(row)
    except ValidationError as error:
        raise Locked() from error
    row.is_sample = sample
    return _write(row, seen_version, reason)


@transaction.atomic
def save_review(row, user, seen_version, reason):
    """Save a DX推進部門 row about a plan-year that the year's approval does not lock (a 予算ヒアリング's
    date, its 確認・評価 and decision for a measure): the role (APPROVE), then the version seen."""
    _require(user, APPROVE)
    return _write(row, seen_version, reason)


# --- The PDCA record --------------------------------------------------------------------------------


def _write(record, seen_version, reason):
    """Insert or update `record` (a MeasureYear, or any row with a ``version``) only if it is still as
    the user saw it.

    ``record`` was read in this request at ``record.version``: the user must have seen that very
    version, and nobody may have saved it since it was read (the claim below), or the save is refused.
    """
    record._change_reason = reason
    if record.pk is None:
        if seen_version != 0:
            raise Conflict()
        record.version = 1
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError as error:  # someone created the same measure-year meanwhile
            raise Conflict() from error
        return record
    if seen_version != record.version:
        raise Conflict()
    rows = type(record)._default_manager
    claimed = rows.filter(pk=record.pk, version=record.version).update(version=record.version + 1)
    if not claimed:
        raise Conflict()
    record.version += 1
    record.save()
    return record


def _save_bar_states(record, states):
    if not states:
        return
    existing = {s.bar_id: s for s in record.bar_statuses.all()}
    for bar, state in states.items():
        current = existing.get(bar.pk)
        if not state:
            if current:
                current.delete()
        elif current is None:
            BarStatus.objects.create(measure_year=record, bar=bar, state=state)
        elif current.state != state:
            current.state = state
            current.save()


def _check_submittable(record):
    if not record.has_actuals:
        raise WorkflowError("実績（KPI実績値・決算額・実施内容のいずれか）を入力してから提出してください。")
    if not record.judged_grade and not record.measure.plan.grades_by_rate:
        raise WorkflowError("進捗の判定（評価）を選び、理由を書いてから提出してください。")


@transaction.atomic
def save_entry(form, user, submit=False, reason=None):
    """Save a validated entry form (MeasureYearForm or a grid row), its bar statuses and its other indicators'
    actuals; optionally submit."""
    seen = form.cleaned_data["seen_version"]
    indicators = form.indicator_actuals() if form.indicators else None
    return save_record(form.instance, user, seen, form.bar_states(), submit, reason, indicator_actuals=indicators)


@transaction.atomic
def save_record(
    record, user, seen_version, bar_states=None, submit=False, reason=None, sample=False, indicator_actuals=None
):
    """Save a measure-year's actuals, evaluation and 改善方針 as edited in memory (validated by the caller).

    ``indicator_actuals``: {Indicator: (number or None, text)}, the year's actuals of the measure's other
    indicators, written with the record (kpi.models.IndicatorYear). ``sample``: the demo's made-up figures
    (manage.py load_demo); anything a person enters is real data.
    """
    _require(user, ENTER_MEASURE, record.measure)
    if record.is_locked:
        raise Locked()
    if submit:
        _check_submittable(record)
    before = (record.status, record.submitted_at, record.is_sample)
    record.is_sample = sample
    if submit:
        record.status = Status.SUBMITTED
        record.submitted_at = timezone.now()
    elif record.awaits_approval:
        # A change after submitting must be submitted again: approval never covers unseen figures.
        record.status = Status.DRAFT
    try:
        _write(record, seen_version, reason or ("提出" if submit else "入力"))
    except WorkflowError:
        record.status, record.submitted_at, record.is_sample = before  # the page shows what is stored
        raise
    _save_bar_states(record, bar_states or {})
    _save_indicator_actuals(record, indicator_actuals or {}, reason or ("提出" if submit else "入力"))
    return record


def _save_indicator_actuals(record, actuals, reason):
    """The year's actuals of the measure's other indicators (under the record's version, claimed above)."""
    for indicator, (value, text) in actuals.items():
        if indicator.measure_id != record.measure_id:
            raise WorkflowError("別の施策の評価指標です。")
        row = IndicatorYear.objects.filter(indicator=indicator, fiscal_year=record.fiscal_year).first()
        row = row or IndicatorYear(indicator=indicator, measure_id=record.measure_id, fiscal_year=record.fiscal_year)
        if row.pk and (row.actual_value, row.actual_text) == (value, text):
            continue
        row.actual_value, row.actual_text = value, text
        row._change_reason = reason
        row.save()


class RowError(WorkflowError):
    """A row of a grid or an import that could not be saved; everything is rolled back."""

    def __init__(self, form, error):
        self.form, self.error = form, error
        super().__init__(str(error))


@transaction.atomic
def save_rows(forms, user, reason=None):
    """Save every changed row (a department grid, an import), or none of them."""
    for form in forms:
        try:
            save_entry(form, user, reason=reason)
        except WorkflowError as error:
            raise RowError(form, error) from error


class RowsRefused(WorkflowError):
    """Rows of a batch that could not be saved, each with its reason: [(record, WorkflowError)].

    Nothing of the batch is written."""

    def __init__(self, refused):
        self.refused = refused
        super().__init__(str(refused[0][1]))


BATCH = 500  # rows a statement (the claim, the update, the history insert)


@transaction.atomic
def save_many(changes, user, reason):
    """Save many measure-years' actuals as edited in memory (an import), all or none.

    ``changes``: [(record, seen_version)], each record read in this request and validated by the
    caller, with no schedule progress. The same checks as ``save_record``, row by row (the role, the
    lock, the version seen), and the same claim on the version; but the claim and the history insert
    are one statement per BATCH rows, and the update one prepared statement for all. Every refused row is named
    (RowsRefused) and nothing is written.
    """
    refused, updates, inserts = [], [], []
    for record, seen_version in changes:
        try:
            _require(user, ENTER_MEASURE, record.measure)
            if record.is_locked:
                raise Locked()
            if seen_version != (record.version if record.pk else 0):
                raise Conflict()
        except WorkflowError as error:
            refused.append((record, error))
            continue
        record.is_sample = False
        if record.awaits_approval:
            record.status = Status.DRAFT  # as in save_record: approval never covers unseen figures
        (updates if record.pk else inserts).append(record)
    if not refused:
        refused = _claim_many(updates) + _taken_meanwhile(inserts)
    if refused:
        raise RowsRefused(refused)
    if updates:
        _update_rows(updates, [*MeasureYear.ENTRY_FIELDS, "status", "is_sample"])
        MeasureYear.history.bulk_history_create(
            updates, batch_size=BATCH, update=True, default_user=user, default_change_reason=reason
        )
    if inserts:
        for record in inserts:
            record.version = 1
        try:
            with transaction.atomic():
                bulk_create_with_history(
                    inserts, MeasureYear, batch_size=BATCH, default_user=user, default_change_reason=reason
                )
        except IntegrityError as error:  # created by someone else after _taken_meanwhile looked
            raise RowsRefused([(inserts[0], Conflict())]) from error
    return len(updates) + len(inserts)


def _update_rows(records, names):
    """Write these fields of every record: one UPDATE statement, executed for each row (executemany).

    Django's bulk_update would build a CASE expression per field per row, about 1 ms a row; this is
    the same UPDATE a save() sends, prepared once. The rows were claimed by _claim_many."""
    meta = MeasureYear._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(meta.db_table), ", ".join(f"{quote(f.column)} = %s" for f in fields), quote(meta.pk.column)
    )
    rows = ([f.get_db_prep_save(getattr(r, f.attname), connection) for f in fields] + [r.pk] for r in records)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _claim_many(records):
    """Claim each record's next version, as _write does one at a time; the rows refused.

    One UPDATE and one SELECT per BATCH: the UPDATE takes the next version of every open row of the
    batch (and holds those rows until the transaction ends); the SELECT shows which rows had been
    saved by someone else since they were read (their version is not the next one), or approved.
    """
    refused = []
    for start in range(0, len(records), BATCH):
        batch = {r.pk: r for r in records[start : start + BATCH]}
        open_rows = MeasureYear.objects.filter(pk__in=batch).exclude(status=Status.APPROVED)
        open_rows.update(version=F("version") + 1)
        now = MeasureYear.objects.filter(pk__in=batch).values_list("pk", "version", "status")
        for pk, version, status in now:
            record = batch.pop(pk)
            if status == Status.APPROVED:
                refused.append((record, Locked()))
            elif version != record.version + 1:
                refused.append((record, Conflict()))
            else:
                record.version = version
        refused.extend((record, Conflict()) for record in batch.values())  # deleted meanwhile
    return refused


def _taken_meanwhile(records):
    """New records whose measure-year someone else has created since the caller read it."""
    if not records:
        return []
    wanted = {(r.measure_id, r.fiscal_year): r for r in records}
    taken = set()
    measure_ids = list({m for m, _ in wanted})
    for start in range(0, len(measure_ids), BATCH):
        existing = MeasureYear.objects.filter(
            measure_id__in=measure_ids[start : start + BATCH], fiscal_year__in={y for _, y in wanted}
        )
        taken.update(existing.values_list("measure_id", "fiscal_year"))
    return [(wanted[place], Conflict()) for place in sorted(taken & set(wanted))]


@transaction.atomic
def approve(record, user, seen_version, comment=""):
    _require(user, APPROVE)
    if not record.awaits_approval:
        raise WorkflowError("提出済みの実績だけを承認できます。")
    record.status = Status.APPROVED
    record.approved_at = timezone.now()
    record.approved_by = user
    record.return_comment = ""
    return _write(record, seen_version, "承認")


@transaction.atomic
def approve_many(records, user, seen_versions):
    """Bulk approval of the records as the approver saw them, or none if any changed meanwhile."""
    for record in records:
        approve(record, user, seen_versions.get(record.pk, -1))
    return len(records)


@transaction.atomic
def return_for_revision(record, user, seen_version, comment):
    _require(user, APPROVE)
    if not record.awaits_approval:
        raise WorkflowError("提出済みの実績だけを差し戻せます。")
    record.status = Status.RETURNED
    record.return_comment = comment
    return _write(record, seen_version, f"差戻し: {comment}")


@transaction.atomic
def reopen(record, user, seen_version, reason):
    """Unlock an approved year: an explicit step, kept in the history with its reason."""
    _require(user, APPROVE)
    if not record.is_locked:
        raise WorkflowError("承認済みの年度だけを再開できます。")
    record.status = Status.DRAFT
    record.approved_at = None
    record.approved_by = None
    return _write(record, seen_version, f"再開: {reason}")


# --- The 上期 report of a plan reviewed every half year (InterimReview) ----------------------------


def _check_interim_open(review):
    """A 上期 report stays as it is once confirmed, and once its year is approved (locked)."""
    if review.is_confirmed:
        raise Locked(interim=True)
    try:
        _check_plan_row_open(review)  # the year's approval, held until the transaction ends
    except ValidationError as error:
        raise Locked() from error


@transaction.atomic
def save_interim(review, user, seen_version, submit=False, sample=False):
    """Save (and with ``submit``, submit) the 担当課's 上期 report as edited in memory and validated by the caller."""
    _require(user, ENTER_MEASURE, review.measure)
    _check_interim_open(review)
    if submit:
        _check_interim_submittable(review)
        review.status = InterimReview.Status.SUBMITTED
        review.submitted_at = timezone.now()
    else:  # a change after submitting is submitted again: a confirmation never covers what it did not see
        review.status = InterimReview.Status.DRAFT
    review.is_sample = sample
    return _write(review, seen_version, "上期の進捗の提出" if submit else "上期の進捗")


def _check_interim_submittable(review):
    if not review.judged_grade or not review.reason.strip():
        raise WorkflowError("進捗の判定を選び、判定の理由を書いてから提出してください。")


@transaction.atomic
def confirm_interim(review, user, seen_version):
    """The DX推進部門 confirms a submitted 上期 report: its judgement is the period's grade from now on."""
    _require(user, APPROVE)
    if review.status != InterimReview.Status.SUBMITTED:
        raise WorkflowError("提出済みの上期の進捗だけを確定できます。")
    _check_interim_submittable(review)
    _check_interim_open(review)
    review.status = InterimReview.Status.CONFIRMED
    review.confirmed_at, review.confirmed_by = timezone.now(), user
    return _write(review, seen_version, "上期の進捗の確定")


@transaction.atomic
def reopen_interim(review, user, seen_version, reason):
    """Open a confirmed 上期 report again (not in an approved year), with the reason in its history."""
    _require(user, APPROVE)
    if not review.is_confirmed:
        raise WorkflowError("確定した上期の進捗だけを再開できます。")
    try:
        _check_plan_row_open(review)
    except ValidationError as error:
        raise Locked() from error
    review.status = InterimReview.Status.DRAFT
    review.confirmed_at = review.confirmed_by = None
    return _write(review, seen_version, f"再開: {reason}"[:100])
